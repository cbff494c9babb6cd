// Vertical geometry of the timeline, in CSS px. A lane is one task (or, role 'fs', one kernel
// filesystem inode whose iomap steps stack in all its sub-rows); it has SUBROW_COUNT sub-rows:
//
//   yPx ─┬─ sub-row 0  syscalls (app) / service spans (server thread)
//        ├─ sub-row 1  iomap begin→iter_end steps, coloured by mapping type
//        ├─ sub-row 2  fuse requests send→reply, coloured by opcode class
//        ├─ sub-row 3  lock wait (hatched) and hold (R / W)
//        └─ LANE_GAP_PX
//   x: [0, LABEL_WIDTH_PX) lane labels | [LABEL_WIDTH_PX, canvas width) plot area (TimeScale xPx 0…)

import { SUBROW_COUNT } from '../../trace/spans.ts';

/** 11 px fits a 9 px label inside a span and keeps ~15 lanes on a laptop screen. */
export const SUBROW_HEIGHT_PX = 11;
/** Space between lanes, so adjacent tasks do not read as one block. */
export const LANE_GAP_PX = 6;
export const LANE_HEIGHT_PX = SUBROW_COUNT * SUBROW_HEIGHT_PX + LANE_GAP_PX;
/** Fits `fuse2fs/501` or `kworker/u8:3` in 11 px system font. */
export const LABEL_WIDTH_PX = 150;
const TOP_PAD_PX = 4;

export function laneTopPx(laneRow: number): number {
  return TOP_PAD_PX + laneRow * LANE_HEIGHT_PX;
}
export function subrowTopPx(laneRow: number, subrow: number): number {
  return laneTopPx(laneRow) + subrow * SUBROW_HEIGHT_PX;
}
export function contentHeightPx(laneCount: number): number {
  return TOP_PAD_PX * 2 + laneCount * LANE_HEIGHT_PX;
}
/** Lane row and sub-row under a y in canvas CSS px, or null. */
export function rowAtPx(yPx: number, laneCount: number): { laneRow: number; subrow: number } | null {
  const y = yPx - TOP_PAD_PX;
  if (y < 0) return null;
  const laneRow = Math.floor(y / LANE_HEIGHT_PX);
  if (laneRow >= laneCount) return null;
  const subrow = Math.floor((y - laneRow * LANE_HEIGHT_PX) / SUBROW_HEIGHT_PX);
  return subrow < SUBROW_COUNT ? { laneRow, subrow } : null;
}
