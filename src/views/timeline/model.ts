// Pure view model of the timeline: (spanIndex, store, range, widthPx) → draw-ready typed arrays.
// draw.ts paints exactly these arrays and hit-testing searches them, so what you click is what
// was drawn.
//
// Level of detail, per track (one lane × sub-row), spans visited in start order:
//   span ≥ MIN_SPAN_WIDTH_PX wide  → one primitive, its own colour, clickable (mergedCount 1)
//   span narrower                  → tallied into the bucket of its start pixel column; a column's
//                                    colour is the style covering the most time in it. Adjacent
//                                    columns of the same colour form one "run", drawn as ONE block
//                                    with its span count (mergedCount ≥ 2). A run of one span is
//                                    drawn as that span, 1 px wide (still clickable).
// So sub-pixel spans are never dropped, and primitives per track are bounded by pixels (each
// primitive covers ≥ 1 new column, except overlapping wide spans), not by events.

import type { Lane, SpanIndex } from '../../trace/spans.ts';
import { SUBROW_COUNT } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import { PALETTE, spanPaletteIdx } from '../../render/palette.ts';
import { TimeScale } from '../../render/time-scale.ts';
import type { GapMark } from '../host.ts';

/** Narrower than one CSS px a span cannot be told apart from its neighbour: merge it. */
export const MIN_SPAN_WIDTH_PX = 1;

export class Primitives {
  count = 0;
  xPx: Float32Array;
  widthPx: Float32Array;
  laneRow: Uint16Array;
  subrow: Uint8Array;
  paletteIdx: Uint8Array;
  spanKind: Uint8Array;
  /** Span id, or -1 for a merged block. */
  spanId: Int32Array;
  /** 1 for a span; the number of spans in a merged block. */
  mergedCount: Uint32Array;

  constructor(capacity = 256) {
    this.xPx = new Float32Array(capacity);
    this.widthPx = new Float32Array(capacity);
    this.laneRow = new Uint16Array(capacity);
    this.subrow = new Uint8Array(capacity);
    this.paletteIdx = new Uint8Array(capacity);
    this.spanKind = new Uint8Array(capacity);
    this.spanId = new Int32Array(capacity);
    this.mergedCount = new Uint32Array(capacity);
  }

  push(xPx: number, widthPx: number, laneRow: number, subrow: number, paletteIdx: number, spanKind: number, spanId: number, mergedCount: number): void {
    if (this.count === this.xPx.length) this.grow();
    const i = this.count++;
    this.xPx[i] = xPx;
    this.widthPx[i] = widthPx;
    this.laneRow[i] = laneRow;
    this.subrow[i] = subrow;
    this.paletteIdx[i] = paletteIdx;
    this.spanKind[i] = spanKind;
    this.spanId[i] = spanId;
    this.mergedCount[i] = mergedCount;
  }

  private grow(): void {
    const n = this.xPx.length * 2;
    const g = <T extends Float32Array | Uint16Array | Uint8Array | Int32Array | Uint32Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.xPx = g(this.xPx); this.widthPx = g(this.widthPx); this.laneRow = g(this.laneRow);
    this.subrow = g(this.subrow); this.paletteIdx = g(this.paletteIdx); this.spanKind = g(this.spanKind);
    this.spanId = g(this.spanId); this.mergedCount = g(this.mergedCount);
  }
}

export interface LaneRowInfo {
  laneIdx: number;
  task: string;
  role: Lane['role'];
  /** Pinned lanes come first, whatever their role. */
  pinned: boolean;
  /** First lane of its process (comm) group: the label draws the group line above it. */
  firstOfProcess: boolean;
}

export interface GapPrimitive {
  xPx: number;
  widthPx: number;
  missedEvents: number;
}

export interface TimelineModel {
  scale: TimeScale;
  /** Lanes in display order (pinned; then app tasks, server threads, kworkers, each by process). */
  lanes: LaneRowInfo[];
  prims: Primitives;
  gaps: GapPrimitive[];
}

const ROLE_ORDER: Record<Lane['role'], number> = { app: 0, server: 1, kworker: 2 };

/** `fuse2fs/501` → `fuse2fs`: lanes of one process (comm) sit together. */
export function processOf(task: string): string {
  const slash = task.lastIndexOf('/');
  return slash > 0 ? task.slice(0, slash) : task;
}

/**
 * Display order: pinned lanes first (in pin order), then by role, then grouped by process in
 * first-seen order, then by first appearance.
 */
export function orderLanes(lanes: readonly Lane[], pinned: readonly string[] = []): LaneRowInfo[] {
  const firstSeen = new Map<string, number>();
  for (const l of lanes) if (!firstSeen.has(processOf(l.task))) firstSeen.set(processOf(l.task), l.idx);
  const pinRank = (l: Lane): number => { const i = pinned.indexOf(l.task); return i < 0 ? Infinity : i; };
  const rows = [...lanes]
    .sort((a, b) => pinRank(a) - pinRank(b) || ROLE_ORDER[a.role] - ROLE_ORDER[b.role]
      || firstSeen.get(processOf(a.task))! - firstSeen.get(processOf(b.task))! || a.idx - b.idx)
    .map((l) => ({ laneIdx: l.idx, task: l.task, role: l.role, pinned: pinned.includes(l.task), firstOfProcess: false }));
  rows.forEach((r, i) => { r.firstOfProcess = i === 0 || processOf(rows[i - 1]!.task) !== processOf(r.task) || rows[i - 1]!.pinned !== r.pinned; });
  return rows;
}

/** Builds the model for [startNs, endNs] over a plot `widthPx` wide. Open spans end at the store's last time. */
export function buildTimelineModel(
  spans: SpanIndex,
  store: TraceStore,
  startNs: number,
  endNs: number,
  widthPx: number,
  gaps: readonly GapMark[] = [],
  pinned: readonly string[] = [],
): TimelineModel {
  const scale = new TimeScale(startNs, endNs, widthPx);
  const nowNs = store.endNs;
  const lanes = orderLanes(spans.lanes, pinned);
  const prims = new Primitives();
  const start = spans.startNs.data;
  const end = spans.endNs.data;
  const kind = spans.kind.data;
  const style = spans.style.data;
  // Per-pixel-column buckets of sub-pixel spans; adjacent columns with the same dominant colour
  // join one run (one primitive). Dominance is by time covered (+1 ns so instants count).
  const tally = new Float64Array(PALETTE.length);
  const touched: number[] = [];

  for (let laneRow = 0; laneRow < lanes.length; laneRow++) {
    const laneIdx = lanes[laneRow]!.laneIdx;
    for (let subrow = 0; subrow < SUBROW_COUNT; subrow++) {
      const track = spans.track(laneIdx, subrow);
      if (track.spans.length === 0) continue;
      let col = -1; // the column being tallied
      let colCount = 0;
      let colSpanId = -1;
      let colKind = 0;
      let runFirstCol = -1; // the current run: columns [runFirstCol, runLastCol]
      let runLastCol = -2;
      let runCount = 0;
      let runPalette = 0;
      let runSpanId = -1;
      let runKind = 0;
      const flushRun = (): void => {
        if (runCount === 0) return;
        prims.push(runFirstCol, runLastCol - runFirstCol + 1, laneRow, subrow, runPalette, runKind,
          runCount === 1 ? runSpanId : -1, runCount);
        runCount = 0;
      };
      const closeColumn = (): void => {
        if (colCount === 0) return;
        let dominant = touched[0]!;
        for (const p of touched) if (tally[p]! > tally[dominant]!) dominant = p;
        for (const p of touched) tally[p] = 0;
        touched.length = 0;
        if (runCount > 0 && dominant === runPalette && col >= runFirstCol && col <= runLastCol + 1) {
          if (col > runLastCol) runLastCol = col;
          runCount += colCount;
        } else {
          flushRun();
          runFirstCol = col;
          runLastCol = col;
          runCount = colCount;
          runPalette = dominant;
          runSpanId = colSpanId;
          runKind = colKind;
        }
        colCount = 0;
      };
      spans.forEachInRange(track, startNs, endNs, nowNs, (id) => {
        const endTsNs = Number.isNaN(end[id]!) ? nowNs : end[id]!;
        const x0Px = scale.nsToPx(start[id]!);
        const x1Px = scale.nsToPx(endTsNs);
        const p = spanPaletteIdx(kind[id]!, style[id]!);
        if (x1Px - x0Px >= MIN_SPAN_WIDTH_PX) {
          closeColumn();
          flushRun();
          const l = Math.max(x0Px, 0);
          const r = Math.min(x1Px, widthPx);
          if (r > l) prims.push(l, r - l, laneRow, subrow, p, kind[id]!, id, 1);
          return;
        }
        const c = Math.min(Math.max(Math.floor(x0Px), 0), Math.ceil(widthPx) - 1);
        if (c !== col) {
          closeColumn();
          col = c;
        }
        if (colCount++ === 0) {
          colSpanId = id;
          colKind = kind[id]!;
        }
        if (tally[p] === 0) touched.push(p);
        tally[p]! += endTsNs - start[id]! + 1;
      });
      closeColumn();
      flushRun();
    }
  }

  const gapPrims: GapPrimitive[] = [];
  for (const g of gaps) {
    if (g.toTsNs < startNs || g.fromTsNs > endNs) continue;
    const l = Math.max(scale.nsToPx(g.fromTsNs), 0);
    const r = Math.min(scale.nsToPx(g.toTsNs), widthPx);
    // A gap is drawn at least 2 px wide: it must stay visible at any zoom.
    gapPrims.push({ xPx: l, widthPx: Math.max(r - l, 2), missedEvents: g.missedEvents });
  }
  return { scale, lanes, prims, gaps: gapPrims };
}

/** Index of the primitive under (xPx in plot space, lane row, sub-row), or -1; the last drawn wins. */
export function hitTest(model: TimelineModel, xPx: number, laneRow: number, subrow: number, slopPx = 1): number {
  const p = model.prims;
  for (let i = p.count - 1; i >= 0; i--) {
    if (p.laneRow[i] !== laneRow || p.subrow[i] !== subrow) continue;
    if (xPx >= p.xPx[i]! - slopPx && xPx <= p.xPx[i]! + p.widthPx[i]! + slopPx) return i;
  }
  return -1;
}
