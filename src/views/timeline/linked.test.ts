import { describe, expect, it } from 'vitest';
import { ev } from '../../trace/testing/events.ts';
import { derived } from '../testing-fixtures.ts';
import { buildTimelineModel } from './model.ts';
import { linkOfSpan, linkedPrims } from './linked.ts';

describe('timeline linked hover', () => {
  const d = derived([
    ev('inode_new', 0, 'a/1', { nodeId: 4, ino: 12, path: '/f' }),
    ev('lock_acquire', 10, 'a/1', { nodeId: 4, ino: 12 }),
    ev('fuse_send', 20, 'a/1', { unique: 2, nodeId: 4 }),
    ev('fuse_reply', 30, 's/2', { unique: 2 }),
    ev('lock_release', 40, 'a/1', { nodeId: 4, ino: 12 }),
    ev('lock_acquire', 50, 'b/3', { nodeId: 9, ino: 99 }),
    ev('lock_release', 60, 'b/3', { nodeId: 9, ino: 99 }),
  ]);
  const h = { trace: d.store, ...d };
  it('names the lock and inode of a span', () => {
    expect(linkOfSpan(h, 0)).toEqual({ lockIdx: 0, ino: 12 });
    expect(linkOfSpan(h, 1)).toEqual({ lockIdx: -1, ino: 12 }); // request: ino via its nodeId
    expect(linkOfSpan(h, 2)).toEqual({ lockIdx: 1, ino: 99 });
  });
  it('finds the drawn spans of a hovered lock or inode', () => {
    const m = buildTimelineModel(d.spans, d.store, 0, 100, 100);
    const ids = (idx: number[]): number[] => idx.map((i) => m.prims.spanId[i]!).sort();
    expect(ids(linkedPrims(h, m, 1, 0))).toEqual([2]);
    expect(ids(linkedPrims(h, m, -1, 12))).toEqual([0, 1]);
    expect(linkedPrims(h, m, -1, 0)).toEqual([]);
  });
});
