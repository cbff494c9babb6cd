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
  ingestBatch(frame: Uint8Array): void {
    const notify = this.data.ingest(frame, this.status.sourceKind === 'live');
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

  /** A file is being opened: the page leaves the live stream and shows the file as it loads. */
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

  /** Back to the live stream (the caller reconnects the websocket; its hello refills the trace). */
  setLive(): void {
    this.status.setLive();
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
