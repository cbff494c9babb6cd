// Events whose time the trace does not show, of two kinds, both marked by their task so the mark
// survives NDJSON, recordings and the browser worker's wire (a task is a string every row carries):
//   - pasted lines without the `comm-pid [cpu] time:` prefix: on UNTIMED_TASK (task unknown too);
//   - a fuse server's debug log read without a kernel trace to time it (libfuse -d, go-fuse,
//     jacobsa, fuse4fs): its events keep their thread, on `untimedLogTask(task)` = LOG_UNTIMED_PREFIX
//     + task. Joined with a timed capture, the requests matched by unique take the kernel's times and
//     real tasks; what only the log has (requests outside the capture, its other lines) stays marked.
// Both sit at synthetic times (the file's order, 1 µs a line). Per event, so a trace with some timed
// and some untimed events keeps the timed ones' figures. Every duration, wait, latency or rate that
// involves an untimed event is unknown (null / "unknown"), never computed from the synthetic times;
// the order of such events is real (it is the file's).
import { UNTIMED_TASK, asTaskId, type TaskId } from './ids.ts';
import type { StringTable } from './strings.ts';
import type { TraceStore } from './store.ts';

/** Said wherever a figure is unknown because of pasted lines. */
export const UNTIMED_REASON = 'from pasted lines without times: only their order is known';
/** Said wherever a figure is unknown because of a log's events. */
export const LOG_UNTIMED_REASON = 'from a log without times: only their order is known';
/** Both kinds in one trace. */
const BOTH_REASON = 'without times (pasted lines, and a log without times): only their order is known';
/** What the views say about a span with an untimed end (its drawn width is order, not time). */
export const UNTIMED_SPAN_TEXT = 'time unknown (pasted lines without times): drawn in file order, its width is not a duration';
const LOG_UNTIMED_SPAN_TEXT = 'time unknown (a log without times): drawn in file order, its width is not a duration';
const BOTH_SPAN_TEXT = 'time unknown (pasted lines, or a log, without times): drawn in file order, its width is not a duration';

/**
 * Before a log event's task (`(no time) fuse-server/0`): the thread is still named (a task id's
 * `/tid` stays last, as views parse it), and no kernel `comm-pid` ever starts with a parenthesis
 * followed by this text in a trace we write.
 */
export const LOG_UNTIMED_PREFIX = '(no time) ';

/** The task a log event without a time is put on: its own, marked. */
export function untimedLogTask(task: TaskId): TaskId {
  return task.startsWith(LOG_UNTIMED_PREFIX) ? task : asTaskId(LOG_UNTIMED_PREFIX + task);
}

/** Whether a task id marks its events untimed (either kind). */
export function isUntimedTask(task: string): boolean {
  return task === UNTIMED_TASK || task.startsWith(LOG_UNTIMED_PREFIX);
}

interface TableScan {
  /** Strings [0, scanned) looked at. */
  scanned: number;
  /** Ids of the untimed task strings, by kind. */
  pasted: number;
  log: number[];
  /** flags[id] = 1 for an untimed task's id; null until one is found. */
  flags: Uint8Array | null;
}

const scans = new WeakMap<StringTable, TableScan>();

/** The table's untimed task ids, scanning only strings interned since the last call (tables only grow). */
function scanOf(strings: StringTable): TableScan {
  let s = scans.get(strings);
  if (!s) {
    s = { scanned: 0, pasted: -1, log: [], flags: null };
    scans.set(strings, s);
  }
  const size = strings.size;
  if (s.scanned < size) {
    const before = s.log.length + (s.pasted >= 0 ? 1 : 0);
    const fresh = strings.slice(s.scanned);
    for (let i = 0; i < fresh.length; i++) {
      const v = fresh[i]!;
      if (v === UNTIMED_TASK) s.pasted = s.scanned + i;
      else if (v.startsWith(LOG_UNTIMED_PREFIX)) s.log.push(s.scanned + i);
    }
    s.scanned = size;
    // Rebuilt only when a new untimed task appeared (ids past its length read as not untimed).
    if (before !== s.log.length + (s.pasted >= 0 ? 1 : 0)) {
      const flags = new Uint8Array(size);
      if (s.pasted >= 0) flags[s.pasted] = 1;
      for (const id of s.log) flags[id] = 1;
      s.flags = flags;
    }
  }
  return s;
}

/**
 * Per task string id, 1 when its events are untimed; null when no task of the store is (callers
 * then skip the test: no cost for a trace with real times). A live store may intern such a task
 * later, so callers ask again per batch, not once. Ids past its length are not untimed.
 */
export function untimedTaskFlags(store: TraceStore): Uint8Array | null {
  return scanOf(store.strings).flags;
}

/** Whether row `row` of a task column is untimed, given untimedTaskFlags' answer. */
export function isUntimedRow(flags: Uint8Array | null, task: ArrayLike<number>, row: number): boolean {
  return flags !== null && flags[task[row]!] === 1;
}

/** Why the store's untimed events have no time: the reason for the kinds it has (pasted, log). */
export function untimedReason(store: TraceStore): string {
  const s = scanOf(store.strings);
  const pasted = s.pasted >= 0, log = s.log.length > 0;
  return pasted && log ? BOTH_REASON : log ? LOG_UNTIMED_REASON : UNTIMED_REASON;
}

/** UNTIMED_SPAN_TEXT for the kinds of untimed events the store has. */
export function untimedSpanText(store: TraceStore): string {
  const s = scanOf(store.strings);
  const pasted = s.pasted >= 0, log = s.log.length > 0;
  return pasted && log ? BOTH_SPAN_TEXT : log ? LOG_UNTIMED_SPAN_TEXT : UNTIMED_SPAN_TEXT;
}

/** How many rows of `store` are untimed (0 for every trace with real times: one column scan at most). */
export function countUntimedRows(store: TraceStore): number {
  const flags = untimedTaskFlags(store);
  if (flags === null) return 0;
  const task = store.col('task');
  let n = 0;
  for (let row = 0; row < store.length; row++) if (flags[task[row]!] === 1) n++;
  return n;
}

/** Where a store's untimed events came from, as the views say it. */
export function untimedSource(store: TraceStore): string {
  const s = scanOf(store.strings);
  const pasted = s.pasted >= 0, log = s.log.length > 0;
  return pasted && log ? 'pasted lines and a log without times' : log ? 'a log without times' : 'pasted lines without time';
}

const shareCache = new WeakMap<TraceStore, { version: number; length: number; untimed: number }>();

/**
 * How many of the store's events are untimed, or null when none is (O(1) then); counted once per
 * store version, so views may ask every frame.
 */
export function untimedShare(store: TraceStore): { untimed: number; total: number; source: string } | null {
  if (untimedTaskFlags(store) === null) return null;
  let c = shareCache.get(store);
  if (!c || c.version !== store.version || c.length !== store.length) {
    c = { version: store.version, length: store.length, untimed: countUntimedRows(store) };
    shareCache.set(store, c);
  }
  return c.untimed === 0 ? null : { untimed: c.untimed, total: c.length, source: untimedSource(store) };
}

/** Every event of the store is untimed: no time axis can be labelled. */
export function allUntimed(store: TraceStore): boolean {
  const s = untimedShare(store);
  return s !== null && s.untimed >= s.total;
}
