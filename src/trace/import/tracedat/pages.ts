// One ring-buffer page of the kernel's ftrace buffer, walked record by record. The same bytes are in a
// trace.dat (trace-cmd copies the pages as the kernel hands them out) and in what a read(2) of
// tracefs per_cpu/cpuN/trace_pipe_raw returns, so both readers share this walker (records.ts, the
// live capture's server/capture/raw-reader.ts).
//
//   page header (tracefs events/header_page)  u64 timestamp · commit (local_t: a long) · data
//     commit: bytes of data used; bit 31 (RB_MISSED_EVENTS): events were lost before this page;
//     bit 30 (RB_MISSED_STORED): their count is a long right after the data
//     (kernel/trace/ring_buffer.c, ring_buffer_read_page)
//   record header (events/header_event)  u32 { type_len:5, time_delta:27 } (little-endian: type_len
//     in the low bits), then by type_len: 0 → u32 length (+4) and data; 1..28 → type_len × 4 bytes of
//     data; 29 padding (delta 0: the rest of the page; else u32 length); 30 time extend (delta's
//     high bits: u32 × 2^27); 31 absolute time stamp (u32 × 2^27 + delta, the current time's top bits)
import { DatError } from './reader.ts';
import { parseEventFormat } from './format.ts';

const MISSING_EVENTS = 0x80000000;
const MISSING_STORED = 0x40000000;
const COMMIT_MASK = (1 << 27) - 1;
const TS_MSB = 0xf800000000000000n;

export interface PageLayout {
  little: boolean;
  /** sizeof(long): the lost-event count after the data is one. */
  longBytes: number;
  commitOffset: number;
  commitBytes: number;
  dataOffset: number;
}

/** The page layout a `header_page` text describes (tracefs events/header_page, a trace.dat's copy of it). */
export function pageLayoutOf(headerPage: string, little: boolean, longBytes: number): PageLayout & { pageBytes: number | null } {
  const ev = parseEventFormat(`ID: 0\n${headerPage}`, 'header_page');
  const commit = ev?.fields.find((f) => f.name === 'commit');
  const data = ev?.fields.find((f) => f.name === 'data');
  return {
    little, longBytes,
    commitOffset: commit?.offset ?? 8, commitBytes: commit?.size ?? longBytes, dataOffset: data?.offset ?? 8 + longBytes,
    pageBytes: data ? data.offset + data.size : null,
  };
}

/**
 * A cursor over one page at a time: load() reads its header, step() finds the next data record
 * (recAt, recLen, recTsNs). Times are the ring buffer's clock in ns (Numbers: exact below 2^53 ns,
 * 104 days of uptime on a mono clock). Errors are DatErrors at `pageAt` (the owner sets it: a file
 * offset, or a count of bytes read live).
 */
export class PageCursor {
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
  /** Lost before the current page: a count, -1 when not stored, 0 none; the owner reports and clears it. */
  lost = 0;
  constructor(readonly layout: PageLayout, readonly cpu: number) {}

  /** Takes `page` (held, not copied) as the current one; true when it has data. */
  load(page: Uint8Array, pageAt: number): boolean {
    const l = this.layout;
    this.pageAt = pageAt;
    if (page.length < l.dataOffset) throw new DatError(pageAt, `CPU ${this.cpu}: page shorter than its header`);
    const dv = new DataView(page.buffer, page.byteOffset, page.byteLength);
    const little = l.little;
    this.tsNs = Number(dv.getBigUint64(0, little));
    const commitRaw = l.commitBytes === 8 ? Number(dv.getBigUint64(l.commitOffset, little) & 0xffffffffn) : dv.getUint32(l.commitOffset, little);
    const size = commitRaw & COMMIT_MASK;
    this.page = page;
    this.dv = dv;
    this.pos = l.dataOffset;
    this.end = l.dataOffset + size;
    if (this.end > page.length) throw new DatError(pageAt, `CPU ${this.cpu}: page commit ${size} runs past the page`);
    if (commitRaw & MISSING_EVENTS) {
      const storedAt = this.end;
      this.lost = commitRaw & MISSING_STORED && storedAt + l.longBytes <= page.length
        ? Number(l.longBytes === 8 ? dv.getBigUint64(storedAt, little) : BigInt(dv.getUint32(storedAt, little)))
        : -1;
    }
    return this.pos < this.end;
  }

  /** Decodes record headers from pos until a data record (true) or the page's end (false). */
  step(): boolean {
    const dv = this.dv;
    const little = this.layout.little;
    while (this.pos < this.end) {
      const at = this.pos;
      if (at + 4 > this.end) throw new DatError(this.pageAt, `CPU ${this.cpu}: event header cut at page byte ${at}`);
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
      if (len < 0 || dataAt + len > this.end) throw new DatError(this.pageAt, `CPU ${this.cpu}: event of ${len} bytes runs past the page's data at page byte ${at}`);
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
