// Seeded PRNG: xoshiro128** (Blackman & Vigna) seeded through splitmix32. Small, fast, and the
// whole simulator draws from one instance in scheduler order, so a seed fixes the event stream.

function splitmix32(state: number): [next: number, out: number] {
  const next = (state + 0x9e3779b9) | 0;
  let t = next ^ (next >>> 16);
  t = Math.imul(t, 0x21f0aaad);
  t ^= t >>> 15;
  t = Math.imul(t, 0x735a2d97);
  t ^= t >>> 15;
  return [next, t >>> 0];
}

export class Prng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Any finite integer seed; seeds beyond 2^32 are folded, not truncated. */
  constructor(seed: number) {
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    let st = lo ^ Math.imul(hi, 0x85ebca6b);
    let out: number;
    [st, out] = splitmix32(st); this.s0 = out;
    [st, out] = splitmix32(st); this.s1 = out;
    [st, out] = splitmix32(st); this.s2 = out;
    [st, out] = splitmix32(st); this.s3 = out;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // all-zero state is a fixed point
  }

  nextU32(): number {
    const s1 = this.s1;
    const rot = Math.imul(s1, 5);
    const result = Math.imul((rot << 7) | (rot >>> 25), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = (this.s3 << 11) | (this.s3 >>> 21);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 2 ** 32;
  }

  /** Uniform integer in [minIncl, maxExcl). */
  int(minIncl: number, maxExcl: number): number {
    return minIncl + Math.floor(this.next() * (maxExcl - minIncl));
  }

  /** `baseNs` ± `pct`%, rounded to whole ns and never below 1 (a step always takes time). */
  jitterNs(baseNs: number, pct: number): number {
    if (baseNs <= 0) return 0;
    const f = 1 + ((this.next() * 2 - 1) * pct) / 100;
    return Math.max(1, Math.round(baseNs * f));
  }
}
