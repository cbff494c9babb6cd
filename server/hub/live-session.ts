// A live session: one paced event source (the simulator) fanned out to websocket clients.
//
// Every tick the source runs up to the virtual time the pace allows; the tick's events go into a
// small TraceStore that shares the session's string table, and each client gets them encoded as
// one or more binary batches. Client send queues are bounded by bytes: when a client's socket has
// more than `clientBudgetBytes` unsent, its batches are dropped and counted, and the next batch it
// does get is preceded by a `gap` event saying exactly how many events it missed and when.
// Memory is therefore bounded by (clients × budget) + one tick, whatever the clients do.

import { StringTable } from '../../src/trace/strings.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { WIRE_VERSION, encodeBatch, type ScenarioInfo, type ServerMessage, type SessionState } from '../../src/trace/wire.ts';
import { SCHEMA_VERSION, type TraceEvent } from '../../src/trace/schema.ts';
import { asTaskId } from '../../src/trace/ids.ts';

/** What the session needs of a source: a virtual clock it can advance. */
export interface PacedSource {
  readonly nowNs: number;
  readonly done: boolean;
  runUntil(untilNs: number, sink: (ev: TraceEvent) => void): number;
}

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
  makeSource: (scenario: string) => { source: PacedSource; paceNsPerSec: number; label: string };
  scenario: string;
  speed?: number;
  tickMs?: number;
  /** Unsent bytes a client may have queued before its batches are dropped. */
  clientBudgetBytes?: number;
  /** Upper bound on events produced by one tick (protects the event loop at high speeds). */
  maxEventsPerTick?: number;
  /** Rows per binary frame. */
  maxRowsPerFrame?: number;
  now?: () => number;
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
  private source!: PacedSource;
  private label = '';
  private paceNsPerSec = 0;
  private paused = false;
  private speed: number;
  private scenario: string;
  private lastTickWallMs = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly listeners = new Set<SessionListener>();
  /** Totals for logs and benches. */
  emittedEvents = 0;
  private lastTickRows = 0;

  constructor(options: LiveSessionOptions) {
    this.opts = {
      tickMs: 50,
      clientBudgetBytes: 8 * 1024 * 1024,
      maxEventsPerTick: 250_000,
      maxRowsPerFrame: 65_536,
      now: () => performance.now(),
      speed: 1,
      ...options,
    };
    this.speed = this.opts.speed;
    this.scenario = options.scenario;
    this.load(options.scenario);
  }

  get state(): SessionState {
    return { paused: this.paused, speed: this.speed, scenario: this.scenario, paceNsPerSec: this.paceNsPerSec };
  }
  get sourceLabel(): string { return this.label; }
  get clientCount(): number { return this.clients.size; }

  private load(scenario: string): void {
    const made = this.opts.makeSource(scenario);
    this.source = made.source;
    this.paceNsPerSec = made.paceNsPerSec;
    this.label = made.label;
    this.scenario = scenario;
    this.strings = new StringTable();
    this.lastTickWallMs = this.opts.now();
  }

  start(): void {
    if (this.timer) return;
    this.lastTickWallMs = this.opts.now();
    this.timer = setInterval(() => this.tick(), this.opts.tickMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Adds a listener (told the current source at once); returns its remover. */
  addListener(listener: SessionListener): () => void {
    this.listeners.add(listener);
    listener.onSourceChange?.(this.scenario, this.label);
    return () => this.listeners.delete(listener);
  }

  attach(socket: ClientSocket): () => void {
    const client: Client = { socket, knownStrings: 0, missedEvents: 0, missedFromNs: 0, missedToNs: 0, sentEvents: 0 };
    this.clients.add(client);
    this.sendJson(client, {
      type: 'hello', wireVersion: WIRE_VERSION, schemaVersion: SCHEMA_VERSION, originNs: '0', source: this.label,
      scenarios: this.opts.scenarios, state: this.state,
    });
    return () => this.clients.delete(client);
  }

  pause(): void {
    this.paused = true;
    this.broadcastState();
  }
  resume(): void {
    if (this.paused) this.lastTickWallMs = this.opts.now();
    this.paused = false;
    this.broadcastState();
  }
  setSpeed(speed: number): void {
    this.speed = speed;
    this.broadcastState();
  }
  /** Switches the source; clients get `reset` and start a fresh store. Throws if unknown. */
  setScenario(name: string): void {
    this.load(name);
    for (const l of this.listeners) l.onSourceChange?.(this.scenario, this.label);
    for (const c of this.clients) {
      c.knownStrings = 0;
      c.missedEvents = 0;
      this.sendJson(c, { type: 'reset', originNs: '0', state: this.state });
    }
  }

  /** Advances the source by the wall time since the last tick and fans the events out. */
  tick(): number {
    const nowWallMs = this.opts.now();
    const elapsedMs = nowWallMs - this.lastTickWallMs;
    this.lastTickWallMs = nowWallMs;
    if (this.paused || this.source.done) return 0;
    const targetNs = Math.floor(this.source.nowNs + (elapsedMs / 1000) * this.paceNsPerSec * this.speed);
    return this.advanceTo(targetNs);
  }

  /** Runs the source up to `targetNs` (bounded by maxEventsPerTick) and sends the events. */
  advanceTo(targetNs: number): number {
    const batch = new TraceStore(0n, this.strings);
    let produced = 0;
    const cap = this.opts.maxEventsPerTick;
    // About as many rows as the last tick: the batch's columns are then allocated once instead of
    // grown by copying from 1 Ki rows (at 100 k+ events/s that growth was ~5 % of the session).
    batch.reserve(Math.min(cap, Math.ceil(this.lastTickRows * 1.25)));
    // Run in slices so a burst cannot exceed the per-tick cap by much.
    const sliceNs = Math.max(1, Math.floor((targetNs - this.source.nowNs) / 8));
    while (this.source.nowNs < targetNs && produced < cap && !this.source.done) {
      const until = Math.min(targetNs, this.source.nowNs + sliceNs);
      produced += this.source.runUntil(until, (ev) => batch.append(ev));
    }
    if (batch.length > 0) {
      for (const l of this.listeners) l.onBatch(batch, 0, batch.length);
      this.fanOut(batch);
    }
    this.emittedEvents += batch.length;
    this.lastTickRows = batch.length;
    return batch.length;
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
