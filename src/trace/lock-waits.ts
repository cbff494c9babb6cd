// Lock waits: each `lock_wait` paired with the same task's next `lock_acquire` of the same lock
// (lockKeyAt: a fuse inode's by nodeId, a kernel filesystem's by ino, else by address) — the
// pairing SpanIndex makes. Summary, accounting and A/B stats
// all count waits this way (one pass, lockWaitPass, when a caller needs them twice). A wait the trace does not show ending (no acquire before the trace
// ends, or the task's next wait for that lock came first) is unfinished: counted apart, with no
// duration. A wait with an untimed end (untimed.ts: a pasted line without time) ended, but how long
// it lasted is unknown: its waitNs is NaN, and every total over it is unknown (null) too.

import { KIND_CODE } from './schema.ts';
import type { Column, TraceStore } from './store.ts';
import type { Ino, NodeId } from './ids.ts';
import { isUntimedRow, untimedTaskFlags } from './untimed.ts';

/** The columns lockKeyAt reads. */
interface LockCols { lock: Column; nodeId: ArrayLike<NodeId>; ino: ArrayLike<Ino>; addrHi: Column; addrLo: Column }
export function lockCols(store: TraceStore): LockCols {
  return { lock: store.col('lock'), nodeId: store.nodeIdCol(), ino: store.inoCol(), addrHi: store.col('lockAddrHi'), addrLo: store.col('lockAddrLo') };
}
/**
 * Which lock a lock row names: a fuse inode's lock by its nodeId; a kernel filesystem's (nodeId
 * 0: ext4, XFS) by its ino — one i_rwsem per inode; with neither, by its address. Summary, lock
 * waits and the lock index all tell locks apart this way.
 */
export function lockKeyAt(c: LockCols, row: number): string {
  const nodeId = c.nodeId[row]!;
  if (nodeId !== 0) return `${c.lock[row]}:n${nodeId}`;
  const ino = c.ino[row]!;
  return ino !== 0 ? `${c.lock[row]}:i${ino}` : `${c.lock[row]}:a${c.addrHi[row]}:${c.addrLo[row]}`;
}

/**
 * Calls `visit(acquireRow, waitNs)` for every completed wait, in trace order (waitNs NaN: an end is
 * untimed, so its length is unknown), and
 * `unfinished(waitRow)` for every wait that did not end in the trace. Returns the unfinished count.
 */
export function forEachLockWait(
  store: TraceStore, visit: (acquireRow: number, waitNs: number) => void, unfinished: (waitRow: number) => void = () => {},
): number {
  const kinds = store.kinds;
  const ts = store.tsNs;
  const task = store.col('task');
  const lockC = lockCols(store);
  const untimed = untimedTaskFlags(store);
  const waitRow = new Map<string, number>();
  let count = 0;
  for (let row = 0; row < store.length; row++) {
    const k = kinds[row];
    if (k !== KIND_CODE.lock_wait && k !== KIND_CODE.lock_acquire) continue;
    const key = `${task[row]}:${lockKeyAt(lockC, row)}`;
    const from = waitRow.get(key);
    if (k === KIND_CODE.lock_wait) {
      if (from !== undefined) { unfinished(from); count++; }
      waitRow.set(key, row);
      continue;
    }
    if (from === undefined) continue;
    waitRow.delete(key);
    visit(row, isUntimedRow(untimed, task, row) || isUntimedRow(untimed, task, from) ? Number.NaN : ts[row]! - ts[from]!);
  }
  for (const row of [...waitRow.values()].sort((a, b) => a - b)) { unfinished(row); count++; }
  return count;
}

/** Every wait of a trace, paired once: summary and A/B stats share it with accountRun. */
export interface LockWaitPass {
  /** Per completed wait, in trace order: the acquire that ended it and how long it waited (NaN: unknown, untimed). */
  acquireRows: number[];
  waitNs: number[];
  /** The wait rows that did not end in the trace. */
  unfinishedRows: number[];
}

/** forEachLockWait's pairing, kept. */
export function lockWaitPass(store: TraceStore): LockWaitPass {
  const pass: LockWaitPass = { acquireRows: [], waitNs: [], unfinishedRows: [] };
  forEachLockWait(store, (row, waitNs) => { pass.acquireRows.push(row); pass.waitNs.push(waitNs); }, (row) => pass.unfinishedRows.push(row));
  return pass;
}

/**
 * How every view writes a count of waits: `12 (+3 did not end)` for a complete trace; in a live
 * stream an unfinished wait may still end: `12 (+3 still waiting)`.
 */
export function countWithUnfinished(ended: number, unfinished: number, complete = true): string {
  return unfinished > 0 ? `${ended} (+${unfinished} ${complete ? 'did not end' : 'still waiting'})` : String(ended);
}
