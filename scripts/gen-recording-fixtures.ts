// Writes fixtures/recordings/*.fscope: small recordings that pass every checksum but lie (issue #20
// item 5). Each starts from the same clean file (3 data chunks of 4 rows, deflate-raw; chunks 0 and
// 1 introduce strings, chunk 2 uses only old ones), then one part is rewritten and every checksum
// over it (part CRC, chunk header CRC, index entry CRC, index body CRC) is recomputed, so only the
// content is wrong. Run: `npx tsx scripts/gen-recording-fixtures.ts` (deterministic for one zlib build).
import { writeFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { RecordingEncoder } from '../src/trace/recording/encoder.ts';
import { CHUNK_HEADER_BYTES } from '../src/trace/recording/format.ts';
import { crc32 } from '../src/trace/recording/crc32.ts';
import { TraceStore } from '../src/trace/store.ts';
import { concatBytes } from '../src/trace/bytes.ts';
import type { TraceEvent } from '../src/trace/schema.ts';

const OUT = new URL('../fixtures/recordings/', import.meta.url);
const deflate = (b: Uint8Array): Uint8Array => deflateRawSync(b, { level: 9 });

const ev = (tsNs: number, path: string): TraceEvent =>
  ({ kind: 'app_op_begin', tsNs, task: 'cat/10', op: 'read', path, fd: 3, posBytes: 0, lenBytes: 4096, oflags: 0 } as TraceEvent);

/** The clean file and where its chunks are. */
export function cleanRecording(): { bytes: Uint8Array; chunkOffsets: number[]; indexOffset: number } {
  const store = new TraceStore();
  const enc = new RecordingEncoder({ deflate, indexEveryChunks: 100, meta: { source: 'fixture' } });
  const parts: Uint8Array[] = [enc.header()];
  const chunkOffsets: number[] = [];
  const paths = [['/a', '/b', '/a', '/b'], ['/c', '/d', '/c', '/a'], ['/a', '/b', '/c', '/d']];
  paths.forEach((ps, k) => {
    for (let i = 0; i < 4; i++) store.append(ev(1000 * (k * 4 + i + 1), ps[i]!));
    chunkOffsets.push(enc.offsetBytes);
    parts.push(enc.dataChunk(store, k * 4, k * 4 + 4));
  });
  const indexOffset = enc.offsetBytes;
  parts.push(enc.finish());
  return { bytes: concatBytes(parts), chunkOffsets, indexOffset };
}

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number): void => new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);
const INDEX_BODY_HEADER_BYTES = 24;
const INDEX_ENTRY_BYTES = 56;

/**
 * Chunk `k` of the clean file with its strings part replaced by `strings` (stored bytes): the rest
 * of the file moves, so every later offset (index entries, trailer) is rewritten too.
 */
function withStrings(k: number, strings: Uint8Array, opts: { headerNewStringCount?: number } = {}): Uint8Array {
  const { bytes, chunkOffsets, indexOffset } = cleanRecording();
  const at = chunkOffsets[k]!;
  const oldLen = u32(bytes, at + 48);
  const delta = strings.byteLength - oldLen;
  const out = new Uint8Array(bytes.byteLength + delta);
  out.set(bytes.subarray(0, at + CHUNK_HEADER_BYTES));
  out.set(strings, at + CHUNK_HEADER_BYTES);
  out.set(bytes.subarray(at + CHUNK_HEADER_BYTES + oldLen), at + CHUNK_HEADER_BYTES + strings.byteLength);
  setU32(out, at + 48, strings.byteLength);
  setU32(out, at + 52, crc32(strings));
  if (opts.headerNewStringCount !== undefined) setU32(out, at + 44, opts.headerNewStringCount);
  setU32(out, at + 64, crc32(out.subarray(at, at + 64)));
  // The index: entries after chunk k move by delta; entry k gets the new strings size and CRC.
  const idx = indexOffset + delta;
  const body = idx + CHUNK_HEADER_BYTES + u32(out, idx + 48);
  const dv = new DataView(out.buffer);
  const count = u32(out, body + 8);
  for (let i = 0; i < count; i++) {
    const e = body + INDEX_BODY_HEADER_BYTES + i * INDEX_ENTRY_BYTES;
    if (i > k) dv.setFloat64(e, dv.getFloat64(e, true) + delta, true);
    if (i === k) {
      setU32(out, e + 36, u32(out, e + 36) + delta);
      setU32(out, e + 48, strings.byteLength);
      setU32(out, e + 52, crc32(strings));
    }
  }
  const bodyBytes = u32(out, idx + 56);
  setU32(out, idx + 60, crc32(out.subarray(body, body + bodyBytes)));
  setU32(out, idx + 64, crc32(out.subarray(idx, idx + 64)));
  // Trailer: lastIndexOffset moved.
  const tr = out.byteLength - 32;
  dv.setFloat64(tr + 8, idx, true);
  setU32(out, tr + 28, crc32(out.subarray(tr, tr + 28)));
  return out;
}

/** A strings part (before compression) of `strings` given as raw bytes each. */
function stringsPart(strings: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(strings.reduce((n, s) => n + 4 + s.byteLength, 0));
  let at = 0;
  for (const s of strings) {
    setU32(out, at, s.byteLength);
    out.set(s, at + 4);
    at += 4 + s.byteLength;
  }
  return out;
}

const te = new TextEncoder();
export const FIXTURES: Record<string, () => Uint8Array> = {
  'clean.fscope': () => cleanRecording().bytes,
  // Chunk 1's strings part is not a deflate stream (0xff… is an invalid block type).
  'broken-strings-deflate.fscope': () => withStrings(1, new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x00, 0x01, 0x02, 0x03])),
  // Chunk 1's strings part inflates fine but its second string is not UTF-8 (a lone 0xC3).
  'invalid-utf8-strings.fscope': () => withStrings(1, deflate(stringsPart([te.encode('/c'), new Uint8Array([0x2f, 0xc3])]))),
  // Chunk 1's header says 3 new strings; its index entry (and the strings part) say 2.
  'header-string-count-mismatch.fscope': () => withStrings(1, deflate(stringsPart([te.encode('/c'), te.encode('/d')])), { headerNewStringCount: 3 }),
  // Chunk 1's strings part is 64 MiB of zeros deflated (~64 KiB on disk): a decompression bomb
  // (a string count of 2 allows a few MiB at most; see MAX_STRING_BYTES in reader.ts).
  'bomb-strings.fscope': () => withStrings(1, deflate(new Uint8Array(64 << 20))),
};

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  for (const [name, make] of Object.entries(FIXTURES)) {
    const bytes = make();
    writeFileSync(new URL(name, OUT), bytes);
    console.log(`${name}: ${bytes.byteLength} bytes`);
  }
}
