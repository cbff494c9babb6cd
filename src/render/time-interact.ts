// Pointer interaction shared by the secondary time-based canvases (locks, cache, alias
// mini-timelines): wheel zooms around the pointer, drag pans, and the time under the pointer is
// reported as the linked cursor. The range itself lives in the app store (one range for all
// views); this only turns gestures into new ranges.
//
//   canvas x: [0, plotLeftPx) labels | [plotLeftPx, plotLeftPx + widthPx) plot (TimeScale xPx 0…)

import type { TimeScale } from './time-scale.ts';

/** One wheel notch (deltaY ≈ 100) zooms by ~18%, like the main timeline's d3-zoom. */
export const WHEEL_ZOOM_PER_DELTA = 0.002;
/** Movement below this is a click, not a drag. */
export const CLICK_SLOP_PX = 3;

export interface TimeInteractOptions {
  canvas: HTMLCanvasElement;
  /** The scale the canvas was last drawn with (null before the first draw). */
  scale(): TimeScale | null;
  plotLeftPx: number;
  setRange(startNs: number, endNs: number): void;
  setCursor(tsNs: number): void;
  /** A click that was not a drag, in canvas CSS px. */
  onClick(xPx: number, yPx: number): void;
  onHover?(xPx: number, yPx: number): void;
  onLeave?(): void;
}

/** Installs the listeners; returns the cleanup. */
export function attachTimeInteraction(o: TimeInteractOptions): () => void {
  const c = o.canvas;
  let dragFromPx = -1;
  let dragScale: TimeScale | null = null;
  let moved = false;
  const onWheel = (e: WheelEvent): void => {
    const s = o.scale();
    if (!s || e.offsetX < o.plotLeftPx) return;
    e.preventDefault();
    const z = s.zoomedAt(e.offsetX - o.plotLeftPx, Math.exp(e.deltaY * WHEEL_ZOOM_PER_DELTA));
    o.setRange(z.startNs, z.endNs);
  };
  const onDown = (e: MouseEvent): void => {
    if (e.button !== 0) return;
    dragFromPx = e.offsetX;
    dragScale = o.scale();
    moved = false;
  };
  const onMove = (e: MouseEvent): void => {
    const s = o.scale();
    if (s && e.offsetX >= o.plotLeftPx) o.setCursor(s.pxToNs(e.offsetX - o.plotLeftPx));
    if (dragFromPx >= 0 && dragScale) {
      const dx = e.offsetX - dragFromPx;
      if (Math.abs(dx) > CLICK_SLOP_PX) moved = true;
      if (moved) {
        const p = dragScale.pannedBy(-dx);
        o.setRange(p.startNs, p.endNs);
      }
      return;
    }
    o.onHover?.(e.offsetX, e.offsetY);
  };
  const onUp = (e: MouseEvent): void => {
    if (dragFromPx >= 0 && !moved) o.onClick(e.offsetX, e.offsetY);
    dragFromPx = -1;
    dragScale = null;
  };
  const onLeave = (): void => {
    dragFromPx = -1;
    o.setCursor(Number.NaN);
    o.onLeave?.();
  };
  c.addEventListener('wheel', onWheel, { passive: false });
  c.addEventListener('mousedown', onDown);
  c.addEventListener('mousemove', onMove);
  c.addEventListener('mouseup', onUp);
  c.addEventListener('mouseleave', onLeave);
  return () => {
    c.removeEventListener('wheel', onWheel);
    c.removeEventListener('mousedown', onDown);
    c.removeEventListener('mousemove', onMove);
    c.removeEventListener('mouseup', onUp);
    c.removeEventListener('mouseleave', onLeave);
  };
}
