// Per-inode extent tree of the server model (ext4-like, in fs blocks):
//
//   file blocks  0      4          10        16
//                |--A--|   hole   |----B----|        A written @phys 300, B unwritten @phys 900
//
// Extents are kept sorted by fileBlk, non-overlapping, and merged with a neighbour when they are
// contiguous in file *and* disk blocks and have the same written/unwritten state — so the array
// stays bounded by the file's size in blocks (and is usually far smaller). Random writes to a
// sparse file still leave thousands, so they live in a ChunkedList (splices move one chunk).

import { ChunkedList } from '../chunked.ts';

interface Extent {
  fileBlk: number;
  lenBlk: number;
  physBlk: number;
  isUnwritten: boolean;
}

type ExtentLookup =
  | { kind: 'extent'; ext: Extent }
  /** `endBlk` is Infinity when no extent follows. */
  | { kind: 'hole'; startBlk: number; endBlk: number };

const fileBlkOf = (e: Extent): number => e.fileBlk;
const NONE: readonly Extent[] = [];

export class ExtentMap {
  private readonly exts = new ChunkedList<Extent>(fileBlkOf);

  get count(): number {
    return this.exts.length;
  }

  /** A copy, for tests and debugging. */
  toArray(): Extent[] {
    return this.exts.toArray().map((e) => ({ ...e }));
  }

  /** Index of the last extent with fileBlk <= blk, or -1. */
  private floorIdx(blk: number): number {
    return this.exts.floorIdx(blk);
  }

  lookup(blk: number): ExtentLookup {
    const i = this.floorIdx(blk);
    const e = i >= 0 ? this.exts.at(i) : undefined;
    if (e && blk < e.fileBlk + e.lenBlk) return { kind: 'extent', ext: e };
    const next = this.exts.at(i + 1);
    return { kind: 'hole', startBlk: e ? e.fileBlk + e.lenBlk : 0, endBlk: next ? next.fileBlk : Infinity };
  }

  /** Adds an extent over a hole (overlap is a caller bug). */
  insert(ext: Extent): void {
    const i = this.floorIdx(ext.fileBlk);
    const prev = i >= 0 ? this.exts.at(i) : undefined;
    const next = this.exts.at(i + 1);
    if ((prev && prev.fileBlk + prev.lenBlk > ext.fileBlk) || (next && ext.fileBlk + ext.lenBlk > next.fileBlk)) {
      throw new Error(`extent-map: insert of [${ext.fileBlk}, +${ext.lenBlk}) overlaps an extent`);
    }
    this.exts.splice(i + 1, 0, [{ ...ext }]);
    this.mergeAround(i, i + 2);
  }

  /** Marks [startBlk, endBlk) written; returns how many unwritten blocks were converted. */
  convert(startBlk: number, endBlk: number): number {
    let i = this.floorIdx(startBlk);
    if (i < 0 || this.exts.at(i)!.fileBlk + this.exts.at(i)!.lenBlk <= startBlk) i++;
    const first = i;
    let convertedBlk = 0;
    const pieces: Extent[] = [];
    for (let e = this.exts.at(i); e !== undefined && e.fileBlk < endBlk; e = this.exts.at(++i)) {
      if (!e.isUnwritten) { pieces.push(e); continue; }
      const lo = Math.max(e.fileBlk, startBlk), hi = Math.min(e.fileBlk + e.lenBlk, endBlk);
      if (lo > e.fileBlk) pieces.push({ fileBlk: e.fileBlk, lenBlk: lo - e.fileBlk, physBlk: e.physBlk, isUnwritten: true });
      pieces.push({ fileBlk: lo, lenBlk: hi - lo, physBlk: e.physBlk + (lo - e.fileBlk), isUnwritten: false });
      if (hi < e.fileBlk + e.lenBlk) {
        pieces.push({ fileBlk: hi, lenBlk: e.fileBlk + e.lenBlk - hi, physBlk: e.physBlk + (hi - e.fileBlk), isUnwritten: true });
      }
      convertedBlk += hi - lo;
    }
    if (convertedBlk === 0) return 0;
    this.exts.splice(first, i - first, pieces);
    this.mergeAround(first - 1, first + pieces.length + 1);
    return convertedBlk;
  }

  /** Removes [startBlk, endBlk) from the map (truncate, punch, copy target); returns blocks freed. */
  removeRange(startBlk: number, endBlk: number): number {
    let i = this.floorIdx(startBlk);
    if (i < 0 || this.exts.at(i)!.fileBlk + this.exts.at(i)!.lenBlk <= startBlk) i++;
    const first = i;
    const pieces: Extent[] = [];
    let freedBlk = 0;
    for (let e = this.exts.at(i); e !== undefined && e.fileBlk < endBlk; e = this.exts.at(++i)) {
      const eEnd = e.fileBlk + e.lenBlk;
      if (e.fileBlk < startBlk) pieces.push({ ...e, lenBlk: startBlk - e.fileBlk });
      if (eEnd > endBlk) pieces.push({ ...e, fileBlk: endBlk, lenBlk: eEnd - endBlk, physBlk: e.physBlk + (endBlk - e.fileBlk) });
      freedBlk += Math.min(eEnd, endBlk) - Math.max(e.fileBlk, startBlk);
    }
    if (i > first) this.exts.splice(first, i - first, pieces);
    return freedBlk;
  }

  /** Extents overlapping [startBlk, endBlk), in order (for the mapping oracle). */
  overlapping(startBlk: number, endBlk: number): Extent[] {
    let i = this.floorIdx(startBlk);
    if (i < 0 || this.exts.at(i)!.fileBlk + this.exts.at(i)!.lenBlk <= startBlk) i++;
    const out: Extent[] = [];
    for (let e = this.exts.at(i); e !== undefined && e.fileBlk < endBlk; e = this.exts.at(++i)) out.push(e);
    return out;
  }

  private mergeAround(loIdx: number, hiIdx: number): void {
    let k = Math.max(1, loIdx);
    let hi = Math.min(hiIdx, this.exts.length - 1);
    while (k <= hi) {
      const a = this.exts.at(k - 1)!, b = this.exts.at(k)!;
      if (a.fileBlk + a.lenBlk === b.fileBlk && a.physBlk + a.lenBlk === b.physBlk && a.isUnwritten === b.isUnwritten) {
        a.lenBlk += b.lenBlk;
        this.exts.splice(k, 1, NONE);
        hi--;
      } else k++;
    }
  }
}
