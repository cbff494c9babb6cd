// Where a run may stop so that a trace of it can show everything its events say. The sim knows
// the outcome of a step the moment it starts; a trace knows it only from the lines that follow:
//   - a write-fork cache lookup that missed is "no write fork" or a miss only once the task's
//     fall-through read-fork lookup (or its upcall) is seen;
//   - an ioend was sent only if the task's IOMAP_IOEND request follows it.
// Stopping right after either would make the sim's figures and the trace's differ. `fusescope sim
// --events N` and the round-trip test run past N until `clean()` holds (at most a bounded extra).

import type { TraceEvent } from '../../src/trace/schema.ts';

export class CleanCut {
  private readonly lastByTask = new Map<string, TraceEvent>();

  /** Feed every event of the run, in order. */
  see(ev: TraceEvent): void {
    this.lastByTask.set(ev.task, ev);
  }

  /** True when no task's last event is the first half of one of the pairs above. */
  clean(): boolean {
    for (const ev of this.lastByTask.values()) {
      if (ev.kind === 'cache_lookup' && ev.fork === 'write' && !ev.hit) return false;
      if (ev.kind === 'iomap_ioend') return false;
    }
    return true;
  }
}

/** More events than this past the budget and the run stops wherever it is (a stuck task). */
export const CLEAN_CUT_MAX_EXTRA_EVENTS = 2000;
