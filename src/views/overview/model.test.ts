import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { barHeights, overviewBuckets, stripNsToPx, stripPxToNs } from './model.ts';
import { typed } from '../../trace/testing/events.ts';

function storeAt(times: number[]): TraceStore {
  const s = new TraceStore();
  for (const tsNs of times) s.append(typed({ kind: 'instant', tsNs, task: 't/1', name: 'x', text: '' }));
  return s;
}

describe('overview buckets', () => {
  it('counts rows per equal slice, the last slice holding rows at exactly endNs', () => {
    const s = storeAt([0, 1, 2, 9, 10, 10, 55, 99, 100]);
    expect([...overviewBuckets(s, 0, 100, 10)]).toEqual([4, 2, 0, 0, 0, 1, 0, 0, 0, 2]);
  });

  it('never loses a row: counts sum to the rows in range', () => {
    const times = Array.from({ length: 1000 }, (_, i) => Math.floor((i * i) / 37));
    const s = storeAt(times);
    for (const n of [1, 7, 64, 333]) {
      const c = overviewBuckets(s, 0, times[times.length - 1]!, n);
      expect(c.reduce((a, b) => a + b, 0)).toBe(1000);
    }
    // A sub-range counts only its rows.
    const c = overviewBuckets(s, 100, 200, 4);
    expect(c.reduce((a, b) => a + b, 0)).toBe(times.filter((t) => t >= 100 && t <= 200).length);
  });

  it('handles an empty store, zero buckets and a zero-length range', () => {
    expect([...overviewBuckets(storeAt([]), 0, 10, 3)]).toEqual([0, 0, 0]);
    expect(overviewBuckets(storeAt([1]), 0, 10, 0).length).toBe(0);
    expect([...overviewBuckets(storeAt([5, 5]), 5, 5, 2)]).toEqual([0, 2]);
  });

  it('scales bars by square root of count / max, empty buckets at 0', () => {
    expect([...barHeights(new Uint32Array([0, 1, 4, 16]))]).toEqual([0, 0.25, 0.5, 1]);
    expect([...barHeights(new Uint32Array([0, 0]))]).toEqual([0, 0]);
  });

  it('maps px ↔ ns over the whole file, clamped', () => {
    expect(stripNsToPx(50, 0, 100, 200)).toBe(100);
    expect(stripPxToNs(100, 0, 100, 200)).toBe(50);
    expect(stripPxToNs(-5, 0, 100, 200)).toBe(0);
    expect(stripPxToNs(900, 0, 100, 200)).toBe(100);
  });
});
