import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// Pasted text in the page. A trace whose lines lost their `comm-pid [cpu] time:` prefix has no
// times: the page must say so wherever it would show a time, never a duration computed from the
// synthetic 1 µs spacing. Lost-events lines are gaps with their count, or "count unknown".
// Expected values from the fixtures' lines (their headers say how they were written).

let server: Served;
test.beforeAll(async () => { server = await serve(['--no-record']); });
test.afterAll(async () => { await server.stop(); });

const waitLoaded = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());

test('a paste with some untimed lines: the axis counts them, the locks table says the waits are unknown, accounting measures the timed lines only', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles(['fixtures/paste/mixed-untimed.txt']);
  await waitLoaded(page);
  // 6 untimed events: the 4 trimmed lines + the lock_wait / lock_acquire derived from the trimmed contention pair.
  await expect(page.getByTestId('axis-untimed')).toContainText(/times unknown for 6 of \d+ events \(pasted lines without time\)/);
  await page.getByTestId('tab-locks').click();
  // One lock (its address; no nodeid): two waits ended — 312 µs and one of unknown length — so the totals are unknown.
  const row = page.getByTestId('locks-table').locator('tbody tr').first();
  await expect(row.locator('td[data-col="contended"]')).toHaveText('2');
  await expect(row.locator('td[data-col="total"]')).toHaveText('unknown');
  await expect(row.locator('td[data-col="max"]')).toHaveText('unknown');
  await page.getByTestId('locks-groupby').selectOption('task');
  // By task: fio-3002's timed wait keeps its 312 µs; the pasted lines' group stays unknown.
  await expect(page.getByTestId('locks-table').locator('tbody tr[data-key="task:fio/3002"] td[data-col="total"]')).toHaveText(/^312(\.0+)? µs$/);
  await expect(page.getByTestId('locks-table').locator('tbody tr[data-key="task:task unknown"] td[data-col="total"]')).toHaveText('unknown');
  await waitIdle(page);
  await page.screenshot({ path: 'test-results/untimed-mixed-locks.png' });
  await page.getByTestId('tab-accounting').click();
  await expect(page.getByTestId('accounting-times-unknown')).toContainText('6 events are from pasted lines without times');
  // The duration is the timed lines' span, 600.000103 → 600.000500 s, and says so; no application read or write is
  // in the paste, so the throughput is unknown, not 0 MiB/s.
  await expect(page.getByTestId('accounting-figures').locator('tr[data-key="duration"] td')).toHaveText('397 µs (timed events only)');
  await expect(page.getByTestId('accounting-figures').locator('tr[data-key="throughput"] td')).toHaveText('unknown: no application read or write syscall is in the trace');
  expect(errors).toEqual([]);
});

test('a paste with no timed line: the axis has no times, a request span says its time is unknown in the inspector', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles(['fixtures/paste/untimed.txt']);
  await waitLoaded(page);
  await expect(page.getByTestId('axis-untimed')).toContainText('times unknown: every event is from a pasted line without time');
  await expect(page.getByTestId('replay-time')).toHaveText('length unknown (untimed lines)');
  // No tick label carries a time.
  await expect(page.locator('.timeline-axis g.axis .tick text').filter({ hasText: /\d/ })).toHaveCount(0);
  const span = await hooks(page, (h) => h.findSpan('fuse_req'));
  expect(span).not.toBeNull();
  await hooks(page, (h) => h.reveal(h.findSpan('fuse_req')!.spanId));
  const inspector = page.getByTestId('inspector');
  await expect(inspector.locator('tr[data-field="durNs"] td')).toHaveText(/^time unknown \(pasted lines without times\): drawn in file order/);
  await expect(inspector.locator('tr[data-field="tsNs"] td')).toHaveText('unknown: a pasted line without time (placed in file order)');
  await waitIdle(page);
  await page.screenshot({ path: 'test-results/untimed-inspector.png' });
  expect(errors).toEqual([]);
});

test('lost-events lines of the kernel and of trace-cmd are gaps: the banner says the tracer lost them, one with no count', async ({ page }) => {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  const text = [
    '  dd-1 [000] ..... 5.000100: tracing_mark_write: a',
    'CPU:0 [LOST 17 EVENTS]',
    '  dd-1 [000] ..... 5.000200: tracing_mark_write: b',
    'CPU:1 [EVENTS DROPPED]',
    '  dd-1 [000] ..... 5.000300: tracing_mark_write: c',
    '',
  ].join('\n');
  await page.getByTestId('file-input').setInputFiles([{ name: 'lost.txt', mimeType: 'text/plain', buffer: Buffer.from(text) }]);
  await waitLoaded(page);
  await expect(page.getByTestId('gap-banner')).toContainText('The trace says events were lost (2 gaps, 17 events counted, 1 with no count)');
  await expect(page.locator('.timeline-axis .gap-mark title')).toHaveText(['17 events missed', 'events missed (count unknown)']);
  expect(await hooks(page, (h) => h.importStatus())).toMatchObject({ diagCount: 0 });
  expect(errors).toEqual([]);
});
