// Task → process (tgid), from the task_process rows a source wrote for the tasks whose thread-group
// id it knew (schema 4). A task without one has an unknown process: its pid is a thread id, and a
// recording written before schema 4 has no such rows at all.

import { KIND_CODE } from '../schema.ts';
import type { TraceStore } from '../store.ts';

export interface TaskProcesses {
  /** tgid by task (`comm/tid`); absent: unknown. */
  readonly tgidOf: ReadonlyMap<string, number>;
}

// Kept per string table, not per store: a live window's rebuilt store shares its table (live-window.ts)
// and drops the old rows, task_process rows with them, yet the tasks are the same tasks.
const byTable = new WeakMap<object, Map<string, number>>();
const scannedRows = new WeakMap<TraceStore, number>();

/** The processes the store's rows (and a live window's evicted rows) name, scanned once per new row. */
export function taskProcesses(store: TraceStore): TaskProcesses {
  let tgidOf = byTable.get(store.strings);
  if (tgidOf === undefined) byTable.set(store.strings, (tgidOf = new Map()));
  let scanned = scannedRows.get(store) ?? 0;
  if (scanned > store.length) scanned = 0;
  if (scanned < store.length) {
    const kinds = store.kinds;
    const code = KIND_CODE.task_process;
    const tgid = store.col('tgid');
    for (let row = scanned; row < store.length; row++) {
      // The last row for a task wins (an exec may move it); 0 is never written, but would mean unknown.
      if (kinds[row] === code && tgid[row]! > 0) tgidOf.set(store.taskAt(row), tgid[row]!);
    }
    scannedRows.set(store, store.length);
  }
  return { tgidOf };
}
