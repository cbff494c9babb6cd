import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle, shotPath } from './page.ts';
import { openRecordingFile } from '../server/recorder/file-source.ts';
import { joinableDeflateRaw } from '../server/recorder/recorder.ts';
import { makeSimulation } from '../server/sources/sim.ts';
import { handRecording } from '../server/recorder/test-recordings.ts';
import { JOINABLE_TAIL } from '../src/trace/recording/format.ts';
import { TraceStore } from '../src/trace/store.ts';
import type { TraceEvent } from '../src/trace/schema.ts';

/**
 * A recording of `rows` simulator rows in chunks of `rowsPerChunk`, every body joinable, except that
 * data chunk `badK`'s body is bytes that are not deflate (ending in the joinable tail, checksums right).
 */
function joinableWithBadBody(rows: number, rowsPerChunk: number, badK: number): Uint8Array {
  const { simulation } = makeSimulation('hardlink-alias-race', 2, new Map());
  const events: TraceEvent[] = [];
  simulation.runEvents(rows, (ev) => events.push(ev));
  const store = new TraceStore();
  store.appendAll(events);
  const deflate = (b: Uint8Array): Uint8Array => joinableDeflateRaw(b, 6);
  return handRecording(store, {
    rowsPerChunk, joinable: true, deflate, indexEveryChunks: 256,
    bodyFor: (k, b) => (k === badK ? new Uint8Array([0xff, 0xff, 0xff, 0xff, ...JOINABLE_TAIL]) : deflate(b)),
  });
}

/** Data chunks in a recording, by the server's reader. */
async function dataChunkCount(path: string): Promise<number> {
  const { reader, close } = await openRecordingFile(path);
  await close();
  return reader.chunks.length;
}

// Opening files in the browser: dropped / picked traces parse in the import worker, .fscope
// recordings open from the picker and the server's list, and replay them (play, pause, speed,
// seek on the overview strip, loop). The recording is written by the real CLI into a temp
// sessions folder that `serve --record-dir` lists.

const FIXTURE = 'fixtures/real/fuse2fs-hardlink';
const REC_NAME = 'sim-20000.fscope';
let server: Served;
let tmp: string;
let recPath: string;

test.beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fusescope-e2e-files-'));
  const sessions = join(tmp, 'sessions');
  mkdirSync(sessions);
  recPath = join(sessions, REC_NAME);
  execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'record', '--source', 'sim', '--events', '20000', '-o', recPath], { stdio: 'pipe' });
  server = await serve(['--record-dir', sessions, '--no-record']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const waitLoaded = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());

async function open(page: Page, hash = ''): Promise<string[]> {
  const errors = await openPage(page, server.url + hash);
  return errors;
}

/** Drops files on the page the way a browser does: dragenter, dragover, drop with a DataTransfer. */
async function dropFiles(page: Page, files: Array<{ name: string; text: string }>): Promise<void> {
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([f.text], f.name, { type: 'text/plain' }));
    return d;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    await page.dispatchEvent('body', type, { dataTransfer: dt });
  }
}

test('picking a kernel trace and its fuse2fs -d log imports them as one trace: 100%, the alias group, no diagnostics', async ({ page }) => {
  const errors = await open(page);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles([join(FIXTURE, 'trace.txt'), join(FIXTURE, 'fuse2fs-d.log')]);
  await waitLoaded(page);
  expect(await hooks(page, (h) => h.source())).toBe('file');
  // Parsed text goes the same way as a recording: into columns the worker shares with the page.
  expect((await hooks(page, (h) => h.stats())).sharedStoreBytes).toBeGreaterThan(0);
  await expect(page.getByTestId('import-progress')).toHaveAttribute('data-pct', '100');
  await expect(page.getByTestId('file-label')).toHaveText('trace.txt + fuse2fs-d.log');
  await expect(page.getByTestId('connection')).toHaveText('file');
  // What each file was read as, and the line that decided it (the trace's `# tracer:` header is line 9).
  await expect(page.getByTestId('file-format')).toHaveText([
    'read as trace.txt: ftrace: line 9, tracefs `trace` file header `# tracer:`',
    "read as fuse2fs-d.log: fuse-log: line 7, libfuse's `FUSE library version` banner",
  ]);
  const status = await hooks(page, (h) => h.importStatus());
  expect(status).toMatchObject({ phase: 'done', diagCount: 0 });
  expect(status.doneBytes).toBe(status.totalBytes);
  await expect(page.getByTestId('diagnostics')).toHaveCount(0);
  const groups = await hooks(page, (h) => h.aliasGroups());
  expect(groups).toEqual([expect.objectContaining({ nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'] })]);
  await page.getByTestId('tab-aliases').click();
  const row = page.getByTestId('alias-table').locator('tbody tr').first();
  await expect(row).toContainText('/d1/file');
  await expect(row).toContainText('/d2/link');
  // The capture has no st_ino: the group's inode number is unknown, never a nodeid ("ino 4").
  await expect(row.locator('td[data-col="ino"]')).toHaveText('unknown');
  await expect(page.getByTestId('view-aliases')).toContainText('ino unknown');
  await expect(page.getByTestId('view-aliases')).not.toContainText(/\bino [0-9]/);
  // fuse2fs has no iomap: the group's IO is its FUSE_WRITEs (64 in trace.txt).
  await expect(page.getByTestId('alias-mini-caption-4')).toHaveText(/top: FUSE READ\/WRITE requests — no iomap steps in this trace/);
  // Three contention_ends (lines 422, 840, 982) start three W holds whose ends are not traced: overlap unknown.
  await expect(row.locator('td[data-col="overlaps"]')).toContainText('unknown: 3 W holds, none with both ends traced');
  await waitIdle(page);
  expect(await hooks(page, (h) => h.findSpan())).not.toBeNull();
  await page.screenshot({ path: shotPath('view-import.png') });
  // Locks: each lock by its address (dd-17153 waited on d1/file's …8e98), with the attribution's evidence.
  await page.getByTestId('tab-locks').click();
  const ids = page.getByTestId('lock-identities');
  const d1 = ids.locator('tr[data-addr="0xffff88813cd98e98"]');
  await expect(d1).toBeVisible();
  await expect(d1.locator('td[data-col="nodeid"]')).toHaveText('4');
  await expect(d1.locator('td[data-col="ino"]')).toHaveText('unknown');
  await expect(d1.locator('td[data-col="evidence"]')).toContainText("stack role, in-flight syscall's fd → path");
  await expect(ids.locator('tr[data-addr="0xffff88813cd9ae18"] td[data-col="nodeid"]')).toHaveText('5');
  await waitIdle(page);
  await page.screenshot({ path: 'test-results/locks-import.png' });
  // Search by a prefix of the address: its contention and derived lock events.
  await page.keyboard.press('/');
  await page.keyboard.type('0xffff88813cd98e98');
  // By hand: its contention_begin and _end (trace lines 308, 422) and the derived lock_wait and lock_acquire.
  await expect(page.getByTestId('search-results')).toContainText('4 matches');
  await expect(page.getByTestId('search-results').locator('.search-hit').first()).toContainText('0xffff88813cd98e98');
  expect(errors).toEqual([]);
});

test('with a reply probe giving st_ino 14, the alias group shows ino 14', async ({ page }) => {
  const errors = await open(page);
  const lines = readFileSync(join(FIXTURE, 'trace.txt'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.includes('1831.997957: open64:')) + 1;
  lines.splice(at, 0, '         fuse2fs-17140   (  17140) [001] DBZff  1831.997960: fuse_reply_entry: (0x55d0c0a1b2c0) unique=282 nodeid=5 ino=14');
  await dropFiles(page, [{ name: 'trace-probe.txt', text: lines.join('\n') }, { name: 'fuse2fs-d.log', text: readFileSync(join(FIXTURE, 'fuse2fs-d.log'), 'utf8') }]);
  await waitLoaded(page);
  await page.getByTestId('tab-aliases').click();
  const row = page.getByTestId('alias-table').locator('tbody tr').first();
  await expect(row.locator('td[data-col="ino"]')).toHaveText('14');
  await expect(page.getByTestId('alias-graph').locator('g.node[data-node="i:14"]')).toBeVisible();
  await waitIdle(page);
  await page.screenshot({ path: 'test-results/aliases-probe.png' });
  expect(errors).toEqual([]);
});

test('an imported real trace says what it does not show: holds inferred from contention fade out, the locks view notes hold ends are not traced', async ({ page }) => {
  const errors = await open(page);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles([join(FIXTURE, 'trace.txt'), join(FIXTURE, 'fuse2fs-d.log')]);
  await waitLoaded(page);
  // The trace has 3 lock:contention_end lines with ret=0 and no lock release event: 3 holds whose
  // start is traced and whose end is not.
  const unended = await hooks(page, (h) => h.unended());
  expect(unended.complete).toBe(true);
  expect(unended.inferredHolds).toHaveLength(3);
  await page.getByTestId('tab-locks').click();
  const note = page.getByTestId('locks-inferred-note');
  await expect(note).toBeVisible();
  await expect(note).toContainText('Hold ends are not traced: 3 holds are inferred from lock contention');
  // All 3 waits ended (each contention_begin has its contention_end): nothing counted apart.
  await expect(page.getByTestId('locks-table').locator('td[data-col="contended"]').first()).not.toContainText('did not end');
  // The inspector says it for a selected inferred hold.
  await hooks(page, (h) => h.reveal(h.unended().inferredHolds[0]!));
  await expect(page.getByTestId('inspector').locator('tr[data-field="trace"] td')).toHaveText('inferred from lock contention: start traced, end not traced');
  await expect(page.getByTestId('inspector').locator('tr[data-field="durNs"] td')).toHaveText('inferred from lock contention: start traced, end not traced');
  await waitIdle(page);
  await page.screenshot({ path: 'test-results/unended-locks.png' });
  expect(errors).toEqual([]);
});

test('a perf lock contention table opens in the locks view as perf\'s totals, which say they carry no timeline', async ({ page }) => {
  const errors = await open(page);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles(['fixtures/real/perf/contention-t.txt']);
  await waitLoaded(page);
  await page.getByTestId('tab-locks').click();
  const table = page.getByTestId('locks-perf-summary');
  await expect(table).toContainText('perf lock contention (by task)');
  await expect(page.getByTestId('locks-perf-note')).toContainText('They carry no timeline');
  await expect(page.getByTestId('locks-no-timeline-note')).toContainText('no timeline, so there are no lanes to draw');
  // The file's 4 rows (-t: pid, comm), the first `2  8.63 ms  6.62 ms  4.32 ms  31851 dd`.
  await expect(table.locator('tbody tr')).toHaveCount(4);
  await expect(table.locator('tbody tr').first()).toContainText('dd/31851');
  await expect(table.locator('tbody tr').first()).toContainText('8.63');
  expect(errors).toEqual([]);
});

test('a dropped file with garbage lines lists them as file:line diagnostics and still shows the good events', async ({ page }) => {
  const errors = await open(page);
  const lines = readFileSync(join(FIXTURE, 'trace.txt'), 'utf8').split('\n');
  lines.splice(40, 0, 'this line is garbage %%%', 'more garbage: 12 34 56');
  await dropFiles(page, [{ name: 'garbage.txt', text: lines.join('\n') }]);
  await waitLoaded(page);
  const diags = page.getByTestId('diagnostics');
  await expect(diags).toBeVisible();
  await expect(diags).toContainText('2 diagnostics');
  await expect(page.getByTestId('diagnostic').first()).toContainText(/garbage\.txt:41(:\d+)?: /);
  await expect(page.getByTestId('diagnostic').nth(1)).toContainText(/garbage\.txt:42(:\d+)?: /);
  expect((await hooks(page, (h) => h.stats())).events).toBeGreaterThan(500);
  expect(await hooks(page, (h) => h.findSpan())).not.toBeNull();
  expect(errors).toEqual([]);
});

test('a file on another clock is said to be so and kept at its stamps; "Align starts" opens the files again moved, and says by how much', async ({ page }) => {
  const errors = await open(page);
  // s.txt: secs.usecs stamps (the kernel's ns clock); c.txt: raw integers (a counter clock).
  await dropFiles(page, [
    { name: 's.txt', text: '  dd-1 [000] ..... 5000.000100: tracing_mark_write: s1\n  dd-1 [000] ..... 5000.000300: tracing_mark_write: s2\n' },
    { name: 'c.txt', text: '  dd-2 [001] ..... 123456789: tracing_mark_write: c1\n  dd-2 [001] ..... 123457789: tracing_mark_write: c2\n' },
  ]);
  await waitLoaded(page);
  await expect(page.getByTestId('diagnostic').first()).toContainText("c.txt:0: on a counter clock (raw integer stamps), not the kernel's ns trace clock");
  // At their own stamps: from c1 (123456789, as ns) to s2 (5000.000300 s): 5000000300000 - 123456789 ns.
  expect(await hooks(page, (h) => h.replay())).toMatchObject({ startNs: 0, endNs: 4_999_876_843_211 });
  await page.getByTestId('clock-align-starts').click();
  await waitLoaded(page);
  await expect(page.getByTestId('diagnostic').first()).toContainText("c.txt:0: offset by +4999.876643211 s (4999876643211 ns) so that its first event is at s.txt's first event");
  // c1 at s1; s2 200 µs after s1 is the last event.
  expect(await hooks(page, (h) => h.replay())).toMatchObject({ startNs: 0, endNs: 200_000 });
  expect((await hooks(page, (h) => h.stats())).events).toBe(4);
  await expect(page.getByTestId('clock-own-stamps')).toBeVisible();
  expect(errors).toEqual([]);
});

test('a recording opens from the server list (rec= in the URL reopens it) and from the picker', async ({ page }) => {
  const errors = await open(page);
  await page.getByTestId('recordings').click();
  const item = page.getByTestId('recording-item').and(page.locator(`[data-name="${REC_NAME}"]`));
  await expect(item).toContainText('20,000 events');
  await item.click();
  await waitLoaded(page);
  expect((await hooks(page, (h) => h.stats())).events).toBe(20_000);
  expect(await hooks(page, (h) => h.importStatus())).toMatchObject({ diagCount: 0, label: REC_NAME });
  // The CLI writes every data chunk joinable: Chromium's DecompressionStream inflated all of the
  // file's bodies as one stream (recording/joined.ts), none alone, and the rows are the file's.
  const chunks = await dataChunkCount(recPath);
  expect(chunks).toBeGreaterThan(1);
  expect((await hooks(page, (h) => h.importStatus())).recordingBodies).toEqual({ alone: 0, joined: chunks, runs: 1 });
  // The server's headers make the page cross-origin isolated, so the import worker filled the
  // store's columns in shared memory and the page reads them there (no copy): 20,000 rows of them.
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  expect((await hooks(page, (h) => h.stats())).sharedStoreBytes).toBeGreaterThanOrEqual(20_000 * 9);
  // Opened on the locks tab, the cache was replayed after the first frame (trace-session.ts
  // deferCache): the Mapping cache tab shows it whole.
  await page.getByTestId('tab-cache').click();
  await expect(page.getByTestId('cache-stats')).toContainText('hits');
  expect((await hooks(page, (h) => h.derived())).cacheEvents).toBeGreaterThan(0);
  await page.getByTestId('tab-locks').click();
  await expect.poll(() => page.evaluate(() => location.hash)).toContain(`rec=${REC_NAME}`);
  // A pasted link reopens it.
  const hash = await page.evaluate(() => location.hash);
  await page.goto('about:blank');
  await page.goto(server.url + hash);
  await page.waitForFunction(() => window.__fusescope?.importStatus().phase === 'done');
  expect(await hooks(page, (h) => h.source())).toBe('file');
  expect((await hooks(page, (h) => h.stats())).events).toBe(20_000);
  // The picker opens the same file.
  await page.getByTestId('file-input').setInputFiles(recPath);
  await waitLoaded(page);
  expect((await hooks(page, (h) => h.stats())).events).toBe(20_000);
  expect(await hooks(page, (h) => h.importStatus())).toMatchObject({ diagCount: 0 });
  expect(errors).toEqual([]);
});

test('a joinable recording whose body 5 is not deflate: the stream fails there, that chunk is reported, every other row can be shown', async ({ page }) => {
  const path = join(tmp, 'bad-body.fscope');
  writeFileSync(path, joinableWithBadBody(6_000, 500, 5));
  const errors = await open(page);
  await page.getByTestId('file-input').setInputFiles(path);
  // A damaged file is not shown by itself: the notice says what is wrong and how many rows were kept.
  await expect(page.getByTestId('import-error-message')).toContainText('chunk 5 body does not inflate');
  expect((await hooks(page, (h) => h.importProblem())).problem?.keptEvents).toBe(5_500);
  await page.getByTestId('import-view-kept').click();
  await waitLoaded(page);
  expect((await hooks(page, (h) => h.stats())).events).toBe(5_500);
  // Chromium's DecompressionStream fails on the bad body: it is read alone (and fails there too), and
  // the chunks after it go into a new run; the chunks before it came from the first run.
  const b = (await hooks(page, (h) => h.importStatus())).recordingBodies!;
  expect(b.alone).toBeGreaterThanOrEqual(1);
  expect(b.runs).toBeGreaterThanOrEqual(2);
  expect(b.joined).toBeGreaterThanOrEqual(6);
  expect(b.joined + b.alone).toBeGreaterThanOrEqual(12);
  expect(errors).toEqual([]);
});

test('replay: play, pause, speed, seek on the overview strip, loop a selection; back to live resumes streaming', async ({ page }) => {
  const errors = await open(page);
  await page.getByTestId('file-input').setInputFiles(recPath);
  await waitLoaded(page);
  const r0 = await hooks(page, (h) => h.replay());
  expect(r0).toMatchObject({ playing: false, playheadNs: r0.endNs });
  expect(r0.endNs).toBeGreaterThan(r0.startNs);

  // Seek: a click at 25% of the strip puts the playhead at 25% of the file, and the view with it.
  const strip = (await page.getByTestId('overview').boundingBox())!;
  await page.mouse.click(strip.x + strip.width * 0.25, strip.y + strip.height / 2);
  const r1 = await hooks(page, (h) => h.replay());
  const at25 = r0.startNs + 0.25 * (r0.endNs - r0.startNs);
  expect(Math.abs(r1.playheadNs - at25)).toBeLessThan((r0.endNs - r0.startNs) / 100);
  await waitIdle(page);
  const s1 = await hooks(page, (h) => h.stats());
  expect(s1.viewEndNs).toBeCloseTo(r1.playheadNs, -1);

  // Speed and play: the playhead moves forward; pause stops it.
  await page.getByTestId('replay-speed').selectOption('5');
  expect((await hooks(page, (h) => h.replay())).speed).toBe(5);
  await page.getByTestId('replay-play').click();
  await expect(page.getByTestId('replay-play')).toHaveText('Pause');
  await page.waitForFunction((ns) => window.__fusescope!.replay().playheadNs > ns + 1e5, r1.playheadNs);
  await page.getByTestId('replay-play').click();
  const r2 = await hooks(page, (h) => h.replay());
  expect(r2.playing).toBe(false);
  await waitIdle(page);
  expect((await hooks(page, (h) => h.replay())).playheadNs).toBe(r2.playheadNs);

  // Loop a selection: shift-drag an area on the timeline, loop it, play: the playhead wraps.
  // (Seek first so the view, and so the area and the screenshot, do not depend on how long play ran.)
  await page.mouse.click(strip.x + strip.width * 0.4, strip.y + strip.height / 2);
  const canvas = (await page.getByTestId('timeline-canvas').boundingBox())!;
  await page.keyboard.down('Shift');
  await page.mouse.move(canvas.x + 400, canvas.y + 30);
  await page.mouse.down();
  await page.mouse.move(canvas.x + 900, canvas.y + 40, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await page.getByTestId('replay-loop').check();
  expect((await hooks(page, (h) => h.replay())).loop).toBe(true);
  await page.getByTestId('replay-play').click();
  // Wrapped at least once: the playhead went back while playing.
  await page.waitForFunction(() => {
    const w = window as unknown as { __ph?: number; __wrapped?: boolean };
    const ph = window.__fusescope!.replay().playheadNs;
    if (w.__ph !== undefined && ph < w.__ph) w.__wrapped = true;
    w.__ph = ph;
    return w.__wrapped === true;
  }, undefined, { polling: 'raf' });
  await page.getByTestId('replay-play').click();
  await page.getByTestId('replay-loop').uncheck();

  // A screenshot mid-file: seek to 60%, stop following and zoom out so the unrevealed part shows.
  await page.mouse.click(strip.x + strip.width * 0.6, strip.y + strip.height / 2);
  await page.getByTestId('follow-live').uncheck();
  await page.mouse.move(canvas.x + canvas.width / 2, canvas.y + 60);
  for (let i = 0; i < 3; i++) await page.keyboard.press('s');
  await page.mouse.move(strip.x + strip.width / 2, strip.y - 20); // no tooltip in the picture
  await waitIdle(page);
  await page.screenshot({ path: shotPath('view-replay.png') });

  // Back to live: the stream resumes in this page.
  await page.getByTestId('back-to-live').click();
  await page.waitForFunction(() => window.__fusescope!.stats().connected && window.__fusescope!.source() === 'live');
  await expect(page.getByTestId('connection')).toHaveText('live');
  await expect(page.getByTestId('file-panel')).toHaveCount(0);
  const before = (await hooks(page, (h) => h.stats())).events;
  await page.waitForFunction((n) => window.__fusescope!.stats().events > n + 100, before);
  expect(await page.evaluate(() => location.hash)).not.toContain('rec=');
  expect(errors).toEqual([]);
});

test('an imported ext4 capture draws its iomap steps on per-inode lanes: the inspector names the lane dev 7:0 ino 0xc or 0xd, its dd task and the MAPPED mapping', async ({ page }) => {
  const errors = await open(page);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles(['fixtures/real/kernel-fs/ext4-dio.txt']);
  await waitLoaded(page);
  expect(await hooks(page, (h) => h.importStatus())).toMatchObject({ diagCount: 0 });
  await waitIdle(page);
  // ext4-dio.txt has no syscalls: its steps are all there is, on two inode lanes (0xc, 0xd), no dd lane.
  expect((await hooks(page, (h) => h.stats())).drawnLanes).toBe(2);
  const target = await hooks(page, (h) => h.findSpan('iomap'));
  expect(target).not.toBeNull();
  await page.mouse.click(target!.xPx, target!.yPx);
  await waitIdle(page);
  expect(await hooks(page, (h) => h.selection())).toMatchObject({ kind: 'iomap', spanId: target!.spanId });
  const inspector = page.getByTestId('inspector');
  // ext4-dio.txt: every step is on dev 7:0; the writers' steps are ino 0xc or 0xd, the reader's 0xc.
  await expect(inspector.locator('tr[data-field="inode"]')).toContainText(/dev 7:0 ino 0x[cd] \(kernel filesystem\)/);
  await expect(inspector.locator('tr[data-field="fsDev"]')).toContainText('7:0');
  // Drawn on its inode's lane; the begin event still names the dd task that ran the step.
  await expect(inspector.locator('tr[data-field="lane"]')).toContainText(/dev 7:0 ino 0x[cd]/);
  await expect(inspector.locator('tr[data-field="task"]')).toContainText(/dd\/(17997|18003|18004)/);
  await expect(inspector).toContainText('iomap_map');
  await page.screenshot({ path: 'test-results/import-ext4-steps.png' });
  expect(errors).toEqual([]);
});
