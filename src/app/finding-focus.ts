// What clicking a finding shows (pure, so it is tested without a page): the time range to zoom to,
// the lanes to pin so the evidence is on screen, the evidence row to select in the inspector and
// the tab where the evidence lives.

import type { Finding } from '../trace/checks/types.ts';
import type { TraceStore } from '../trace/store.ts';
import type { ViewTab } from '../views/registry.ts';

/** A finding's range is shown with this much of its width as margin on each side. */
const MARGIN_FRACTION = 0.15;
/** An instant finding (durNs 0) is shown with this much time around it. */
const INSTANT_WINDOW_NS = 200e3;
/**
 * Evidence rows of activities (not STATE_KINDS) this close to the finding's range (in multiples of
 * its width, at least NEAR_MIN_NS) widen the zoom so the activities the finding names are seen
 * whole (an overlap's two holds start before it). Farther ones, and state rows (the lookup that
 * first used the cache, the row that enabled iomap), stay listed, not zoomed to.
 */
const NEAR_FACTOR = 4;
const NEAR_MIN_NS = 1e6;

/** Rows that record a state (a cache or inode event) rather than an activity with a duration. */
const STATE_KINDS: ReadonlySet<string> = new Set([
  'cache_lookup', 'cache_upsert', 'cache_inval', 'cache_stale', 'cache_drop',
  'inode_new', 'inode_lookup', 'inode_forget', 'inode_iomap', 'inode_evict',
]);

/** The tab that shows a rule's evidence (rules not listed keep the open tab). */
const TAB_OF_RULE: Partial<Record<string, ViewTab>> = {
  'alias-race': 'aliases',
  lock: 'locks',
  cache: 'cache',
  uncached: 'cache',
  'stale-mapping': 'cache',
};

export interface FindingFocus {
  fromNs: number;
  toNs: number;
  /** Tasks of the evidence rows in the page, in row order, without repeats. */
  tasks: string[];
  /** The store row to select: the first activity row in the zoomed range (else the first evidence row in the page), -1 if none. */
  row: number;
  tab: ViewTab | null;
}

/** `rowBase`: the stream row of store row 0 (evidence rows are stream rows). */
export function findingFocus(f: Finding, trace: TraceStore, rowBase: number): FindingFocus {
  const rows = f.evidence.map((r) => r - rowBase).filter((r) => r >= 0 && r < trace.length);
  let fromNs = f.tsNs;
  let toNs = f.tsNs + Math.max(0, f.durNs);
  const nearNs = Math.max(NEAR_MIN_NS, NEAR_FACTOR * (toNs - fromNs));
  const activities = rows.filter((r) => !STATE_KINDS.has(trace.kindOf(r)));
  for (const r of activities) {
    const t = trace.tsNs[r]!;
    if (t >= f.tsNs - nearNs && t <= f.tsNs + f.durNs + nearNs) {
      fromNs = Math.min(fromNs, t);
      toNs = Math.max(toNs, t);
    }
  }
  const widthNs = toNs - fromNs;
  const marginNs = widthNs > 0 ? widthNs * MARGIN_FRACTION : INSTANT_WINDOW_NS / 2;
  fromNs -= marginNs;
  toNs += marginNs;
  const tasks: string[] = [];
  for (const r of rows) {
    const task = trace.taskAt(r) as string;
    if (task && !tasks.includes(task)) tasks.push(task);
  }
  const inRange = activities.find((r) => trace.tsNs[r]! >= fromNs && trace.tsNs[r]! <= toNs);
  return { fromNs, toNs, tasks, row: inRange ?? rows[0] ?? -1, tab: TAB_OF_RULE[f.rule] ?? null };
}
