import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { forEachLockWait } from './lock-waits.ts';
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
