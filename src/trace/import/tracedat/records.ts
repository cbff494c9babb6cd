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
import { PageCursor } from './pages.ts';
import { RecordDecoder, type DatDiag } from './decode.ts';
import type { FtraceParser } from '../ftrace/parser.ts';

export type { DatDiag } from './decode.ts';

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

/** One CPU's records, page by page (PageCursor over the file's pages): only its current page is held. */
class CpuStream extends PageCursor {
  done = false;
  /** Records of this stream: the top buffer's ('') or an instance buffer's (`trace-cmd record -B name`). */
  constructor(
    readonly d: CpuData, private readonly pages: AsyncGenerator<{ page: Uint8Array; offsetBytes: number }>, dat: TraceDat,
    readonly instance: string, readonly order: number,
  ) {
    super(dat.info, d.cpu);
  }

  /** Loads the next page with a record; false at the end of this CPU's data. */
  private async nextPage(): Promise<boolean> {
    for (;;) {
      const r = await this.pages.next();
      if (r.done) return false;
      if (this.load(r.value.page, r.value.offsetBytes)) return true;
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
  const streams: CpuStream[] = [];
  const fail = (e: unknown, s: CpuStream | null): void => {
    const off = e instanceof DatError ? e.offsetBytes : s?.pageAt ?? 0;
    if (stats.stoppedAtBytes === null || off < stats.stoppedAtBytes) stats.stoppedAtBytes = off;
    sink.diag({ offsetBytes: off, code: 'dat_cut', message: `${e instanceof DatError ? e.message : `byte ${off}: ${(e as Error).message}`}${s ? ` (CPU ${s.d.cpu}: the rest of its data is not read)` : ''}` });
  };
  // Every buffer's CPUs, merged into one stream by time (ties: the top buffer first, then the
  // instances in file order; within a buffer the lower CPU).
  const buffers = [{ name: '', cpuData: info.cpuData }, ...info.instances];
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
  /** Asked for once the file has records (a file without any opens no parser, as in text mode). */
  const direct: FtraceParser | null = streams.length > 0 ? sink.direct?.() ?? null : null;
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
  // Text mode batches lines; direct mode sends each at once (in order with the records).
  const text = (line: string): void => {
    if (direct === null) {
      out.push(line);
      outLen += line.length;
      if (outLen > 64 * 1024) flush();
    } else sink.push(line);
  };
  const comms = info.comms;
  const decoder = new RecordDecoder(
    { events: info.events, little: info.little, longBytes: info.longBytes, commOf: (pid) => comms.get(pid) ?? '<...>' },
    direct, { text, diag: (d) => sink.diag(d) },
  );
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
    // The file's kallsyms, read once the first stack needs it.
    if (decoder.needsSymbols(decoder.idOf(s.dv, s.recAt, s.recLen))) {
      const k = await dat.kallsyms().catch(() => null);
      decoder.setSymbols(k === null || k.length === 0 ? null : new TextDecoder('utf-8').decode(k));
    }
    decoder.emit(s.dv, s.recAt, s.recLen, s.recTsNs, s.d.cpu, s.instance, s.pageAt);
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
  stats.records = decoder.records;
  // Instance buffers are read, never dropped: said once each (typed events carry no buffer name).
  for (const inst of info.instances) {
    sink.diag({
      offsetBytes: 0, code: 'dat_instance',
      message: `instance buffer ${JSON.stringify(inst.name)} (trace-cmd record -B): ${decoder.instanceRecords.get(inst.name) ?? 0} records read and merged by time with the top buffer's; ` +
        `its events' typed rows do not name the buffer, its untyped events' text starts with [${inst.name}]`,
    });
  }
  return stats;
}
