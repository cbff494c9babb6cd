import { describe, expect, it } from 'vitest';
import { ev } from '../../trace/testing/events.ts';
import type { Finding, RuleId } from '../../trace/checks/types.ts';
import { derived } from '../testing-fixtures.ts';
import { buildLocksModel } from './model.ts';
import { lockEvidenceBoxes, lockEvidenceSpans, lockFindingMarks } from './findings.ts';

// Two aliases of ino 12 (nodeids 4 and 5), each with its own i_rwsem; their exclusive holds overlap.
//   stream rows: 0 A acquires nid 4 · 1 B acquires nid 5 · 2 A releases · 3 B releases
const EVENTS = [
  ev('lock_acquire', 0, 'A/1', { nodeId: 4, ino: 12, mode: 'W' }),
  ev('lock_acquire', 100, 'B/2', { nodeId: 5, ino: 12, mode: 'W' }),
  ev('lock_release', 500, 'A/1', { nodeId: 4, ino: 12, mode: 'W' }),
  ev('lock_release', 700, 'B/2', { nodeId: 5, ino: 12, mode: 'W' }),
];

const finding = (rule: RuleId, tsNs: number, evidence: number[]): Finding =>
  ({ rule, severity: 'error', explanation: '', tsNs, durNs: 0, evidence, figures: {} });

describe('findings in the locks view', () => {
  const race = finding('alias-race', 100, [0, 1, 2, 3]);

  it('marks a lock or alias-race finding on the header row of each lock its evidence opens, at its start', () => {
    const { store, spans, locks } = derived(EVENTS);
    // Rows: header nid 4 (0), A (1), header nid 5 (2), B (3); 1 px per ns.
    const m = buildLocksModel(locks, spans, store, 0, 1000, 1000);
    const marks = lockFindingMarks([race, finding('unpaired', 200, [0]), finding('lock', 900, [1])], store, spans, locks, 0, m);
    expect(marks.map((k) => [k.rowPos, k.xPx, k.finding.rule])).toEqual([[0, 100, 'alias-race'], [2, 100, 'alias-race'], [2, 900, 'lock']]);
    // With the view filtered to task B, only nid 5's lock is drawn (header at 0).
    const onlyB = buildLocksModel(locks, spans, store, 0, 1000, 1000, { task: 'B' });
    expect(lockFindingMarks([race], store, spans, locks, 0, onlyB).map((k) => k.rowPos)).toEqual([0]);
  });

  it('outlines the evidence holds on their lock × task rows, found from their acquire or release rows', () => {
    const { store, spans, locks } = derived(EVENTS);
    const m = buildLocksModel(locks, spans, store, 0, 1000, 1000);
    const ids = lockEvidenceSpans(race, store, spans, locks, 0);
    expect(ids).toHaveLength(2);
    expect(lockEvidenceBoxes(ids, spans, locks, m, store.endNs).map((b) => [b.rowPos, b.xPx, b.widthPx]))
      .toEqual([[1, 0, 500], [3, 100, 600]]);
    // Only A's release row: the pass over the lock spans' ends finds A's hold.
    const byEnd = lockEvidenceSpans(finding('lock', 0, [2]), store, spans, locks, 0);
    expect(lockEvidenceBoxes(byEnd, spans, locks, m, store.endNs).map((b) => [b.rowPos, b.xPx, b.widthPx])).toEqual([[1, 0, 500]]);
    // A zoomed range clips the box to the plot (2 px over each edge, for the outline).
    const zoomed = buildLocksModel(locks, spans, store, 200, 400, 200);
    expect(lockEvidenceBoxes(ids, spans, locks, zoomed, store.endNs).map((b) => [b.rowPos, b.xPx, b.widthPx])).toEqual([[1, -2, 204], [3, -2, 204]]);
  });

  it('skips evidence evicted from the page', () => {
    // The page evicted stream row 0 (A's acquire): store row r is stream row r + 1. A's hold is gone
    // as a span; B's acquire (stream row 1) is store row 0.
    const { store, spans, locks } = derived(EVENTS.slice(1));
    const m = buildLocksModel(locks, spans, store, 0, 1000, 1000);
    const boxes = (evidence: number[]) => lockEvidenceBoxes(lockEvidenceSpans(finding('alias-race', 100, evidence), store, spans, locks, 1),
      spans, locks, m, store.endNs).map((b) => [m.rows[b.rowPos]!.label, b.xPx, b.widthPx]);
    expect(boxes([0])).toEqual([]);
    expect(boxes([1])).toEqual([['B/2', 100, 600]]);
    expect(lockFindingMarks([finding('lock', 50, [0])], store, spans, locks, 1, m)).toEqual([]);
  });
});
