// Which spans a search query matches, for dimming the rest. A span matches when any of its rows
// does: the begin event, the end event, or (iomap steps) the read/write mapping events — so
// `type:unwritten` lights up the iomap steps whose mapping was unwritten, `opcode:IOMAP_IOEND`
// the requests, `ino:12` everything on that inode. Answers are memoized per span; build a new
// matcher when the query or the trace changes.

import { NO_ROW, type SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import { compileQuery, parseQuery } from '../../trace/derive/search.ts';

export type SpanMatcher = (spanId: number) => boolean;

/** Returns null for an empty (or unparseable) query: nothing is dimmed. */
export function spanMatcher(spans: SpanIndex, store: TraceStore, query: string): SpanMatcher | null {
  const rowMatch = compileQuery(store, parseQuery(query));
  if (!rowMatch) return null;
  const memo = new Map<number, boolean>();
  return (spanId) => {
    let hit = memo.get(spanId);
    if (hit === undefined) {
      const matches = (row: number): boolean => row !== NO_ROW && row < store.length && rowMatch(row);
      // Begin and end rows first; an iomap step's mapping rows (a scan) only if they do not match.
      hit = matches(spans.beginRow.data[spanId]!) || matches(spans.endRow.data[spanId]!);
      if (!hit) {
        const map = spans.mapRowsOf(store, spanId);
        hit = matches(map.read) || matches(map.write);
      }
      memo.set(spanId, hit);
    }
    return hit;
  };
}
