// A live session: one LiveSource (server/sources/live-source.ts: the simulator, the
// instrumentation socket) fanned out to websocket clients ("viewers").
//
// The source pushes events into the session's sink; each flush() closes a batch: its events sit in
// a small TraceStore that shares the session's string table, and are encoded once into one or more
// binary frames that go into the session's *history*, in order. Every viewer reads that one
// sequence through its own cursor:
//
//   history:   [trimmed …][ f_base  f_base+1  …  f_end-1 ]   ← each new frame appended here
//   viewer A:                                          ^cursor (live: at the end)
//   viewer B (joined late, or paused):   ^cursor (catching up from the history)
//
// Frame i is encoded against the string count after frame i−1, so a viewer that reads frames in
// order (from the first, or after a strings-only catch-up frame) always has the strings the next
// one expects; every viewer at the same place shares one encoding. A viewer joining late starts at
// the oldest kept frame and so gets the run's history before the live frames — no gap, no
// duplicate, since both are the same sequence. Sending is bounded per viewer: frames go out only
// while its socket holds at most `clientBudgetBytes` unsent (a lagging viewer is pumped again on the
// next batch or a short timer). A viewer's pause stops its cursor (the history buffers for it).
//
// Memory bound: the history keeps the newest `historyMaxBytes` of encoded frames (plus the newest
// frame if it alone is larger); older frames are dropped. A viewer whose cursor was still on a
// dropped frame (paused, or too slow) gets a `gap` event saying exactly how many events it missed
// and when; a viewer joining after frames were dropped is told in its hello (`history.notKeptEvents`,
// `keptFromNs`) so the page can say history before that time was not kept. Total: history +
// viewers × (budget + one frame + CONTROL_QUEUE_MAX_BYTES), whatever the viewers do.
//
// Every message counts, not only frames: replies and pushes (state, viewer, reset, errors) go out
// through the same per-viewer gate. While a viewer's socket holds more than its budget unsent they
// wait in a small queue (sent first when it drains, so their order against frames is as before);
// a viewer whose queue passes CONTROL_QUEUE_MAX_BYTES is not reading — it is cut off (close code
// CLOSE_NOT_READING, a log line) and everything held for it is released.
// The shared source's pause and speed reach it only through its optional `controls`; a shared
// pause also holds every viewer at the frames made before it (a source that cannot pause — a
// tracefs capture — goes on, its frames buffer in the history, and past the bound every viewer
// gets the gap event on resume: what it shows while paused is the trace up to the pause, no less).

import { StringTable } from '../../src/trace/strings.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { WIRE_VERSION, encodeBatch, type CaptureControlInfo, type HistoryInfo, type RecordingStatus, type ScenarioInfo, type ServerMessage, type SessionState } from '../../src/trace/wire.ts';
import { SCHEMA_VERSION } from '../../src/trace/schema.ts';
import { asTaskId } from '../../src/trace/ids.ts';
import type { LiveSink, LiveSource } from '../sources/live-source.ts';

/** The minimum of a websocket the session uses (ws.WebSocket fits; tests can fake it). */
export interface ClientSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array | string): void;
  /** Ends the connection (a viewer cut off): a websocket close code and a reason (at most 123 bytes). Absent: only detached. */
  close?(code: number, reason: string): void;
}

/** Close code for a viewer cut off for not reading (its replies passed the queue bound); app range 4000–4999. */
export const CLOSE_NOT_READING = 4008;
/**
 * Replies and pushes held for a viewer whose socket is over its budget: 64 KiB is ~700 state
 * replies, far more than a reading page ever has waiting (it sends a message or two per user action).
 */
export const CONTROL_QUEUE_MAX_BYTES = 64 * 1024;

/**
 * Sees every event the source produces, before fan-out: clients may drop batches, listeners never
 * do (the recorder hangs here). Called synchronously; `batch` shares the session's string table and
 * is not reused after the call returns.
 */
export interface SessionListener {
  onBatch(batch: TraceStore, fromRow: number, toRow: number): void;
  /** The source was (re)created: at construction and on every scenario switch. */
  onSourceChange?(scenario: string, label: string): void;
}

export interface LiveSessionOptions {
  scenarios: ScenarioInfo[];
  /** Creates the source for a scenario name; throws with a user-facing message if unknown. */
  makeSource: (scenario: string) => LiveSource;
  scenario: string;
  /** Initial speed, applied to every source that has a speed control. */
  speed?: number;
  /** Unsent bytes a client's socket may hold before further frames and replies wait for it. */
  clientBudgetBytes?: number;
  /** Rows per binary frame. */
  maxRowsPerFrame?: number;
  /** Bytes of encoded frames kept for viewers that join late or pause (DEFAULT_HISTORY_MAX_BYTES). */
  historyMaxBytes?: number;
  /** Where a source's end (or failure) is reported. */
  log?: (line: string) => void;
}

/**
 * 64 MiB: at the default scenario's ~25 B per event on the wire that is ~2.5 M events, more than the
 * page's default live window (2 M events, src/app/live-window.ts) keeps anyway.
 */
export const DEFAULT_HISTORY_MAX_BYTES = 64 * 1024 * 1024;
/** How often lagging viewers are pumped when no batch arrives (a paused or ended source). */
const PUMP_INTERVAL_MS = 20;

/** One encoded frame of the history. */
interface HistoryFrame {
  frame: Uint8Array;
  rows: number;
  firstTsNs: number;
  lastTsNs: number;
  /** The receiver's string count before (what it was encoded against) and after this frame. */
  stringsBefore: number;
  stringsAfter: number;
}

interface Client {
  socket: ClientSocket;
  /** Strings this viewer has (its table's size; a fresh one has 1: id 0, the empty string). */
  knownStrings: number;
  /** The history frame (absolute number) it gets next. */
  cursor: number;
  paused: boolean;
  missedEvents: number;
  missedFromNs: number;
  missedToNs: number;
  sentEvents: number;
  /** For log lines: who it is (the http server passes the peer's address). */
  label: string;
  /** JSON messages waiting for its socket to drain below the budget, oldest first, and their bytes. */
  pending: string[];
  pendingBytes: number;
  /** Cut off: nothing more is sent or held for it. */
  cut: boolean;
}

/** What attach() returns: detaches the viewer when called; its own pause. */
export type Viewer = (() => void) & {
  setPaused(paused: boolean): void;
  readonly paused: boolean;
  /** A reply to this viewer alone: it counts against its budget like everything else it is sent. */
  send(msg: ServerMessage): void;
  /** Ends this viewer's connection with `code` and `reason`, logged (a flooding client). */
  cutOff(code: number, reason: string): void;
};

const GAP_TASK = asTaskId('fusescope');

export class LiveSession {
  private readonly clients = new Set<Client>();
  private readonly opts: Required<Omit<LiveSessionOptions, 'speed'>> & { speed: number };
  private strings = new StringTable();
  private source!: LiveSource;
  /** Aborts the running source; null when stopped. */
  private run: AbortController | null = null;
  private paused = false;
  /**
   * While the shared session is paused: the first history frame no viewer is sent until resume. A
   * source without a pause control (a tracefs capture runs in real time) keeps producing; its frames
   * wait in the history like a paused viewer's, and past the bound every viewer gets the gap event.
   */
  private heldFromFrame = Infinity;
  private speed: number;
  private scenario: string;
  private readonly listeners = new Set<SessionListener>();
  /** What the page may start (--allow-capture) and how that run goes; null: no capture control (not in hello). */
  private capture: CaptureControlInfo | null = null;
  /** Totals for logs and benches. */
  emittedEvents = 0;
  private lastBatchRows = 0;
  /** The kept frames; frames[0] is frame number historyBase. */
  private frames: HistoryFrame[] = [];
  private historyBase = 0;
  private historyBytes = 0;
  /** Events of this run whose frames were dropped from the history. */
  private notKeptEvents = 0;
  private pumpTimer: ReturnType<typeof setInterval> | null = null;
  /** Whether the session is recorded (its owner says; told in each hello's history). Null: not said. */
  recorded: boolean | null = null;
  /** The session recorder's state, told to every viewer (hello, and each change); null: not said. */
  private recording: RecordingStatus | null = null;

  constructor(options: LiveSessionOptions) {
    this.opts = {
      clientBudgetBytes: 8 * 1024 * 1024,
      maxRowsPerFrame: 65_536,
      historyMaxBytes: DEFAULT_HISTORY_MAX_BYTES,
      speed: 1,
      log: () => {},
      ...options,
    };
    this.speed = this.opts.speed;
    this.scenario = options.scenario;
    this.load(options.scenario);
  }

  get state(): SessionState {
    return { paused: this.paused, speed: this.speed, scenario: this.scenario, paceNsPerSec: this.source.info.paceNsPerSec };
  }
  get sourceLabel(): string { return this.source.info.label; }
  get clientCount(): number { return this.clients.size; }

  private load(scenario: string, source = this.opts.makeSource(scenario)): void {
    this.source = source;
    this.scenario = scenario;
    this.strings = new StringTable();
    // Interned first (id 1, in the run's first frame), so a gap event (sendCatchUp) never adds a
    // string in the middle of the history's chain of string counts.
    this.strings.intern(GAP_TASK);
    this.historyBase += this.frames.length;
    this.frames = [];
    this.historyBytes = 0;
    this.notKeptEvents = 0;
    source.controls?.setSpeed?.(this.speed);
    source.controls?.setPaused(this.paused);
  }

  /** Starts the current source (idempotent); its batches go to listeners and clients. */
  start(): void {
    if (this.run) return;
    const run = new AbortController();
    this.run = run;
    const source = this.source;
    // Each run fills its own batch: what a run this session has aborted still sends (a source
    // breaking its contract) lands in a batch that is never flushed. No per-event check.
    let batch = this.newBatch();
    const sink: LiveSink = {
      event: (ev) => { batch.append(ev); },
      flush: () => {
        if (this.run !== run || batch.length === 0) return;
        this.flushBatch(batch);
        batch = this.newBatch();
      },
      end: (error) => {
        if (this.run !== run) return;
        this.opts.log(error ? `source ${source.info.label} failed: ${error}` : `source ${source.info.label} ended`);
      },
    };
    // A source reports failure through sink.end; a rejection is one that broke that contract.
    source.start(sink, run.signal).catch((err: unknown) => sink.end(`source failed: ${(err as Error).message}`));
  }

  /** Stops the current source (what its run holds is released); start() runs it again. */
  stop(): void {
    this.run?.abort();
    this.run = null;
    this.setPumpTimer(false);
  }

  /** Adds a listener (told the current source at once); returns its remover. */
  addListener(listener: SessionListener): () => void {
    this.listeners.add(listener);
    listener.onSourceChange?.(this.scenario, this.sourceLabel);
    return () => this.listeners.delete(listener);
  }

  /**
   * A new viewer: its hello, then the kept history and the live frames as its socket takes them.
   * Returns its detacher, which also sets this viewer's own pause (only its stream stops; the
   * history buffers for it, up to historyMaxBytes).
   */
  attach(socket: ClientSocket, label = 'viewer'): Viewer {
    const client: Client = {
      socket, knownStrings: 1, cursor: this.historyBase, paused: false,
      missedEvents: 0, missedFromNs: 0, missedToNs: 0, sentEvents: 0,
      label, pending: [], pendingBytes: 0, cut: false,
    };
    this.clients.add(client);
    this.sendJson(client, {
      type: 'hello', wireVersion: WIRE_VERSION, schemaVersion: SCHEMA_VERSION, originNs: '0', source: this.sourceLabel,
      scenarios: this.opts.scenarios, state: this.state, ...(this.capture ? { capture: this.capture } : {}),
      viewer: { paused: false }, history: this.historyInfo(), ...(this.recording ? { recording: this.recording } : {}),
    });
    this.pump(client);
    const detach = (): void => {
      this.clients.delete(client);
      client.cut = true;
      client.pending = [];
      client.pendingBytes = 0;
    };
    return Object.assign(detach, {
      setPaused: (paused: boolean): void => {
        client.paused = paused;
        this.sendJson(client, { type: 'viewer', viewer: { paused } });
        if (!paused) this.pump(client);
      },
      get paused() { return client.paused; },
      send: (msg: ServerMessage): void => this.sendJson(client, msg),
      cutOff: (code: number, reason: string): void => this.cutOff(client, code, reason),
    });
  }

  /** What a viewer joining now gets of this run (in its hello). */
  historyInfo(): HistoryInfo {
    return {
      maxBytes: this.opts.historyMaxBytes,
      notKeptEvents: this.notKeptEvents,
      keptFromNs: this.notKeptEvents > 0 && this.frames.length > 0 ? this.frames[0]!.firstTsNs : null,
      ...(this.recorded !== null ? { recorded: this.recorded } : {}),
    };
  }

  /**
   * Pause and speed reach a source that has the control; the state is the session's either way.
   * A shared pause also holds every viewer's stream at the frames produced so far (what a source
   * without the control goes on producing waits in the history), so "paused" is true for every source.
   */
  pause(): void {
    this.paused = true;
    this.heldFromFrame = Math.min(this.heldFromFrame, this.historyBase + this.frames.length);
    this.source.controls?.setPaused(true);
    this.broadcastState();
  }
  resume(): void {
    this.paused = false;
    this.heldFromFrame = Infinity;
    this.source.controls?.setPaused(false);
    this.broadcastState();
    this.setPumpTimer(this.anyLagging());
  }
  setSpeed(speed: number): void {
    this.speed = speed;
    this.source.controls?.setSpeed?.(speed);
    this.broadcastState();
  }
  /** The capture control's info, told to every client now and in each later hello. */
  setCaptureInfo(info: CaptureControlInfo): void {
    this.capture = info;
    for (const c of this.clients) this.sendJson(c, { type: 'capture', capture: info });
  }

  /** The recorder's state (a pause and its reason, a new file), told to every viewer now and in each later hello. */
  setRecordingStatus(status: RecordingStatus): void {
    this.recording = status;
    for (const c of this.clients) this.sendJson(c, { type: 'recording', recording: status });
  }

  /**
   * Switches the source (the old one stopped); clients get `reset` and start a fresh store. Throws if
   * unknown. `source`: run this one under `name` instead of makeSource's (a page-started capture run).
   */
  setScenario(name: string, source?: LiveSource): void {
    const fresh = source ?? this.opts.makeSource(name); // throws before anything changes if the name is unknown
    const running = this.run !== null;
    this.stop();
    this.load(name, fresh);
    for (const l of this.listeners) l.onSourceChange?.(this.scenario, this.sourceLabel);
    for (const c of this.clients) {
      // A viewer's pause stays; what it had not been sent of the old run is dropped with it.
      c.knownStrings = 1; // id 0, the empty string, is in every table
      c.cursor = this.historyBase;
      c.missedEvents = 0;
      this.sendJson(c, { type: 'reset', originNs: '0', state: this.state });
    }
    if (running) this.start();
  }

  private newBatch(): TraceStore {
    const batch = new TraceStore(0n, this.strings);
    // About as many rows as the last batch: the columns are then allocated once instead of grown
    // by copying from 1 Ki rows (at 100 k+ events/s that growth was ~5 % of the session).
    batch.reserve(Math.ceil(this.lastBatchRows * 1.25));
    return batch;
  }

  /** Sends the batch a source just closed to listeners, the history and the viewers. */
  private flushBatch(batch: TraceStore): void {
    for (const l of this.listeners) {
      // A listener that fails (a recorder breaking its own no-throw promise) must not end the stream for the viewers.
      try {
        l.onBatch(batch, 0, batch.length);
      } catch (err) {
        this.opts.log(`session listener failed: ${(err as Error).message}`);
      }
    }
    this.appendHistory(batch);
    this.emittedEvents += batch.length;
    this.lastBatchRows = batch.length;
    for (const c of this.clients) this.pump(c);
    this.setPumpTimer(this.anyLagging());
  }

  /** Encodes the batch once (frames of at most maxRowsPerFrame rows) into the history, then trims it. */
  private appendHistory(batch: TraceStore): void {
    const maxRows = this.opts.maxRowsPerFrame;
    for (let from = 0; from < batch.length; from += maxRows) {
      const to = Math.min(batch.length, from + maxRows);
      const stringsBefore = this.frames.at(-1)?.stringsAfter ?? 1;
      const { frame, knownStrings } = encodeBatch(batch, from, to, stringsBefore);
      this.frames.push({ frame, rows: to - from, firstTsNs: batch.tsNs[from]!, lastTsNs: batch.tsNs[to - 1]!, stringsBefore, stringsAfter: knownStrings });
      this.historyBytes += frame.byteLength;
    }
    this.trimHistory();
  }

  /** Drops the oldest frames past historyMaxBytes (the newest is always kept); viewers still on them miss them. */
  private trimHistory(): void {
    let drop = 0;
    while (this.frames.length - drop > 1 && this.historyBytes > this.opts.historyMaxBytes) {
      const f = this.frames[drop]!;
      const n = this.historyBase + drop;
      for (const c of this.clients) {
        if (c.cursor !== n) continue;
        if (c.missedEvents === 0) c.missedFromNs = f.firstTsNs;
        c.missedEvents += f.rows;
        c.missedToNs = f.lastTsNs;
        c.cursor = n + 1;
      }
      this.historyBytes -= f.frame.byteLength;
      this.notKeptEvents += f.rows;
      drop++;
    }
    if (drop === 0) return;
    this.frames.splice(0, drop);
    this.historyBase += drop;
  }

  /**
   * Sends `c` its waiting replies, then the frames from its cursor (unless it is paused), while its
   * socket holds at most the budget unsent.
   */
  private pump(c: Client): void {
    const budget = this.opts.clientBudgetBytes;
    while (c.pending.length > 0 && c.socket.bufferedAmount <= budget) {
      const text = c.pending.shift()!;
      c.pendingBytes -= text.length;
      c.socket.send(text);
    }
    if (c.paused || c.pending.length > 0) return;
    const end = Math.min(this.historyBase + this.frames.length, this.heldFromFrame);
    while (c.cursor < end && c.socket.bufferedAmount <= budget) {
      const f = this.frames[c.cursor - this.historyBase]!;
      // Behind the history's chain of strings (it joined after frames were dropped, or missed some):
      // one frame brings its table to what this frame expects, with the gap event if it missed any.
      if (c.knownStrings !== f.stringsBefore || c.missedEvents > 0) this.sendCatchUp(c, f.stringsBefore);
      c.socket.send(f.frame);
      c.knownStrings = f.stringsAfter;
      c.sentEvents += f.rows;
      c.cursor++;
    }
  }

  /**
   * One frame that takes `c`'s string table to exactly `toStrings` strings, holding the gap event
   * for what it missed (if it did). Its table is then a prefix of the session's, as every frame expects.
   */
  private sendCatchUp(c: Client, toStrings: number): void {
    const prefix = new StringTable();
    for (const s of this.strings.slice(1).slice(0, toStrings - 1)) prefix.intern(s);
    const store = new TraceStore(0n, prefix);
    if (c.missedEvents > 0) {
      store.append({
        kind: 'gap', tsNs: c.missedToNs, task: GAP_TASK,
        missedEvents: c.missedEvents, fromTsNs: c.missedFromNs, toTsNs: c.missedToNs,
      });
    }
    const { frame } = encodeBatch(store, 0, store.length, c.knownStrings);
    c.socket.send(frame);
    c.knownStrings = toStrings;
    c.missedEvents = 0;
  }

  private anyLagging(): boolean {
    const end = Math.min(this.historyBase + this.frames.length, this.heldFromFrame);
    for (const c of this.clients) if (c.pending.length > 0 || (!c.paused && c.cursor < end)) return true;
    return false;
  }

  /** A timer pumps lagging viewers while no batch comes (a paused or ended source); off when none lags. */
  private setPumpTimer(on: boolean): void {
    if (on === (this.pumpTimer !== null)) return;
    if (!on) {
      clearInterval(this.pumpTimer!);
      this.pumpTimer = null;
      return;
    }
    this.pumpTimer = setInterval(() => {
      for (const c of this.clients) this.pump(c);
      if (!this.anyLagging()) this.setPumpTimer(false);
    }, PUMP_INTERVAL_MS);
    this.pumpTimer.unref?.();
  }

  private broadcastState(): void {
    for (const c of this.clients) this.sendJson(c, { type: 'state', state: this.state });
  }

  /** Queues `msg` for `c` behind its budget (sent at once when under it); past the queue bound, cuts it off. */
  private sendJson(c: Client, msg: ServerMessage): void {
    if (c.cut) return;
    const text = JSON.stringify(msg); // ASCII but for names: length is close enough to bytes for a bound
    c.pending.push(text);
    c.pendingBytes += text.length;
    if (c.pendingBytes > CONTROL_QUEUE_MAX_BYTES) {
      this.cutOff(c, CLOSE_NOT_READING, `not reading: ${c.socket.bufferedAmount} bytes unsent and ${c.pendingBytes} of replies waiting`);
      return;
    }
    this.pump(c);
    if (c.pending.length > 0) this.setPumpTimer(true);
  }

  /** Detaches `c` and closes its socket; what was held for it is released. */
  private cutOff(c: Client, code: number, reason: string): void {
    if (c.cut) return;
    c.cut = true;
    this.clients.delete(c);
    c.pending = [];
    c.pendingBytes = 0;
    this.opts.log(`cut off ${c.label} (close ${code}): ${reason}`);
    c.socket.close?.(code, reason);
  }

  /** For tests and logs: per-client counters; queuedBytes is its socket's unsent bytes plus the replies waiting. */
  clientStats(): Array<{ label: string; sentEvents: number; missedEvents: number; bufferedAmount: number; queuedBytes: number; paused: boolean }> {
    return [...this.clients].map((c) => ({
      label: c.label, sentEvents: c.sentEvents, missedEvents: c.missedEvents, bufferedAmount: c.socket.bufferedAmount,
      queuedBytes: c.socket.bufferedAmount + c.pendingBytes, paused: c.paused,
    }));
  }

  /** For tests and logs: the history's frames, bytes and the events no longer kept. */
  historyStats(): { frames: number; bytes: number; notKeptEvents: number } {
    return { frames: this.frames.length, bytes: this.historyBytes, notKeptEvents: this.notKeptEvents };
  }
}
