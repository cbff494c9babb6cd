// A ViewHost (src/views/host.ts) made of parts: the trace's data (TraceSession), what the user
// looks at (ViewState) and where the trace comes from (SourceStatus), with one listener set for
// React. The page's AppStore adds the replay and the live stream; a compare side (compare-store.ts)
// adds its pair, which owns its range. Both fill their trace from a file the same way (FileTarget).
//
// Two kinds of change:
//   data   (batches): append to the TraceStore, pair into the SpanIndex, scheduler.markDirty(). No React.
//   UI     (hover, selection, follow, connection, server state, counters): notify() listeners,
//          which useSyncExternalStore compares through primitive selectors.

import type { FrameScheduler, GapMark, HoverInfo, ViewHost } from '../views/host.ts';
import type { SharedRows, TraceStore } from '../trace/store.ts';
import type { Theme } from '../render/palette.ts';
import type { SpanIndex } from '../trace/spans.ts';
import type { AliasIndex } from '../trace/derive/aliases.ts';
import type { LockIndex } from '../trace/derive/locks.ts';
import type { CacheIndex } from '../trace/derive/cache.ts';
import { TraceSession } from './trace-session.ts';
import { ViewState, type FollowEnd } from './view-state.ts';
import { SourceStatus, type OpenedFile } from './source-status.ts';
import type { Ino } from '../trace/ids.ts';

/** Counter refresh: chrome counters update at most 4×/s (faster is unreadable and costs renders). */
export const COUNTER_PERIOD_MS = 250;

/** What a FileSession (file-session.ts) fills: a trace, loaded from a file. */
export interface FileTarget {
  readonly data: TraceSession;
  readonly status: SourceStatus;
  beginFile(file: OpenedFile): void;
  resetTrace(originNs: bigint): void;
  /**
   * A wire batch, or the rows the import worker appended to columns it shares with this trace's store;
   * `strings`: strings the sender's table gained before these rows (a recording's chunk), interned first.
   */
  ingestBatch(frame: Uint8Array | SharedRows, strings?: readonly string[]): void;
  finishFile(diagLines: readonly string[], diagCount: number): void;
  failFile(message: string): void;
}

export abstract class TraceViewHost implements ViewHost, FileTarget {
  /** performance.now() of the last data or UI change (idle detection). */
  lastChangeMs = 0;
  private readonly listeners = new Set<() => void>();
  readonly data: TraceSession;
  readonly view: ViewState;
  readonly status: SourceStatus;

  /** `followEnd`: where following live ends (null: this view never follows; its range is set for it). */
  /** `checks`: run the protocol checkers over the trace (the page does; a compare side does not). */
  constructor(readonly scheduler: FrameScheduler, protected readonly nowMs: () => number, followEnd: FollowEnd | null, checks = false) {
    this.data = new TraceSession((w) => this.view.afterSwap(w), checks);
    this.view = new ViewState(this.data, this.changed, followEnd);
    this.status = new SourceStatus(this.changed, nowMs);
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Every part's change: the canvas redraws; React hears of it when `notify`. */
  protected readonly changed = (notify: boolean): void => {
    this.lastChangeMs = this.nowMs();
    this.scheduler.markDirty();
    if (notify) this.notifyListeners();
  };

  /** A change of the chrome alone (a file loading apart: its progress): React hears of it, no view redraws. */
  protected readonly chromeChanged = (notify: boolean): void => {
    this.lastChangeMs = this.nowMs();
    if (notify) this.notifyListeners();
  };

  /** React only (the counters: nothing on the canvas changed). */
  protected notifyListeners(): void {
    for (const l of [...this.listeners]) l();
  }

  // --- ViewHost: the data ---------------------------------------------------------------------

  get trace(): TraceStore { return this.data.trace; }
  get spans(): SpanIndex { return this.data.spans; }
  get aliases(): AliasIndex { return this.data.aliases; }
  get locks(): LockIndex { return this.data.locks; }
  /** The cache index, whole: a replay still deferred (TraceSession.deferCache) is finished first. */
  get cache(): CacheIndex {
    this.data.catchUpCache();
    return this.data.cache;
  }
  get traceGeneration(): number { return this.data.traceGeneration; }
  get gaps(): readonly GapMark[] { return this.data.gaps; }
  get derivedVersion(): number { return this.data.derivedVersion; }

  // --- ViewHost: the view state ---------------------------------------------------------------

  get viewStartNs(): number { return this.view.viewStartNs; }
  get viewEndNs(): number { return this.view.viewEndNs; }
  get followLive(): boolean { return this.view.followLive; }
  get hover(): HoverInfo { return this.view.hover; }
  get selectedSpanId(): number { return this.view.selectedSpanId; }
  get selectedRow(): number { return this.view.selectedRow; }
  get hoverLockIdx(): number { return this.view.hoverLockIdx; }
  get hoverIno(): Ino { return this.view.hoverIno; }
  get cursorNs(): number { return this.view.cursorNs; }
  get pinnedTasks(): readonly string[] { return this.view.pinnedTasks; }
  get query(): string { return this.view.query; }
  get revealSeq(): number { return this.view.revealSeq; }
  get theme(): Theme { return this.view.theme; }
  get areaFromNs(): number { return this.view.areaFromNs; }
  get areaToNs(): number { return this.view.areaToNs; }

  /** Replay of an opened file: events after this time are not revealed yet. NaN when none. */
  abstract get playheadNs(): number;
  abstract setRange(startNs: number, endNs: number, isUser: boolean): void;
  abstract setCursor(tsNs: number): void;

  setHover(hover: HoverInfo): void { this.view.setHover(hover); }
  select(spanId: number): void { this.view.select(spanId); }
  selectRow(row: number): void { this.view.selectRow(row); }
  setHoverLink(lockIdx: number, ino: Ino): void { this.view.setHoverLink(lockIdx, ino); }
  togglePin(task: string): void { this.view.togglePin(task); }
  setArea(fromNs: number, toNs: number): void { this.view.setArea(fromNs, toNs); }
  reportDraw(stats: { drawnLanes: number; drawnPrimitives: number }): void { this.status.reportDraw(stats); }

  reveal(spanId: number, row: number): void {
    if (spanId >= 0) this.view.select(spanId);
    else this.view.selectRow(row);
    this.focusSelection(true);
  }

  /** `f`: zoom to the selection (with margins); `onlyIfOutside` just pans it into view. */
  focusSelection(onlyIfOutside = false): void {
    this.view.focusSelection((s, e, isUser) => this.setRange(s, e, isUser), onlyIfOutside);
  }

  // --- the trace, and a file filling it -------------------------------------------------------

  /** Starts a fresh trace (hello, reset, a file): the server's string table restarts too. */
  resetTrace(originNs: bigint): void {
    this.data.reset(originNs);
    this.view.clearForReset();
    this.status.resetRate();
    this.changed(true);
  }

  /** Refreshes the counters and the derived version (at the counter rate); returns whether React must hear of it. */
  protected refreshCounters(): boolean {
    const counters = this.status.refreshCounters(this.data.receivedTracedEvents, this.data.spans.count);
    // Tables and graphs refresh at the counter rate, not per batch (per-batch re-renders would dominate at live rates).
    const derived = this.data.refreshDerivedVersion();
    const findings = this.data.refreshFindings();
    // The timeline's axis markers and the overview's are drawn on the canvas frame.
    if (findings) this.scheduler.markDirty();
    return counters || derived || findings;
  }

  abstract ingestBatch(frame: Uint8Array | SharedRows, strings?: readonly string[]): void;
  abstract beginFile(file: OpenedFile): void;
  abstract finishFile(diagLines: readonly string[], diagCount: number): void;
  abstract failFile(message: string): void;
}
