import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// Switching what the page shows between files: a file that fails to import leaves the trace shown
// before it (live or a file) as it was, and says why, naming the file and line; the view state of
// one file (area selection, selection, filter) does not carry to the next, the theme does.

const FIXTURE = 'fixtures/real/fuse2fs-hardlink';
let server: Served;
let tmp: string;
test.beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fusescope-e2e-switch-'));
  server = await serve(['--no-record']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const waitLoaded = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());

/** Drops files on the page the way a browser does: dragenter, dragover, drop with a DataTransfer. */
async function dropFiles(page: Page, files: Array<{ name: string; text: string }>): Promise<void> {
  const dt = await page.evaluateHandle((fs) => {
    const d = new DataTransfer();
    for (const f of fs) d.items.add(new File([f.text], f.name, { type: 'text/plain' }));
    return d;
  }, files);
  for (const type of ['dragenter', 'dragover', 'drop']) await page.dispatchEvent('body', type, { dataTransfer: dt });
}

// An ftrace file by its header, whose two lines after it are not trace lines: nothing to show.
const MALFORMED = { name: 'bad.txt', text: '# tracer: nop\n#\nthis is not a trace line\nneither is this\n' };

test('a malformed file dropped over an open file leaves that file shown (lanes, axis, events) and names the bad lines', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.getByTestId('file-input').setInputFiles([join(FIXTURE, 'trace.txt'), join(FIXTURE, 'fuse2fs-d.log')]);
  await waitLoaded(page);
  await waitIdle(page);
  const before = await hooks(page, (h) => h.stats());
  expect(before.drawnLanes).toBeGreaterThan(1);
  expect(before.viewStartNs).toBeGreaterThanOrEqual(0);

  await dropFiles(page, [MALFORMED]);
  const notice = page.getByTestId('import-error');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('bad.txt was not opened');
  // Lines 3 and 4 of bad.txt (after `# tracer: nop` and `#`) are the ones that are not trace lines.
  await expect(page.getByTestId('import-error-diag')).toHaveText([/^bad\.txt:3(:\d+)?: /, /^bad\.txt:4(:\d+)?: /]);
  await waitIdle(page);
  const after = await hooks(page, (h) => h.stats());
  expect(after.events).toBe(before.events);
  expect(after.drawnLanes).toBe(before.drawnLanes);
  expect([after.viewStartNs, after.viewEndNs]).toEqual([before.viewStartNs, before.viewEndNs]);
  await expect(page.getByTestId('file-label')).toHaveText('trace.txt + fuse2fs-d.log');
  expect(await hooks(page, (h) => h.source())).toBe('file');
  await page.screenshot({ path: 'test-results/import-failed-over-file.png' });
  await page.getByTestId('import-dismiss').click();
  await expect(notice).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('a file nothing recognises, dropped on the live page, leaves it live and streaming; the error names the file and line', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected && window.__fusescope!.stats().events > 100);
  await dropFiles(page, [{ name: 'notes.txt', text: 'shopping list\neggs\n' }]);
  await expect(page.getByTestId('import-error')).toContainText('notes.txt was not opened');
  await expect(page.getByTestId('import-error-diag').first()).toContainText(/^notes\.txt:1: no known format/);
  expect(await hooks(page, (h) => h.source())).toBe('live');
  await expect(page.getByTestId('connection')).toHaveText('live');
  const n = (await hooks(page, (h) => h.stats())).events;
  await page.waitForFunction((k) => window.__fusescope!.stats().events > k, n);
  const s = await hooks(page, (h) => h.stats());
  expect(s.viewEndNs).toBeGreaterThan(0);
  expect(errors).toEqual([]);
});

test('the area selection, selection and filter of one file do not carry to the next; the theme does', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.getByTestId('theme').click();
  await page.getByTestId('file-input').setInputFiles([join(FIXTURE, 'trace.txt'), join(FIXTURE, 'fuse2fs-d.log')]);
  await waitLoaded(page);
  await waitIdle(page);
  // Shift-drag an area on the timeline: the URL names it (area=).
  const canvas = (await page.getByTestId('timeline-canvas').boundingBox())!;
  await page.keyboard.down('Shift');
  await page.mouse.move(canvas.x + 300, canvas.y + 30);
  await page.mouse.down();
  await page.mouse.move(canvas.x + 700, canvas.y + 40, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await page.getByTestId('search').fill('dd');
  await expect.poll(() => page.evaluate(() => location.hash)).toContain('area=');
  expect((await hooks(page, (h) => h.traceViewState())).query).toBe('dd');

  await page.getByTestId('file-input').setInputFiles(['fixtures/real/kernel-fs/ext4-dio.txt']);
  await waitLoaded(page);
  await expect(page.getByTestId('file-label')).toHaveText('ext4-dio.txt');
  const v = await hooks(page, (h) => h.traceViewState());
  expect(v).toMatchObject({ selectedRow: -1, query: '', pins: [], theme: 'dark' });
  expect(Number.isNaN(v.areaFromNs)).toBe(true);
  await expect.poll(() => page.evaluate(() => location.hash)).not.toContain('area=');
  expect(await page.evaluate(() => location.hash)).toContain('theme=dark');
  expect(errors).toEqual([]);
});

test('the mapping-cache tab of an imported file names the file, not the live scenario', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles(['fixtures/real/kernel-fs/ext4-dio.txt']);
  await waitLoaded(page);
  await page.getByTestId('tab-cache').click();
  // ext4-dio.txt has upstream iomap steps and no fuse-iomap cache tracepoints.
  const empty = page.getByTestId('cache-empty');
  await expect(empty).toContainText('(file ext4-dio.txt)');
  await expect(empty).not.toContainText('scenario');
  expect(errors).toEqual([]);
});

test('a recording cut short is held: the live page stays until the user views the events before the cut', async ({ page }) => {
  // 20,000 simulator events are written in chunks of 8,192 rows; cut at 70 % of the file, chunk 0 is
  // whole and chunk 1 is not: 8,192 events can be read.
  const whole = join(tmp, 'whole.fscope');
  execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'record', '--source', 'sim', '--events', '20000', '-o', whole], { stdio: 'pipe' });
  const bytes = readFileSync(whole);
  const cut = join(tmp, 'cut.fscope');
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles(cut);
  const notice = page.getByTestId('import-error');
  await expect(notice).toContainText('cut.fscope stopped part way');
  await expect(notice).toContainText('8,192 events were read before that');
  await expect(page.getByTestId('import-error-message')).toContainText('truncated chunk 1');
  expect(await hooks(page, (h) => h.source())).toBe('live');
  await page.getByTestId('import-view-kept').click();
  await waitLoaded(page);
  expect(await hooks(page, (h) => h.source())).toBe('file');
  expect((await hooks(page, (h) => h.stats())).events).toBe(8192);
  await expect(notice).toHaveCount(0);
  expect(errors).toEqual([]);
});
