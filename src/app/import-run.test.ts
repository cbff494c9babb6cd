import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TraceStore } from '../trace/store.ts';
import { applyBatch, decodeBatch } from '../trace/wire.ts';
import { memorySource } from '../trace/recording/index.ts';
import { AliasIndex } from '../trace/derive/aliases.ts';
import { loadFiles } from '../../server/sources/files.ts';
import { Recorder } from '../../server/recorder/recorder.ts';
import { runImport, type NamedSource } from './import-run.ts';
import { blobSource, browserInflate } from './blob-source.ts';
import { decodeWorkerMessage, type WorkerMessage } from './import-protocol.ts';

const FIXTURE = 'fixtures/real/fuse2fs-hardlink';

function named(name: string, bytes: Uint8Array): NamedSource {
  return { name, ...memorySource(bytes) };
}

/** Runs the worker's job and applies its messages as the page does. */
async function run(sources: NamedSource[]): Promise<{ store: TraceStore; msgs: WorkerMessage[] }> {
  const msgs: WorkerMessage[] = [];
  let store = new TraceStore();
  await runImport(sources, {
    id: 7,
    inflate: browserInflate,
    post: (m) => {
      const cloned = decodeWorkerMessage(structuredClone(m));
      if (!cloned) throw new Error(`malformed ${JSON.stringify(m)}`);
      msgs.push(cloned);
      if (cloned.type === 'start') store = new TraceStore(BigInt(cloned.originNs));
      if (cloned.type === 'batch') applyBatch(store, decodeBatch(new Uint8Array(cloned.frame)));
    },
  });
  return { store, msgs };
}

describe('import worker job (runImport)', () => {
  it('joins a kernel trace with its fuse2fs -d log as the CLI does: same events, the alias group, no diagnostics', async () => {
    const files = ['trace.txt', 'fuse2fs-d.log'];
    const { store, msgs } = await run(files.map((f) => named(f, new Uint8Array(readFileSync(join(FIXTURE, f))))));
    const cli = await loadFiles(files.map((f) => join(FIXTURE, f)));
    expect(store.length).toBe(cli.store.length);
    expect(store.originNs).toBe(cli.store.originNs);
    for (let row = 0; row < store.length; row += 97) expect(store.get(row)).toEqual(cli.store.get(row));
    const aliases = new AliasIndex();
    aliases.update(store);
    expect(aliases.groups()).toEqual([expect.objectContaining({ nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'] })]);
    const done = msgs.at(-1)!;
    expect(done).toMatchObject({ type: 'done', events: store.length, diagCount: 0, diags: [] });
    const progress = msgs.filter((m) => m.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ phase: 'done' });
    const total = files.reduce((n, f) => n + readFileSync(join(FIXTURE, f)).byteLength, 0);
    expect(progress.at(-1)).toMatchObject({ doneBytes: total, totalBytes: total });
  });

  it('reports garbage lines as file:line diagnostics and imports the good ones', async () => {
    const good = readFileSync(join(FIXTURE, 'trace.txt'), 'utf8');
    const lines = good.split('\n');
    lines.splice(40, 0, 'this line is garbage %%%', '\u0000\u0001 binary junk');
    const { store, msgs } = await run([named('bad.txt', new TextEncoder().encode(lines.join('\n')))]);
    const done = msgs.at(-1)!;
    if (done.type !== 'done') throw new Error(JSON.stringify(done));
    expect(done.diagCount).toBe(2);
    expect(done.diags[0]).toMatch(/^bad\.txt:41(:\d+)?: /);
    expect(done.diags[1]).toMatch(/^bad\.txt:42(:\d+)?: /);
    expect(store.length).toBeGreaterThan(100);
  });

  it('gives the same trace when read in tiny slices (lines and UTF-8 characters cut across reads)', async () => {
    const text = new TextEncoder().encode(readFileSync(join(FIXTURE, 'fuse2fs-d.log'), 'utf8').replace('unique: 2,', 'unique: 2, ünïcødé'));
    const whole = await run([named('fuse2fs-d.log', text)]);
    const msgs: WorkerMessage[] = [];
    const sliced = new TraceStore();
    await runImport([named('fuse2fs-d.log', text)], {
      id: 1, inflate: browserInflate, readChunkBytes: 7,
      post: (m) => { msgs.push(m); if (m.type === 'batch') applyBatch(sliced, decodeBatch(new Uint8Array(m.frame))); },
    });
    expect(whole.store.length).toBeGreaterThan(100);
    expect(sliced.length).toBe(whole.store.length);
    for (let row = 0; row < sliced.length; row++) expect(sliced.get(row)).toEqual(whole.store.get(row));
    expect(msgs.at(-1)).toMatchObject({ type: 'done', diagCount: whole.msgs.at(-1)!.type === 'done' ? (whole.msgs.at(-1) as { diagCount: number }).diagCount : -1 });
  });

  it('opens a .fscope recording (by magic, whatever its name) through the browser byte source and inflate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-rec-'));
    const path = join(dir, 'r.fscope');
    const rec = new Recorder(path, { meta: { scenario: 'test' }, maxRowsPerChunk: 1000 });
    const events = Array.from({ length: 5000 }, (_, i) => ({ kind: 'instant' as const, tsNs: i * 10, task: `t/${i % 3}`, name: `n${i % 7}`, text: '' }));
    rec.appendEvents(events);
    rec.close();
    const bytes = new Uint8Array(readFileSync(path));
    const { store, msgs } = await run([blobSource('renamed.bin', new Blob([bytes]))]);
    expect(store.length).toBe(5000);
    expect(store.get(4999)).toEqual(events[4999]);
    expect(msgs.find((m) => m.type === 'start')).toMatchObject({ kind: 'recording', meta: { scenario: 'test' } });
    expect(msgs.at(-1)).toMatchObject({ type: 'done', events: 5000, diagCount: 0, damage: '' });
    // Cut short: everything before the cut opens, the damage is reported.
    const cut = await run([named('cut.fscope', bytes.subarray(0, Math.floor(bytes.byteLength * 0.6)))]);
    expect(cut.store.length).toBeGreaterThan(0);
    expect(cut.store.length).toBeLessThan(5000);
    expect(cut.msgs.at(-1)).toMatchObject({ type: 'done', damage: expect.stringMatching(/truncated|trailer/) });
  });

  it('answers an error, not an exception, when nothing is recognised', async () => {
    const { msgs } = await run([named('x.bin', new TextEncoder().encode('hello\nworld\n'))]);
    expect(msgs.at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('nothing to import') });
  });
});
