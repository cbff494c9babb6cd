// The event line's header (docs/domain.md §4.1, §4.2):
//
//   <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>|<ns>: <body>
//
// as a regular expression (the scanners below implement exactly this, without backtracking or
// capture strings; the lazy comm is the only search):
//   ^\s*(\S.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:([.a-zA-Z0-9]{4,5})\s+)?(\d+)(?:\.(\d+))?:\s+
// or, in trace-cmd report -l's latency format, `\d+[.a-zA-Z0-9]{3,6}\s+` in place of `\[(\d+)\]\s+(flags\s+)?`.
// trace-cmd report puts `instance:` before the comm of an instance buffer's event (`record -B name`):
// `^([\w.-]+):\s\s+` first (at the line's start, the comm padded after it), kept as `instance`,
// when the rest matches as a header; otherwise `name: ` is part of the comm (see parse()).
//
// Times: tsNs = ns since the first event; `originNs` is the absolute ns of that first event. A
// timestamp is kept as (whole seconds, ns within the second) so no float ever holds absolute ns.
// A `secs.frac` stamp scales frac by its digit count (µs from the kernel, ns from `trace-cmd -t`);
// a bare integer (non-ns trace clocks) is taken as ns.
//
// Known headers: a trace is a few tasks taking turns, so the start of each recently matched header
// (up to its flags/timestamp column) is remembered and a line that starts with one unit for unit
// only has its flags, timestamp and ':' left to match.
import { Interner, decAt, isDigit, isFlagChar, isLineTerminator, isWord, isWs, unitsToString } from '../code-units.ts';
import { newTaskState, type TaskState } from './context.ts';
import type { Line } from '../line.ts';
import { NO_TASK, UNTIMED_TASK, type TaskId } from '../../ids.ts';

/** The task of a pasted line that does not name one (it marks the event untimed: ids.ts). */
export const UNKNOWN_TASK = UNTIMED_TASK;

const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
/** Tasks (per CPU) that take turns in a trace (an app, a server's threads); the bench's mix has ~23. */
const KNOWN_HEADER_SLOTS = 32;
/** Longer header starts (a very long comm) are not remembered. */
const KNOWN_HEADER_MAX_CHARS = 128;

/** A header start that matched (known): its code units up to the flags column, and what they gave. */
interface KnownHeader {
  prefix: Uint16Array;
  /** prefix[0, 4k) packed 4 units to an int32 (little-endian); null if a unit is not a byte. */
  words: Int32Array | null;
  pidLast: number; pidLastCode: number; pid: number; proc: number; tgid: number; task: TaskState; instance: string }

/**
 * What the parser and the tracepoint handlers read of an event line's header: ftrace's
 * (HeaderParser) or perf script's (perf-header.ts). parse/known return the body's index or -1.
 */
export interface EventHeader {
  readonly originNs: bigint | null;
  readonly stampKind: 'secs' | 'integer' | null;
  readonly tsNs: number;
  readonly task: TaskId;
  readonly taskState: TaskState;
  readonly pid: number;
  readonly proc: number;
  /** The thread-group id when the line printed one (`(tgid)`, perf's pid/tid), else 0: the process is unknown. */
  readonly tgid: number;
  /** The trace-cmd instance buffer the line's event came from ('' the top buffer). */
  readonly instance: string;
  known(): number;
  parse(commStart: number): number;
  /** Events of lines without a header (pasted `event: body`): their times are synthetic. */
  readonly untimedEvents: number;
  /** Sets task and time for such a line (task unknown, 1 µs after the event before it). */
  untimed(): void;
}

type UntimedFields = { tsNs: number; untimedEvents: number; readonly originNs: bigint | null; pid: number; proc: number; tgid: number; taskState: TaskState; task: TaskId };

/** Both header parsers' untimed(): time = the file's order (1 µs apart, the first at 0), task `unknown`. */
export function setUntimed(h: UntimedFields, unknownTask: TaskState): void {
  h.tsNs = h.untimedEvents === 0 && h.originNs === null ? 0 : h.tsNs + 1000;
  h.untimedEvents++;
  h.pid = 0;
  h.proc = 0;
  h.tgid = 0;
  h.taskState = unknownTask;
  h.task = unknownTask.name;
}

export class HeaderParser implements EventHeader {
  /** Absolute ns of tsNs = 0 (the first event's timestamp); null until an event is seen. */
  originNs: bigint | null = null;
  /**
   * How the first event's time was printed: 'secs' (`secs.usecs`, or ns from `trace-cmd -t`: an
   * ns trace clock) or 'integer' (a raw count: the `counter`/`x86-tsc`… clocks); null before it.
   */
  stampKind: 'secs' | 'integer' | null = null;
  // The last matched header (kept until the next match).
  tsNs = 0;
  task = NO_TASK;
  taskState: TaskState = newTaskState('');
  pid = 0;
  /** tgid if the line has one, else pid. */
  proc = 0;
  /** The `(tgid)` column's value; 0 when the line has none (or `(-----)`). */
  tgid = 0;
  /**
   * The instance buffer (`trace-cmd record -B name`) of the event: report prints `name:` before
   * such a line's comm; '' for the top buffer.
   */
  instance = '';
  private originSec = 0;
  private originFracNs = 0;
  /** `comm-pid` units → task state. */
  private readonly tasks = new Interner<TaskState>();
  /** Every task's state by name (the interner forgets old keys; state must not be lost). */
  private readonly taskStates = new Map<string, TaskState>();
  /** Recently matched header starts, replaced round-robin; the last one that matched is tried first. */
  private readonly knownHeaders: KnownHeader[] = [];
  private nextKnownHeader = 0;
  private lastKnownHeader = 0;
  // Set by a header match: where the flags/timestamp column starts, the timestamp's digit ranges.
  private flagsCol = 0;
  private secStart = 0;
  private secEnd = 0;
  private fracStart = -1;
  private fracEnd = -1;

  /** Events of lines without a header (pasted `event: body`): time and task unknown. */
  untimedEvents = 0;
  private readonly unknownTask = newTaskState(UNKNOWN_TASK);

  constructor(private readonly line: Line) {}

  /**
   * A line without a header (a pasted `event: body`): the task is unknown (one shared task state,
   * so per-task pairing works within a pasted excerpt of one task's lines), and the time is
   * synthetic: the file's order, 1 µs after the event before it (the first at 0). These times are
   * not real: the file's clock (index.ts) and a diagnostic (parser.ts) say so.
   */
  untimed(): void {
    setUntimed(this, this.unknownTask);
  }

  /**
   * The header of a line that starts like a recently matched one, unit for unit up to the flags
   * or timestamp column (and not followed by more whitespace there): the grammar made the same
   * decisions on those units, so only the flags, timestamp and ':' are left to match; sets time,
   * pid, proc and task and returns the body's index. -1 if no prefix applies or the rest does not
   * match (then parse() decides: the comm may end at a later '-'). A handful of prefixes cover
   * nearly every line and skip ~45 of ~110 chars.
   */
  known(): number {
    const line = this.line;
    const u = line.u;
    const ls = line.ls;
    const len = line.le - ls;
    const dv = line.words;
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
      this.tgid = h.tgid;
      this.instance = h.instance;
      this.taskState = h.task;
      this.task = h.task.name;
      this.setTime();
      return bodyCol;
    }
    return -1;
  }

  /**
   * Matches the header (grammar above) at the start of the line; on success sets pid, proc, task
   * and time and returns the body's index, else -1. `commStart` is past the leading spaces and
   * tabs. The comm is lazy: the first '-' after which the rest of the header matches ends it.
   */
  parse(commStart: number): number {
    const u = this.line.u;
    let cs = commStart;
    while (isWs(u[cs]!)) cs++;
    if (cs >= this.line.le) return -1;
    // trace-cmd report's `instance: ` before the comm, told from a comm with ': ' in it: report
    // prints the name first on the line, then the comm right-aligned in its padded column (so at
    // least two blanks after the ':'), while a comm is itself printed right-aligned (`%16s`, a comm
    // has at most 15 characters), so a line whose comm holds ': ' starts with blanks — or, trimmed
    // in a paste, has one blank after the ':' (`a: b-7 [000] …` is comm `a: b`). The name is a
    // tracefs instance directory name as trace-cmd makes them (word characters, '-', '.').
    let p = cs;
    while (isWord(u[p]!) || u[p] === 45 || u[p] === 46) p++;
    if (cs === this.line.ls && p > cs && u[p] === 58 && isWs(u[p + 1]!) && isWs(u[p + 2]!)) {
      let q = p + 1;
      while (isWs(u[q]!)) q++;
      const b = this.parseComm(q, unitsToString(u, cs, p));
      if (b >= 0) return b;
    }
    return this.parseComm(cs, '');
  }

  /** parse() from the comm at `cs` (past any instance prefix), for the event of `instance`. */
  private parseComm(cs: number, instance: string): number {
    if (cs >= this.line.le) return -1;
    const firstDash = this.indexOfUnit(45, cs + 1);
    for (let dash = firstDash; dash >= 0; dash = this.indexOfUnit(45, dash + 1)) {
      const bodyCol = this.afterComm(cs, dash);
      if (bodyCol === -1) continue;
      if (bodyCol >= 0) this.instance = instance;
      if (bodyCol >= 0 && dash === firstDash) this.remember(dash);
      return bodyCol < 0 ? -1 : bodyCol;
    }
    return -1;
  }

  /** First index of unit `c` in [from, le) of the line, or -1. */
  private indexOfUnit(c: number, from: number): number {
    const u = this.line.u;
    const le = this.line.le;
    for (let i = from; i < le; i++) if (u[i] === c) return i;
    return -1;
  }

  /**
   * Remembers the start of the header that just matched, up to its flags/timestamp column (see
   * known). Only for a comm that ended at its first '-': with an earlier '-' in the comm, whether
   * that dash could end it on another line depends on text after the prefix.
   */
  private remember(dash: number): void {
    const u = this.line.u;
    const ls = this.line.ls;
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
      pid: this.pid, proc: this.proc, tgid: this.tgid, task: this.taskState, instance: this.instance,
    };
    this.nextKnownHeader = (this.nextKnownHeader + 1) % KNOWN_HEADER_SLOTS;
  }

  /** The header after a comm ending at `dash`: the body's index, -1 (try the next dash) or -2 (no match at all). */
  private afterComm(cs: number, dash: number): number {
    const u = this.line.u;
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
    if (u[p] === 91) { // [cpu]
      const cpuStart = ++p;
      while (isDigit(u[p]!)) p++;
      if (p === cpuStart || u[p] !== 93 || !isWs(u[p + 1]!)) return -1;
      p++;
      while (isWs(u[++p]!));
    } else if (isDigit(u[p]!)) {
      // trace-cmd report -l (latency format): the cpu and the latency flags in one column, `0d..2`.
      while (isDigit(u[p]!)) p++;
      const flagsStart = p;
      while (isFlagChar(u[p]!)) p++;
      if (p - flagsStart < 3 || p - flagsStart > 6 || !isWs(u[p]!)) return -1;
      while (isWs(u[++p]!));
    } else return -1;
    this.flagsCol = p;
    p = this.timeAndColon(p);
    if (p < 0) return -1;
    // Matched, unless the comm holds a line terminator (`.` stops there; later dashes would only
    // include it too).
    for (let k = cs + 1; k < dash; k++) if (isLineTerminator(u[k]!)) return -2;
    this.pid = decAt(u, pidStart, pidEnd);
    this.proc = tgid || this.pid;
    this.tgid = tgid;
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
    const u = this.line.u;
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

  /**
   * A record whose header was decoded from binary (a trace.dat): what a line `comm-pid [cpu]
   * sec.nsInSec: ` would set (report -t prints ns, so the stamp kind is 'secs'); `tgid` as a
   * `(tgid)` column would (0: none, the process is the pid).
   */
  direct(sec: number, nsInSec: number, pid: number, state: TaskState, instance: string, tgid = 0): void {
    this.pid = pid;
    this.proc = tgid || pid;
    this.tgid = tgid;
    this.instance = instance;
    this.taskState = state;
    this.task = state.name;
    this.timeOf(sec, nsInSec, true);
  }

  /** The state of task `comm/pid`, the one a line with that comm and pid gets. */
  taskNamed(comm: string, pid: number): TaskState {
    const name = `${comm}/${pid}`;
    let state = this.taskStates.get(name);
    if (state === undefined) this.taskStates.set(name, (state = newTaskState(name)));
    return state;
  }

  /** The timestamp's digits are [secStart, secEnd) and, after a '.', [fracStart, fracEnd) (-1: none). */
  private setTime(): void {
    const u = this.line.u;
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
    this.timeOf(sec, fracNs, fracStart >= 0);
  }

  private timeOf(sec: number, fracNs: number, secsStamp: boolean): void {
    if (this.originNs === null) {
      this.originSec = sec;
      this.originFracNs = fracNs;
      this.originNs = BigInt(sec) * 1_000_000_000n + BigInt(fracNs);
      this.stampKind = secsStamp ? 'secs' : 'integer';
    }
    this.tsNs = (sec - this.originSec) * 1e9 + (fracNs - this.originFracNs);
  }
}
