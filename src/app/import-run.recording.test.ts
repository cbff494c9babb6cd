// The import worker's messages for a .fscope recording (import-run.ts openRecording), applied as
// the page applies them, against the rows `fusescope`'s own reader reads chunk by chunk
// (RecordingReader.readChunkOrSkip with node's zlib): the real fixtures, including the ones that lie.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { TraceStore } from '../trace/store.ts';
import { RecordingReader, memorySource } from '../trace/recording/index.ts';
import { Recorder } from '../../server/recorder/recorder.ts';
import { typed } from '../trace/testing/events.ts';
import { blobSource, browserInflate } from './blob-source.ts';
import { runImportAsPage } from './testing-import.ts';
import { FramePool } from './frame-pool.ts';
import { fflateInflate } from './fflate-inflate.ts';

const FIXTURES = new URL('../../fixtures/recordings/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

/** A Blob that counts how it is read (slices, whole reads). */
function countingBlob(bytes: Uint8Array): { blob: Blob; reads: { slices: number; whole: number } } {
  const real = new Blob([bytes as Uint8Array<ArrayBuffer>]);
  const reads = { slices: 0, whole: 0 };
  const blob = {
    size: real.size,
    slice: (...a: Parameters<Blob['slice']>) => { reads.slices++; return real.slice(...a); },
    arrayBuffer: () => { reads.whole++; return real.arrayBuffer(); },
  } as unknown as Blob;
  return { blob, reads };
}

/** Runs the worker's job on `bytes` and applies its messages as the page does (structured clone, strings, then the frame). */
async function open(name: string, bytes: Uint8Array, more: Parameters<typeof runImportAsPage>[1] = {}) {
  const { blob, reads } = countingBlob(bytes);
  const { store, msgs } = await runImportAsPage([blobSource(name, blob)], { id: 3, ...more });
  return { store, msgs, reads, batches: msgs.filter((m) => m.type === 'batch'), done: msgs.at(-1)! };
}

/**
 * The reference: `fusescope`'s reader, one chunk at a time, bad chunks skipped; with the page's
 * inflate (an inflate bomb's message names the inflater that stopped it).
 */
async function reference(name: string, bytes: Uint8Array) {
  const reader = await RecordingReader.open(memorySource(bytes), browserInflate, name);
  const store = reader.newStore();
  const good: number[] = [];
  for (let k = 0; k < reader.chunks.length; k++) {
    const c = await reader.readChunkOrSkip(k);
    if (!c) continue;
    store.appendColumns(c.rowCount, c.kinds, c.tsNs, c.columns);
    good.push(k);
  }
  return { reader, store, good };
}

const rows = (s: TraceStore): unknown[] => Array.from({ length: s.length }, (_, i) => s.get(i));

/** Chunk k's body part as stored, inflated by node's zlib: the wire batch the page must receive as it is. */
function storedBody(bytes: Uint8Array, reader: RecordingReader, k: number): Uint8Array {
  const e = reader.chunks[k]!;
  const at = e.offsetBytes + 72 + e.stringsBytes;
  return new Uint8Array(inflateRawSync(bytes.subarray(at, e.offsetBytes + e.chunkBytes)));
}

/** A recording of `n` rows, `perChunk` rows a chunk, with a new string every 7 rows (strings in every chunk). */
function written(n: number, perChunk: number): Uint8Array {
  const path = join(mkdtempSync(join(tmpdir(), 'fusescope-load-')), 'r.fscope');
  const rec = new Recorder(path, { meta: { scenario: 'load' }, maxRowsPerChunk: perChunk });
  rec.appendEvents(typed(Array.from({ length: n }, (_, i) => ({ kind: 'instant' as const, tsNs: i * 10, task: `t/${i % 3}`, name: `n${Math.floor(i / 7)}`, text: '' }))));
  rec.close();
  return new Uint8Array(readFileSync(path));
}

describe('import worker: a recording', () => {
  it('reads the file once, and sends each chunk body as stored, in file order, with only the strings the page lacks', async () => {
    const bytes = written(3000, 100); // 30 chunks: more than the 8 inflating at once
    const got = await open('r.fscope', bytes);
    const ref = await reference('r.fscope', bytes);
    // One 8-byte slice to see the magic, then the whole file once (not a read per chunk).
    expect(got.reads).toEqual({ slices: 1, whole: 1 });
    expect(ref.good).toHaveLength(30);
    expect(got.batches).toHaveLength(30);
    got.batches.forEach((b, k) => {
      if (b.type !== 'batch') throw new Error('not a batch');
      // The body as the recorder stored it (no strings in it: they come beside it), byte for byte.
      expect(new Uint8Array(b.frame), `chunk ${k}`).toEqual(storedBody(bytes, ref.reader, k));
    });
    // Strings: each once, in id order (3 tasks, 429 names, and id 0 the empty string, never sent).
    const sent = got.batches.flatMap((b) => (b.type === 'batch' ? b.strings ?? [] : []));
    expect(sent).toEqual(ref.reader.strings.slice(1));
    expect(new Set(sent).size).toBe(3 + Math.ceil(3000 / 7));
    // Every row exactly once, in order, equal to the reader's.
    expect(got.store.length).toBe(3000);
    expect(rows(got.store)).toEqual(rows(ref.store));
    expect(got.done).toMatchObject({ type: 'done', events: 3000, damage: '' });
  });

  it('says rows done and rows in the file while it loads', async () => {
    const got = await open('r.fscope', written(3000, 100));
    const loading = got.msgs.filter((m) => m.type === 'progress' && m.phase !== 'reading');
    expect(loading.length).toBeGreaterThan(0);
    for (const m of loading) expect(m).toMatchObject({ totalRows: 3000 });
    expect(loading.at(-1)).toMatchObject({ phase: 'done', doneRows: 3000 });
  });

  for (const name of ['clean.fscope', 'broken-strings-deflate.fscope', 'invalid-utf8-strings.fscope', 'header-string-count-mismatch.fscope', 'bomb-strings.fscope']) {
    it(`${name}: the rows, strings and damage the reader gives, chunk by chunk`, async () => {
      const bytes = fixture(name);
      const got = await open(name, bytes);
      const ref = await reference(name, bytes);
      expect(rows(got.store)).toEqual(rows(ref.store));
      expect(got.batches).toHaveLength(ref.good.length);
      const damage = ref.reader.damage ? `byte ${ref.reader.damage.offsetBytes}: ${ref.reader.damage.reason}` : '';
      expect(got.done).toMatchObject({ type: 'done', events: ref.store.length, damage });
    });
  }

  it('a flipped byte in a middle chunk: that chunk is skipped, every chunk after it still arrives in order', async () => {
    const bytes = written(3000, 100).slice();
    const ref0 = await reference('r.fscope', bytes);
    const e = ref0.reader.chunks[12]!;
    bytes[e.offsetBytes + e.chunkBytes - 3]! ^= 0xff; // in chunk 12's body: its checksum fails
    const got = await open('r.fscope', bytes);
    const ref = await reference('r.fscope', bytes);
    expect(ref.good).toEqual([...Array(30).keys()].filter((k) => k !== 12));
    expect(got.store.length).toBe(2900);
    expect(rows(got.store)).toEqual(rows(ref.store));
    expect(got.done).toMatchObject({ type: 'done', events: 2900, damage: `byte ${e.offsetBytes}: r.fscope: chunk 12: payload checksum mismatch (at byte ${e.offsetBytes})` });
  });

  describe('with a frame pool (the worker\'s: bodies inflate into buffers the page hands back)', () => {
    it('each body is a pooled buffer\'s first bytes; the page\'s returns are lent again; rows as the reader\'s', async () => {
      const bytes = written(3000, 100);
      const pool = new FramePool();
      const got = await open('r.fscope', bytes, { framePool: pool, inflate: fflateInflate(browserInflate) });
      const ref = await reference('r.fscope', bytes);
      expect(got.batches).toHaveLength(30);
      got.batches.forEach((b, k) => {
        if (b.type !== 'batch') throw new Error('not a batch');
        expect(b.frameBytes, `chunk ${k}`).toBe(storedBody(bytes, ref.reader, k).byteLength);
        expect(new Uint8Array(b.frame), `chunk ${k}`).toEqual(storedBody(bytes, ref.reader, k));
      });
      expect(rows(got.store)).toEqual(rows(ref.store));
      // The page hands each buffer back as it ingests it: no more buffers than chunks inflating at once (8) and one in hand.
      expect(pool.allocated).toBeLessThanOrEqual(9);
      expect(pool.allocated + pool.reused).toBe(30);
    });

    it('a damaged chunk (checksum) and a body that does not decode: skipped, their buffers not lent twice; the kept rows as the reader\'s', async () => {
      const bytes = written(3000, 100).slice();
      const ref0 = await reference('r.fscope', bytes);
      const e = ref0.reader.chunks[12]!;
      bytes[e.offsetBytes + e.chunkBytes - 3]! ^= 0xff;
      const pool = new FramePool();
      const got = await open('r.fscope', bytes, { framePool: pool, inflate: fflateInflate(browserInflate) });
      const ref = await reference('r.fscope', bytes);
      expect(got.store.length).toBe(2900);
      expect(rows(got.store)).toEqual(rows(ref.store));
      expect(pool.allocated + pool.reused).toBe(29); // chunk 12 fails its checksum before any inflate
    });

    it('a cancelled load stops with buffers at the page; once its pool is closed their return keeps nothing', async () => {
      const bytes = written(3000, 100);
      const pool = new FramePool();
      const held: ArrayBuffer[] = [];
      let batches = 0;
      const { runImport } = await import('./import-run.ts');
      await runImport([blobSource('r.fscope', new Blob([bytes as Uint8Array<ArrayBuffer>]))], {
        id: 1, inflate: fflateInflate(browserInflate), framePool: pool,
        isCancelled: () => batches >= 5,
        post: (m) => {
          if (m.type !== 'batch') return;
          batches++;
          held.push(structuredClone(m.frame, { transfer: [m.frame] })); // the page has it, not returned yet
        },
      }).finally(() => pool.close());
      expect(batches).toBe(5);
      for (const f of held) pool.give(f);
      expect(pool.freeCount).toBe(0);
    });
  });
});
