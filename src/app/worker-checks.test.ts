// The protocol checkers run in the import worker (import-run.ts, `checks`): their findings, sent with
// `done`, must be what the page's own path finds over the same rows — a TraceSession fed every batch
// as it comes (TraceSession.ingest → FindingsTracker.feed), as the page did before — on every
// recording fixture (a damaged one: its kept rows only) and on real captures read as text.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceEvent } from '../trace/schema.ts';
import { RULES, type Checker } from '../trace/checks/index.ts';
import { RecordingReader, memorySource } from '../trace/recording/index.ts';
import { makeSimulation, DEFAULT_SCENARIO } from '../../server/sources/sim.ts';
import { Recorder } from '../../server/recorder/recorder.ts';
import { browserInflate } from './blob-source.ts';
import { fflateInflate } from './fflate-inflate.ts';
import { FramePool } from './frame-pool.ts';
import { TraceSession } from './trace-session.ts';
import type { NamedSource } from './import-run.ts';
import { runImportAsPage } from './testing-import.ts';

const named = (path: string): NamedSource => ({ name: path.split('/').at(-1)!, ...memorySource(new Uint8Array(readFileSync(path))) });

/** The worker's job with its checkers on, and the page's old path over the very batches it sent. */
async function both(sources: NamedSource[]) {
  const { msgs } = await runImportAsPage(sources, { checks: true, framePool: new FramePool(), inflate: fflateInflate(browserInflate) });
  const start = msgs.find((m) => m.type === 'start');
  const done = msgs.at(-1)!;
  if (start?.type !== 'start' || done.type !== 'done') throw new Error(`no start / done: ${JSON.stringify(done)}`);
  const page = new TraceSession(() => {}, true);
  page.reset(BigInt(start.originNs));
  for (const m of msgs) if (m.type === 'batch') page.ingest(new Uint8Array(m.frame), false, m.strings);
  page.refreshFindings(true);
  return { start, done, page: page.findings!, rows: page.trace.length };
}

/** The worker's findings equal the page path's: list, unknowns, rows checked, and any checker error. */
function expectSame(got: Awaited<ReturnType<typeof both>>): void {
  const f = got.done.findings!;
  expect(f).toBeDefined();
  expect(got.start.workerChecks).toBe(true);
  expect(f.list).toEqual(got.page.list);
  expect(f.unknowns).toEqual(got.page.unknowns);
  expect(f.rows ?? got.rows).toBe(got.page.fedRows); // stored findings cover every row
  expect(f.error ?? '').toBe(got.page.error);
}

/** The default simulator scenario's first `n` events as a recording, 1,000 rows a chunk; `stored`: with the checkers' findings stored. */
function simRecording(n: number, stored: boolean): Uint8Array {
  const { simulation } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
  const events: TraceEvent[] = [];
  simulation.runEvents(n, (ev) => events.push(ev));
  const path = join(mkdtempSync(join(tmpdir(), 'fusescope-checks-')), 'sim.fscope');
  const rec = new Recorder(path, { meta: { scenario: DEFAULT_SCENARIO }, maxRowsPerChunk: 1000, ...(stored ? { checks: {} } : {}) });
  rec.appendEvents(events);
  rec.close();
  return new Uint8Array(readFileSync(path));
}

/** `bytes` with one byte of data chunk k's body flipped: that chunk fails its checksum, the others stay. */
async function flipped(bytes: Uint8Array, k: number): Promise<Uint8Array> {
  const out = bytes.slice();
  const e = (await RecordingReader.open(memorySource(bytes), browserInflate)).chunks[k]!;
  out[e.offsetBytes + e.chunkBytes - 3]! ^= 0xff;
  return out;
}

afterEach(() => vi.restoreAllMocks());

describe('the checkers in the import worker', () => {
  const recordings = [
    ...readdirSync('fixtures/recordings').map((f) => `fixtures/recordings/${f}`),
    'fixtures/real/many-lanes/fuse2fs-readers-writers.fscope',
  ];
  for (const path of recordings) {
    it(`${path}: the same findings as the page's checkers fed every batch`, async () => {
      expectSame(await both([named(path)]));
    });
  }

  it('a simulator recording (alias race) without stored findings: same findings, and there are some', async () => {
    const got = await both([{ name: 'sim.fscope', ...memorySource(simRecording(20_000, false)) }]);
    expect(got.page.list.length).toBeGreaterThan(0);
    expect(got.done.findings!.rows).toBe(20_000);
    expectSame(got);
  });

  it('a recording with a damaged chunk: the kept rows only, checked in the worker', async () => {
    const got = await both([{ name: 'sim.fscope', ...memorySource(await flipped(simRecording(20_000, false), 7)) }]);
    expect(got.done.damage).toContain('chunk 7: payload checksum mismatch');
    expect(got.rows).toBe(19_000);
    expect(got.done.findings!.rows).toBe(19_000);
    expectSame(got);
  });

  it('stored findings and a damaged chunk found while reading: the stored ones cover rows the page lacks, so the kept chunks are checked in the worker', async () => {
    const got = await both([{ name: 'sim.fscope', ...memorySource(await flipped(simRecording(20_000, true), 12)) }]);
    expect(got.start.storedFindings).toBe(true);
    expect(got.rows).toBe(19_000);
    expect(got.page.list.length).toBeGreaterThan(0);
    expectSame(got);
  });

  const texts: Array<[string, string[]]> = [
    ['fuse2fs hardlink capture and its -d log', ['fixtures/real/fuse2fs-hardlink/trace.txt', 'fixtures/real/fuse2fs-hardlink/fuse2fs-d.log']],
    ['fuse2fs hardlink, ino policy', ['fixtures/real/fuse2fs-hardlink-ino/trace.txt', 'fixtures/real/fuse2fs-hardlink-ino/fuse2fs-d.log']],
    ['ext4 mixed (tracefs trace)', ['fixtures/real/kernel-fs/ext4-mixed.trace.txt']],
    ['xfs contention (trace-cmd report)', ['fixtures/real/kernel-fs/xfs-contend.report.txt']],
    ['trace.dat v7 zstd', ['fixtures/trace-dat/fuse2fs-hardlink.v7-zstd.dat']],
  ];
  for (const [what, paths] of texts) {
    it(`a text import (${what}): the same findings as the page's checkers`, async () => {
      const got = await both(paths.map(named));
      expect(got.rows).toBeGreaterThan(100);
      expectSame(got);
    });
  }

  it('a checker that throws: the worker stops checking at the same stream row, with the same words and findings, as the page', async () => {
    const rule = RULES.find((r) => r.id === 'unpaired')!;
    const real = rule.create.bind(rule);
    // The unpaired checker fails on the batch that holds stream row 4,500.
    vi.spyOn(rule, 'create').mockImplementation((settings) => {
      const c: Checker = real(settings);
      const onRows = c.onRows.bind(c);
      c.onRows = (store, from, to, rowBase) => {
        if (rowBase + to > 4500) throw new Error('boom');
        onRows(store, from, to, rowBase);
      };
      return c;
    });
    const got = await both([{ name: 'sim.fscope', ...memorySource(simRecording(10_000, false)) }]);
    expect(got.page.error).toBe('checking stopped at stream row 4000: boom');
    expectSame(got);
  });
});
