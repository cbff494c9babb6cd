// A live session: one LiveSource (server/sources/live-source.ts: the simulator, the
// instrumentation socket) fanned out to websocket clients.
//
// The source pushes events into the session's sink; each flush() closes a batch: its events sit in
// a small TraceStore that shares the session's string table, and each client gets them encoded as
// one or more binary batches. Client send queues are bounded by bytes: when a client's socket has
// more than `clientBudgetBytes` unsent, its batches are dropped and counted, and the next batch it
// does get is preceded by a `gap` event saying exactly how many events it missed and when.
// Memory is therefore bounded by (clients × budget) + one batch, whatever the clients do.
// Pause and speed reach the source only through its optional `controls`.

import { StringTable } from '../../src/trace/strings.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { WIRE_VERSION, encodeBatch, type CaptureControlInfo, type ScenarioInfo, type ServerMessage, type SessionState } from '../../src/trace/wire.ts';
import { SCHEMA_VERSION } from '../../src/trace/schema.ts';
import { asTaskId } from '../../src/trace/ids.ts';
import type { LiveSink, LiveSource } from '../sources/live-source.ts';

/** The minimum of a websocket the session uses (ws.WebSocket fits; tests can fake it). */
export interface ClientSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array | string): void;
}

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
  /** Unsent bytes a client may have queued before its batches are dropped. */
  clientBudgetBytes?: number;
  /** Rows per binary frame. */
  maxRowsPerFrame?: number;
  /** Where a source's end (or failure) is reported. */
  log?: (line: string) => void;
}

interface Client {
  socket: ClientSocket;
  knownStrings: number;
  missedEvents: number;
  missedFromNs: number;
  missedToNs: number;
  sentEvents: number;
}

const GAP_TASK = asTaskId('fusescope');

export class LiveSession {
  private readonly clients = new Set<Client>();
  private readonly opts: Required<Omit<LiveSessionOptions, 'speed'>> & { speed: number };
  private strings = new StringTable();
  private source!: LiveSource;
  /** Aborts the running source; null when stopped. */
  private run: AbortController | null = null;
  private paused = false;
  private speed: number;
  private scenario: string;
  private readonly listeners = new Set<SessionListener>();
  /** What the page may start (--allow-capture) and how that run goes; null: no capture control (not in hello). */
  private capture: CaptureControlInfo | null = null;
  /** Totals for logs and benches. */
  emittedEvents = 0;
  private lastBatchRows = 0;

  constructor(options: LiveSessionOptions) {
    this.opts = {
      clientBudgetBytes: 8 * 1024 * 1024,
      maxRowsPerFrame: 65_536,
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
  }

  /** Adds a listener (told the current source at once); returns its remover. */
  addListener(listener: SessionListener): () => void {
    this.listeners.add(listener);
    listener.onSourceChange?.(this.scenario, this.sourceLabel);
    return () => this.listeners.delete(listener);
  }

  attach(socket: ClientSocket): () => void {
    const client: Client = { socket, knownStrings: 0, missedEvents: 0, missedFromNs: 0, missedToNs: 0, sentEvents: 0 };
    this.clients.add(client);
    this.sendJson(client, {
      type: 'hello', wireVersion: WIRE_VERSION, schemaVersion: SCHEMA_VERSION, originNs: '0', source: this.sourceLabel,
      scenarios: this.opts.scenarios, state: this.state, ...(this.capture ? { capture: this.capture } : {}),
    });
    return () => this.clients.delete(client);
  }

  /** Pause and speed reach a source that has the control; the state is the session's either way. */
  pause(): void {
    this.paused = true;
    this.source.controls?.setPaused(true);
    this.broadcastState();
  }
  resume(): void {
    this.paused = false;
    this.source.controls?.setPaused(false);
    this.broadcastState();
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
      c.knownStrings = 0;
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

  /** Sends the batch a source just closed to listeners and clients. */
  private flushBatch(batch: TraceStore): void {
    for (const l of this.listeners) l.onBatch(batch, 0, batch.length);
    this.fanOut(batch);
    this.emittedEvents += batch.length;
    this.lastBatchRows = batch.length;
  }

  private fanOut(batch: TraceStore): void {
    const maxRows = this.opts.maxRowsPerFrame;
    for (let from = 0; from < batch.length; from += maxRows) {
      const to = Math.min(batch.length, from + maxRows);
      // One encoding per string-table position: clients that know the same strings (normally all
      // of them) share the frame, so N clients cost one encode, not N.
      const encoded = new Map<number, { frame: Uint8Array; knownStrings: number }>();
      for (const c of this.clients) {
        if (c.socket.bufferedAmount > this.opts.clientBudgetBytes) {
          if (c.missedEvents === 0) c.missedFromNs = batch.tsNs[from]!;
          c.missedEvents += to - from;
          c.missedToNs = batch.tsNs[to - 1]!;
          continue;
        }
        if (c.missedEvents > 0) this.sendGap(c, batch.tsNs[from]!);
        const key = Math.max(1, c.knownStrings);
        let enc = encoded.get(key);
        if (!enc) {
          enc = encodeBatch(batch, from, to, key);
          encoded.set(key, enc);
        }
        c.knownStrings = enc.knownStrings;
        c.sentEvents += to - from;
        c.socket.send(enc.frame);
      }
    }
  }

  private sendGap(c: Client, atNs: number): void {
    const gap = new TraceStore(0n, this.strings);
    gap.append({
      kind: 'gap', tsNs: Math.min(atNs, c.missedToNs), task: GAP_TASK,
      missedEvents: c.missedEvents, fromTsNs: c.missedFromNs, toTsNs: c.missedToNs,
    });
    const { frame, knownStrings } = encodeBatch(gap, 0, 1, c.knownStrings);
    c.knownStrings = knownStrings;
    c.socket.send(frame);
    c.missedEvents = 0;
  }

  private broadcastState(): void {
    for (const c of this.clients) this.sendJson(c, { type: 'state', state: this.state });
  }

  private sendJson(c: Client, msg: ServerMessage): void {
    c.socket.send(JSON.stringify(msg));
  }

  /** For tests and logs: per-client counters. */
  clientStats(): Array<{ sentEvents: number; missedEvents: number; bufferedAmount: number }> {
    return [...this.clients].map((c) => ({ sentEvents: c.sentEvents, missedEvents: c.missedEvents, bufferedAmount: c.socket.bufferedAmount }));
  }
}
