import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { SpanIndex } from '../../trace/spans.ts';
import { ev } from '../../trace/testing/events.ts';
import { MapType } from '../../trace/fuse-proto.ts';
import { spanMatcher } from './filter.ts';

function build() {
  const store = new TraceStore();
  store.appendAll([
    ev('iomap_begin', 0, 'a/1', { nodeId: 4, ino: 12 }),
    ev('iomap_map', 1, 'a/1', { nodeId: 4, ino: 12, slot: 'read', mapType: MapType.UNWRITTEN }),
    ev('iomap_iter_end', 5, 'a/1', { nodeId: 4, ino: 12 }),
    ev('iomap_begin', 10, 'b/2', { nodeId: 6, ino: 13 }),
    ev('iomap_map', 11, 'b/2', { nodeId: 6, ino: 13, slot: 'read', mapType: MapType.MAPPED }),
    ev('iomap_iter_end', 15, 'b/2', { nodeId: 6, ino: 13 }),
  ]);
  const spans = new SpanIndex();
  spans.update(store);
  return { store, spans };
}

describe('spanMatcher', () => {
  it('matches a span through its begin, end or mapping rows', () => {
    const { store, spans } = build();
    const byType = spanMatcher(spans, store, 'type:unwritten')!;
    expect([byType(0), byType(1)]).toEqual([true, false]);
    const byIno = spanMatcher(spans, store, 'ino:13')!;
    expect([byIno(0), byIno(1)]).toEqual([false, true]);
  });
  it('dims nothing for an empty query', () => {
    const { store, spans } = build();
    expect(spanMatcher(spans, store, '  ')).toBeNull();
  });
});
