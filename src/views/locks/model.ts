// Pure model of the locks view, after Tracy's lock lanes: one header row per lock (i_rwsem or
// invalidate_lock of one nodeId), then one row per task that waited for or held it.
//
//   ino 12 · i_rwsem nodeid 4 · 0xffff88813cd98e98             ← header row (address when traced)
//     writerA/1001   [####W####]        [##W##]                ← held exclusive
//     reader/1003        [////wait////][=R=]                   ← waiting (hatched), held shared
//
// Level of detail per row: every span is rasterised into pixel columns with a priority
// wait > W > R, so contended states win when zoomed out; runs of equal columns become one
// primitive. A run made of exactly one span keeps its span id (clickable, selectable); a run of
// many is drawn with its span count. Primitives per row ≤ plot width, whatever the event count.
// A span under 1 px marks its start column only. Zoomed out, the row's LOD buckets (span-lod.ts,
// ranked wait > W > R) stand in for their spans wherever all of a bucket's spans are sub-pixel and
// start within ½ px — marked in the first one's column, so a state is at most one column left of
// where span by span would put it — at a cost bounded by the plot width, not the spans in range.
//
// Ends the trace does not show: an open-ended span runs to the trace's end, a hold inferred from
// contention (its end is never traced) marks only INFERRED_STUB_PX from its start, a begun-before
// hold runs from the trace's start; a run that is one such span gets an `edge` (drawn fading).
// Such spans are never in a LOD bucket (they are open, or a row head).

import { SpanKind, type SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import { LOCK_RANK, lockAddrText, lockRank, reachOf, type LockIndex, type LockInfo, type LockRow, type SpanReach } from '../../trace/derive/locks.ts';
import { subPixelUnit, type LodVisitor } from '../../trace/span-lod.ts';
import { searchSortedBy } from '../../trace/sorted.ts';
import { TimeScale } from '../../render/time-scale.ts';
import { PrimBuffer } from '../../render/prim-buffer.ts';
import type { AliasIndex } from '../../trace/derive/aliases.ts';
import { INFERRED_STUB_PX, fadedEdges, isInferredStub } from '../../render/faded.ts';
import { inoLabel, nodeIdLabel } from '../../trace/derive/inode-groups.ts';
import { UNKNOWN_INO, type NodeId, type Ino } from '../../trace/ids.ts';
import { taskMatches } from '../../trace/derive/search.ts';

/** A column's state; the values are the lock index's ranks, so a bucket's highest rank is its state. */
export const LockState = { none: 0, ...LOCK_RANK } as const;

interface LockRowModel {
  /** 'lock' rows are headers; 'task' rows carry spans. */
  type: 'lock' | 'task';
  lockIdx: number;
  /** LockIndex row index for task rows, -1 for headers. */
  rowIdx: number;
  label: string;
  ino: Ino;
}

/** A waiter→holder arrow: from the holder's release to the waiter's acquire. */
interface LockFlow {
  fromXPx: number;
  fromRowPos: number;
  toXPx: number;
  toRowPos: number;
  waitId: number;
}

export interface LocksModel {
  scale: TimeScale;
  rows: LockRowModel[];
  /** One primitive per run: row = row position, style = LockState. */
  prims: PrimBuffer;
  flows: LockFlow[];
  /** Spans that came as whole LOD buckets (0 when zoomed in, or without LOD). */
  lodSpans: number;
}

export interface LocksFilter {
  /** Only locks of this ino (0: all). */
  ino?: number;
  /** Only rows of tasks containing this text, ignoring case. */
  task?: string;
}

/** Flows are drawn only when this few waits are visible: more would be a hairball. */
const MAX_FLOWS = 150;

/** Rows in display order: locks by ino, nodeId, name; tasks in first-seen order. */
export function lockRows(locks: LockIndex, filter: LocksFilter = {}): LockRowModel[] {
  const order = [...locks.locks].sort((a, b) => a.ino - b.ino || a.nodeId - b.nodeId || a.lock.localeCompare(b.lock));
  const rows: LockRowModel[] = [];
  for (const l of order) {
    if (filter.ino && l.ino !== filter.ino) continue;
    const taskRows = l.rowIdxs.filter((ri) => !filter.task || taskMatches(locks.rows[ri]!.task, filter.task));
    if (taskRows.length === 0) continue;
    rows.push({ type: 'lock', lockIdx: l.idx, rowIdx: -1, label: lockHeaderLabel(l), ino: l.ino });
    for (const ri of taskRows) rows.push({ type: 'task', lockIdx: l.idx, rowIdx: ri, label: locks.rows[ri]!.task, ino: l.ino });
  }
  return rows;
}

/** A lock's header: its inode ("ino unknown" when no evidence names it), name, nodeid and address. */
function lockHeaderLabel(l: Pick<LockInfo, 'ino' | 'lock' | 'nodeId' | 'lockAddr'>): string {
  const parts = [inoLabel(l.ino), `${l.lock} ${nodeIdLabel(l.nodeId)}`];
  if (l.lockAddr !== 0n) parts.push(lockAddrText(l.lockAddr));
  return parts.join(' · ');
}

/** First position in `row.spanIds` whose span can still be running at fromNs (spans are in start order). */
export function rowStartPos(row: LockRow, spans: SpanIndex, fromNs: number): number {
  const r = rowReach(row, spans);
  const lo = closedStartPos(row, spans, r, fromNs);
  return r.openPos.length > 0 ? Math.min(lo, r.openPos[0]!) : lo;
}

/** First position whose span, if closed, can still be running at fromNs (open spans aside). */
function closedStartPos(row: LockRow, spans: SpanIndex, r: SpanReach, fromNs: number): number {
  return searchSortedBy(row.spanIds.data, row.spanIds.length, spans.startNs.data, fromNs - r.maxClosedDurNs, false);
}

/** The row's reach (longest closed span, open positions), brought up to date. */
function rowReach(row: LockRow, spans: SpanIndex): SpanReach {
  return reachOf(row.reach, row.spanIds.data, row.spanIds.length, spans);
}


/**
 * One row's pass of buildLocksModel: spans (or whole LOD buckets) in, per-column states out.
 * A class so the LOD walk's visitor calls see a few classes (this, TrackPass, EndedBefore),
 * not a new closure each frame.
 */
class RowPass implements LodVisitor {
  readonly colState: Uint8Array;
  readonly colSpan: Int32Array;
  readonly colMulti: Uint8Array;
  /** Waits visited one by one (for flows), and waits possibly inside buckets taken whole. */
  readonly visibleWaits: { id: number; pos: number }[] = [];
  hiddenWaits = 0;
  /** Spans that came in LOD buckets taken whole (what the walk saved). */
  unitSpans = 0;
  private pos = 0;
  private readonly lastCol: number;

  constructor(private readonly spans: SpanIndex, private readonly scale: TimeScale, private readonly startNs: number, readonly nowNs: number, readonly cols: number) {
    this.colState = new Uint8Array(cols);
    this.colSpan = new Int32Array(cols);
    this.colMulti = new Uint8Array(cols);
    this.lastCol = cols - 1;
  }

  begin(pos: number): void {
    this.pos = pos;
    this.colState.fill(0);
    this.colSpan.fill(-1);
    this.colMulti.fill(0);
  }

  private columnOf(tsNs: number): number {
    return this.scale.columnOf(tsNs, this.lastCol);
  }

  private mark(c: number, st: number, id: number, many: boolean): void {
    // A column is "many" only when two spans of its winning state share it: a wait that ends
    // where its own hold begins still reads as one wait.
    if (st > this.colState[c]!) { this.colState[c] = st; this.colSpan[c] = id; this.colMulti[c] = many ? 1 : 0; } else if (st === this.colState[c] && (many || this.colSpan[c] !== id)) this.colMulti[c] = 1;
  }

  span(id: number): void {
    const spans = this.spans;
    const s = spans.startNs.data[id]!;
    const open = spans.isOpen(id);
    const e = open ? (isInferredStub(spans.flags.data[id]!, open) ? s + INFERRED_STUB_PX / this.scale.pxPerNs : this.nowNs) : spans.endNs.data[id]!;
    if (e < this.startNs) return;
    const st = lockRank(spans, id);
    if (st === LockState.wait) this.visibleWaits.push({ id, pos: this.pos });
    const x0Px = this.scale.nsToPx(s);
    const x1Px = this.scale.nsToPx(e);
    const c0 = this.columnOf(s);
    const c1 = x1Px - x0Px < 1 ? c0 : Math.min(this.lastCol, Math.max(c0, Math.ceil(x1Px) - 1));
    for (let c = c0; c <= c1; c++) this.mark(c, st, id, false);
  }

  unitOk(firstStartNs: number, lastStartNs: number, maxDurNs: number): boolean {
    return subPixelUnit(firstStartNs, lastStartNs, maxDurNs, this.scale.pxPerNs);
  }

  unit(firstId: number, firstStartNs: number, count: number, _domKey: number, _domTimeNs: number, maxRank: number): void {
    this.mark(this.columnOf(firstStartNs), maxRank, firstId, true);
    if (maxRank === LockState.wait) this.hiddenWaits += count;
    this.unitSpans += count;
  }
}

/**
 * Visits the spans of `row` that overlap [startNs, endNs] in start order (TrackLod.visitRange):
 * open ones from before the closed spans' reach by position first, then the rest; LOD buckets of
 * up to `levelIdx` where `v.unitOk` (−1: none).
 */
function visitRow(row: LockRow, spans: SpanIndex, startNs: number, endNs: number, levelIdx: number, v: RowPass): void {
  const ids = row.spanIds.data;
  const start = spans.startNs.data;
  // Holds that began before the trace start at its start: before every other span.
  for (const id of row.headIds) if (spans.endNs.data[id]! >= startNs && start[id]! <= endNs) v.span(id);
  // Spans still open (a lost release never closes one) from before the closed spans' reach: by
  // position, not by scanning up to them — a trace with an early open span would scan it all.
  const reach = rowReach(row, spans);
  const lo = closedStartPos(row, spans, reach, startNs);
  for (const pos of reach.openPos) {
    if (pos >= lo) break;
    if (start[ids[pos]!]! <= endNs) v.span(ids[pos]!);
  }
  row.lod.visitRange(ids, row.spanIds.length, start, spans.endNs.data, v.nowNs, lo, startNs, endNs, levelIdx, v);
}


export function buildLocksModel(
  locks: LockIndex, spans: SpanIndex, store: TraceStore,
  startNs: number, endNs: number, widthPx: number, filter: LocksFilter = {},
  /** false: visit every span (the exact reference the LOD path is tested against). */
  useLod = true,
): LocksModel {
  const scale = new TimeScale(startNs, endNs, widthPx);
  const nowNs = store.endNs;
  const rows = lockRows(locks, filter);
  const prims = new PrimBuffer();
  const cols = Math.max(1, Math.ceil(widthPx));
  const pass = new RowPass(spans, scale, startNs, nowNs, cols);
  const { colState, colSpan, colMulti } = pass;
  const posOfRow = new Map<number, number>();
  // LOD buckets at most half a column wide: most fall inside one column and are taken whole.
  const lodBucketNs = scale.nsPerPx / 2;

  rows.forEach((r, pos) => {
    if (r.type !== 'task') return;
    posOfRow.set(r.rowIdx, pos);
    pass.begin(pos);
    const row = locks.rows[r.rowIdx]!;
    visitRow(row, spans, startNs, endNs, useLod ? row.lod.levelFor(lodBucketNs) : -1, pass);
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
      const only = single ? [...spanIdsInRun][0]! : -1;
      prims.push(first, c - first, pos, 0, st, 0, only, single ? 1 : Math.max(2, spanIdsInRun.size), only >= 0 ? fadedEdges(spans.flags.data[only]!, spans.isOpen(only)) : 0);
    }
  });

  const flows: LockFlow[] = [];
  // A bucket taken whole may hide waits: all its spans count toward the limit.
  if (pass.visibleWaits.length + pass.hiddenWaits <= MAX_FLOWS) {
    for (const { id, pos } of pass.visibleWaits) {
      const h = locks.holderOf(spans, id);
      if (h < 0 || spans.isOpen(id)) continue;
      const hPos = posOfRow.get(locks.rowOfSpan(h));
      if (hPos === undefined) continue;
      const hEnd = spans.isOpen(h) ? nowNs : spans.endNs.data[h]!;
      flows.push({ fromXPx: scale.nsToPx(hEnd), fromRowPos: hPos, toXPx: scale.nsToPx(spans.endNs.data[id]!), toRowPos: pos, waitId: id });
    }
  }
  return { scale, rows, prims, flows, lodSpans: pass.unitSpans };
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
    const id = row.spanIds.data[k]!;
    const s = spans.startNs.data[id]!;
    if (s > toNs) break;
    const e = spans.isOpen(id) ? nowNs : spans.endNs.data[id]!;
    if (e < fromNs) continue;
    const st = lockRank(spans, id);
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

// ---------------------------------------------------------------------------------------------
// The locks' identities (LockIdentities.tsx): one row per lock, with the import's evidence.

interface LockIdentityRow {
  lockIdx: number;
  lockAddr: bigint;
  lock: string;
  /** 0: unknown. */
  nodeId: NodeId;
  /** 0: unknown (or the evidence disagrees: see inoEvidence). */
  ino: Ino;
  inoEvidence: Ino[];
  /** Evidence names (lock-evidence.ts), [] when the source recorded none. */
  methods: string[];
  unknownReason: string;
}

/** Locks in the view's order (lockRows), each with what the import's attribution recorded for its address. */
export function lockIdentityRows(locks: LockIndex, aliases: AliasIndex): LockIdentityRow[] {
  const out: LockIdentityRow[] = [];
  for (const r of lockRows(locks)) {
    if (r.type !== 'lock') continue;
    const l = locks.locks[r.lockIdx]!;
    const att = aliases.lockEvidence.get(l.lockAddr);
    const group = l.nodeId ? aliases.groupOf(l.nodeId) : undefined;
    out.push({
      lockIdx: l.idx, lockAddr: l.lockAddr, lock: l.lock, nodeId: l.nodeId,
      ino: l.ino || group?.ino || UNKNOWN_INO, inoEvidence: att ? (att.ino !== null ? [att.ino] : []) : group?.inos ?? [],
      methods: att?.methods ?? [], unknownReason: att?.unknownReason ?? '',
    });
  }
  return out;
}
