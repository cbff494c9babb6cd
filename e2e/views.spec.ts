import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle, shotPath } from './page.ts';

// The four linked views against the real server and its deterministic simulator. Each test
// restarts (or switches) the scenario, driving the shared session, so every test starts from a
// known point of a known scenario (a page joining later gets the run's history: live-viewers.spec.ts).

let server: Served;
test.beforeAll(async () => {
  server = await serve();
});
test.afterAll(async () => {
  await server.stop();
});


async function open(page: Page, hash = ''): Promise<string[]> {
  const errors = await openPage(page, server.url + hash);
  await page.waitForFunction(() => window.__fusescope?.stats().connected);
  return errors;
}

async function resume(page: Page): Promise<void> {
  if ((await hooks(page, (h) => h.stats().paused))) await page.getByTestId('pause').click();
  await expect(page.getByTestId('pause')).toHaveText('Pause');
}

/** Starts `scenario` from its beginning (switch, or restart when it is already running), driving the shared session. */
async function startScenario(page: Page, scenario: string): Promise<void> {
  const before = await hooks(page, (h) => h.stats().generation);
  await page.getByTestId('drive').check();
  const current = await page.getByTestId('scenario').inputValue();
  if (current === scenario) await page.getByTestId('restart').click();
  else await page.getByTestId('scenario').selectOption(scenario);
  await resume(page);
  // A fresh trace: the count dropped (reset) and refilled past the inode setup.
  await page.waitForFunction((g) => {
    const s = window.__fusescope!.stats();
    return s.generation > g && s.events > 300;
  }, before);
}

async function pause(page: Page): Promise<void> {
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('pause')).toHaveText('Resume');
  await waitIdle(page);
}

test('aliasing view lists the alias group of hardlink-alias-race, and none under the ino policy', async ({ page }) => {
  const errors = await open(page);
  await startScenario(page, 'hardlink-alias-race');
  await page.waitForFunction(() => window.__fusescope!.aliasGroups().length > 0);
  await page.getByTestId('tab-aliases').click();
  const row = page.getByTestId('alias-table').locator('tr[data-ino="12"]');
  await expect(row).toBeVisible();
  await expect(row).toContainText('/d1/file');
  await expect(row).toContainText('/d2/link');
  const groups = await hooks(page, (h) => h.aliasGroups());
  expect(groups).toHaveLength(1);
  expect(groups[0]).toMatchObject({ ino: 12, paths: ['/d1/file', '/d2/link'] });
  expect(groups[0]!.nodeIds).toHaveLength(2);
  await expect(page.getByTestId('alias-graph').locator('g.node.aliased')).toHaveCount(5); // 2 paths, 2 nodeids, 1 ino
  // No two boxes of one column overlap (each box is 16 px tall): every node is readable.
  const boxes = await page.getByTestId('alias-graph').locator('g.node rect').evaluateAll((rects) =>
    rects.map((r) => { const b = r.getBoundingClientRect(); return { x: Math.round(b.x), top: b.top, bottom: b.bottom }; }));
  for (const a of boxes) {
    for (const b of boxes) {
      if (a === b || a.x !== b.x) continue;
      expect(a.bottom <= b.top || b.bottom <= a.top, `boxes at x=${a.x} overlap: ${JSON.stringify([a, b])}`).toBe(true);
    }
  }
  await page.waitForFunction(() => window.__fusescope!.stats().events > 3000);
  await pause(page);
  await page.screenshot({ path: shotPath('view-aliasing.png') });

  await startScenario(page, 'hardlink-alias-fixed');
  await page.waitForFunction(() => window.__fusescope!.stats().events > 1000);
  await expect(page.getByTestId('alias-none')).toBeVisible();
  expect(await hooks(page, (h) => h.aliasGroups())).toEqual([]);
  await expect(page.getByTestId('alias-graph').locator('g.node[data-node="i:12"]')).toBeVisible();
  expect(errors).toEqual([]);
});

test('locks table shows contention on inode 12; clicking a wait selects its holder', async ({ page }) => {
  const errors = await open(page);
  await startScenario(page, 'hardlink-alias-fixed');
  await page.getByTestId('tab-locks').click();
  // A few ms of stream: a fuller picture, and waits wide enough to click after a little zoom.
  await page.waitForFunction(() => window.__fusescope!.derived().waits > 10 && window.__fusescope!.stats().events > 2500);
  const row = page.getByTestId('locks-table').locator('tr[data-key="ino:12"]');
  await expect(row).toBeVisible();
  // "N" or, with waits still waiting live, "N (+M still waiting)": N counts the waits that ended.
  expect(Number.parseInt((await row.locator('[data-col="contended"]').textContent())!, 10)).toBeGreaterThan(0);
  await pause(page);
  // Zoom in until single waits are wide enough to click.
  let target = await hooks(page, (h) => h.findLockWait());
  for (let i = 0; i < 12 && !target; i++) {
    await page.keyboard.press('w');
    await waitIdle(page);
    target = await hooks(page, (h) => h.findLockWait());
  }
  expect(target).not.toBeNull();
  await page.mouse.click(target!.xPx, target!.yPx);
  await waitIdle(page);
  expect(await hooks(page, (h) => h.selection())).toMatchObject({ spanId: target!.holderSpanId, kind: 'lock_hold' });
  await expect(page.getByTestId('relatives').locator('button[data-role="waiter"]').first()).toBeVisible();
  await page.screenshot({ path: shotPath('view-locks.png') });

  // The locks canvas zooms, pans and clicks through the timeline's one pan/zoom path
  // (render/time-zoom.ts), with its own feel kept: plot x = canvas x − 200 px of labels.
  const lc = (await page.getByTestId('locks-canvas').boundingBox())!;
  const plotLeftPx = 200;
  const plotWidthPx = lc.width - plotLeftPx;
  const view = async (): Promise<{ startNs: number; endNs: number }> => {
    const s = await hooks(page, (h) => h.stats());
    return { startNs: s.viewStartNs, endNs: s.viewEndNs };
  };
  // A click that moves 2 px (inside the 3 px slop) is a click: it selects and does not pan.
  const v0 = await view();
  const wait = (await hooks(page, (h) => h.findLockWait()))!;
  await page.mouse.click(lc.x + plotLeftPx + 10, lc.y + 5); // the axis row: selects nothing
  await waitIdle(page);
  expect(await hooks(page, (h) => h.selection())).toBeNull();
  await page.mouse.move(wait.xPx, wait.yPx);
  await page.mouse.down();
  await page.mouse.move(wait.xPx + 2, wait.yPx);
  await page.mouse.up();
  await waitIdle(page);
  expect(await hooks(page, (h) => h.selection())).toMatchObject({ spanId: wait.holderSpanId });
  expect(await view()).toEqual(v0);
  // One wheel notch out (deltaY 100) shows e^(100 · 0.002) ≈ 1.221× the range, about the pointer.
  const anchorPlotPx = Math.round(plotWidthPx * 0.6);
  const nsAt = (v: { startNs: number; endNs: number }, xPx: number): number => v.startNs + (xPx * (v.endNs - v.startNs)) / plotWidthPx;
  await page.mouse.move(lc.x + plotLeftPx + anchorPlotPx, lc.y + 30);
  await page.mouse.wheel(0, 100);
  await waitIdle(page);
  const v1 = await view();
  expect((v1.endNs - v1.startNs) / (v0.endNs - v0.startNs)).toBeCloseTo(Math.exp(0.2), 4);
  expect(Math.abs(nsAt(v1, anchorPlotPx) - nsAt(v0, anchorPlotPx))).toBeLessThan((v0.endNs - v0.startNs) * 1e-6);
  // Another notch, and at once (inside the 150 ms d3 waits before it ends a wheel gesture) a drag
  // 100 px left: the drag shows exactly 100 px later at the zoomed scale; a drag is not a click.
  await page.mouse.wheel(0, 100);
  const dragFromPx = lc.x + plotLeftPx + Math.round(plotWidthPx * 0.8);
  await page.mouse.move(dragFromPx, lc.y + 30);
  await page.mouse.down();
  await page.mouse.move(dragFromPx - 100, lc.y + 30, { steps: 4 });
  await page.mouse.up();
  await waitIdle(page);
  const v2 = await view();
  const w2Ns = (v1.endNs - v1.startNs) * Math.exp(0.2);
  const startAfterWheelNs = nsAt(v1, anchorPlotPx) - (anchorPlotPx * w2Ns) / plotWidthPx;
  expect((v2.endNs - v2.startNs) / w2Ns).toBeCloseTo(1, 4);
  expect((v2.startNs - startAfterWheelNs) / (w2Ns / plotWidthPx)).toBeCloseTo(100, 1);
  expect(await hooks(page, (h) => h.selection())).toMatchObject({ spanId: wait.holderSpanId });
  expect(errors).toEqual([]);
});

test('a URL round trip restores tab, range, query and selection', async ({ page, context }) => {
  await open(page);
  await startScenario(page, 'hardlink-alias-race');
  await page.waitForFunction(() => window.__fusescope!.stats().events > 2000);
  await pause(page);
  await page.getByTestId('tab-aliases').click();
  await page.keyboard.press('/');
  await page.keyboard.type('ino:12 kind:lock_wait');
  await page.keyboard.press('Enter');
  await waitIdle(page);
  await page.keyboard.press('f');
  await waitIdle(page);
  const row = await hooks(page, (h) => h.selectedRow());
  expect(row).toBeGreaterThan(0);
  const before = await hooks(page, (h) => h.stats());
  expect(before.followLive).toBe(false);
  // The URL is written at the counter rate: wait for the state read above, not an earlier one.
  await page.waitForFunction(([r, t0, t1]) => location.hash.includes(`sel=${r}`) && location.hash.includes(`t0=${t0}&t1=${t1}`),
    [row, Math.round(before.viewStartNs), Math.round(before.viewEndNs)]);
  const url = page.url();
  expect(url).toContain('tab=aliases');

  const other = await context.newPage();
  other.on('pageerror', (e) => { throw e; });
  await other.addInitScript('globalThis.__name = (f) => f');
  await other.goto(url);
  await other.waitForFunction(() => window.__fusescope?.stats().connected);
  // The link joins the run as it is (no restart): the linked row comes with the run's history.
  await other.waitForFunction((r) => window.__fusescope!.selectedRow() === r, row);
  const after = await hooks(other, (h) => h.stats());
  expect(after.viewStartNs).toBeCloseTo(before.viewStartNs, -1);
  expect(after.viewEndNs).toBeCloseTo(before.viewEndNs, -1);
  expect(await hooks(other, (h) => h.tab())).toBe('aliases');
  await expect(other.getByTestId('search')).toHaveValue('ino:12 kind:lock_wait');
  expect(await hooks(other, (h) => h.selection())).toMatchObject({ kind: 'lock_wait', beginRow: row });
  await other.close();
});

test('mapping cache view shows hits from the open\'s upsert, and misses after ioend invalidations', async ({ page }) => {
  const errors = await open(page);
  await page.getByTestId('tab-cache').click();
  // Without a kernel mapping cache (the rfc-v1 revision) the view says so plainly.
  await startScenario(page, 'cache-hit-miss-nocache');
  await expect(page.getByTestId('cache-empty')).toBeVisible();
  await startScenario(page, 'cache-hit-miss');
  await page.waitForFunction(() => window.__fusescope!.derived().cacheHits > 3 && window.__fusescope!.derived().cacheMisses > 0 && window.__fusescope!.stats().events > 2500);
  const d = await hooks(page, (h) => h.derived());
  // v7 fuse4fs upserts the file's extent when it is opened, so the first lookup already hits; a
  // miss comes only after a direct write's ioend has invalidated its block.
  expect(d.firstHitRow).toBeGreaterThanOrEqual(0);
  expect(d.firstMissRow).toBeGreaterThan(d.firstHitRow);
  await expect(page.getByTestId('cache-stats')).toContainText('hits');
  await pause(page);
  await page.screenshot({ path: shotPath('view-cache.png') });
  expect(errors).toEqual([]);
});

test('timeline: shift-drag aggregates an area by opcode and inode; flows from a selected syscall', async ({ page }) => {
  const errors = await open(page);
  await startScenario(page, 'hardlink-alias-race');
  await page.waitForFunction(() => window.__fusescope!.stats().events > 2500);
  await pause(page);
  const box = (await page.getByTestId('timeline-canvas').boundingBox())!;
  await page.keyboard.down('Shift');
  await page.mouse.move(box.x + 250, box.y + 30);
  await page.mouse.down();
  await page.mouse.move(box.x + 500, box.y + 60, { steps: 5 });
  await page.mouse.move(box.x + 750, box.y + 60, { steps: 5 });
  await page.mouse.up();
  await page.keyboard.up('Shift');
  await waitIdle(page);
  expect(await hooks(page, (h) => h.tab())).toBe('area');
  const table = page.getByTestId('area-table');
  await expect(table.locator('tr[data-key="op:4094"]')).toBeVisible(); // FUSE_IOMAP_BEGIN
  await expect(table.locator('tr[data-key="ino:12"]')).toBeVisible();
  const target = await hooks(page, (h) => h.findSpan('app_op'));
  expect(target).not.toBeNull();
  await page.mouse.click(target!.xPx, target!.yPx);
  await waitIdle(page);
  await expect(page.getByTestId('relatives').locator('button[data-role="caused"]').first()).toBeVisible();
  await page.screenshot({ path: shotPath('view-timeline.png') });
  await page.getByTestId('theme').click();
  await page.getByTestId('tab-locks').click();
  await waitIdle(page);
  await page.screenshot({ path: shotPath('view-dark.png') });
  await page.getByTestId('theme').click();
  expect(errors).toEqual([]);
});

test('run accounting shows upcalls per MiB and the cache hit rate of cache-hit-miss', async ({ page }) => {
  const errors = await open(page);
  await startScenario(page, 'cache-hit-miss');
  await page.waitForFunction(() => window.__fusescope!.stats().events > 3000);
  await page.getByTestId('tab-accounting').click();
  const upcalls = page.getByTestId('accounting-upcalls');
  await expect(upcalls.locator('tr[data-opcode="FUSE_IOMAP_BEGIN"]')).toBeVisible();
  // The v7 cache answers most begins: the hit rate refreshes once a second.
  await expect(page.getByTestId('accounting-figures').locator('tr[data-key="cacheHitRate"] td')).toHaveText(/^(9\d|8\d)\.\d% of \d+/);
  await pause(page);
  await page.screenshot({ path: shotPath('view-accounting.png') });
  expect(errors).toEqual([]);
});
