// Where a run may stop so that a trace of it can show everything its events say. The sim knows
// the outcome of a step the moment it starts; a trace knows it only from the lines that follow:
//   - a write-fork cache lookup that missed is "no write fork" or a miss only once the task's
//     fall-through read-fork lookup (or its upcall) is seen;
//   - an ioend was sent only if the task's IOMAP_IOEND request follows it (an importer settles an
//     ioend still open at the end of the trace as not sent, so only a sent one can be cut from its pair);
//   - an IOMAP_BEGIN reply was refused (fuse_iomap_bad_data) or taken only once the requesting
//     task's next event after the reply (and after its iomap_map rows) is seen: the reply is the
//     server thread's event, the refusal the requester's, at the same instant.
// Stopping right after either would make the sim's figures and the trace's differ. `fusescope sim
// --events N` and the round-trip test run past N until `clean()` holds (at most a bounded extra).

import type { TraceEvent } from '../../src/trace/schema.ts';
import { Opcode } from '../../src/trace/fuse-proto.ts';

export class CleanCut {
  private readonly lastByTask = new Map<string, TraceEvent>();
  /** IOMAP_BEGIN requests in flight: unique → requesting task. */
  private readonly beginTask = new Map<bigint | number, string>();
  /** Tasks whose IOMAP_BEGIN reply came and whose verdict on it (refusal or not) is not yet seen. */
  private readonly awaitingVerdict = new Set<string>();

  /** Feed every event of the run, in order. */
  see(ev: TraceEvent): void {
    this.lastByTask.set(ev.task, ev);
    if (ev.kind === 'iomap_map') {
      // The reply's mapping rows come before the verdict; a cache mapping has no reply to refuse.
      if (ev.source === 'reply') this.awaitingVerdict.add(ev.task);
      else this.awaitingVerdict.delete(ev.task);
    } else {
      this.awaitingVerdict.delete(ev.task);
    }
    if (ev.kind === 'fuse_send' && ev.opcode === Opcode.IOMAP_BEGIN) this.beginTask.set(ev.unique, ev.task);
    if (ev.kind === 'fuse_reply' && ev.opcode === Opcode.IOMAP_BEGIN) {
      const task = this.beginTask.get(ev.unique);
      this.beginTask.delete(ev.unique);
      if (task !== undefined && ev.error === 0) this.awaitingVerdict.add(task);
    }
  }

  /** True when no task's last event is the first half of one of the pairs above. */
  clean(): boolean {
    if (this.awaitingVerdict.size > 0) return false;
    for (const ev of this.lastByTask.values()) {
      if (ev.kind === 'cache_lookup' && ev.fork === 'write' && !ev.hit) return false;
      if (ev.kind === 'iomap_ioend' && ev.sent) return false;
    }
    return true;
  }
}

/** More events than this past the budget and the run stops wherever it is (a stuck task). */
export const CLEAN_CUT_MAX_EXTRA_EVENTS = 2000;
