import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { forEachLockWait, lockWaitPass } from './lock-waits.ts';
import { accountRun } from './accounting.ts';
import { ev } from './testing/events.ts';

describe('forEachLockWait', () => {
  it('pairs a wait with the same task\'s acquire of the same lock and nodeId; open waits do not count', () => {
    const s = new TraceStore();
    s.appendAll([
      ev('lock_wait', 10, 'a/1', { nodeId: 4 }),
      ev('lock_wait', 12, 'b/2', { nodeId: 4 }),
      ev('lock_wait', 13, 'c/3', { nodeId: 5 }),
      ev('lock_acquire', 20, 'b/2', { nodeId: 4 }),
      ev('lock_acquire', 30, 'a/1', { nodeId: 5 }), // another inode: not a's wait
      ev('lock_acquire', 40, 'a/1', { nodeId: 4 }),
    ]);
    const waits: Array<[number, number]> = [];
    forEachLockWait(s, (row, waitNs) => waits.push([row, waitNs]));
    expect(waits).toEqual([[3, 8], [5, 30]]);
  });
});

describe('lockWaitPass: the waits paired once, shared by summary, accounting and A/B stats', () => {
  // a waits on nodeId 4 from 10 to 40 (its acquire of nodeId 5 at 30 is another lock); b waits
  // on nodeId 4 from 12 to 20; c's wait on nodeId 5 at 13 never ends.
  const s = new TraceStore();
  s.appendAll([
    ev('lock_wait', 10, 'a/1', { nodeId: 4 }),
    ev('lock_wait', 12, 'b/2', { nodeId: 4 }),
    ev('lock_wait', 13, 'c/3', { nodeId: 5 }),
    ev('lock_acquire', 20, 'b/2', { nodeId: 4 }),
    ev('lock_acquire', 30, 'a/1', { nodeId: 5 }),
    ev('lock_acquire', 40, 'a/1', { nodeId: 4 }),
  ]);
  it('keeps each ended wait (acquire row, ns) in trace order and the rows of waits that did not end', () => {
    expect(lockWaitPass(s)).toEqual({ acquireRows: [3, 5], waitNs: [8, 30], unfinishedRows: [2] });
  });
  it('accountRun counts the same waits from a pass it is given as from its own', () => {
    const want = { lockWaits: 2, lockWaitTotalNs: 38, lockWaitMaxNs: 30, lockWaitsUnfinished: 1 };
    expect(accountRun(s)).toMatchObject(want);
    expect(accountRun(s, lockWaitPass(s))).toMatchObject(want);
  });
});
