// Virtual clock and cooperative scheduler for the simulator.
//
// A *process* is a generator that yields how long it wants to wait:
//   yield 1500   → resume 1500 ns of virtual time later
//   yield PARK   → sleep until someone calls `wake(proc, value)`; `value` is what `yield` returns
// Sub-steps compose with `yield*`, so a kernel request reads like blocking code:
//   const reply = yield* kernel.request(...)
//
// Runnable processes sit in a binary min-heap keyed by (atNs, seq). `seq` is a global counter
// assigned when a process is scheduled, so two processes due at the same instant always run in
// the order they were scheduled: the whole run is a pure function of the seed.

import type { TaskBufs } from './proto.ts';
import { asTaskId, type TaskId } from '../../src/trace/ids.ts';

/** Yield this to block until `Scheduler.wake`. Any value >= 0 is a sleep in ns. */
export const PARK = -1;
export type ProcStep<T = void> = Generator<number, T, unknown>;

export class Proc {
  /** The task's message memory (proto.ts), created on its first FUSE message. */
  bufs: TaskBufs | null = null;
  /** Value handed to the generator on its next resume (the result of its `yield`). */
  wakeValue: unknown = undefined;
  isParked = false;
  isDone = false;
  gen: ProcStep | null = null;
  /** `comm/tid`, as events print it. */
  readonly task: TaskId;
  constructor(task: string, readonly tid: number) {
    this.task = asTaskId(task);
  }
}

/** In-place advances one step may make before it must yield (bounds how far a step runs ahead). */
const INLINE_ADVANCES_PER_STEP = 1024;

export class Scheduler {
  nowNs = 0;
  /** In-place advances never pass this time (runUntil's limit; Infinity otherwise). */
  horizonNs = Infinity;
  private seqCounter = 0;
  private inlineLeft = 0;
  // Parallel arrays instead of heap-entry objects: no allocation per schedule() on the hot path.
  private heapAtNs: number[] = [];
  private heapSeq: number[] = [];
  private heapProc: Proc[] = [];

  get runnableCount(): number {
    return this.heapProc.length;
  }

  /** Time of the next runnable step, or Infinity when nothing can run. */
  peekNs(): number {
    return this.heapProc.length > 0 ? this.heapAtNs[0]! : Infinity;
  }

  spawn(proc: Proc, body: ProcStep, atNs: number): void {
    proc.gen = body;
    this.push(proc, atNs);
  }

  /** Makes a parked process runnable `delayNs` from now; `value` becomes its `yield` result. */
  wake(proc: Proc, value: unknown, delayNs: number): void {
    if (!proc.isParked) throw new Error(`sim: wake of ${proc.task}, which is not parked`);
    proc.isParked = false;
    proc.wakeValue = value;
    this.push(proc, this.nowNs + delayNs);
  }

  /** Runs one process until its next yield. Returns false when nothing is runnable. */
  step(): boolean {
    if (this.heapProc.length === 0) return false;
    const atNs = this.heapAtNs[0]!;
    const proc = this.pop();
    this.nowNs = atNs;
    const value = proc.wakeValue;
    proc.wakeValue = undefined;
    this.inlineLeft = INLINE_ADVANCES_PER_STEP;
    const res = proc.gen!.next(value);
    if (res.done) {
      proc.isDone = true;
      proc.gen = null;
    } else if (res.value === PARK) {
      proc.isParked = true;
    } else {
      const waitNs = res.value;
      if (!(waitNs >= 0) || !Number.isInteger(waitNs)) {
        throw new Error(`sim: ${proc.task} yielded a bad wait ${waitNs}`);
      }
      this.push(proc, this.nowNs + waitNs);
    }
    this.inlineLeft = 0;
    return true;
  }

  /**
   * For the running process only: `yield waitNs` done in place when this process would run next
   * anyway — every other runnable process is due strictly later (a tie goes to the earlier
   * scheduled one, so it must yield) and the target is within `horizonNs`. Returns false when
   * the caller must yield.
   */
  advanceIfNext(waitNs: number): boolean {
    const atNs = this.nowNs + waitNs;
    if (this.inlineLeft === 0 || atNs > this.horizonNs || (this.heapProc.length > 0 && this.heapAtNs[0]! <= atNs)) return false;
    if (!(waitNs >= 0) || !Number.isInteger(waitNs)) return false; // let step() report it
    this.inlineLeft--;
    this.nowNs = atNs;
    return true;
  }

  private push(proc: Proc, atNs: number): void {
    const seq = this.seqCounter++;
    const at = this.heapAtNs, sq = this.heapSeq, pr = this.heapProc;
    let i = pr.length;
    at.push(atNs); sq.push(seq); pr.push(proc);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (at[parent]! < atNs || (at[parent] === atNs && sq[parent]! < seq)) break;
      at[i] = at[parent]!; sq[i] = sq[parent]!; pr[i] = pr[parent]!;
      i = parent;
    }
    at[i] = atNs; sq[i] = seq; pr[i] = proc;
  }

  private pop(): Proc {
    const at = this.heapAtNs, sq = this.heapSeq, pr = this.heapProc;
    const top = pr[0]!;
    const lastAt = at.pop()!, lastSeq = sq.pop()!, lastProc = pr.pop()!;
    const n = pr.length;
    if (n === 0) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && (at[r]! < at[l]! || (at[r] === at[l] && sq[r]! < sq[l]!))) c = r;
      if (lastAt < at[c]! || (lastAt === at[c] && lastSeq < sq[c]!)) break;
      at[i] = at[c]!; sq[i] = sq[c]!; pr[i] = pr[c]!;
      i = c;
    }
    at[i] = lastAt; sq[i] = lastSeq; pr[i] = lastProc;
    return top;
  }
}

/** A FIFO queue with amortised O(1) shift (Array#shift is O(n)). */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
