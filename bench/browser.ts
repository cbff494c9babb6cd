// Browser figures for `npm run bench` (P3, P4, P7): the built UI (dist/) served by the real server
// code in this process, driven in Debian Chromium through playwright-core with the toolchain flags.
//
//   P3  open a recording of N events through the page's recording path (#rec=NAME: fetch → import
//       worker → batches → AppStore), then a scripted W/S/A/D pan and zoom with real key presses;
//       every rAF frame is timed in the page (src/app/bench-hooks.ts: the scheduler's frame plus a
//       forced raster of the timeline canvas). N = 10 M and 100 k, same script; ratio of medians.
//   P3l open a recording of 1 M and of 10 M events in a fresh page from the recordings list, to its
//       first frame (BENCH_LOAD_RUNS runs each, every value printed), with the load's phases as the
//       page and its worker time them (bench-hooks loadPhases), the browser's CPU seconds meanwhile
//       (/proc), P3l(10 M)/P3l(1 M), and the same load in Node alone (load-node.ts) as the floor.
//       BENCH_ONLY=load runs these alone (2 runs each by default).
//   P4  CDP: HeapProfiler.collectGarbage, then Runtime.getHeapUsage, whose usedSize is the JS heap
//       and backingStorageSize the ArrayBuffer backing stores (typed-array columns live there, not in
//       the JS heap), before and after loading the 10 M recording; (Δ used + Δ backing) / N.
//   P7  live: a LiveSession paced to ~100 k events/s streams to the page; a session listener stamps
//       each batch's wall time when it leaves the source, the page logs the newest tsNs each frame
//       drew (follow-live keeps the store's end in view); an event's latency is the first frame
//       that drew it minus the wall time the pace says it happened (its batch's stamp minus its
//       virtual age within the batch). Page and bench clocks are aligned by a round-trip probe.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import WebSocket from 'ws';
import { performance as nodePerformance } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type CDPSession } from 'playwright-core';
import { TraceStore } from '../src/trace/store.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { makeSimulation, simSource, DEFAULT_SCENARIO } from '../server/sources/sim.ts';
import { LiveSession } from '../server/hub/live-session.ts';
import { startServer } from '../server/http-server.ts';
import { CHROMIUM_ARGS, findChromium } from '../scripts/chromium.mjs';
import { writeRepeatedRecording } from './recording.ts';
import { nodeLoad } from './load-node.ts';
import type { BenchFrame } from '../src/app/bench-hooks.ts';

interface BrowserFigure { id: string; figure: string; value: number; unit: string; goal: string }

interface BrowserOptions {
  bigEvents: number;
  smallEvents: number;
  liveSeconds: number;
  liveRate: number;
  /** Skip `vite build` (dist/ is already current). */
  skipBuild?: boolean;
  /** Only these parts ('panzoom', 'live'); default both. */
  only?: string;
  log?: (msg: string) => void;
}

/** The built UI the bench serves (BENCH_DIST overrides, e.g. a private build on a shared machine). */
const DIST = process.env.BENCH_DIST ?? 'dist';
const VIEWPORT = { width: 1400, height: 900 };
/** The scripted navigation: zoom in 25 steps (0.8^25 ≈ 0.4% of the width), pan right and back, zoom out. */
const SCRIPT: string[] = [...'w'.repeat(25), ...'d'.repeat(15), ...'a'.repeat(15), ...'s'.repeat(25)];

const quantile = (xs: number[], q: number): number => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function newPage(browser: Browser): Promise<{ page: Page; cdp: CDPSession; errors: string[] }> {
  const ctx = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.addInitScript('globalThis.__name = (f) => f');
  const cdp = await ctx.newCDPSession(page);
  return { page, cdp, errors };
}

async function heapBytes(cdp: CDPSession): Promise<{ used: number; backing: number }> {
  // Twice: the first collection can leave garbage whose finalizers free more.
  await cdp.send('HeapProfiler.collectGarbage');
  await cdp.send('HeapProfiler.collectGarbage');
  const u = await cdp.send('Runtime.getHeapUsage') as { usedSize: number; backingStorageSize?: number };
  if (u.backingStorageSize === undefined) throw new Error('Runtime.getHeapUsage has no backingStorageSize: this Chromium cannot count ArrayBuffers');
  return { used: u.usedSize, backing: u.backingStorageSize };
}

async function waitFrames(page: Page, after: number): Promise<void> {
  // Timer polling: 'raf' polling would itself add rAF callbacks to the frame log.
  await page.waitForFunction((n) => window.__fusescopeBench!.frameCount() > n, after, { polling: 5, timeout: 120_000 });
}

interface PanZoomResult { frames: BenchFrame[]; loadSec: number; heap0: { used: number; backing: number }; heap1: { used: number; backing: number }; arrays: { events: number; spans: number; storeBytes: number; sharedBytes: number; storeUsedBytes: number; spanBytes: number; lockBytes: number; cacheBytes: number; columns: number } }

async function panZoom(browser: Browser, url: string, recName: string, log: (m: string) => void): Promise<PanZoomResult> {
  const { page, cdp, errors } = await newPage(browser);
  try {
    // Start on the live page (the session is idle: no events), measure, then open the recording
    // from the server's list as a user does.
    await page.goto(url);
    await page.waitForFunction(() => window.__fusescope !== undefined && window.__fusescopeBench !== undefined && window.__fusescope.idle());
    const heap0 = await heapBytes(cdp);
    const t0 = performance.now();
    await page.getByTestId('recordings').click();
    await page.getByTestId('recording-item').and(page.locator(`[data-name="${recName}"]`)).click();
    await page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle(), undefined, { polling: 250, timeout: 900_000 });
    const loadSec = (performance.now() - t0) / 1000;
    const heap1 = await heapBytes(cdp);
    const arrays = await page.evaluate(() => window.__fusescopeBench!.typedArrayBytes());
    log(`  ${recName}: ${arrays.events} events, ${arrays.spans} spans loaded in ${loadSec.toFixed(1)} s`);
    // Warm-up (unmeasured): the whole script once, so the measured pass is the page's steady state
    // at every zoom it visits — not its JIT's first pass over each (which, with one press of warm-up
    // only, moved P3r between runs by ±30 %: the cheap 100 k frames suffer most from it).
    await page.evaluate(() => window.__fusescopeBench!.start());
    for (const key of SCRIPT) {
      const n = await page.evaluate(() => window.__fusescopeBench!.frameCount());
      await page.keyboard.press(key);
      await waitFrames(page, n);
    }
    await page.evaluate(() => window.__fusescopeBench!.start());
    for (const key of SCRIPT) {
      const n = await page.evaluate(() => window.__fusescopeBench!.frameCount());
      await page.keyboard.press(key);
      await waitFrames(page, n);
    }
    await page.waitForFunction(() => window.__fusescope!.idle(), undefined, { polling: 50 });
    const frames = await page.evaluate(() => window.__fusescopeBench!.stop());
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    if (process.env.BENCH_DIAG === '1') {
      // Per frame: the view's share of the file and the frame's time (which zooms cost what).
      const fileNs = Math.max(...frames.map((f) => f.viewEndNs - f.viewStartNs));
      log(`  ${recName} frames (view % of widest, total ms / js ms): ${frames.map((f) => `${(100 * (f.viewEndNs - f.viewStartNs) / fileNs).toPrecision(2)}%:${f.totalMs.toFixed(1)}/${f.jsMs.toFixed(1)}`).join(' ')}`);
    }
    return { frames, loadSec, heap0, heap1, arrays };
  } finally {
    await page.context().close();
  }
}

/**
 * What P7 needs of a page: evaluate an expression (JSON result), and close. Two drivers:
 *  - 'plain' (default): Chromium launched with --remote-debugging-port and driven over raw CDP
 *    with Runtime/Page/Emulation only. Playwright enables the Network domain on every page and
 *    worker, and with it Chromium copies every websocket frame, base64, into a DevTools event that
 *    crosses the browser process and lands in this (server) process: ~27 MB/s of JSON at 100 k
 *    events/s, which a user's browser never pays. The figure is about the product, not DevTools.
 *  - 'playwright' (BENCH_LIVE_DRIVER=playwright): the old way, for comparison.
 */
export interface LivePage {
  evaluate<T>(expression: string): Promise<T>;
  errors: string[];
  close(): Promise<void>;
  /** Plain driver only: any CDP command on the page (the soak's heap figures), and Chromium's pid. */
  send?: (method: string, params?: object) => Promise<unknown>;
  pid?: number;
  /** Playwright only: websocket frames (and payload chars) DevTools forwarded to this process. */
  devtoolsFrames?: () => { frames: number; chars: number };
}

async function playwrightLivePage(browser: Browser, url: string): Promise<LivePage> {
  const { page, errors } = await newPage(browser);
  let frames = 0;
  let chars = 0;
  page.on('websocket', (ws) => ws.on('framereceived', (f) => { frames++; chars += f.payload.length; }));
  await page.goto(url);
  return {
    errors,
    devtoolsFrames: () => ({ frames, chars }),
    evaluate: <T>(expression: string) => page.evaluate(expression) as Promise<T>,
    close: () => page.context().close(),
  };
}

export async function plainLivePage(url: string): Promise<LivePage> {
  const exe = findChromium();
  if (!exe) throw new Error('no Chromium (see scripts/chromium.mjs)');
  const profile = mkdtempSync(join(tmpdir(), 'fusescope-bench-chromium-'));
  const proc = spawn(exe, [
    ...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0',
    `--window-size=${VIEWPORT.width},${VIEWPORT.height}`, '--force-device-scale-factor=1', '--hide-scrollbars', 'about:blank',
  ], { stdio: 'ignore' });
  const portFile = join(profile, 'DevToolsActivePort');
  const deadline = Date.now() + 30_000;
  while (!existsSync(portFile) || readFileSync(portFile, 'utf8').split('\n').length < 2) {
    if (Date.now() > deadline) { proc.kill(); throw new Error('Chromium did not open its DevTools port'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = Number(readFileSync(portFile, 'utf8').split('\n')[0]);
  let target: { type: string; webSocketDebuggerUrl: string } | undefined;
  while (!target) {
    const list = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json() as Array<{ type: string; webSocketDebuggerUrl: string }>;
    target = list.find((t) => t.type === 'page');
    if (!target) await new Promise((r) => setTimeout(r, 50));
  }
  const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 1 << 30 });
  await new Promise((ok, fail) => { ws.once('open', ok); ws.once('error', fail); });
  let nextId = 1;
  const pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void }>();
  const errors: string[] = [];
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: { exceptionDetails?: { text: string; exception?: { description?: string } } } };
    if (msg.id !== undefined) {
      const p = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) p?.fail(new Error(msg.error.message));
      else p?.ok(msg.result);
    } else if (msg.method === 'Runtime.consoleAPICalled' && process.env.BENCH_DIAG === '1') {
      // BENCH_DIAG=1: the page's console too (the page logs nothing itself; for probes one adds while investigating).
      const args = (msg.params as { args?: Array<{ value?: unknown }> }).args ?? [];
      process.stderr.write(`  page console: ${args.map((a) => String(a.value)).join(' ')}\n`);
    } else if (msg.method === 'Runtime.exceptionThrown') {
      const d = msg.params!.exceptionDetails!;
      errors.push(d.exception?.description ?? d.text);
    }
  });
  const send = (method: string, params: object = {}): Promise<unknown> => new Promise((ok, fail) => {
    const id = nextId++;
    pending.set(id, { ok, fail });
    ws.send(JSON.stringify({ id, method, params }));
  });
  await send('Runtime.enable');
  await send('Emulation.setDeviceMetricsOverride', { width: VIEWPORT.width, height: VIEWPORT.height, deviceScaleFactor: 1, mobile: false });
  await send('Page.addScriptToEvaluateOnNewDocument', { source: 'globalThis.__name = (f) => f' });
  await send('Page.navigate', { url });
  return {
    errors,
    send,
    ...(proc.pid !== undefined ? { pid: proc.pid } : {}),
    async evaluate<T>(expression: string): Promise<T> {
      const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }) as { result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } };
      if (r.exceptionDetails) throw new Error(`page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      return r.result.value;
    },
    async close() {
      ws.close();
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      try { rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }); } catch { /* Chromium's last writes: leave it */ }
    },
  };
}

async function waitForExpr(page: LivePage, expression: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(`(() => { try { return !!(${expression}); } catch { return false; } })()`))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${expression}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Offset of the page's epoch clock from ours (page − bench), from the round trip with the least delay. */
async function clockOffsetMs(page: LivePage): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 20; i++) {
    const a = performance.timeOrigin + performance.now();
    const p = await page.evaluate<number>('performance.timeOrigin + performance.now()');
    const b = performance.timeOrigin + performance.now();
    if (b - a < best.rtt) best = { rtt: b - a, offset: p - (a + b) / 2 };
  }
  return best.offset;
}

interface Sent { wallMs: number; lastTsNs: number; ageNs: Float64Array }

async function liveLatency(browser: Browser, base: TraceStore, opts: BrowserOptions, log: (m: string) => void): Promise<{
  p50: number; p99: number; p99Newest: number; ratePerSec: number; emittedPerSec: number; missed: number; frameP50: number; frameP95: number; drawnBatches: number; batches: number; speed: number;
}> {
  const { paceNsPerSec } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
  // Events per virtual ns of the scenario, from the base run: speed = wanted rate / (pace × density).
  const eventsPerNs = base.length / (base.endNs - base.startNs);
  let speed = opts.liveRate / ((paceNsPerSec / 1e9) * eventsPerNs * 1e9);
  const session = new LiveSession({
    scenarios: [], scenario: DEFAULT_SCENARIO, speed,
    makeSource: (name) => simSource(name, 1, new Map()),
  });
  let recording = false;
  const sent: Sent[] = [];
  session.addListener({
    onBatch(batch, from, to) {
      if (!recording) return;
      const lastTsNs = batch.tsNs[to - 1]!;
      const ageNs = new Float64Array(to - from);
      for (let i = from; i < to; i++) ageNs[i - from] = lastTsNs - batch.tsNs[i]!;
      sent.push({ wallMs: performance.timeOrigin + performance.now(), lastTsNs, ageNs });
    },
  });
  const server = await startServer({ host: '127.0.0.1', port: 0, distDir: DIST, session });
  // BENCH_LIVE_WINDOW sets the page's live window (?window=N; default 2 M events, see docs/views.md).
  // ?bench loads the page's bench hooks (src/main.tsx).
  const windowParam = process.env.BENCH_LIVE_WINDOW ? `&window=${process.env.BENCH_LIVE_WINDOW}` : '';
  const pageUrl = `http://127.0.0.1:${server.port}/?bench${windowParam}`;
  const driver = process.env.BENCH_LIVE_DRIVER === 'playwright' ? 'playwright' : 'plain';
  const page = driver === 'playwright' ? await playwrightLivePage(browser, pageUrl) : await plainLivePage(pageUrl);
  const errors = page.errors;
  try {
    await waitForExpr(page, 'window.__fusescope !== undefined && window.__fusescopeBench !== undefined && window.__fusescope.stats().connected');
    session.start();
    // The scenario's event density varies with its phase, so the speed is corrected from the
    // emitted rate measured over 2 s windows (3 rounds); this also lets the stream and JIT settle.
    for (let round = 0; round < 3; round++) {
      const e0 = session.emittedEvents;
      const w0 = performance.now();
      await new Promise((r) => setTimeout(r, 2000));
      const rate = ((session.emittedEvents - e0) * 1000) / (performance.now() - w0);
      if (rate > 0) session.setSpeed((speed *= Math.min(4, Math.max(0.25, opts.liveRate / rate))));
    }
    // Diagnostics while measuring: the bench process's event-loop utilisation and the client
    // socket's unsent bytes (where the bytes wait), sampled every 250 ms.
    const diag: Array<{ elu: number; buffered: number; emitted: number; sent: number }> = [];
    let eluPrev = nodePerformance.eventLoopUtilization();
    let emittedPrev = session.emittedEvents;
    let sentPrev = session.clientStats()[0]?.sentEvents ?? 0;
    const diagTimer = setInterval(() => {
      const e = nodePerformance.eventLoopUtilization();
      const st = session.clientStats()[0];
      diag.push({
        elu: nodePerformance.eventLoopUtilization(e, eluPrev).utilization, buffered: st?.bufferedAmount ?? 0,
        emitted: session.emittedEvents - emittedPrev, sent: (st?.sentEvents ?? 0) - sentPrev,
      });
      eluPrev = e;
      emittedPrev = session.emittedEvents;
      sentPrev = st?.sentEvents ?? 0;
    }, 250);
    const offset0 = await clockOffsetMs(page);
    // Received, not stored: an eviction during the window lowers the store's row count.
    const ev0 = await page.evaluate<number>('window.__fusescope.liveWindow().receivedEvents');
    const missed0 = await page.evaluate<number>('window.__fusescope.stats().missedEvents');
    const emitted0 = session.emittedEvents;
    await page.evaluate('window.__fusescopeBench.start()');
    recording = true;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, opts.liveSeconds * 1000));
    recording = false;
    clearInterval(diagTimer);
    if (process.env.BENCH_DIAG === '1') {
      const f = page.devtoolsFrames?.();
      if (f) log(`  devtools forwarded ${f.frames} websocket frames, ${(f.chars / 1e6).toFixed(1)} M chars (whole run)`);
      for (const d of diag) log(`  diag elu ${d.elu.toFixed(2)} buffered ${(d.buffered / 1e6).toFixed(2)} MB emitted ${d.emitted * 4}/s sent ${d.sent * 4}/s`);
    }
    const elus = diag.map((d) => d.elu);
    const bufs = diag.map((d) => d.buffered);
    log(`  live diag: bench event-loop utilisation median ${quantile(elus, 0.5).toFixed(2)} p95 ${quantile(elus, 0.95).toFixed(2)}; socket unsent bytes median ${(quantile(bufs, 0.5) / 1e6).toFixed(2)} MB max ${(Math.max(...bufs) / 1e6).toFixed(2)} MB`);
    const sentUntilMs = performance.timeOrigin + performance.now();
    // Frames for another second, so the last batches can be drawn.
    await new Promise((r) => setTimeout(r, 1000));
    const frames = await page.evaluate<BenchFrame[]>('window.__fusescopeBench.stop()');
    const stats = await page.evaluate<{ events: number; missedEvents: number }>('({ events: window.__fusescope.liveWindow().receivedEvents, missedEvents: window.__fusescope.stats().missedEvents })');
    const sec = (performance.now() - t0) / 1000;
    const emittedPerSec = (session.emittedEvents - emitted0) / sec;
    const offset1 = await clockOffsetMs(page);
    session.stop();
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    const offset = (offset0 + offset1) / 2;
    log(`  live (${driver} driver): speed ${speed.toFixed(3)}, clock offset page−bench ${offset.toFixed(2)} ms (drift ${(offset1 - offset0).toFixed(2)} ms)`);
    // Frame end in bench clock, and what it drew.
    const drawn = frames.map((f) => ({ wallMs: f.endWallMs - offset, endNs: f.drawnEndNs }));
    const virtNsPerMs = (paceNsPerSec * speed) / 1000;
    const lat: number[] = [];
    const newest: number[] = [];
    let drawnBatches = 0;
    let j = 0;
    for (const b of sent) {
      if (b.wallMs > sentUntilMs) break;
      while (j < drawn.length && (drawn[j]!.wallMs < b.wallMs || drawn[j]!.endNs < b.lastTsNs)) j++;
      if (j >= drawn.length) continue;
      drawnBatches++;
      const d = drawn[j]!.wallMs - b.wallMs;
      newest.push(d);
      for (const age of b.ageNs) lat.push(d + age / virtNsPerMs);
    }
    if (process.env.BENCH_DIAG === '1' && sent.length > 0) {
      // Per-second worst newest-event latency, worst frame and frame gap: one stall or many?
      const t0w = sent[0]!.wallMs;
      const rows: string[] = [];
      for (let sec = 0; sec * 1000 < sentUntilMs - t0w; sec++) {
        const inSec = (w: number): boolean => w >= t0w + sec * 1000 && w < t0w + (sec + 1) * 1000;
        let worst = 0;
        let k = 0;
        for (const b of sent) {
          if (!inSec(b.wallMs)) continue;
          while (k < drawn.length && (drawn[k]!.wallMs < b.wallMs || drawn[k]!.endNs < b.lastTsNs)) k++;
          if (k < drawn.length) worst = Math.max(worst, drawn[k]!.wallMs - b.wallMs);
        }
        const fs = frames.filter((f) => inSec(f.endWallMs - offset));
        const gapsMs = fs.slice(1).map((f, i) => f.endWallMs - fs[i]!.endWallMs);
        const batchGaps = sent.filter((b) => inSec(b.wallMs)).slice(1).map((b, i, arr) => b.wallMs - (i === 0 ? sent.find((x) => inSec(x.wallMs))!.wallMs : arr[i - 1]!.wallMs));
        rows.push(`${sec}s newest≤${worst.toFixed(0)} frames ${fs.length} maxFrame ${Math.max(0, ...fs.map((f) => f.totalMs)).toFixed(0)} maxFrameGap ${Math.max(0, ...gapsMs).toFixed(0)} maxTickGap ${Math.max(0, ...batchGaps).toFixed(0)}`);
      }
      log(`  per second: ${rows.join(' | ')}`);
    }
    const totals = frames.map((f) => f.totalMs);
    return {
      p50: quantile(lat, 0.5), p99: quantile(lat, 0.99), p99Newest: quantile(newest, 0.99),
      ratePerSec: (stats.events - ev0) / sec, emittedPerSec, missed: stats.missedEvents - missed0,
      frameP50: quantile(totals, 0.5), frameP95: quantile(totals, 0.95), drawnBatches, batches: sent.length, speed,
    };
  } finally {
    await page.close();
    await server.close();
  }
}

/** loadSec: click → first frame of the file; findingsSec: click → its findings in; idleSec: click → done and the page idle (P3l's stop before 2026-12-07 15:00). */
interface LoadRun { loadSec: number; findingsSec: number; idleSec: number; cpuSec: number; events: number; bytesPerEvent: number; phases: Record<string, number> }

/**
 * CPU seconds (user + system) used so far by this process's descendants that are alive (the
 * browser's processes: renderer with its workers, GPU, network), from /proc. The machine is shared,
 * so a load's wall time waits on other work; its CPU time does not.
 */
function childCpuSec(): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(name), Number(f[1]));
      ticks.set(Number(name), Number(f[11]) + Number(f[12]));
    } catch { /* gone */ }
  }
  let sum = 0;
  for (const [pid, t] of ticks) {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === process.pid) { sum += t; break; }
    }
  }
  return sum / 100; // USER_HZ
}

/** One thread of a browser process: its role (see threadTicks), process, CPU ms (user + system) and minor page faults so far. */
interface ThreadTicks { role: string; pid: number; ms: number; faults: number }

/** A thread's role (see threadTicks) and figures from its /proc stat line, or null if it is gone. */
function readThread(pid: number, tid: number, renderer: boolean): ThreadTicks | null {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const role = !renderer ? 'other' : comm.startsWith('DedicatedWorker') ? 'worker' : tid === pid ? 'page' : comm.startsWith('ThreadPoolForeg') ? 'pool' : 'other';
    return { role, pid, ms: (Number(f[11]) + Number(f[12])) * 10, faults: Number(f[7]) }; // USER_HZ ticks
  } catch {
    return null;
  }
}

/**
 * Every thread of the browser this process launched, by tid, from /proc/<pid>/task. Roles: the
 * page's workers ('worker': comm DedicatedWorker; while a file loads the import worker is the busy
 * one), the page's main thread ('page': the renderer's main thread), V8's and Blink's thread pool
 * ('pool': GC, memory given back, compiles), anything else ('other': network, GPU, IPC).
 */
function threadTicks(): Map<number, ThreadTicks> {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parent.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const out = new Map<number, ThreadTicks>();
  for (const pid of parent.keys()) {
    let ours = false;
    for (let p = parent.get(pid); !ours && p !== undefined && p > 1; p = parent.get(p)) ours = p === process.pid;
    if (!ours) continue;
    let renderer = false;
    let tids: string[] = [];
    try {
      renderer = /--type=renderer/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
      tids = readdirSync(`/proc/${pid}/task`);
    } catch { continue; }
    for (const tid of tids) {
      const t = readThread(pid, Number(tid), renderer);
      if (t) out.set(Number(tid), t);
    }
  }
  return out;
}

/**
 * Per thread role, the CPU and page faults of the browser's threads from its construction to
 * stop(). The page's workers are read every 50 ms meanwhile, so one that ends (the import worker is
 * let go at `done`) counts up to its last reading; everything else once at each end (a reading costs
 * the machine the bench measures). On two cores a load is CPU-bound: which thread spent the time
 * says where to cut.
 */
class ThreadSampler {
  private readonly first = threadTicks();
  private readonly last = new Map<number, ThreadTicks>();
  /** The renderer processes: each has a main thread, role 'page'. */
  private readonly renderers = [...this.first.values()].filter((t) => t.role === 'page').map((t) => t.pid);
  private readonly timer = setInterval(() => this.readWorkers(), 50);

  /** The renderers' worker threads (and threads started since, to learn their role). */
  private readWorkers(): void {
    for (const pid of this.renderers) {
      let tids: string[] = [];
      try { tids = readdirSync(`/proc/${pid}/task`); } catch { continue; }
      for (const name of tids) {
        const tid = Number(name);
        const known = this.last.get(tid) ?? this.first.get(tid);
        if (known && known.role !== 'worker') continue;
        const t = readThread(pid, tid, true);
        if (t) this.last.set(tid, t);
      }
    }
  }

  stop(): Record<string, { ms: number; faults: number }> {
    clearInterval(this.timer);
    for (const [tid, t] of threadTicks()) this.last.set(tid, t);
    const out: Record<string, { ms: number; faults: number }> = {};
    for (const [tid, t] of this.last) {
      const before = this.first.get(tid);
      const e = (out[t.role] ??= { ms: 0, faults: 0 });
      e.ms += t.ms - (before?.ms ?? 0);
      e.faults += t.faults - (before?.faults ?? 0);
    }
    return out;
  }
}

/**
 * Opens recording `recName` in a fresh page from the server's list, as a user does, and times it
 * until the first frame of the opened file; with the page's load phases (bench-hooks loadPhases).
 */
async function openOnce(browser: Browser, url: string, recName: string): Promise<LoadRun> {
  const { page, cdp, errors } = await newPage(browser);
  try {
    await page.goto(url);
    await page.waitForFunction(() => window.__fusescope !== undefined && window.__fusescopeBench !== undefined && window.__fusescope.idle());
    const heap0 = await heapBytes(cdp);
    const cpu0 = childCpuSec();
    const t0 = performance.now();
    // The page's clock at the click: the first frame and the findings are timed on it (no polling step, no idle wait).
    const t0PageMs = await page.evaluate(() => performance.now());
    await page.getByTestId('recordings').click();
    const sampler = new ThreadSampler();
    await page.getByTestId('recording-item').and(page.locator(`[data-name="${recName}"]`)).click();
    // Each thread's CPU up to the first frame (polled every 50 ms: up to 50 ms late); an older build without loadTimes: none.
    const framed = await page.waitForFunction((t) => (window.__fusescopeBench!.loadTimes?.().firstFrameAtMs ?? -1) > t, t0PageMs, { polling: 50, timeout: 900_000 })
      .then(() => true, () => false);
    const threads = sampler.stop();
    await page.waitForFunction(() => window.__fusescope!.importStatus().phase === 'done' && window.__fusescope!.idle(), undefined, { polling: 50, timeout: 900_000 });
    const idleSec = (performance.now() - t0) / 1000;
    const cpuSec = childCpuSec() - cpu0;
    // A build from before loadTimes (BENCH_DIST of an older commit) is timed as it was then: to done and idle.
    const times = await page.evaluate(() => window.__fusescopeBench!.loadTimes?.() ?? null);
    if (times && (times.firstFrameAtMs < t0PageMs || times.findingsAtMs < t0PageMs)) throw new Error(`no first frame or findings after the click: ${JSON.stringify(times)}`);
    const loadSec = times ? (times.firstFrameAtMs - t0PageMs) / 1000 : idleSec;
    const findingsSec = times ? (Math.max(times.findingsAtMs, times.firstFrameAtMs) - t0PageMs) / 1000 : idleSec;
    const phases = await page.evaluate(() => window.__fusescopeBench!.loadPhases?.() ?? {});
    for (const role of framed ? ['worker', 'page', 'pool', 'other'] : []) {
      const t = threads[role] ?? { ms: 0, faults: 0 };
      phases[`cpu.${role}`] = t.ms;
      if (role !== 'other') phases[`faults.${role}`] = t.faults;
    }
    const heap1 = await heapBytes(cdp);
    const arrays = await page.evaluate(() => window.__fusescopeBench!.typedArrayBytes());
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    // Store columns the import worker filled are SharedArrayBuffers, which V8's backing-store count leaves out: added here.
    return { loadSec, findingsSec, idleSec, cpuSec, events: arrays.events, bytesPerEvent: (heap1.used - heap0.used + heap1.backing - heap0.backing + arrays.sharedBytes) / arrays.events, phases };
  } finally {
    await page.context().close();
  }
}

/**
 * P3l's recordings: 1 M and the big size as the bench writes them (no stored findings: the page runs
 * the checkers), and the big size with the findings stored, as `serve` and `record` write recordings.
 */
const LOAD_SIZES = (big: number): Array<{ name: string; events: number; findings: boolean }> => [
  { name: 'load-1000000.fscope', events: 1_000_000, findings: false },
  { name: `big-${big}.fscope`, events: big, findings: false },
  { name: `findings-${big}.fscope`, events: big, findings: true },
];

/** What each load phase the page reports is (bench-hooks loadPhases); the worker's overlap the page's. */
const PHASE_WORDS: Record<string, string> = {
  fetch: 'fetch: the page downloads the recording (Response → Blob; builds before the worker downloaded it)',
  download: 'worker: the recording downloaded, read as it arrives (overlaps the inflate)',
  downloadWaits: 'worker: reads waiting for bytes still downloading (the download behind the inflate)',
  read: 'worker: the file read whole (one arrayBuffer; a download: nothing)',
  inflate: 'worker: inflate (wall time with a chunk inflating, waits for a buffer included; overlaps the page)',
  worker: 'worker: start to last chunk posted (inflate + decode + append + post)',
  workerAppend: 'worker: rows appended to the columns it shares with the page (their first touch)',
  store: 'page: batches appended to the store (shared columns: only adopted)',
  checkers: 'page: the checkers fed per batch (findings; a file load leaves them to the worker)',
  workerChecks: 'checks worker (or the import worker without shared rows): the checkers fed, and their findings (overlaps the page)',
  workerChecksWait: 'worker: after the last chunk, waiting for the checks worker\'s findings',
  workerWaits: 'worker: waiting for the page to hand a chunk buffer back (the page behind; inside inflate)',
  indexes: 'page: spans, aliases, locks, cache updated per batch',
  finish: 'page: file complete: LOD built, open spans ended, slack trimmed',
  deferredCache: 'page: the cache replayed after the first frame, in slices (its tab not shown; before done and idle)',
  lodTrim: 'page: the LOD levels\' growth slack given back after the first frame (one copy; before done and idle)',
  checks: 'page: findings refreshed once the file is in',
  adopt: 'page: open clicked → file shown (adopted)',
  firstFrame: 'page: adopted → first frame drawn',
  'cpu.worker': 'CPU to the first frame: the page\'s workers (the import worker\'s inflate, append, checksums)',
  'cpu.page': 'CPU to the first frame: the page\'s main thread (indexes, the first frame)',
  'cpu.pool': 'CPU to the first frame: the renderer\'s thread pool (V8 GC, memory given back, compiles)',
  'cpu.other': 'CPU to the first frame: the browser\'s other threads and processes (network, GPU, IPC)',
  'faults.worker': 'page faults to the first frame, thousands: the page\'s workers (fresh memory first touched)',
  'faults.page': 'page faults to the first frame, thousands: the page\'s main thread',
  'faults.pool': 'page faults to the first frame, thousands: the renderer\'s thread pool',
};

/** A load phase's unit as printed (its value / 1000): ms → s, a page-fault count → thousands. */
const phaseUnit = (k: string): string => (k.startsWith('faults.') ? 'k' : 's');

/** P3l at two sizes, `runs` times each (the machine is shared: every value is printed), and the Node floor. */
export async function loadFigures(browser: Browser, url: string, dir: string, sizes: Array<{ name: string; events: number; findings?: boolean }>, runs: number, log: (m: string) => void): Promise<BrowserFigure[]> {
  const figures: BrowserFigure[] = [];
  const medians: number[] = [];
  for (const { name, events, findings } of sizes) {
    const all: LoadRun[] = [];
    for (let i = 0; i < runs; i++) {
      const r = await openOnce(browser, url, name);
      log(`  ${name}: ${r.events} events, first frame ${r.loadSec.toFixed(2)} s, findings in ${r.findingsSec.toFixed(2)} s, done and idle ${r.idleSec.toFixed(2)} s (browser CPU ${r.cpuSec.toFixed(2)} s), ${r.bytesPerEvent.toFixed(1)} B/event; ${Object.entries(r.phases).map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} ${phaseUnit(k)}`).join(', ')}`);
      all.push(r);
    }
    const med = quantile(all.map((r) => r.loadSec), 0.5);
    medians.push(med);
    const size = events >= 1e6 ? `${events / 1e6} M` : `${events / 1e3} k`;
    const label = `${size}${findings ? ', findings stored' : ''}`;
    figures.push({ id: 'P3l', figure: `  open the ${size}-event recording${findings ? ' with stored findings' : ''} in the page, to its first frame (median of ${all.map((r) => r.loadSec.toFixed(2)).join(' / ')})`, value: med, unit: 's', goal: events >= 1e7 ? '≤ 3' : '—' });
    // A file is shown on the worker's `sent` while its checkers finish: its findings come later.
    figures.push({ id: 'P3lf', figure: `    … to its findings in (all runs: ${all.map((r) => r.findingsSec.toFixed(2)).join(' / ')})`, value: quantile(all.map((r) => r.findingsSec), 0.5), unit: 's', goal: '—' });
    figures.push({ id: 'P3li', figure: `    … to done and the page idle (polled every 50 ms, 100 ms quiet: P3l's stop before 2026-12-07; all runs: ${all.map((r) => r.idleSec.toFixed(2)).join(' / ')})`, value: quantile(all.map((r) => r.idleSec), 0.5), unit: 's', goal: '—' });
    const mid = all.find((r) => r.loadSec === med) ?? all[0]!;
    figures.push({ id: 'P3lc', figure: `    CPU time of the browser's processes meanwhile (${label}; all runs: ${all.map((r) => r.cpuSec.toFixed(2)).join(' / ')})`, value: quantile(all.map((r) => r.cpuSec), 0.5), unit: 's', goal: '—' });
    figures.push({ id: 'P4m', figure: `    page memory per stored event after it (${label}; CDP Δ JS heap + Δ ArrayBuffer backing + shared store columns)`, value: quantile(all.map((r) => r.bytesPerEvent), 0.5), unit: 'B/event', goal: '≤ 32' });
    for (const [k, v] of Object.entries(mid.phases)) {
      figures.push({ id: `P3l.${k}`, figure: `    ${PHASE_WORDS[k] ?? k} (${label})`, value: v / 1000, unit: phaseUnit(k), goal: '—' });
    }
    const floor = await nodeLoad(join(dir, name));
    log(`  ${name} in Node alone: ${floor.totalSec.toFixed(2)} s; ${Object.entries(floor.phasesSec).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}`);
    figures.push({ id: 'P3n', figure: `  the same load in Node alone, no page (${label}: reader + store + indexes + checkers), the floor`, value: floor.totalSec, unit: 's', goal: '—' });
    for (const [k, v] of Object.entries(floor.phasesSec)) figures.push({ id: `P3n.${k}`, figure: `    ${k} (${label}, Node)`, value: v, unit: 's', goal: '—' });
  }
  if (medians.length >= 2) figures.push({ id: 'P3lr', figure: `P3l(${sizes[1]!.events / 1e6} M) / P3l(${sizes[0]!.events / 1e6} M), both without stored findings`, value: medians[1]! / medians[0]!, unit: '×', goal: '≤ 10' });
  return figures;
}

export async function browserFigures(events: TraceEvent[], opts: BrowserOptions): Promise<{ figures: BrowserFigure[]; chromium: string }> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (!opts.skipBuild) {
    const r = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('vite build failed');
  }
  const executablePath = findChromium();
  if (!executablePath) throw new Error('no Chromium (see scripts/chromium.mjs)');
  const base = new TraceStore();
  base.appendAll(events);
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-bench-browser-'));
  const figures: BrowserFigure[] = [];
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
  const version = browser.version();
  try {
    if (opts.only === 'load') {
      // P3l alone: 1 M and the big recording, BENCH_LOAD_RUNS times each, no pan/zoom.
      const sizes = LOAD_SIZES(opts.bigEvents);
      for (const s of sizes) writeRepeatedRecording(base, s.events, join(dir, s.name), s.findings);
      const idle = new LiveSession({ scenarios: [], scenario: DEFAULT_SCENARIO, makeSource: (name) => simSource(name, 1, new Map()) });
      const server = await startServer({ host: '127.0.0.1', port: 0, distDir: DIST, session: idle, recordingsDir: dir });
      try {
        figures.push(...await loadFigures(browser, `http://127.0.0.1:${server.port}/?bench`, dir, sizes, Number(process.env.BENCH_LOAD_RUNS ?? 2), log));
      } finally {
        await server.close();
      }
      return { figures, chromium: version };
    }
    const small = `small-${opts.smallEvents}.fscope`;
    const big = `big-${opts.bigEvents}.fscope`;
    if (opts.only !== 'live') writeRepeatedRecording(base, opts.smallEvents, join(dir, small));
    if (opts.only !== 'live') writeRepeatedRecording(base, opts.bigEvents, join(dir, big));
    const idle = new LiveSession({ scenarios: [], scenario: DEFAULT_SCENARIO, makeSource: (name) => simSource(name, 1, new Map()) });
    const server = await startServer({ host: '127.0.0.1', port: 0, distDir: DIST, session: idle, recordingsDir: dir });
    const url = `http://127.0.0.1:${server.port}/?bench`; // ?bench loads the page's bench hooks (src/main.tsx)
    let smallRun: PanZoomResult;
    let bigRun: PanZoomResult;
    const loadRows: BrowserFigure[] = [];
    try {
      if (opts.only === 'live') return { figures: await liveFigures(browser, base, opts, log), chromium: version };
      smallRun = await panZoom(browser, url, small, log);
      bigRun = await panZoom(browser, url, big, log);
      // P3l: opening at 1 M and at the big size, to the first frame, with its phases and the Node floor.
      const sizes = LOAD_SIZES(opts.bigEvents);
      for (const s of sizes) if (s.name !== big) writeRepeatedRecording(base, s.events, join(dir, s.name), s.findings);
      loadRows.push(...await loadFigures(browser, url, dir, sizes, Number(process.env.BENCH_LOAD_RUNS ?? 1), log));
    } finally {
      await server.close();
    }
    // Frames that moved the view (a pan or zoom applied); a key press is often followed by a second,
    // cheap frame (cached model: chrome counters, hover) which would flatter the median.
    const moved = (r: PanZoomResult): BenchFrame[] => r.frames.filter((f, i) => i > 0 && (f.viewStartNs !== r.frames[i - 1]!.viewStartNs || f.viewEndNs !== r.frames[i - 1]!.viewEndNs));
    const fm = (r: PanZoomResult, q: number): number => quantile(moved(r).map((f) => f.totalMs), q);
    const fa = (r: PanZoomResult, q: number): number => quantile(r.frames.map((f) => f.totalMs), q);
    const mega = (n: number): string => (n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} k`);
    const bigLabel = mega(opts.bigEvents);
    figures.push({ id: 'P3', figure: `timeline pan/zoom frame, ${bigLabel} events, median (${moved(bigRun).length} frames that moved the view)`, value: fm(bigRun, 0.5), unit: 'ms', goal: '≤ 16' });
    figures.push({ id: 'P3p', figure: `  same, p95`, value: fm(bigRun, 0.95), unit: 'ms', goal: '≤ 33' });
    figures.push({ id: 'P3s', figure: `timeline pan/zoom frame, ${mega(opts.smallEvents)} events, median / p95 ${fm(smallRun, 0.95).toFixed(1)}`, value: fm(smallRun, 0.5), unit: 'ms', goal: '—' });
    figures.push({ id: 'P3a', figure: `  every frame of the ${bigLabel} script (${bigRun.frames.length}), median / p95 ${fa(bigRun, 0.95).toFixed(1)}`, value: fa(bigRun, 0.5), unit: 'ms', goal: '—' });
    // The frame split: JS in the rAF callback (model, draw calls, other views) vs the forced raster.
    const fj = (r: PanZoomResult): number => quantile(moved(r).map((f) => f.jsMs), 0.5);
    figures.push({ id: 'P3j', figure: `  JS part of those frames (rAF callbacks), median ${bigLabel} / ${mega(opts.smallEvents)}: ${fj(smallRun).toFixed(1)} ms at ${mega(opts.smallEvents)}`, value: fj(bigRun), unit: 'ms', goal: '—' });
    figures.push({ id: 'P3r', figure: `frame(${bigLabel}) / frame(${mega(opts.smallEvents)}), medians`, value: fm(bigRun, 0.5) / fm(smallRun, 0.5), unit: '×', goal: '≤ 2' });
    figures.push(...loadRows);
    const n = bigRun.arrays.events;
    const dUsed = bigRun.heap1.used - bigRun.heap0.used;
    // The store columns a file load shares with the import worker (SharedArrayBuffer) are not in V8's backing-store count.
    const dBacking = bigRun.heap1.backing - bigRun.heap0.backing + bigRun.arrays.sharedBytes;
    figures.push({ id: 'P4', figure: `page memory per stored event, ${bigLabel} (CDP: Δ JS heap + Δ ArrayBuffer backing + shared store columns)`, value: (dUsed + dBacking) / n, unit: 'B/event', goal: '≤ 32' });
    figures.push({ id: 'P4b', figure: `  of which ArrayBuffer backing stores (${(bigRun.arrays.sharedBytes / n).toFixed(1)} B/event shared)`, value: dBacking / n, unit: 'B/event', goal: '—' });
    figures.push({ id: 'P4c', figure: `  event store columns (${bigRun.arrays.columns}), capacity / rows used`, value: bigRun.arrays.storeBytes / n, unit: 'B/event', goal: `${(bigRun.arrays.storeUsedBytes / n).toFixed(0)} used` });
    figures.push({ id: 'P4s', figure: `  span index (${(bigRun.arrays.spans / 1e6).toFixed(2)} M spans)`, value: bigRun.arrays.spanBytes / n, unit: 'B/event', goal: '—' });
    figures.push({ id: 'P4l', figure: '  lock index (rows, their LOD, hold / wait lists, span → row)', value: bigRun.arrays.lockBytes / n, unit: 'B/event', goal: '—' });
    figures.push({ id: 'P4k', figure: '  cache index (extents and markers of every inode)', value: bigRun.arrays.cacheBytes / n, unit: 'B/event', goal: '—' });
    figures.push({ id: 'P4h', figure: '  JS heap (Δ usedSize)', value: dUsed / n, unit: 'B/event', goal: '—' });
    if (opts.only !== 'panzoom') figures.push(...await liveFigures(browser, base, opts, log));
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { figures, chromium: version };
}

async function liveFigures(browser: Browser, base: TraceStore, opts: BrowserOptions, log: (m: string) => void): Promise<BrowserFigure[]> {
  const figures: BrowserFigure[] = [];
  {
    const live = await liveLatency(browser, base, opts, log);
    figures.push({ id: 'P7', figure: `live latency emitted → drawn, p99 over events (${opts.liveSeconds} s; p50 ${live.p50.toFixed(0)} ms)`, value: live.p99, unit: 'ms', goal: '≤ 100' });
    figures.push({ id: 'P7n', figure: '  batch leaves the source → drawn (newest event), p99', value: live.p99Newest, unit: 'ms', goal: '—' });
    figures.push({ id: 'P7e', figure: `  rate the source emitted (speed ${live.speed.toFixed(1)})`, value: live.emittedPerSec, unit: 'events/s', goal: `~${opts.liveRate.toLocaleString('en-US')}` });
    figures.push({ id: 'P7r', figure: '  rate the page received', value: live.ratePerSec, unit: 'events/s', goal: '= emitted' });
    figures.push({ id: 'P7f', figure: `  live frame time median / p95 ${live.frameP95.toFixed(1)} ms`, value: live.frameP50, unit: 'ms', goal: '—' });
    figures.push({ id: 'P7g', figure: '  events the page missed in that window (gaps)', value: live.missed, unit: 'events', goal: '0' });
  }
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { simulation } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
  const events: TraceEvent[] = [];
  simulation.runEvents(300_000, (ev) => events.push(ev));
  const { figures: figs } = await browserFigures(events, {
    bigEvents: Number(process.env.BENCH_BIG_EVENTS ?? 10_000_000),
    smallEvents: 100_000,
    liveSeconds: Number(process.env.BENCH_LIVE_S ?? 30),
    liveRate: 100_000,
    skipBuild: process.env.BENCH_SKIP_BUILD === '1',
    only: process.env.BENCH_ONLY === 'P7' ? 'live' : process.env.BENCH_ONLY,
  });
  for (const f of figs) console.log(`${f.id.padEnd(4)} ${f.figure.padEnd(90)} ${f.value.toFixed(2).padStart(12)} ${f.unit} (goal ${f.goal})`);
}
