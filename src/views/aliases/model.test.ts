import { describe, expect, it } from 'vitest';
import { ev } from '../../trace/testing/events.ts';
import { derived } from '../testing-fixtures.ts';
import { aliasGroupRows, buildAliasGraph, buildMiniTimeline, MiniKind, miniIoSource } from './model.ts';

const RACE = [
  ev('inode_new', 1, 'A/1', { nodeId: 2, ino: 13, path: '/d1' }),
  ev('inode_new', 2, 'A/1', { nodeId: 4, ino: 12, path: '/d1/file' }),
  ev('inode_new', 3, 'B/2', { nodeId: 5, ino: 12, path: '/d2/link' }),
  ev('lock_acquire', 10, 'A/1', { nodeId: 4, ino: 12 }),
  ev('iomap_begin', 11, 'A/1', { nodeId: 4, ino: 12 }),
  ev('lock_acquire', 20, 'B/2', { nodeId: 5, ino: 12 }),
  ev('iomap_iter_end', 30, 'A/1', { nodeId: 4, ino: 12 }),
  ev('lock_release', 50, 'A/1', { nodeId: 4, ino: 12 }),
  ev('lock_release', 60, 'B/2', { nodeId: 5, ino: 12 }),
];

describe('aliasing view model', () => {
  it('lays out path → nodeid → ino with the alias group marked', () => {
    const g = buildAliasGraph(derived(RACE).aliases);
    expect(g.columnSizes).toEqual([3, 3, 2]);
    expect(g.nodes.filter((n) => n.aliased).map((n) => n.id).sort()).toEqual(['i:12', 'n:4', 'n:5', 'p:/d1/file', 'p:/d2/link']);
    expect(g.nodes.find((n) => n.id === 'i:12')!.label).toBe('ino 12');
    expect(g.edges).toContainEqual({ from: 'n:5', to: 'i:12', aliased: true });
    expect(g.edges).toContainEqual({ from: 'p:/d1', to: 'n:2', aliased: false });
  });
  it('tables alias groups with their overlapping exclusive holds', () => {
    const { aliases, locks, spans } = derived(RACE);
    expect(aliasGroupRows(aliases, locks, spans)).toEqual([
      { id: 4, ino: 12, inos: [12], conflict: false, nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'], pathsByNode: [['/d1/file'], ['/d2/link']], overlapCount: 1, overlapTotalNs: 30, unendedHolds: 0, holdsSeen: 2 },
    ]);
  });
  it('a group with no i_rwsem hold traced (a real kernel traces only contended locks): holdsSeen 0, overlaps unknown', () => {
    const { aliases, locks, spans } = derived(RACE.filter((e) => e.kind !== 'lock_acquire' && e.kind !== 'lock_release'));
    expect(aliasGroupRows(aliases, locks, spans)).toMatchObject([{ nodeIds: [4, 5], overlapCount: 0, holdsSeen: 0 }]);
  });
  it('mini-timeline: IO and holds per nodeid, the overlap marked', () => {
    const { locks, spans, store } = derived(RACE);
    const m = buildMiniTimeline([4, 5], locks, spans, store, 0, 100, 100);
    expect(m.prims.toArray().map((p) => [p.row, p.style, p.xPx, p.widthPx])).toEqual([
      [0, MiniKind.io, 11, 19], [0, MiniKind.holdW, 10, 40], [1, MiniKind.holdW, 20, 40],
    ]);
    expect(m.overlaps).toEqual([{ xPx: 20, widthPx: 30 }]);
  });
  it('mini-timeline of a trace without iomap (fuse2fs): the IO band draws each nodeid\'s FUSE READ/WRITE requests, not its other requests', () => {
    const f2fs = [
      ev('inode_new', 1, 'fuse2fs/9', { nodeId: 2, ino: 12, path: '/a' }),
      ev('inode_new', 2, 'fuse2fs/9', { nodeId: 3, ino: 12, path: '/b' }),
      ev('fuse_send', 10, 'writer-a/20', { unique: 40, opcode: 16, nodeId: 2 }), // WRITE through /a
      ev('fuse_send', 20, 'writer-b/21', { unique: 42, opcode: 15, nodeId: 3 }), // READ through /b
      ev('fuse_reply', 30, 'fuse2fs/9', { unique: 40, opcode: 16 }),
      ev('fuse_reply', 45, 'fuse2fs/9', { unique: 42, opcode: 15 }),
      ev('fuse_send', 50, 'writer-a/20', { unique: 44, opcode: 3, nodeId: 2 }), // GETATTR: not IO
      ev('fuse_reply', 55, 'fuse2fs/9', { unique: 44, opcode: 3 }),
    ];
    const { locks, spans, store } = derived(f2fs);
    expect(miniIoSource(spans)).toBe('fuse');
    const m = buildMiniTimeline([2, 3], locks, spans, store, 0, 100, 100);
    expect(m.prims.toArray().map((p) => [p.row, p.style, p.xPx, p.widthPx])).toEqual([[0, MiniKind.io, 10, 20], [1, MiniKind.io, 20, 25]]);
    // With iomap steps in the trace, those are the IO (RACE has one): its requests are not drawn.
    expect(miniIoSource(derived(RACE).spans)).toBe('iomap');
  });
  it('no groups under the ino policy', () => {
    const { aliases, locks, spans } = derived([
      ev('inode_new', 2, 'A/1', { nodeId: 12, ino: 12, path: '/d1/file' }),
      ev('inode_lookup', 3, 'B/2', { nodeId: 12, ino: 12, path: '/d2/link' }),
    ]);
    expect(aliasGroupRows(aliases, locks, spans)).toEqual([]);
    expect(buildAliasGraph(aliases).nodes.some((n) => n.aliased)).toBe(false);
  });

  // The real capture's shape: a LINK makes 4 and 5 one inode, nothing gives its number.
  const LINKED = [
    ev('inode_new', 1, 'srv/1', { nodeId: 2, ino: 0, path: '/d1' }),
    ev('inode_new', 2, 'srv/1', { nodeId: 4, ino: 0, path: '/d1/file' }),
    ev('inode_new', 3, 'srv/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }),
    ev('lock_acquire', 10, 'A/1', { nodeId: 4, ino: 0 }),
    ev('lock_acquire', 20, 'B/2', { nodeId: 5, ino: 0 }),
    ev('lock_release', 50, 'A/1', { nodeId: 4, ino: 0 }),
    ev('lock_release', 60, 'B/2', { nodeId: 5, ino: 0 }),
  ];
  it('a LINK group without a number: one "ino unknown" node, never "ino 0" or a nodeid as ino', () => {
    const g = buildAliasGraph(derived(LINKED).aliases);
    const inodes = g.nodes.filter((n) => n.column === 2);
    expect(inodes.map((n) => [n.id, n.label])).toEqual([['u:4', 'ino unknown']]);
    expect(g.edges.filter((e) => e.to === 'u:4').map((e) => e.from).sort()).toEqual(['n:4', 'n:5']);
    expect(g.nodes.some((n) => /ino (0|2|4|5)\b/.test(n.label) || /ino (0|4|5)\b/.test(n.title))).toBe(false);
    expect(g.nodes.find((n) => n.id === 'n:2')!.title).toBe('nodeid 2 → ino unknown');
  });
  it('its overlapping exclusive holds are still found (the group, not a number, is the inode)', () => {
    const { aliases, locks, spans } = derived(LINKED);
    expect(aliasGroupRows(aliases, locks, spans)).toMatchObject([{ id: 4, ino: 0, inos: [], nodeIds: [4, 5], overlapCount: 1, overlapTotalNs: 30 }]);
  });
  it('evidence that disagrees: both numbers drawn and flagged', () => {
    const g = buildAliasGraph(derived([
      ev('iomap_begin', 1, 'A/1', { nodeId: 4, ino: 14 }),
      ev('iomap_begin', 2, 'A/1', { nodeId: 5, ino: 15 }),
      ev('inode_new', 3, 'srv/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }),
    ]).aliases);
    expect(g.nodes.filter((n) => n.column === 2).map((n) => [n.label, n.conflict])).toEqual([['ino 14 ⚠', true], ['ino 15 ⚠', true]]);
  });
});

describe('aliasing mini-timeline on a trace cut at both ends', () => {
  it('an inferred hold is a fading stub, a begun-before hold fades at its start, and neither is an overlap', async () => {
    const { excerpt } = await import('../../trace/testing/unended.ts');
    const { Edge, INFERRED_STUB_PX } = await import('../../render/faded.ts');
    const { locks, spans, store } = derived(excerpt());
    spans.markComplete();
    // 1000 → 2350 ns over 1350 px: 1 px per ns.
    const m = buildMiniTimeline([2, 3], locks, spans, store, 1000, 2350, 1350);
    const holds = m.prims.toArray().filter((p) => p.style !== MiniKind.io).map((p) => [p.row, Math.round(p.xPx), Math.round(p.widthPx), p.edge]);
    expect(holds).toEqual([
      [0, 0, 30, Edge.begunBefore], // dd/102's release at 1030 (nodeid 2): began before the trace
      [0, 140, INFERRED_STUB_PX, Edge.openEnd], // dd/100's hold from its contention end at 1140 (nodeid 2)
      [1, 150, 10, 0], // dd/103's traced hold on nodeid 3, 1150 → 1160
    ]);
    expect(m.overlaps).toEqual([]);
  });
});

describe('aliasing graph: which nodeids are iomap files', () => {
  it('fuse_iomap_init_inode state marks its nodeid (iomap, iomap excl), others stay plain', async () => {
    const { InodeState } = await import('../../trace/fuse-proto.ts');
    const { aliases } = derived([
      ev('inode_new', 1, 'k/1', { nodeId: 4, ino: 14, path: '/d1/file' }),
      ev('inode_new', 2, 'k/1', { nodeId: 5, ino: 14, path: '/d2/link' }),
      ev('inode_new', 3, 'k/1', { nodeId: 6, ino: 15, path: '/other' }),
      ev('inode_iomap', 4, 'k/1', { nodeId: 4, ino: 14, inodeFlags: InodeState.IOMAP | InodeState.EXCL }),
      ev('inode_iomap', 5, 'k/1', { nodeId: 5, ino: 14, inodeFlags: InodeState.IOMAP }),
    ]);
    const labels = buildAliasGraph(aliases).nodes.filter((n) => n.column === 1).map((n) => n.label).sort();
    expect(labels).toEqual(['nodeid 4 · iomap excl', 'nodeid 5 · iomap', 'nodeid 6']);
  });
});
