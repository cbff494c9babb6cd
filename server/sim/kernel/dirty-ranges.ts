// Dirty page-cache ranges of one fuse_inode, as sorted, disjoint, merged [startBytes, endBytes)
// intervals in whole pages. Merging on insert keeps the list bounded by the file size / 2 pages.

const PAGE_BYTES = 4096;

export class DirtyRanges {
  private starts: number[] = [];
  private ends: number[] = [];

  get rangeCount(): number {
    return this.starts.length;
  }
  get isEmpty(): boolean {
    return this.starts.length === 0;
  }
  get totalBytes(): number {
    let sum = 0;
    for (let i = 0; i < this.starts.length; i++) sum += this.ends[i]! - this.starts[i]!;
    return sum;
  }
  toArray(): [number, number][] {
    return this.starts.map((s, i) => [s, this.ends[i]!]);
  }

  /** Marks the pages covering [posBytes, posBytes+lenBytes) dirty. */
  add(posBytes: number, lenBytes: number): void {
    if (lenBytes <= 0) return;
    let s = Math.floor(posBytes / PAGE_BYTES) * PAGE_BYTES;
    let e = Math.ceil((posBytes + lenBytes) / PAGE_BYTES) * PAGE_BYTES;
    const starts = this.starts, ends = this.ends;
    const n = starts.length;
    // First range whose end >= s (touching ranges merge): binary search, ends are sorted.
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ends[mid]! < s) lo = mid + 1; else hi = mid;
    }
    const i = lo;
    let j = i;
    while (j < n && starts[j]! <= e) {
      s = Math.min(s, starts[j]!);
      e = Math.max(e, ends[j]!);
      j++;
    }
    // In place where possible: splice allocates, and most adds extend or join one range.
    if (j === i) {
      if (i === n) { starts.push(s); ends.push(e); } else { starts.splice(i, 0, s); ends.splice(i, 0, e); }
      return;
    }
    starts[i] = s;
    ends[i] = e;
    if (j - i > 1) { starts.splice(i + 1, j - i - 1); ends.splice(i + 1, j - i - 1); }
  }

  /** Removes and returns up to `maxBytes` from the front of the first range (writeback order). */
  takeFirst(maxBytes: number): [number, number] | null {
    if (this.starts.length === 0) return null;
    const s = this.starts[0]!, e = this.ends[0]!;
    const cut = Math.min(e, s + Math.max(PAGE_BYTES, Math.floor(maxBytes / PAGE_BYTES) * PAGE_BYTES));
    if (cut >= e) { this.starts.shift(); this.ends.shift(); } else this.starts[0] = cut;
    return [s, cut];
  }

  /** Removes and returns the dirty parts overlapping [startBytes, endBytes) (sync before direct IO). */
  extract(startBytes: number, endBytes: number): [number, number][] {
    const out: [number, number][] = [];
    const keepS: number[] = [], keepE: number[] = [];
    for (let i = 0; i < this.starts.length; i++) {
      const s = this.starts[i]!, e = this.ends[i]!;
      if (e <= startBytes || s >= endBytes) { keepS.push(s); keepE.push(e); continue; }
      const lo = Math.max(s, Math.floor(startBytes / PAGE_BYTES) * PAGE_BYTES);
      const hi = Math.min(e, Math.ceil(endBytes / PAGE_BYTES) * PAGE_BYTES);
      if (s < lo) { keepS.push(s); keepE.push(lo); }
      out.push([lo, hi]);
      if (hi < e) { keepS.push(hi); keepE.push(e); }
    }
    if (out.length > 0) { this.starts = keepS; this.ends = keepE; }
    return out;
  }
}
