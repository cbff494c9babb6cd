// Paints one alias group's mini-timeline: per nodeId a row with IO (iomap steps) on top and
// i_rwsem holds below; overlapping exclusive holds are a red band across the rows.

import { CHROME, PALETTE, PALETTE_IDX } from '../../render/palette.ts';
import type { Tick } from '../../render/ticks.ts';
import { MiniKind, type MiniTimeline } from './model.ts';
import { fillFaded } from '../../render/faded.ts';

export type MiniCanvas = Pick<CanvasRenderingContext2D,
  'fillRect' | 'fillText' | 'strokeRect' | 'fillStyle' | 'strokeStyle' | 'font' | 'textBaseline' | 'textAlign' | 'lineWidth' | 'globalAlpha'>;

export const MINI_LABEL_WIDTH_PX = 170;
export const MINI_ROW_HEIGHT_PX = 26;
export const MINI_AXIS_HEIGHT_PX = 14;
const IO_COLOUR = PALETTE[PALETTE_IDX['fuse.iomap_begin']!]!.colour;
const R_COLOUR = PALETTE[PALETTE_IDX['lock.read']!]!.colour;
const W_COLOUR = PALETTE[PALETTE_IDX['lock.write']!]!.colour;
export const OVERLAP_FILL = 'rgba(213, 94, 0, 0.25)';

export function miniHeightPx(rows: number): number {
  return MINI_AXIS_HEIGHT_PX + rows * MINI_ROW_HEIGHT_PX + 2;
}

export function drawMini(ctx: MiniCanvas, m: MiniTimeline, labels: string[], widthPx: number, ticks: Tick[], selectedSpanId: number): number {
  let n = 0;
  const h = miniHeightPx(m.nodeIds.length);
  ctx.fillStyle = CHROME.background;
  ctx.fillRect(0, 0, widthPx, h);
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillStyle = CHROME.laneLabelMuted;
  for (const t of ticks) {
    ctx.fillStyle = CHROME.separator;
    ctx.fillRect(MINI_LABEL_WIDTH_PX + t.xPx, 0, 1, h);
    ctx.fillStyle = CHROME.laneLabelMuted;
    ctx.fillText(t.label, MINI_LABEL_WIDTH_PX + t.xPx + 3, MINI_AXIS_HEIGHT_PX / 2);
    n += 2;
  }
  m.nodeIds.forEach((_id, i) => {
    const top = MINI_AXIS_HEIGHT_PX + i * MINI_ROW_HEIGHT_PX;
    ctx.fillStyle = i % 2 ? CHROME.background : CHROME.laneStripe;
    ctx.fillRect(0, top, widthPx, MINI_ROW_HEIGHT_PX);
    ctx.fillStyle = CHROME.laneLabel;
    ctx.fillText(labels[i] ?? '', 6, top + MINI_ROW_HEIGHT_PX / 2);
    n += 2;
  });
  ctx.fillStyle = OVERLAP_FILL;
  for (const o of m.overlaps) {
    ctx.fillRect(MINI_LABEL_WIDTH_PX + o.xPx, MINI_AXIS_HEIGHT_PX, o.widthPx, m.nodeIds.length * MINI_ROW_HEIGHT_PX);
    n++;
  }
  for (const p of m.prims) {
    const top = MINI_AXIS_HEIGHT_PX + p.rowPos * MINI_ROW_HEIGHT_PX;
    const isIo = p.kind === MiniKind.io;
    ctx.fillStyle = isIo ? IO_COLOUR : p.kind === MiniKind.holdW ? W_COLOUR : R_COLOUR;
    if (p.edge === 0) {
      ctx.fillRect(MINI_LABEL_WIDTH_PX + p.xPx, top + (isIo ? 3 : 14), p.widthPx, 9);
      n++;
    } else n += fillFaded(ctx, MINI_LABEL_WIDTH_PX + p.xPx, top + (isIo ? 3 : 14), p.widthPx, 9, p.edge);
    if (p.spanId === selectedSpanId) {
      ctx.strokeStyle = CHROME.selection;
      ctx.lineWidth = 2;
      ctx.strokeRect(MINI_LABEL_WIDTH_PX + p.xPx, top + (isIo ? 2 : 13), Math.max(2, p.widthPx), 11);
      n++;
    }
  }
  return n;
}
