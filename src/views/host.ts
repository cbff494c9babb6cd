// What a view needs from the app, as an interface so views never import src/app (layering:
// render ◄ views ◄ app). The app's AppStore implements it; tests can fake it. The e2e tests' probes
// are not part of it (views/probes.ts).

import type { TraceStore } from '../trace/store.ts';
import type { SpanIndex } from '../trace/spans.ts';
import type { AliasIndex } from '../trace/derive/aliases.ts';
import type { LockIndex } from '../trace/derive/locks.ts';
import type { CacheIndex } from '../trace/derive/cache.ts';
import type { Theme } from '../render/palette.ts';
import type { Ino } from '../trace/ids.ts';
import type { Finding, Unknown } from '../trace/checks/types.ts';

/** One page-wide frame loop: data arrival only marks dirty; actions run before renderers. */
export interface FrameScheduler {
  markDirty(): void;
  /** Runs `action` at the start of the next frame, before any renderer (pan/zoom input). */
  scheduleAction(action: () => void): void;
  /** `render` runs once per dirty frame; returns the unsubscribe. */
  addRenderer(render: () => void): () => void;
}

export interface GapMark {
  fromTsNs: number;
  toTsNs: number;
  missedEvents: number;
}

export interface HoverInfo {
  /** Span under the pointer, or -1. */
  spanId: number;
  /** >1 when the pointer is over a merged block of sub-pixel spans. */
  mergedCount: number;
  /** Palette index of the hovered primitive (dominant style for merged blocks). */
  paletteIdx: number;
  clientXPx: number;
  clientYPx: number;
}
export const NO_HOVER: HoverInfo = { spanId: -1, mergedCount: 0, paletteIdx: -1, clientXPx: 0, clientYPx: 0 };

/**
 * The protocol checkers' findings over the page's trace (src/trace/checks). Evidence rows are
 * stream rows: store row = stream row − rowBase (a live page evicts its oldest rows; a row below
 * rowBase is no longer in the page).
 */
export interface PageFindings {
  readonly list: readonly Finding[];
  readonly unknowns: readonly Unknown[];
  /** Bumped when list / unknowns change (at most at the counter rate): panels memoize on it. */
  readonly version: number;
  /** Events the list covers (stream rows checked). */
  readonly checkedEvents: number;
  /** The stream row of store row 0 (rows evicted so far). */
  readonly rowBase: number;
  /** Non-empty when a checker failed and checking stopped (the list is what it found before). */
  readonly error: string;
  /** The rows are being checked elsewhere (a file shown while its checkers finish): the list is not in yet. */
  readonly checking?: boolean;
  /** The finding the user clicked (its evidence is highlighted), or null. */
  readonly selected: Finding | null;
  /** Shows a finding: zooms to it, highlights its evidence, selects its first evidence row. */
  select(f: Finding | null): void;
}

/** The same finding, across recomputations of the list (new objects each time). */
export function sameFinding(a: Finding | null, b: Finding | null): boolean {
  return a !== null && b !== null && a.rule === b.rule && a.tsNs === b.tsNs && a.evidence[0] === b.evidence[0];
}

export interface ViewHost {
  readonly trace: TraceStore;
  readonly spans: SpanIndex;
  /** Bumped when trace / spans / derived indexes are replaced (reset, reconnect, live-window
   *  eviction): rows and span ids from before mean nothing after, so memoize on it. */
  readonly traceGeneration: number;
  readonly gaps: readonly GapMark[];
  readonly viewStartNs: number;
  readonly viewEndNs: number;
  readonly followLive: boolean;
  /** Replay of an opened file: events after this time are not revealed yet. NaN while live. */
  readonly playheadNs: number;
  readonly hover: HoverInfo;
  readonly selectedSpanId: number;
  /** The selected event row: a span's begin row, or an event that is not a span (cache, inode). -1: none. */
  readonly selectedRow: number;
  /** Bumped each time the user asks to be shown the selection (f, a search result, an inspector
   *  link): the timeline scrolls the selection's lane into view once per change. */
  readonly revealSeq: number;
  /** Derived state machines, fed with the store (src/trace/derive). */
  readonly aliases: AliasIndex;
  readonly locks: LockIndex;
  readonly cache: CacheIndex;
  /** Changes at most COUNTER_PERIOD_MS when the derived indexes changed: tables subscribe to it. */
  readonly derivedVersion: number;
  /** Linked hover across views: a lock (LockIndex idx) and an inode (ino), -1 / 0 when none. */
  readonly hoverLockIdx: number;
  readonly hoverIno: Ino;
  /** Time under the pointer in any time-based view (NaN when none): the cache table's cursor. */
  readonly cursorNs: number;
  /** Tasks whose timeline lanes are pinned to the top, in pin order. */
  readonly pinnedTasks: readonly string[];
  /** The search box's query (src/trace/derive/search.ts syntax); views dim what it does not match. */
  readonly query: string;
  /** The timeline's area selection (shift-drag), NaN when none. */
  readonly areaFromNs: number;
  readonly areaToNs: number;
  /** A/B compare: draw a line at cursorNs (the pointer may be over the other side's timeline). */
  readonly cursorLine?: boolean;
  /** The time the axis labels 0 (compare: the side's alignment anchor, so both axes read aligned time); 0 if absent. */
  readonly axisOriginNs?: number;
  /** A/B compare: the alignment marker, drawn as a dashed line; NaN or absent for none. */
  readonly markerNs?: number;
  readonly scheduler: FrameScheduler;
  /** The page's findings (absent where no checkers run: a compare side). */
  readonly findings?: PageFindings;
  /** The page's theme: canvases draw with paletteFor(theme) (render/palette.ts), read each frame. */
  readonly theme: Theme;
  /** UI-state changes (range, hover, selection, follow, trace replaced). */
  subscribe(listener: () => void): () => void;
  /** `isUser`: a zoom/pan gesture, which turns follow-live off. */
  setRange(startNs: number, endNs: number, isUser: boolean): void;
  setHover(hover: HoverInfo): void;
  select(spanId: number): void;
  /** Selects an event row (and the span it opens, if any). */
  selectRow(row: number): void;
  /** Selects a span or row and brings it into view (search results, inspector links). */
  reveal(spanId: number, row: number): void;
  setHoverLink(lockIdx: number, ino: Ino): void;
  setCursor(tsNs: number): void;
  togglePin(task: string): void;
  /** Sets the area selection (NaN, NaN clears it). */
  setArea(fromNs: number, toNs: number): void;
  reportDraw(stats: { drawnLanes: number; drawnPrimitives: number }): void;
}

/**
 * Where the shown trace comes from, as a view names it (an empty state, a title): the live
 * scenario the server streams, or the file open in the page (its label, `a.txt + b.log`).
 */
export interface TraceSource {
  kind: 'live' | 'file';
  /** The scenario's name, or the file label ('' when not known yet). */
  name: string;
}
