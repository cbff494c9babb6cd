import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type Served } from './server.ts';
import { openPage } from './page.ts';

// A full disk under `serve --record-dir` (issue #20 item 1): the real server records the default
// scenario into a 512 KiB tmpfs already nearly full, so a chunk soon fails with ENOSPC. The page
// says "Recording paused: ENOSPC …", and the live stream goes on. Needs root to mount the tmpfs
// (skipped, saying so, elsewhere).

// Made in beforeAll: the spec file is also loaded where no test runs.
let root = '';
let mnt = '';
let mounted = false;
let server: Served | null = null;

test.beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'fusescope-e2e-full-'));
  mnt = join(root, 'disk');
  mkdirSync(mnt);
  mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mnt]).status === 0;
  if (!mounted) return;
  // All but ~16 KiB taken by a file that is not a recording (the size cap neither counts nor deletes it).
  writeFileSync(join(mnt, 'filler'), new Uint8Array(496 * 1024));
  server = await serve(['--record-dir', join(mnt, 'sessions'), '--speed', '20']);
});
test.afterAll(async () => {
  await server?.stop();
  if (mounted) spawnSync('umount', [mnt]);
  if (root && spawnSync('mountpoint', ['-q', mnt]).status !== 0) rmSync(root, { recursive: true, force: true });
});

test('a full disk pauses recording with the reason on the page; the live stream goes on', async ({ page }) => {
  test.skip(!mounted, 'recording-paused e2e skipped: mounting a tmpfs needs root');
  const errors = await openPage(page, server!.url);
  const banner = page.getByTestId('recording-paused');
  await expect(banner).toBeVisible({ timeout: 45_000 });
  await expect(banner).toContainText('Recording paused: ENOSPC: no space left on device while writing');
  await expect(banner).toContainText('The live session goes on');
  // Still streaming after the pause: the event count keeps growing, and the server is alive.
  const before = await page.evaluate(() => window.__fusescope!.stats().events);
  await page.waitForFunction((n) => window.__fusescope!.stats().events > n + 1000, before);
  expect(server!.proc.exitCode).toBeNull();
  expect(server!.output()).toMatch(/recording paused: ENOSPC/);
  // What was recorded stays: one .fscope, its owner file gone with the failure.
  expect(readdirSync(join(mnt, 'sessions')).filter((f) => f.endsWith('.owner'))).toEqual([]);
  expect(errors).toEqual([]);
});
