// i_rwsem of one fuse_inode: shared (R) / exclusive (W) with a FIFO wait queue. A task arriving
// while anyone waits queues behind them, so a waiting writer blocks later readers (no reader
// starvation of writers). On release the head of the queue is granted: one writer, or the run of
// consecutive readers at the head. (Linux also wakes readers queued behind a writer since 5.3;
// the sim keeps strict FIFO, which is what the lock views explain best.)

import { Fifo, type Proc } from '../clock.ts';

export type RwMode = 'R' | 'W';

export class RwSem {
  private readerCount = 0;
  private writer: Proc | null = null;
  private readonly waiters = new Fifo<{ proc: Proc; mode: RwMode }>();

  get holders(): { readers: number; hasWriter: boolean } {
    return { readers: this.readerCount, hasWriter: this.writer !== null };
  }

  /** Takes the lock if that needs no wait. */
  tryAcquire(proc: Proc, mode: RwMode): boolean {
    if (this.waiters.length > 0 || this.writer) return false;
    if (mode === 'R') { this.readerCount++; return true; }
    if (this.readerCount > 0) return false;
    this.writer = proc;
    return true;
  }

  /** Queues `proc`; it owns the lock once `release` returns it in the granted list. */
  enqueue(proc: Proc, mode: RwMode): void {
    this.waiters.push({ proc, mode });
  }

  /** Releases one hold and returns the waiters that now own the lock (to be woken). */
  release(proc: Proc, mode: RwMode): Proc[] {
    if (mode === 'W') {
      if (this.writer !== proc) throw new Error(`sim: ${proc.task} releases i_rwsem W it does not hold`);
      this.writer = null;
    } else {
      if (this.readerCount <= 0) throw new Error(`sim: ${proc.task} releases i_rwsem R with no readers`);
      this.readerCount--;
    }
    const granted: Proc[] = [];
    for (;;) {
      const head = this.waiters.peek();
      if (!head || this.writer) break;
      if (head.mode === 'W') {
        if (this.readerCount > 0) break;
        this.writer = head.proc;
        granted.push(head.proc);
        this.waiters.shift();
        break;
      }
      this.readerCount++;
      granted.push(head.proc);
      this.waiters.shift();
    }
    return granted;
  }
}
