// The instrumentation socket: fuse servers stream their own upcalls to `fusescope serve
// --instrument PATH|PORT` as NDJSON (docs/instrumentation.md; lines are decoded by
// src/trace/import/instrument.ts). This file is the I/O side: the listener (a unix socket created
// 0600 and removed on close, or TCP on 127.0.0.1 only), the connections and the budgets. Lines are
// framed by the import framer (src/trace/import/framing.ts) in strict UTF-8 mode: a line that is not
// UTF-8 is a `bad_utf8` diag, not text with U+FFFD in it.
//
// InstrumentSource is a LiveSource (live-source.ts). Live events cannot be paced: every `drainMs`
// a run hands out everything that has arrived as one batch, merged across connections by tsNs
// (each connection is already nondecreasing) and clamped so the stream never goes back in time (a
// late event from one connection is moved up to the last time already sent; `clampedCount` counts
// them). Its only control is pause, which holds events in the queues; it has no speed.
// The listener owns the sockets: aborting a run stops the draining only (the connections stay, so a
// run can start again); closing the listener ends the connections, and the run ends by itself
// (sink.end) once their last events — each connection's `disconnected` diag — have been drained.
//
// Budgets (memory stays bounded whatever a client sends):
//   maxLineBytes      a longer line is skipped up to its '\n', with one diag
//   maxQueuedEvents   per connection; when full (client faster than the session drains, or the
//                     session is paused) further lines are counted but not parsed, and the next
//                     drain sends a `gap` (how many, when) and a `flood` diag
//   maxConnections    further connections are refused with a diag
//   maxDiags          per connection; later ones are counted and summed up at disconnect
//
// Who may send (docs/instrumentation.md, "Security"; docs/reliability.md): the unix socket (mode
// 0600, the default) reaches only its owner and needs nothing more. A TCP port on 127.0.0.1 is open
// to every local user and to web pages (a browser can POST to it), so there the first line must be a
// hello carrying the listener's per-run token (a page cannot know it), within helloTimeoutMs, and a
// connection silent for idleTimeoutMs is closed (idle holders cannot take every slot). On either,
// a first line that looks like HTTP (a browser request) closes the connection at once. A refused
// connection is one source diag; none of its lines reach the decoder.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Diag, Gap, TraceEvent } from '../../src/trace/schema.ts';
import { DEFAULT_MAX_DIAGS_PER_CONNECTION, InstrumentDecoder } from '../../src/trace/import/instrument.ts';
import { LineFramer, type LineSink } from '../../src/trace/import/framing.ts';
import { Line } from '../../src/trace/import/line.ts';
import type { ScenarioInfo } from '../../src/trace/wire.ts';
import type { LiveSink, LiveSource, LiveSourceInfo, PaceControls } from './live-source.ts';
import { asTaskId } from '../../src/trace/ids.ts';

/** A unix socket path, or a TCP port on 127.0.0.1 with the listener's token (a client sends it in its hello). */
export type InstrumentTarget = { path: string } | { port: number; token?: string };

export interface InstrumentLimits {
  maxLineBytes: number;
  maxQueuedEvents: number;
  maxConnections: number;
  maxDiagsPerConnection: number;
}

/**
 * 64 KiB per line: the largest real event (an inode_lookup with a PATH_MAX path) is ~4.5 KiB.
 * 20,000 queued events per connection: 400k events/s at the 50 ms drain (DEFAULT_DRAIN_MS), ~10 MB of objects.
 */
export const DEFAULT_INSTRUMENT_LIMITS: InstrumentLimits = {
  maxLineBytes: 64 * 1024,
  maxQueuedEvents: 20_000,
  maxConnections: 32,
  maxDiagsPerConnection: DEFAULT_MAX_DIAGS_PER_CONNECTION,
};

/** Source-level diags (refused connections, listener errors) kept until the next drain. */
const MAX_SOURCE_DIAGS = 100;
const SOURCE_TASK = asTaskId('fusescope/instrument');
/**
 * How often a run moves queued events out: a live tick's 50 ms (as the simulator's), so a client's queue
 * (20,000 events by default) fills only above 400k events/s.
 */
const DEFAULT_DRAIN_MS = 50;
/** TCP: the token-bearing hello must arrive this soon after connecting. */
export const DEFAULT_HELLO_TIMEOUT_MS = 5_000;
/** TCP: a connection without a byte for this long is closed (senders write an empty line to keep an idle one). */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** A browser's request line (`POST / HTTP/1.1`) or any line opening with an HTTP method. */
const HTTP_LINE = /^(?:GET|POST|PUT|OPTIONS|HEAD|DELETE|PATCH|CONNECT|TRACE) |\bHTTP\/1\.[0-9]\s*$/;
/**
 * How long a sender may take between stamping an event and writing it to the socket: its process
 * descheduled between the two (seen up to ~0.2 s on a loaded 2-CPU machine). Only deliveredNs uses it.
 */
const SENDER_SLACK_NS = 200_000_000;
/** Trace ns per wall second reported to the UI: live events run in real time. */
const INSTRUMENT_PACE_NS_PER_SEC = 1e9;

/** `--instrument` argument: all digits = a TCP port on 127.0.0.1, anything else a socket path. */
export function parseInstrumentTarget(arg: string): InstrumentTarget {
  if (/^\d+$/.test(arg)) {
    const port = Number(arg);
    if (port > 65535) throw new Error(`--instrument: port ${port} is out of range (0-65535)`);
    return { port };
  }
  if (arg === '') throw new Error('--instrument needs a socket path or a port');
  return { path: arg };
}

/**
 * One client connection: its lines (the shared framer, strict UTF-8), its decoder and its bounded
 * queue. Every line the framer counts reaches the decoder exactly once (an event or diag, a skip, or
 * a drop when the queue is full), so the decoder's line numbers are the framer's.
 */
class Connection implements LineSink {
  readonly decoder: InstrumentDecoder;
  /**
   * 'first': the next non-empty line is checked for HTTP; 'hello': it must also be a hello with the
   * token; 'open': lines go to the decoder; 'refused': everything is discarded (the socket is closing).
   */
  gate: 'first' | 'hello' | 'open' | 'refused';
  queue: TraceEvent[] = [];
  closed = false;
  droppedLines = 0;
  droppedTotal = 0;
  private droppedFromNs = 0;
  private droppedToNs = 0;
  private droppedFirstLine = 0;
  private readonly line = new Line();
  private readonly framer: LineFramer;
  /** Receive time of the bytes being framed. */
  private recvNs = 0;

  constructor(
    connNo: number, connectNs: number, private readonly limits: InstrumentLimits, monoOriginNs: number | null,
    private readonly token: string | null,
    /** Called once when the connection is refused (the owner logs it and destroys the socket). */
    private readonly onRefuse: (code: string, message: string) => void,
  ) {
    this.gate = token === null ? 'first' : 'hello';
    this.decoder = new InstrumentDecoder(connNo, connectNs, (ev) => this.queue.push(ev), limits.maxDiagsPerConnection, monoOriginNs);
    this.framer = new LineFramer(this.line, this, limits.maxLineBytes, undefined, { strictUtf8: true });
  }

  data(chunk: Buffer, recvNs: number): void {
    this.recvNs = recvNs;
    this.framer.push(chunk);
  }

  end(recvNs: number, error?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.recvNs = recvNs;
    this.framer.end(); // a last line without its '\n' is parsed as cut short
    // A connection never let in has no summary: nothing of it was accepted (its refusal was said).
    if (this.gate === 'open') this.decoder.end(error);
  }

  refuse(code: string, message: string): void {
    if (this.gate === 'refused') return;
    this.gate = 'refused';
    this.queue = [];
    this.onRefuse(code, message);
  }

  /** The first non-empty line before the connection is open: the text the decoder gets, or null (refused). */
  private admit(text: string): string | null {
    const t = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (HTTP_LINE.test(t)) {
      this.refuse('http_refused', `refused a connection whose first line looks like HTTP (a web page?): ${JSON.stringify(t.slice(0, 80))}`);
      return null;
    }
    if (this.token === null) {
      this.gate = 'open';
      return text;
    }
    let rec: Record<string, unknown> | null = null;
    try {
      const obj: unknown = JSON.parse(t);
      if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) rec = obj as Record<string, unknown>;
    } catch { /* refused below */ }
    if (rec === null || rec.fusescope !== 'instrument') {
      this.refuse('hello_required', 'refused a TCP connection whose first line is not a hello with the token');
      return null;
    }
    if (typeof rec.token !== 'string' || !sameToken(this.token, rec.token)) {
      this.refuse('bad_token', `refused a TCP connection: ${typeof rec.token === 'string' ? 'wrong' : 'no'} token in its hello (serve printed the token)`);
      return null;
    }
    this.gate = 'open';
    delete rec.token; // never repeated in a diag
    return JSON.stringify(rec);
  }

  /** Moves queued events (and a gap + diag for lines dropped since the last drain) to `out`. */
  drainInto(out: TraceEvent[]): void {
    for (const ev of this.queue) out.push(ev);
    this.queue = [];
    if (this.droppedLines === 0) return;
    const label = this.decoder.label;
    const gap: Gap = {
      kind: 'gap', tsNs: this.decoder.lastTsNs, task: asTaskId(label),
      missedEvents: this.droppedLines, fromTsNs: this.droppedFromNs, toTsNs: this.droppedToNs,
    };
    out.push(gap);
    this.decoder.diag('warn', 'flood',
      `queue full (${this.limits.maxQueuedEvents} events): ${this.droppedLines} line(s) from line ${this.droppedFirstLine} on were dropped unparsed`,
      this.droppedFirstLine);
    this.droppedLines = 0;
    for (const ev of this.queue) out.push(ev);
    this.queue = [];
  }

  onLine(): void {
    const line = this.line;
    if (this.gate === 'refused') return;
    if (this.gate !== 'open') {
      const raw = line.text();
      if (raw.trim() === '') {
        this.decoder.skipLines(1);
        return;
      }
      const text = this.admit(raw);
      if (text !== null) this.decoder.line(text, this.recvNs, line.unterminated);
      return;
    }
    // The line a closing connection cut short is parsed whatever the queue holds (one line, bounded).
    if (line.unterminated) this.decoder.line(line.text(), this.recvNs, true);
    else if (!this.dropIfFull()) this.decoder.line(line.text(), this.recvNs, false);
  }

  lineTooLong(): void {
    if (this.gate === 'refused') return;
    if (this.gate === 'hello') return this.refuse('hello_required', 'refused a TCP connection whose first line is not a hello with the token (line too long)');
    this.gate = 'open';
    this.decoder.lineTooLong(this.limits.maxLineBytes);
  }

  notUtf8(): void {
    if (this.gate === 'refused') return;
    if (this.gate === 'hello') return this.refuse('hello_required', 'refused a TCP connection whose first line is not a hello with the token (not UTF-8)');
    this.gate = 'open';
    if (this.line.unterminated || !this.dropIfFull()) this.decoder.notText();
  }

  /** Queue full: the line is counted as dropped, unparsed (a gap and a diag at the next drain). */
  private dropIfFull(): boolean {
    if (this.queue.length < this.limits.maxQueuedEvents) return false;
    if (this.droppedLines === 0) {
      this.droppedFromNs = this.recvNs;
      this.droppedFirstLine = this.decoder.lineNo + 1;
    }
    this.droppedLines++;
    this.droppedTotal++;
    this.droppedToNs = this.recvNs;
    this.decoder.skipLines(1);
    return true;
  }
}

function sameToken(expected: string, given: string): boolean {
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface InstrumentSourceOptions {
  limits?: Partial<InstrumentLimits>;
  /**
   * Required in every connection's hello (`"token":"…"`); listenInstrument makes one per run for a
   * TCP port when none is given. Without one (the unix socket) no hello is required.
   */
  token?: string;
  /** With a token: ms from connecting to a valid hello, else closed (default DEFAULT_HELLO_TIMEOUT_MS). */
  helloTimeoutMs?: number;
  /** ms without a byte before a connection is closed; 0 = never (default: TCP DEFAULT_IDLE_TIMEOUT_MS, unix 0). */
  idleTimeoutMs?: number;
  /** The receive clock, ns; default: monotonic ns since the source was created. */
  clockNs?: () => number;
  /** Wall ms between drains of a run. */
  drainMs?: number;
  /**
   * clockNs is CLOCK_MONOTONIC less this (ns): senders whose hello says `clock: monotonic` are then
   * placed exactly (docs/instrumentation.md). Without it their times are estimated from arrival.
   */
  monoOriginNs?: bigint;
}

export class InstrumentSource implements LiveSource {
  /** The label names the listener's address once it listens (listenInstrument sets it). */
  info: LiveSourceInfo = { label: 'instrument', paceNsPerSec: INSTRUMENT_PACE_NS_PER_SEC };
  readonly controls: PaceControls = { setPaused: (paused) => { this.paused = paused; } };
  /** Events moved forward to keep the merged stream nondecreasing. */
  clampedCount = 0;
  acceptedConnections = 0;
  refusedConnections = 0;
  readonly limits: InstrumentLimits;
  private readonly clockNs: () => number;
  /** clockNs's 0 on CLOCK_MONOTONIC, when clockNs is that clock (null: unknown). */
  private readonly monoOriginNs: number | null;
  private readonly drainMs: number;
  private readonly token: string | null;
  private readonly helloTimeoutMs: number;
  private readonly idleTimeoutMs: number;
  /** Refusals by code (http_refused, bad_token, hello_required, hello_timeout), for logs and tests. */
  readonly refusals = new Map<string, number>();
  private readonly connections = new Set<Connection>();
  private readonly sockets = new Set<Socket>();
  private sourceDiags: TraceEvent[] = [];
  private sourceDiagCount = 0;
  private lastEmittedNs = 0;
  private deliveredAtNs = 0;
  private connNo = 0;
  private paused = false;
  /** The listener closed: no connection will come, the open ones are being destroyed. */
  private closing = false;
  /** Ends the current run after a last drain (set while a run is going). */
  private endRun: (() => void) | null = null;

  constructor(opts: InstrumentSourceOptions = {}) {
    this.limits = { ...DEFAULT_INSTRUMENT_LIMITS, ...opts.limits };
    this.drainMs = opts.drainMs ?? DEFAULT_DRAIN_MS;
    this.token = opts.token ?? null;
    this.helloTimeoutMs = opts.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 0;
    if (opts.clockNs) {
      this.clockNs = opts.clockNs;
      this.monoOriginNs = opts.monoOriginNs === undefined ? null : Number(opts.monoOriginNs);
    } else {
      const t0 = process.hrtime.bigint();
      this.clockNs = () => Number(process.hrtime.bigint() - t0);
      this.monoOriginNs = Number(t0);
    }
  }

  get connectionCount(): number { return this.sockets.size; }
  /** A run is going (started and neither aborted nor ended). */
  get running(): boolean { return this.endRun !== null; }

  /** Per-connection counters, for logs and tests. */
  stats(): Array<{ label: string; lines: number; events: number; badLines: number; droppedLines: number; closed: boolean }> {
    return [...this.connections].map((c) => ({
      label: c.decoder.label, lines: c.decoder.lineNo, events: c.decoder.eventCount,
      badLines: c.decoder.badLineCount, droppedLines: c.droppedTotal, closed: c.closed,
    }));
  }

  /** Takes over a connected socket (any Duplex of bytes works the same way). */
  accept(socket: Socket): void {
    if (this.closing || this.sockets.size >= this.limits.maxConnections) {
      this.refusedConnections++;
      if (this.closing) this.sourceDiag('listener_closed', 'refused a connection: the listener is closing');
      else this.sourceDiag('too_many_connections', `refused a connection: ${this.limits.maxConnections} already open`);
      socket.destroy();
      return;
    }
    this.acceptedConnections++;
    const conn = new Connection(++this.connNo, this.clockNs(), this.limits, this.monoOriginNs, this.token, (code, message) => {
      this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1);
      this.sourceDiag(code, message);
      socket.destroy();
    });
    this.connections.add(conn);
    this.sockets.add(socket);
    let error: string | undefined;
    // Slot holders: no hello in time (token listeners), or silence (unref'd: a timer never keeps the process up).
    const helloTimer = conn.gate === 'hello'
      ? setTimeout(() => {
        if (conn.gate === 'hello') conn.refuse('hello_timeout', `closed a TCP connection that sent no hello with the token within ${this.helloTimeoutMs} ms`);
      }, this.helloTimeoutMs)
      : null;
    helloTimer?.unref();
    if (this.idleTimeoutMs > 0) {
      socket.setTimeout(this.idleTimeoutMs, () => {
        error = `idle for ${this.idleTimeoutMs} ms (no byte; senders keep an idle connection with an empty line)`;
        socket.destroy();
      });
    }
    socket.on('data', (chunk: Buffer) => conn.data(chunk, this.clockNs()));
    socket.on('error', (err) => { error = err.message; });
    socket.on('close', () => {
      if (helloTimer) clearTimeout(helloTimer);
      this.sockets.delete(socket);
      conn.end(this.clockNs(), error);
      if (this.closing && this.sockets.size === 0) this.endRun?.();
    });
  }

  /**
   * Drains until the source ends (listener closed, last events out) or `signal` aborts. Paused,
   * a run holds events in the connections' queues (bounded; a full queue drops and counts).
   */
  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    if (this.endRun) throw new Error(`${this.info.label}: already running`); // an owner's bug, not a stream error
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const emit = (ev: TraceEvent): void => sink.event(ev);
      const drain = (): void => {
        if (this.drain(emit) > 0) sink.flush();
      };
      const finish = (): void => {
        clearInterval(timer);
        signal.removeEventListener('abort', finish);
        this.endRun = null;
        resolve();
      };
      // The drain runs after the event loop's poll phase (setImmediate): what the sockets held when the
      // loop woke has been read by then, so deliveredNs holds however late the loop itself was.
      let drainQueued = false;
      const timer = setInterval(() => {
        if (drainQueued) return;
        drainQueued = true;
        setImmediate(() => {
          drainQueued = false;
          if (this.endRun === null || this.paused) return;
          const atNs = this.clockNs();
          drain();
          this.deliveredAtNs = atNs - SENDER_SLACK_NS;
        });
      }, this.drainMs);
      signal.addEventListener('abort', finish, { once: true });
      this.endRun = () => {
        drain();
        sink.end();
        finish();
      };
      if (this.closing && this.sockets.size === 0) this.endRun();
    });
  }

  /**
   * Every event of the run below this has gone to the sink: the clock at the last drain, less the
   * time a sender may take between stamping an event and writing it (SENDER_SLACK_NS).
   */
  deliveredNs(): number {
    return this.deliveredAtNs;
  }

  /** Moves everything queued (and source diags) to `emit` in time order; returns the count. */
  drain(emit: (ev: TraceEvent) => void): number {
    const out = this.sourceDiags;
    this.sourceDiags = [];
    for (const c of this.connections) {
      c.drainInto(out);
      if (c.closed) this.connections.delete(c);
    }
    // Stable sort: each connection's events keep their order (they are nondecreasing already).
    if (out.length > 1) out.sort((a, b) => a.tsNs - b.tsNs);
    for (const ev of out) {
      if (ev.tsNs < this.lastEmittedNs) {
        ev.tsNs = this.lastEmittedNs;
        this.clampedCount++;
      } else this.lastEmittedNs = ev.tsNs;
      emit(ev);
    }
    return out.length;
  }

  /** A diag about the listener itself (not a connection). */
  sourceDiag(code: string, message: string): void {
    this.sourceDiagCount++;
    if (this.sourceDiags.length >= MAX_SOURCE_DIAGS) return;
    const ev: Diag = {
      kind: 'diag', tsNs: this.clockNs(), task: SOURCE_TASK, severity: 'warn', code, message, file: 'instrument', line: 0,
    };
    this.sourceDiags.push(ev);
  }

  /** The listener closed: refuses new connections and closes every open one (each ends with its summary diag). */
  close(): void {
    this.closing = true;
    for (const s of this.sockets) s.destroy();
    if (this.sockets.size === 0) this.endRun?.();
  }
}

export interface InstrumentListener {
  readonly source: InstrumentSource;
  /** `unix:/path` or `tcp:127.0.0.1:PORT`. */
  readonly address: string;
  /** The token a TCP client must send in its hello (null for a unix socket). */
  readonly token: string | null;
  /** The TCP port, or null for a unix socket. */
  readonly port: number | null;
  close(): Promise<void>;
}

/** A stale socket file (nobody listening) may be replaced; anything else at `path` is an error. */
async function clearStaleSocket(path: string): Promise<void> {
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing there
    throw e;
  }
  if (!isSocket) throw new Error(`--instrument: ${path} exists and is not a socket; not replacing it`);
  const alive = await new Promise<boolean>((ok) => {
    const probe = createConnection(path);
    probe.once('connect', () => { probe.destroy(); ok(true); });
    probe.once('error', () => ok(false));
  });
  if (alive) throw new Error(`--instrument: ${path} is in use by another process`);
  unlinkSync(path);
}

function removeSocketFile(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch (e) {
    // ENOENT: already gone (libuv unlinks a listening unix socket on close). Anything else is
    // reported but must not stop the remaining shutdown work (this also runs at process exit).
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') process.stderr.write(`fusescope: could not remove ${path}: ${(e as Error).message}\n`);
  }
}

/**
 * Opens the instrumentation listener: a unix socket at `path` (mode 0600, removed on close and at
 * process exit) or TCP on 127.0.0.1:`port` (0 = any free port).
 */
export async function listenInstrument(target: InstrumentTarget, opts: InstrumentSourceOptions = {}): Promise<InstrumentListener> {
  // TCP: a per-run token (any local user and any web page can reach the port), hello and idle timeouts.
  const token = 'port' in target ? (opts.token ?? target.token ?? randomBytes(18).toString('base64url')) : (opts.token ?? null);
  const source = new InstrumentSource({
    ...opts,
    ...(token !== null ? { token } : {}),
    idleTimeoutMs: opts.idleTimeoutMs ?? ('port' in target ? DEFAULT_IDLE_TIMEOUT_MS : 0),
  });
  const server: Server = createServer((socket) => source.accept(socket));
  server.on('error', (err) => source.sourceDiag('listener_error', err.message));
  let port: number | null = null;
  let address: string;
  let onExit: (() => void) | null = null;
  if ('path' in target) {
    await clearStaleSocket(target.path);
    // bind() creates the socket file with the umask's mode: set it so the file is never
    // reachable by others, even for the moment before the chmod below.
    let oldMask: number | null = null;
    try {
      oldMask = process.umask(0o177);
    } catch {
      oldMask = null; // worker threads cannot change the umask; the chmod below still applies
    }
    try {
      await new Promise<void>((ok, fail) => {
        server.once('error', fail);
        server.listen(target.path, () => { server.off('error', fail); ok(); });
        if (oldMask !== null) process.umask(oldMask);
        oldMask = null;
      });
    } finally {
      if (oldMask !== null) process.umask(oldMask);
    }
    chmodSync(target.path, 0o600);
    address = `unix:${target.path}`;
    const path = target.path;
    onExit = () => removeSocketFile(path);
    process.once('exit', onExit);
  } else {
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(target.port, '127.0.0.1', () => { server.off('error', fail); ok(); });
    });
    const addr = server.address();
    port = typeof addr === 'object' && addr ? addr.port : target.port;
    address = `tcp:127.0.0.1:${port}`;
  }
  source.info = { label: `instrument:${address}`, paceNsPerSec: INSTRUMENT_PACE_NS_PER_SEC };
  return {
    source,
    address,
    port,
    token,
    close: async () => {
      source.close();
      await new Promise<void>((ok) => server.close(() => ok()));
      if (onExit) {
        process.off('exit', onExit);
        onExit();
      }
    },
  };
}

export const INSTRUMENT_SCENARIO = 'instrument';

/**
 * LiveSession options that make the instrumentation stream the session's only source: the
 * browser's scenario picker lists just `instrument` (re-selecting it clears the view and restarts
 * the run; the connections go on), so nothing a browser sends reaches the simulator or the sockets.
 */
export function instrumentSession(l: InstrumentListener): { scenarios: ScenarioInfo[]; scenario: string; makeSource: (name: string) => LiveSource } {
  return {
    scenarios: [{ name: INSTRUMENT_SCENARIO, description: `live events from fuse servers connected to ${l.address}` }],
    scenario: INSTRUMENT_SCENARIO,
    makeSource: (name) => {
      if (name !== INSTRUMENT_SCENARIO) throw new Error(`unknown scenario '${name}' (this session streams '${INSTRUMENT_SCENARIO}' only)`);
      return l.source;
    },
  };
}
