import { describe, expect, it } from 'vitest';
import type { Finding } from '../../trace/checks/types.ts';
import { TraceStore } from '../../trace/store.ts';
import { ev } from '../../trace/testing/events.ts';
import { evidenceLine, groupFindings, timeText, topFinding } from './model.ts';

const f = (rule: string, severity: Finding['severity'], tsNs: number, durNs = 0): Finding =>
  ({ rule, severity, tsNs, durNs, explanation: '', evidence: [], figures: {} }) as unknown as Finding;

describe('findings panel model', () => {
  const list = [f('unwritten-cost', 'info', 10), f('unpaired', 'warning', 20), f('alias-race', 'error', 30), f('stale-mapping', 'warning', 5), f('unpaired', 'warning', 40)];

  it('groups most severe first, then by rule, with counts', () => {
    const g = groupFindings(list);
    expect(g.map((s) => [s.severity, s.count, s.rules.map((r) => [r.rule, r.findings.length])])).toEqual([
      ['error', 1, [['alias-race', 1]]],
      ['warning', 3, [['stale-mapping', 1], ['unpaired', 2]]],
      ['info', 1, [['unwritten-cost', 1]]],
    ]);
    expect(groupFindings([])).toEqual([]);
  });

  it('the top finding is the most severe, then the earliest — an error after warnings still comes first', () => {
    expect(topFinding(list)).toBe(list[2]);
    expect(topFinding([list[1]!, list[3]!])).toBe(list[3]);
    expect(topFinding([])).toBeNull();
  });

  it('says its time and duration in units, an instant without one', () => {
    expect(timeText(f('x', 'info', 8_080_156, 15_812))).toBe('at 8.080 ms for 15.8 µs');
    expect(timeText(f('x', 'info', 1_500))).toBe('at 1.500 µs');
  });

  it('an evidence line names the event kind, task, nodeid, opcode and lock', () => {
    const s = new TraceStore();
    s.append(ev('fuse_send', 2_000, 'dd/4101', { unique: 12, opcode: 16, nodeId: 4 })); // ev() gives lenBytes 72
    s.append(ev('lock_acquire', 3_000, 'writerA/1001', { lock: 'i_rwsem', mode: 'W', nodeId: 4, ino: 12 }));
    expect(evidenceLine(s, 0)).toBe('fuse_send · dd/4101 · nodeid 4 · FUSE_WRITE · unique 12 · len 72 · 2.000 µs');
    expect(evidenceLine(s, 1)).toBe('lock_acquire · writerA/1001 · nodeid 4 · ino 12 · i_rwsem · W · 3.000 µs');
  });
});
