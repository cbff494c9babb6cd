import { expect, test, type Page } from '@playwright/test';
import { serve, type Served } from './server.ts';
import { hooks, openPage, waitIdle } from './page.ts';

// A trace-cmd trace.dat picked in the page is read natively in the import worker (v7 with zstd
// sections, v6 uncompressed). Every expected value is worked out from the fixture's own
// `trace-cmd report -t` text (fixtures/trace-dat/*.report.txt), not from fusescope's output.

let server: Served;
test.beforeAll(async () => { server = await serve(['--no-record']); });
test.afterAll(async () => { await server.stop(); });

const waitLoaded = (page: Page): Promise<unknown> =>
  page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle());

async function openDat(page: Page, path: string): Promise<string[]> {
  const errors = await openPage(page, server.url);
  await page.waitForFunction(() => window.__fusescope!.stats().connected);
  await page.getByTestId('file-input').setInputFiles([path]);
  await waitLoaded(page);
  return errors;
}

test('fuse2fs-hardlink.v7-zstd.dat: read as trace-dat; 4 dd lanes, 40 requests by opcode, one lock wait of 1.48 ms, no alias group without a -d log', async ({ page }) => {
  const errors = await openDat(page, 'fixtures/trace-dat/fuse2fs-hardlink.v7-zstd.dat');
  await expect(page.getByTestId('file-label')).toHaveText('fuse2fs-hardlink.v7-zstd.dat');
  await expect(page.getByTestId('file-format')).toHaveText([/^read as fuse2fs-hardlink\.v7-zstd\.dat: trace-dat: .*trace\.dat magic/]);
  expect(await hooks(page, (h) => h.importStatus())).toMatchObject({ phase: 'done', diagCount: 0 });
  const stats = await hooks(page, (h) => h.stats());
  // The report's 202 records (one event each: syscall enter/exit, fuse_request_send/_end, contention
  // begin/end) + the lock wait and acquire derived from the one contention pair + its attribution note.
  expect(stats.events).toBe(205);
  // Lanes: the 4 dd tasks (syscalls, requests); fuse2fs-17580/-17581 only answer requests whose
  // sends are in the trace (all 40 `req` numbers match), which draws on the sender's lane.
  expect(stats.lanes).toBe(4);
  // Without the -d log nothing names the hardlinked pair's nodeids: no alias group is claimed.
  expect(await hooks(page, (h) => h.aliasGroups())).toEqual([]);
  await page.getByTestId('tab-accounting').click();
  // fuse_request_send lines of the report by opcode: 16 GETXATTR, 16 WRITE, 4 OPEN, 4 RELEASE.
  const upcalls = page.getByTestId('accounting-upcalls');
  for (const [op, n] of [['FUSE_GETXATTR', 16], ['FUSE_WRITE', 16], ['FUSE_OPEN', 4], ['FUSE_RELEASE', 4]] as const) {
    await expect(upcalls.locator(`tr[data-opcode="${op}"] td`).nth(1)).toHaveText(String(n));
  }
  await expect(upcalls.locator('tbody tr')).toHaveCount(4);
  await page.getByTestId('tab-locks').click();
  // dd-17596 waited 32782.875661229 − 32782.874186083 = 1 475 146 ns for 0xffff888142274e98.
  const row = page.getByTestId('locks-table').locator('tbody tr').first();
  await expect(row.locator('td[data-col="contended"]')).toHaveText('1');
  await expect(row.locator('td[data-col="total"]')).toHaveText('1.48 ms');
  await expect(page.getByTestId('lock-identities').locator('tr[data-addr="0xffff888142274e98"]')).toBeVisible();
  await waitIdle(page);
  await page.screenshot({ path: 'test-results/trace-dat-v7-zstd.png' });
  expect(errors).toEqual([]);
});

test('ext4-dio.v6.dat: read as trace-dat; dd lanes and the inode lane of dev 7:0 ino 0xc; one lock wait of 5.28 ms', async ({ page }) => {
  const errors = await openDat(page, 'fixtures/trace-dat/ext4-dio.v6.dat');
  await expect(page.getByTestId('file-format')).toHaveText([/^read as ext4-dio\.v6\.dat: trace-dat: .*trace\.dat magic/]);
  expect(await hooks(page, (h) => h.importStatus())).toMatchObject({ phase: 'done', diagCount: 0 });
  // 4 dd tasks (dd-17550..17553 make syscalls) + one lane for the only inode the 40 iomap_iter lines name.
  expect((await hooks(page, (h) => h.stats())).lanes).toBe(5);
  // Spans are numbered as their first events come: the report's first iomap_iter (line 22) follows 9
  // sys_enter lines (4 openat, 4 close, 1 write), each a syscall span: the first iomap step is span 9.
  await hooks(page, (h) => h.reveal(9));
  await waitIdle(page);
  expect(await hooks(page, (h) => h.selection())).toMatchObject({ spanId: 9, kind: 'iomap' });
  const inspector = page.getByTestId('inspector');
  await expect(inspector.locator('tr[data-field="lane"]')).toContainText('dev 7:0 ino 0xc');
  // Its task: the dd that ran the write (dd-17550 at 32781.068626819, report line 22).
  await expect(inspector.locator('tr[data-field="task"]')).toContainText('dd/17550');
  await expect(inspector).toContainText('iomap_map');
  // The step runs from that iomap_iter to the task's next (32781.068768047): 141 228 ns.
  await expect(inspector.locator('tr[data-field="durNs"] td')).toHaveText('141228 ns (141 µs)');
  await page.getByTestId('tab-locks').click();
  // dd-17553: 32781.104468237 − 32781.099192738 = 5 275 499 ns.
  const row = page.getByTestId('locks-table').locator('tbody tr').first();
  await expect(row.locator('td[data-col="contended"]')).toHaveText('1');
  await expect(row.locator('td[data-col="total"]')).toHaveText('5.28 ms');
  await waitIdle(page);
  await page.screenshot({ path: 'test-results/trace-dat-v6.png' });
  expect(errors).toEqual([]);
});
