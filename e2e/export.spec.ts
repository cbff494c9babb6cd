import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';
import { validateChrome } from '../src/trace/testing/export-checks.ts';
import { decodeProto, type Msg } from '../src/export/perfetto-wire.ts';

// The page's Export menu: each format downloads (a file name after what is shown), the Chrome JSON
// follows the format and the Perfetto trace decodes with the published schema (as the CLI export
// tests check theirs), and the .fscope and Chrome JSON downloads open again in the page with the
// event count the CLI's export of the same input opens with.

const FIXTURE = 'fixtures/real/fuse2fs-hardlink';
const INPUT = [join(FIXTURE, 'trace.txt'), join(FIXTURE, 'fuse2fs-d.log')];
let server: Served;
let tmp: string;
test.beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fusescope-e2e-export-'));
  server = await serve(['--no-record']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const cli = (...args: string[]): string => execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
/** How many events `fusescope summary` counts in a file. */
const cliEvents = (file: string): number => (JSON.parse(cli('summary', file)) as { events: { total: number } }).events.total;

const waitLoaded = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());

/** Picks a format in the Export menu; the downloaded file's name and path. */
async function exportAs(page: Page, format: string): Promise<{ name: string; path: string }> {
  await page.getByTestId('export').click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`export-${format}`).click()]);
  const path = join(tmp, `${format}-${download.suggestedFilename()}`);
  await download.saveAs(path);
  await expect(page.getByTestId('export-status')).toHaveAttribute('data-phase', 'done');
  return { name: download.suggestedFilename(), path };
}

test('Export downloads the opened file in every format; the .fscope and Chrome JSON open again with the rows shown, and the CLI\'s exports count the inputs\' events', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.getByTestId('file-input').setInputFiles(INPUT);
  await waitLoaded(page);
  const shown = (await hooks(page, (h) => h.stats())).events;

  // The CLI's exports of the same two files, and what summary counts in them.
  const cliJson = join(tmp, 'cli.json');
  const cliRec = join(tmp, 'cli.fscope');
  cli('export', ...INPUT, '--format', 'chrome-json', '-o', cliJson);
  cli('record', '--source', 'files', ...INPUT, '-o', cliRec);
  const cliJsonEvents = cliEvents(cliJson);
  const cliRecEvents = cliEvents(cliRec);
  // summary counts events, not the per-task process rows (task_process, schema 4) the page's row count includes.
  const inputEvents = (JSON.parse(cli('summary', ...INPUT)) as { events: { total: number } }).events.total;
  expect(cliJsonEvents).toBe(inputEvents);
  expect(cliRecEvents).toBe(inputEvents);

  const json = await exportAs(page, 'chrome-json');
  expect(json.name).toBe('trace+1.json');
  expect(validateChrome(JSON.parse(readFileSync(json.path, 'utf8')).traceEvents)).toEqual([]);

  const pf = await exportAs(page, 'perfetto');
  expect(pf.name).toBe('trace+1.pftrace');
  const packets = decodeProto(new Uint8Array(readFileSync(pf.path)), 'Trace').packet as Msg[];
  expect(packets.filter((p) => p.track_descriptor).length).toBeGreaterThan(2);
  expect(packets.filter((p) => p.track_event).length).toBeGreaterThan(0);

  const arrow = await exportAs(page, 'arrow');
  expect(arrow.name).toBe('trace+1.arrow');
  expect(tableFromIPC(readFileSync(arrow.path)).numRows).toBe(shown);

  const rec = await exportAs(page, 'fscope');
  expect(rec.name).toBe('trace+1.fscope');
  await page.screenshot({ path: 'test-results/export-done.png' });

  // Open the downloads again: the page counts what the CLI's exports count.
  await page.getByTestId('file-input').setInputFiles(rec.path);
  await waitLoaded(page);
  await expect(page.getByTestId('file-label')).toHaveText(/trace\+1\.fscope$/);
  expect((await hooks(page, (h) => h.stats())).events).toBe(shown); // the same rows as the page showed
  await page.getByTestId('file-input').setInputFiles(json.path);
  await waitLoaded(page);
  await expect(page.getByTestId('file-label')).toHaveText(/trace\+1\.json$/);
  expect((await hooks(page, (h) => h.stats())).events).toBe(shown);
  await expect(page.getByTestId('file-format')).toContainText('chrome-json');
  expect(errors).toEqual([]);
});

test('Export of the live session writes the rows in the page as a recording named after the scenario, which opens again', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected && window.__fusescope!.stats().events > 2000);
  await page.keyboard.press(' '); // pause, so the rows in the page stay what was exported
  await page.waitForFunction(() => window.__fusescope!.idle());
  await waitIdle(page);
  const events = (await hooks(page, (h) => h.stats())).events;
  await page.getByTestId('export').click();
  await expect(page.getByTestId('export-list')).toContainText(`the ${events.toLocaleString('en-US')} live events in this page`);
  await page.getByTestId('export').click();
  const rec = await exportAs(page, 'fscope');
  expect(rec.name).toBe('live-hardlink-alias-race.fscope');
  expect(cliEvents(rec.path)).toBe(events);
  await page.getByTestId('file-input').setInputFiles(rec.path);
  await waitLoaded(page);
  expect((await hooks(page, (h) => h.stats())).events).toBe(events);
  expect(errors).toEqual([]);
});
