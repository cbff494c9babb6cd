// The page's Export (export-run.ts): each format's bytes are what the CLI's writers make of the same
// store, and the .fscope and Chrome JSON exports open again (through the page's import job) with
// every event, as the file names say what was shown.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { TraceStore } from '../trace/store.ts';
import { applyBatch, decodeBatch } from '../trace/wire.ts';
import { memorySource } from '../trace/recording/index.ts';
import { loadFiles } from '../../server/sources/files.ts';
import { runImport } from './import-run.ts';
import { browserInflate } from './blob-source.ts';
import { exportFileName, exportStore, snapshotStore } from './export-run.ts';

const FIXTURE = 'fixtures/real/fuse2fs-hardlink';

/** Opens bytes as the page's import worker does; the rows the page would get. */
async function reopen(name: string, bytes: Uint8Array): Promise<TraceStore> {
  let store = new TraceStore();
  await runImport([{ name, ...memorySource(bytes) }], {
    id: 1, inflate: browserInflate,
    post: (m) => {
      if (m.type === 'start') store = new TraceStore(BigInt(m.originNs));
      if (m.type === 'batch') {
        for (const s of m.strings ?? []) store.strings.intern(s); // a recording's chunk: its new strings beside it
        applyBatch(store, decodeBatch(new Uint8Array(m.frame)));
      }
      if (m.type === 'error') throw new Error(m.message);
    },
  });
  return store;
}

const bytesOf = async (b: Blob | null): Promise<Uint8Array> => new Uint8Array(await b!.arrayBuffer());

describe('page export', () => {
  it('names the file after what is shown', () => {
    expect(exportFileName({ kind: 'file', name: 'trace.txt + fuse2fs-d.log' }, 'chrome-json')).toBe('trace+1.json');
    expect(exportFileName({ kind: 'file', name: 'ext4-dio.txt' }, 'arrow')).toBe('ext4-dio.arrow');
    expect(exportFileName({ kind: 'file', name: 'sim-20000.fscope' }, 'fscope')).toBe('sim-20000-export.fscope');
    expect(exportFileName({ kind: 'file', name: 'sim-20000.fscope' }, 'perfetto')).toBe('sim-20000.pftrace');
    expect(exportFileName({ kind: 'live', name: 'hardlink-alias-race' }, 'fscope')).toBe('live-hardlink-alias-race.fscope');
    expect(exportFileName({ kind: 'file', name: 'my trace?.txt' }, 'fscope')).toBe('my_trace_.fscope');
  });

  it('the .fscope and Chrome JSON of an imported trace open again with every event, at the same times and origin', async () => {
    const { store } = await loadFiles(['trace.txt', 'fuse2fs-d.log'].map((f) => join(FIXTURE, f)));
    expect(store.length).toBeGreaterThan(1033); // trace.expected.json: 1033 event lines, and the -d log's
    for (const [format, name] of [['fscope', 'x.fscope'], ['chrome-json', 'x.json']] as const) {
      const back = await reopen(name, await bytesOf(await exportStore(store, format, { source: 'test' })));
      expect([format, back.length, back.originNs]).toEqual([format, store.length, store.originNs]);
      expect(Array.from(back.tsNs.subarray(0, back.length))).toEqual(Array.from(store.tsNs.subarray(0, store.length)));
      expect(back.get(500)).toEqual(store.get(500));
    }
  });

  it('the Chrome JSON is the CLI\'s bytes; the Arrow file has a row per event; the Perfetto trace starts with a packet', async () => {
    const { store } = await loadFiles([join(FIXTURE, 'trace.txt')]);
    const { toChromeTrace, chromeTraceJsonChunks } = await import('../trace/export/chrome-json.ts');
    const json = new TextDecoder().decode(await bytesOf(await exportStore(store, 'chrome-json', { source: 's' })));
    expect(json).toBe([...chromeTraceJsonChunks(toChromeTrace(store, 's'))].join(''));
    const arrow = tableFromIPC(await bytesOf(await exportStore(store, 'arrow', { source: 's' })));
    expect(arrow.numRows).toBe(store.length);
    const pf = await bytesOf(await exportStore(store, 'perfetto', { source: 's' }));
    expect(pf[0]).toBe((1 << 3) | 2); // Trace.packet = 1, length-delimited
  });

  it('a snapshot keeps the rows asked for while the store grows; cancelling stops the export', async () => {
    const { store } = await loadFiles([join(FIXTURE, 'trace.txt')]);
    const snap = snapshotStore(store);
    expect(snap.length).toBe(store.length);
    expect(snap.get(10)).toEqual(store.get(10));
    let t = 0;
    const cancelled = await exportStore(store, 'chrome-json', { source: 's', nowMs: () => (t += 100), isCancelled: () => true });
    expect(cancelled).toBeNull();
  });
});
