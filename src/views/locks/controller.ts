// Imperative half of the locks view: canvas sized to its box, redrawn on the page's rAF scheduler
// when data, range, hover or selection changed; wheel/drag change the shared range; a click on a
// wait selects its holder; hovering a row highlights its lock in every view.

import { SpanKind } from '../../trace/spans.ts';
import { PaletteFills } from '../../render/canvas.ts';
import { mountCanvas, type CanvasSurface } from '../../render/mount-canvas.ts';
import { paletteFor } from '../../render/palette.ts';
import { TimeZoom } from '../../render/time-zoom.ts';
import { timeTicks, type Tick } from '../../render/ticks.ts';
import { allUntimed } from '../../trace/untimed.ts';
import type { ViewHost } from '../host.ts';
import { registerProbe, type FindingOverlay, type FindingOverlayProbe, type LocksProbe } from '../probes.ts';
import { lockEvidenceBoxes, lockEvidenceSpans, lockFindingMarks, type LockEvidenceBox, type LockFindingMark } from './findings.ts';
import { hitTestFindingMark } from '../finding-marks.ts';
import { buildLocksModel, clickTarget, hitTestLocks, type LocksFilter, type LocksModel } from './model.ts';
import { LOCK_LABEL_WIDTH_PX, LOCK_ROW_HEIGHT_PX, drawLockFindings, drawLocks, lockRowAtPx, lockRowTopPx } from './draw.ts';
import { UNKNOWN_INO } from '../../trace/ids.ts';

export class LocksController implements LocksProbe, FindingOverlayProbe {
  private model: LocksModel | null = null;
  private modelKey = '';
  private readonly fills = new PaletteFills();
  /** Findings over the lanes: recomputed when the model, the list or the shown finding changes. */
  private marks: LockFindingMark[] = [];
  private boxes: LockEvidenceBox[] = [];
  private findingsKey = '';
  /** The shown finding's lock spans (recomputed only when it or the store changes). */
  private evidenceIds: number[] = [];
  private evidenceKey = '';
  private readonly disposers: (() => void)[] = [];
  filter: LocksFilter = {};
  /** The box's width as last drawn (before the first draw: the plot width for gestures). */
  private boxWidthPx = 0;
  /** The time axis labels of the last frame (tests). */
  private tickLabels: string[] = [];

  constructor(private readonly host: ViewHost, private readonly box: HTMLDivElement, private readonly canvas: HTMLCanvasElement) {
    this.disposers.push(mountCanvas(host.scheduler, canvas, (s) => this.render(s), { box }));
    const zoom = new TimeZoom({
      host, canvas, plotLeftPx: LOCK_LABEL_WIDTH_PX,
      plotWidthPx: () => this.model?.scale.widthPx ?? Math.max(10, this.boxWidthPx - LOCK_LABEL_WIDTH_PX),
      onClick: (x, y) => this.onClick(x, y),
      onHover: (_x, y) => {
        const r = this.model?.rows[lockRowAtPx(y)];
        host.setHoverLink(r ? r.lockIdx : -1, UNKNOWN_INO);
      },
      onLeave: () => host.setHoverLink(-1, UNKNOWN_INO),
    });
    this.disposers.push(() => zoom.dispose());
    this.disposers.push(registerProbe(host, 'locks', this));
    this.disposers.push(registerProbe(host, 'locksFindings', this));
  }

  dispose(): void {
    for (const d of this.disposers.splice(0).reverse()) d();
  }

  setFilter(filter: LocksFilter): void {
    this.filter = filter;
    this.modelKey = '';
    this.host.scheduler.markDirty();
  }

  private render(surface: CanvasSurface): void {
    const h = this.host;
    this.boxWidthPx = surface.boxWidthPx;
    const widthPx = Math.max(LOCK_LABEL_WIDTH_PX + 10, this.boxWidthPx);
    const plotW = widthPx - LOCK_LABEL_WIDTH_PX;
    const key = `${h.traceGeneration}:${h.locks.version}:${h.spans.version}:${h.viewStartNs}:${h.viewEndNs}:${plotW}:${JSON.stringify(this.filter)}`;
    if (key !== this.modelKey || !this.model) {
      this.model = buildLocksModel(h.locks, h.spans, h.trace, h.viewStartNs, h.viewEndNs, plotW, this.filter);
      this.modelKey = key;
    }
    const heightPx = Math.max(surface.boxHeightPx, lockRowTopPx(this.model.rows.length) + 4);
    const ctx = surface.resize(widthPx, heightPx);
    const palette = paletteFor(h.theme);
    drawLocks(ctx, this.model, {
      palette, widthPx, heightPx, ticks: this.ticks(timeTicks(this.model.scale, undefined, allUntimed(h.trace), h.axisOriginNs ?? 0)), hoverLockIdx: h.hoverLockIdx, hoverIno: h.hoverIno,
      selectedSpanId: h.selectedSpanId, waitFill: this.fills.use(ctx, palette).lockWait,
    });
    this.updateFindings();
    drawLockFindings(ctx, this.marks, this.boxes, h.findings?.selected ?? null, palette, widthPx, heightPx);
  }

  private updateFindings(): void {
    const h = this.host;
    const pf = h.findings;
    const m = this.model;
    const sel = pf?.selected ?? null;
    if (!pf || !m) {
      this.marks = [];
      this.boxes = [];
      this.findingsKey = '';
      return;
    }
    const ek = sel ? `${h.traceGeneration}:${h.spans.count}:${h.locks.version}:${pf.rowBase}:${sel.rule}:${sel.tsNs}:${sel.evidence.join(',')}` : '';
    if (ek !== this.evidenceKey) {
      this.evidenceKey = ek;
      this.evidenceIds = sel ? lockEvidenceSpans(sel, h.trace, h.spans, h.locks, pf.rowBase) : [];
    }
    const key = `${this.modelKey}:${pf.version}:${ek}`;
    if (key === this.findingsKey) return;
    this.findingsKey = key;
    this.marks = lockFindingMarks(pf.list, h.trace, h.spans, h.locks, pf.rowBase, m);
    this.boxes = lockEvidenceBoxes(this.evidenceIds, h.spans, h.locks, m, h.trace.endNs);
  }

  findingOverlay(): FindingOverlay {
    return {
      marks: this.marks.map((k) => ({ rule: k.finding.rule, severity: k.severity, count: k.count, xPx: k.xPx })),
      evidenceRows: this.boxes.map((b) => this.host.spans.beginRow.data[b.spanId]!),
      evidenceSpanIds: this.boxes.map((b) => b.spanId),
    };
  }

  private onClick(xPx: number, yPx: number): void {
    if (!this.model || xPx < LOCK_LABEL_WIDTH_PX) return;
    const rowPos = lockRowAtPx(yPx);
    if (this.model.rows[rowPos]?.type === 'lock') {
      // A header row holds the findings' markers: one shows its finding, as the findings panel's click does.
      const here = this.marks.filter((k) => k.rowPos === rowPos);
      const i = hitTestFindingMark(here, xPx - LOCK_LABEL_WIDTH_PX);
      if (i >= 0) {
        this.host.findings?.select(here[i]!.finding);
        return;
      }
    }
    const id = hitTestLocks(this.model, this.host.locks, this.host.spans, this.host.trace.endNs, xPx - LOCK_LABEL_WIDTH_PX, lockRowAtPx(yPx));
    this.host.select(clickTarget(this.host.locks, this.host.spans, id));
  }

  rowLabels(): string[] {
    return this.model ? this.model.rows.map((r) => r.label) : [];
  }

  private ticks(t: Tick[]): Tick[] {
    this.tickLabels = t.map((x) => x.label);
    return t;
  }

  axisLabels(): string[] {
    return [...this.tickLabels];
  }

  findWait(): { xPx: number; yPx: number; spanId: number; holderSpanId: number } | null {
    const m = this.model;
    if (!m) return null;
    const rect = this.canvas.getBoundingClientRect();
    const boxRect = this.box.getBoundingClientRect();
    const p = m.prims;
    let best = -1;
    for (let i = 0; i < p.count; i++) {
      const id = p.spanId[i]!;
      if (id < 0 || this.host.spans.kind.data[id] !== SpanKind.lock_wait || p.widthPx[i]! < 4) continue;
      if (this.host.spans.isOpen(id) || this.host.locks.holderOf(this.host.spans, id) < 0) continue;
      const yPx = rect.top + lockRowTopPx(p.row[i]!) + LOCK_ROW_HEIGHT_PX / 2;
      if (yPx > boxRect.bottom - 4) continue;
      if (best < 0 || p.widthPx[i]! > p.widthPx[best]!) best = i;
    }
    if (best < 0) return null;
    const spanId = p.spanId[best]!;
    return {
      xPx: rect.left + LOCK_LABEL_WIDTH_PX + p.xPx[best]! + p.widthPx[best]! / 2,
      yPx: rect.top + lockRowTopPx(p.row[best]!) + LOCK_ROW_HEIGHT_PX / 2,
      spanId,
      holderSpanId: this.host.locks.holderOf(this.host.spans, spanId),
    };
  }
}
