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
import type { FrameScheduler, GapMark, HoverInfo, ViewHost, ViewProbe } from '../views/host.ts';
import { NO_HOVER } from '../views/host.ts';

export type ConnectionStatus = 'connecting' | 'open' | 'closed';

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
  traceGeneration = 0;
  gaps: GapMark[] = [];
  missedEvents = 0;

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

  eventCount = 0;
  spanCount = 0;
  eventsPerSec = 0;
  drawnLanes = 0;
  drawnPrimitives = 0;
  probe: ViewProbe | null = null;
  /** performance.now() of the last data or UI change (idle detection). */
  lastChangeMs = 0;

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
    this.traceGeneration++;
    this.gaps = [];
    this.missedEvents = 0;
    this.hover = NO_HOVER;
    this.selectedSpanId = -1;
    this.rateSamples = [];
    if (this.followLive) this.followNow();
    this.changed(true);
  }

  /** Decodes and appends one binary batch; throws WireError on a malformed one. */
  ingestBatch(frame: Uint8Array): void {
    const from = this.trace.length;
    applyBatch(this.trace, decodeBatch(frame));
    this.spans.update(this.trace);
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
    this.changed(gapsAdded);
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
    const endNs = Math.max(this.trace.endNs, this.followWindowNs);
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
    if (spanId === this.selectedSpanId) return;
    this.selectedSpanId = spanId;
    this.changed(true);
  }

  reportDraw(stats: { drawnLanes: number; drawnPrimitives: number }): void {
    this.drawnLanes = stats.drawnLanes;
    this.drawnPrimitives = stats.drawnPrimitives;
  }

  setProbe(probe: ViewProbe | null): void {
    this.probe = probe;
  }

  /** Refreshes the chrome counters (call every COUNTER_PERIOD_MS); notifies only on change. */
  tickCounters(): void {
    const wallMs = this.nowMs();
    const events = this.trace.length;
    this.rateSamples.push({ wallMs, events });
    while (this.rateSamples.length > 2 && wallMs - this.rateSamples[0]!.wallMs > 1000) this.rateSamples.shift();
    const first = this.rateSamples[0]!;
    const dtMs = wallMs - first.wallMs;
    const rate = dtMs > 0 ? Math.max(0, Math.round(((events - first.events) * 1000) / dtMs)) : 0;
    if (events === this.eventCount && this.spans.count === this.spanCount && rate === this.eventsPerSec) return;
    this.eventCount = events;
    this.spanCount = this.spans.count;
    this.eventsPerSec = rate;
    for (const l of [...this.listeners]) l();
  }
}

function clampWidth(widthNs: number): number {
  return Math.min(Math.max(widthNs, MIN_VIEW_NS), MAX_VIEW_NS);
}
