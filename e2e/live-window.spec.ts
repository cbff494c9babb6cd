import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// The live window (src/app/live-window.ts): a live page keeps the newest `?window=` events and
// evicts older ones, so browser memory stays bounded however long the session runs. Its own
// server, streaming fast, so a small window fills in seconds; recordings go to a temp dir.
let server: Served;
let recordDir: string;
test.beforeAll(async () => {
  recordDir = mkdtempSync(join(tmpdir(), 'fusescope-window-'));
  server = await serve(['--speed', '20', '--record-dir', recordDir]);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(recordDir, { recursive: true, force: true });
});

const WINDOW = 20_000;

/** After a pause the server's send backlog still drains for a while, with pauses longer than an
 *  idle period: wait until no event has arrived for a second and the page is idle. */
const waitSettled = (page: Page): Promise<unknown> => page.waitForFunction(() => {
  const w = window as unknown as { __lastReceived?: number; __receivedSinceMs?: number };
  const n = window.__fusescope!.liveWindow().receivedEvents;
  const now = performance.now();
  if (w.__lastReceived !== n) {
    w.__lastReceived = n;
    w.__receivedSinceMs = now;
    return false;
  }
  return now - w.__receivedSinceMs! >= 1000 && window.__fusescope!.idle();
}, undefined, { polling: 100, timeout: 30_000 });

test('a live session with a small window evicts old events and keeps drawing the newest', async ({ page }) => {
  test.setTimeout(120_000); // streams until three evictions, then lets the server's backlog drain
  const url = new URL(server.url);
  url.searchParams.set('window', String(WINDOW));
  const errors = await openPage(page, url.toString());
  expect(await hooks(page, (h) => h.liveWindow().windowEvents)).toBe(WINDOW);
  await expect(page.getByTestId('live-window')).toHaveValue(String(WINDOW));

  // Sample the store's size on every task turn of the page while it streams: no sample may ever
  // see more than the cap (1.5 × window: the next window is built while the stream goes on).
  await page.evaluate(() => {
    const w = window as unknown as { __maxRows: number };
    w.__maxRows = 0;
    const sample = (): void => {
      w.__maxRows = Math.max(w.__maxRows, window.__fusescope!.liveWindow().storeRows);
      setTimeout(sample, 0);
    };
    sample();
  });
  // Three evictions: each starts past window + slack rows and swaps in when its rebuild caught up.
  await page.waitForFunction(() => window.__fusescope!.liveWindow().evictions >= 3, undefined, { timeout: 45_000 });
  await page.getByTestId('pause').click();
  await waitSettled(page);

  const lw = await hooks(page, (h) => h.liveWindow());
  const maxSeen = await page.evaluate(() => (window as unknown as { __maxRows: number }).__maxRows);
  expect(lw.maxRows).toBe(WINDOW * 1.75); // window + slack + twice the quarter window a rebuild needs to catch up
  // It did fill past the window before evicting (counted by the page at each batch: a sampler on
  // task turns misses the peak when a batch and the rebuild's swap land in one turn).
  expect(lw.peakStoreRows).toBeGreaterThan(WINDOW * 1.25);
  expect(maxSeen).toBeLessThanOrEqual(lw.maxRows);
  expect(lw.storeRows).toBeGreaterThanOrEqual(WINDOW * 0.75);
  expect(lw.storeRows).toBeLessThanOrEqual(lw.maxRows);
  expect(lw.evictedEvents).toBeGreaterThanOrEqual(3 * WINDOW * 0.25);
  expect(lw.receivedEvents).toBe(lw.evictedEvents + lw.storeRows);
  const s = await hooks(page, (h) => h.stats());
  expect(s.events).toBe(lw.storeRows);
  expect(s.generation).toBe(1); // evictions are not restarts

  // The user sees it: the evicted count and where the full history is.
  const status = page.getByTestId('live-window-status');
  await expect(status).toBeVisible();
  await expect(status).toHaveAttribute('data-evicted', String(lw.evictedEvents));
  await expect(status).toContainText(`${lw.evictedEvents.toLocaleString('en-US')} evicted`);
  await expect(status).toContainText('session recording');
  // The header counts every event received, evicted ones included.
  await expect(page.getByTestId('counters')).toContainText(`${lw.receivedEvents.toLocaleString('en-US')} events`);

  // Following live, the timeline shows and draws the newest events.
  expect(s.followLive).toBe(true);
  expect(s.viewEndNs).toBe(lw.endNs);
  expect(s.drawnLanes).toBeGreaterThanOrEqual(3);
  expect(s.drawnPrimitives).toBeGreaterThan(20);
  // A drawn span is clickable and names a row of the kept window; the link names the stream's row.
  // (iomap steps: one per task at a time, so nothing else is drawn under the click.)
  const target = await hooks(page, (h) => h.findSpan('iomap'));
  expect(target).not.toBeNull();
  await page.mouse.click(target!.xPx, target!.yPx);
  await waitIdle(page);
  const sel = await hooks(page, (h) => h.selection());
  expect(sel).toMatchObject({ spanId: target!.spanId, kind: 'iomap' });
  expect(sel!.beginRow).toBeGreaterThanOrEqual(0);
  expect(sel!.beginRow).toBeLessThan(lw.storeRows);
  await page.waitForFunction((row) => new URLSearchParams(location.hash.slice(1)).get('sel') === String(row), sel!.beginRow + lw.evictedEvents);
  expect(new URLSearchParams(new URL(page.url()).hash.slice(1)).get('window')).toBe(String(WINDOW));

  // The window is settable in the controls; a bigger one evicts nothing more.
  await page.getByTestId('live-window').selectOption('100000');
  await page.waitForFunction(() => window.__fusescope!.liveWindow().windowEvents === 100_000);
  expect((await hooks(page, (h) => h.liveWindow())).evictedEvents).toBe(lw.evictedEvents);
  expect(errors).toEqual([]);
});
