// trace-cmd's trace.dat (file versions 6 and 7, trace-cmd.dat(5)), read through an injected
// ByteSource (a file on the server, a Blob in the browser): random access to the metadata, then
// the per-CPU ring-buffer pages one page (v7: one compressed chunk) at a time per CPU, never the
// whole file. Decompression is injected too (the core imports no package): zlib through the caller's
// raw inflate (the browser's DecompressionStream, node:zlib), zstd through the caller's (fzstd, pure JS).
//
//   header   "\x17\x08\x44tracing" · version "6\0"|"7\0" · endian u8 (0 little) · long size u8 · page size u32
//   v6       header_page · header_event · ftrace formats · event formats per system · kallsyms ·
//            printk · cmdlines · cpu count · ["options  \0" options…] · "flyrecord\0" (offset,size)×cpus
//   v7       compression name\0 version\0 · u64 offset of the first options section; sections are
//            {u16 id, u16 flags (1: compressed), u32 string id, u64 size} + body; a compressed body
//            is {u32 compressed size, u32 size, bytes}. Options chain by their DONE option (next offset).
//            The BUFFER option names each CPU's data offset and size; compressed CPU data is
//            u32 chunk count, then {u32 compressed size, u32 size, bytes} per chunk.
//   pages    u64 timestamp · commit (a long; bit 31: events lost before this page, bit 30: their
//            count stored after the data) · events: u32 {type_len:5, time_delta:27} …
import type { ByteSource } from '../../recording/reader.ts';
import type { Inflate } from '../../recording/format.ts';
import { parseEventFormat, type EventFormat } from './format.ts';

/** Decompressors the caller provides: raw deflate (zlib's body) and zstd. */
export interface DatCodecs {
  inflate: Inflate;
  zstd: (bytes: Uint8Array) => Uint8Array;
}

export const TRACE_DAT_MAGIC = [0x17, 0x08, 0x44, 0x74, 0x72, 0x61, 0x63, 0x69, 0x6e, 0x67] as const;

export function isTraceDat(head: Uint8Array): boolean {
  return head.length >= TRACE_DAT_MAGIC.length && TRACE_DAT_MAGIC.every((b, i) => head[i] === b);
}

/** Where reading stopped, and why (a byte offset into the file). */
export class DatError extends Error {
  constructor(readonly offsetBytes: number, message: string) {
    super(`byte ${offsetBytes}: ${message}`);
  }
}

const OPT = { DONE: 0, BUFFER: 3, TRACECLOCK: 4, UNAME: 5, CPUCOUNT: 8, VERSION: 9, HEADER_INFO: 16, FTRACE_EVENTS: 17, EVENT_FORMATS: 18, KALLSYMS: 19, PRINTK: 20, CMDLINES: 21 } as const;

export interface CpuData {
  cpu: number;
  offsetBytes: number;
  sizeBytes: number;
}

export interface DatInstance {
  name: string;
  /** Its trace clock (v7's BUFFER option names one; v6 files: ''). */
  clock: string;
  cpuData: CpuData[];
}

export interface DatInfo {
  version: number;
  little: boolean;
  longBytes: number;
  pageBytes: number;
  compression: string;
  cpus: number;
  /** The trace clock (the bracketed one of the TRACECLOCK option), '' if the file does not say. */
  clock: string;
  uname: string;
  /** The instance buffers the file holds besides the top one (`trace-cmd record -B name`), each with its own per-CPU data. */
  instances: DatInstance[];
  events: Map<number, EventFormat>;
  comms: Map<number, string>;
  cpuData: CpuData[];
  /** header_page: offsets and sizes of the page header's commit and data. */
  commitOffset: number;
  commitBytes: number;
  dataOffset: number;
}

/** Sequential reads over a ByteSource with a read-ahead window (metadata is read in small pieces). */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private bufAt = 0;
  constructor(private readonly src: ByteSource, public at: number, private readonly little: boolean) {}
  async need(n: number): Promise<Uint8Array> {
    if (this.at < this.bufAt || this.at + n > this.bufAt + this.buf.length) {
      this.buf = await this.src.read(this.at, Math.max(n, 64 * 1024));
      this.bufAt = this.at;
      if (this.buf.length < n) throw new DatError(this.src.sizeBytes < this.at + n ? this.src.sizeBytes : this.at, `file ends inside a ${n}-byte field at ${this.at}`);
    }
    const s = this.at - this.bufAt;
    this.at += n;
    return this.buf.subarray(s, s + n);
  }
  async u8(): Promise<number> { return (await this.need(1))[0]!; }
  async u16(): Promise<number> { const b = await this.need(2); return new DataView(b.buffer, b.byteOffset, 2).getUint16(0, this.little); }
  async u32(): Promise<number> { const b = await this.need(4); return new DataView(b.buffer, b.byteOffset, 4).getUint32(0, this.little); }
  async u64(): Promise<number> {
    const b = await this.need(8);
    const v = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, this.little);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DatError(this.at - 8, `size or offset ${v} is not plausible`);
    return Number(v);
  }
  async cstr(max = 4096): Promise<string> {
    let s = '';
    for (let i = 0; i < max; i++) {
      const c = await this.u8();
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
    throw new DatError(this.at, 'unterminated string');
  }
  async bytes(n: number): Promise<Uint8Array> {
    if (n > (1 << 30)) throw new DatError(this.at, `implausible size ${n}`);
    if (n <= 64 * 1024) return (await this.need(n)).slice();
    const b = await this.src.read(this.at, n);
    if (b.length < n) throw new DatError(this.src.sizeBytes, `file ends ${n - b.length} bytes short of a ${n}-byte block starting at ${this.at}`);
    this.at += n;
    return b;
  }
}

const text = new TextDecoder('utf-8');

export class TraceDat {
  /** Where the stored /proc/kallsyms is (v6: its bytes; v7: its section), null if the file has none. */
  private kallsymsAt: { at: number; size: number } | { section: number } | null = null;
  /** v6 BUFFER options seen: where each instance's CPU table is. */
  private readonly v6Instances: Array<{ name: string; tableAt: number }> = [];
  private constructor(readonly info: DatInfo, private readonly src: ByteSource, private readonly decompress: (b: Uint8Array, size: number, at: number) => Promise<Uint8Array>) {}

  /** Reads the header and metadata (formats, cmdlines, options). Throws DatError where it stops. */
  static async open(src: ByteSource, codecs: DatCodecs): Promise<TraceDat> {
    const head = await src.read(0, 16);
    if (!isTraceDat(head)) throw new DatError(0, 'not a trace.dat (no \\x17\\x08Dtracing magic)');
    const c0 = new Cursor(src, 10, true);
    const versionText = await c0.cstr(16);
    const version = Number(versionText);
    if (version !== 6 && version !== 7) throw new DatError(10, `file version ${versionText} (only 6 and 7 are read)`);
    const little = (await c0.u8()) === 0;
    const c = new Cursor(src, c0.at, little);
    const longBytes = await c.u8();
    const pageBytes = await c.u32();
    const info: DatInfo = {
      version, little, longBytes, pageBytes, compression: 'none', cpus: 0, clock: '', uname: '', instances: [], events: new Map(), comms: new Map(),
      cpuData: [], commitOffset: 8, commitBytes: longBytes, dataOffset: 8 + longBytes,
    };
    let algo = 'none';
    if (version === 7) {
      algo = await c.cstr(64);
      await c.cstr(64);
      info.compression = algo;
    }
    const decompress = async (b: Uint8Array, size: number, at: number): Promise<Uint8Array> => {
      // Nothing is allocated past what the block's header declares, nor past what its bytes could expand to.
      const problem = compressedBlockProblem(algo, b, size);
      if (problem) throw new DatError(at, problem);
      let out: Uint8Array;
      try {
        if (algo === 'zstd') out = codecs.zstd(b);
        // trace-cmd's zlib is zlib-wrapped (compress2): a 2-byte header and an Adler-32 trailer around raw deflate.
        else if (algo === 'zlib') out = await codecs.inflate(b.subarray(2, b.length - 4), size);
        else throw new Error(`compression '${algo}' is not read`);
      } catch (e) {
        throw new DatError(at, `${algo} block does not decompress: ${(e as Error).message}`);
      }
      if (out.length !== size) throw new DatError(at, `${algo} block gave ${out.length} bytes, its header says ${size}`);
      return out;
    };
    const dat = new TraceDat(info, src, decompress);
    if (version === 6) await dat.readV6(c);
    else await dat.readV7(c);
    return dat;
  }

  private async readV6(c: Cursor): Promise<void> {
    await this.headers(c);
    await this.ftraceFormats(c);
    await this.eventFormats(c);
    const kallsyms = await c.u32();
    if (kallsyms > 0) this.kallsymsAt = { at: c.at, size: kallsyms };
    c.at += kallsyms;
    const printk = await c.u32();
    c.at += printk;
    this.cmdlines(await c.bytes(await c.u64()));
    this.info.cpus = await c.u32();
    for (;;) {
      const at = c.at;
      const tag = text.decode(await c.need(10));
      if (tag === 'options  \0') {
        for (;;) {
          const id = await c.u16();
          if (id === OPT.DONE) break;
          const size = await c.u32();
          this.option(id, await c.bytes(size), size, c.at - size, null);
        }
        continue;
      }
      if (tag === 'flyrecord\0') {
        for (let cpu = 0; cpu < this.info.cpus; cpu++) this.info.cpuData.push({ cpu, offsetBytes: await c.u64(), sizeBytes: await c.u64() });
        // Each instance's data: the same `flyrecord\0` table (offset, size per CPU) at its BUFFER option's offset.
        for (const b of this.v6Instances) {
          const t = new Cursor(this.src, b.tableAt, this.info.little);
          if (text.decode(await t.need(10)) !== 'flyrecord\0') throw new DatError(b.tableAt, `instance ${JSON.stringify(b.name)}: no flyrecord table at its BUFFER offset`);
          const cpuData: CpuData[] = [];
          for (let cpu = 0; cpu < this.info.cpus; cpu++) cpuData.push({ cpu, offsetBytes: await t.u64(), sizeBytes: await t.u64() });
          this.info.instances.push({ name: b.name, clock: '', cpuData });
        }
        return;
      }
      if (tag === 'latency  \0') throw new DatError(at, 'a latency-tracer file (text, no ring-buffer pages): not read');
      throw new DatError(at, `expected 'options', 'flyrecord' or 'latency', found ${JSON.stringify(tag)}`);
    }
  }

  private async headers(c: Cursor): Promise<void> {
    const at = c.at;
    if (text.decode(await c.need(12)) !== 'header_page\0') throw new DatError(at, "expected 'header_page'");
    this.headerPage(text.decode(await c.bytes(await c.u64())));
    const at2 = c.at;
    if (text.decode(await c.need(13)) !== 'header_event\0') throw new DatError(at2, "expected 'header_event'");
    const eventBytes = await c.u64(); // (not `c.at += await …`: that adds to the offset before the read)
    c.at += eventBytes;
  }

  private headerPage(t: string): void {
    const ev = parseEventFormat(`ID: 0\n${t}`, 'header_page');
    const commit = ev?.fields.find((f) => f.name === 'commit');
    const data = ev?.fields.find((f) => f.name === 'data');
    if (commit) { this.info.commitOffset = commit.offset; this.info.commitBytes = commit.size; }
    if (data) this.info.dataOffset = data.offset;
  }

  private async ftraceFormats(c: Cursor): Promise<void> {
    const n = await c.u32();
    for (let i = 0; i < n; i++) this.addFormat(text.decode(await c.bytes(await c.u64())), 'ftrace');
  }

  private async eventFormats(c: Cursor): Promise<void> {
    const systems = await c.u32();
    for (let s = 0; s < systems; s++) {
      const system = await c.cstr();
      const n = await c.u32();
      for (let i = 0; i < n; i++) this.addFormat(text.decode(await c.bytes(await c.u64())), system);
    }
  }

  private addFormat(t: string, system: string): void {
    const ev = parseEventFormat(t, system);
    if (ev) this.info.events.set(ev.id, ev);
  }

  private cmdlines(b: Uint8Array): void {
    for (const line of text.decode(b).split('\n')) {
      const sp = line.indexOf(' ');
      if (sp > 0) this.info.comms.set(Number(line.slice(0, sp)), line.slice(sp + 1));
    }
  }

  /** One option; v7 section options point at their section (read then). */
  private option(id: number, b: Uint8Array, size: number, at: number, sections: Map<number, number> | null): number | null {
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const little = this.info.little;
    const str = (): string => text.decode(b).replace(/\0[\s\S]*$/, '');
    switch (id) {
      case OPT.TRACECLOCK: {
        const m = /\[(\w[\w-]*)\]/.exec(str());
        this.info.clock = m ? m[1]! : str().trim();
        break;
      }
      case OPT.UNAME: this.info.uname = str(); break;
      case OPT.CPUCOUNT: if (size >= 4) this.info.cpus = dv.getUint32(0, little); break;
      case OPT.BUFFER: {
        if (this.info.version === 6) {
          // v6: u64 offset of the instance's own `flyrecord\0` table, name\0 (read once the options are done).
          const name = text.decode(b.subarray(8)).replace(/\0[\s\S]*$/, '');
          if (size >= 8) this.v6Instances.push({ name, tableAt: Number(dv.getBigUint64(0, little)) });
          break;
        }
        // v7: section offset u64, name\0, clock\0, page size u32, cpus u32, {cpu u32, offset u64, size u64}×cpus
        let p = 8;
        const cs = (): string => { const e = b.indexOf(0, p); const s = text.decode(b.subarray(p, e)); p = e + 1; return s; };
        const name = cs();
        const clock = cs();
        let cpuData = this.info.cpuData;
        if (name !== '') this.info.instances.push({ name, clock, cpuData: (cpuData = []) });
        else if (clock) this.info.clock = clock;
        p += 4;
        const cpus = dv.getUint32(p, little);
        p += 4;
        for (let i = 0; i < cpus; i++, p += 20) {
          if (p + 20 > b.length) throw new DatError(at + p, 'BUFFER option ends inside its CPU list');
          cpuData.push({ cpu: dv.getUint32(p, little), offsetBytes: Number(dv.getBigUint64(p + 4, little)), sizeBytes: Number(dv.getBigUint64(p + 12, little)) });
        }
        break;
      }
      case OPT.DONE:
        return size >= 8 ? Number(dv.getBigUint64(0, little)) : 0;
      default:
        if (sections && id >= OPT.HEADER_INFO && id <= OPT.CMDLINES && size >= 8) sections.set(id, Number(dv.getBigUint64(0, little)));
    }
    return null;
  }

  /** A v7 section's body at `at` (its header checked against `id`), decompressed. */
  private async section(at: number, id: number): Promise<Uint8Array> {
    const c = new Cursor(this.src, at, this.info.little);
    const got = await c.u16();
    if (got !== id) throw new DatError(at, `section ${id} expected, found id ${got}`);
    const flags = await c.u16();
    await c.u32();
    const size = await c.u64();
    if (!(flags & 1)) return c.bytes(size);
    const csize = await c.u32();
    const usize = await c.u32();
    const bodyAt = c.at;
    return this.decompress(await c.bytes(csize), usize, bodyAt);
  }

  private async readV7(c: Cursor): Promise<void> {
    let next = await c.u64();
    const sections = new Map<number, number>();
    const seen = new Set<number>();
    while (next !== 0) {
      if (seen.has(next) || next >= this.src.sizeBytes) throw new DatError(next, 'options section offset outside the file or looping');
      seen.add(next);
      const body = await this.section(next, 0);
      let p = 0;
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      next = 0;
      while (p + 6 <= body.length) {
        const id = dv.getUint16(p, this.info.little);
        const size = dv.getUint32(p + 2, this.info.little);
        p += 6;
        if (p + size > body.length) throw new DatError(next, `option ${id} runs past its section`);
        const r = this.option(id, body.subarray(p, p + size), size, p, sections);
        p += size;
        if (id === OPT.DONE) { next = r ?? 0; break; }
      }
    }
    const need = async (id: number): Promise<Uint8Array | null> => (sections.has(id) ? this.section(sections.get(id)!, id) : null);
    const headers = await need(OPT.HEADER_INFO);
    if (!headers) throw new DatError(0, 'no header_page section');
    await this.headers(new Cursor(memory(headers), 0, this.info.little));
    const ft = await need(OPT.FTRACE_EVENTS);
    if (ft) await this.ftraceFormats(new Cursor(memory(ft), 0, this.info.little));
    const ev = await need(OPT.EVENT_FORMATS);
    if (ev) await this.eventFormats(new Cursor(memory(ev), 0, this.info.little));
    if (sections.has(OPT.KALLSYMS)) this.kallsymsAt = { section: sections.get(OPT.KALLSYMS)! };
    const cl = await need(OPT.CMDLINES);
    if (cl) this.cmdlines(cl);
    if (this.info.cpus === 0) this.info.cpus = this.info.cpuData.length;
  }

  /**
   * The kernel symbols the file stores (/proc/kallsyms as text: `addr type name [module]` lines),
   * read on demand (it is ~5 MB when stored), or null when the file has none.
   */
  async kallsyms(): Promise<Uint8Array | null> {
    const k = this.kallsymsAt;
    if (k === null) return null;
    if ('section' in k) {
      const body = await this.section(k.section, OPT.KALLSYMS);
      // The section body: u32 size, then the text.
      const n = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0, this.info.little);
      return body.subarray(4, 4 + n);
    }
    return this.src.read(k.at, k.size);
  }

  /** One CPU's pages in order (each a fresh buffer of page size, or shorter at a cut). */
  async *pages(d: CpuData): AsyncGenerator<{ page: Uint8Array; offsetBytes: number }> {
    const pageBytes = this.info.pageBytes;
    if (this.info.compression === 'none') {
      // Pages are read 64 at a time (one positional read each), held only while their records are read.
      const dataEnd = d.offsetBytes + d.sizeBytes;
      for (let at = d.offsetBytes; at < dataEnd;) {
        const want = Math.min(dataEnd - at, pageBytes * 64);
        const block = await this.src.read(at, want);
        for (let p = 0; p < block.length; p += pageBytes) yield { page: block.subarray(p, Math.min(block.length, p + pageBytes)), offsetBytes: at + p };
        if (block.length < want) {
          const cutAt = at + block.length;
          throw new DatError(cutAt, `CPU ${d.cpu}'s data is cut at ${cutAt}: the file ends before its ${dataEnd - cutAt} last bytes`);
        }
        at += want;
      }
      return;
    }
    if (d.sizeBytes === 0) return;
    const c = new Cursor(this.src, d.offsetBytes, this.info.little);
    const chunks = await c.u32();
    for (let k = 0; k < chunks; k++) {
      const csize = await c.u32();
      const usize = await c.u32();
      const at = c.at;
      const data = await this.decompress(await c.bytes(csize), usize, at);
      for (let p = 0; p < data.length; p += pageBytes) yield { page: data.subarray(p, p + pageBytes), offsetBytes: at };
    }
  }
}

/**
 * The most one compressed byte can become: zstd (RFC 8878) emits at most 128 KiB per block and a block
 * costs at least 4 bytes (3 of header, 1 of RLE content): 32,768; deflate at most 1,032 (RFC 1951: a
 * 258-byte match in as little as 2 bits).
 */
const MAX_EXPANSION: Record<string, number> = { zstd: 32_768, zlib: 1_032 };
/** The reference zstd decoder refuses windows over 2^27 bytes unless told otherwise; so do we. */
const ZSTD_MAX_WINDOW_BYTES = 2 ** 27;

/**
 * Why a compressed block must not be decompressed, before anything is allocated for it ('' if it may):
 * its declared size past what its bytes could expand to, or a zstd frame header that declares another
 * content size or asks for a window past the reference decoder's limit (fzstd sizes its buffer from
 * these header fields: a damaged one could make it allocate up to 2 GiB).
 */
export function compressedBlockProblem(algo: string, b: Uint8Array, sizeBytes: number): string {
  const ratio = MAX_EXPANSION[algo];
  if (ratio !== undefined && sizeBytes > b.length * ratio + 64) {
    return `${algo} block of ${b.length} bytes declares ${sizeBytes} bytes uncompressed: more than ${algo} can expand ${b.length} bytes to`;
  }
  if (algo !== 'zstd') return '';
  const f = zstdFrameHeader(b);
  if (typeof f === 'string') return `zstd block: ${f}`;
  if (f.contentBytes !== null && f.contentBytes !== sizeBytes) return `zstd frame declares ${f.contentBytes} bytes, its block header ${sizeBytes}`;
  if (f.windowBytes > ZSTD_MAX_WINDOW_BYTES) return `zstd frame asks for a ${f.windowBytes}-byte window, over the ${ZSTD_MAX_WINDOW_BYTES} bytes reference decoders accept`;
  return '';
}

/** A zstd frame header (RFC 8878 §3.1.1.1): the content size it declares (null: not given) and its window size. */
export function zstdFrameHeader(b: Uint8Array): { contentBytes: number | null; windowBytes: number } | string {
  if (b.length < 6 || b[0] !== 0x28 || b[1] !== 0xb5 || b[2] !== 0x2f || b[3] !== 0xfd) return 'no zstd frame magic';
  const fhd = b[4]!;
  if (fhd & 0x08) return 'reserved bit of the frame header descriptor set';
  const singleSegment = (fhd >> 5) & 1;
  const fcsFlag = fhd >> 6;
  const dictBytes = [0, 1, 2, 4][fhd & 3]!;
  let p = 5;
  let windowBytes = 0;
  if (!singleSegment) {
    const wd = b[p++]!;
    const base = 2 ** (10 + (wd >> 3));
    windowBytes = base + (base / 8) * (wd & 7);
  }
  p += dictBytes;
  const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
  if (p + fcsBytes > b.length) return 'frame header cut short';
  let contentBytes: number | null = null;
  if (fcsBytes > 0) {
    let v = 0;
    for (let k = fcsBytes - 1; k >= 0; k--) v = v * 256 + b[p + k]!;
    contentBytes = fcsBytes === 2 ? v + 256 : v;
  }
  if (singleSegment) windowBytes = contentBytes ?? 0;
  return { contentBytes, windowBytes };
}

function memory(bytes: Uint8Array): ByteSource {
  return { sizeBytes: bytes.byteLength, read: async (o, n) => bytes.subarray(o, Math.min(bytes.byteLength, o + n)) };
}
