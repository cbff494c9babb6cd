import { describe, expect, it } from 'vitest';
import { tickLabels, timeTicks } from './ticks.ts';
import { TimeScale } from './time-scale.ts';

// Expected labels are worked out by hand: unit from the step (≥ 0.1 s → s, ≥ 10 µs → ms,
// ≥ 10 ns → µs, else ns), decimals that write the step exactly, more if two neighbours still match.
describe('tickLabels', () => {
  it('picks the unit from the step and the decimals the step needs', () => {
    expect(tickLabels([334_400_000, 334_600_000])).toEqual(['334.4 ms', '334.6 ms']); // step 0.2 ms
    expect(tickLabels([332_000_000, 334_000_000])).toEqual(['332 ms', '334 ms']); // step 2 ms
    expect(tickLabels([12_000, 12_500])).toEqual(['12.0 µs', '12.5 µs']); // step 0.5 µs
    expect(tickLabels([1_000_002, 1_000_004])).toEqual(['1000002 ns', '1000004 ns']); // step 2 ns
    expect(tickLabels([1e9, 1.5e9])).toEqual(['1.0 s', '1.5 s']); // step 0.5 s
  });

  it('never repeats a label where 3 significant digits did ("5.12 s 5.12 s 5.12 s")', () => {
    // 2 ms apart, 5.12 s into the trace: the step is ms, whole ms tell them apart.
    expect(tickLabels([5.120e9, 5.122e9, 5.124e9])).toEqual(['5120 ms', '5122 ms', '5124 ms']);
    // 10 µs apart: "5123.68 ms" once, then .69, .70.
    expect(tickLabels([5_123_680_000, 5_123_690_000, 5_123_700_000])).toEqual(['5123.68 ms', '5123.69 ms', '5123.70 ms']);
    // ~1 µs wide view 5.12 s in: 100 ns ticks read in µs with one decimal.
    expect(tickLabels([5_123_680_100, 5_123_680_200])).toEqual(['5123680.1 µs', '5123680.2 µs']);
    // 1 ns apart: whole ns.
    expect(tickLabels([5_123_680_000, 5_123_680_001])).toEqual(['5123680000 ns', '5123680001 ns']);
  });

  it('writes a 2.5 step exactly instead of rounding 7.5 to 8', () => {
    expect(tickLabels([5e6, 7.5e6, 10e6])).toEqual(['5.0 ms', '7.5 ms', '10.0 ms']);
  });

  it('adds decimals until uneven neighbours differ', () => {
    // The step (2 ms) needs 0 decimals, but 2.0 and 2.4 would both read "2 ms".
    expect(tickLabels([0, 2e6, 2.4e6])).toEqual(['0.0 ms', '2.0 ms', '2.4 ms']);
  });

  it('labels time since an origin (the trace-relative mode)', () => {
    expect(tickLabels([5.121e9, 5.122e9], 5.12e9)).toEqual(['1 ms', '2 ms']);
    // A hair before the origin is not "-0".
    expect(tickLabels([5.12e9 - 1e-4, 5.12e9 + 1e6], 5.12e9)).toEqual(['0 ms', '1 ms']);
  });
});

describe('timeTicks', () => {
  it('falls on round values of the labelled time', () => {
    const scale = new TimeScale(5.1205e9, 5.1295e9, 1100); // 9 ms over 1100 px: about 10 ticks, 1 ms apart
    expect(timeTicks(scale).map((t) => t.label)).toEqual(['5121 ms', '5122 ms', '5123 ms', '5124 ms', '5125 ms', '5126 ms', '5127 ms', '5128 ms', '5129 ms']);
    const rel = timeTicks(scale, 110, false, 5.12e9);
    // Since 5.12 s the view is 0.5 .. 9.5 ms: 1-ms ticks from "1 ms", which sits at 5.121 s = 0.5 ms of 9 into the plot.
    expect(rel.map((t) => t.label)).toEqual(['1 ms', '2 ms', '3 ms', '4 ms', '5 ms', '6 ms', '7 ms', '8 ms', '9 ms']);
    expect(rel[0]!.xPx).toBeCloseTo(1100 * 0.5 / 9, 6);
    expect(timeTicks(scale, 110, true).every((t) => t.label === '')).toBe(true);
  });
});

describe('fittedTicks', () => {
  it('thins ticks whose labels are long (a clock 57464 s in, 2 µs over 900 px) so neighbours do not overlap', () => {
    const scale = new TimeScale(57_464_780_453_967, 57_464_780_455_967, 900);
    // 10 ticks of 200 ns would read "57464780454.2 µs" (16 characters, ~113 px) every 90 px; 500 ns ticks fit.
    expect(timeTicks(scale, 90).map((t) => t.label)).toEqual(['57464780454.0 µs', '57464780454.5 µs', '57464780455.0 µs', '57464780455.5 µs']);
  });
});
