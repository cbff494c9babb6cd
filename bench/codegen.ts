// What runtime code generation (src/trace/codegen.ts) buys: each hot path with and without it.
// Each variant runs in its own Node process (a fallback run in the same process would change the
// type feedback the other sees) and is timed by the process's CPU time, best of 9 runs, so load
// from other processes on the machine moves the figures less than wall time would.
//
//   node --import tsx bench/codegen.ts <variant>   prints one rate (run.ts runs each variant)
//
// run.ts spawns this file rather than importing it: importing it into the bench process moved S2
// (span pairing) from ~10 M to ~5.5 M events/s on this machine, so nothing here loads there.
import { TraceStore, scanRange } from '../src/trace/store.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { perType, type TypedArrayCtor } from '../src/trace/codegen.ts';
import { makeSimulation, DEFAULT_SCENARIO } from '../server/sources/sim.ts';

const VARIANTS = ['append-compiled', 'append-plan', 'scan-per-type', 'scan-shared'] as const;
type Variant = (typeof VARIANTS)[number];

function bestCpuRate(runs: number, fn: () => number): number {
  let bestRate = 0;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const n = fn();
    const c = process.cpuUsage(c0);
    bestRate = Math.max(bestRate, n / ((c.user + c.system) / 1e6));
  }
  return bestRate;
}

function measure(variant: Variant): number {
  if (variant === 'append-compiled' || variant === 'append-plan') {
    // S1's input: 300k events of the default scenario.
    const { simulation } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
    const events: TraceEvent[] = [];
    simulation.runEvents(300_000, (ev) => events.push(ev));
    return bestCpuRate(9, () => {
      const s = new TraceStore();
      if (variant === 'append-plan') for (const ev of events) s.appendByPlan(ev);
      else for (const ev of events) s.append(ev);
      return s.length;
    });
  }
  // 1M elements in each of the seven array types a store column may have.
  const N = 1_000_000;
  const cols = [Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float64Array].map((T) => {
    const c = new T(N);
    for (let i = 0; i < N; i++) c[i] = i % 100;
    return c;
  });
  const copies = perType(scanRange);
  let sink = 0;
  const rate = bestCpuRate(9, () => {
    for (const c of cols) sink += (variant === 'scan-per-type' ? copies(c.constructor as TypedArrayCtor) : scanRange)(c, 0, N).max;
    return cols.length * N;
  });
  return sink < 0 ? 0 : rate;
}

const arg = process.argv[2] ?? '';
if (!(VARIANTS as readonly string[]).includes(arg)) throw new Error(`variant: one of ${VARIANTS.join(', ')}`);
console.log(String(Math.round(measure(arg as Variant))));
