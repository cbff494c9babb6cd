// Pure model of the locks view, after Tracy's lock lanes: one header row per lock (i_rwsem or
// invalidate_lock of one nodeId), then one row per task that waited for or held it.
//
//   ino 12 · i_rwsem nodeid 4                                  ← header row
//     writerA/1001   [####W####]        [##W##]                ← held exclusive
//     reader/1003        [////wait////][=R=]                   ← waiting (hatched), held shared
//
// Level of detail per row: every span is rasterised into pixel columns with a priority
// wait > W > R, so contended states win when zoomed out; runs of equal columns become one
// primitive. A run made of exactly one span keeps its span id (clickable, selectable); a run of
// many is drawn with its span count. Primitives per row ≤ plot width, whatever the event count.

import { SpanKind, type SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import type { LockIndex, LockRow } from '../../trace/derive/locks.ts';
import { TimeScale } from '../../render/time-scale.ts';
import { resized } from '../../trace/growable.ts';

export const LockState = { none: 0, read: 1, write: 2, wait: 3 } as const;

export interface LockRowModel {
  /** 'lock' rows are headers; 'task' rows carry spans. */
  type: 'lock' | 'task';
  lockIdx: number;
  /** LockIndex row index for task rows, -1 for headers. */
  rowIdx: number;
  label: string;
  ino: number;
}

export class LockPrims {
  count = 0;
  xPx: Float32Array;
  widthPx: Float32Array;
  rowPos: Uint16Array;
  state: Uint8Array;
  spanId: Int32Array;
  spanCount: Uint32Array;
  constructor(capacity = 256) {
    this.xPx = new Float32Array(capacity);
    this.widthPx = new Float32Array(capacity);
    this.rowPos = new Uint16Array(capacity);
    this.state = new Uint8Array(capacity);
    this.spanId = new Int32Array(capacity);
    this.spanCount = new Uint32Array(capacity);
  }
  push(xPx: number, widthPx: number, rowPos: number, state: number, spanId: number, spanCount: number): void {
    if (this.count === this.xPx.length) {
      const n = this.count * 2;
      this.xPx = resized(this.xPx, n); this.widthPx = resized(this.widthPx, n); this.rowPos = resized(this.rowPos, n);
      this.state = resized(this.state, n); this.spanId = resized(this.spanId, n); this.spanCount = resized(this.spanCount, n);
    }
    const i = this.count++;
    this.xPx[i] = xPx; this.widthPx[i] = widthPx; this.rowPos[i] = rowPos;
    this.state[i] = state; this.spanId[i] = spanId; this.spanCount[i] = spanCount;
  }
}

/** A waiter→holder arrow: from the holder's release to the waiter's acquire. */
export interface LockFlow {
  fromXPx: number;
  fromRowPos: number;
  toXPx: number;
  toRowPos: number;
  waitId: number;
}

export interface LocksModel {
  scale: TimeScale;
  rows: LockRowModel[];
  prims: LockPrims;
  flows: LockFlow[];
}

export interface LocksFilter {
  /** Only locks of this ino (0: all). */
  ino?: number;
  /** Only rows of tasks containing this text. */
  task?: string;
}

/** Flows are drawn only when this few waits are visible: more would be a hairball. */
export const MAX_FLOWS = 150;

/** Rows in display order: locks by ino, nodeId, name; tasks in first-seen order. */
export function lockRows(locks: LockIndex, filter: LocksFilter = {}): LockRowModel[] {
  const order = [...locks.locks].sort((a, b) => a.ino - b.ino || a.nodeId - b.nodeId || a.lock.localeCompare(b.lock));
  const rows: LockRowModel[] = [];
  for (const l of order) {
    if (filter.ino && l.ino !== filter.ino) continue;
    const taskRows = l.rowIdxs.filter((ri) => !filter.task || locks.rows[ri]!.task.includes(filter.task));
    if (taskRows.length === 0) continue;
    rows.push({ type: 'lock', lockIdx: l.idx, rowIdx: -1, label: `ino ${l.ino} · ${l.lock} nodeid ${l.nodeId}`, ino: l.ino });
    for (const ri of taskRows) rows.push({ type: 'task', lockIdx: l.idx, rowIdx: ri, label: locks.rows[ri]!.task, ino: l.ino });
  }
  return rows;
}

/**
 * Per lock row, what a range query needs to skip the spans before it: the longest closed span and
 * the positions of spans still open (never skipped: they last until now). Kept up to date as the
 * row grows; rows are append-only, so each span is looked at once, and open ones until they close.
 */
interface RowReach { scanned: number; maxClosedDurNs: number; openPos: number[] }
const reachOf = new WeakMap<LockRow, RowReach>();

/** First position in `row.spanIds` whose span can still be running at fromNs (spans are in start order). */
export function rowStartPos(row: LockRow, spans: SpanIndex, fromNs: number): number {
  let r = reachOf.get(row);
  if (!r) reachOf.set(row, (r = { scanned: 0, maxClosedDurNs: 0, openPos: [] }));
  const ids = row.spanIds;
  const start = spans.startNs.data;
  const end = spans.endNs.data;
  const reach = r;
  const closed = (id: number): void => { reach.maxClosedDurNs = Math.max(reach.maxClosedDurNs, end[id]! - start[id]!); };
  if (r.openPos.length > 0) r.openPos = r.openPos.filter((pos) => spans.isOpen(ids[pos]!) || (closed(ids[pos]!), false));
  for (; r.scanned < ids.length; r.scanned++) {
    if (spans.isOpen(ids[r.scanned]!)) r.openPos.push(r.scanned);
    else closed(ids[r.scanned]!);
  }
  const minStartNs = fromNs - r.maxClosedDurNs;
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start[ids[mid]!]! < minStartNs) lo = mid + 1;
    else hi = mid;
  }
  return r.openPos.length > 0 ? Math.min(lo, r.openPos[0]!) : lo;
}

function stateOf(spans: SpanIndex, id: number): number {
  if (spans.kind.data[id] === SpanKind.lock_wait) return LockState.wait;
  return spans.style.data[id] === 1 ? LockState.write : LockState.read;
}

export function buildLocksModel(
  locks: LockIndex, spans: SpanIndex, store: TraceStore,
  startNs: number, endNs: number, widthPx: number, filter: LocksFilter = {},
): LocksModel {
  const scale = new TimeScale(startNs, endNs, widthPx);
  const nowNs = store.endNs;
  const rows = lockRows(locks, filter);
  const prims = new LockPrims();
  const cols = Math.max(1, Math.ceil(widthPx));
  const colState = new Uint8Array(cols);
  const colSpan = new Int32Array(cols);
  const colMulti = new Uint8Array(cols);
  const posOfRow = new Map<number, number>();
  const visibleWaits: { id: number; pos: number }[] = [];

  rows.forEach((r, pos) => {
    if (r.type !== 'task') return;
    posOfRow.set(r.rowIdx, pos);
    colState.fill(0);
    colSpan.fill(-1);
    colMulti.fill(0);
    const row = locks.rows[r.rowIdx]!;
    const ids = row.spanIds;
    // From the first span that can overlap the range, not the row's first: the cost is the spans
    // in view, not the trace.
    for (let k = rowStartPos(row, spans, startNs); k < ids.length; k++) {
      const id = ids[k]!;
      const s = spans.startNs.data[id]!;
      if (s > endNs) break;
      const e = spans.isOpen(id) ? nowNs : spans.endNs.data[id]!;
      if (e < startNs) continue;
      const st = stateOf(spans, id);
      if (st === LockState.wait) visibleWaits.push({ id, pos });
      const c0 = Math.max(0, Math.floor(scale.nsToPx(s)));
      const c1 = Math.min(cols - 1, Math.max(c0, Math.ceil(scale.nsToPx(e)) - 1));
      for (let c = c0; c <= c1; c++) {
        // A column is "many" only when two spans of its winning state share it: a wait that
        // ends where its own hold begins still reads as one wait.
        if (st > colState[c]!) { colState[c] = st; colSpan[c] = id; colMulti[c] = 0; } else if (st === colState[c] && colSpan[c] !== id) colMulti[c] = 1;
      }
    }
    // Runs of equal state; a run is one span if every column has that span alone.
    let c = 0;
    while (c < cols) {
      const st = colState[c]!;
      if (st === 0) { c++; continue; }
      const first = c;
      const spanIdsInRun = new Set<number>();
      let multi = false;
      while (c < cols && colState[c] === st) {
        spanIdsInRun.add(colSpan[c]!);
        if (colMulti[c]) multi = true;
        c++;
      }
      const single = !multi && spanIdsInRun.size === 1;
      prims.push(first, c - first, pos, st, single ? [...spanIdsInRun][0]! : -1, single ? 1 : Math.max(2, spanIdsInRun.size));
    }
  });

  const flows: LockFlow[] = [];
  if (visibleWaits.length <= MAX_FLOWS) {
    for (const { id, pos } of visibleWaits) {
      const h = locks.holderOf(spans, id);
      if (h < 0 || spans.isOpen(id)) continue;
      const hPos = posOfRow.get(locks.rowOfSpan.get(h) ?? -1);
      if (hPos === undefined) continue;
      const hEnd = spans.isOpen(h) ? nowNs : spans.endNs.data[h]!;
      flows.push({ fromXPx: scale.nsToPx(hEnd), fromRowPos: hPos, toXPx: scale.nsToPx(spans.endNs.data[id]!), toRowPos: pos, waitId: id });
    }
  }
  return { scale, rows, prims, flows };
}

/**
 * The span under a click on row `rowPos` at plot x, or -1; waits win over holds (they are what
 * one clicks a contended lock for). Searches the spans, not the merged primitives.
 */
export function hitTestLocks(model: LocksModel, locks: LockIndex, spans: SpanIndex, nowNs: number, xPx: number, rowPos: number, slopPx = 2): number {
  const r = model.rows[rowPos];
  if (!r || r.type !== 'task') return -1;
  const fromNs = model.scale.pxToNs(xPx - slopPx);
  const toNs = model.scale.pxToNs(xPx + slopPx);
  let best = -1;
  let bestState = 0;
  const row = locks.rows[r.rowIdx]!;
  for (let k = rowStartPos(row, spans, fromNs); k < row.spanIds.length; k++) {
    const id = row.spanIds[k]!;
    const s = spans.startNs.data[id]!;
    if (s > toNs) break;
    const e = spans.isOpen(id) ? nowNs : spans.endNs.data[id]!;
    if (e < fromNs) continue;
    const st = stateOf(spans, id);
    if (st > bestState) { best = id; bestState = st; }
  }
  return best;
}

/** What a click on a span does in this view: a wait selects its holder (issue #4 §5). */
export function clickTarget(locks: LockIndex, spans: SpanIndex, spanId: number): number {
  if (spanId < 0 || spans.kind.data[spanId] !== SpanKind.lock_wait) return spanId;
  const h = locks.holderOf(spans, spanId);
  return h >= 0 ? h : spanId;
}
