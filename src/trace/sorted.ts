// Binary search over a nondecreasing numeric column (row times, cache marker rows).

/** First index in sorted[0, count) whose value is ≥ v (`after`: > v); count if none. */
export function searchSorted(sorted: ArrayLike<number>, count: number, v: number, after = false): number {
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = sorted[mid]!;
    if (x < v || (after && x === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
