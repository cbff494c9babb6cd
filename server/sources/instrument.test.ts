import { afterEach, describe, expect, it, vi } from 'vitest';
import { createConnection, type Socket } from 'node:net';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { listenInstrument, parseInstrumentTarget, type InstrumentListener, type InstrumentSource, type InstrumentTarget } from './instrument.ts';
import { LiveSession } from '../hub/live-session.ts';
import { InstrumentClient } from '../fuse/instrument-client.ts';
import { startServer, type RunningServer } from '../http-server.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { applyBatch, decodeBatch } from '../../src/trace/wire.ts';
import type { Diag, TraceEvent } from '../../src/trace/schema.ts';

/** The TCP listeners of these tests use this token (listenInstrument makes a random one per run otherwise). */
const TOKEN = 'test-token-1';
const HELLO = JSON.stringify({ fusescope: 'instrument', version: 1, server: 'fuse4fs', pid: 1234, token: TOKEN });
const recv = (tsNs: number, unique: number): string =>
  JSON.stringify({ kind: 'fuse_recv', tsNs, task: 'fuse4fs/1240', unique, opcode: 4094, nodeId: 2 });
const map = (tsNs: number): string => JSON.stringify({
  kind: 'iomap_map', tsNs, task: 'fuse4fs/1240', nodeId: 2, ino: 12, slot: 'write', source: 'reply',
  mapType: 2, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 4096, mapAddr: '0xffffffffffffffff', mapDev: 0, cookie: 7,
});

const listeners: InstrumentListener[] = [];
let server: RunningServer | null = null;
afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = null;
  for (const l of listeners.splice(0)) await l.close();
});

function tmpSocketPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'fusescope-instr-')), 'instr.sock');
}

async function open(target: InstrumentTarget, limits = {}): Promise<InstrumentListener> {
  const l = await listenInstrument(target, { limits, drainMs: 5, token: 'port' in target ? TOKEN : undefined });
  listeners.push(l);
  return l;
}

function connect(l: InstrumentListener, path?: string): Promise<Socket> {
  return new Promise((ok, fail) => {
    const s = l.port !== null ? createConnection(l.port, '127.0.0.1') : createConnection(path!);
    s.once('connect', () => ok(s));
    s.once('error', fail);
  });
}

function ended(s: Socket): Promise<void> {
  return new Promise((ok) => {
    if (s.destroyed) ok();
    else s.once('close', () => ok());
  });
}

/** Runs the source (LiveSource.start) until `done(all events so far)` holds (or 5 s pass), then stops it. */
async function collect(source: InstrumentSource, done: (evs: TraceEvent[]) => boolean, into: TraceEvent[] = []): Promise<TraceEvent[]> {
  const deadline = Date.now() + 5000;
  const run = new AbortController();
  const ran = source.start({ event: (ev) => into.push(ev), flush: () => {}, end: () => {} }, run.signal);
  try {
    while (!done(into)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(into.map((e) => e.kind === 'diag' ? `${e.code}@${e.line}` : e.kind))}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    return into;
  } finally {
    run.abort();
    await ran;
  }
}

/** Waits (on real timers) until `cond` holds, for bytes in flight on a socket. */
async function until(cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

const diags = (evs: TraceEvent[]): Diag[] => evs.filter((e): e is Diag => e.kind === 'diag');
const hasClosed = (evs: TraceEvent[], n = 1): boolean => diags(evs).filter((d) => d.code === 'disconnected').length >= n;

async function exerciseBadInput(l: InstrumentListener, path?: string): Promise<void> {
  const s = await connect(l, path);
  const huge = `{"kind":"instant","tsNs":5,"task":"x/1","name":"big","text":"${'x'.repeat(200_000)}"}`;
  const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80, 0x9f, 0x0a]); // ends with '\n'
  s.write(`${HELLO}\n${recv(1000, 8)}\n`); // lines 1-2
  s.write('{"kind":"fuse_recv","tsNs":\n'); // 3: malformed
  s.write('{"kind":"fuse_teleport","tsNs":1500}\n'); // 4: unknown kind
  s.write(`${huge.slice(0, 70_000)}`); // 5: huge, split across writes
  s.write(`${huge.slice(70_000)}\n`);
  s.write(garbage); // 6: not UTF-8
  s.write(`${map(2000)}\r\n${recv(3000, 10)}\n`); // 7-8: valid, after all the bad ones
  s.end();
  await ended(s);
}

async function checkBadInput(l: InstrumentListener): Promise<void> {
  const evs = await collect(l.source, (e) => hasClosed(e));
  const kinds = evs.filter((e) => e.kind !== 'diag').map((e) => e.kind);
  expect(kinds).toEqual(['fuse_recv', 'iomap_map', 'fuse_recv']);
  const [a, m, b] = evs.filter((e) => e.kind !== 'diag') as [TraceEvent & { unique: number }, TraceEvent & { mapAddr: bigint; cookie: number }, TraceEvent & { unique: number }];
  expect(a).toMatchObject({ task: 'fuse4fs/1240', unique: 8, opcode: 4094, nodeId: 2 });
  expect(m).toMatchObject({ slot: 'write', mapLenBytes: 4096, mapAddr: 0xffffffffffffffffn, cookie: 7 });
  expect(b).toMatchObject({ unique: 10 });
  // Times keep the sender's spacing (first event at arrival) and never go backwards.
  expect(m.tsNs - a.tsNs).toBeLessThanOrEqual(1000);
  expect(b.tsNs).toBeGreaterThanOrEqual(m.tsNs);
  const bad = diags(evs).filter((d) => d.severity === 'warn').map((d) => [d.code, d.line, d.file]);
  expect(bad).toEqual([
    ['bad_json', 3, 'fuse4fs[1234]#1'],
    ['bad_event', 4, 'fuse4fs[1234]#1'],
    ['line_too_long', 5, 'fuse4fs[1234]#1'],
    ['bad_utf8', 6, 'fuse4fs[1234]#1'],
  ]);
  expect(diags(evs).find((d) => d.code === 'bad_event')!.message).toMatch(/unknown kind "fuse_teleport"/);
  expect(diags(evs).map((d) => d.code)).toEqual(['connected', 'bad_json', 'bad_event', 'line_too_long', 'bad_utf8', 'disconnected']);
  expect(diags(evs).at(-1)!.message).toMatch(/closed after 8 line\(s\): 3 event\(s\), 4 bad line\(s\)/);
}

describe('instrumentation socket', () => {
  it('parses PATH|PORT', () => {
    expect(parseInstrumentTarget('7700')).toEqual({ port: 7700 });
    expect(parseInstrumentTarget('/run/fs.sock')).toEqual({ path: '/run/fs.sock' });
    expect(() => parseInstrumentTarget('99999')).toThrow(/out of range/);
  });

  it('unix socket: valid events in order, each bad line a diag with connection and line, stream goes on', async () => {
    const path = tmpSocketPath();
    const l = await open({ path });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await exerciseBadInput(l, path);
    await checkBadInput(l);
    await l.close();
    expect(existsSync(path)).toBe(false);
  });

  it('TCP on 127.0.0.1: the same', async () => {
    const l = await open({ port: 0 });
    expect(l.address).toBe(`tcp:127.0.0.1:${l.port}`);
    await exerciseBadInput(l);
    await checkBadInput(l);
  });

  it('refuses to replace a file that is not a socket; replaces a stale socket', async () => {
    const path = tmpSocketPath();
    writeFileSync(path, 'precious');
    await expect(listenInstrument({ path })).rejects.toThrow(/not a socket/);
    const stalePath = tmpSocketPath();
    const first = await listenInstrument({ path: stalePath });
    await expect(listenInstrument({ path: stalePath })).rejects.toThrow(/in use/);
    await first.close();
    await open({ path: stalePath });
  });

  it('two concurrent clients: each its own label, merged in time order', async () => {
    let clock = 0;
    const l = await listenInstrument({ port: 0 }, { token: TOKEN, clockNs: () => (clock += 100) });
    listeners.push(l);
    const a = await connect(l);
    const b = await connect(l);
    a.write(`${JSON.stringify({ fusescope: 'instrument', version: 1, server: 'alpha', pid: 1, token: TOKEN })}\n`);
    b.write(`${JSON.stringify({ fusescope: 'instrument', version: 1, server: 'beta', pid: 2, token: TOKEN })}\n`);
    for (let i = 0; i < 50; i++) {
      a.write(`${recv(i * 10, 2 * i)}\n`);
      b.write(`${JSON.stringify({ kind: 'fuse_recv', unique: 2 * i + 1, opcode: 15, nodeId: 3 })}\n`); // no tsNs, no task
    }
    a.write('oops\n');
    a.end();
    b.end();
    await Promise.all([ended(a), ended(b)]);
    const evs = await collect(l.source, (e) => hasClosed(e, 2));
    const recvs = evs.filter((e) => e.kind === 'fuse_recv') as Array<TraceEvent & { unique: number }>;
    expect(recvs.filter((e) => e.task === 'fuse4fs/1240').map((e) => e.unique)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i));
    expect(recvs.filter((e) => e.task === 'beta/2').map((e) => e.unique)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 1));
    // beta's events took the hello's task, so their process is the hello's pid (said once); alpha named its own tasks: unknown.
    expect(evs.filter((e) => e.kind === 'task_process').map((e) => [e.task, (e as { tgid: number }).tgid])).toEqual([['beta/2', 2]]);
    for (let i = 1; i < evs.length; i++) expect(evs[i]!.tsNs).toBeGreaterThanOrEqual(evs[i - 1]!.tsNs);
    const bad = diags(evs).find((d) => d.code === 'bad_json')!;
    expect([bad.file, bad.line]).toEqual(['alpha[1]#1', 52]);
    expect(diags(evs).filter((d) => d.code === 'connected').map((d) => d.file).sort()).toEqual(['alpha[1]#1', 'beta[2]#2']);
  });

  it('disconnect mid-line: the partial line is a diag, what came before is kept', async () => {
    const l = await open({ port: 0 });
    const s = await connect(l);
    s.write(`${HELLO}\n${recv(10, 2)}\n{"kind":"fuse_recv","tsNs":20,"uni`);
    await new Promise((r) => setTimeout(r, 20));
    s.destroy();
    const evs = await collect(l.source, (e) => hasClosed(e));
    expect(evs.filter((e) => e.kind === 'fuse_recv')).toHaveLength(1);
    expect(diags(evs).find((d) => d.code === 'truncated_line')).toMatchObject({ line: 3, file: 'fuse4fs[1234]#1' });
  });

  it('a client flooding past its queue gets a gap and a diag; memory stays bounded; later lines still parse', async () => {
    const l = await open({ port: 0 }, { maxQueuedEvents: 100 });
    const s = await connect(l);
    let lines = `${HELLO}\n`;
    for (let i = 0; i < 1000; i++) lines += `${recv(i, i)}\n`;
    s.write(lines);
    // Let it all arrive before draining (as a paused session would).
    await new Promise((r) => setTimeout(r, 100));
    expect(l.source.stats()[0]!.droppedLines).toBeGreaterThan(0);
    const evs: TraceEvent[] = [];
    await collect(l.source, (e) => e.some((x) => x.kind === 'gap'), evs);
    s.write(`${recv(5000, 5000)}\n`);
    s.end();
    await collect(l.source, (e) => hasClosed(e), evs);
    const gap = evs.find((e) => e.kind === 'gap') as TraceEvent & { missedEvents: number };
    const kept = evs.filter((e) => e.kind === 'fuse_recv');
    expect(kept.length + gap.missedEvents).toBe(1001);
    expect(kept.length).toBeLessThanOrEqual(101);
    expect((kept.at(-1) as TraceEvent & { unique: number }).unique).toBe(5000);
    expect(diags(evs).find((d) => d.code === 'flood')!.message).toMatch(/queue full \(100 events\)/);
  });

  it('a garbage-only connection never crashes and its diags are capped', async () => {
    // The unix socket: it reads lines without a hello (a TCP port refuses this connection at its first line).
    const path = tmpSocketPath();
    const l = await open({ path }, { maxDiagsPerConnection: 10 });
    const s = await connect(l, path);
    s.write(Buffer.alloc(300_000, 0x41)); // no newline at all: one overlong line
    s.write('\n');
    for (let i = 0; i < 50; i++) s.write('\x00\x01garbage\n');
    s.end();
    await ended(s);
    const evs = await collect(l.source, (e) => hasClosed(e));
    expect(diags(evs).length).toBe(11); // 10 shown + the closing summary
    expect(diags(evs).at(-1)!.message).toMatch(/51 bad line\(s\), 41 diagnostic\(s\) not shown/);
    expect(diags(evs)[0]).toMatchObject({ code: 'line_too_long', line: 1, file: 'conn#1' });
  });

  it('a character split across writes is read whole; a line that is not UTF-8 is one bad_utf8 even split, and the next line parses', async () => {
    const l = await open({ port: 0 });
    const s = await connect(l);
    // Line 2: an event whose task holds 'é' (c3 a9), the write cut between its two bytes.
    const named = Buffer.from(`${JSON.stringify({ kind: 'fuse_recv', tsNs: 10, task: 'fuse4fs/é', unique: 6, opcode: 4094, nodeId: 2 })}\n`);
    const cut = named.indexOf(0xc3) + 1;
    s.write(`${HELLO}\n`);
    s.write(named.subarray(0, cut));
    await new Promise((r) => setTimeout(r, 20));
    s.write(named.subarray(cut));
    // Line 3: '{"a":' then a lone continuation byte 0x80 then '}' — sent in two writes.
    s.write(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a]));
    await new Promise((r) => setTimeout(r, 20));
    s.write(Buffer.from([0x80, 0x7d, 0x0a]));
    s.write(`${recv(30, 8)}\n`); // line 4
    s.end();
    await ended(s);
    const evs = await collect(l.source, (e) => hasClosed(e));
    const recvs = evs.filter((e) => e.kind === 'fuse_recv') as Array<TraceEvent & { unique: number }>;
    expect(recvs.map((e) => [e.unique, e.task])).toEqual([[6, 'fuse4fs/é'], [8, 'fuse4fs/1240']]);
    expect(diags(evs).map((d) => [d.code, d.line])).toEqual([['connected', 1], ['bad_utf8', 3], ['disconnected', 0]]);
    expect(diags(evs).find((d) => d.code === 'bad_utf8')!.message).toBe('line is not valid UTF-8 text (binary data?)');
  });

  it('end to end: instrumented events reach a websocket client as wire batches', async () => {
    const l = await open({ port: 0 });
    const session = new LiveSession({
      scenarios: [{ name: 'instrument', description: '' }],
      scenario: 'instrument',
      makeSource: () => l.source,
    });
    const dist = mkdtempSync(join(tmpdir(), 'fusescope-dist-'));
    writeFileSync(join(dist, 'index.html'), '<!doctype html>');
    server = await startServer({ host: '127.0.0.1', port: 0, distDir: dist, session });
    session.start();
    try {
      const store = new TraceStore();
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
      const hello = new Promise<unknown>((ok) => ws.on('message', (data, isBinary) => {
        if (isBinary) applyBatch(store, decodeBatch(new Uint8Array(data as Buffer)));
        else ok(JSON.parse(data.toString()));
      }));
      expect(await hello).toMatchObject({ type: 'hello', source: `instrument:${l.address}`, scenarios: [{ name: 'instrument' }] });
      const s = await connect(l);
      s.write(`${HELLO}\n${recv(100, 2)}\n${map(200)}\nnot json\n`);
      const deadline = Date.now() + 5000;
      while (store.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const got = Array.from({ length: store.length }, (_, i) => store.get(i));
      expect(got.map((e) => e.kind)).toEqual(['diag', 'fuse_recv', 'iomap_map', 'diag']);
      expect(got[1]).toMatchObject({ unique: 2, task: 'fuse4fs/1240' });
      expect(got[2]).toMatchObject({ mapAddr: 0xffffffffffffffffn });
      expect(got[3]).toMatchObject({ code: 'bad_json', line: 4, file: 'fuse4fs[1234]#1' });
      s.destroy();
      ws.close();
    } finally {
      session.stop();
    }
  });

  it('a hello with clock "monotonic" places times exactly on a receiver that knows its origin; estimated without; a stamp from the future falls back', async () => {
    // Receive clock fixed at 5 ms (the lines are read "late"); its 0 is at CLOCK_MONOTONIC 1 ms.
    const l = await listenInstrument({ port: 0 }, { token: TOKEN, drainMs: 5, clockNs: () => 5_000_000, monoOriginNs: 1_000_000n });
    listeners.push(l);
    const mono = JSON.stringify({ fusescope: 'instrument', version: 1, server: 'ours', pid: 7, clock: 'monotonic', token: TOKEN });
    const a = await connect(l);
    a.write(`${mono}\n${recv(2_000_000, 1)}\n${recv(3_000_000, 2)}\n${recv(9_000_000, 3)}\n`);
    const evs = await collect(l.source, (e) => e.filter((x) => x.kind === 'fuse_recv').length === 3);
    const times = (xs: TraceEvent[]): number[] => xs.filter((x) => x.kind === 'fuse_recv').map((x) => x.tsNs);
    // 2 ms − 1 ms and 3 ms − 1 ms exactly; 9 ms − 1 ms = 8 ms is after its 5 ms arrival: estimated from then on
    // (offset = min(5 − 2, 5 − 3, 5 − 9) ms = −4 ms: 9 − 4 = 5 ms).
    expect(times(evs)).toEqual([1_000_000, 2_000_000, 5_000_000]);
    const bad = evs.find((x): x is Diag => x.kind === 'diag' && x.code === 'clock_not_monotonic');
    expect(bad?.message).toMatch(/line 4: tsNs 9000000 is 3\.000 ms after it arrived/);
    a.destroy();
    // The same lines without the clock field: the first lands at its arrival, the rest keep the spacing but never
    // pass arrival (offset 3 ms, then 2 ms: 5 ms, max(5, 3 + 2) = 5 ms).
    const l2 = await listenInstrument({ port: 0 }, { token: TOKEN, drainMs: 5, clockNs: () => 5_000_000, monoOriginNs: 1_000_000n });
    listeners.push(l2);
    const b = await connect(l2);
    b.write(`${HELLO}\n${recv(2_000_000, 1)}\n${recv(3_000_000, 2)}\n`);
    const evs2 = await collect(l2.source, (e) => e.filter((x) => x.kind === 'fuse_recv').length === 2);
    expect(times(evs2)).toEqual([5_000_000, 5_000_000]);
    b.destroy();
  });

  it('deliveredNs: the receive clock at the last drain less the sender slack (0.2 s); it stays while paused', async () => {
    let clock = 1_000_000_000;
    const l = await listenInstrument({ port: 0 }, { token: TOKEN, drainMs: 5, clockNs: () => clock });
    listeners.push(l);
    const run = new AbortController();
    const ran = l.source.start({ event: () => {}, flush: () => {}, end: () => {} }, run.signal);
    await until(() => l.source.deliveredNs() === 800_000_000);
    l.source.controls.setPaused(true);
    clock = 2_000_000_000;
    await new Promise((ok) => setTimeout(ok, 30));
    expect(l.source.deliveredNs()).toBe(800_000_000);
    l.source.controls.setPaused(false);
    await until(() => l.source.deliveredNs() === 1_800_000_000);
    run.abort();
    await ran;
  });

  it('a run stops when its signal aborts: no timer left, no sink call, the connection and its lines wait for the next run', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }); // the drain timer only; sockets run for real
    const l = await open({ port: 0 });
    const got: Array<string | number> = [];
    const sink = { event: (ev: TraceEvent) => got.push(ev.kind === 'fuse_recv' ? ev.unique : ev.kind), flush: () => got.push('flush'), end: () => got.push('end') };
    const run = new AbortController();
    const ran = l.source.start(sink, run.signal);
    expect(vi.getTimerCount()).toBe(1);
    const s = await connect(l);
    s.write(`${HELLO}\n${recv(100, 2)}\n`);
    await until(() => l.source.stats()[0]?.lines === 2);
    vi.advanceTimersByTime(5); // one drain, after the poll phase (setImmediate)
    await new Promise((ok) => setImmediate(ok));
    expect(got).toEqual(['diag', 2, 'flush']); // connected, the event, one batch
    run.abort();
    await ran;
    expect(vi.getTimerCount()).toBe(0);
    expect(l.source.running).toBe(false);
    s.write(`${recv(200, 4)}\n`);
    await until(() => l.source.stats()[0]?.lines === 3);
    vi.advanceTimersByTime(50);
    await new Promise((ok) => setImmediate(ok));
    expect(got).toEqual(['diag', 2, 'flush']);
    // The listener keeps the connection: a new run drains the line that waited.
    vi.useRealTimers();
    const next = await collect(l.source, (e) => e.some((x) => x.kind === 'fuse_recv'));
    expect(next.map((e) => (e.kind === 'fuse_recv' ? e.unique : e.kind))).toEqual([4]);
    s.destroy();
  });

  it('closing the listener ends a run by itself: the disconnect diags are drained, then end()', async () => {
    const l = await open({ port: 0 });
    const got: string[] = [];
    const ran = l.source.start({
      event: (ev) => got.push(ev.kind === 'diag' ? `diag:${ev.code}` : ev.kind), flush: () => {}, end: (err) => got.push(err ?? 'end'),
    }, new AbortController().signal);
    const a = await connect(l);
    const b = await connect(l);
    a.write(`${HELLO}\n${recv(100, 2)}\n`);
    b.write(`${HELLO}\n`);
    await until(() => l.source.stats().length === 2 && l.source.stats()[0]!.lines === 2);
    await l.close();
    await ran;
    expect(l.source.running).toBe(false);
    expect(got.filter((k) => k === 'diag:disconnected')).toHaveLength(2);
    expect(got).toContain('fuse_recv');
    expect(got.at(-1)).toBe('end');
    await Promise.all([ended(a), ended(b)]);
  });

  it('the example client speaks the protocol', async () => {
    const l = await open({ port: 0 });
    const child = spawn(process.execPath, ['scripts/instrument-example.mjs', String(l.port), '--count', '3', '--token', TOKEN], { stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((ok) => child.on('close', ok));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const evs = await collect(l.source, (e) => hasClosed(e));
    expect(diags(evs).filter((d) => d.severity !== 'info')).toEqual([]);
    expect(evs.filter((e) => e.kind !== 'diag').length).toBeGreaterThan(10);
  });
});

describe('instrumentation TCP port: token, HTTP refusal, hello and idle timeouts', () => {
  async function tcp(opts: { helloTimeoutMs?: number; idleTimeoutMs?: number } = {}): Promise<InstrumentListener> {
    const l = await listenInstrument({ port: 0 }, { drainMs: 5, token: TOKEN, ...opts });
    listeners.push(l);
    return l;
  }
  // The connection's own rows (diags, the hello's task → process row) are not the client's events.
  const events = (evs: TraceEvent[]): TraceEvent[] => evs.filter((e) => e.kind !== 'diag' && e.kind !== 'task_process');

  it('refuses a web page\'s no-cors POST at its request line: the connection closes, no event is injected', async () => {
    // What fetch('http://127.0.0.1:PORT/', {method: 'POST', mode: 'no-cors', body}) puts on the wire;
    // the body even holds a valid hello (with the token) and an event.
    for (const l of [await tcp(), await open({ path: tmpSocketPath() })]) {
      const path = l.port === null ? l.address.slice('unix:'.length) : undefined;
      const body = `${HELLO}\n${recv(100, 2)}\n`;
      const s = await connect(l, path);
      s.write(`POST / HTTP/1.1\r\nHost: 127.0.0.1:${l.port ?? 0}\r\nOrigin: http://evil.example\r\nContent-Type: text/plain;charset=UTF-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      await ended(s); // closed by the listener, not by us
      const evs = await collect(l.source, (e) => diags(e).some((d) => d.code === 'http_refused'));
      expect(events(evs), l.address).toEqual([]);
      expect(l.source.refusals.get('http_refused'), l.address).toBe(1);
      expect(diags(evs).map((d) => d.code), l.address).toEqual(['http_refused']); // no connected/disconnected: never let in
    }
  });

  it('refuses a hello without the token or with a wrong one; the right token is let in', async () => {
    const l = await tcp();
    const noToken = await connect(l);
    noToken.write(`${JSON.stringify({ fusescope: 'instrument', version: 1, server: 'x', pid: 1 })}\n${recv(100, 2)}\n`);
    const wrong = await connect(l);
    wrong.write(`${JSON.stringify({ fusescope: 'instrument', version: 1, server: 'x', pid: 1, token: 'guess' })}\n${recv(100, 3)}\n`);
    const garbage = await connect(l);
    garbage.write(`${recv(100, 4)}\n`); // events without any hello
    await Promise.all([ended(noToken), ended(wrong), ended(garbage)]);
    expect(l.source.refusals.get('bad_token')).toBe(2);
    expect(l.source.refusals.get('hello_required')).toBe(1);
    const good = await connect(l);
    good.write(`${HELLO}\n${recv(100, 5)}\n`);
    const evs = await collect(l.source, (e) => events(e).length > 0);
    expect(events(evs).map((e) => (e.kind === 'fuse_recv' ? e.unique : e.kind))).toEqual([5]);
    // The token is never repeated back (it would reach every viewer in a diag).
    expect(JSON.stringify(evs)).not.toContain(TOKEN);
    good.destroy();
  });

  it('32 idle connections are closed after the hello timeout, then a real client connects', async () => {
    const l = await tcp({ helloTimeoutMs: 150 });
    const idle = await Promise.all(Array.from({ length: 32 }, () => connect(l)));
    await until(() => l.source.connectionCount === 32);
    // Every slot is taken: a 33rd is refused for now.
    const extra = await connect(l);
    await ended(extra);
    expect(l.source.refusedConnections).toBe(1);
    await Promise.all(idle.map(ended));
    expect(l.source.refusals.get('hello_timeout')).toBe(32);
    const real = await InstrumentClient.connect({ port: l.port!, token: TOKEN }, 'realfs', 42);
    real.send({ kind: 'fuse_recv', tsNs: 1, task: 'realfs/42', unique: 9, opcode: 4094, nodeId: 2 } as TraceEvent);
    const evs = await collect(l.source, (e) => events(e).length > 0);
    expect(events(evs)).toMatchObject([{ kind: 'fuse_recv', unique: 9 }]);
    await real.close();
  });

  it('a slow but honest client (hello at once, a line every 100 ms) stays connected past both timeouts; a silent one is closed', async () => {
    const l = await tcp({ helloTimeoutMs: 200, idleTimeoutMs: 1000 });
    const slow = await connect(l);
    slow.write(`${HELLO}\n`);
    const silent = await connect(l);
    silent.write(`${HELLO}\n`);
    let closed = false;
    slow.once('close', () => { closed = true; });
    for (let i = 0; i < 14; i++) {
      await new Promise((r) => setTimeout(r, 100));
      slow.write(`${recv(100 + i, i)}\n`);
    }
    await ended(silent); // > 1 s with nothing after its hello
    expect(closed).toBe(false);
    const evs = await collect(l.source, (e) => events(e).length === 14 && hasClosed(e));
    expect(events(evs)).toHaveLength(14);
    const gone = diags(evs).filter((d) => d.code === 'disconnected');
    expect(gone).toHaveLength(1);
    expect(gone[0]!.message).toMatch(/idle for 1000 ms/);
    expect(l.source.refusals.size).toBe(0);
    slow.destroy();
  });

  it('fusescope\'s own client sends the token it is given, and keeps an idle connection with empty lines', async () => {
    const l = await tcp({ idleTimeoutMs: 300 });
    const withToken = await InstrumentClient.connect({ port: l.port!, token: TOKEN }, 'fusescope-mount', 7, 50);
    const without = await InstrumentClient.connect({ port: l.port! }, 'fusescope-mount', 8, 50);
    without.send({ kind: 'fuse_recv', tsNs: 1, task: 'm/8', unique: 1, opcode: 4094, nodeId: 2 } as TraceEvent);
    await until(() => l.source.refusals.get('bad_token') === 1);
    await new Promise((r) => setTimeout(r, 700)); // over twice the idle timeout, with nothing to send
    withToken.send({ kind: 'fuse_recv', tsNs: 2, task: 'm/7', unique: 2, opcode: 4094, nodeId: 2 } as TraceEvent);
    const evs = await collect(l.source, (e) => events(e).length > 0);
    expect(events(evs)).toMatchObject([{ kind: 'fuse_recv', unique: 2 }]);
    expect(diags(evs).filter((d) => d.code === 'disconnected')).toEqual([]);
    await withToken.close();
    await without.close();
  });

  it('a TCP listener makes a token per run when given none', async () => {
    const a = await listenInstrument({ port: 0 });
    const b = await listenInstrument({ port: 0 });
    listeners.push(a, b);
    expect(a.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(b.token).not.toBe(a.token);
    const u = await open({ path: tmpSocketPath() });
    expect(u.token).toBeNull();
  });
});
