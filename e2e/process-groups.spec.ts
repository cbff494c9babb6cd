import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// Lanes grouped by process (issue 19). fixtures/real/kernel-fs/xfs-contend.trace.txt was captured
// with record-tgid: five dd processes, each one thread (`dd-11474 (  11474)` … `dd-11478 (  11478)`,
// counted from its lines), each with syscalls, so each has a lane. By process they are five groups
// of one lane; by comm they are one group, "dd · 5 app tasks".

let server: Served;
test.beforeAll(async () => { server = await serve(['--no-record']); });
test.afterAll(async () => { await server.stop(); });

const XFS = 'fixtures/real/kernel-fs/xfs-contend.trace.txt';

async function openFile(page: Page, path: string): Promise<string[]> {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles([path]);
  await page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());
  return errors;
}

const ddLanes = async (page: Page) => (await hooks(page, (h) => h.timelineLanes())).filter((l) => l.task.startsWith('dd/'));

test('a capture with tgids: one group per process; "group by: comm" puts the five dd processes back in one group, and is remembered', async ({ page }) => {
  const errors = await openFile(page, XFS);
  const toggle = page.getByTestId('lane-grouping');
  await expect(toggle).toHaveText('group by: process');
  let dd = await ddLanes(page);
  expect(dd.map((l) => l.task).sort()).toEqual(['dd/11474', 'dd/11475', 'dd/11476', 'dd/11477', 'dd/11478']);
  expect(new Set(dd.map((l) => l.group)).size).toBe(5);
  expect(dd.map((l) => l.group).sort()).toEqual(['app:pid:11474', 'app:pid:11475', 'app:pid:11476', 'app:pid:11477', 'app:pid:11478']);
  // One lane per group: no header row, nothing says "process unknown".
  expect(dd.every((l) => l.groupText === '')).toBe(true);

  await toggle.click();
  await waitIdle(page);
  await expect(toggle).toHaveText('group by: comm');
  dd = await ddLanes(page);
  expect(new Set(dd.map((l) => l.group))).toEqual(new Set(['app:dd']));
  expect(dd.every((l) => l.groupText === '▾ dd · 5 app tasks')).toBe(true);
  await page.screenshot({ path: 'test-results/process-groups-comm.png' });

  // Kept like the other lane prefs: a reload opens grouped by comm.
  await page.reload();
  await page.waitForFunction(() => window.__fusescope !== undefined);
  await expect(page.getByTestId('lane-grouping')).toHaveText('group by: comm');
  await page.getByTestId('lane-grouping').click();
  await expect(page.getByTestId('lane-grouping')).toHaveText('group by: process');
  expect(errors).toEqual([]);
});
