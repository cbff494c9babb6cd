import { describe, expect, it } from 'vitest';
import { TYPED_ARRAY_CTORS, WriteTag, compileKindWriter, compilePieceSequence, perType, type FieldPlan } from './codegen.ts';
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

describe('compileKindWriter', () => {
  /** A store stand-in: plain arrays as columns, a string table that interns by position. */
  function target() {
    const strings: string[] = [''];
    const general: string[] = [];
    const t = {
      cols: [] as Array<number[] | undefined>,
      colAt(c: number) { return (t.cols[c] ??= []); },
      strings: { intern: (s: string) => { const i = strings.indexOf(s); return i >= 0 ? i : strings.push(s) - 1; } },
      putNum(c: number, row: number, v: number) { general.push(`num ${c}`); t.colAt(c)[row] = v; },
      putPlanned(plan: FieldPlan, _row: number, v: unknown) { general.push(`planned ${plan.field}=${String(v)}`); },
    };
    return { t, general };
  }
  const plans: FieldPlan[] = [
    { field: 'posBytes', tag: WriteTag.Num, column: 0, loCol: -1, enumCodes: null },
    { field: 'path', tag: WriteTag.Str, column: 1, loCol: -1, enumCodes: null },
    { field: 'hit', tag: WriteTag.Bool, column: 2, loCol: -1, enumCodes: null },
    { field: 'op', tag: WriteTag.Enum, column: 3, loCol: -1, enumCodes: new Map([['read', 0], ['write', 1]]) },
    { field: 'mapAddr', tag: WriteTag.U64, column: 4, loCol: 5, enumCodes: null },
  ];
  it('writes each field into its column: numbers, interned strings, 0/1, enum codes, u64 as hi/lo halves', () => {
    const { t, general } = target();
    const write = compileKindWriter('test_kind', plans)!;
    // 2^32 * 3 + 5: hi 3, lo 5 (exact as a Number, so split inline through putNum).
    write(t, 0, { posBytes: 4096, path: '/a', hit: true, op: 'write', mapAddr: 3n * 2n ** 32n + 5n });
    expect([t.cols[0]![0], t.cols[1]![0], t.cols[2]![0], t.cols[3]![0], t.cols[4]![0], t.cols[5]![0]]).toEqual([4096, 1, 1, 1, 3, 5]);
    // An unknown enum value and an address above 2^53 take the general path.
    write(t, 1, { posBytes: 0, path: '', hit: false, op: 'fsync', mapAddr: 2n ** 60n });
    expect(general.filter((g) => g.startsWith('planned'))).toEqual(['planned op=fsync', `planned mapAddr=${2n ** 60n}`]);
    // All-ones (no address) is split inline: hi and lo both 2^32 - 1.
    write(t, 2, { posBytes: 0, path: '', hit: false, op: 'read', mapAddr: 2n ** 64n - 1n });
    expect([t.cols[4]![2], t.cols[5]![2]]).toEqual([4294967295, 4294967295]);
    expect(general.filter((g) => g.startsWith('planned'))).toHaveLength(2);
  });
  it('refuses a field name that is not an identifier (generated source is built from names)', () => {
    expect(() => compileKindWriter('k', [{ ...plans[0]!, field: 'a;b' }])).toThrow('not an identifier');
  });
});

describe('compilePieceSequence', () => {
  const bytes = (t: string): Uint8Array => new TextEncoder().encode(t);
  /** A piece writing one character of the record at out[at]. */
  const char = (r: { c: number }, out: Uint8Array, at: number): number => {
    if (at + 1 > out.length) return -1;
    out[at] = r.c;
    return at + 1;
  };
  it('writes literals and pieces in order and returns the end', () => {
    const write = compilePieceSequence([bytes('ab'), char, bytes('c=')])!;
    const out = new Uint8Array(8);
    expect(write({ c: 88 }, out)).toBe(5);
    expect(new TextDecoder().decode(out.subarray(0, 5))).toBe('abXc=');
  });
  it('-1 when out is too small (a literal or a piece); a piece\'s own negative code as it is', () => {
    const write = compilePieceSequence([bytes('ab'), char, bytes('cd')])!;
    expect(write({ c: 88 }, new Uint8Array(1))).toBe(-1);
    expect(write({ c: 88 }, new Uint8Array(2))).toBe(-1);
    expect(write({ c: 88 }, new Uint8Array(4))).toBe(-1);
    expect(compilePieceSequence([bytes('a'), () => -2, bytes('b')])!({ c: 0 }, new Uint8Array(8))).toBe(-2);
  });
});
