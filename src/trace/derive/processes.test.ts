import { describe, expect, it } from 'vitest';
import { TraceStore } from '../store.ts';
import { typed, type LooseEvent } from '../testing/events.ts';
import { taskProcesses } from './processes.ts';

const rows: LooseEvent[] = [
  { kind: 'task_process', tsNs: 10, task: 'fuse2fs/18105', tgid: 18104 },
  { kind: 'instant', tsNs: 10, task: 'fuse2fs/18105', name: 'x', text: '' },
  { kind: 'instant', tsNs: 20, task: 'dd/7', name: 'x', text: '' },
];

describe('taskProcesses', () => {
  it('names the process of a task with a task_process row; others are unknown', () => {
    const store = new TraceStore();
    store.appendAll(typed(rows));
    const { tgidOf } = taskProcesses(store);
    expect(tgidOf.get('fuse2fs/18105')).toBe(18104);
    expect(tgidOf.has('dd/7')).toBe(false);
  });

  it('a live window\'s rebuilt store (same string table, the early rows evicted) still knows the process', () => {
    const old = new TraceStore();
    old.appendAll(typed(rows));
    taskProcesses(old);
    const kept = new TraceStore(old.originNs, old.strings);
    kept.appendAll(typed([{ kind: 'instant', tsNs: 30, task: 'fuse2fs/18105', name: 'x', text: '' }]));
    expect(taskProcesses(kept).tgidOf.get('fuse2fs/18105')).toBe(18104);
    // A file opened afresh has its own table: nothing carries over.
    const other = new TraceStore();
    other.appendAll(typed([{ kind: 'instant', tsNs: 30, task: 'fuse2fs/18105', name: 'x', text: '' }]));
    expect(taskProcesses(other).tgidOf.size).toBe(0);
  });
});
