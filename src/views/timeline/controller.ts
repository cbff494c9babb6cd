// Imperative half of the timeline: owns the canvas, redraws on the page's rAF scheduler when the
// data, range, size or hover changed (React never re-renders the canvas), turns wheel/drag
// (d3-zoom) and WASD into range changes, and answers hit tests from the drawn model.

import { zoom, zoomIdentity, type ZoomTransform } from 'd3-zoom';
import { select } from 'd3-selection';
import { SpanKind, type SpanKindName } from '../../trace/spans.ts';
import { makeHatchPattern, makeMarkPattern, sizeCanvas } from '../../render/canvas.ts';
import { ElementSize } from '../../render/element-size.ts';
import { CHROME, MARK_INK, PALETTE } from '../../render/palette.ts';
import { NO_HOVER, type ViewHost } from '../host.ts';
import { registerProbe, type ViewProbe } from '../probes.ts';
import { buildTimelineModel, hitTest, type TimelineModel } from './model.ts';
import { drawTimeline } from './draw.ts';
import { spanMatcher, type SpanMatcher } from './filter.ts';
import { drawAxis } from './axis.ts';
import { LABEL_WIDTH_PX, SUBROW_HEIGHT_PX, contentHeightPx, rowAtPx, subrowTopPx } from './layout.ts';
import { isTypingTarget } from '../../widgets/keys.ts';
import { relativesOf } from '../../trace/derive/relatives.ts';
import { flowSegments, type FlowSegment } from './flows.ts';
import { linkOfSpan, linkedPrims } from './linked.ts';

/** One W/S press shows 80% / 125% of the width: with key auto-repeat (~30/s) that halves or
 *  doubles the range about 10×/s — fast across decades, still stoppable on the span you want. */
export const ZOOM_STEP_FACTOR = 0.8;
/** One A/D press moves 10% of the width: auto-repeat pans ~3 screens/s, one tap nudges. */
export const PAN_STEP_FRACTION = 0.1;
/** findSpan only offers spans this wide, so a test's click cannot land on a neighbour. */
const FIND_MIN_WIDTH_PX = 3;

export interface TimelineElements {
  scroll: HTMLDivElement;
  canvas: HTMLCanvasElement;
  axis: SVGSVGElement;
}

export interface TimelineOptions {
  /** WASD on the window (default true). A/B compare gives the keys to one of its two timelines:
   *  the sides share one range, so both handling a key would zoom twice. */
  keyboard?: boolean;
}

export class TimelineController implements ViewProbe {
  private model: TimelineModel | null = null;
  private modelKey = '';
  private ctx: CanvasRenderingContext2D | null = null;
  private lockWaitFill: string | CanvasPattern = PALETTE[0]!.colour;
  private markFills: Array<CanvasPattern | null> = [];
  private matcher: SpanMatcher | null = null;
  private matcherKey = '';
  private sizeKey = '';
  private readonly scrollSize: ElementSize;
  private scrollTopPx = 0;
  /** Pointer x in plot px while over the canvas (zoom anchor for W/S), else -1. */
  private pointerPlotXPx = -1;
  private lastTransform: ZoomTransform = zoomIdentity;
  /** Shift-drag start in plot px, or NaN. */
  private areaDragFromPx = Number.NaN;
  private flows: FlowSegment[] = [];
  private flowsKey = '';
  private readonly disposers: (() => void)[] = [];

  constructor(private readonly host: ViewHost, private readonly el: TimelineElements, opts: TimelineOptions = {}) {
    this.disposers.push(host.scheduler.addRenderer(() => this.render()));
    this.scrollSize = new ElementSize(el.scroll, () => host.scheduler.markDirty());
    this.disposers.push(() => this.scrollSize.dispose());
    // scrollTop is kept from scroll events too: reading it in a frame forces layout (element-size.ts).
    this.scrollTopPx = el.scroll.scrollTop;
    this.listen(el.scroll, 'scroll', () => { this.scrollTopPx = el.scroll.scrollTop; host.scheduler.markDirty(); });
    this.listen(el.canvas, 'mousemove', (e) => this.onPointer(e as MouseEvent));
    this.listen(el.canvas, 'mouseleave', () => { this.pointerPlotXPx = -1; host.setHover(NO_HOVER); host.setCursor(Number.NaN); host.setHoverLink(-1, 0); });
    this.listen(el.canvas, 'click', (e) => this.onClick(e as MouseEvent));
    this.listen(el.canvas, 'mousedown', (e) => this.onAreaStart(e as MouseEvent));
    this.listen(window, 'mouseup', () => { this.areaDragFromPx = Number.NaN; });
    if (opts.keyboard !== false) this.listen(window, 'keydown', (e) => this.onKey(e as KeyboardEvent));
    this.installZoom();
    this.disposers.push(registerProbe(host, 'timeline', this));
  }

  dispose(): void {
    for (const d of this.disposers.splice(0).reverse()) d();
  }

  private listen(target: EventTarget, type: string, fn: (e: Event) => void): void {
    target.addEventListener(type, fn);
    this.disposers.push(() => target.removeEventListener(type, fn));
  }

  private plotWidthPx(): number {
    return Math.max(1, this.scrollSize.widthPx - LABEL_WIDTH_PX);
  }

  // --- drawing -------------------------------------------------------------------------------

  private render(): void {
    const h = this.host;
    const widthPx = Math.max(LABEL_WIDTH_PX + 1, this.scrollSize.widthPx);
    const plotWidthPx = widthPx - LABEL_WIDTH_PX;
    const key = `${h.traceGeneration}:${h.spans.version}:${h.trace.version}:${h.viewStartNs}:${h.viewEndNs}:${plotWidthPx}:${h.gaps.length}:${h.pinnedTasks.join(',')}`;
    if (key !== this.modelKey || !this.model) {
      this.model = buildTimelineModel(h.spans, h.trace, h.viewStartNs, h.viewEndNs, plotWidthPx, h.gaps, h.pinnedTasks);
      this.modelKey = key;
    }
    const model = this.model;
    const heightPx = Math.max(contentHeightPx(model.lanes.length), this.scrollSize.heightPx);
    const sizeKey = `${widthPx}x${heightPx}@${devicePixelRatio}:${CHROME.hatchBackground}`;
    if (sizeKey !== this.sizeKey || !this.ctx) {
      this.ctx = sizeCanvas(this.el.canvas, widthPx, heightPx);
      this.lockWaitFill = makeHatchPattern(this.ctx, PALETTE.find((p) => p.hatched)!.colour, CHROME.hatchBackground);
      const ctx = this.ctx;
      this.markFills = PALETTE.map((p) => (p.mark ? makeMarkPattern(ctx, p.mark, MARK_INK) : null));
      this.sizeKey = sizeKey;
    }
    const topPx = this.scrollTopPx;
    const stats = drawTimeline(this.ctx, model, {
      canvasWidthPx: widthPx,
      canvasHeightPx: heightPx,
      visibleTopPx: topPx,
      visibleBottomPx: topPx + this.scrollSize.heightPx,
      hoverSpanId: h.hover.spanId,
      selectedSpanId: h.selectedSpanId,
      lockWaitFill: this.lockWaitFill,
      markFills: this.markFills,
      isDimmed: this.dimmer(),
    });
    this.drawOverlay(this.ctx, model, topPx, heightPx);
    drawAxis(this.el.axis, model.scale, LABEL_WIDTH_PX, model.gaps, h.axisOriginNs ?? 0);
    h.reportDraw(stats);
  }

  /** Area selection band and the selected span's flow arrows, over the spans. */
  /** With a search query: spans it does not match are drawn faint (memoized per query and trace). */
  private dimmer(): ((spanId: number) => boolean) | undefined {
    const h = this.host;
    const key = `${h.query}:${h.traceGeneration}:${h.trace.length}`;
    if (key !== this.matcherKey) {
      this.matcher = spanMatcher(h.spans, h.trace, h.query);
      this.matcherKey = key;
    }
    const m = this.matcher;
    return m ? (id) => !m(id) : undefined;
  }

  private drawOverlay(ctx: CanvasRenderingContext2D, model: TimelineModel, topPx: number, heightPx: number): void {
    const h = this.host;
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_WIDTH_PX, 0, model.scale.widthPx, heightPx);
    ctx.clip();
    if (!Number.isNaN(h.areaFromNs)) {
      const x0 = model.scale.nsToPx(h.areaFromNs);
      const x1 = model.scale.nsToPx(h.areaToNs);
      ctx.fillStyle = CHROME.areaFill;
      ctx.fillRect(LABEL_WIDTH_PX + x0, topPx, Math.max(1, x1 - x0), this.scrollSize.heightPx);
      ctx.fillStyle = CHROME.areaEdge;
      ctx.fillRect(LABEL_WIDTH_PX + x0, topPx, 1, this.scrollSize.heightPx);
      ctx.fillRect(LABEL_WIDTH_PX + x1, topPx, 1, this.scrollSize.heightPx);
    }
    // Replay: what lies after the playhead is not revealed yet — veiled, with the playhead line.
    if (Number.isFinite(h.playheadNs) && h.playheadNs < model.scale.endNs) {
      const xPx = Math.max(0, model.scale.nsToPx(h.playheadNs));
      ctx.fillStyle = CHROME.unrevealed;
      ctx.fillRect(LABEL_WIDTH_PX + xPx, topPx, model.scale.widthPx - xPx, this.scrollSize.heightPx);
      ctx.fillStyle = CHROME.gapEdge;
      ctx.fillRect(LABEL_WIDTH_PX + xPx - 1, topPx, 2, this.scrollSize.heightPx);
    }
    // A/B compare: the alignment marker (dashed) and the shared cursor, which may come from the other side.
    const visibleHeightPx = this.scrollSize.heightPx;
    if (h.markerNs !== undefined && Number.isFinite(h.markerNs)) {
      const xPx = LABEL_WIDTH_PX + model.scale.nsToPx(h.markerNs);
      ctx.fillStyle = CHROME.areaEdge;
      for (let y = topPx; y < topPx + visibleHeightPx; y += 8) ctx.fillRect(xPx - 0.5, y, 1.5, 4);
    }
    if (h.cursorLine && Number.isFinite(h.cursorNs)) {
      ctx.fillStyle = CHROME.hover;
      ctx.fillRect(LABEL_WIDTH_PX + model.scale.nsToPx(h.cursorNs) - 0.5, topPx, 1, visibleHeightPx);
    }
    // Spans of the lock / inode hovered in another view.
    const linked = linkedPrims(h, model, h.hoverLockIdx, h.hoverIno);
    if (linked.length) {
      ctx.strokeStyle = CHROME.hover;
      ctx.lineWidth = 1.5;
      const p = model.prims;
      for (const i of linked) {
        ctx.strokeRect(LABEL_WIDTH_PX + p.xPx[i]! - 0.5, subrowTopPx(p.laneRow[i]!, p.subrow[i]!) + 0.5, Math.max(1, p.widthPx[i]!) + 1, SUBROW_HEIGHT_PX - 2);
      }
    }
    const sel = h.selectedSpanId;
    const fk = `${this.modelKey}:${sel}:${h.derivedVersion}`;
    if (fk !== this.flowsKey) {
      this.flowsKey = fk;
      this.flows = sel >= 0 && sel < h.spans.count ? flowSegments(model, h.spans, h.trace, sel, relativesOf(h, sel, -1)) : [];
    }
    if (this.flows.length) {
      ctx.strokeStyle = CHROME.flow;
      ctx.fillStyle = CHROME.flow;
      ctx.lineWidth = 1.5;
      for (const f of this.flows) {
        const x0 = LABEL_WIDTH_PX + f.x0Px;
        const x1 = LABEL_WIDTH_PX + f.x1Px;
        ctx.beginPath();
        ctx.moveTo(x0, f.y0Px);
        ctx.bezierCurveTo((x0 + x1) / 2, f.y0Px, (x0 + x1) / 2, f.y1Px, x1, f.y1Px);
        ctx.stroke();
        ctx.beginPath();
        ctx.arc(x1, f.y1Px, 2.5, 0, 2 * Math.PI);
        ctx.fill();
      }
    }
    ctx.restore();
  }

  // --- pointer -------------------------------------------------------------------------------

  private onAreaStart(e: MouseEvent): void {
    if (!e.shiftKey || e.button !== 0 || !this.model) return;
    this.areaDragFromPx = e.offsetX - LABEL_WIDTH_PX;
    const t = this.model.scale.pxToNs(this.areaDragFromPx);
    this.host.setArea(t, t);
  }

  private hit(e: MouseEvent): number {
    if (!this.model) return -1;
    const xPx = e.offsetX - LABEL_WIDTH_PX;
    const row = rowAtPx(e.offsetY, this.model.lanes.length);
    if (xPx < 0 || !row) return -1;
    return hitTest(this.model, xPx, row.laneRow, row.subrow);
  }

  private onPointer(e: MouseEvent): void {
    this.pointerPlotXPx = e.offsetX - LABEL_WIDTH_PX;
    if (!Number.isNaN(this.areaDragFromPx) && this.model) {
      const s = this.model.scale;
      this.host.setArea(s.pxToNs(this.areaDragFromPx), s.pxToNs(this.pointerPlotXPx));
      return;
    }
    if (this.model && this.pointerPlotXPx >= 0) this.host.setCursor(this.model.scale.pxToNs(this.pointerPlotXPx));
    const i = this.hit(e);
    if (i < 0 || !this.model) {
      this.host.setHover(NO_HOVER);
      this.host.setHoverLink(-1, 0);
      return;
    }
    const p = this.model.prims;
    const link = linkOfSpan(this.host, p.spanId[i]!);
    // Only locks link outward: an inode is on almost every span, so hovering one would light up all.
    this.host.setHoverLink(link.lockIdx, 0);
    this.host.setHover({ spanId: p.spanId[i]!, mergedCount: p.mergedCount[i]!, paletteIdx: p.paletteIdx[i]!, clientXPx: e.clientX, clientYPx: e.clientY });
  }

  private onClick(e: MouseEvent): void {
    if (e.shiftKey) return; // the end of an area drag
    if (e.offsetX < LABEL_WIDTH_PX && this.model) {
      // A click on a lane label pins the lane to the top (again: unpins it).
      const row = rowAtPx(e.offsetY, this.model.lanes.length);
      if (row) this.host.togglePin(this.model.lanes[row.laneRow]!.task);
      return;
    }
    const i = this.hit(e);
    this.host.select(i >= 0 && this.model ? this.model.prims.spanId[i]! : -1);
  }

  // --- zoom and pan --------------------------------------------------------------------------

  private installZoom(): void {
    const behaviour = zoom<HTMLCanvasElement, unknown>()
      .scaleExtent([0, Infinity])
      // Wheel over the lane labels scrolls the lanes instead of zooming time.
      .filter((e: Event) => {
        const me = e as MouseEvent;
        if (e.type === 'wheel') return me.offsetX >= LABEL_WIDTH_PX;
        return !me.ctrlKey && !me.shiftKey && !me.button;
      })
      .on('start', (ev: { transform: ZoomTransform }) => { this.lastTransform = ev.transform; })
      .on('zoom', (ev: { transform: ZoomTransform; sourceEvent: Event | null }) => {
        if (!ev.sourceEvent) return;
        // The gesture since the last event is the affine map x' = a·x + b in canvas px.
        const t = ev.transform;
        const a = t.k / this.lastTransform.k;
        const b = t.x - this.lastTransform.x * a;
        this.lastTransform = t;
        if (!(a > 0) || !Number.isFinite(b)) return;
        const bPlot = b + a * LABEL_WIDTH_PX - LABEL_WIDTH_PX;
        this.applyAffine(a, bPlot);
      })
      .on('end', () => {
        // Our range is the state; d3's accumulated transform is reset so k never drifts.
        (this.el.canvas as unknown as { __zoom: ZoomTransform }).__zoom = zoomIdentity;
        this.lastTransform = zoomIdentity;
      });
    const sel = select(this.el.canvas);
    sel.call(behaviour).on('dblclick.zoom', null);
    this.disposers.push(() => { sel.on('.zoom', null); });
  }

  /** Shows what the affine map x' = a·x + b (plot px) brings into [0, width]. */
  private applyAffine(a: number, bPlotPx: number): void {
    const host = this.host;
    host.scheduler.scheduleAction(() => {
      const widthPx = this.plotWidthPx();
      const nsPerPx = (host.viewEndNs - host.viewStartNs) / widthPx;
      const startNs = host.viewStartNs + (-bPlotPx / a) * nsPerPx;
      const endNs = host.viewStartNs + ((widthPx - bPlotPx) / a) * nsPerPx;
      host.setRange(startNs, endNs, true);
    });
  }

  private onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
    const widthPx = this.plotWidthPx();
    // Zoom about the pointer; in compare, about the shared cursor when the pointer is over the other side.
    const cursorPx = this.host.cursorLine && this.model && Number.isFinite(this.host.cursorNs) ? this.model.scale.nsToPx(this.host.cursorNs) : -1;
    const anchorPx = this.pointerPlotXPx >= 0 ? this.pointerPlotXPx : cursorPx >= 0 && cursorPx <= widthPx ? cursorPx : widthPx / 2;
    const zoomBy = (factor: number): void => this.applyAffine(1 / factor, anchorPx - anchorPx / factor);
    switch (e.key.toLowerCase()) {
      case 'w': zoomBy(ZOOM_STEP_FACTOR); break;
      case 's': zoomBy(1 / ZOOM_STEP_FACTOR); break;
      case 'a': this.applyAffine(1, PAN_STEP_FRACTION * widthPx); break;
      case 'd': this.applyAffine(1, -PAN_STEP_FRACTION * widthPx); break;
      default: return;
    }
    e.preventDefault();
  }

  // --- test probe ----------------------------------------------------------------------------

  findSpan(kind?: SpanKindName): { xPx: number; yPx: number; spanId: number } | null {
    const m = this.model;
    if (!m) return null;
    const want = kind === undefined ? -1 : SpanKind[kind];
    const canvasRect = this.el.canvas.getBoundingClientRect();
    const scrollRect = this.el.scroll.getBoundingClientRect();
    const p = m.prims;
    let best = -1;
    let bestWidthPx = 0;
    let bestX = 0;
    let bestY = 0;
    for (let i = 0; i < p.count; i++) {
      if (p.mergedCount[i] !== 1 || p.spanId[i]! < 0) continue;
      if (want >= 0 && p.spanKind[i] !== want) continue;
      const widthPx = p.widthPx[i]!;
      if (widthPx < FIND_MIN_WIDTH_PX || widthPx <= bestWidthPx) continue;
      const yPx = canvasRect.top + subrowTopPx(p.laneRow[i]!, p.subrow[i]!) + SUBROW_HEIGHT_PX / 2;
      if (yPx < scrollRect.top + 2 || yPx > scrollRect.bottom - 2) continue;
      best = i;
      bestWidthPx = widthPx;
      bestX = canvasRect.left + LABEL_WIDTH_PX + p.xPx[i]! + widthPx / 2;
      bestY = yPx;
    }
    if (best < 0) return null;
    return { xPx: bestX, yPx: bestY, spanId: p.spanId[best]! };
  }
}
