import { describe, expect, it } from 'vitest';
import { FixedRateSource } from './fixed-rate.ts';
import { makeSimulation } from './sim.ts';
import { SCENARIOS, Simulation } from '../sim/index.ts';
import type { LiveSink } from './live-source.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

function sink(): LiveSink & { events: TraceEvent[]; batches: number[]; ended: number } {
  let inBatch = 0;
  const s = {
    events: [] as TraceEvent[], batches: [] as number[], ended: 0,
    event: (ev: TraceEvent) => { s.events.push(ev); inBatch++; },
    flush: () => { s.batches.push(inBatch); inBatch = 0; },
    end: () => { s.ended++; },
  };
  return s;
}

describe('FixedRateSource: the simulator at an exact event rate', () => {
  it('each tick emits rate × wall time since the start, minus what it already produced, as one batch', () => {
    let wallMs = 1000;
    const sim = makeSimulation('hardlink-alias-race', 1, new Map()).simulation;
    const src = new FixedRateSource(sim, 50_000, { tickMs: 0, now: () => wallMs });
    const out = sink();
    void src.start(out, new AbortController().signal);
    wallMs += 50; // 50 ms at 50 000/s: 2500 events
    src.tick();
    wallMs += 33; // 83 ms: 4150 in all
    src.tick();
    src.tick(); // no time passed: nothing owed, no batch
    wallMs += 0.01; // 83.01 ms: 4150.5 → still 4150
    src.tick();
    expect(out.batches).toEqual([2500, 1650]);
    expect(src.produced).toBe(4150);
    // The simulator's own events in its order: the same as running it directly.
    const direct: TraceEvent[] = [];
    makeSimulation('hardlink-alias-race', 1, new Map()).simulation.runEvents(4150, (e) => direct.push(e));
    expect(out.events).toEqual(direct);
  });

  it('a pause stops the clock of the count; an abort ends the run with no end() call', async () => {
    let wallMs = 0;
    const src = new FixedRateSource(makeSimulation('hardlink-alias-race', 1, new Map()).simulation, 1000, { tickMs: 0, now: () => wallMs });
    const out = sink();
    const ac = new AbortController();
    const done = src.start(out, ac.signal);
    wallMs = 100;
    src.tick(); // 100
    src.controls.setPaused(true);
    wallMs = 5000;
    src.tick(); // paused: nothing
    src.controls.setPaused(false);
    wallMs = 5200; // 300 ms of unpaused time
    src.tick();
    expect(out.batches).toEqual([100, 200]);
    ac.abort();
    await done;
    wallMs = 9000;
    src.tick();
    expect(src.produced).toBe(300);
    expect(out.ended).toBe(0);
  });

  it('a scenario that runs out ends the source (sink.end) and says so', async () => {
    let wallMs = 0;
    // The default scenario with 3 ops per thread: it finishes.
    const base = SCENARIOS['hardlink-alias-race']!;
    const finite = (): Simulation => new Simulation({ ...base, threads: base.threads.map((t) => ({ ...t, opCount: 3 })) }, { seed: 1 });
    const sim = finite();
    const total = sim.runEvents(1_000_000, () => {});
    expect(sim.done).toBe(true);
    const src = new FixedRateSource(finite(), total + 10, { tickMs: 0, now: () => wallMs });
    const out = sink();
    const done = src.start(out, new AbortController().signal);
    wallMs = 1000;
    expect(src.tick()).toBe(false);
    await done;
    expect(src.produced).toBe(total);
    expect(src.ranOut).toBe(true);
    expect(out.ended).toBe(1);
  });
});
