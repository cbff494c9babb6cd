// `npm run bench`: every figure measured in this run on this machine, printed as one table with its
// goal, and written to bench/results.json. Timings live here, never in the test suite.
import { writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { TraceStore } from '../src/trace/store.ts';
import { applyBatch, decodeBatch, encodeBatch } from '../src/trace/wire.ts';
import { SpanIndex } from '../src/trace/spans.ts';
import { CheckRunner, RULES, runChecks } from '../src/trace/checks/index.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { makeSimulation, DEFAULT_SCENARIO } from '../server/sources/sim.ts';
import { SCENARIOS } from '../server/sim/index.ts';
import { recordingFigures } from './recording.ts';
import { ftraceIngestFigures } from './ftrace-ingest.ts';
import { importFilesFigures } from './import-files.ts';
import { traceDatIngestFigures } from './trace-dat-ingest.ts';
import { browserFigures } from './browser.ts';
import { streamFigure } from './p2-stream.ts';
import { tracefsCaptureFigure } from './tracefs-capture.ts';
import { fuseWriteFigure } from './fuse-write.ts';

interface Figure {
  id: string;
  figure: string;
  value: number;
  unit: string;
  goal: string;
}
const figures: Figure[] = [];
const fmt = (n: number): string => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2));

// BENCH_ONLY=<group> runs one group of figures: P6, P1, store (S*, W*), P2, recording (R*),
// panzoom (P3, P4), load (P3l alone: 1 M and 10 M, BENCH_LOAD_RUNS each), live (P7; `P7` works too) or capture (T1-T4: root with tracefs). Unset: everything.
const ONLY = process.env.BENCH_ONLY === 'P7' ? 'live' : process.env.BENCH_ONLY;
const GROUPS = ['P6', 'P1', 'store', 'P2', 'recording', 'panzoom', 'load', 'live', 'capture'];
if (ONLY !== undefined && !GROUPS.includes(ONLY)) throw new Error(`BENCH_ONLY=${ONLY}: not a group (${GROUPS.join(', ')}, P7)`);
const want = (group: string): boolean => ONLY === undefined || ONLY === group;

function simEvents(count: number, scenario = DEFAULT_SCENARIO): TraceEvent[] {
  const { simulation } = makeSimulation(scenario, 1, new Map());
  const out: TraceEvent[] = [];
  simulation.runEvents(count, (ev) => out.push(ev));
  return out;
}

function best(runs: number, fn: () => number): number {
  let bestSec = Infinity;
  let result = 0;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    result = fn();
    bestSec = Math.min(bestSec, (performance.now() - t0) / 1000);
  }
  return result / bestSec;
}

// P6: simulator flat out (no pacing), events/s on one core.
if (want('P6')) {
  const N = 1_000_000;
  const rate = best(3, () => {
    const { simulation } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
    let sink = 0;
    return simulation.runEvents(N, (ev) => { sink += ev.tsNs; });
  });
  figures.push({ id: 'P6', figure: `simulator fast mode (${DEFAULT_SCENARIO})`, value: rate, unit: 'events/s', goal: '≥ 1,000,000' });
  // Every other built-in scenario: the workloads differ in events per upcall. Best of 3 runs of
  // 500k events, so the first (JIT warm-up) run does not set the figure.
  for (const name of Object.keys(SCENARIOS)) {
    if (name === DEFAULT_SCENARIO) continue;
    const r = best(3, () => {
      const { simulation } = makeSimulation(name, 1, new Map());
      let sink = 0;
      return simulation.runEvents(500_000, (ev) => { sink += ev.tsNs; });
    });
    figures.push({ id: 'P6s', figure: `simulator fast mode (${name})`, value: r, unit: 'events/s', goal: '≥ 1,000,000' });
  }
}

// P1: ftrace text ingest (fixtures repeated in memory), one core, and ratio to a bare line split.
if (want('P1')) {
  const f = ftraceIngestFigures();
  figures.push({ id: 'P1', figure: `ftrace text ingest (${fmt(f.mbPerSec)} MB/s)`, value: f.eventsPerSec, unit: 'events/s', goal: '≥ 2,000,000' });
  figures.push({ id: 'P1r', figure: `ftrace ingest time / bare line split (String split, same chunks); ${f.ratioToScan.toFixed(1)}× a newline scan`, value: f.ratio, unit: '×', goal: '≤ 3' });
  // End to end as `fusescope import` loads (files → pipeline → store), one file and the same cut in two.
  const i = await importFilesFigures();
  figures.push({ id: 'P1i', figure: 'fusescope import, files → store (32 MB ftrace file)', value: i.oneFile, unit: 'events/s', goal: '—' });
  figures.push({ id: 'P1i2', figure: 'fusescope import, the same as two halves (merged on one clock)', value: i.twoHalves, unit: 'events/s', goal: '—' });
  // trace.dat read natively (a real v6 capture's pages repeated to ~1 M records), and against trace-cmd report.
  const d = await traceDatIngestFigures();
  figures.push({ id: 'P1d', figure: `trace.dat ingest, file → store (${fmt(d.mb)} MB v6, ${fmt(d.records)} records)`, value: d.eventsPerSec, unit: 'events/s', goal: '—' });
  figures.push({
    id: 'P1dr',
    figure: d.traceCmdSec === null ? `trace.dat ingest time / trace-cmd report time: trace-cmd ${d.traceCmd}` : `trace.dat ingest time / \`trace-cmd report -t\` (${d.traceCmd}) time on the same file (${d.traceCmdSec.toFixed(1)} s)`,
    value: d.traceCmdSec === null ? NaN : d.ourSec / d.traceCmdSec, unit: '×', goal: '< 1',
  });
  figures.push({
    id: 'P1drc',
    figure: d.traceCmdCpuSec === null ? `P1dr in CPU time: trace-cmd ${d.traceCmd}` : `P1dr in CPU time (user + system): ours ${d.ourCpuSec.toFixed(2)} s, \`trace-cmd report -t\` ${d.traceCmdCpuSec.toFixed(2)} s`,
    value: d.traceCmdCpuSec === null ? NaN : d.ourCpuSec / d.traceCmdCpuSec, unit: '×', goal: '< 1',
  });
}

const events = simEvents(300_000);

// Store append and span pairing.
if (want('store')) {
  const rate = best(3, () => {
    const s = new TraceStore();
    for (const ev of events) s.append(ev);
    return s.length;
  });
  figures.push({ id: 'S1', figure: 'store append (object → typed columns)', value: rate, unit: 'events/s', goal: '—' });
  const store = new TraceStore();
  store.appendAll(events);
  const pairRate = best(3, () => {
    const spans = new SpanIndex();
    spans.update(store);
    return store.length;
  });
  figures.push({ id: 'S2', figure: 'span pairing (incremental index)', value: pairRate, unit: 'events/s', goal: '—' });
  // Checkers (src/trace/checks): every rule over the whole store, and as a live session feeds them
  // (4,096-row batches, each its own store; findings read after every 16th batch, as a panel does).
  const checkRate = best(3, () => { runChecks(store); return store.length; });
  figures.push({ id: 'K1', figure: `checks, all ${RULES.length} rules over one store`, value: checkRate, unit: 'events/s', goal: '—' });
  const liveCheckRate = best(3, () => {
    const runner = new CheckRunner();
    const strings = new TraceStore().strings;
    for (let from = 0, n = 0; from < events.length; from += 4_096, n++) {
      const batch = new TraceStore(0n, strings);
      batch.appendAll(events.slice(from, from + 4_096));
      runner.feed(batch, 0, batch.length, from);
      if (n % 16 === 15) runner.findings();
    }
    return events.length;
  });
  figures.push({ id: 'K2', figure: 'checks as a live session feeds them (store append included)', value: liveCheckRate, unit: 'events/s', goal: '—' });
  figures.push({ id: 'K1r', figure: 'checks time / span pairing time (same store)', value: pairRate / checkRate, unit: '×', goal: '—' });

  // Wire codec: encode 16k-row frames, decode and apply into a client store.
  const encRate = best(3, () => {
    let known = 0;
    const client = new TraceStore();
    for (let from = 0; from < store.length; from += 16_384) {
      const r = encodeBatch(store, from, Math.min(store.length, from + 16_384), known);
      known = r.knownStrings;
      applyBatch(client, decodeBatch(r.frame));
    }
    return client.length;
  });
  figures.push({ id: 'W1', figure: 'wire encode + decode + apply', value: encRate, unit: 'events/s', goal: '—' });
  const { frame } = encodeBatch(store, 0, store.length, 0);
  figures.push({ id: 'W2', figure: 'wire bytes per event', value: frame.byteLength / store.length, unit: 'B/event', goal: '—' });
  // What runtime code generation buys (src/trace/codegen.ts), each variant in its own process, CPU time;
  // last in the group, so the child processes cannot disturb the figures above.
  const cg = (variant: string): number => {
    // A child process per variant (bench/codegen.ts says why it is never imported here).
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./codegen.ts', import.meta.url)), variant], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`bench/codegen.ts ${variant}: ${r.stderr}`);
    return Number(r.stdout.trim());
  };
  figures.push({ id: 'C1', figure: 'store append, compiled writers (CPU time)', value: cg('append-compiled'), unit: 'events/s', goal: '—' });
  figures.push({ id: 'C1p', figure: 'store append, plan loop: no `Function` (CPU time)', value: cg('append-plan'), unit: 'events/s', goal: '—' });
  figures.push({ id: 'C2', figure: 'range scan of 7 column types, per-type copies (CPU time)', value: cg('scan-per-type'), unit: 'elements/s', goal: '—' });
  figures.push({ id: 'C2p', figure: 'range scan of 7 column types, one function (CPU time)', value: cg('scan-shared'), unit: 'elements/s', goal: '—' });
}

// P2: simulator → LiveSession → real websocket on loopback → decoded client store (bench/p2-stream.ts).
// The client decodes in a worker_thread (its own core, as the browser is its own process); the
// producer is flow-controlled by the client socket's unsent bytes, so the figure is the sustained
// zero-loss rate. P2s is the earlier method (client on the server's event loop), for comparison.
if (want('P2')) {
  // Best of 3 runs of 1 M events, as P6, after one unmeasured warm-up run (the JIT's first pass
  // over the simulator, store and codec). Losses are summed over the three, so "zero loss" holds
  // for every measured run, not only the best.
  await streamFigure(1_000_000, false);
  const runs = [];
  for (let r = 0; r < 3; r++) runs.push(await streamFigure(1_000_000, false));
  const w = runs.reduce((a, b) => (b.eventsPerSec > a.eventsPerSec ? b : a));
  const rates = runs.map((r) => `${(r.eventsPerSec / 1e3).toFixed(0)}k`).join(', ');
  figures.push({ id: 'P2', figure: `sim → websocket → decoded client (worker_thread), loopback, zero loss; best of ${rates}`, value: w.eventsPerSec, unit: 'events/s', goal: '≥ 1,000,000' });
  figures.push({ id: 'P2g', figure: '  events lost to gaps, all 3 runs', value: runs.reduce((n, r) => n + r.lost, 0), unit: 'events', goal: '0' });
  const f = await streamFigure(1_000_000, false, 'dist', 2_000_000);
  figures.push({ id: 'P2f', figure: '  same, ~1 k-event steps (2 ms virtual) instead of ~50 k (one 50 ms tick at 1 M/s)', value: f.eventsPerSec, unit: 'events/s', goal: '—' });
  const i = await streamFigure(1_000_000, true);
  figures.push({ id: 'P2s', figure: '  same, client on the server\'s event loop (one core)', value: i.eventsPerSec, unit: 'events/s', goal: '—' });
}

// R*: .fscope recordings (write rate, size, seek in a 10 M-event file; BENCH_BIG_EVENTS overrides).
if (want('recording')) try {
  figures.push(...await recordingFigures(events, Number(process.env.BENCH_BIG_EVENTS ?? 10_000_000)));
} catch (err) {
  // A failed figure is a row of the table (value NaN), not the end of the run.
  console.error(err);
  figures.push({ id: 'R!', figure: `recording figures FAILED: ${(err as Error).message}`, value: Number.NaN, unit: '', goal: '—' });
}

// T1: live capture from the kernel's tracefs (bench/tracefs-capture.ts): rising steps of a paced
// syscall workload until one loses events; the figure is the last lossless step. Both readers in the
// same run: T1 trace_pipe's text, T1r per-CPU trace_pipe_raw (capture --reader text|raw).
if (want('capture')) for (const [reader, id] of [['text', 'T1'], ['raw', 'T1r']] as const) try {
  const c = await tracefsCaptureFigure([20_000, 80_000, 160_000, 320_000, 640_000], 3, reader);
  if (c.skipped !== null) {
    figures.push({ id, figure: `tracefs live capture (--reader ${reader}): not measured (${c.skipped})`, value: Number.NaN, unit: 'events/s', goal: '—' });
  } else {
    const ok = c.steps.filter((x) => x.lost === 0).at(-1);
    const over = c.steps.find((x) => x.lost > 0);
    const load = (x: { burstBytes: number; seconds: number }): string => `dd bursts of ${x.burstBytes.toLocaleString('en-US')} 1-byte copies + 50 ms sleep, ${x.seconds} s`;
    const read = reader === 'text' ? 'of trace_pipe text' : 'of trace_pipe_raw pages';
    if (ok) {
      figures.push({ id, figure: `tracefs live capture --reader ${reader}, syscall events (read/write enter+exit) of ${load(ok)}`, value: ok.eventsPerSec, unit: 'events/s', goal: '—' });
      figures.push({ id: `${id}l`, figure: `  events lost at that load (overrun/dropped/LOST; ${ok.events.toLocaleString('en-US')} captured, ${ok.bytesPerEvent.toFixed(0)} B ${read} each)`, value: ok.lost, unit: 'events', goal: '0' });
      figures.push({ id: `${id}c`, figure: '  capture CPU time (user + system) per event at that load', value: ok.cpuUsPerEvent, unit: 'µs', goal: '—' });
    }
    if (over) figures.push({ id: `${id}x`, figure: `  the next step, ${load(over)}: captured (${over.lost.toLocaleString('en-US')} lost)`, value: over.eventsPerSec, unit: 'events/s', goal: '—' });
    else figures.push({ id: `${id}x`, figure: '  no step lost events (the workload, not the capture, set the rate)', value: Number.NaN, unit: '', goal: '—' });
  }
} catch (err) {
  console.error(err);
  figures.push({ id: `${id}!`, figure: `tracefs capture figure (--reader ${reader}) FAILED: ${(err as Error).message}`, value: Number.NaN, unit: '', goal: '—' });
}

// T2-T4: sequential write through fusescope's server against Debian fuse2fs (bench/fuse-write.ts),
// MB/s and requests/s (counted by the kernel's fuse_request_send) and their ratios.
if (want('capture')) try {
  const w = await fuseWriteFigure(Number(process.env.BENCH_WRITE_MIB ?? 128));
  if (w.skipped !== null) {
    figures.push({ id: 'T2', figure: `sequential write, fusescope server vs fuse2fs: not measured (${w.skipped})`, value: Number.NaN, unit: 'MB/s', goal: '—' });
  } else {
    const [own, f2] = w.runs as [typeof w.runs[0], typeof w.runs[0]];
    const what = `dd bs=1M ${(own.bytes >> 20)} MiB conv=fsync`;
    figures.push({ id: 'T2', figure: `sequential write through fusescope's server (${what}; ${own.requests} requests, ${own.writes} WRITE)`, value: own.mbPerSec, unit: 'MB/s', goal: '—' });
    figures.push({ id: 'T2r', figure: '  its requests/s', value: own.requestsPerSec, unit: 'req/s', goal: '—' });
    figures.push({ id: 'T3', figure: `the same through Debian fuse2fs (${f2.requests} requests, ${f2.writes} WRITE)`, value: f2.mbPerSec, unit: 'MB/s', goal: '—' });
    figures.push({ id: 'T3r', figure: '  its requests/s', value: f2.requestsPerSec, unit: 'req/s', goal: '—' });
    figures.push({ id: 'T4', figure: 'fusescope server / fuse2fs, MB/s', value: own.mbPerSec / f2.mbPerSec, unit: '×', goal: '—' });
    figures.push({ id: 'T4r', figure: 'fusescope server / fuse2fs, requests/s', value: own.requestsPerSec / f2.requestsPerSec, unit: '×', goal: '—' });
  }
} catch (err) {
  console.error(err);
  figures.push({ id: 'T2!', figure: `fuse write figure FAILED: ${(err as Error).message}`, value: Number.NaN, unit: '', goal: '—' });
}

// P3, P4, P7: the built UI in headless Chromium (bench/browser.ts; BENCH_NO_BROWSER=1 skips them,
// BENCH_LIVE_S sets the live window, BENCH_SKIP_BUILD=1 reuses dist/).
let chromiumVersion = 'not run';
if (process.env.BENCH_NO_BROWSER !== '1' && (want('panzoom') || want('load') || want('live'))) {
  // The figures before leave ~GBs of garbage (R3's 10 M-event stores); collected now, not by
  // V8's concurrent marking on one of the two cores while the page's frames are timed.
  (globalThis as { gc?: () => void }).gc?.();
  const b = await browserFigures(events, {
    bigEvents: Number(process.env.BENCH_BIG_EVENTS ?? 10_000_000),
    smallEvents: 100_000,
    liveSeconds: Number(process.env.BENCH_LIVE_S ?? 30),
    liveRate: 100_000,
    skipBuild: process.env.BENCH_SKIP_BUILD === '1',
    only: ONLY,
  });
  figures.push(...b.figures);
  chromiumVersion = b.chromium;
}

const rows = figures.map((f) => [f.id, f.figure, fmt(f.value), f.unit, f.goal]);
const head = ['id', 'figure', 'value', 'unit', 'goal'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
const p6 = figures.find((f) => f.id === 'P6')?.value;
const p2 = figures.find((f) => f.id === 'P2')?.value;
if (p6 !== undefined && p2 !== undefined) console.log(`\nratio P2 / P6 (streaming vs bare simulation): ${(p2 / p6).toFixed(2)}`);
const machine = {
  node: process.version, chromium: chromiumVersion, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '',
  memoryGiB: Math.round(totalmem() / 2 ** 30), date: new Date().toISOString(),
};
console.log(`machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Chromium ${machine.chromium}`);
// A partial run (BENCH_ONLY) leaves the full run's results.json alone.
if (ONLY === undefined) writeFileSync('bench/results.json', JSON.stringify({ machine, figures }, null, 2) + '\n');
else console.log(`BENCH_ONLY=${ONLY}: bench/results.json not written`);
