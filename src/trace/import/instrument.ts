// The instrumentation protocol, decoded one text line at a time (docs/instrumentation.md).
// A fuse server writes NDJSON to fusescope: a hello, then fusescope schema events. One decoder per
// connection; the socket, framing and byte budgets live in server/sources/instrument.ts.
//
//   line 1   {"fusescope":"instrument","version":1,"server":"fuse4fs","pid":1234}
//   line 2…  {"kind":"fuse_recv","tsNs":1200,"task":"fuse4fs/1240","unique":8,"opcode":4094,"nodeId":2}
//
// Sender time → session time. `tsNs` is the sender's clock (CLOCK_MONOTONIC ns, or ns since its
// own start; any origin works). fusescope maps it onto its own receive clock `recvNs`:
//
//   offsetNs = min over the connection's events so far of (recvNs − senderTsNs)
//   tsNs     = max(previous tsNs of this connection, senderTsNs + offsetNs)
//
// The first event lands at its arrival time; later ones keep the sender's spacing. Taking the
// smallest (receive − send) difference means a mapped time is never later than its arrival (an
// event cannot be seen before it happened), and the max() keeps each connection nondecreasing.
// A hello with `"clock":"monotonic"` says tsNs is this machine's CLOCK_MONOTONIC; a receiver that
// knows where its own axis starts on that clock (`monoOriginNs`) then places events exactly
// (tsNs = senderTsNs − monoOriginNs, still nondecreasing): the estimate above lands every event
// of a connection whose first lines were read late (a busy receiver) that much too late. An event
// stamped after its arrival proves the claim wrong: the connection falls back to the estimate.
// An event without `tsNs` is stamped with its arrival time; one without `task` gets
// `<server>/<pid>` from the hello, and that task's process is the hello's pid (one task_process row
// before its first event). Other tasks' processes are what the sender says in task_process events.

import type { Diag, Severity, TraceEvent } from '../schema.ts';
import { toEvent } from './ndjson.ts';
import { asTaskId } from '../ids.ts';

const INSTRUMENT_MAGIC = 'instrument';
/** Protocol version this fusescope speaks; a hello with a newer one gets a warning. */
const INSTRUMENT_VERSION = 1;
/** Diagnostics shown per connection; later ones are only counted (a garbage stream stays cheap). */
export const DEFAULT_MAX_DIAGS_PER_CONNECTION = 100;
/** Characters of a bad line quoted in its diagnostic. */
const EXCERPT_CHARS = 60;
/** Longest `server` name kept from a hello (it becomes part of every label). */
const MAX_SERVER_NAME_CHARS = 64;

interface InstrumentHello {
  fusescope: typeof INSTRUMENT_MAGIC;
  version: number;
  server: string;
  pid: number;
  /** `monotonic`: tsNs is CLOCK_MONOTONIC of this machine; absent: any origin. */
  clock?: 'monotonic';
}

/** How far past its arrival a "monotonic" event's time may be (the receive clock is read after the line came). */
const MONO_FUTURE_SLACK_NS = 1_000_000;

function excerpt(text: string): string {
  const cut = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  return JSON.stringify(cut);
}

/**
 * Decodes one connection's lines into events (times mapped as above) and `diag` events naming
 * the connection (`file`) and line. Never throws on input.
 */
export class InstrumentDecoder {
  hello: InstrumentHello | null = null;
  /** `fuse4fs[1234]#3` once the hello is read, `conn#3` before. */
  label: string;
  lineNo = 0;
  eventCount = 0;
  badLineCount = 0;
  diagCount = 0;
  private offsetNs = Infinity;
  /** Sender times map exactly (hello `clock: monotonic` and a receiver that knows its origin). */
  private exact = false;
  private lastNs: number;
  private defaultTask: string;
  /** The default task's task_process row was emitted. */
  private processSaid = false;

  constructor(
    readonly connNo: number,
    connectNs: number,
    private readonly emit: (ev: TraceEvent) => void,
    private readonly maxDiags = DEFAULT_MAX_DIAGS_PER_CONNECTION,
    /** Where the receive clock's 0 is on CLOCK_MONOTONIC (ns), when the receiver's clock is that one. */
    private readonly monoOriginNs: number | null = null,
  ) {
    this.label = `conn#${connNo}`;
    this.defaultTask = this.label;
    this.lastNs = connectNs;
  }

  /** Time of the latest event of this connection (where a diag about the next line sits). */
  get lastTsNs(): number { return this.lastNs; }

  /** One complete line (without its '\n'), received at `recvNs`. */
  line(raw: string, recvNs: number, isLast = false): void {
    this.lineNo++;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (e) {
      if (isLast) this.bad('truncated_line', `connection closed mid-line (${(e as Error).message}): ${excerpt(text)}`);
      else this.bad('bad_json', `malformed JSON (${(e as Error).message}): ${excerpt(text)}`);
      return;
    }
    const rec = typeof obj === 'object' && obj !== null && !Array.isArray(obj) ? obj as Record<string, unknown> : null;
    if (rec !== null && rec.fusescope === INSTRUMENT_MAGIC) {
      this.readHello(rec);
      return;
    }
    if (this.hello === null && this.lineNo === 1) {
      this.diag('warn', 'no_hello', `first line is not a hello {"fusescope":"instrument","version":${INSTRUMENT_VERSION},…}; reading events anyway`);
    }
    if (rec !== null) {
      if (rec.task === undefined) rec.task = this.defaultTask;
      if (rec.tsNs === undefined) rec.tsNs = recvNs;
    }
    const ev = toEvent(obj);
    if (typeof ev === 'string') {
      this.bad('bad_event', `${ev}: ${excerpt(text)}`);
      return;
    }
    ev.tsNs = this.mapTime(ev.tsNs, recvNs);
    this.eventCount++;
    if (!this.processSaid && this.hello !== null && this.hello.pid > 0 && ev.task === this.defaultTask) {
      this.processSaid = true;
      this.emit({ kind: 'task_process', tsNs: ev.tsNs, task: ev.task, tgid: this.hello.pid });
    }
    this.emit(ev);
  }

  /** A line over the byte budget (skipped by the framer, counted here). */
  lineTooLong(maxBytes: number): void {
    this.lineNo++;
    this.bad('line_too_long', `line longer than ${maxBytes} bytes skipped`);
  }

  /** A line that is not UTF-8 (binary garbage). */
  notText(): void {
    this.lineNo++;
    this.bad('bad_utf8', 'line is not valid UTF-8 text (binary data?)');
  }

  /** Lines the framer counted but did not parse (the connection's queue was full). */
  skipLines(count: number): void {
    this.lineNo += count;
  }

  /** The connection closed; `error` is the socket error, if any. */
  end(error?: string): void {
    const suppressed = this.diagCount - this.maxDiags;
    const parts = [`${this.eventCount} event(s)`, `${this.badLineCount} bad line(s)`];
    if (suppressed > 0) parts.push(`${suppressed} diagnostic(s) not shown`);
    this.diagCount = 0; // the closing summary is always shown
    this.diag(error ? 'warn' : 'info', 'disconnected', `${error ? `connection error: ${error}; ` : ''}closed after ${this.lineNo} line(s): ${parts.join(', ')}`, 0);
  }

  /** Emits a diag event about this connection at its current time (line 0 = not about a line). */
  diag(severity: Severity, code: string, message: string, line = this.lineNo): void {
    this.diagCount++;
    if (this.diagCount > this.maxDiags) return;
    if (this.diagCount === this.maxDiags) {
      message += ` (diagnostic limit ${this.maxDiags} reached: later ones on this connection are only counted)`;
    }
    const ev: Diag = { kind: 'diag', tsNs: this.lastNs, task: asTaskId(this.label), severity, code, message, file: this.label, line };
    this.emit(ev);
  }

  private bad(code: string, message: string): void {
    this.badLineCount++;
    this.diag('warn', code, message);
  }

  private readHello(rec: Record<string, unknown>): void {
    if (this.hello !== null) {
      this.bad('duplicate_hello', 'second hello ignored');
      return;
    }
    const { version, server, pid, clock } = rec;
    const problems: string[] = [];
    if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) problems.push('version must be a positive integer');
    if (typeof server !== 'string' || server === '') problems.push('server must be a non-empty string');
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 0) problems.push('pid must be a non-negative integer');
    if (clock !== undefined && clock !== 'monotonic') problems.push('clock must be "monotonic" or absent');
    const name = typeof server === 'string' && server !== '' ? server.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, MAX_SERVER_NAME_CHARS) : 'unknown';
    const pidNum = typeof pid === 'number' && Number.isInteger(pid) && pid >= 0 ? pid : 0;
    this.hello = { fusescope: INSTRUMENT_MAGIC, version: typeof version === 'number' ? version : INSTRUMENT_VERSION, server: name, pid: pidNum, ...(clock === 'monotonic' ? { clock } : {}) };
    this.exact = clock === 'monotonic' && this.monoOriginNs !== null;
    this.label = `${name}[${pidNum}]#${this.connNo}`;
    this.defaultTask = `${name}/${pidNum}`;
    if (problems.length > 0) this.bad('bad_hello', `${problems.join('; ')}: ${excerpt(JSON.stringify(rec))}`);
    if (typeof version === 'number' && version > INSTRUMENT_VERSION) {
      this.diag('warn', 'newer_version', `protocol version ${version} is newer than this fusescope's (${INSTRUMENT_VERSION}); reading lines as version ${INSTRUMENT_VERSION}`);
    }
    this.diag('info', 'connected', `${name} pid ${pidNum} connected (protocol v${this.hello.version}` +
      `${this.exact ? ', times on CLOCK_MONOTONIC placed as they are' : ''})`, this.lineNo);
    // Exact times may precede the moment this side took the connection (it was busy): no floor then.
    if (this.exact) this.lastNs = 0;
  }

  private mapTime(senderTsNs: number, recvNs: number): number {
    if (this.exact) {
      const ns = senderTsNs - this.monoOriginNs!;
      if (ns <= recvNs + MONO_FUTURE_SLACK_NS) {
        if (ns > this.lastNs) this.lastNs = ns;
        return this.lastNs;
      }
      this.exact = false;
      this.diag('warn', 'clock_not_monotonic', `line ${this.lineNo}: tsNs ${senderTsNs} is ${((ns - recvNs) / 1e6).toFixed(3)} ms after it arrived: ` +
        'not this machine\'s CLOCK_MONOTONIC as the hello said; this and later times are estimated from arrival times');
    }
    const lagNs = recvNs - senderTsNs;
    if (lagNs < this.offsetNs) this.offsetNs = lagNs;
    const mapped = Math.round(senderTsNs + this.offsetNs);
    if (mapped > this.lastNs) this.lastNs = mapped;
    return this.lastNs;
  }
}
