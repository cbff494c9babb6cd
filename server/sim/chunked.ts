// A sorted sequence kept as a list of chunks (≤ CHUNK_MAX items each) behind a plain-array API
// with global indices. The server's extent map and the kernel's mapping-cache forks grow to
// thousands of records under random writes (13k extents after 500k events of
// random-buffered-write); with one flat array every insert or cut was a splice moving all of
// them — a fifth of that run. Here a splice moves at most one chunk.

const CHUNK_MAX = 256;

export class ChunkedList<T> {
  private chunks: T[][] = [];
  /** Global index of each chunk's first item. */
  private starts: number[] = [];
  /** Key of each chunk's first item: the chunk search reads one dense array, not every chunk's head object. */
  private firstKeys: number[] = [];
  private n = 0;

  /** @param keyOf the sort key (items are ordered by it, ascending). */
  constructor(private readonly keyOf: (item: T) => number) {}

  get length(): number {
    return this.n;
  }

  clear(): void {
    this.chunks = [];
    this.starts = [];
    this.firstKeys = [];
    this.n = 0;
  }

  /** A flat copy, for tests and debugging. */
  toArray(): T[] {
    const out: T[] = [];
    for (const c of this.chunks) for (const item of c) out.push(item);
    return out;
  }

  /** Chunk holding global index i; i === length maps to the last chunk (append position). */
  private chunkOf(i: number): number {
    const s = this.starts;
    let lo = 0, hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid]! <= i) lo = mid; else hi = mid - 1;
    }
    return lo;
  }

  at(i: number): T | undefined {
    if (i < 0 || i >= this.n) return undefined;
    const c = this.chunkOf(i);
    return this.chunks[c]![i - this.starts[c]!];
  }

  set(i: number, item: T): void {
    const c = this.chunkOf(i);
    const off = i - this.starts[c]!;
    this.chunks[c]![off] = item;
    if (off === 0) this.firstKeys[c] = this.keyOf(item);
  }

  /** Index of the last item with key <= key, or -1. */
  floorIdx(key: number): number {
    const ch = this.chunks, keyOf = this.keyOf, fk = this.firstKeys;
    let lo = 0, hi = ch.length - 1, c = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (fk[mid]! <= key) { c = mid; lo = mid + 1; } else hi = mid - 1;
    }
    if (c < 0) return -1;
    const a = ch[c]!;
    let ans = 0;
    lo = 1; hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (keyOf(a[mid]!) <= key) { ans = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return this.starts[c]! + ans;
  }

  /** Array.prototype.splice(i, deleteCount, ...items), without returning the removed items. */
  splice(i: number, deleteCount: number, items: readonly T[]): void {
    if (this.chunks.length === 0) {
      if (items.length === 0) return;
      this.chunks.push([]);
      this.starts.push(0);
    }
    const c = this.chunkOf(i);
    const a = this.chunks[c]!;
    const off = i - this.starts[c]!;
    const inFirst = Math.min(deleteCount, a.length - off);
    // Items past this chunk come off the front of the following chunks.
    let rest = deleteCount - inFirst;
    let deleted = inFirst;
    for (let k = c + 1; rest > 0 && k < this.chunks.length; k++) {
      const b = this.chunks[k]!;
      const cut = Math.min(rest, b.length);
      b.splice(0, cut);
      rest -= cut;
      deleted += cut;
    }
    if (items.length === 0) a.splice(off, inFirst);
    else if (items.length === 1) a.splice(off, inFirst, items[0]!);
    else a.splice(off, inFirst, ...items);
    this.n += items.length - deleted;
    this.rebalance(c);
  }

  /** Drops empty chunks and splits oversized ones from chunk c on, joins small neighbours, renumbers. */
  private rebalance(c: number): void {
    const ch = this.chunks;
    for (let k = c; k < ch.length;) {
      const a = ch[k]!;
      if (a.length === 0) ch.splice(k, 1);
      else if (a.length > CHUNK_MAX) ch.splice(k + 1, 0, a.splice(a.length >> 1));
      else k++;
    }
    // Join chunk c with its successor when both are small, so removals do not leave many tiny chunks.
    if (c + 1 < ch.length && ch[c]!.length + ch[c + 1]!.length <= CHUNK_MAX >> 1) {
      const merged = ch[c]!;
      for (const item of ch[c + 1]!) merged.push(item);
      ch.splice(c + 1, 1);
    }
    const s = this.starts, fk = this.firstKeys, keyOf = this.keyOf;
    s.length = ch.length;
    fk.length = ch.length;
    let at = c > 0 ? s[c - 1]! + ch[c - 1]!.length : 0;
    for (let k = c; k < ch.length; k++) {
      s[k] = at;
      fk[k] = keyOf(ch[k]![0]!);
      at += ch[k]!.length;
    }
  }
}
