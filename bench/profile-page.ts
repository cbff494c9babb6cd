// CPU profile of the page (CDP Profiler) while it opens a recording and then pans/zooms, for the
// "what limits it" evidence in docs/performance.md. Not part of `npm run bench`.
//   node --import tsx bench/profile-page.ts [events=1000000] [phase=load|panzoom|live|heap] [liveSpeed=97]
// heap: no CPU profile; after the load, a heap snapshot's self sizes summed by constructor (what
// the JS heap part of P4 is made of; ArrayBuffer contents are outside the JS heap).
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
import { makeSimulation, simSource, DEFAULT_SCENARIO } from '../server/sources/sim.ts';
import { LiveSession } from '../server/hub/live-session.ts';
import { startServer } from '../server/http-server.ts';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { writeRepeatedRecording } from './recording.ts';

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
writeRepeatedRecording(base, phase === 'live' ? 1 : count, join(dir, 'r.fscope'));

const session = new LiveSession({ scenarios: [], scenario: DEFAULT_SCENARIO, makeSource: (name) => simSource(name, 1, new Map()) });
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
  if (phase === 'heap') {
    const parts: string[] = [];
    cdp.on('HeapProfiler.addHeapSnapshotChunk', (e: { chunk: string }) => { parts.push(e.chunk); });
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    const snap = JSON.parse(parts.join('')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
    const f = snap.snapshot.meta.node_fields;
    const [typeAt, nameAt, sizeAt, width] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size'), f.length];
    const types = snap.snapshot.meta.node_types[0];
    const bySize = new Map<string, { bytes: number; count: number }>();
    let total = 0;
    for (let i = 0; i < snap.nodes.length; i += width) {
      const type = types[snap.nodes[i + typeAt]!]!;
      const name = type === 'object' || type === 'native' ? snap.strings[snap.nodes[i + nameAt]!]! : `(${type})`;
      const e = bySize.get(name) ?? { bytes: 0, count: 0 };
      e.bytes += snap.nodes[i + sizeAt]!;
      e.count++;
      total += snap.nodes[i + sizeAt]!;
      bySize.set(name, e);
    }
    console.log(`heap snapshot: ${(total / 1e6).toFixed(1)} MB self size, ${(total / count).toFixed(2)} B/event`);
    for (const [k, e] of [...bySize].sort((a, b) => b[1].bytes - a[1].bytes).slice(0, 25)) {
      console.log(`${(e.bytes / 1e6).toFixed(2).padStart(9)} MB ${String(e.count).padStart(9)} × ${k.slice(0, 80)}`);
    }
    if (process.env.PROFILE_HEAP_DETAIL) {
      // Plain objects by their property names, strings by their first characters: what they are.
      const ef = (snap.snapshot.meta as unknown as { edge_fields: string[]; edge_types: [string[]] });
      const edges = (snap as unknown as { edges: number[] }).edges;
      const eWidth = ef.edge_fields.length;
      const [eType, eName, eTo] = [ef.edge_fields.indexOf('type'), ef.edge_fields.indexOf('name_or_index'), ef.edge_fields.indexOf('to_node')];
      const eTypes = ef.edge_types[0];
      const ecAt = f.indexOf('edge_count');
      const shapes = new Map<string, number>();
      const strs = new Map<string, number>();
      const nums = new Map<string, number>();
      let e = 0;
      for (let i = 0; i < snap.nodes.length; i += width) {
        const n = snap.nodes[i + ecAt]!;
        const type = types[snap.nodes[i + typeAt]!]!;
        const name = snap.strings[snap.nodes[i + nameAt]!]!;
        if (type === 'object' && name === 'Object') {
          const props: string[] = [];
          for (let k = 0; k < n && props.length < 6; k++) if (eTypes[edges[e + k * eWidth + eType]!] === 'property') props.push(snap.strings[edges[e + k * eWidth + eName]!]!);
          const key = props.join(',');
          shapes.set(key, (shapes.get(key) ?? 0) + 1);
        } else if (type === 'string' || type === 'concatenated string' || type === 'sliced string') {
          const key = name.slice(0, 12).replace(/[0-9]/g, '#');
          strs.set(key, (strs.get(key) ?? 0) + 1);
        }
        // Heap numbers: who points at them (edge names into (number) nodes).
        for (let k = 0; k < n; k++) {
          const to = edges[e + k * eWidth + eTo]!;
          if (types[snap.nodes[to + typeAt]!] === 'number') {
            const key = `${name.slice(0, 30)}.${eTypes[edges[e + k * eWidth + eType]!]}`;
            nums.set(key, (nums.get(key) ?? 0) + 1);
          }
        }
        e += n * eWidth;
      }
      for (const [label, m] of [['objects by properties', shapes], ['strings by prefix', strs], ['heap numbers by holder', nums]] as const) {
        console.log(label);
        for (const [k, c] of [...m].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`${String(c).padStart(9)} × ${k}`);
      }
    }
  } else {
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
  }
} finally {
  await browser.close();
  await server.close();
}
