// Paints a CacheModel: extents as rectangles coloured by mapping type (unwritten hatched, write
// fork outlined dashed-darker), markers as glyphs (shape per kind, so colour is not the only cue),
// and the hit-rate strip below.

import { mapTypePaletteIdx, type Palette } from '../../render/palette.ts';
import type { Tick } from '../../render/ticks.ts';
import type { CacheModel } from './model.ts';
import type { Finding } from '../../trace/checks/types.ts';
import { sameFinding } from '../host.ts';
import { drawSeverityTriangle, type FindingMark } from '../finding-marks.ts';
import type { CacheEvidenceMark } from './findings.ts';

export type CacheCanvas = Pick<CanvasRenderingContext2D,
  'fillRect' | 'fillText' | 'strokeRect' | 'save' | 'restore' | 'beginPath' | 'rect' | 'clip' | 'moveTo' | 'lineTo' | 'stroke' | 'fill' | 'arc' | 'closePath'
  | 'fillStyle' | 'strokeStyle' | 'globalAlpha' | 'font' | 'textBaseline' | 'textAlign' | 'lineWidth'>;

export const CACHE_LEFT_PX = 70;
/** Tick labels (TICK_LABEL_BAND_PX), then the findings' severity markers (FINDING_BAND_PX), then the plot. */
const TICK_LABEL_BAND_PX = 16;
export const FINDING_BAND_PX = 12;
export const CACHE_TOP_PX = TICK_LABEL_BAND_PX + FINDING_BAND_PX;
export const HIT_STRIP_PX = 34;
/** "copy_file_range" at 11 px is ~80 px wide; closer reasons would overprint. */
const REASON_LABEL_MIN_GAP_PX = 60;

/** Glyph colour per marker kind (CACHE_MARKER_KINDS order): hit, miss, upsert, inval, stale, drop. */
export const MARKER_STYLE = [
  { label: 'hit', colour: '#009E73', glyph: '●' },
  { label: 'miss', colour: '#D55E00', glyph: '✕' },
  { label: 'upsert', colour: '#0072B2', glyph: '▲' },
  { label: 'invalidate', colour: '#CC79A7', glyph: '│' },
  { label: 'stale cookie', colour: '#E69F00', glyph: '◆' },
  { label: 'drop fork', colour: '#000000', glyph: '■' },
] as const;

interface CacheDrawOptions {
  /** The theme's colours (render/palette.ts paletteFor). */
  palette: Palette;
  widthPx: number;
  plotHeightPx: number;
  ticks: Tick[];
  cursorXPx: number;
  hatch: (colour: string) => string | CanvasPattern;
  /** The mapping type's mark (palette.ts `Mark`) for a palette index, drawn over solid extents. */
  mark?: (paletteIdx: number) => string | CanvasPattern | null;
  yLabels: { yPx: number; label: string }[];
}

export function drawCache(ctx: CacheCanvas, m: CacheModel, o: CacheDrawOptions): number {
  let n = 0;
  const L = CACHE_LEFT_PX;
  const T = CACHE_TOP_PX;
  const H = o.plotHeightPx;
  const chrome = o.palette.chrome;
  ctx.fillStyle = chrome.background;
  ctx.fillRect(0, 0, o.widthPx, T + H + HIT_STRIP_PX + 6); // the whole canvas: it is opaque (alpha: false)
  ctx.fillStyle = chrome.laneStripe;
  ctx.fillRect(L, T, m.scale.widthPx, H);
  ctx.font = '10px system-ui, sans-serif';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = chrome.laneLabelMuted;
  ctx.textAlign = 'left';
  for (const t of o.ticks) {
    ctx.fillStyle = chrome.separator;
    ctx.fillRect(L + t.xPx, T, 1, H);
    ctx.fillStyle = chrome.laneLabelMuted;
    ctx.fillText(t.label, L + t.xPx + 3, TICK_LABEL_BAND_PX / 2);
    n += 2;
  }
  ctx.textAlign = 'right';
  for (const y of o.yLabels) { ctx.fillText(y.label, L - 4, T + y.yPx); n++; }
  ctx.save();
  ctx.beginPath();
  ctx.rect(L, T, m.scale.widthPx, H + HIT_STRIP_PX);
  ctx.clip();
  for (const r of m.rects) {
    const palIdx = mapTypePaletteIdx(r.mapType);
    const colour = o.palette.colours[palIdx]!;
    ctx.fillStyle = r.hatched ? o.hatch(colour) : colour;
    ctx.globalAlpha = r.fork === 'write' ? 0.85 : 0.7;
    ctx.fillRect(L + r.xPx, T + r.yPx, r.widthPx, r.heightPx);
    ctx.globalAlpha = 1;
    const mark = r.hatched ? null : o.mark?.(palIdx);
    if (mark) { ctx.fillStyle = mark; ctx.fillRect(L + r.xPx, T + r.yPx, r.widthPx, r.heightPx); n++; }
    if (r.fork === 'write') { ctx.strokeStyle = '#1b2430'; ctx.lineWidth = 1; ctx.strokeRect(L + r.xPx + 0.5, T + r.yPx + 0.5, r.widthPx - 1, r.heightPx - 1); n++; }
    n++;
  }
  ctx.textAlign = 'center';
  ctx.font = '11px system-ui, sans-serif';
  let lastLabelXPx = -Infinity;
  for (const p of m.markers) {
    const s = MARKER_STYLE[p.kind]!;
    ctx.fillStyle = s.colour;
    if (s.label === 'invalidate' || s.label === 'drop fork') {
      ctx.fillRect(L + p.xPx - 1, T, 2, H);
      // Reasons are labelled only where they do not overprint the previous one.
      if (p.label && p.xPx - lastLabelXPx > REASON_LABEL_MIN_GAP_PX) {
        ctx.fillText(p.label, L + p.xPx, T + H - 6);
        lastLabelXPx = p.xPx;
        n++;
      }
    } else {
      ctx.fillText(p.count > 1 ? `${s.glyph}${p.count}` : s.glyph, L + p.xPx, T + Math.min(Math.max(p.yPx, 6), H - 6));
    }
    n++;
  }
  // Hit-rate strip: bar height = hit fraction; grey baseline where nothing was looked up.
  const stripTop = T + H + 4;
  for (let i = 0; i < m.hitRate.length; i++) {
    const r = m.hitRate[i]!;
    if (Number.isNaN(r)) continue;
    const hPx = Math.max(1, r * (HIT_STRIP_PX - 6));
    ctx.fillStyle = '#D55E00';
    ctx.fillRect(L + i * m.bucketWidthPx, stripTop, m.bucketWidthPx - 1, HIT_STRIP_PX - 6);
    ctx.fillStyle = '#009E73';
    ctx.fillRect(L + i * m.bucketWidthPx, stripTop + (HIT_STRIP_PX - 6) - hPx, m.bucketWidthPx - 1, hPx);
    n += 2;
  }
  if (o.cursorXPx >= 0) { ctx.fillStyle = chrome.selection; ctx.fillRect(L + o.cursorXPx, T, 1, H + HIT_STRIP_PX); n++; }
  ctx.restore();
  ctx.textAlign = 'right';
  ctx.fillStyle = chrome.laneLabelMuted;
  ctx.font = '10px system-ui, sans-serif';
  ctx.fillText('hit rate', L - 4, stripTop + HIT_STRIP_PX / 2 - 3);
  return n + 1;
}

/**
 * The findings' severity markers (triangles in the band above the plot, the shown one outlined) and
 * the shown finding's cache evidence: a ring around each event's glyph, a full-height outline for
 * an invalidation or a drop. Returns the primitive count.
 */
export function drawCacheFindings(ctx: CacheCanvas, m: CacheModel, marks: readonly FindingMark[], evidence: readonly CacheEvidenceMark[],
  selected: Finding | null, palette: Palette): number {
  const L = CACHE_LEFT_PX;
  const T = CACHE_TOP_PX;
  const H = m.plotHeightPx;
  const chrome = palette.chrome;
  let n = 0;
  ctx.save();
  ctx.beginPath();
  ctx.rect(L - 6, TICK_LABEL_BAND_PX, m.scale.widthPx + 12, FINDING_BAND_PX + H);
  ctx.clip();
  for (const mk of marks) {
    const x = L + mk.xPx;
    drawSeverityTriangle(ctx, chrome, mk.severity, x, TICK_LABEL_BAND_PX + 1, T - 1, 5, sameFinding(mk.finding, selected));
    n++;
  }
  ctx.strokeStyle = chrome.evidence;
  ctx.lineWidth = 2.5;
  for (const e of evidence) {
    const x = L + e.xPx;
    if (Number.isNaN(e.yPx)) ctx.strokeRect(x - 3, T, 6, H);
    else {
      ctx.beginPath();
      ctx.arc(x, T + Math.min(Math.max(e.yPx, 6), H - 6), 8, 0, 2 * Math.PI);
      ctx.stroke();
    }
    n++;
  }
  ctx.restore();
  return n;
}
