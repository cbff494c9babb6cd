// What every part of one simulation shares: the scheduler (virtual clock), the PRNG, the cost
// model and the outgoing event buffer. One instance per Simulation — no module-level state.

import type { TraceEvent } from '../../src/trace/schema.ts';
import { Scheduler } from './clock.ts';
import { Prng } from './prng.ts';
import type { CostModel } from './scenarios/index.ts';

export class SimCore {
  readonly sched = new Scheduler();
  readonly prng: Prng;
  /**
   * Events of the current and earlier steps not yet handed to a sink; all have tsNs <= sched.nowNs.
   * [pendingHead, pendingTail) of a reused array: truncating it each time it drained freed and
   * regrew its storage every few events.
   */
  private pending: (TraceEvent | undefined)[] = [];
  private pendingHead = 0;
  private pendingTail = 0;

  constructor(seed: number, readonly costs: CostModel) {
    this.prng = new Prng(seed);
  }

  /** Every event is stamped by its caller with `sched.nowNs`, so the stream is time ordered. */
  emit(ev: TraceEvent): void {
    if (this.pendingTail === this.pending.length) this.pending.push(ev);
    else this.pending[this.pendingTail] = ev;
    this.pendingTail++;
  }

  /** `baseNs` with the scenario's jitter applied. */
  jitterNs(baseNs: number): number {
    return this.prng.jitterNs(baseNs, this.costs.jitterPct);
  }

  get pendingCount(): number {
    return this.pendingTail - this.pendingHead;
  }
  peekPending(): TraceEvent | undefined {
    return this.pendingHead < this.pendingTail ? this.pending[this.pendingHead] : undefined;
  }
  shiftPending(): TraceEvent | undefined {
    const head = this.pendingHead;
    if (head === this.pendingTail) return undefined;
    const ev = this.pending[head];
    this.pending[head] = undefined; // the sink owns it now; do not keep it alive
    if (head + 1 === this.pendingTail) this.pendingHead = this.pendingTail = 0;
    else this.pendingHead = head + 1;
    return ev;
  }
}
