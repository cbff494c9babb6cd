import { describe, expect, it } from 'vitest';
import { ev } from '../testing/events.ts';
import { attributeLocks } from './lock-attribution.ts';
import type { TraceEvent } from '../schema.ts';

const A = 0xffff888112a4c3d8n;
const begin = (ts: number, task: string, flags = 4): TraceEvent => ev('lock_contention', ts, task, { phase: 'begin', lockAddr: A, lockFlags: flags });
const end = (ts: number, task: string, ret = 0): TraceEvent => ev('lock_contention', ts, task, { phase: 'end', lockAddr: A, lockFlags: 0, ret });
const entry = (ts: number, task: string, nodeid: number): TraceEvent =>
  ev('instant', ts, task, { name: 'fuse_iomap_direct_write', text: `connection 45 ino ${nodeid} nodeid ${nodeid} isize 0x0 idisksize 0x0 pos 0x0 length 0x1000` });

describe('lock attribution', () => {
  it('iomap entry event before a WRITE contention names the i_rwsem and its nodeid; derived wait/acquire follow', () => {
    const r = attributeLocks([entry(0, 'fio/1', 13), begin(1, 'fio/1'), end(5, 'fio/1')]);
    // The entry event's INODE prefix (`ino 13 nodeid 13`) is also the inode number's evidence.
    expect(r.attributions).toMatchObject([{ lock: 'i_rwsem', nodeId: 13, ino: 13, methods: ['inode_tracepoint', 'iomap_entry'], contended: 1 }]);
    // The decision goes into the trace as a lock_attribution instant before the first derived event.
    expect(r.events.map((e) => e.kind === 'instant' ? e.name : e.kind)).toEqual([
      'fuse_iomap_direct_write', 'lock_attribution', 'lock_contention', 'lock_wait', 'lock_contention', 'lock_acquire',
    ]);
    expect(JSON.parse((r.events[1] as Extract<TraceEvent, { kind: 'instant' }>).text)).toMatchObject({
      lockAddr: '0xffff888112a4c3d8', lock: 'i_rwsem', nodeId: 13, ino: 13,
    });
    // The derived events carry the lock's address.
    expect(r.events[3]).toMatchObject({ lock: 'i_rwsem', mode: 'W', nodeId: 13, ino: 13, lockAddr: A });
    expect(r.events[5]).toMatchObject({ kind: 'lock_acquire', lockAddr: A });
  });

  it('a wait the trace never shows ending is kept: decided from its task, a lock_wait with no acquire, unfinished in the summary', async () => {
    // fio/2 holds (its wait ended); fio/1 then blocks on the same lock and the excerpt stops.
    const r = attributeLocks([entry(0, 'fio/2', 13), begin(1, 'fio/2'), end(3, 'fio/2'), entry(4, 'fio/1', 13), begin(5, 'fio/1')]);
    expect(r.attributions).toMatchObject([{ lock: 'i_rwsem', nodeId: 13, contended: 2 }]);
    const waits = r.events.filter((e) => e.kind === 'lock_wait');
    expect(waits.map((e) => [e.task, e.tsNs])).toEqual([['fio/2', 1], ['fio/1', 5]]);
    expect(r.events.filter((e) => e.kind === 'lock_acquire').map((e) => e.task)).toEqual(['fio/2']);
    const { TraceStore } = await import('../store.ts');
    const { summarize } = await import('../summary.ts');
    const store = new TraceStore();
    store.appendAll(r.events);
    expect(summarize(store).locks).toMatchObject([{ lock: 'i_rwsem', nodeid: 13, contended: 1, unfinished: 1, waitNsTotal: 2 }]);
  });

  it('the parser\'s typed entry (fs_op iomap_direct_write) is iomap-entry evidence as the instant was', () => {
    const typed = ev('fs_op', 0, 'fio/1', { name: 'iomap_direct_write', nodeId: 13, ino: 13, fsDev: 45, posBytes: 0, lenBytes: 0x1000 });
    const r = attributeLocks([typed, begin(1, 'fio/1'), end(5, 'fio/1')]);
    expect(r.attributions).toMatchObject([{ lock: 'i_rwsem', nodeId: 13, ino: 13, contended: 1 }]);
    expect(r.attributions[0]!.methods).toContain('iomap_entry');
  });

  it('disagreeing evidence gives an unknown lock with a reason, never a guess', () => {
    const r = attributeLocks([entry(0, 'a/1', 13), begin(1, 'a/1'), end(2, 'a/1'), entry(3, 'b/2', 14), begin(4, 'b/2'), end(5, 'b/2')]);
    expect(r.attributions[0]).toMatchObject({ lock: 'unknown', nodeId: null, ino: null });
    expect(r.attributions[0]!.unknownReason).toMatch(/several nodeids: 13, 14/);
    expect(r.events.filter((e) => e.kind === 'lock_wait').every((e) => e.kind === 'lock_wait' && e.lock === 'unknown')).toBe(true);
  });

  it('no evidence: unknown; per-CPU freeze protection: unknown; interrupted wait: no acquire', () => {
    const r = attributeLocks([begin(1, 'a/1', 32), end(2, 'a/1', -4)]);
    expect(r.attributions[0]).toMatchObject({ lock: 'unknown', unknownReason: expect.stringMatching(/no stack/) });
    expect(r.events.map((e) => e.kind)).toEqual(['instant', 'lock_contention', 'lock_wait', 'lock_contention']);
    expect(r.events[2]).toMatchObject({ lock: 'unknown', nodeId: 0, ino: 0, lockAddr: A });
    const f = attributeLocks([ev('app_op_begin', 0, 'a/1', { op: 'write', path: '/m/f' }), begin(1, 'a/1', 2 | 16), end(2, 'a/1')]);
    expect(f.attributions[0]!.lock).toBe('unknown');
  });

  it('stack role: down_write under ext4_buffered_write_iter is an i_rwsem; the fd path names the file', () => {
    const stack = ev('instant', 2, 'dd/3', { name: 'stack_trace', text: 'rwsem_down_write_slowpath+0x1\ndown_write+0x2\next4_buffered_write_iter+0x3\nvfs_write' });
    const r = attributeLocks([ev('app_op_begin', 0, 'dd/3', { op: 'write', path: '/mnt/ext4/f' }), begin(1, 'dd/3'), stack, end(3, 'dd/3')]);
    expect(r.attributions[0]).toMatchObject({ lock: 'i_rwsem', nodeId: null, ino: null, path: '/mnt/ext4/f', methods: ['stack', 'syscall_fd'], unknownReason: '' });
  });
});

describe('lock attribution: the inode number from identity evidence', () => {
  // dd writes /mnt/d2/link, waits on the lock, then (holding it) sends a WRITE for nodeid 5.
  const waitThenWrite = (): TraceEvent[] => [
    ev('app_op_begin', 0, 'dd/3', { op: 'write', path: '/mnt/d2/link' }), begin(1, 'dd/3'), end(2, 'dd/3'),
    ev('fuse_send', 3, 'dd/3', { unique: 40, opcode: 16, nodeId: 5 }),
  ];
  it('a reply probe gives nodeid 4 st_ino 14; a LINK names nodeid 5 the same inode: the lock on 5 is ino 14 via link', () => {
    const r = attributeLocks([
      ev('inode_new', 0, 'srv/1', { nodeId: 4, ino: 0, path: '/d1/file', aliasOf: 0 }),
      ev('instant', 0, 'srv/1', { name: 'fuse_reply_attr', text: '(0x1) unique=20 st_ino=14' }),
      ev('inode_lookup', 0, 'srv/1', { nodeId: 4, ino: 14, path: '', nlookup: 0, aliasOf: 0 }),
      ev('inode_new', 0, 'srv/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }),
      ...waitThenWrite(),
    ]);
    expect(r.attributions[0]).toMatchObject({ nodeId: 5, ino: 14, inoEvidence: [14] });
    expect(r.attributions[0]!.methods).toEqual(expect.arrayContaining(['uprobe_reply', 'link', 'holder_next_event']));
  });
  it('no st_ino evidence: ino null (the nodeid is never used as the number)', () => {
    const r = attributeLocks([ev('inode_new', 0, 'srv/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }), ...waitThenWrite()]);
    expect(r.attributions[0]).toMatchObject({ nodeId: 5, ino: null, inoEvidence: [] });
  });
  it('two numbers for one group: ino null, both kept', () => {
    const r = attributeLocks([
      ev('inode_lookup', 0, 'srv/1', { nodeId: 4, ino: 14, path: '', nlookup: 0, aliasOf: 0 }),
      ev('inode_lookup', 0, 'srv/1', { nodeId: 5, ino: 15, path: '', nlookup: 0, aliasOf: 4 }),
      ...waitThenWrite(),
    ]);
    expect(r.attributions[0]).toMatchObject({ nodeId: 5, ino: null, inoEvidence: [14, 15] });
  });
});

describe('lock attribution: which of a file\'s two locks (§6)', () => {
  const B = 0xffff888112a4c4e8n; // a second lock address
  const at = (addr: bigint) => ({
    begin: (ts: number, task: string, flags = 4): TraceEvent => ev('lock_contention', ts, task, { phase: 'begin', lockAddr: addr, lockFlags: flags }),
    end: (ts: number, task: string): TraceEvent => ev('lock_contention', ts, task, { phase: 'end', lockAddr: addr, lockFlags: 0, ret: 0 }),
  });
  const a = at(A);
  const b = at(B);
  const sys = (ts: number, task: string, op: 'truncate' | 'fallocate' | 'fsync' | 'open' | 'link', oflags = 0): TraceEvent =>
    ev('app_op_begin', ts, task, { op, path: '', fd: 3, oflags });
  const sysEnd = (ts: number, task: string, op: string): TraceEvent => ev('app_op_end', ts, task, { op: op as 'truncate', fd: 3, ret: 0 });
  // What the holder does next with the locks held: an iomap step on nodeid 13 (ino 13).
  const step = (ts: number, task: string): TraceEvent => ev('iomap_begin', ts, task, { nodeId: 13, ino: 13 });
  const mkwrite = (ts: number, task: string): TraceEvent =>
    ev('fs_op', ts, task, { name: 'iomap_page_mkwrite', nodeId: 13, ino: 13, posBytes: 0x5000, lenBytes: 0x1000 });
  const byAddr = (r: ReturnType<typeof attributeLocks>, addr: bigint) => r.attributions.find((x) => x.lockAddr === `0x${addr.toString(16)}`)!;

  it('a READ wait after fuse_iomap_page_mkwrite is invalidate_lock (a fault takes no i_rwsem), not i_rwsem', () => {
    const r = attributeLocks([mkwrite(0, 'mm/5'), a.begin(1, 'mm/5', 2), a.end(4, 'mm/5')]);
    expect(r.attributions).toMatchObject([{ lock: 'invalidate_lock', nodeId: 13, ino: 13, contended: 1 }]);
  });

  it('a WRITE wait inside fsync is i_rwsem (fuse_fsync takes inode_lock); the holder\'s next event names the file', () => {
    const r = attributeLocks([sys(0, 'sync/2', 'fsync'), a.begin(1, 'sync/2'), a.end(3, 'sync/2'), step(4, 'sync/2'), sysEnd(5, 'sync/2', 'fsync')]);
    expect(r.attributions).toMatchObject([{ lock: 'i_rwsem', nodeId: 13, unknownReason: '' }]);
  });

  it('two WRITE waits in one ftruncate: the first is i_rwsem, the second invalidate_lock, both of the file the holder names', () => {
    const r = attributeLocks([
      sys(0, 'tr/7', 'truncate'), a.begin(1, 'tr/7'), a.end(2, 'tr/7'), b.begin(3, 'tr/7'), b.end(6, 'tr/7'),
      step(7, 'tr/7'), sysEnd(8, 'tr/7', 'truncate'),
    ]);
    expect(byAddr(r, A)).toMatchObject({ lock: 'i_rwsem', nodeId: 13, contended: 1 });
    expect(byAddr(r, B)).toMatchObject({ lock: 'invalidate_lock', nodeId: 13, contended: 1 });
  });

  it('a lone WRITE wait in fallocate is the lock the file\'s other address is not; with no other address it stays unknown', () => {
    // A is nodeid 13's i_rwsem (a direct write's entry event); fallocate then waits on B alone.
    const events = [
      entry(0, 'fio/1', 13), a.begin(1, 'fio/1'), a.end(2, 'fio/1'),
      sys(3, 'fa/8', 'fallocate'), b.begin(4, 'fa/8'), b.end(9, 'fa/8'), step(10, 'fa/8'), sysEnd(11, 'fa/8', 'fallocate'),
    ];
    const r = attributeLocks(events);
    expect(byAddr(r, A)).toMatchObject({ lock: 'i_rwsem', nodeId: 13 });
    expect(byAddr(r, B)).toMatchObject({ lock: 'invalidate_lock', nodeId: 13, unknownReason: '' });
    const alone = attributeLocks(events.slice(3));
    expect(alone.attributions).toMatchObject([{ lock: 'unknown', nodeId: null, unknownReason: expect.stringMatching(/both i_rwsem and invalidate_lock/) }]);
  });

  it('an O_TRUNC open waits like ftruncate; with O_CREAT it may be the directory\'s lock and says nothing', () => {
    const O_RDWR_TRUNC = 0o1002;
    const run = (oflags: number) => attributeLocks([
      entry(0, 'fio/1', 13), a.begin(1, 'fio/1'), a.end(2, 'fio/1'),
      sys(3, 'op/9', 'open', oflags), b.begin(4, 'op/9'), b.end(5, 'op/9'), step(6, 'op/9'), sysEnd(7, 'op/9', 'open'),
    ]);
    expect(byAddr(run(O_RDWR_TRUNC), B)).toMatchObject({ lock: 'invalidate_lock', nodeId: 13 });
    expect(byAddr(run(O_RDWR_TRUNC | 0o100), B)).toMatchObject({ lock: 'unknown' });
  });

  it('a wait with no evidence on the lock does not undo the evidence of the address\'s other waits', () => {
    // fio/1's wait is i_rwsem of 13 (entry event); ln/4's wait on the same address is in link(2), which names no lock.
    const r = attributeLocks([
      entry(0, 'fio/1', 13), a.begin(1, 'fio/1'), a.end(2, 'fio/1'),
      sys(3, 'ln/4', 'link'), a.begin(4, 'ln/4'), a.end(5, 'ln/4'), sysEnd(6, 'ln/4', 'link'),
    ]);
    expect(r.attributions).toMatchObject([{ lock: 'i_rwsem', nodeId: 13, contended: 2, unknownReason: '' }]);
  });
});
