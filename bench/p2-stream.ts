// P2: simulator → LiveSession → real websocket on loopback → decoded client store, zero loss.
// The client runs in a worker_thread (its own core, as a browser would be); `inProcess` runs it on
// the server's event loop instead (the method before 2026-11-24, kept for comparison). The producer
// is flow-controlled by the client socket's unsent bytes (below), as a paced session never is.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import WebSocket from 'ws';
import { TraceStore } from '../src/trace/store.ts';
import { applyFrame } from './ws-frame.ts';
import { simSource, DEFAULT_SCENARIO, type SimSource } from '../server/sources/sim.ts';
import { LiveSession } from '../server/hub/live-session.ts';
import { startServer } from '../server/http-server.ts';

interface StreamResult { eventsPerSec: number; lost: number; gaps: number; serverSec: number }

/**
 * `stepNs`: virtual time the source advances per step (one SimSource.advanceTo, as one live tick).
 * A live tick is 50 ms of wall time, so at the 1 M events/s goal a tick carries ~50 k events:
 * TICK_STEP_NS (100 ms of the default scenario's virtual time, ~52 k events) is that. 2 ms steps
 * (~1 k events) measure the per-frame overhead instead (P2f).
 */
const TICK_STEP_NS = 100_000_000;
export async function streamFigure(target: number, inProcess: boolean, distDir = 'dist', stepNs = TICK_STEP_NS): Promise<StreamResult> {
  // tickMs 0: no timer; the loop below steps the simulator.
  let sim: SimSource | null = null;
  const session = new LiveSession({
    scenarios: [], scenario: DEFAULT_SCENARIO,
    makeSource: (name) => (sim = simSource(name, 1, new Map(), { maxEventsPerTick: 1_000_000, tickMs: 0 })),
  });
  session.start();
  const server = await startServer({ host: '127.0.0.1', port: 0, distDir, session });
  const url = `ws://127.0.0.1:${server.port}/ws`;
  let events = 0;
  let gaps = 0;
  let close: () => Promise<void>;
  let ask = (): void => {};
  if (inProcess) {
    const ws = new WebSocket(url);
    const client = new TraceStore();
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return;
      gaps += applyFrame(client, data as Buffer);
      events = client.length;
    });
    await once(ws, 'open');
    close = async () => { ws.close(); };
  } else {
    // Node 20 does not pass --import loaders to workers: register tsx inside the worker first.
    const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(new URL('./p2-client.ts', import.meta.url).href)}); })`;
    const worker = new Worker(boot, { eval: true, workerData: { url } });
    worker.on('error', (e) => { throw e; });
    worker.on('message', (m: { type: string; events?: number; gaps?: number }) => {
      if (m.type === 'count') { events = m.events!; gaps = m.gaps!; }
    });
    const [first] = await once(worker, 'message') as [{ type: string }];
    if (first.type !== 'open') throw new Error(`p2 client: ${first.type}`);
    close = async () => { worker.postMessage('close'); await worker.terminate(); };
    ask = () => worker.postMessage('report');
  }
  // Wait for the hello to be processed by a fresh connection, then stream flat out.
  while (session.clientCount === 0) await new Promise((r) => setTimeout(r, 5));
  const t0 = performance.now();
  let virtualNs = 0;
  while (session.emittedEvents < target) {
    // Flow control: produce only while the client's socket holds less than half the session's
    // per-client budget, so the figure is the pipeline's sustained rate with zero loss (a client
    // slower than the producer would otherwise turn the surplus into gap events).
    while ((session.clientStats()[0]?.bufferedAmount ?? 0) > 4 * 1024 * 1024) await new Promise((r) => setTimeout(r, 1));
    virtualNs += stepNs;
    sim!.advanceTo(virtualNs);
    await new Promise((r) => setImmediate(r));
  }
  const serverSec = (performance.now() - t0) / 1000;
  while (events < session.emittedEvents && gaps === 0) {
    ask();
    await new Promise((r) => setTimeout(r, 2));
  }
  const sec = (performance.now() - t0) / 1000;
  await close();
  session.stop();
  await server.close();
  return { eventsPerSec: events / sec, lost: session.emittedEvents - events + gaps, gaps, serverSec };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const n = Number(process.argv[2] ?? 1_000_000);
  for (let i = 0; i < Number(process.argv[3] ?? 3); i++) {
    for (const inProcess of [false, true]) {
      const r = await streamFigure(n, inProcess);
      console.log(`${inProcess ? 'in-process' : 'worker    '} ${Math.round(r.eventsPerSec).toLocaleString('en-US').padStart(10)} events/s  lost ${r.lost}  gaps ${r.gaps}  server loop ${(n / r.serverSec / 1e3).toFixed(0)} k/s`);
    }
  }
}
