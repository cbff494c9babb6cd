// The user's lane layout: collapsed lanes, collapsed groups, resized lanes — by task name and group
// key, so they survive new data and a reload (localStorage 'fusescope.lanes'; not in the shared
// link: they are this viewer's screen), and how lanes are grouped (by process or by comm). Pins
// stay in the view state (they are in the link).

import { loadPref, savePref } from '../../widgets/prefs.ts';
import type { LaneGrouping } from './model.ts';
import { COLLAPSED_SUBROW_PX, MAX_SUBROW_PX, MIN_SUBROW_PX, type LanePrefs } from './layout.ts';

interface Stored { collapsed: string[]; collapsedGroups: string[]; subrowPx: [string, number][]; grouping?: LaneGrouping }

const isStored = (v: unknown): v is Stored => {
  const o = v as Stored;
  return typeof o === 'object' && o !== null && Array.isArray(o.collapsed) && Array.isArray(o.collapsedGroups) && Array.isArray(o.subrowPx);
};

/** At most this many entries of each kind are remembered (task names of old traces pile up). */
const MAX_ENTRIES = 500;

export class LanePrefsStore implements LanePrefs {
  readonly collapsed: Set<string>;
  readonly collapsedGroups: Set<string>;
  readonly subrowPx: Map<string, number>;
  /** Lanes grouped by the process the trace names (else by comm), or by comm only. */
  grouping: LaneGrouping;
  /** Bumped on every change: the geometry is rebuilt when it moves. */
  version = 0;

  constructor(private readonly persist = true) {
    const s = persist ? loadPref<Stored | null>('lanes', null, (v): v is Stored => isStored(v)) : null;
    this.collapsed = new Set(s?.collapsed.filter((t) => typeof t === 'string'));
    this.collapsedGroups = new Set(s?.collapsedGroups.filter((t) => typeof t === 'string'));
    this.subrowPx = new Map(s?.subrowPx.filter(([t, px]) => typeof t === 'string' && Number.isFinite(px)).map(([t, px]) => [t, clampSubrow(px)]));
    this.grouping = s?.grouping === 'comm' ? 'comm' : 'process';
  }

  setGrouping(grouping: LaneGrouping): void {
    this.grouping = grouping;
    this.changed();
  }

  toggleLane(task: string): void {
    if (!this.collapsed.delete(task)) this.collapsed.add(task);
    this.changed();
  }

  toggleGroup(key: string): void {
    if (!this.collapsedGroups.delete(key)) this.collapsedGroups.add(key);
    this.changed();
  }

  /** A resize below MIN_SUBROW_PX collapses the lane; above, it is open at that height. */
  resize(task: string, subrowPx: number, save: boolean): void {
    if (subrowPx < MIN_SUBROW_PX) {
      this.collapsed.add(task);
      this.subrowPx.delete(task);
    } else {
      this.collapsed.delete(task);
      this.subrowPx.set(task, clampSubrow(subrowPx));
    }
    this.changed(save);
  }

  private changed(save = true): void {
    this.version++;
    if (!save || !this.persist) return;
    const last = <T,>(xs: T[]): T[] => xs.slice(-MAX_ENTRIES);
    savePref('lanes', { collapsed: last([...this.collapsed]), collapsedGroups: last([...this.collapsedGroups]), subrowPx: last([...this.subrowPx]), grouping: this.grouping } satisfies Stored);
  }
}

function clampSubrow(px: number): number {
  return Math.round(Math.min(Math.max(px, COLLAPSED_SUBROW_PX), MAX_SUBROW_PX));
}
