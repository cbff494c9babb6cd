import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type Served } from './server.ts';
import { hooks, openPage, shotPath } from './page.ts';

// The checkers' findings in the page (issue #16): the default scenario's alias-race error is the
// first thing on the page; clicking it zooms the timeline to the overlap, outlines its evidence
// and opens the aliasing tab on the two nodeids; an opened file gives what `fusescope check` gives.

let server: Served;
let tmp: string;

test.beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'fusescope-e2e-findings-'));
  server = await serve(['--no-record']);
});
test.afterAll(async () => {
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs the CLI; its stdout. `check` exits 1 when it finds an error, which is not a failure here. */
function cli(...args: string[]): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { encoding: 'utf8' });
  if (r.status !== 0 && !(args[0] === 'check' && r.status === 1)) throw new Error(`fusescope ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

interface CliFinding { rule: string; severity: string; tsNs: number; durNs: number; evidence: number[] }
const essentials = (fs: CliFinding[]): CliFinding[] => fs.map(({ rule, severity, tsNs, durNs, evidence }) => ({ rule, severity, tsNs, durNs, evidence }));

test('the default scenario shows the alias-race error first; one click zooms to the overlap, outlines the evidence and shows the two nodeids', async ({ page }) => {
  const errors = await openPage(page, server.url);
  // hardlink-alias-race streams at speed 1: the first overlap of the two writers comes within a few seconds.
  await expect(page.getByTestId('finding-top')).toHaveAttribute('data-rule', 'alias-race', { timeout: 10_000 });
  const top = page.getByTestId('finding-top');
  await expect(top).toHaveAttribute('data-severity', 'error');
  await expect(top.getByTestId('finding-explanation')).toContainText('reached through nodeids 4 and 5');
  await expect(top.getByTestId('finding-explanation')).toContainText(/exclusive i_rwsem holds through nodeids (4 and 5|5 and 4) overlapped/);
  await expect(page.getByTestId('findings-counts')).toContainText('1 error');
  await page.screenshot({ path: shotPath('findings-default.png') });

  await top.locator('.finding-head').click();
  await page.waitForFunction(() => window.__fusescope!.shownFinding()?.highlightedSpanIds.length === 2);
  const shown = (await hooks(page, (h) => h.shownFinding()))!;
  const stats = await hooks(page, (h) => h.stats());
  expect(shown.rule).toBe('alias-race');
  expect(stats.followLive).toBe(false);
  // The view holds the overlap (the later hold's start to the first end), and the two holds whole.
  expect(stats.viewStartNs).toBeLessThanOrEqual(shown.tsNs);
  expect(stats.viewEndNs).toBeGreaterThanOrEqual(shown.tsNs + shown.durNs);
  expect(shown.durNs).toBeGreaterThan(0);
  // Outlined: the two exclusive holds — spans from an acquire to a release among the evidence rows.
  const rowBase = (await hooks(page, (h) => h.findingsStatus())).rowBase;
  const evidence = new Set(shown.evidence.map((r) => r - rowBase));
  expect(shown.evidenceSpanRows).toHaveLength(4);
  for (const r of shown.evidenceSpanRows) expect(evidence.has(r)).toBe(true);
  // The inspector shows an evidence row: the first hold's acquire, in the zoomed range.
  const selected = await hooks(page, (h) => h.selectedRow());
  expect(evidence.has(selected)).toBe(true);
  await expect(page.getByTestId('tab-aliases')).toHaveAttribute('aria-selected', 'true');
  const group = page.getByTestId('alias-table').locator('tr.finding-group');
  await expect(group).toHaveCount(1);
  await expect(group).toHaveClass(/selected/);
  await expect(group.locator('td[data-col="nodeids"]')).toHaveText(/^(4, 5|5, 4)$/);
  // The page has the run from its start (the server's history), so fuse_iomap_init_inode's state
  // badge is there too (a page that joined late used to miss it and showed a bare "nodeid 4").
  await expect(page.getByTestId('alias-graph').locator('[data-node] > text', { hasText: /^nodeid 4 · iomap( excl)?$/ })).toHaveCount(1);
  await expect(page.getByTestId('alias-graph').locator('[data-node] > text', { hasText: /^nodeid 5 · iomap( excl)?$/ })).toHaveCount(1);
  await expect(page.getByTestId('alias-finding-badge')).toHaveText('alias-race error');
  // The evidence lanes are pinned to the top, so the two writers' holds are on screen.
  expect(shown.pinnedTasks).toEqual(expect.arrayContaining(['writerA/1001', 'writerB/1002']));
  await page.screenshot({ path: shotPath('findings-shown.png') });
  // The locks tab marks the two i_rwsems the finding names (nodeids 4 and 5), the shown finding outlined.
  await page.getByTestId('tab-locks').click();
  const locks = page.getByTestId('lock-identities').locator('tr.finding-lock.selected');
  await expect(locks).toHaveCount(2);
  expect((await locks.locator('td[data-col="nodeid"]').allTextContents()).sort()).toEqual(['4', '5']);
  // Its lanes: the finding's marker on both locks' header rows, and its two exclusive holds — the
  // spans the timeline outlines — outlined there too.
  await page.waitForFunction(() => window.__fusescope!.viewFindings('locks')?.evidenceSpanIds.length === 2);
  const lockDrawn = (await hooks(page, (h) => h.viewFindings('locks')))!;
  expect(lockDrawn.marks.map((m) => `${m.rule} ${m.severity}`)).toEqual(['alias-race error', 'alias-race error']);
  expect([...lockDrawn.evidenceSpanIds].sort()).toEqual([...shown.highlightedSpanIds].sort());
  for (const r of lockDrawn.evidenceRows) expect(evidence.has(r)).toBe(true);
  await page.screenshot({ path: shotPath('findings-locks.png') });

  // The Mapping cache tab comes up on the nodeid of the finding's first cache event (the evidence
  // names the first use of each alias's cache), with the finding's marker at its time.
  await page.getByTestId('tab-cache').click();
  await page.waitForFunction(() => (window.__fusescope!.viewFindings('cache')?.marks.length ?? 0) > 0);
  const cacheMarks = (await hooks(page, (h) => h.viewFindings('cache')))!.marks;
  expect(cacheMarks.map((m) => `${m.rule} ${m.severity}`)).toEqual(['alias-race error']);
  expect(['4', '5']).toContain(await page.getByTestId('cache-inode').inputValue());
  // That first use came before the overlap, out of the zoomed range: zoom out (S) until it is in, then it is outlined.
  for (let i = 0; i < 20 && (await hooks(page, (h) => h.viewFindings('cache')))!.evidenceRows.length === 0; i++) await page.keyboard.press('s');
  const cacheDrawn = (await hooks(page, (h) => h.viewFindings('cache')))!;
  expect(cacheDrawn.evidenceRows).toHaveLength(1);
  expect(evidence.has(cacheDrawn.evidenceRows[0]!)).toBe(true);
  await page.screenshot({ path: shotPath('findings-cache.png') });
  expect(errors).toEqual([]);
});

for (const [label, format] of [['ftrace text', 'ftrace'], ['NDJSON', 'ndjson']] as const) {
  test(`an opened ${label} file shows the findings fusescope check gives`, async ({ page }) => {
    const file = join(tmp, `alias-race.${format === 'ftrace' ? 'txt' : 'ndjson'}`);
    cli('sim', '--scenario', 'hardlink-alias-race', '--events', '20000', '--format', format, '--out', file);
    const expected = essentials((JSON.parse(cli('check', file, '--json')) as { findings: CliFinding[] }).findings);
    expect(expected.length).toBeGreaterThan(0);
    expect(expected.some((f) => f.rule === 'alias-race')).toBe(true);
    const errors = await openPage(page, server.url);
    await page.waitForFunction(() => window.__fusescope!.stats().connected);
    await page.getByTestId('file-input').setInputFiles([file]);
    await page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());
    const got = await hooks(page, (h) => h.findings());
    expect(essentials(got)).toEqual(expected);
    // Checked beside the load (the import worker's checks worker, over the rows it shared), not by the page afterwards.
    expect((await hooks(page, (h) => h.importStatus())).findingsFrom).toBe('worker');
    // Every row of the file was checked (ftrace text makes more rows than the simulator's events).
    expect((await hooks(page, (h) => h.findingsStatus())).checkedEvents).toBe(await hooks(page, (h) => h.stats().events));
    // The panel counts what the list holds, most severe first.
    const worst = expected.some((f) => f.severity === 'error') ? 'error' : 'warning';
    await expect(page.getByTestId('finding-top')).toHaveAttribute('data-severity', worst);
    await expect(page.getByTestId('findings-panel')).toHaveAttribute('data-count', String(expected.length));
    expect(errors).toEqual([]);
  });
}
