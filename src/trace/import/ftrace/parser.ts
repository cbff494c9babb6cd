// FtraceParser: trace_pipe, the tracefs `trace` file and `trace-cmd report` output, incremental
// (push chunks, then end) and isomorphic, so a dropped file parses in the browser too. Never
// throws on input: a bad line is a counted diagnostic (file:line:col) and parsing goes on; a line
// whose header parses but whose body does not is still kept as an `instant` named `unparsed`.
//
//   ../framing.ts  chunk → line ──► header.ts  `comm-pid [cpu] flags time:` ──► body (below)
//   body:  `<stack trace>` + `=>` frames        → stack block (deferral.ts); also trace-cmd's
//          `kernel_stack: <stack trace >` + `=> sym (addr)` frames (frameSymbol keeps the symbol)
//          `<user stack trace>` + ` =>  <addr>` frames, trace-cmd's `user_stack: \t=> 0x…` lines and
//          the one-line `user_stack: <user stack trace> => 0x… => …` → a `user_stack` block (userFrame)
//          `sys_x(…)` / `sys_x -> r`             → syscalls.ts
//          `[system:]name: body`                 → systems/*.ts table by name, else:
//             sys_enter_x / sys_exit_x           → syscalls.ts (trace-cmd)
//             `(0x…) k=v …` (not fuse_*)         → uprobe (syscalls.ts)
//             anything else                      → instant with the body
//   every event → deferral.ts (held while a later line may change it) → onEvent, in input order.
//   record(): a trace.dat record (tracedat/records.ts) whose header is decoded already enters at the
//   body, as its report line would after the header.
import type { TraceEvent } from '../../schema.ts';
import { DiagSink } from '../diagnostics.ts';
import { parseFlags } from '../../fuse-proto.ts';
import { Interner, hasAt, isWord, isWs, skipWs, unitsToString } from '../code-units.ts';
import type {
  AnyTracepointSystem, Resolve, SharedState, SystemSetup, TaskState, TracepointContext, TracepointHandler, TracepointSystem, WaitQueue,
} from './context.ts';
import { BodyError, Cursor, excerpt } from './cursor.ts';
import { EventOutput } from './deferral.ts';
import { LineFramer, type LineSink } from '../framing.ts';
import { HeaderParser, UNKNOWN_TASK, type EventHeader } from './header.ts';
import { PerfHeaderParser } from './perf-header.ts';
import { Line } from '../line.ts';
import { Syscalls } from './syscalls.ts';
import { SYSTEMS } from './systems/index.ts';
import { NO_TASK, type TaskId } from '../../ids.ts';

/**
 * Lost-events lines, each with its count or none (group 1 or 2: the count; neither: unknown):
 * `CPU:%d [LOST %lu EVENTS]` — the kernel's own (print_trace_line, kernel/trace/trace.c), in
 * trace_pipe and `trace`; `CPU:%d [%lld EVENTS DROPPED]` and, when the ring buffer flagged a loss
 * without storing its size, `CPU:%d [EVENTS DROPPED]` — trace-cmd report's (show_data,
 * tracecmd/trace-read.c; missed_events > 0 / < 0).
 */
const LOST = /LOST (\d+) EVENTS|\[(?:(\d+) )?EVENTS DROPPED\]/;
/** A tracepoint as FtraceParser.tracepointNamed gives it (opaque to callers). */
export type TracepointRef = Readonly<Tracepoint>;

/** `[system:]event:` at the start of a pasted line; group 1 is the event. */
const UNTIMED_LINE = /^(?:\w+:)?(\w+):(?:\s|$)/;

/** trace-cmd report's header lines and the like: skipped, never an event (nor a wrapped line's rest). */
const SKIP_LINE = /^(cpus=\d+|version = |CPU \d+ is empty|trace-cmd: |\s*\[?\d+\] ?$)|^[A-Za-z_ ]+ = /;
/** A mail-wrapped line is joined from at most this many pieces (a ~200-char line wrapped at 72). */
const MAX_WRAP_PIECES = 3;

/** The header fields an event line sets (both header parsers have them): saved with a held line. */
interface HeaderFields { tsNs: number; task: TaskId; taskState: TaskState; pid: number; proc: number }
/**
 * A recognised event line whose body did not parse, held for the next line(s): a mail client may
 * have wrapped it, and its rest is the next line when that is no event line of its own.
 */
interface HeldLine {
  text: string;
  /** Index of the body in `text`. */
  bodyAt: number;
  lineNo: number;
  byteOffset: number;
  header: HeaderFields;
  error: BodyError;
  /** The lines after it that may be its rest (text after quote marks, line number, first non-blank column). */
  rest: { text: string; lineNo: number; col: number }[];
}

/** ftrace lines are bounded by the kernel's trace_seq (a page); anything far longer is garbage. */
export const MAX_FTRACE_LINE_BYTES = 64 * 1024;

interface FtraceStats {
  lines: number;
  events: number;
  /** Lines that were not events: comments, trace-cmd headers, blank lines. */
  skipped: number;
}

/** A tracepoint name and its handler (null: none) with its own system's state; one per name seen, per parser. */
interface Tracepoint {
  readonly name: string;
  readonly handler: TracepointHandler<unknown> | null;
  readonly state: unknown;
}

/** The context handlers see: the header's fields of the current line, emission through the output. */
class LineContext implements TracepointContext, SystemSetup {
  name = '';
  readonly shared: SharedState = { fuseIomapInodes: new Set() };
  constructor(
    private readonly header: EventHeader,
    private readonly out: EventOutput,
    private readonly cur: Cursor,
    private readonly line: Line,
    private readonly sourceName: string,
    private readonly diags: DiagSink,
  ) {}
  get tsNs(): number { return this.header.tsNs; }
  get task(): TaskId { return this.header.task; }
  get taskState(): TaskState { return this.header.taskState; }
  get proc(): number { return this.header.proc; }
  emit(ev: TraceEvent): void {
    this.out.emit(ev);
  }
  keepAsInstant(): void {
    // An instance buffer's event names it (typed events have no field for it).
    const inst = this.header.instance;
    const text = inst === '' ? this.cur.text() : `[${inst}] ${this.cur.text()}`;
    this.out.emit({ kind: 'instant', tsNs: this.header.tsNs, task: this.header.task, name: this.name, text });
  }
  defer<E extends TraceEvent>(ev: E, resolve: Resolve<E> | null): void {
    this.out.defer(ev, resolve);
  }
  deferred(): TraceEvent | undefined {
    return this.out.deferredOf(this.header.task);
  }
  closeDeferred(): void {
    this.out.closeDeferred(this.header.task);
  }
  replaceDeferred(ev: TraceEvent): void {
    this.out.replaceDeferred(this.header.task, ev);
  }
  waitQueue<E extends TraceEvent>(): WaitQueue<E> {
    return this.out.waitQueue<E>();
  }
  flags(text: string, table: ReadonlyArray<readonly [number, string]>, what: string): number {
    const { value, unknown } = parseFlags(text, table);
    if (unknown.length > 0) this.diag('unknown_flag', `unknown ${what} ${unknown.join('|')}`);
    return value;
  }
  diag(code: string, message: string): void {
    this.diags.add({ source: this.sourceName, line: this.line.lineNo, col: 0, code, message });
  }
}

/**
 * A user stack frame as fusescope keeps it: `0x7f16f2295910` from the kernel's ` =>  <00007f16f2295910>`
 * (seq_print_user_ip, kernel/trace/trace_output.c) or trace-cmd's `=> 0x7f16f2295910`; a frame the
 * kernel named (options/sym-userobj: the mapped file and offset) as printed. null: an empty slot
 * (address 0), where the kernel stops (trace_user_stack_print) and report prints `0x0`.
 */
function userFrame(text: string): string | null {
  const t = text.trim();
  const m = /^(?:<([0-9a-fA-F]+)>|0x([0-9a-fA-F]+))$/.exec(t);
  if (m === null) return t;
  const hex = (m[1] ?? m[2]!).replace(/^0+/, '').toLowerCase();
  return hex === '' ? null : `0x${hex}`;
}

/**
 * A stack frame line's symbol: ` => sym` (tracefs), ` => sym+0x1f/0x80` (tracefs with sym-offset),
 * `=> sym (ffffffff813ea8da)` (trace-cmd report) → `sym`.
 */
function frameSymbol(text: string): string {
  let t = text.trim();
  const paren = t.indexOf(' (');
  if (paren > 0) t = t.slice(0, paren);
  const plus = t.indexOf('+0x');
  if (plus > 0) t = t.slice(0, plus);
  return t;
}

/**
 * A perf script call-chain line's symbol: `<tab>ffffffff8224d0fc down_write+0x66 ([kernel.kallsyms])`
 * → `down_write`; `[unknown]` stays; null when the line is not a frame (address, then a symbol).
 */
function perfFrameSymbol(text: string): string | null {
  // A tab first (perf indents frames with one; an event line's padded comm is spaces).
  const m = /^\t\s*[0-9a-f]+\s+(\S.*?)(?:\s+\([^()]*\))?\s*$/.exec(text);
  if (m === null) return null;
  const sym = m[1]!;
  const plus = sym.indexOf('+0x');
  return plus > 0 ? sym.slice(0, plus) : sym;
}

/** Which text the parser reads: ftrace's (trace_pipe, `trace`, trace-cmd report) or `perf script`'s. */
export type EventLayout = 'ftrace' | 'perf';

export class FtraceParser implements LineSink {
  readonly stats: FtraceStats = { lines: 0, events: 0, skipped: 0 };
  private readonly line = new Line();
  private readonly framer: LineFramer;
  private readonly header: EventHeader;
  /** The header parser when the layout is ftrace's (records decoded elsewhere set its fields). */
  private readonly ftraceHeader: HeaderParser | null;
  private readonly out: EventOutput;
  private readonly cur: Cursor;
  private readonly ctx: LineContext;
  private readonly syscalls: Syscalls;
  /** Tracepoints by the units of their name: the table is looked up once per distinct name, not per line. */
  private readonly tracepoints = new Interner<Tracepoint>();
  private readonly handlers = new Map<string, Tracepoint>();
  /** perf: the previous line was an event or one of its call-chain frames (a frame may follow). */
  private chainMayFollow = false;
  /** The open user stack block reached an empty slot: the frames after it are not the stack's. */
  private userStackEnded = false;
  /** An event line whose body ended early, waiting to see whether the next line is its wrapped rest. */
  private held: HeldLine | null = null;

  /** `systems`: the tracepoint tables (systems/index.ts); a name in two of them is a programming error. */
  constructor(
    private readonly sourceName: string,
    onEvent: (ev: TraceEvent) => void,
    readonly diags = new DiagSink(),
    systems: ReadonlyArray<AnyTracepointSystem> = SYSTEMS,
    private readonly layout: EventLayout = 'ftrace',
  ) {
    this.framer = new LineFramer(this.line, this, MAX_FTRACE_LINE_BYTES, this.stats);
    this.ftraceHeader = layout === 'perf' ? null : new HeaderParser(this.line);
    this.header = this.ftraceHeader ?? new PerfHeaderParser(this.line);
    this.out = new EventOutput(onEvent);
    this.cur = new Cursor(this.line);
    this.ctx = new LineContext(this.header, this.out, this.cur, this.line, sourceName, diags);
    this.syscalls = new Syscalls(this.line, this.header, this.out);
    for (const system of systems as ReadonlyArray<TracepointSystem<unknown>>) {
      const state = system.newState(this.ctx);
      for (const [name, handler] of Object.entries(system.handlers)) {
        if (this.handlers.has(name)) throw new Error(`ftrace: tracepoint ${name} is in two systems (${system.name})`);
        this.handlers.set(name, { name, handler, state });
      }
    }
  }

  /**
   * tsNs (this parser's axis) of the oldest event read but not yet handed to onEvent — held for a
   * later line's decision, or a line held as possibly wrapped — or Infinity when none is.
   */
  oldestPendingNs(): number {
    const out = this.out.oldestHeldNs();
    return this.held === null ? out : Math.min(out, this.held.header.tsNs);
  }

  /** tsNs (this parser's axis) of the last event line read. */
  get lastLineTsNs(): number {
    return this.header.tsNs;
  }

  /** Absolute ns of tsNs = 0 (the first event's timestamp); null until an event is seen. */
  get originNs(): bigint | null {
    return this.header.originNs;
  }
  /** How the first event's time was printed (HeaderParser.stampKind): which kind of trace clock. */
  get stampKind(): 'secs' | 'integer' | null {
    return this.header.stampKind;
  }

  /** Text (a string) or UTF-8 bytes; a file may be pushed either way, in chunks of any size. */
  push(chunk: string | Uint8Array): void {
    this.framer.push(chunk);
  }

  end(): void {
    this.framer.end();
    if (this.held !== null) this.releaseHeld();
    this.out.end();
    const untimed = this.header.untimedEvents;
    if (untimed > 0) {
      this.diag(0, 0, 'time_unknown', `${untimed} of ${this.stats.events} events come from lines without the \`comm-pid [cpu] time:\` prefix ` +
        `(pasted): their times and tasks are unknown; they are kept in the file's order, 1 µs after the event before them, on task '${UNKNOWN_TASK}' — those times are not real`);
    }
    if (this.stats.events === 0 && this.diags.count === 0) this.diag(0, 0, 'empty', 'no trace events in file');
  }

  private diag(line: number, col: number, code: string, message: string): void {
    this.diags.add({ source: this.sourceName, line, col, code, message });
  }

  lineTooLong(lineNo: number): void {
    this.diag(lineNo, 1, 'line_too_long', `line longer than ${MAX_FTRACE_LINE_BYTES} bytes skipped`);
  }

  /** The framer's current line, from its first unit. */
  onLine(): void {
    const line = this.line;
    const u = line.u;
    if (u[line.ls] === 62) {
      // A mail reply's quote marks (`> `, `>> `, `> > `): the line starts after them.
      let i = line.ls;
      while (u[i] === 62 || u[i] === 32 || u[i] === 9) i++;
      line.ls = i;
    }
    if (this.held !== null) {
      if (this.wrappedRest()) return;
      this.releaseHeld();
    }
    const ls = line.ls;
    const le = line.le;
    let bodyCol = this.header.known();
    if (bodyCol >= 0) {
      this.out.closeStack();
    } else {
      // Stack frames continue the open <stack trace> block.
      let i = ls;
      while (u[i] === 32 || u[i] === 9) i++;
      if (u[i] === 61 && u[i + 1] === 62) {
        if (this.out.stackName() === 'user_stack') {
          this.addUserFrame(line.str(i + 2, le));
          return;
        }
        if (!this.out.addFrame(frameSymbol(line.str(i + 2, le)))) {
          this.diag(line.lineNo, i - ls + 1, 'orphan_frame', "'=>' stack frame without a <stack trace> line before it");
        }
        return;
      }
      if (this.layout === 'perf' && i > ls && i < le && this.perfFrame(i)) return;
      this.chainMayFollow = false;
      this.out.closeStack();
      if (i === le || u[i] === 35) {
        this.stats.skipped++;
        return;
      }
      bodyCol = this.header.parse(i);
      if (bodyCol < 0) {
        this.nonEventLine(i);
        return;
      }
    }
    this.body(bodyCol);
  }

  /**
   * A task's process, once (again if it changes: an exec): a task_process row before the task's
   * first event whose header printed its tgid. One compare per event otherwise.
   */
  private noteProcess(): void {
    const h = this.header;
    const tgid = h.tgid;
    if (tgid === 0 || h.taskState.tgid === tgid) return;
    h.taskState.tgid = tgid;
    this.out.emit({ kind: 'task_process', tsNs: h.tsNs, task: h.task, tgid });
  }

  /** The event whose body starts at bodyCol (the header's fields are set). */
  private body(bodyCol: number): void {
    const line = this.line;
    this.stats.events++;
    this.chainMayFollow = true;
    this.noteProcess();
    try {
      this.dispatch(bodyCol);
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      if (this.layout === 'ftrace') {
        // Perhaps cut by a mail client: held until the next line says (wrappedRest).
        const h = this.header as unknown as HeaderFields;
        this.held = {
          text: line.str(line.ls, line.le), bodyAt: bodyCol - line.ls, lineNo: line.lineNo, byteOffset: line.byteOffset,
          header: { tsNs: h.tsNs, task: h.task, taskState: h.taskState, pid: h.pid, proc: h.proc }, error: e, rest: [],
        };
        return;
      }
      this.diag(line.lineNo, bodyCol - line.ls + 1, 'bad_body', e.message);
      this.out.emit({ kind: 'instant', tsNs: this.header.tsNs, task: this.header.task, name: 'unparsed', text: line.str(bodyCol, line.le) });
    }
  }

  /**
   * The current line, after a held line (an event line whose body ended early): if it is no event
   * line of its own (nor blank, a comment, a stack frame, a lost-events or trace-cmd header line; a
   * pasted `event: body` line only after a held line that is a bare header), it may be the held line's rest, cut off by a mail client (~72-78 columns, or `fold -w`). The
   * pieces are joined as they are (`fold` cuts anywhere) or, failing that, with one space (a mailer
   * that wrapped at a space and dropped it); a join that parses is the event, said in a
   * `wrapped_joined` diagnostic. True: the line was taken (joined, or held as a possible piece).
   */
  private wrappedRest(): boolean {
    const line = this.line;
    const u = line.u;
    let i = line.ls;
    while (u[i] === 32 || u[i] === 9) i++;
    if (i === line.le || u[i] === 35 || (u[i] === 61 && u[i + 1] === 62)) return false;
    if (this.header.known() >= 0 || this.header.parse(i) >= 0) return false;
    const t = line.str(i, line.le);
    const held = this.held!;
    // A pasted `event: body` line is an event of its own — unless the held line stops right after its
    // timestamp (a header is never a whole line): then the event is its rest (`fold -s` cuts there).
    const headerOnly = held.rest.length === 0 && held.text.slice(held.bodyAt).trim() === '';
    if (LOST.test(t) || SKIP_LINE.test(t) || (!headerOnly && this.isUntimedEventLine(t))) return false;
    held.rest.push({ text: line.str(line.ls, line.le), lineNo: line.lineNo, col: i - line.ls + 1 });
    if (this.join(held)) {
      this.held = null;
      const n = held.rest.length;
      this.diag(held.lineNo, 1, 'wrapped_joined', `an event line cut in ${n + 1} (mail-wrapped): joined with line${n === 1 ? '' : 's'} ` +
        `${held.rest.map((r) => r.lineNo).join(', ')} and read as one`);
      return true;
    }
    if (held.rest.length + 1 >= MAX_WRAP_PIECES) this.releaseHeld();
    return true;
  }

  /** Tries the held line joined with its pieces (as they are, then with a space at each cut); true: it parsed. */
  private join(held: HeldLine): boolean {
    const line = this.line;
    const saved = { u: line.u, ls: line.ls, le: line.le, src: line.src, crFree: line.crFree, words: line.words, lineNo: line.lineNo, byteOffset: line.byteOffset };
    const h = this.header as unknown as HeaderFields;
    const cuts = held.rest.length;
    try {
      for (let spaces = 0; spaces < 1 << cuts; spaces++) {
        let text = held.text;
        held.rest.forEach((r, k) => { text += ((spaces >> k) & 1 ? ' ' : '') + r.text; });
        const units = new Uint16Array(text.length + 1);
        for (let k = 0; k < text.length; k++) units[k] = text.charCodeAt(k);
        line.u = units; line.ls = 0; line.le = text.length; line.src = text; line.crFree = false; line.words = null;
        line.lineNo = held.lineNo; line.byteOffset = held.byteOffset;
        Object.assign(h, held.header);
        try {
          this.dispatch(held.bodyAt);
          return true;
        } catch (e) {
          if (!(e instanceof BodyError)) throw e;
        }
      }
      return false;
    } finally {
      Object.assign(line, saved);
    }
  }

  /** The held line was not wrapped (or no join parsed): it and its possible pieces are kept as they are. */
  private releaseHeld(): void {
    const held = this.held!;
    this.held = null;
    this.diag(held.lineNo, held.bodyAt + 1, 'bad_body', held.error.message);
    this.out.emit({ kind: 'instant', tsNs: held.header.tsNs, task: held.header.task, name: 'unparsed', text: held.text.slice(held.bodyAt) });
    if (held.rest.length > 0) {
      this.diag(held.lineNo, 1, 'wrapped_not_joined', `looks cut in ${held.rest.length + 1} (its body ends early and line ` +
        `${held.rest.map((r) => r.lineNo).join(', ')} is no event line), but no join of them parses: kept as they are`);
    }
    for (const r of held.rest) this.diag(r.lineNo, r.col, 'unparsable', `not an ftrace event line: ${excerpt(r.text.slice(r.col - 1))}`);
  }

  /** A pasted `[system:]event: body` line naming a tracepoint the tables know (untimedLine's test). */
  private isUntimedEventLine(t: string): boolean {
    const m = UNTIMED_LINE.exec(t);
    if (m === null) return false;
    const name = m[1]!;
    return this.handlers.has(name) || name.startsWith('sys_enter_') || name.startsWith('sys_exit_');
  }

  // ---- records whose header is decoded already (a trace.dat, tracedat/records.ts) ----
  // The same as their report line `comm-pid [cpu] sec.ns: name: body` through onLine, without
  // printing the header and parsing it back: the handlers read the body bytes as they read a line's.

  /** The state of task `comm-pid` (the caller keeps it per pid). */
  taskNamed(comm: string, pid: number): TaskState {
    return this.ftraceHeader!.taskNamed(comm, pid);
  }

  /** The tracepoint `name` (the caller keeps it per event id). Its name must be a `\w+` word, as a line's is. */
  tracepointNamed(name: string): TracepointRef {
    return this.handlers.get(name) ?? { name, handler: null, state: null };
  }

  /**
   * One record: time `sec`.`nsInSec` (absolute), the task of `pid`, the tracepoint, its body as
   * UTF-8 bytes body[0, len) with room for a 0 at len (no line terminator in it: such a body is
   * pushed as text). `src`: the body as a string when it is ASCII (same indexes: fields are sliced
   * from it, not decoded), else null. `cpu` only names the column a diagnostic points at;
   * `instance`: the trace-cmd instance buffer it came from ('' the top one); `tgid`: the task's
   * thread-group id when known (a live capture's saved_tgids), else 0 (the process is the pid).
   */
  record(sec: number, nsInSec: number, pid: number, task: TaskState, tp: TracepointRef, body: Uint8Array, len: number, cpu: number, src: string | null, instance: string, tgid = 0): void {
    // A text line held as possibly mail-wrapped (pushed by the same reader) has no rest coming from a record.
    if (this.held !== null) this.releaseHeld();
    const line = this.line;
    line.lineNo++;
    this.stats.lines++;
    body[len] = 0;
    line.u = body;
    line.ls = 0;
    line.le = len;
    line.src = src;
    line.crFree = false; // not known (a '\r' inside the body is possible): readers that care check
    line.words = null;
    this.ftraceHeader!.direct(sec, nsInSec, pid, task, instance, tgid);
    this.out.closeStack();
    this.stats.events++;
    this.chainMayFollow = true;
    this.noteProcess();
    try {
      this.event(tp, skipWs(body, 0));
    } catch (e) {
      if (!(e instanceof BodyError)) throw e;
      // Where the report line's `name:` starts: after `comm-pid [cpu] sec.nsnsnsnsn: ` (an
      // instance's line: `inst: ` and the comm right-aligned in 16 columns, as records.ts prints it).
      const col = (instance === '' ? 0 : instance.length + 2 + Math.max(0, 16 - task.name.lastIndexOf('/'))) + task.name.length + 2 + Math.max(3, String(cpu).length) + 2 + String(sec).length + 10 + 2 + 1;
      const text = `${tp.name}: ${unitsToString(body, 0, len)}`;
      this.diag(line.lineNo, col, 'bad_body', e.message);
      this.out.emit({ kind: 'instant', tsNs: this.header.tsNs, task: this.header.task, name: 'unparsed', text });
    }
  }

  /** Events read from lines without a `comm-pid [cpu] time:` header (their times are synthetic). */
  get untimedEvents(): number {
    return this.header.untimedEvents;
  }

  /**
   * A pasted line that kept only `[system:]event: body` (the event name perhaps padded to a column):
   * an event when the name is a tracepoint the tables know (or a trace-cmd syscall event), so prose
   * such as `Note: …` is not taken for one. True if it was.
   */
  private untimedLine(indent: number): boolean {
    const t = this.line.str(indent, this.line.le);
    const m = UNTIMED_LINE.exec(t);
    if (m === null) return false;
    const name = m[1]!;
    if (!this.handlers.has(name) && !name.startsWith('sys_enter_') && !name.startsWith('sys_exit_')) return false;
    this.header.untimed();
    this.body(indent);
    return true;
  }

  /**
   * perf script's call chain: indented `addr sym+off (dso)` lines after the event they belong to
   * (blank line after the last). The first opens a stack_trace instant at the event's time and
   * task, as a `<stack trace>` line does in ftrace. False: not a frame line.
   */
  private perfFrame(indent: number): boolean {
    const line = this.line;
    const sym = perfFrameSymbol(line.str(line.ls, line.le));
    if (sym === null) return false;
    if (!this.out.addFrame(sym)) {
      if (!this.chainMayFollow) {
        this.diag(line.lineNo, indent - line.ls + 1, 'orphan_frame', 'call-chain line without an event line before it');
        return true;
      }
      this.out.openStack({ kind: 'instant', tsNs: this.header.tsNs, task: this.header.task, name: 'stack_trace', text: '' });
      this.out.addFrame(sym);
    }
    return true;
  }

  /** Comments, trace-cmd headers, lost-event markers; anything else is a diag. */
  private nonEventLine(indent: number): void {
    const line = this.line;
    const t = line.str(indent, line.le);
    const lost = LOST.exec(t);
    if (lost) {
      // -1: the line says events were dropped but not how many (never made up).
      const count = lost[1] ?? lost[2];
      const n = count === undefined ? -1 : Number(count);
      const tsNs = this.header.tsNs;
      this.out.emit({ kind: 'gap', tsNs, task: NO_TASK, missedEvents: n, fromTsNs: tsNs, toTsNs: tsNs });
      return;
    }
    if (SKIP_LINE.test(t)) {
      this.stats.skipped++;
      return;
    }
    if (this.untimedLine(indent)) return;
    this.diag(line.lineNo, indent - line.ls + 1, 'unparsable', `not ${this.layout === 'perf' ? 'a perf script' : 'an ftrace'} event line: ${excerpt(t)}`);
  }

  /** The body starts at `b`: a stack trace, a syscall (raw_syscalls/syscalls text) or `event: body`. */
  private dispatch(b: number): void {
    const line = this.line;
    const u = line.u;
    const c0 = u[b];
    if (c0 === 60 && hasAt(u, b, '<stack trace>')) {
      this.out.openStack({ kind: 'instant', tsNs: this.header.tsNs, task: this.header.task, name: 'stack_trace', text: '' });
      return;
    }
    if (c0 === 60 && hasAt(u, b, '<user stack trace>')) return this.openUserStack(b);
    if (c0 === 115 && u[b + 1] === 121 && u[b + 2] === 115 && u[b + 3] === 95 && // sys_, not sys_enter_/sys_exit_
      (u[b + 4] !== 101 || (!hasAt(u, b + 4, 'enter_') && !hasAt(u, b + 4, 'exit_'))) && this.syscalls.tryLine(b)) {
      return;
    }
    // ^(?:\w+:)?(\w+):(?:\s+|$)
    const end = line.le;
    let p = b;
    while (isWord(u[p]!)) p++;
    if (p > b && u[p] === 58) {
      let q = p + 1;
      while (isWord(u[q]!)) q++;
      if (q > p + 1 && u[q] === 58 && (q + 1 === end || isWs(u[q + 1]!))) return this.event(this.tracepoint(p + 1, q), skipWs(u, q + 1));
      if (p + 1 === end || isWs(u[p + 1]!)) return this.event(this.tracepoint(b, p), skipWs(u, p + 1));
    }
    throw new BodyError(0, `expected 'event: body' after the timestamp: ${excerpt(line.str(b, end))}`);
  }

  /**
   * A user stack block (ftrace's user_stack, options/userstacktrace): one `user_stack` instant whose
   * text is the frames, innermost first, one per line, up to the first empty slot — the same from the
   * kernel's text, trace-cmd report's and a trace.dat record. Frames on this line (after `=>`) and on
   * the `=>` lines that follow are its frames. No tgid: neither text form prints it.
   */
  private openUserStack(b: number): void {
    const line = this.line;
    this.out.openStack({ kind: 'instant', tsNs: this.header.tsNs, task: this.header.task, name: 'user_stack', text: '' });
    this.userStackEnded = false;
    const rest = line.str(b, line.le).split('=>');
    for (let k = 1; k < rest.length; k++) this.addUserFrame(rest[k]!);
  }

  private addUserFrame(text: string): void {
    if (this.userStackEnded) return;
    const f = userFrame(text);
    if (f === null) this.userStackEnded = true;
    else this.out.addFrame(f);
  }

  /** The tracepoint named u[from, to). */
  private tracepoint(from: number, to: number): Tracepoint {
    const u = this.line.u;
    const known = this.tracepoints.get(u, from, to);
    if (known !== undefined) return known;
    const key = unitsToString(u, from, to);
    return this.tracepoints.put(key, this.handlers.get(key) ?? { name: key, handler: null, state: null });
  }

  /** A tracepoint's body is u[b, le): its table's handler, else the fallbacks (file comment). */
  private event(tp: Tracepoint, b: number): void {
    const c = this.cur.reset(b, this.line.le);
    const ctx = this.ctx;
    const name = tp.name;
    ctx.name = name;
    if (tp.handler !== null) {
      tp.handler(ctx, c, tp.state);
      return;
    }
    if (name.startsWith('fuse_')) {
      // A series event without a handler: an instant (never a uprobe).
    } else if (name.startsWith('sys_enter_') || name.startsWith('sys_exit_')) {
      return this.syscalls.traceCmd(name, b);
    } else if (name === 'kernel_stack' && hasAt(this.line.u, b, '<stack trace')) {
      // trace-cmd report's stacktrace event: `kernel_stack: <stack trace >`, then `=> sym (addr)` lines.
      this.out.openStack({ kind: 'instant', tsNs: this.header.tsNs, task: this.header.task, name: 'stack_trace', text: '' });
      return;
    } else if (name === 'user_stack') {
      // trace-cmd report's `user_stack:` with `\t=> 0x…` frames (one per slot), or the one-line form.
      return this.openUserStack(b);
    } else if (this.line.u[b] === 40) {
      const body = c.text();
      // The kernel prints a uprobe's address `(0x55d0…)`; a record printed by its print fmt (trace.dat,
      // trace_pipe_raw: `"(%lx)"`) has no 0x.
      if (/^\((?:0x)?[0-9a-f]+(?: <- (?:0x)?[0-9a-f]+)?\)/.test(body)) {
        this.syscalls.uprobe(name, body);
        return;
      }
    }
    ctx.keepAsInstant();
  }
}
