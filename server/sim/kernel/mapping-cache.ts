// The per-fuse_inode iomap mapping cache of v3+ (docs/domain.md §3): two forks of sorted,
// non-overlapping mapping records plus one sequence number `seq` (ic_seq) shared by both.
//
//   read fork   |--mapped A--|   |-----unwritten B-----|        records in file bytes
//   write fork  absent (in-place server: never created)          present only after a non-PURE upsert
//   seq         1 → bumped on every record insert / remove / update (skipping 0 = ALWAYS_VALID)
//
// Rules kept from the v7 code (§3.1–3.3):
// - the read fork starts present and empty, the write fork starts absent; upserting
//   PURE_OVERWRITE into an absent write fork is a no-op;
// - an upsert removes overlapping records first, then checks the size cap (records × 32 B against
//   cacheMaxBytes) and, if the fork is *already* over it, drops the whole fork before inserting;
//   a dropped write fork stays present-but-empty (later write lookups miss, never fall through);
// - dropping a whole fork (size cap, or a removal from 0 covering s_maxbytes) does NOT bump seq —
//   a quirk of the code read, kept because it is visible in traces;
// - adjacent records merge when contiguous in file offset and disk address with equal type,
//   flags and dev.
// Records use plain numbers (offsets < 2^53, addresses < 2^53 in the sim; NULL addr = -1) so
// lookups allocate nothing but the returned IomapIo.

import { CACHE_RECORD_BYTES, MapType, NULL_ADDR, type IomapIo } from '../../../src/trace/fuse-proto.ts';
import type { Fork } from '../../../src/trace/schema.ts';
import { ChunkedList } from '../chunked.ts';

export interface CacheRec {
  offBytes: number;
  lenBytes: number;
  /** Disk byte address, -1 for the null address. */
  addr: number;
  type: number;
  flags: number;
  dev: number;
}

export function recOfIo(io: IomapIo): CacheRec {
  return {
    offBytes: Number(io.offsetBytes), lenBytes: Number(io.lenBytes), addr: io.addr === NULL_ADDR ? -1 : Number(io.addr),
    type: io.type, flags: io.flags, dev: io.dev,
  };
}

/** The record as a mapping; with `trimStart/trimEnd` (v7) only the part inside [trimStart, trimEnd). */
export function ioOfRec(r: CacheRec, trimStart = r.offBytes, trimEnd = r.offBytes + r.lenBytes): IomapIo {
  const s = Math.max(r.offBytes, trimStart), e = Math.min(r.offBytes + r.lenBytes, trimEnd);
  return {
    offsetBytes: BigInt(s), lenBytes: BigInt(e - s), addr: r.addr < 0 ? NULL_ADDR : BigInt(r.addr + (s - r.offBytes)),
    type: r.type, flags: r.flags, dev: r.dev,
  };
}

const offBytesOf = (r: CacheRec): number => r.offBytes;
const NONE: readonly CacheRec[] = [];

function mergeable(x: CacheRec, y: CacheRec): boolean {
  return x.offBytes + x.lenBytes === y.offBytes && x.type === y.type && x.flags === y.flags && x.dev === y.dev &&
    (x.addr < 0 ? y.addr < 0 : x.addr + x.lenBytes === y.addr);
}

/** One fork's records, sorted by offset; a ChunkedList because a fork holds up to cacheMaxBytes / 32 records (8192 by default). */
class ForkTree {
  readonly recs = new ChunkedList<CacheRec>(offBytesOf);
  constructor(public present: boolean) {}

  find(pos: number): CacheRec | null {
    const i = this.recs.floorIdx(pos);
    if (i < 0) return null;
    const r = this.recs.at(i)!;
    return pos < r.offBytes + r.lenBytes ? r : null;
  }

  /** Cuts [start, end) out of the fork; returns how many records were touched. */
  remove(start: number, end: number): number {
    const a = this.recs;
    let i = a.floorIdx(start);
    if (i < 0 || a.at(i)!.offBytes + a.at(i)!.lenBytes <= start) i++;
    const first = i;
    let pieces: CacheRec[] | null = null;
    let touched = 0;
    for (let r = a.at(i); r !== undefined && r.offBytes < end; r = a.at(++i)) {
      touched++;
      const rEnd = r.offBytes + r.lenBytes;
      if (r.offBytes < start) (pieces ??= []).push({ ...r, lenBytes: start - r.offBytes });
      if (rEnd > end) {
        const cut = end - r.offBytes;
        (pieces ??= []).push({ ...r, offBytes: end, lenBytes: rEnd - end, addr: r.addr < 0 ? -1 : r.addr + cut });
      }
    }
    if (touched > 0) a.splice(first, i - first, pieces ?? NONE);
    return touched;
  }

  /** Inserts over a gap (caller removed overlaps) and merges with contiguous neighbours. */
  insert(rec: CacheRec): void {
    const a = this.recs;
    let i = a.floorIdx(rec.offBytes) + 1;
    a.splice(i, 0, [rec]);
    if (i + 1 < a.length && mergeable(a.at(i)!, a.at(i + 1)!)) {
      a.set(i, { ...a.at(i)!, lenBytes: a.at(i)!.lenBytes + a.at(i + 1)!.lenBytes });
      a.splice(i + 1, 1, NONE);
    }
    if (i > 0 && mergeable(a.at(i - 1)!, a.at(i)!)) {
      a.set(i - 1, { ...a.at(i - 1)!, lenBytes: a.at(i - 1)!.lenBytes + a.at(i)!.lenBytes });
      a.splice(i, 1, NONE);
      i--;
    }
  }
}

interface UpsertOutcome {
  /** false: PURE_OVERWRITE into an absent write fork (no-op). */
  applied: boolean;
  /** The fork was over the cap and dropped whole before the insert. */
  overflowDropped: boolean;
}

export class MappingCache {
  /** ic_seq: starts at 1; 0 is FUSE_IOMAP_ALWAYS_VALID. */
  seq = 1;
  private readonly read = new ForkTree(true);
  private readonly write = new ForkTree(false);

  constructor(private readonly maxBytes: number, private readonly sMaxBytes: number) {}

  private fork(f: Fork): ForkTree {
    return f === 'read' ? this.read : this.write;
  }
  private bump(): void {
    this.seq = this.seq >= 0xffff_ffff ? 1 : this.seq + 1;
  }

  hasFork(f: Fork): boolean {
    return this.fork(f).present;
  }
  recordCount(f: Fork): number {
    return this.fork(f).recs.length;
  }
  /** A copy of the fork's records, for tests and debugging. */
  records(f: Fork): readonly CacheRec[] {
    return this.fork(f).recs.toArray();
  }

  /** The record covering pos (a record starting after pos is a miss, §3.3). */
  lookup(f: Fork, pos: number): CacheRec | null {
    const t = this.fork(f);
    return t.present ? t.find(pos) : null;
  }

  upsert(f: Fork, rec: CacheRec): UpsertOutcome {
    const t = this.fork(f);
    if (!t.present) {
      if (rec.type === MapType.PURE_OVERWRITE) return { applied: false, overflowDropped: false };
      t.present = true;
    }
    if (t.remove(rec.offBytes, rec.offBytes + rec.lenBytes) > 0) this.bump();
    let overflowDropped = false;
    if (t.recs.length * CACHE_RECORD_BYTES > this.maxBytes) {
      t.recs.clear(); // whole-fork drop: no seq bump (§3.1 quirk)
      overflowDropped = true;
    }
    t.insert(rec);
    this.bump();
    return { applied: true, overflowDropped };
  }

  /**
   * Removes [start, end) from a fork. Returns 'none' (nothing cached there), 'range' (records
   * removed, seq bumped) or 'whole' (a removal from 0 covering s_maxbytes: fork emptied, no bump).
   */
  remove(f: Fork, start: number, end: number): 'none' | 'range' | 'whole' {
    const t = this.fork(f);
    if (!t.present || t.recs.length === 0) return 'none';
    if (start === 0 && end >= this.sMaxBytes) {
      t.recs.clear();
      return 'whole';
    }
    if (t.remove(start, end) === 0) return 'none';
    this.bump();
    return 'range';
  }
}
