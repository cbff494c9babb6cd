// The simulator at a fixed event rate (`npm run soak`): every tick emits exactly as many events as
// rate × wall time since the start allows, so the count produced is known to the event whatever the
// scenario's density. The paced SimSource (sim.ts) streams virtual time instead, whose event rate
// follows the scenario's phases. Events come from Simulation.runEvents in the simulator's own order.

import type { Simulation } from '../sim/index.ts';
import type { LiveSink, LiveSource, LiveSourceInfo, PaceControls } from './live-source.ts';

export interface FixedRateOptions {
  eventsPerSec: number;
  /** Wall ms between batches (default 50: 20 batches a second, as the paced source). */
  tickMs?: number;
  /** Wall clock, ms (tests inject one; then tickMs: 0 and the test calls tick()). */
  now?: () => number;
  label?: string;
}

export class FixedRateSource implements LiveSource {
  readonly info: LiveSourceInfo;
  readonly controls: PaceControls = {
    // A pause stops the count's clock: after it the rate resumes from where it stood.
    setPaused: (paused) => {
      if (paused && this.pausedAtMs === null) this.pausedAtMs = this.now();
      else if (!paused && this.pausedAtMs !== null) {
        this.startMs += this.now() - this.pausedAtMs;
        this.pausedAtMs = null;
      }
    },
  };
  /** Events given to the sink (every one of them in a flushed batch). */
  produced = 0;
  /** Whether the scenario ran out (the simulation is done) before the source was stopped. */
  ranOut = false;
  private readonly tickMs: number;
  private readonly now: () => number;
  private startMs = 0;
  private pausedAtMs: number | null = null;
  private sink: LiveSink | null = null;
  private readonly emit = (ev: Parameters<LiveSink['event']>[0]): void => this.sink!.event(ev);

  constructor(readonly simulation: Simulation, readonly eventsPerSec: number, opts: Omit<FixedRateOptions, 'eventsPerSec'> & { paceNsPerSec?: number } = {}) {
    if (!(eventsPerSec > 0)) throw new Error('eventsPerSec must be > 0');
    this.info = { label: opts.label ?? `sim-fixed-rate:${eventsPerSec}/s`, paceNsPerSec: opts.paceNsPerSec ?? 1e9 };
    this.tickMs = opts.tickMs ?? 50;
    this.now = opts.now ?? (() => performance.now());
  }

  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    if (this.sink) throw new Error(`${this.info.label}: already running`);
    return new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      this.sink = sink;
      this.startMs = this.now();
      const timer = this.tickMs > 0 ? setInterval(() => { if (!this.tick()) finish(true); }, this.tickMs) : null;
      const finish = (ended: boolean): void => {
        if (!this.sink) return;
        if (timer) clearInterval(timer);
        signal.removeEventListener('abort', onAbort);
        if (ended) sink.end();
        this.sink = null;
        resolve();
      };
      const onAbort = (): void => finish(false);
      signal.addEventListener('abort', onAbort, { once: true });
      this.finish = finish;
    });
  }

  private finish: (ended: boolean) => void = () => {};

  /**
   * One batch: the events the rate owes since the start, as one flush. Returns false when the
   * scenario ran out (the source then ends itself).
   */
  tick(): boolean {
    if (!this.sink || this.pausedAtMs !== null) return true;
    const owed = Math.floor(((this.now() - this.startMs) / 1000) * this.eventsPerSec) - this.produced;
    if (owed <= 0) return true;
    const n = this.simulation.runEvents(owed, this.emit);
    this.produced += n;
    if (n > 0) this.sink.flush();
    if (n < owed && this.simulation.done) {
      this.ranOut = true;
      this.finish(true);
      return false;
    }
    return true;
  }
}
