// Where the trace comes from and how that is going, as the chrome shows it: the websocket's
// connection and the server's state, or the opened file's import progress, clock notes and
// diagnostics; the last error; and the counters (events, spans, rate, what the timeline drew).

import type { CaptureControlInfo, HistoryInfo, RecordingStatus, ScenarioInfo, SessionState } from '../trace/wire.ts';
import type { FileKind, ImportPhase, RecordingBodies } from './import-protocol.ts';
import type { Changed } from './view-state.ts';

type ConnectionStatus = 'connecting' | 'open' | 'closed';
/** Where the trace comes from: the server's websocket, or a file opened in this page. */
type SourceKind = 'live' | 'file';
export interface OpenedFile {
  /** File name(s) as shown (`trace.txt + fuse2fs-d.log`). */
  label: string;
  kind: FileKind;
  /** A recording opened from the server's list (`rec=` in the URL); '' for a dropped file. */
  recordingName: string;
  /** What format each file was read as and why (`trace.txt: ftrace: line 3, …`); empty until the worker says. */
  formats?: readonly string[];
}
export interface ImportStatus {
  /** 'fetching': the page downloads a recording from the server's list, before the worker reads it. */
  phase: ImportPhase | 'fetching' | 'idle';
  doneBytes: number;
  totalBytes: number;
  /** Rows in so far, of how many (0: the file has not said yet). */
  doneRows?: number;
  totalRows?: number;
  /** nowMs() when the file began opening, and when this phase began: the progress's rate and time left are measured from them. */
  startedMs?: number;
  phaseStartedMs?: number;
}

/** What the load's progress bar says: its fraction done, rows, rate and time left (null: not known yet). */
export interface LoadProgress {
  fraction: number;
  doneRows: number | null;
  totalRows: number | null;
  mbPerSec: number | null;
  secondsLeft: number | null;
}

/**
 * The progress at `nowMs`. Rows when the file says how many it holds (a recording's index, a
 * parsed text import), else bytes. MB/s: bytes done since the file began opening. Time left: the
 * rest at this phase's pace so far — an estimate, shown only once there is a pace to go by.
 */
export function loadProgress(s: ImportStatus, nowMs: number): LoadProgress {
  const byRows = (s.totalRows ?? 0) > 0;
  const done = byRows ? s.doneRows ?? 0 : s.doneBytes;
  const total = byRows ? s.totalRows! : s.totalBytes;
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const sinceStartSec = s.startedMs === undefined ? 0 : (nowMs - s.startedMs) / 1000;
  const inPhaseSec = s.phaseStartedMs === undefined ? 0 : (nowMs - s.phaseStartedMs) / 1000;
  const mbPerSec = sinceStartSec > 0.2 && s.doneBytes > 0 ? s.doneBytes / 1e6 / sinceStartSec : null;
  const secondsLeft = inPhaseSec > 0.2 && done > 0 && total > 0 ? Math.max(0, (inPhaseSec * (total - done)) / done) : null;
  return { fraction, doneRows: byRows ? done : null, totalRows: byRows ? total : null, mbPerSec, secondsLeft };
}
const NO_IMPORT: ImportStatus = { phase: 'idle', doneBytes: 0, totalBytes: 0 };

interface FileClocks {
  /** Files whose times are on another clock than the first file's (not comparable with it). */
  otherClockFiles: number;
  /** They were moved so they start with the first file (the "align starts" re-open). */
  aligned: boolean;
}
const NO_FILE_CLOCKS: FileClocks = { otherClockFiles: 0, aligned: false };

/**
 * An opened file that was not shown: nothing usable in it (keptEvents 0), or it stopped part way
 * (an error after some rows, a damaged recording) and the user chooses whether to view what was read.
 */
export interface ImportProblem {
  label: string;
  /** What went wrong, as the worker or the parser said it. */
  message: string;
  /** The first diagnostics (`file:line[:col]: message`), and how many there were. */
  diagLines: readonly string[];
  diagCount: number;
  /** Rows read before it stopped (0: nothing to view). */
  keptEvents: number;
}

export class SourceStatus {
  sourceKind: SourceKind = 'live';
  connection: ConnectionStatus = 'connecting';
  serverState: SessionState | null = null;
  scenarios: ScenarioInfo[] = [];
  /** What the server streams (its hello's `source`). */
  source = '';
  /** The capture panel's server side (workloads, limits, the run's status); null: the server allows none. */
  capture: CaptureControlInfo | null = null;
  /**
   * This page drives the shared session: its pause, speed, scenario and restart change what every
   * viewer sees. Off (the default, and never from a link): its pause holds only its own stream.
   */
  driving = false;
  /** This viewer's own pause (the server's `viewer` state; set at once when asked). */
  viewerPaused = false;
  /** What the server had no longer kept of the run when this page joined (null: it sent the whole run). */
  historyNotKept: { events: number; keptFromNs: number; maxBytes: number; recorded: boolean | null } | null = null;
  /** The server's session recorder (hello, `recording` messages); null: the server does not say. */
  recording: RecordingStatus | null = null;
  /** The scenario the page's link names ('' without one, or once this page switched the session itself). */
  linkedScenario = '';
  /** Last error from the server, the decoder or the import, shown in the header. */
  lastError = '';

  file: OpenedFile | null = null;
  importStatus: ImportStatus = NO_IMPORT;
  /** First diagnostics of the opened file, formatted `file:line: message`, and their total. */
  diagLines: readonly string[] = [];
  diagCount = 0;
  /** Opened text files not on the first file's clock, and whether they start with it (docs/import.md). */
  fileClocks: FileClocks = NO_FILE_CLOCKS;
  /** Wall ms of the phases of the file's load (fetch, read, inflate, store, indexes, …), for the bench. */
  loadPhasesMs: Record<string, number> = {};
  /**
   * Who checked the file's rows: the recording's stored findings, the import side's checkers
   * (a checks worker or the import worker), or the page's main thread once the load ended; null
   * while loading or for a file shown without findings (a compare side).
   */
  findingsFrom: 'stored' | 'worker' | 'page' | null = null;
  /** A recording's chunk bodies: how many were inflated alone and how many by joined runs (recording/joined.ts); null for anything else. */
  recordingBodies: RecordingBodies | null = null;
  /** The last file that was opened but not shown (the trace shown is the one before it), or null. */
  importProblem: ImportProblem | null = null;

  /** Events received (evicted ones included), refreshed with the counters. */
  eventCount = 0;
  spanCount = 0;
  eventsPerSec = 0;
  drawnLanes = 0;
  drawnPrimitives = 0;
  private rateSamples: { wallMs: number; events: number }[] = [];

  constructor(private readonly changed: Changed, private readonly nowMs: () => number) {}

  // --- the live stream ------------------------------------------------------------------------

  setConnection(status: ConnectionStatus): void {
    if (status === this.connection) return;
    this.connection = status;
    this.changed(true);
  }

  setHello(source: string, scenarios: ScenarioInfo[], state: SessionState, capture: CaptureControlInfo | null = null,
    viewerPaused = false, history: HistoryInfo | null = null): void {
    this.source = source;
    this.scenarios = scenarios;
    this.capture = capture;
    this.lastError = '';
    this.viewerPaused = viewerPaused;
    this.setHistory(history);
    this.setServerState(state);
  }

  /** A new run's history (hello; a reset starts a run whose history is whole); no notify. */
  setHistory(history: HistoryInfo | null): void {
    this.historyNotKept = history && history.notKeptEvents > 0 && history.keptFromNs !== null
      ? { events: history.notKeptEvents, keptFromNs: history.keptFromNs, maxBytes: history.maxBytes, recorded: history.recorded ?? null } : null;
  }

  setViewerPaused(paused: boolean): void {
    if (paused === this.viewerPaused) return;
    this.viewerPaused = paused;
    this.changed(true);
  }

  setDriving(driving: boolean): void {
    if (driving === this.driving) return;
    this.driving = driving;
    this.changed(true);
  }

  setLinkedScenario(name: string): void {
    if (name === this.linkedScenario) return;
    this.linkedScenario = name;
    this.changed(true);
  }

  /** What the pause button shows: the shared session's pause when driving, else this viewer's. */
  get pausedHere(): boolean {
    return this.driving ? (this.serverState?.paused ?? false) : this.viewerPaused;
  }

  setServerState(state: SessionState): void {
    this.serverState = state;
    this.changed(true);
  }

  /** The server's capture control changed (a run's status, its seconds). */
  setRecording(recording: RecordingStatus | null): void {
    this.recording = recording;
    this.changed(true);
  }

  setCapture(capture: CaptureControlInfo): void {
    this.capture = capture;
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

  /** Back to the live stream; no notify (the trace's reset does). */
  setLive(): void {
    this.sourceKind = 'live';
    this.file = null;
    this.importStatus = NO_IMPORT;
    this.diagLines = [];
    this.diagCount = 0;
    this.fileClocks = NO_FILE_CLOCKS;
    this.lastError = '';
  }

  // --- an opened file -------------------------------------------------------------------------

  /** A file loaded apart is now what the page shows: its status becomes this one; no notify. */
  adoptFile(loaded: SourceStatus): void {
    this.sourceKind = 'file';
    this.file = loaded.file;
    this.importStatus = loaded.importStatus;
    this.diagLines = loaded.diagLines;
    this.diagCount = loaded.diagCount;
    this.fileClocks = loaded.fileClocks;
    this.loadPhasesMs = loaded.loadPhasesMs;
    this.findingsFrom = loaded.findingsFrom;
    this.recordingBodies = loaded.recordingBodies;
    this.lastError = '';
    this.importProblem = null;
  }

  setImportProblem(problem: ImportProblem | null): void {
    this.importProblem = problem;
    this.changed(true);
  }

  /** A file is being opened; no notify (the trace's reset does). */
  beginFile(file: OpenedFile): void {
    this.sourceKind = 'file';
    this.file = file;
    const now = this.nowMs();
    this.importStatus = { phase: 'reading', doneBytes: 0, totalBytes: 0, startedMs: now, phaseStartedMs: now };
    this.loadPhasesMs = {};
    this.findingsFrom = null;
    this.recordingBodies = null;
    this.diagLines = [];
    this.diagCount = 0;
    this.fileClocks = NO_FILE_CLOCKS;
    this.lastError = '';
  }

  /** The worker says what the file is (import, recording); no notify (a reset follows). */
  setFileKind(kind: FileKind, formats: readonly string[] = []): void {
    if (this.file) this.file = { ...this.file, kind, formats };
  }

  /** The load's progress (its start time stays; a new phase's start is noted). */
  setImportStatus(status: ImportStatus): void {
    const was = this.importStatus;
    const phaseStartedMs = status.phase === was.phase && was.phaseStartedMs !== undefined ? was.phaseStartedMs : this.nowMs();
    this.importStatus = { ...status, startedMs: was.startedMs, phaseStartedMs };
    this.changed(true);
  }

  /** Set before finishing (which notifies), or alone with notify. */
  setFileClocks(clocks: FileClocks, notify = true): void {
    this.fileClocks = clocks;
    this.changed(notify);
  }

  /** All rows are in: the diagnostics are shown; no notify (the owner's finish does). */
  finishFile(diagLines: readonly string[], diagCount: number): void {
    this.importStatus = { ...this.importStatus, phase: 'done', doneBytes: this.importStatus.totalBytes };
    this.diagLines = diagLines;
    this.diagCount = diagCount;
  }

  failFile(message: string): void {
    this.importStatus = { ...this.importStatus, phase: 'failed' };
    this.lastError = message;
    this.changed(true);
  }

  // --- counters -------------------------------------------------------------------------------

  reportDraw(stats: { drawnLanes: number; drawnPrimitives: number }): void {
    this.drawnLanes = stats.drawnLanes;
    this.drawnPrimitives = stats.drawnPrimitives;
  }

  /** The trace started over: the rate is measured afresh. */
  resetRate(): void {
    this.rateSamples = [];
  }

  /** Refreshes the counters from the trace's figures (call every COUNTER_PERIOD_MS); returns whether they changed. */
  refreshCounters(receivedEvents: number, spanCount: number): boolean {
    const wallMs = this.nowMs();
    this.rateSamples.push({ wallMs, events: receivedEvents });
    while (this.rateSamples.length > 2 && wallMs - this.rateSamples[0]!.wallMs > 1000) this.rateSamples.shift();
    const first = this.rateSamples[0]!;
    const dtMs = wallMs - first.wallMs;
    const rate = dtMs > 0 ? Math.max(0, Math.round(((receivedEvents - first.events) * 1000) / dtMs)) : 0;
    if (receivedEvents === this.eventCount && spanCount === this.spanCount && rate === this.eventsPerSec) return false;
    this.eventCount = receivedEvents;
    this.spanCount = spanCount;
    this.eventsPerSec = rate;
    return true;
  }
}
