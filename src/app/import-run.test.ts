import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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
import { runImportAsPage } from './testing-import.ts';
import type { WorkerMessage } from './import-protocol.ts';
import { typed } from '../trace/testing/events.ts';

const FIXTURE = 'fixtures/real/fuse2fs-hardlink';

function named(name: string, bytes: Uint8Array): NamedSource {
  return { name, ...memorySource(bytes) };
}

/** Runs the worker's job and applies its messages as the page does. */
const run = (sources: NamedSource[], opts: { alignStarts?: boolean; readChunkBytes?: number } = {}) => runImportAsPage(sources, opts);

describe('import worker job (runImport)', () => {
  it('tells the page what format each file was read as and the line that decided it', async () => {
    const log = 'FUSE library version: 2.9.9\nunique: 2, opcode: LOOKUP (1), nodeid: 1, insize: 46, pid: 7\n';
    const { msgs } = await run([
      named('paste.txt', new Uint8Array(readFileSync('fixtures/paste/mail-quoted.txt'))),
      named('d.log', new TextEncoder().encode(log)),
    ]);
    const start = msgs.find((m) => m.type === 'start');
    expect(start?.type === 'start' && start.meta.formats).toEqual([
      'paste.txt: ftrace: line 8, an event line with the `comm-pid [cpu] time:` prefix',
      "d.log: fuse-log: line 1, libfuse's `FUSE library version` banner",
    ]);
  });

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

  it('imports a dropped trace.dat (a Blob read by offsets) as the CLI does', async () => {
    const file = 'fixtures/trace-dat/fuse2fs-hardlink.v7-zstd.dat';
    const bytes = new Uint8Array(readFileSync(file));
    const { store, msgs } = await run([blobSource('trace.dat', new Blob([bytes]))]);
    const cli = await loadFiles([file]);
    expect(cli.formats.get(file)).toBe('trace-dat');
    // 202 records in the file (its report has 202 event lines); the import adds lock attribution's events.
    expect(store.length).toBe(cli.store.length);
    expect(store.length).toBeGreaterThanOrEqual(202);
    for (let row = 0; row < store.length; row++) expect(store.get(row)).toEqual(cli.store.get(row));
    expect(msgs.at(-1)).toMatchObject({ type: 'done', diagCount: 0 });
    expect(msgs.find((m) => m.type === 'start')).toMatchObject({ meta: { formats: ["trace.dat: trace-dat: line 1, trace-cmd's trace.dat magic at byte 0"] } });
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
    rec.appendEvents(typed(events));
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

  // The page and `fusescope import` run one pipeline (src/trace/import/pipeline.ts): two excerpts
  // of one capture land on one axis in both, row for row. Times from the stamps in the text: the
  // fixture's first event is at 1831.993578 s; line 558 (req 376's end, 1832.019593) starts the second part.
  it('excerpts of one trace (in reverse order) land on the whole trace\'s axis, as `fusescope import` puts them', async () => {
    const text = readFileSync(join(FIXTURE, 'trace.txt'), 'utf8');
    const lines = text.split('\n');
    const firstText = lines.slice(0, 557).join('\n') + '\n';
    const secondText = lines.slice(557).join('\n');
    const enc = new TextEncoder();
    const log = new Uint8Array(readFileSync(join(FIXTURE, 'fuse2fs-d.log')));
    const { store, msgs } = await run([named('second.txt', enc.encode(secondText)), named('first.txt', enc.encode(firstText)), named('fuse2fs-d.log', log)], { readChunkBytes: 4096 });
    expect(store.originNs).toBe(1_831_993_578_000n);
    const rowOf = (kind: string, unique: number): number => {
      for (let row = 0; row < store.length; row++) {
        const ev = store.get(row);
        if (ev.kind === kind && (ev as { unique?: number }).unique === unique) return row;
      }
      return -1;
    };
    expect(store.tsNs[rowOf('fuse_reply', 376)]).toBe(26_015_000); // 1832.019593 - 1831.993578 s
    expect(store.tsNs[rowOf('fuse_send', 378)]).toBe(25_808_000); // 1832.019386, from the first part
    expect(store.tsNs[store.length - 1]).toBe(49_710_000); // 1832.043288: the last line
    expect(store.clampedCount).toBe(0);
    // The log joins once with both parts: one alias group, every request matched, no diagnostics.
    const aliases = new AliasIndex();
    aliases.update(store);
    expect(aliases.groups()).toEqual([expect.objectContaining({ nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'] })]);
    expect(msgs.at(-1)).toMatchObject({ type: 'done', diagCount: 0, otherClockFiles: 0, aligned: false });
    // The CLI path, on the same files: the same rows.
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-halves-'));
    writeFileSync(join(dir, 'second.txt'), secondText);
    writeFileSync(join(dir, 'first.txt'), firstText);
    const cli = await loadFiles([join(dir, 'second.txt'), join(dir, 'first.txt'), join(FIXTURE, 'fuse2fs-d.log')]);
    expect(cli.result.joins).toEqual([expect.objectContaining({ matched: 136, kernelOnly: 0 })]);
    expect(cli.store.length).toBe(store.length);
    expect(cli.store.originNs).toBe(store.originNs);
    for (let row = 0; row < store.length; row++) expect(store.get(row)).toEqual(cli.store.get(row));
    // And the whole file imported alone has every kernel event at the same time.
    const whole = await loadFiles([join(FIXTURE, 'trace.txt')]);
    const kernelTimes = (s: TraceStore): string[] => Array.from({ length: s.length }, (_, r) => s.get(r))
      .filter((e) => e.kind === 'fuse_send' || e.kind === 'fuse_reply' || e.kind === 'app_op_begin' || e.kind === 'lock_contention')
      .map((e) => `${e.kind}@${e.tsNs}`);
    expect(kernelTimes(store)).toEqual(kernelTimes(whole.store));
  });

  it('a counter-clock file: "other clock" in the diagnostics and not shifted; align starts moves it by the stated amount', async () => {
    const enc = new TextEncoder();
    const secs = named('s.txt', enc.encode('  dd-1 [000] ..... 5000.000100: tracing_mark_write: s1\n  dd-1 [000] ..... 5000.000300: tracing_mark_write: s2\n'));
    const counter = named('c.txt', enc.encode('  dd-2 [001] ..... 123456789: tracing_mark_write: c1\n  dd-2 [001] ..... 123457789: tracing_mark_write: c2\n'));
    const marks = (s: TraceStore): string[] => Array.from({ length: s.length }, (_, r) => s.get(r)).map((e) => `${e.kind === 'instant' ? e.text : e.kind}@${e.tsNs}`);
    const asIs = await run([secs, counter]);
    // The counter's 123456789 (as ns) is the earliest stamp: the origin; s1 at 5000000100000 - 123456789 ns.
    expect(asIs.store.originNs).toBe(123_456_789n);
    expect(marks(asIs.store)).toEqual(['c1@0', 'c2@1000', 's1@4999876643211', 's2@4999876843211']);
    expect(asIs.msgs.at(-1)).toMatchObject({
      type: 'done', diagCount: 1, otherClockFiles: 1, aligned: false,
      diags: [expect.stringMatching(/^c\.txt:0: on a counter clock \(raw integer stamps\), not the kernel's ns trace clock .* as s\.txt is: .*not shifted/)],
    });
    const aligned = await run([secs, counter], { alignStarts: true });
    expect(aligned.store.originNs).toBe(5_000_000_100_000n);
    expect(marks(aligned.store)).toEqual(['s1@0', 'c1@0', 'c2@1000', 's2@200000']);
    expect(aligned.msgs.at(-1)).toMatchObject({
      type: 'done', diagCount: 1, otherClockFiles: 1, aligned: true,
      diags: [expect.stringContaining("c.txt:0: offset by +4999.876643211 s (4999876643211 ns) so that its first event is at s.txt's first event")],
    });
  });
});
