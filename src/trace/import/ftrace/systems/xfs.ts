// System `xfs`: xfs_ilock / xfs_iunlock (fs/xfs/xfs_trace.h, the xfs_lock_class; the lock bits are
// XFS_IOLOCK_EXCL … XFS_MMAPLOCK_SHARED in fs/xfs/xfs_inode.h, taken in xfs_ilock() in xfs_inode.c).
// `dev %d:%d ino 0x%llx flags %s caller %pS`, one typed lock event per lock the flags name:
//   IOLOCK   → i_rwsem (XFS's IO lock is the VFS inode's i_rwsem)
//   MMAPLOCK → invalidate_lock (mapping->invalidate_lock)
//   ILOCK    → xfs_ilock (XFS's own inode metadata lock)
// EXCL → W, SHARED → R; nodeId 0, lockAddr 0 (not traced), ino from the line.
// xfs_ilock is traced on entry, before the lock is taken, and nothing traces the moment it is held:
// it becomes a `lock_acquire` that means "requested" — the hold drawn from it includes any wait.
// When the request blocks, the rwsem slow path traces lock:contention_begin right after it (the
// task's next event); lock attribution then derives the wait and the real acquire (contention_end),
// so this line's event is replaced by an instant and the hold starts at the acquire.
import type { LockMode, LockName, TraceEvent } from '../../../schema.ts';
import type { TracepointContext, TracepointSystem } from '../context.ts';
import type { Cursor } from '../cursor.ts';
import { asIno, NO_NODE_ID } from '../../../ids.ts';

/** __print_flags of the xfs_lock_class (6.18 format file). */
const XFS_LOCK_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [1, 'IOLOCK_EXCL'], [2, 'IOLOCK_SHARED'], [4, 'ILOCK_EXCL'], [8, 'ILOCK_SHARED'], [16, 'MMAPLOCK_EXCL'], [32, 'MMAPLOCK_SHARED'],
];
/** Lock per EXCL|SHARED bit pair, in xfs_ilock()'s order (IOLOCK, MMAPLOCK, ILOCK). */
const LOCKS: ReadonlyArray<readonly [number, number, LockName]> = [
  [1, 2, 'i_rwsem'], [16, 32, 'invalidate_lock'], [4, 8, 'xfs_ilock'],
];

type LockEv = TraceEvent & { kind: 'lock_acquire' | 'lock_release' };

interface XfsState {
  /** flags text → bits (texts with an unknown name are not cached). */
  readonly flagBits: Map<string, number>;
}

export const xfsSystem: TracepointSystem<XfsState> = {
  name: 'xfs',
  newState: () => ({ flagBits: new Map() }),
  handlers: {
    xfs_ilock: ilock,
    xfs_iunlock: ilock,
  },
};

function ilock(ctx: TracepointContext, c: Cursor, s: XfsState): void {
  c.token('dev'); // the inode's device: lock keys carry ino only
  const ino = asIno(c.num('ino'));
  const text = c.token('flags');
  let bits = s.flagBits.get(text);
  if (bits === undefined) {
    bits = ctx.flags(text, XFS_LOCK_FLAGS, 'xfs lock flag');
    if (bits !== 0 && !/[^A-Z_|]/.test(text)) s.flagBits.set(text, bits);
  }
  const acquire = ctx.name === 'xfs_ilock';
  const evs: LockEv[] = [];
  for (const [excl, shared, lock] of LOCKS) {
    if ((bits & (excl | shared)) === 0) continue;
    const mode: LockMode = (bits & excl) !== 0 ? 'W' : 'R';
    evs.push({ kind: acquire ? 'lock_acquire' : 'lock_release', tsNs: ctx.tsNs, task: ctx.task, lock, mode, nodeId: NO_NODE_ID, ino, lockAddr: 0n });
  }
  if (evs.length === 0) {
    ctx.keepAsInstant();
    return;
  }
  // (One deferral per task: inside an iomap step candidate — XFS's ->iomap_begin takes the ILOCK —
  // the request is emitted as is.)
  if (acquire && evs.length === 1 && ctx.deferred() === undefined) {
    const line = c.text();
    ctx.defer(evs[0]!, (held, next) =>
      next.kind === 'lock_contention' && next.phase === 'begin'
        ? { kind: 'instant', tsNs: held.tsNs, task: held.task, name: 'xfs_ilock', text: line }
        : undefined);
    return;
  }
  for (const ev of evs) ctx.emit(ev);
}
