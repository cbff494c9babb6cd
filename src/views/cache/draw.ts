// Paints a CacheModel: extents as rectangles coloured by mapping type (unwritten hatched, write
// fork outlined dashed-darker), markers as glyphs (shape per kind, so colour is not the only cue),
// and the hit-rate strip below.

import { mapTypePaletteIdx, type Palette } from '../../render/palette.ts';
import type { Tick } from '../../render/ticks.ts';
import { barSpanPx, isBarKind, layoutReasonLabels, paintOrder, type CacheModel } from './model.ts';
import type { Finding } from '../../trace/checks/types.ts';
import { sameFinding } from '../host.ts';
import { CACHE_MARKER_KINDS } from '../../trace/derive/cache.ts';
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

/**
 * Glyph per marker kind (CACHE_MARKER_KINDS order): hit, miss, upsert, inval, stale, drop, stale use.
 * `colour` 'text' / 'alarm': the theme's text or error colour (markerColour), for kinds a fixed colour
 * cannot serve on both backgrounds (a black "drop fork" was unreadable on the dark theme).
 */
export const MARKER_STYLE: readonly { label: string; colour: string; glyph: string; title: string }[] = [
  { label: 'hit', colour: '#009E73', glyph: '●', title: 'cache lookup that found a mapping (no upcall)' },
  { label: 'miss', colour: '#D55E00', glyph: '✕', title: 'cache lookup that found none: an IOMAP_BEGIN upcall follows' },
  { label: 'upsert', colour: '#0072B2', glyph: '▲', title: 'the server put a mapping in the cache' },
  { label: 'invalidate', colour: '#CC79A7', glyph: '┃', title: 'a range removed from the cache: a bar over the range, its reason under the plot' },
  { label: 'stale cookie', colour: '#E69F00', glyph: '◆', title: 'revalidation failed (cache_stale): the kernel caught a stale mapping' },
  { label: 'drop fork', colour: 'text', glyph: '■', title: 'a whole fork dropped (full-height bar)' },
  { label: 'stale mapping used', colour: 'alarm', glyph: '!', title: 'IO went through a stale mapping that nothing caught (cookie validation off; the simulator\'s oracle: stale_mapping_used)' },
];

const STALE_USE = CACHE_MARKER_KINDS.indexOf('stale_use');

/** A marker kind's colour in a theme. */
export function markerColour(kind: number, palette: Palette): string {
  const c = MARKER_STYLE[kind]!.colour;
  return c === 'text' ? palette.chrome.laneLabel : c === 'alarm' ? palette.chrome.findingError : c;
}

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
  // Back to front (paintOrder): misses and stale uses over the hits of their column.
  for (const i of paintOrder(m)) {
    const p = m.markers[i]!;
    const s = MARKER_STYLE[p.kind]!;
    ctx.fillStyle = markerColour(p.kind, o.palette);
    if (isBarKind(p.kind)) {
      const [top, bottom] = barSpanPx(p);
      // Edged in the background colour: a short bar must stand out on the extents it cuts.
      const fill = ctx.fillStyle;
      ctx.fillStyle = o.palette.chrome.background;
      ctx.fillRect(L + p.xPx - 2, T + top - 1, 4, bottom - top + 2);
      ctx.fillStyle = fill;
      ctx.fillRect(L + p.xPx - 1, T + top, 2, bottom - top);
    } else if (p.kind === STALE_USE) {
      // The evidence the plot exists for: a filled disc with a white "!", drawn last, so no hit covers it.
      const y = T + Math.min(Math.max(p.yPx, 7), H - 7);
      ctx.beginPath();
      ctx.arc(L + p.xPx, y, 6.5, 0, 2 * Math.PI);
      ctx.fill();
      ctx.fillStyle = '#ffffff';
      ctx.font = 'bold 11px system-ui, sans-serif';
      ctx.fillText('!', L + p.xPx, y + 0.5);
      if (p.count > 1) { ctx.fillStyle = markerColour(p.kind, o.palette); ctx.textAlign = 'left'; ctx.fillText(String(p.count), L + p.xPx + 8, y); ctx.textAlign = 'center'; }
      ctx.font = '11px system-ui, sans-serif';
    } else {
      ctx.fillText(p.count > 1 ? `${s.glyph}${p.count}` : s.glyph, L + p.xPx, T + Math.min(Math.max(p.yPx, 6), H - 6));
    }
    n++;
  }
  // Reasons under the plot, laid out so none overprints another (runs of one reason say their count).
  // Each on a plate of the background: they sit over extents and hatching.
  for (const l of layoutReasonLabels(m)) {
    const wPx = l.text.length * 6.5 + 4;
    ctx.globalAlpha = 0.85;
    ctx.fillStyle = o.palette.chrome.background;
    ctx.fillRect(L + l.xPx - wPx / 2, T + H - 13, wPx, 14);
    ctx.globalAlpha = 1;
    ctx.fillStyle = markerColour(CACHE_MARKER_KINDS.indexOf('inval'), o.palette);
    ctx.fillText(l.text, L + l.xPx, T + H - 6);
    n += 2;
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
