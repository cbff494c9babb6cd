// Findings on the timeline (pure): severity markers on the time axis, merged where they would
// touch (the most severe wins), and the spans / rows of the shown finding's evidence.

import type { Finding } from '../../trace/checks/types.ts';
import type { SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import { spanOfRow } from '../../trace/derive/relatives.ts';

export { findingMarks, type FindingMark } from '../finding-marks.ts';

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
