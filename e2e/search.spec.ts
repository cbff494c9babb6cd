import { expect, test, type Locator, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// Search, filters and the shortcuts sheet on the default scenario (hardlink-alias-race), paused so
// the trace stands still. Its lanes, top to bottom: mount, reader, writerB, writerA, two fuse2fs
// threads, two kworkers — at 1400×900 the timeline shows the first three whole.

let server: Served;
test.beforeAll(async () => { server = await serve(); });
test.afterAll(async () => { await server.stop(); });

async function openPaused(page: Page): Promise<string[]> {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope?.stats().connected);
  const before = await hooks(page, (h) => h.stats().generation);
  // Restarting the shared session is driving it (a passive page cannot).
  await page.getByTestId('drive').check();
  await page.getByTestId('restart').click();
  if (await hooks(page, (h) => h.stats().paused)) await page.getByTestId('pause').click();
  await page.waitForFunction((g) => { const s = window.__fusescope!.stats(); return s.generation > g && s.events > 3000; }, before);
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('pause')).toHaveText('Resume');
  await waitIdle(page);
  return errors;
}

/** True when the point at the middle of `el` hits `el` itself or its content (nothing covers or clips it there). */
async function hitAtCentre(el: Locator): Promise<boolean> {
  return el.evaluate((node) => {
    const r = node.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return top !== null && (top === node || node.contains(top));
  });
}

test('the search results list is visible above the views and clickable; Enter goes to the result: selected, zoomed to, its lane scrolled into view', async ({ page }) => {
  const errors = await openPaused(page);
  const lastLane = 'kworker/u8:2/78';
  expect(await hooks(page, (h) => h.laneTasks())).toContain(lastLane);
  // The last lane starts below the timeline's scroll box.
  expect(await page.evaluate((t) => window.__fusescope!.laneInView(t)?.visible, lastLane)).toBe(false);
  const widthBeforeNs = await hooks(page, (h) => h.stats().viewEndNs - h.stats().viewStartNs);

  await page.keyboard.press('/');
  await page.keyboard.type('kworker/u8:2');
  const list = page.getByTestId('search-results');
  await expect(list).toBeVisible();
  const hits = list.locator('.search-hit');
  await expect(hits.first()).toBeVisible();
  // Inside the viewport and on top: the header's overflow clipped it before, so the point under a result was the page below.
  const box = (await list.boundingBox())!;
  expect(box.y).toBeGreaterThan(0);
  expect(box.y + box.height).toBeLessThanOrEqual(900);
  expect(box.x).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width).toBeLessThanOrEqual(1400);
  expect(await hitAtCentre(hits.first())).toBe(true);
  expect(await hitAtCentre(hits.nth(2))).toBe(true);
  await page.screenshot({ path: 'test-results/search-results.png' });

  // ↓ moves to the second result; Enter goes there.
  await expect(hits.nth(0)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('ArrowDown');
  await expect(hits.nth(1)).toHaveAttribute('aria-selected', 'true');
  await page.keyboard.press('Enter');
  await expect(list).toBeHidden();
  await waitIdle(page);
  expect(await hooks(page, (h) => h.selectedRow())).toBeGreaterThanOrEqual(0);
  expect(await page.evaluate((t) => window.__fusescope!.laneInView(t)?.visible, lastLane)).toBe(true);
  // Zoomed to it: narrower than the live window it showed before.
  expect(await hooks(page, (h) => h.stats().viewEndNs - h.stats().viewStartNs)).toBeLessThan(widthBeforeNs);
  // The page has the keys again (the field let go of the focus).
  expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '')).not.toBe('search');

  // A click on a result goes there too: the third hit of a fresh list.
  const before = await hooks(page, (h) => h.selectedRow());
  await page.getByTestId('search').click();
  await expect(list).toBeVisible();
  const third = hits.nth(2);
  const row = Number(await third.getAttribute('data-row'));
  const b = (await third.boundingBox())!;
  await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2);
  await expect(list).toBeHidden();
  await waitIdle(page);
  const after = await hooks(page, (h) => h.selectedRow());
  expect(after).not.toBe(before);
  expect(after).toBeLessThanOrEqual(row); // the row, or the begin row of the span it belongs to
  // Tab puts the focus on the list, where f goes to the active result (here the first).
  await page.getByTestId('search').click();
  await page.mouse.move(5, 600); // off the list, so hovering does not pick a result
  await expect(list).toBeVisible();
  await page.keyboard.press('Tab');
  await expect(list).toBeFocused();
  await page.keyboard.press('f');
  await expect(list).toBeHidden();
  await expect(page.getByTestId('search')).toHaveValue('kworker/u8:2');
  await waitIdle(page);
  expect(await hooks(page, (h) => h.selectedRow())).not.toBe(after);
  const afterF = await hooks(page, (h) => h.selectedRow());
  // Escape closes the list and leaves the selection alone.
  await page.getByTestId('search').click();
  await expect(list).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(list).toBeHidden();
  expect(await hooks(page, (h) => h.selectedRow())).toBe(afterF);
  expect(errors).toEqual([]);
});

test('free text finds an opcode by its name and a request by its unique', async ({ page }) => {
  const errors = await openPaused(page);
  await page.keyboard.press('/');
  await page.keyboard.type('fuse_iomap_begin');
  const list = page.getByTestId('search-results');
  const hits = list.locator('.search-hit');
  await expect(hits.first()).toContainText('FUSE_IOMAP_BEGIN');
  const n = await hits.count();
  for (let i = 0; i < n; i++) await expect(hits.nth(i)).toContainText('FUSE_IOMAP_BEGIN');
  const unique = /unique (\d+)/.exec((await hits.first().textContent()) ?? '')![1]!;
  await page.getByTestId('search').fill(unique);
  // Its send and its reply (and perhaps a nodeid or inode of that number).
  await expect(list.locator('.search-hit', { hasText: new RegExp(`fuse_send .*unique ${unique}\\b`) })).toHaveCount(1);
  await expect(list.locator('.search-hit', { hasText: new RegExp(`fuse_reply .*unique ${unique}\\b`) })).toHaveCount(1);
  expect(errors).toEqual([]);
});

test('task:writerA keeps writerA in the locks view (its lanes and its table rows, in every grouping) and its timeline lane', async ({ page }) => {
  const errors = await openPaused(page);
  await page.getByTestId('tab-locks').click();
  await page.keyboard.press('/');
  await page.keyboard.type('task:writerA');
  await page.keyboard.press('Escape');
  await waitIdle(page);
  // The lock × task lanes: writerA's row under its lock's header, no other task's.
  const labels = await hooks(page, (h) => h.lockRowLabels());
  expect(labels).toContain('writerA/1001');
  expect(labels).not.toContain('reader/1003');
  expect(labels).not.toContain('writerB/1002');
  expect(await hooks(page, (h) => h.laneTasks())).toContain('writerA/1001');
  // The table, grouped by task: writerA's row only.
  const table = page.getByTestId('locks-table');
  await page.getByTestId('locks-groupby').selectOption('task');
  await expect(table.locator('tbody tr[data-key]')).toHaveCount(1);
  await expect(table.locator('tbody tr[data-key]')).toHaveAttribute('data-key', 'task:writerA/1001');
  const writerAWaits = await table.locator('td[data-col="contended"]').textContent();
  // Grouped by inode: ino 12's row counts writerA's waits only (the reader's waited on it too).
  await page.getByTestId('locks-groupby').selectOption('ino');
  await expect(table.locator('tbody tr[data-key]')).toHaveCount(1);
  await expect(table.locator('td[data-col="contended"]')).toHaveText(writerAWaits!);
  // Without the filter ino 12 counts more waits than writerA's.
  await page.getByTestId('search').fill('');
  await page.keyboard.press('Escape');
  await expect(table.locator('td[data-col="contended"]').first()).not.toHaveText(writerAWaits!);
  expect(errors).toEqual([]);
});

test('? opens the keyboard shortcuts sheet (so does the header button); it lists the keys the page handles', async ({ page }) => {
  const errors = await openPaused(page);
  await page.keyboard.press('?');
  const sheet = page.getByTestId('shortcuts-sheet');
  await expect(sheet).toBeVisible();
  for (const action of ['search', 'help', 'pause', 'focus-selection', 'zoom-in', 'pan-later', 'result-choose']) {
    await expect(sheet.locator(`tr[data-action="${action}"]`)).toHaveCount(1);
  }
  await expect(sheet.locator('tr[data-action="zoom-in"] kbd')).toHaveText('W');
  expect(await hitAtCentre(sheet.locator('h2'))).toBe(true);
  await page.screenshot({ path: 'test-results/shortcuts-sheet.png' });
  await page.keyboard.press('Escape');
  await expect(sheet).toBeHidden();
  // Typed into the search field, ? is text.
  await page.keyboard.press('/');
  await page.keyboard.type('?');
  await expect(page.getByTestId('search')).toHaveValue('?');
  await expect(sheet).toBeHidden();
  await page.keyboard.press('Escape');
  await page.getByTestId('shortcuts').click();
  await expect(sheet).toBeVisible();
  await page.getByTestId('shortcuts-close').click();
  await expect(sheet).toBeHidden();
  expect(errors).toEqual([]);
});
