// A span whose start or end the trace does not show is drawn fading towards that end, so it
// never reads as a bar that starts or stops there (timeline, locks and aliases views). Which ends
// fade is decided here from the span's flags, once for every view.

import { SpanFlag } from '../trace/spans.ts';

/** A hold inferred from contention is drawn this wide in every view: its start is known, its end is not. */
export const INFERRED_STUB_PX = 14;

/** Which end of a span the trace does not show (bits). */
export const Edge = { openEnd: 1, begunBefore: 2, untimed: 4 } as const;

/**
 * The Edge bits of a span from its SpanFlag bits: a start before the trace fades; an open span's
 * end fades when the trace will never show it (open-ended, or a hold inferred from contention).
 * An open span with neither flag is a live span still running: drawn to now, not faded.
 */
export function fadedEdges(spanFlags: number, open: boolean): number {
  if (spanFlags === 0) return 0;
  let edge = spanFlags & SpanFlag.begunBefore ? Edge.begunBefore : 0;
  if (open && (spanFlags & (SpanFlag.openEnded | SpanFlag.inferredHold)) !== 0) edge |= Edge.openEnd;
  // Not a fade: its ends are events, but their times are unknown (drawn outlined, dashed).
  if (spanFlags & SpanFlag.untimed) edge |= Edge.untimed;
  return edge;
}

/** An open hold inferred from contention is drawn INFERRED_STUB_PX long from its start, not to now. */
export function isInferredStub(spanFlags: number, open: boolean): boolean {
  return open && (spanFlags & SpanFlag.inferredHold) !== 0;
}

/** The few Canvas2D members fillFaded uses. */
type FadeCanvas = Pick<CanvasRenderingContext2D, 'fillRect' | 'globalAlpha'>;

/** An end the trace does not show fades out over this many px, in FADE_STEPS steps. */
const FADE_PX = 16;
const FADE_STEPS = 4;

/**
 * Fills a span whose end(s) the trace does not show: solid in the middle, fading out in steps
 * towards each unknown end (Edge bits), so it never reads as a bar that ends there. Returns the
 * fills issued.
 */
export function fillFaded(ctx: FadeCanvas, xPx: number, yPx: number, widthPx: number, heightPx: number, edge: number): number {
  const sides = (edge & Edge.openEnd ? 1 : 0) + (edge & Edge.begunBefore ? 1 : 0);
  const fadePx = sides === 0 ? 0 : Math.min(FADE_PX, widthPx / sides);
  const stepPx = fadePx / FADE_STEPS;
  let n = 0;
  const solidFrom = edge & Edge.begunBefore ? xPx + fadePx : xPx;
  const solidTo = edge & Edge.openEnd ? xPx + widthPx - fadePx : xPx + widthPx;
  if (solidTo > solidFrom) { ctx.fillRect(solidFrom, yPx, solidTo - solidFrom, heightPx); n++; }
  const alpha0 = ctx.globalAlpha;
  for (let i = 0; i < FADE_STEPS; i++) {
    ctx.globalAlpha = alpha0 * (1 - (i + 1) / (FADE_STEPS + 1));
    if (edge & Edge.openEnd) { ctx.fillRect(solidTo + i * stepPx, yPx, stepPx, heightPx); n++; }
    if (edge & Edge.begunBefore) { ctx.fillRect(solidFrom - (i + 1) * stepPx, yPx, stepPx, heightPx); n++; }
  }
  ctx.globalAlpha = alpha0;
  return n;
}
