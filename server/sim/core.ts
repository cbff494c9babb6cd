// What every part of one simulation shares: the scheduler (virtual clock), the PRNG, the cost
// model and the outgoing event buffer. One instance per Simulation — no module-level state.

import type { TraceEvent } from '../../src/trace/schema.ts';
import { Scheduler } from './clock.ts';
import { Prng } from './prng.ts';
import type { CostModel } from './scenarios.ts';

export class SimCore {
  readonly sched = new Scheduler();
  readonly prng: Prng;
  /** Events of the current and earlier steps not yet handed to a sink; all have tsNs <= sched.nowNs. */
  private pending: TraceEvent[] = [];
  private pendingHead = 0;

  constructor(seed: number, readonly costs: CostModel) {
    this.prng = new Prng(seed);
  }

  /** Every event is stamped by its caller with `sched.nowNs`, so the stream is time ordered. */
  emit(ev: TraceEvent): void {
    this.pending.push(ev);
  }

  /** `baseNs` with the scenario's jitter applied. */
  jitterNs(baseNs: number): number {
    return this.prng.jitterNs(baseNs, this.costs.jitterPct);
  }

  get pendingCount(): number {
    return this.pending.length - this.pendingHead;
  }
  peekPending(): TraceEvent | undefined {
    return this.pending[this.pendingHead];
  }
  shiftPending(): TraceEvent | undefined {
    const ev = this.pending[this.pendingHead];
    if (ev === undefined) return undefined;
    if (++this.pendingHead === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
    }
    return ev;
  }
}
