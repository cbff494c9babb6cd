// /dev/fuse between the kernel model and the server model: the only thing the two halves share.
// Requests and replies cross it as encoded bytes (src/trace/fuse-proto.ts layouts); the kernel
// task that sent a request stays parked until the reply carrying its `unique` comes back.
//
//   kernel task ──submit(bytes)──▶ [pending queue] ──readRequest()──▶ server thread
//        ▲                                                                  │
//        └──────── wake(reply bytes) ◀── writeReply(bytes) ◀────────────────┘

import { Fifo, PARK, type Proc, type ProcStep, type Scheduler } from './clock.ts';
import { TaskBufs, outUnique } from './proto.ts';
import type { TaskId } from '../../src/trace/ids.ts';

/** The task's message memory (see proto.ts): its request buffer and the buffer replies are copied into. */
export function taskBufs(proc: Proc): TaskBufs {
  return proc.bufs ?? (proc.bufs = new TaskBufs());
}

export class DevFuse {
  private readonly pending = new Fifo<Uint8Array>();
  /** Server threads blocked in read(/dev/fuse), longest-idle first. */
  private readonly idleThreads = new Fifo<Proc>();
  /** unique → kernel task waiting for that reply; null for a background request nobody waits on. */
  private readonly waiters = new Map<number, Proc | null>();

  /**
   * The kernel's handler for notifications (unique 0): runs synchronously in the writing server
   * thread's context, as write(2) on /dev/fuse does; returns 0 or -errno (what write(2) returns).
   */
  onNotify: ((bytes: Uint8Array, task: TaskId) => number) | null = null;

  constructor(
    private readonly sched: Scheduler,
    private readonly dispatchNs: () => number,
    private readonly replyNs: () => number,
  ) {}

  get inFlightCount(): number {
    return this.waiters.size;
  }

  /**
   * Queues a request; the caller must then `yield PARK` and receives the reply bytes (a view of
   * its own `recv` buffer, valid until its next request). `request` stays untouched while the
   * caller is parked, so the server reads it in place.
   */
  submit(request: Uint8Array, unique: number, waiter: Proc): void {
    if (this.waiters.has(unique)) throw new Error(`sim: duplicate unique ${unique}`);
    this.waiters.set(unique, waiter);
    this.pending.push(request);
    const idle = this.idleThreads.shift();
    if (idle) this.sched.wake(idle, undefined, this.dispatchNs());
  }

  /**
   * Queues a background request (fuse_simple_background, e.g. an async FUSE_RELEASE): nobody
   * parks on it and its reply is dropped when it arrives. `request` must be the caller's own copy.
   */
  submitBackground(request: Uint8Array, unique: number): void {
    if (this.waiters.has(unique)) throw new Error(`sim: duplicate unique ${unique}`);
    this.waiters.set(unique, null);
    this.pending.push(request);
    const idle = this.idleThreads.shift();
    if (idle) this.sched.wake(idle, undefined, this.dispatchNs());
  }

  /** A server thread's blocking read(2) on /dev/fuse. */
  *readRequest(thread: Proc): ProcStep<Uint8Array> {
    // A woken thread can find the queue empty again when a busy sibling took the request first.
    for (;;) {
      const req = this.pending.shift();
      if (req) return req;
      this.idleThreads.push(thread);
      yield PARK;
    }
  }

  /** A server thread writes a notification; the kernel processes it before write(2) returns. */
  writeNotify(bytes: Uint8Array, task: TaskId): number {
    if (!this.onNotify) throw new Error('sim: notification with no kernel handler');
    return this.onNotify(bytes, task);
  }

  /** Copies the reply into the waiting task's memory (as fuse_dev_write does into req->out), so the writer may reuse its buffer. */
  writeReply(reply: Uint8Array): void {
    const unique = outUnique(reply);
    const waiter = this.waiters.get(unique);
    if (waiter === undefined) throw new Error(`sim: reply for unknown unique ${unique}`);
    this.waiters.delete(unique);
    if (waiter === null) return; // background: its end callback has nothing to wake
    const copy = taskBufs(waiter).recv.take(reply.byteLength);
    copy.set(reply);
    this.sched.wake(waiter, copy, this.replyNs());
  }
}
