// window.__fusescope: the hooks the Playwright e2e test drives (e2e/). Reads only; the test acts
// through the real UI (clicks, keys). `idle()` is true once nothing has
// changed for IDLE_QUIET_MS, so a screenshot taken then shows a settled page.

import { SPAN_KIND_NAMES, type SpanKindName } from '../trace/spans.ts';
import type { AppStore } from './app-store.ts';
import type { RafScheduler } from './raf-scheduler.ts';
import type { WsClient } from './ws-client.ts';
import type { FileSession } from './file-session.ts';
import type { CompareSession } from './compare-session.ts';
import type { CompareSide } from './compare-store.ts';
import { hardCapRows } from './live-window.ts';
import { CACHE_MARKER_KINDS } from '../trace/derive/cache.ts';
import { enableProbes, probeOf, type FindingOverlay, type TimelineLaneInfo } from '../views/probes.ts';
import type { Finding } from '../trace/checks/types.ts';

/** Nothing changed for this long → idle. */
const IDLE_QUIET_MS = 100;

interface FusescopeStats {
  events: number; spans: number; lanes: number; drawnLanes: number; drawnPrimitives: number;
  frames: number; paused: boolean; followLive: boolean; viewStartNs: number; viewEndNs: number;
  missedEvents: number; connected: boolean;
  /** This page's own pause; the shared session's (a driver paused it); whether this page drives it. */
  viewerPaused: boolean; sharedPaused: boolean; driving: boolean;
  /** Events of the run the server had not kept when this page joined (its hello's history). */
  historyNotKept: number;
  /** Bumped each time the trace starts over (hello, scenario switch or restart), not on evictions. */
  generation: number;
  /** Bytes of the store's columns in SharedArrayBuffers (a file the import worker filled in place); 0 for a live trace. */
  sharedStoreBytes: number;
}

/** The live window (src/app/live-window.ts): what the page keeps and what it evicted. */
interface LiveWindowInfo {
  /** Rows the page keeps, about (src/app/live-window.ts). */
  windowEvents: number;
  /** Past window + slack rows the next window is built; the store never holds more than maxRows. */
  maxRows: number;
  /** The next window is being built (swapped in when it has caught up). */
  rebuilding: boolean;
  /** Rows in the store now (= stats().events). */
  storeRows: number;
  /** The most rows the store held after a batch, before any eviction it started (since the trace started). */
  peakStoreRows: number;
  /** Rows evicted since the trace started, and how many evictions. */
  evictedEvents: number;
  evictions: number;
  /** Every event received since the trace started (evicted + in the store). */
  receivedEvents: number;
  /** Of those, the server's `gap` events (each one row, saying how many events this page missed). */
  gapEvents: number;
  /** Times of the first and last row in the store. */
  startNs: number;
  endNs: number;
}

export interface FusescopeHooks {
  stats(): FusescopeStats;
  liveWindow(): LiveWindowInfo;
  idle(): boolean;
  findSpan(kind?: SpanKindName): { xPx: number; yPx: number; spanId: number } | null;
  /** The timeline's lanes by task in display order, as last drawn. */
  laneTasks(): string[];
  /** A task's timeline lane: its row and whether all of it is inside the scroll box (null: no such lane). */
  laneInView(task: string): { laneRow: number; visible: boolean } | null;
  /** The timeline's lanes as last drawn, in display order, with their on-screen place. */
  timelineLanes(): TimelineLaneInfo[];
  /** The tick labels as shown on the main time axis, or the locks view's (painted on its canvas). */
  axisLabels(view?: 'timeline' | 'locks'): string[];
  selection(): { spanId: number; beginRow: number; kind: string } | null;
  /** The selected event row (span or not), -1 for none. */
  selectedRow(): number;
  /** A clickable, closed lock wait drawn in the locks view, with the hold it waited for. */
  findLockWait(): { xPx: number; yPx: number; spanId: number; holderSpanId: number } | null;
  /** The locks view's rows as last drawn (lock headers and task rows, by label). */
  lockRowLabels(): string[];
  /** Alias groups as the aliasing view derives them. */
  aliasGroups(): { ino: number; nodeIds: number[]; paths: string[] }[];
  /** Events of `kind` in the page's trace, counted by their task (`comm/tid`). */
  eventsByTask(kind: string): Record<string, number>;
  /** Derived counts: locks, contended waits, cache events, hits, misses. */
  derived(): { locks: number; waits: number; cacheEvents: number; cacheHits: number; cacheMisses: number; firstMissRow: number; firstHitRow: number };
  tab(): string;
  /** The source: 'live' (websocket) or 'file' (an opened file). */
  source(): string;
  /** The replay of an opened file (playheadNs NaN while live). */
  replay(): { playheadNs: number; playing: boolean; speed: number; startNs: number; endNs: number; loop: boolean };
  /** Loading an opened file: phase, bytes, diagnostics. */
  importStatus(): { phase: string; doneBytes: number; totalBytes: number; diagCount: number; diagLines: string[]; label: string; findingsFrom: 'stored' | 'worker' | 'page' | null; recordingBodies: { alone: number; joined: number; runs: number } | null };
  /** The last opened file that is not shown (its error, diagnostics, rows read), or null; `opening`: a file is loading apart. */
  importProblem(): { opening: boolean; problem: { label: string; message: string; diagLines: string[]; keptEvents: number } | null };
  /** The view state that belongs to one trace: area selection, selected row, search query, pins. */
  traceViewState(): { areaFromNs: number; areaToNs: number; selectedRow: number; query: string; pins: string[]; theme: string; tab: string };
  /** A/B compare: null when not comparing. Times are each side's own ns; `aligned*` the shared axis. */
  compare(): CompareInfo | null;
  /** Span ids whose start or end the trace does not show (SpanIndex flags), and whether the trace is complete. */
  unended(): { complete: boolean; openEnded: number[]; begunBefore: number[]; inferredHolds: number[] };
  /** Selects a span and brings it into view (as an inspector link does). */
  reveal(spanId: number): void;
  /** The checkers' findings over the page's trace (evidence as stream rows), as last recomputed. */
  findings(): FindingInfo[];
  /** Rows checked, rows evicted (store row = stream row − rowBase), and what the checkers could not judge. */
  findingsStatus(): { checkedEvents: number; rowBase: number; version: number; unknowns: { rule: string; count: number; what: string }[] };
  /** The finding shown (clicked), or null; with its evidence outlined on the timeline in the last frame (store rows / span ids). */
  shownFinding(): (FindingInfo & { highlightedSpanIds: number[]; highlightedRows: number[]; evidenceSpanRows: number[]; pinnedTasks: string[] }) | null;
  /** What the Mapping cache / locks view drew of the findings in its last frame (null: view not drawn). */
  viewFindings(view: 'cache' | 'locks'): FindingOverlay | null;
  /** What the cache plot drew last frame (views/probes.ts CachePlotProbe), null when it is not drawn. */
  cachePlot(): { nodeId: number; markersByKind: Record<string, number>; staleUsesDrawn: number; reasonLabels: string[] } | null;
  /** A span drawn in side A's or B's timeline (as findSpan). */
  compareFindSpan(side: 'a' | 'b', kind?: SpanKindName): { xPx: number; yPx: number; spanId: number } | null;
}

interface FindingInfo {
  rule: string; severity: string; tsNs: number; durNs: number; evidence: number[]; explanation: string;
  figures: Record<string, unknown>;
}

const findingInfo = (f: Finding): FindingInfo => ({
  rule: f.rule, severity: f.severity, tsNs: f.tsNs, durNs: f.durNs, evidence: [...f.evidence], explanation: f.explanation, figures: { ...f.figures },
});

interface CompareSideInfo {
  label: string; phase: string; events: number; spans: number; drawnLanes: number; drawnPrimitives: number;
  viewStartNs: number; viewEndNs: number; anchorNs: number; markerNs: number; cursorNs: number; selectedSpanId: number;
}
interface CompareInfo {
  mode: string; loaded: boolean; alignedStartNs: number; alignedEndNs: number; cursorNs: number;
  a: CompareSideInfo; b: CompareSideInfo;
  /** The A-vs-B rows as `fusescope diff --json` writes them (NaN → null); null until both loaded. */
  rows: { metric: string; unit: string; a: number | null; b: number | null; ratio: number | null }[] | null;
}

const nullIfNaN = (v: number): number | null => (Number.isNaN(v) ? null : v);

function sideInfo(s: CompareSide): CompareSideInfo {
  return {
    label: s.status.file?.label ?? '', phase: s.status.importStatus.phase, events: s.trace.length, spans: s.spans.count,
    drawnLanes: s.status.drawnLanes, drawnPrimitives: s.status.drawnPrimitives, viewStartNs: s.viewStartNs, viewEndNs: s.viewEndNs,
    anchorNs: s.anchorNs, markerNs: s.markerNs, cursorNs: s.cursorNs, selectedSpanId: s.selectedSpanId,
  };
}

declare global {
  interface Window { __fusescope?: FusescopeHooks; __fusescopeIdle?: () => boolean }
}

export function installTestHooks(win: Window, store: AppStore, scheduler: RafScheduler, client: WsClient, session: FileSession, compare: CompareSession): () => void {
  // The views answer findSpan / findLockWait through the probe registry, which is off until now.
  enableProbes();
  const hooks: FusescopeHooks = {
    stats: () => ({
      events: store.trace.length,
      spans: store.spans.count,
      lanes: store.spans.lanes.length,
      drawnLanes: store.status.drawnLanes,
      drawnPrimitives: store.status.drawnPrimitives,
      frames: scheduler.frames,
      // What the pause button shows: this page's own pause, or the shared session's while driving it.
      paused: store.status.pausedHere,
      viewerPaused: store.status.viewerPaused,
      sharedPaused: store.status.serverState?.paused ?? false,
      driving: store.status.driving,
      historyNotKept: store.status.historyNotKept?.events ?? 0,
      followLive: store.followLive,
      viewStartNs: store.viewStartNs,
      viewEndNs: store.viewEndNs,
      missedEvents: store.data.missedEvents,
      // Open *and* the server's state received: before it, `paused` would read false whatever the session is.
      connected: store.status.connection === 'open' && store.status.serverState != null,
      generation: store.data.resetGeneration,
      // Bytes of the store's columns the import worker filled and this page reads in place (SharedArrayBuffer).
      sharedStoreBytes: store.trace.sharedByteLength(),
    }),
    liveWindow: () => ({
      windowEvents: store.data.windowEvents,
      maxRows: hardCapRows(store.data.windowEvents),
      rebuilding: store.data.rebuilding,
      storeRows: store.trace.length,
      peakStoreRows: store.data.peakRows,
      evictedEvents: store.data.evictedEvents,
      evictions: store.data.evictions,
      receivedEvents: store.data.receivedEvents,
      gapEvents: store.data.gaps.length,
      startNs: store.trace.startNs,
      endNs: store.trace.endNs,
    }),
    idle: () => {
      const quietSinceMs = Math.max(store.lastChangeMs, scheduler.lastActivityMs);
      // A deferred cache replay or LOD trim (after a file's first frame: AppStore.settleAfterFirstFrame) still to come is work, not idle.
      return !scheduler.isFramePending && client.pendingFrames === 0 && !session.busy && !compare.busy && !store.data.deferCache && !store.data.lodSlackPending
        && performance.now() - quietSinceMs >= IDLE_QUIET_MS;
    },
    findSpan: (kind) => {
      if (kind !== undefined && !SPAN_KIND_NAMES.includes(kind)) throw new Error(`findSpan: unknown kind ${kind}`);
      return probeOf(store, 'timeline')?.findSpan(kind) ?? null;
    },
    laneTasks: () => probeOf(store, 'timeline')?.laneTasks?.() ?? [],
    laneInView: (task) => probeOf(store, 'timeline')?.laneInView?.(task) ?? null,
    timelineLanes: () => probeOf(store, 'timeline')?.lanes?.() ?? [],
    axisLabels: (view = 'timeline') => (view === 'locks' ? probeOf(store, 'locks')?.axisLabels?.() ?? []
      : [...win.document.querySelectorAll('.timeline-axis g.axis .tick text')].map((t) => t.textContent ?? '')),
    selection: () => {
      const id = store.selectedSpanId;
      if (id < 0 || id >= store.spans.count) return null;
      return { spanId: id, beginRow: store.spans.beginRow.data[id]!, kind: SPAN_KIND_NAMES[store.spans.kind.data[id]!]! };
    },
    selectedRow: () => store.selectedRow,
    findLockWait: () => probeOf(store, 'locks')?.findWait() ?? null,
    lockRowLabels: () => probeOf(store, 'locks')?.rowLabels?.() ?? [],
    aliasGroups: () => store.aliases.groups(),
    eventsByTask: (kind) => {
      const t = store.trace;
      const out: Record<string, number> = {};
      for (let row = 0; row < t.length; row++) {
        if (t.kindOf(row) !== kind) continue;
        const task = String(t.readField('task', row));
        out[task] = (out[task] ?? 0) + 1;
      }
      return out;
    },
    derived: () => {
      let hits = 0;
      let misses = 0;
      let firstMissRow = -1;
      let firstHitRow = -1;
      for (const c of store.cache.inodes.values()) {
        hits += c.hits;
        misses += c.misses;
        for (let i = 0; i < c.markers.length; i++) {
          const kind = CACHE_MARKER_KINDS[c.markers.kind.data[i]!];
          const row = c.markers.row.data[i]!;
          if (kind === 'miss' && (firstMissRow < 0 || row < firstMissRow)) firstMissRow = row;
          if (kind === 'hit' && (firstHitRow < 0 || row < firstHitRow)) firstHitRow = row;
        }
      }
      return {
        locks: store.locks.locks.length,
        waits: store.locks.locks.reduce((n, l) => n + l.waitIds.length, 0),
        cacheEvents: store.cache.eventCount, cacheHits: hits, cacheMisses: misses, firstMissRow, firstHitRow,
      };
    },
    tab: () => store.view.tab,
    unended: () => {
      const s = store.spans;
      const out = { complete: s.complete, openEnded: [] as number[], begunBefore: [] as number[], inferredHolds: [] as number[] };
      for (let id = 0; id < s.count; id++) {
        if (s.isBegunBefore(id)) out.begunBefore.push(id);
        if (s.isInferredHold(id)) out.inferredHolds.push(id);
        else if (s.isOpenEnded(id)) out.openEnded.push(id);
      }
      return out;
    },
    reveal: (spanId) => store.reveal(spanId, -1),
    source: () => store.status.sourceKind,
    replay: () => ({
      playheadNs: store.playheadNs, playing: store.replay.playhead.playing, speed: store.replay.playhead.speed,
      startNs: store.replay.playhead.startNs, endNs: store.replay.playhead.endNs, loop: store.replay.loopActive,
    }),
    importStatus: () => ({
      ...store.status.importStatus, diagCount: store.status.diagCount, diagLines: [...store.status.diagLines], label: store.status.file?.label ?? '',
      findingsFrom: store.status.findingsFrom, recordingBodies: store.status.recordingBodies,
    }),
    importProblem: () => {
      const p = store.status.importProblem;
      return { opening: store.loading !== null, problem: p ? { label: p.label, message: p.message, diagLines: [...p.diagLines], keptEvents: p.keptEvents } : null };
    },
    traceViewState: () => ({
      areaFromNs: store.areaFromNs, areaToNs: store.areaToNs, selectedRow: store.selectedRow, query: store.view.query,
      pins: [...store.view.pinnedTasks], theme: store.view.theme, tab: store.view.tab,
    }),
    compare: () => {
      const p = compare.pair;
      if (!p) return null;
      return {
        mode: p.mode, loaded: p.loaded, alignedStartNs: p.startNs, alignedEndNs: p.endNs, cursorNs: p.cursorNs,
        a: sideInfo(p.a), b: sideInfo(p.b),
        rows: p.rows?.map((r) => ({ ...r, a: nullIfNaN(r.a), b: nullIfNaN(r.b), ratio: nullIfNaN(r.ratio) })) ?? null,
      };
    },
    findings: () => store.findings.list.map(findingInfo),
    findingsStatus: () => ({
      checkedEvents: store.findings.checkedEvents, rowBase: store.findings.rowBase, version: store.findings.version,
      unknowns: store.findings.unknowns.map((u) => ({ ...u })),
    }),
    shownFinding: () => {
      const f = store.findings.selected;
      if (!f) return null;
      const drawn = probeOf(store, 'timeline')?.evidenceHighlights?.() ?? { spanIds: [], rows: [] };
      return {
        ...findingInfo(f), highlightedSpanIds: drawn.spanIds, highlightedRows: drawn.rows, pinnedTasks: [...store.pinnedTasks],
        // The begin and end rows (store rows) of the outlined spans, so a test can compare them with the evidence.
        evidenceSpanRows: drawn.spanIds.flatMap((id) => [store.spans.beginRow.data[id]!, ...(store.spans.isOpen(id) ? [] : [store.spans.endRow.data[id]!])]),
      };
    },
    cachePlot: () => probeOf(store, 'cachePlot')?.drawn() ?? null,
    viewFindings: (view) => probeOf(store, view === 'cache' ? 'cacheFindings' : 'locksFindings')?.findingOverlay() ?? null,
    compareFindSpan: (side, kind) => {
      if (kind !== undefined && !SPAN_KIND_NAMES.includes(kind)) throw new Error(`compareFindSpan: unknown kind ${kind}`);
      const p = compare.pair;
      const s = side === 'a' ? p?.a : p?.b;
      return s ? probeOf(s, 'timeline')?.findSpan(kind) ?? null : null;
    },
  };
  win.__fusescope = hooks;
  win.__fusescopeIdle = hooks.idle;
  return () => {
    delete win.__fusescope;
    delete win.__fusescopeIdle;
  };
}
