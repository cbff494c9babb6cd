// The timeline and locks views draw what the trace does not show as such: an open-ended span
// fades at its end, a hold inferred from contention is a short fading stub (not a bar to the end
// of the trace), a begun-before span fades at its start — with the LOD path as without.
import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { SpanIndex, SpanKind } from '../../trace/spans.ts';
import { LockIndex } from '../../trace/derive/locks.ts';
import { excerpt } from '../../trace/testing/unended.ts';
import { Edge } from '../../render/faded.ts';
import { buildTimelineModel } from './model.ts';
import { INFERRED_STUB_PX } from '../../render/faded.ts';
import { buildLocksModel } from '../locks/model.ts';

function load(): { store: TraceStore; spans: SpanIndex; locks: LockIndex } {
  const store = new TraceStore();
  store.appendAll(excerpt());
  const spans = new SpanIndex();
  spans.update(store);
  spans.markComplete();
  const locks = new LockIndex();
  locks.update(spans, store);
  return { store, spans, locks };
}

describe('drawing ends the trace does not show', () => {
  it('timeline: open-ended to the trace end, fading; inferred hold a stub; begun-before from the start', () => {
    const { store, spans } = load();
    // 1000 … 2350 ns over 1350 px: 1 px per ns.
    for (const useLod of [true, false]) {
      const m = buildTimelineModel(spans, store, 1000, 2350, 1350, [], [], useLod);
      const p = m.prims;
      const byKind = (kind: number, edge: number): [number, number][] => {
        const out: [number, number][] = [];
        for (let i = 0; i < p.count; i++) if (p.kind[i] === kind && p.edge[i] === edge) out.push([p.xPx[i]!, p.widthPx[i]!]);
        return out;
      };
      // dd/101's step 6 began at 2300: 50 px to the trace's end, fading there.
      expect(byKind(SpanKind.iomap, Edge.openEnd)).toEqual([[1300, 50]]);
      // dd/101's step that began before the trace: 1000 → 1010, fading at its start.
      expect(byKind(SpanKind.iomap, Edge.begunBefore)).toEqual([[0, 10]]);
      // dd/100's hold inferred at 1140: a stub, not 1210 px to the end.
      expect(byKind(SpanKind.lock_hold, Edge.openEnd)).toEqual([[140, INFERRED_STUB_PX]]);
      expect(byKind(SpanKind.lock_wait, Edge.openEnd)).toEqual([[120, 1230]]);
      // Steps whose ends the trace shows are plain (no edge).
      expect(byKind(SpanKind.iomap, 0).sort((a, b) => a[0] - b[0])).toEqual([[200, 300], [250, 300], [400, 50], [500, 100], [900, 200]]);
    }
  });

  it('locks view: the inferred hold marks a stub with an open end; the unfinished wait fades at the end', () => {
    const { store, spans, locks } = load();
    const m = buildLocksModel(locks, spans, store, 1000, 2350, 1350);
    const rows = m.rows.map((r) => r.label);
    const prims: [string, number, number, number][] = [];
    for (let i = 0; i < m.prims.count; i++) prims.push([rows[m.prims.row[i]!]!, m.prims.xPx[i]!, m.prims.widthPx[i]!, m.prims.edge[i]!]);
    expect(prims.filter((x) => x[0] === 'dd/100')).toEqual([['dd/100', 110, 30, 0], ['dd/100', 140, INFERRED_STUB_PX, Edge.openEnd]]);
    expect(prims.filter((x) => x[0] === 'dd/101')).toEqual([['dd/101', 120, 1230, Edge.openEnd]]);
    expect(prims.filter((x) => x[0] === 'dd/102')).toEqual([['dd/102', 0, 30, Edge.begunBefore]]);
    expect(locks.inferredHolds).toBe(1);
  });
});
