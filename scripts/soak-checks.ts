// The soak's verdicts (scripts/soak.ts), apart so they are tested with figures made by hand
// (soak-checks.test.ts): a recording that must hold exactly what the source produced, a page that
// must have every event or exactly counted gaps, and memory that must stay flat.

/** An order-sensitive digest of (kind code, tsNs) rows: FNV-1a over the kind byte and the f64's two u32 halves. */
export class RowDigest {
  rows = 0;
  private h = 0x811c9dc5;
  private readonly f64 = new Float64Array(1);
  private readonly u32 = new Uint32Array(this.f64.buffer);
  add(kinds: ArrayLike<number>, tsNs: ArrayLike<number>, from: number, to: number): void {
    let h = this.h;
    for (let i = from; i < to; i++) {
      this.f64[0] = tsNs[i]!;
      h = Math.imul(h ^ kinds[i]!, 0x01000193);
      h = Math.imul(h ^ this.u32[0]!, 0x01000193);
      h = Math.imul(h ^ this.u32[1]!, 0x01000193);
    }
    this.h = h;
    this.rows += to - from;
  }
  get hex(): string { return (this.h >>> 0).toString(16).padStart(8, '0'); }
}

export interface Verdict { ok: boolean; what: string }

export function checkRecording(produced: { rows: number; hex: string }, recorded: { files: number; rows: number; hex: string; damage: string | null }): Verdict {
  if (recorded.files !== 1) return { ok: false, what: `recording: ${recorded.files} files in the sessions folder (one run makes one)` };
  if (recorded.damage) return { ok: false, what: `recording: damaged: ${recorded.damage}` };
  if (recorded.rows !== produced.rows) return { ok: false, what: `recording: ${recorded.rows} events read back, ${produced.rows} produced (${recorded.rows - produced.rows})` };
  if (recorded.hex !== produced.hex) return { ok: false, what: `recording: ${recorded.rows} events, as many as produced, but not the same ones (digest ${recorded.hex}, produced ${produced.hex})` };
  return { ok: true, what: `recording: exactly the ${produced.rows} events produced, in order (digest ${produced.hex})` };
}

/**
 * The page: `received` counts every row it was sent, its `gaps` gap events included; `missed` is
 * what those gap events say it missed. Every event is there, or every one is accounted for.
 */
export function checkPage(produced: number, page: { received: number; gaps: number; missed: number }): Verdict {
  const events = page.received - page.gaps;
  if (page.gaps === 0 && events === produced) return { ok: true, what: `page: received every event (${events})` };
  if (page.gaps > 0 && events + page.missed === produced) {
    return { ok: true, what: `page: received ${events} events and ${page.gaps} gap events counting exactly the ${page.missed} it missed (${events} + ${page.missed} = ${produced})` };
  }
  return { ok: false, what: `page: ${events} events received + ${page.missed} counted as missed in ${page.gaps} gaps = ${events + page.missed}, but ${produced} were produced` };
}

/** Least-squares slope of y over x. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  return sxx === 0 ? 0 : sxy / sxx;
}

/** The memory bound: over the run's second half, the fitted growth may be at most the larger of these. */
export const FLAT_BOUND_BYTES = 16 * 2 ** 20;
export const FLAT_BOUND_SHARE = 0.1;

/**
 * Memory is flat when the straight line fitted to the samples of the run's second half (elapsed
 * ≥ half the run) grows by at most max(16 MiB, 10 % of the metric's mean there) across that half.
 */
export function checkFlat(name: string, samples: ReadonlyArray<{ elapsedS: number; bytes: number }>, runS: number): Verdict & { growthBytes: number; boundBytes: number } {
  const half = samples.filter((s) => s.elapsedS >= runS / 2);
  if (half.length < 3) return { ok: false, what: `${name}: ${half.length} samples in the second half, too few to fit`, growthBytes: NaN, boundBytes: NaN };
  const xs = half.map((s) => s.elapsedS);
  const ys = half.map((s) => s.bytes);
  const growthBytes = slope(xs, ys) * (xs[xs.length - 1]! - xs[0]!);
  const mean = ys.reduce((a, b) => a + b, 0) / ys.length;
  const boundBytes = Math.max(FLAT_BOUND_BYTES, FLAT_BOUND_SHARE * mean);
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1);
  return {
    ok: growthBytes <= boundBytes, growthBytes, boundBytes,
    what: `${name}: ${growthBytes <= boundBytes ? 'flat' : 'GROWS'}: fitted ${growthBytes >= 0 ? '+' : ''}${mib(growthBytes)} MiB over the second half (${half.length} samples, mean ${mib(mean)} MiB; bound ${mib(boundBytes)} MiB)`,
  };
}
