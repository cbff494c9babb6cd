import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// Several pages on one live session (issue #19, "joining late"): a page that joins after the run
// started gets its history from the server, so every view is whole at once; a page's pause is its
// own; a shared link never restarts or un-pauses the session for the others. The first page acts as
// the clock: the second joins only once the first has received thousands of events — long after the
// default scenario's inode set-up (its first events), which only the history can give the late page.

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

const events = (page: Page): Promise<number> => hooks(page, (h) => h.stats().events);

test('a page opened after the run started shows the default scenario\'s paths in the aliasing view (no "—")', async ({ page, context }) => {
  const errors = await open(page);
  await page.waitForFunction(() => window.__fusescope!.stats().events > 5000);
  const late = await context.newPage();
  const lateErrors = await open(late);
  // The whole run so far, at once: nothing was dropped, and it starts at the run's first event.
  expect(await hooks(late, (h) => h.stats().historyNotKept)).toBe(0);
  await late.waitForFunction(() => window.__fusescope!.stats().events > 5000);
  await late.waitForFunction(() => window.__fusescope!.aliasGroups().length > 0);
  await late.getByTestId('tab-aliases').click();
  const row = late.getByTestId('alias-table').locator('tr[data-ino="12"]');
  await expect(row).toBeVisible();
  await expect(row).toContainText('/d1/file');
  await expect(row).toContainText('/d2/link');
  await expect(late.getByTestId('alias-table')).not.toContainText('—');
  expect(await hooks(late, (h) => h.aliasGroups())).toEqual([expect.objectContaining({ ino: 12, paths: ['/d1/file', '/d2/link'] })]);
  expect(errors).toEqual([]);
  expect(lateErrors).toEqual([]);
  await late.close();
});

test('two pages: pausing one leaves the other receiving', async ({ page, context }) => {
  await open(page);
  const other = await context.newPage();
  await open(other);
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('pause')).toHaveText('Resume');
  await waitIdle(page);
  const frozen = await events(page);
  const otherBefore = await events(other);
  await other.waitForFunction((n) => window.__fusescope!.stats().events > n + 1000, otherBefore);
  expect(await hooks(other, (h) => h.stats())).toMatchObject({ paused: false, sharedPaused: false });
  await expect(other.getByTestId('pause')).toHaveText('Pause');
  // The paused page got nothing meanwhile, and stays idle (no frames arrive).
  await waitIdle(page);
  expect(await events(page)).toBe(frozen);
  // Resumed, it catches up from the server's history: what it missed arrives, with no gap.
  await page.getByTestId('pause').click();
  await page.waitForFunction((n) => window.__fusescope!.stats().events > n, await events(other));
  expect(await hooks(page, (h) => h.stats().missedEvents)).toBe(0);
  await other.close();
});

test('opening a shared link in a second page neither restarts nor un-pauses the first', async ({ page, context }) => {
  await open(page);
  await page.waitForFunction(() => window.__fusescope!.stats().events > 2000);
  const generation = await hooks(page, (h) => h.stats().generation);
  // The first page drives the shared session and pauses it for everyone.
  await page.getByTestId('drive').check();
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('pause')).toHaveText('Resume');
  await waitIdle(page);
  const frozen = await events(page);
  await page.waitForFunction(() => location.hash.includes('scenario='));
  const link = page.url();

  const other = await context.newPage();
  const errors = await open(other, link.slice(link.indexOf('#')));
  // The link's page joins the paused run as it is: its history, the shared pause said plainly.
  await other.waitForFunction((n) => window.__fusescope!.stats().events >= n, frozen);
  await expect(other.getByTestId('shared-paused')).toBeVisible();
  expect(await hooks(other, (h) => h.stats())).toMatchObject({ sharedPaused: true, driving: false });
  await expect(other.getByTestId('restart')).toBeDisabled();
  await expect(other.getByTestId('speed')).toBeDisabled();
  await waitIdle(other);
  await waitIdle(page);
  // The first page: the same run (no reset), still paused, nothing new.
  expect(await hooks(page, (h) => h.stats())).toMatchObject({ generation, paused: true, sharedPaused: true, events: frozen });
  expect(await events(other)).toBe(frozen);
  expect(errors).toEqual([]);
  // Resume for the tests after this one (the session is shared).
  await page.getByTestId('pause').click();
  await expect(page.getByTestId('pause')).toHaveText('Pause');
  await other.close();
});

test('past the server\'s history bound, a late page says plainly that the history before a time was not kept', async ({ page, context }) => {
  // A 51 KiB history: a few thousand events of the default scenario, then the oldest are dropped.
  const small = await serve(['--history-mb', '0.05', '--no-record']);
  try {
    await openPage(page, small.url);
    await page.waitForFunction(() => (window.__fusescope?.stats().events ?? 0) > 8000);
    const late = await context.newPage();
    const errors = await openPage(late, small.url);
    await late.waitForFunction(() => window.__fusescope?.stats().connected);
    const notKept = await hooks(late, (h) => h.stats().historyNotKept);
    expect(notKept).toBeGreaterThan(0);
    const banner = late.getByTestId('history-banner');
    await expect(banner).toContainText(/History before \S+ (ns|µs|ms|s) was not kept/);
    await expect(banner).toContainText(`first ${notKept.toLocaleString('en-US')} events`);
    await expect(banner).toContainText('51 KiB');
    await expect(banner).toContainText('does not record the session'); // --no-record: said, not a recording promised
    // What it got is checked from where it starts (no "checking stopped" error), and drawn.
    await late.waitForFunction(() => window.__fusescope!.stats().drawnPrimitives > 20);
    await expect(late.getByText(/checking stopped/)).toHaveCount(0);
    // The first page joined earlier (the run may already have passed the bound then): it lacks fewer.
    expect(await hooks(page, (h) => h.stats().historyNotKept)).toBeLessThan(notKept);
    expect(errors).toEqual([]);
    await late.close();
  } finally {
    await small.stop();
  }
});
