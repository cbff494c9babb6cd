// Paints a LocksModel (CSS px). Header rows are lock titles; task rows hold the runs. Flows are
// thin arrows waiter ← holder. Returns the primitive count (LOD bound checked in tests).

import { PALETTE_IDX, type Palette } from '../../render/palette.ts';
import type { Tick } from '../../render/ticks.ts';
import { LockState, type LocksModel } from './model.ts';
import { fillFaded } from '../../render/faded.ts';
import type { Ino } from '../../trace/ids.ts';
import type { Finding } from '../../trace/checks/types.ts';
import { sameFinding } from '../host.ts';
import { drawSeverityTriangle } from '../finding-marks.ts';
import type { LockEvidenceBox, LockFindingMark } from './findings.ts';

export type LockCanvas = Pick<CanvasRenderingContext2D,
  'fillRect' | 'fillText' | 'strokeRect' | 'save' | 'restore' | 'beginPath' | 'rect' | 'clip' | 'moveTo' | 'lineTo' | 'stroke' | 'fill' | 'closePath'
  | 'fillStyle' | 'strokeStyle' | 'globalAlpha' | 'font' | 'textBaseline' | 'textAlign' | 'lineWidth'>;

export const LOCK_LABEL_WIDTH_PX = 200;
export const LOCK_ROW_HEIGHT_PX = 18;
const LOCK_AXIS_HEIGHT_PX = 18;

export function lockRowTopPx(rowPos: number): number {
  return LOCK_AXIS_HEIGHT_PX + rowPos * LOCK_ROW_HEIGHT_PX;
}
export function lockRowAtPx(yPx: number): number {
  return Math.floor((yPx - LOCK_AXIS_HEIGHT_PX) / LOCK_ROW_HEIGHT_PX);
}

interface LocksDrawOptions {
  /** The theme's colours (render/palette.ts paletteFor). */
  palette: Palette;
  widthPx: number;
  heightPx: number;
  ticks: Tick[];
  hoverLockIdx: number;
  hoverIno: Ino;
  selectedSpanId: number;
  waitFill: string | CanvasPattern;
}

const LOCK_READ_IDX = PALETTE_IDX['lock.read']!;
const LOCK_WRITE_IDX = PALETTE_IDX['lock.write']!;
const FONT = '11px system-ui, -apple-system, "Segoe UI", sans-serif';

export function drawLocks(ctx: LockCanvas, m: LocksModel, o: LocksDrawOptions): number {
  let n = 0;
  const plotW = o.widthPx - LOCK_LABEL_WIDTH_PX;
  const chrome = o.palette.chrome;
  const readColour = o.palette.colours[LOCK_READ_IDX]!;
  const writeColour = o.palette.colours[LOCK_WRITE_IDX]!;
  ctx.fillStyle = chrome.background;
  ctx.fillRect(0, 0, o.widthPx, o.heightPx);
  ctx.font = FONT;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillStyle = chrome.laneLabelMuted;
  for (const t of o.ticks) {
    ctx.fillStyle = chrome.separator;
    ctx.fillRect(LOCK_LABEL_WIDTH_PX + t.xPx, 0, 1, o.heightPx);
    ctx.fillStyle = chrome.laneLabelMuted;
    ctx.fillText(t.label, LOCK_LABEL_WIDTH_PX + t.xPx + 3, LOCK_AXIS_HEIGHT_PX / 2);
    n += 2;
  }
  m.rows.forEach((r, pos) => {
    const top = lockRowTopPx(pos);
    if (top > o.heightPx) return;
    const hot = r.lockIdx === o.hoverLockIdx || (o.hoverIno !== 0 && r.ino === o.hoverIno);
    if (r.type === 'lock') {
      ctx.fillStyle = hot ? chrome.linkedHover : chrome.gutter;
      ctx.fillRect(0, top, o.widthPx, LOCK_ROW_HEIGHT_PX);
      ctx.fillStyle = chrome.laneLabel;
      ctx.fillText(r.label, 6, top + LOCK_ROW_HEIGHT_PX / 2);
    } else {
      ctx.fillStyle = hot ? chrome.linkedHover : pos % 2 ? chrome.background : chrome.laneStripe;
      ctx.fillRect(0, top, o.widthPx, LOCK_ROW_HEIGHT_PX);
      ctx.fillStyle = chrome.laneLabel;
      ctx.fillText(r.label, 18, top + LOCK_ROW_HEIGHT_PX / 2);
    }
    n += 2;
  });
  ctx.save();
  ctx.beginPath();
  ctx.rect(LOCK_LABEL_WIDTH_PX, 0, plotW, o.heightPx);
  ctx.clip();
  const p = m.prims;
  let selI = -1;
  for (let i = 0; i < p.count; i++) {
    const top = lockRowTopPx(p.row[i]!) + 3;
    const st = p.style[i]!;
    ctx.fillStyle = st === LockState.wait ? o.waitFill : st === LockState.write ? writeColour : readColour;
    ctx.globalAlpha = p.spanCount[i]! > 1 ? 0.7 : 1;
    const edge = p.edge[i]!;
    if (edge === 0) {
      ctx.fillRect(LOCK_LABEL_WIDTH_PX + p.xPx[i]!, top, Math.max(1, p.widthPx[i]!), LOCK_ROW_HEIGHT_PX - 6);
      n++;
    } else n += fillFaded(ctx, LOCK_LABEL_WIDTH_PX + p.xPx[i]!, top, Math.max(2, p.widthPx[i]!), LOCK_ROW_HEIGHT_PX - 6, edge);
    if (p.spanId[i] === o.selectedSpanId && o.selectedSpanId >= 0) selI = i;
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = '#1b2430';
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const f of m.flows) {
    const x0 = LOCK_LABEL_WIDTH_PX + f.fromXPx;
    const y0 = lockRowTopPx(f.fromRowPos) + LOCK_ROW_HEIGHT_PX / 2;
    const x1 = LOCK_LABEL_WIDTH_PX + f.toXPx;
    const y1 = lockRowTopPx(f.toRowPos) + LOCK_ROW_HEIGHT_PX / 2;
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    const dir = y1 > y0 ? -1 : 1;
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - 4, y1 + dir * 5);
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 + 4, y1 + dir * 5);
    n++;
  }
  ctx.stroke();
  if (selI >= 0) {
    ctx.strokeStyle = chrome.selection;
    ctx.lineWidth = 2;
    ctx.strokeRect(LOCK_LABEL_WIDTH_PX + p.xPx[selI]!, lockRowTopPx(p.row[selI]!) + 2, Math.max(2, p.widthPx[selI]!), LOCK_ROW_HEIGHT_PX - 4);
    n++;
  }
  ctx.restore();
  return n;
}

/**
 * Findings over the lanes: a severity triangle on the header row of each lock a finding names
 * (the shown finding's outlined), and a thick outline around the shown finding's evidence holds
 * and waits. Returns the primitive count.
 */
export function drawLockFindings(ctx: LockCanvas, marks: readonly LockFindingMark[], boxes: readonly LockEvidenceBox[], selected: Finding | null,
  palette: Palette, widthPx: number, heightPx: number): number {
  const chrome = palette.chrome;
  let n = 0;
  ctx.save();
  ctx.beginPath();
  ctx.rect(LOCK_LABEL_WIDTH_PX - 6, 0, widthPx - LOCK_LABEL_WIDTH_PX + 6, heightPx);
  ctx.clip();
  for (const mk of marks) {
    const x = LOCK_LABEL_WIDTH_PX + mk.xPx;
    const top = lockRowTopPx(mk.rowPos);
    drawSeverityTriangle(ctx, chrome, mk.severity, x, top + 2, top + LOCK_ROW_HEIGHT_PX - 3, 6, sameFinding(mk.finding, selected));
    n++;
  }
  ctx.strokeStyle = chrome.evidence;
  ctx.lineWidth = 2.5;
  for (const b of boxes) {
    ctx.strokeRect(LOCK_LABEL_WIDTH_PX + b.xPx - 2, lockRowTopPx(b.rowPos) + 1, b.widthPx + 4, LOCK_ROW_HEIGHT_PX - 2);
    n++;
  }
  ctx.restore();
  return n;
}
