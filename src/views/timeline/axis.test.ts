import { describe, expect, it } from 'vitest';
import { tickFormatter } from './axis.ts';

describe('tickFormatter', () => {
  it('picks a unit from the tick step and enough decimals to tell ticks apart', () => {
    expect(tickFormatter(200_000)(334_600_000)).toBe('334.6 ms');
    expect(tickFormatter(2_000_000)(334_000_000)).toBe('334 ms');
    expect(tickFormatter(500)(12_500)).toBe('12.5 µs');
    expect(tickFormatter(2)(1_000_004)).toBe('1000004 ns');
    expect(tickFormatter(5e8)(1.5e9)).toBe('1.5 s');
  });
});
