// Pure .fscope writer state: turns store rows into the bytes to append (file header, data chunks,
// periodic index chunks, trailer). I/O, buffering policy and fsync live in server/recorder/.
//
// A data chunk's strings part carries the strings the recording's table gained since the previous
// chunk, so the rows of chunk k may use ids < firstStringId(k) + newStringCount(k). The caller
// must pass stores whose StringTable is the recording's own table (ids are never remapped here).

import { encodeBatch } from '../wire.ts';
import type { TraceStore } from '../store.ts';
import {
  ChunkFlags, ChunkType, Codec, encodeChunk, endsJoinable, encodeFileHeader, encodeFindingsBody, encodeIndexBody, encodeStrings, encodeTrailer,
  type CodecCode, type Deflate, type IndexEntry, type StoredFindings,
} from './format.ts';

interface EncoderOptions {
  originNs?: bigint;
  createdUnixMs?: number;
  meta?: Record<string, unknown>;
  /** Compression of both chunk parts; omit for stored chunks. */
  deflate?: Deflate;
  /**
   * `deflate` ends its output as a joinable body must (format.ts JOINABLE_TAIL): data chunks whose
   * body does are flagged `joinable`, so a reader may inflate a run of them as one stream.
   */
  joinable?: boolean;
  /**
   * Data chunks between index chunks. Bounds the writer's memory (entries not yet indexed) and a
   * reader's work to find the index after a clean close (one read per index chunk).
   */
  indexEveryChunks?: number;
}

export class RecordingEncoder {
  offsetBytes = 0;
  totalRows = 0;
  dataChunkCount = 0;
  private seq = 0;
  private knownStrings = 1; // id 0 = "" exists in every table
  private lastIndexOffset = -1;
  /** The last findings chunk written (each index chunk points at it); -1 = none yet. */
  private lastFindingsOffset = -1;
  private pending: IndexEntry[] = [];
  private readonly codec: CodecCode;
  private readonly deflate: Deflate;
  private readonly indexEvery: number;
  private lastEndNs = -Infinity;

  constructor(private readonly opts: EncoderOptions = {}) {
    this.codec = opts.deflate ? Codec.deflateRaw : Codec.stored;
    this.deflate = opts.deflate ?? ((b) => b);
    this.indexEvery = opts.indexEveryChunks ?? 256;
  }

  header(): Uint8Array {
    if (this.offsetBytes !== 0) throw new Error('header() must be the first bytes of the file');
    const buf = encodeFileHeader({
      originNs: this.opts.originNs ?? 0n, createdUnixMs: this.opts.createdUnixMs ?? 0, meta: this.opts.meta ?? {},
    });
    this.offsetBytes = buf.byteLength;
    return buf;
  }

  /** A data chunk of rows [fromRow, toRow) of `store` (whose string table is the recording's). */
  dataChunk(store: TraceStore, fromRow: number, toRow: number): Uint8Array {
    if (this.offsetBytes === 0) throw new Error('header() first');
    const rowCount = toRow - fromRow;
    const startNs = store.tsNs[fromRow]!;
    if (startNs < this.lastEndNs) throw new RangeError(`chunk starts at ${startNs} ns, before the previous chunk's end ${this.lastEndNs} ns`);
    const firstStringId = this.knownStrings;
    const newStrings = store.strings.slice(firstStringId);
    const stringsRaw = newStrings.length > 0 ? encodeStrings(newStrings) : new Uint8Array(0);
    const { frame } = encodeBatch(store, fromRow, toRow, store.strings.size);
    const strings = stringsRaw.byteLength > 0 ? this.deflate(stringsRaw) : stringsRaw;
    const body = this.deflate(frame);
    const endNs = store.tsNs[toRow - 1]!;
    // Flagged only when the body really ends so: the flag is a promise readers act on.
    const joinable = this.opts.joinable === true && this.codec === Codec.deflateRaw && endsJoinable(body);
    const buf = encodeChunk({
      type: ChunkType.data, codec: this.codec, seq: this.seq++, rowCount, firstRow: this.totalRows,
      startNs, endNs, firstStringId, newStringCount: newStrings.length, ...(joinable ? { flags: ChunkFlags.joinable } : {}),
    }, strings, body);
    this.pending.push({
      offsetBytes: this.offsetBytes, firstRow: this.totalRows, startNs, endNs, rowCount,
      chunkBytes: buf.byteLength, firstStringId, newStringCount: newStrings.length,
      stringsBytes: strings.byteLength, stringsCrc: new DataView(buf.buffer).getUint32(52, true), codec: this.codec,
    });
    this.offsetBytes += buf.byteLength;
    this.totalRows += rowCount;
    this.dataChunkCount++;
    this.knownStrings = store.strings.size;
    this.lastEndNs = endNs;
    return buf;
  }

  /** True when the next data chunk's index entry completes a group (the caller may add findings first). */
  get indexDue(): boolean {
    return this.pending.length >= this.indexEvery;
  }

  /** An index chunk if `indexEveryChunks` data chunks are unindexed, else null. */
  indexChunkIfDue(): Uint8Array | null {
    return this.indexDue ? this.indexChunk() : null;
  }

  /**
   * A findings chunk over every row written so far (`f.rows` must be `totalRows`). Written just
   * before an index chunk, which then points at it; the last complete one is what readers return.
   */
  findingsChunk(f: StoredFindings): Uint8Array {
    if (this.offsetBytes === 0) throw new Error('header() first');
    if (f.rows !== this.totalRows) throw new RangeError(`findings cover ${f.rows} rows, the recording has ${this.totalRows}`);
    const endNs = Number.isFinite(this.lastEndNs) ? this.lastEndNs : 0;
    const buf = encodeChunk({
      type: ChunkType.findings, codec: this.codec, seq: this.seq++, rowCount: 0, firstRow: this.totalRows,
      startNs: endNs, endNs, firstStringId: 0, newStringCount: 0,
    }, new Uint8Array(0), this.deflate(encodeFindingsBody(f)));
    this.lastFindingsOffset = this.offsetBytes;
    this.offsetBytes += buf.byteLength;
    return buf;
  }

  private indexChunk(): Uint8Array {
    const entries = this.pending;
    const first = entries[0];
    const last = entries[entries.length - 1];
    const body = encodeIndexBody(this.lastIndexOffset, entries, this.lastFindingsOffset);
    const buf = encodeChunk({
      type: ChunkType.index, codec: Codec.stored, seq: this.seq++,
      rowCount: entries.reduce((n, e) => n + e.rowCount, 0), firstRow: first?.firstRow ?? this.totalRows,
      startNs: first?.startNs ?? 0, endNs: last?.endNs ?? 0, firstStringId: 0, newStringCount: 0,
    }, new Uint8Array(0), body);
    this.lastIndexOffset = this.offsetBytes;
    this.offsetBytes += buf.byteLength;
    this.pending = [];
    return buf;
  }

  /**
   * The bytes that close the file: the findings over all rows (when given), the final index chunk
   * (possibly empty) and the trailer.
   */
  finish(findings?: StoredFindings): Uint8Array {
    const found = findings ? this.findingsChunk(findings) : new Uint8Array(0);
    const index = this.indexChunk();
    const trailer = encodeTrailer({ lastIndexOffset: this.lastIndexOffset, totalRows: this.totalRows, dataChunkCount: this.dataChunkCount });
    const out = new Uint8Array(found.byteLength + index.byteLength + trailer.byteLength);
    out.set(found, 0);
    out.set(index, found.byteLength);
    out.set(trailer, found.byteLength + index.byteLength);
    this.offsetBytes += trailer.byteLength;
    return out;
  }
}
