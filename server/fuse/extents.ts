// The pure halves of the image filesystem's space management, in fs blocks (no I/O here):
//
//   ExtentMap: one file's extents, sorted by fileBlock, non-overlapping, each written or unwritten,
//   merged with a neighbour when contiguous in file *and* disk blocks with the same state.
//
//   file blocks  0      4          10        16
//                |--A--|   hole   |----B----|        A written @disk 300, B unwritten @disk 900
//
//   `seq` counts changes to the map: it is the validity cookie a fuse-iomap server stamps on the
//   mappings it answers (fuse-iomap series: a mapping is stale once the sequence moved).
//
//   BlockAllocator: a bitmap of the image's blocks (1 = used), first-fit from a goal block.

export interface Extent {
  fileBlock: number;
  blocks: number;
  diskBlock: number;
  unwritten: boolean;
}

/** A disk run [diskBlock, diskBlock + blocks). */
export interface DiskRun {
  diskBlock: number;
  blocks: number;
}

/** What covers one stretch of file blocks: an extent's part, or a hole. */
export type Piece =
  | { kind: 'hole'; fileBlock: number; blocks: number }
  | { kind: 'written' | 'unwritten'; fileBlock: number; blocks: number; diskBlock: number };

export class ExtentMap {
  private exts: Extent[];
  /** Bumped on every change of the map: the fuse-iomap validity cookie. */
  seq = 1;

  constructor(extents: readonly Extent[] = []) {
    this.exts = extents.map((e) => ({ ...e }));
    this.exts.sort((a, b) => a.fileBlock - b.fileBlock);
    this.mergeAll();
  }

  get count(): number {
    return this.exts.length;
  }

  /** A copy of the extents, in file order. */
  toArray(): Extent[] {
    return this.exts.map((e) => ({ ...e }));
  }

  /** Blocks allocated (written or unwritten). */
  allocatedBlocks(): number {
    let n = 0;
    for (const e of this.exts) n += e.blocks;
    return n;
  }

  /** Index of the first extent ending after `block`. */
  private firstEndingAfter(block: number): number {
    let lo = 0, hi = this.exts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const e = this.exts[mid]!;
      if (e.fileBlock + e.blocks <= block) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The pieces (extent parts and holes) covering [fileBlock, fileBlock + blocks), in order. */
  pieces(fileBlock: number, blocks: number): Piece[] {
    const end = fileBlock + blocks;
    const out: Piece[] = [];
    let at = fileBlock;
    for (let i = this.firstEndingAfter(fileBlock); i < this.exts.length && at < end; i++) {
      const e = this.exts[i]!;
      if (e.fileBlock >= end) break;
      if (e.fileBlock > at) out.push({ kind: 'hole', fileBlock: at, blocks: e.fileBlock - at });
      const lo = Math.max(at, e.fileBlock), hi = Math.min(end, e.fileBlock + e.blocks);
      out.push({ kind: e.unwritten ? 'unwritten' : 'written', fileBlock: lo, blocks: hi - lo, diskBlock: e.diskBlock + (lo - e.fileBlock) });
      at = hi;
    }
    if (at < end) out.push({ kind: 'hole', fileBlock: at, blocks: end - at });
    return out;
  }

  /** Adds an extent over a hole (an overlap is a caller bug and throws). */
  insert(ext: Extent): void {
    const i = this.firstEndingAfter(ext.fileBlock);
    const next = this.exts[i];
    if (next && next.fileBlock < ext.fileBlock + ext.blocks) {
      throw new Error(`extents: insert of [${ext.fileBlock}, +${ext.blocks}) overlaps an extent`);
    }
    this.exts.splice(i, 0, { ...ext });
    this.mergeAround(i - 1, i + 1);
    this.seq++;
  }

  /** Marks [fileBlock, fileBlock + blocks) written, splitting unwritten extents at the edges; returns blocks converted. */
  convert(fileBlock: number, blocks: number): number {
    const end = fileBlock + blocks;
    const first = this.firstEndingAfter(fileBlock);
    let i = first;
    const out: Extent[] = [];
    let converted = 0;
    for (; i < this.exts.length && this.exts[i]!.fileBlock < end; i++) {
      const e = this.exts[i]!;
      if (!e.unwritten) { out.push(e); continue; }
      const lo = Math.max(e.fileBlock, fileBlock), hi = Math.min(e.fileBlock + e.blocks, end);
      if (lo > e.fileBlock) out.push({ ...e, blocks: lo - e.fileBlock });
      out.push({ fileBlock: lo, blocks: hi - lo, diskBlock: e.diskBlock + (lo - e.fileBlock), unwritten: false });
      if (hi < e.fileBlock + e.blocks) out.push({ ...e, fileBlock: hi, blocks: e.fileBlock + e.blocks - hi, diskBlock: e.diskBlock + (hi - e.fileBlock) });
      converted += hi - lo;
    }
    if (converted === 0) return 0;
    this.exts.splice(first, i - first, ...out);
    this.mergeAround(first - 1, first + out.length);
    this.seq++;
    return converted;
  }

  /** Removes [fileBlock, fileBlock + blocks) from the map (truncate, punch); returns the disk runs freed. */
  remove(fileBlock: number, blocks: number): DiskRun[] {
    const end = fileBlock + blocks;
    const first = this.firstEndingAfter(fileBlock);
    let i = first;
    const keep: Extent[] = [];
    const freed: DiskRun[] = [];
    for (; i < this.exts.length && this.exts[i]!.fileBlock < end; i++) {
      const e = this.exts[i]!;
      const eEnd = e.fileBlock + e.blocks;
      if (e.fileBlock < fileBlock) keep.push({ ...e, blocks: fileBlock - e.fileBlock });
      if (eEnd > end) keep.push({ ...e, fileBlock: end, blocks: eEnd - end, diskBlock: e.diskBlock + (end - e.fileBlock) });
      const lo = Math.max(e.fileBlock, fileBlock), hi = Math.min(eEnd, end);
      freed.push({ diskBlock: e.diskBlock + (lo - e.fileBlock), blocks: hi - lo });
    }
    if (i > first) {
      this.exts.splice(first, i - first, ...keep);
      this.seq++;
    }
    return freed;
  }

  private mergeAll(): void {
    this.mergeAround(0, this.exts.length - 1);
  }

  /** Merges contiguous neighbours among indices lo..hi (clamped). */
  private mergeAround(lo: number, hi: number): void {
    let k = Math.max(1, lo);
    let last = Math.min(hi, this.exts.length - 1);
    while (k <= last) {
      const a = this.exts[k - 1]!, b = this.exts[k]!;
      if (a.fileBlock + a.blocks === b.fileBlock && a.diskBlock + a.blocks === b.diskBlock && a.unwritten === b.unwritten) {
        a.blocks += b.blocks;
        this.exts.splice(k, 1);
        last--;
      } else k++;
    }
  }
}

/** Free-space bitmap over every block of the image; metadata blocks are marked used at mkfs. */
export class BlockAllocator {
  readonly bits: Uint8Array;
  readonly totalBlocks: number;
  private freeCount: number;
  /** Set by every change; the image writes the dirty bytes [dirtyFrom, dirtyTo) back and clears it. */
  dirty = false;
  dirtyFrom = Infinity;
  dirtyTo = 0;

  constructor(totalBlocks: number, bits?: Uint8Array) {
    this.totalBlocks = totalBlocks;
    this.bits = bits ?? new Uint8Array(Math.ceil(totalBlocks / 8));
    let used = 0;
    for (let b = 0; b < totalBlocks; b++) if (this.isUsed(b)) used++;
    this.freeCount = totalBlocks - used;
  }

  get free(): number {
    return this.freeCount;
  }

  isUsed(block: number): boolean {
    return (this.bits[block >> 3]! & (1 << (block & 7))) !== 0;
  }

  private set(block: number, used: boolean): void {
    const byte = block >> 3;
    if (used) this.bits[byte]! |= 1 << (block & 7);
    else this.bits[byte]! &= ~(1 << (block & 7));
    if (byte < this.dirtyFrom) this.dirtyFrom = byte;
    if (byte + 1 > this.dirtyTo) this.dirtyTo = byte + 1;
  }

  /** After the dirty range was written back. */
  clean(): void {
    this.dirty = false;
    this.dirtyFrom = Infinity;
    this.dirtyTo = 0;
  }

  /** Marks [start, start + blocks) used (mkfs: the metadata area). */
  reserve(start: number, blocks: number): void {
    for (let b = start; b < start + blocks; b++) {
      if (!this.isUsed(b)) { this.set(b, true); this.freeCount--; }
    }
    this.dirty = true;
  }

  /**
   * `blocks` blocks as few runs as first-fit finds, searching from `goal` and wrapping; null (and
   * nothing taken) when fewer are free.
   */
  allocate(blocks: number, goal = 0): DiskRun[] | null {
    if (blocks <= 0) return [];
    if (blocks > this.freeCount) return null;
    const runs: DiskRun[] = [];
    let need = blocks;
    const start = goal >= 0 && goal < this.totalBlocks ? goal : 0;
    for (let scanned = 0, b = start; scanned < this.totalBlocks && need > 0; scanned++, b = b + 1 === this.totalBlocks ? 0 : b + 1) {
      if (this.isUsed(b)) continue;
      this.set(b, true);
      need--;
      const last = runs[runs.length - 1];
      if (last && last.diskBlock + last.blocks === b) last.blocks++;
      else runs.push({ diskBlock: b, blocks: 1 });
    }
    this.freeCount -= blocks;
    this.dirty = true;
    return runs;
  }

  /** One contiguous run of `blocks`, or null. */
  allocateContiguous(blocks: number): DiskRun | null {
    let runStart = -1;
    for (let b = 0; b < this.totalBlocks; b++) {
      if (this.isUsed(b)) { runStart = -1; continue; }
      if (runStart < 0) runStart = b;
      if (b - runStart + 1 === blocks) {
        for (let k = runStart; k <= b; k++) this.set(k, true);
        this.freeCount -= blocks;
        this.dirty = true;
        return { diskBlock: runStart, blocks };
      }
    }
    return null;
  }

  release(run: DiskRun): void {
    for (let b = run.diskBlock; b < run.diskBlock + run.blocks; b++) {
      if (!this.isUsed(b)) throw new Error(`allocator: block ${b} freed twice`);
      this.set(b, false);
      this.freeCount++;
    }
    this.dirty = true;
  }
}
