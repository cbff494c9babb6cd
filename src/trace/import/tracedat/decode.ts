// A ring-buffer record's bytes into the ftrace parser, by its event's own `format`: the header
// decoded here (time, pid → comm, tgid), the body written as bytes by its compiled print fmt (or
// printed, where the writer leaves it to the printer: printfmt.ts) and handed to
// FtraceParser.record, or, when a body cannot go that way (stack records, a line terminator in
// it, an event name that is not a word), as its `trace-cmd report -t` line of text. One decoder for
// trace.dat files (records.ts) and the live per-CPU trace_pipe_raw (server/capture/raw-reader.ts).
import type { EventFormat } from './format.ts';
import { compilePrintFmt, OUT_FULL, type BodyPrinter, type BodyWriter, type RecordView } from './printfmt.ts';
import type { FtraceParser, TracepointRef } from '../ftrace/parser.ts';
import type { TaskState } from '../ftrace/context.ts';

/** Event ids below this are looked up in an array (the rest in the Map). */
const COMPILED_BY_ID = 4096;

export interface DatDiag {
  offsetBytes: number;
  code: string;
  message: string;
}

/** Where what does not go to the parser directly goes: whole report lines, and diagnostics. */
export interface RecordOut {
  text(line: string): void;
  diag(d: DatDiag): void;
}

export interface DecoderSource {
  events: ReadonlyMap<number, EventFormat>;
  little: boolean;
  longBytes: number;
  /** The comm of pid (report's `<...>` when unknown; pid 0 is `<idle>` without asking). */
  commOf(pid: number): string;
  /** The thread-group id of pid, 0 when unknown (the task's process is then its pid). */
  tgidOf?: (pid: number) => number;
  /**
   * A pid's comm may change while records come (a live capture re-reads saved_cmdlines): asked per
   * record. Else (a file's saved cmdlines) asked once per pid.
   */
  commsMayChange?: boolean;
}

interface Compiled {
  ev: EventFormat; print: BodyPrinter; pidOff: number; pidSize: number;
  /** The body's bytes written straight into the parser's buffer (null: printed, then encoded). */
  write: BodyWriter | null;
  /** Direct mode: the parser's tracepoint for the event (null: its records go as text). */
  tp: TracepointRef | null;
  /** ftrace's kernel_stack event (the `stacktrace` trigger, `-T`): where its frame count and frames are. */
  stack: { sizeOff: number; callerOff: number } | null;
}

/**
 * The file's kallsyms as a sorted table: a frame is the symbol with the greatest address at or
 * below it (addresses as two 32-bit halves: kernel addresses are above 2^53).
 */
class KernelSymbols {
  private readonly hi: Uint32Array;
  private readonly lo: Uint32Array;
  private readonly names: string[];
  /** `firstAtTie`: of several symbols at one address name the first (see find). */
  constructor(text: string, private readonly firstAtTie = false) {
    const rows: Array<{ hi: number; lo: number; name: string }> = [];
    for (const line of text.split('\n')) {
      const m = /^([0-9a-fA-F]{1,16}) \S (\S+)/.exec(line);
      if (m === null) continue;
      const a = m[1]!.padStart(16, '0');
      rows.push({ hi: parseInt(a.slice(0, 8), 16), lo: parseInt(a.slice(8), 16), name: m[2]! });
    }
    rows.sort((x, y) => x.hi - y.hi || x.lo - y.lo); // stable: equal addresses keep file order
    this.hi = Uint32Array.from(rows, (r) => r.hi);
    this.lo = Uint32Array.from(rows, (r) => r.lo);
    this.names = rows.map((r) => r.name);
  }
  /**
   * The symbol at or below hi:lo, or null below the first. Of several at one address, the last, or
   * with `firstAtTie` the first in the table's order — the kernel's own choice when it prints a
   * frame (kallsyms_lookup steps back to the first of equal addresses), which the live raw reader
   * must match: `do_compat_epoll_pwait.part.0` and `do_epoll_pwait.part.0` share one address here.
   */
  find(hi: number, lo: number): string | null {
    let a = 0;
    let b = this.names.length; // first index above hi:lo
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.hi[m]! < hi || (this.hi[m] === hi && this.lo[m]! <= lo)) a = m + 1;
      else b = m;
    }
    if (a === 0) return null;
    let at = a - 1;
    if (this.firstAtTie) while (at > 0 && this.hi[at - 1] === this.hi[at] && this.lo[at - 1] === this.lo[at]) at--;
    return this.names[at]!;
  }
}

/**
 * A kernel_stack record as report prints it: `<stack trace >`, then one line per frame of its
 * `size` that the record holds, up to an all-ones end marker: `=> sym (addr)` when the file's
 * kallsyms names it, else `=> addr` (hex).
 */
function stackFrames(dv: DataView, at: number, len: number, st: { sizeOff: number; callerOff: number }, little: boolean, longBytes: number, syms: KernelSymbols | null): string {
  const n = dv.getInt32(at + st.sizeOff, little);
  let out = '';
  for (let i = 0; i < n; i++) {
    const p = at + st.callerOff + i * longBytes;
    if (p + longBytes > at + len) break;
    let hex: string;
    let sym: string | null;
    if (longBytes === 8) {
      const lo = dv.getUint32(little ? p : p + 4, little);
      const hi = dv.getUint32(little ? p + 4 : p, little);
      if (lo === 0xffffffff && hi === 0xffffffff) break;
      hex = hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
      sym = syms?.find(hi, lo) ?? null;
    } else {
      const v = dv.getUint32(p, little);
      if (v === 0xffffffff) break;
      hex = v.toString(16);
      sym = syms?.find(0, v) ?? null;
    }
    out += sym === null ? `=> ${hex}\n` : `=> ${sym} (${hex})\n`;
  }
  return out;
}

/**
 * A user_stack record's body: `<user stack trace> => 0x… => 0x…`, the frames up to the first empty
 * slot (the kernel zeroes the slots it does not fill, and stops printing at a zero itself). User
 * addresses: no symbol is known in a trace.dat (the kernel's sym-userobj lookup needs the live
 * process), so each frame is its address, as report prints it. The record's tgid is left out: report
 * does not print it, and the event must be the one report's text gives.
 */
function userStackBody(rv: RecordView, callerOff: number, slots: number): string {
  const { view, base, size, little, longBytes } = rv;
  let out = '<user stack trace>';
  for (let i = 0; i < slots; i++) {
    const p = base + callerOff + i * longBytes;
    if (p + longBytes > base + size) break;
    let hex: string;
    if (longBytes === 8) {
      const lo = view.getUint32(little ? p : p + 4, little);
      const hi = view.getUint32(little ? p + 4 : p, little);
      if (lo === 0 && hi === 0) break;
      hex = hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
    } else {
      const v = view.getUint32(p, little);
      if (v === 0) break;
      hex = v.toString(16);
    }
    out += ` => 0x${hex}`;
  }
  return out;
}

interface Utf8Encoder { encodeInto(s: string, into: Uint8Array): { read: number; written: number } }
const encoder = new TextEncoder() as unknown as Utf8Encoder;


function stamp(tsNs: number): string {
  const s = Math.floor(tsNs / 1e9);
  const ns = tsNs - s * 1e9;
  return `${s}.${String(ns).padStart(9, '0')}`;
}

const cpuText = (cpu: number): string => String(cpu).padStart(3, '0');

/**
 * Decodes records one at a time (emit). `direct`: the parser records go to (null: every record as
 * a report line through out.text). Keeps per event id its compiled printer and per pid its task.
 */
export class RecordDecoder {
  private readonly compiled = new Map<number, Compiled | null>();
  /** The same by id for ids below COMPILED_BY_ID (undefined: not compiled yet). */
  private readonly compiledById = new Array<Compiled | null | undefined>(COMPILED_BY_ID).fill(undefined);
  /** pid → its task, for the comm it had when taken (a pid's comm changes at exec). */
  private readonly tasks = new Map<number, { comm: string; task: TaskState }>();
  private syms: KernelSymbols | null | undefined;
  private bodyBuf = new Uint8Array(1024);
  /** One view object refilled per record (the printers keep no reference to it). */
  private readonly r: { -readonly [K in keyof RecordView]: RecordView[K] };
  private readonly idOff: number;
  /** Records decoded, and per instance buffer. */
  records = 0;
  readonly instanceRecords = new Map<string, number>();

  constructor(private readonly src: DecoderSource, private readonly direct: FtraceParser | null, private readonly out: RecordOut) {
    this.r = { view: new DataView(new ArrayBuffer(0)), base: 0, size: 0, little: src.little, longBytes: src.longBytes };
    const first = src.events.values().next();
    this.idOff = first.done ? 0 : first.value.fields.find((f) => f.name === 'common_type')?.offset ?? 0;
  }

  /** The event id of the record at [at, at + len). */
  idOf(dv: DataView, at: number, len: number): number {
    return len >= 2 ? dv.getUint16(at + this.idOff, this.src.little) : -1;
  }

  /** True when the record of event `id` prints stack frames and no symbol table was given yet (setSymbols). */
  needsSymbols(id: number): boolean {
    return this.syms === undefined && this.compiledOf(id)?.stack != null;
  }

  /**
   * /proc/kallsyms text (or a trace.dat's copy), null when there is none: frames are then addresses.
   * `firstAtTie`: name a frame as the kernel prints it (the live raw reader, against trace_pipe's text);
   * a trace.dat keeps the last of several symbols at one address, as it did.
   */
  setSymbols(text: string | null, firstAtTie = false): void {
    this.syms = text === null || text.length === 0 ? null : new KernelSymbols(text, firstAtTie);
  }

  /** Event ids are small (the kernel numbers events from 1 up): an array read per record, not a Map's. */
  private compiledOf(id: number): Compiled | null {
    if (id >= 0 && id < COMPILED_BY_ID) {
      let c = this.compiledById[id];
      if (c === undefined) this.compiledById[id] = c = this.compile(id);
      return c;
    }
    return this.compile(id);
  }

  private compile(id: number): Compiled | null {
    let c = this.compiled.get(id);
    if (c !== undefined) return c;
    const ev = this.src.events.get(id);
    const direct = this.direct;
    const longBytes = this.src.longBytes;
    if (!ev) c = null;
    else if (ev.system === 'ftrace' && ev.name === 'kernel_stack' && ev.fields.some((f) => f.name === 'size') && ev.fields.some((f) => f.name === 'caller')) {
      // Its print fmt indexes an array (refused by printfmt.ts); report prints it by hand: so do we.
      const pid = ev.fields.find((f) => f.name === 'common_pid');
      const stack = { sizeOff: ev.fields.find((f) => f.name === 'size')!.offset, callerOff: ev.fields.find((f) => f.name === 'caller')!.offset };
      c = { ev, print: () => '<stack trace >', write: null, pidOff: pid?.offset ?? 4, pidSize: pid?.size ?? 4, tp: null, stack };
    } else if (ev.system === 'ftrace' && ev.name === 'user_stack' && ev.fields.some((f) => f.name === 'tgid') && ev.fields.some((f) => f.name === 'caller')) {
      // `options/userstacktrace`: its print fmt indexes an array too. Report prints it as
      // `user_stack: \t=> 0x…` and one `\t=> 0x…` line per slot (zeros included); we print the
      // one-line form, which the ftrace parser reads into the same `user_stack` instant.
      const pid = ev.fields.find((f) => f.name === 'common_pid');
      const caller = ev.fields.find((f) => f.name === 'caller')!;
      const print = (rv: RecordView): string => userStackBody(rv, caller.offset, caller.arrayCount > 0 ? caller.arrayCount : caller.size / rv.longBytes);
      const tp = direct !== null ? direct.tracepointNamed(ev.name) : null;
      c = { ev, print, write: null, pidOff: pid?.offset ?? 4, pidSize: pid?.size ?? 4, tp, stack: null };
    } else {
      const p = compilePrintFmt(ev, longBytes);
      if (p.error !== null) this.out.diag({ offsetBytes: 0, code: 'dat_print_fmt', message: `${ev.system}:${ev.name}: print fmt not understood (${p.error}); its bodies are its fields as name=value` });
      const pid = ev.fields.find((f) => f.name === 'common_pid');
      // A name that is not a word would not read back from its line as this tracepoint: as text.
      const tp = direct !== null && /^\w+$/.test(ev.name) ? direct.tracepointNamed(ev.name) : null;
      c = { ev, print: p.print, write: p.write, pidOff: pid?.offset ?? 4, pidSize: pid?.size ?? 4, tp, stack: null };
    }
    this.compiled.set(id, c);
    return c;
  }

  private commOf(pid: number): string {
    return pid === 0 ? '<idle>' : this.src.commOf(pid);
  }

  /** The parser's task for pid: a new one when its comm changed (exec), where comms may change. */
  private taskOf(pid: number, direct: FtraceParser): TaskState {
    let t = this.tasks.get(pid);
    if (t === undefined) {
      const comm = this.commOf(pid);
      this.tasks.set(pid, (t = { comm, task: direct.taskNamed(comm, pid) }));
    } else if (this.src.commsMayChange === true) {
      const comm = this.commOf(pid);
      if (t.comm !== comm) this.tasks.set(pid, (t = { comm, task: direct.taskNamed(comm, pid) }));
    }
    return t.task;
  }

  /**
   * The record at [at, at + len) of `dv`, at tsNs (absolute ns), from `cpu` of buffer `instance`
   * ('' the top one); `pageAt` names where it is in a diagnostic. Call needsSymbols/setSymbols first.
   */
  emit(dv: DataView, at: number, len: number, tsNs: number, cpu: number, instance: string, pageAt: number): void {
    const little = this.src.little;
    const id = this.idOf(dv, at, len);
    const c = this.compiledOf(id);
    this.records++;
    if (instance !== '') this.instanceRecords.set(instance, (this.instanceRecords.get(instance) ?? 0) + 1);
    if (c === null) {
      this.out.diag({ offsetBytes: pageAt, code: 'dat_unknown_event', message: `byte ${pageAt}: CPU ${cpu}: event id ${id} has no format in the file; record skipped` });
      return;
    }
    const r = this.r;
    r.view = dv;
    r.base = at;
    r.size = len;
    const pid = c.pidSize === 4 && len >= c.pidOff + 4 ? dv.getInt32(at + c.pidOff, little) : 0;
    const direct = this.direct;
    if (c.tp !== null && c.write !== null && direct !== null) {
      // The body written as bytes into the parser's buffer (no string made); whatever the writer
      // leaves to the printer (USE_TEXT, an exception) takes the printed way below.
      let bodyLen: number;
      try {
        while ((bodyLen = c.write(r, this.bodyBuf)) === OUT_FULL) this.bodyBuf = new Uint8Array(this.bodyBuf.length * 2);
      } catch {
        bodyLen = -1;
      }
      if (bodyLen >= 0 && (bodyLen === 0 || this.bodyBuf[bodyLen - 1] !== 13)) {
        if (bodyLen >= this.bodyBuf.length) { const b = new Uint8Array(bodyLen * 2); b.set(this.bodyBuf); this.bodyBuf = b; } // room for the 0 at bodyLen
        const sec = Math.floor(tsNs / 1e9);
        direct.record(sec, tsNs - sec * 1e9, pid, this.taskOf(pid, direct), c.tp, this.bodyBuf, bodyLen, cpu, null, instance, this.src.tgidOf?.(pid) ?? 0);
        return;
      }
    }
    const comm = this.commOf(pid);
    let body: string;
    try {
      body = c.print(r);
    } catch (e) {
      body = `[FAILED TO PARSE] ${(e as Error).message}`;
    }
    if (c.tp !== null && direct !== null) {
      // The body's UTF-8 bytes; a line terminator in it would split its report line: sent as text.
      const n = body.length;
      if (this.bodyBuf.length <= n * 3) this.bodyBuf = new Uint8Array(n * 3 + 1024);
      const bodyBuf = this.bodyBuf;
      let bodyLen = 0;
      let i = 0;
      for (; i < n; i++) {
        const ch = body.charCodeAt(i);
        if (ch > 127 || ch === 10) break;
        bodyBuf[i] = ch;
      }
      if (i === n) bodyLen = n;
      else if (body.indexOf('\n') < 0) bodyLen = encoder.encodeInto(body, bodyBuf).written;
      else bodyLen = -1;
      if (bodyLen >= 0 && (bodyLen === 0 || bodyBuf[bodyLen - 1] !== 13)) {
        const sec = Math.floor(tsNs / 1e9);
        direct.record(sec, tsNs - sec * 1e9, pid, this.taskOf(pid, direct), c.tp, bodyBuf, bodyLen, cpu, i === n ? body : null, instance, this.src.tgidOf?.(pid) ?? 0);
        return;
      }
    }
    const frames = c.stack === null ? '' : stackFrames(dv, at, len, c.stack, little, this.src.longBytes, this.syms ?? null);
    // An instance's event: `name: ` then the comm right-aligned in 16 columns, as report prints
    // it (the ftrace parser tells the prefix from a comm with ': ' by that padding).
    this.out.text(`${instance === '' ? '' : `${instance}: ${comm.padStart(16)}`}${instance === '' ? comm : ''}-${pid} [${cpuText(cpu)}] ${stamp(tsNs)}: ${c.ev.name}: ${body}\n${frames}`);
  }
}
