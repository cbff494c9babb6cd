import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { shotPath } from './page.ts';

// The page exposes window.__fusescope (src/app/test-hooks.ts): counts of what was drawn, an idle
// signal, and the position of a drawn span, so the test clicks what a user would click.
import type { FusescopeHooks } from '../src/app/test-hooks.ts';

type Stats = ReturnType<FusescopeHooks['stats']>;
let server: Served;
test.beforeAll(async () => {
  server = await serve();
});
test.afterAll(async () => {
  await server.stop();
});

const stats = (page: Page): Promise<Stats> => page.evaluate(() => window.__fusescope!.stats());
const waitIdle = (page: Page): Promise<unknown> => page.waitForFunction(() => window.__fusescope!.idle());

async function open(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript('globalThis.__name = (f) => f');
  await page.goto(server.url);
  // A new page is not paused (pause is per page); kept in case a test ever leaves it so.
  await page.waitForFunction(() => window.__fusescope?.stats().connected);
  if ((await stats(page)).paused) await page.getByTestId('pause').click();
  await page.waitForFunction(() => {
    const s = window.__fusescope?.stats();
    return !!s && s.connected && s.events > 500 && s.drawnLanes >= 3 && s.drawnPrimitives > 20;
  });
  expect(errors).toEqual([]);
}

test('live events stream in and are drawn on the timeline', async ({ page }) => {
  await open(page);
  const s = await stats(page);
  expect(s.lanes).toBeGreaterThanOrEqual(4); // writers, reader, server threads, writeback
  expect(s.spans).toBeGreaterThan(50);
  // The canvas is not blank: many distinct colours are painted.
  const colours = await page.evaluate(() => {
    const c = document.querySelector('[data-testid="timeline-canvas"]') as HTMLCanvasElement;
    const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 4 * 7) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    return seen.size;
  });
  expect(colours).toBeGreaterThan(5);
  // The tabs of the other views are there (e2e/views.spec.ts tests them).
  await expect(page.getByRole('tab', { name: 'Mapping cache' })).toBeVisible();
  await expect(page.getByText(/aliasing/i).first()).toBeVisible();
  // A few seconds of stream make a representative picture for the README.
  await page.waitForFunction(() => window.__fusescope!.stats().events > 2500);
  // Idle needs the stream to stop: pause, then let the last frames land.
  await page.getByTestId('pause').click();
  await waitIdle(page);
  await page.screenshot({ path: shotPath('screenshot.png') });
});

test('pause stops the stream and resume restarts it', async ({ page }) => {
  await open(page);
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('pause')).toHaveText(/Resume/);
  await waitIdle(page);
  const paused = (await stats(page)).events;
  // A UI change starts a new quiet period: the page goes idle again (≥ 100 ms, two server ticks)
  // while the session stays paused, and nothing new has arrived.
  await page.getByTestId('follow-live').click();
  await waitIdle(page);
  expect((await stats(page)).events).toBe(paused);
  expect((await stats(page)).paused).toBe(true);
  await page.getByTestId('pause').click();
  await page.waitForFunction((n) => window.__fusescope!.stats().events > n + 100, paused);
});

test('WASD zooms and pans the time axis', async ({ page }) => {
  await open(page);
  await page.getByTestId('pause').click();
  await waitIdle(page);
  const before = await stats(page);
  const spanBefore = before.viewEndNs - before.viewStartNs;
  await page.keyboard.press('w');
  await waitIdle(page);
  const zoomedIn = await stats(page);
  expect(zoomedIn.viewEndNs - zoomedIn.viewStartNs).toBeLessThan(spanBefore * 0.9);
  expect(zoomedIn.followLive).toBe(false);
  await page.keyboard.press('s');
  await page.keyboard.press('s');
  await waitIdle(page);
  const zoomedOut = await stats(page);
  expect(zoomedOut.viewEndNs - zoomedOut.viewStartNs).toBeGreaterThan(zoomedIn.viewEndNs - zoomedIn.viewStartNs);
  await page.keyboard.press('a');
  await waitIdle(page);
  const panned = await stats(page);
  expect(panned.viewStartNs).toBeLessThan(zoomedOut.viewStartNs);
  expect(panned.viewEndNs - panned.viewStartNs).toBeCloseTo(zoomedOut.viewEndNs - zoomedOut.viewStartNs, -1);
});

test('clicking an iomap span shows every field of its events in the inspector', async ({ page }) => {
  await open(page);
  await page.getByTestId('pause').click();
  await waitIdle(page);
  const target = await page.evaluate(() => window.__fusescope!.findSpan('iomap'));
  expect(target).not.toBeNull();
  await page.mouse.click(target!.xPx, target!.yPx);
  await waitIdle(page);
  expect(await page.evaluate(() => window.__fusescope!.selection())).toMatchObject({ kind: 'iomap', spanId: target!.spanId });
  const inspector = page.getByTestId('inspector');
  for (const field of ['kind', 'task', 'nodeId', 'ino', 'opflags', 'posBytes', 'lenBytes']) {
    await expect(inspector.locator(`tr[data-field="${field}"]`).first()).toBeVisible();
  }
  await expect(inspector).toContainText('iomap_begin');
});

test('the timeline and locks canvases follow a window resize (sizes come from a ResizeObserver)', async ({ page }) => {
  await page.setViewportSize({ width: 1400, height: 900 });
  await open(page);
  await page.getByTestId('pause').click();
  try {
    await waitIdle(page);
    const widths = (): Promise<{ timeline: number; locks: number }> => page.evaluate(() => {
      const w = (id: string): number => (document.querySelector(`[data-testid="${id}"]`) as HTMLCanvasElement).getBoundingClientRect().width;
      return { timeline: w('timeline-canvas'), locks: w('locks-canvas') };
    });
    const before = await widths();
    await page.setViewportSize({ width: 1100, height: 900 });
    // The canvases are redrawn at the new size without any input: only the observer can tell them.
    await page.waitForFunction((w) => {
      const c = document.querySelector('[data-testid="timeline-canvas"]') as HTMLCanvasElement;
      return c.getBoundingClientRect().width < w - 200;
    }, before.timeline);
    await waitIdle(page);
    expect(before.locks - (await widths()).locks).toBeGreaterThan(100);
    // Still drawn after the resize.
    expect((await stats(page)).drawnPrimitives).toBeGreaterThan(20);
  } finally {
    await page.getByTestId('pause').click(); // resume: the session is shared by later tests
  }
});
