import { expect, test, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle, shotPath } from './page.ts';

// A/B compare: two recordings written by the real CLI (the fuse-server model of random-dio and
// its kernel-ext4 baseline) open side by side from the server's list; both timelines draw on one
// aligned axis, zoom and the cursor are shared, the table holds exactly `fusescope diff --json`'s
// numbers, cmp= reopens it, alignment on a selected event works, and Back returns to live.

const A = 'random-dio.fscope';
const B = 'random-dio-ext4.fscope';
const EVENTS = '20000';
let server: Served;
let tmp: string;
interface JsonRow { metric: string; unit: string; a: number | null; b: number | null; ratio: number | null }
let expected: JsonRow[];

const cli = (args: string[]): string => execFileSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { encoding: 'utf8', stdio: 'pipe' });

test.beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fusescope-e2e-compare-'));
  const sessions = join(tmp, 'sessions');
  mkdirSync(sessions);
  cli(['record', '--source', 'sim', '--scenario', 'random-dio', '--events', EVENTS, '-o', join(sessions, A)]);
  cli(['record', '--source', 'sim', '--scenario', 'random-dio-ext4', '--events', EVENTS, '-o', join(sessions, B)]);
  expected = (JSON.parse(cli(['diff', '--json', join(sessions, A), join(sessions, B)])) as { rows: JsonRow[] }).rows;
  server = await serve(['--record-dir', sessions, '--no-record']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const waitCompared = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => window.__fusescope!.compare()?.loaded === true && window.__fusescope!.idle());
const compareInfo = async (page: Page) => (await hooks(page, (h) => h.compare()))!;

async function open(page: Page, hash = ''): Promise<string[]> {
  const errors = await openPage(page, server.url + hash);
  return errors;
}

/** A side's view in aligned time, and its width. */
const alignedView = (s: { viewStartNs: number; viewEndNs: number; anchorNs: number }) => ({
  startNs: s.viewStartNs - s.anchorNs, widthNs: s.viewEndNs - s.viewStartNs,
});

test('compare two recordings: both timelines, the diff table = fusescope diff --json, shared zoom and cursor, cmp= link, back to live', async ({ page }) => {
  const errors = await open(page);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('compare-open').click();
  await expect(page.getByTestId('compare-a').locator(`option[value="${A}"]`)).toHaveCount(1);
  await page.getByTestId('compare-a').selectOption(A);
  await page.getByTestId('compare-b').selectOption(B);
  await page.getByTestId('compare-go').click();
  await waitCompared(page);

  // Both sides loaded and drew; from start, both begin at aligned 0 and show the same time.
  const c = await compareInfo(page);
  expect(c.mode).toBe('start');
  expect([c.a.label, c.b.label]).toEqual([A, B]);
  expect([c.a.events, c.b.events]).toEqual([20_000, 20_000]);
  for (const s of [c.a, c.b]) {
    expect(s.phase).toBe('done');
    expect(s.drawnLanes).toBeGreaterThan(0);
    expect(s.drawnPrimitives).toBeGreaterThan(10);
  }
  expect(alignedView(c.a)).toEqual(alignedView(c.b));
  expect(c.alignedStartNs).toBe(0);
  await expect(page.getByTestId('compare-label-a')).toHaveText(A);
  await expect(page.getByTestId('compare-label-b')).toHaveText(B);

  // The table: exactly the rows of `fusescope diff --json A B`, in the hooks and in the DOM.
  expect(c.rows).toEqual(expected);
  const domRows = await page.getByTestId('diff-row').evaluateAll((trs) => trs.map((tr) => {
    const d = (tr as HTMLElement).dataset;
    const n = (v: string | undefined): number | null => (v === 'NaN' ? null : Number(v));
    return { metric: d.metric!, a: n(d.a), b: n(d.b), ratio: n(d.ratio), cells: [...tr.querySelectorAll('td')].map((td) => td.textContent) };
  }));
  expect(domRows.map(({ metric, a, b, ratio }) => ({ metric, a, b, ratio })))
    .toEqual(expected.map(({ metric, a, b, ratio }) => ({ metric, a, b, ratio })));
  const begin = domRows.find((r) => r.metric === 'FUSE_IOMAP_BEGIN count')!;
  expect(begin.a).toBeGreaterThan(0);
  expect(begin.b).toBe(0);
  expect(begin.cells.slice(1)).toEqual([begin.a!.toLocaleString('en-US'), '0', '0.00×']);
  expect(domRows.find((r) => r.metric === 'FUSE_IOMAP_BEGIN p50')!.cells[2]).toBe('—');
  const throughput = domRows.find((r) => r.metric === 'throughput')!;
  expect(throughput.ratio).toBeGreaterThan(0);
  expect(throughput.cells[3]).toMatch(/^\d+\.\d\d×$/);
  expect(domRows.find((r) => r.metric === 'cache hit rate')!.cells[2]).toBe('—'); // no mapping cache in ext4

  // W over A zooms both sides by the same factor about the same aligned time.
  const canvasA = (await page.getByTestId('compare-side-a').getByTestId('timeline-canvas').boundingBox())!;
  const canvasB = (await page.getByTestId('compare-side-b').getByTestId('timeline-canvas').boundingBox())!;
  await page.mouse.move(canvasA.x + 150 + (canvasA.width - 150) * 0.3, canvasA.y + 40);
  await page.keyboard.press('w');
  await waitIdle(page);
  const z1 = await compareInfo(page);
  expect(alignedView(z1.a).widthNs).toBeCloseTo(alignedView(c.a).widthNs * 0.8, -1);
  expect(alignedView(z1.a)).toEqual(alignedView(z1.b));
  // W over B (whose timeline leaves the keys to A) zooms both once, about the shared cursor.
  await page.mouse.move(canvasB.x + 150 + (canvasB.width - 150) * 0.6, canvasB.y + 40);
  const cur = await compareInfo(page);
  expect(Number.isFinite(cur.cursorNs)).toBe(true);
  expect(cur.a.cursorNs - cur.a.anchorNs).toBe(cur.cursorNs);
  expect(cur.b.cursorNs - cur.b.anchorNs).toBe(cur.cursorNs);
  await page.keyboard.press('w');
  await waitIdle(page);
  const z2 = await compareInfo(page);
  expect(alignedView(z2.a).widthNs).toBeCloseTo(alignedView(z1.a).widthNs * 0.8, -1);
  expect(alignedView(z2.a)).toEqual(alignedView(z2.b));
  // Panning with the wheel-less drag on B moves A too.
  await page.mouse.move(canvasB.x + 700, canvasB.y + 60);
  await page.mouse.down();
  await page.mouse.move(canvasB.x + 500, canvasB.y + 60, { steps: 4 });
  await page.mouse.up();
  await waitIdle(page);
  const p1 = await compareInfo(page);
  expect(alignedView(p1.a).startNs).toBeGreaterThan(alignedView(z2.a).startNs);
  expect(alignedView(p1.a)).toEqual(alignedView(p1.b));

  // The link names both recordings.
  await expect.poll(() => page.evaluate(() => location.hash)).toBe(`#cmp=${A},${B}`);

  // Screenshot: zoomed out to the whole runs, the cursor line at 40% of the plot on both.
  await page.getByTestId('compare-fit').click();
  // In the gap between the first two lanes (layout.ts: 4 px top pad, 50 px lanes): a cursor, no tooltip.
  await page.mouse.move(canvasA.x + 150 + (canvasA.width - 150) * 0.4, canvasA.y + 51);
  await waitIdle(page);
  const shot = await compareInfo(page);
  expect(Number.isFinite(shot.b.cursorNs)).toBe(true);
  await expect(page.locator('.tooltip')).toHaveCount(0);
  await page.screenshot({ path: shotPath('view-compare.png') });

  // Back: the page returns to the live stream it showed before.
  await page.getByTestId('compare-back').click();
  await page.waitForFunction(() => window.__fusescope!.compare() === null && window.__fusescope!.stats().connected);
  expect(await hooks(page, (h) => h.source())).toBe('live');
  await expect(page.getByTestId('compare-page')).toHaveCount(0);
  await expect.poll(() => page.evaluate(() => location.hash)).not.toContain('cmp=');
  expect(errors).toEqual([]);
});

test('cmp= reopens a comparison; aligning on a selected event in each side puts both at aligned 0', async ({ page }) => {
  const errors = await open(page, `#cmp=${A},${B}`);
  await waitCompared(page);
  const c = await compareInfo(page);
  expect([c.a.label, c.b.label]).toEqual([A, B]);
  expect(await hooks(page, (h) => h.source())).toBe('live'); // the page's own store is untouched

  // Without selections, aligning says what to do.
  await page.getByTestId('align-selection').click();
  await expect(page.getByTestId('align-error')).toContainText('select an event in A and one in B');

  // Zoom in (both sides) until single spans are wide enough to click.
  const canvasA = (await page.getByTestId('compare-side-a').getByTestId('timeline-canvas').boundingBox())!;
  await page.mouse.move(canvasA.x + 150 + (canvasA.width - 150) * 0.5, canvasA.y + 40);
  for (let i = 0; i < 8; i++) await page.keyboard.press('w');
  await page.mouse.move(0, 0);
  await waitIdle(page);
  for (const side of ['a', 'b'] as const) {
    const span = (await page.evaluate((s) => window.__fusescope!.compareFindSpan(s), side))!;
    expect(span).not.toBeNull();
    await page.mouse.click(span.xPx, span.yPx);
    await waitIdle(page);
    expect((await compareInfo(page))[side].selectedSpanId).toBe(span.spanId);
  }
  await page.getByTestId('align-selection').click();
  await waitIdle(page);
  const m = await compareInfo(page);
  expect(m.mode).toBe('marker');
  await expect(page.getByTestId('align-error')).toHaveCount(0);
  for (const s of [m.a, m.b]) expect(s.anchorNs).toBe(s.markerNs);
  expect(m.a.anchorNs).not.toBe(c.a.anchorNs);
  expect(alignedView(m.a)).toEqual(alignedView(m.b));
  expect(m.alignedStartNs).toBeLessThanOrEqual(0);
  expect(m.alignedEndNs).toBeGreaterThanOrEqual(0);
  await page.getByTestId('align-start').click();
  await waitIdle(page);
  const s = await compareInfo(page);
  expect(s.mode).toBe('start');
  expect([s.a.anchorNs, s.b.anchorNs]).toEqual([c.a.anchorNs, c.b.anchorNs]);
  expect(errors).toEqual([]);
});
