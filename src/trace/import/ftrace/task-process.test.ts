// task_process rows from records decoded from binary (a trace.dat, a live capture's per-CPU pages):
// the tgid comes beside the record (saved_tgids), not from a text column.
import { describe, expect, it } from 'vitest';
import { FtraceParser } from './parser.ts';
import type { TraceEvent } from '../../schema.ts';

describe('task_process from decoded records', () => {
  it('a record with a tgid names its task\'s process once; without one (0) the process stays unknown', () => {
    const out: TraceEvent[] = [];
    const p = new FtraceParser('raw', (e) => out.push(e));
    const tp = p.tracepointNamed('some_event');
    const body = new TextEncoder().encode('a=1\0');
    const rec = (usec: number, comm: string, pid: number, tgid: number): void =>
      p.record(100, usec * 1000, pid, p.taskNamed(comm, pid), tp, body, 3, 0, 'a=1', '', tgid);
    rec(1, 'fuse2fs', 18105, 18104);
    rec(2, 'fuse2fs', 18105, 18104);
    rec(3, 'fuse2fs', 18106, 18104);
    rec(4, 'dd', 500, 0);
    p.end();
    expect(out.filter((e) => e.kind === 'task_process').map((e) => [e.task, e.tsNs, (e as { tgid: number }).tgid]))
      .toEqual([['fuse2fs/18105', 0, 18104], ['fuse2fs/18106', 2000, 18104]]);
    expect(out.filter((e) => e.kind !== 'task_process').map((e) => e.task)).toEqual(['fuse2fs/18105', 'fuse2fs/18105', 'fuse2fs/18106', 'dd/500']);
  });
});
