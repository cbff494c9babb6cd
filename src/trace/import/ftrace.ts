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

import type { AppOp, Fork, TraceEvent } from '../schema.ts';
import { DiagSink } from '../ndjson.ts';
import {
  EFSCORRUPTED, NULL_ADDR, Opcode, ioendFlagStrings, mapFlagStrings, mapTypeFromName, opFlagStrings, parseFlags,
} from '../fuse-proto.ts';

/** ftrace lines are bounded by the kernel's trace_seq (a page); anything far longer is garbage. */
export const MAX_FTRACE_LINE_BYTES = 64 * 1024;
/** Events held for deferred decisions (see file comment) before they are forced out. */
const MAX_HELD_EVENTS = 4096;

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

/** Positional reader over a tracepoint body: keys repeat, so each read searches from the cursor. */
class Cursor {
  s = '';
  p = 0;
  reset(s: string): this {
    this.s = s;
    this.p = 0;
    return this;
  }
  /** Index of the value after `key ` found at a token boundary at or after the cursor. */
  private find(key: string): number {
    const s = this.s;
    let i = this.p;
    for (;;) {
      i = s.indexOf(key, i);
      if (i < 0) throw new BodyError(this.p, `expected '${key}'`);
      const after = i + key.length;
      if ((i === 0 || s.charCodeAt(i - 1) === 32) && (s.charCodeAt(after) === 32 || s.charCodeAt(after) === 61)) {
        return after + 1;
      }
      i = after;
    }
  }
  /** True if the next token is `key` (optional fields that newer formats added). */
  has(key: string): boolean {
    let i = this.p;
    while (this.s.charCodeAt(i) === 32) i++;
    if (!this.s.startsWith(key, i)) return false;
    const after = this.s.charCodeAt(i + key.length);
    return after === 32 || after === 61;
  }
  token(key: string): string {
    const v = this.find(key);
    let e = this.s.indexOf(' ', v);
    if (e < 0) e = this.s.length;
    this.p = e;
    return this.s.slice(v, e);
  }
  num(key: string): number {
    const start = this.p;
    const v = this.find(key);
    let e = this.s.indexOf(' ', v);
    if (e < 0) e = this.s.length;
    this.p = e;
    const n = parseNumAt(this.s, v, e);
    if (Number.isNaN(n)) throw new BodyError(start, `${key}: '${this.s.slice(v, e)}' is not a number`);
    return n;
  }
  u64(key: string): bigint {
    const start = this.p;
    const t = this.token(key);
    const v = parseU64(t);
    if (v === null) throw new BodyError(start, `${key}: '${t}' is not a 64-bit value`);
    return v;
  }
  /** `key (a|b)` → `a|b`. */
  paren(key: string): string {
    const v = this.find(key);
    if (this.s.charCodeAt(v) !== 40) throw new BodyError(v, `${key}: expected '('`);
    const e = this.s.indexOf(')', v);
    if (e < 0) throw new BodyError(v, `${key}: unclosed '('`);
    this.p = e + 1;
    return this.s.slice(v + 1, e);
  }
}

/** `0x1f`, `31`, `-5` → number (NaN if none of these). Hex above 2^53 loses precision (lengths only). */
export function parseNum(t: string): number {
  return parseNumAt(t, 0, t.length);
}

// Number scanning by char codes on [from, to) of a line, so the hot path slices no token strings.
// Each function gives exactly what its regex + Number()/parseInt() counterpart gives: runs short
// enough to be exact in a double are summed digit by digit, longer ones go through the library.

/** Longest decimal run whose digit-by-digit sum is exact (< 2^53). */
const MAX_EXACT_DEC_DIGITS = 15;
/** Longest hex run whose digit-by-digit sum is exact (< 2^52). */
const MAX_EXACT_HEX_DIGITS = 13;

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}
function isHexRun(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (hexDigit(s.charCodeAt(i)) < 0) return false;
  return true;
}
function hexValue(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 16 + hexDigit(s.charCodeAt(i));
  return v;
}
/** `/^-?\d+$/` then Number(), on [from, to); NaN if it does not match. */
function decAt(s: string, from: number, to: number): number {
  const neg = s.charCodeAt(from) === 45;
  const d0 = neg ? from + 1 : from;
  if (d0 >= to) return NaN;
  let v = 0;
  for (let i = d0; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  if (to - d0 > MAX_EXACT_DEC_DIGITS) return Number(s.slice(from, to));
  return neg ? -v : v;
}
/** parseNum on [from, to). */
function parseNumAt(s: string, from: number, to: number): number {
  if (to - from > 2 && s.charCodeAt(from) === 48 && (s.charCodeAt(from + 1) | 32) === 120) {
    if (!isHexRun(s, from + 2, to)) return NaN;
    return to - from - 2 <= MAX_EXACT_HEX_DIGITS ? hexValue(s, from + 2, to) : Number.parseInt(s.slice(from, to), 16);
  }
  return decAt(s, from, to);
}
/** A 1-16 digit hex run as a signed 64-bit long, then a number (as BigInt.asIntN(64) would). */
function hexLongAt(s: string, from: number, to: number): number {
  const digits = to - from;
  if (digits <= MAX_EXACT_HEX_DIGITS) return hexValue(s, from, to);
  if (digits === 16 && (s.charCodeAt(from) | 32) === 102 && (s.charCodeAt(from + 1) | 32) === 102 &&
    (s.charCodeAt(from + 2) | 32) === 102 && (s.charCodeAt(from + 3) | 32) === 102) {
    // -errno and other small negatives: x - 2^64 = -(~x + 1), and ~x < 2^48 is exact.
    let inv = 0;
    for (let i = from + 4; i < to; i++) inv = inv * 16 + (15 - hexDigit(s.charCodeAt(i)));
    return -(inv + 1);
  }
  return Number(BigInt.asIntN(64, BigInt('0x' + s.slice(from, to))));
}
/** A syscall return/argument printed as hex of a long (`0xfffffffffffffff2` is -14), in [from, to); else decimal; else NaN. */
function parseLongAt(s: string, from: number, to: number): number {
  const len = to - from;
  if (len >= 3 && len <= 18 && s.charCodeAt(from) === 48 && (s.charCodeAt(from + 1) | 32) === 120 && isHexRun(s, from + 2, to)) {
    return hexLongAt(s, from + 2, to);
  }
  if (len >= 9 && len <= 16 && isHexRun(s, from, to)) return hexLongAt(s, from, to);
  return decAt(s, from, to);
}

/** JavaScript's `\s` (WhiteSpace and LineTerminator), which the line grammar was written in. */
function isWs(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c >= 160 && (c === 160 || c === 5760 || (c >= 8192 && c <= 8202) ||
    c === 8232 || c === 8233 || c === 8239 || c === 8287 || c === 12288 || c === 65279));
}
/** What `.` does not match. */
function isLineTerminator(c: number): boolean {
  return c === 10 || c === 13 || c === 8232 || c === 8233;
}
/** Whether text[from, to) holds a line terminator (native searches: cheaper than a char loop). */
function hasLineTerminator(text: string, from: number, to: number): boolean {
  for (const t of LINE_TERMINATORS) {
    const at = text.indexOf(t, from);
    if (at >= 0 && at < to) return true;
  }
  return false;
}
const LINE_TERMINATORS = ['\n', '\r', '\u2028', '\u2029'];
/** text.startsWith(lit, at) for short strings, as a loop V8 inlines (the builtin call costs more than the compare). */
function hasAt(text: string, at: number, lit: string): boolean {
  if (at + lit.length > text.length) return false;
  for (let k = 0; k < lit.length; k++) if (text.charCodeAt(at + k) !== lit.charCodeAt(k)) return false;
  return true;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** `\w`. */
function isWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
/** The irq-info flag characters `[.a-zA-Z0-9]`. */
function isFlagChar(c: number): boolean {
  return c === 46 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
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
/** A header start that matched (knownHeader): its char codes up to the flags column, and what they gave. */
interface KnownHeader { prefix: string; pidLast: number; pidLastCode: number; pid: number; proc: number; task: string }
/** Tasks that take turns in a trace (an app, a server's threads); 8 cover 98% of the fixtures' lines. */
const KNOWN_HEADER_SLOTS = 8;
/** Longer header starts (a very long comm) are not remembered. */
const KNOWN_HEADER_MAX_CHARS = 128;
interface InFlight { op: AppOp; fd: number; path: string; oflags: number }

export interface FtraceStats {
  lines: number;
  events: number;
  /** Lines that were not events: comments, trace-cmd headers, blank lines. */
  skipped: number;
}

export class FtraceParser {
  /** Absolute ns of tsNs = 0 (the first event's timestamp); null until an event is seen. */
  originNs: bigint | null = null;
  readonly stats: FtraceStats = { lines: 0, events: 0, skipped: 0 };
  private originSec = 0;
  private originFracNs = 0;
  private partial = '';
  private skippingLongLine = false;
  private readonly cur = new Cursor();
  /** `comm-pid` text of the last task the full header scan saw, and its `task` string (reused while it repeats). */
  private taskKey = '';
  private taskOfKey = '';
  /** Recently matched header starts (knownHeader), replaced round-robin. */
  private readonly knownHeaders: KnownHeader[] = [];
  private nextKnownHeader = 0;
  // Set by a header match: where the flags/timestamp column starts, the timestamp's digit ranges.
  private flagsCol = 0;
  private secStart = 0;
  private secEnd = 0;
  private fracStart = -1;
  private fracEnd = -1;
  /** The last syscall name seen (syscall()), and SYSCALL_OPS of it. */
  private sysName = '';
  private sysOp: AppOp | undefined = undefined;
  // Syscall arguments of the current line (args()): 4 indexes per argument into argText.
  private argText = '';
  private argBounds = new Int32Array(64);
  private argCount = 0;
  // Per line.
  private ts = 0;
  private task = '';
  private pid = 0;
  private proc = 0;
  private lineNo = 0;
  // Deferral (file comment): events wait in `held` while any of these is open.
  private held: TraceEvent[] = [];
  private openStack: { ev: TraceEvent & { kind: 'instant' }; frames: string[] } | null = null;
  private readonly pendingByTask = new Map<string, TraceEvent>();
  private readonly zeroReqSends = new Map<number, Array<TraceEvent & { kind: 'fuse_send' }>>();
  // Joins within one trace.
  private readonly opcodeByUnique = new Map<number, number>();
  private readonly fds = new Map<number, Map<number, OpenFile>>();
  private readonly inFlight = new Map<string, InFlight>();
  private readonly lastUprobePath = new Map<string, string>();
  private readonly lastIterWrite = new Map<string, boolean>();
  private readonly dupFrom = new Map<string, number>();

  constructor(
    private readonly sourceName: string,
    private readonly onEvent: (ev: TraceEvent) => void,
    readonly diags = new DiagSink(),
  ) {}

  push(chunk: string): void {
    let from = 0;
    if (this.partial.length > 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.keepPartial(this.partial + chunk);
        return;
      }
      // Only the line that straddles the boundary is joined. Scanning `partial + chunk` instead
      // would search a cons string, and V8 runs every indexOf on one through the runtime (~30x
      // slower than on the flat chunk: it was a quarter of the parse time).
      const joined = this.partial + chunk.slice(0, nl);
      this.partial = '';
      this.line(joined);
      from = nl + 1;
    }
    const start = this.lines(chunk, from);
    this.keepPartial(start === 0 ? chunk : chunk.slice(start));
  }

  /** Keeps the unfinished last line for the next push; one too long to be a line is dropped (and reported once). */
  private keepPartial(text: string): void {
    if (text.length > MAX_FTRACE_LINE_BYTES) {
      if (!this.skippingLongLine) this.diag(this.lineNo + 1, 1, 'line_too_long', `line longer than ${MAX_FTRACE_LINE_BYTES} bytes skipped`);
      this.skippingLongLine = true;
      text = '';
    }
    this.partial = text;
  }

  /**
   * Parses every complete line of `text` from `start`; returns where the unfinished rest starts. A
   * loop of its own, with nothing after it: V8 reuses on-stack-replacement code across calls, and
   * code after a loop that the first OSR compile never saw deoptimized it on every chunk (~1 ms each).
   */
  private lines(text: string, start: number): number {
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) return start;
      this.line(text.slice(start, nl));
      start = nl + 1;
    }
  }

  end(): void {
    if (this.partial.length > 0) {
      const last = this.partial;
      this.partial = '';
      this.line(last);
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

  private line(raw: string): void {
    this.lineNo++;
    this.stats.lines++;
    if (this.skippingLongLine) {
      this.skippingLongLine = false;
      return;
    }
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (text.length > MAX_FTRACE_LINE_BYTES) {
      this.diag(this.lineNo, 1, 'line_too_long', `line longer than ${MAX_FTRACE_LINE_BYTES} bytes skipped`);
      return;
    }
    let bodyCol = this.knownHeader(text);
    if (bodyCol >= 0) {
      this.closeStack();
    } else {
      // Stack frames continue the open <stack trace> block.
      let i = 0;
      while (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9) i++;
      if (text.charCodeAt(i) === 61 && text.charCodeAt(i + 1) === 62) {
        if (this.openStack) this.openStack.frames.push(text.slice(i + 2).trim());
        else this.diag(this.lineNo, i + 1, 'orphan_frame', "'=>' stack frame without a <stack trace> line before it");
        return;
      }
      this.closeStack();
      if (i === text.length || text.charCodeAt(i) === 35) {
        this.stats.skipped++;
        return;
      }
      bodyCol = this.header(text, i);
      if (bodyCol < 0) {
        this.nonEventLine(text, i);
        return;
      }
    }
    this.stats.events++;
    try {
      this.dispatch(text, bodyCol);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      this.diag(this.lineNo, bodyCol + 1, 'bad_body', e.message);
      this.emit({ kind: 'instant', tsNs: this.ts, task: this.task, name: 'unparsed', text: text.slice(bodyCol) });
    }
  }

  /**
   * Matches the header (grammar above) at the start of `text`; on success sets pid, proc, task and
   * time and returns the body's column, else -1. `commStart` is past the leading spaces and tabs.
   * The comm is lazy: the first '-' after which the rest of the header matches ends it.
   */
  private header(text: string, commStart: number): number {
    let cs = commStart;
    while (isWs(text.charCodeAt(cs))) cs++;
    if (cs >= text.length) return -1;
    const firstDash = text.indexOf('-', cs + 1);
    for (let dash = firstDash; dash >= 0; dash = text.indexOf('-', dash + 1)) {
      const bodyCol = this.headerAfterComm(text, cs, dash);
      if (bodyCol === -1) continue;
      if (bodyCol >= 0 && dash === firstDash) this.rememberHeader(text, dash);
      return bodyCol < 0 ? -1 : bodyCol;
    }
    return -1;
  }

  /**
   * Remembers the start of the header that just matched, up to its flags/timestamp column (see
   * knownHeader). Only for a comm that ended at its first '-': with an earlier '-' in the comm,
   * whether that dash could end it on another line depends on text after the prefix.
   */
  private rememberHeader(text: string, dash: number): void {
    const n = this.flagsCol;
    if (n > KNOWN_HEADER_MAX_CHARS) return;
    let pidEnd = dash + 1;
    while (isDigit(text.charCodeAt(pidEnd))) pidEnd++;
    this.knownHeaders[this.nextKnownHeader] = {
      prefix: flatPrefix(text, n), pidLast: pidEnd - 1, pidLastCode: text.charCodeAt(pidEnd - 1),
      pid: this.pid, proc: this.proc, task: this.task,
    };
    this.nextKnownHeader = (this.nextKnownHeader + 1) % KNOWN_HEADER_SLOTS;
  }

  /**
   * The header of a line that starts like a recently matched one, char for char up to the flags
   * or timestamp column (and not followed by more whitespace there): the grammar made the same
   * decisions on those chars, so only the flags, timestamp and ':' are left to match; sets time,
   * pid, proc and task and returns the body's column. -1 if no prefix applies or the rest does not
   * match (then the full scan decides: the comm may end at a later '-'). A trace is a few tasks
   * taking turns, so a handful of prefixes cover nearly every line and skip ~45 of ~110 chars.
   */
  private knownHeader(text: string): number {
    const known = this.knownHeaders;
    for (let e = 0; e < known.length; e++) {
      const h = known[e]!;
      const n = h.prefix.length;
      // The pid's last digit first: tasks' prefixes share their leading spaces, often the comm.
      // (A charCodeAt loop measured as fast as startsWith here.)
      if (text.length <= n || text.charCodeAt(h.pidLast) !== h.pidLastCode) continue;
      const prefix = h.prefix;
      let k = 0;
      while (k < n && text.charCodeAt(k) === prefix.charCodeAt(k)) k++;
      if (k < n || isWs(text.charCodeAt(n))) continue;
      const bodyCol = this.timeAndColon(text, n);
      if (bodyCol < 0) return -1;
      this.pid = h.pid;
      this.proc = h.proc;
      this.task = h.task;
      this.setTime(text);
      return bodyCol;
    }
    return -1;
  }

  /** The header after a comm ending at `dash`: the body's column, -1 (try the next dash) or -2 (no match at all). */
  private headerAfterComm(text: string, cs: number, dash: number): number {
    let p = dash + 1;
    const pidStart = p;
    while (isDigit(text.charCodeAt(p))) p++;
    const pidEnd = p;
    if (pidEnd === pidStart || !isWs(text.charCodeAt(p))) return -1;
    while (isWs(text.charCodeAt(++p)));
    let tgid = 0;
    if (text.charCodeAt(p) === 40) { // (tgid) or (-----)
      while (isWs(text.charCodeAt(++p)));
      const t0 = p;
      if (isDigit(text.charCodeAt(p))) {
        while (isDigit(text.charCodeAt(++p)));
        tgid = decAt(text, t0, p);
      } else if (text.charCodeAt(p) === 45) {
        while (text.charCodeAt(++p) === 45);
      } else return -1;
      if (text.charCodeAt(p) !== 41 || !isWs(text.charCodeAt(p + 1))) return -1;
      p++;
      while (isWs(text.charCodeAt(++p)));
    }
    if (text.charCodeAt(p) !== 91) return -1; // [cpu]
    const cpuStart = ++p;
    while (isDigit(text.charCodeAt(p))) p++;
    if (p === cpuStart || text.charCodeAt(p) !== 93 || !isWs(text.charCodeAt(p + 1))) return -1;
    p++;
    while (isWs(text.charCodeAt(++p)));
    this.flagsCol = p;
    p = this.timeAndColon(text, p);
    if (p < 0) return -1;
    // Matched, unless the comm holds a line terminator (`.` stops there; later dashes would only
    // include it too).
    for (let k = cs + 1; k < dash; k++) if (isLineTerminator(text.charCodeAt(k))) return -2;
    this.pid = decAt(text, pidStart, pidEnd);
    this.proc = tgid || this.pid;
    // Consecutive lines are mostly the same task: reuse its string.
    if (pidEnd - cs !== this.taskKey.length || !text.startsWith(this.taskKey, cs)) {
      this.taskKey = text.slice(cs, pidEnd);
      this.taskOfKey = `${text.slice(cs, dash)}/${text.slice(pidStart, pidEnd)}`;
    }
    this.task = this.taskOfKey;
    this.setTime(text);
    return p;
  }

  /**
   * The header from its flags column `p` on: `[flags] secs[.frac]: `. Returns the body's column
   * (or -1) and leaves the timestamp's digit ranges in secStart/secEnd/fracStart/fracEnd.
   */
  private timeAndColon(text: string, p: number): number {
    // 4 or 5 flag characters and a space are the flags; digits then ':' cannot be (no ':' in them).
    let q = p;
    while (isFlagChar(text.charCodeAt(q))) q++;
    if ((q - p === 4 || q - p === 5) && isWs(text.charCodeAt(q))) {
      p = q;
      while (isWs(text.charCodeAt(++p)));
    }
    const secStart = p;
    while (isDigit(text.charCodeAt(p))) p++;
    const secEnd = p;
    if (secEnd === secStart) return -1;
    let fracStart = -1;
    let fracEnd = -1;
    if (text.charCodeAt(p) === 46) {
      fracStart = ++p;
      while (isDigit(text.charCodeAt(p))) p++;
      fracEnd = p;
      if (fracEnd === fracStart) return -1;
    }
    if (text.charCodeAt(p) !== 58 || !isWs(text.charCodeAt(p + 1))) return -1;
    p++;
    while (isWs(text.charCodeAt(++p)));
    this.secStart = secStart;
    this.secEnd = secEnd;
    this.fracStart = fracStart;
    this.fracEnd = fracEnd;
    return p;
  }

  /** Comments, trace-cmd headers, lost-event markers; anything else is a diag. */
  private nonEventLine(text: string, indent: number): void {
    const t = text.slice(indent);
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
    this.diag(this.lineNo, indent + 1, 'unparsable', `not an ftrace event line: ${excerpt(t)}`);
  }

  /** The timestamp's digits are [secStart, secEnd) and, after a '.', [fracStart, fracEnd) (-1: none). */
  private setTime(text: string): void {
    const { secStart, secEnd, fracStart, fracEnd } = this;
    let sec: number;
    let fracNs: number;
    if (fracStart >= 0) {
      sec = decAt(text, secStart, secEnd);
      const digits = Math.min(fracEnd - fracStart, 9);
      fracNs = decAt(text, fracStart, fracStart + digits) * POW10[9 - digits]!;
    } else if (secEnd - secStart > 9) {
      sec = decAt(text, secStart, secEnd - 9);
      fracNs = decAt(text, secEnd - 9, secEnd);
    } else {
      sec = 0;
      fracNs = decAt(text, secStart, secEnd);
    }
    if (this.originNs === null) {
      this.originSec = sec;
      this.originFracNs = fracNs;
      this.originNs = BigInt(sec) * 1_000_000_000n + BigInt(fracNs);
    }
    this.ts = (sec - this.originSec) * 1e9 + (fracNs - this.originFracNs);
  }

  /** The body starts at `b`: a stack trace, a syscall (raw_syscalls/syscalls text) or `event: body`. */
  private dispatch(text: string, b: number): void {
    const c0 = text.charCodeAt(b);
    if (c0 === 60 && text.startsWith('<stack trace>', b)) {
      const ev = { kind: 'instant' as const, tsNs: this.ts, task: this.task, name: 'stack_trace', text: '' };
      this.openStack = { ev, frames: [] };
      this.emit(ev);
      return;
    }
    if (c0 === 115 && hasAt(text, b, 'sys_') && !hasAt(text, b + 4, 'enter_') && !hasAt(text, b + 4, 'exit_') &&
      this.syscall(text, b)) {
      return;
    }
    // ^(?:\w+:)?(\w+):(?:\s+|$)
    const end = text.length;
    let p = b;
    while (isWord(text.charCodeAt(p))) p++;
    if (p > b && text.charCodeAt(p) === 58) {
      let q = p + 1;
      while (isWord(text.charCodeAt(q))) q++;
      if (q > p + 1 && text.charCodeAt(q) === 58 && (q + 1 === end || isWs(text.charCodeAt(q + 1)))) {
        return this.event(text.slice(p + 1, q), text.slice(skipWs(text, q + 1)));
      }
      if (p + 1 === end || isWs(text.charCodeAt(p + 1))) return this.event(text.slice(b, p), text.slice(skipWs(text, p + 1)));
    }
    throw new BodyError(0, `expected 'event: body' after the timestamp: ${excerpt(text.slice(b))}`);
  }

  /** `sys_NAME(args)` or `sys_NAME -> ret` at `b` (grammar above); false if neither matches. */
  private syscall(text: string, b: number): boolean {
    let p = b + 4;
    while (isWord(text.charCodeAt(p))) p++;
    if (p === b + 4) return false;
    const nameEnd = p;
    const end = text.length;
    // Enter and exit lines of one call are adjacent: reuse the name string and its table lookup
    // (a property lookup by a sliced string has to internalize it first).
    let sys = this.sysName;
    if (nameEnd - b - 4 !== sys.length || !hasAt(text, b + 4, sys)) {
      sys = this.sysName = text.slice(b + 4, nameEnd);
      this.sysOp = SYSCALL_OPS[sys];
    }
    const op = this.sysOp;
    if (text.charCodeAt(p) === 40) {
      let close = end;
      while (close > p + 1 && isWs(text.charCodeAt(close - 1))) close--;
      close--;
      if (close <= p || text.charCodeAt(close) !== 41) return false;
      if (hasLineTerminator(text, p + 1, close)) return false;
      this.syscallEnter(sys, op, text, p + 1, close);
      return true;
    }
    if (!hasAt(text, p, ' -> ')) return false;
    const retStart = p + 4;
    let retEnd = retStart;
    while (retEnd < end && !isWs(text.charCodeAt(retEnd))) retEnd++;
    if (retEnd === retStart) return false;
    for (let k = retEnd; k < end; k++) if (!isWs(text.charCodeAt(k))) return false;
    this.syscallExit(sys, op, text, retStart, retEnd);
    return true;
  }

  private event(name: string, body: string): void {
    const c = this.cur.reset(body);
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
        } else this.opcodeByUnique.set(unique, opcode);
        this.emit(ev);
        return;
      }
      case 'fuse_request_end': {
        const conn = c.num('connection');
        const unique = c.num('req');
        const lenBytes = c.num('len');
        const error = c.num('error');
        let opcode = this.opcodeByUnique.get(unique);
        if (opcode === undefined) {
          const q = this.zeroReqSends.get(conn);
          const send = q?.shift();
          if (send) {
            send.unique = unique;
            opcode = send.opcode;
          }
        } else this.opcodeByUnique.delete(unique);
        this.emit({ kind: 'fuse_reply', tsNs, task, unique, opcode: opcode ?? 0, error, lenBytes });
        return;
      }
      case 'contention_begin':
      case 'contention_end': {
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
        this.emit({ kind: 'instant', tsNs, task, name: 'tracing_mark_write', text: body });
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
        const fuseNames = flagsText.split('|').map((f) => KERNEL_MAP_FLAG_TO_FUSE[f] ?? '').filter((f) => f !== '');
        const slot = name === 'iomap_iter_srcmap' ? 'read' : this.lastIterWrite.get(task) ? 'write' : 'read';
        this.emit({
          kind: 'iomap_map', tsNs, task, nodeId: 0, ino, slot, source: 'reply',
          mapType, mapFlags: parseFlags(fuseNames.join('|'), mapFlagStrings).value, mapOffsetBytes, mapLenBytes,
          mapAddr, mapDev: devT(bdev), cookie: 0,
        });
        return;
      }
      case 'iomap_iter': {
        const fm = /\bflags (\S*) \(/.exec(body);
        this.lastIterWrite.set(task, fm !== null && fm[1]!.split('|').includes('WRITE'));
        break;
      }
      default:
        if (name.startsWith('fuse_')) {
          if (this.fuseSeries(name, c)) return;
        } else if (name.startsWith('sys_enter_') || name.startsWith('sys_exit_')) {
          // trace-cmd style: `sys_enter_pwrite64: fd: 0x…, buf: …` / `sys_exit_pwrite64: 0x1000`.
          if (name.startsWith('sys_enter_')) {
            const sys = name.slice(10);
            return this.syscallEnter(sys, SYSCALL_OPS[sys], body, 0, body.length);
          }
          const sys = name.slice(9);
          const ret = body.trim();
          return this.syscallExit(sys, SYSCALL_OPS[sys], ret, 0, ret.length);
        } else if (body.charCodeAt(0) === 40 && /^\(0x[0-9a-f]+(?: <- 0x[0-9a-f]+)?\)/.test(body)) {
          this.uprobe(name, body);
          return;
        }
    }
    this.emit({ kind: 'instant', tsNs, task, name, text: body });
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
        this.emit({ kind: 'iomap_begin', tsNs, task, nodeId, ino, opflags, posBytes, lenBytes });
        return true;
      }
      case 'fuse_iomap_read_map':
      case 'fuse_iomap_write_map': {
        const { nodeId, ino } = this.inode(c);
        const m = this.map(c, '');
        this.emit({
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
        this.emit({ kind: 'iomap_end', tsNs, task, nodeId, ino, opflags, posBytes, lenBytes, writtenBytes, ...m });
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
          kind: 'iomap_bad_data', tsNs, task, nodeId: 0, ino: 0, message: c.s.trim(), error: -EFSCORRUPTED,
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
        this.emit({ kind: 'cache_lookup', tsNs, task, nodeId, ino, fork, posBytes, lenBytes, hit: true, ...m, cookie });
        return true;
      }
      case 'fuse_iomap_upsert_mappings':
      case 'fuse_iomap_upsert': {
        const { nodeId, ino } = this.inode(c);
        c.num('attr_ino');
        const read = this.map(c, 'read');
        const write = this.map(c, 'write');
        // A fork whose type is NOCACHE (or the null type) is left alone by the kernel (§1.5).
        if (read.mapType < 253) this.emit({ kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'read', ...read, seq: 0 });
        if (write.mapType < 253) this.emit({ kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'write', ...write, seq: 0 });
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
        this.emit({ kind: 'cache_stale', tsNs, task, nodeId, ino, posBytes: m.mapOffsetBytes, oldCookie, newCookie, ...m });
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
   * Splits syscall arguments `name: value, …` (decimal or hex, §real-capture) in text[from, to)
   * into trimmed key/value index ranges (parts split on ', ', key before the first ': '), without
   * building strings; read with argIdx/argLong.
   */
  private args(text: string, from: number, to: number): void {
    this.argText = text;
    let n = 0;
    let s = from;
    for (;;) {
      let e = text.indexOf(', ', s);
      if (e < 0 || e + 2 > to) e = to;
      const colon = text.indexOf(': ', s);
      if (colon > s && colon + 2 <= e) {
        if (4 * (n + 1) > this.argBounds.length) {
          const grown = new Int32Array(this.argBounds.length * 2);
          grown.set(this.argBounds);
          this.argBounds = grown;
        }
        const b = this.argBounds;
        let ks = s;
        let ke = colon;
        while (ks < ke && isWs(text.charCodeAt(ks))) ks++;
        while (ke > ks && isWs(text.charCodeAt(ke - 1))) ke--;
        let vs = colon + 2;
        let ve = e;
        while (vs < ve && isWs(text.charCodeAt(vs))) vs++;
        while (ve > vs && isWs(text.charCodeAt(ve - 1))) ve--;
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
      if (b[4 * i + 1]! - b[4 * i]! === key.length && this.argText.startsWith(key, b[4 * i]!)) return i;
    }
    return -1;
  }

  private argLong(idx: number): number {
    return idx < 0 ? NaN : parseLongAt(this.argText, this.argBounds[4 * idx + 2]!, this.argBounds[4 * idx + 3]!);
  }

  private argNum(sys: string, key: string): number {
    const n = this.argLong(this.argIdx(key));
    if (Number.isNaN(n)) throw new BodyError(0, `sys_${sys}: argument ${key} missing or not a number`);
    return n;
  }

  /** Arguments are text[from, to); `op` is SYSCALL_OPS[sys]. */
  private syscallEnter(sys: string, op: AppOp | undefined, text: string, from: number, to: number): void {
    const tsNs = this.ts;
    const task = this.task;
    if (sys === 'dup' || sys === 'dup2' || sys === 'dup3') {
      // Only tracked so fds keep their paths (dd opens its output as 3 and dup2s it to 1).
      this.args(text, from, to);
      const fildes = this.argIdx('fildes');
      this.dupFrom.set(task, this.argLong(fildes >= 0 ? fildes : this.argIdx('oldfd')));
    }
    if (op === undefined) {
      this.emit({ kind: 'instant', tsNs, task, name: `sys_enter_${sys}`, text: text.slice(from, to) });
      return;
    }
    this.args(text, from, to);
    let fd = -1;
    let posBytes = -1;
    let lenBytes = 0;
    let oflags = 0;
    let path = '';
    if (op === 'open') {
      oflags = this.argIdx('flags') >= 0 ? this.argNum(sys, 'flags') : 0;
      path = this.lastUprobePath.get(task) ?? '';
      this.lastUprobePath.delete(task);
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
    this.inFlight.set(task, { op, fd, path, oflags });
    this.emit({ kind: 'app_op_begin', tsNs, task, op, path, fd, posBytes, lenBytes, oflags });
  }

  /** The return value is text[retStart, retEnd); `op` is SYSCALL_OPS[sys]. */
  private syscallExit(sys: string, op: AppOp | undefined, text: string, retStart: number, retEnd: number): void {
    const tsNs = this.ts;
    const task = this.task;
    if (sys === 'dup' || sys === 'dup2' || sys === 'dup3') {
      const from = this.dupFrom.get(task);
      this.dupFrom.delete(task);
      const ret = parseLongAt(text, retStart, retEnd);
      const file = from === undefined ? undefined : this.fds.get(this.proc)?.get(from);
      if (file && ret >= 0) this.fds.get(this.proc)!.set(ret, file);
    }
    if (op === undefined) {
      return;
    }
    const ret = parseLongAt(text, retStart, retEnd);
    if (Number.isNaN(ret)) throw new BodyError(0, `sys_${sys}: return value '${text.slice(retStart, retEnd)}' is not a number`);
    const fl = this.inFlight.get(task);
    this.inFlight.delete(task);
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
        this.lastUprobePath.set(task, v.slice(1, -1));
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

/** `8:16` → dev_t as the kernel encodes it in 32 bits (major << 20 | minor). */
function devT(text: string): number {
  const colon = text.indexOf(':');
  if (colon < 0) return Number(text) || 0;
  return ((Number(text.slice(0, colon)) << 20) | Number(text.slice(colon + 1))) >>> 0;
}

/** text[0, n) as a string of its own (a slice would keep the whole chunk alive). */
function flatPrefix(text: string, n: number): string {
  const codes = new Uint16Array(n);
  for (let k = 0; k < n; k++) codes[k] = text.charCodeAt(k);
  return String.fromCharCode(...codes);
}

function skipWs(text: string, p: number): number {
  while (isWs(text.charCodeAt(p))) p++;
  return p;
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
}
