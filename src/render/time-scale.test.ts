import { describe, expect, it } from 'vitest';
import { TimeScale, formatDurNs } from './time-scale.ts';

describe('TimeScale', () => {
  it('maps the range ends to 0 and widthPx', () => {
    const s = new TimeScale(1000, 3000, 200);
    expect(s.nsToPx(1000)).toBe(0);
    expect(s.nsToPx(3000)).toBe(200);
    expect(s.nsPerPx).toBe(10);
    expect(s.pxToNs(50)).toBe(1500);
  });

  it('round-trips ns → px → ns', () => {
    const s = new TimeScale(12_345, 98_765_432, 1337);
    for (const tsNs of [12_345, 50_000, 1_000_001, 98_765_432]) {
      expect(s.pxToNs(s.nsToPx(tsNs))).toBeCloseTo(tsNs, 4);
    }
    for (const xPx of [0, 0.5, 100, 1337]) expect(s.nsToPx(s.pxToNs(xPx))).toBeCloseTo(xPx, 9);
  });

  it('keeps 1 ns resolution far from the origin (30 days in)', () => {
    const startNs = 30 * 86_400e9; // 2.592e15 ns
    const s = new TimeScale(startNs, startNs + 1000, 1000); // 1 ns per px
    expect(s.nsToPx(startNs + 1)).toBe(1);
    expect(s.nsToPx(startNs + 999)).toBe(999);
    expect(Math.fround(s.nsToPx(startNs + 437))).toBe(437); // safe to store in Float32Array
    expect(s.pxToNs(250)).toBe(startNs + 250);
  });

  it('zooms around an anchor and pans', () => {
    const s = new TimeScale(0, 1000, 100);
    const z = s.zoomedAt(25, 0.5);
    expect(z.pxToNs(25)).toBeCloseTo(250);
    expect(z.durNs).toBeCloseTo(500);
    const p = s.pannedBy(10);
    expect(p.startNs).toBe(100);
    expect(p.endNs).toBe(1100);
  });

  it('rejects empty ranges and widths', () => {
    expect(() => new TimeScale(5, 5, 10)).toThrow(RangeError);
    expect(() => new TimeScale(0, 5, 0)).toThrow(RangeError);
  });

  it('formats durations with units', () => {
    expect(formatDurNs(950)).toBe('950 ns');
    expect(formatDurNs(12_340)).toBe('12.3 µs');
    expect(formatDurNs(4_560_000)).toBe('4.56 ms');
  });
});
