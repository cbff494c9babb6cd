import { describe, expect, it } from 'vitest';
import { TYPED_ARRAY_CTORS, perType } from './per-type.ts';
import { Growable } from './growable.ts';

describe('perType', () => {
  it('compiles one copy of a function per array type, each behaving like it', () => {
    function sum(col: ArrayLike<number>, n: number): number {
      let s = 0;
      for (let i = 0; i < n; i++) s += col[i]!;
      return s;
    }
    const sumFor = perType(sum);
    const copies = new Set(TYPED_ARRAY_CTORS.map((t) => sumFor(t)));
    expect(copies.size).toBe(TYPED_ARRAY_CTORS.length); // separate functions: separate feedback
    expect(copies.has(sum)).toBe(false);
    for (const t of TYPED_ARRAY_CTORS) expect(sumFor(t)((t as unknown as { from(a: number[]): ArrayLike<number> }).from([1, 2, 3, 4]), 3)).toBe(6);
  });
  it('gives Growables of each type their compiled push, which grows and keeps values', () => {
    for (const t of [Float64Array, Uint32Array, Uint8Array, Int32Array] as const) {
      const g = new Growable(t as unknown as new (n: number) => Float64Array, 2);
      for (let i = 0; i < 100; i++) g.push(i % 200);
      expect(g.length).toBe(100);
      expect(Array.from(g.data.subarray(0, 5))).toEqual([0, 1, 2, 3, 4]);
      expect(g.data[99]).toBe(99);
    }
    expect(new Growable(Float64Array).push).not.toBe(new Growable(Uint8Array).push);
  });
});
