import { describe, expect, it } from 'vitest';
import type { Finding } from '../../trace/checks/types.ts';
import { TraceStore } from '../../trace/store.ts';
import { SpanIndex } from '../../trace/spans.ts';
import { TimeScale } from '../../render/time-scale.ts';
import { ev } from '../../trace/testing/events.ts';
import { evidenceSpans, findingMarks } from './findings.ts';

const f = (severity: Finding['severity'], tsNs: number, evidence: number[] = []): Finding =>
  ({ rule: 'alias-race', severity, tsNs, durNs: 0, explanation: '', evidence, figures: {} }) as Finding;

describe('findings on the timeline', () => {
  it('marks findings in the range at their time; markers closer than 6 px merge and show the most severe', () => {
    // 1 000 ns over 100 px: 10 ns per px.
    const scale = new TimeScale(1_000, 2_000, 100);
    const marks = findingMarks([f('info', 1_100), f('error', 1_130), f('warning', 1_500), f('error', 900), f('info', 2_500)], scale);
    expect(marks.map((m) => [m.xPx, m.severity, m.count, m.finding.tsNs])).toEqual([
      [10, 'error', 2, 1_130],
      [50, 'warning', 1, 1_500],
    ]);
  });

  it("a finding's evidence rows become the spans they open or close; other rows stay rows; evicted rows are left out", () => {
    const s = new TraceStore();
    const lock = { lock: 'i_rwsem', mode: 'W', nodeId: 4, ino: 12 } as const;
    s.append(ev('lock_acquire', 100, 'a/1', lock)); // 0 opens hold span
    s.append(ev('inode_iomap', 150, 'a/1', { nodeId: 4, ino: 12, inodeFlags: 1 })); // 1: no span
    s.append(ev('lock_release', 200, 'a/1', lock)); // 2 closes it
    const spans = new SpanIndex();
    spans.update(s);
    expect(spans.count).toBe(1);
    // Stream rows 10…12 are store rows 0…2 (10 rows evicted); stream row 9 is gone.
    const e = evidenceSpans(f('error', 100, [9, 11, 12]), s, spans, 10);
    expect([...e.spanIds]).toEqual([0]);
    expect(e.rows).toEqual([1]);
  });
});
