import { afterEach, describe, expect, it, vi } from 'vitest';
import { SimSource, makeSimulation, simSource } from './sim.ts';
import type { LiveSink } from './live-source.ts';
import type { Simulation } from '../sim/index.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

/** A sink that logs every call: events as their tsNs, then 'flush' / 'end' / 'end:msg'. */
function logSink(): LiveSink & { log: Array<number | string>; events: TraceEvent[]; batches: number[] } {
  const log: Array<number | string> = [];
  const events: TraceEvent[] = [];
  const batches: number[] = [];
  let inBatch = 0;
  return {
    log, events, batches,
    event: (ev) => { log.push(ev.tsNs); events.push(ev); inBatch++; },
    flush: () => { log.push('flush'); batches.push(inBatch); inBatch = 0; },
    end: (error) => { log.push(error === undefined ? 'end' : `end:${error}`); },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SimSource (LiveSource)', () => {
  it('paced: each tick runs wall ms × pace × speed of virtual time; paused ticks run nothing', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let wallMs = 0;
    const src = simSource('hardlink-alias-race', 1, new Map(), { tickMs: 50, now: () => wallMs });
    expect(src.info).toEqual({ label: 'sim:hardlink-alias-race:seed=1', paceNsPerSec: 2_000_000 });
    const sink = logSink();
    void src.start(sink, new AbortController().signal);
    wallMs = 50;
    vi.advanceTimersByTime(50); // one tick: 50 ms × 2 ms/s = 100 µs of virtual time
    expect(src.nowNs).toBe(100_000);
    expect(sink.events.length).toBeGreaterThan(0);
    expect(sink.events.every((e) => e.tsNs <= 100_000)).toBe(true);
    expect(sink.log.at(-1)).toBe('flush');
    src.controls.setSpeed!(3);
    wallMs = 100;
    vi.advanceTimersByTime(50); // 50 ms × 2 ms/s × 3 = 300 µs more
    expect(src.nowNs).toBe(400_000);
    src.controls.setPaused(true);
    const calls = sink.log.length;
    wallMs = 1000;
    vi.advanceTimersByTime(900);
    expect(sink.log.length).toBe(calls);
    expect(src.nowNs).toBe(400_000);
    // Resuming does not make up for the paused wall time: 50 ms × 2 ms/s × 3 = 300 µs more.
    src.controls.setPaused(false);
    wallMs = 1050;
    vi.advanceTimersByTime(50);
    expect(src.nowNs).toBe(700_000);
  });

  it('stops when the signal aborts: the promise resolves, its timer is gone, the sink hears nothing more', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let wallMs = 0;
    const src = simSource('hardlink-alias-race', 1, new Map(), { tickMs: 50, now: () => wallMs });
    const sink = logSink();
    const run = new AbortController();
    let settled = false;
    const ran = src.start(sink, run.signal).then(() => { settled = true; });
    wallMs = 50;
    vi.advanceTimersByTime(50);
    const calls = sink.log.length;
    expect(calls).toBeGreaterThan(0);
    expect(vi.getTimerCount()).toBe(1);
    run.abort();
    await ran;
    expect(settled).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    wallMs = 5000;
    vi.advanceTimersByTime(5000);
    expect(src.advanceTo(10_000_000)).toBe(0); // not running: a step does nothing
    expect(sink.log.length).toBe(calls);
    expect(sink.log).not.toContain('end'); // an abort is not an end
  });

  it('flat out (record): N events in batches of 16,384, the same stream as the simulator alone, then end', async () => {
    const src = simSource('hardlink-alias-race', 1, new Map(), { flatOutEvents: 17_000 });
    const sink = logSink();
    await src.start(sink, new AbortController().signal);
    expect(sink.batches).toEqual([16_384, 17_000 - 16_384]);
    expect(sink.log.at(-1)).toBe('end');
    const direct: TraceEvent[] = [];
    makeSimulation('hardlink-alias-race', 1, new Map()).simulation.runEvents(17_000, (ev) => direct.push(ev));
    expect(sink.events.map((e) => `${e.kind}@${e.tsNs}`)).toEqual(direct.map((e) => `${e.kind}@${e.tsNs}`));
    expect(sink.events.at(-1)).toEqual(direct.at(-1));
  });

  it('flat out, aborted after the first batch: no further batch, no end', async () => {
    const src = simSource('hardlink-alias-race', 1, new Map(), { flatOutEvents: 50_000 });
    const run = new AbortController();
    const sink = logSink();
    const flush = sink.flush;
    sink.flush = () => { flush(); run.abort(); };
    await src.start(sink, run.signal);
    expect(sink.batches).toEqual([16_384]);
    await new Promise((r) => setImmediate(r)); // a chunk still scheduled would run here
    expect(sink.batches).toEqual([16_384]);
    expect(sink.log).not.toContain('end');
  });

  it('a throwing simulator becomes a source_failed diag and end(message); the run is over', async () => {
    const broken = { nowNs: 700, done: false, runUntil: () => { throw new Error('boom'); } } as unknown as Simulation;
    const src = new SimSource(broken, { label: 'sim:broken', tickMs: 0 });
    const sink = logSink();
    const ran = src.start(sink, new AbortController().signal);
    src.advanceTo(1000);
    await ran;
    expect(sink.events).toEqual([{
      kind: 'diag', tsNs: 700, task: 'fusescope/sim', severity: 'error', code: 'source_failed',
      message: 'simulator failed: boom', file: 'sim:broken', line: 0,
    }]);
    expect(sink.log).toEqual([700, 'flush', 'end:simulator failed: boom']);
    expect(src.advanceTo(2000)).toBe(0);
  });

  it('unknown scenario: a user-facing error', () => {
    expect(() => simSource('nope', 1, new Map())).toThrow(/unknown scenario 'nope' \(known: .*hardlink-alias-race/);
  });
});
