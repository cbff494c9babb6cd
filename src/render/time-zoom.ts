// The one pan/zoom path of every time-based canvas (timeline, locks, cache, alias mini-timelines):
// d3-zoom turns wheel, drag and touch into transforms; we turn each step of a gesture into a new
// view range of the app's one shared range. WASD (the timeline's keys) go the same way.
//
//   canvas x: [0, plotLeftPx) labels | [plotLeftPx, plotLeftPx + plotWidthPx) plot (xPx 0…)
//
// A gesture step is the affine map x' = a·x + b of plot px since the last step (a = zoom factor,
// b = shift); the range that map brings into [0, plotWidthPx] is the new range. d3's accumulated
// transform is reset when the last gesture under way ends, so the app's range stays the only state and k
// never drifts. Range changes run as scheduler actions: before the frame's redraws.

import { zoom, zoomIdentity, type D3ZoomEvent, type ZoomBehavior, type ZoomTransform } from 'd3-zoom';
import { select, type Selection } from 'd3-selection';
import { shortcutAction } from './shortcuts.ts';

/** Movement up to this (CSS px) between press and release is a click, not a drag: no pan, the click selects. */
const CLICK_SLOP_PX = 3;
/**
 * Wheel zoom of the secondary canvases: one notch (deltaY ≈ 100) changes the range by
 * e^(100·0.002) ≈ 1.22×. The timeline keeps d3-zoom's default (2^(100·0.002) ≈ 1.15× a notch);
 * both are kept as they were before the two paths became one.
 */
const WHEEL_ZOOM_PER_DELTA = 0.002;
/** One W/S press shows 80% / 125% of the width: with key auto-repeat (~30/s) that halves or
 *  doubles the range about 10×/s — fast across decades, still stoppable on the span you want. */
export const ZOOM_STEP_FACTOR = 0.8;
/** One A/D press moves 10% of the width: auto-repeat pans ~3 screens/s, one tap nudges. */
const PAN_STEP_FRACTION = 0.1;

/** What the interaction needs of the view host (views/host.ts ViewHost has all of it). */
interface TimeRangeHost {
  readonly viewStartNs: number;
  readonly viewEndNs: number;
  readonly scheduler: { scheduleAction(action: () => void): void };
  /** `isUser`: a gesture (turns follow-live off). */
  setRange(startNs: number, endNs: number, isUser: boolean): void;
  /** The linked cursor: the time under the pointer (NaN: none). */
  setCursor(tsNs: number): void;
}

type WheelFeel = 'timeline' | 'secondary';

interface TimeZoomOptions {
  host: TimeRangeHost;
  canvas: HTMLCanvasElement;
  plotLeftPx: number;
  /** The plot's width in CSS px as drawn now. */
  plotWidthPx(): number;
  /** Zoom per wheel notch (see WHEEL_ZOOM_PER_DELTA); default 'secondary'. */
  wheel?: WheelFeel;
  /** A click that was not a drag, in canvas CSS px. */
  onClick?(xPx: number, yPx: number, e: MouseEvent): void;
  /** The pointer moved over the canvas (not during a drag), in canvas CSS px. */
  onHover?(xPx: number, yPx: number, e: MouseEvent): void;
  onLeave?(): void;
  /**
   * WASD on the window: W/S zoom about the pointer (or, off the canvas, about fallbackAnchorPx in
   * plot px), A/D pan. Absent: no keys (only the timeline has them).
   */
  keys?: { fallbackAnchorPx(): number; isTypingTarget(target: EventTarget | null): boolean };
}

/** The d3 zoom behaviour's own state on the element (reset after each gesture). */
type ZoomedElement = HTMLCanvasElement & { __zoom?: ZoomTransform };

export class TimeZoom {
  private lastTransform: ZoomTransform = zoomIdentity;
  /** d3 gestures under way: a wheel gesture ends 150 ms after its last notch, so a drag can start
   *  inside it; d3's transform is reset only when the last one ends, or the drag would jump. */
  private activeGestures = 0;
  /** Client position where a mouse drag began; NaN when no drag is under way. */
  private pressXPx = Number.NaN;
  private pressYPx = Number.NaN;
  /** The drag went beyond CLICK_SLOP_PX: from then on it pans. */
  private dragging = false;
  /** Pointer x in plot px while over the canvas, else -1 (the W/S anchor). */
  pointerPlotXPx = -1;
  private readonly selection: Selection<HTMLCanvasElement, unknown, null, undefined>;
  private readonly disposers: (() => void)[] = [];

  constructor(private readonly o: TimeZoomOptions) {
    const c = o.canvas;
    const behaviour: ZoomBehavior<HTMLCanvasElement, unknown> = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([0, Infinity])
      .clickDistance(CLICK_SLOP_PX)
      // Wheel over the labels is left to the page (the timeline's lanes scroll); modified or
      // non-primary presses are the view's own (the timeline's shift-drag selects an area).
      .filter((e: Event) => {
        const me = e as MouseEvent;
        if (e.type === 'wheel') return me.offsetX >= o.plotLeftPx;
        return !me.ctrlKey && !me.shiftKey && !me.button;
      })
      .on('start', (ev: D3ZoomEvent<HTMLCanvasElement, unknown>) => this.onStart(ev))
      .on('zoom', (ev: D3ZoomEvent<HTMLCanvasElement, unknown>) => this.onZoom(ev))
      .on('end', () => this.onEnd());
    if (o.wheel !== 'timeline') behaviour.wheelDelta((e: WheelEvent) => (-e.deltaY * WHEEL_ZOOM_PER_DELTA) / Math.LN2);
    this.selection = select(c);
    this.selection.call(behaviour).on('dblclick.zoom', null);
    this.disposers.push(() => { this.selection.on('.zoom', null); });
    this.listen(c, 'mousemove', (e) => this.onMove(e as MouseEvent));
    this.listen(c, 'mouseleave', () => this.onLeave());
    if (o.onClick) {
      const onClick = o.onClick;
      this.listen(c, 'click', (e) => { const me = e as MouseEvent; onClick(me.offsetX, me.offsetY, me); });
    }
    if (o.keys) this.listen(window, 'keydown', (e) => this.onKey(e as KeyboardEvent));
  }

  dispose(): void {
    for (const d of this.disposers.splice(0).reverse()) d();
  }

  /** Shows what the affine map x' = a·x + b (plot px) brings into [0, plotWidthPx], as an action of the next frame. */
  applyAffine(a: number, bPlotPx: number): void {
    const { host } = this.o;
    host.scheduler.scheduleAction(() => {
      const r = affineRange(host.viewStartNs, host.viewEndNs, this.o.plotWidthPx(), a, bPlotPx);
      host.setRange(r.startNs, r.endNs, true);
    });
  }

  /** Zooms by `factor` (< 1 zooms in: shows factor × the range) keeping plot x anchorPx in place. */
  zoomBy(factor: number, anchorPx: number): void {
    this.applyAffine(1 / factor, anchorPx - anchorPx / factor);
  }

  private listen(target: EventTarget, type: string, fn: (e: Event) => void): void {
    target.addEventListener(type, fn);
    this.disposers.push(() => target.removeEventListener(type, fn));
  }

  private onStart(ev: D3ZoomEvent<HTMLCanvasElement, unknown>): void {
    this.activeGestures++;
    this.lastTransform = ev.transform;
    const src = ev.sourceEvent as MouseEvent | null;
    this.dragging = false;
    if (src && src.type === 'mousedown') {
      this.pressXPx = src.clientX;
      this.pressYPx = src.clientY;
    } else {
      this.pressXPx = Number.NaN;
    }
  }

  private onZoom(ev: D3ZoomEvent<HTMLCanvasElement, unknown>): void {
    const src = ev.sourceEvent as MouseEvent | null;
    if (!src) return;
    // A mouse drag pans only once it leaves the click slop; the first step then carries the
    // whole movement since the press (lastTransform is still the press's).
    if (src.type === 'mousemove' && !Number.isNaN(this.pressXPx) && !this.dragging) {
      const dx = src.clientX - this.pressXPx;
      const dy = src.clientY - this.pressYPx;
      if (dx * dx + dy * dy <= CLICK_SLOP_PX * CLICK_SLOP_PX) return;
      this.dragging = true;
    }
    const t = ev.transform;
    const a = t.k / this.lastTransform.k;
    const b = t.x - this.lastTransform.x * a;
    this.lastTransform = t;
    if (!(a > 0) || !Number.isFinite(b)) return;
    // The map in canvas px, re-based on the plot's left edge.
    this.applyAffine(a, b + a * this.o.plotLeftPx - this.o.plotLeftPx);
  }

  private onEnd(): void {
    this.activeGestures = Math.max(0, this.activeGestures - 1);
    if (this.activeGestures > 0) return;
    (this.o.canvas as ZoomedElement).__zoom = zoomIdentity;
    this.lastTransform = zoomIdentity;
    this.pressXPx = Number.NaN;
    this.dragging = false;
  }

  private onMove(e: MouseEvent): void {
    const { host, plotLeftPx } = this.o;
    this.pointerPlotXPx = e.offsetX - plotLeftPx;
    if (this.pointerPlotXPx >= 0) {
      const widthPx = this.o.plotWidthPx();
      host.setCursor(host.viewStartNs + (this.pointerPlotXPx * (host.viewEndNs - host.viewStartNs)) / widthPx);
    }
    this.o.onHover?.(e.offsetX, e.offsetY, e);
  }

  private onLeave(): void {
    this.pointerPlotXPx = -1;
    this.o.host.setCursor(Number.NaN);
    this.o.onLeave?.();
  }

  private onKey(e: KeyboardEvent): void {
    const keys = this.o.keys;
    if (!keys || e.ctrlKey || e.metaKey || e.altKey || keys.isTypingTarget(e.target)) return;
    const widthPx = this.o.plotWidthPx();
    const anchorPx = this.pointerPlotXPx >= 0 ? this.pointerPlotXPx : keys.fallbackAnchorPx();
    switch (shortcutAction('timeline', e.key)) {
      case 'zoom-in': this.zoomBy(ZOOM_STEP_FACTOR, anchorPx); break;
      case 'zoom-out': this.zoomBy(1 / ZOOM_STEP_FACTOR, anchorPx); break;
      case 'pan-earlier': this.applyAffine(1, PAN_STEP_FRACTION * widthPx); break;
      case 'pan-later': this.applyAffine(1, -PAN_STEP_FRACTION * widthPx); break;
      default: return;
    }
    e.preventDefault();
  }
}

/**
 * The range [startNs, endNs] that the plot-px map x' = a·x + bPlotPx brings onto [0, widthPx] of
 * a plot now showing [viewStartNs, viewEndNs]: a > 1 zooms in, b > 0 shows earlier times.
 */
export function affineRange(viewStartNs: number, viewEndNs: number, widthPx: number, a: number, bPlotPx: number): { startNs: number; endNs: number } {
  const nsPerPx = (viewEndNs - viewStartNs) / widthPx;
  return {
    startNs: viewStartNs + (-bPlotPx / a) * nsPerPx,
    endNs: viewStartNs + ((widthPx - bPlotPx) / a) * nsPerPx,
  };
}
