// Pure model of the mapping-cache view: for one fuse_inode (nodeId), x = time (the shared range),
// y = file offset.
//
//   offset 0 ─┬──────────────────────────────────────────────▶ time
//             │ ███ read MAPPED ███████████│        ░░ write UNWRITTEN (hatched) ░░▶
//   offset N ─┴ ●hit ✕miss ▲upsert │inval(reason) ◆stale ■drop
//   ─────────── hit rate per bucket (bar height = hits / lookups) ───────────
//
// Extents narrower than a pixel still get 1 px; markers in one pixel column of the same kind
// and fork merge into one (LOD), so primitives stay bounded by the plot size.

import { CACHE_MARKER_KINDS, hitRateBuckets, markerAt, markerFork, type CacheIndex, type InodeCache } from '../../trace/derive/cache.ts';
import type { TraceStore } from '../../trace/store.ts';
import { MapType } from '../../trace/fuse-proto.ts';
import { TimeScale } from '../../render/time-scale.ts';
import type { NodeId, Ino } from '../../trace/ids.ts';

interface CacheRect { xPx: number; widthPx: number; yPx: number; heightPx: number; mapType: number; hatched: boolean; fork: 'read' | 'write'; extentIdx: number }
interface CacheMarkerPrim { xPx: number; yPx: number; kind: number; label: string; row: number; count: number }
export interface CacheModel {
  scale: TimeScale;
  nodeId: NodeId;
  ino: Ino;
  maxOffsetBytes: number;
  /** Plot height the offsets were scaled to (offsetYPx). */
  plotHeightPx: number;
  rects: CacheRect[];
  markers: CacheMarkerPrim[];
  /** Hit rate per bucket: NaN where there was no lookup. */
  hitRate: Float32Array;
  bucketWidthPx: number;
  hits: number;
  misses: number;
}

/** One hit-rate bar per this many px: wide enough to hold a few lookups at normal zoom. */
const HIT_BUCKET_PX = 8;

/** Inodes with cache activity, busiest first (the view's inode picker). */
export function cacheInodes(cache: CacheIndex): InodeCache[] {
  return [...cache.inodes.values()].sort((a, b) => (b.markers.length - a.markers.length) || a.nodeId - b.nodeId);
}

/** `store` is the one the cache index was built from: markers read their fields from its rows. */
export function buildCacheModel(c: InodeCache, store: TraceStore, startNs: number, endNs: number, widthPx: number, heightPx: number, nowNs: number): CacheModel {
  const scale = new TimeScale(startNs, endNs, widthPx);
  const maxOffsetBytes = Math.max(4096, c.maxOffsetBytes);
  const yOf = (offsetBytes: number): number => offsetToPx(offsetBytes, maxOffsetBytes, heightPx);
  const rects: CacheRect[] = [];
  const e = c.extents;
  for (const i of c.extentIds) {
    const fromNs = e.fromNs.data[i]!;
    const to = Number.isNaN(e.toNs.data[i]!) ? nowNs : e.toNs.data[i]!;
    if (to < startNs || fromNs > endNs) continue;
    const x0 = Math.max(0, scale.nsToPx(fromNs));
    const x1 = Math.min(widthPx, scale.nsToPx(to));
    const offsetBytes = e.offsetBytes.data[i]!;
    const y0 = yOf(offsetBytes);
    const mapType = e.mapType.data[i]!;
    rects.push({ xPx: x0, widthPx: Math.max(1, x1 - x0), yPx: y0, heightPx: Math.max(1, yOf(offsetBytes + e.lenBytes.data[i]!) - y0),
      mapType, hatched: mapType === MapType.UNWRITTEN, fork: e.fork.data[i] === 1 ? 'write' : 'read', extentIdx: i });
  }
  const markers: CacheMarkerPrim[] = [];
  const lastAt = new Map<number, CacheMarkerPrim>();
  const storeTs = store.tsNs;
  const markerKind = c.markers.kind.data;
  // Markers are in time order: only those in range are visited. A pixel column's first marker of
  // a kind and fork is read whole; later ones only add to its count (no object, no string key).
  for (let i = c.markers.lowerBound(store, startNs); i < c.markers.length; i++) {
    const tsNs = c.markers.tsNsOf(storeTs, i);
    if (tsNs > endNs) break;
    const xPx = scale.nsToPx(tsNs);
    const kind = markerKind[i]!;
    const key = (Math.floor(xPx) * CACHE_MARKER_KINDS.length + kind) * 2 + (markerFork(store, c, i) === 'write' ? 1 : 0);
    const prev = lastAt.get(key);
    if (prev) { prev.count++; continue; }
    const m = markerAt(store, c, i);
    const p = { xPx, yPx: m.kind === 'drop' || m.kind === 'inval' ? 0 : yOf(m.posBytes), kind, label: m.reason, row: m.row, count: 1 };
    lastAt.set(key, p);
    markers.push(p);
  }
  const buckets = Math.max(1, Math.floor(widthPx / HIT_BUCKET_PX));
  const { hits, misses } = hitRateBuckets(store, c, startNs, endNs, buckets);
  const hitRate = new Float32Array(buckets);
  for (let i = 0; i < buckets; i++) hitRate[i] = hits[i]! + misses[i]! > 0 ? hits[i]! / (hits[i]! + misses[i]!) : Number.NaN;
  return { scale, nodeId: c.nodeId, ino: c.ino, maxOffsetBytes, plotHeightPx: heightPx, rects, markers, hitRate, bucketWidthPx: widthPx / buckets, hits: c.hits, misses: c.misses };
}

function offsetToPx(offsetBytes: number, maxOffsetBytes: number, heightPx: number): number {
  return (Math.min(offsetBytes, maxOffsetBytes) / maxOffsetBytes) * heightPx;
}

/** A file offset's y in the model's plot (px from the plot's top). */
export function offsetYPx(m: CacheModel, offsetBytes: number): number {
  return offsetToPx(offsetBytes, m.maxOffsetBytes, m.plotHeightPx);
}

/** Index of the marker near (xPx, yPx) in plot space, or -1. */
export function hitTestMarker(m: CacheModel, xPx: number, yPx: number, slopPx = 5): number {
  for (let i = m.markers.length - 1; i >= 0; i--) {
    const p = m.markers[i]!;
    const isBar = p.kind === CACHE_MARKER_KINDS.indexOf('inval') || p.kind === CACHE_MARKER_KINDS.indexOf('drop');
    if (Math.abs(p.xPx - xPx) <= slopPx && (isBar || Math.abs(p.yPx - yPx) <= slopPx)) return i;
  }
  return -1;
}

/** Human size: 4096 → "4 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}
