// Canvas sizing: the backing store is in device px (CSS px × devicePixelRatio), the context is
// scaled once, and every draw call afterwards is in CSS px ([FP] components/shared/chart/Canvas.tsx).

import { LOCK_WAIT_IDX, type Mark, type Palette } from './palette.ts';

/** Resizes `canvas` to cssWidthPx × cssHeightPx CSS px; returns its 2D context scaled to CSS px. */
export function sizeCanvas(
  canvas: HTMLCanvasElement,
  cssWidthPx: number,
  cssHeightPx: number,
  dpr: number = globalThis.devicePixelRatio || 1,
): CanvasRenderingContext2D {
  const widthDevPx = Math.max(1, Math.round(cssWidthPx * dpr));
  const heightDevPx = Math.max(1, Math.round(cssHeightPx * dpr));
  if (canvas.width !== widthDevPx) canvas.width = widthDevPx;
  if (canvas.height !== heightDevPx) canvas.height = heightDevPx;
  // Only on a change: even an equal style write may invalidate style, and this runs every frame.
  const widthCss = `${cssWidthPx}px`;
  const heightCss = `${cssHeightPx}px`;
  if (canvas.style.width !== widthCss) canvas.style.width = widthCss;
  if (canvas.style.height !== heightCss) canvas.style.height = heightCss;
  const ctx = canvas.getContext('2d', { alpha: false });
  if (!ctx) throw new Error('canvas: 2d context unavailable');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** A diagonal-stripe fill (e.g. lock waits), built once per context. */
function makeHatchPattern(
  ctx: CanvasRenderingContext2D,
  stripe: string,
  background: string,
  periodPx = 6,
): CanvasPattern | string {
  const tile = document.createElement('canvas');
  tile.width = periodPx;
  tile.height = periodPx;
  const t = tile.getContext('2d');
  if (!t) return stripe;
  t.fillStyle = background;
  t.fillRect(0, 0, periodPx, periodPx);
  t.strokeStyle = stripe;
  t.lineWidth = 1.5;
  t.beginPath();
  t.moveTo(0, periodPx);
  t.lineTo(periodPx, 0);
  t.moveTo(-1, 1);
  t.lineTo(1, -1);
  t.moveTo(periodPx - 1, periodPx + 1);
  t.lineTo(periodPx + 1, periodPx - 1);
  t.stroke();
  return ctx.createPattern(tile, 'repeat') ?? stripe;
}

/** Period of a mark tile, px: small enough to show on a 4 px wide span. */
const MARK_TILE_PX = 4;

/**
 * A transparent tile with the mark's ink, as a repeating pattern drawn over a span's colour
 * (palette.ts `Mark`; the legend shows the same marks with CSS).
 */
function makeMarkPattern(ctx: CanvasRenderingContext2D, mark: Mark, ink: string): CanvasPattern | null {
  const n = MARK_TILE_PX;
  const tile = document.createElement('canvas');
  tile.width = n;
  tile.height = n;
  const t = tile.getContext('2d');
  if (!t) return null;
  t.fillStyle = ink;
  t.strokeStyle = ink;
  t.lineWidth = 1;
  switch (mark) {
    case 'dots': t.fillRect(1, 1, 1, 1); break;
    case 'hstripes': t.fillRect(0, 0, n, 1); break;
    case 'vstripes': t.fillRect(0, 0, 1, n); break;
    case 'grid': t.fillRect(0, 0, n, 1); t.fillRect(0, 1, 1, n - 1); break;
    case 'checker': t.fillRect(0, 0, n / 2, n / 2); t.fillRect(n / 2, n / 2, n / 2, n / 2); break;
    case 'diagonal':
      for (let i = 0; i < n; i++) t.fillRect(i, n - 1 - i, 1, 1);
      break;
    case 'cross':
      for (let i = 0; i < n; i++) { t.fillRect(i, n - 1 - i, 1, 1); t.fillRect(i, i, 1, 1); }
      break;
  }
  return ctx.createPattern(tile, 'repeat');
}

/**
 * The pattern fills one canvas draws a palette with: the lock-wait hatch, the mapping-type marks
 * and any hatched colour. Built on first use and again only when the context or the palette (the
 * theme) changes, never per frame; the palette itself is never touched.
 */
export class PaletteFills {
  private ctx: CanvasRenderingContext2D | null = null;
  private palette: Palette | null = null;
  private waitFill: string | CanvasPattern = '';
  private markFills: ReadonlyArray<CanvasPattern | null> = [];
  private readonly hatches = new Map<string, string | CanvasPattern>();

  /** Fills for `palette` on `ctx` (rebuilt if either changed since the last call). */
  use(ctx: CanvasRenderingContext2D, palette: Palette): this {
    if (ctx !== this.ctx || palette !== this.palette) {
      this.ctx = ctx;
      this.palette = palette;
      this.hatches.clear();
      this.waitFill = makeHatchPattern(ctx, palette.colours[LOCK_WAIT_IDX]!, palette.chrome.hatchBackground);
      this.markFills = palette.entries.map((p) => (p.mark ? makeMarkPattern(ctx, p.mark, palette.markInk) : null));
    }
    return this;
  }

  /** Lock waits: the palette's wait colour in stripes over the theme's hatch background. */
  get lockWait(): string | CanvasPattern { return this.waitFill; }

  /** Per palette index, the mapping type's mark pattern, or null (solid). */
  get marks(): ReadonlyArray<CanvasPattern | null> { return this.markFills; }

  /** `colour` in stripes of `periodPx` over the theme's hatch background. */
  hatch(colour: string, periodPx = 6): string | CanvasPattern {
    const key = `${colour}/${periodPx}`;
    let fill = this.hatches.get(key);
    if (fill === undefined) {
      if (!this.ctx || !this.palette) throw new Error('PaletteFills.hatch before use()');
      fill = makeHatchPattern(this.ctx, colour, this.palette.chrome.hatchBackground, periodPx);
      this.hatches.set(key, fill);
    }
    return fill;
  }
}
