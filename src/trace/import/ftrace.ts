// ftrace text importer: trace_pipe, the tracefs `trace` file and `trace-cmd report` output.
// Incremental (push chunks, then end) and isomorphic, so a dropped file parses in the browser too.
// Never throws on input: a bad line is a counted diagnostic (file:line:col) and parsing goes on; a
// line whose header parses but whose body does not is still kept as an `instant`.
//
// One event line (fuse-iomap-domain.md §4.1, §4.2):
//
//   <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>|<ns>: <event>: <body>
//   <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>|<ns>: sys_pwrite64(fd: 3, …)   syscall enter
//   <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>|<ns>: sys_pwrite64 -> 0x1000   syscall exit
//   <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>|<ns>: <stack trace>
//    => rwsem_down_write_slowpath+0x2c2/0x4a0                                              its frames
//
// Times: tsNs = ns since the first event; `originNs` is the absolute ns of that first event. A
// timestamp is kept as (whole seconds, ns within the second) so no float ever holds absolute ns.
// A `secs.frac` stamp scales frac by its digit count (µs from the kernel, ns from `trace-cmd -t`);
// a bare integer (non-ns trace clocks) is taken as ns.
//
// Deferred events (held briefly, emitted in input order):
//   - a `<stack trace>` block becomes one `instant` named `stack_trace` whose text is the frames,
//     innermost first, one per line; it has the task and time of the event it follows;
//   - `fuse_iomap_ioend` fires before the kernel decides to upcall: `sent` is true iff the same
//     task's next event is a fuse_send of FUSE_IOMAP_IOEND;
//   - `fuse_iomap_cache_lookup` followed (same task) by `_result` is one cache_lookup hit (the
//     `map…` mapping, i.e. trimmed to the request, and the cookie); a lookup without a result is
//     a miss;
//   - `fuse_request_send … req 0` (6.12–6.17 kernels, §4.3) waits for the next unmatched
//     `fuse_request_end` of its connection, in order, and takes its `req` (approximate by design).

// Parsing runs on code units in a typed array (units.ts), never on per-line strings: a string chunk
// that is all ASCII (nearly every trace) is encoded into bytes at once and its lines are parsed
// there; strings are made only for what events keep (task and tracepoint names, interned; bodies
// of instants). A line with other characters is parsed from its UTF-16 code units, so columns and
// the `\s` grammar are those of the string. Byte chunks (Uint8Array, UTF-8) parse the same way.

import type { AppOp, Fork, TraceEvent } from '../schema.ts';
import { DiagSink } from '../ndjson.ts';
import {
  EFSCORRUPTED, NULL_ADDR, Opcode, ioendFlagStrings, mapFlagStrings, mapTypeFromName, opFlagStrings, parseFlags,
} from '../fuse-proto.ts';
import {
  Interner, decAt, hasAt, isDigit, isFlagChar, isLineTerminator, isWord, isWs, parseLongAt, parseNumAt, skipWs,
  unitsToString, type Units,
} from './units.ts';

/** ftrace lines are bounded by the kernel's trace_seq (a page); anything far longer is garbage. */
export const MAX_FTRACE_LINE_BYTES = 64 * 1024;
/** Events held for deferred decisions (see file comment) before they are forced out. */
const MAX_HELD_EVENTS = 4096;
/** Replied requests' entries kept (opcodeByUnique) beyond twice the open ones before they are dropped. */
const MAX_REPLIED_KEPT = 4096;
/** Distinct iomap_iter flag texts cached (a handful in a real trace). */
const MAX_CACHED_FLAG_TEXTS = 256;

export const LOCK_FLAG_STRINGS: ReadonlyArray<readonly [number, string]> = [
  [1, 'SPIN'], [2, 'READ'], [4, 'WRITE'], [8, 'RT'], [16, 'PERCPU'], [32, 'MUTEX'],
];
/** Upstream IOMAP_F_* trace names → the fuse map-flag strings with the same meaning (§2.2 vs §1.7). */
const KERNEL_MAP_FLAG_TO_FUSE: Record<string, string> = {
  NEW: 'new', DIRTY: 'dirty', SHARED: 'shared', MERGED: 'merged', BOUNDARY: 'boundary',
  ANON_WRITE: 'anon_write', ATOMIC_BIO: 'atomic', SIZE_CHANGED: 'append', STALE: 'stale',
};

/** Thrown only inside this module by body parsers; turned into a diag at the line's top. */
class BodyError extends Error {
  constructor(readonly col: number, message: string) { super(message); }
}

/** The line being parsed: its units [start, end) (a 0 unit at end), and strings cut from it. */
interface LineText {
  u: Units;
  /** u[from, to) as a string. */
  str(from: number, to: number): string;
}

/** Positional reader over a tracepoint body u[start, end): keys repeat, so each read searches from the cursor. */
class Cursor {
  u: Units = new Uint8Array(1);
  start = 0;
  end = 0;
  p = 0;
  constructor(private readonly line: LineText) {}
  reset(start: number, end: number): this {
    this.u = this.line.u;
    this.start = start;
    this.end = end;
    this.p = start;
    return this;
  }
  /** The body as a string. */
  text(): string {
    return this.line.str(this.start, this.end);
  }
  /** Index of the value after `key ` found at a token boundary at or after the cursor. */
  private find(key: string): number {
    const u = this.u;
    const k0 = key.charCodeAt(0);
    const last = this.end - key.length;
    let i = this.p;
    for (;;) {
      while (i <= last && (u[i] !== k0 || !hasAt(u, i, key))) i++;
      if (i > last) throw new BodyError(this.p - this.start, `expected '${key}'`);
      const after = i + key.length;
      if ((i === this.start || u[i - 1] === 32) && (u[after] === 32 || u[after] === 61)) return after + 1;
      i = after;
    }
  }
  /** True if the next token is `key` (optional fields that newer formats added). */
  has(key: string): boolean {
    const u = this.u;
    let i = this.p;
    while (u[i] === 32) i++;
    if (!hasAt(u, i, key)) return false;
    const after = u[i + key.length];
    return after === 32 || after === 61;
  }
  /** End of the token at `v`: the next space, else the body's end. */
  private tokenEnd(v: number): number {
    const u = this.u;
    const end = this.end;
    let e = v;
    while (e < end && u[e] !== 32) e++;
    return e;
  }
  token(key: string): string {
    const v = this.find(key);
    const e = this.tokenEnd(v);
    this.p = e;
    return this.line.str(v, e);
  }
  num(key: string): number {
    const start = this.p;
    const v = this.find(key);
    const e = this.tokenEnd(v);
    this.p = e;
    const n = parseNumAt(this.u, v, e);
    if (Number.isNaN(n)) throw new BodyError(start - this.start, `${key}: '${this.line.str(v, e)}' is not a number`);
    return n;
  }
  u64(key: string): bigint {
    const start = this.p;
    const t = this.token(key);
    const v = parseU64(t);
    if (v === null) throw new BodyError(start - this.start, `${key}: '${t}' is not a 64-bit value`);
    return v;
  }
  /** `key (a|b)` → `a|b`. */
  paren(key: string): string {
    const v = this.find(key);
    const u = this.u;
    if (u[v] !== 40) throw new BodyError(v - this.start, `${key}: expected '('`);
    let e = v + 1;
    while (e < this.end && u[e] !== 41) e++;
    if (e >= this.end) throw new BodyError(v - this.start, `${key}: unclosed '('`);
    this.p = e + 1;
    return this.line.str(v + 1, e);
  }
}

/** `0x1f`, `31`, `-5` → number (NaN if none of these). Hex above 2^53 loses precision (lengths only). */
export function parseNum(t: string): number {
  const u = new Uint8Array(t.length + 1);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c > 127) return NaN; // only ASCII digits, '-', 'x' and a-f spell a number
    u[i] = c;
  }
  return parseNumAt(u, 0, t.length);
}

/** Hex (with or without 0x, as `%p` prints) or decimal → u64 bigint, or null. */
export function parseU64(t: string): bigint | null {
  if (/^0x[0-9a-f]{1,16}$/i.test(t)) return BigInt(t);
  if (/^[0-9a-f]{16}$/i.test(t)) return BigInt('0x' + t);
  if (/^\d{1,20}$/.test(t)) return BigInt.asUintN(64, BigInt(t));
  return null;
}

// The line grammar, as regular expressions (the hand-written scanners below implement exactly
// these, without backtracking or capture strings; the lazy comm is the only search):
//   header     ^\s*(\S.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:([.a-zA-Z0-9]{4,5})\s+)?(\d+)(?:\.(\d+))?:\s+
//   event      ^(?:\w+:)?(\w+):(?:\s+|$)
//   sys enter  ^(sys_\w+)\((.*)\)\s*$
//   sys exit   ^(sys_\w+) -> (\S+)\s*$
const LOST = /LOST (\d+) EVENTS/;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** Syscalls that become app ops, by name without `sys_` (arguments named as in the syscall tables). */
const SYSCALL_OPS: Record<string, AppOp> = {
  open: 'open', openat: 'open', openat2: 'open', creat: 'open', read: 'read', write: 'write',
  pread64: 'pread', pwrite64: 'pwrite', fsync: 'fsync', fdatasync: 'fsync', ftruncate: 'truncate',
  fallocate: 'fallocate', close: 'close', copy_file_range: 'copy_file_range',
};

interface OpenFile { path: string; oflags: number }
/** A header start that matched (knownHeader): its code units up to the flags column, and what they gave. */
interface KnownHeader {
  prefix: Uint16Array;
  /** prefix[0, 4k) packed 4 units to an int32 (little-endian); null if a unit is not a byte. */
  words: Int32Array | null;
  pidLast: number; pidLastCode: number; pid: number; proc: number; task: TaskState }
/** Tasks (per CPU) that take turns in a trace (an app, a server's threads); the bench's mix has ~23. */
const KNOWN_HEADER_SLOTS = 32;
/** Longer header starts (a very long comm) are not remembered. */
const KNOWN_HEADER_MAX_CHARS = 128;
interface InFlight { op: AppOp; fd: number; path: string; oflags: number }
/** What is remembered per task (a field, not a Map keyed by the task string: looked up on every syscall). */
interface TaskState {
  readonly name: string;
  /** The syscall entered and not yet exited. */
  inFlight: InFlight | undefined;
  /** A uprobe's string argument, the path of this task's next open. */
  uprobePath: string | undefined;
  /** Whether the last iomap_iter had WRITE. */
  iterWrite: boolean | undefined;
  /** The fd a dup is copying. */
  dupFrom: number | undefined;
}

/** TextEncoder.encodeInto and streaming TextDecoder (both hosts have them; core's globals.d.ts declares less). */
interface Utf8Encoder { encodeInto(s: string, into: Uint8Array): { read: number; written: number } }
interface Utf8StreamDecoder { decode(input?: Uint8Array, options?: { stream?: boolean }): string }
const encoder = new TextEncoder() as unknown as Utf8Encoder;

export interface FtraceStats {
  lines: number;
  events: number;
  /** Lines that were not events: comments, trace-cmd headers, blank lines. */
  skipped: number;
}

export class FtraceParser implements LineText {
  /** Absolute ns of tsNs = 0 (the first event's timestamp); null until an event is seen. */
  originNs: bigint | null = null;
  /**
   * How the first event's time was printed: 'secs' (`secs.usecs`, or ns from `trace-cmd -t`: an
   * ns trace clock) or 'integer' (a raw count: the `counter`/`x86-tsc`… clocks); null before it.
   */
  stampKind: 'secs' | 'integer' | null = null;
  readonly stats: FtraceStats = { lines: 0, events: 0, skipped: 0 };
  private originSec = 0;
  private originFracNs = 0;
  /** The line being parsed is u[ls, le) with a 0 unit at le; `src` (if not null) holds the same text at the same indexes. */
  u: Units = new Uint8Array(1);
  private ls = 0;
  private le = 0;
  private src: string | null = null;
  /** The current line holds no line terminator ('\r' is the only one an ASCII line can hold): its chunk has none. */
  private crFree = false;
  /** A DataView of u when u is bytes (knownHeader compares 4 units per read), else null. */
  private words: DataView | null = null;
  private wordsOf: Uint8Array | null = null;
  /** The current chunk as bytes (encoded string or copied bytes), with room for a sentinel after it. */
  private chunkBuf = new Uint8Array(1 << 16);
  /** The unfinished last line: ASCII bytes partialBuf[0, partialLen), or partialStr once it holds other characters. */
  private partialBuf = new Uint8Array(1 << 12);
  private partialLen = 0;
  private partialStr = '';
  /** A line of a string chunk that is not all ASCII: its bytes if the line is, else its UTF-16 units. */
  private lineBytes = new Uint8Array(256);
  private lineUnits = new Uint16Array(256);
  private skippingLongLine = false;
  /** Byte chunks that are not all ASCII are decoded (streaming: a character may straddle chunks). */
  private decoder: Utf8StreamDecoder | null = null;
  /** The decoder may hold the start of a character: the next chunk goes through it too. */
  private utf8Pending = false;
  private readonly cur = new Cursor(this);
  /** `comm-pid` units → task string; tracepoint names. */
  private readonly tasks = new Interner<TaskState>();
  /** Every task's state by name (the interner forgets old keys; state must not be lost). */
  private readonly taskStates = new Map<string, TaskState>();
  private readonly names = new Interner<string>();
  /** Syscall names (without `sys_`) → the name and SYSCALL_OPS of it. */
  private readonly syscalls = new Interner<{ name: string; op: AppOp | undefined }>();
  /** Recently matched header starts (knownHeader), replaced round-robin; the last one that matched is tried first. */
  private readonly knownHeaders: KnownHeader[] = [];
  private nextKnownHeader = 0;
  private lastKnownHeader = 0;
  // Set by a header match: where the flags/timestamp column starts, the timestamp's digit ranges.
  private flagsCol = 0;
  private secStart = 0;
  private secEnd = 0;
  private fracStart = -1;
  private fracEnd = -1;
  // Syscall arguments of the current line (args()): 4 indexes per argument into u.
  private argBounds = new Int32Array(64);
  private argCount = 0;
  // Per line.
  private ts = 0;
  private task = '';
  private taskState: TaskState = newTaskState('');
  private pid = 0;
  private proc = 0;
  private lineNo = 0;
  // Deferral (file comment): events wait in `held` while any of these is open.
  private held: TraceEvent[] = [];
  private openStack: { ev: TraceEvent & { kind: 'instant' }; frames: string[] } | null = null;
  private readonly pendingByTask = new Map<string, TraceEvent>();
  private readonly zeroReqSends = new Map<number, Array<TraceEvent & { kind: 'fuse_send' }>>();
  // Joins within one trace.
  /**
   * Opcodes of sent requests by unique; NaN once replied. (Deleting from a Map that becomes nearly
   * empty shrinks its table every time, a runtime call: 4% of the parse. Replied entries are
   * dropped in bulk instead, amortized over MAX_REPLIED_KEPT replies.)
   */
  private readonly opcodeByUnique = new Map<number, number>();
  private openRequests = 0;
  /** iomap_iter_*map `flags` text → fuse map flags (splitting it per line was 1.5% of the parse). */
  private readonly kernelMapFlags = new Map<string, number>();
  private readonly fds = new Map<number, Map<number, OpenFile>>();

  constructor(
    private readonly sourceName: string,
    private readonly onEvent: (ev: TraceEvent) => void,
    readonly diags = new DiagSink(),
  ) {}

  /** Text (a string) or UTF-8 bytes; a file may be pushed either way, in chunks of any size. */
  push(chunk: string | Uint8Array): void {
    if (typeof chunk === 'string') {
      const n = chunk.length;
      if (this.chunkBuf.length <= n) this.chunkBuf = new Uint8Array(Math.max(n + 1, this.chunkBuf.length * 2));
      // All ASCII iff every unit became one byte; encodeInto is native and ~20x faster than a JS check.
      const { read, written } = encoder.encodeInto(chunk, this.chunkBuf);
      if (read === n && written === n) this.asciiChunk(n, chunk);
      else this.stringChunk(chunk);
      return;
    }
    const n = chunk.length;
    if (!this.utf8Pending) {
      if (this.chunkBuf.length <= n) this.chunkBuf = new Uint8Array(Math.max(n + 1, this.chunkBuf.length * 2));
      this.chunkBuf.set(chunk);
      if (isAscii(this.chunkBuf, n)) {
        this.asciiChunk(n, null);
        return;
      }
    }
    this.decoder ??= new TextDecoder() as unknown as Utf8StreamDecoder;
    // Only a chunk ending in a non-ASCII byte can end inside a character.
    if (n > 0) this.utf8Pending = chunk[n - 1]! >= 0x80;
    this.stringChunk(this.decoder.decode(chunk, { stream: true }));
  }

  /** chunkBuf[0, n) is ASCII (and equal to `src` if not null). */
  private asciiChunk(n: number, src: string | null): void {
    const buf = this.chunkBuf;
    const view = src === null ? buf.subarray(0, n) : null;
    const crFree = (src !== null ? src.indexOf('\r') : view!.indexOf(13)) < 0;
    let from = 0;
    if (this.partialLen > 0 || this.partialStr.length > 0) {
      const nl = src !== null ? src.indexOf('\n') : view!.indexOf(10);
      if (nl < 0) {
        if (this.partialStr.length > 0) this.keepPartialStr(this.partialStr + (src ?? unitsToString(buf, 0, n)));
        else if (this.partialLen + n > MAX_FTRACE_LINE_BYTES) {
          this.partialLen = 0;
          this.tooLong();
        } else this.appendPartial(buf, 0, n);
        return;
      }
      // Only the line that straddles the boundary is joined.
      if (this.partialStr.length > 0) {
        const joined = this.partialStr + (src !== null ? src.slice(0, nl) : unitsToString(buf, 0, nl));
        this.partialStr = '';
        this.stringLine(joined);
      } else {
        this.appendPartial(buf, 0, nl);
        const len = this.partialLen;
        this.partialLen = 0;
        this.bytesLine(this.partialBuf, 0, len, null, false);
      }
      from = nl + 1;
    }
    const start = this.lines(buf, view, from, src, crFree);
    if (n - start > MAX_FTRACE_LINE_BYTES) this.tooLong();
    else this.appendPartial(buf, start, n);
  }

  private appendPartial(buf: Uint8Array, from: number, to: number): void {
    const len = this.partialLen + to - from;
    if (this.partialBuf.length <= len) {
      const grown = new Uint8Array(Math.max(len + 1, this.partialBuf.length * 2));
      grown.set(this.partialBuf.subarray(0, this.partialLen));
      this.partialBuf = grown;
    }
    this.partialBuf.set(buf.subarray(from, to), this.partialLen);
    this.partialLen = len;
  }

  /** The unfinished line is too long to be a line: dropped up to its end (and reported once). */
  private tooLong(): void {
    if (!this.skippingLongLine) this.diag(this.lineNo + 1, 1, 'line_too_long', `line longer than ${MAX_FTRACE_LINE_BYTES} bytes skipped`);
    this.skippingLongLine = true;
  }

  private keepPartialStr(text: string): void {
    if (text.length > MAX_FTRACE_LINE_BYTES) {
      this.tooLong();
      text = '';
    }
    this.partialStr = text;
  }

  /**
   * Parses every complete line of an ASCII chunk from `start`; returns where the unfinished rest
   * starts. Newlines are found in the string if there is one (its indexOf is faster than a typed
   * array's). A loop of its own, with nothing after it: V8 reuses on-stack-replacement code across
   * calls, and code after a loop that the first OSR compile never saw deoptimized it on every chunk.
   */
  private lines(buf: Uint8Array, view: Uint8Array | null, start: number, src: string | null, crFree: boolean): number {
    for (;;) {
      const nl = src !== null ? src.indexOf('\n', start) : view!.indexOf(10, start);
      if (nl < 0) return start;
      this.bytesLine(buf, start, nl, src, crFree);
      start = nl + 1;
    }
  }

  /** A string chunk with non-ASCII characters (or decoded bytes): split here, each line parsed from its units. */
  private stringChunk(chunk: string): void {
    if (this.partialLen > 0) {
      this.partialStr = unitsToString(this.partialBuf, 0, this.partialLen);
      this.partialLen = 0;
    }
    let from = 0;
    if (this.partialStr.length > 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.keepPartialStr(this.partialStr + chunk);
        return;
      }
      const joined = this.partialStr + chunk.slice(0, nl);
      this.partialStr = '';
      this.stringLine(joined);
      from = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      if (nl < 0) break;
      this.stringLine(chunk.slice(from, nl));
      from = nl + 1;
    }
    this.keepPartialStr(from === 0 ? chunk : chunk.slice(from));
  }

  end(): void {
    if (this.utf8Pending) {
      this.utf8Pending = false;
      const tail = this.decoder!.decode();
      if (tail.length > 0) this.stringChunk(tail);
    }
    if (this.partialLen > 0) {
      const len = this.partialLen;
      this.partialLen = 0;
      this.bytesLine(this.partialBuf, 0, len, null, false);
    } else if (this.partialStr.length > 0) {
      const last = this.partialStr;
      this.partialStr = '';
      this.stringLine(last);
    }
    this.closeStack();
    this.pendingByTask.clear();
    this.zeroReqSends.clear();
    this.flush();
    if (this.stats.events === 0 && this.diags.count === 0) this.diag(0, 0, 'empty', 'no trace events in file');
  }

  private diag(line: number, col: number, code: string, message: string): void {
    this.diags.add({ source: this.sourceName, line, col, code, message });
  }

  /** u[from, to) of the current line as a string (a slice of the source string when there is one). */
  str(from: number, to: number): string {
    return this.src !== null ? this.src.slice(from, to) : unitsToString(this.u, from, to);
  }

  /** Starts a line; false if it is the rest of a line too long to parse. */
  private startLine(): boolean {
    this.lineNo++;
    this.stats.lines++;
    if (!this.skippingLongLine) return true;
    this.skippingLongLine = false;
    return false;
  }

  /** The ASCII line u[ls, end) (end: its '\n' or the end of input); `src` as in str(). */
  private bytesLine(u: Uint8Array, ls: number, end: number, src: string | null, crFree: boolean): void {
    if (!this.startLine()) return;
    const le = end > ls && u[end - 1] === 13 ? end - 1 : end;
    if (le - ls > MAX_FTRACE_LINE_BYTES) {
      this.diag(this.lineNo, 1, 'line_too_long', `line longer than ${MAX_FTRACE_LINE_BYTES} bytes skipped`);
      return;
    }
    u[le] = 0; // the sentinel (units.ts): over the '\r' or '\n' just consumed, or the spare unit after the data
    this.u = u;
    this.ls = ls;
    this.le = le;
    this.src = src;
    this.crFree = crFree;
    if (u !== this.wordsOf) {
      this.wordsOf = u;
      this.words = new DataView(u.buffer, u.byteOffset, u.byteLength);
    }
    this.parse();
  }

  /** A line as a string (from a chunk that is not all ASCII): parsed from its bytes if it is ASCII, else its UTF-16 units. */
  private stringLine(raw: string): void {
    if (!this.startLine()) return;
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    const n = text.length;
    if (n > MAX_FTRACE_LINE_BYTES) {
      this.diag(this.lineNo, 1, 'line_too_long', `line longer than ${MAX_FTRACE_LINE_BYTES} bytes skipped`);
      return;
    }
    if (this.lineBytes.length <= n) this.lineBytes = new Uint8Array(n * 2 + 1);
    const { read, written } = encoder.encodeInto(text, this.lineBytes);
    let u: Units = this.lineBytes;
    if (read !== n || written !== n) {
      if (this.lineUnits.length <= n) this.lineUnits = new Uint16Array(n * 2 + 1);
      u = this.lineUnits;
      for (let i = 0; i < n; i++) u[i] = text.charCodeAt(i);
    }
    u[n] = 0;
    this.u = u;
    this.ls = 0;
    this.le = n;
    this.src = text;
    this.crFree = false;
    this.words = null;
    this.wordsOf = null;
    this.parse();
  }

  /** The current line, from its first unit. */
  private parse(): void {
    const u = this.u;
    const ls = this.ls;
    const le = this.le;
    let bodyCol = this.knownHeader();
    if (bodyCol >= 0) {
      this.closeStack();
    } else {
      // Stack frames continue the open <stack trace> block.
      let i = ls;
      while (u[i] === 32 || u[i] === 9) i++;
      if (u[i] === 61 && u[i + 1] === 62) {
        if (this.openStack) this.openStack.frames.push(this.str(i + 2, le).trim());
        else this.diag(this.lineNo, i - ls + 1, 'orphan_frame', "'=>' stack frame without a <stack trace> line before it");
        return;
      }
      this.closeStack();
      if (i === le || u[i] === 35) {
        this.stats.skipped++;
        return;
      }
      bodyCol = this.header(i);
      if (bodyCol < 0) {
        this.nonEventLine(i);
        return;
      }
    }
    this.stats.events++;
    try {
      this.dispatch(bodyCol);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      this.diag(this.lineNo, bodyCol - ls + 1, 'bad_body', e.message);
      this.emit({ kind: 'instant', tsNs: this.ts, task: this.task, name: 'unparsed', text: this.str(bodyCol, le) });
    }
  }

  /** First index of unit `c` in [from, le) of the current line, or -1. */
  private indexOfUnit(c: number, from: number): number {
    const u = this.u;
    for (let i = from; i < this.le; i++) if (u[i] === c) return i;
    return -1;
  }

  /**
   * Matches the header (grammar above) at the start of the line; on success sets pid, proc, task
   * and time and returns the body's index, else -1. `commStart` is past the leading spaces and
   * tabs. The comm is lazy: the first '-' after which the rest of the header matches ends it.
   */
  private header(commStart: number): number {
    const u = this.u;
    let cs = commStart;
    while (isWs(u[cs]!)) cs++;
    if (cs >= this.le) return -1;
    const firstDash = this.indexOfUnit(45, cs + 1);
    for (let dash = firstDash; dash >= 0; dash = this.indexOfUnit(45, dash + 1)) {
      const bodyCol = this.headerAfterComm(cs, dash);
      if (bodyCol === -1) continue;
      if (bodyCol >= 0 && dash === firstDash) this.rememberHeader(dash);
      return bodyCol < 0 ? -1 : bodyCol;
    }
    return -1;
  }

  /**
   * Remembers the start of the header that just matched, up to its flags/timestamp column (see
   * knownHeader). Only for a comm that ended at its first '-': with an earlier '-' in the comm,
   * whether that dash could end it on another line depends on text after the prefix.
   */
  private rememberHeader(dash: number): void {
    const u = this.u;
    const ls = this.ls;
    const n = this.flagsCol - ls;
    if (n > KNOWN_HEADER_MAX_CHARS) return;
    let pidEnd = dash + 1;
    while (isDigit(u[pidEnd]!)) pidEnd++;
    const prefix = new Uint16Array(n);
    prefix.set(u.subarray(ls, ls + n));
    const packed = new Int32Array(n >> 2);
    let words: Int32Array | null = packed;
    for (let j = 0; j < packed.length; j++) {
      const at = ls + 4 * j;
      if ((u[at]! | u[at + 1]! | u[at + 2]! | u[at + 3]!) > 255) {
        words = null;
        break;
      }
      packed[j] = u[at]! | (u[at + 1]! << 8) | (u[at + 2]! << 16) | (u[at + 3]! << 24);
    }
    this.knownHeaders[this.nextKnownHeader] = {
      prefix, words, pidLast: pidEnd - 1 - ls, pidLastCode: u[pidEnd - 1]!,
      pid: this.pid, proc: this.proc, task: this.taskState,
    };
    this.nextKnownHeader = (this.nextKnownHeader + 1) % KNOWN_HEADER_SLOTS;
  }

  /**
   * The header of a line that starts like a recently matched one, unit for unit up to the flags
   * or timestamp column (and not followed by more whitespace there): the grammar made the same
   * decisions on those units, so only the flags, timestamp and ':' are left to match; sets time,
   * pid, proc and task and returns the body's index. -1 if no prefix applies or the rest does not
   * match (then the full scan decides: the comm may end at a later '-'). A trace is a few tasks
   * taking turns, so a handful of prefixes cover nearly every line and skip ~45 of ~110 chars.
   */
  private knownHeader(): number {
    const u = this.u;
    const ls = this.ls;
    const len = this.le - ls;
    const dv = this.words;
    const known = this.knownHeaders;
    const count = known.length;
    for (let e = 0, at = this.lastKnownHeader; e < count; e++, at = at + 1 === count ? 0 : at + 1) {
      const h = known[at]!;
      const prefix = h.prefix;
      const n = prefix.length;
      // The pid's last digit first: tasks' prefixes share their leading spaces, often the comm.
      if (len <= n || u[ls + h.pidLast] !== h.pidLastCode) continue;
      // 4 units per read where it can (a loop over ~45 units was 7% of the parse; the source
      // string's startsWith measured slower than that loop).
      let k = 0;
      const w = h.words;
      if (dv !== null && w !== null) {
        let j = 0;
        while (j < w.length && dv.getInt32(ls + 4 * j, true) === w[j]) j++;
        if (j < w.length) continue;
        k = 4 * j;
      }
      while (k < n && u[ls + k] === prefix[k]) k++;
      if (k < n || isWs(u[ls + n]!)) continue;
      const bodyCol = this.timeAndColon(ls + n);
      if (bodyCol < 0) return -1;
      this.lastKnownHeader = at;
      this.pid = h.pid;
      this.proc = h.proc;
      this.taskState = h.task;
      this.task = h.task.name;
      this.setTime();
      return bodyCol;
    }
    return -1;
  }

  /** The header after a comm ending at `dash`: the body's index, -1 (try the next dash) or -2 (no match at all). */
  private headerAfterComm(cs: number, dash: number): number {
    const u = this.u;
    let p = dash + 1;
    const pidStart = p;
    while (isDigit(u[p]!)) p++;
    const pidEnd = p;
    if (pidEnd === pidStart || !isWs(u[p]!)) return -1;
    while (isWs(u[++p]!));
    let tgid = 0;
    if (u[p] === 40) { // (tgid) or (-----)
      while (isWs(u[++p]!));
      const t0 = p;
      if (isDigit(u[p]!)) {
        while (isDigit(u[++p]!));
        tgid = decAt(u, t0, p);
      } else if (u[p] === 45) {
        while (u[++p] === 45);
      } else return -1;
      if (u[p] !== 41 || !isWs(u[p + 1]!)) return -1;
      p++;
      while (isWs(u[++p]!));
    }
    if (u[p] !== 91) return -1; // [cpu]
    const cpuStart = ++p;
    while (isDigit(u[p]!)) p++;
    if (p === cpuStart || u[p] !== 93 || !isWs(u[p + 1]!)) return -1;
    p++;
    while (isWs(u[++p]!));
    this.flagsCol = p;
    p = this.timeAndColon(p);
    if (p < 0) return -1;
    // Matched, unless the comm holds a line terminator (`.` stops there; later dashes would only
    // include it too).
    for (let k = cs + 1; k < dash; k++) if (isLineTerminator(u[k]!)) return -2;
    this.pid = decAt(u, pidStart, pidEnd);
    this.proc = tgid || this.pid;
    let state = this.tasks.get(u, cs, pidEnd);
    if (state === undefined) {
      const name = `${unitsToString(u, cs, dash)}/${unitsToString(u, pidStart, pidEnd)}`;
      state = this.taskStates.get(name);
      if (state === undefined) this.taskStates.set(name, (state = newTaskState(name)));
      this.tasks.put(unitsToString(u, cs, pidEnd), state);
    }
    this.taskState = state;
    this.task = state.name;
    this.setTime();
    return p;
  }

  /**
   * The header from its flags column `p` on: `[flags] secs[.frac]: `. Returns the body's index
   * (or -1) and leaves the timestamp's digit ranges in secStart/secEnd/fracStart/fracEnd.
   */
  private timeAndColon(p: number): number {
    const u = this.u;
    // 4 or 5 flag characters and a space are the flags; digits then ':' cannot be (no ':' in them).
    let q = p;
    while (isFlagChar(u[q]!)) q++;
    if ((q - p === 4 || q - p === 5) && isWs(u[q]!)) {
      p = q;
      while (isWs(u[++p]!));
    }
    const secStart = p;
    while (isDigit(u[p]!)) p++;
    const secEnd = p;
    if (secEnd === secStart) return -1;
    let fracStart = -1;
    let fracEnd = -1;
    if (u[p] === 46) {
      fracStart = ++p;
      while (isDigit(u[p]!)) p++;
      fracEnd = p;
      if (fracEnd === fracStart) return -1;
    }
    if (u[p] !== 58 || !isWs(u[p + 1]!)) return -1;
    p++;
    while (isWs(u[++p]!));
    this.secStart = secStart;
    this.secEnd = secEnd;
    this.fracStart = fracStart;
    this.fracEnd = fracEnd;
    return p;
  }

  /** Comments, trace-cmd headers, lost-event markers; anything else is a diag. */
  private nonEventLine(indent: number): void {
    const t = this.str(indent, this.le);
    const lost = LOST.exec(t);
    if (lost) {
      const n = Number(lost[1]);
      this.emit({ kind: 'gap', tsNs: this.ts, task: '', missedEvents: n, fromTsNs: this.ts, toTsNs: this.ts });
      return;
    }
    if (/^(cpus=\d+|version = |CPU \d+ is empty|trace-cmd: |\s*\[?\d+\] ?$)/.test(t) || /^[A-Za-z_ ]+ = /.test(t)) {
      this.stats.skipped++;
      return;
    }
    this.diag(this.lineNo, indent - this.ls + 1, 'unparsable', `not an ftrace event line: ${excerpt(t)}`);
  }

  /** The timestamp's digits are [secStart, secEnd) and, after a '.', [fracStart, fracEnd) (-1: none). */
  private setTime(): void {
    const u = this.u;
    const { secStart, secEnd, fracStart, fracEnd } = this;
    let sec: number;
    let fracNs: number;
    if (fracStart >= 0) {
      sec = decAt(u, secStart, secEnd);
      const digits = Math.min(fracEnd - fracStart, 9);
      fracNs = decAt(u, fracStart, fracStart + digits) * POW10[9 - digits]!;
    } else if (secEnd - secStart > 9) {
      sec = decAt(u, secStart, secEnd - 9);
      fracNs = decAt(u, secEnd - 9, secEnd);
    } else {
      sec = 0;
      fracNs = decAt(u, secStart, secEnd);
    }
    if (this.originNs === null) {
      this.originSec = sec;
      this.originFracNs = fracNs;
      this.originNs = BigInt(sec) * 1_000_000_000n + BigInt(fracNs);
      this.stampKind = fracStart >= 0 ? 'secs' : 'integer';
    }
    this.ts = (sec - this.originSec) * 1e9 + (fracNs - this.originFracNs);
  }

  /** The body starts at `b`: a stack trace, a syscall (raw_syscalls/syscalls text) or `event: body`. */
  private dispatch(b: number): void {
    const u = this.u;
    const c0 = u[b];
    if (c0 === 60 && hasAt(u, b, '<stack trace>')) {
      const ev = { kind: 'instant' as const, tsNs: this.ts, task: this.task, name: 'stack_trace', text: '' };
      this.openStack = { ev, frames: [] };
      this.emit(ev);
      return;
    }
    if (c0 === 115 && u[b + 1] === 121 && u[b + 2] === 115 && u[b + 3] === 95 && // sys_, not sys_enter_/sys_exit_
      (u[b + 4] !== 101 || (!hasAt(u, b + 4, 'enter_') && !hasAt(u, b + 4, 'exit_'))) && this.syscall(b)) {
      return;
    }
    // ^(?:\w+:)?(\w+):(?:\s+|$)
    const end = this.le;
    let p = b;
    while (isWord(u[p]!)) p++;
    if (p > b && u[p] === 58) {
      let q = p + 1;
      while (isWord(u[q]!)) q++;
      if (q > p + 1 && u[q] === 58 && (q + 1 === end || isWs(u[q + 1]!))) return this.event(this.name(p + 1, q), skipWs(u, q + 1));
      if (p + 1 === end || isWs(u[p + 1]!)) return this.event(this.name(b, p), skipWs(u, p + 1));
    }
    throw new BodyError(0, `expected 'event: body' after the timestamp: ${excerpt(this.str(b, end))}`);
  }

  /** The tracepoint name u[from, to), interned. */
  private name(from: number, to: number): string {
    const names = this.names;
    const name = names.get(this.u, from, to);
    if (name !== undefined) return name;
    const key = unitsToString(this.u, from, to);
    return names.put(key, key);
  }

  /** `sys_NAME(args)` or `sys_NAME -> ret` at `b` (grammar above); false if neither matches. */
  private syscall(b: number): boolean {
    const u = this.u;
    let p = b + 4;
    while (isWord(u[p]!)) p++;
    if (p === b + 4) return false;
    const nameEnd = p;
    const end = this.le;
    // Enter and exit lines of one call are adjacent, and a trace uses a handful of calls: reuse the
    // name string and its table lookup.
    let call = this.syscalls.get(u, b + 4, nameEnd);
    if (call === undefined) {
      const name = unitsToString(u, b + 4, nameEnd);
      call = this.syscalls.put(name, { name, op: SYSCALL_OPS[name] });
    }
    const sys = call.name;
    const op = call.op;
    if (u[p] === 40) {
      let close = end;
      while (close > p + 1 && isWs(u[close - 1]!)) close--;
      close--;
      if (close <= p || u[close] !== 41) return false;
      if (!this.crFree) for (let k = p + 1; k < close; k++) if (isLineTerminator(u[k]!)) return false;
      this.syscallEnter(sys, op, p + 1, close);
      return true;
    }
    if (!hasAt(u, p, ' -> ')) return false;
    const retStart = p + 4;
    let retEnd = retStart;
    while (retEnd < end && !isWs(u[retEnd]!)) retEnd++;
    if (retEnd === retStart) return false;
    for (let k = retEnd; k < end; k++) if (!isWs(u[k]!)) return false;
    this.syscallExit(sys, op, retStart, retEnd);
    return true;
  }

  /** A tracepoint's body is u[b, le). */
  private event(name: string, b: number): void {
    const c = this.cur.reset(b, this.le);
    const task = this.task;
    const tsNs = this.ts;
    switch (name) {
      case 'fuse_request_send': {
        const conn = c.num('connection');
        const unique = c.num('req');
        const opcode = c.num('opcode');
        const lenBytes = c.num('len');
        const ev = { kind: 'fuse_send' as const, tsNs, task, unique, opcode, nodeId: 0, lenBytes };
        if (unique === 0) {
          let q = this.zeroReqSends.get(conn);
          if (!q) this.zeroReqSends.set(conn, (q = []));
          q.push(ev);
        } else {
          const prev = this.opcodeByUnique.get(unique);
          if (prev === undefined || Number.isNaN(prev)) this.openRequests++;
          this.opcodeByUnique.set(unique, opcode);
        }
        this.emit(ev);
        return;
      }
      case 'fuse_request_end': {
        const conn = c.num('connection');
        const unique = c.num('req');
        const lenBytes = c.num('len');
        const error = c.num('error');
        let opcode = this.opcodeByUnique.get(unique);
        if (opcode === undefined || Number.isNaN(opcode)) {
          opcode = undefined;
          const q = this.zeroReqSends.get(conn);
          const send = q?.shift();
          if (send) {
            send.unique = unique;
            opcode = send.opcode;
          }
        } else {
          this.opcodeByUnique.set(unique, NaN);
          this.openRequests--;
          if (this.opcodeByUnique.size > MAX_REPLIED_KEPT + 2 * this.openRequests) this.dropReplied();
        }
        this.emit({ kind: 'fuse_reply', tsNs, task, unique, opcode: opcode ?? 0, error, lenBytes });
        return;
      }
      case 'contention_begin':
      case 'contention_end': {
        const body = c.text();
        const sp = body.indexOf(' ');
        const addr = parseU64(sp < 0 ? body : body.slice(0, sp));
        if (addr === null) throw new BodyError(0, `bad lock address: ${excerpt(body)}`);
        const begin = name === 'contention_begin';
        let lockFlags = 0;
        let ret = 0;
        if (begin) {
          const f = /\(flags=([^)]*)\)/.exec(body);
          if (!f) throw new BodyError(sp, "expected '(flags=…)'");
          lockFlags = this.flags(f[1]!, LOCK_FLAG_STRINGS, 'lock flag');
        } else {
          const r = /\(ret=(-?\d+)\)/.exec(body);
          if (!r) throw new BodyError(sp, "expected '(ret=…)'");
          ret = Number(r[1]);
        }
        this.emit({ kind: 'lock_contention', tsNs, task, phase: begin ? 'begin' : 'end', lockAddr: addr, lockFlags, ret });
        return;
      }
      case 'tracing_mark_write':
      case 'print':
        this.emit({ kind: 'instant', tsNs, task, name: 'tracing_mark_write', text: c.text() });
        return;
      case 'iomap_iter_dstmap':
      case 'iomap_iter_srcmap': {
        c.token('dev');
        const ino = c.num('ino');
        const bdev = c.token('bdev');
        const mapAddr = c.u64('addr');
        const mapOffsetBytes = c.num('offset');
        const mapLenBytes = c.num('length');
        const typeName = c.token('type');
        const flagsText = c.token('flags');
        const mapType = mapTypeFromName(typeName.toLowerCase()) ?? parseNum(typeName);
        if (Number.isNaN(mapType)) throw new BodyError(c.p, `unknown mapping type '${typeName}'`);
        let mapFlags = this.kernelMapFlags.get(flagsText);
        if (mapFlags === undefined) {
          const fuseNames = flagsText.split('|').map((f) => KERNEL_MAP_FLAG_TO_FUSE[f] ?? '').filter((f) => f !== '');
          mapFlags = parseFlags(fuseNames.join('|'), mapFlagStrings).value;
          if (this.kernelMapFlags.size >= MAX_CACHED_FLAG_TEXTS) this.kernelMapFlags.clear();
          this.kernelMapFlags.set(flagsText, mapFlags);
        }
        const slot = name === 'iomap_iter_srcmap' ? 'read' : this.taskState.iterWrite ? 'write' : 'read';
        this.emit({ rawType: '',
          kind: 'iomap_map', tsNs, task, nodeId: 0, ino, slot, source: 'reply',
          mapType, mapFlags, mapOffsetBytes, mapLenBytes,
          mapAddr, mapDev: devT(bdev), cookie: 0,
        });
        return;
      }
      case 'iomap_iter': {
        this.taskState.iterWrite = this.iterFlagsWrite(b, this.le);
        break;
      }
      default:
        if (name.startsWith('fuse_')) {
          if (this.fuseSeries(name, c)) return;
        } else if (name.startsWith('sys_enter_') || name.startsWith('sys_exit_')) {
          // trace-cmd style: `sys_enter_pwrite64: fd: 0x…, buf: …` / `sys_exit_pwrite64: 0x1000`.
          if (name.startsWith('sys_enter_')) {
            const sys = name.slice(10);
            return this.syscallEnter(sys, SYSCALL_OPS[sys], b, this.le);
          }
          const sys = name.slice(9);
          // The return value is the body trimmed.
          const u = this.u;
          let rs = b;
          let re = this.le;
          while (rs < re && isWs(u[rs]!)) rs++;
          while (re > rs && isWs(u[re - 1]!)) re--;
          return this.syscallExit(sys, SYSCALL_OPS[sys], rs, re);
        } else if (this.u[b] === 40) {
          const body = c.text();
          if (/^\(0x[0-9a-f]+(?: <- 0x[0-9a-f]+)?\)/.test(body)) {
            this.uprobe(name, body);
            return;
          }
        }
    }
    this.emit({ kind: 'instant', tsNs, task, name, text: c.text() });
  }

  /** `/\bflags (\S*) \(/` on the body u[b, end), and whether that run split on '|' includes WRITE. */
  private iterFlagsWrite(b: number, end: number): boolean {
    const u = this.u;
    for (let i = b; i + 6 <= end; i++) {
      if (u[i] !== 102 || !hasAt(u, i, 'flags ') || (i > b && isWord(u[i - 1]!))) continue;
      const s = i + 6;
      let e = s;
      while (e < end && !isWs(u[e]!)) e++;
      if (u[e] !== 32 || u[e + 1] !== 40) continue; // \S* then ' (' (a shorter run would end before a non-space)
      for (let p = s; ;) {
        let q = p;
        while (q < e && u[q] !== 124) q++;
        if (q - p === 5 && hasAt(u, p, 'WRITE')) return true;
        if (q >= e) return false;
        p = q + 1;
      }
    }
    return false;
  }

  private dropReplied(): void {
    const map = this.opcodeByUnique;
    if (this.openRequests === 0) map.clear();
    else for (const [unique, opcode] of map) if (Number.isNaN(opcode)) map.delete(unique);
  }

  private flags(text: string, table: ReadonlyArray<readonly [number, string]>, what: string): number {
    const { value, unknown } = parseFlags(text, table);
    if (unknown.length > 0) this.diag(this.lineNo, 0, 'unknown_flag', `unknown ${what} ${unknown.join('|')}`);
    return value;
  }

  /** INODE prefix (§4.4): v7 has idisksize, v6 and earlier do not. */
  private inode(c: Cursor): { nodeId: number; ino: number; isize: number; idisksize: number } {
    c.num('connection');
    const ino = c.num('ino');
    const nodeId = c.num('nodeid');
    const isize = c.num('isize');
    const idisksize = c.has('idisksize') ? c.num('idisksize') : 0;
    return { nodeId, ino, isize, idisksize };
  }

  private map(c: Cursor, prefix: string): {
    mapOffsetBytes: number; mapLenBytes: number; mapType: number; mapDev: number; mapAddr: bigint; mapFlags: number;
  } {
    const mapOffsetBytes = c.num(prefix + 'offset');
    const mapLenBytes = c.num('length');
    const typeName = c.token('type');
    const mapType = mapTypeFromName(typeName) ?? parseNum(typeName);
    if (Number.isNaN(mapType)) throw new BodyError(c.p, `unknown mapping type '${typeName}'`);
    const mapDev = c.num('dev');
    const mapAddr = c.u64('addr');
    const mapFlags = this.flags(c.paren('mapflags'), mapFlagStrings, 'mapping flag');
    return { mapOffsetBytes, mapLenBytes, mapType, mapDev, mapAddr, mapFlags };
  }

  /** The series' fuse_iomap_* tracepoints (§4.4) that map to schema kinds; false = keep as instant. */
  private fuseSeries(name: string, c: Cursor): boolean {
    const tsNs = this.ts;
    const task = this.task;
    switch (name) {
      case 'fuse_iomap_begin': {
        const { nodeId, ino } = this.inode(c);
        const opflags = this.flags(c.paren('opflags'), opFlagStrings, 'opflag');
        const posBytes = c.num('pos');
        const lenBytes = c.num('length');
        this.emit({ fsDev: 0, kind: 'iomap_begin', tsNs, task, nodeId, ino, opflags, posBytes, lenBytes });
        return true;
      }
      case 'fuse_iomap_read_map':
      case 'fuse_iomap_write_map': {
        const { nodeId, ino } = this.inode(c);
        const m = this.map(c, '');
        this.emit({ rawType: '',
          kind: 'iomap_map', tsNs, task, nodeId, ino, slot: name === 'fuse_iomap_read_map' ? 'read' : 'write',
          source: 'reply', ...m, cookie: 0,
        });
        return true;
      }
      case 'fuse_iomap_end': {
        const { nodeId, ino } = this.inode(c);
        const opflags = this.flags(c.paren('opflags'), opFlagStrings, 'opflag');
        const posBytes = c.num('pos');
        const lenBytes = c.num('length');
        const writtenBytes = c.num('written');
        const m = this.map(c, '');
        this.emit({ rawType: '', kind: 'iomap_end', tsNs, task, nodeId, ino, opflags, posBytes, lenBytes, writtenBytes, ...m });
        return true;
      }
      case 'fuse_iomap_ioend': {
        const { nodeId, ino, idisksize } = this.inode(c);
        const posBytes = c.num('pos');
        const writtenBytes = c.num('length');
        const ioendFlags = this.flags(c.paren('ioendflags'), ioendFlagStrings, 'ioend flag');
        const error = c.num('error');
        if (c.has('dev')) c.num('dev');
        const newAddr = c.u64('new_addr');
        // The tracepoint has no size after the ioend: an append ioend extends the on-disk size to
        // its end, any other leaves the kernel's idisksize (the kernel's own estimate, §1.5).
        const appends = (ioendFlags & 16) !== 0;
        const newSizeBytes = appends ? Math.max(idisksize, posBytes + writtenBytes) : idisksize;
        const ev = {
          kind: 'iomap_ioend' as const, tsNs, task, nodeId, ino, posBytes, writtenBytes, ioendFlags, error,
          newAddr, newSizeBytes, sent: false,
        };
        this.pendingByTask.set(task, ev);
        this.emit(ev);
        return true;
      }
      case 'fuse_iomap_bad_data': {
        this.emit({
          kind: 'iomap_bad_data', tsNs, task, nodeId: 0, ino: 0, message: c.text().trim(), error: -EFSCORRUPTED,
        });
        return true;
      }
      case 'fuse_iomap_cache_lookup': {
        const { nodeId, ino } = this.inode(c);
        const posBytes = c.num('pos');
        const lenBytes = c.num('length');
        const fork = this.iodir(c);
        const ev = {
          kind: 'cache_lookup' as const, tsNs, task, nodeId, ino, fork, posBytes, lenBytes, hit: false,
          mapType: 0, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: NULL_ADDR, mapDev: 0, cookie: 0,
          rawType: '', forkAbsent: false,
        };
        this.pendingByTask.set(task, ev);
        this.emit(ev);
        return true;
      }
      case 'fuse_iomap_cache_lookup_result': {
        const { nodeId, ino } = this.inode(c);
        const posBytes = c.num('pos');
        const lenBytes = c.num('length');
        const fork = this.iodir(c);
        const m = this.map(c, 'map');
        this.map(c, 'got');
        const cookie = c.num('cookie');
        const pending = this.pendingByTask.get(task);
        if (pending?.kind === 'cache_lookup' && pending.fork === fork && pending.nodeId === nodeId) {
          this.pendingByTask.delete(task);
          Object.assign(pending, { hit: true, cookie, ...m });
          return true;
        }
        this.emit({ forkAbsent: false, rawType: '', kind: 'cache_lookup', tsNs, task, nodeId, ino, fork, posBytes, lenBytes, hit: true, ...m, cookie });
        return true;
      }
      case 'fuse_iomap_upsert_mappings':
      case 'fuse_iomap_upsert': {
        const { nodeId, ino } = this.inode(c);
        c.num('attr_ino');
        const read = this.map(c, 'read');
        const write = this.map(c, 'write');
        // A fork whose type is NOCACHE (or the null type) is left alone by the kernel (§1.5).
        if (read.mapType < 253) this.emit({ rawType: '', rejected: false, kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'read', ...read, seq: 0 });
        if (write.mapType < 253) this.emit({ rawType: '', rejected: false, kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'write', ...write, seq: 0 });
        return true;
      }
      case 'fuse_iomap_inval_mappings':
      case 'fuse_iomap_inval': {
        const { nodeId, ino } = this.inode(c);
        c.num('attr_ino');
        for (const fork of ['read', 'write'] as const) {
          const posBytes = c.num(fork + 'pos');
          const lenBytes = c.num('length');
          if (lenBytes !== 0) this.emit({ kind: 'cache_inval', tsNs, task, nodeId, ino, fork, posBytes, lenBytes, reason: 'server', seq: 0 });
        }
        return true;
      }
      case 'fuse_iomap_invalid': {
        const { nodeId, ino } = this.inode(c);
        const m = this.map(c, '');
        const oldCookie = c.num('old_cookie');
        const newCookie = c.num('new_cookie');
        this.emit({ rawType: '', kind: 'cache_stale', tsNs, task, nodeId, ino, posBytes: m.mapOffsetBytes, oldCookie, newCookie, ...m });
        return true;
      }
      default:
        return false;
    }
  }

  private iodir(c: Cursor): Fork {
    const d = c.token('iodir');
    if (d !== 'read' && d !== 'write') throw new BodyError(c.p, `iodir must be read or write, not '${d}'`);
    return d;
  }

  /**
   * Splits syscall arguments `name: value, …` (decimal or hex, §real-capture) in u[from, to)
   * into trimmed key/value index ranges (parts split on ', ', key before the first ': '), without
   * building strings; read with argIdx/argLong.
   */
  private args(from: number, to: number): void {
    const u = this.u;
    let n = 0;
    let s = from;
    for (;;) {
      // One pass: the part ends at the first ', ' wholly inside [s, to) (else at `to`); its key
      // ends at the part's first ': ' (none ends in the part unless it is wholly inside).
      let e = s;
      let colon = -1;
      for (; e + 1 < to; e++) {
        const c = u[e];
        if (u[e + 1] !== 32) continue;
        if (c === 44) break;
        if (c === 58 && colon < 0) colon = e;
      }
      if (e + 1 >= to) e = to;
      if (colon > s) {
        if (4 * (n + 1) > this.argBounds.length) {
          const grown = new Int32Array(this.argBounds.length * 2);
          grown.set(this.argBounds);
          this.argBounds = grown;
        }
        const b = this.argBounds;
        let ks = s;
        let ke = colon;
        while (ks < ke && isWs(u[ks]!)) ks++;
        while (ke > ks && isWs(u[ke - 1]!)) ke--;
        let vs = colon + 2;
        let ve = e;
        while (vs < ve && isWs(u[vs]!)) vs++;
        while (ve > vs && isWs(u[ve - 1]!)) ve--;
        b[4 * n] = ks;
        b[4 * n + 1] = ke;
        b[4 * n + 2] = vs;
        b[4 * n + 3] = ve;
        n++;
      }
      if (e === to) break;
      s = e + 2;
    }
    this.argCount = n;
  }

  /** Index of the last argument named `key` (a repeated name: the last one wins), or -1. */
  private argIdx(key: string): number {
    const b = this.argBounds;
    for (let i = this.argCount - 1; i >= 0; i--) {
      if (b[4 * i + 1]! - b[4 * i]! === key.length && hasAt(this.u, b[4 * i]!, key)) return i;
    }
    return -1;
  }

  private argLong(idx: number): number {
    return idx < 0 ? NaN : parseLongAt(this.u, this.argBounds[4 * idx + 2]!, this.argBounds[4 * idx + 3]!);
  }

  private argNum(sys: string, key: string): number {
    const n = this.argLong(this.argIdx(key));
    if (Number.isNaN(n)) throw new BodyError(0, `sys_${sys}: argument ${key} missing or not a number`);
    return n;
  }

  /** Arguments are u[from, to); `op` is SYSCALL_OPS[sys]. */
  private syscallEnter(sys: string, op: AppOp | undefined, from: number, to: number): void {
    const tsNs = this.ts;
    const task = this.task;
    if (sys === 'dup' || sys === 'dup2' || sys === 'dup3') {
      // Only tracked so fds keep their paths (dd opens its output as 3 and dup2s it to 1).
      this.args(from, to);
      const fildes = this.argIdx('fildes');
      this.taskState.dupFrom = this.argLong(fildes >= 0 ? fildes : this.argIdx('oldfd'));
    }
    if (op === undefined) {
      this.emit({ kind: 'instant', tsNs, task, name: `sys_enter_${sys}`, text: this.str(from, to) });
      return;
    }
    this.args(from, to);
    let fd = -1;
    let posBytes = -1;
    let lenBytes = 0;
    let oflags = 0;
    let path = '';
    if (op === 'open') {
      oflags = this.argIdx('flags') >= 0 ? this.argNum(sys, 'flags') : 0;
      path = this.taskState.uprobePath ?? '';
      this.taskState.uprobePath = undefined;
    } else if (op === 'copy_file_range') {
      fd = this.argNum(sys, 'fd_out');
      lenBytes = this.argNum(sys, 'len');
    } else {
      fd = this.argNum(sys, 'fd');
      if (op === 'pread' || op === 'pwrite') posBytes = this.argNum(sys, 'pos');
      if (op === 'read' || op === 'write' || op === 'pread' || op === 'pwrite') lenBytes = this.argNum(sys, 'count');
      if (op === 'truncate') lenBytes = this.argNum(sys, 'length');
      if (op === 'fallocate') {
        posBytes = this.argNum(sys, 'offset');
        lenBytes = this.argNum(sys, 'len');
      }
      const file = this.fds.get(this.proc)?.get(fd);
      if (file) {
        path = file.path;
        oflags = file.oflags;
      }
    }
    this.taskState.inFlight = { op, fd, path, oflags };
    this.emit({ kind: 'app_op_begin', tsNs, task, op, path, fd, posBytes, lenBytes, oflags });
  }

  /** The return value is u[retStart, retEnd); `op` is SYSCALL_OPS[sys]. */
  private syscallExit(sys: string, op: AppOp | undefined, retStart: number, retEnd: number): void {
    const tsNs = this.ts;
    const task = this.task;
    if (sys === 'dup' || sys === 'dup2' || sys === 'dup3') {
      const from = this.taskState.dupFrom;
      this.taskState.dupFrom = undefined;
      const ret = parseLongAt(this.u, retStart, retEnd);
      const file = from === undefined ? undefined : this.fds.get(this.proc)?.get(from);
      if (file && ret >= 0) this.fds.get(this.proc)!.set(ret, file);
    }
    if (op === undefined) {
      return;
    }
    const ret = parseLongAt(this.u, retStart, retEnd);
    if (Number.isNaN(ret)) throw new BodyError(0, `sys_${sys}: return value '${this.str(retStart, retEnd)}' is not a number`);
    const fl = this.taskState.inFlight;
    this.taskState.inFlight = undefined;
    let fd = fl?.op === op ? fl.fd : -1;
    if (op === 'open' && ret >= 0) {
      let table = this.fds.get(this.proc);
      if (!table) this.fds.set(this.proc, (table = new Map()));
      table.set(ret, { path: fl?.path ?? '', oflags: fl?.oflags ?? 0 });
      fd = ret;
    } else if (op === 'close' && ret === 0 && fd >= 0) {
      this.fds.get(this.proc)?.delete(fd);
    }
    this.emit({ kind: 'app_op_end', tsNs, task, op, fd, ret });
  }

  /**
   * A uprobe/uretprobe line: `(0xIP) name=value …`. Kept as an instant with its body. A string
   * argument named path/pathname/filename/file is remembered as this task's next open's path; a
   * probe that reads a fuse_in_header (unique=, opcode=, nodeid=) also yields a fuse_recv.
   */
  private uprobe(name: string, body: string): void {
    const tsNs = this.ts;
    const task = this.task;
    const args = new Map<string, string>();
    for (const m of body.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) args.set(m[1]!, m[2]!);
    for (const k of ['path', 'pathname', 'filename', 'file']) {
      const v = args.get(k);
      if (v !== undefined && v.startsWith('"')) {
        this.taskState.uprobePath = v.slice(1, -1);
        break;
      }
    }
    const unique = args.has('unique') ? parseNum(args.get('unique')!) : NaN;
    const opcode = args.has('opcode') ? parseNum(args.get('opcode')!) : NaN;
    const nodeId = args.has('nodeid') ? parseNum(args.get('nodeid')!) : NaN;
    this.emit({ kind: 'instant', tsNs, task, name, text: body });
    if (!Number.isNaN(unique) && !Number.isNaN(opcode) && !Number.isNaN(nodeId)) {
      this.emit({ kind: 'fuse_recv', tsNs, task, unique, opcode, nodeId });
    }
  }

  private closeStack(): void {
    const s = this.openStack;
    if (s === null) return;
    this.openStack = null;
    s.ev.text = s.frames.join('\n');
    if (this.pendingByTask.size === 0 && !this.zeroPending()) this.flush();
  }

  /** Emits in input order, holding events while a deferred decision (file comment) is open. */
  private emit(ev: TraceEvent): void {
    if (this.pendingByTask.size > 0) {
      const pending = this.pendingByTask.get(ev.task);
      if (pending !== undefined && pending !== ev) {
        this.pendingByTask.delete(ev.task);
        if (pending.kind === 'iomap_ioend') {
          pending.sent = ev.kind === 'fuse_send' && ev.opcode === Opcode.IOMAP_IOEND;
        }
      }
    }
    if (this.openStack === null && this.pendingByTask.size === 0 && !this.zeroPending() && this.held.length === 0) {
      this.onEvent(ev);
      return;
    }
    this.held.push(ev);
    if (this.held.length >= MAX_HELD_EVENTS) {
      this.pendingByTask.clear();
      this.zeroReqSends.clear();
      this.flush();
    } else if (this.openStack === null && this.pendingByTask.size === 0 && !this.zeroPending()) this.flush();
  }

  private zeroPending(): boolean {
    if (this.zeroReqSends.size === 0) return false;
    for (const [conn, q] of this.zeroReqSends) if (q.length === 0) this.zeroReqSends.delete(conn);
    return this.zeroReqSends.size > 0;
  }

  private flush(): void {
    if (this.openStack !== null) return;
    const held = this.held;
    if (held.length === 0) return;
    this.held = [];
    for (const ev of held) this.onEvent(ev);
  }
}

function newTaskState(name: string): TaskState {
  return { name, inFlight: undefined, uprobePath: undefined, iterWrite: undefined, dupFrom: undefined };
}

/** `8:16` → dev_t as the kernel encodes it in 32 bits (major << 20 | minor). */
function devT(text: string): number {
  const colon = text.indexOf(':');
  if (colon < 0) return Number(text) || 0;
  return ((Number(text.slice(0, colon)) << 20) | Number(text.slice(colon + 1))) >>> 0;
}

/** Whether buf[0, n) is all ASCII; buf starts 4-byte aligned. Word at a time: this reads every byte of a chunk. */
function isAscii(buf: Uint8Array, n: number): boolean {
  const words = new Int32Array(buf.buffer, buf.byteOffset, n >> 2);
  const w = words.length;
  let a = 0;
  let b = 0;
  let i = 0;
  for (; i + 1 < w; i += 2) {
    a |= words[i]!;
    b |= words[i + 1]!;
  }
  if (i < w) a |= words[i]!;
  for (let k = w << 2; k < n; k++) a |= buf[k]!;
  return ((a | b) & 0x80808080) === 0;
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
}
