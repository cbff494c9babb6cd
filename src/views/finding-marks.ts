// Severity markers for findings on a view's time axis (pure, shared by the timeline, the cache
// view and the locks view): markers that would touch merge into one, the most severe wins.

import { severityRank, type Finding, type FindingSeverity } from '../trace/checks/types.ts';
import type { TimeScale } from '../render/time-scale.ts';

/** Markers closer than this merge into one (clicking it shows its most severe finding). */
export const MARK_MERGE_PX = 6;

export interface FindingMark {
  xPx: number;
  severity: FindingSeverity;
  /** The finding a click shows: the most severe (then earliest) of those merged here. */
  finding: Finding;
  count: number;
}

/** Markers for the findings whose start lies in the scale's range, left to right. */
export function findingMarks(list: readonly Finding[], scale: TimeScale): FindingMark[] {
  const inView = list.filter((f) => f.tsNs >= scale.startNs && f.tsNs <= scale.endNs).sort((a, b) => a.tsNs - b.tsNs);
  const out: FindingMark[] = [];
  for (const f of inView) {
    const xPx = scale.nsToPx(f.tsNs);
    const last = out[out.length - 1];
    if (last && xPx - last.xPx < MARK_MERGE_PX) {
      last.count++;
      if (severityRank(f.severity) > severityRank(last.severity)) {
        last.severity = f.severity;
        last.finding = f;
      }
      continue;
    }
    out.push({ xPx, severity: f.severity, finding: f, count: 1 });
  }
  return out;
}

/** The marker within `slopPx` of xPx (the nearest), or -1. */
export function hitTestFindingMark(marks: readonly FindingMark[], xPx: number, slopPx = MARK_MERGE_PX): number {
  let best = -1;
  for (let i = 0; i < marks.length; i++) {
    const d = Math.abs(marks[i]!.xPx - xPx);
    if (d <= slopPx && (best < 0 || d < Math.abs(marks[best]!.xPx - xPx))) best = i;
  }
  return best;
}

/** Canvas colour of a severity (palette chrome). */
export function severityColour(chrome: { findingError: string; findingWarning: string; findingInfo: string }, s: FindingSeverity): string {
  return s === 'error' ? chrome.findingError : s === 'warning' ? chrome.findingWarning : chrome.findingInfo;
}

/** The canvas calls a triangle needs (views pass their own narrow canvas types, tests a recorder). */
type TriangleCanvas = Pick<CanvasRenderingContext2D, 'fillStyle' | 'strokeStyle' | 'lineWidth' | 'beginPath' | 'moveTo' | 'lineTo' | 'closePath' | 'fill' | 'stroke'>;
type SeverityChrome = { findingError: string; findingWarning: string; findingInfo: string; evidence: string };

/** A downward severity triangle from topPx to tipPx at xPx; `shown` (the finding on show) gets the evidence outline. */
export function drawSeverityTriangle(ctx: TriangleCanvas, chrome: SeverityChrome, s: FindingSeverity, xPx: number, topPx: number, tipPx: number, halfWidthPx: number, shown = false): void {
  ctx.fillStyle = severityColour(chrome, s);
  ctx.beginPath();
  ctx.moveTo(xPx - halfWidthPx, topPx);
  ctx.lineTo(xPx + halfWidthPx, topPx);
  ctx.lineTo(xPx, tipPx);
  ctx.closePath();
  ctx.fill();
  if (!shown) return;
  ctx.strokeStyle = chrome.evidence;
  ctx.lineWidth = 2;
  ctx.stroke();
}
