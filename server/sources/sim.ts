// The simulator as a LiveSource (live-source.ts): scenario lookup by name or user file, and the
// simulator's own controls — pause, and a pace (virtual ns per wall second) with a speed on top.
//
// Paced (serve): every `tickMs` the simulation runs up to the virtual time the wall clock allows,
//   wallElapsedMs / 1000 × paceNsPerSec × speed past its clock, bounded by maxEventsPerTick; one
//   tick is one batch (sink.flush). `tickMs: 0` starts no timer: the owner steps it with
//   advanceTo (tests and benches step virtual time exactly).
// Flat out (record): `flatOutEvents: N` runs as fast as it can in FLAT_OUT_CHUNK_EVENTS batches,
//   yielding to the event loop between them (so an abort is seen), and ends after N events.
// Either way the source ends (sink.end) when the scenario is done; a throw inside the simulator
// becomes a `source_failed` diag event and sink.end(message).

import { SCENARIOS, DEFAULT_SCENARIO_NAME, Simulation, parseScenario, type ScenarioSpec } from '../sim/index.ts';
import type { ScenarioInfo } from '../../src/trace/wire.ts';
import { REVISIONS } from '../../src/trace/fuse-proto.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import type { LiveSink, LiveSource, LiveSourceInfo, PaceControls } from './live-source.ts';
import { asTaskId } from '../../src/trace/ids.ts';

export const DEFAULT_SCENARIO = DEFAULT_SCENARIO_NAME;

/**
 * Virtual time streamed per wall second at speed 1. The simulated IO runs at µs scale, so real
 * time would be a blur: 2 ms of virtual time per second gives a few thousand events/s on screen,
 * enough to watch individual upcalls; the speed control scales it.
 */
export const DEFAULT_PACE_NS_PER_SEC = 2_000_000;
/** Wall time between live ticks: 20 batches a second look continuous and cost little. */
const DEFAULT_TICK_MS = 50;
/** Upper bound on events one tick produces (protects the event loop at high speeds). */
const DEFAULT_MAX_EVENTS_PER_TICK = 250_000;
/** Events per batch when recording flat out: ~1 MB of event objects, flushed to disk each. */
const FLAT_OUT_CHUNK_EVENTS = 16_384;
const SIM_TASK = asTaskId('fusescope/sim');

export function listScenarios(user: ReadonlyMap<string, unknown>): ScenarioInfo[] {
  const builtin = Object.entries(SCENARIOS).map(([name, spec]) => ({ name, description: spec.description ?? '', ...scenarioFacts(spec) }));
  const custom = [...user.keys()].map((name) => ({ name, description: `user scenario from ${name}` }));
  return [...builtin, ...custom];
}

/** What a scenario's run has that an empty view or a zero figure must name (ScenarioInfo). */
export function scenarioFacts(spec: ScenarioSpec): Pick<ScenarioInfo, 'noCacheWhy' | 'cookieValidation'> {
  const noCacheWhy = spec.backend === 'kernel-ext4' ? 'the kernel-ext4 baseline maps in the kernel: no FUSE upcalls, no mapping cache'
    : !REVISIONS[spec.revision].hasMappingCache ? `protocol ${spec.revision} has no mapping cache`
      : spec.serverCache === false ? 'the server runs without the mapping cache (fuse4fs noiomap_cache): every iomap_begin is an IOMAP_BEGIN upcall'
        : '';
  if (noCacheWhy) return { noCacheWhy };
  return { cookieValidation: spec.cookieValidation !== false && REVISIONS[spec.revision].hasValidityCookies };
}

function resolveSpec(name: string, user: ReadonlyMap<string, unknown>): ScenarioSpec {
  if (user.has(name)) return parseScenario(user.get(name));
  const spec = SCENARIOS[name];
  if (!spec) throw new Error(`unknown scenario '${name}' (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return spec;
}

/** A simulation of a built-in or user scenario; throws with a user-facing message if unknown. */
export function makeSimulation(
  name: string,
  seed: number,
  user: ReadonlyMap<string, unknown>,
  policy?: 'per-path' | 'ino',
): { simulation: Simulation; paceNsPerSec: number; label: string } {
  const spec = resolveSpec(name, user);
  const simulation = new Simulation(spec, { seed, ...(policy ? { policy } : {}) });
  return { simulation, paceNsPerSec: DEFAULT_PACE_NS_PER_SEC, label: `sim:${name}:seed=${seed}${policy ? `:policy=${policy}` : ''}` };
}

export interface SimSourceOptions {
  label: string;
  paceNsPerSec?: number;
  /** Wall ms between live ticks; 0: no timer, the owner calls advanceTo. */
  tickMs?: number;
  maxEventsPerTick?: number;
  /** Record mode: run flat out and end after this many events (no pace, no timer). */
  flatOutEvents?: number;
  /** Wall clock, ms (tests inject one). */
  now?: () => number;
}

/** The session's handle on the current run: its sink and how to end it. */
interface Run {
  readonly sink: LiveSink;
  readonly emit: (ev: TraceEvent) => void;
  /** Stops timers and resolves start(); with `end`, tells the sink first. */
  finish(end: { error?: string } | null): void;
}

export class SimSource implements LiveSource {
  readonly info: LiveSourceInfo;
  readonly controls: PaceControls = {
    setPaused: (paused) => {
      if (this.paused && !paused) this.lastTickWallMs = this.now();
      this.paused = paused;
    },
    setSpeed: (speed) => { this.speed = speed; },
  };
  private readonly tickMs: number;
  private readonly maxEventsPerTick: number;
  private readonly flatOutEvents: number | undefined;
  private readonly now: () => number;
  private paused = false;
  private speed = 1;
  private lastTickWallMs = 0;
  private run: Run | null = null;

  constructor(readonly simulation: Simulation, opts: SimSourceOptions) {
    this.info = { label: opts.label, paceNsPerSec: opts.paceNsPerSec ?? DEFAULT_PACE_NS_PER_SEC };
    this.tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
    this.maxEventsPerTick = opts.maxEventsPerTick ?? DEFAULT_MAX_EVENTS_PER_TICK;
    this.flatOutEvents = opts.flatOutEvents;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Virtual time reached, ns. */
  get nowNs(): number { return this.simulation.nowNs; }

  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    if (this.run) throw new Error(`${this.info.label}: already running`); // an owner's bug, not a stream error
    return new Promise<void>((resolve) => {
      let timer: ReturnType<typeof setInterval> | null = null;
      let immediate: ReturnType<typeof setImmediate> | null = null;
      const run: Run = {
        sink,
        emit: (ev) => sink.event(ev),
        finish: (end) => {
          if (this.run !== run) return;
          this.run = null;
          if (timer) clearInterval(timer);
          if (immediate) clearImmediate(immediate);
          signal.removeEventListener('abort', onAbort);
          if (end) sink.end(end.error);
          resolve();
        },
      };
      const onAbort = (): void => run.finish(null);
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', onAbort, { once: true });
      this.run = run;
      this.lastTickWallMs = this.now();
      if (this.flatOutEvents !== undefined) {
        let left = this.flatOutEvents;
        const chunk = (): void => {
          immediate = null;
          const n = this.guarded(run, () => this.simulation.runEvents(Math.min(FLAT_OUT_CHUNK_EVENTS, left), run.emit));
          if (this.run !== run) return;
          if (n > 0) sink.flush();
          left -= n;
          if (left <= 0 || n === 0 || this.simulation.done) run.finish({});
          else immediate = setImmediate(chunk);
        };
        immediate = setImmediate(chunk);
      } else if (this.tickMs > 0) {
        timer = setInterval(() => this.tick(), this.tickMs);
      }
    });
  }

  /** One live tick: advances by the wall time since the last one (nothing while paused). */
  tick(): number {
    const nowWallMs = this.now();
    const elapsedMs = nowWallMs - this.lastTickWallMs;
    this.lastTickWallMs = nowWallMs;
    if (this.paused || !this.run) return 0;
    return this.advanceTo(Math.floor(this.simulation.nowNs + (elapsedMs / 1000) * this.info.paceNsPerSec * this.speed));
  }

  /** Runs up to `targetNs` (bounded by maxEventsPerTick) as one batch; 0 when not running. */
  advanceTo(targetNs: number): number {
    const run = this.run;
    if (!run) return 0;
    const sim = this.simulation;
    const cap = this.maxEventsPerTick;
    let produced = 0;
    // Run in slices so a burst cannot exceed the per-tick cap by much.
    const sliceNs = Math.max(1, Math.floor((targetNs - sim.nowNs) / 8));
    this.guarded(run, () => {
      while (sim.nowNs < targetNs && produced < cap && !sim.done) {
        produced += sim.runUntil(Math.min(targetNs, sim.nowNs + sliceNs), run.emit);
      }
    });
    if (this.run !== run) return produced;
    if (produced > 0) run.sink.flush();
    if (sim.done) run.finish({});
    return produced;
  }

  /** Runs `step`; a throw ends the run in error (a diag event first), never escapes a timer. */
  private guarded<T>(run: Run, step: () => T): T | 0 {
    try {
      return step();
    } catch (err) {
      const message = `simulator failed: ${(err as Error).message}`;
      run.sink.event({
        kind: 'diag', tsNs: this.simulation.nowNs, task: SIM_TASK, severity: 'error', code: 'source_failed', message,
        file: this.info.label, line: 0,
      });
      run.sink.flush();
      run.finish({ error: message });
      return 0;
    }
  }
}

/** A SimSource for scenario `name` (built-in or a user file in `user`). */
export function simSource(
  name: string,
  seed: number,
  user: ReadonlyMap<string, unknown>,
  opts: Omit<SimSourceOptions, 'label' | 'paceNsPerSec'> & { policy?: 'per-path' | 'ino' } = {},
): SimSource {
  const { policy, ...rest } = opts;
  const { simulation, label, paceNsPerSec } = makeSimulation(name, seed, user, policy);
  return new SimSource(simulation, { label, paceNsPerSec, ...rest });
}
