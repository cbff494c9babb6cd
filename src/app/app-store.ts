// The page's state outside React (React renders it; it does not own it): a thin facade over its
// parts — the trace's data (trace-session.ts), the view state (view-state.ts), the replay of an
// opened file (replay.ts) and the source's status (source-status.ts) — that the views read as one
// ViewHost (trace-view-host.ts). Here is only what spans parts: a batch, a reset, opening a file,
// going back to live, the server's pace. One AppStore per page, created in main.tsx and passed
// down — never a module global. The chrome reads and sets the parts directly (store.view.tab,
// store.status.connection, store.replay.playhead); every part's change notifies this store.

import type { FrameScheduler, PageFindings } from '../views/host.ts';
import type { Finding } from '../trace/checks/types.ts';
import { findingFocus } from './finding-focus.ts';
import type { CaptureControlInfo, HistoryInfo, ScenarioInfo, SessionState } from '../trace/wire.ts';
import { Replay } from './replay.ts';
import type { OpenedFile } from './source-status.ts';
import { TraceViewHost } from './trace-view-host.ts';
import { StagedFile } from './staged-file.ts';
import type { SharedRows } from '../trace/store.ts';
import type { WorkerFindings } from './import-protocol.ts';

/** Rows of a deferred cache replay per task after a file is shown (10–25 ms each at 10 M events on the bench machine). */
const CACHE_SLICE_ROWS = 262_144;

export { COUNTER_PERIOD_MS } from './trace-view-host.ts';

export class AppStore extends TraceViewHost {
  readonly replay: Replay;

  constructor(scheduler: FrameScheduler, nowMs: () => number = () => performance.now()) {
    super(scheduler, nowMs, (windowNs) => this.followEndNs(windowNs), true);
    this.replay = new Replay(this.view, nowMs, this.changed);
    const self = this;
    this.findings = {
      get list() { return self.data.findings!.list; },
      get unknowns() { return self.data.findings!.unknowns; },
      get version() { return self.data.findings!.version; },
      // Stream rows checked, less those the server had not kept when this page joined (never checked here).
      get checkedEvents() { return self.data.findings!.checkedRows - self.data.notKeptEvents; },
      get rowBase() { return self.data.evictedEvents; },
      get error() { return self.data.findings!.error; },
      get checking() { return self.data.findingsPending; },
      get selected() { return self.view.selectedFinding; },
      select: (f) => this.selectFinding(f),
    };
  }

  /** The checkers' findings over the page's trace (ViewHost). */
  readonly findings: PageFindings;

  /**
   * Shows a finding: zooms the timeline to it (follow-live stops), pins the lanes of its evidence,
   * selects its first evidence row in view and opens the tab where its evidence lives.
   */
  selectFinding(f: Finding | null): void {
    if (!f) {
      this.view.setSelectedFinding(null, []);
      return;
    }
    const focus = findingFocus(f, this.data.trace, this.data.evictedEvents);
    this.view.setSelectedFinding(f, focus.tasks);
    this.setRange(focus.fromNs, focus.toNs, true);
    this.view.setFollowLive(false);
    if (focus.row >= 0) this.view.selectRow(focus.row);
    if (focus.tab) this.view.setTab(focus.tab);
  }

  /** Following shows up to the stream's newest event, or up to a replay's playhead. */
  private followEndNs(windowNs: number): number {
    const trace = this.data.trace;
    return this.replay.active
      ? Math.max(this.replay.playhead.playheadNs, trace.startNs + Math.min(windowNs, trace.endNs - trace.startNs))
      : Math.max(trace.endNs, windowNs);
  }

  get playheadNs(): number {
    return this.replay.playheadNs;
  }

  private originGeneration = -1;
  private firstEventNs = 0;
  /**
   * The time the axes label 0, in store ns. 'absolute': the trace's own clock (the recording's
   * originNs + tsNs: an ftrace trace reads as its timestamps, the simulator from its start);
   * 'relative': its first event — the first this trace generation had, so a live window's
   * evictions do not move it.
   */
  get axisOriginNs(): number {
    if (this.view.timeMode !== 'relative') return -Number(this.trace.originNs);
    if (this.originGeneration !== this.traceGeneration && this.trace.length > 0) {
      this.originGeneration = this.traceGeneration;
      this.firstEventNs = this.trace.startNs;
    }
    return this.originGeneration === this.traceGeneration ? this.firstEventNs : 0;
  }

  setRange(startNs: number, endNs: number, isUser: boolean): void {
    this.view.setRange(startNs, endNs, isUser);
  }

  setCursor(tsNs: number): void {
    this.view.setCursor(tsNs);
  }

  /**
   * Appends one binary batch (throws WireError on a malformed one). A live trace keeps to its
   * window (live-window.ts); an opened file grows its replay. React hears only of gaps and evictions.
   */
  ingestBatch(frame: Uint8Array | SharedRows, strings?: readonly string[]): void {
    const notify = this.data.ingest(frame, this.status.sourceKind === 'live', strings);
    this.view.selectPendingIfArrived();
    if (this.replay.active) this.replay.extend(this.data.trace);
    this.changed(notify);
  }

  /** Sets the live window (clamped); a smaller one evicts at once, down to it. */
  setWindowEvents(n: number): void {
    if (this.data.setWindowEvents(n, this.status.sourceKind === 'live')) this.changed(true);
  }

  /**
   * The server's greeting, after resetTrace: the kept history follows it. When the server had
   * dropped the run's oldest events, this trace starts at their count, so rows keep the stream's
   * numbers (a linked `sel` names the same event in every viewer).
   */
  setHello(source: string, scenarios: ScenarioInfo[], state: SessionState, capture: CaptureControlInfo | null = null,
    viewerPaused = false, history: HistoryInfo | null = null): void {
    this.view.adoptPace(state.paceNsPerSec);
    this.data.startAfterNotKept(history?.notKeptEvents ?? 0);
    this.status.setHello(source, scenarios, state, capture, viewerPaused, history);
  }

  setServerState(state: SessionState): void {
    this.view.adoptPace(state.paceNsPerSec);
    this.status.setServerState(state);
  }

  /** A file shown as it loads (the page opens files through stageFile/adoptFile; this is for tests and tools). */
  beginFile(file: OpenedFile): void {
    this.status.beginFile(file);
    this.replay.begin();
    this.view.startFollowing();
    this.resetTrace(0n);
  }

  /** The file's rows are all in: diagnostics shown, paused at the end, the whole file in view. */
  finishFile(diagLines: readonly string[], diagCount: number): void {
    this.status.finishFile(diagLines, diagCount);
    this.data.finish();
    this.data.refreshFindings(true);
    this.replay.extend(this.data.trace);
    this.changed(true);
  }

  failFile(message: string): void {
    this.status.failFile(message);
  }

  // --- a file opened apart (file-session.ts): the page shows the previous trace until it is in --

  /** nowMs() of the last adoptFile: the bench times the first frame from it. */
  adoptedAtMs = -1;
  /** The file being opened (its progress is shown; the page still shows the previous trace), or null. */
  loading: StagedFile | null = null;
  /** A file that stopped part way, held until the user views or dismisses it (status.importProblem). */
  private held: StagedFile | null = null;

  /** Starts loading a file apart; the page's trace, view and source stay as they are. */
  stageFile(file: OpenedFile): StagedFile {
    // The cache replay is left until the file is drawn unless its tab is what will be drawn.
    const staged = new StagedFile(this.chromeChanged, this.nowMs, this.view.tab !== 'cache');
    staged.beginFile(file);
    this.loading = staged;
    this.held = null;
    this.status.setImportProblem(null);
    return staged;
  }

  /**
   * The staged file has finished (done or failed): 'show' when it is whole (the caller detaches
   * the live stream, then adoptFile); otherwise the previous trace stays and status.importProblem
   * says why — 'held' when some rows were read before it stopped (a damaged recording: `damage`;
   * an error part way), which the user may view (takeHeld), 'failed' when there is nothing to show.
   */
  settleFile(staged: StagedFile, damage = ''): 'show' | 'held' | 'failed' {
    if (this.loading === staged) this.loading = null;
    const kept = staged.data.trace.length;
    if (staged.outcome === 'done' && kept > 0 && damage === '') return 'show';
    const label = staged.status.file?.label ?? '';
    const message = staged.outcome === 'failed'
      ? staged.message
      : kept === 0 ? `nothing usable to import from ${label}: no events` : `${label} is damaged (${damage})`;
    this.held = kept > 0 ? staged : null;
    this.status.setImportProblem({ label, message, diagLines: staged.status.diagLines, diagCount: staged.status.diagCount, keptEvents: kept });
    return kept > 0 ? 'held' : 'failed';
  }

  /** The held file of a 'held' settle (and forgets it); null when none. */
  takeHeld(): StagedFile | null {
    const h = this.held;
    this.held = null;
    return h;
  }

  /** Forgets the problem of the last opened file (and the rows it held). */
  dismissImportProblem(): void {
    this.held = null;
    this.status.setImportProblem(null);
  }

  /**
   * Shows a file loaded apart: its trace, status and findings become the page's, the replay spans
   * it (paused at its end, all of it in view). What belonged to the previous trace is reset — the
   * area selection, the selection, the search filter, pins, the range — and the theme, the tab and
   * the live window setting stay (docs/import.md, "Opening a file in the page").
   */
  adoptFile(staged: StagedFile): void {
    if (this.loading === staged) this.loading = null;
    this.adoptedAtMs = this.nowMs();
    this.status.adoptFile(staged.status);
    this.data.adopt(staged.data);
    this.findingsAtMs = this.data.findingsPending ? -1 : this.adoptedAtMs;
    this.view.resetForNewTrace();
    this.status.resetRate();
    this.replay.begin();
    this.view.startFollowing();
    this.replay.extend(this.data.trace);
    this.changed(true);
    // The user went to the Mapping cache tab while the file loaded: it is drawn with it.
    if (this.data.deferCache && this.view.tab === 'cache') this.data.catchUpCache();
    if (this.data.deferCache || this.data.lodSlackPending) this.settleAfterFirstFrame();
  }

  /**
   * What the adopted file's first frame did not need, after it, a task at a time so the page stays
   * responsive meanwhile: a deferred cache replay (TraceSession.deferCache), a slice of rows per task
   * (a view that asks for the cache before then has it finished at once: TraceViewHost.cache), then
   * the LOD levels' growth slack given back (TraceSession.lodSlackPending). A new trace ends it.
   */
  private settleAfterFirstFrame(): void {
    const generation = this.data.traceGeneration;
    const step = (): void => {
      if (this.data.traceGeneration !== generation) return;
      if (!this.data.catchUpCache(CACHE_SLICE_ROWS)) {
        setTimeout(step, 0);
        return;
      }
      if (this.data.lodSlackPending) {
        this.data.dropLodSlack();
        this.status.loadPhasesMs.lodTrim = this.data.ingestMs.lodTrim;
      }
      this.status.loadPhasesMs.deferredCache = this.data.ingestMs.deferredCache;
      this.changed(true);
    };
    // An action runs in the next frame, before its renderers: the task it queues runs after that frame.
    this.scheduler.scheduleAction(() => setTimeout(step, 0));
  }

  /**
   * The shown file's findings came after it was shown (file-session.ts shows a file on the worker's
   * `sent` while its checkers finish): they settle it now; without them (the checkers failed) the
   * page checks the rows itself. `phasesMs`: the worker's load phases.
   */
  findingsArrived(found: WorkerFindings | null, phasesMs: Record<string, number> = {}): void {
    if (!this.data.findingsPending) return;
    const t0 = performance.now();
    this.data.settleChecks(found);
    this.data.refreshFindings(true);
    this.status.findingsFrom = found ? 'worker' : 'page';
    Object.assign(this.status.loadPhasesMs, phasesMs, { checks: performance.now() - t0 });
    this.status.finishFile(this.status.diagLines, this.status.diagCount);
    this.findingsAtMs = this.nowMs();
    this.changed(true);
  }

  /** nowMs() when the shown file's findings came (after adoptedAtMs when it was shown before they were in). */
  findingsAtMs = -1;

  /** Back to the live stream (the caller reconnects the websocket; its hello refills the trace). */
  setLive(): void {
    this.status.setLive();
    this.view.resetForNewTrace();
    this.replay.end();
    this.view.followLiveAt(this.status.serverState?.paceNsPerSec ?? 0);
    this.resetTrace(0n);
  }

  /** Refreshes the chrome counters and the replay's readout (call every COUNTER_PERIOD_MS); notifies only on change. */
  tickCounters(): void {
    const counters = this.refreshCounters();
    const readout = this.replay.refreshReadout();
    if (counters || readout) this.notifyListeners();
  }
}
