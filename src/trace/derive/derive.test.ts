import { describe, expect, it } from 'vitest';
import { TraceStore } from '../store.ts';
import { SpanIndex } from '../spans.ts';
import { ev } from '../testing/events.ts';
import { derived } from '../testing/derived.ts';
import { FIELD_TYPES, KIND_FIELDS, KINDS, type EventKind, type FieldName, type TraceEvent } from '../schema.ts';
import { MapType } from '../fuse-proto.ts';
import { AliasIndex } from './aliases.ts';
import { LockIndex, contentionTable, exclusiveOverlaps } from './locks.ts';
import { cacheContentsAt, hitRateBuckets, markerList } from './cache.ts';
import { relativesOf, spanOfRow } from './relatives.ts';

const build = derived;

/** hardlink-alias-race in miniature: /d1/file and /d2/link → nodeIds 4 and 5 on ino 12. */
const RACE = [
  ev('inode_new', 10, 'writerA/1', { nodeId: 4, ino: 12, path: '/d1/file' }),
  ev('inode_lookup', 10, 'writerA/1', { nodeId: 4, ino: 12, path: '/d1/file', nlookup: 1 }),
  ev('inode_new', 20, 'writerB/2', { nodeId: 5, ino: 12, path: '/d2/link' }),
  ev('inode_lookup', 20, 'writerB/2', { nodeId: 5, ino: 12, path: '/d2/link', nlookup: 1 }),
  ev('inode_new', 25, 'writerA/1', { nodeId: 2, ino: 13, path: '/d1' }),
  ev('lock_acquire', 30, 'writerA/1', { nodeId: 4, ino: 12, mode: 'W' }),
  ev('lock_acquire', 40, 'writerB/2', { nodeId: 5, ino: 12, mode: 'W' }),
  ev('lock_wait', 50, 'reader/3', { nodeId: 4, ino: 12, mode: 'R' }),
  ev('lock_release', 80, 'writerA/1', { nodeId: 4, ino: 12, mode: 'W' }),
  ev('lock_acquire', 85, 'reader/3', { nodeId: 4, ino: 12, mode: 'R' }),
  ev('lock_release', 90, 'writerB/2', { nodeId: 5, ino: 12, mode: 'W' }),
  ev('lock_release', 100, 'reader/3', { nodeId: 4, ino: 12, mode: 'R' }),
];

describe('AliasIndex', () => {
  it('finds one alias group: ino 12 through nodeIds 4 and 5 with their paths', () => {
    const { aliases } = build(RACE);
    expect(aliases.groups()).toEqual([{ id: 4, ino: 12, inos: [12], conflict: false, nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'] }]);
    expect(aliases.paths.get('/d2/link')!.nodeIds).toEqual([5]);
    expect(aliases.inoOf(asNodeId(2))).toBe(13);
  });
  it('finds none under the ino policy (one nodeId per ino, two paths)', () => {
    const { aliases } = build([
      ev('inode_new', 10, 'a/1', { nodeId: 12, ino: 12, path: '/d1/file' }),
      ev('inode_lookup', 20, 'b/2', { nodeId: 12, ino: 12, path: '/d2/link', nlookup: 2 }),
    ]);
    expect(aliases.groups()).toEqual([]);
    expect(aliases.nodes.get(asNodeId(12))!.paths).toEqual(['/d1/file', '/d2/link']);
  });
  it('is incremental and learns nodes from iomap events too', () => {
    const store = new TraceStore();
    const a = new AliasIndex();
    store.append(ev('iomap_begin', 1, 'x/1', { nodeId: 7, ino: 30 }));
    a.update(store);
    store.append(ev('iomap_begin', 2, 'x/1', { nodeId: 8, ino: 30 }));
    a.update(store);
    expect(a.groups()).toEqual([{ id: 7, ino: 30, inos: [30], conflict: false, nodeIds: [7, 8], paths: [] }]);
  });
  it('groups by LINK (aliasOf) without an inode number: ino unknown (0), never a nodeid', () => {
    const { aliases } = build([
      ev('inode_new', 1, 's/1', { nodeId: 4, ino: 0, path: '/d1/file' }),
      ev('inode_new', 2, 's/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }),
      ev('inode_new', 3, 's/1', { nodeId: 2, ino: 0, path: '/d1' }),
    ]);
    expect(aliases.groups()).toEqual([{ id: 4, ino: 0, inos: [], conflict: false, nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'] }]);
    expect(aliases.inoOf(asNodeId(5))).toBe(0);
    expect(aliases.groupOf(asNodeId(2))!.nodeIds).toEqual([2]);
  });
  it('a LINK group plus a reply\'s st_ino on one member: the whole group has that number', () => {
    const store = new TraceStore();
    const a = new AliasIndex();
    store.appendAll([
      ev('inode_new', 1, 's/1', { nodeId: 4, ino: 0, path: '/d1/file' }),
      ev('inode_new', 2, 's/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }),
    ]);
    a.update(store);
    const v = a.version;
    store.append(ev('inode_lookup', 3, 's/1', { nodeId: 5, ino: 14, path: '', nlookup: 0 }));
    a.update(store);
    expect(a.version).toBeGreaterThan(v);
    expect(a.groups()).toEqual([{ id: 4, ino: 14, inos: [14], conflict: false, nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'] }]);
    expect(a.inoOf(asNodeId(4))).toBe(14);
    // nlookup 0 marks evidence, not a counted lookup: the count is kept.
    expect(a.nodes.get(asNodeId(5))!.nlookup).toBe(0);
  });
  it('evidence that disagrees keeps both numbers and flags the group', () => {
    const { aliases } = build([
      ev('iomap_begin', 1, 'a/1', { nodeId: 4, ino: 14 }),
      ev('iomap_begin', 2, 'a/1', { nodeId: 5, ino: 15 }),
      ev('inode_lookup', 3, 's/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4, nlookup: 1 }),
    ]);
    expect(aliases.groups()).toEqual([{ id: 4, ino: 0, inos: [14, 15], conflict: true, nodeIds: [4, 5], paths: ['/d2/link'] }]);
    expect(aliases.inoOf(asNodeId(4))).toBe(0);
  });
});

describe('LockIndex', () => {
  it('has one lock per (name, nodeId) and one row per task', () => {
    const { locks } = build(RACE);
    expect(locks.locks.map((l) => [l.lock, l.nodeId, l.ino])).toEqual([['i_rwsem', 4, 12], ['i_rwsem', 5, 12]]);
    expect(locks.rows.map((r) => `${r.lockIdx}:${r.task}`)).toEqual(['0:writerA/1', '1:writerB/2', '0:reader/3']);
  });
  it('links a wait to the holder whose release let it in, and back', () => {
    const { spans, locks } = build(RACE);
    const wait = locks.locks[0]!.waitIds.data[0]!;
    const holder = locks.holderOf(spans, wait);
    expect(spans.lanes[spans.lane.data[holder]!]!.task).toBe('writerA/1');
    expect(spans.startNs.data[holder]).toBe(30);
    expect(locks.waitersOf(spans, holder)).toEqual([wait]);
  });
  it('finds a long hold as a wait\'s holder however many short holds came in the same batch', () => {
    // A holds W for 1 ms; B waits through most of it; then C takes the lock 300 times briefly. All
    // in one update: the longest hold must bound the search, not the last few holds' lengths.
    const lock = { nodeId: 4, ino: 12, mode: 'W' } as const;
    const events: TraceEvent[] = [
      ev('lock_acquire', 0, 'A/1', lock),
      ev('lock_wait', 500_000, 'B/2', lock),
      ev('lock_release', 1_000_000, 'A/1', lock),
      ev('lock_acquire', 1_000_010, 'B/2', lock),
      ev('lock_release', 1_000_020, 'B/2', lock),
    ];
    for (let i = 0; i < 300; i++) {
      events.push(ev('lock_acquire', 2_000_000 + i * 100, 'C/3', lock), ev('lock_release', 2_000_000 + i * 100 + 50, 'C/3', lock));
    }
    const { spans, locks } = build(events);
    const wait = locks.locks[0]!.waitIds.data[0]!;
    const holder = locks.holderOf(spans, wait);
    expect(spans.lanes[spans.lane.data[holder]!]!.task).toBe('A/1');
    expect(locks.waitersOf(spans, holder)).toEqual([wait]);
  });
  it('a wait points at a hold that never closed, however long ago it began', () => {
    // A takes the lock and its release is lost; C's short holds come and go; B then waits. A's
    // open hold is older than the longest closed hold reaches back, yet it is what B waits for.
    const lock = { nodeId: 4, ino: 12, mode: 'W' } as const;
    const events: TraceEvent[] = [ev('lock_acquire', 0, 'A/1', lock)];
    for (let i = 0; i < 20; i++) events.push(ev('lock_acquire', 1_000 + i * 100, 'C/3', lock), ev('lock_release', 1_000 + i * 100 + 10, 'C/3', lock));
    events.push(ev('lock_wait', 1_000_000, 'B/2', lock));
    const { spans, locks } = build(events);
    const holder = locks.holderOf(spans, locks.locks[0]!.waitIds.data[0]!);
    expect(holder).toBeGreaterThanOrEqual(0);
    expect(spans.lanes[spans.lane.data[holder]!]!.task).toBe('A/1');
  });
  it('a wait still open points at the open hold', () => {
    const { spans, locks } = build(RACE.slice(0, 8));
    const wait = locks.locks[0]!.waitIds.data[0]!;
    expect(spans.startNs.data[locks.holderOf(spans, wait)]).toBe(30);
  });
  it('tables contention per inode, read and write apart', () => {
    const { spans, locks, store } = build(RACE);
    const rows = contentionTable(locks, spans, 'ino', store.endNs);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ key: 'ino:12', contended: 1, totalWaitNs: 35, maxWaitNs: 35, readCount: 1, writeCount: 0 });
    expect(contentionTable(locks, spans, 'task', store.endNs)[0]!.label).toBe('reader/3');
    expect(contentionTable(locks, spans, 'ino', store.endNs, 200, 300)).toEqual([]);
  });
  it("counts only the search's task: and ino: waits, in every grouping, ignoring case", () => {
    // ino 12: Reader/3 waits 10→30 (20 ns), writerB/2 waits 20→50 (30 ns); ino 13: Reader/3 waits 70→75 (5 ns).
    const { spans, locks, store } = build([
      ev('lock_acquire', 0, 'writerA/1', { nodeId: 4, ino: 12, mode: 'W' }),
      ev('lock_wait', 10, 'Reader/3', { nodeId: 4, ino: 12, mode: 'R' }),
      ev('lock_wait', 20, 'writerB/2', { nodeId: 4, ino: 12, mode: 'W' }),
      ev('lock_release', 30, 'writerA/1', { nodeId: 4, ino: 12, mode: 'W' }),
      ev('lock_acquire', 30, 'Reader/3', { nodeId: 4, ino: 12, mode: 'R' }),
      ev('lock_release', 50, 'Reader/3', { nodeId: 4, ino: 12, mode: 'R' }),
      ev('lock_acquire', 50, 'writerB/2', { nodeId: 4, ino: 12, mode: 'W' }),
      ev('lock_release', 60, 'writerB/2', { nodeId: 4, ino: 12, mode: 'W' }),
      ev('lock_acquire', 65, 'writerA/1', { nodeId: 6, ino: 13, mode: 'W' }),
      ev('lock_wait', 70, 'Reader/3', { nodeId: 6, ino: 13, mode: 'W' }),
      ev('lock_release', 75, 'writerA/1', { nodeId: 6, ino: 13, mode: 'W' }),
      ev('lock_acquire', 75, 'Reader/3', { nodeId: 6, ino: 13, mode: 'W' }),
      ev('lock_release', 80, 'Reader/3', { nodeId: 6, ino: 13, mode: 'W' }),
    ]);
    const table = (by: 'ino' | 'lock' | 'task', filter: { ino?: number; task?: string }) =>
      contentionTable(locks, spans, by, store.endNs, -Infinity, Infinity, store, filter).map((r) => [r.key, r.contended, r.totalWaitNs]);
    expect(table('ino', {})).toEqual([['ino:12', 2, 50], ['ino:13', 1, 5]]);
    expect(table('ino', { task: 'reader' })).toEqual([['ino:12', 1, 20], ['ino:13', 1, 5]]);
    expect(table('ino', { task: 'READER', ino: 13 })).toEqual([['ino:13', 1, 5]]);
    expect(table('task', { ino: 12 })).toEqual([['task:writerB/2', 1, 30], ['task:Reader/3', 1, 20]]);
    expect(table('lock', { task: 'writerb' }).map((r) => r.slice(1))).toEqual([[1, 30]]);
  });
  it('groups waits by caller: the syscall in progress when the wait began', () => {
    const { spans, locks, store } = build([
      ...RACE.slice(0, 7),
      ev('app_op_begin', 45, 'reader/3', { op: 'pread' }),
      ...RACE.slice(7),
      ev('app_op_end', 110, 'reader/3', { op: 'pread' }),
    ]);
    const rows = contentionTable(locks, spans, 'caller', store.endNs, -Infinity, Infinity, store);
    expect(rows.map((r) => [r.label, r.contended])).toEqual([['pread', 1]]);
    // Without the store (or a syscall) the caller falls back to the task's role.
    expect(contentionTable(locks, spans, 'caller', store.endNs)[0]!.label).toBe('(no syscall)');
  });
  it('marks overlapping exclusive holds on one ino through two nodeIds', () => {
    const { spans, locks } = build(RACE);
    const o = exclusiveOverlaps(locks, spans);
    expect(o).toEqual([expect.objectContaining({ ino: 12, fromNs: 40, toNs: 80 })]);
  });
  it('no overlap when writers serialise on one nodeId', () => {
    const { spans, locks, store } = build([
      ev('lock_acquire', 30, 'a/1', { nodeId: 12, ino: 12 }),
      ev('lock_wait', 40, 'b/2', { nodeId: 12, ino: 12 }),
      ev('lock_release', 80, 'a/1', { nodeId: 12, ino: 12 }),
      ev('lock_acquire', 82, 'b/2', { nodeId: 12, ino: 12 }),
      ev('lock_release', 90, 'b/2', { nodeId: 12, ino: 12 }),
    ]);
    expect(exclusiveOverlaps(locks, spans)).toEqual([]);
    expect(contentionTable(locks, spans, 'ino', store.endNs)[0]).toMatchObject({ contended: 1, writeCount: 1, writeWaitNs: 42 });
  });
});

describe('CacheIndex', () => {
  const events = [
    ev('cache_lookup', 10, 'r/1', { nodeId: 4, hit: false, posBytes: 0 }),
    ev('cache_upsert', 20, 'srv/9', { nodeId: 4, mapType: MapType.MAPPED, mapOffsetBytes: 0, mapLenBytes: 65536 }),
    ev('cache_lookup', 30, 'r/1', { nodeId: 4, hit: true, posBytes: 0 }),
    ev('cache_lookup', 40, 'r/1', { nodeId: 4, hit: true, posBytes: 4096 }),
    ev('cache_inval', 50, 'kw/5', { nodeId: 4, posBytes: 16384, lenBytes: 4096, reason: 'ioend' }),
    ev('cache_upsert', 60, 'srv/9', { nodeId: 4, fork: 'write', mapType: MapType.UNWRITTEN, mapOffsetBytes: 0, mapLenBytes: 8192 }),
    ev('cache_drop', 70, 'r/1', { nodeId: 4, fork: 'read', reason: 'overflow' }),
  ];
  it('keeps extents over their lifetime, splitting on a partial invalidation', () => {
    const { cache, store } = build(events);
    const c = cache.inodes.get(asNodeId(4))!;
    expect(c.hits).toBe(2);
    expect(c.misses).toBe(1);
    expect(cacheContentsAt(c, 45).map((e) => [e.fork, e.offsetBytes, e.lenBytes])).toEqual([['read', 0, 65536]]);
    expect(cacheContentsAt(c, 55).map((e) => [e.fork, e.offsetBytes, e.lenBytes])).toEqual([['read', 0, 16384], ['read', 20480, 45056]]);
    expect(cacheContentsAt(c, 65).map((e) => e.fork)).toEqual(['read', 'read', 'write']);
    expect(cacheContentsAt(c, 75).map((e) => [e.fork, e.mapType])).toEqual([['write', MapType.UNWRITTEN]]);
    expect(c.extents.at(c.extentIds[0]!).endReason).toBe('ioend');
    expect(markerList(store, c).map((m) => m.kind)).toEqual(['miss', 'upsert', 'hit', 'hit', 'inval', 'upsert', 'drop']);
  });
  it('an absent-fork lookup is neither hit nor miss; a rejected upsert caches nothing', () => {
    const { cache, store } = build([
      ev('cache_upsert', 5, 'srv/9', { nodeId: 4, mapType: MapType.MAPPED, mapOffsetBytes: 0, mapLenBytes: 65536 }),
      ev('cache_lookup', 10, 'w/1', { nodeId: 4, fork: 'write', hit: false, forkAbsent: true, posBytes: 0 }),
      ev('cache_lookup', 11, 'w/1', { nodeId: 4, fork: 'read', hit: true, posBytes: 0 }),
      ev('cache_upsert', 20, 'srv/9', { nodeId: 4, mapType: MapType.MAPPED, mapOffsetBytes: 65536, mapLenBytes: 65536, rejected: true }),
    ]);
    const c = cache.inodes.get(asNodeId(4))!;
    expect([c.hits, c.misses]).toEqual([1, 0]);
    expect(markerList(store, c).map((m) => m.kind)).toEqual(['upsert', 'hit']);
    expect(cacheContentsAt(c, 25).map((e) => [e.offsetBytes, e.lenBytes])).toEqual([[0, 65536]]);
  });
  it('buckets hits and misses for the hit-rate strip', () => {
    const { cache, store } = build(events);
    const b = hitRateBuckets(store, cache.inodes.get(asNodeId(4))!, 0, 80, 2);
    expect([...b.misses]).toEqual([1, 0]);
    expect([...b.hits]).toEqual([1, 1]); // hits at 30 and 40: 40 opens the second bucket
  });
  it('counts an upcall before the inode has a cache as a miss, once the cache appears', () => {
    const { cache, store } = build([
      ev('iomap_begin', 5, 'r/1', { nodeId: 4, posBytes: 8192 }),
      ev('fuse_send', 6, 'r/1', { nodeId: 4, opcode: 4094, unique: 2 }),
      ev('iomap_begin', 7, 'r/1', { nodeId: 9, posBytes: 0 }), // never cached: stays out of the view
      ev('fuse_send', 8, 'r/1', { nodeId: 9, opcode: 4094, unique: 4 }),
      ev('cache_upsert', 20, 'srv/9', { nodeId: 4, mapOffsetBytes: 0, mapLenBytes: 65536 }),
      ev('cache_lookup', 30, 'r/1', { nodeId: 4, hit: true }),
    ]);
    const c = cache.inodes.get(asNodeId(4))!;
    expect(markerList(store, c).map((m) => [m.kind, m.reason, m.row, m.tsNs])).toEqual([['miss', 'no cache yet', 0, 6], ['upsert', '', 4, 20], ['hit', '', 5, 30]]);
    // Found by its upcall's time (6), not its iomap_begin row's (5).
    expect([c.markers.lowerBound(store, 6), c.markers.lowerBound(store, 6.5)]).toEqual([0, 1]);
    expect([...hitRateBuckets(store, c, 5.5, 7.5, 2).misses]).toEqual([1, 0]);
    expect([c.hits, c.misses]).toEqual([1, 1]);
    expect(cache.inodes.has(asNodeId(9))).toBe(false);
  });
  it('keeps the simulator\'s stale-use instants as markers of the nodeid their text names, apart from stale cookies', () => {
    // Text as server/sim/kernel/oracle.ts writes it; pos 0x110000 = 1114112.
    const text = (pos: string) => `nodeid 4 ino 12 pos 0x${pos} cookie 3 ic_seq 5: unwritten mapping over converted blocks: partial folios are zeroed instead of read (cookie validation off)`;
    const { cache, store } = build([
      ev('cache_upsert', 10, 's/1', { nodeId: 4, mapOffsetBytes: 0, mapLenBytes: 4096 }),
      ev('instant', 20, 'writer/3', { name: 'stale_mapping_used', text: text('110000') }),
      ev('instant', 25, 'writer/3', { name: 'other_instant', text: text('0') }), // another name: not a stale use
      ev('instant', 30, 'writer/3', { name: 'stale_mapping_used', text: text('2000') }),
    ]);
    const c = cache.inodes.get(asNodeId(4))!;
    expect(markerList(store, c).map((m) => [m.kind, m.row, m.posBytes])).toEqual([['upsert', 0, 0], ['stale_use', 1, 1114112], ['stale_use', 3, 8192]]);
    expect(markerList(store, c)[1]!.reason).toBe('unwritten mapping over converted blocks: partial folios are zeroed instead of read (cookie validation off)');
    expect([cache.staleUses, c.staleUses]).toEqual([2, 2]);
    expect(c.maxOffsetBytes).toBe(1114113); // the stale use's folio reaches past the cached extent
  });
  it('reads a marker back from its row: stale cookies, drops, the view height', () => {
    const { cache, store } = build([
      ev('cache_upsert', 10, 's/1', { nodeId: 4, mapOffsetBytes: 8192, mapLenBytes: 4096 }),
      ev('cache_stale', 20, 'kw/2', { nodeId: 4, posBytes: 8192, mapLenBytes: 4096, oldCookie: 3, newCookie: 5 }),
      ev('cache_drop', 30, 'kw/2', { nodeId: 4, fork: 'write', reason: 'overflow' }),
    ]);
    const c = cache.inodes.get(asNodeId(4))!;
    expect(markerList(store, c).map((m) => [m.kind, m.fork, m.posBytes, m.lenBytes, m.reason])).toEqual([
      ['upsert', 'read', 8192, 4096, ''], ['stale', 'read', 8192, 4096, 'cookie 3 → 5'], ['drop', 'write', 0, 0, 'overflow'],
    ]);
    expect(c.maxOffsetBytes).toBe(12288);
    expect(c.markers.lowerBound(store, 15)).toBe(1);
  });
  it('costs an inode a few dozen bytes of columns, not a table of its own (a trace touching many files)', () => {
    const events = [];
    for (let n = 1; n <= 2000; n++) {
      events.push(ev('cache_upsert', 2 * n, 'srv/9', { nodeId: n, mapOffsetBytes: 0, mapLenBytes: 4096 }));
      events.push(ev('cache_lookup', 2 * n + 1, 'r/1', { nodeId: n, hit: true }));
    }
    const { cache } = build(events);
    expect(cache.inodes.size).toBe(2000);
    // One extent (45 B of columns) and two markers (5 B each) per inode, plus growth slack.
    expect(cache.byteLength() / 2000).toBeLessThan(160);
    cache.trim();
    expect(cache.byteLength() / 2000).toBeLessThan(80);
  });

  it('tracks what is cached like a page map, through random upserts, invalidations and drops', () => {
    // Brute force: 64 pages of 4 KiB per fork, each the row of the upsert that cached it (or -1).
    const PAGE = 4096;
    let seed = 3;
    const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    const events: TraceEvent[] = [];
    const pages = { read: new Array<number>(64).fill(-1), write: new Array<number>(64).fill(-1) };
    const expected: Array<{ tsNs: number; read: number[]; write: number[] }> = [];
    for (let i = 0; i < 600; i++) {
      const tsNs = 10 + i * 10;
      const fork = rnd(4) === 0 ? 'write' : 'read';
      const first = rnd(64);
      const count = 1 + rnd(Math.min(12, 64 - first));
      const what = rnd(10);
      if (what < 6) {
        events.push(ev('cache_upsert', tsNs, 's/1', { nodeId: 4, fork, mapOffsetBytes: first * PAGE, mapLenBytes: count * PAGE }));
        for (let p = first; p < first + count; p++) pages[fork][p] = i;
      } else if (what < 9) {
        events.push(ev('cache_inval', tsNs, 'kw/2', { nodeId: 4, fork, posBytes: first * PAGE, lenBytes: count * PAGE, reason: 'ioend' }));
        for (let p = first; p < first + count; p++) pages[fork][p] = -1;
      } else {
        events.push(ev('cache_drop', tsNs, 'kw/2', { nodeId: 4, fork, reason: 'overflow' }));
        pages[fork].fill(-1);
      }
      expected.push({ tsNs, read: [...pages.read], write: [...pages.write] });
    }
    const { cache } = build(events);
    const c = cache.inodes.get(asNodeId(4))!;
    for (const { tsNs, read, write } of expected) {
      const got = { read: new Array<number>(64).fill(-1), write: new Array<number>(64).fill(-1) };
      for (const e of cacheContentsAt(c, tsNs)) {
        for (let p = e.offsetBytes / PAGE; p < (e.offsetBytes + e.lenBytes) / PAGE; p++) {
          expect(got[e.fork][p], `page ${p} cached twice at ${tsNs}`).toBe(-1);
          got[e.fork][p] = e.upsertRow;
        }
      }
      expect(got, `at ${tsNs}`).toEqual({ read, write });
    }
  });
  it('an upsert replaces what it overlaps', () => {
    const { cache } = build([
      ev('cache_upsert', 10, 's/1', { nodeId: 4, mapOffsetBytes: 0, mapLenBytes: 8192 }),
      ev('cache_upsert', 20, 's/1', { nodeId: 4, mapOffsetBytes: 4096, mapLenBytes: 8192, mapType: MapType.MAPPED }),
    ]);
    const c = cache.inodes.get(asNodeId(4))!;
    expect(cacheContentsAt(c, 25).map((e) => [e.offsetBytes, e.lenBytes])).toEqual([[0, 4096], [4096, 8192]]);
    expect(c.extents.at(c.extentIds[0]!).endReason).toBe('replaced');
  });
});

describe('relativesOf', () => {
  it('links a wait to its holder and a node to its alias', () => {
    const { store, spans, aliases, locks } = build(RACE);
    const wait = locks.locks[0]!.waitIds.data[0]!;
    const rels = relativesOf({ trace: store, spans, aliases, locks }, wait, -1);
    expect(rels[0]).toMatchObject({ role: 'holder', label: 'writerA/1 held it' });
    expect(rels.map((r) => r.role)).toContain('alias');
    expect(rels.find((r) => r.role === 'path')!.label).toBe('/d1/file');
  });
  it('links a request to the server thread that served it', () => {
    const { store, spans, aliases, locks } = build([
      ev('fuse_send', 10, 'app/1', { unique: 8 }),
      ev('fuse_recv', 12, 'srv/2', { unique: 8 }),
      ev('fuse_reply', 20, 'srv/2', { unique: 8 }),
    ]);
    expect(spanOfRow(spans, 1)).toBe(1);
    expect(relativesOf({ trace: store, spans, aliases, locks }, 0, -1)).toEqual([expect.objectContaining({ role: 'served by', spanId: 1 })]);
    expect(relativesOf({ trace: store, spans, aliases, locks }, 1, -1)).toEqual([expect.objectContaining({ role: 'request', spanId: 0 })]);
  });
  it("links a syscall to the kernel filesystem steps it ran on its inode's lane, and a step there to no other task's step", () => {
    const k = { nodeId: 0, fsDev: 7 << 20, ino: 0xc };
    const { store, spans, aliases, locks } = build([
      ev('app_op_begin', 0, 'dd/1'),
      ev('iomap_begin', 10, 'dd/1', k),
      ev('iomap_begin', 12, 'dd/2', k), // another task's step on the same inode, inside dd/1's
      ev('iomap_iter_end', 14, 'dd/2', { nodeId: 0 }),
      ev('iomap_iter_end', 20, 'dd/1', { nodeId: 0 }),
      ev('app_op_end', 30, 'dd/1'),
    ]);
    const inp = { trace: store, spans, aliases, locks };
    // Spans by opening: 0 the syscall, 1 dd/1's step, 2 dd/2's step.
    expect(relativesOf(inp, 0, -1).filter((r) => r.role === 'caused').map((r) => r.spanId)).toEqual([1]);
    expect(relativesOf(inp, 1, -1).filter((r) => r.role === 'caused')).toEqual([]);
  });
  it('links only events that have a nodeId to an inode', () => {
    // Kinds without nodeId keep other fields in its column (columns.ts; a diag's line does): with
    // every number of such events 4, a known nodeId, none may link to node 4.
    const numeric = new Set(['f64', 'i32', 'u32', 'u16', 'u8']);
    const fours = (k: EventKind) => Object.fromEntries((KIND_FIELDS[k] as readonly FieldName[])
      .filter((f) => numeric.has(FIELD_TYPES[f])).map((f) => [f, 4]));
    const without = KINDS.filter((k) => !(KIND_FIELDS[k] as readonly string[]).includes('nodeId'));
    const d = build([...RACE, ...without.map((k, i) => ev(k, 200 + i, 'x/9', fours(k)))]);
    const inp = { trace: d.store, spans: d.spans, aliases: d.aliases, locks: d.locks };
    expect(relativesOf(inp, -1, 0).map((r) => r.role)).toContain('nodeid');
    expect(without.flatMap((k, i) => relativesOf(inp, -1, RACE.length + i).map((r) => `${k}: ${r.label}`))).toEqual([]);
  });
});

import { aggregateArea, percentile } from './aggregate.ts';
import { asNodeId } from '../ids.ts';
describe('aggregateArea', () => {
  it('aggregates requests starting in the area by opcode and by inode', () => {
    const events: TraceEvent[] = [ev('inode_new', 0, 'a/1', { nodeId: 4, ino: 12, path: '/f' })];
    // Ten IOMAP_BEGINs on nodeId 4 lasting 10..100 ns, one LOOKUP on nodeId 1 (no ino known).
    for (let i = 1; i <= 10; i++) {
      events.push(ev('fuse_send', i * 1000, 'a/1', { unique: i * 2, opcode: 4094, nodeId: 4 }));
      events.push(ev('fuse_reply', i * 1000 + i * 10, 'srv/2', { unique: i * 2, opcode: 4094 }));
    }
    events.push(ev('fuse_send', 20_000, 'a/1', { unique: 100, opcode: 1, nodeId: 1 }));
    events.push(ev('fuse_reply', 20_500, 'srv/2', { unique: 100, opcode: 1 }));
    events.push(ev('fuse_send', 30_000, 'a/1', { unique: 102, opcode: 1, nodeId: 1 })); // open
    const { store, spans, aliases } = build(events);
    const a = aggregateArea(spans, store, aliases, 0, 40_000);
    expect([a.requests, a.openRequests]).toEqual([12, 1]);
    expect(a.byOpcode.map((r) => [r.label, r.count, r.totalNs, r.p50Ns, r.p99Ns])).toEqual([
      ['FUSE_IOMAP_BEGIN', 10, 550, 50, 100], ['FUSE_LOOKUP', 1, 500, 500, 500],
    ]);
    expect(a.byInode.map((r) => r.label)).toEqual(['ino 12', 'nodeid 1 (ino unknown)']);
    expect(aggregateArea(spans, store, aliases, 5_500, 7_500).requests).toBe(2);
  });
  it('nearest-rank percentiles', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('kernel filesystem locks (nodeId 0): one lock per inode', () => {
  it('two inodes locked by one task are two holds; contention and xfs_ilock of one ino are one lock that learns its address', () => {
    const X = 0xffff8881420455d0n;
    const on = (ino: number, lockAddr = 0n) => ({ lock: 'i_rwsem', mode: 'W', nodeId: 0, ino, lockAddr }) as const;
    const { locks, spans } = derived([
      // A rename-like task holds two inodes' IOLOCKs at once (xfs_ilock requests, then releases).
      ev('lock_acquire', 10, 'mv/1', on(131)),
      ev('lock_acquire', 11, 'mv/1', on(132)),
      ev('lock_release', 20, 'mv/1', on(132)),
      ev('lock_release', 30, 'mv/1', on(131)),
      // Another task contends on ino 131's i_rwsem (derived from contention: has the address).
      ev('lock_wait', 12, 'dd/2', on(131, X)),
      ev('lock_acquire', 31, 'dd/2', on(131, X)),
      ev('lock_release', 40, 'dd/2', on(131, X)),
    ]);
    const holds: Array<[number, number]> = [];
    for (let id = 0; id < spans.count; id++) {
      if (spans.kind.data[id] === 5 && spans.lanes[spans.lane.data[id]!]!.task === 'mv/1') holds.push([spans.startNs.data[id]!, spans.endNs.data[id]!]);
    }
    expect(holds).toEqual([[10, 30], [11, 20]]);
    expect(locks.locks.map((l) => [l.ino, l.lockAddr])).toEqual([[131, X], [132, 0n]]);
  });
});

describe('locks told apart by number keys', () => {
  it('a nodeid and an ino of the same number, two lock kinds of one nodeid, and two addresses are five locks; a repeat is the same lock', () => {
    const A = 0xffff8881420455d0n;
    const B = 0xffff8881420455e0n;
    const hold = (t: number, task: string, f: { lock: 'i_rwsem' | 'invalidate_lock'; nodeId: number; ino: number; lockAddr: bigint }) => [
      ev('lock_acquire', t, task, { mode: 'W', ...f }), ev('lock_release', t + 1, task, { mode: 'W', ...f }),
    ];
    const { locks } = derived([
      ...hold(10, 'a/1', { lock: 'i_rwsem', nodeId: 7, ino: 0, lockAddr: 0n }),
      ...hold(20, 'a/1', { lock: 'i_rwsem', nodeId: 0, ino: 7, lockAddr: 0n }),
      ...hold(30, 'a/1', { lock: 'invalidate_lock', nodeId: 7, ino: 0, lockAddr: 0n }),
      ...hold(40, 'a/1', { lock: 'i_rwsem', nodeId: 0, ino: 0, lockAddr: A }),
      ...hold(50, 'a/1', { lock: 'i_rwsem', nodeId: 0, ino: 0, lockAddr: B }),
      ...hold(60, 'b/2', { lock: 'i_rwsem', nodeId: 7, ino: 0, lockAddr: 0n }),
      ...hold(70, 'b/2', { lock: 'i_rwsem', nodeId: 0, ino: 0, lockAddr: A }),
    ]);
    expect(locks.locks.map((l) => [l.lock, l.nodeId, l.ino, l.lockAddr, l.holdIds.length])).toEqual([
      ['i_rwsem', 7, 0, 0n, 2], ['i_rwsem', 0, 7, 0n, 1], ['invalidate_lock', 7, 0, 0n, 1], ['i_rwsem', 0, 0, A, 2], ['i_rwsem', 0, 0, B, 1],
    ]);
  });
});

describe('lock rows past 16 bits', () => {
  it('once there are more lock × task rows than 16 bits hold, every lock span still names its row and lock', () => {
    // (A LockIndex told that 16 bits hold 3 rows: 70,000 rows would make the test slow.)
    const events: TraceEvent[] = [];
    for (let n = 0; n < 6; n++) {
      const f = { lock: 'i_rwsem', mode: 'R', nodeId: 2 + n, ino: 0, lockAddr: 0n } as const;
      events.push(ev('lock_acquire', 10 + 2 * n, 'cat/1', f), ev('lock_release', 11 + 2 * n, 'cat/1', f));
    }
    const store = new TraceStore();
    const spans = new SpanIndex();
    const locks = new LockIndex(3);
    store.appendAll(events.slice(0, 4));
    spans.update(store);
    locks.update(spans, store);
    store.appendAll(events.slice(4));
    spans.update(store);
    locks.update(spans, store);
    expect(locks.rows.length).toBe(6);
    for (let id = 0; id < 6; id++) {
      expect(locks.rowOfSpan(id)).toBe(id);
      expect(locks.locks[locks.lockOfSpan(id)]!.nodeId).toBe(2 + id);
    }
  });
});
