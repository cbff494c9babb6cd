import { describe, expect, it } from 'vitest';
import { CLOSE_NOT_READING, CONTROL_QUEUE_MAX_BYTES, LiveSession, type ClientSocket } from './live-session.ts';
import type { LiveSink, LiveSource, PaceControls } from '../sources/live-source.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { applyBatch, decodeBatch, parseServerMessage, type ServerMessage } from '../../src/trace/wire.ts';
import { typed } from '../../src/trace/testing/events.ts';

/** A source emitting one fuse_send every 1000 virtual ns, stepped by the test (one batch per step). */
class Ticker implements LiveSource {
  readonly info = { label: 'ticker', paceNsPerSec: 1e6 };
  readonly calls: string[] = [];
  readonly controls: PaceControls = {
    setPaused: (paused) => { this.calls.push(`paused=${paused}`); },
    setSpeed: (speed) => { this.calls.push(`speed=${speed}`); },
  };
  sink: LiveSink | null = null;
  signal: AbortSignal | null = null;
  private nextNs = 1000;
  private unique = 2;
  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    this.sink = sink;
    this.signal = signal;
    return new Promise((ok) => signal.addEventListener('abort', () => ok()));
  }
  advanceTo(untilNs: number): void {
    while (this.nextNs <= untilNs) {
      this.sink!.event(typed({ kind: 'fuse_send', tsNs: this.nextNs, task: `app/${this.unique % 3}`, unique: this.unique, opcode: 4094, nodeId: 2, lenBytes: 72 }));
      this.nextNs += 1000;
      this.unique += 2;
    }
    this.sink!.flush();
  }
}

/** A browser that decodes what it gets; when it stops reading, everything queues in its socket until drain(). */
class FakeClient implements ClientSocket {
  bufferedAmount = 0;
  /** The most its socket ever held unsent. */
  maxBufferedAmount = 0;
  reading = true;
  closed: { code: number; reason: string } | null = null;
  readonly store = new TraceStore();
  readonly messages: ServerMessage[] = [];
  private queued: Array<Uint8Array | string> = [];
  send(data: Uint8Array | string): void {
    if (this.closed) throw new Error('sent after close');
    if (!this.reading) {
      this.queued.push(data);
      this.bufferedAmount += typeof data === 'string' ? data.length : data.byteLength;
      this.maxBufferedAmount = Math.max(this.maxBufferedAmount, this.bufferedAmount);
      return;
    }
    this.receive(data);
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
  private receive(data: Uint8Array | string): void {
    if (typeof data === 'string') {
      const m = parseServerMessage(data);
      if (m.ok) this.messages.push(m.value);
      return;
    }
    applyBatch(this.store, decodeBatch(data));
  }
  /** Reads again: what its socket held is applied, in order. */
  drain(): void {
    this.reading = true;
    for (const d of this.queued) this.receive(d);
    this.queued = [];
    this.bufferedAmount = 0;
  }
  rows(): ReturnType<TraceStore['get']>[] {
    return [...Array(this.store.length).keys()].map((r) => this.store.get(r));
  }
}

/** The Ticker's k-th event (0-based), worked out from its definition: at 1000·(k+1) ns, unique 2 + 2k. */
const tick = (k: number) => ({ kind: 'fuse_send', tsNs: 1000 * (k + 1), unique: 2 + 2 * k });

/** A started session over Tickers; `sources` holds every Ticker made, the current one last. */
function session(budget = 1 << 20, historyMaxBytes?: number, log?: (line: string) => void): LiveSession & { sources: Ticker[]; src: Ticker } {
  const sources: Ticker[] = [];
  const s = new LiveSession({
    ...(log ? { log } : {}),
    scenarios: [{ name: 'tick', description: '' }],
    scenario: 'tick',
    makeSource: (name) => {
      if (name !== 'tick') throw new Error(`unknown scenario '${name}'`);
      const t = new Ticker();
      sources.push(t);
      return t;
    },
    clientBudgetBytes: budget,
    maxRowsPerFrame: 100,
    ...(historyMaxBytes !== undefined ? { historyMaxBytes } : {}),
  });
  s.start();
  return Object.defineProperties(s, {
    sources: { value: sources },
    src: { get: () => sources.at(-1)! },
  }) as LiveSession & { sources: Ticker[]; src: Ticker };
}

describe('LiveSession', () => {
  it("a listener that throws does not stop the stream; the recorder's status reaches every viewer and each later hello", () => {
    const s = session();
    const c = new FakeClient();
    s.attach(c);
    s.addListener({ onBatch: () => { throw new Error('EIO: i/o error'); } });
    s.src.advanceTo(5000);
    s.src.advanceTo(10_000);
    expect(c.store.length).toBe(10);
    const paused = { state: 'paused' as const, file: null, reason: 'ENOSPC: no space left on device' };
    s.setRecordingStatus(paused);
    expect(c.messages.at(-1)).toEqual({ type: 'recording', recording: paused });
    const late = new FakeClient();
    s.attach(late);
    expect(late.messages[0]).toMatchObject({ type: 'hello', recording: paused });
  });

  it('greets a client and streams every event in order', () => {
    const s = session();
    const c = new FakeClient();
    s.attach(c);
    expect(c.messages[0]).toMatchObject({ type: 'hello', source: 'ticker' });
    s.src.advanceTo(500_000);
    expect(c.store.length).toBe(500);
    expect(c.store.get(499)).toMatchObject({ kind: 'fuse_send', unique: 1000, tsNs: 500_000 });
  });

  it('a stalled client is sent no more than its budget, and catches up from the history with no gap', () => {
    const s = session(4096);
    const c = new FakeClient();
    s.attach(c);
    s.src.advanceTo(100_000); // 100 events delivered
    c.reading = false;
    for (let i = 1; i <= 50; i++) s.src.advanceTo(100_000 + i * 100_000); // 5000 more while stalled
    // Queued bytes stop growing once past the budget: one frame of slack at most.
    expect(c.bufferedAmount).toBeGreaterThan(0);
    expect(c.bufferedAmount).toBeLessThan(4096 + 16_384);
    c.drain();
    s.src.advanceTo(5_200_000);
    // Everything arrived, once, in order: the history held what the socket could not take.
    const rows = c.rows();
    expect(rows).toHaveLength(5200);
    expect(rows.every((e, k) => e.kind === 'fuse_send' && e.unique === tick(k).unique && e.tsNs === tick(k).tsNs)).toBe(true);
  });

  it('replies and pushes to a stalled client wait behind its budget and arrive in order once it reads', () => {
    const s = session(4096);
    const c = new FakeClient();
    const viewer = s.attach(c);
    c.reading = false;
    s.src.advanceTo(1_000_000); // 1000 events: frames until its socket holds more than 4096 bytes
    const held = c.bufferedAmount;
    expect(held).toBeGreaterThan(4096);
    s.setSpeed(2);
    viewer.send({ type: 'error', code: 'x', message: 'a reply' });
    s.setSpeed(3);
    expect(c.bufferedAmount).toBe(held); // nothing more went into its socket
    expect(s.clientStats()[0]!.queuedBytes).toBeGreaterThan(held); // they wait, counted
    c.drain();
    s.src.advanceTo(1_001_000); // the next batch pumps it: the waiting messages first, then the frames
    expect(c.messages.slice(1).map((m) => (m.type === 'state' ? m.state.speed : m.type))).toEqual([2, 'error', 3]);
    expect(c.store.length).toBe(1001);
    expect(c.closed).toBeNull();
  });

  it('a client that never reads is cut off (close 4008, logged) once its waiting replies pass 64 KiB; its queue never grows past that', () => {
    const lines: string[] = [];
    const s = session(4096, undefined, (l) => lines.push(l));
    const stalled = new FakeClient();
    const reader = new FakeClient();
    const viewer = s.attach(stalled, 'viewer 10.0.0.9:5000');
    s.attach(reader);
    stalled.reading = false;
    s.src.advanceTo(1_000_000);
    // A flood of pings answered with state: each reply ~90 bytes, 1000 of them are ~90 KiB.
    let maxQueued = 0;
    for (let i = 0; i < 1000 && !stalled.closed; i++) {
      viewer.send({ type: 'state', state: s.state });
      maxQueued = Math.max(maxQueued, ...s.clientStats().filter((x) => x.label !== 'viewer').map((x) => x.queuedBytes));
    }
    expect(stalled.closed?.code).toBe(CLOSE_NOT_READING);
    expect(stalled.closed?.code).toBe(4008);
    expect(lines.some((l) => l.startsWith('cut off viewer 10.0.0.9:5000 (close 4008): not reading'))).toBe(true);
    // Its socket took frames up to the budget plus one frame (100 rows: under 4 KiB); replies waited.
    expect(stalled.maxBufferedAmount).toBeLessThan(4096 + 4096);
    expect(maxQueued).toBeLessThanOrEqual(4096 + 4096 + CONTROL_QUEUE_MAX_BYTES);
    expect(s.clientCount).toBe(1);
    // The others go on; nothing more is sent to the one cut off (its fake throws if it is).
    s.src.advanceTo(2_000_000);
    s.setSpeed(5);
    expect(reader.store.length).toBe(2000);
  });

  it('a shared pause holds every viewer even when the source cannot pause; on resume they get the rest, or a gap past the bound', () => {
    const s = session(1 << 20, 20_000);
    const src = s.src as { controls?: unknown };
    src.controls = undefined; // a source that runs in real time without a pause control (a tracefs capture)
    const a = new FakeClient();
    const b = new FakeClient();
    s.attach(a);
    s.attach(b);
    s.src.advanceTo(100_000);
    s.pause();
    expect(b.messages.at(-1)).toMatchObject({ type: 'state', state: { paused: true } });
    s.src.advanceTo(3_100_000); // 3000 more events while paused: past the 20 000-byte history
    expect(a.store.length).toBe(100); // "paused" is true: nothing moved on the page
    expect(b.store.length).toBe(100);
    const late = new FakeClient();
    s.attach(late); // joins during the pause: the run up to the pause, no further (here: those frames were dropped)
    expect(late.store.length).toBe(0);
    expect(s.historyStats().notKeptEvents).toBeGreaterThan(100);
    s.resume();
    for (const c of [a, b]) {
      const rows = c.rows();
      const gap = rows[100]!;
      if (gap.kind !== 'gap') throw new Error(`row 100 is ${gap.kind}, not the gap`);
      // Events 0…99, the gap for events 100…100+m−1, then every later event once, in order.
      expect(rows.slice(0, 100).every((e, k) => e.kind === 'fuse_send' && e.unique === tick(k).unique)).toBe(true);
      const m = gap.missedEvents;
      expect(gap.fromTsNs).toBe(tick(100).tsNs);
      expect(gap.toTsNs).toBe(tick(100 + m - 1).tsNs);
      expect(rows.slice(101).every((e, i) => e.kind === 'fuse_send' && e.unique === tick(100 + m + i).unique)).toBe(true);
      expect(rows.length - 1 + m).toBe(3100);
    }
  });

  it('a viewer joining a shared-paused session gets the run up to the pause at once', () => {
    const s = session();
    s.src.advanceTo(300_000);
    s.pause();
    const late = new FakeClient();
    s.attach(late);
    expect(late.store.length).toBe(300);
  });

  it('past the history bound a stalled client gets a gap saying exactly how many events it missed and when', () => {
    const s = session(4096, 20_000);
    const c = new FakeClient();
    s.attach(c);
    s.src.advanceTo(100_000);
    c.reading = false;
    for (let i = 1; i <= 50; i++) s.src.advanceTo(100_000 + i * 100_000);
    expect(s.historyStats().bytes).toBeLessThanOrEqual(20_000);
    c.drain();
    s.src.advanceTo(5_200_000);
    const rows = c.rows();
    const gapAt = rows.findIndex((e) => e.kind === 'gap');
    expect(gapAt).toBeGreaterThan(100);
    const gap = rows[gapAt]!;
    if (gap.kind !== 'gap') throw new Error('no gap');
    // Before the gap: events 0…gapAt−1 in order; after it: from event gapAt + missed on, to the last.
    expect(rows.slice(0, gapAt).every((e, k) => e.kind === 'fuse_send' && e.unique === tick(k).unique)).toBe(true);
    const firstAfter = gapAt + gap.missedEvents;
    expect(gap.fromTsNs).toBe(tick(gapAt).tsNs);
    expect(gap.toTsNs).toBe(tick(firstAfter - 1).tsNs);
    expect(rows.slice(gapAt + 1).every((e, i) => e.kind === 'fuse_send' && e.unique === tick(firstAfter + i).unique)).toBe(true);
    expect(rows.length - 1 + gap.missedEvents).toBe(5200); // every event delivered once or counted missed
  });

  it('encodes a frame once for clients at the same point; a late joiner gets the whole run, then live', () => {
    const s = session();
    const a = new FakeClient();
    const b = new FakeClient();
    const sentA: Uint8Array[] = [];
    const sentB: Uint8Array[] = [];
    const tap = (c: FakeClient, log: Uint8Array[]) => {
      const send = c.send.bind(c);
      c.send = (d) => { if (typeof d !== 'string') log.push(d); send(d); };
    };
    tap(a, sentA);
    tap(b, sentB);
    s.attach(a);
    s.attach(b);
    s.src.advanceTo(250_000);
    expect(sentA.length).toBe(3);
    expect(sentA.every((f, i) => f === sentB[i])).toBe(true); // the same frame object, one encode
    const late = new FakeClient();
    const sentLate: Uint8Array[] = [];
    tap(late, sentLate);
    s.attach(late);
    expect(late.messages[0]).toMatchObject({ type: 'hello', history: { notKeptEvents: 0, keptFromNs: null } });
    expect(late.store.length).toBe(250); // the history, at once
    s.src.advanceTo(400_000);
    expect(a.store.length).toBe(400);
    expect(late.store.length).toBe(400);
    // The same events as the first viewer, none twice, none missing; and the same frames.
    expect(late.rows()).toEqual(a.rows());
    expect(sentLate.every((f, i) => f === sentA[i])).toBe(true);
  });

  it('a late joiner after the history bound is told how many events were not kept, and gets the rest', () => {
    const s = session(1 << 20, 20_000);
    s.src.advanceTo(3_000_000); // 3000 events, 30 frames
    const st = s.historyStats();
    expect(st.bytes).toBeLessThanOrEqual(20_000);
    expect(st.notKeptEvents).toBeGreaterThan(0);
    expect(st.notKeptEvents % 100).toBe(0); // whole frames of 100 rows are dropped
    const late = new FakeClient();
    s.attach(late);
    const n = st.notKeptEvents;
    expect(late.messages[0]).toMatchObject({ type: 'hello', history: { maxBytes: 20_000, notKeptEvents: n, keptFromNs: tick(n).tsNs } });
    s.src.advanceTo(3_100_000);
    const rows = late.rows();
    expect(rows).toHaveLength(3100 - n);
    expect(rows.every((e, i) => e.kind === 'fuse_send' && e.unique === tick(n + i).unique && e.tsNs === tick(n + i).tsNs)).toBe(true);
    expect(rows[0]!.task).toBe(`app/${tick(n).unique % 3}`); // its strings came with it
  });

  it("a viewer's pause holds only its own stream: the others and the source go on; on resume it catches up", () => {
    const s = session();
    const a = new FakeClient();
    const b = new FakeClient();
    const viewerA = s.attach(a);
    s.attach(b);
    s.src.advanceTo(100_000);
    viewerA.setPaused(true);
    expect(a.messages.at(-1)).toEqual({ type: 'viewer', viewer: { paused: true } });
    s.src.advanceTo(300_000);
    expect(a.store.length).toBe(100);
    expect(b.store.length).toBe(300);
    expect(s.state.paused).toBe(false);
    expect(s.src.calls).toEqual(['speed=1', 'paused=false']); // the source was never paused
    expect(b.messages.some((m) => m.type === 'viewer' || m.type === 'state')).toBe(false);
    viewerA.setPaused(false);
    expect(a.store.length).toBe(300);
    expect(a.rows()).toEqual(b.rows());
  });

  it('pauses, resumes, changes speed and switches scenario with a reset', () => {
    const s = session();
    const c = new FakeClient();
    s.attach(c);
    s.pause();
    s.resume();
    s.setSpeed(4);
    expect(c.messages.at(-1)).toMatchObject({ type: 'state', state: { speed: 4, paused: false } });
    // The source's own controls got each change (construction applied speed 1, not paused).
    expect(s.src.calls).toEqual(['speed=1', 'paused=false', 'paused=true', 'paused=false', 'speed=4']);
    const first = s.src;
    s.setScenario('tick');
    expect(c.messages.at(-1)).toMatchObject({ type: 'reset' });
    // The old source was stopped, the new one started with the session's pace state.
    expect(first.signal!.aborted).toBe(true);
    expect(s.src).not.toBe(first);
    expect(s.src.signal!.aborted).toBe(false);
    expect(s.src.calls).toEqual(['speed=4', 'paused=false']);
  });

  it('an unknown scenario changes nothing: the running source goes on', () => {
    const s = session();
    const c = new FakeClient();
    s.attach(c);
    expect(() => s.setScenario('nope')).toThrow(/unknown scenario 'nope'/);
    expect(s.sources).toHaveLength(1);
    expect(s.src.signal!.aborted).toBe(false);
    s.src.advanceTo(3000);
    expect(c.store.length).toBe(3);
    expect(c.messages.some((m) => m.type === 'reset')).toBe(false);
  });

  it('drops what a stopped source still sends (after abort, nothing reaches clients)', () => {
    const s = session();
    s.src.advanceTo(2000);
    const old = s.src;
    s.setScenario('tick');
    const c = new FakeClient();
    s.attach(c);
    old.advanceTo(10_000); // a source breaking its contract: its 8 events are ignored
    s.src.advanceTo(1000);
    expect(c.store.length).toBe(1); // only the new source's event at 1000 ns
    expect(c.store.get(0)).toMatchObject({ tsNs: 1000, unique: 2 });
    expect(s.emittedEvents).toBe(3);
  });

  it('a source that ends in error is logged; the session lives on', async () => {
    const lines: string[] = [];
    const s = new LiveSession({
      scenarios: [], scenario: 'x', log: (l) => lines.push(l),
      makeSource: () => ({ info: { label: 'broken', paceNsPerSec: 1 }, start: (sink: LiveSink) => { sink.end('disk on fire'); return Promise.resolve(); } }),
    });
    s.start();
    expect(lines).toEqual(['source broken failed: disk on fire']);
    const c = new FakeClient();
    s.attach(c);
    expect(c.messages[0]).toMatchObject({ type: 'hello', source: 'broken' });
  });
});
