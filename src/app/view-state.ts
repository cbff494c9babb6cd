// What the user looks at, apart from the data: the time range and follow-live, hover, selection,
// linked hover, cursor, pins, area selection, the tab, the search query and the theme. It reads
// the trace (a TraceSession) to turn a selection into times; it owns none of it.
//
// `changed(notify)` is the owner's: the range changes every frame while following, so it marks
// the canvas dirty without notifying React (notify false); everything React shows notifies.

import type { HoverInfo } from '../views/host.ts';
import { NO_HOVER } from '../views/host.ts';
import type { ViewTab } from '../views/registry.ts';
import { spanOfRow } from '../trace/derive/relatives.ts';
import { remapRow, remapSelection, type WindowedTrace } from './live-window.ts';
import type { TraceSession } from './trace-session.ts';

import type { Theme } from '../render/palette.ts';
import { UNKNOWN_INO, type Ino } from '../trace/ids.ts';
import type { Finding } from '../trace/checks/types.ts';
export type { Theme };
export type TimeMode = 'absolute' | 'relative';
/** `f` shows the selection with this much of its duration as margin on each side. */
const FOCUS_MARGIN_FRACTION = 0.25;
/** Revealing an instant event (no duration) shows this much time around it. */
const REVEAL_INSTANT_NS = 200e3;
/** Follow-live shows this many wall seconds of stream at speed 1: a span stays in view ~3 s, long
 *  enough to hover it, while the window stays narrow enough for spans to be wider than a pixel. */
export const FOLLOW_WINDOW_WALL_S = 3;
/** Used until the server says its pace. 20 ms of virtual time holds a few hundred upcalls in the sim. */
const DEFAULT_FOLLOW_WINDOW_NS = 20e6;
/** Narrower than this the view is all one span; wider than a day nothing is readable. */
const MIN_VIEW_NS = 100;
const MAX_VIEW_NS = 86_400e9;

export function clampWidth(widthNs: number): number {
  return Math.min(Math.max(widthNs, MIN_VIEW_NS), MAX_VIEW_NS);
}

/** Whether a change is one React shows (true) or only the canvas (false). */
export type Changed = (notify: boolean) => void;
/** Where following ends, for a window this wide (the stream's newest event, a replay's playhead). */
export type FollowEnd = (windowNs: number) => number;

export class ViewState {
  viewStartNs = 0;
  viewEndNs = DEFAULT_FOLLOW_WINDOW_NS;
  /** Off, and never turned on, when the view has nothing to follow (a compare side: its pair owns the range). */
  followLive: boolean;
  followWindowNs = DEFAULT_FOLLOW_WINDOW_NS;
  /** The user chose the follow width (zoom before follow): the server's pace no longer sets it. */
  private userSetWindow = false;
  hover: HoverInfo = NO_HOVER;
  selectedSpanId = -1;
  selectedRow = -1;
  /** Bumped when the user asks to be shown the selection (f, a search result, a link): the
   *  timeline then scrolls the selection's lane into view, once per bump. */
  revealSeq = 0;
  /** A row asked for (URL) that has not arrived yet; selected when it does. */
  pendingRow = -1;
  hoverLockIdx = -1;
  hoverIno = UNKNOWN_INO;
  cursorNs = Number.NaN;
  pinnedTasks: readonly string[] = [];
  areaFromNs = Number.NaN;
  areaToNs = Number.NaN;
  tab: ViewTab = 'locks';
  /** The finding the user clicked (its evidence is highlighted), or null. */
  selectedFinding: Finding | null = null;
  /** Lanes pinned by showing a finding (unpinned when another finding is shown), apart from the user's. */
  private findingPins: readonly string[] = [];
  query = '';
  theme: Theme = 'light';
  /** Axis labels: the trace's own clock ('absolute'), or time since its first event ('relative'). */
  timeMode: TimeMode = 'absolute';

  constructor(private readonly data: TraceSession, private readonly changed: Changed, private readonly followEnd: FollowEnd | null) {
    this.followLive = followEnd !== null;
  }

  // --- range and follow ---------------------------------------------------------------------

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
    if (on === this.followLive || (on && !this.followEnd)) return;
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
    if (!this.followLive || !this.followEnd) return;
    const endNs = this.followEnd(this.followWindowNs);
    if (endNs === this.viewEndNs && this.viewEndNs - this.viewStartNs === this.followWindowNs) return;
    this.viewEndNs = endNs;
    this.viewStartNs = endNs - this.followWindowNs;
  }

  /** Follows with this width (a replay's playhead, a loading file shown whole); no notify. */
  followWith(widthNs: number): void {
    if (!this.followEnd) return;
    this.followWindowNs = clampWidth(widthNs);
    this.followLive = true;
    this.followNow();
  }

  /** The server's pace sets the follow width, unless the user chose one; no notify. */
  adoptPace(paceNsPerSec: number): void {
    if (this.userSetWindow || !(paceNsPerSec > 0)) return;
    this.followWindowNs = clampWidth(paceNsPerSec * FOLLOW_WINDOW_WALL_S);
    if (this.followLive) this.followNow();
  }

  /** Back to the live stream: follow at the server's pace (0: not known yet); no notify. */
  followLiveAt(paceNsPerSec: number): void {
    this.followLive = this.followEnd !== null;
    this.userSetWindow = false;
    this.followWindowNs = paceNsPerSec > 0 ? clampWidth(paceNsPerSec * FOLLOW_WINDOW_WALL_S) : DEFAULT_FOLLOW_WINDOW_NS;
  }

  /** A file starts loading: it is followed (shown whole) as it arrives; no notify. */
  startFollowing(): void {
    this.followLive = this.followEnd !== null;
  }

  // --- trace replaced -------------------------------------------------------------------------

  /** The trace started over: what named its rows or spans means nothing now; no notify. */
  clearForReset(): void {
    this.hover = NO_HOVER;
    this.selectedSpanId = -1;
    this.selectedRow = -1;
    this.hoverLockIdx = -1;
    this.hoverIno = UNKNOWN_INO;
    this.selectedFinding = null;
    this.followNow();
  }

  /**
   * Another trace is shown (a file opened, back to live): what the user chose on the previous one
   * — area selection, selection, search filter, pins, cursor — means nothing on it; the theme, the
   * tab (the area tab falls back to the default) and the follow settings stay; no notify.
   */
  resetForNewTrace(): void {
    this.clearForReset();
    this.pendingRow = -1;
    this.areaFromNs = Number.NaN;
    this.areaToNs = Number.NaN;
    if (this.tab === 'area') this.tab = 'locks';
    this.query = '';
    this.pinnedTasks = [];
    this.findingPins = [];
    this.cursorNs = Number.NaN;
  }

  /** A live window was swapped in: remaps what names a row or a span id; no notify. */
  afterSwap(w: WindowedTrace): void {
    const sel = remapSelection({ spanId: this.selectedSpanId, row: this.selectedRow }, w.spans, w.droppedRows);
    this.selectedSpanId = sel.spanId;
    this.selectedRow = sel.row;
    // A pending row has not arrived yet, so it is past the cut.
    if (this.pendingRow >= 0) this.pendingRow = remapRow(this.pendingRow, w.droppedRows);
    // Span ids and lock indexes were renumbered; the pointer's next move sets them again.
    this.hover = NO_HOVER;
    this.hoverLockIdx = -1;
    // A range that reached before the new start is clamped to it (following live never does).
    const startNs = w.trace.startNs;
    if (!this.followLive && this.viewStartNs < startNs) {
      const widthNs = this.viewEndNs - this.viewStartNs;
      this.viewStartNs = startNs;
      if (this.viewEndNs - startNs < MIN_VIEW_NS) this.viewEndNs = startNs + widthNs;
    }
  }

  /** Selects the row asked for by the URL once it has arrived. */
  selectPendingIfArrived(): void {
    if (this.pendingRow < 0 || this.pendingRow >= this.data.trace.length) return;
    const row = this.pendingRow;
    this.pendingRow = -1;
    this.selectRow(row);
  }

  // --- pointer and selection ------------------------------------------------------------------

  setHover(hover: HoverInfo): void {
    const h = this.hover;
    if (h.spanId === hover.spanId && h.mergedCount === hover.mergedCount && h.clientXPx === hover.clientXPx && h.clientYPx === hover.clientYPx) return;
    this.hover = hover;
    this.changed(true);
  }

  select(spanId: number): void {
    if (spanId === this.selectedSpanId && (spanId >= 0 || this.selectedRow < 0)) return;
    const spans = this.data.spans;
    this.selectedSpanId = spanId;
    this.selectedRow = spanId >= 0 && spanId < spans.count ? spans.beginRow.data[spanId]! : -1;
    this.changed(true);
  }

  selectRow(row: number): void {
    if (row >= this.data.trace.length) {
      this.pendingRow = row;
      return;
    }
    this.selectedRow = row;
    this.selectedSpanId = row >= 0 ? spanOfRow(this.data.spans, row) : -1;
    this.changed(true);
  }

  /** `f`: zoom to the selection (with margins); `onlyIfOutside` just pans it into view. `setRange` is
   *  the host's (a compare side's range belongs to its pair). */
  focusSelection(setRange: (startNs: number, endNs: number, isUser: boolean) => void, onlyIfOutside = false): void {
    const { trace, spans } = this.data;
    let fromNs: number;
    let toNs: number;
    const id = this.selectedSpanId;
    if (id >= 0 && id < spans.count) {
      fromNs = spans.startNs.data[id]!;
      toNs = spans.isOpen(id) ? trace.endNs : spans.endNs.data[id]!;
    } else if (this.selectedRow >= 0 && this.selectedRow < trace.length) {
      fromNs = toNs = trace.tsNs[this.selectedRow]!;
    } else return;
    this.revealSeq++;
    this.changed(true);
    if (onlyIfOutside && fromNs >= this.viewStartNs && toNs <= this.viewEndNs) return;
    const widthNs = this.viewEndNs - this.viewStartNs;
    if (onlyIfOutside) {
      const centreNs = (fromNs + toNs) / 2;
      setRange(centreNs - widthNs / 2, centreNs + widthNs / 2, true);
      return;
    }
    const durNs = toNs - fromNs;
    const marginNs = durNs > 0 ? durNs * FOCUS_MARGIN_FRACTION : REVEAL_INSTANT_NS / 2;
    setRange(fromNs - marginNs, toNs + marginNs, true);
  }

  setHoverLink(lockIdx: number, ino: Ino): void {
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

  setTimeMode(mode: TimeMode): void {
    if (mode === this.timeMode) return;
    this.timeMode = mode;
    this.changed(true);
  }

  togglePin(task: string): void {
    this.pinnedTasks = this.pinnedTasks.includes(task) ? this.pinnedTasks.filter((t) => t !== task) : [...this.pinnedTasks, task];
    this.changed(true);
  }

  /**
   * Shows a finding: `tasks` (its evidence's lanes) are pinned to the top, in front of the
   * user's pins; the lanes the previous finding pinned are unpinned (unless the user pinned them).
   */
  setSelectedFinding(f: Finding | null, tasks: readonly string[]): void {
    const userPins = this.pinnedTasks.filter((t) => !this.findingPins.includes(t));
    const added = tasks.filter((t) => !userPins.includes(t));
    this.findingPins = added;
    this.pinnedTasks = [...added, ...userPins];
    this.selectedFinding = f;
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

  // --- page chrome ----------------------------------------------------------------------------

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
}
