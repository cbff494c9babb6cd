// The .fscope recording format, version FORMAT_VERSION: byte layouts, constants and pure
// encoders/parsers. docs/recording-format.md is the prose spec; the tables there and the
// offsets here must agree (format.test.ts pins the sizes).
//
//   file:  [file header + meta JSON] [chunk] [chunk] … [index chunk] … [chunk] [index chunk] [trailer]
//   chunk: [72-byte chunk header] [strings part] [body part]
//            data chunk:  strings = new strings since the previous chunk, body = wire batch (no strings)
//            index chunk: strings = empty, body = index entries of the data chunks since the last index
//            findings chunk (v2): strings = empty, body = JSON of the checkers' findings over the rows before it
//
// Everything little-endian. Absolute offsets and row numbers are f64 (exact to 2^53).
// Decompression is injected (`Inflate`) so the browser can use DecompressionStream and the server
// node:zlib; the core never imports either.

import { SCHEMA_VERSION, SCHEMA_VERSION_MIN } from '../schema.ts';
import { WIRE_VERSION, WIRE_VERSION_MIN } from '../wire.ts';
import { crc32 } from './crc32.ts';
import type { Finding, Unknown } from '../checks/types.ts';

/**
 * Bump on any layout change; add a reader branch for the old version and a changelog line.
 * 2: findings chunks, and index bodies point at the last findings chunk (24-byte body header).
 */
export const FORMAT_VERSION = 2;
/** "\x89FSCOPE\n": the high byte catches 7-bit transfers, the LF catches text-mode newline mangling. */
export const FILE_MAGIC = new Uint8Array([0x89, 0x46, 0x53, 0x43, 0x4f, 0x50, 0x45, 0x0a]);
export const FILE_HEADER_FIXED_BYTES = 40;
const CHUNK_MAGIC = 0x4b435346; // 'FSCK'
export const CHUNK_HEADER_BYTES = 72;
const TRAILER_MAGIC = 0x54435346; // 'FSCT'
export const TRAILER_BYTES = 32;
const INDEX_ENTRY_BYTES = 56;
/** Index body header: v1 16 bytes; v2 adds f64 findingsOffset. */
const indexBodyHeaderBytes = (formatVersion: number): number => (formatVersion >= 2 ? 24 : 16);

export const ChunkType = { data: 1, index: 2, findings: 3 } as const;
export const Codec = { stored: 0, deflateRaw: 1 } as const;
export type CodecCode = (typeof Codec)[keyof typeof Codec];

/**
 * Raw inflate. With `maxOutputBytes`, an implementation must stop inflating once the output passes
 * it (throw, or return what it has: the reader refuses any output longer than the bound), so a
 * small part that inflates to gigabytes never allocates them.
 */
export type Inflate = (bytes: Uint8Array, maxOutputBytes?: number) => Uint8Array | Promise<Uint8Array>;

/**
 * Bounds on what a part may inflate to, from what its chunk header declares (the format stores
 * only on-disk sizes). One string is at most MAX_STRING_BYTES (every text importer drops lines
 * over 1 MiB, so no string it makes is longer), and a strings part at most
 * MAX_STRINGS_PART_BYTES whatever its count.
 */
export const MAX_STRING_BYTES = 1 << 20;
export const MAX_STRINGS_PART_BYTES = 64 << 20;
/** Findings JSON (one per index chunk): generous, but finite. */
export const MAX_FINDINGS_BYTES = 256 << 20;
export function maxStringsPartBytes(newStringCount: number): number {
  return Math.min(MAX_STRINGS_PART_BYTES, newStringCount * (4 + MAX_STRING_BYTES));
}
/**
 * A data chunk body is one wire batch of `rowCount` rows without strings: header, kinds, tsNs and
 * at most one column per storage column (wire 3) or per field part (wires 1 and 2), each of at
 * most 8 bytes a row.
 */
export function maxBatchBytes(rowCount: number, columnLimit: number): number {
  return 24 + Math.ceil(rowCount / 8) * 8 + rowCount * 8 + columnLimit * (8 + rowCount * 8);
}
export type Deflate = (bytes: Uint8Array) => Uint8Array;

export class RecordingError extends Error {
  constructor(message: string, readonly offsetBytes: number) {
    super(`${message} (at byte ${offsetBytes})`);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const pad8 = (n: number): number => (n + 7) & ~7;

// ---------------------------------------------------------------------------------------------
// File header
//   0  u8[8] magic            8 u16 formatVersion   10 u16 wireVersion   12 u16 schemaVersion
//   14 u16 reserved (0)      16 i64 originNs        24 f64 createdUnixMs
//   32 u32 metaBytes         36 u32 crc32 of bytes 0..36 and the meta bytes
//   40 meta: UTF-8 JSON object, padded with zeros to a multiple of 8

export interface FileHeader {
  formatVersion: number;
  wireVersion: number;
  schemaVersion: number;
  originNs: bigint;
  createdUnixMs: number;
  /** Free-form: `source` (e.g. "sim:hardlink-alias-race:seed=1"), `tool`, anything a source adds. */
  meta: Record<string, unknown>;
  /** Where the first chunk starts. */
  headerBytes: number;
}

export function encodeFileHeader(h: { originNs: bigint; createdUnixMs: number; meta: Record<string, unknown> }): Uint8Array {
  const meta = encoder.encode(JSON.stringify(h.meta));
  const buf = new Uint8Array(FILE_HEADER_FIXED_BYTES + pad8(meta.byteLength));
  const dv = new DataView(buf.buffer);
  buf.set(FILE_MAGIC, 0);
  dv.setUint16(8, FORMAT_VERSION, true);
  dv.setUint16(10, WIRE_VERSION, true);
  dv.setUint16(12, SCHEMA_VERSION, true);
  dv.setBigInt64(16, h.originNs, true);
  dv.setFloat64(24, h.createdUnixMs, true);
  dv.setUint32(32, meta.byteLength, true);
  buf.set(meta, FILE_HEADER_FIXED_BYTES);
  dv.setUint32(36, crc32(meta, crc32(buf.subarray(0, 36))), true);
  return buf;
}

/** Checks magic and version first (a newer file may change everything after byte 10). */
export function parseFileHeaderFixed(buf: Uint8Array, name: string): { formatVersion: number; metaBytes: number } {
  if (buf.byteLength < FILE_HEADER_FIXED_BYTES) {
    throw new RecordingError(`${name}: too short for a .fscope header (${buf.byteLength} bytes)`, buf.byteLength);
  }
  for (let i = 0; i < FILE_MAGIC.length; i++) {
    if (buf[i] !== FILE_MAGIC[i]) throw new RecordingError(`${name}: not a fusescope recording (bad magic)`, i);
  }
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const formatVersion = dv.getUint16(8, true);
  if (formatVersion > FORMAT_VERSION) {
    throw new RecordingError(
      `${name}: recording format version ${formatVersion} is newer than this fusescope reads (up to ${FORMAT_VERSION}); upgrade fusescope to open it`, 8);
  }
  if (formatVersion < 1) throw new RecordingError(`${name}: invalid recording format version ${formatVersion}`, 8);
  return { formatVersion, metaBytes: dv.getUint32(32, true) };
}

export function parseFileHeader(buf: Uint8Array, name: string): FileHeader {
  const { formatVersion, metaBytes } = parseFileHeaderFixed(buf, name);
  const end = FILE_HEADER_FIXED_BYTES + metaBytes;
  if (buf.byteLength < end) throw new RecordingError(`${name}: truncated header meta (${metaBytes} bytes declared)`, FILE_HEADER_FIXED_BYTES);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const meta = buf.subarray(FILE_HEADER_FIXED_BYTES, end);
  if (crc32(meta, crc32(buf.subarray(0, 36))) !== dv.getUint32(36, true)) {
    throw new RecordingError(`${name}: file header checksum mismatch`, 0);
  }
  const wireVersion = dv.getUint16(10, true);
  const schemaVersion = dv.getUint16(12, true);
  if (wireVersion < WIRE_VERSION_MIN || wireVersion > WIRE_VERSION || schemaVersion < SCHEMA_VERSION_MIN || schemaVersion > SCHEMA_VERSION) {
    // Chunks hold wire batches: decodeBatch reads wire 1 (full-width columns), 2 (narrowed) and 3 (shared columns of the layout);
    // schemas since SCHEMA_VERSION_MIN only appended kinds, fields and enum values. A change that is
    // not append-only adds an upgrader here.
    throw new RecordingError(`${name}: wire ${wireVersion} / schema ${schemaVersion} has no upgrader to wire ${WIRE_VERSION} / schema ${SCHEMA_VERSION}`, 10);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(meta));
  } catch (e) {
    throw new RecordingError(`${name}: header meta is not JSON: ${(e as Error).message}`, FILE_HEADER_FIXED_BYTES);
  }
  return {
    formatVersion, wireVersion, schemaVersion,
    originNs: dv.getBigInt64(16, true),
    createdUnixMs: dv.getFloat64(24, true),
    meta: (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>,
    headerBytes: FILE_HEADER_FIXED_BYTES + pad8(metaBytes),
  };
}

// ---------------------------------------------------------------------------------------------
// Chunk header (72 bytes)
//   0  u32 magic 'FSCK'     4 u8 type (1 data, 2 index)   5 u8 codec (0 stored, 1 deflate-raw)
//   6  u16 flags (ChunkFlags; 0 before 2026-12-07, when it was reserved)     8 u32 seq (0, 1, 2… over all chunks)   12 u32 rowCount
//   16 f64 firstRow         24 f64 startNs            32 f64 endNs
//   40 u32 firstStringId    44 u32 newStringCount     48 u32 stringsBytes   52 u32 stringsCrc32
//   56 u32 bodyBytes        60 u32 bodyCrc32          64 u32 headerCrc32 (of bytes 0..64)
//   68 u32 reserved (0)
// Index chunks: rowCount/firstRow/startNs/endNs summarize the chunks they list; strings empty.

/**
 * Chunk header flags (byte 6). Readers ignore bits they do not know, and readers from before the
 * field read it as reserved and ignore it too, so a flag may only say something a reader can do
 * without: `joinable` is such a promise.
 */
export const ChunkFlags = {
  /**
   * The body (deflate-raw) ends with a sync flush and then an empty final block: JOINABLE_TAIL.
   * Cut that block's two bytes off and bodies in a row are one deflate stream, which a reader may
   * inflate in one go (joined.ts). Each body alone is still ordinary deflate.
   */
  joinable: 1,
} as const;
/**
 * How a joinable body ends: the empty stored block of a sync flush (`00 00 ff ff`, byte-aligned),
 * then an empty final block with fixed codes (BFINAL 1, BTYPE 01, end-of-block code 0000000: `03 00`).
 * RFC 1951 3.2.3–3.2.6; zlib writes the first four with Z_SYNC_FLUSH.
 */
export const JOINABLE_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff, 0x03, 0x00]);
/** The final block's bytes at the end of JOINABLE_TAIL: what a joined reader cuts off each body. */
export const FINAL_BLOCK_BYTES = 2;

/** Whether a deflate-raw part ends as a joinable body must. */
export function endsJoinable(part: Uint8Array): boolean {
  const at = part.byteLength - JOINABLE_TAIL.byteLength;
  if (at < 0) return false;
  for (let i = 0; i < JOINABLE_TAIL.byteLength; i++) if (part[at + i] !== JOINABLE_TAIL[i]) return false;
  return true;
}

interface ChunkHeader {
  offsetBytes: number;
  type: number;
  codec: CodecCode;
  /** ChunkFlags bits. */
  flags: number;
  seq: number;
  rowCount: number;
  firstRow: number;
  startNs: number;
  endNs: number;
  firstStringId: number;
  newStringCount: number;
  stringsBytes: number;
  stringsCrc: number;
  bodyBytes: number;
  bodyCrc: number;
}

const chunkBytesOf = (h: Pick<ChunkHeader, 'stringsBytes' | 'bodyBytes'>): number =>
  CHUNK_HEADER_BYTES + h.stringsBytes + h.bodyBytes;

export function encodeChunk(h: Omit<ChunkHeader, 'offsetBytes' | 'stringsBytes' | 'stringsCrc' | 'bodyBytes' | 'bodyCrc' | 'flags'> & { flags?: number },
  strings: Uint8Array, body: Uint8Array): Uint8Array {
  const buf = new Uint8Array(CHUNK_HEADER_BYTES + strings.byteLength + body.byteLength);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, CHUNK_MAGIC, true);
  dv.setUint8(4, h.type);
  dv.setUint8(5, h.codec);
  dv.setUint16(6, h.flags ?? 0, true);
  dv.setUint32(8, h.seq, true);
  dv.setUint32(12, h.rowCount, true);
  dv.setFloat64(16, h.firstRow, true);
  dv.setFloat64(24, h.startNs, true);
  dv.setFloat64(32, h.endNs, true);
  dv.setUint32(40, h.firstStringId, true);
  dv.setUint32(44, h.newStringCount, true);
  dv.setUint32(48, strings.byteLength, true);
  dv.setUint32(52, crc32(strings), true);
  dv.setUint32(56, body.byteLength, true);
  dv.setUint32(60, crc32(body), true);
  dv.setUint32(64, crc32(buf.subarray(0, 64)), true);
  buf.set(strings, CHUNK_HEADER_BYTES);
  buf.set(body, CHUNK_HEADER_BYTES + strings.byteLength);
  return buf;
}

/**
 * Parses a chunk header; null if the magic or header checksum is wrong, or the reserved word at
 * 68 (outside the checksum; the writer always writes 0) is not 0 — so no header byte can change unseen.
 */
export function parseChunkHeader(buf: Uint8Array, offsetBytes: number): ChunkHeader | null {
  if (buf.byteLength < CHUNK_HEADER_BYTES) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, CHUNK_HEADER_BYTES);
  if (dv.getUint32(0, true) !== CHUNK_MAGIC) return null;
  if (crc32(buf.subarray(0, 64)) !== dv.getUint32(64, true)) return null;
  if (dv.getUint32(68, true) !== 0) return null;
  return {
    offsetBytes,
    type: dv.getUint8(4),
    codec: dv.getUint8(5) as CodecCode,
    flags: dv.getUint16(6, true),
    seq: dv.getUint32(8, true),
    rowCount: dv.getUint32(12, true),
    firstRow: dv.getFloat64(16, true),
    startNs: dv.getFloat64(24, true),
    endNs: dv.getFloat64(32, true),
    firstStringId: dv.getUint32(40, true),
    newStringCount: dv.getUint32(44, true),
    stringsBytes: dv.getUint32(48, true),
    stringsCrc: dv.getUint32(52, true),
    bodyBytes: dv.getUint32(56, true),
    bodyCrc: dv.getUint32(60, true),
  };
}

// ---------------------------------------------------------------------------------------------
// Strings part (before compression): newStringCount × (u32 byteLength, UTF-8 bytes).

export function encodeStrings(strings: readonly string[]): Uint8Array {
  const parts = strings.map((s) => encoder.encode(s));
  const buf = new Uint8Array(parts.reduce((n, p) => n + 4 + p.byteLength, 0));
  const dv = new DataView(buf.buffer);
  let at = 0;
  for (const p of parts) {
    dv.setUint32(at, p.byteLength, true);
    buf.set(p, at + 4);
    at += 4 + p.byteLength;
  }
  return buf;
}

/** Exactly `count` strings filling `buf`; anything else (short, long, not UTF-8) is a RecordingError. */
export function decodeStrings(buf: Uint8Array, count: number, offsetBytes: number): string[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: string[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 4 > buf.byteLength) throw new RecordingError(`strings part: truncated at string ${i} of ${count}`, offsetBytes);
    const len = dv.getUint32(at, true);
    if (at + 4 + len > buf.byteLength) throw new RecordingError(`strings part: string ${i} of ${count} overruns the part`, offsetBytes);
    try {
      out.push(decoder.decode(buf.subarray(at + 4, at + 4 + len)));
    } catch {
      throw new RecordingError(`strings part: string ${i} of ${count} is not valid UTF-8`, offsetBytes);
    }
    at += 4 + len;
  }
  if (at !== buf.byteLength) throw new RecordingError(`strings part: ${buf.byteLength - at} bytes after its ${count} strings`, offsetBytes);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Index body (stored, never compressed: a reader must get it with one read)
//   0  f64 prevIndexOffset (-1 = this is the first index chunk)   8 u32 entryCount   12 u32 0
//   v2: 16 f64 findingsOffset (the last findings chunk written before this index chunk, -1 = none)
//   16 (v1) / 24 (v2): entryCount × 56 bytes:
//      0 f64 offsetBytes   8 f64 firstRow   16 f64 startNs   24 f64 endNs
//      32 u32 rowCount     36 u32 chunkBytes   40 u32 firstStringId   44 u32 newStringCount
//      48 u32 stringsBytes 52 u32 stringsCrc32

export interface IndexEntry {
  offsetBytes: number;
  firstRow: number;
  startNs: number;
  endNs: number;
  rowCount: number;
  chunkBytes: number;
  firstStringId: number;
  newStringCount: number;
  stringsBytes: number;
  stringsCrc: number;
  /** Data chunks from a header carry the codec; index entries inherit the index chunk's. */
  codec: CodecCode;
}

export function entryOfHeader(h: ChunkHeader): IndexEntry {
  return {
    offsetBytes: h.offsetBytes, firstRow: h.firstRow, startNs: h.startNs, endNs: h.endNs, rowCount: h.rowCount,
    chunkBytes: chunkBytesOf(h), firstStringId: h.firstStringId, newStringCount: h.newStringCount,
    stringsBytes: h.stringsBytes, stringsCrc: h.stringsCrc, codec: h.codec,
  };
}

/** Always writes the current version's layout (v2: with `findingsOffset`). */
export function encodeIndexBody(prevIndexOffset: number, entries: readonly IndexEntry[], findingsOffset = -1): Uint8Array {
  const head = indexBodyHeaderBytes(FORMAT_VERSION);
  const buf = new Uint8Array(head + entries.length * INDEX_ENTRY_BYTES);
  const dv = new DataView(buf.buffer);
  dv.setFloat64(0, prevIndexOffset, true);
  dv.setUint32(8, entries.length, true);
  dv.setFloat64(16, findingsOffset, true);
  entries.forEach((e, i) => {
    const at = head + i * INDEX_ENTRY_BYTES;
    dv.setFloat64(at, e.offsetBytes, true);
    dv.setFloat64(at + 8, e.firstRow, true);
    dv.setFloat64(at + 16, e.startNs, true);
    dv.setFloat64(at + 24, e.endNs, true);
    dv.setUint32(at + 32, e.rowCount, true);
    dv.setUint32(at + 36, e.chunkBytes, true);
    dv.setUint32(at + 40, e.firstStringId, true);
    dv.setUint32(at + 44, e.newStringCount, true);
    dv.setUint32(at + 48, e.stringsBytes, true);
    dv.setUint32(at + 52, e.stringsCrc, true);
  });
  return buf;
}

/** `formatVersion` of the file: v1 bodies have no findingsOffset (returned as -1). */
export function parseIndexBody(buf: Uint8Array, codec: CodecCode, offsetBytes: number, formatVersion: number = FORMAT_VERSION):
  { prevIndexOffset: number; findingsOffset: number; entries: IndexEntry[] } {
  const head = indexBodyHeaderBytes(formatVersion);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < head) throw new RecordingError('index body too short', offsetBytes);
  const prevIndexOffset = dv.getFloat64(0, true);
  const count = dv.getUint32(8, true);
  const findingsOffset = formatVersion >= 2 ? dv.getFloat64(16, true) : -1;
  if (buf.byteLength !== head + count * INDEX_ENTRY_BYTES) {
    throw new RecordingError(`index body of ${buf.byteLength} bytes does not hold ${count} entries`, offsetBytes);
  }
  const entries: IndexEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = head + i * INDEX_ENTRY_BYTES;
    entries.push({
      offsetBytes: dv.getFloat64(at, true), firstRow: dv.getFloat64(at + 8, true),
      startNs: dv.getFloat64(at + 16, true), endNs: dv.getFloat64(at + 24, true),
      rowCount: dv.getUint32(at + 32, true), chunkBytes: dv.getUint32(at + 36, true),
      firstStringId: dv.getUint32(at + 40, true), newStringCount: dv.getUint32(at + 44, true),
      stringsBytes: dv.getUint32(at + 48, true), stringsCrc: dv.getUint32(at + 52, true), codec,
    });
  }
  return { prevIndexOffset, findingsOffset, entries };
}

// ---------------------------------------------------------------------------------------------
// Findings body (v2; compressed with the file's codec): UTF-8 JSON of StoredFindings. The chunk
// header's firstRow is the row count the findings cover (= `rows`), rowCount 0, no strings.

/** What the checkers found over rows [0, rows) of the recording, as the writer ran them. */
export interface StoredFindings {
  /** Rows covered: recording rows 0 … rows-1 (every data chunk written before this findings chunk). */
  rows: number;
  /** Rules run, and their settings (every setting, defaults filled in). */
  rules: string[];
  settings: Record<string, unknown>;
  findings: Finding[];
  unknowns: Unknown[];
}

export function encodeFindingsBody(f: StoredFindings): Uint8Array {
  return encoder.encode(JSON.stringify(f));
}

export function parseFindingsBody(buf: Uint8Array, offsetBytes: number): StoredFindings {
  let v: unknown;
  try {
    v = JSON.parse(decoder.decode(buf));
  } catch (e) {
    throw new RecordingError(`findings chunk is not JSON: ${(e as Error).message}`, offsetBytes);
  }
  const o = v as Partial<StoredFindings> | null;
  if (!o || typeof o !== 'object' || typeof o.rows !== 'number' || !Array.isArray(o.rules) || !Array.isArray(o.findings)
    || !Array.isArray(o.unknowns) || !o.settings || typeof o.settings !== 'object') {
    throw new RecordingError('findings chunk lacks rows, rules, settings, findings or unknowns', offsetBytes);
  }
  return o as StoredFindings;
}

// ---------------------------------------------------------------------------------------------
// Trailer (32 bytes, the last bytes of a cleanly closed file)
//   0 u32 magic 'FSCT'   4 u32 reserved (0)   8 f64 lastIndexOffset   16 f64 totalRows
//   24 u32 dataChunkCount   28 u32 crc32 of bytes 0..28

interface Trailer { lastIndexOffset: number; totalRows: number; dataChunkCount: number }

export function encodeTrailer(t: Trailer): Uint8Array {
  const buf = new Uint8Array(TRAILER_BYTES);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, TRAILER_MAGIC, true);
  dv.setFloat64(8, t.lastIndexOffset, true);
  dv.setFloat64(16, t.totalRows, true);
  dv.setUint32(24, t.dataChunkCount, true);
  dv.setUint32(28, crc32(buf.subarray(0, 28)), true);
  return buf;
}

export function parseTrailer(buf: Uint8Array): Trailer | null {
  if (buf.byteLength !== TRAILER_BYTES) return null;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (dv.getUint32(0, true) !== TRAILER_MAGIC || crc32(buf.subarray(0, 28)) !== dv.getUint32(28, true)) return null;
  return { lastIndexOffset: dv.getFloat64(8, true), totalRows: dv.getFloat64(16, true), dataChunkCount: dv.getUint32(24, true) };
}

export function isTrailerMagic(buf: Uint8Array): boolean {
  return buf.byteLength >= 4 && new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0, true) === TRAILER_MAGIC;
}

/** True if `head` (the first bytes of a file) starts with the .fscope magic. */
export function hasRecordingMagic(head: Uint8Array): boolean {
  return head.byteLength >= FILE_MAGIC.length && FILE_MAGIC.every((b, i) => head[i] === b);
}
