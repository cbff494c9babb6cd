// Vertical geometry of the timeline, in CSS px. A lane is one task (or, role 'fs', one kernel
// filesystem inode whose iomap steps stack in all its sub-rows); it has SUBROW_COUNT sub-rows,
// each `subrowPx` high (SUBROW_HEIGHT_PX unless the user resized or collapsed the lane):
//
//   top ─┬─ sub-row 0  syscalls (app) / service spans (server thread)
//        ├─ sub-row 1  iomap begin→iter_end steps, coloured by mapping type
//        ├─ sub-row 2  fuse requests send→reply, coloured by opcode class
//        ├─ sub-row 3  lock wait (hatched) and hold (R / W)
//        └─ LANE_GAP_PX   (dragging it resizes the lane above)
//   x: [0, LABEL_WIDTH_PX) lane labels | [LABEL_WIDTH_PX, canvas width) plot area (TimeScale xPx 0…)
//
// Top to bottom: the pinned lanes (drawn at the top of the visible area whatever the scroll: they
// stay while the rest scrolls under them), then each group of lanes sharing a comm, under a
// header row when it has more than one lane (a collapsed group hides its lanes).

import { SUBROW_COUNT } from '../../trace/spans.ts';

/** 11 px fits a 9 px label inside a span and keeps ~15 lanes on a laptop screen. */
export const SUBROW_HEIGHT_PX = 11;
/** Space between lanes, so adjacent tasks do not read as one block. */
export const LANE_GAP_PX = 6;
export const LANE_HEIGHT_PX = SUBROW_COUNT * SUBROW_HEIGHT_PX + LANE_GAP_PX;
/** Fits `fuse2fs/501` or `kworker/u8:3` in 11 px system font. */
export const LABEL_WIDTH_PX = 150;
const TOP_PAD_PX = 4;
/** A collapsed lane: four 3 px strips (still shows where its spans are) and a one-line label. */
export const COLLAPSED_SUBROW_PX = 3;
/** Resizing keeps a sub-row between these (below the minimum the lane is collapsed instead). */
export const MIN_SUBROW_PX = 6;
export const MAX_SUBROW_PX = 40;
/** The ▾/▸ glyph at a lane label's left: a click there collapses the lane (elsewhere it pins). */
export const LABEL_TOGGLE_WIDTH_PX = 13;
/** A group header row: "▾ comm · N tasks". */
export const GROUP_HEADER_PX = 18;
/** Under the pinned block: a rule, so scrolled lanes read as passing under it. */
const PINNED_RULE_PX = 3;

export function laneTopPx(laneRow: number): number {
  return TOP_PAD_PX + laneRow * LANE_HEIGHT_PX;
}
export function subrowTopPx(laneRow: number, subrow: number): number {
  return laneTopPx(laneRow) + subrow * SUBROW_HEIGHT_PX;
}
export function contentHeightPx(laneCount: number): number {
  return TOP_PAD_PX * 2 + laneCount * LANE_HEIGHT_PX;
}

/** What the geometry needs of a model lane row. */
export interface LaneRowKey {
  task: string;
  pinned: boolean;
  /** Lanes of one group sit together (model.ts orderLanes); '' for pinned lanes. */
  group: string;
}

/** The user's layout choices, keyed by task (lanes) and group key. */
export interface LanePrefs {
  collapsed: ReadonlySet<string>;
  collapsedGroups: ReadonlySet<string>;
  /** Per task: its sub-row height after a resize. */
  subrowPx: ReadonlyMap<string, number>;
}

export const NO_PREFS: LanePrefs = { collapsed: new Set(), collapsedGroups: new Set(), subrowPx: new Map() };

export interface GroupHeader {
  key: string;
  /** Model row of the group's first lane. */
  firstRow: number;
  laneCount: number;
  topPx: number;
  collapsed: boolean;
}

export type LaneHit =
  | { type: 'lane'; laneRow: number; subrow: number }
  /** The gap under a lane: dragging it resizes that lane. */
  | { type: 'edge'; laneRow: number }
  | { type: 'header'; header: GroupHeader };

/**
 * Where each lane row is. Pinned rows' tops are relative to the visible area's top (add
 * `scrollTopPx`, set each frame); every other top is in canvas px. A hidden row (collapsed group)
 * has subrowPx 0.
 */
export class LaneGeometry {
  scrollTopPx = 0;

  private constructor(
    private readonly baseTopPx: Float64Array,
    readonly subrowPx: Float64Array,
    readonly pinned: Uint8Array,
    readonly collapsed: Uint8Array,
    readonly headers: readonly GroupHeader[],
    /** Height of the pinned block (0: nothing pinned); unpinned content starts below it. */
    readonly pinnedHeightPx: number,
    readonly contentHeightPx: number,
  ) {}

  /** Every lane at the default height, no headers: the layout before any choice (tests, compare). */
  static uniform(laneCount: number): LaneGeometry {
    return LaneGeometry.build(Array.from({ length: laneCount }, (_, i) => ({ task: String(i), pinned: false, group: String(i) })), NO_PREFS);
  }

  static build(rows: readonly LaneRowKey[], prefs: LanePrefs): LaneGeometry {
    const n = rows.length;
    const top = new Float64Array(n);
    const sub = new Float64Array(n);
    const pinned = new Uint8Array(n);
    const collapsed = new Uint8Array(n);
    const subOf = (r: LaneRowKey, i: number): number => {
      if (prefs.collapsed.has(r.task)) { collapsed[i] = 1; return COLLAPSED_SUBROW_PX; }
      return prefs.subrowPx.get(r.task) ?? SUBROW_HEIGHT_PX;
    };
    let y = TOP_PAD_PX;
    let i = 0;
    for (; i < n && rows[i]!.pinned; i++) {
      pinned[i] = 1;
      top[i] = y;
      sub[i] = subOf(rows[i]!, i);
      y += SUBROW_COUNT * sub[i]! + LANE_GAP_PX;
    }
    const pinnedHeightPx = i > 0 ? y + PINNED_RULE_PX : 0;
    if (i > 0) y += PINNED_RULE_PX;
    const headers: GroupHeader[] = [];
    while (i < n) {
      const group = rows[i]!.group;
      let end = i + 1;
      while (end < n && !rows[end]!.pinned && rows[end]!.group === group) end++;
      let hidden = false;
      if (end - i > 1) {
        hidden = prefs.collapsedGroups.has(group);
        headers.push({ key: group, firstRow: i, laneCount: end - i, topPx: y, collapsed: hidden });
        y += GROUP_HEADER_PX;
      }
      for (; i < end; i++) {
        top[i] = y;
        sub[i] = hidden ? 0 : subOf(rows[i]!, i);
        if (!hidden) y += SUBROW_COUNT * sub[i]! + LANE_GAP_PX;
      }
    }
    return new LaneGeometry(top, sub, pinned, collapsed, headers, pinnedHeightPx, y + TOP_PAD_PX);
  }

  get rowCount(): number { return this.subrowPx.length; }

  isHidden(row: number): boolean { return this.subrowPx[row] === 0; }

  /** Top of the lane in canvas px (pinned lanes follow the scroll). */
  laneTop(row: number): number {
    return this.baseTopPx[row]! + (this.pinned[row] ? this.scrollTopPx : 0);
  }

  /** The lane's body (its sub-rows), without the gap under it. */
  bodyHeight(row: number): number {
    return SUBROW_COUNT * this.subrowPx[row]!;
  }

  subrowTop(row: number, subrow: number): number {
    return this.laneTop(row) + subrow * this.subrowPx[row]!;
  }

  /** The lane is (partly) in [topPx, bottomPx) and not under the pinned block. */
  laneVisible(row: number, topPx: number, bottomPx: number): boolean {
    if (this.isHidden(row)) return false;
    const t = this.laneTop(row);
    const b = t + this.bodyHeight(row);
    const coverTop = this.pinned[row] ? topPx : topPx + this.pinnedHeightPx;
    return b > coverTop && t < bottomPx;
  }

  /** What is under a y in canvas px (the pinned block first: it is drawn over the rest). */
  hit(yPx: number): LaneHit | null {
    const n = this.rowCount;
    const inPinned = yPx - this.scrollTopPx < this.pinnedHeightPx;
    for (let row = 0; row < n; row++) {
      if (this.isHidden(row) || (this.pinned[row] === 1) !== inPinned) continue;
      const t = this.laneTop(row);
      const body = this.bodyHeight(row);
      if (yPx < t) continue;
      if (yPx < t + body) return { type: 'lane', laneRow: row, subrow: Math.min(SUBROW_COUNT - 1, Math.floor((yPx - t) / this.subrowPx[row]!)) };
      if (yPx < t + body + LANE_GAP_PX) return { type: 'edge', laneRow: row };
    }
    if (inPinned) return null;
    for (const h of this.headers) if (yPx >= h.topPx && yPx < h.topPx + GROUP_HEADER_PX) return { type: 'header', header: h };
    return null;
  }
}

/** Lane row and sub-row under a y in canvas CSS px with every lane at the default height, or null. */
export function rowAtPx(yPx: number, laneCount: number): { laneRow: number; subrow: number } | null {
  const h = LaneGeometry.uniform(laneCount).hit(yPx);
  return h?.type === 'lane' ? { laneRow: h.laneRow, subrow: h.subrow } : null;
}
