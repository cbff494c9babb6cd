// Reads a .fscope recording through an injected ByteSource (a file handle on the server, a Blob
// in the browser) and an injected Inflate.
//
// Opening:
//   1. file header: magic, then version (a newer version is refused before anything else is read),
//      then checksum.
//   2. indexed path: the trailer (last 32 bytes) points at the last index chunk; each index chunk
//      points at the previous one. Reads = 1 + number of index chunks; no data chunk is touched.
//   3. recovery path (no valid trailer, or an index that does not check out): hop from chunk header
//      to chunk header (one 72-byte read per chunk, payloads skipped), keeping every data chunk
//      whose header checks out and whose bytes are all present; stop at the first bad header.
//      `damage` names the byte offset of the first thing that was wrong.
// Payload checksums are verified when a chunk is read. Every count and length is checked against
// the index and the file size before anything is read or allocated, and every inflate is capped
// by what the chunk header declares (format.ts: maxBatchBytes, maxStringsPartBytes), so a file that
// passes its checksums but lies costs no more memory than an honest one. Errors name the file and
// the byte offset. `readAll` salvages: a bad chunk is skipped (listed in `badChunks`); if its
// strings part cannot be read, its string ids are kept as placeholders (so later ids stay in
// step) and any later chunk that uses one of them is skipped too, rather than shown with a wrong string.
//
// Seeking: chunk k's rows use strings introduced by chunks 0..k. The reader keeps one string
// table, filled in chunk order; reaching chunk k reads only the (small, separately compressed)
// strings parts of earlier chunks that have any — the index says which — never their bodies.

import { badStringId, decodeBatch, WireError } from '../wire.ts';
import { COLUMN_COUNT, COLUMN_IS_STR } from '../columns.ts';
import { FIELDS } from '../schema.ts';
import { StringTable } from '../strings.ts';
import { TraceStore, type Column } from '../store.ts';
import { crc32 } from './crc32.ts';
import { JoinedRun, JoinedRunFailed, STALL_MS, type JoinedBody, type JoinedInflate } from './joined.ts';
import {
  CHUNK_HEADER_BYTES, ChunkFlags, ChunkType, Codec, endsJoinable, FILE_HEADER_FIXED_BYTES, MAX_FINDINGS_BYTES, RecordingError, TRAILER_BYTES,
  maxBatchBytes, maxStringsPartBytes,
  decodeStrings, entryOfHeader, isTrailerMagic, parseChunkHeader, parseFileHeader, parseFileHeaderFixed,
  parseFindingsBody, parseIndexBody, parseTrailer, type FileHeader, type IndexEntry, type Inflate, type StoredFindings,
} from './format.ts';

/**
 * The checkers' findings the writer stored (format 2): `stored` with what they cover, or why there
 * are none — `absent` (a format-1 file, or a writer that ran no checkers), `missing` (the writer
 * was killed before it wrote any, or what it wrote is damaged): then recompute from the rows.
 */
export type StoredFindingsResult =
  | { status: 'stored'; offsetBytes: number; stored: StoredFindings }
  | { status: 'absent' | 'missing'; reason: string };

const HEAD_READ_BYTES = 4096;
/** Most columns a data chunk's batch can hold: storage columns (wire 3) or field parts (wires 1, 2: hi/lo of a u64). */
const BATCH_COLUMN_LIMIT = Math.max(COLUMN_COUNT, FIELDS.length * 3);

export interface ByteSource {
  readonly sizeBytes: number;
  /** Up to `lengthBytes` bytes at `offsetBytes` (fewer only at end of file). */
  read(offsetBytes: number, lengthBytes: number): Promise<Uint8Array>;
}

/** A data chunk's rows as decoded: columns are views into `body`, the inflated wire batch (no strings in it). */
export interface ChunkRows {
  entry: IndexEntry;
  rowCount: number;
  kinds: Uint8Array;
  tsNs: Float64Array;
  columns: Map<number, Column>;
  body: Uint8Array;
}

interface LoadedChunk {
  seq: number;
  stringsRaw: Uint8Array;
  body: Uint8Array;
}

/** A data chunk read and checked, its body not inflated yet. */
interface RawChunk {
  seq: number;
  codec: number;
  flags: number;
  stringsRaw: Uint8Array;
  bodyRaw: Uint8Array;
}

interface Damage {
  offsetBytes: number;
  reason: string;
}

interface ReadStats {
  /** Reads of any kind, and bytes they returned. */
  reads: number;
  bytesRead: number;
  /** Data chunk bodies read (the expensive part). */
  bodyReads: number;
  /** Strings parts read alone (to build the string table for a seek). */
  stringReads: number;
  /** Data chunk bodies inflated alone, bodies a joined run gave out, and joined runs (streams) started. */
  bodiesAlone: number;
  joinedBodies: number;
  joinedRuns: number;
}

export class RecordingReader {
  readonly stats: ReadStats = { reads: 0, bytesRead: 0, bodyReads: 0, stringReads: 0, bodiesAlone: 0, joinedBodies: 0, joinedRuns: 0 };
  readonly strings = new StringTable();
  /** Data chunks, in file order. */
  chunks: IndexEntry[] = [];
  /** True when the chunk list came from the index (clean close), false when recovered by scanning. */
  indexed = false;
  damage: Damage | null = null;
  /** Chunks whose strings are in `strings` (a prefix of `chunks`). */
  private stringsThrough = 0;
  /** Offsets of the findings chunks found (format 2), in file order. */
  private findingsOffsets: number[] = [];
  /** Chunks `readAll` skipped (indexes into `chunks`), with why. */
  readonly badChunks = new Map<number, string>();
  /** String ids whose strings part could not be read: [first, end) and the chunk's offset. */
  private lostStrings: Array<{ from: number; to: number; offsetBytes: number }> = [];

  private constructor(
    readonly name: string, readonly header: FileHeader, private readonly src: ByteSource, private readonly inflate: Inflate,
    private readonly inflateBody: Inflate, private readonly joined: JoinedInflate | null,
  ) {}

  /**
   * `inflateBody`, when given, inflates data chunk bodies (the rest goes through `inflate`): the
   * page's import worker inflates them into buffers the page hands back (src/app/frame-pool.ts).
   * `joined`, when given, lets `chunksInOrder` inflate runs of joinable bodies as one stream (joined.ts).
   */
  static async open(src: ByteSource, inflate: Inflate, name = 'recording', inflateBody: Inflate = inflate, joined: JoinedInflate | null = null): Promise<RecordingReader> {
    // The fixed header and, nearly always, the meta JSON (a few hundred bytes); a bigger meta gets a second read.
    const head = await src.read(0, Math.min(src.sizeBytes, HEAD_READ_BYTES));
    parseFileHeaderFixed(head, name); // magic and version before anything else
    const metaBytes = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(32, true);
    if (FILE_HEADER_FIXED_BYTES + metaBytes > src.sizeBytes) {
      throw new RecordingError(`${name}: header declares ${metaBytes} bytes of meta, the file holds ${src.sizeBytes - FILE_HEADER_FIXED_BYTES} after the fixed header`, 32);
    }
    const full = FILE_HEADER_FIXED_BYTES + metaBytes <= head.byteLength ? head : await src.read(0, FILE_HEADER_FIXED_BYTES + metaBytes);
    const reader = new RecordingReader(name, parseFileHeader(full, name), src, inflate, inflateBody, joined);
    if (src.sizeBytes < reader.header.headerBytes) {
      throw new RecordingError(`${name}: truncated file header (${src.sizeBytes} of ${reader.header.headerBytes} bytes)`, src.sizeBytes);
    }
    reader.stats.reads = 1;
    reader.stats.bytesRead = head.byteLength;
    if (!(await reader.loadIndex())) await reader.scan();
    return reader;
  }

  get totalRows(): number {
    const last = this.chunks[this.chunks.length - 1];
    return last ? last.firstRow + last.rowCount : 0;
  }
  get startNs(): number { return this.chunks[0]?.startNs ?? 0; }
  get endNs(): number { return this.chunks[this.chunks.length - 1]?.endNs ?? 0; }

  private async readAt(offsetBytes: number, lengthBytes: number): Promise<Uint8Array> {
    const buf = await this.src.read(offsetBytes, lengthBytes);
    this.stats.reads++;
    this.stats.bytesRead += buf.byteLength;
    return buf;
  }

  private noteDamage(offsetBytes: number, reason: string): void {
    if (!this.damage || offsetBytes < this.damage.offsetBytes) this.damage = { offsetBytes, reason };
  }

  /** The indexed path; false (and no damage recorded) if anything does not check out. */
  private async loadIndex(): Promise<boolean> {
    const size = this.src.sizeBytes;
    if (size < this.header.headerBytes + TRAILER_BYTES) return false;
    const trailer = parseTrailer(await this.readAt(size - TRAILER_BYTES, TRAILER_BYTES));
    if (!trailer) return false;
    const groups: IndexEntry[][] = [];
    const findings = new Set<number>();
    let at = trailer.lastIndexOffset;
    let expectEnd = size - TRAILER_BYTES;
    while (at >= 0) {
      if (!Number.isInteger(at) || at < this.header.headerBytes || at + CHUNK_HEADER_BYTES > expectEnd) return false;
      // The header first: its sizes must fill the space up to what follows before the body is read.
      const h = parseChunkHeader(await this.readAt(at, CHUNK_HEADER_BYTES), at);
      if (!h || h.type !== ChunkType.index || CHUNK_HEADER_BYTES + h.stringsBytes + h.bodyBytes !== expectEnd - at) return false;
      const body = await this.readAt(at + CHUNK_HEADER_BYTES + h.stringsBytes, h.bodyBytes);
      if (body.byteLength !== h.bodyBytes || crc32(body) !== h.bodyCrc) return false;
      const { prevIndexOffset, findingsOffset, entries } = parseIndexBody(body, Codec.stored, at, this.header.formatVersion);
      groups.push(entries);
      expectEnd = entries[0]?.offsetBytes ?? at;
      if (findingsOffset >= 0) {
        if (!Number.isInteger(findingsOffset) || findingsOffset >= at) return false;
        findings.add(findingsOffset);
        // A findings chunk is written just before an index chunk: when it follows the previous
        // index chunk directly (no data chunk between), that index chunk ends where it starts.
        if (findingsOffset > prevIndexOffset) expectEnd = Math.min(expectEnd, findingsOffset);
      }
      at = prevIndexOffset;
    }
    // Entries carry no codec; every data chunk of a file uses the writer's codec, read it once.
    const chunks = groups.reverse().flat();
    let nextOffset = this.header.headerBytes;
    let nextRow = 0;
    let nextString = 1;
    for (const e of chunks) {
      // Index chunks sit between groups, so offsets only need to increase.
      if (e.offsetBytes < nextOffset || e.firstRow !== nextRow || e.firstStringId !== nextString) return false;
      if (e.chunkBytes < CHUNK_HEADER_BYTES + e.stringsBytes || e.offsetBytes + e.chunkBytes > size) return false;
      nextOffset = e.offsetBytes + e.chunkBytes;
      nextRow += e.rowCount;
      nextString += e.newStringCount;
    }
    if (nextRow !== trailer.totalRows || chunks.length !== trailer.dataChunkCount) return false;
    if (chunks.length > 0) {
      const h = parseChunkHeader(await this.readAt(chunks[0]!.offsetBytes, CHUNK_HEADER_BYTES), chunks[0]!.offsetBytes);
      if (!h) return false;
      for (const e of chunks) e.codec = h.codec;
    }
    this.chunks = chunks;
    this.findingsOffsets = [...findings].sort((a, b) => a - b);
    this.indexed = true;
    return true;
  }

  /** The recovery path: hop over chunk headers from the start. */
  private async scan(): Promise<void> {
    const size = this.src.sizeBytes;
    let at = this.header.headerBytes;
    let nextRow = 0;
    let nextString = 1;
    for (;;) {
      if (at === size) {
        this.noteDamage(at, 'file ends without a trailer: the writer did not close it (killed, or still recording)');
        return;
      }
      const buf = await this.readAt(at, Math.min(CHUNK_HEADER_BYTES, size - at));
      if (isTrailerMagic(buf) && size - at === TRAILER_BYTES) {
        const t = parseTrailer(await this.readAt(at, TRAILER_BYTES));
        if (!t) this.noteDamage(at, 'trailer checksum mismatch');
        return;
      }
      const h = buf.byteLength === CHUNK_HEADER_BYTES ? parseChunkHeader(buf, at) : null;
      if (!h) {
        this.noteDamage(at, buf.byteLength < CHUNK_HEADER_BYTES
          ? `truncated chunk header (${buf.byteLength} of ${CHUNK_HEADER_BYTES} bytes)`
          : 'bad chunk header (magic or checksum); nothing after this offset can be trusted');
        return;
      }
      const end = at + CHUNK_HEADER_BYTES + h.stringsBytes + h.bodyBytes;
      if (end > size) {
        this.noteDamage(at, `truncated chunk ${h.seq}: needs ${end - at} bytes, ${size - at} present`);
        return;
      }
      if (h.type === ChunkType.data) {
        if (h.firstRow !== nextRow || h.firstStringId !== nextString) {
          this.noteDamage(at, `chunk ${h.seq} does not follow its predecessor (row ${h.firstRow}, expected ${nextRow})`);
          return;
        }
        this.chunks.push(entryOfHeader(h));
        nextRow += h.rowCount;
        nextString += h.newStringCount;
      } else if (h.type === ChunkType.index) {
        const body = await this.readAt(at + CHUNK_HEADER_BYTES + h.stringsBytes, h.bodyBytes);
        if (crc32(body) !== h.bodyCrc) this.noteDamage(at, `index chunk ${h.seq}: checksum mismatch (skipped; the data chunks are intact)`);
      } else if (h.type === ChunkType.findings && this.header.formatVersion >= 2) {
        this.findingsOffsets.push(at); // its body is checked when read (storedFindings)
      } else {
        this.noteDamage(at, `chunk ${h.seq}: unknown type ${h.type} (skipped)`);
      }
      at = end;
    }
  }

  /**
   * The last stored findings that check out (checksums, JSON, rows within the data chunks found);
   * a damaged findings chunk falls back to the one before it.
   */
  async storedFindings(): Promise<StoredFindingsResult> {
    if (this.header.formatVersion < 2) {
      return { status: 'absent', reason: `recording format ${this.header.formatVersion} predates stored findings` };
    }
    let problem = '';
    for (let i = this.findingsOffsets.length - 1; i >= 0; i--) {
      const at = this.findingsOffsets[i]!;
      try {
        const head = await this.readAt(at, CHUNK_HEADER_BYTES);
        const h = parseChunkHeader(head, at);
        if (!h || h.type !== ChunkType.findings) throw new RecordingError('not a findings chunk header', at);
        if (at + CHUNK_HEADER_BYTES + h.stringsBytes + h.bodyBytes > this.src.sizeBytes) {
          throw new RecordingError(`findings chunk declares ${h.bodyBytes} body bytes, past the end of the file`, at);
        }
        const raw = await this.readAt(at + CHUNK_HEADER_BYTES + h.stringsBytes, h.bodyBytes);
        if (raw.byteLength !== h.bodyBytes || crc32(raw) !== h.bodyCrc) throw new RecordingError('findings chunk checksum mismatch', at);
        const stored = parseFindingsBody(await this.part(raw, h.codec, MAX_FINDINGS_BYTES, 'findings body', at), at);
        if (stored.rows !== h.firstRow || stored.rows > this.totalRows) {
          throw new RecordingError(`findings cover ${stored.rows} rows, the recording holds ${this.totalRows}`, at);
        }
        return { status: 'stored', offsetBytes: at, stored };
      } catch (err) {
        problem ||= err instanceof RecordingError ? err.message : `findings chunk: ${(err as Error).message} (at byte ${at})`;
      }
    }
    if (problem) return { status: 'missing', reason: `${this.name}: stored findings damaged: ${problem}` };
    if (this.indexed) return { status: 'absent', reason: 'the writer stored no findings (it ran no checkers)' };
    return { status: 'missing', reason: 'no complete findings chunk: the writer did not close the file and wrote none before it stopped' };
  }

  /** Index of the first chunk whose rows may have tsNs >= `tsNs` (chunks.length if none). */
  chunkForTime(tsNs: number): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunks[mid]!.endNs < tsNs) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** A RecordingError naming this file. */
  private fail(message: string, offsetBytes: number): RecordingError {
    return new RecordingError(`${this.name}: ${message}`, offsetBytes);
  }

  /** One part as stored → its bytes, never more than `maxBytes` (inflate is told to stop there). */
  private async part(bytes: Uint8Array, codec: number, maxBytes: number, what: string, offsetBytes: number, inflate = this.inflate): Promise<Uint8Array> {
    if (codec !== Codec.deflateRaw && codec !== Codec.stored) throw this.fail(`${what}: unknown codec ${codec}`, offsetBytes);
    let out = bytes;
    if (codec === Codec.deflateRaw) {
      try {
        out = await inflate(bytes, maxBytes);
      } catch (err) {
        throw this.fail(`${what} does not inflate (limit ${maxBytes} bytes): ${(err as Error).message}`, offsetBytes);
      }
    }
    if (out.byteLength > maxBytes) throw this.fail(`${what} inflates past the ${maxBytes} bytes its header allows`, offsetBytes);
    return out;
  }

  /**
   * Chunk k's strings into the table, from `raw` (its strings part as stored) or read by the index
   * entry. Whatever is wrong with them, the table still grows by the entry's count: unreadable
   * strings become placeholders whose ids are listed in `lostStrings`, and the damage is noted.
   */
  private async loadStrings(k: number, raw: Uint8Array | null): Promise<void> {
    const e = this.chunks[k]!;
    if (e.newStringCount === 0) return;
    const first = this.strings.size;
    try {
      if (first !== e.firstStringId) throw this.fail(`string table out of step: chunk starts at id ${e.firstStringId}, have ${first}`, e.offsetBytes);
      if (raw === null) {
        raw = await this.readAt(e.offsetBytes + CHUNK_HEADER_BYTES, e.stringsBytes);
        this.stats.stringReads++;
        if (raw.byteLength !== e.stringsBytes || crc32(raw) !== e.stringsCrc) throw this.fail('strings part checksum mismatch', e.offsetBytes);
      }
      const strings = decodeStrings(await this.part(raw, e.codec, maxStringsPartBytes(e.newStringCount), 'strings part', e.offsetBytes), e.newStringCount, e.offsetBytes);
      for (const s of strings) this.strings.intern(s);
      // A repeated string would be interned once and shift every later id.
      if (this.strings.size !== first + e.newStringCount) throw this.fail('strings part repeats a string the table already holds', e.offsetBytes);
    } catch (err) {
      if (!(err instanceof RecordingError)) throw err;
      const msg = err.message.startsWith(`${this.name}: `) ? err.message : `${this.name}: ${err.message}`;
      this.noteDamage(e.offsetBytes, msg);
      // Placeholders keep later ids in step; no kept row may use one (readChunk checks).
      for (let id = this.strings.size; id < first + e.newStringCount; id++) this.strings.intern(`\u0000lost string ${id}`);
      this.lostStrings.push({ from: first, to: first + e.newStringCount, offsetBytes: e.offsetBytes });
    }
  }

  /** Fills the string table through chunk `k - 1`, reading only strings parts. */
  private async ensureStringsBefore(k: number): Promise<void> {
    for (; this.stringsThrough < k; this.stringsThrough++) await this.loadStrings(this.stringsThrough, null);
  }

  /** A string id of the batch that belongs to a lost strings part, or null. */
  private lostStringUse(batch: { rowCount: number; columns: Map<number, Column> }): { id: number; row: number; offsetBytes: number } | null {
    if (this.lostStrings.length === 0) return null;
    for (const [column, col] of batch.columns) {
      if (!COLUMN_IS_STR[column]) continue;
      for (let i = 0; i < batch.rowCount; i++) {
        const id = col[i]!;
        for (const l of this.lostStrings) if (id >= l.from && id < l.to) return { id, row: i, offsetBytes: l.offsetBytes };
      }
    }
    return null;
  }

  /** Decodes data chunk `k`: verifies its checksums, returns its columns (string ids valid in `strings`). */
  async readChunk(k: number): Promise<ChunkRows> {
    const e = this.chunks[k];
    if (!e) throw new RangeError(`chunk ${k} out of range 0..${this.chunks.length}`);
    await this.ensureStringsBefore(k);
    return this.finishChunk(k, await this.loadChunk(k));
  }

  /**
   * Chunk k's bytes, checked against its index entry and their checksums, its body inflated
   * (capped): everything that needs no string table, so several chunks can be at it at once.
   */
  private async loadChunk(k: number): Promise<LoadedChunk> {
    const raw = await this.loadRaw(k);
    return { seq: raw.seq, stringsRaw: raw.stringsRaw, body: await this.inflateAlone(k, raw) };
  }

  /** Chunk k's bytes, checked against its index entry and their checksums; nothing inflated. */
  private async loadRaw(k: number): Promise<RawChunk> {
    const e = this.chunks[k]!;
    const buf = await this.readAt(e.offsetBytes, e.chunkBytes);
    this.stats.bodyReads++;
    const h = buf.byteLength === e.chunkBytes ? parseChunkHeader(buf, e.offsetBytes) : null;
    if (!h || h.type !== ChunkType.data || h.firstRow !== e.firstRow || h.rowCount !== e.rowCount) {
      throw this.fail('chunk header does not match the index (type, first row or row count)', e.offsetBytes);
    }
    if (h.firstStringId !== e.firstStringId || h.newStringCount !== e.newStringCount || h.stringsBytes !== e.stringsBytes || h.stringsCrc !== e.stringsCrc) {
      throw this.fail(`chunk ${h.seq}: header declares strings ${h.firstStringId}+${h.newStringCount} (${h.stringsBytes} bytes), the index ${e.firstStringId}+${e.newStringCount} (${e.stringsBytes} bytes)`, e.offsetBytes);
    }
    const stringsRaw = buf.subarray(CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + h.stringsBytes);
    const bodyRaw = buf.subarray(CHUNK_HEADER_BYTES + h.stringsBytes);
    if (crc32(stringsRaw) !== h.stringsCrc || crc32(bodyRaw) !== h.bodyCrc) {
      throw this.fail(`chunk ${h.seq}: payload checksum mismatch`, e.offsetBytes);
    }
    return { seq: h.seq, codec: h.codec, flags: h.flags, stringsRaw, bodyRaw };
  }

  /** Chunk k's body inflated by itself (capped). */
  private inflateAlone(k: number, raw: RawChunk): Promise<Uint8Array> {
    const e = this.chunks[k]!;
    this.stats.bodiesAlone++;
    return this.part(raw.bodyRaw, raw.codec, maxBatchBytes(e.rowCount, BATCH_COLUMN_LIMIT), `chunk ${raw.seq} body`, e.offsetBytes, this.inflateBody);
  }

  /** The in-order part of reading chunk k (strings before k are in the table): its strings, then its batch, checked. */
  private async finishChunk(k: number, c: LoadedChunk): Promise<ChunkRows> {
    const e = this.chunks[k]!;
    if (this.stringsThrough === k) {
      await this.loadStrings(k, c.stringsRaw);
      this.stringsThrough = k + 1;
    }
    let batch;
    try {
      batch = decodeBatch(c.body);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      throw this.fail(`chunk ${c.seq}: ${err.message}`, e.offsetBytes);
    }
    const limit = e.firstStringId + e.newStringCount;
    if (batch.rowCount !== e.rowCount || batch.firstStringId !== limit) {
      throw this.fail(`chunk ${c.seq}: batch does not match its header`, e.offsetBytes);
    }
    const bad = badStringId(batch, limit);
    if (bad) throw this.fail(`chunk ${c.seq}: ${bad.what} row ${bad.row} uses string id ${bad.id} beyond ${limit}`, e.offsetBytes);
    const lost = this.lostStringUse(batch);
    if (lost) throw this.fail(`chunk ${c.seq}: row ${lost.row} uses string id ${lost.id}, lost with the strings part of the chunk at byte ${lost.offsetBytes}`, e.offsetBytes);
    return { entry: e, rowCount: batch.rowCount, kinds: batch.kinds, tsNs: batch.tsNs, columns: batch.columns, body: c.body };
  }

  /** A bad chunk k: the damage is noted, k goes in `badChunks`, its strings still enter the table. */
  private async skipChunk(k: number, err: unknown): Promise<null> {
    if (!(err instanceof RecordingError)) throw err;
    this.noteDamage(err.offsetBytes, err.message);
    this.badChunks.set(k, err.message);
    await this.ensureStringsBefore(k + 1);
    return null;
  }

  /**
   * Every chunk in file order, as readChunkOrSkip gives them (null for a bad one), with up to
   * `ahead` chunks read and inflated at once: inflating is the slow part of a whole-file read and
   * needs no string table, so it runs ahead while earlier chunks are decoded and used in order.
   * With `joined` (open), joinable bodies are inflated as one stream instead (chunksJoined).
   */
  async *chunksInOrder(ahead = 8): AsyncGenerator<{ k: number; chunk: ChunkRows | null }> {
    if (this.joined) {
      yield* this.chunksJoined(Math.max(2, ahead), this.joined);
      return;
    }
    const n = this.chunks.length;
    // Settled as values: a load nobody awaits (the caller stopped early) must not reject unhandled.
    const pending: Array<Promise<LoadedChunk | { failed: unknown }>> = [];
    let next = 0;
    for (let k = 0; k < n; k++) {
      for (; next < n && next < k + Math.max(1, ahead); next++) {
        pending.push(this.loadChunk(next).catch((failed: unknown) => ({ failed })));
      }
      const got = await pending.shift()!;
      let chunk: ChunkRows | null;
      try {
        await this.ensureStringsBefore(k);
        if ('failed' in got) throw got.failed;
        chunk = await this.finishChunk(k, got);
      } catch (err) {
        chunk = await this.skipChunk(k, err);
      }
      yield { k, chunk };
    }
  }

  /**
   * chunksInOrder over joined runs: chunks are read and checked one after another, `ahead` beyond
   * the one being used; a joinable body goes into the current run's stream, any other body ends
   * the run and is inflated alone. A body the run cannot give out exactly (JoinedRunFailed) is
   * inflated alone, so every chunk reads as readChunk would read it.
   */
  private async *chunksJoined(ahead: number, joined: JoinedInflate): AsyncGenerator<{ k: number; chunk: ChunkRows | null }> {
    const n = this.chunks.length;
    let run: JoinedRun | null = null;
    let queued = 0; // chunks handed to the feed so far
    let feeds = 0; // of those, not yet fed
    // The joined body the loop below waits on. If every chunk queued is fed, the pump is waiting on
    // the stream and nothing comes for STALL_MS, the stream has stopped giving output (input dropped
    // after a final block inside a body): ending the run settles it (joined.ts).
    let waitingOn: JoinedBody | null = null;
    let stallTimer: (() => void) | null = null;
    const stalled = (): boolean => feeds === 0 && waitingOn !== null && !waitingOn.settled() && run !== null && run.reading;
    const unstall = (): void => {
      if (stallTimer !== null || !stalled()) return;
      const piecesBefore = run!.piecesRead;
      stallTimer = joined.after(STALL_MS, () => {
        stallTimer = null;
        if (!stalled()) return;
        if (run!.piecesRead !== piecesBefore) {
          unstall();
          return;
        }
        void run!.end();
        run = null;
      });
    };
    type Fed = { raw: RawChunk; body: Promise<Uint8Array>; joined: JoinedBody | null } | { failed: unknown };
    // One chunk at a time, in order: a run's stream takes bodies in file order.
    const feedOne = async (k: number): Promise<Fed> => {
      try {
        const raw = await this.loadRaw(k);
        if (raw.codec === Codec.deflateRaw && (raw.flags & ChunkFlags.joinable) !== 0 && endsJoinable(raw.bodyRaw)) {
          if (!run || run.over) {
            run = new JoinedRun(joined);
            this.stats.joinedRuns++;
          }
          const add = run.add(raw.bodyRaw, this.chunks[k]!.rowCount, maxBatchBytes(this.chunks[k]!.rowCount, BATCH_COLUMN_LIMIT));
          await add.written;
          return { raw, body: add.body, joined: add };
        }
        if (run) void run.end();
        run = null;
        const body = this.inflateAlone(k, raw);
        body.catch(() => undefined); // awaited in order below; a caller that stopped early does not
        return { raw, body, joined: null };
      } catch (failed) {
        return { failed };
      } finally {
        // The file's last chunk ends the run: its last body's marker is then followed by the end.
        if (k === n - 1 && run) {
          void run.end();
          run = null;
        }
        feeds--;
        unstall();
      }
    };
    let feeding: Promise<unknown> = Promise.resolve();
    const pending: Array<Promise<Fed>> = [];
    try {
      for (let k = 0; k < n; k++) {
        for (; queued < n && queued < k + ahead; queued++) {
          const j = queued;
          feeds++;
          const fed = feeding.then(() => feedOne(j));
          feeding = fed;
          pending.push(fed);
        }
        const got = await pending.shift()!;
        let chunk: ChunkRows | null;
        try {
          await this.ensureStringsBefore(k);
          if ('failed' in got) throw got.failed;
          let body: Uint8Array;
          try {
            waitingOn = got.joined;
            unstall();
            body = await got.body;
            if (got.joined) this.stats.joinedBodies++;
          } catch (err) {
            if (!got.joined || !(err instanceof JoinedRunFailed)) throw err;
            body = await this.inflateAlone(k, got.raw);
          } finally {
            waitingOn = null;
          }
          chunk = await this.finishChunk(k, { seq: got.raw.seq, stringsRaw: got.raw.stringsRaw, body });
        } catch (err) {
          chunk = await this.skipChunk(k, err);
        }
        yield { k, chunk };
      }
    } finally {
      (stallTimer as (() => void) | null)?.();
      (run as JoinedRun | null)?.cancel();
    }
  }

  /** A fresh store sharing this reader's string table (ids stay valid as the table grows). */
  newStore(): TraceStore {
    return new TraceStore(this.header.originNs, this.strings);
  }

  /**
   * Rows with fromNs <= tsNs <= toNs, reading only the chunks that overlap. `firstRow` is the
   * recording-wide row number of the store's row 0.
   */
  async readRange(fromNs: number, toNs: number): Promise<{ store: TraceStore; firstRow: number }> {
    const store = this.newStore();
    let firstRow = -1;
    for (let k = this.chunkForTime(fromNs); k < this.chunks.length && this.chunks[k]!.startNs <= toNs; k++) {
      const c = await this.readChunk(k);
      let lo = 0;
      let hi = c.rowCount;
      while (lo < hi && c.tsNs[lo]! < fromNs) lo++;
      while (hi > lo && c.tsNs[hi - 1]! > toNs) hi--;
      if (hi === lo) continue;
      if (firstRow < 0) firstRow = c.entry.firstRow + lo;
      const cols = new Map<number, Column>();
      for (const [column, col] of c.columns) cols.set(column, col.subarray(lo, hi));
      store.appendColumns(hi - lo, c.kinds.subarray(lo, hi), c.tsNs.subarray(lo, hi), cols);
    }
    return { store, firstRow: Math.max(0, firstRow) };
  }

  /**
   * Chunk k, or null when it is bad: the damage is noted, k goes in `badChunks`, and its strings
   * (read by the index entry, or placeholders) still enter the table so later chunks can be read.
   */
  async readChunkOrSkip(k: number): Promise<ChunkRows | null> {
    try {
      return await this.readChunk(k);
    } catch (err) {
      return this.skipChunk(k, err);
    }
  }

  /** Chunks read or left to read that are not in `badChunks`. */
  get goodChunkCount(): number {
    return this.chunks.length - this.badChunks.size;
  }

  /** Every good row, in order: a bad chunk is skipped (readChunkOrSkip) instead of throwing. */
  async readAll(into: TraceStore = this.newStore()): Promise<TraceStore> {
    if (into.strings !== this.strings) throw new Error('readAll: the store must share the reader\'s string table (use newStore())');
    for await (const { chunk: c } of this.chunksInOrder()) {
      if (c) into.appendColumns(c.rowCount, c.kinds, c.tsNs, c.columns);
    }
    return into;
  }
}

/** A ByteSource over bytes in memory (tests, or a dropped File read whole in the browser). */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    sizeBytes: bytes.byteLength,
    read: async (offsetBytes, lengthBytes) => bytes.slice(offsetBytes, Math.min(bytes.byteLength, offsetBytes + lengthBytes)),
  };
}
