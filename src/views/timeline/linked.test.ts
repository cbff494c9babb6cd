import { describe, expect, it } from 'vitest';
import { ev } from '../../trace/testing/events.ts';
import { derived } from '../testing-fixtures.ts';
import { buildTimelineModel } from './model.ts';
import { linkOfSpan, linkedPrims } from './linked.ts';
import { asIno, UNKNOWN_INO } from '../../trace/ids.ts';

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
    expect(ids(linkedPrims(h, m, 1, UNKNOWN_INO))).toEqual([2]);
    expect(ids(linkedPrims(h, m, -1, asIno(12)))).toEqual([0, 1]);
    expect(linkedPrims(h, m, -1, UNKNOWN_INO)).toEqual([]);
  });
  it('reads ino and nodeId only where the begin row has them', () => {
    // fuse_send / fuse_recv have no ino, app_op_begin no nodeId either: other fields share those
    // columns (columns.ts; fuse_send's opcode shares ino's). All 99 here, an ino and nodeId that is
    // known, they must not link the spans to it.
    const d2 = derived([
      ev('inode_new', 0, 'a/1', { nodeId: 4, ino: 12, path: '/f' }),
      ev('inode_new', 0, 'a/1', { nodeId: 99, ino: 99, path: '/g' }),
      ev('app_op_begin', 10, 'a/1', { fd: 99, posBytes: 99, lenBytes: 99, oflags: 99 }),
      ev('fuse_send', 20, 'a/1', { unique: 99, opcode: 99, nodeId: 4, lenBytes: 99 }),
      ev('fuse_recv', 30, 's/2', { unique: 99, opcode: 99, nodeId: 4 }),
    ]);
    const h2 = { trace: d2.store, ...d2 };
    expect([0, 1, 2].map((id) => linkOfSpan(h2, id).ino)).toEqual([0, 12, 12]);
  });
});
