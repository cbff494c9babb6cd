// Task → process (tgid), from the task_process rows a source wrote for the tasks whose thread-group
// id it knew (schema 4). A task without one has an unknown process: its pid is a thread id, and a
// recording written before schema 4 has no such rows at all.

import { KIND_CODE } from '../schema.ts';
import type { TraceStore } from '../store.ts';

export interface TaskProcesses {
  /** tgid by task (`comm/tid`); absent: unknown. */
  readonly tgidOf: ReadonlyMap<string, number>;
}

const cache = new WeakMap<TraceStore, { scanned: number; tgidOf: Map<string, number> }>();

/** The processes the store's rows name, scanned once per new row (a live store only grows; a reset store is rescanned). */
export function taskProcesses(store: TraceStore): TaskProcesses {
  let c = cache.get(store);
  if (c === undefined || c.scanned > store.length) cache.set(store, (c = { scanned: 0, tgidOf: new Map() }));
  if (c.scanned < store.length) {
    const kinds = store.kinds;
    const code = KIND_CODE.task_process;
    const tgid = store.col('tgid');
    for (let row = c.scanned; row < store.length; row++) {
      // The last row for a task wins (an exec may move it); 0 is never written, but would mean unknown.
      if (kinds[row] === code && tgid[row]! > 0) c.tgidOf.set(store.taskAt(row), tgid[row]!);
    }
    c.scanned = store.length;
  }
  return c;
}
