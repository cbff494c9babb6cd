// The kernel mapping cache (docs/domain.md §3), replayed from cache_* events: per fuse_inode
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
import { Growable, LOAD_MARGIN, claimSlot, type TypedArray } from '../growable.ts';
import { searchSorted } from '../sorted.ts';
import type { NodeId, Ino } from '../ids.ts';

interface CacheExtent {
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

/** What ends an extent: '' while cached, 'replaced' by an upsert, an inval or drop reason. By code. */
const END_REASONS: readonly string[] = ['', 'replaced', ...ENUMS.reason, '?'];
const END_CODE = new Map(END_REASONS.map((r, i) => [r, i]));
const NO_END_ROW = 0xffff_ffff;

/**
 * Every extent of the index (every mapping an inode has cached, ended or not), as columns: an
 * object per extent, with its four doubles boxed, was most of the page's JS heap (~6 B/event).
 * One table for all inodes (each lists its own ids), so an inode costs no columns of its own —
 * a trace touching 100 k files has 100 k inodes. `at(i)` materializes one for the views that list a few.
 */
class CacheExtents {
  /** 0 read, 1 write (ENUMS.fork). */
  readonly fork = new Growable(Uint8Array, 256);
  readonly offsetBytes = new Growable(Float64Array, 256);
  readonly lenBytes = new Growable(Float64Array, 256);
  readonly mapType = new Growable(Uint8Array, 256);
  readonly mapFlags = new Growable(Uint16Array, 256);
  readonly fromNs = new Growable(Float64Array, 256);
  /** NaN while still cached. */
  readonly toNs = new Growable(Float64Array, 256);
  /** The upsert that filled it. */
  readonly upsertRow = new Growable(Uint32Array, 256);
  readonly endRow = new Growable(Uint32Array, 256);
  /** Index into END_REASONS. */
  readonly endReason = new Growable(Uint8Array, 256);

  get length(): number { return this.fork.length; }

  /** The per-extent columns: one length and one capacity (claimSlot). Made once: push runs per extent. */
  private readonly extentColumns: readonly Growable<TypedArray>[] = [this.fork, this.offsetBytes, this.lenBytes, this.mapType, this.mapFlags, this.fromNs, this.toNs, this.upsertRow, this.endRow, this.endReason];

  /** A new, still cached extent; returns its index. */
  push(fork: number, offsetBytes: number, lenBytes: number, mapType: number, mapFlags: number, fromNs: number, upsertRow: number): number {
    const i = claimSlot(this.extentColumns);
    this.fork.data[i] = fork;
    this.offsetBytes.data[i] = offsetBytes;
    this.lenBytes.data[i] = lenBytes;
    this.mapType.data[i] = mapType;
    this.mapFlags.data[i] = mapFlags;
    this.fromNs.data[i] = fromNs;
    this.toNs.data[i] = Number.NaN;
    this.upsertRow.data[i] = upsertRow;
    this.endRow.data[i] = NO_END_ROW;
    this.endReason.data[i] = 0;
    return i;
  }

  close(i: number, tsNs: number, row: number, reason: string): void {
    this.toNs.data[i] = tsNs;
    this.endRow.data[i] = row;
    this.endReason.data[i] = END_CODE.get(reason) ?? END_CODE.get('?')!;
  }

  /** Is extent i cached at tsNs (fromNs ≤ tsNs < toNs)? */
  cachedAt(i: number, tsNs: number): boolean {
    const to = this.toNs.data[i]!;
    return this.fromNs.data[i]! <= tsNs && (Number.isNaN(to) || tsNs < to);
  }

  at(i: number): CacheExtent {
    const endRow = this.endRow.data[i]!;
    return {
      fork: ENUMS.fork[this.fork.data[i]!]!, offsetBytes: this.offsetBytes.data[i]!, lenBytes: this.lenBytes.data[i]!,
      mapType: this.mapType.data[i]!, mapFlags: this.mapFlags.data[i]!, fromNs: this.fromNs.data[i]!, toNs: this.toNs.data[i]!,
      upsertRow: this.upsertRow.data[i]!, endReason: END_REASONS[this.endReason.data[i]!]!, endRow: endRow === NO_END_ROW ? -1 : endRow,
    };
  }

  trim(): void {
    for (const g of this.extentColumns) g.trimLoose();
  }

  reserve(count: number): void {
    for (const g of this.extentColumns) g.reserve(count);
  }

  byteLength(): number {
    return this.fork.byteLength() + this.offsetBytes.byteLength() + this.lenBytes.byteLength() + this.mapType.byteLength()
      + this.mapFlags.byteLength() + this.fromNs.byteLength() + this.toNs.byteLength() + this.upsertRow.byteLength()
      + this.endRow.byteLength() + this.endReason.byteLength();
  }
}

// 'stale_use': the simulator's oracle saw IO go through a stale mapping with cookie validation off
// (an `instant` named STALE_USE_NAME; docs/simulator.md): the kernel has no event for it, and with
// validation off no cache_stale says it either, so it is its own kind, drawn apart from 'stale'.
type CacheMarkerKind = 'hit' | 'miss' | 'upsert' | 'inval' | 'stale' | 'drop' | 'stale_use';
export const CACHE_MARKER_KINDS: readonly CacheMarkerKind[] = ['hit', 'miss', 'upsert', 'inval', 'stale', 'drop', 'stale_use'];
/** The instant the simulator emits for a stale mapping used with validation off (server/sim/kernel/oracle.ts). */
export const STALE_USE_NAME = 'stale_mapping_used';

/** Nodeid, ino and folio position a stale-use instant's text names (`nodeid N ino I pos 0xP …`), or null. */
export function parseStaleUse(text: string): { nodeId: NodeId; ino: Ino; posBytes: number } | null {
  const m = /nodeid (\d+) ino (\d+) pos 0x([0-9a-f]+)/.exec(text);
  return m ? { nodeId: Number(m[1]) as NodeId, ino: Number(m[2]) as Ino, posBytes: parseInt(m[3]!, 16) } : null;
}
const MARKER_CODE = Object.fromEntries(CACHE_MARKER_KINDS.map((k, i) => [k, i])) as Record<CacheMarkerKind, number>;

interface CacheMarker {
  kind: CacheMarkerKind;
  tsNs: number;
  row: number;
  fork: Fork;
  posBytes: number;
  lenBytes: number;
  reason: string;
}

/**
 * One inode's markers in time order, as columns: a quarter of a live trace's rows are cache events,
 * and an object per marker was most of the page's JS heap and of a live-window rebuild's time.
 * Everything else about a marker is in its store row (markerAt), its time too: a marker's time
 * is its row's, except for the implicit misses, which are an inode's first markers (they are
 * added when its cache appears) and happen when their upcall is sent.
 */
class CacheMarkers {
  // Small to start: most inodes of a many-file trace see a handful of cache events.
  /** Index into CACHE_MARKER_KINDS. */
  readonly kind = new Growable(Uint8Array, 4);
  /** The cache event's row; for an implicit miss, its iomap_begin's row. */
  readonly row = new Growable(Uint32Array, 4);
  /** Times of the leading implicit misses (the first implicitTsNs.length markers). */
  private implicitTsNs: number[] = [];

  get length(): number { return this.row.length; }

  byteLength(): number {
    return this.kind.byteLength() + this.row.byteLength();
  }

  trim(): void {
    this.kind.trimLoose();
    this.row.trimLoose();
  }

  reserve(count: number): void {
    this.kind.reserve(count);
    this.row.reserve(count);
  }

  /** An implicit miss (before any other marker): its iomap_begin row and its upcall's time. */
  pushImplicitMiss(beginRow: number, tsNs: number): void {
    if (this.length !== this.implicitTsNs.length) throw new Error('implicit misses come before other markers');
    this.implicitTsNs.push(tsNs);
    this.kind.push(MARKER_CODE.miss);
    this.row.push(beginRow);
  }

  push(kind: CacheMarkerKind, row: number): void {
    this.kind.push(MARKER_CODE[kind]);
    this.row.push(row);
  }

  /** When marker i happened (`ts`: the store's tsNs column). Nondecreasing in i. */
  tsNsOf(ts: Float64Array, i: number): number {
    return i < this.implicitTsNs.length ? this.implicitTsNs[i]! : ts[this.row.data[i]!]!;
  }

  /**
   * First marker at or after tsNs (length if none); `store` is the one the index was built from.
   * Markers are added in row order, so past the implicit misses the first row at or after tsNs
   * finds it.
   */
  lowerBound(store: TraceStore, tsNs: number): number {
    const implicit = searchSorted(this.implicitTsNs, this.implicitTsNs.length, tsNs);
    if (implicit < this.implicitTsNs.length) return implicit;
    return Math.max(implicit, searchSorted(this.row.data, this.length, store.lowerBound(tsNs)));
  }
}

export interface InodeCache {
  nodeId: NodeId;
  ino: Ino;
  /** The index's extent table (shared by all inodes) and this inode's ids in it, oldest first. */
  extents: CacheExtents;
  extentIds: number[];
  markers: CacheMarkers;
  /** Highest byte any extent or marker reaches (a drop, and lengths ≥ 2^40, do not count). */
  maxOffsetBytes: number;
  hits: number;
  misses: number;
  /** Stale-use instants naming this nodeid. */
  staleUses: number;
  /** Live extents per fork (ids in extents). */
  live: { read: number[]; write: number[] };
}

const K = KIND_CODE;
const forkCode = (fork: Fork): number => (fork === 'write' ? 1 : 0);
/** Pending implicit misses kept per nodeId before its cache appears (older ones are dropped). */
const MAX_PENDING_MISSES = 256;
const IOMAP_BEGIN_OPCODE = Opcode.IOMAP_BEGIN;
/** By kind code: 1 for the cache_* kinds (a table: this test runs for every row). */
const IS_CACHE_KIND = new Uint8Array(256);
for (const k of [K.cache_lookup, K.cache_upsert, K.cache_inval, K.cache_stale, K.cache_drop]) IS_CACHE_KIND[k] = 1;

export class CacheIndex {
  readonly inodes = new Map<NodeId, InodeCache>();
  /** Every inode's extents. */
  readonly extents = new CacheExtents();
  processedRows = 0;
  eventCount = 0;
  /** Stale-use instants (STALE_USE_NAME) seen, over all inodes; those whose text names no nodeid are counted here only. */
  staleUses = 0;
  version = 0;
  /** By task string id: the iomap_begin row waiting to see a lookup or an upcall, + 1 (0: none). */
  private readonly beginByTask = new Growable(Float64Array, 64);
  /** nodeId → implicit misses (iomap_begin row, upcall tsNs) waiting for its cache to appear. */
  private readonly pendingMisses = new Map<NodeId, Array<{ row: number; tsNs: number }>>();

  /**
   * Sizes the extent table and every inode's markers for a file of `totalRows` rows from what its
   * first `rowsSoFar` rows made, LOAD_MARGIN over (SpanIndex.reserveForRows).
   */
  reserveForRows(totalRows: number, rowsSoFar: number): void {
    if (rowsSoFar <= 0) return;
    const scale = (totalRows / rowsSoFar) * (1 + LOAD_MARGIN);
    this.extents.reserve(Math.ceil(this.extents.length * scale));
    for (const c of this.inodes.values()) c.markers.reserve(Math.ceil(c.markers.length * scale));
  }

  /** Drops growth slack beyond a load's margin (a file finished loading); later updates grow again. */
  trim(): void {
    this.extents.trim();
    for (const c of this.inodes.values()) c.markers.trim();
  }

  /** Bytes of the typed arrays (capacity included): every inode's extents and markers. */
  byteLength(): number {
    let n = this.extents.byteLength();
    for (const c of this.inodes.values()) n += c.markers.byteLength();
    return n;
  }

  /** Replays the rows appended since the last call, up to `toRow` (a deferred replay goes in slices: TraceSession.deferCache). */
  update(store: TraceStore, toRow = store.length): void {
    if (this.processedRows >= toRow) return;
    const kinds = store.kinds;
    const before = this.eventCount;
    const taskCol = store.col('task');
    const opcodeCol = store.col('opcode');
    const cols = cacheColumns(store);
    const nameCol = store.col('name');
    // -1 until the name is interned: then no row can carry it.
    const staleUseName = store.strings.find(STALE_USE_NAME);
    const beginByTask = this.beginByTask;
    for (let row = this.processedRows; row < toRow; row++) {
      const k = kinds[row]!;
      if (k === K.iomap_begin) {
        const task = taskCol[row]!;
        while (beginByTask.length <= task) beginByTask.push(0);
        beginByTask.data[task] = row + 1;
        continue;
      }
      if (k === K.instant) {
        if (nameCol[row] === staleUseName) this.staleUse(store, row);
        continue;
      }
      if (k === K.fuse_send) {
        const task = taskCol[row]!;
        const begin = task < beginByTask.length ? beginByTask.data[task]! : 0;
        if (begin > 0) {
          if (opcodeCol[row] === IOMAP_BEGIN_OPCODE) this.implicitMiss(store, begin - 1, row);
          beginByTask.data[task] = 0;
        }
        continue;
      }
      if (IS_CACHE_KIND[k] === 0) continue;
      if (k === K.cache_lookup && taskCol[row]! < beginByTask.length) beginByTask.data[taskCol[row]!] = 0;
      this.apply(store, cols, row);
      this.eventCount++;
    }
    this.processedRows = toRow;
    if (this.eventCount !== before) this.version++;
  }

  private staleUse(store: TraceStore, row: number): void {
    this.staleUses++;
    this.eventCount++;
    const at = parseStaleUse(store.strings.get(store.col('text')[row]!));
    if (!at) return;
    const c = this.inode(store, at.nodeId, at.ino);
    c.staleUses++;
    c.markers.push('stale_use', row);
    reach(c, at.posBytes, 1);
  }

  private implicitMiss(store: TraceStore, beginRow: number, sendRow: number): void {
    const nodeId = store.nodeIdCol()[beginRow]!;
    if (this.inodes.has(nodeId)) return; // once a cache exists, a lookup event says hit or miss
    let list = this.pendingMisses.get(nodeId);
    if (!list) this.pendingMisses.set(nodeId, (list = []));
    if (list.length < MAX_PENDING_MISSES) list.push({ row: beginRow, tsNs: store.tsNs[sendRow]! });
  }

  private inode(store: TraceStore, nodeId: NodeId, ino: Ino): InodeCache {
    let c = this.inodes.get(nodeId);
    if (!c) {
      c = { nodeId, ino, extents: this.extents, extentIds: [], markers: new CacheMarkers(), maxOffsetBytes: 0, hits: 0, misses: 0, staleUses: 0, live: { read: [], write: [] } };
      for (const m of this.pendingMisses.get(nodeId) ?? []) {
        c.markers.pushImplicitMiss(m.row, m.tsNs);
        reach(c, store.fieldCol('posBytes')[m.row]!, store.fieldCol('lenBytes')[m.row]!);
        c.misses++;
      }
      this.pendingMisses.delete(nodeId);
      this.inodes.set(nodeId, c);
    }
    return c;
  }

  private apply(store: TraceStore, cols: CacheColumns, row: number): void {
    const k = store.kinds[row]!;
    const tsNs = store.tsNs[row]!;
    const c = this.inode(store, cols.nodeId[row]!, cols.ino[row]!);
    const fork = (ENUMS.fork[cols.fork[row]!] ?? 'read') as Fork;
    const posBytes = cols.posBytes[row]!;
    const lenBytes = cols.lenBytes[row]!;
    switch (k) {
      case K.cache_lookup: {
        // A lookup of a fork that does not exist (no write fork on an in-place server) is neither a hit nor a miss.
        if (cols.forkAbsent[row] === 1) break;
        const hit = cols.hit[row] === 1;
        if (hit) c.hits++; else c.misses++;
        c.markers.push(hit ? 'hit' : 'miss', row);
        reach(c, posBytes, lenBytes);
        break;
      }
      case K.cache_upsert: {
        if (cols.rejected[row] === 1) break; // the kernel refused it: nothing was cached
        const off = cols.mapOffsetBytes[row]!;
        const len = cols.mapLenBytes[row]!;
        this.remove(c, fork, off, len, tsNs, row, 'replaced');
        this.insertLive(c, fork, this.newExtent(c, forkCode(fork), off, len, cols.mapType[row]!, cols.mapFlags[row]!, tsNs, row));
        c.maxOffsetBytes = Math.max(c.maxOffsetBytes, off + len); // the extent (the marker's reach is within it)
        c.markers.push('upsert', row);
        break;
      }
      case K.cache_inval: {
        const reason = ENUMS.reason[cols.reason[row]!] ?? '?';
        this.remove(c, fork, posBytes, lenBytes, tsNs, row, reason);
        c.markers.push('inval', row);
        reach(c, posBytes, lenBytes);
        break;
      }
      case K.cache_drop: {
        const reason = ENUMS.reason[cols.reason[row]!] ?? '?';
        for (const i of c.live[fork]) c.extents.close(i, tsNs, row, reason);
        c.live[fork] = [];
        c.markers.push('drop', row);
        break;
      }
      case K.cache_stale: {
        c.markers.push('stale', row);
        reach(c, posBytes, cols.mapLenBytes[row]!);
        break;
      }
    }
  }

  /**
   * Removes [off, off+len) from a fork at tsNs; partly covered extents leave their remainders.
   * A fork's live extents never overlap (an upsert removes its range first), so kept sorted by
   * offset the ones a range touches are one run found by binary search — a cache holds ~50–100
   * live extents, and scanning them all per upsert and invalidation was most of this index's time.
   */
  private remove(c: InodeCache, fork: Fork, off: number, len: number, tsNs: number, row: number, reason: string): void {
    const end = off + len;
    const live = c.live[fork];
    const ext = c.extents;
    const offsets = ext.offsetBytes.data;
    const first = liveEndingAfter(c, fork, off);
    let last = first;
    while (last < live.length && offsets[live[last]!]! < end) last++;
    if (last === first) return; // the common case (an upsert of a new range): nothing to close or split
    // Remainders keep the mapping of the upsert that filled it. Only the run's first extent can
    // start before the range, only its last end after it: at most two, in order.
    let before = -1;
    let after = -1;
    for (let k = first; k < last; k++) {
      const i = live[k]!;
      const eOff = ext.offsetBytes.data[i]!;
      const eEnd = eOff + ext.lenBytes.data[i]!;
      ext.close(i, tsNs, row, reason);
      const f = ext.fork.data[i]!;
      const type = ext.mapType.data[i]!;
      const flags = ext.mapFlags.data[i]!;
      const upsertRow = ext.upsertRow.data[i]!;
      if (eOff < off) before = this.newExtent(c, f, eOff, off - eOff, type, flags, tsNs, upsertRow);
      if (eEnd > end) after = this.newExtent(c, f, end, eEnd - end, type, flags, tsNs, upsertRow);
    }
    if (before >= 0 && after >= 0) live.splice(first, last - first, before, after);
    else if (before >= 0) live.splice(first, last - first, before);
    else if (after >= 0) live.splice(first, last - first, after);
    else live.splice(first, last - first);
  }

  /** A new, still cached extent of inode c; returns its id. */
  private newExtent(c: InodeCache, fork: number, offsetBytes: number, lenBytes: number, mapType: number, mapFlags: number, fromNs: number, upsertRow: number): number {
    const id = this.extents.push(fork, offsetBytes, lenBytes, mapType, mapFlags, fromNs, upsertRow);
    c.extentIds.push(id);
    return id;
  }

  /** Adds extent `idx` (its range already removed from the fork) to the fork's live list, in offset order. */
  private insertLive(c: InodeCache, fork: Fork, idx: number): void {
    // Nothing live overlaps it now, so the first extent ending after its offset is the first after it.
    const live = c.live[fork];
    const pos = liveEndingAfter(c, fork, c.extents.offsetBytes.data[idx]!);
    // By hand, not splice: that builds an array of the (no) elements removed, once per upsert.
    live.push(idx);
    for (let k = live.length - 1; k > pos; k--) live[k] = live[k - 1]!;
    live[pos] = idx;
  }
}

/** Position of the first live extent of the fork (sorted, non-overlapping) that ends after offsetBytes. */
function liveEndingAfter(c: InodeCache, fork: Fork, offsetBytes: number): number {
  const live = c.live[fork];
  const offsets = c.extents.offsetBytes.data;
  const lens = c.extents.lenBytes.data;
  let lo = 0;
  let hi = live.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[live[mid]!]! + lens[live[mid]!]! <= offsetBytes) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The columns the index reads, looked up once per update rather than by name per event. */
type CacheColumns = { nodeId: ArrayLike<NodeId>; ino: ArrayLike<Ino> } & Record<'fork' | 'posBytes' | 'lenBytes' | 'hit' | 'mapOffsetBytes' | 'mapLenBytes' | 'mapType' | 'mapFlags' | 'reason' | 'forkAbsent' | 'rejected', ArrayLike<number>>;
function cacheColumns(store: TraceStore): CacheColumns {
  return {
    nodeId: store.nodeIdCol(), ino: store.inoCol(), fork: store.col('fork'), posBytes: store.col('posBytes'),
    lenBytes: store.col('lenBytes'), hit: store.col('hit'), mapOffsetBytes: store.col('mapOffsetBytes'),
    mapLenBytes: store.col('mapLenBytes'), mapType: store.col('mapType'), mapFlags: store.col('mapFlags'), reason: store.col('reason'),
    forkAbsent: store.col('forkAbsent'), rejected: store.col('rejected'),
  };
}

/** A marker's offset range counts toward the view's height (the view gives it ≥ 1 byte). */
function reach(c: InodeCache, posBytes: number, lenBytes: number): void {
  if (lenBytes < 2 ** 40) c.maxOffsetBytes = Math.max(c.maxOffsetBytes, posBytes + Math.min(lenBytes, 1));
}

/** The fork of marker `i` of `c`: a read for rows without one (an implicit miss's iomap_begin, a cache_stale). */
export function markerFork(store: TraceStore, c: InodeCache, i: number): Fork {
  return (ENUMS.fork[store.numAt('fork', c.markers.row.data[i]!)] ?? 'read') as Fork;
}

/** Marker `i` of `c` with its fields read from its row in `store` (the store the index was built from). */
export function markerAt(store: TraceStore, c: InodeCache, i: number): CacheMarker {
  const m = c.markers;
  const kind = CACHE_MARKER_KINDS[m.kind.data[i]!]!;
  const row = m.row.data[i]!;
  const tsNs = m.tsNsOf(store.tsNs, i);
  const k = store.kinds[row]!;
  if (k === K.instant) { // a stale use (the only instant the index keeps)
    const text = store.strings.get(store.col('text')[row]!);
    return { kind, tsNs, row, fork: 'read', posBytes: parseStaleUse(text)?.posBytes ?? 0, lenBytes: 0, reason: text.slice(text.indexOf(': ') + 2) };
  }
  if (k === K.iomap_begin) {
    return { kind, tsNs, row, fork: 'read', posBytes: store.fieldCol('posBytes')[row]!, lenBytes: store.fieldCol('lenBytes')[row]!, reason: 'no cache yet' };
  }
  const fork = markerFork(store, c, i);
  const reason = (): string => ENUMS.reason[store.col('reason')[row]!] ?? '?';
  switch (k) {
    case K.cache_upsert:
      return { kind, tsNs, row, fork, posBytes: store.fieldCol('mapOffsetBytes')[row]!, lenBytes: store.fieldCol('mapLenBytes')[row]!, reason: '' };
    case K.cache_inval:
      return { kind, tsNs, row, fork, posBytes: store.fieldCol('posBytes')[row]!, lenBytes: store.fieldCol('lenBytes')[row]!, reason: reason() };
    case K.cache_drop:
      return { kind, tsNs, row, fork, posBytes: 0, lenBytes: 0, reason: reason() };
    case K.cache_stale:
      return {
        kind, tsNs, row, fork, posBytes: store.fieldCol('posBytes')[row]!, lenBytes: store.fieldCol('mapLenBytes')[row]!,
        reason: `cookie ${store.fieldCol('oldCookie')[row]!} → ${store.fieldCol('newCookie')[row]!}`,
      };
    default: // cache_lookup
      return { kind, tsNs, row, fork, posBytes: store.fieldCol('posBytes')[row]!, lenBytes: store.fieldCol('lenBytes')[row]!, reason: '' };
  }
}

/** Every marker of `c` as objects (tests, small traces). */
export function markerList(store: TraceStore, c: InodeCache): CacheMarker[] {
  const out: CacheMarker[] = [];
  for (let i = 0; i < c.markers.length; i++) out.push(markerAt(store, c, i));
  return out;
}

/** Extents of one inode cached at tsNs (fromNs ≤ tsNs < toNs), sorted by fork then offset. */
export function cacheContentsAt(c: InodeCache, tsNs: number): CacheExtent[] {
  const out: CacheExtent[] = [];
  for (const id of c.extentIds) if (c.extents.cachedAt(id, tsNs)) out.push(c.extents.at(id));
  return out.sort((a, b) => (a.fork === b.fork ? a.offsetBytes - b.offsetBytes : a.fork === 'read' ? -1 : 1));
}

/** Hits and misses of one inode per time bucket over [fromNs, toNs). */
export function hitRateBuckets(store: TraceStore, c: InodeCache, fromNs: number, toNs: number, bucketCount: number): { hits: Uint32Array; misses: Uint32Array } {
  const hits = new Uint32Array(bucketCount);
  const misses = new Uint32Array(bucketCount);
  const widthNs = (toNs - fromNs) / bucketCount;
  const m = c.markers;
  const kind = m.kind.data;
  const ts = store.tsNs;
  for (let i = m.lowerBound(store, fromNs); i < m.length; i++) {
    const tsNs = m.tsNsOf(ts, i);
    if (tsNs >= toNs) break;
    const k = kind[i]!;
    if (k !== MARKER_CODE.hit && k !== MARKER_CODE.miss) continue;
    const b = Math.min(bucketCount - 1, Math.floor((tsNs - fromNs) / widthNs));
    if (k === MARKER_CODE.hit) hits[b]!++; else misses[b]!++;
  }
  return { hits, misses };
}
