// Flow arrows of the selected span on the timeline: from the selection to each relative
// (syscall → the requests and iomap steps it caused, request → the server thread that served it,
// iomap step → iomap_end → ioend, wait → holder). Pure: relatives in, segments in canvas-plot px out.
//
//   selection start ●──────────────▶ relative start (span) or event time (row, on its task's lane)

import { SPAN_SUBROW, type SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import type { Relative } from '../../trace/derive/relatives.ts';
import { LaneGeometry } from './layout.ts';
import type { TimelineModel } from './model.ts';

export interface FlowSegment { x0Px: number; y0Px: number; x1Px: number; y1Px: number; role: string }

/** Roles drawn as arrows (identity links like path/nodeid have no place in time). */
const FLOW_ROLES = new Set(['caused', 'served by', 'request', 'end', 'ioend', 'holder', 'waiter', 'filled by begin', 'filled by request']);

export function flowSegments(model: TimelineModel, spans: SpanIndex, store: TraceStore, selectedSpanId: number, relatives: readonly Relative[],
  geo: LaneGeometry = LaneGeometry.uniform(model.lanes.length)): FlowSegment[] {
  if (selectedSpanId < 0 || selectedSpanId >= spans.count) return [];
  const mid = (laneRow: number, sub: number): number | null => (geo.isHidden(laneRow) ? null : geo.subrowTop(laneRow, sub) + geo.subrowPx[laneRow]! / 2);
  const rowOfLane = new Map(model.lanes.map((l, i) => [l.laneIdx, i]));
  const laneOfTask = new Map(model.lanes.map((l, i) => [l.task, i]));
  const anchor = (id: number): { xPx: number; yPx: number } | null => {
    const laneRow = rowOfLane.get(spans.lane.data[id]!);
    if (laneRow === undefined) return null;
    const yPx = mid(laneRow, spans.subrow.data[id]!); // an 'fs' lane stacks its steps
    return yPx === null ? null : { xPx: model.scale.nsToPx(spans.startNs.data[id]!), yPx };
  };
  const from = anchor(selectedSpanId);
  if (!from) return [];
  const out: FlowSegment[] = [];
  for (const r of relatives) {
    if (!FLOW_ROLES.has(r.role)) continue;
    let to: { xPx: number; yPx: number } | null = null;
    if (r.spanId >= 0) to = anchor(r.spanId);
    else if (r.row >= 0 && r.row < store.length) {
      const laneRow = laneOfTask.get(store.readField('task', r.row) as string);
      const yPx = laneRow === undefined ? null : mid(laneRow, SPAN_SUBROW.iomap);
      if (yPx !== null) to = { xPx: model.scale.nsToPx(store.tsNs[r.row]!), yPx };
    }
    if (to) out.push({ x0Px: from.xPx, y0Px: from.yPx, x1Px: to.xPx, y1Px: to.yPx, role: r.role });
  }
  return out;
}
