// The one glue between a canvas view and the page's rAF scheduler: the canvas is drawn from a
// renderer the scheduler runs once per dirty frame (React never re-renders it), its box's size
// comes from a ResizeObserver (element-size.ts: no layout read in a frame), a resize marks the
// page dirty, and the backing store follows CSS size × devicePixelRatio (canvas.ts sizeCanvas).
//
//   box (CSS px, observed) ──▶ draw(surface) ──▶ surface.resize(widthPx, heightPx) ──▶ ctx in CSS px
//
// The view decides the canvas size each frame from the box (e.g. the timeline is as tall as its
// lanes), so resize is called inside draw, not here.

import { sizeCanvas } from './canvas.ts';
import { ElementSize } from './element-size.ts';

/** What the glue needs of the page's frame scheduler (views/host.ts FrameScheduler). */
export interface CanvasScheduler {
  markDirty(): void;
  /** `render` runs once per dirty frame; returns the unsubscribe. */
  addRenderer(render: () => void): () => void;
}

/** What a draw callback gets each frame. */
export interface CanvasSurface {
  readonly canvas: HTMLCanvasElement;
  /** The box's client size in CSS px, as last observed. */
  readonly boxWidthPx: number;
  readonly boxHeightPx: number;
  /** Sizes the canvas to widthPx × heightPx CSS px; returns its 2D context, scaled to CSS px. */
  resize(widthPx: number, heightPx: number): CanvasRenderingContext2D;
}

interface MountOptions {
  /** The element whose size the canvas follows (default: the canvas's parent). */
  box?: HTMLElement;
  /** Device px per CSS px, read each frame (default: the window's devicePixelRatio). */
  dpr?: () => number;
}

/**
 * Draws `canvas` with `draw` on every dirty frame of `scheduler` until the returned dispose is
 * called (which stops the renderer and the observer). Marks the page dirty once so the first
 * frame draws.
 */
export function mountCanvas(
  scheduler: CanvasScheduler,
  canvas: HTMLCanvasElement,
  draw: (surface: CanvasSurface) => void,
  opts: MountOptions = {},
): () => void {
  const box = opts.box ?? canvas.parentElement;
  if (!box) throw new Error('mountCanvas: the canvas has no box to follow (not mounted?)');
  const size = new ElementSize(box, () => scheduler.markDirty());
  const dpr = opts.dpr ?? ((): number => globalThis.devicePixelRatio || 1);
  const surface: CanvasSurface = {
    canvas,
    get boxWidthPx() { return size.widthPx; },
    get boxHeightPx() { return size.heightPx; },
    resize: (widthPx, heightPx) => sizeCanvas(canvas, widthPx, heightPx, dpr()),
  };
  const off = scheduler.addRenderer(() => draw(surface));
  scheduler.markDirty();
  let disposed = false;
  return () => {
    if (disposed) return;
    disposed = true;
    off();
    size.dispose();
  };
}
