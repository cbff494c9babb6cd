import { describe, expect, it } from 'vitest';
import { affineRange, ZOOM_STEP_FACTOR } from './time-zoom.ts';

// A plot 100 px wide showing [0, 1000] ns: 10 ns per px.
describe('affineRange (a gesture step as a new view range)', () => {
  it('a shift of +10 px shows 100 ns earlier (dragging right)', () => {
    expect(affineRange(0, 1000, 100, 1, 10)).toEqual({ startNs: -100, endNs: 900 });
  });
  it('W about x = 50 px shows 80% of the range around the time under it', () => {
    // zoomBy(0.8, 50): a = 1 / 0.8 = 1.25, b = 50 − 50 · 1.25 = −12.5.
    const r = affineRange(0, 1000, 100, 1 / ZOOM_STEP_FACTOR, 50 - 50 / ZOOM_STEP_FACTOR);
    expect(r.startNs).toBeCloseTo(100, 9);
    expect(r.endNs).toBeCloseTo(900, 9);
  });
  it('zooming out about the left edge keeps the start', () => {
    const r = affineRange(2000, 3000, 100, 0.5, 0);
    expect(r).toEqual({ startNs: 2000, endNs: 4000 });
  });
});
