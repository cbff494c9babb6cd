// Paints one alias group's mini-timeline: per nodeId a row with IO (iomap steps) on top and
// i_rwsem holds below; overlapping exclusive holds are a red band across the rows.

import { PALETTE_IDX, type Palette } from '../../render/palette.ts';
import type { Tick } from '../../render/ticks.ts';
import { MiniKind, type MiniTimeline } from './model.ts';
import { fillFaded } from '../../render/faded.ts';

type MiniCanvas = Pick<CanvasRenderingContext2D,
  'fillRect' | 'fillText' | 'strokeRect' | 'fillStyle' | 'strokeStyle' | 'font' | 'textBaseline' | 'textAlign' | 'lineWidth' | 'globalAlpha'>;

export const MINI_LABEL_WIDTH_PX = 170;
export const MINI_ROW_HEIGHT_PX = 26;
export const MINI_AXIS_HEIGHT_PX = 14;
const IO_IDX = PALETTE_IDX['fuse.iomap_begin']!;
const R_IDX = PALETTE_IDX['lock.read']!;
const W_IDX = PALETTE_IDX['lock.write']!;
const OVERLAP_FILL = 'rgba(213, 94, 0, 0.25)';

export function miniHeightPx(rows: number): number {
  return MINI_AXIS_HEIGHT_PX + rows * MINI_ROW_HEIGHT_PX + 2;
}

export function drawMini(ctx: MiniCanvas, palette: Palette, m: MiniTimeline, labels: string[], widthPx: number, ticks: Tick[], selectedSpanId: number): number {
  let n = 0;
  const h = miniHeightPx(m.nodeIds.length);
  const chrome = palette.chrome;
  const ioColour = palette.colours[IO_IDX]!;
  const readColour = palette.colours[R_IDX]!;
  const writeColour = palette.colours[W_IDX]!;
  ctx.fillStyle = chrome.background;
  ctx.fillRect(0, 0, widthPx, h);
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  ctx.fillStyle = chrome.laneLabelMuted;
  for (const t of ticks) {
    ctx.fillStyle = chrome.separator;
    ctx.fillRect(MINI_LABEL_WIDTH_PX + t.xPx, 0, 1, h);
    ctx.fillStyle = chrome.laneLabelMuted;
    ctx.fillText(t.label, MINI_LABEL_WIDTH_PX + t.xPx + 3, MINI_AXIS_HEIGHT_PX / 2);
    n += 2;
  }
  m.nodeIds.forEach((_id, i) => {
    const top = MINI_AXIS_HEIGHT_PX + i * MINI_ROW_HEIGHT_PX;
    ctx.fillStyle = i % 2 ? chrome.background : chrome.laneStripe;
    ctx.fillRect(0, top, widthPx, MINI_ROW_HEIGHT_PX);
    ctx.fillStyle = chrome.laneLabel;
    ctx.fillText(labels[i] ?? '', 6, top + MINI_ROW_HEIGHT_PX / 2);
    n += 2;
  });
  ctx.fillStyle = OVERLAP_FILL;
  for (const o of m.overlaps) {
    ctx.fillRect(MINI_LABEL_WIDTH_PX + o.xPx, MINI_AXIS_HEIGHT_PX, o.widthPx, m.nodeIds.length * MINI_ROW_HEIGHT_PX);
    n++;
  }
  const p = m.prims;
  for (let i = 0; i < p.count; i++) {
    const top = MINI_AXIS_HEIGHT_PX + p.row[i]! * MINI_ROW_HEIGHT_PX;
    const kind = p.style[i]!;
    const isIo = kind === MiniKind.io;
    const xPx = MINI_LABEL_WIDTH_PX + p.xPx[i]!;
    const widthPx = p.widthPx[i]!;
    ctx.fillStyle = isIo ? ioColour : kind === MiniKind.holdW ? writeColour : readColour;
    const edge = p.edge[i]!;
    if (edge === 0) {
      ctx.fillRect(xPx, top + (isIo ? 3 : 14), widthPx, 9);
      n++;
    } else n += fillFaded(ctx, xPx, top + (isIo ? 3 : 14), widthPx, 9, edge);
    if (p.spanId[i] === selectedSpanId) {
      ctx.strokeStyle = chrome.selection;
      ctx.lineWidth = 2;
      ctx.strokeRect(xPx, top + (isIo ? 2 : 13), Math.max(2, widthPx), 11);
      n++;
    }
  }
  return n;
}
