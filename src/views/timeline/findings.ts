// Findings on the timeline (pure): severity markers on the time axis, merged where they would
// touch (the most severe wins), and the spans / rows of the shown finding's evidence.

import { severityRank, type Finding, type FindingSeverity } from '../../trace/checks/types.ts';
import type { SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import type { TimeScale } from '../../render/time-scale.ts';
import { spanOfRow } from '../../trace/derive/relatives.ts';

/** Markers closer than this merge into one (clicking it shows its most severe finding). */
const MARK_MERGE_PX = 6;

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

export interface EvidenceSpans {
  /** Spans that begin or end at an evidence row (a request's send and reply are one span). */
  spanIds: Set<number>;
  /** Evidence rows in the page that open or close no span (an inode or cache event): drawn as marks. */
  rows: number[];
}

/** The evidence of `f` in the page: stream rows minus `rowBase`; rows evicted are left out. */
export function evidenceSpans(f: Finding, trace: TraceStore, spans: SpanIndex, rowBase: number): EvidenceSpans {
  const spanIds = new Set<number>();
  const pending = new Set<number>();
  for (const streamRow of f.evidence) {
    const row = streamRow - rowBase;
    if (row < 0 || row >= trace.length) continue;
    const id = spanOfRow(spans, row);
    if (id >= 0) spanIds.add(id);
    else pending.add(row);
  }
  if (pending.size > 0) {
    // End rows: one pass over the spans, once per shown finding (a click, an eviction).
    const endRow = spans.endRow.data;
    const found = new Set<number>();
    for (let id = 0; id < spans.count; id++) {
      if (pending.has(endRow[id]!) && !spans.isOpen(id)) {
        spanIds.add(id);
        found.add(endRow[id]!);
      }
    }
    for (const r of found) pending.delete(r);
  }
  return { spanIds, rows: [...pending].sort((a, b) => a - b) };
}
