// Pure view model of the timeline: (spanIndex, store, range, widthPx) → draw-ready typed arrays.
// draw.ts paints exactly these arrays and hit-testing searches them, so what you click is what
// was drawn.
//
// Level of detail, per track (one lane × sub-row), spans visited in start order:
//   span ≥ MIN_SPAN_WIDTH_PX wide  → one primitive, its own colour, clickable (mergedCount 1)
//   span narrower                  → tallied into the bucket of its start pixel column (zoomed out,
//                                    a whole LOD bucket of spans starting within ½ px: into its first
//                                    span's column — span-lod.ts subPixelUnit); a column's
//                                    colour is the style covering the most time in it. Adjacent
//                                    columns of the same colour form one "run", drawn as ONE block
//                                    with its span count (mergedCount ≥ 2). A run of one span is
//                                    drawn as that span, 1 px wide (still clickable).
// So sub-pixel spans are never dropped, and primitives per track are bounded by pixels (each
// primitive covers ≥ 1 new column, except overlapping wide spans), not by events.
//
// A span whose end or start the trace does not show (SpanIndex flags) is never summarised in a
// LOD bucket (it is open, or a track head) and is drawn as its own primitive with an `edge`: an
// open-ended span runs to the trace's end and fades there; a hold inferred from contention (its
// end is never traced) is a short fading stub, not a bar to the end; a begun-before span runs
// from the trace's start and fades there.

import type { Lane, SpanIndex } from '../../trace/spans.ts';
import { subPixelUnit, type LodVisitor } from '../../trace/span-lod.ts';
import { SUBROW_COUNT } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import { taskProcesses } from '../../trace/derive/processes.ts';
import { PALETTE, spanPaletteIdx } from '../../render/palette.ts';
import { TimeScale } from '../../render/time-scale.ts';
import { PrimBuffer } from '../../render/prim-buffer.ts';
import { INFERRED_STUB_PX, fadedEdges, isInferredStub } from '../../render/faded.ts';
import type { GapMark } from '../host.ts';

/** Narrower than one CSS px a span cannot be told apart from its neighbour: merge it. */
const MIN_SPAN_WIDTH_PX = 1;

interface LaneRowInfo {
  laneIdx: number;
  task: string;
  role: Lane['role'];
  /** Pinned lanes come first, whatever their role. */
  pinned: boolean;
  /** First lane of its group: the label draws the group line above it. */
  firstOfProcess: boolean;
  /**
   * Lanes shown together under one header (layout.ts), '' when pinned. Grouped by process:
   * `role:pid:<tgid>` for a task whose process the trace names (a task_process row); a task whose
   * process is unknown, and every task when grouped by comm, `role:<comm>` — tasks sharing a comm
   * may be threads of one process or several processes of one program.
   */
  group: string;
  /** The task's thread-group id, 0 when the trace does not say (process unknown). */
  tgid: number;
  /** The group's name: `fuse2fs 18104` (its leader's comm, or a thread's when the leader has no lane) or the comm. */
  groupTitle: string;
}

/** How lanes are grouped: by the process the trace names (else by comm), or by comm only. */
export type LaneGrouping = 'process' | 'comm';

export interface GapPrimitive {
  xPx: number;
  widthPx: number;
  missedEvents: number;
}

export interface TimelineModel {
  scale: TimeScale;
  /**
   * Lanes with spans, in display order (pinned; then app tasks, server threads, kworkers, each by
   * process; then kernel-filesystem inodes). A task whose only spans were its kernel-filesystem
   * iomap steps (drawn on their inode's lane) has no lane row.
   */
  lanes: LaneRowInfo[];
  /** One primitive per span or merged run: row = lane row, style = palette index, kind = SpanKind. */
  prims: PrimBuffer;
  gaps: GapPrimitive[];
  /** Spans and whole LOD buckets the walk visited (what the LOD saves; tests). */
  visits: number;
}

const ROLE_ORDER: Record<Lane['role'], number> = { app: 0, server: 1, kworker: 2, unknown: 3, fs: 4 };

/** `fuse2fs/501` → `fuse2fs`: lanes of one process (comm) sit together. */
export function processOf(task: string): string {
  const slash = task.lastIndexOf('/');
  return slash > 0 ? task.slice(0, slash) : task;
}

/** `fuse2fs/501` → 501 (0 when the task names no number, e.g. `<idle>`). */
function tidOf(task: string): number {
  const n = Number(task.slice(task.lastIndexOf('/') + 1));
  return Number.isInteger(n) ? n : 0;
}

/**
 * Display order: pinned lanes first (in pin order), then by role, then by group (a process when
 * the trace names the task's tgid and `grouping` is 'process', else the comm) in first-seen order,
 * then by first appearance. `tgidOf`: the processes the trace names (derive/processes.ts).
 */
export function orderLanes(
  lanes: readonly Lane[], pinned: readonly string[] = [],
  tgidOf: ReadonlyMap<string, number> = new Map(), grouping: LaneGrouping = 'process',
): LaneRowInfo[] {
  const byProcess = grouping === 'process';
  const tgid = (l: Lane): number => (byProcess ? tgidOf.get(l.task) ?? 0 : 0);
  const keyOf = (l: Lane): string => { const t = tgid(l); return t > 0 ? `${l.role}:pid:${t}` : `${l.role}:${processOf(l.task)}`; };
  const firstSeen = new Map<string, number>();
  // A process group is named by its leader (tid = tgid) when it has a lane, else by its first thread.
  const leaderComm = new Map<number, string>();
  for (const l of lanes) {
    const key = keyOf(l);
    if (!firstSeen.has(key)) firstSeen.set(key, l.idx);
    const t = tgid(l);
    if (t > 0 && (!leaderComm.has(t) || tidOf(l.task) === t)) leaderComm.set(t, processOf(l.task));
  }
  const pinRank = (l: Lane): number => { const i = pinned.indexOf(l.task); return i < 0 ? Infinity : i; };
  const rows = [...lanes]
    .sort((a, b) => pinRank(a) - pinRank(b) || ROLE_ORDER[a.role] - ROLE_ORDER[b.role]
      || firstSeen.get(keyOf(a))! - firstSeen.get(keyOf(b))! || a.idx - b.idx)
    .map((l): LaneRowInfo => {
      const isPinned = pinned.includes(l.task);
      const t = tgid(l);
      return {
        laneIdx: l.idx, task: l.task, role: l.role, pinned: isPinned, firstOfProcess: false, group: isPinned ? '' : keyOf(l),
        tgid: t, groupTitle: t > 0 ? `${leaderComm.get(t)!} ${t}` : processOf(l.task),
      };
    });
  rows.forEach((r, i) => {
    const prev = rows[i - 1];
    r.firstOfProcess = prev === undefined || prev.pinned !== r.pinned || (r.pinned ? processOf(prev.task) !== processOf(r.task) : prev.group !== r.group);
  });
  return rows;
}

function laneIsEmpty(spans: SpanIndex, laneIdx: number): boolean {
  for (let s = 0; s < SUBROW_COUNT; s++) if (!spans.track(laneIdx, s).isEmpty) return false;
  return true;
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
  /** false: visit every span (the exact reference the LOD path is tested against). */
  useLod = true,
  grouping: LaneGrouping = 'process',
): TimelineModel {
  const scale = new TimeScale(startNs, endNs, widthPx);
  const nowNs = store.endNs;
  const lanes = orderLanes(spans.lanes.filter((l) => !laneIsEmpty(spans, l.idx)), pinned, taskProcesses(store).tgidOf, grouping);
  const prims = new PrimBuffer();
  const pass = new TrackPass(spans, scale, nowNs, prims);
  // LOD buckets at most half a column wide: most fall inside one column and are taken whole.
  const lodBucketNs = scale.nsPerPx / 2;
  for (let laneRow = 0; laneRow < lanes.length; laneRow++) {
    const laneIdx = lanes[laneRow]!.laneIdx;
    for (let subrow = 0; subrow < SUBROW_COUNT; subrow++) {
      const track = spans.track(laneIdx, subrow);
      if (track.isEmpty) continue;
      pass.begin(laneRow, subrow);
      spans.forEachInRangeLod(track, startNs, endNs, nowNs, useLod ? track.lod.levelFor(lodBucketNs) : -1, pass);
      pass.finish();
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
  return { scale, lanes, prims, gaps: gapPrims, visits: pass.visits };
}

/**
 * One track's pass of buildTimelineModel: spans (or whole LOD buckets) in start order in, draw
 * primitives out. A class rather than closures: the walk's calls see a few classes, not a new
 * closure each frame.
 */
class TrackPass implements LodVisitor {
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly kind: Uint8Array;
  private readonly style: Uint8Array;
  private readonly flags: Uint8Array;
  private readonly widthPx: number;
  private readonly lastCol: number;
  // Per-pixel-column buckets of sub-pixel spans; adjacent columns with the same dominant colour
  // join one run (one primitive). Dominance is by time covered (+1 ns so instants count).
  private readonly tally = new Float64Array(PALETTE.length);
  /** Palette indexes with a nonzero tally, in first-touch order (a typed array: no array resizing per column). */
  private readonly touched = new Uint8Array(PALETTE.length);
  private touchedCount = 0;
  private laneRow = 0;
  private subrow = 0;
  private col = -1; // the column being tallied
  private colCount = 0;
  private colSpanId = -1;
  private colKind = 0;
  private runFirstCol = -1; // the current run: columns [runFirstCol, runLastCol]
  private runLastCol = -2;
  private runCount = 0;
  private runPalette = 0;
  private runSpanId = -1;
  private runKind = 0;
  visits = 0;

  constructor(spans: SpanIndex, private readonly scale: TimeScale, private readonly nowNs: number, private readonly prims: PrimBuffer) {
    this.start = spans.startNs.data;
    this.end = spans.endNs.data;
    this.kind = spans.kind.data;
    this.style = spans.style.data;
    this.flags = spans.flags.data;
    this.widthPx = scale.widthPx;
    this.lastCol = Math.ceil(scale.widthPx) - 1;
  }

  begin(laneRow: number, subrow: number): void {
    this.laneRow = laneRow;
    this.subrow = subrow;
    this.col = -1;
    this.colCount = 0;
    this.runCount = 0;
    this.runFirstCol = -1;
    this.runLastCol = -2;
  }

  finish(): void {
    this.closeColumn();
    this.flushRun();
  }

  span(id: number): void {
    this.visits++;
    const open = Number.isNaN(this.end[id]!);
    const endTsNs = open ? this.nowNs : this.end[id]!;
    const x0Px = this.scale.nsToPx(this.start[id]!);
    let x1Px = this.scale.nsToPx(endTsNs);
    const f = this.flags[id]!;
    let edge = 0;
    if (f !== 0) {
      edge = fadedEdges(f, open);
      if (isInferredStub(f, open)) x1Px = x0Px + INFERRED_STUB_PX;
    }
    const p = spanPaletteIdx(this.kind[id]!, this.style[id]!);
    if (x1Px - x0Px >= MIN_SPAN_WIDTH_PX || edge !== 0) {
      this.closeColumn();
      this.flushRun();
      const l = Math.max(x0Px, 0);
      const r = Math.min(Math.max(x1Px, x0Px + MIN_SPAN_WIDTH_PX), this.widthPx);
      if (r > l) this.prims.push(l, r - l, this.laneRow, this.subrow, p, this.kind[id]!, id, 1, edge);
      return;
    }
    this.enterColumn(Math.min(Math.max(Math.floor(x0Px), 0), this.lastCol), id); // columnOf, x0Px already at hand
    this.colCount++;
    this.add(p, endTsNs - this.start[id]! + 1);
  }

  // A bucket whose spans are sub-pixel and start within ½ px is tallied into its first span's
  // column (span-lod.ts subPixelUnit): a span whose start crossed into the next one moves < ½ px.
  unitOk(firstStartNs: number, lastStartNs: number, maxDurNs: number): boolean {
    return subPixelUnit(firstStartNs, lastStartNs, maxDurNs, this.scale.pxPerNs);
  }

  unit(firstId: number, firstStartNs: number, count: number, domKey: number, domTimeNs: number): void {
    this.visits++;
    this.enterColumn(this.columnOf(firstStartNs), firstId);
    this.colCount += count;
    this.add(spanPaletteIdx(domKey >> 8, domKey & 0xff), domTimeNs);
  }

  private columnOf(tsNs: number): number {
    return this.scale.columnOf(tsNs, this.lastCol);
  }

  private enterColumn(c: number, firstId: number): void {
    if (c !== this.col) {
      this.closeColumn();
      this.col = c;
    }
    if (this.colCount === 0) {
      this.colSpanId = firstId;
      this.colKind = this.kind[firstId]!;
    }
  }

  private add(paletteIdx: number, timeNs: number): void {
    if (this.tally[paletteIdx] === 0) this.touched[this.touchedCount++] = paletteIdx;
    this.tally[paletteIdx]! += timeNs;
  }

  private flushRun(): void {
    if (this.runCount === 0) return;
    this.prims.push(this.runFirstCol, this.runLastCol - this.runFirstCol + 1, this.laneRow, this.subrow,
      this.runPalette, this.runKind, this.runCount === 1 ? this.runSpanId : -1, this.runCount);
    this.runCount = 0;
  }

  private closeColumn(): void {
    if (this.colCount === 0) return;
    const { tally, touched } = this;
    let dominant = touched[0]!;
    for (let i = 1; i < this.touchedCount; i++) if (tally[touched[i]!]! > tally[dominant]!) dominant = touched[i]!;
    for (let i = 0; i < this.touchedCount; i++) tally[touched[i]!] = 0;
    this.touchedCount = 0;
    const col = this.col;
    if (this.runCount > 0 && dominant === this.runPalette && col >= this.runFirstCol && col <= this.runLastCol + 1) {
      if (col > this.runLastCol) this.runLastCol = col;
      this.runCount += this.colCount;
    } else {
      this.flushRun();
      this.runFirstCol = col;
      this.runLastCol = col;
      this.runCount = this.colCount;
      this.runPalette = dominant;
      this.runSpanId = this.colSpanId;
      this.runKind = this.colKind;
    }
    this.colCount = 0;
  }
}

/** Index of the primitive under (xPx in plot space, lane row, sub-row), or -1; the last drawn wins. */
export function hitTest(model: TimelineModel, xPx: number, laneRow: number, subrow: number, slopPx = 1): number {
  return model.prims.hitTest(xPx, laneRow, subrow, slopPx);
}
