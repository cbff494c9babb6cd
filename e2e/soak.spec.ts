import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `npm run soak` for 20 s, a real run with every check (issue #20 item 7): serve's server and
// recorder with the simulator at a fixed 5 000 events/s, the built UI in Debian Chromium. The soak
// launches its own Chromium (over CDP, no Playwright page). A 20 000-event page window and a 1 MiB
// history fill within seconds, so the second half of so short a run is already the steady state
// the memory check wants. The soak itself asserts no timing; neither does this test.

test('a short soak: the recording holds exactly what was produced, the page every event, memory flat', async () => {
  test.setTimeout(240_000);
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-e2e-soak-'));
  try {
    const json = join(dir, 'soak.json');
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', 'scripts/soak.ts', '--seconds', '20', '--rate', '5000', '--window', '20000', '--history-mb', '1', '--json', json], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { out += b.toString(); });
    const code = await new Promise<number | null>((done) => child.on('close', done));
    expect(code, out).toBe(0);
    const r = JSON.parse(readFileSync(json, 'utf8')) as {
      produced: number; page: { received: number; gaps: number; missed: number };
      recorded: { files: number; rows: number; damage: string | null }; verdicts: Array<{ ok: boolean; what: string }>;
    };
    // 20 s at 5 000/s: about 100 000 events (the exact count is whatever the clock allowed).
    expect(r.produced).toBeGreaterThan(50_000);
    expect(r.recorded).toMatchObject({ files: 1, rows: r.produced, damage: null });
    expect(r.page.received - r.page.gaps + r.page.missed).toBe(r.produced);
    expect(r.verdicts.filter((v) => !v.ok)).toEqual([]);
    expect(r.verdicts.map((v) => v.what.split(':')[0])).toEqual(['recording', 'page', 'server RSS', 'server heap', 'server ArrayBuffers', 'page JS heap', 'page ArrayBuffers', 'Chromium RSS']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
