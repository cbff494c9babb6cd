// Binary search over a nondecreasing numeric column (row times, cache marker rows), directly or
// through ids (a track's span ids, by their start times).

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

/**
 * searchSorted over keys read through ids (span ids in start order, their start times): the first
 * position in [from, count) whose key[ids[i]] is ≥ v (`after`: > v); count if none.
 */
export function searchSortedBy(ids: ArrayLike<number>, count: number, key: ArrayLike<number>, v: number, after = false, from = 0): number {
  let lo = from;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const x = key[ids[mid]!]!;
    if (x < v || (after && x === v)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
