// Loading a recording into the page, end to end without a browser: the import worker's job
// (runImport, on a real recording of a simulator run) posts to a FileSession over the page's
// AppStore. While it loads nothing is drawn; once shown, every index equals what the old path —
// each batch paired, summarised and indexed as it came (TraceSession.ingest, then finish) — builds.
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Growable } from '../trace/growable.ts';
import { OpenSpans } from '../trace/spans.ts';
import type { TraceEvent } from '../trace/schema.ts';
import { makeSimulation, DEFAULT_SCENARIO } from '../../server/sources/sim.ts';
import { Recorder } from '../../server/recorder/recorder.ts';
import { memorySource } from '../trace/recording/index.ts';
import { forEachLockWait } from '../trace/lock-waits.ts';
import { AppStore } from './app-store.ts';
import { FileSession } from './file-session.ts';
import { TraceSession } from './trace-session.ts';
import { FindingsTracker } from './findings-tracker.ts';
import { runImport } from './import-run.ts';
import { browserInflate } from './blob-source.ts';
import { decodeWorkerMessage, type WorkerMessage } from './import-protocol.ts';
import { FakeWorker } from './testing-import.ts';
import { FramePool } from './frame-pool.ts';
import { ChecksMirror, localChecks, type RemoteChecks } from './checks-run.ts';
import type { WsClient } from './ws-client.ts';
import type { FrameScheduler } from '../views/host.ts';


/** A recording of the default simulator scenario's first `n` events (`repeats` times over), 1,000 rows a chunk; `checks`: with stored findings, as `serve` and `record` write. */
function simRecording(n: number, checks = false, repeats = 1): Uint8Array {
  const { simulation } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
  const base: TraceEvent[] = [];
  simulation.runEvents(n, (ev) => base.push(ev));
  // `repeats` > 1: the run again and again, each copy 1 µs after the one before (as the bench's big recordings).
  const events: TraceEvent[] = [];
  const spanNs = base.at(-1)!.tsNs - base[0]!.tsNs + 1000;
  for (let r = 0; r < repeats; r++) for (const e of base) events.push(r === 0 ? e : { ...e, tsNs: e.tsNs + r * spanNs });
  const path = join(mkdtempSync(join(tmpdir(), 'fusescope-load-')), 'sim.fscope');
  const rec = new Recorder(path, { meta: { scenario: DEFAULT_SCENARIO }, maxRowsPerChunk: 1000, ...(checks ? { checks: {} } : {}) });
  rec.appendEvents(events);
  rec.close();
  return new Uint8Array(readFileSync(path));
}

/** An index as plain data: used parts of its typed columns, maps and lists, every field (bookkeeping counters aside). */
function plain(v: unknown): unknown {
  if (v instanceof Growable) return Array.from(v.data.subarray(0, v.length) as ArrayLike<number>);
  if (v instanceof OpenSpans) return [...v];
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  if (v instanceof Map) return [...v].map(([k, x]) => [plain(k), plain(x)]);
  if (v instanceof Set) return [...v].map(plain);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      // Bookkeeping, and update()'s reference to the store's task column (a view of the store as it was then).
      if (typeof x === 'function' || k === 'version' || k === 'spansVersion' || k === 'deferLod' || k === 'taskCol') continue;
      out[k] = plain(x);
    }
    return out;
  }
  return v;
}

/** Opens `bytes` as the page does; counts redraw requests before and after the file is in. */
async function openInPage(bytes: Uint8Array, onMessage: (m: WorkerMessage) => void = () => {}, shared = false, remoteChecks?: () => RemoteChecks, onApp?: (app: AppStore) => void) {
  let dirty = 0;
  const scheduler: FrameScheduler = { markDirty() { dirty++; }, scheduleAction(a) { a(); }, addRenderer: () => () => {} };
  const app = new AppStore(scheduler, () => 0);
  onApp?.(app);
  const worker = new FakeWorker();
  const client = { started: true, start() {}, stop() {} } as unknown as WsClient;
  const session = new FileSession(app, client, () => worker, '', () => Promise.reject(new Error('no fetch')), () => shared);
  session.openFiles([{ name: 'sim.fscope', blob: new Blob([bytes as Uint8Array<ArrayBuffer>]) }]);
  const { id, checks, shared: sharedAsked } = worker.requests[0]!;
  // The worker's pool: the page hands each batch buffer back (FakeWorker.returned), as to the real worker.
  const pool = new FramePool();
  const frames: Array<{ frame: ArrayBuffer; strings?: string[] }> = [];
  let dirtyAtFirstMessage = -1;
  let dirtyWhileLoading = -1;
  let tickedDerived = -1;
  await runImport([{ name: 'sim.fscope', ...memorySource(bytes) }], {
    id, inflate: browserInflate, checks, framePool: pool, shared: sharedAsked === true, ...(remoteChecks ? { remoteChecks } : {}),
    post: (m) => {
      const msg = decodeWorkerMessage(structuredClone(m, m.type === 'batch' ? { transfer: [m.frame] } : undefined)) as WorkerMessage;
      if (dirtyAtFirstMessage < 0) dirtyAtFirstMessage = dirty;
      onMessage(msg);
      if (msg.type === 'batch') frames.push({ frame: msg.frame.slice(0, msg.frameBytes ?? msg.frame.byteLength), ...(msg.strings ? { strings: msg.strings } : {}) });
      // Loading ends at `sent` (every row is in; the page may show the file then) or done.
      if ((msg.type === 'sent' || msg.type === 'done') && dirtyWhileLoading < 0) {
        dirtyWhileLoading = dirty - dirtyAtFirstMessage;
        tickedDerived = app.derivedVersion;
      }
      worker.onmessage!({ data: msg } as MessageEvent);
      for (const f of worker.returned.splice(0)) pool.give(f);
      app.tickCounters(); // the page's 250 ms tick, here after every message
    },
  });
  return { app, session, worker, frames, pool, dirtyWhileLoading, dirtyAfter: dirty, tickedDerived };
}

const realFeed = FindingsTracker.prototype.feed;
const worker0 = (msgs: WorkerMessage[]) => msgs.find((m) => m.type === 'start');

describe('a recording loading into the page', () => {
  it('draws nothing while it loads, then once; its spans, LOD, lock waits and cache equal the old per-batch path', async () => {
    const bytes = simRecording(20_000);
    const { app, frames, pool, dirtyWhileLoading, dirtyAfter, tickedDerived } = await openInPage(bytes);
    expect(app.status.sourceKind).toBe('file');
    expect(app.trace.length).toBe(20_000);
    // The page handed every chunk's buffer back once ingested: the worker inflated the 20 chunks into
    // no more buffers than it has inflating at once (8) and one in hand.
    expect(pool.allocated + pool.reused).toBe(20);
    expect(pool.allocated).toBeLessThanOrEqual(9);
    // From the worker's first message to its last, no redraw of the page's views (progress messages,
    // batches), nor derived tables refreshed by the tick (the page still shows the empty trace it had).
    expect(dirtyWhileLoading).toBe(0);
    expect(tickedDerived).toBe(0);
    expect(dirtyAfter).toBeGreaterThan(0);

    // The old path: every batch ingested as it came (indexes and LOD kept up per batch), then finish.
    const ref = new TraceSession(() => {}, true);
    ref.reset(app.trace.originNs);
    for (const f of frames) ref.ingest(new Uint8Array(f.frame), false, f.strings);
    ref.finish();

    expect(app.spans.count).toBeGreaterThan(1000);
    expect(app.locks.rows.length).toBeGreaterThan(0);
    expect(app.cache.extents.length).toBeGreaterThan(0);
    expect(plain(app.spans)).toEqual(plain(ref.spans));
    expect(plain(app.locks)).toEqual(plain(ref.locks));
    expect(plain(app.cache)).toEqual(plain(ref.cache));
    expect(plain(app.aliases)).toEqual(plain(ref.aliases));
    const waits = (s: { trace: TraceSession['trace'] }) => {
      const out: number[] = [];
      forEachLockWait(s.trace, (row, waitNs) => out.push(row, waitNs), (row) => out.push(row, -1));
      return out;
    };
    expect(waits(app)).toEqual(waits(ref));
  });

  it('the cache replay and the LOD trim wait for the first frame: no cache row while loading, no LOD copy at its end; both after, equal to the per-batch ones', async () => {
    const bytes = simRecording(20_000);
    // Shown on the default (locks) tab: the cache has taken no row when the file is shown.
    let seen: { processedRows: number; deferred: boolean; lodSlack: boolean; levelsWithSlack: number } | null = null;
    const levels = (d: TraceSession) => [...d.spans.tracks.flatMap((t) => t.lod.levels), ...d.locks.rows.flatMap((r) => r.lod.levels)];
    const { app, frames } = await openInPage(bytes, () => {}, false, undefined, (a) => {
      const adopt = a.adoptFile.bind(a);
      a.adoptFile = (staged) => {
        const d = staged.data;
        seen = { processedRows: d.cache.processedRows, deferred: d.deferCache, lodSlack: d.lodSlackPending, levelsWithSlack: levels(d).filter((l) => l.first.data.length > Math.max(1, l.count)).length };
        adopt(staged);
      };
    });
    // Shown complete but with its LOD levels' growth slack kept: finish copied none of them.
    expect(seen).toMatchObject({ processedRows: 0, deferred: true, lodSlack: true });
    expect(seen!.levelsWithSlack).toBeGreaterThan(0);
    expect(app.data.deferCache).toBe(true);
    expect(app.data.cache.processedRows).toBe(0);
    // After the first frame (the scheduler's action), tasks replay it: 20,000 rows are one slice.
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setTimeout(r, 0));
    expect(app.data.deferCache).toBe(false);
    expect(app.data.cache.processedRows).toBe(20_000);
    expect(app.status.loadPhasesMs.deferredCache).toBeGreaterThan(0);
    // And then the LOD slack was given back: every level holds its buckets exactly.
    expect(app.data.lodSlackPending).toBe(false);
    expect(levels(app.data).filter((l) => l.first.data.length > Math.max(1, l.count))).toEqual([]);
    const ref = new TraceSession(() => {}, true);
    ref.reset(app.trace.originNs);
    for (const f of frames) ref.ingest(new Uint8Array(f.frame), false, f.strings);
    ref.finish();
    expect(ref.cache.extents.length).toBeGreaterThan(0);
    expect(plain(app.data.cache)).toEqual(plain(ref.cache));
    expect(plain(app.data.spans)).toEqual(plain(ref.spans));
    expect(plain(app.data.locks)).toEqual(plain(ref.locks));

    // Opened on the Mapping cache tab: replayed as it loads, whole when shown.
    const onCache = await openInPage(bytes, () => {}, false, undefined, (a) => a.view.setTab('cache'));
    expect(onCache.app.data.deferCache).toBe(false);
    expect(plain(onCache.app.data.cache)).toEqual(plain(ref.cache));

    // A view asking for it before the slices ran gets it whole at once.
    const early = await openInPage(bytes);
    expect(early.app.data.cache.processedRows).toBe(0);
    expect(plain(early.app.cache)).toEqual(plain(ref.cache));
    expect(early.app.data.deferCache).toBe(false);
  });

  it('indexes sized once from the row count: the same spans, LOD at every level, locks and cache, with no copy while loading or when done', async () => {
    // 5,000 events 4 times over: what the rows so far made is what each further 5,000 make.
    const bytes = simRecording(5_000, false, 4);
    const { frames } = await openInPage(bytes);
    const ingestAll = (s: TraceSession, afterFrame?: (i: number) => void) => {
      frames.forEach((f, i) => { s.ingest(new Uint8Array(f.frame), false, f.strings); afterFrame?.(i); });
    };
    // The old path: every batch ingested as it came, growing by doubling, then finish.
    const ref = new TraceSession(() => {}, true);
    ref.reset(0n);
    ingestAll(ref);
    ref.finish();
    // As a file loads (file-session.ts, load-node.ts): the LOD deferred, and after the first
    // 10,000 rows the indexes sized for the file's 20,000 from what those rows made.
    const sized = new TraceSession(() => {}, true);
    sized.reset(0n);
    sized.spans.deferLod = true;
    // Every array of the indexes' lists and columns.
    const growables = (s: TraceSession): Array<Growable<Uint8Array>> => [
      s.spans.startNs, s.spans.endNs, s.spans.lane, s.spans.flags, ...s.spans.tracks.map((t) => t.spans),
      ...s.locks.locks.flatMap((l) => [l.holdIds, l.waitIds]), ...s.locks.rows.map((r) => r.spanIds),
      s.cache.extents.offsetBytes, s.cache.extents.toNs, ...[...s.cache.inodes.values()].map((c) => c.markers.row),
    ] as Array<Growable<Uint8Array>>;
    let sizedArrays: Array<[Growable<Uint8Array>, unknown]> = [];
    ingestAll(sized, (i) => {
      if (i !== 9) return;
      expect(sized.trace.length).toBe(10_000);
      sized.reserveIndexes(20_000);
      // Those sized past a first capacity (a track's list or an inode's markers of this small
      // file stay within theirs, and are trimmed to their length when done, as before).
      sizedArrays = growables(sized).filter((g) => g.data.length > 1024).map((g) => [g, g.data]);
    });
    expect(sized.trace.length).toBe(20_000);
    sized.finish();
    for (const k of ['spans', 'locks', 'cache', 'aliases'] as const) expect(plain(sized[k]), k).toEqual(plain(ref[k]));
    // Every LOD level of every track and lock row, bucket by bucket (plain compares them too; here by name, to say where).
    sized.spans.tracks.forEach((t, i) => t.lod.levels.forEach((l, j) => expect(plain(l), `track ${i} level ${j}`).toEqual(plain(ref.spans.tracks[i]!.lod.levels[j]))));
    sized.locks.rows.forEach((r, i) => r.lod.levels.forEach((l, j) => expect(plain(l), `lock row ${i} level ${j}`).toEqual(plain(ref.locks.rows[i]!.lod.levels[j]))));
    // The arrays sized at 10,000 rows are the ones the finished indexes hold: none grew by copying, none was trimmed by copying.
    expect(sizedArrays.length).toBeGreaterThanOrEqual(6);
    sizedArrays.forEach(([g, data], i) => expect(g.data === data, `array ${i}`).toBe(true));
    // What that costs in memory: no array holds more than its length + 6 % (twice the load margin; more is trimmed).
    const all = growables(sized);
    for (const g of all) expect(g.data.length).toBeLessThanOrEqual(Math.max(1, Math.floor(g.length * 1.06)));
  });

  it('a recording without stored findings: the worker runs the checkers; the page\'s main thread feeds them no row while it loads', async () => {
    const bytes = simRecording(20_000);
    const fedBy = new Map<FindingsTracker, number>();
    const feeds = vi.spyOn(FindingsTracker.prototype, 'feed').mockImplementation(function (this: FindingsTracker, store, from, to, rowBase) {
      fedBy.set(this, (fedBy.get(this) ?? 0) + (to - from));
      return realFeed.call(this, store, from, to, rowBase);
    });
    const msgs: WorkerMessage[] = [];
    const { app, frames } = await openInPage(bytes, (m) => msgs.push(m));
    feeds.mockRestore();
    expect(worker0(msgs)).toMatchObject({ workerChecks: true });
    // The page's tracker (the staged file's, now the page's) was fed no row; the worker's saw all 20,000.
    const pageTracker = app.data.findings!;
    expect(fedBy.get(pageTracker) ?? 0).toBe(0);
    expect([...fedBy.values()]).toEqual([20_000]);
    // And its findings are the page path's over the same batches.
    const ref = new TraceSession(() => {}, true);
    ref.reset(app.trace.originNs);
    for (const f of frames) ref.ingest(new Uint8Array(f.frame), false, f.strings);
    ref.refreshFindings(true);
    expect(ref.findings!.list.length).toBeGreaterThan(0);
    expect(app.findings.list).toEqual(ref.findings!.list);
    expect(app.findings.unknowns).toEqual(ref.findings!.unknowns);
    expect(app.findings.checkedEvents).toBe(20_000);
    expect(app.findings.error).toBe('');
  });

  it('a recording with stored findings: the page takes them instead of running the checkers, and they are what the checkers find', async () => {
    const bytes = simRecording(20_000, true);
    const feeds = vi.spyOn(FindingsTracker.prototype, 'feed');
    const msgs: WorkerMessage[] = [];
    const { app, frames } = await openInPage(bytes, (m) => msgs.push(m));
    expect(feeds).not.toHaveBeenCalled();
    feeds.mockRestore();
    expect(msgs.find((m) => m.type === 'start')).toMatchObject({ storedFindings: true });
    expect(app.status.findingsFrom).toBe('stored');
    const ref = new TraceSession(() => {}, true);
    ref.reset(app.trace.originNs);
    for (const f of frames) ref.ingest(new Uint8Array(f.frame), false, f.strings);
    ref.finish();
    ref.refreshFindings(true);
    expect(ref.findings!.list.length).toBeGreaterThan(0);
    // The stored findings went through JSON (the findings chunk): compare them as such.
    expect(app.findings.list).toEqual(JSON.parse(JSON.stringify(ref.findings!.list)));
    expect(app.findings.unknowns).toEqual(JSON.parse(JSON.stringify(ref.findings!.unknowns)));
    expect(app.findings.checkedEvents).toBe(20_000);
  });

  it('a damaged recording with stored findings: they cover rows the page lacks, so its kept rows are checked (in the worker)', async () => {
    const whole = simRecording(20_000, true);
    const cut = whole.slice(0, Math.floor(whole.byteLength * 0.6));
    const msgs: WorkerMessage[] = [];
    const feeds = vi.spyOn(FindingsTracker.prototype, 'feed');
    const { app, session, frames } = await openInPage(cut, (m) => msgs.push(m));
    const done = msgs.at(-1)!;
    // Not the stored findings (they name rows the page lacks): the worker's, over the kept rows.
    expect(done.type === 'done' && done.findings?.rows).toBe(frames.reduce((n, f) => n + new DataView(f.frame).getUint32(8, true), 0));
    session.viewHeld();
    expect(feeds.mock.contexts.filter((t) => t === app.data.findings)).toHaveLength(0);
    feeds.mockRestore();
    expect(app.trace.length).toBeGreaterThan(1000);
    expect(app.trace.length).toBeLessThan(20_000);
    const ref = new TraceSession(() => {}, true);
    ref.reset(app.trace.originNs);
    for (const f of frames) ref.ingest(new Uint8Array(f.frame), false, f.strings);
    ref.refreshFindings(true);
    expect(app.findings.checkedEvents).toBe(app.trace.length);
    expect(app.findings.list).toEqual(ref.findings!.list);
  });
});

/** Every row of a store as plain values: kinds, times, and every column in use (their values, whatever their array type). */
function rowsOf(store: TraceSession['trace']): unknown {
  const n = store.length;
  return {
    n, clamped: store.clampedCount, strings: store.strings.slice(0),
    kinds: Array.from(store.kinds.subarray(0, n)), tsNs: Array.from(store.tsNs.subarray(0, n)),
    columns: store.columnsInUse().map((c) => [c, Array.from(store.colAt(c).subarray(0, n) as ArrayLike<number>)]),
  };
}

describe('a recording loading into columns the worker shares with the page (SharedArrayBuffer)', () => {
  it('the page reads the worker\'s columns where they are: the same rows, spans, LOD, locks, cache, aliases and findings as batches give', async () => {
    const bytes = simRecording(20_000);
    const msgs: WorkerMessage[] = [];
    const viaShared = await openInPage(bytes, (m) => msgs.push(m), true);
    const viaBatches = await openInPage(bytes);
    // No batch went to the page: only `rows`, each telling it of more final rows of the same arrays.
    expect(msgs.some((m) => m.type === 'batch')).toBe(false);
    const rows = msgs.filter((m) => m.type === 'rows');
    expect(rows.length).toBe(20);
    expect(rows.map((m) => m.length)).toEqual(Array.from({ length: 20 }, (_, i) => (i + 1) * 1000));
    const app = viaShared.app;
    expect(app.trace.length).toBe(20_000);
    // The page's columns are the worker's memory (shared, sized once for the file's rows), not copies.
    expect(app.trace.kinds.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(app.trace.tsNs.buffer).toBeInstanceOf(SharedArrayBuffer);
    for (const c of app.trace.columnsInUse()) expect(app.trace.colAt(c).buffer, `column ${c}`).toBeInstanceOf(SharedArrayBuffer);
    expect(app.trace.kinds.buffer).toBe(rows.at(-1)!.type === 'rows' && rows.at(-1)!.kinds.buffer);
    expect(app.trace.capacityRows).toBe(20_000);
    // The worker that filled them is let go once done (its references to them would outlive the file until its next GC).
    expect(viaShared.worker.terminated).toBe(true);
    expect(viaBatches.worker.terminated).toBe(false);
    // Chunk buffers went back to the worker's pool at once (the page returns none): 20 chunks, at most 9 buffers.
    expect(viaShared.pool.allocated + viaShared.pool.reused).toBe(20);
    expect(viaShared.pool.allocated).toBeLessThanOrEqual(9);
    expect(viaShared.dirtyWhileLoading).toBe(0);

    const ref = viaBatches.app;
    expect(rowsOf(app.trace)).toEqual(rowsOf(ref.trace));
    expect(app.spans.count).toBeGreaterThan(1000);
    expect(plain(app.spans)).toEqual(plain(ref.spans));
    expect(plain(app.locks)).toEqual(plain(ref.locks));
    expect(plain(app.cache)).toEqual(plain(ref.cache));
    expect(plain(app.aliases)).toEqual(plain(ref.aliases));
    expect(ref.findings.list.length).toBeGreaterThan(0);
    expect(app.findings.list).toEqual(ref.findings.list);
    expect(app.findings.unknowns).toEqual(ref.findings.unknowns);
    expect(app.findings.checkedEvents).toBe(20_000);
  });

  it('with stored findings, and damaged: the kept rows are checked in the worker, from its shared store', async () => {
    const whole = simRecording(20_000, true);
    const cut = whole.slice(0, Math.floor(whole.byteLength * 0.6));
    const msgs: WorkerMessage[] = [];
    const viaShared = await openInPage(cut, (m) => msgs.push(m), true);
    const viaBatches = await openInPage(cut);
    viaShared.session.viewHeld();
    viaBatches.session.viewHeld();
    const kept = viaShared.app.trace.length;
    expect(kept).toBeGreaterThan(1000);
    expect(kept).toBeLessThan(20_000);
    const done = msgs.at(-1)!;
    expect(done.type === 'done' && done.findings?.rows).toBe(kept);
    expect(rowsOf(viaShared.app.trace)).toEqual(rowsOf(viaBatches.app.trace));
    expect(viaShared.app.findings.list).toEqual(viaBatches.app.findings.list);
    expect(viaShared.app.findings.checkedEvents).toBe(kept);
    // Fewer rows came than the index promised: the page keeps its rows in its own, trimmed memory.
    expect(viaShared.app.trace.capacityRows).toBe(kept);
  });

  it('the checkers in a checks worker of their own, over the same shared rows: the findings of the page path; a failed one leaves them to the page', async () => {
    const bytes = simRecording(20_000);
    const ref = (await openInPage(bytes)).app;
    expect(ref.findings.list.length).toBeGreaterThan(0);
    const msgs: WorkerMessage[] = [];
    // When the checks worker is told of rows: before or after the import worker's `sent`.
    const fedAfter: string[] = [];
    const realRows = ChecksMirror.prototype.rows;
    const fed = vi.spyOn(ChecksMirror.prototype, 'rows').mockImplementation(function (this: ChecksMirror, ...args) {
      fedAfter.push(msgs.some((m) => m.type === 'sent') ? 'after sent' : 'before sent');
      return realRows.apply(this, args);
    });
    // When done arrives (before the page takes it), the file is shown already, its indexes complete:
    // the page finished them and showed it on `sent`; the findings panel said the rows were being
    // checked (not "no findings") until done brought them.
    let atDone: unknown = null;
    let app: AppStore | null = null;
    const viaRemote = await openInPage(bytes, (m) => {
      msgs.push(m);
      if (m.type === 'done') {
        const a = app!;
        atDone = { source: a.status.sourceKind, events: a.trace.length, complete: a.data.complete, checking: a.findings.checking, listed: a.findings.list.length, phase: a.status.importStatus.phase, lodBuilt: !a.spans.deferLod };
      }
    }, true, localChecks, (a) => { app = a; });
    expect(msgs.map((m) => m.type).filter((t) => t === 'sent' || t === 'done')).toEqual(['sent', 'done']);
    expect(msgs.find((m) => m.type === 'sent')).toMatchObject({ events: 20_000, damage: '', diagCount: 0 });
    expect(atDone).toEqual({ source: 'file', events: 20_000, complete: true, checking: true, listed: 0, phase: 'checking', lodBuilt: true });
    expect(viaRemote.app.findings.checking).toBe(false);
    expect(viaRemote.app.status.importStatus.phase).toBe('done');
    // The checks worker was told of the rows once, all 20,000 of them (the import worker's arrays),
    // after the page was told they are all in: it takes no CPU from the load the first frame waits on.
    expect(fed).toHaveBeenCalledTimes(1);
    expect(fedAfter).toEqual(['after sent']);
    expect(fed.mock.calls.at(-1)![0].length).toBe(20_000);
    fed.mockRestore();
    const done = msgs.at(-1)!;
    expect(done.type === 'done' && done.findings?.rows).toBe(20_000);
    expect(done.type === 'done' && done.phasesMs?.workerChecks).toBeGreaterThan(0);
    expect(viaRemote.app.findings.list).toEqual(ref.findings.list);
    expect(viaRemote.app.findings.unknowns).toEqual(ref.findings.unknowns);
    expect(viaRemote.app.status.findingsFrom).toBe('worker');

    // A checks worker that fails: done brings no findings, and the page checks every row itself, to the same list.
    const failing = (): RemoteChecks => ({ rows() {}, result: () => Promise.reject(new Error('no worker')), close() {} });
    const pageFed = vi.spyOn(FindingsTracker.prototype, 'feed');
    const msgs2: WorkerMessage[] = [];
    const viaFailed = await openInPage(bytes, (m) => msgs2.push(m), true, failing);
    const done2 = msgs2.at(-1)!;
    expect(done2.type === 'done' && done2.findings).toBeUndefined();
    expect(pageFed.mock.contexts.filter((t) => t === viaFailed.app.data.findings).length).toBe(1);
    pageFed.mockRestore();
    expect(viaFailed.app.findings.list).toEqual(ref.findings.list);
    expect(viaFailed.app.findings.checkedEvents).toBe(20_000);
    expect(viaFailed.app.status.findingsFrom).toBe('page');
  });
});
