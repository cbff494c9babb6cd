// The kernel mapping cache (fuse-iomap-domain.md §3), replayed from cache_* events: per fuse_inode
// (nodeId) and fork, which mappings were cached over which time, plus point markers.
//
//   offsetBytes ▲
//               │  ┌────── read, MAPPED ──────┐×inval(ioend)
//               │  │                          │   ┌── read, UNWRITTEN ──▶ (still cached)
//               │──┴──────────────────────────┴───┴──────────────────────▶ tsNs
//                  ▲upsert   ●hit ●hit  ✕miss      ▲upsert
//
// An upsert first removes what overlaps it in its fork (the "update or insert" of §3.2), so a
// partly covered extent is closed and its uncovered remainders re-open as new extents at the same
// time. Invalidations remove their range the same way; a drop closes the whole fork.
//
// Implicit misses: until its first upsert an inode has no cache object, so iomap_begin goes
// straight to the FUSE_IOMAP_BEGIN upcall with no lookup event (§3.1). An iomap_begin followed by
// that upcall on the same task, with no lookup between, is held as a pending miss of its nodeId;
// when the nodeId's first cache event arrives they become 'miss' markers (reason 'no cache yet').
// Inodes that never get a cache never show up, so a cacheless trace still reads as "no cache".

import { ENUMS, KIND_CODE, type Fork } from '../schema.ts';
import { Opcode } from '../fuse-proto.ts';
import type { TraceStore } from '../store.ts';

export interface CacheExtent {
  fork: Fork;
  offsetBytes: number;
  lenBytes: number;
  mapType: number;
  mapFlags: number;
  fromNs: number;
  /** NaN while still cached. */
  toNs: number;
  /** The upsert that filled it. */
  upsertRow: number;
  /** What ended it: 'replaced', an inval reason, a drop reason; '' while cached. */
  endReason: string;
  endRow: number;
}

export type CacheMarkerKind = 'hit' | 'miss' | 'upsert' | 'inval' | 'stale' | 'drop';
export const CACHE_MARKER_KINDS: readonly CacheMarkerKind[] = ['hit', 'miss', 'upsert', 'inval', 'stale', 'drop'];

export interface CacheMarker {
  kind: CacheMarkerKind;
  tsNs: number;
  row: number;
  fork: Fork;
  posBytes: number;
  lenBytes: number;
  reason: string;
}

export interface InodeCache {
  nodeId: number;
  ino: number;
  extents: CacheExtent[];
  markers: CacheMarker[];
  hits: number;
  misses: number;
  /** Live extents per fork (indexes into extents). */
  live: { read: number[]; write: number[] };
}

const K = KIND_CODE;
/** Pending implicit misses kept per nodeId before its cache appears (older ones are dropped). */
export const MAX_PENDING_MISSES = 256;
const IOMAP_BEGIN_OPCODE = Opcode.IOMAP_BEGIN;
const CACHE_KINDS = new Set<number>([K.cache_lookup, K.cache_upsert, K.cache_inval, K.cache_stale, K.cache_drop]);

export class CacheIndex {
  readonly inodes = new Map<number, InodeCache>();
  processedRows = 0;
  eventCount = 0;
  version = 0;
  /** task string id → the iomap_begin row waiting to see a lookup or an upcall. */
  private readonly beginByTask = new Map<number, number>();
  private readonly pendingMisses = new Map<number, CacheMarker[]>();

  update(store: TraceStore): void {
    if (this.processedRows >= store.length) return;
    const kinds = store.kinds;
    const before = this.eventCount;
    const taskCol = store.col('task');
    for (let row = this.processedRows; row < store.length; row++) {
      const k = kinds[row]!;
      if (k === K.iomap_begin) { this.beginByTask.set(taskCol[row]!, row); continue; }
      if (k === K.fuse_send) {
        const begin = this.beginByTask.get(taskCol[row]!);
        if (begin !== undefined && store.col('opcode')[row] === IOMAP_BEGIN_OPCODE) this.implicitMiss(store, begin, row);
        this.beginByTask.delete(taskCol[row]!);
        continue;
      }
      if (!CACHE_KINDS.has(k)) continue;
      if (k === K.cache_lookup) this.beginByTask.delete(taskCol[row]!);
      this.apply(store, row);
      this.eventCount++;
    }
    this.processedRows = store.length;
    if (this.eventCount !== before) this.version++;
  }

  private implicitMiss(store: TraceStore, beginRow: number, sendRow: number): void {
    const nodeId = store.f64('nodeId')[beginRow]!;
    const marker: CacheMarker = {
      kind: 'miss', tsNs: store.tsNs[sendRow]!, row: beginRow, fork: 'read',
      posBytes: store.f64('posBytes')[beginRow]!, lenBytes: store.f64('lenBytes')[beginRow]!, reason: 'no cache yet',
    };
    const c = this.inodes.get(nodeId);
    if (c) return; // once a cache exists, a lookup event says hit or miss
    let list = this.pendingMisses.get(nodeId);
    if (!list) this.pendingMisses.set(nodeId, (list = []));
    if (list.length < MAX_PENDING_MISSES) list.push(marker);
  }

  private inode(nodeId: number, ino: number): InodeCache {
    let c = this.inodes.get(nodeId);
    if (!c) {
      c = { nodeId, ino, extents: [], markers: [], hits: 0, misses: 0, live: { read: [], write: [] } };
      const pending = this.pendingMisses.get(nodeId) ?? [];
      c.markers.push(...pending);
      c.misses += pending.length;
      this.pendingMisses.delete(nodeId);
      this.inodes.set(nodeId, c);
    }
    return c;
  }

  private apply(store: TraceStore, row: number): void {
    const k = store.kinds[row]!;
    const tsNs = store.tsNs[row]!;
    const nodeId = store.f64('nodeId')[row]!;
    const c = this.inode(nodeId, store.f64('ino')[row]!);
    const fork = (ENUMS.fork[store.col('fork')[row]!] ?? 'read') as Fork;
    const posBytes = store.f64('posBytes')[row]!;
    const lenBytes = store.f64('lenBytes')[row]!;
    const mark = (kind: CacheMarkerKind, pos: number, len: number, reason = ''): void => {
      c.markers.push({ kind, tsNs, row, fork, posBytes: pos, lenBytes: len, reason });
    };
    switch (k) {
      case K.cache_lookup: {
        const hit = store.col('hit')[row] === 1;
        if (hit) c.hits++; else c.misses++;
        mark(hit ? 'hit' : 'miss', posBytes, lenBytes);
        break;
      }
      case K.cache_upsert: {
        const off = store.f64('mapOffsetBytes')[row]!;
        const len = store.f64('mapLenBytes')[row]!;
        this.remove(c, fork, off, len, tsNs, row, 'replaced');
        c.live[fork].push(c.extents.length);
        c.extents.push({
          fork, offsetBytes: off, lenBytes: len, mapType: store.col('mapType')[row]!, mapFlags: store.col('mapFlags')[row]!,
          fromNs: tsNs, toNs: Number.NaN, upsertRow: row, endReason: '', endRow: -1,
        });
        mark('upsert', off, len);
        break;
      }
      case K.cache_inval: {
        const reason = ENUMS.reason[store.col('reason')[row]!] ?? '?';
        this.remove(c, fork, posBytes, lenBytes, tsNs, row, reason);
        mark('inval', posBytes, lenBytes, reason);
        break;
      }
      case K.cache_drop: {
        const reason = ENUMS.reason[store.col('reason')[row]!] ?? '?';
        for (const i of c.live[fork]) this.close(c.extents[i]!, tsNs, row, reason);
        c.live[fork] = [];
        mark('drop', 0, 0, reason);
        break;
      }
      case K.cache_stale: {
        const oldC = store.f64('oldCookie')[row]!;
        const newC = store.f64('newCookie')[row]!;
        mark('stale', posBytes, store.f64('mapLenBytes')[row]!, `cookie ${oldC} → ${newC}`);
        break;
      }
    }
  }

  private close(e: CacheExtent, tsNs: number, row: number, reason: string): void {
    e.toNs = tsNs;
    e.endRow = row;
    e.endReason = reason;
  }

  /** Removes [off, off+len) from a fork at tsNs; partly covered extents leave their remainders. */
  private remove(c: InodeCache, fork: Fork, off: number, len: number, tsNs: number, row: number, reason: string): void {
    const end = off + len;
    const keep: number[] = [];
    const add: CacheExtent[] = [];
    for (const i of c.live[fork]) {
      const e = c.extents[i]!;
      const eEnd = e.offsetBytes + e.lenBytes;
      if (eEnd <= off || e.offsetBytes >= end) { keep.push(i); continue; }
      this.close(e, tsNs, row, reason);
      if (e.offsetBytes < off) add.push({ ...e, lenBytes: off - e.offsetBytes, fromNs: tsNs, toNs: Number.NaN, endReason: '', endRow: -1 });
      if (eEnd > end) add.push({ ...e, offsetBytes: end, lenBytes: eEnd - end, fromNs: tsNs, toNs: Number.NaN, endReason: '', endRow: -1 });
    }
    for (const e of add) {
      keep.push(c.extents.length);
      c.extents.push(e);
    }
    c.live[fork] = keep;
  }
}

/** Extents of one inode cached at tsNs (fromNs ≤ tsNs < toNs), sorted by fork then offset. */
export function cacheContentsAt(c: InodeCache, tsNs: number): CacheExtent[] {
  return c.extents
    .filter((e) => e.fromNs <= tsNs && (Number.isNaN(e.toNs) || tsNs < e.toNs))
    .sort((a, b) => (a.fork === b.fork ? a.offsetBytes - b.offsetBytes : a.fork === 'read' ? -1 : 1));
}

/** Hits and misses of one inode per time bucket over [fromNs, toNs). */
export function hitRateBuckets(c: InodeCache, fromNs: number, toNs: number, bucketCount: number): { hits: Uint32Array; misses: Uint32Array } {
  const hits = new Uint32Array(bucketCount);
  const misses = new Uint32Array(bucketCount);
  const widthNs = (toNs - fromNs) / bucketCount;
  for (const m of c.markers) {
    if ((m.kind !== 'hit' && m.kind !== 'miss') || m.tsNs < fromNs || m.tsNs >= toNs) continue;
    const b = Math.min(bucketCount - 1, Math.floor((m.tsNs - fromNs) / widthNs));
    if (m.kind === 'hit') hits[b]!++; else misses[b]!++;
  }
  return { hits, misses };
}
