// CPU profile of the page (CDP Profiler) while it opens a recording and then pans/zooms, for the
// "what limits it" evidence in docs/performance.md. Not part of `npm run bench`.
//   node --import tsx bench/profile-page.ts [events=1000000] [phase=load|panzoom|live] [liveSpeed=97]
// PROFILE_PREKEYS / PROFILE_KEYS (panzoom): keys pressed before / while profiling.
// PROFILE_QUERY=window=200000 appends a query to the page URL (e.g. a small live window, to profile evictions).
// live: no recording; the page follows a LiveSession at that speed (~100 k events/s at 97) for 8 s.
// Builds an unminified UI into a temp dir so the profile has real function names; prints the top
// functions by self time and writes the .cpuprofile (open it in Chrome DevTools) next to it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { TraceStore } from '../src/trace/store.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { Recorder } from '../server/recorder/recorder.ts';
import { makeSimulation, DEFAULT_SCENARIO } from '../server/sim-source.ts';
import { LiveSession } from '../server/hub/live-session.ts';
import { startServer } from '../server/http-server.ts';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { shifted } from './recording.ts';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const count = Number(process.argv[2] ?? 1_000_000);
const phase = process.argv[3] ?? 'load';
const dir = mkdtempSync(join(tmpdir(), 'fusescope-prof-'));
const dist = join(dir, 'dist');
const b = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'error', '--minify', 'false', '--outDir', dist], { stdio: 'inherit' });
if (b.status !== 0) throw new Error('build failed');

const { simulation } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
const events: TraceEvent[] = [];
simulation.runEvents(300_000, (ev) => events.push(ev));
const base = new TraceStore();
base.appendAll(events);
const rec = new Recorder(join(dir, 'r.fscope'));
for (let rep = 0, written = 0; written < (phase === 'live' ? 1 : count); rep++) {
  const copy = rep === 0 ? base : shifted(base, rep * (base.endNs + 1000));
  const n = Math.min(copy.length, count - written);
  rec.appendRows(copy, 0, n);
  written += n;
}
rec.close();

const session = new LiveSession({ scenarios: [], scenario: DEFAULT_SCENARIO, makeSource: (name) => makeSimulation(name, 1, new Map()) });
const server = await startServer({ host: '127.0.0.1', port: 0, distDir: dist, session, recordingsDir: dir });
const browser = await chromium.launch({ executablePath: findChromium()!, args: CHROMIUM_ARGS });
try {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await page.addInitScript('globalThis.__name = (f) => f');
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  page.on('console', (m) => console.log(`page: ${m.text()}`));
  await page.goto(`http://127.0.0.1:${server.port}/${process.env.PROFILE_QUERY ? `?${process.env.PROFILE_QUERY}` : ''}`);
  await page.waitForFunction(() => window.__fusescope?.idle() === true);
  if (phase === 'live') {
    session.setSpeed(Number(process.argv[4] ?? 97));
    session.start();
    await new Promise((r) => setTimeout(r, 3000));
    await cdp.send('Profiler.start');
    await new Promise((r) => setTimeout(r, 8000));
    session.stop();
  }
  if (phase === 'load') await cdp.send('Profiler.start');
  if (phase !== 'live') {
  await page.getByTestId('recordings').click();
  await page.getByTestId('recording-item').first().click();
  await page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle(), undefined, { polling: 250, timeout: 900_000 });
  if (phase === 'panzoom') {
    // PROFILE_PREKEYS are pressed before the profile starts (e.g. 25 w: profile deep-zoom pans only).
    const press = async (keys: string): Promise<void> => {
      for (const key of keys) {
        await page.keyboard.press(key);
        await page.waitForFunction(() => window.__fusescope!.idle(), undefined, { polling: 5 });
      }
    };
    await press(process.env.PROFILE_PREKEYS ?? '');
    await cdp.send('Profiler.start');
    await press(process.env.PROFILE_KEYS ?? `${'w'.repeat(10)}${'d'.repeat(5)}${'s'.repeat(10)}`);
  }
  }
  const { profile } = await cdp.send('Profiler.stop') as { profile: Profile };
  writeFileSync(join(dir, `${phase}.cpuprofile`), JSON.stringify(profile));
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  let total = 0;
  profile.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const dt = profile.timeDeltas[i]! / 1000;
    total += dt;
    const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  console.log(`profile ${join(dir, `${phase}.cpuprofile`)}: ${total.toFixed(0)} ms sampled`);
  for (const [k, ms] of [...self].sort((a, c) => c[1] - a[1]).slice(0, 25)) console.log(`${ms.toFixed(0).padStart(8)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  ${k}`);
} finally {
  await browser.close();
  await server.close();
}
