// Paints a TimelineModel on a Canvas2D context (in CSS px; see render/canvas.ts). Only paints:
// every position comes from the model's arrays. Returns how many primitives (fillRect, fillText,
// strokeRect) it issued, so tests and the e2e hooks can check the level-of-detail bound.

import { LOCK_WAIT_IDX, type Palette } from '../../render/palette.ts';
import { GROUP_HEADER_PX, LABEL_TOGGLE_WIDTH_PX, LABEL_WIDTH_PX, LANE_GAP_PX, LaneGeometry, type GroupHeader } from './layout.ts';
import { type LaneGrouping, type TimelineModel } from './model.ts';
import { BEGUN_BEFORE_TEXT, OPEN_ENDED_TEXT, type Lane } from '../../trace/spans.ts';
import { Edge, fillFaded } from '../../render/faded.ts';

/** The subset of CanvasRenderingContext2D the timeline uses (a recording fake implements it). */
export type Canvas2D = Pick<CanvasRenderingContext2D,
  'fillRect' | 'fillText' | 'strokeRect' | 'save' | 'restore' | 'beginPath' | 'rect' | 'clip'
  | 'fillStyle' | 'strokeStyle' | 'globalAlpha' | 'font' | 'textBaseline' | 'textAlign' | 'lineWidth' | 'setLineDash'>;

interface DrawOptions {
  /** The theme's colours (render/palette.ts paletteFor). */
  palette: Palette;
  /** Full canvas size in CSS px (labels + plot). */
  canvasWidthPx: number;
  canvasHeightPx: number;
  /** Only lanes intersecting [visibleTopPx, visibleBottomPx] are painted (the canvas scrolls). */
  visibleTopPx: number;
  visibleBottomPx: number;
  hoverSpanId: number;
  selectedSpanId: number;
  /** Fill for lock waits: a hatch pattern in the browser, a colour in tests. */
  lockWaitFill: string | CanvasPattern;
  /** Per palette index, the mapping-type mark drawn over the colour (palette.ts `Mark`), or null. */
  markFills?: ReadonlyArray<string | CanvasPattern | null>;
  /** With a search query active: true for spans it does not match, which are drawn faint. */
  isDimmed?: (spanId: number) => boolean;
  /** Where lanes are (resized, collapsed, grouped, pinned); every lane at the default height if absent. */
  geometry?: LaneGeometry;
  /** How the model's lanes were grouped (the header says "process unknown" only when by process). */
  grouping?: LaneGrouping;
}

interface DrawStats {
  drawnLanes: number;
  drawnPrimitives: number;
}

/** Merged blocks are drawn paler than real spans, with a solid top edge, so they read as "many". */
const MERGED_ALPHA = 0.55;
/** A count label needs room for "×9999" in 9 px font. */
const MERGED_LABEL_MIN_WIDTH_PX = 30;
/** Spans a search does not match stay visible as context, but faint. */
const DIMMED_ALPHA = 0.18;
/** Marks need a few px to be legible; narrower spans are colour only. */
const MARK_MIN_WIDTH_PX = 4;
/**
 * A merged block's solid top edge is drawn from this width on: narrower, it is a pixel or two that
 * reads as nothing (the block's lighter fill still tells it from a span), and at deep zoom of a
 * 10 M-event trace most of the ~1,300 merged blocks are that narrow — a second fillRect each.
 */
const MERGED_EDGE_MIN_WIDTH_PX = 3;
/** Span labels are not worth drawing below this width. */
const LABEL_FONT = '11px system-ui, -apple-system, "Segoe UI", sans-serif';
const SMALL_FONT = '9px system-ui, -apple-system, "Segoe UI", sans-serif';
/** Rough glyph width of 11 px system-ui, to truncate labels without measureText. */
const LABEL_CHAR_PX = 6.2;
/** From this width a span with an unknown end says so in words. */
const EDGE_LABEL_MIN_WIDTH_PX = 150;
/** An untimed span (pasted lines without times): dashed outline and this label when wide enough. */
const UNTIMED_DASH = [3, 2];
const UNTIMED_LABEL = 'time unknown: file order';
/**
 * The muted second line of a lane label: what the trace shows the lane to be (spans.ts Lane.role).
 * An 'fs' lane is an inode, not a task.
 */
const ROLE_TEXT: Record<Lane['role'], string> = {
  app: 'app task', server: 'fuse server thread', kworker: 'kworker', unknown: 'role unknown', fs: 'kernel fs inode',
};
/** A group header's noun for N lanes of one role. */
const ROLE_NOUN: Record<Lane['role'], string> = {
  app: 'app tasks', server: 'fuse server threads', kworker: 'kworkers', unknown: 'tasks of unknown role', fs: 'inodes',
};
/** The task name starts after the collapse glyph. */
const LABEL_TEXT_X_PX = LABEL_TOGGLE_WIDTH_PX + 2;

export function drawTimeline(ctx: Canvas2D, model: TimelineModel, opt: DrawOptions): DrawStats {
  const geo = opt.geometry ?? LaneGeometry.uniform(model.lanes.length);
  const chrome = opt.palette.chrome;
  ctx.fillStyle = chrome.background;
  ctx.fillRect(0, opt.visibleTopPx, opt.canvasWidthPx, opt.visibleBottomPx - opt.visibleTopPx);
  const stats: DrawStats = { drawnLanes: 0, drawnPrimitives: 1 };
  // Unpinned lanes first; the pinned block is painted over them at the top of the visible area,
  // so scrolled lanes pass under it.
  drawRows(ctx, model, geo, opt, false, stats);
  if (geo.pinnedHeightPx > 0) {
    const topPx = geo.scrollTopPx;
    ctx.fillStyle = chrome.background;
    ctx.fillRect(0, topPx, opt.canvasWidthPx, geo.pinnedHeightPx);
    ctx.fillStyle = chrome.separator;
    ctx.fillRect(0, topPx + geo.pinnedHeightPx - 2, opt.canvasWidthPx, 2);
    stats.drawnPrimitives += 2;
    drawRows(ctx, model, geo, opt, true, stats);
  }
  // Gaps: a band over every lane, so a missing stretch is never mistaken for idleness.
  for (const g of model.gaps) {
    ctx.fillStyle = chrome.gapFill;
    ctx.fillRect(LABEL_WIDTH_PX + g.xPx, opt.visibleTopPx, g.widthPx, opt.visibleBottomPx - opt.visibleTopPx);
    ctx.fillStyle = chrome.gapEdge;
    ctx.fillRect(LABEL_WIDTH_PX + g.xPx, opt.visibleTopPx, 1, opt.visibleBottomPx - opt.visibleTopPx);
    stats.drawnPrimitives += 2;
  }
  return stats;
}

/** Lanes (stripe, label, spans) of the pinned block or of the rest; the rest with its group headers. */
function drawRows(ctx: Canvas2D, model: TimelineModel, geo: LaneGeometry, opt: DrawOptions, pinnedPass: boolean, stats: DrawStats): void {
  let n = 0;
  const plotWidthPx = opt.canvasWidthPx - LABEL_WIDTH_PX;
  const chrome = opt.palette.chrome;
  const colours = opt.palette.colours;
  const clipTopPx = pinnedPass ? geo.scrollTopPx : Math.max(opt.visibleTopPx, geo.scrollTopPx + geo.pinnedHeightPx);

  if (!pinnedPass) {
    ctx.font = LABEL_FONT;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'left';
    for (const h of geo.headers) {
      if (h.topPx + GROUP_HEADER_PX < clipTopPx || h.topPx > opt.visibleBottomPx) continue;
      ctx.fillStyle = chrome.gutter;
      ctx.fillRect(0, h.topPx, opt.canvasWidthPx, GROUP_HEADER_PX - 2);
      ctx.fillStyle = chrome.laneLabel;
      ctx.fillText(groupHeaderText(model, h, opt.grouping), 4, h.topPx + GROUP_HEADER_PX / 2 - 1);
      n += 2;
    }
  }

  // Lanes: stripe + label; remember which rows are visible.
  const visibleRow = new Uint8Array(model.lanes.length);
  ctx.font = LABEL_FONT;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'left';
  const maxChars = Math.floor((LABEL_WIDTH_PX - LABEL_TEXT_X_PX - 6) / LABEL_CHAR_PX);
  for (let row = 0; row < model.lanes.length; row++) {
    if ((geo.pinned[row] === 1) !== pinnedPass || !geo.laneVisible(row, opt.visibleTopPx, opt.visibleBottomPx)) continue;
    visibleRow[row] = 1;
    stats.drawnLanes++;
    const lane = model.lanes[row]!;
    const topPx = geo.laneTop(row);
    const bodyHeightPx = geo.bodyHeight(row);
    const collapsed = geo.collapsed[row] === 1;
    ctx.fillStyle = row % 2 === 0 ? chrome.laneStripe : chrome.background;
    ctx.fillRect(LABEL_WIDTH_PX, topPx, plotWidthPx, bodyHeightPx);
    ctx.fillStyle = chrome.gutter;
    ctx.fillRect(0, topPx, LABEL_WIDTH_PX - 4, bodyHeightPx);
    const label = lane.task.length > maxChars ? `${lane.task.slice(0, maxChars - 1)}…` : lane.task;
    ctx.fillStyle = chrome.laneLabelMuted;
    ctx.fillText(collapsed ? '▸' : '▾', 3, topPx + Math.min(12, bodyHeightPx / 2));
    ctx.fillStyle = chrome.laneLabel;
    ctx.fillText(label, LABEL_TEXT_X_PX, topPx + Math.min(12, bodyHeightPx / 2));
    n += 4;
    if (!collapsed && bodyHeightPx >= 32) {
      ctx.fillStyle = chrome.laneLabelMuted;
      ctx.font = SMALL_FONT;
      const role = ROLE_TEXT[lane.role];
      ctx.fillText(lane.pinned ? `★ ${role}` : role, LABEL_TEXT_X_PX, topPx + 28);
      ctx.font = LABEL_FONT;
      n++;
    } else if (lane.pinned) {
      ctx.fillStyle = chrome.laneLabelMuted;
      ctx.fillText('★', LABEL_WIDTH_PX - 16, topPx + Math.min(12, bodyHeightPx / 2));
      n++;
    }
    if (!pinnedPass && lane.firstOfProcess && row > 0 && !geo.pinned[row - 1]) {
      // A process (comm) boundary: a darker rule across the gap above the lane.
      ctx.fillStyle = chrome.separator;
      ctx.fillRect(0, topPx - LANE_GAP_PX / 2 - 1, opt.canvasWidthPx, 1);
      n++;
    }
  }

  ctx.save();
  ctx.beginPath();
  ctx.rect(LABEL_WIDTH_PX, clipTopPx, plotWidthPx, Math.max(0, opt.canvasHeightPx - clipTopPx));
  ctx.clip();

  const p = model.prims;
  let hoverIdx = -1;
  let selectedIdx = -1;
  let lastFill: string | CanvasPattern | null = null;
  for (let i = 0; i < p.count; i++) {
    const row = p.row[i]!;
    if (!visibleRow[row]) continue;
    const subPx = geo.subrowPx[row]!;
    const xPx = LABEL_WIDTH_PX + p.xPx[i]!;
    const widthPx = p.widthPx[i]!;
    // A sub-row keeps a 1 px gap above and below while it is at least 5 px high.
    const inset = subPx >= 5 ? 1 : 0;
    const yPx = geo.subrowTop(row, p.subrow[i]!) + inset;
    const heightPx = subPx - 2 * inset;
    const pal = p.style[i]!;
    const fill = pal === LOCK_WAIT_IDX ? opt.lockWaitFill : colours[pal]!;
    if (fill !== lastFill) { ctx.fillStyle = fill; lastFill = fill; }
    const count = p.spanCount[i]!;
    if (count > 1) {
      ctx.globalAlpha = MERGED_ALPHA;
      ctx.fillRect(xPx, yPx, widthPx, heightPx);
      ctx.globalAlpha = 1;
      n++;
      if (widthPx >= MERGED_EDGE_MIN_WIDTH_PX) {
        ctx.fillRect(xPx, yPx, widthPx, 2);
        n++;
      }
      if (widthPx >= MERGED_LABEL_MIN_WIDTH_PX) {
        ctx.font = SMALL_FONT;
        ctx.fillStyle = chrome.laneLabel;
        ctx.fillText(`×${count}`, xPx + 2, yPx + heightPx / 2 + 1);
        ctx.font = LABEL_FONT;
        lastFill = null;
        n++;
      }
    } else {
      const dimmed = opt.isDimmed !== undefined && p.spanId[i]! >= 0 && opt.isDimmed(p.spanId[i]!);
      if (dimmed) ctx.globalAlpha = DIMMED_ALPHA;
      const edge = p.edge[i]!;
      if (edge === 0) {
        ctx.fillRect(xPx, yPx, widthPx, heightPx);
        n++;
      } else {
        n += fillFaded(ctx, xPx, yPx, widthPx, heightPx, edge);
        if (edge & Edge.untimed) {
          // Its width is the file's order, not time: a dashed outline says so at any width.
          ctx.strokeStyle = chrome.laneLabel;
          ctx.lineWidth = 1;
          ctx.setLineDash(UNTIMED_DASH);
          ctx.strokeRect(xPx + 0.5, yPx + 0.5, Math.max(widthPx - 1, 1), heightPx - 1);
          ctx.setLineDash([]);
          n++;
        }
        if (widthPx >= EDGE_LABEL_MIN_WIDTH_PX) {
          ctx.font = SMALL_FONT;
          ctx.fillStyle = chrome.laneLabel;
          ctx.textAlign = edge & Edge.openEnd ? 'right' : 'left';
          ctx.fillText(edge & Edge.openEnd ? `${OPEN_ENDED_TEXT} ›` : edge & Edge.begunBefore ? `‹ ${BEGUN_BEFORE_TEXT}` : UNTIMED_LABEL,
            edge & Edge.openEnd ? xPx + widthPx - 4 : xPx + 4, yPx + heightPx / 2 + 1);
          ctx.textAlign = 'left';
          ctx.font = LABEL_FONT;
          ctx.fillStyle = fill;
          lastFill = fill;
          n++;
        }
      }
      const mark = dimmed || edge !== 0 ? null : opt.markFills?.[pal];
      if (mark && widthPx >= MARK_MIN_WIDTH_PX) {
        ctx.fillStyle = mark;
        ctx.fillRect(xPx, yPx, widthPx, heightPx);
        lastFill = mark;
        n++;
      }
      if (dimmed) ctx.globalAlpha = 1;
    }
    const id = p.spanId[i]!;
    if (id >= 0 && id === opt.hoverSpanId) hoverIdx = i;
    if (id >= 0 && id === opt.selectedSpanId) selectedIdx = i;
  }

  ctx.lineWidth = 1.5;
  for (const [idx, colour] of [[hoverIdx, chrome.hover], [selectedIdx, chrome.selection]] as const) {
    if (idx < 0) continue;
    ctx.strokeStyle = colour;
    ctx.strokeRect(LABEL_WIDTH_PX + p.xPx[idx]! - 1, geo.subrowTop(p.row[idx]!, p.subrow[idx]!), p.widthPx[idx]! + 2, geo.subrowPx[p.row[idx]!]!);
    n++;
  }
  ctx.restore();
  stats.drawnPrimitives += n;
}

/**
 * "▾ fuse2fs 18104 · 6 threads" for a process the trace names; for tasks whose process it does not
 * name, the comm and its lanes' role: "▾ fsw-reader-b · 35 app tasks · process unknown" (grouped
 * by comm on purpose: without "process unknown").
 */
export function groupHeaderText(model: TimelineModel, h: GroupHeader, grouping: LaneGrouping = 'process'): string {
  const first = model.lanes[h.firstRow]!;
  const what = first.tgid > 0
    ? `${first.groupTitle} · ${h.laneCount} ${h.laneCount === 1 ? 'thread' : 'threads'}`
    : `${first.groupTitle} · ${h.laneCount} ${ROLE_NOUN[first.role]}${grouping === 'process' && first.role !== 'fs' ? ' · process unknown' : ''}`;
  return `${h.collapsed ? '▸' : '▾'} ${what}${h.collapsed ? ' (collapsed)' : ''}`;
}
