import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { summarize } from './summary.ts';
import { ev } from './testing/events.ts';

describe('summarize', () => {
  it('finds alias groups, lock contention, request counts and cache counts', () => {
    const s = new TraceStore();
    s.appendAll([
      ev('inode_new', 1, 'a/1', { nodeId: 4, ino: 12, path: '/d1/file' }),
      ev('inode_new', 2, 'b/2', { nodeId: 5, ino: 12, path: '/d2/link' }),
      ev('inode_new', 3, 'b/2', { nodeId: 6, ino: 13, path: '/other' }),
      ev('fuse_send', 4, 'a/1', { opcode: 4094 }),
      ev('fuse_send', 5, 'a/1', { opcode: 1 }),
      ev('lock_acquire', 10, 'a/1', { nodeId: 4, ino: 12 }),
      ev('lock_wait', 11, 'c/3', { nodeId: 4, ino: 12 }),
      ev('lock_release', 40, 'a/1', { nodeId: 4, ino: 12 }),
      ev('lock_acquire', 41, 'c/3', { nodeId: 4, ino: 12 }),
      ev('cache_lookup', 50, 'a/1', { hit: true, nodeId: 4 }),
      ev('cache_lookup', 51, 'a/1', { hit: false, nodeId: 4 }),
    ]);
    const sum = summarize(s);
    expect(sum.aliasGroups).toEqual([{ ino: 12, inoEvidence: [12], nodeids: [4, 5], paths: ['/d1/file', '/d2/link'] }]);
    expect(sum.requests.byOpcode).toEqual({ FUSE_IOMAP_BEGIN: 1, FUSE_LOOKUP: 1 });
    expect(sum.locks).toEqual([{ lock: 'i_rwsem', ino: 12, nodeid: 4, lockAddrs: [], contended: 1, unfinished: 0, waitNsTotal: 30, waitNsMax: 30, untimedWaits: 0 }]);
    expect(sum.cache).toMatchObject({ hits: 1, misses: 1 });
    expect(sum.events.total).toBe(11);
    expect(Object.keys(sum)).toEqual(['events', 'requests', 'aliasGroups', 'locks', 'cache', 'iomap', 'diagnostics', 'accounting', 'findings']);
    expect(sum.accounting.upcallsByOpcode).toEqual({ FUSE_IOMAP_BEGIN: 1, FUSE_LOOKUP: 1 });
    // One inode (ino 12) through nodeids 4 and 5, exclusive holds only through 4: the aliasing alone, a warning.
    expect(sum.findings.count).toBe(1);
    expect(sum.findings.byRule).toEqual({ 'alias-race': { warning: 1 } });
    expect(sum.findings.first[0]!.figures).toMatchObject({ ino: 12, nodeIds: [4, 5], overlaps: 0 });
  });

  it('unknown is null, never 0 or a nodeid: a LINK group without st_ino, an unattributed lock with its address', () => {
    const s = new TraceStore();
    s.appendAll([
      ev('inode_new', 1, 'srv/1', { nodeId: 4, ino: 0, path: '/d1/file' }),
      ev('inode_new', 2, 'srv/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }),
      ev('inode_new', 3, 'srv/1', { nodeId: 6, ino: 0, path: '/other' }),
      ev('lock_wait', 10, 'dd/7', { lock: 'unknown', nodeId: 0, ino: 0, lockAddr: 0xffff888112a4c3d8n }),
      ev('lock_acquire', 12, 'dd/7', { lock: 'unknown', nodeId: 0, ino: 0, lockAddr: 0xffff888112a4c3d8n }),
    ]);
    const sum = summarize(s);
    expect(sum.aliasGroups).toEqual([{ ino: null, inoEvidence: [], nodeids: [4, 5], paths: ['/d1/file', '/d2/link'] }]);
    expect(sum.locks).toEqual([{ lock: 'unknown', ino: null, nodeid: null, lockAddrs: ['0xffff888112a4c3d8'], contended: 1, unfinished: 0, waitNsTotal: 2, waitNsMax: 2, untimedWaits: 0 }]);
  });
});

describe('summarize: iomap steps and ioends', () => {
  it('counts steps with their traced durations, writeback steps apart, unended ones in no total, and ioends sent', () => {
    const WB = 2 ** 31; // FUSE_IOMAP_OP_WRITEBACK
    const s = new TraceStore();
    s.appendAll([
      ev('iomap_begin', 10, 'fio/1', { nodeId: 4, ino: 12, opflags: 1 }),
      ev('iomap_iter_end', 30, 'fio/1', { nodeId: 4, ino: 12 }), // 20 ns
      ev('iomap_begin', 40, 'fio/1', { nodeId: 4, ino: 12, opflags: 1 }),
      ev('iomap_end', 47, 'fio/1', { nodeId: 4, ino: 12 }), // 7 ns: IOMAP_END closes the step
      ev('iomap_begin', 50, 'kworker/9', { nodeId: 4, ino: 12, opflags: WB }),
      ev('iomap_iter_end', 62, 'kworker/9', { nodeId: 4, ino: 12 }), // writeback, 12 ns
      ev('iomap_ioend', 63, 'kworker/9', { nodeId: 4, ino: 12, sent: true }),
      ev('iomap_ioend', 64, 'kworker/9', { nodeId: 4, ino: 12, sent: false }),
      ev('iomap_begin', 70, 'fio/1', { nodeId: 4, ino: 12, opflags: 0 }), // never ends
    ]);
    expect(summarize(s).iomap).toEqual({
      steps: 3, stepsUnended: 1, stepNsTotal: 27, writebackSteps: 1, writebackStepsUnended: 0, writebackStepNsTotal: 12, stepsUntimed: 0, writebackStepsUntimed: 0,
      ioends: 2, ioendsSent: 1,
    });
  });
});

describe('summarize: kernel filesystem locks (nodeId 0)', () => {
  it('two inodes contended by one task are two locks, each with its own waits', () => {
    const A = 0xffff888100000098n;
    const B = 0xffff888100001098n;
    const on = (ino: number, lockAddr: bigint) => ({ lock: 'i_rwsem', mode: 'W', nodeId: 0, ino, lockAddr }) as const;
    const s = new TraceStore();
    s.appendAll([
      ev('lock_wait', 10, 'mv/1', on(131, A)), ev('lock_acquire', 30, 'mv/1', on(131, A)), // 20 ns on ino 131
      ev('lock_wait', 40, 'mv/1', on(132, B)), ev('lock_acquire', 45, 'mv/1', on(132, B)), // 5 ns on ino 132
      ev('lock_wait', 50, 'mv/1', on(132, B)), // never ended
    ]);
    expect(summarize(s).locks.map((l) => [l.ino, l.lockAddrs, l.contended, l.unfinished, l.waitNsTotal])).toEqual([
      [131, ['0xffff888100000098'], 1, 0, 20],
      [132, ['0xffff888100001098'], 1, 1, 5],
    ]);
  });
});
