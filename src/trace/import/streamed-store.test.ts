// On the real fixtures, a file imported alone (rows streamed into the store, lock attribution run on
// the store's rows) gives the store the held path builds (every event held in a list, the passes
// on the list) row for row, with the same attributions and diagnostics. The held path is the reference.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { decompress as zstd } from 'fzstd';
import { memorySource } from '../recording/reader.ts';
import { ImportPipeline, type ImportOutcome } from './pipeline.ts';
import { importTraceDat } from './tracedat/index.ts';
import type { TraceStore } from '../store.ts';

const codecs = { inflate: (b: Uint8Array): Uint8Array => inflateRawSync(b), zstd: (b: Uint8Array): Uint8Array => zstd(b) };
const read = (p: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url)));

function rows(store: TraceStore): unknown[] {
  return Array.from({ length: store.length }, (_, row) => store.get(row));
}

async function dat(p: string, files: number | undefined): Promise<ImportOutcome> {
  const pipe = new ImportPipeline(files === undefined ? {} : { files });
  await importTraceDat(pipe, p, memorySource(read(p)), codecs);
  return pipe.finish();
}

function text(p: string, files: number | undefined): ImportOutcome {
  const pipe = new ImportPipeline(files === undefined ? {} : { files });
  const feed = pipe.open(p);
  const bytes = read(p);
  for (let at = 0; at < bytes.length; at += 4096) feed.push(bytes.subarray(at, at + 4096));
  feed.end();
  return pipe.finish();
}

function same(streamed: ImportOutcome, held: ImportOutcome): void {
  expect(held.result.store).toBeNull();
  expect(rows(streamed.toStore())).toEqual(rows(held.toStore()));
  expect(streamed.toStore().originNs).toBe(held.toStore().originNs);
  expect(streamed.result.attributions).toEqual(held.result.attributions);
  expect(streamed.diagCount).toBe(held.diagCount);
  expect(streamed.result.files.map((f) => f.eventCount)).toEqual(held.result.files.map((f) => f.eventCount));
}

describe('streamed store = held store, on real captures', () => {
  for (const p of ['trace-dat/ext4-dio.v6.dat', 'trace-dat/ext4-dio.v7-none.dat', 'trace-dat/fuse2fs-hardlink.v7-zstd.dat', 'trace-dat/options.v6.dat', 'trace-dat/options.v7-zstd.dat']) {
    it(p, async () => same(await dat(p, 1), await dat(p, undefined)));
  }
  for (const p of ['real/kernel-fs/ext4-dio.txt', 'real/kernel-fs/ext4-mixed.trace.txt', 'real/kernel-fs/xfs-buffered.txt', 'real/kernel-fs/xfs-contend.trace.txt',
    'real/kernel-fs/xfs-contend.report.txt', 'real/fuse2fs-hardlink/trace.txt', 'real/fuse2fs-hardlink-ino/trace.txt', 'ftrace/series-run-v7.txt']) {
    it(p, () => same(text(p, 1), text(p, undefined)));
  }

  it('the ext4 dd capture (lock contentions, iomap_iter instants naming an ino) stays streamed, its locks attributed', async () => {
    const o = await dat('trace-dat/ext4-dio.v6.dat', 1);
    expect(o.result.store).not.toBeNull();
    expect(o.result.attributions.length).toBeGreaterThan(0);
    const kinds = rows(o.toStore()).map((r) => (r as { kind: string }).kind);
    expect(kinds.filter((k) => k === 'lock_wait').length).toBe(kinds.filter((k) => k === 'lock_contention').length / 2);
  });
});
