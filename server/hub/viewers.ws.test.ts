// Viewers of one live session over real websockets (the server `fusescope serve` runs, a stepped
// source): a late viewer gets the run's history then the live stream, a viewer's pause holds only
// its own stream, and only a message marked `shared` changes the session for everyone.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../http-server.ts';
import { CONTROL_QUEUE_MAX_BYTES, LiveSession } from './live-session.ts';
import type { ControlRateOptions } from './control-rate.ts';
import type { LiveSink, LiveSource, PaceControls } from '../sources/live-source.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { applyBatch, decodeBatch, parseServerMessage, type ServerMessage } from '../../src/trace/wire.ts';
import { typed } from '../../src/trace/testing/events.ts';

/** One fuse_send every 1000 virtual ns (event k: at 1000·(k+1) ns, unique 2 + 2k), stepped by the test. */
class Ticker implements LiveSource {
  readonly info = { label: 'ticker', paceNsPerSec: 1e6 };
  readonly calls: string[] = [];
  readonly controls: PaceControls = {
    setPaused: (paused) => { this.calls.push(`paused=${paused}`); },
    setSpeed: (speed) => { this.calls.push(`speed=${speed}`); },
  };
  private sink: LiveSink | null = null;
  private k = 0;
  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    this.sink = sink;
    return new Promise((ok) => signal.addEventListener('abort', () => ok()));
  }
  emit(events: number): void {
    for (let i = 0; i < events; i++, this.k++) {
      this.sink!.event(typed({ kind: 'fuse_send', tsNs: 1000 * (this.k + 1), task: `app/${this.k % 3}`, unique: 2 + 2 * this.k, opcode: 4094, nodeId: 2, lenBytes: 72 }));
    }
    this.sink!.flush();
  }
}

/** A websocket viewer that decodes every batch into its own store, as the page does. */
class Viewer {
  store = new TraceStore();
  readonly messages: ServerMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        const buf = data as Buffer;
        applyBatch(this.store, decodeBatch(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)));
      } else {
        const m = parseServerMessage(data.toString());
        if (!m.ok) throw new Error(m.message);
        if (m.value.type === 'reset') this.store = new TraceStore();
        this.messages.push(m.value);
      }
      for (const w of this.waiters) w();
    });
  }
  static open(port: number): Promise<Viewer> {
    return new Promise((ok, fail) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      const v = new Viewer(ws);
      ws.on('open', () => ok(v));
      ws.on('error', fail);
    });
  }
  send(msg: object): void {
    this.ws.send(JSON.stringify(msg));
  }
  /** Resolves once `pred` holds (checked on every message). */
  until(pred: (v: Viewer) => boolean): Promise<void> {
    if (pred(this)) return Promise.resolve();
    return new Promise((ok) => {
      const check = (): void => {
        if (!pred(this)) return;
        this.waiters.delete(check);
        ok();
      };
      this.waiters.add(check);
    });
  }
  uniques(): number[] {
    return [...Array(this.store.length).keys()].map((r) => {
      const e = this.store.get(r);
      return e.kind === 'fuse_send' ? e.unique : -1;
    });
  }
}

const uniquesOf = (fromK: number, count: number): number[] => Array.from({ length: count }, (_, i) => 2 + 2 * (fromK + i));

let server: RunningServer | null = null;
const open: Viewer[] = [];
afterEach(async () => {
  for (const v of open.splice(0)) v.ws.close();
  await server?.close();
  server = null;
});

interface StartOptions { clientBudgetBytes?: number; controlRate?: ControlRateOptions; log?: (line: string) => void }

async function start(historyMaxBytes?: number, more: StartOptions = {}): Promise<{ port: number; session: LiveSession; src: () => Ticker; viewer: () => Promise<Viewer> }> {
  const dist = mkdtempSync(join(tmpdir(), 'fusescope-dist-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>fusescope</title>');
  const sources: Ticker[] = [];
  const session = new LiveSession({
    scenarios: [{ name: 'tick', description: '' }],
    scenario: 'tick',
    makeSource: () => {
      const t = new Ticker();
      sources.push(t);
      return t;
    },
    maxRowsPerFrame: 100,
    ...(historyMaxBytes !== undefined ? { historyMaxBytes } : {}),
    ...(more.clientBudgetBytes !== undefined ? { clientBudgetBytes: more.clientBudgetBytes } : {}),
    ...(more.log ? { log: more.log } : {}),
  });
  session.start();
  server = await startServer({
    host: '127.0.0.1', port: 0, distDir: dist, session,
    ...(more.controlRate ? { controlRate: more.controlRate } : {}), ...(more.log ? { log: more.log } : {}),
  });
  const port = server.port;
  return {
    port, session, src: () => sources.at(-1)!,
    viewer: async () => {
      const v = await Viewer.open(port);
      open.push(v);
      await v.until((x) => x.messages.some((m) => m.type === 'hello'));
      return v;
    },
  };
}

describe('live session viewers over websockets', () => {
  it('a viewer that connects late gets the run so far, then the live stream: no gap, no duplicate', async () => {
    const { src, viewer } = await start();
    const early = await viewer();
    src().emit(300);
    await early.until((v) => v.store.length === 300);
    const late = await viewer();
    expect(late.messages[0]).toMatchObject({ type: 'hello', viewer: { paused: false }, history: { notKeptEvents: 0, keptFromNs: null } });
    await late.until((v) => v.store.length === 300);
    src().emit(200);
    await early.until((v) => v.store.length === 500);
    await late.until((v) => v.store.length === 500);
    expect(late.uniques()).toEqual(uniquesOf(0, 500));
    expect(early.uniques()).toEqual(uniquesOf(0, 500));
    expect(late.store.get(0)).toMatchObject({ task: 'app/0', tsNs: 1000 });
  });

  it('past the history bound, a late viewer is told how many events were not kept and gets the rest', async () => {
    const { src, session, viewer } = await start(20_000);
    src().emit(3000);
    const notKept = session.historyStats().notKeptEvents;
    expect(notKept).toBeGreaterThan(0);
    const late = await viewer();
    expect(late.messages[0]).toMatchObject({ type: 'hello', history: { maxBytes: 20_000, notKeptEvents: notKept, keptFromNs: 1000 * (notKept + 1) } });
    src().emit(100);
    await late.until((v) => v.store.length === 3100 - notKept);
    expect(late.uniques()).toEqual(uniquesOf(notKept, 3100 - notKept));
  });

  it("one viewer's pause leaves the other receiving and the source running; on resume it catches up", async () => {
    const { src, viewer } = await start();
    const a = await viewer();
    const b = await viewer();
    src().emit(100);
    await a.until((v) => v.store.length === 100);
    a.send({ type: 'pause' });
    await a.until((v) => v.messages.some((m) => m.type === 'viewer' && m.viewer.paused));
    src().emit(200);
    await b.until((v) => v.store.length === 300);
    // A round trip after B has it all: A's socket has had every chance to deliver anything sent.
    a.send({ type: 'ping' });
    await a.until((v) => v.messages.some((m) => m.type === 'state'));
    expect(a.store.length).toBe(100);
    expect(src().calls).toEqual(['speed=1', 'paused=false']); // the shared source was never paused
    expect(b.messages.filter((m) => m.type !== 'hello')).toEqual([]); // B heard nothing of A's pause
    a.send({ type: 'resume' });
    await a.until((v) => v.store.length === 300);
    expect(a.uniques()).toEqual(uniquesOf(0, 300));
  });

  it('speed and scenario from a passive viewer are refused and change nothing; marked shared they drive everyone', async () => {
    const { src, viewer } = await start();
    const a = await viewer();
    const b = await viewer();
    const first = src();
    a.send({ type: 'speed', value: 4 });
    a.send({ type: 'scenario', name: 'tick' });
    await a.until((v) => v.messages.filter((m) => m.type === 'error').length === 2);
    expect(a.messages.filter((m) => m.type === 'error').map((m) => m.type === 'error' && m.code)).toEqual(['not_driving', 'not_driving']);
    expect(src()).toBe(first); // not restarted
    expect(first.calls).toEqual(['speed=1', 'paused=false']);
    a.send({ type: 'speed', value: 4, shared: true });
    await b.until((v) => v.messages.some((m) => m.type === 'state' && m.state.speed === 4));
    a.send({ type: 'scenario', name: 'tick', shared: true });
    await b.until((v) => v.messages.some((m) => m.type === 'reset'));
    expect(src()).not.toBe(first);
  });
});

/** Resolves once `pred` holds, checked every few ms. */
async function waitFor(pred: () => boolean): Promise<void> {
  while (!pred()) await new Promise((ok) => setTimeout(ok, 5));
}

describe('one flooding client cannot stall the others or grow server memory', () => {
  it('a client flooding pings without reading is cut off (1008) while another keeps receiving; its queue stays under the budget', async () => {
    const lines: string[] = [];
    const budget = 64 * 1024;
    // The default limit's burst and cut-off, with a refill so slow that exactly the burst is answered.
    const controlRate: ControlRateOptions = { perSecond: 0.001, burst: 100, cutOffAfterMs: 5000, cutOffAfterDropped: 1000 };
    const { src, session, viewer } = await start(undefined, { clientBudgetBytes: budget, controlRate, log: (l) => lines.push(l) });
    const reader = await viewer();
    const flooder = await viewer();
    const flooderLabel = `viewer 127.0.0.1:${(flooder.ws as unknown as { _socket: { localPort: number } })._socket.localPort}`;
    flooder.ws.pause(); // it never reads: everything sent to it stays in the sockets
    let maxFlooderQueued = 0;
    const sample = (): void => {
      for (const st of session.clientStats()) if (st.label === flooderLabel) maxFlooderQueued = Math.max(maxFlooderQueued, st.queuedBytes);
    };
    // The source goes on at its pace: 50 events every 5 ms.
    const ticking = setInterval(() => { src().emit(50); sample(); }, 5);
    try {
      for (let i = 0; i < 5000; i++) flooder.send({ type: 'ping' });
      await waitFor(() => lines.some((l) => l.startsWith(`cut off ${flooderLabel}`)));
      expect(lines.find((l) => l.startsWith(`cut off ${flooderLabel}`))).toMatch(/\(close 1008\): flooding/);
      expect(session.clientCount).toBe(1);
      // The reader keeps receiving every event, in order, after the flood.
      const atCut = reader.store.length;
      await reader.until((v) => v.store.length >= atCut + 1000);
      expect(reader.uniques().slice(0, 1000)).toEqual(uniquesOf(0, 1000));
      expect(reader.messages.filter((m) => m.type === 'error')).toEqual([]);
    } finally {
      clearInterval(ticking);
    }
    expect(maxFlooderQueued).toBeLessThanOrEqual(budget);
    // When it reads at last: its 100-message burst answered, one error saying what was dropped, then the close.
    const closed = new Promise<number>((ok) => flooder.ws.on('close', (code) => ok(code)));
    flooder.ws.resume();
    expect(await closed).toBe(1008);
    expect(flooder.messages.filter((m) => m.type === 'state')).toHaveLength(100);
    const errors = flooder.messages.filter((m) => m.type === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'rate_limited' });
  });

  it('a client that never reads, within the rate limit, is cut off (4008) once its replies pass the budget; its queue stays bounded', async () => {
    const lines: string[] = [];
    const budget = 64 * 1024;
    const noLimit: ControlRateOptions = { perSecond: 1e9, burst: 1e9, cutOffAfterMs: Infinity, cutOffAfterDropped: Infinity };
    const { session, viewer } = await start(undefined, { clientBudgetBytes: budget, controlRate: noLimit, log: (l) => lines.push(l) });
    const reader = await viewer();
    const flooder = await viewer();
    flooder.ws.pause();
    let maxQueued = 0;
    // Pings in rounds until the kernel's socket buffers are full and the server's budget is spent
    // (each reply is ~90 bytes; loopback buffers hold a few MB): bounded, so the old server fails here.
    for (let round = 0; round < 200 && session.clientCount === 2; round++) {
      for (let i = 0; i < 5000; i++) flooder.send({ type: 'ping' });
      await new Promise((ok) => setTimeout(ok, 10));
      for (const st of session.clientStats()) maxQueued = Math.max(maxQueued, st.queuedBytes);
    }
    await waitFor(() => session.clientCount === 1);
    expect(lines.some((l) => /^cut off viewer 127\.0\.0\.1:\d+ \(close 4008\): not reading/.test(l))).toBe(true);
    // Its socket held at most the budget plus one reply; replies then waited, up to 64 KiB.
    expect(maxQueued).toBeLessThanOrEqual(budget + 200 + CONTROL_QUEUE_MAX_BYTES);
    reader.send({ type: 'ping' });
    await reader.until((v) => v.messages.some((m) => m.type === 'state'));
  });
});
