// i_rwsem and invalidate_lock of a fuse_inode, traced: lock_wait when the task must queue,
// lock_acquire when it holds the lock, lock_release (which wakes the granted waiters). The rwsem
// itself is rwsem.ts; which syscall takes which lock in which mode is vfs.ts (§6).

import type { LockName } from '../../../src/trace/schema.ts';
import { PARK, type Proc, type ProcStep } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { FuseInode } from './inode.ts';
import type { RwMode } from './rwsem.ts';

export class InodeLocks {
  constructor(private readonly core: SimCore) {}

  /**
   * Takes the lock if that needs no wait (emitting lock_acquire) and returns true; else the caller
   * runs `yield* lockWait(…)`. Split so the uncontended case costs no generator.
   */
  tryLock(proc: Proc, inode: FuseInode, lock: LockName, mode: RwMode): boolean {
    const sem = lock === 'i_rwsem' ? inode.iRwsem : inode.invalidateLock;
    if (!sem.tryAcquire(proc, mode)) return false;
    this.core.emit({ lockAddr: 0n, kind: 'lock_acquire', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
    return true;
  }

  *lockWait(proc: Proc, inode: FuseInode, lock: LockName, mode: RwMode): ProcStep<void> {
    const sem = lock === 'i_rwsem' ? inode.iRwsem : inode.invalidateLock;
    this.core.emit({ lockAddr: 0n, kind: 'lock_wait', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
    sem.enqueue(proc, mode);
    yield PARK; // woken by unlock() once the lock is ours
    this.core.emit({ lockAddr: 0n, kind: 'lock_acquire', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
  }

  unlock(proc: Proc, inode: FuseInode, lock: LockName, mode: RwMode): void {
    const sem = lock === 'i_rwsem' ? inode.iRwsem : inode.invalidateLock;
    this.core.emit({ lockAddr: 0n, kind: 'lock_release', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
    for (const next of sem.release(proc, mode)) this.core.sched.wake(next, undefined, this.core.jitterNs(this.core.costs.wakeupNs));
  }
}
