import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// Room for real traces (issue 19): the splitter, lanes grouped / collapsed / resized / pinned,
// lane roles from the data, tick labels that always differ, the time mode. Lane counts and roles
// are counted by hand from the fixture (`fusescope import … | grep` of its tasks and kinds).

let server: Served;
test.beforeAll(async () => { server = await serve(['--no-record']); });
test.afterAll(async () => { await server.stop(); });

const MANY = 'fixtures/real/many-lanes/fuse2fs-readers-writers.fscope';

async function openFile(page: Page, path: string): Promise<string[]> {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles([path]);
  await page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());
  return errors;
}

const lanes = (page: Page) => hooks(page, (h) => h.timelineLanes());

/** Drags the splitter as far down as it goes (the tabs keep their minimum). A live page is never
 *  idle while its scenario streams, so it waits for idle only on a file (`settle`). */
async function enlargeTimeline(page: Page, settle = true): Promise<void> {
  const bar = (await page.getByTestId('splitter').boundingBox())!;
  await page.mouse.move(bar.x + bar.width / 2, bar.y + bar.height / 2);
  await page.mouse.down();
  await page.mouse.move(bar.x + bar.width / 2, 890, { steps: 4 });
  await page.mouse.up();
  if (settle) await waitIdle(page);
}

const scrollTimeline = (page: Page, topPx: number): Promise<void> =>
  page.evaluate((y) => { document.querySelector('.timeline-scroll')!.scrollTop = y; }, topPx);

test('a 70-lane real capture: every lane is reachable after enlarging the timeline with the splitter, roles come from the data', async ({ page }) => {
  const errors = await openFile(page, MANY);
  const all = await lanes(page);
  // 35 fsw-reader-b + 26 fsw-writer-a tasks, fsw-setup, fsw-link, one send by '<...>/18177', and 6
  // fuse2fs threads (5 with fuse_request_end lines, 18104 with only lock events): 70 lanes.
  expect(all).toHaveLength(70);
  const role = Object.fromEntries(all.map((l) => [l.task, l.role]));
  for (const t of ['fuse2fs/18105', 'fuse2fs/18106', 'fuse2fs/18108', 'fuse2fs/18109', 'fuse2fs/18145']) expect(role[t]).toBe('server');
  // The main thread only waited on a lock: the trace does not say what it is.
  expect(role['fuse2fs/18104']).toBe('unknown');
  expect(all.filter((l) => l.task.startsWith('fsw-')).every((l) => l.role === 'app')).toBe(true);
  const before = all.filter((l) => l.inView).length;

  const panelBefore = (await page.getByTestId('timeline-panel').boundingBox())!.height;
  await enlargeTimeline(page);
  const panelAfter = (await page.getByTestId('timeline-panel').boundingBox())!.height;
  // The panel opened fitted to its lanes up to 3/4 of the room (MainPage FIT_SHARE), so the drag to
  // the tabs' minimum adds less than it did from the old fixed 46 % share; it still adds lanes.
  expect(panelAfter).toBeGreaterThan(panelBefore + 40);
  const after = (await lanes(page)).filter((l) => l.inView).length;
  expect(after).toBeGreaterThan(before);
  // The rest is a scroll away: the timeline has a scrollbar, and scrolling through shows every lane whole.
  const { scrollHeight, clientHeight } = await page.evaluate(() => {
    const el = document.querySelector('.timeline-scroll')!;
    return { scrollHeight: el.scrollHeight, clientHeight: el.clientHeight };
  });
  expect(scrollHeight).toBeGreaterThan(clientHeight);
  const seen = new Set<string>();
  for (let y = 0; y < scrollHeight; y += Math.floor(clientHeight / 2)) {
    await scrollTimeline(page, y);
    await waitIdle(page);
    for (const l of await lanes(page)) if (l.inView) seen.add(l.task);
  }
  expect(seen.size).toBe(70);
  expect(errors).toEqual([]);
});

test('lanes: a group header folds its lanes, ▾ collapses one lane, its lower edge resizes it, a pinned lane stays on top while the rest scroll', async ({ page }) => {
  const errors = await openFile(page, MANY);
  await enlargeTimeline(page);
  const canvas = (await page.getByTestId('timeline-canvas').boundingBox())!;
  const laneOf = async (task: string) => (await lanes(page)).find((l) => l.task === task)!;

  // Fold both big groups (their header row is the 18 px above their first lane).
  for (const comm of ['fsw-writer-a', 'fsw-reader-b']) {
    const first = (await lanes(page)).find((l) => l.task.startsWith(`${comm}/`))!;
    await page.mouse.click(canvas.x + 60, first.topPx - 9);
    await waitIdle(page);
  }
  let now = await lanes(page);
  expect(now.filter((l) => l.hidden).length).toBe(61); // 26 writers + 35 readers
  await page.screenshot({ path: 'test-results/room-folded.png' });
  // The 9 others, from the top of the scroll box to its end: fsw-setup, fsw-link, <...>/18177 and the 6 fuse2fs threads.
  const shown = new Set(now.filter((l) => l.inView).map((l) => l.task));
  await scrollTimeline(page, 100_000);
  await waitIdle(page);
  for (const l of await lanes(page)) if (l.inView) shown.add(l.task);
  await scrollTimeline(page, 0);
  await waitIdle(page);
  expect([...shown].sort()).toEqual(['<...>/18177', 'fsw-link/18110', 'fsw-setup/18107',
    'fuse2fs/18104', 'fuse2fs/18105', 'fuse2fs/18106', 'fuse2fs/18108', 'fuse2fs/18109', 'fuse2fs/18145']);

  // ▾ at the label's left collapses the lane to four 3 px strips; again opens it (4 × 11 px).
  let setup = await laneOf('fsw-setup/18107');
  expect(setup.bottomPx - setup.topPx).toBe(44);
  await page.mouse.click(canvas.x + 5, setup.topPx + 6);
  await waitIdle(page);
  setup = await laneOf('fsw-setup/18107');
  expect(setup.collapsed).toBe(true);
  expect(setup.bottomPx - setup.topPx).toBe(12);
  await page.mouse.click(canvas.x + 5, setup.topPx + 6);
  await waitIdle(page);
  setup = await laneOf('fsw-setup/18107');
  expect([setup.collapsed, setup.bottomPx - setup.topPx]).toEqual([false, 44]);

  // Dragging the gap under a lane 40 px down: each of its 4 sub-rows 10 px taller (44 → 84).
  const link = await laneOf('fsw-link/18110');
  await page.mouse.move(canvas.x + 400, link.bottomPx + 3);
  await page.mouse.down();
  await page.mouse.move(canvas.x + 400, link.bottomPx + 43, { steps: 4 });
  await page.mouse.up();
  await waitIdle(page);
  const resized = await laneOf('fsw-link/18110');
  expect(resized.bottomPx - resized.topPx).toBe(84);
  // The drag resized; it did not pan the time range.
  const stats = await hooks(page, (h) => h.stats());
  expect(stats.viewStartNs).toBeLessThanOrEqual(await hooks(page, (h) => h.replay().startNs));

  // Pin the last fuse2fs thread (a click on its label, scrolled into view), open the readers again, scroll to the bottom.
  await scrollTimeline(page, 100_000);
  await waitIdle(page);
  const last = await laneOf('fuse2fs/18145');
  expect(last.inView).toBe(true);
  await page.mouse.click(canvas.x + 60, last.topPx + 8);
  await waitIdle(page);
  now = await lanes(page);
  expect([now[0]!.task, now[0]!.pinned]).toEqual(['fuse2fs/18145', true]);
  await scrollTimeline(page, 0);
  await waitIdle(page);
  const readers = (await lanes(page)).find((l) => l.task.startsWith('fsw-reader-b/'))!;
  await page.mouse.click(canvas.x + 60, readers.topPx - 9);
  await waitIdle(page);
  expect((await lanes(page)).filter((l) => l.hidden).length).toBe(26);
  await scrollTimeline(page, 100_000);
  await waitIdle(page);
  const box = (await page.locator('.timeline-scroll').boundingBox())!;
  const pinned = await laneOf('fuse2fs/18145');
  // Still on screen, at the top of the scrolled box (4 px pad), while the lanes that were under it scrolled away.
  expect(pinned.inView).toBe(true);
  expect(Math.round(pinned.topPx - box.y)).toBe(4);
  expect((await laneOf('fsw-setup/18107')).inView).toBe(false);
  await page.screenshot({ path: 'test-results/room-pinned-scrolled.png' });
  expect(errors).toEqual([]);
});

test('the default scenario at 1400×900: all six lanes show without touching the splitter; it moves with ↑/↓, is kept across a reload, and a double-click gives the fit back', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.timelineLanes().length >= 6);
  // The timeline fits its lanes until the user moves the splitter (the old fixed share showed four).
  await page.waitForFunction(() => window.__fusescope!.timelineLanes().slice(0, 6).every((l) => l.inView));
  const height = async (): Promise<number> => Math.round((await page.getByTestId('timeline-panel').boundingBox())!.height);
  const fitted = await height();
  const tabs = (await page.locator('.tabs-panel').boundingBox())!;
  expect(tabs.height).toBeGreaterThanOrEqual(90);
  await enlargeTimeline(page, false);
  const big = await height();
  expect(big).toBeGreaterThan(fitted);
  await page.getByTestId('splitter').focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  expect(await height()).toBe(big - 48);
  await page.keyboard.press('ArrowDown');
  expect(await height()).toBe(big - 24);
  await page.reload();
  await page.waitForFunction(() => window.__fusescope !== undefined);
  expect(await height()).toBe(big - 24);
  await page.getByTestId('splitter').dblclick();
  await page.waitForFunction(() => window.__fusescope!.timelineLanes().slice(0, 6).every((l) => l.inView));
  // Back to the fit (the findings above may have grown a line since, so within a line of it).
  expect(Math.abs((await height()) - fitted)).toBeLessThanOrEqual(40);
  expect(errors).toEqual([]);
});

test('tick labels differ at every zoom step from the whole 1.06 s capture down to ~1 µs, on the clock and since the first event', async ({ page }) => {
  const errors = await openFile(page, MANY);
  const check = async (): Promise<string[]> => {
    const labels = await hooks(page, (h) => h.axisLabels());
    expect(labels.length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < labels.length; i++) expect(labels[i], `${labels.join(' | ')}`).not.toBe(labels[i - 1]);
    return labels;
  };
  // The clock: the recording's originNs is 57464780453967 (its header; `fusescope import` prints it), so the
  // whole capture reads 57464.8 s … 57465.8 s.
  const whole = await check();
  expect(whole[0]).toMatch(/^57464\.\d+ s$/);
  await page.mouse.move(5, 5); // W zooms about the middle with the pointer off the canvas
  let widthNs = Infinity;
  let steps = 0;
  while (widthNs > 1500) {
    await page.keyboard.press('w');
    await waitIdle(page);
    await check();
    const s = await hooks(page, (h) => h.stats());
    widthNs = s.viewEndNs - s.viewStartNs;
    steps++;
    expect(steps).toBeLessThan(100);
  }
  const deep = await check();
  expect(deep[0]).toMatch(/ (µs|ns)$/);
  // Since the first event: the same view, labelled from the fsw-setup send at 10.652033 ms.
  await page.getByTestId('time-mode').click();
  await waitIdle(page);
  await expect(page.getByTestId('time-mode')).toHaveText('t − first event');
  const rel = await check();
  expect(rel).not.toEqual(deep);
  // Back out to the whole range, checking every step in this mode too.
  while (steps-- > 0) {
    await page.keyboard.press('s');
    await waitIdle(page);
    await check();
  }
  expect((await check())[0]).toMatch(/^0(\.0+)? s$|^0(\.0+)? ms$|^[0-9.]+ (s|ms)$/);
  // The locks view's canvas axis (was 3 significant digits) in the deepest zoom reads apart too.
  await page.getByTestId('tab-locks').click();
  for (let i = 0; i < 40; i++) await page.keyboard.press('w');
  await waitIdle(page);
  const locks = await hooks(page, (h) => h.axisLabels('locks'));
  expect(locks.length).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < locks.length; i++) expect(locks[i]).not.toBe(locks[i - 1]);
  expect(errors).toEqual([]);
});

test('at 1400×900 live, with a filter on: the header counters and the timeline hint are whole, the tab labels stay on one line', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().events > 1000);
  // Wider than its box = cut ("100,…" was the counters' ellipsis); past the window's right edge = cut by the header.
  const whole = (sel: string) => page.locator(sel).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return el.scrollWidth <= el.clientWidth + 1 && r.right <= window.innerWidth && r.width > 0;
  });
  expect(await whole('[data-testid="counters"]')).toBe(true);
  await expect(page.getByTestId('counters')).toContainText(/ events · [\d,]+ spans · [\d,]+ ev\/s$/);
  expect(await whole('.timeline-panel .panel-head .hint')).toBe(true);
  await page.getByTestId('search').fill('task:writerA opcode:IOMAP_BEGIN ino:12 off:0-64k type:unwritten');
  await expect(page.locator('.tabs .hint')).toContainText('filtered by');
  const tabs = await page.locator('.tabs [role="tab"]').evaluateAll((els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { top: Math.round(r.top), height: Math.round(r.height), text: e.textContent };
  }));
  expect(tabs.length).toBeGreaterThanOrEqual(5);
  // One line of 13 px text with 4 px padding is ~26 px; a wrapped label is ~2 lines.
  for (const t of tabs) expect(t.height, t.text!).toBeLessThan(32);
  // All on one row (the active tab sits ½ px lower: its margin overlaps the rule under the tabs).
  expect(Math.max(...tabs.map((t) => t.top)) - Math.min(...tabs.map((t) => t.top))).toBeLessThanOrEqual(1);
  expect(errors).toEqual([]);
});

test('at 1920×1080 live: the whole header is one row, and every lane of the default scenario shows without the splitter', async ({ page }) => {
  await page.setViewportSize({ width: 1920, height: 1080 });
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().events > 1000 && window.__fusescope!.timelineLanes().length >= 8);
  // The search box gives way (it used to push the theme button onto a second row of its own).
  const rows = await page.locator('header.header > *').evaluateAll((els) => els.filter((e) => e.getBoundingClientRect().width > 0)
    .map((e) => { const r = e.getBoundingClientRect(); return Math.round(r.top + r.height / 2); }));
  expect(Math.max(...rows) - Math.min(...rows)).toBeLessThanOrEqual(6);
  await page.waitForFunction(() => window.__fusescope!.timelineLanes().every((l) => l.inView));
  expect(errors).toEqual([]);
});
