// `npm run soak -- --minutes N [--rate EVENTS_PER_S] [--seconds S] [--window N] [--history-mb M]
//                  [--scenario NAME] [--json FILE] [--keep]`
// A long live run with every part real (issue #20 item 7; docs/reliability.md "Soak"):
//   - the server: `serve`'s own code (serveSession, startSessionRecording) in this process, recording
//     into a temporary sessions folder, its source the simulator at a fixed rate (FixedRateSource:
//     the count it produced is exact);
//   - the page: the built UI (dist/) in Debian Chromium, driven over CDP (bench/browser.ts's plain
//     driver: Playwright's Network domain would copy every websocket frame into this process);
// and prints, every minute (every 10 s for runs under 10 minutes): elapsed, events produced, events
// the page received, server RSS and heap, the page's JS heap and ArrayBuffer bytes (CDP
// Runtime.getHeapUsage after a forced GC), Chromium's RSS (all its processes), recording bytes.
// At the end it stops the source, waits for the page, closes the recording and checks
// (scripts/soak-checks.ts): the recording read back holds exactly the events produced (count and an
// order-sensitive digest of kind and time); the page received every event or gaps counting exactly
// the rest; memory is flat over the second half. Exit 1 on any failed check.
// Runs with --expose-gc (package.json) so the server's heap is sampled after a collection.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance as perf } from 'node:perf_hooks';
import { LiveSession } from '../server/hub/live-session.ts';
import { serveSession, startSessionRecording } from '../server/commands/serve.ts';
import { listScenarios, makeSimulation, simSource, DEFAULT_SCENARIO } from '../server/sources/sim.ts';
import { FixedRateSource } from '../server/sources/fixed-rate.ts';
import { openRecordingFile } from '../server/recorder/file-source.ts';
import { plainLivePage, type LivePage } from '../bench/browser.ts';
import { RowDigest, checkFlat, checkPage, checkRecording, type Verdict } from './soak-checks.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const MiB = 2 ** 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const gc = (globalThis as { gc?: () => void }).gc;

/**
 * RSS and CPU time (ms, user + system) of a process and all its descendants (Chromium is a browser
 * process plus renderers, GPU, utility). RSS is summed: pages shared between them count more than once.
 */
function treeUsage(rootPid: number): { rssBytes: number; cpuMs: number } {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  const cpu = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the comm's closing paren: state, ppid, …; RSS (pages) is field 24.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(name);
      const ppid = Number(f[1]);
      rss.set(pid, Number(f[21]) * 4096);
      cpu.set(pid, ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS_PER_S);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch { /* the process ended meanwhile */ }
  }
  let rssBytes = 0;
  let cpuMs = 0;
  const stack = [rootPid];
  while (stack.length) {
    const p = stack.pop()!;
    rssBytes += rss.get(p) ?? 0;
    cpuMs += cpu.get(p) ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return { rssBytes, cpuMs };
}
/** USER_HZ: /proc/PID/stat's times are in these (100 on Linux for every architecture fusescope runs on). */
const CLOCK_TICKS_PER_S = 100;

interface Sample {
  elapsedS: number;
  produced: number;
  pageReceived: number;
  pageGaps: number;
  pageMissed: number;
  serverRss: number;
  serverHeap: number;
  serverArrayBuffers: number;
  pageHeap: number;
  pageArrayBuffers: number;
  browserRss: number;
  recordingBytes: number;
  serverElu: number;
  /** CPU used since the last sample, in CPUs (1 = one core busy): this process (server, source, soak) and Chromium's processes. */
  serverCpu: number;
  browserCpu: number;
  /** How long taking this sample took (the page answers between its own tasks). */
  sampleMs?: number;
}

async function main(): Promise<number> {
  const runS = arg('seconds') !== undefined ? Number(arg('seconds')) : Number(arg('minutes') ?? 30) * 60;
  const rate = Number(arg('rate') ?? 50_000);
  const scenario = arg('scenario') ?? DEFAULT_SCENARIO;
  const windowEvents = arg('window');
  const historyMb = arg('history-mb');
  if (!(runS > 0) || !(rate > 0)) throw new Error('--minutes/--seconds and --rate must be > 0');
  if (!existsSync(resolve('dist/index.html'))) throw new Error('dist/ has no built UI: run `npx vite build` first');
  const printEveryS = runS >= 600 ? 60 : 10;
  // Samples for the memory fit: every 10 s (short runs: 30 in all, at least 1 s apart).
  const sampleEveryS = Math.min(10, Math.max(1, runS / 30));

  // The scenario's density (events per virtual ns), so the page's pace figure matches the rate.
  const probe = makeSimulation(scenario, 1, new Map()).simulation;
  const probeEvents = probe.runEvents(200_000, () => {});
  const paceNsPerSec = rate / (probeEvents / Math.max(1, probe.nowNs));
  let source: FixedRateSource | null = new FixedRateSource(makeSimulation(scenario, 1, new Map()).simulation, rate, {
    label: `sim:${scenario}:seed=1:fixed-rate=${rate}/s`, paceNsPerSec,
  });
  const fixed = source;
  const logLines: string[] = [];
  const session = new LiveSession({
    scenarios: listScenarios(new Map()),
    scenario,
    // The first run is the fixed-rate source; a later one (a page switching scenario: none here) the usual simulator.
    makeSource: (name) => {
      const s = source ?? simSource(name, 1, new Map());
      source = null;
      return s;
    },
    ...(historyMb ? { historyMaxBytes: Number(historyMb) * MiB } : {}),
    log: (line) => { logLines.push(line); process.stderr.write(`fusescope: ${line}\n`); },
  });
  const recordDir = mkdtempSync(join(tmpdir(), 'fusescope-soak-'));
  const flags = { host: '127.0.0.1', port: 0, 'record-dir': recordDir };
  const server = await serveSession(session, flags);
  const stopRecording = startSessionRecording(session, flags);
  session.recorded = true;
  const produced = new RowDigest();
  session.addListener({ onBatch: (b, from, to) => produced.add(b.kinds, b.tsNs, from, to) });

  const url = `${server.url}${windowEvents ? `?window=${windowEvents}` : ''}`;
  console.log(`soak: ${runS} s at ${rate.toLocaleString('en-US')} events/s of ${scenario}; server ${url}; recording into ${recordDir}`);
  const page: LivePage = await plainLivePage(url);
  const verdicts: Verdict[] = [];
  const samples: Sample[] = [];
  let pageFinal = { received: 0, gaps: 0, missed: 0 };
  try {
    const readPage = (): Promise<{ received: number; gaps: number; missed: number; connected: boolean }> => page.evaluate(
      '(() => { const h = window.__fusescope; if (!h) return { received: 0, gaps: 0, missed: 0, connected: false }; const w = h.liveWindow(); const s = h.stats(); return { received: w.receivedEvents, gaps: w.gapEvents, missed: s.missedEvents, connected: s.connected }; })()',
    );
    for (const deadline = Date.now() + 60_000; !(await readPage()).connected;) {
      if (Date.now() > deadline) throw new Error('the page did not connect within 60 s');
      await sleep(100);
    }
    session.start();
    const t0 = perf.now();
    let elu = perf.eventLoopUtilization();
    let cpuPrev = { wallMs: perf.now(), server: process.cpuUsage(), browserMs: page.pid ? treeUsage(page.pid).cpuMs : 0 };
    let lastPrintS = -Infinity;
    const header = 'elapsed  produced     page rcvd    gaps/missed  srv RSS  srv heap  srv AB  page heap  page AB  chrome RSS  rec MiB  srv ELU  srv CPU  chrome CPU';
    console.log(header);
    const sample = async (): Promise<Sample> => {
      const p = await readPage();
      gc?.();
      const m = process.memoryUsage();
      const send = page.send!;
      await send('HeapProfiler.collectGarbage');
      const h = await send('Runtime.getHeapUsage') as { usedSize: number; backingStorageSize?: number };
      const e = perf.eventLoopUtilization();
      const tree = page.pid ? treeUsage(page.pid) : { rssBytes: NaN, cpuMs: NaN };
      const cpuNow = { wallMs: perf.now(), server: process.cpuUsage(), browserMs: tree.cpuMs };
      const dWallMs = cpuNow.wallMs - cpuPrev.wallMs;
      const d = process.cpuUsage(cpuPrev.server);
      const serverCpu = (d.user + d.system) / 1000 / dWallMs;
      const browserCpu = (cpuNow.browserMs - cpuPrev.browserMs) / dWallMs;
      cpuPrev = cpuNow;
      const recPath = stopRecording.currentPath();
      let recordingBytes = 0;
      try { recordingBytes = recPath ? statSync(recPath).size : 0; } catch { /* between files */ }
      const s: Sample = {
        elapsedS: (perf.now() - t0) / 1000, produced: fixed.produced,
        pageReceived: p.received, pageGaps: p.gaps, pageMissed: p.missed,
        serverRss: m.rss, serverHeap: m.heapUsed, serverArrayBuffers: m.arrayBuffers,
        pageHeap: h.usedSize, pageArrayBuffers: h.backingStorageSize ?? NaN,
        browserRss: tree.rssBytes, recordingBytes,
        serverElu: perf.eventLoopUtilization(e, elu).utilization, serverCpu, browserCpu,
      };
      elu = e;
      return s;
    };
    const fmt = (s: Sample): string => [
      `${s.elapsedS.toFixed(0).padStart(6)} s`, String(s.produced).padStart(11), String(s.pageReceived - s.pageGaps).padStart(12),
      `${s.pageGaps}/${s.pageMissed}`.padStart(12), (s.serverRss / MiB).toFixed(0).padStart(7), (s.serverHeap / MiB).toFixed(0).padStart(8),
      (s.serverArrayBuffers / MiB).toFixed(0).padStart(6), (s.pageHeap / MiB).toFixed(0).padStart(9), (s.pageArrayBuffers / MiB).toFixed(0).padStart(7),
      (s.browserRss / MiB).toFixed(0).padStart(10), (s.recordingBytes / MiB).toFixed(1).padStart(8), s.serverElu.toFixed(2).padStart(8),
      s.serverCpu.toFixed(2).padStart(8), s.browserCpu.toFixed(2).padStart(11),
    ].join(' ');
    // Samples on a fixed grid of wall time; one that comes late (the page answers CDP between its
    // own tasks) moves the next to the next free slot. The run ends at runS whatever the samples do.
    const endMs = t0 + runS * 1000;
    // The source stops on time even while a sample waits for the page.
    let stoppedAtMs = 0;
    const stopTimer = setTimeout(() => { session.stop(); stoppedAtMs = perf.now(); }, runS * 1000);
    for (let k = 1; ; k++) {
      const due = t0 + k * sampleEveryS * 1000;
      if (due >= endMs) break;
      if (due < perf.now()) continue;
      await sleep(due - perf.now());
      const before = perf.now();
      const s = await sample();
      s.sampleMs = perf.now() - before;
      samples.push(s);
      if (s.elapsedS - lastPrintS >= printEveryS - 0.5) {
        lastPrintS = s.elapsedS;
        console.log(fmt(s));
      }
      if (page.errors.length) throw new Error(`page errors: ${page.errors.join('; ')}`);
    }
    await sleep(Math.max(0, endMs - perf.now()));
    // The end: the source stops; the page gets what is still on its way.
    clearTimeout(stopTimer);
    if (!stoppedAtMs) {
      session.stop();
      stoppedAtMs = perf.now();
    }
    const wallS = (stoppedAtMs - t0) / 1000;
    console.log(`source stopped after ${wallS.toFixed(1)} s: ${fixed.produced} events produced (${(fixed.produced / wallS).toFixed(0)}/s)${fixed.ranOut ? ', the scenario ran out' : ''}`);
    // Until the page has every event or gap, or has taken nothing for 30 s.
    const accounted = (p: typeof pageFinal): number => p.received - p.gaps + p.missed;
    for (let lastMoveMs = Date.now(), before = -1; Date.now() - lastMoveMs < 30_000;) {
      pageFinal = await readPage();
      if (accounted(pageFinal) >= fixed.produced) break;
      if (accounted(pageFinal) !== before) {
        before = accounted(pageFinal);
        lastMoveMs = Date.now();
      }
      await sleep(250);
    }
    const afterS = ((perf.now() - stoppedAtMs) / 1000).toFixed(1);
    console.log(accounted(pageFinal) >= fixed.produced ? `the page had every event or gap ${afterS} s after the source stopped` : `the page stopped taking events ${afterS} s after the source stopped`);
    const last = await sample();
    console.log(fmt(last));
    if (fixed.produced !== produced.rows || session.emittedEvents !== produced.rows) {
      verdicts.push({ ok: false, what: `source: produced ${fixed.produced}, the session passed on ${session.emittedEvents}, the listener saw ${produced.rows}` });
    }
    verdicts.push(checkPage(fixed.produced, pageFinal));
    for (const [name, key] of [['server RSS', 'serverRss'], ['server heap', 'serverHeap'], ['server ArrayBuffers', 'serverArrayBuffers'], ['page JS heap', 'pageHeap'], ['page ArrayBuffers', 'pageArrayBuffers'], ['Chromium RSS', 'browserRss']] as const) {
      verdicts.push(checkFlat(name, samples.map((s) => ({ elapsedS: s.elapsedS, bytes: s[key] })), runS));
    }
  } finally {
    await page.close();
    stopRecording();
    await server.close();
  }
  // The recording, closed: read back with the core reader, chunk by chunk.
  const files = readdirSync(recordDir).filter((f) => f.endsWith('.fscope'));
  const recorded = { files: files.length, rows: 0, hex: '', damage: null as string | null, bytes: 0 };
  if (files.length === 1) {
    const path = join(recordDir, files[0]!);
    recorded.bytes = statSync(path).size;
    const { reader, close } = await openRecordingFile(path);
    try {
      const digest = new RowDigest();
      for (let k = 0; k < reader.chunks.length; k++) {
        const c = await reader.readChunk(k);
        digest.add(c.kinds, c.tsNs, 0, c.rowCount);
      }
      recorded.rows = digest.rows;
      recorded.hex = digest.hex;
      recorded.damage = reader.damage ? `${reader.damage.reason} (at byte ${reader.damage.offsetBytes})` : reader.indexed ? null : 'no index (not closed cleanly)';
    } finally {
      await close();
    }
  }
  verdicts.unshift(checkRecording(produced, recorded));
  console.log(`recording: ${files.length} file(s), ${(recorded.bytes / MiB).toFixed(1)} MiB`);
  for (const v of verdicts) console.log(`${v.ok ? 'ok  ' : 'FAIL'} ${v.what}`);
  const failed = verdicts.filter((v) => !v.ok).length;
  console.log(`soak: ${failed === 0 ? 'passed' : `${failed} check(s) failed`}`);
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify({ runS, rate, scenario, produced: produced.rows, page: pageFinal, recorded, verdicts, samples, log: logLines }, null, 2));
  if (!process.argv.includes('--keep')) rmSync(recordDir, { recursive: true, force: true });
  return failed > 0 ? 1 : 0;
}

process.exitCode = await main();
