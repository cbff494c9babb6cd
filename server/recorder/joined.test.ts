// Joinable chunk bodies (format.ts ChunkFlags.joinable) and the joined reader (recording/joined.ts):
// the recorder writes them, any reader still reads each body alone, and a reader that inflates a
// run of them as one stream gets exactly what reading each alone gives — on honest files and on
// files that pass their checksums but lie (bad deflate, a batch shorter or longer than its layout,
// a final block inside a body, a body that is not joinable in the middle).
import { describe, expect, it } from 'vitest';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Recorder, joinableDeflateRaw } from './recorder.ts';
import { nodeInflate } from './file-source.ts';
import { RecordingReader, memorySource, type ChunkRows } from '../../src/trace/recording/reader.ts';
import { handRecording } from './test-recordings.ts';
import { CHUNK_HEADER_BYTES, ChunkFlags, JOINABLE_TAIL, parseChunkHeader } from '../../src/trace/recording/format.ts';
import type { InflateStream, JoinedInflate } from '../../src/trace/recording/joined.ts';
import { decompressionStream, hostAfter } from '../../src/app/inflate-stream.ts';
import { TraceStore } from '../../src/trace/store.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { makeSimulation } from '../sources/sim.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROWS_PER_CHUNK = 500;

function simStore(count: number): TraceStore {
  const { simulation } = makeSimulation('hardlink-alias-race', 5, new Map());
  const events: TraceEvent[] = [];
  simulation.runEvents(count, (ev) => events.push(ev));
  const s = new TraceStore();
  s.appendAll(events);
  return s;
}
const store = simStore(6_000); // 12 chunks

/** A file of `store` in chunks of ROWS_PER_CHUNK, whose deflate may do something else to data chunk k's body. */
const encode = (deflate: (b: Uint8Array) => Uint8Array, joinable: boolean, bodyFor?: (k: number, batch: Uint8Array) => Uint8Array): Uint8Array =>
  handRecording(store, { rowsPerChunk: ROWS_PER_CHUNK, deflate, joinable, ...(bodyFor ? { bodyFor } : {}) });
const joinable = (b: Uint8Array): Uint8Array => joinableDeflateRaw(b, 6);

interface Read { rows: string[]; bad: number[]; opens: number; alone: number }

/** Every chunk through chunksInOrder: with `joined`, through DecompressionStream runs; counts streams and bodies inflated alone. */
async function readAll(bytes: Uint8Array, joined: boolean): Promise<Read> {
  let opens = 0;
  let alone = 0;
  const j: JoinedInflate = {
    open: (): InflateStream => {
      opens++;
      return decompressionStream();
    },
    after: hostAfter,
  };
  const reader = await RecordingReader.open(memorySource(bytes), nodeInflate, 'test.fscope', (b, max) => {
    alone++;
    return nodeInflate(b, max);
  }, joined ? j : null);
  const rows: string[] = [];
  for await (const { chunk } of reader.chunksInOrder(4)) if (chunk) rows.push(...rowsText(chunk, reader));
  return { rows, bad: [...reader.badChunks.keys()], opens, alone };
}

function rowsText(c: ChunkRows, reader: RecordingReader): string[] {
  const s = reader.newStore();
  s.appendColumns(c.rowCount, c.kinds, c.tsNs, c.columns);
  return Array.from({ length: s.length }, (_, i) => JSON.stringify(s.get(i), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
}

const expectedRows = Array.from({ length: store.length }, (_, i) => JSON.stringify(store.get(i), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
const chunkRows = (k: number): string[] => expectedRows.slice(k * ROWS_PER_CHUNK, (k + 1) * ROWS_PER_CHUNK);
const without = (k: number): string[] => [...expectedRows.slice(0, k * ROWS_PER_CHUNK), ...expectedRows.slice((k + 1) * ROWS_PER_CHUNK)];

describe('joinable chunk bodies', () => {
  it('the recorder writes them: every data chunk flagged, every body ending in the tail and inflating alone', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'fusescope-joined-')), 'r.fscope');
    const rec = new Recorder(path, { maxRowsPerChunk: ROWS_PER_CHUNK, meta: { source: 'test' } });
    rec.appendRows(store);
    rec.close();
    const bytes = new Uint8Array(readFileSync(path));
    // The first chunk: after the 40-byte fixed header and the meta, padded to 8.
    let at = 40 + ((new DataView(bytes.buffer).getUint32(32, true) + 7) & ~7);
    let data = 0;
    while (at < bytes.byteLength - 32) {
      const h = parseChunkHeader(bytes.subarray(at), at)!;
      expect(h).not.toBeNull();
      const body = bytes.subarray(at + CHUNK_HEADER_BYTES + h.stringsBytes, at + CHUNK_HEADER_BYTES + h.stringsBytes + h.bodyBytes);
      if (h.type === 1) {
        data++;
        expect(h.flags & ChunkFlags.joinable).toBe(ChunkFlags.joinable);
        expect([...body.subarray(-6)]).toEqual([...JOINABLE_TAIL]);
        expect(inflateRawSync(body).byteLength).toBeGreaterThan(0);
      }
      at += CHUNK_HEADER_BYTES + h.stringsBytes + h.bodyBytes;
    }
    expect(data).toBe(Math.ceil(store.length / ROWS_PER_CHUNK));
  });

  it('an honest file: one stream for every body, the rows those of reading each alone', async () => {
    const bytes = encode(joinable, true);
    const alone = await readAll(bytes, false);
    const joined = await readAll(bytes, true);
    expect(alone.rows).toEqual(expectedRows);
    expect(joined.rows).toEqual(expectedRows);
    expect(joined.opens).toBe(1);
    expect(joined.alone).toBe(0);
    expect(alone.alone).toBe(12);
  });

  it('a file of ordinary deflate (not flagged) is read body by body, as before', async () => {
    const bytes = encode((b) => deflateRawSync(b), true);
    const joined = await readAll(bytes, true);
    expect(joined.rows).toEqual(expectedRows);
    expect(joined.opens).toBe(0);
    expect(joined.alone).toBe(12);
  });

  it('the flag without the `joinable` option is never set, even for bodies that end in the tail', async () => {
    const bytes = encode(joinable, false);
    const joined = await readAll(bytes, true);
    expect(joined.opens).toBe(0);
    expect(joined.rows).toEqual(expectedRows);
  });

  it('bad deflate in body 5 (checksums fine): chunk 5 is bad as alone, every other chunk is read', async () => {
    const bytes = encode(joinable, true, (k, b) => (k === 5 ? new Uint8Array([0xff, 0xff, 0xff, 0xff, ...JOINABLE_TAIL]) : joinable(b)));
    const alone = await readAll(bytes, false);
    const joined = await readAll(bytes, true);
    expect(alone.bad).toEqual([5]);
    expect(joined.bad).toEqual([5]);
    expect(joined.rows).toEqual(without(5));
    expect(joined.opens).toBe(2); // the failed run, then a new one after it
  });

  it('body 3 shorter than its batch layout says: chunk 3 bad as alone, chunk 4 (whose bytes it would take) read right', async () => {
    const bytes = encode(joinable, true, (k, b) => joinable(k === 3 ? b.subarray(0, b.byteLength - 16) : b));
    const alone = await readAll(bytes, false);
    const joined = await readAll(bytes, true);
    expect(alone.bad).toEqual([3]);
    expect(joined.bad).toEqual([3]);
    expect(joined.rows).toEqual(without(3));
    expect(joined.rows.slice(3 * ROWS_PER_CHUNK, 4 * ROWS_PER_CHUNK)).toEqual(chunkRows(4));
  });

  it('body 7 longer than its batch (8 bytes after it): kept as alone keeps it, chunk 8 read right', async () => {
    const longer = (b: Uint8Array): Uint8Array => {
      const out = new Uint8Array(b.byteLength + 8).fill(0xab);
      out.set(b);
      return out;
    };
    const bytes = encode(joinable, true, (k, b) => joinable(k === 7 ? longer(b) : b));
    const alone = await readAll(bytes, false);
    const joined = await readAll(bytes, true);
    expect(alone.bad).toEqual([]);
    expect(joined.bad).toEqual([]);
    expect(joined.rows).toEqual(expectedRows);
  });

  it('the last body longer than its batch: kept (output after the last body is read alone)', async () => {
    const longer = (b: Uint8Array): Uint8Array => {
      const out = new Uint8Array(b.byteLength + 24);
      out.set(b);
      return out;
    };
    const bytes = encode(joinable, true, (k, b) => joinable(k === 11 ? longer(b) : b));
    const joined = await readAll(bytes, true);
    expect(joined.bad).toEqual([]);
    expect(joined.rows).toEqual(expectedRows);
  });

  it('a final block inside flagged body 2 (junk after it in the stream): every chunk read as alone reads it', async () => {
    // Ordinary deflate (its last block final) with the tail after it: flagged, but not joinable.
    const bytes = encode(joinable, true, (k, b) => {
      if (k !== 2) return joinable(b);
      const d = deflateRawSync(b);
      const out = new Uint8Array(d.byteLength + JOINABLE_TAIL.byteLength);
      out.set(d);
      out.set(JOINABLE_TAIL, d.byteLength);
      return out;
    });
    const alone = await readAll(bytes, false);
    const joined = await readAll(bytes, true);
    expect(joined.bad).toEqual(alone.bad);
    expect(joined.rows).toEqual(alone.rows);
    expect(joined.rows.length).toBeGreaterThanOrEqual(store.length - 2 * ROWS_PER_CHUNK);
  });

  it('an ordinary body in the middle ends the run; the bodies after it start another', async () => {
    const bytes = encode(joinable, true, (k, b) => (k === 6 ? deflateRawSync(b) : joinable(b)));
    const joined = await readAll(bytes, true);
    expect(joined.rows).toEqual(expectedRows);
    expect(joined.opens).toBe(2);
    expect(joined.alone).toBe(1);
  });

  it('a chunk whose checksum fails between joinable ones: skipped, the run goes on', async () => {
    const bytes = encode(joinable, true);
    // Chunk 4's body: one byte changed, checksum not fixed.
    const reader = await RecordingReader.open(memorySource(bytes), nodeInflate);
    const e = reader.chunks[4]!;
    bytes[e.offsetBytes + e.chunkBytes - 10]! ^= 0xff;
    const joined = await readAll(bytes, true);
    expect(joined.bad).toEqual([4]);
    expect(joined.rows).toEqual(without(4));
    expect(joined.opens).toBe(1);
  });

  it('the last chunks failing their checksums: the run still ends and gives out its last body', async () => {
    const bytes = encode(joinable, true);
    const reader = await RecordingReader.open(memorySource(bytes), nodeInflate);
    for (const k of [9, 10, 11]) {
      const e = reader.chunks[k]!;
      bytes[e.offsetBytes + e.chunkBytes - 10]! ^= 0xff;
    }
    const joined = await readAll(bytes, true);
    expect(joined.bad).toEqual([9, 10, 11]);
    expect(joined.rows).toEqual(expectedRows.slice(0, 9 * ROWS_PER_CHUNK));
  });

  it('a caller that stops early leaves nothing pending', async () => {
    const bytes = encode(joinable, true);
    const reader = await RecordingReader.open(memorySource(bytes), nodeInflate, 'x', nodeInflate, { open: decompressionStream, after: hostAfter });
    let seen = 0;
    for await (const { chunk } of reader.chunksInOrder(4)) {
      expect(chunk).not.toBeNull();
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
  });
});
