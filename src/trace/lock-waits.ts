// Completed lock waits: each `lock_wait` paired with the same task's next `lock_acquire` of the
// same lock on the same fuse_inode (nodeId). Summary, accounting and A/B stats all count waits
// this way; a wait still open at the end of the trace is not a completed wait.

import { KIND_CODE } from './schema.ts';
import type { TraceStore } from './store.ts';

/** Calls `visit(acquireRow, waitNs)` for every completed wait, in trace order. */
export function forEachLockWait(store: TraceStore, visit: (acquireRow: number, waitNs: number) => void): void {
  const kinds = store.kinds;
  const ts = store.tsNs;
  const task = store.col('task');
  const lock = store.col('lock');
  const nodeId = store.f64('nodeId');
  const waitFromNs = new Map<string, number>();
  for (let row = 0; row < store.length; row++) {
    const k = kinds[row];
    if (k !== KIND_CODE.lock_wait && k !== KIND_CODE.lock_acquire) continue;
    const key = `${task[row]}:${lock[row]}:${nodeId[row]}`;
    if (k === KIND_CODE.lock_wait) {
      waitFromNs.set(key, ts[row]!);
      continue;
    }
    const from = waitFromNs.get(key);
    if (from === undefined) continue;
    waitFromNs.delete(key);
    visit(row, ts[row]! - from);
  }
}
