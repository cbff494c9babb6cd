import { describe, expect, it } from 'vitest';
import { TraceStore } from '../store.ts';
import { ev } from '../testing/events.ts';
import { MapType, Opcode } from '../fuse-proto.ts';
import { parseQuery, searchRows } from './search.ts';

const store = new TraceStore();
store.appendAll([
  ev('app_op_begin', 1, 'writerA/1', { path: '/d1/file', posBytes: 0, lenBytes: 8192 }),
  ev('fuse_send', 2, 'writerA/1', { opcode: Opcode.IOMAP_BEGIN, nodeId: 4, unique: 10 }),
  ev('iomap_map', 3, 'writerA/1', { nodeId: 4, ino: 12, mapType: MapType.UNWRITTEN, mapOffsetBytes: 65536, mapLenBytes: 4096 }),
  ev('lock_wait', 4, 'reader/3', { nodeId: 5, ino: 12 }),
  ev('inode_lookup', 5, 'writerB/2', { nodeId: 5, ino: 12, path: '/d2/link' }),
]);

describe('search', () => {
  it('filters by field terms', () => {
    expect(searchRows(store, parseQuery('ino:12')).rows).toEqual([2, 3, 4]);
    expect(searchRows(store, parseQuery('nodeid:4')).rows).toEqual([1, 2]);
    expect(searchRows(store, parseQuery('opcode:IOMAP_BEGIN')).rows).toEqual([1]);
    expect(searchRows(store, parseQuery('path:/d2')).rows).toEqual([4]);
    expect(searchRows(store, parseQuery('task:reader')).rows).toEqual([3]);
    expect(searchRows(store, parseQuery('type:unwritten')).rows).toEqual([2]);
    expect(searchRows(store, parseQuery('off:64k-68k')).rows).toEqual([2]);
    expect(searchRows(store, parseQuery('off:4096-5000')).rows).toEqual([0]) // only events with a file range;
  });
  it('combines terms and free text', () => {
    expect(searchRows(store, parseQuery('ino:12 writerb')).rows).toEqual([4]);
    expect(searchRows(store, parseQuery('lock')).rows).toEqual([3]);
    expect(searchRows(store, parseQuery('')).total).toBe(0);
  });
  it('reports terms it cannot use', () => {
    expect(parseQuery('type:bogus ino:x').errors).toHaveLength(2);
  });

  it('finds a lock address, or a prefix of it, in contention and derived lock events', () => {
    const a = 0xffff888112a4c3d8n;
    const b = 0xffff88813cd9ae18n;
    const s = new TraceStore();
    s.appendAll([
      ev('lock_contention', 1, 'dd/1', { phase: 'begin', lockAddr: a, lockFlags: 4 }),
      ev('lock_wait', 1, 'dd/1', { lock: 'unknown', nodeId: 0, ino: 0, lockAddr: a }),
      ev('lock_contention', 2, 'dd/2', { phase: 'begin', lockAddr: b, lockFlags: 4 }),
      ev('lock_wait', 3, 'sim/3', { lockAddr: 0n }),
      ev('app_op_begin', 4, 'dd/1', { path: '/0xffff8881' }),
    ]);
    expect(searchRows(s, parseQuery('0xffff888112a4c3d8')).rows).toEqual([0, 1]);
    expect(searchRows(s, parseQuery('0xFFFF8881')).rows).toEqual([0, 1, 2]);
    expect(searchRows(s, parseQuery('0xffff88813c kind:lock_contention')).rows).toEqual([2]);
    expect(searchRows(s, parseQuery('addr:ffff888112a4')).rows).toEqual([0, 1]);
    expect(searchRows(s, parseQuery('0x0')).rows).toEqual([]); // not traced is not an address
    expect(parseQuery('addr:zz').errors).toHaveLength(1);
  });
});
