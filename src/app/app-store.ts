// The UI's state, outside React ([FP] components/README.md; style.md §4). One AppStore per live
// connection / recording, created in main.tsx and passed down — never a module global.
//
// Two kinds of change:
//   data   (ws batches): append to TraceStore, pair into SpanIndex, scheduler.markDirty(). No React.
//   UI     (hover, selection, follow, connection, server state, counters): notify() listeners,
//          which useSyncExternalStore compares through primitive selectors.
// The view range changes every frame while following live, so it marks the canvas dirty but
// does not notify React; nothing in React renders from it.

import { TraceStore } from '../trace/store.ts';
import { SpanIndex } from '../trace/spans.ts';
import { KIND_CODE } from '../trace/schema.ts';
import { applyBatch, decodeBatch, type ScenarioInfo, type SessionState } from '../trace/wire.ts';
import type { FrameScheduler, GapMark, HoverInfo, LocksProbe, ViewHost, ViewProbe } from '../views/host.ts';
import { NO_HOVER } from '../views/host.ts';
import { AliasIndex } from '../trace/derive/aliases.ts';
import { LockIndex } from '../trace/derive/locks.ts';
import { CacheIndex } from '../trace/derive/cache.ts';
import { spanOfRow } from '../trace/derive/relatives.ts';
import { REPLAY_PACE_NS_PER_SEC, advance, clampNs, clampSpeed, effectiveLoop, playFrom, type LoopRange, type PlayheadState } from './playhead.ts';
import type { FileKind, ImportPhase } from './import-protocol.ts';
import {
  DEFAULT_WINDOW_EVENTS, WindowRebuild, clampWindowEvents, reserveLiveWindow, evictToWindow, hardCapRows, rebuildBudget, rebuildCut, remapRow,
  remapSelection, shouldEvict, type WindowedTrace,
} from './live-window.ts';

/** The tabs under the timeline. */
export const VIEW_TABS = ['locks', 'aliases', 'cache', 'area', 'accounting'] as const;
export type ViewTab = (typeof VIEW_TABS)[number];
export type Theme = 'light' | 'dark';
/** `f` shows the selection with this much of its duration as margin on each side. */
export const FOCUS_MARGIN_FRACTION = 0.25;
/** Revealing an instant event (no duration) shows this much time around it. */
export const REVEAL_INSTANT_NS = 200e3;

export type ConnectionStatus = 'connecting' | 'open' | 'closed';
/** Where the trace comes from: the server's websocket, or a file opened in this page. */
export type SourceKind = 'live' | 'file';
export interface OpenedFile {
  /** File name(s) as shown (`trace.txt + fuse2fs-d.log`). */
  label: string;
  kind: FileKind;
  /** A recording opened from the server's list (`rec=` in the URL); '' for a dropped file. */
  recordingName: string;
}
export interface ImportStatus {
  phase: ImportPhase | 'idle';
  doneBytes: number;
  totalBytes: number;
}
export const NO_IMPORT: ImportStatus = { phase: 'idle', doneBytes: 0, totalBytes: 0 };

export interface FileClocks {
  /** Files whose times are on another clock than the first file's (not comparable with it). */
  otherClockFiles: number;
  /** They were moved so they start with the first file (the "align starts" re-open). */
  aligned: boolean;
}
export const NO_FILE_CLOCKS: FileClocks = { otherClockFiles: 0, aligned: false };

/** Follow-live shows this many wall seconds of stream at speed 1: a span stays in view ~3 s, long
 *  enough to hover it, while the window stays narrow enough for spans to be wider than a pixel. */
export const FOLLOW_WINDOW_WALL_S = 3;
/** Used until the server says its pace. 20 ms of virtual time holds a few hundred upcalls in the sim. */
export const DEFAULT_FOLLOW_WINDOW_NS = 20e6;
/** Narrower than this the view is all one span; wider than a day nothing is readable. */
export const MIN_VIEW_NS = 100;
export const MAX_VIEW_NS = 86_400e9;
/** Counter refresh: chrome counters update at most 4×/s (style.md §4). */
export const COUNTER_PERIOD_MS = 250;

export class AppStore implements ViewHost {
  trace = new TraceStore();
  spans = new SpanIndex();
  aliases = new AliasIndex();
  locks = new LockIndex();
  cache = new CacheIndex();
  /** Bumped whenever trace / spans / derived indexes are replaced: a reset, or a live-window eviction. */
  traceGeneration = 0;
  /** Bumped only when the trace starts over (hello, reset, file): row numbers restart from 0. */
  resetGeneration = 0;
  gaps: GapMark[] = [];
  missedEvents = 0;

  // --- live window (src/app/live-window.ts) ---------------------------------------------------
  /** A live session keeps about this many of the newest rows; older ones are evicted from the page. */
  windowEvents = DEFAULT_WINDOW_EVENTS;
  /** Rows evicted since the trace started: store row r is the stream's row r + evictedEvents. */
  evictedEvents = 0;
  /** Evictions since the trace started. */
  evictions = 0;
  /** The next window, being built while the stream goes on (null when none is under way). */
  private rebuild: WindowRebuild | null = null;

  connection: ConnectionStatus = 'connecting';
  serverState: SessionState | null = null;
  scenarios: ScenarioInfo[] = [];
  source = '';
  /** Last error from the server or the decoder, shown in the header. */
  lastError = '';

  viewStartNs = 0;
  viewEndNs = DEFAULT_FOLLOW_WINDOW_NS;
  followLive = true;
  followWindowNs = DEFAULT_FOLLOW_WINDOW_NS;
  private userSetWindow = false;
  hover: HoverInfo = NO_HOVER;
  selectedSpanId = -1;
  selectedRow = -1;
  /** A row asked for (URL) that has not arrived yet; selected when it does. */
  pendingRow = -1;
  hoverLockIdx = -1;
  hoverIno = 0;
  cursorNs = Number.NaN;
  pinnedTasks: readonly string[] = [];
  areaFromNs = Number.NaN;
  areaToNs = Number.NaN;
  tab: ViewTab = 'locks';
  query = '';
  theme: Theme = 'light';
  /** Bumped when the derived indexes changed in a way React panels show (tables, graphs). */
  derivedVersion = 0;

  /** Events received (evicted ones included), refreshed with the counters. */
  eventCount = 0;
  spanCount = 0;
  eventsPerSec = 0;
  drawnLanes = 0;
  drawnPrimitives = 0;
  probe: ViewProbe | null = null;
  locksProbe: LocksProbe | null = null;
  /** performance.now() of the last data or UI change (idle detection). */
  lastChangeMs = 0;

  // --- opened file and its replay (docs/replay.md) --------------------------------------------
  sourceKind: SourceKind = 'live';
  file: OpenedFile | null = null;
  importStatus: ImportStatus = NO_IMPORT;
  /** First diagnostics of the opened file, formatted `file:line: message`, and their total. */
  diagLines: readonly string[] = [];
  diagCount = 0;
  /** Opened text files not on the first file's clock, and whether they start with it (docs/import.md). */
  fileClocks: FileClocks = NO_FILE_CLOCKS;
  replay: PlayheadState = { startNs: 0, endNs: 0, playheadNs: 0, playing: false, speed: 1 };
  /** Play the area selection over and over. */
  loop = false;
  /** The playhead as the header shows it, refreshed with the counters (not every frame). */
  playheadReadoutNs = 0;
  private lastReplayTickMs = Number.NaN;

  private readonly listeners = new Set<() => void>();
  private rateSamples: { wallMs: number; events: number }[] = [];

  constructor(readonly scheduler: FrameScheduler, private readonly nowMs: () => number = () => performance.now()) {}

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  private changed(notify: boolean): void {
    this.lastChangeMs = this.nowMs();
    this.scheduler.markDirty();
    if (notify) for (const l of [...this.listeners]) l();
  }

  // --- data ---------------------------------------------------------------------------------

  /** Starts a fresh trace (hello, reset): the server's string table restarts too. */
  resetTrace(originNs: bigint): void {
    this.trace = new TraceStore(originNs);
    this.spans = new SpanIndex();
    this.aliases = new AliasIndex();
    this.locks = new LockIndex();
    this.cache = new CacheIndex();
    this.traceGeneration++;
    this.resetGeneration++;
    this.evictedEvents = 0;
    this.evictions = 0;
    this.rebuild = null;
    this.gaps = [];
    this.missedEvents = 0;
    this.hover = NO_HOVER;
    this.selectedSpanId = -1;
    this.selectedRow = -1;
    this.hoverLockIdx = -1;
    this.hoverIno = 0;
    this.rateSamples = [];
    if (this.followLive) this.followNow();
    this.changed(true);
  }

  /** Events received since the trace started, evicted ones included. */
  get receivedEvents(): number {
    return this.evictedEvents + this.trace.length;
  }

  /**
   * Decodes and appends one binary batch; throws WireError on a malformed one. A live store that
   * outgrew its window (plus slack) gets the next window built alongside, a step per batch, and
   * swapped in when it has caught up (live-window.ts).
   */
  ingestBatch(frame: Uint8Array): void {
    const from = this.trace.length;
    applyBatch(this.trace, decodeBatch(frame));
    const gapsAdded = this.collectGaps(from);
    this.spans.update(this.trace);
    this.aliases.update(this.trace);
    this.locks.update(this.spans, this.trace);
    this.cache.update(this.trace);
    const evicted = this.advanceWindow(this.trace.length - from);
    if (this.pendingRow >= 0 && this.pendingRow < this.trace.length) {
      const row = this.pendingRow;
      this.pendingRow = -1;
      this.selectRow(row);
    }
    if (this.sourceKind === 'file') this.extendReplay();
    this.changed(gapsAdded || evicted);
  }

  /** Records the gap events among rows [from, length): they are counted even once evicted. */
  private collectGaps(from: number): boolean {
    const gapCode = KIND_CODE.gap;
    const kinds = this.trace.kinds;
    let gapsAdded = false;
    for (let row = from; row < this.trace.length; row++) {
      if (kinds[row] !== gapCode) continue;
      const missed = this.trace.readField('missedEvents', row) as number;
      this.gaps.push({
        fromTsNs: this.trace.readField('fromTsNs', row) as number,
        toTsNs: this.trace.readField('toTsNs', row) as number,
        missedEvents: missed,
      });
      this.missedEvents += missed;
      gapsAdded = true;
    }
    return gapsAdded;
  }

  /** Sets the live window (clamped); a smaller one evicts at once, down to it. */
  setWindowEvents(n: number): void {
    const windowEvents = clampWindowEvents(n);
    if (windowEvents === this.windowEvents) return;
    this.windowEvents = windowEvents;
    this.rebuild = null;
    if (this.sourceKind === 'live' && shouldEvict(this.trace.length, windowEvents)) this.swapIn(evictToWindow(this.trace, windowEvents));
    this.changed(true);
  }

  /** Whether the next window is being built (for the test hooks). */
  get rebuilding(): boolean {
    return this.rebuild !== null;
  }

  /**
   * Live only (an opened file stays whole): starts building the next window when the store holds
   * more than the window plus its slack, advances it by a budget for `arrivedRows` new rows (all
   * at once past the hard cap), and swaps it in when it has caught up. Returns whether it did.
   */
  private advanceWindow(arrivedRows: number): boolean {
    if (this.sourceKind !== 'live') return false;
    reserveLiveWindow(this.trace, this.windowEvents);
    if (!this.rebuild) {
      if (!shouldEvict(this.trace.length, this.windowEvents)) return false;
      // Reserved for as many rows as the store may hold (the hard cap; spans by the rate so far), so
      // neither it nor, once swapped in, the live store it becomes grows by copying.
      const capRows = hardCapRows(this.windowEvents);
      this.rebuild = new WindowRebuild(this.trace, rebuildCut(this.trace.length, this.windowEvents), capRows, this.spans.spansFor(capRows, this.trace.length));
    }
    const r = this.rebuild;
    const budget = this.trace.length > hardCapRows(this.windowEvents) ? Infinity : rebuildBudget(arrivedRows);
    if (!r.step(budget)) return false;
    this.rebuild = null;
    this.swapIn(r.result());
    return true;
  }

  /** Makes `w` the trace and remaps everything that names a row or a span id. */
  private swapIn(w: WindowedTrace): void {
    const sel = remapSelection({ spanId: this.selectedSpanId, row: this.selectedRow }, w.spans, w.droppedRows);
    this.trace = w.trace;
    this.spans = w.spans;
    this.aliases = w.aliases;
    this.locks = w.locks;
    this.cache = w.cache;
    this.traceGeneration++;
    this.evictedEvents += w.droppedRows;
    this.evictions++;
    this.selectedSpanId = sel.spanId;
    this.selectedRow = sel.row;
    // A pending row has not arrived yet, so it is past the cut.
    if (this.pendingRow >= 0) this.pendingRow = remapRow(this.pendingRow, w.droppedRows);
    // Span ids and lock indexes were renumbered; the pointer's next move sets them again.
    this.hover = NO_HOVER;
    this.hoverLockIdx = -1;
    // A range that reached before the new start is clamped to it (following live never does).
    const startNs = this.trace.startNs;
    if (!this.followLive && this.viewStartNs < startNs) {
      const widthNs = this.viewEndNs - this.viewStartNs;
      this.viewStartNs = startNs;
      if (this.viewEndNs - startNs < MIN_VIEW_NS) this.viewEndNs = startNs + widthNs;
    }
  }

  // --- connection and server state ------------------------------------------------------------

  setConnection(status: ConnectionStatus): void {
    if (status === this.connection) return;
    this.connection = status;
    this.changed(true);
  }

  setHello(source: string, scenarios: ScenarioInfo[], state: SessionState): void {
    this.source = source;
    this.scenarios = scenarios;
    this.lastError = '';
    this.setServerState(state);
  }

  setServerState(state: SessionState): void {
    this.serverState = state;
    if (!this.userSetWindow && state.paceNsPerSec > 0) {
      this.followWindowNs = clampWidth(state.paceNsPerSec * FOLLOW_WINDOW_WALL_S);
      if (this.followLive) this.followNow();
    }
    this.changed(true);
  }

  /** Optimistic local pause flag until the server's state message confirms it. */
  setPausedLocally(paused: boolean): void {
    if (!this.serverState) return;
    this.serverState = { ...this.serverState, paused };
    this.changed(true);
  }

  setError(message: string): void {
    this.lastError = message;
    this.changed(true);
  }

  // --- view state ---------------------------------------------------------------------------

  setRange(startNs: number, endNs: number, isUser: boolean): void {
    let widthNs = clampWidth(endNs - startNs);
    if (!Number.isFinite(widthNs)) widthNs = this.followWindowNs;
    const centreNs = (startNs + endNs) / 2;
    this.viewStartNs = centreNs - widthNs / 2;
    this.viewEndNs = centreNs + widthNs / 2;
    if (isUser && this.followLive) {
      this.followLive = false;
      this.changed(true);
    } else this.changed(false);
  }

  setFollowLive(on: boolean): void {
    if (on === this.followLive) return;
    this.followLive = on;
    if (on) {
      // Keep the zoom the user chose: follow with the current width.
      this.followWindowNs = clampWidth(this.viewEndNs - this.viewStartNs);
      this.userSetWindow = true;
      this.followNow();
    }
    this.changed(true);
  }

  /** Called at the start of every frame: while following, show the newest followWindowNs. */
  followNow(): void {
    if (!this.followLive) return;
    const endNs = this.sourceKind === 'file'
      ? Math.max(this.replay.playheadNs, this.trace.startNs + Math.min(this.followWindowNs, this.trace.endNs - this.trace.startNs))
      : Math.max(this.trace.endNs, this.followWindowNs);
    if (endNs === this.viewEndNs && this.viewEndNs - this.viewStartNs === this.followWindowNs) return;
    this.viewEndNs = endNs;
    this.viewStartNs = endNs - this.followWindowNs;
  }

  setHover(hover: HoverInfo): void {
    const h = this.hover;
    if (h.spanId === hover.spanId && h.mergedCount === hover.mergedCount && h.clientXPx === hover.clientXPx && h.clientYPx === hover.clientYPx) return;
    this.hover = hover;
    this.changed(true);
  }

  select(spanId: number): void {
    if (spanId === this.selectedSpanId && (spanId >= 0 || this.selectedRow < 0)) return;
    this.selectedSpanId = spanId;
    this.selectedRow = spanId >= 0 && spanId < this.spans.count ? this.spans.beginRow.data[spanId]! : -1;
    this.changed(true);
  }

  selectRow(row: number): void {
    if (row >= this.trace.length) {
      this.pendingRow = row;
      return;
    }
    this.selectedRow = row;
    this.selectedSpanId = row >= 0 ? spanOfRow(this.spans, row) : -1;
    this.changed(true);
  }

  reveal(spanId: number, row: number): void {
    if (spanId >= 0) this.select(spanId);
    else this.selectRow(row);
    this.focusSelection(true);
  }

  /** `f`: zoom to the selection (with margins); `onlyIfOutside` just pans it into view. */
  focusSelection(onlyIfOutside = false): void {
    let fromNs: number;
    let toNs: number;
    const id = this.selectedSpanId;
    if (id >= 0 && id < this.spans.count) {
      fromNs = this.spans.startNs.data[id]!;
      toNs = this.spans.isOpen(id) ? this.trace.endNs : this.spans.endNs.data[id]!;
    } else if (this.selectedRow >= 0 && this.selectedRow < this.trace.length) {
      fromNs = toNs = this.trace.tsNs[this.selectedRow]!;
    } else return;
    if (onlyIfOutside && fromNs >= this.viewStartNs && toNs <= this.viewEndNs) return;
    const widthNs = this.viewEndNs - this.viewStartNs;
    if (onlyIfOutside) {
      const centreNs = (fromNs + toNs) / 2;
      this.setRange(centreNs - widthNs / 2, centreNs + widthNs / 2, true);
      return;
    }
    const durNs = toNs - fromNs;
    const marginNs = durNs > 0 ? durNs * FOCUS_MARGIN_FRACTION : REVEAL_INSTANT_NS / 2;
    this.setRange(fromNs - marginNs, toNs + marginNs, true);
  }

  setHoverLink(lockIdx: number, ino: number): void {
    if (lockIdx === this.hoverLockIdx && ino === this.hoverIno) return;
    this.hoverLockIdx = lockIdx;
    this.hoverIno = ino;
    this.changed(true);
  }

  setCursor(tsNs: number): void {
    if (tsNs === this.cursorNs || (Number.isNaN(tsNs) && Number.isNaN(this.cursorNs))) return;
    this.cursorNs = tsNs;
    this.changed(true);
  }

  togglePin(task: string): void {
    this.pinnedTasks = this.pinnedTasks.includes(task) ? this.pinnedTasks.filter((t) => t !== task) : [...this.pinnedTasks, task];
    this.changed(true);
  }

  setPins(tasks: readonly string[]): void {
    this.pinnedTasks = [...tasks];
    this.changed(true);
  }

  setArea(fromNs: number, toNs: number): void {
    const a = Math.min(fromNs, toNs);
    const b = Math.max(fromNs, toNs);
    if ((a === this.areaFromNs && b === this.areaToNs) || (Number.isNaN(a) && Number.isNaN(this.areaFromNs))) return;
    this.areaFromNs = a;
    this.areaToNs = b;
    if (!Number.isNaN(a)) this.tab = 'area';
    this.changed(true);
  }

  setTab(tab: ViewTab): void {
    if (tab === this.tab) return;
    this.tab = tab;
    this.changed(true);
  }

  setQuery(query: string): void {
    if (query === this.query) return;
    this.query = query;
    this.changed(true);
  }

  setTheme(theme: Theme): void {
    if (theme === this.theme) return;
    this.theme = theme;
    this.changed(true);
  }

  reportDraw(stats: { drawnLanes: number; drawnPrimitives: number }): void {
    this.drawnLanes = stats.drawnLanes;
    this.drawnPrimitives = stats.drawnPrimitives;
  }

  setProbe(probe: ViewProbe | null): void {
    this.probe = probe;
  }

  setLocksProbe(probe: LocksProbe | null): void {
    this.locksProbe = probe;
  }

  // --- opened file -----------------------------------------------------------------------------

  get playheadNs(): number {
    return this.sourceKind === 'file' ? this.replay.playheadNs : Number.NaN;
  }

  /** A file is being opened: the page leaves the live stream and shows the file as it loads. */
  beginFile(file: OpenedFile): void {
    this.sourceKind = 'file';
    this.file = file;
    this.importStatus = { phase: 'reading', doneBytes: 0, totalBytes: 0 };
    this.diagLines = [];
    this.diagCount = 0;
    this.fileClocks = NO_FILE_CLOCKS;
    this.lastError = '';
    this.replay = { ...this.replay, startNs: 0, endNs: 0, playheadNs: 0, playing: false };
    this.followLive = true;
    this.resetTrace(0n);
  }

  setImportStatus(status: ImportStatus): void {
    this.importStatus = status;
    this.changed(true);
  }

  /** The file's rows are all in: diagnostics shown, paused at the end, the whole file in view. */
  finishFile(diagLines: readonly string[], diagCount: number): void {
    this.importStatus = { ...this.importStatus, phase: 'done', doneBytes: this.importStatus.totalBytes };
    this.diagLines = diagLines;
    this.diagCount = diagCount;
    // The trace is complete: spans still open never end in it (open-ended, SpanIndex.markComplete).
    this.spans.markComplete();
    // Loaded completely: the growth slack of the columns and span arrays is dead weight now.
    this.trace.trim();
    this.spans.trim();
    this.locks.trim(this.spans);
    this.cache.trim();
    this.extendReplay();
    this.changed(true);
  }

  /** Set before finishFile (which notifies), or alone with notify. */
  setFileClocks(clocks: FileClocks, notify = true): void {
    this.fileClocks = clocks;
    this.changed(notify);
  }

  failFile(message: string): void {
    this.importStatus = { ...this.importStatus, phase: 'failed' };
    this.lastError = message;
    this.changed(true);
  }

  /** Back to the live stream (the caller reconnects the websocket; its hello refills the trace). */
  setLive(): void {
    this.sourceKind = 'live';
    this.file = null;
    this.importStatus = NO_IMPORT;
    this.diagLines = [];
    this.diagCount = 0;
    this.fileClocks = NO_FILE_CLOCKS;
    this.replay = { ...this.replay, playing: false };
    this.lastError = '';
    this.followLive = true;
    this.userSetWindow = false;
    this.followWindowNs = this.serverState && this.serverState.paceNsPerSec > 0
      ? clampWidth(this.serverState.paceNsPerSec * FOLLOW_WINDOW_WALL_S) : DEFAULT_FOLLOW_WINDOW_NS;
    this.resetTrace(0n);
  }

  /** While loading: the replay spans what has arrived, the playhead at its end, all of it in view. */
  private extendReplay(): void {
    const { startNs, endNs } = this.trace;
    const atEnd = this.replay.playheadNs >= this.replay.endNs;
    this.replay = { ...this.replay, startNs, endNs, playheadNs: atEnd ? endNs : clampNs({ startNs, endNs }, this.replay.playheadNs) };
    if (this.followLive && atEnd && !this.replay.playing) {
      this.followWindowNs = clampWidth(endNs - startNs);
      this.followNow();
    }
  }

  private loopRange(): LoopRange | null {
    return this.loop && !Number.isNaN(this.areaFromNs) ? { fromNs: this.areaFromNs, toNs: this.areaToNs } : null;
  }

  /** Loop on only when there is an area selection to loop over. */
  get loopActive(): boolean {
    return effectiveLoop(this.replay, this.loopRange()) !== null;
  }

  play(): void {
    if (this.sourceKind !== 'file' || this.replay.playing) return;
    const playheadNs = playFrom(this.replay, this.loopRange());
    this.replay = { ...this.replay, playheadNs, playing: true };
    this.lastReplayTickMs = Number.NaN;
    this.followPlayhead();
    this.changed(true);
  }

  /**
   * Shows the playhead at the view's right edge with the current zoom — or, when the whole file is
   * in view (just opened), with the live view's window for this speed, so the motion is readable.
   */
  private followPlayhead(): void {
    const fullNs = this.replay.endNs - this.replay.startNs;
    const widthNs = this.viewEndNs - this.viewStartNs;
    this.followWindowNs = widthNs >= fullNs
      ? clampWidth(Math.min(fullNs, REPLAY_PACE_NS_PER_SEC * this.replay.speed * FOLLOW_WINDOW_WALL_S))
      : clampWidth(widthNs);
    this.followLive = true;
    this.followNow();
  }

  pause(): void {
    if (!this.replay.playing) return;
    this.replay = { ...this.replay, playing: false };
    this.playheadReadoutNs = this.replay.playheadNs;
    this.changed(true);
  }

  togglePlay(): void {
    if (this.replay.playing) this.pause();
    else this.play();
  }

  setReplaySpeed(speed: number): void {
    this.replay = { ...this.replay, speed: clampSpeed(speed) };
    this.changed(true);
  }

  setLoop(on: boolean): void {
    if (on === this.loop) return;
    this.loop = on;
    this.changed(true);
  }

  /** Moves the playhead (and the view with it); nothing is reloaded, so it is one frame's work. */
  seek(tsNs: number): void {
    if (this.sourceKind !== 'file') return;
    const playheadNs = clampNs(this.replay, tsNs);
    this.replay = { ...this.replay, playheadNs };
    this.playheadReadoutNs = playheadNs;
    this.followPlayhead();
    this.changed(true);
  }

  /** Runs at the start of every frame: advances a playing replay by the wall time since the last. */
  tickReplay(): void {
    if (!this.replay.playing) return;
    const nowMs = this.nowMs();
    const wallMs = Number.isNaN(this.lastReplayTickMs) ? 0 : nowMs - this.lastReplayTickMs;
    this.lastReplayTickMs = nowMs;
    this.replay = advance(this.replay, wallMs, this.loopRange());
    this.followNow();
    if (this.replay.playing) this.changed(false);
    else this.changed(true); // reached the end: the play button changes
  }

  /** Refreshes the chrome counters (call every COUNTER_PERIOD_MS); notifies only on change. */
  tickCounters(): void {
    const wallMs = this.nowMs();
    const events = this.receivedEvents;
    this.rateSamples.push({ wallMs, events });
    while (this.rateSamples.length > 2 && wallMs - this.rateSamples[0]!.wallMs > 1000) this.rateSamples.shift();
    const first = this.rateSamples[0]!;
    const dtMs = wallMs - first.wallMs;
    const rate = dtMs > 0 ? Math.max(0, Math.round(((events - first.events) * 1000) / dtMs)) : 0;
    const derived = this.aliases.version + this.locks.version + this.cache.version;
    if (derived !== this.derivedVersion) {
      // Tables and graphs refresh at the counter rate, not per batch (style.md §4).
      this.derivedVersion = derived;
      for (const l of [...this.listeners]) l();
    }
    if (this.sourceKind === 'file' && this.replay.playheadNs !== this.playheadReadoutNs) {
      this.playheadReadoutNs = this.replay.playheadNs;
      for (const l of [...this.listeners]) l();
    }
    if (events === this.eventCount && this.spans.count === this.spanCount && rate === this.eventsPerSec) return;
    this.eventCount = events;
    this.spanCount = this.spans.count;
    this.eventsPerSec = rate;
    for (const l of [...this.listeners]) l();
  }
}

export function clampWidth(widthNs: number): number {
  return Math.min(Math.max(widthNs, MIN_VIEW_NS), MAX_VIEW_NS);
}
