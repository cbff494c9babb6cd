// A/B compare state (two independent trace hosts side by side). Each side is a ViewHost of
// its own (TraceViewHost: its own TraceStore, SpanIndex and derived indexes, view state and file
// status, fed by its own import worker), so the timeline, tooltip and hit tests work on it
// unchanged. It has no replay and never follows: what the sides share lives in the ComparePair —
// the view range and the hover cursor, both in *aligned* time (views/compare/align.ts).
//
//   TimelineView(A) ─ setRange(sideA) ─▶ CompareSide A ─▶ ComparePair.setAlignedRange(aligned)
//                                                              ├─▶ A.applyRange(aligned + anchorA)
//   TimelineView(B) ─ setCursor(sideB) ─▶ CompareSide B ─┘    └─▶ B.applyRange(aligned + anchorB)
//
// So a gesture on either timeline moves both by the same amount of time, and the cursor line
// under the pointer on one side is drawn at the same aligned time on the other. Nothing here is
// a module global: main.tsx creates the CompareSession, which creates one pair per comparison.

import { TraceViewHost } from './trace-view-host.ts';
import type { SharedRows } from '../trace/store.ts';
import { clampWidth } from './view-state.ts';
import type { OpenedFile } from './source-status.ts';
import type { FrameScheduler } from '../views/host.ts';
import { anchorOf, rangeAroundZero, sideRange, toAlignedNs, unionAlignedRange, type AlignMode } from '../views/compare/align.ts';
import { diffStats, traceStats, type DiffRow } from '../trace/compare.ts';

type SideKey = 'a' | 'b';

export class CompareSide extends TraceViewHost {
  /** The side time aligned 0 stands for. */
  anchorNs = 0;
  /** The alignment marker in this side's time (NaN: aligned from start). */
  markerNs = Number.NaN;
  readonly cursorLine = true;

  constructor(scheduler: FrameScheduler, private readonly pair: ComparePair, readonly key: SideKey, nowMs: () => number = () => performance.now()) {
    // No follow: the pair sets the range.
    super(scheduler, nowMs, null);
  }

  get axisOriginNs(): number {
    return this.anchorNs;
  }

  /** Both sides are whole files: nothing is veiled by a playhead. */
  get playheadNs(): number {
    return Number.NaN;
  }

  /** The pair owns the range: a gesture on this side moves both. */
  setRange(startNs: number, endNs: number, isUser: boolean): void {
    this.pair.setAlignedRange(toAlignedNs(startNs, this.anchorNs), toAlignedNs(endNs, this.anchorNs), isUser);
  }

  setCursor(tsNs: number): void {
    this.pair.setAlignedCursor(toAlignedNs(tsNs, this.anchorNs));
  }

  /** Called by the pair only. */
  applyRange(startNs: number, endNs: number): void {
    this.view.setRange(startNs, endNs, false);
  }

  applyCursor(tsNs: number): void {
    this.view.setCursor(tsNs);
  }

  beginFile(file: OpenedFile): void {
    this.status.beginFile(file);
    this.resetTrace(0n);
  }

  ingestBatch(frame: Uint8Array | SharedRows, strings?: readonly string[]): void {
    const notify = this.data.ingest(frame, false, strings);
    this.view.selectPendingIfArrived();
    this.changed(notify);
    this.pair.sideChanged();
  }

  finishFile(diagLines: readonly string[], diagCount: number): void {
    this.status.finishFile(diagLines, diagCount);
    this.data.finish();
    this.changed(true);
    this.pair.sideChanged();
  }

  failFile(message: string): void {
    this.status.failFile(message);
    this.pair.sideChanged();
  }

  /** Refreshes the side's counters (call every COUNTER_PERIOD_MS); notifies only on change. */
  tickCounters(): void {
    if (this.refreshCounters()) this.notifyListeners();
  }
}

export class ComparePair {
  readonly a: CompareSide;
  readonly b: CompareSide;
  mode: AlignMode = 'start';
  /** The shared view range and cursor, in aligned ns. */
  startNs = 0;
  endNs = 1e6;
  cursorNs = Number.NaN;
  /** The A-vs-B rows, once both sides have loaded (null before). */
  rows: DiffRow[] | null = null;
  /** Why the last "align on selection" did nothing ('' when it worked). */
  alignError = '';
  /** Set by a zoom/pan gesture: loading no longer refits the range. */
  private userRange = false;
  private readonly listeners = new Set<() => void>();

  constructor(readonly scheduler: FrameScheduler, nowMs?: () => number) {
    this.a = new CompareSide(scheduler, this, 'a', nowMs);
    this.b = new CompareSide(scheduler, this, 'b', nowMs);
  }

  get sides(): readonly [CompareSide, CompareSide] {
    return [this.a, this.b];
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private notify(): void {
    this.scheduler.markDirty();
    for (const l of [...this.listeners]) l();
  }

  get loaded(): boolean {
    return this.a.status.importStatus.phase === 'done' && this.b.status.importStatus.phase === 'done';
  }

  setAlignedRange(startNs: number, endNs: number, isUser: boolean): void {
    let widthNs = clampWidth(endNs - startNs);
    if (!Number.isFinite(widthNs)) widthNs = this.endNs - this.startNs;
    const centreNs = (startNs + endNs) / 2;
    this.startNs = centreNs - widthNs / 2;
    this.endNs = centreNs + widthNs / 2;
    if (isUser) this.userRange = true;
    for (const s of this.sides) s.applyRange(...sideRange(this.startNs, this.endNs, s.anchorNs));
  }

  setAlignedCursor(alignedNs: number): void {
    this.cursorNs = alignedNs;
    for (const s of this.sides) s.applyCursor(Number.isFinite(alignedNs) ? alignedNs + s.anchorNs : Number.NaN);
  }

  /** Shows both sides whole (the union of their aligned extents). */
  fitAll(): void {
    const u = unionAlignedRange(this.sides.map((s) => ({ extent: s.trace, anchorNs: s.anchorNs, empty: s.trace.length === 0 })));
    if (u) this.setAlignedRange(u[0], u[1] > u[0] ? u[1] : u[0] + 1, false);
    this.userRange = false;
  }

  /** A side loaded more rows or finished: re-anchor (from start), refit unless the user zoomed, and diff once both are in. */
  sideChanged(): void {
    if (this.mode === 'start') for (const s of this.sides) s.anchorNs = anchorOf('start', s.trace, Number.NaN);
    if (!this.userRange) this.fitAll();
    if (this.loaded && this.rows === null) this.rows = diffStats(traceStats(this.a.trace), traceStats(this.b.trace));
    this.notify();
  }

  /** Aligned time from each side's first event. */
  alignFromStart(): void {
    this.mode = 'start';
    this.alignError = '';
    for (const s of this.sides) {
      s.markerNs = Number.NaN;
      s.anchorNs = anchorOf('start', s.trace, Number.NaN);
    }
    this.fitAll();
    this.notify();
  }

  /**
   * Aligned time from a marker in each side: the start of the span (or the event) selected in it.
   * Returns false (and says why in alignError) unless both sides have a selection.
   */
  alignOnSelection(): boolean {
    const marks = this.sides.map((s) => selectionTimeNs(s));
    if (marks.some((m) => Number.isNaN(m))) {
      this.alignError = 'select an event in A and one in B (click a span), then align on them';
      this.notify();
      return false;
    }
    this.mode = 'marker';
    this.alignError = '';
    this.sides.forEach((s, i) => {
      s.markerNs = marks[i]!;
      s.anchorNs = anchorOf('marker', s.trace, marks[i]!);
    });
    this.setAlignedRange(...rangeAroundZero(this.startNs, this.endNs), false);
    this.notify();
    return true;
  }
}

/** Start of the selected span, or the time of the selected event row; NaN for none. */
function selectionTimeNs(s: TraceViewHost): number {
  const id = s.selectedSpanId;
  if (id >= 0 && id < s.spans.count) return s.spans.startNs.data[id]!;
  if (s.selectedRow >= 0 && s.selectedRow < s.trace.length) return s.trace.tsNs[s.selectedRow]!;
  return Number.NaN;
}
