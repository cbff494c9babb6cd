// `capture --reader raw`: the ring buffer's own pages from tracefs per_cpu/cpuN/trace_pipe_raw, one
// reader per CPU, decoded by the events' format files with the trace.dat decoder (src/trace/import/
// tracedat: pages.ts walks a page, decode.ts hands each record to the ftrace parser) — the kernel
// formats no text, and times keep their nanoseconds (trace_pipe prints µs).
//
//   open    events/header_page (page layout and size), the format of every captured event and of
//           ftrace/kernel_stack (the stacktrace trigger's records); each CPU's trace_pipe_raw
//           opened O_NONBLOCK (an empty buffer is EAGAIN, never a blocked read)
//   read    a pass: every CPU read one page per read(2) until EAGAIN (or its share of the bound),
//           the pages queued per CPU; then the queued records merged by time (ties: the lower CPU,
//           as trace_pipe merges) up to the watermark, below which no CPU can still hand out a
//           record: for a CPU read until EAGAIN, the pass's start − HOLD_SLACK_NS (a record's time
//           is taken when it is reserved, and it is readable once committed, microseconds later);
//           for one cut by the bound, the time of the last page it gave. Records above the
//           watermark are held for the next pass: with a reader that keeps up, at most one poll
//           interval + HOLD_SLACK_NS. The final pass releases everything.
//   lost    a page flagged "missed events" (with its count when the kernel stored it) becomes
//           `CPU:n [LOST n EVENTS]` (`[EVENTS DROPPED]` without a count) before its first record:
//           the parser's gap, as the text path's lines are.
//   tasks   comm and tgid: task-names.ts (/proc while the task lives, else the tracefs tables as
//           read in that pass)
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { FtraceParser } from '../../src/trace/import/ftrace/parser.ts';
import { parseEventFormat, type EventFormat } from '../../src/trace/import/tracedat/format.ts';
import { PageCursor, pageLayoutOf, type PageLayout } from '../../src/trace/import/tracedat/pages.ts';
import { RecordDecoder } from '../../src/trace/import/tracedat/decode.ts';
import { DatError } from '../../src/trace/import/tracedat/reader.ts';
import { TaskNames } from './task-names.ts';

/** How far below a fully read pass's start a record may still appear (reserve → commit). */
export const HOLD_SLACK_NS = 10_000_000;
/** Pages per allocation: read(2) fills pages of one slab (a slab goes when its last page is decoded). */
const SLAB_PAGES = 64;

class CpuReader extends PageCursor {
  readonly queue: Uint8Array[] = [];
  /** A record is current (recAt/recLen/recTsNs). */
  has = false;
  /** This pass read it until EAGAIN. */
  drained = false;
  /** Header time of the last page read (no later record of this CPU is below it). */
  lastPageTsNs = 0;
  constructor(layout: PageLayout, cpu: number, readonly fd: number) {
    super(layout, cpu);
  }

  /** The next record: from the current page, else the queued pages; false when none is queued. */
  advance(at: () => number): boolean {
    if (this.pos < this.end && this.step()) return (this.has = true);
    for (;;) {
      const p = this.queue.shift();
      if (p === undefined) return (this.has = false);
      if (this.load(p, at()) && this.step()) return (this.has = true);
    }
  }
}

export interface RawReaderOptions {
  root: string;
  /** Events captured (`sys/name`): their format files are read. */
  events: readonly string[];
  parser: FtraceParser;
  diag: (code: string, message: string) => void;
  /**
   * The capture's `comm ==` filter: a record passed it, so its task had one of these comms when it
   * happened — a cached comm outside them is stale (see commOf).
   */
  comms?: readonly string[];
  /** procfs (default /proc): tasks' comm and tgid are read from it. */
  procRoot?: string;
}

/** Why raw reading is not possible here (the capture then reads trace_pipe), or null. */
export function rawUnavailable(root: string): string | null {
  if (!existsSync(join(root, 'events/header_page'))) return `no ${root}/events/header_page`;
  const cpus = readdirSync(join(root, 'per_cpu')).filter((d) => /^cpu\d+$/.test(d));
  if (cpus.length === 0 || !existsSync(join(root, 'per_cpu', cpus[0]!, 'trace_pipe_raw'))) return `no ${root}/per_cpu/cpuN/trace_pipe_raw`;
  return null;
}

export class RawReader {
  readonly pageBytes: number;
  bytesRead = 0;
  /** The last pass's watermark (trace clock ns): every record below it has gone to the parser. */
  watermarkNs = 0;
  private readonly cpus: CpuReader[] = [];
  private readonly decoder: RecordDecoder;
  /** Each record's comm and tgid (task-names.ts). */
  readonly tasks: TaskNames;
  private slab = new Uint8Array(0);
  private slabAt = 0;

  constructor(private readonly o: RawReaderOptions) {
    const longBytes = process.arch === 'x64' || process.arch === 'arm64' || process.arch === 'ppc64' || process.arch === 's390x' || process.arch === 'riscv64' ? 8 : 4;
    const layout = pageLayoutOf(readFileSync(join(o.root, 'events/header_page'), 'utf8'), endianness() === 'LE', longBytes);
    // local_t commit is a long: the header's own size of it wins over the guess from the arch.
    layout.longBytes = layout.commitBytes;
    if (layout.pageBytes === null) throw new Error(`${o.root}/events/header_page has no data field: page size unknown`);
    this.pageBytes = layout.pageBytes;
    const events = new Map<number, EventFormat>();
    this.tasks = new TaskNames({ root: o.root, ...(o.procRoot !== undefined ? { procRoot: o.procRoot } : {}), ...(o.comms !== undefined ? { comms: o.comms } : {}) });
    const paths = [...o.events];
    if (existsSync(join(o.root, 'events/ftrace/kernel_stack/format'))) paths.push('ftrace/kernel_stack');
    for (const p of paths) {
      const system = p.slice(0, p.indexOf('/'));
      const ev = parseEventFormat(readFileSync(join(o.root, 'events', p, 'format'), 'utf8'), system);
      if (ev === null) throw new Error(`${o.root}/events/${p}/format has no ID`);
      events.set(ev.id, ev);
    }
    try {
      for (const d of readdirSync(join(o.root, 'per_cpu'))) {
        const m = /^cpu(\d+)$/.exec(d);
        if (m === null) continue;
        let fd: number;
        try {
          fd = openSync(join(o.root, 'per_cpu', d, 'trace_pipe_raw'), constants.O_RDONLY | constants.O_NONBLOCK);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENODEV') continue; // an offline CPU
          throw e;
        }
        this.cpus.push(new CpuReader(layout, Number(m[1]), fd));
      }
    } catch (e) {
      this.close();
      throw e;
    }
    this.cpus.sort((a, b) => a.cpu - b.cpu);
    this.decoder = new RecordDecoder({
      events, little: layout.little, longBytes: layout.longBytes,
      commOf: (pid) => this.tasks.commOf(pid),
      tgidOf: (pid) => this.tasks.tgidOf(pid),
      commsMayChange: true,
    }, o.parser, {
      text: (line) => o.parser.push(line),
      diag: (d) => o.diag(d.code, d.message),
    });
    // The stacktrace trigger's records print frames by name: the symbol table is read now, before the
    // capture starts, not at the first contention (reading and indexing /proc/kallsyms takes ~0.4 s
    // here, a stall that left both live sources of a workload capture that late, docs/performance.md).
    if (o.events.includes('lock/contention_begin') && paths.includes('ftrace/kernel_stack')) this.loadSymbols();
  }

  private loadSymbols(): void {
    let syms: string | null = null;
    try {
      syms = readFileSync('/proc/kallsyms', 'latin1');
    } catch { /* frames stay addresses */ }
    // As the kernel names a frame (trace_pipe's text): the first of several symbols at one address.
    this.decoder.setSymbols(syms, true);
  }

  /** One page of the current slab to read into. */
  private pageBuffer(): Uint8Array {
    if (this.slabAt + this.pageBytes > this.slab.length) {
      this.slab = new Uint8Array(this.pageBytes * SLAB_PAGES);
      this.slabAt = 0;
    }
    return this.slab.subarray(this.slabAt, this.slabAt + this.pageBytes);
  }

  /**
   * One pass (see the file comment): reads up to `bound` bytes, then hands to the parser every record
   * below the watermark (`final`: every record read). True when a CPU was cut by the bound (read again soon).
   */
  read(bound: number, final = false): boolean {
    this.tasks.newPass();
    const passStartNs = Number(process.hrtime.bigint());
    const share = Math.max(this.pageBytes, Math.floor(bound / Math.max(1, this.cpus.length)));
    let more = false;
    for (const c of this.cpus) {
      let got = 0;
      c.drained = false;
      while (got < share) {
        const buf = this.pageBuffer();
        let n: number;
        try {
          n = readSync(c.fd, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') { c.drained = true; break; }
          throw e;
        }
        if (n <= 0) { c.drained = true; break; }
        this.slabAt += n;
        got += n;
        const page = buf.subarray(0, n);
        if (n >= 8) c.lastPageTsNs = Number(new DataView(page.buffer, page.byteOffset, 8).getBigUint64(0, c.layout.little));
        c.queue.push(page);
      }
      if (!c.drained) more = true;
      this.bytesRead += got;
    }
    let watermark = Infinity;
    if (!final) for (const c of this.cpus) watermark = Math.min(watermark, c.drained ? passStartNs - HOLD_SLACK_NS : c.lastPageTsNs);
    this.merge(watermark);
    this.watermarkNs = watermark;
    return more;
  }

  /** Records below `watermark` (all: Infinity) into the decoder, by time across CPUs. */
  private merge(watermark: number): void {
    const live: CpuReader[] = [];
    for (const c of this.cpus) {
      if (!c.has) this.safely(c, () => c.advance(() => this.bytesRead));
      if (c.has) live.push(c);
    }
    const dec = this.decoder;
    while (live.length > 0) {
      let bi = 0;
      for (let i = 1; i < live.length; i++) if (live[i]!.recTsNs < live[bi]!.recTsNs) bi = i; // ties: the lower CPU (sorted)
      const c = live[bi]!;
      if (c.recTsNs >= watermark) break;
      if (c.lost !== 0) {
        this.o.parser.push(c.lost > 0 ? `CPU:${c.cpu} [LOST ${c.lost} EVENTS]\n` : `CPU:${c.cpu} [EVENTS DROPPED]\n`);
        c.lost = 0;
      }
      if (dec.needsSymbols(dec.idOf(c.dv, c.recAt, c.recLen))) this.loadSymbols();
      dec.emit(c.dv, c.recAt, c.recLen, c.recTsNs, c.cpu, '', c.pageAt);
      if (!this.safely(c, () => c.advance(() => this.bytesRead)) || !c.has) live.splice(bi, 1);
    }
  }

  /** A damaged page: said, and that CPU's queued pages dropped (its next pages are read as they come). */
  private safely(c: CpuReader, f: () => boolean): boolean {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof DatError)) throw e;
      this.o.diag('raw_page', `${e.message} (its queued pages were dropped)`);
      c.queue.length = 0;
      c.pos = c.end = 0;
      c.has = false;
      return false;
    }
  }

  close(): void {
    for (const c of this.cpus) closeSync(c.fd);
    this.cpus.length = 0;
  }
}
