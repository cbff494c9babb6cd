import { describe, expect, it } from 'vitest';
import { anchorOf, rangeAroundZero, sideRange, toAlignedNs, toSideNs, unionAlignedRange } from './align.ts';

describe('compare alignment', () => {
  it('anchors at the first event from start, at the marker on marker (first event if none)', () => {
    const extent = { startNs: 1_000, endNs: 9_000 };
    expect(anchorOf('start', extent, 5_000)).toBe(1_000);
    expect(anchorOf('marker', extent, 5_000)).toBe(5_000);
    expect(anchorOf('marker', extent, Number.NaN)).toBe(1_000);
  });

  it('converts side ↔ aligned through the anchor, both ways', () => {
    expect(toAlignedNs(7_500, 2_500)).toBe(5_000);
    expect(toSideNs(5_000, 2_500)).toBe(7_500);
    expect(toSideNs(toAlignedNs(123_456.5, 789), 789)).toBe(123_456.5);
    expect(toAlignedNs(1_000, 3_000)).toBe(-2_000); // before the marker: negative aligned time
  });

  it('shifts one aligned range into each side: same width on both sides', () => {
    const a = sideRange(100, 1_100, 50);
    const b = sideRange(100, 1_100, 20_000);
    expect(a).toEqual([150, 1_150]);
    expect(b).toEqual([20_100, 21_100]);
    expect(a[1] - a[0]).toBe(b[1] - b[0]);
  });

  it('the union range shows both sides whole; an empty side is ignored', () => {
    // A: 93 ms from 10 µs; B: 81 ms from 2 ms. From start both begin at aligned 0.
    const a = { extent: { startNs: 10e3, endNs: 93e6 + 10e3 }, anchorNs: 10e3, empty: false };
    const b = { extent: { startNs: 2e6, endNs: 83e6 }, anchorNs: 2e6, empty: false };
    expect(unionAlignedRange([a, b])).toEqual([0, 93e6]);
    // On a marker at B's 50 ms: B runs from −48 ms to +33 ms.
    expect(unionAlignedRange([a, { ...b, anchorNs: 50e6 }])).toEqual([-48e6, 93e6]);
    expect(unionAlignedRange([a, { ...b, empty: true }])).toEqual([0, 93e6]);
    expect(unionAlignedRange([{ ...a, empty: true }])).toBeNull();
  });

  it('re-anchoring keeps the width and the marker where it was in view (centred if outside)', () => {
    expect(rangeAroundZero(-250, 750)).toEqual([-250, 750]);
    expect(rangeAroundZero(1_000, 2_000)).toEqual([-500, 500]);
  });
});
