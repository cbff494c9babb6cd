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

  describe('free text over every field', () => {
    // One event of each sort a user looks for; the expected rows are read off these by hand.
    const addr = 0xffff888112a4c3d8n;
    const s = new TraceStore();
    s.appendAll([
      /* 0 */ ev('instant', 1, 'kworker/0:1', { name: 'sched_switch', text: 'prev_comm=fio next_comm=swapper/0' }),
      /* 1 */ ev('lock_contention', 2, 'fio/77', { phase: 'begin', lockAddr: addr, lockFlags: 4 }),
      /* 2 */ ev('lock_wait', 3, 'fio/77', { lock: 'invalidate_lock', mode: 'R', nodeId: 9, ino: 0, lockAddr: addr }),
      /* 3 */ ev('fuse_send', 4, 'fio/77', { opcode: Opcode.IOMAP_BEGIN, nodeId: 9, unique: 4242 }),
      /* 4 */ ev('fuse_reply', 5, 'fuse2fs/501', { opcode: Opcode.IOMAP_BEGIN, unique: 4242 }),
      /* 5 */ ev('inode_lookup', 6, 'fuse2fs/501', { nodeId: 9, ino: 131, path: '/mnt/Data/File' }),
      /* 6 */ ev('diag', 7, '', { message: 'line 12: unknown opcode' }),
      /* 7 */ ev('app_op_begin', 8, 'WriterA/3', { op: 'pwrite', path: '/mnt/data/other' }),
    ]);
    const rows = (q: string): number[] => searchRows(s, parseQuery(q)).rows;

    it("matches instants' names and text", () => {
      expect(rows('swapper')).toEqual([0]);
      expect(rows('SCHED_SWITCH')).toEqual([0]);
    });
    it('matches a lock address by its leading hex, with or without 0x', () => {
      expect(rows('ffff888112a4')).toEqual([1, 2]);
      expect(rows('0xFFFF888112A4')).toEqual([1, 2]);
      expect(rows('112a4c3d8')).toEqual([]); // the middle of an address is not its start
    });
    it('matches unique ids, nodeids and inode numbers as numbers', () => {
      expect(rows('4242')).toEqual([3, 4]);
      expect(rows('131')).toEqual([5]);
      expect(rows('9')).toEqual([2, 3, 5]);
    });
    it('matches opcode names, enums (lock, op) and paths in any case', () => {
      expect(rows('iomap_begin')).toEqual([3, 4]);
      expect(rows('invalidate')).toEqual([2]);
      expect(rows('pwrite')).toEqual([7]);
      expect(rows('data/file')).toEqual([5]);
      expect(rows('unknown opcode')).toEqual([6]);
      expect(rows('fuse2fs 4242')).toEqual([4]);
      expect(rows('fio')).toEqual([0, 1, 2, 3]);
    });
    it('filters task: and path: whatever the case of the query or the trace', () => {
      expect(rows('task:writera')).toEqual([7]);
      expect(rows('task:WriterA')).toEqual([7]);
      expect(rows('path:/MNT/DATA')).toEqual([5, 7]);
    });
    it('caps the rows it returns but counts every match', () => {
      expect(searchRows(s, parseQuery('fio'), 2)).toEqual({ rows: [0, 1], total: 4 });
    });
    it('finds strings interned after an earlier search', () => {
      const t = new TraceStore();
      t.appendAll([ev('instant', 1, 'a/1', { name: 'x', text: 'swapper/0' })]);
      expect(searchRows(t, parseQuery('swapper')).rows).toEqual([0]);
      t.appendAll([ev('instant', 2, 'a/1', { name: 'x', text: 'SWAPPER/1' })]);
      expect(searchRows(t, parseQuery('swapper')).rows).toEqual([0, 1]);
    });
  });
});
