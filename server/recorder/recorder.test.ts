import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recorder } from './recorder.ts';
import { nodeInflate, openRecordingFile } from './file-source.ts';
import { RecordingReader, memorySource } from '../../src/trace/recording/reader.ts';
import { CHUNK_HEADER_BYTES, FILE_HEADER_FIXED_BYTES, RecordingError, TRAILER_BYTES } from '../../src/trace/recording/format.ts';
import { crc32 } from '../../src/trace/recording/crc32.ts';
import { TraceStore } from '../../src/trace/store.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { makeSimulation } from '../sources/sim.ts';
import { crc32 as zlibCrc32 } from 'node:zlib';

const dir = mkdtempSync(join(tmpdir(), 'fusescope-rec-'));
let n = 0;
const tmp = (name: string): string => join(dir, `${n++}-${name}`);

function simEvents(count: number, scenario = 'hardlink-alias-race'): TraceEvent[] {
  const { simulation } = makeSimulation(scenario, 3, new Map());
  const out: TraceEvent[] = [];
  simulation.runEvents(count, (ev) => out.push(ev));
  return out;
}
function storeOf(events: TraceEvent[]): TraceStore {
  const s = new TraceStore();
  s.appendAll(events);
  return s;
}
const rowsOf = (s: TraceStore): TraceEvent[] => Array.from({ length: s.length }, (_, i) => s.get(i));

function record(path: string, events: TraceEvent[], opts: ConstructorParameters<typeof Recorder>[1] = {}): Recorder {
  const rec = new Recorder(path, { maxRowsPerChunk: 1000, indexEveryChunks: 4, meta: { source: 'test' }, ...opts });
  // Feed half as events and half as store rows (different string table → exercises remapping).
  const half = events.length >> 1;
  rec.appendEvents(events.slice(0, half));
  rec.appendRows(storeOf(events.slice(half)));
  return rec;
}

const events = simEvents(12_345);

describe('crc32', () => {
  it('matches zlib', () => {
    const bytes = new Uint8Array(1000).map((_, i) => (i * 31) ^ (i >> 3));
    for (const len of [0, 1, 3, 4, 5, 17, 1000]) expect(crc32(bytes.subarray(0, len))).toBe(zlibCrc32(bytes.subarray(0, len)));
    expect(crc32(bytes.subarray(500), crc32(bytes.subarray(0, 500)))).toBe(zlibCrc32(bytes));
  });
});

describe('.fscope recording', () => {
  it('round-trips sim events through recorder and reader (indexed path)', async () => {
    const path = tmp('rt.fscope');
    record(path, events).close();
    const { reader, close } = await openRecordingFile(path);
    expect(reader.indexed).toBe(true);
    expect(reader.damage).toBeNull();
    expect(reader.header.meta.source).toBe('test');
    expect(reader.totalRows).toBe(events.length);
    expect(reader.chunks.length).toBe(Math.ceil(events.length / 1000));
    // Open touched no data chunk body.
    expect(reader.stats.bodyReads).toBe(0);
    const store = await reader.readAll();
    expect(rowsOf(store)).toEqual(events);
    await close();
  });

  it('stored (uncompressed) chunks round-trip too', async () => {
    const path = tmp('stored.fscope');
    record(path, events.slice(0, 3000), { compressionLevel: 0 }).close();
    const { reader, close } = await openRecordingFile(path);
    expect(rowsOf(await reader.readAll())).toEqual(events.slice(0, 3000));
    await close();
  });

  it('seeks by time reading only the chunks it needs', async () => {
    const path = tmp('seek.fscope');
    record(path, events).close();
    const { reader, close } = await openRecordingFile(path);
    const all = storeOf(events);
    const fromNs = all.tsNs[7_400]!;
    const toNs = all.tsNs[7_900]!;
    const { store, firstRow } = await reader.readRange(fromNs, toNs);
    const lo = all.lowerBound(fromNs);
    const hi = all.upperBound(toNs);
    expect(firstRow).toBe(lo);
    expect(rowsOf(store)).toEqual(events.slice(lo, hi));
    // Rows 7400..7900 live in chunk 7 (1000 rows per chunk), plus maybe a neighbour at a tie.
    expect(reader.stats.bodyReads).toBeLessThanOrEqual(2);
    expect(reader.stats.stringReads).toBeLessThanOrEqual(reader.chunks.filter((c) => c.newStringCount > 0).length);
    await close();
  });

  it('a writer killed mid-file leaves a file that opens with every chunk it flushed', async () => {
    const path = tmp('killed.fscope');
    const rec = record(path, events);
    rec.flush();
    const flushedRows = rec.rowsWritten;
    rec.abandon(); // no final index, no trailer
    const { reader, close } = await openRecordingFile(path);
    expect(reader.indexed).toBe(false);
    expect(reader.damage?.reason).toMatch(/without a trailer/);
    const store = await reader.readAll();
    expect(store.length).toBe(flushedRows);
    expect(rowsOf(store)).toEqual(events.slice(0, flushedRows));
    await close();
  });

  it('flushes at least once per flushIntervalMs even without further rows', async () => {
    let nowMs = 0;
    const path = tmp('timer.fscope');
    const rec = new Recorder(path, { now: () => nowMs, flushIntervalMs: 1000 });
    rec.appendEvents(events.slice(0, 10));
    expect(rec.rowsWritten).toBe(0);
    nowMs = 1000;
    rec.maybeFlush();
    expect(rec.rowsWritten).toBe(10);
    rec.abandon();
  });

  it('opens truncated files up to the last whole chunk and names the damage offset', async () => {
    const path = tmp('trunc.fscope');
    record(path, events.slice(0, 6000), { maxRowsPerChunk: 500 }).close();
    const bytes = new Uint8Array(readFileSync(path));
    const clean = await RecordingReader.open(memorySource(bytes), nodeInflate);
    const chunks = clean.chunks;
    const headerBytes = clean.header.headerBytes;
    const all = events.slice(0, 6000);
    // Every cut inside the file: 97 evenly spread, plus each chunk boundary ± 1.
    const cuts = new Set<number>();
    for (let i = 1; i < 97; i++) cuts.add(Math.floor((bytes.length * i) / 97));
    for (const c of chunks) for (const d of [-1, 0, 1, CHUNK_HEADER_BYTES]) cuts.add(c.offsetBytes + d);
    for (const cut of [...cuts].filter((c) => c > 0 && c < bytes.length)) {
      const trunc = bytes.subarray(0, cut);
      if (cut < headerBytes) {
        await expect(RecordingReader.open(memorySource(trunc), nodeInflate)).rejects.toThrow(RecordingError);
        continue;
      }
      const r = await RecordingReader.open(memorySource(trunc), nodeInflate);
      const whole = chunks.filter((c) => c.offsetBytes + c.chunkBytes <= cut);
      const rows = whole.reduce((s, c) => s + c.rowCount, 0);
      const store = await r.readAll();
      expect(store.length, `cut at ${cut}`).toBe(rows);
      expect(rowsOf(store)).toEqual(all.slice(0, rows));
      expect(r.damage, `cut at ${cut}`).not.toBeNull();
      // The damage is reported at the start of the first incomplete chunk (or at EOF).
      const broken = chunks.find((c) => c.offsetBytes + c.chunkBytes > cut);
      if (broken && broken.offsetBytes < cut) expect(r.damage!.offsetBytes).toBe(broken.offsetBytes);
      expect(r.damage!.offsetBytes).toBeLessThanOrEqual(cut);
    }
  });

  it('opens files with flipped bytes up to the last good chunk and names the damage offset', async () => {
    const path = tmp('flip.fscope');
    record(path, events.slice(0, 6000), { maxRowsPerChunk: 500 }).close();
    const bytes = new Uint8Array(readFileSync(path));
    const clean = await RecordingReader.open(memorySource(bytes), nodeInflate);
    const chunks = clean.chunks;
    const all = events.slice(0, 6000);
    const offsets: number[] = [];
    for (let i = 0; i < 150; i++) offsets.push(Math.floor((bytes.length * i) / 150) + (i % 7));
    offsets.push(bytes.length - 1, bytes.length - TRAILER_BYTES, 8, 9);
    for (const at of offsets.filter((o) => o < bytes.length)) {
      const bad = bytes.slice();
      bad[at]! ^= 0x5a;
      if (at < clean.header.headerBytes) {
        await expect(RecordingReader.open(memorySource(bad), nodeInflate), `flip at ${at}`).rejects.toThrow(RecordingError);
        continue;
      }
      const r = await RecordingReader.open(memorySource(bad), nodeInflate);
      const store = await r.readAll();
      expect(r.damage, `flip at ${at}`).not.toBeNull();
      expect(r.damage!.offsetBytes).toBeLessThanOrEqual(at);
      // Every row kept is the true row of a chunk that was kept (a bad chunk is skipped, not shown wrong)…
      const kept = r.chunks.filter((_, k) => !r.badChunks.has(k)).flatMap((c) => all.slice(c.firstRow, c.firstRow + c.rowCount));
      expect(rowsOf(store), `flip at ${at}`).toEqual(kept);
      // …including every data chunk that ends before the damaged byte.
      const before = chunks.filter((c) => c.offsetBytes + c.chunkBytes <= at).reduce((s, c) => s + c.rowCount, 0);
      expect(store.length, `flip at ${at}`).toBeGreaterThanOrEqual(before);
      const hit = chunks.find((c) => c.offsetBytes <= at && at < c.offsetBytes + c.chunkBytes);
      if (hit) {
        expect(r.damage!.offsetBytes).toBe(hit.offsetBytes);
        // Found through the index and not in a strings part: every other chunk is salvaged (the old
        // reader stopped at the bad chunk and dropped all after it).
        const inStrings = at >= hit.offsetBytes + CHUNK_HEADER_BYTES && at < hit.offsetBytes + CHUNK_HEADER_BYTES + hit.stringsBytes;
        if (r.indexed && !inStrings) expect(store.length, `flip at ${at}`).toBe(all.length - hit.rowCount);
      }
    }
  });

  it('refuses a newer format version with a clear message', async () => {
    const path = tmp('v2.fscope');
    record(path, events.slice(0, 100)).close();
    const bytes = new Uint8Array(readFileSync(path));
    new DataView(bytes.buffer).setUint16(8, 3, true);
    const p2 = tmp('v3b.fscope');
    writeFileSync(p2, bytes);
    await expect(openRecordingFile(p2)).rejects.toThrow(/format version 3 is newer than this fusescope reads \(up to 2\)/);
    expect(FILE_HEADER_FIXED_BYTES).toBe(40);
  });

  it('rejects a file that is not a recording', async () => {
    await expect(RecordingReader.open(memorySource(new TextEncoder().encode('{"format":"fusescope-ndjson"}\n'.repeat(3))), nodeInflate))
      .rejects.toThrow(/not a fusescope recording/);
  });
});
