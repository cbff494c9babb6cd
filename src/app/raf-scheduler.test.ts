import { describe, expect, it } from 'vitest';
import { RafScheduler } from './raf-scheduler.ts';

function fakeRaf() {
  const queue: ((t: number) => void)[] = [];
  return {
    raf: (cb: (t: number) => void) => queue.push(cb),
    caf: () => {},
    flush: () => { const q = queue.splice(0); for (const cb of q) cb(0); },
    get pending() { return queue.length; },
  };
}

describe('RafScheduler', () => {
  it('coalesces many dirty marks into one frame and runs actions before renderers', () => {
    const r = fakeRaf();
    const s = new RafScheduler(r.raf, r.caf, () => 0);
    const order: string[] = [];
    s.addRenderer(() => order.push('render'));
    for (let i = 0; i < 100; i++) s.markDirty();
    s.scheduleAction(() => order.push('zoom'));
    expect(r.pending).toBe(1);
    r.flush();
    expect(order).toEqual(['zoom', 'render']);
    expect(s.frames).toBe(1);
    expect(s.isFramePending).toBe(false);
  });
});
