// Spans end only where the trace shows it (issue #13): iomap steps close at their first closer,
// spans whose start or end the trace does not show are flagged, and every statistic leaves them
// out of durations and counts them apart — the same figures through the summary, the accounting
// and the locks table. Expected values are worked out by hand from the event list below.
import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { excerpt } from './testing/unended.ts';
import { SPAN_KIND_NAMES, SpanFlag, SpanIndex, IOMAP_STYLE_ERROR, OPEN_ENDED_TEXT, BEGUN_BEFORE_TEXT, INFERRED_HOLD_TEXT } from './spans.ts';
import { LockIndex, contentionTable, exclusiveOverlaps, countUnendedWriteHolds } from './derive/locks.ts';
import { AliasIndex } from './derive/aliases.ts';
import { aggregateArea } from './derive/aggregate.ts';
import { summarize } from './summary.ts';
import { accountRun } from './accounting.ts';
import { asNodeId } from './ids.ts';

function load(complete: boolean): { store: TraceStore; spans: SpanIndex; locks: LockIndex } {
  const store = new TraceStore();
  store.appendAll(excerpt());
  const spans = new SpanIndex();
  spans.update(store);
  if (complete) spans.markComplete();
  const locks = new LockIndex();
  locks.update(spans, store);
  return { store, spans, locks };
}

/** [task, startNs, endNs (NaN: none), flags] of the spans of one kind, in id order. */
function spansOf(spans: SpanIndex, kind: string): [string, number, number, number][] {
  const out: [string, number, number, number][] = [];
  for (let id = 0; id < spans.count; id++) {
    if (SPAN_KIND_NAMES[spans.kind.data[id]!] !== kind) continue;
    out.push([spans.lanes[spans.lane.data[id]!]!.task, spans.startNs.data[id]!, spans.endNs.data[id]!, spans.flags.data[id]!]);
  }
  return out;
}

describe('spans the trace shows, and only those', () => {
  it('closes each iomap step at its first closer, one lane per task', () => {
    const { spans } = load(true);
    const { begunBefore: B, openEnded: O, failed: F } = SpanFlag;
    expect(spansOf(spans, 'iomap')).toEqual([
      ['dd/101', 1000, 1010, B],
      ['dd/100', 1200, 1500, 0], // 300 ns: ended by the next iomap_begin
      ['kworker/u8:1/77', 1250, 1550, 0], // 300 ns: iomap_dio_complete
      ['dd/101', 1400, 1450, 0], // 50 ns: iomap_dio_write_end_io
      ['dd/100', 1500, 1600, F], // 100 ns: its iomap_end; failed by the iter_end error after it
      ['dd/100', 1900, 2100, 0], // 200 ns: iomap_buffered_write_end
      ['dd/101', 2300, Number.NaN, O],
    ]);
    expect(spans.lanes.map((l) => l.task)).toEqual(['dd/100', 'fuse2fs/9', 'dd/101', 'dd/102', 'dd/103', 'kworker/u8:1/77']);
    // The failed step is drawn in the error colour; its FUSE_IOMAP_END request is failed too.
    const failedStep = spansOf(spans, 'iomap').findIndex((s) => s[3] === F);
    expect(failedStep).toBe(4);
    const ids = [...Array(spans.count).keys()];
    expect(ids.filter((id) => spans.isFailed(id)).map((id) => SPAN_KIND_NAMES[spans.kind.data[id]!])).toEqual(['iomap', 'fuse_req']);
    expect(ids.filter((id) => spans.style.data[id] === IOMAP_STYLE_ERROR)).toHaveLength(1);
    // The syscall runs 1000 → 2200; each lane's iomap track holds steps that never overlap.
    expect(spansOf(spans, 'app_op')).toEqual([['dd/100', 1000, 2200, 0], ['dd/101', 1000, 1020, B]]);
  });

  it('flags begun-before spans and, once the trace is complete, open-ended ones', () => {
    const live = load(false).spans;
    const { begunBefore: B, openEnded: O, inferredHold: I } = SpanFlag;
    // Live, an open span is still running: not open-ended — except a hold inferred from contention.
    expect(spansOf(live, 'iomap').at(-1)).toEqual(['dd/101', 2300, Number.NaN, 0]);
    const { spans } = load(true);
    expect(spansOf(spans, 'fuse_serve')).toEqual([['fuse2fs/9', 1000, 1005, B]]);
    expect(spansOf(spans, 'fuse_req')).toEqual([['dd/100', 1650, 1700, SpanFlag.failed], ['dd/101', 2350, Number.NaN, O]]);
    expect(spansOf(spans, 'lock_wait')).toEqual([['dd/100', 1110, 1140, 0], ['dd/101', 1120, Number.NaN, O]]);
    expect(spansOf(spans, 'lock_hold')).toEqual([
      ['dd/102', 1000, 1030, B], ['dd/100', 1140, Number.NaN, I | O], ['dd/103', 1150, 1160, 0],
    ]);
    const text = [...Array(spans.count).keys()].map((id) => spans.unknownText(id)).filter((t) => t !== '');
    expect(text.sort()).toEqual([
      BEGUN_BEFORE_TEXT, BEGUN_BEFORE_TEXT, BEGUN_BEFORE_TEXT, BEGUN_BEFORE_TEXT,
      INFERRED_HOLD_TEXT, OPEN_ENDED_TEXT, OPEN_ENDED_TEXT, OPEN_ENDED_TEXT,
    ].sort());
    // A range query still finds a begun-before span (it is not in the track's start-ordered list).
    const found: number[] = [];
    spans.forEachInRange(spans.track(spans.laneOf('dd/101'), 1), 1005, 1005, 2350, (id) => found.push(id));
    expect(found.map((id) => spans.startNs.data[id])).toEqual([1000]);
  });

  it('counts only what ended in every statistic, the rest apart, the same through every path', () => {
    const { store, spans, locks } = load(true);
    // One wait ended (1110 → 1140: 30 ns); dd/101's did not.
    const sum = summarize(store);
    expect(sum.locks).toEqual([{ lock: 'i_rwsem', ino: 12, nodeid: 2, lockAddrs: [], contended: 1, unfinished: 1, waitNsTotal: 30, waitNsMax: 30, untimedWaits: 0 }]);
    const acc = accountRun(store);
    expect([acc.lockWaits, acc.lockWaitsUnfinished, acc.lockWaitTotalNs, acc.lockWaitMaxNs]).toEqual([1, 1, 30, 30]);
    expect(sum.accounting).toEqual(acc);
    const table = contentionTable(locks, spans, 'lock', store.endNs, -Infinity, Infinity, store);
    expect(table.map((r) => [r.label, r.contended, r.unfinished, r.totalWaitNs, r.maxWaitNs])).toEqual([
      ['i_rwsem nodeid 2 (ino 12)', 1, 1, 30, 30],
    ]);
    // The same figures for the lock, whichever path computed them.
    const viaTable = table[0]!;
    expect([viaTable.contended, viaTable.unfinished, viaTable.totalWaitNs]).toEqual([sum.locks[0]!.contended, sum.locks[0]!.unfinished, sum.locks[0]!.waitNsTotal]);
    expect([viaTable.contended, viaTable.unfinished, viaTable.totalWaitNs]).toEqual([acc.lockWaits, acc.lockWaitsUnfinished, acc.lockWaitTotalNs]);
    // dd/103's W hold on nodeid 3 (1150 → 1160) overlaps dd/100's inferred hold on nodeid 2 only
    // if that hold were drawn to the end of the trace: its end is not traced, so no overlap.
    expect(exclusiveOverlaps(locks, spans)).toEqual([]);
    expect(countUnendedWriteHolds(locks, spans)).toBe(2); // the inferred one and dd/102's begun-before one
    expect(countUnendedWriteHolds(locks, spans, 'i_rwsem', [2, 3].map(asNodeId))).toBe(2); // ino 12's nodeids
    expect(countUnendedWriteHolds(locks, spans, 'i_rwsem', [7].map(asNodeId))).toBe(0);
    // The area selection times the one request that ended (50 ns) and counts the open one apart.
    const area = aggregateArea(spans, store, new AliasIndex(), 1000, 2400);
    expect([area.requests, area.openRequests, area.byOpcode.map((r) => [r.count, r.totalNs])]).toEqual([2, 1, [[1, 50]]]);
    // A wait's holder is never a hold whose end the trace does not show.
    const unfinishedWait = [...Array(spans.count).keys()].find((id) => spans.kind.data[id] === 4 && spans.isOpen(id))!;
    expect(locks.holderOf(spans, unfinishedWait)).toBe(-1);
  });
});
