// The one mapping between trace time (ns since the recording's originNs) and CSS pixels of a
// timeline's plot area. Every ns↔px conversion in the UI goes through a TimeScale.
//
//   originNs   startNs (xPx = 0)              endNs (xPx = widthPx)
//   |----------|==============================|---------|
//              nsPerPx = (endNs - startNs) / widthPx
//
// Precision: tsNs values are Float64 offsets from originNs (exact to ~104 days). We subtract
// startNs *before* scaling, so the difference is small and exact even when startNs is huge, and
// the resulting px value can safely go into a Float32Array (float32 keeps ~7 digits).

export class TimeScale {
  readonly nsPerPx: number;
  readonly pxPerNs: number;

  constructor(
    readonly startNs: number,
    readonly endNs: number,
    readonly widthPx: number,
  ) {
    if (!(endNs > startNs)) throw new RangeError(`TimeScale: endNs ${endNs} must be > startNs ${startNs}`);
    if (!(widthPx > 0)) throw new RangeError(`TimeScale: widthPx ${widthPx} must be > 0`);
    this.nsPerPx = (endNs - startNs) / widthPx;
    this.pxPerNs = widthPx / (endNs - startNs);
  }

  get durNs(): number {
    return this.endNs - this.startNs;
  }

  nsToPx(tsNs: number): number {
    return (tsNs - this.startNs) * this.pxPerNs;
  }

  /** The pixel column [0, lastCol] holding tsNs (times outside the range clamp to the edge columns). */
  columnOf(tsNs: number, lastCol: number): number {
    return Math.min(Math.max(Math.floor(this.nsToPx(tsNs)), 0), lastCol);
  }

  /** A duration in ns as a width in px. */
  durToPx(durNs: number): number {
    return durNs * this.pxPerNs;
  }

  pxToNs(xPx: number): number {
    return this.startNs + xPx * this.nsPerPx;
  }

  /** Scale of the same width showing [startNs, endNs]. */
  withRange(startNs: number, endNs: number): TimeScale {
    return new TimeScale(startNs, endNs, this.widthPx);
  }

  /** Zooms by `factor` (< 1 zooms in) keeping the time under `anchorPx` at the same place. */
  zoomedAt(anchorPx: number, factor: number): TimeScale {
    const anchorNs = this.pxToNs(anchorPx);
    return this.withRange(anchorNs - (anchorNs - this.startNs) * factor, anchorNs + (this.endNs - anchorNs) * factor);
  }

  /** Pans by `dxPx` (positive shows later times). */
  pannedBy(dxPx: number): TimeScale {
    const dNs = dxPx * this.nsPerPx;
    return this.withRange(this.startNs + dNs, this.endNs + dNs);
  }
}

/** Formats a duration in ns with a unit that keeps 3 significant digits: 950 ns, 12.3 µs, 4.56 ms. */
export function formatDurNs(durNs: number): string {
  const abs = Math.abs(durNs);
  if (abs < 1e3) return `${fmt3(durNs)} ns`;
  if (abs < 1e6) return `${fmt3(durNs / 1e3)} µs`;
  if (abs < 1e9) return `${fmt3(durNs / 1e6)} ms`;
  return `${fmt3(durNs / 1e9)} s`;
}

function fmt3(v: number): string {
  const abs = Math.abs(v);
  return abs >= 100 ? v.toFixed(0) : abs >= 10 ? v.toFixed(1) : v.toFixed(2);
}
