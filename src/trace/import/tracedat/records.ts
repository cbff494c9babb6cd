// A trace.dat's records as `trace-cmd report -t` lines, in report's order: the CPUs' ring-buffer
// pages merged by timestamp (ties: the lower CPU first). Each record is decoded by its own event
// format (common_pid from its format, the body by its print fmt: printfmt.ts); the lines then go
// through the ftrace text parser, so a .dat gives the same typed events as its report text.
//   line: `comm-pid [cpu] secs.nsecs: name: body`; comm from the saved cmdlines, `<...>` when the
//   file has none for the pid, `<idle>` for pid 0 — as report prints them.
//   lost events: a page flagged "missing events" with a stored count → `CPU:n [LOST count EVENTS]`
//   (a gap with the count); flagged without a count → `CPU:n [EVENTS DROPPED]`, as trace-cmd report
//   prints a record whose missed_events is -1: a gap whose count is unknown (missedEvents -1).
import type { ByteSource } from '../../recording/reader.ts';
import { DatError, TraceDat, type CpuData, type DatCodecs } from './reader.ts';
import type { EventFormat } from './format.ts';
import { compilePrintFmt, OUT_FULL, type BodyPrinter, type BodyWriter, type RecordView } from './printfmt.ts';
import type { FtraceParser, TracepointRef } from '../ftrace/parser.ts';
import type { TaskState } from '../ftrace/context.ts';

const MISSING_EVENTS = 0x80000000;
const MISSING_STORED = 0x40000000;
const COMMIT_MASK = (1 << 27) - 1;
const TS_MSB = 0xf800000000000000n;
/** Event ids below this are looked up in an array (the rest in the Map). */
const COMPILED_BY_ID = 4096;

export interface DatDiag {
  offsetBytes: number;
  code: string;
  message: string;
}

export interface DatSink {
  /** Report-format text, whole lines. */
  push(text: string): void;
  /**
   * When set, records go to this parser directly: header decoded (time, pid, comm), body as the
   * bytes report prints — no header printed and parsed back. What a body cannot carry that way
   * (a line terminator in it, an event name that is not a word) and lost-event markers still go
   * through push, as their report lines, in order.
   */
  direct?: () => FtraceParser | null;
  diag(d: DatDiag): void;
  /** Bytes of the file read so far (page offsets; approximate with several CPUs). */
  progress?: (doneBytes: number) => void;
  /** Share of the ring-buffer data read so far, 0..1, at each page read (compressed data: reaches 1 early). */
  share?: (done: number) => void;
}

export interface DatStats {
  records: number;
  pages: number;
  /** Where reading stopped early (null: the whole file was read). */
  stoppedAtBytes: number | null;
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
  constructor(text: string) {
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
  /** The symbol at or below hi:lo (the last of several at one address), or null below the first. */
  find(hi: number, lo: number): string | null {
    let a = 0;
    let b = this.names.length; // first index above hi:lo
    while (a < b) {
      const m = (a + b) >>> 1;
      if (this.hi[m]! < hi || (this.hi[m] === hi && this.lo[m]! <= lo)) a = m + 1;
      else b = m;
    }
    return a === 0 ? null : this.names[a - 1]!;
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

/** One CPU's records, page by page: only its current page is held. */
class CpuStream {
  page: Uint8Array = new Uint8Array(0) as Uint8Array;
  dv: DataView = new DataView(new ArrayBuffer(0));
  pos = 0;
  end = 0;
  tsNs = 0;
  pageAt = 0;
  /** The current record: payload [recAt, recAt + recLen) of `page`, at recTsNs. */
  recAt = 0;
  recLen = 0;
  recTsNs = 0;
  /** Lost before the current page: a count, -1 when not stored, 0 none; reported before its first record. */
  lost = 0;
  done = false;
  /** Records of this stream: the top buffer's ('') or an instance buffer's (`trace-cmd record -B name`). */
  constructor(
    readonly d: CpuData, private readonly pages: AsyncGenerator<{ page: Uint8Array; offsetBytes: number }>, private readonly dat: TraceDat,
    readonly instance: string, readonly order: number,
  ) {}

  /** Loads the next page with a record; false at the end of this CPU's data. */
  private async nextPage(): Promise<boolean> {
    const info = this.dat.info;
    for (;;) {
      const r = await this.pages.next();
      if (r.done) return false;
      const page = r.value.page;
      this.pageAt = r.value.offsetBytes;
      if (page.length < info.dataOffset) throw new DatError(this.pageAt, `CPU ${this.d.cpu}: page shorter than its header`);
      const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
      const little = info.little;
      this.tsNs = Number(dv.getBigUint64(0, little));
      const commitRaw = info.commitBytes === 8 ? Number(dv.getBigUint64(info.commitOffset, little) & 0xffffffffn) : dv.getUint32(info.commitOffset, little);
      const size = commitRaw & COMMIT_MASK;
      this.page = page;
      this.dv = dv;
      this.pos = info.dataOffset;
      this.end = info.dataOffset + size;
      if (this.end > page.length) throw new DatError(this.pageAt, `CPU ${this.d.cpu}: page commit ${size} runs past the page`);
      if (commitRaw & MISSING_EVENTS) {
        const storedAt = this.end;
        this.lost = commitRaw & MISSING_STORED && storedAt + info.longBytes <= page.length
          ? Number(info.longBytes === 8 ? dv.getBigUint64(storedAt, little) : BigInt(dv.getUint32(storedAt, little)))
          : -1;
      }
      if (this.pos < this.end) return true;
    }
  }

  /** Advances to the next data record; false when this CPU has none left. */
  async next(): Promise<boolean> {
    for (;;) {
      if (this.pos >= this.end) {
        if (!(await this.nextPage())) {
          this.done = true;
          return false;
        }
      }
      if (this.step()) return true;
    }
  }

  /** The next data record if the current page holds one (no await per record: most do); false: call next(). */
  nextInPage(): boolean {
    return this.pos < this.end && this.step();
  }

  /** Decodes event headers from pos until a data record (true) or the page's end (false). */
  private step(): boolean {
    const dv = this.dv;
    const little = this.dat.info.little;
    while (this.pos < this.end) {
      const at = this.pos;
      if (at + 4 > this.end) throw new DatError(this.pageAt, `CPU ${this.d.cpu}: event header cut at page byte ${at}`);
      const h = dv.getUint32(at, little);
      const typeLen = little ? h & 31 : h >>> 27;
      const delta = little ? h >>> 5 : h & 0x7ffffff;
      if (typeLen === 29) { // padding: to the page's end if its delta is 0, else a discarded event of array[0] bytes
        if (delta === 0) { this.pos = this.end; return false; }
        this.pos = at + 4 + dv.getUint32(at + 4, little);
        continue;
      }
      if (typeLen === 30) { // time extend: delta's upper bits in array[0]
        this.tsNs += dv.getUint32(at + 4, little) * 2 ** 27 + delta;
        this.pos = at + 8;
        continue;
      }
      if (typeLen === 31) { // absolute time stamp (its top bits are the current time's)
        let abs = BigInt(dv.getUint32(at + 4, little)) * (1n << 27n) + BigInt(delta);
        const cur = BigInt(this.tsNs);
        abs |= cur & TS_MSB;
        if (abs < cur && (cur & TS_MSB) !== 0n) abs += 1n << 59n;
        this.tsNs = Number(abs);
        this.pos = at + 8;
        continue;
      }
      let len: number;
      let dataAt: number;
      if (typeLen === 0) {
        len = dv.getUint32(at + 4, little) - 4;
        dataAt = at + 8;
      } else {
        len = typeLen * 4;
        dataAt = at + 4;
      }
      if (len < 0 || dataAt + len > this.end) throw new DatError(this.pageAt, `CPU ${this.d.cpu}: event of ${len} bytes runs past the page's data at page byte ${at}`);
      this.tsNs += delta;
      this.recAt = dataAt;
      this.recLen = len;
      this.recTsNs = this.tsNs;
      this.pos = dataAt + len;
      return true;
    }
    return false;
  }
}

function stamp(tsNs: number): string {
  const s = Math.floor(tsNs / 1e9);
  const ns = tsNs - s * 1e9;
  return `${s}.${String(ns).padStart(9, '0')}`;
}

/** Reads the whole file's records into `sink` as report lines. Never throws on bad input: a diag names the offset. */
export async function readTraceDat(src: ByteSource, codecs: DatCodecs, sink: DatSink): Promise<DatStats> {
  const stats: DatStats = { records: 0, pages: 0, stoppedAtBytes: null };
  let dat: TraceDat;
  try {
    dat = await TraceDat.open(src, codecs);
  } catch (e) {
    const off = e instanceof DatError ? e.offsetBytes : 0;
    stats.stoppedAtBytes = off;
    sink.diag({ offsetBytes: off, code: 'dat_header', message: e instanceof DatError ? e.message : `byte ${off}: ${(e as Error).message}` });
    return stats;
  }
  const info = dat.info;
  /** Asked for once the file has records (a file without any opens no parser, as in text mode). */
  let direct: FtraceParser | null = null;
  const compiled = new Map<number, Compiled | null>();
  const compiledById = new Array<Compiled | null | undefined>(COMPILED_BY_ID).fill(undefined);
  const compile = (id: number): Compiled | null => {
    let c = compiled.get(id);
    if (c !== undefined) return c;
    const ev = info.events.get(id);
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
      const p = compilePrintFmt(ev, info.longBytes);
      if (p.error !== null) sink.diag({ offsetBytes: 0, code: 'dat_print_fmt', message: `${ev.system}:${ev.name}: print fmt not understood (${p.error}); its bodies are its fields as name=value` });
      const pid = ev.fields.find((f) => f.name === 'common_pid');
      // A name that is not a word would not read back from its line as this tracepoint: as text.
      const tp = direct !== null && /^\w+$/.test(ev.name) ? direct.tracepointNamed(ev.name) : null;
      c = { ev, print: p.print, write: p.write, pidOff: pid?.offset ?? 4, pidSize: pid?.size ?? 4, tp, stack: null };
    }
    compiled.set(id, c);
    return c;
  };
  const streams: CpuStream[] = [];
  const fail = (e: unknown, s: CpuStream | null): void => {
    const off = e instanceof DatError ? e.offsetBytes : s?.pageAt ?? 0;
    if (stats.stoppedAtBytes === null || off < stats.stoppedAtBytes) stats.stoppedAtBytes = off;
    sink.diag({ offsetBytes: off, code: 'dat_cut', message: `${e instanceof DatError ? e.message : `byte ${off}: ${(e as Error).message}`}${s ? ` (CPU ${s.d.cpu}: the rest of its data is not read)` : ''}` });
  };
  // Every buffer's CPUs, merged into one stream by time (ties: the top buffer first, then the
  // instances in file order; within a buffer the lower CPU).
  const buffers = [{ name: '', cpuData: info.cpuData }, ...info.instances];
  const instanceRecords = new Map<string, number>();
  let order = 0;
  for (const b of buffers) {
    for (const d of b.cpuData) {
      const s = new CpuStream(d, dat.pages(d), dat, b.name, order++);
      try {
        if (await s.next()) streams.push(s);
      } catch (e) {
        fail(e, s);
      }
    }
  }
  if (streams.length > 0) direct = sink.direct?.() ?? null;
  let dataBytes = 0;
  for (const b of buffers) for (const d of b.cpuData) dataBytes += d.sizeBytes;
  let pagesDone = 0;
  let out: string[] = [];
  let outLen = 0;
  const flush = (): void => {
    if (out.length === 0) return;
    sink.push(out.join(''));
    out = [];
    outLen = 0;
  };
  // Direct mode: the task per pid, the body's bytes in one buffer (grown as needed).
  const tasks = new Map<number, TaskState>();
  let syms: KernelSymbols | null | undefined;
  let bodyBuf = new Uint8Array(1024);
  const text = (line: string): void => {
    if (direct === null) {
      out.push(line);
      outLen += line.length;
      if (outLen > 64 * 1024) flush();
    } else sink.push(line);
  };
  const idOff = info.events.size > 0 ? ([...info.events.values()][0]!.fields.find((f) => f.name === 'common_type')?.offset ?? 0) : 0;
  const cpuText = (cpu: number): string => String(cpu).padStart(3, '0');
  // One view object refilled per record (the printers keep no reference to it).
  const r: { -readonly [K in keyof RecordView]: RecordView[K] } = { view: new DataView(new ArrayBuffer(0)), base: 0, size: 0, little: info.little, longBytes: info.longBytes };
  while (streams.length > 0) {
    let bi = 0;
    for (let i = 1; i < streams.length; i++) {
      const a = streams[i]!;
      const b = streams[bi]!;
      if (a.recTsNs < b.recTsNs || (a.recTsNs === b.recTsNs && a.order < b.order)) bi = i;
    }
    const s = streams[bi]!;
    if (s.lost !== 0) {
      text(s.lost > 0 ? `CPU:${s.d.cpu} [LOST ${s.lost} EVENTS]\n` : `CPU:${s.d.cpu} [EVENTS DROPPED]\n`);
      s.lost = 0;
    }
    r.view = s.dv;
    r.base = s.recAt;
    r.size = s.recLen;
    const id = s.recLen >= 2 ? s.dv.getUint16(s.recAt + idOff, info.little) : -1;
    // Event ids are small (the kernel numbers events from 1 up): an array read per record, not a Map's.
    let c = id >= 0 && id < COMPILED_BY_ID ? compiledById[id] : undefined;
    if (c === undefined) {
      c = compile(id);
      if (id >= 0 && id < COMPILED_BY_ID) compiledById[id] = c;
    }
    stats.records++;
    if (s.instance !== '') instanceRecords.set(s.instance, (instanceRecords.get(s.instance) ?? 0) + 1);
    if (c === null) {
      sink.diag({ offsetBytes: s.pageAt, code: 'dat_unknown_event', message: `byte ${s.pageAt}: CPU ${s.d.cpu}: event id ${id} has no format in the file; record skipped` });
    } else {
      const pid = c.pidSize === 4 && s.recLen >= c.pidOff + 4 ? s.dv.getInt32(s.recAt + c.pidOff, info.little) : 0;
      let sent = false;
      if (c.tp !== null && c.write !== null) {
        // The body written as bytes into the parser's buffer (no string made); whatever the writer
        // leaves to the printer (USE_TEXT, an exception) takes the printed way below.
        let len: number;
        try {
          while ((len = c.write(r, bodyBuf)) === OUT_FULL) bodyBuf = new Uint8Array(bodyBuf.length * 2);
        } catch {
          len = -1;
        }
        if (len >= 0 && (len === 0 || bodyBuf[len - 1] !== 13)) {
          if (len >= bodyBuf.length) { const b = new Uint8Array(len * 2); b.set(bodyBuf); bodyBuf = b; } // room for the 0 at len
          let task = tasks.get(pid);
          if (task === undefined) tasks.set(pid, (task = direct!.taskNamed(pid === 0 ? '<idle>' : info.comms.get(pid) ?? '<...>', pid)));
          const sec = Math.floor(s.recTsNs / 1e9);
          direct!.record(sec, s.recTsNs - sec * 1e9, pid, task, c.tp, bodyBuf, len, s.d.cpu, null, s.instance);
          sent = true;
        }
      }
      const comm = sent ? '' : pid === 0 ? '<idle>' : info.comms.get(pid) ?? '<...>';
      let body = '';
      if (!sent) {
        try {
          body = c.print(r);
        } catch (e) {
          body = `[FAILED TO PARSE] ${(e as Error).message}`;
        }
      }
      if (!sent && c.tp !== null) {
        // The body's UTF-8 bytes; a line terminator in it would split its report line: sent as text.
        const n = body.length;
        if (bodyBuf.length <= n * 3) bodyBuf = new Uint8Array(n * 3 + 1024);
        let len = 0;
        let i = 0;
        for (; i < n; i++) {
          const ch = body.charCodeAt(i);
          if (ch > 127 || ch === 10) break;
          bodyBuf[i] = ch;
        }
        if (i === n) len = n;
        else if (body.indexOf('\n') < 0) len = encoder.encodeInto(body, bodyBuf).written;
        else len = -1;
        if (len >= 0 && (len === 0 || bodyBuf[len - 1] !== 13)) {
          let task = tasks.get(pid);
          if (task === undefined) tasks.set(pid, (task = direct!.taskNamed(comm, pid)));
          const sec = Math.floor(s.recTsNs / 1e9);
          direct!.record(sec, s.recTsNs - sec * 1e9, pid, task, c.tp, bodyBuf, len, s.d.cpu, i === n ? body : null, s.instance);
          sent = true;
        }
      }
      if (!sent) {
        // The file's kallsyms, read once the first stack needs it.
        if (c.stack !== null && syms === undefined) {
          const k = await dat.kallsyms().catch(() => null);
          syms = k === null || k.length === 0 ? null : new KernelSymbols(new TextDecoder('utf-8').decode(k));
        }
        const frames = c.stack === null ? '' : stackFrames(s.dv, s.recAt, s.recLen, c.stack, info.little, info.longBytes, syms ?? null);
        // An instance's event: `name: ` then the comm right-aligned in 16 columns, as report prints
        // it (the ftrace parser tells the prefix from a comm with ': ' by that padding).
        text(`${s.instance === '' ? '' : `${s.instance}: ${comm.padStart(16)}`}${s.instance === '' ? comm : ''}-${pid} [${cpuText(s.d.cpu)}] ${stamp(s.recTsNs)}: ${c.ev.name}: ${body}\n${frames}`);
      }
    }
    try {
      const pageAt = s.pageAt;
      if (!s.nextInPage() && !(await s.next())) streams.splice(bi, 1);
      else if (s.pageAt !== pageAt) {
        sink.progress?.(s.pageAt);
        if (sink.share && dataBytes > 0) sink.share(Math.min(1, (++pagesDone * info.pageBytes) / dataBytes));
      }
    } catch (e) {
      fail(e, s);
      streams.splice(bi, 1);
    }
  }
  flush();
  // Instance buffers are read, never dropped: said once each (typed events carry no buffer name).
  for (const inst of info.instances) {
    sink.diag({
      offsetBytes: 0, code: 'dat_instance',
      message: `instance buffer ${JSON.stringify(inst.name)} (trace-cmd record -B): ${instanceRecords.get(inst.name) ?? 0} records read and merged by time with the top buffer's; ` +
        `its events' typed rows do not name the buffer, its untyped events' text starts with [${inst.name}]`,
    });
  }
  return stats;
}
