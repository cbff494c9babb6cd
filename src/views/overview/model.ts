// Pure model of the overview strip: how many events fall in each of `bucketCount` equal slices of
// [startNs, endNs]. tsNs is sorted (store.ts), so each bucket is two binary searches — the strip
// costs O(buckets · log rows) however large the recording, not O(rows).
//
//   startNs                                                     endNs
//   |--b0--|--b1--|--b2--| … |--b(n-1)--|      bucket i = [startNs + i·w, startNs + (i+1)·w)
//                                               the last one also holds rows at exactly endNs

interface SortedTimes {
  readonly length: number;
  /** First row with tsNs >= tsNs. */
  lowerBound(tsNs: number): number;
  /** First row with tsNs > tsNs. */
  upperBound(tsNs: number): number;
}

export function overviewBuckets(rows: SortedTimes, startNs: number, endNs: number, bucketCount: number): Uint32Array {
  const n = Math.max(0, Math.floor(bucketCount));
  const counts = new Uint32Array(n);
  if (n === 0 || rows.length === 0 || !(endNs >= startNs)) return counts;
  const widthNs = (endNs - startNs) / n;
  let prev = rows.lowerBound(startNs);
  for (let i = 0; i < n; i++) {
    const next = i === n - 1 ? rows.upperBound(endNs) : rows.lowerBound(startNs + (i + 1) * widthNs);
    counts[i] = next - prev;
    prev = next;
  }
  return counts;
}

/**
 * Bar heights in [0, 1]: square root of count / max, so a sparse stretch (a few upcalls) stays
 * visible next to a dense burst (tens of thousands), and an empty bucket is 0.
 */
export function barHeights(counts: Uint32Array): Float32Array {
  let max = 0;
  for (const c of counts) if (c > max) max = c;
  const out = new Float32Array(counts.length);
  if (max === 0) return out;
  const root = Math.sqrt(max);
  for (let i = 0; i < counts.length; i++) out[i] = Math.sqrt(counts[i]!) / root;
  return out;
}

/** The strip's x (CSS px) ↔ ns mapping over the whole file. */
export function stripNsToPx(tsNs: number, startNs: number, endNs: number, widthPx: number): number {
  return endNs > startNs ? ((tsNs - startNs) / (endNs - startNs)) * widthPx : 0;
}
export function stripPxToNs(xPx: number, startNs: number, endNs: number, widthPx: number): number {
  const f = widthPx > 0 ? Math.min(1, Math.max(0, xPx / widthPx)) : 0;
  return startNs + f * (endNs - startNs);
}
