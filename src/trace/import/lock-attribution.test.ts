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
