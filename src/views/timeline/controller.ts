// Imperative half of the timeline: owns the canvas, redraws on the page's rAF scheduler when the
// data, range, size or hover changed (React never re-renders the canvas), turns wheel/drag
// (d3-zoom) and WASD into range changes, and answers hit tests from the drawn model.

import { SUBROW_COUNT, SpanKind, type SpanKindName } from '../../trace/spans.ts';
import { PaletteFills } from '../../render/canvas.ts';
import { mountCanvas, type CanvasSurface } from '../../render/mount-canvas.ts';
import { paletteFor, type Palette } from '../../render/palette.ts';
import { TimeZoom } from '../../render/time-zoom.ts';
import { NO_HOVER, type ViewHost } from '../host.ts';
import { registerProbe, type TimelineLaneInfo, type ViewProbe } from '../probes.ts';
import { buildTimelineModel, hitTest, type LaneGrouping, type TimelineModel } from './model.ts';
import { drawTimeline, groupHeaderText } from './draw.ts';
import { spanMatcher, type SpanMatcher } from './filter.ts';
import { drawAxis, drawFindingMarks } from './axis.ts';
import { untimedShare } from '../../trace/untimed.ts';
import { evidenceSpans, findingMarks, type EvidenceSpans } from './findings.ts';
import { LABEL_TOGGLE_WIDTH_PX, LABEL_WIDTH_PX, LaneGeometry, type LaneHit } from './layout.ts';
import { LanePrefsStore } from './lane-prefs.ts';
import { isTypingTarget } from '../../widgets/keys.ts';
import { relativesOf } from '../../trace/derive/relatives.ts';
import { flowSegments, type FlowSegment } from './flows.ts';
import { linkOfSpan, linkedPrims } from './linked.ts';
import { UNKNOWN_INO } from '../../trace/ids.ts';

/** findSpan only offers spans this wide, so a test's click cannot land on a neighbour. */
const FIND_MIN_WIDTH_PX = 3;

interface TimelineElements {
  scroll: HTMLDivElement;
  canvas: HTMLCanvasElement;
  axis: SVGSVGElement;
}

interface TimelineOptions {
  /** WASD on the window (default true). A/B compare gives the keys to one of its two timelines:
   *  the sides share one range, so both handling a key would zoom twice. */
  keyboard?: boolean;
  /** Told the lanes' total height (px) whenever it changes: the page sizes the timeline to fit it. */
  onContentHeightPx?: (px: number) => void;
}

export class TimelineController implements ViewProbe {
  private model: TimelineModel | null = null;
  private modelKey = '';
  private readonly fills = new PaletteFills();
  private matcher: SpanMatcher | null = null;
  private matcherKey = '';
  /** The scroll box's size as last drawn (the canvas follows it: mountCanvas). */
  private boxWidthPx = 0;
  private boxHeightPx = 0;
  private scrollTopPx = 0;
  private readonly zoom: TimeZoom;
  /** Shift-drag start in plot px, or NaN. */
  private areaDragFromPx = Number.NaN;
  private flows: FlowSegment[] = [];
  private flowsKey = '';
  /** The shown finding's evidence in the page (recomputed when the finding or the store changes). */
  private evidence: EvidenceSpans | null = null;
  private evidenceKey = '';
  /** What the evidence outline drew last frame (the e2e probe reads it). */
  private evidenceDrawn = { spanIds: [] as number[], rows: [] as number[] };
  private marksKey = '';
  /** The host's revealSeq this view last scrolled for (starts current: opening the page is no request). */
  private revealSeen: number;
  private readonly disposers: (() => void)[] = [];
  /** Collapsed / resized lanes and groups (localStorage) and the geometry they give the model's lanes. */
  private readonly lanePrefs = new LanePrefsStore();
  private geometry: LaneGeometry = LaneGeometry.uniform(0);
  private geometryKey = '';
  /** The content height last told to opts.onContentHeightPx (-1: none yet). */
  private toldContentPx = -1;
  /** A lane's bottom edge being dragged: its task, the pointer's start y, its sub-row height then. */
  private resizing: { task: string; fromYPx: number; fromSubrowPx: number } | null = null;

  constructor(private readonly host: ViewHost, private readonly el: TimelineElements, private readonly opts: TimelineOptions = {}) {
    this.revealSeen = host.revealSeq;
    this.disposers.push(mountCanvas(host.scheduler, el.canvas, (s) => this.render(s), { box: el.scroll }));
    // scrollTop is kept from scroll events too: reading it in a frame forces layout (element-size.ts).
    this.scrollTopPx = el.scroll.scrollTop;
    this.listen(el.scroll, 'scroll', () => { this.scrollTopPx = el.scroll.scrollTop; host.scheduler.markDirty(); });
    this.listen(el.canvas, 'mousedown', (e) => this.onAreaStart(e as MouseEvent));
    // Capture phase, before d3-zoom's own listener: a press on a lane's bottom edge resizes the lane, it does not pan.
    this.listen(el.canvas, 'mousedown', (e) => this.onResizeStart(e as MouseEvent), true);
    this.listen(window, 'mousemove', (e) => this.onResizeMove(e as MouseEvent));
    this.listen(el.canvas, 'mousemove', (e) => this.onEdgeHover(e as MouseEvent));
    this.listen(window, 'mouseup', () => { this.areaDragFromPx = Number.NaN; this.onResizeEnd(); });
    this.zoom = new TimeZoom({
      host, canvas: el.canvas, plotLeftPx: LABEL_WIDTH_PX, wheel: 'timeline',
      plotWidthPx: () => this.plotWidthPx(),
      onHover: (_x, _y, e) => this.onPointer(e),
      onLeave: () => { host.setHover(NO_HOVER); host.setHoverLink(-1, UNKNOWN_INO); },
      onClick: (_x, _y, e) => this.onClick(e),
      keys: opts.keyboard === false ? undefined : { fallbackAnchorPx: () => this.keyAnchorPx(), isTypingTarget },
    });
    this.disposers.push(() => this.zoom.dispose());
    this.disposers.push(registerProbe(host, 'timeline', this));
  }

  /** How lanes are grouped (kept with the other lane prefs). */
  get grouping(): LaneGrouping { return this.lanePrefs.grouping; }
  set grouping(g: LaneGrouping) {
    this.lanePrefs.setGrouping(g);
    this.host.scheduler.markDirty();
  }

  dispose(): void {
    for (const d of this.disposers.splice(0).reverse()) d();
  }

  private listen(target: EventTarget, type: string, fn: (e: Event) => void, capture = false): void {
    target.addEventListener(type, fn, capture);
    this.disposers.push(() => target.removeEventListener(type, fn, capture));
  }

  private plotWidthPx(): number {
    return this.model?.scale.widthPx ?? Math.max(1, this.boxWidthPx - LABEL_WIDTH_PX);
  }

  // --- drawing -------------------------------------------------------------------------------

  private render(surface: CanvasSurface): void {
    const h = this.host;
    this.boxWidthPx = surface.boxWidthPx;
    this.boxHeightPx = surface.boxHeightPx;
    const widthPx = Math.max(LABEL_WIDTH_PX + 1, this.boxWidthPx);
    const plotWidthPx = widthPx - LABEL_WIDTH_PX;
    const key = `${h.traceGeneration}:${h.spans.version}:${h.trace.version}:${h.viewStartNs}:${h.viewEndNs}:${plotWidthPx}:${h.gaps.length}:${h.pinnedTasks.join(',')}:${this.lanePrefs.grouping}`;
    if (key !== this.modelKey || !this.model) {
      this.model = buildTimelineModel(h.spans, h.trace, h.viewStartNs, h.viewEndNs, plotWidthPx, h.gaps, h.pinnedTasks, true, this.lanePrefs.grouping);
      this.modelKey = key;
    }
    const model = this.model;
    const geoKey = `${key}:${this.lanePrefs.version}`;
    if (geoKey !== this.geometryKey) {
      this.geometry = LaneGeometry.build(model.lanes, this.lanePrefs);
      this.geometryKey = geoKey;
    }
    const geo = this.geometry;
    if (geo.contentHeightPx !== this.toldContentPx && model.lanes.length > 0) {
      this.toldContentPx = geo.contentHeightPx;
      this.opts.onContentHeightPx?.(geo.contentHeightPx);
    }
    geo.scrollTopPx = this.scrollTopPx;
    const heightPx = Math.max(geo.contentHeightPx, this.boxHeightPx);
    const ctx = surface.resize(widthPx, heightPx);
    if (h.revealSeq !== this.revealSeen) {
      this.revealSeen = h.revealSeq;
      this.scrollToSelectionLane(model);
    }
    const palette = paletteFor(h.theme);
    const fills = this.fills.use(ctx, palette);
    const topPx = this.scrollTopPx;
    const stats = drawTimeline(ctx, model, {
      palette,
      canvasWidthPx: widthPx,
      canvasHeightPx: heightPx,
      visibleTopPx: topPx,
      visibleBottomPx: topPx + this.boxHeightPx,
      hoverSpanId: h.hover.spanId,
      selectedSpanId: h.selectedSpanId,
      lockWaitFill: fills.lockWait,
      markFills: fills.marks,
      isDimmed: this.dimmer(),
      geometry: geo,
      grouping: this.lanePrefs.grouping,
    });
    this.drawOverlay(ctx, palette, model, topPx, heightPx);
    drawAxis(this.el.axis, model.scale, LABEL_WIDTH_PX, model.gaps, h.axisOriginNs ?? 0, untimedShare(h.trace));
    this.drawMarks(model);
    h.reportDraw(stats);
  }

  /** The lane row of the selected span (or of the selected event's task), or -1 when it has none drawn. */
  private selectionLaneRow(model: TimelineModel): number {
    const h = this.host;
    const id = h.selectedSpanId;
    if (id >= 0 && id < h.spans.count) {
      const laneIdx = h.spans.lane.data[id]!;
      return model.lanes.findIndex((l) => l.laneIdx === laneIdx);
    }
    const row = h.selectedRow;
    if (row < 0 || row >= h.trace.length) return -1;
    const task = h.trace.taskAt(row);
    return model.lanes.findIndex((l) => l.task === task);
  }

  /** Scrolls the selection's lane into view (centred) when it is not wholly visible. */
  private scrollToSelectionLane(model: TimelineModel): void {
    const laneRow = this.selectionLaneRow(model);
    const geo = this.geometry;
    // A pinned lane is always in view; one in a folded group has nowhere to scroll to.
    if (laneRow < 0 || geo.rowCount !== model.lanes.length || geo.isHidden(laneRow) || geo.pinned[laneRow]) return;
    const topPx = geo.laneTop(laneRow);
    const lanePx = geo.bodyHeight(laneRow);
    // Unpinned lanes show below the pinned block.
    const viewTopPx = this.scrollTopPx + geo.pinnedHeightPx;
    if (topPx >= viewTopPx && topPx + lanePx <= this.scrollTopPx + this.boxHeightPx) return;
    const roomPx = this.boxHeightPx - geo.pinnedHeightPx;
    this.el.scroll.scrollTop = Math.max(0, topPx - geo.pinnedHeightPx - (roomPx - lanePx) / 2);
    // Read back: the browser clamps to the content height (one layout read, on request only).
    this.scrollTopPx = this.el.scroll.scrollTop;
    geo.scrollTopPx = this.scrollTopPx;
  }

  /** The findings' markers on the axis (redrawn only when the range, the list or the shown finding changed). */
  private drawMarks(model: TimelineModel): void {
    const f = this.host.findings;
    const sel = f?.selected ?? null;
    const key = f ? `${this.modelKey}:${f.version}:${sel ? `${sel.rule}:${sel.tsNs}` : ''}` : '';
    if (key === this.marksKey) return;
    this.marksKey = key;
    drawFindingMarks(this.el.axis, f ? findingMarks(f.list, model.scale) : [], LABEL_WIDTH_PX, sel, (x) => f?.select(x));
  }

  /** The shown finding's evidence spans and rows in the current store (cached per finding and store). */
  private shownEvidence(): EvidenceSpans | null {
    const h = this.host;
    const f = h.findings?.selected ?? null;
    if (!f || !h.findings) {
      this.evidenceKey = '';
      this.evidence = null;
      return null;
    }
    // spans.count: an end row's span may be paired after the finding was shown (it never is in practice: evidence has arrived).
    const key = `${h.traceGeneration}:${h.findings.rowBase}:${f.rule}:${f.tsNs}:${f.evidence.join(',')}`;
    if (key !== this.evidenceKey) {
      this.evidenceKey = key;
      this.evidence = evidenceSpans(f, h.trace, h.spans, h.findings.rowBase);
    }
    return this.evidence;
  }

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

  private drawOverlay(ctx: CanvasRenderingContext2D, palette: Palette, model: TimelineModel, topPx: number, heightPx: number): void {
    const h = this.host;
    const chrome = palette.chrome;
    const visibleHeightPx = this.boxHeightPx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(LABEL_WIDTH_PX, 0, model.scale.widthPx, heightPx);
    ctx.clip();
    if (!Number.isNaN(h.areaFromNs)) {
      const x0 = model.scale.nsToPx(h.areaFromNs);
      const x1 = model.scale.nsToPx(h.areaToNs);
      ctx.fillStyle = chrome.areaFill;
      ctx.fillRect(LABEL_WIDTH_PX + x0, topPx, Math.max(1, x1 - x0), visibleHeightPx);
      ctx.fillStyle = chrome.areaEdge;
      ctx.fillRect(LABEL_WIDTH_PX + x0, topPx, 1, visibleHeightPx);
      ctx.fillRect(LABEL_WIDTH_PX + x1, topPx, 1, visibleHeightPx);
    }
    // Replay: what lies after the playhead is not revealed yet — veiled, with the playhead line.
    if (Number.isFinite(h.playheadNs) && h.playheadNs < model.scale.endNs) {
      const xPx = Math.max(0, model.scale.nsToPx(h.playheadNs));
      ctx.fillStyle = chrome.unrevealed;
      ctx.fillRect(LABEL_WIDTH_PX + xPx, topPx, model.scale.widthPx - xPx, visibleHeightPx);
      ctx.fillStyle = chrome.gapEdge;
      ctx.fillRect(LABEL_WIDTH_PX + xPx - 1, topPx, 2, visibleHeightPx);
    }
    // A/B compare: the alignment marker (dashed) and the shared cursor, which may come from the other side.
    if (h.markerNs !== undefined && Number.isFinite(h.markerNs)) {
      const xPx = LABEL_WIDTH_PX + model.scale.nsToPx(h.markerNs);
      ctx.fillStyle = chrome.areaEdge;
      for (let y = topPx; y < topPx + visibleHeightPx; y += 8) ctx.fillRect(xPx - 0.5, y, 1.5, 4);
    }
    if (h.cursorLine && Number.isFinite(h.cursorNs)) {
      ctx.fillStyle = chrome.hover;
      ctx.fillRect(LABEL_WIDTH_PX + model.scale.nsToPx(h.cursorNs) - 0.5, topPx, 1, visibleHeightPx);
    }
    // Spans of the lock / inode hovered in another view.
    const linked = linkedPrims(h, model, h.hoverLockIdx, h.hoverIno);
    if (linked.length) {
      ctx.strokeStyle = chrome.hover;
      ctx.lineWidth = 1.5;
      const p = model.prims;
      for (const i of linked) {
        if (!this.geometry.laneVisible(p.row[i]!, topPx, topPx + visibleHeightPx)) continue;
        ctx.strokeRect(LABEL_WIDTH_PX + p.xPx[i]! - 0.5, this.geometry.subrowTop(p.row[i]!, p.subrow[i]!) + 0.5, Math.max(1, p.widthPx[i]!) + 1, this.geometry.subrowPx[p.row[i]!]! - 2);
      }
    }
    this.drawEvidence(ctx, palette, model, topPx, visibleHeightPx);
    const sel = h.selectedSpanId;
    const fk = `${this.geometryKey}:${sel}:${h.derivedVersion}:${this.geometry.pinnedHeightPx > 0 ? topPx : 0}`;
    if (fk !== this.flowsKey) {
      this.flowsKey = fk;
      this.flows = sel >= 0 && sel < h.spans.count ? flowSegments(model, h.spans, h.trace, sel, relativesOf(h, sel, -1), this.geometry) : [];
    }
    if (this.flows.length) {
      ctx.strokeStyle = chrome.flow;
      ctx.fillStyle = chrome.flow;
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

  /**
   * The shown finding: a faint band over its time range, a thick outline around each evidence span
   * drawn (the prims are bounded by pixels, so this loop is too), and a diamond on its task's lane
   * for an evidence row that is no span (an inode or cache event).
   */
  private drawEvidence(ctx: CanvasRenderingContext2D, palette: Palette, model: TimelineModel, topPx: number, visibleHeightPx: number): void {
    const h = this.host;
    const f = h.findings?.selected ?? null;
    const ev = this.shownEvidence();
    const drawn = { spanIds: [] as number[], rows: [] as number[] };
    this.evidenceDrawn = drawn;
    if (!f || !ev) return;
    const chrome = palette.chrome;
    const x0 = model.scale.nsToPx(f.tsNs);
    const x1 = model.scale.nsToPx(f.tsNs + f.durNs);
    ctx.fillStyle = chrome.findingBand;
    ctx.fillRect(LABEL_WIDTH_PX + x0, topPx, Math.max(2, x1 - x0), visibleHeightPx);
    ctx.strokeStyle = chrome.evidence;
    ctx.lineWidth = 2.5;
    const p = model.prims;
    for (let i = 0; i < p.count; i++) {
      const id = p.spanId[i]!;
      if (id < 0 || p.spanCount[i] !== 1 || !ev.spanIds.has(id)) continue;
      if (this.geometry.isHidden(p.row[i]!)) continue;
      ctx.strokeRect(LABEL_WIDTH_PX + p.xPx[i]! - 2, this.geometry.subrowTop(p.row[i]!, p.subrow[i]!) - 1, Math.max(1, p.widthPx[i]!) + 4, this.geometry.subrowPx[p.row[i]!]! + 2);
      drawn.spanIds.push(id);
    }
    if (ev.rows.length === 0) return;
    const rowOfTask = new Map<string, number>();
    model.lanes.forEach((l, r) => rowOfTask.set(l.task, r));
    ctx.fillStyle = chrome.evidence;
    for (const row of ev.rows) {
      const laneRow = rowOfTask.get(h.trace.taskAt(row));
      const tsNs = h.trace.tsNs[row]!;
      if (laneRow === undefined || this.geometry.isHidden(laneRow) || tsNs < model.scale.startNs || tsNs > model.scale.endNs) continue;
      const xPx = LABEL_WIDTH_PX + model.scale.nsToPx(tsNs);
      const yPx = this.geometry.subrowTop(laneRow, 0) + this.geometry.subrowPx[laneRow]! / 2;
      ctx.beginPath();
      ctx.moveTo(xPx, yPx - 6);
      ctx.lineTo(xPx + 5, yPx);
      ctx.lineTo(xPx, yPx + 6);
      ctx.lineTo(xPx - 5, yPx);
      ctx.closePath();
      ctx.fill();
      drawn.rows.push(row);
    }
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
    const row = this.laneHit(e.offsetY);
    if (xPx < 0 || row?.type !== 'lane') return -1;
    return hitTest(this.model, xPx, row.laneRow, row.subrow);
  }

  /** What is under a canvas y, with the geometry of the scroll position now (pinned lanes follow it). */
  private laneHit(yPx: number): LaneHit | null {
    if (!this.model || this.geometry.rowCount !== this.model.lanes.length) return null;
    this.geometry.scrollTopPx = this.scrollTopPx;
    return this.geometry.hit(yPx);
  }

  private onResizeStart(e: MouseEvent): void {
    if (e.button !== 0 || e.shiftKey || !this.model) return;
    const h = this.laneHit(e.offsetY);
    if (h?.type !== 'edge') return;
    // Stop d3-zoom (a pan) and the area drag: this press is the lane's.
    e.stopImmediatePropagation();
    e.preventDefault();
    this.resizing = { task: this.model.lanes[h.laneRow]!.task, fromYPx: e.clientY, fromSubrowPx: this.geometry.subrowPx[h.laneRow]! };
  }

  private onResizeMove(e: MouseEvent): void {
    const r = this.resizing;
    if (!r) return;
    this.lanePrefs.resize(r.task, r.fromSubrowPx + (e.clientY - r.fromYPx) / SUBROW_COUNT, false);
    this.host.scheduler.markDirty();
  }

  private onResizeEnd(): void {
    if (!this.resizing) return;
    const task = this.resizing.task;
    this.resizing = null;
    const row = this.model?.lanes.findIndex((l) => l.task === task) ?? -1;
    if (row >= 0) this.lanePrefs.resize(task, this.geometry.collapsed[row] ? 0 : this.geometry.subrowPx[row]!, true);
  }

  /** The row-resize cursor over a lane's bottom edge. */
  private onEdgeHover(e: MouseEvent): void {
    const edge = this.resizing !== null || this.laneHit(e.offsetY)?.type === 'edge';
    const cursor = edge ? 'row-resize' : '';
    if (this.el.canvas.style.cursor !== cursor) this.el.canvas.style.cursor = cursor;
  }

  /** Pointer moved over the canvas (TimeZoom has set the linked cursor). */
  private onPointer(e: MouseEvent): void {
    if (!Number.isNaN(this.areaDragFromPx) && this.model) {
      const s = this.model.scale;
      this.host.setArea(s.pxToNs(this.areaDragFromPx), s.pxToNs(e.offsetX - LABEL_WIDTH_PX));
      return;
    }
    const i = this.hit(e);
    if (i < 0 || !this.model) {
      this.host.setHover(NO_HOVER);
      this.host.setHoverLink(-1, UNKNOWN_INO);
      return;
    }
    const p = this.model.prims;
    const link = linkOfSpan(this.host, p.spanId[i]!);
    // Only locks link outward: an inode is on almost every span, so hovering one would light up all.
    this.host.setHoverLink(link.lockIdx, UNKNOWN_INO);
    this.host.setHover({ spanId: p.spanId[i]!, mergedCount: p.spanCount[i]!, paletteIdx: p.style[i]!, clientXPx: e.clientX, clientYPx: e.clientY });
  }

  private onClick(e: MouseEvent): void {
    if (e.shiftKey) return; // the end of an area drag
    const h = this.model ? this.laneHit(e.offsetY) : null;
    if (h?.type === 'header') {
      // A group header collapses (again: opens) its lanes.
      this.lanePrefs.toggleGroup(h.header.key);
      this.host.scheduler.markDirty();
      return;
    }
    if (e.offsetX < LABEL_WIDTH_PX && this.model) {
      // On a lane label: the ▾/▸ glyph collapses the lane; the rest of the label pins it to the top (again: unpins it).
      if (h?.type !== 'lane') return;
      const task = this.model.lanes[h.laneRow]!.task;
      if (e.offsetX < LABEL_TOGGLE_WIDTH_PX) {
        this.lanePrefs.toggleLane(task);
        this.host.scheduler.markDirty();
      } else this.host.togglePin(task);
      return;
    }
    const i = this.hit(e);
    this.host.select(i >= 0 && this.model ? this.model.prims.spanId[i]! : -1);
  }

  // --- zoom and pan (render/time-zoom.ts) ----------------------------------------------------

  /** W/S anchor with the pointer off this canvas: in compare, the shared cursor if it is in view; else the middle. */
  private keyAnchorPx(): number {
    const widthPx = this.plotWidthPx();
    const cursorPx = this.host.cursorLine && this.model && Number.isFinite(this.host.cursorNs) ? this.model.scale.nsToPx(this.host.cursorNs) : -1;
    return cursorPx >= 0 && cursorPx <= widthPx ? cursorPx : widthPx / 2;
  }

  // --- test probe ----------------------------------------------------------------------------

  /** The shown finding's evidence outlined in the last frame: span ids and (non-span) store rows. */
  evidenceHighlights(): { spanIds: number[]; rows: number[] } {
    return { spanIds: [...this.evidenceDrawn.spanIds], rows: [...this.evidenceDrawn.rows] };
  }

  laneInView(task: string): { laneRow: number; visible: boolean } | null {
    const lanes = this.lanes();
    const laneRow = lanes.findIndex((l) => l.task === task);
    return laneRow < 0 ? null : { laneRow, visible: lanes[laneRow]!.inView };
  }

  laneTasks(): string[] {
    return this.model ? this.model.lanes.map((l) => l.task) : [];
  }

  /** Every lane of the last frame and where it is on screen (client px); `inView`: wholly inside the scroll box, not under the pinned block. */
  lanes(): TimelineLaneInfo[] {
    const m = this.model;
    const geo = this.geometry;
    if (!m || geo.rowCount !== m.lanes.length) return [];
    const canvasTop = this.el.canvas.getBoundingClientRect().top;
    const box = this.el.scroll.getBoundingClientRect();
    const groupText = new Array<string>(m.lanes.length).fill('');
    for (const hd of geo.headers) groupText.fill(groupHeaderText(m, hd, this.lanePrefs.grouping), hd.firstRow, hd.firstRow + hd.laneCount);
    return m.lanes.map((l, row) => {
      const topPx = canvasTop + geo.laneTop(row);
      const bottomPx = topPx + geo.bodyHeight(row);
      const coverPx = box.top + (geo.pinned[row] ? 0 : geo.pinnedHeightPx);
      return {
        task: l.task, role: l.role, pinned: l.pinned, group: l.group, groupText: groupText[row]!, collapsed: geo.collapsed[row] === 1, hidden: geo.isHidden(row),
        topPx, bottomPx, inView: !geo.isHidden(row) && topPx >= coverPx - 0.5 && bottomPx <= box.bottom + 0.5,
      };
    });
  }

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
      if (p.spanCount[i] !== 1 || p.spanId[i]! < 0) continue;
      if (want >= 0 && p.kind[i] !== want) continue;
      const widthPx = p.widthPx[i]!;
      if (widthPx < FIND_MIN_WIDTH_PX || widthPx <= bestWidthPx) continue;
      if (this.geometry.isHidden(p.row[i]!) || this.geometry.rowCount !== m.lanes.length) continue;
      const yPx = canvasRect.top + this.geometry.subrowTop(p.row[i]!, p.subrow[i]!) + this.geometry.subrowPx[p.row[i]!]! / 2;
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
