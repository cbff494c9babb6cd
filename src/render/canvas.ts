// Canvas sizing: the backing store is in device px (CSS px × devicePixelRatio), the context is
// scaled once, and every draw call afterwards is in CSS px ([FP] components/shared/chart/Canvas.tsx).

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
  canvas.style.width = `${cssWidthPx}px`;
  canvas.style.height = `${cssHeightPx}px`;
  const ctx = canvas.getContext('2d', { alpha: false });
  if (!ctx) throw new Error('canvas: 2d context unavailable');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  return ctx;
}

/** A diagonal-stripe fill (e.g. lock waits), built once per context. */
export function makeHatchPattern(
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
