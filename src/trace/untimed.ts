// Events whose time the trace does not show: those of pasted lines without the `comm-pid [cpu]
// time:` prefix, which the importer puts on UNTIMED_TASK at synthetic times (the file's order, 1 µs
// apart). Per event, so a file with some timed and some untimed lines keeps the timed ones' figures.
// Every duration, wait, latency or rate that involves an untimed event is unknown (null / "unknown"),
// never computed from the synthetic times; the order of such events is real (it is the file's).
import { UNTIMED_TASK } from './ids.ts';
import type { TraceStore } from './store.ts';

/** Said wherever a figure is unknown for this reason. */
export const UNTIMED_REASON = 'from pasted lines without times: only their order is known';
/** What the views say about a span with an untimed end (its drawn width is order, not time). */
export const UNTIMED_SPAN_TEXT = 'time unknown (pasted lines without times): drawn in file order, its width is not a duration';

/**
 * The string id of UNTIMED_TASK in `store`'s task column, -1 when no row has it (yet: a live store
 * may intern it later, so callers ask again per batch, not once).
 */
export function untimedTaskCode(store: TraceStore): number {
  return store.strings.find(UNTIMED_TASK);
}

/** How many rows of `store` are untimed (0 for every trace with real times: one column scan at most). */
export function countUntimedRows(store: TraceStore): number {
  const code = untimedTaskCode(store);
  if (code < 0) return 0;
  const task = store.col('task');
  let n = 0;
  for (let row = 0; row < store.length; row++) if (task[row] === code) n++;
  return n;
}

const shareCache = new WeakMap<TraceStore, { version: number; length: number; untimed: number }>();

/**
 * How many of the store's events are untimed, or null when none is (O(1) then); counted once per
 * store version, so views may ask every frame.
 */
export function untimedShare(store: TraceStore): { untimed: number; total: number } | null {
  if (untimedTaskCode(store) < 0) return null;
  let c = shareCache.get(store);
  if (!c || c.version !== store.version || c.length !== store.length) {
    c = { version: store.version, length: store.length, untimed: countUntimedRows(store) };
    shareCache.set(store, c);
  }
  return { untimed: c.untimed, total: c.length };
}

/** Every event of the store is untimed: no time axis can be labelled. */
export function allUntimed(store: TraceStore): boolean {
  const s = untimedShare(store);
  return s !== null && s.untimed >= s.total;
}
