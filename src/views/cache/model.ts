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
import { KIND_CODE, KINDS } from '../../trace/schema.ts';
import { MapType, Opcode } from '../../trace/fuse-proto.ts';
import { TimeScale } from '../../render/time-scale.ts';
import type { NodeId, Ino } from '../../trace/ids.ts';

interface CacheRect { xPx: number; widthPx: number; yPx: number; heightPx: number; mapType: number; hatched: boolean; fork: 'read' | 'write'; extentIdx: number }
/**
 * One glyph, or one invalidation / drop bar. `yPx`…`y2Px`: the offsets it covers (a point marker: y2Px = yPx;
 * an invalidation: its byte range, the union of the merged ones'; a drop: the whole plot). `count`: markers merged (LOD).
 */
interface CacheMarkerPrim { xPx: number; yPx: number; y2Px: number; kind: number; label: string; row: number; count: number }
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
  /** Stale-use markers in range (merged ones counted): what the plot draws of them. */
  staleUsesDrawn: number;
}

const KIND = Object.fromEntries(CACHE_MARKER_KINDS.map((k, i) => [k, i])) as Record<(typeof CACHE_MARKER_KINDS)[number], number>;
/**
 * Paint order by kind, back to front: a miss or a stale use must never hide under the hits of its
 * column (a hit-heavy trace has a hit in almost every column), so the rare kinds come last.
 */
const PAINT_RANK: readonly number[] = (() => {
  const order = [KIND.upsert, KIND.inval, KIND.drop, KIND.hit, KIND.stale, KIND.miss, KIND.stale_use];
  const rank = new Array<number>(CACHE_MARKER_KINDS.length).fill(0);
  order.forEach((k, i) => { rank[k] = i; });
  return rank;
})();

/** Marker indices in paint order (back to front): by kind rank, then time. */
export function paintOrder(m: CacheModel): number[] {
  const idx = m.markers.map((_, i) => i);
  return idx.sort((a, b) => (PAINT_RANK[m.markers[a]!.kind]! - PAINT_RANK[m.markers[b]!.kind]!) || a - b);
}

/** The label of a merged bar whose invalidations had different reasons. */
const SEVERAL_REASONS = 'several reasons';

/** An invalidation's bar is at least this tall, so a one-block invalidation of a large file still shows. */
export const MIN_BAR_PX = 5;

/** Whether marker kind `kind` is drawn as a bar (invalidation: over its range; drop: full height). */
export function isBarKind(kind: number): boolean {
  return kind === KIND.inval || kind === KIND.drop;
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
  const markerRow = c.markers.row.data;
  const posCol = store.fieldCol('posBytes');
  const lenCol = store.fieldCol('lenBytes');
  const reasonCol = store.col('reason');
  let staleUsesDrawn = 0;
  // Markers are in time order: only those in range are visited. A pixel column's first marker of
  // a kind and fork is read whole; later ones only add to its count (no object, no string key).
  for (let i = c.markers.lowerBound(store, startNs); i < c.markers.length; i++) {
    const tsNs = c.markers.tsNsOf(storeTs, i);
    if (tsNs > endNs) break;
    const xPx = scale.nsToPx(tsNs);
    const kind = markerKind[i]!;
    const key = (Math.floor(xPx) * CACHE_MARKER_KINDS.length + kind) * 2 + (markerFork(store, c, i) === 'write' ? 1 : 0);
    if (kind === KIND.stale_use) staleUsesDrawn++;
    const prev = lastAt.get(key);
    if (prev) {
      prev.count++;
      if (kind === KIND.inval || kind === KIND.drop) {
        const row = markerRow[i]!;
        // A merged bar names one reason only when all of its markers have it.
        if (reasonCol[row] !== reasonCol[prev.row]) prev.label = SEVERAL_REASONS;
        if (kind === KIND.inval) { // the bar covers every merged invalidation's range
          prev.yPx = Math.min(prev.yPx, yOf(posCol[row]!));
          prev.y2Px = Math.max(prev.y2Px, yOf(posCol[row]! + lenCol[row]!));
        }
      }
      continue;
    }
    const m = markerAt(store, c, i);
    const y = m.kind === 'drop' ? 0 : yOf(m.posBytes);
    const y2 = m.kind === 'drop' ? heightPx : m.kind === 'inval' ? yOf(m.posBytes + m.lenBytes) : y;
    const p = { xPx, yPx: y, y2Px: y2, kind, label: m.reason, row: m.row, count: 1 };
    lastAt.set(key, p);
    markers.push(p);
  }
  const buckets = Math.max(1, Math.floor(widthPx / HIT_BUCKET_PX));
  const { hits, misses } = hitRateBuckets(store, c, startNs, endNs, buckets);
  const hitRate = new Float32Array(buckets);
  for (let i = 0; i < buckets; i++) hitRate[i] = hits[i]! + misses[i]! > 0 ? hits[i]! / (hits[i]! + misses[i]!) : Number.NaN;
  return { scale, nodeId: c.nodeId, ino: c.ino, maxOffsetBytes, plotHeightPx: heightPx, rects, markers, hitRate, bucketWidthPx: widthPx / buckets, hits: c.hits, misses: c.misses, staleUsesDrawn };
}

function offsetToPx(offsetBytes: number, maxOffsetBytes: number, heightPx: number): number {
  return (Math.min(offsetBytes, maxOffsetBytes) / maxOffsetBytes) * heightPx;
}

/** A file offset's y in the model's plot (px from the plot's top). */
export function offsetYPx(m: CacheModel, offsetBytes: number): number {
  return offsetToPx(offsetBytes, m.maxOffsetBytes, m.plotHeightPx);
}

/** Index of the marker near (xPx, yPx) in plot space, or -1; the topmost painted first. */
export function hitTestMarker(m: CacheModel, xPx: number, yPx: number, slopPx = 5): number {
  const order = paintOrder(m);
  for (let k = order.length - 1; k >= 0; k--) {
    const i = order[k]!;
    const p = m.markers[i]!;
    const [top, bottom] = barSpanPx(p);
    if (Math.abs(p.xPx - xPx) <= slopPx && yPx >= top - slopPx && yPx <= bottom + slopPx) return i;
  }
  return -1;
}

/** The y range a marker occupies: its offset for a glyph, its range (≥ MIN_BAR_PX) for a bar. */
export function barSpanPx(p: CacheMarkerPrim): [number, number] {
  if (!isBarKind(p.kind)) return [p.yPx, p.yPx];
  const h = Math.max(MIN_BAR_PX, p.y2Px - p.yPx);
  return [Math.max(0, Math.min(p.yPx, p.y2Px - h)), Math.max(p.y2Px, p.yPx + h)];
}

/** A reason label under the plot: the reason of a run of bars whose labels would overprint, with the run's count. */
export interface ReasonLabel { xPx: number; text: string }
/** Label width estimate at the plot's 11 px font (no measureText: the layout is pure and testable). */
const labelWidthPx = (text: string): number => text.length * 6.5;
/**
 * Lays out the bars' reason labels left to right with no overlap: a bar whose label would touch
 * the previous one joins that label's run when its reason is the same (the count grows: "ioend ×12");
 * a different reason that does not fit is left unlabelled (its bar keeps the tooltip / inspector).
 */
export function layoutReasonLabels(m: CacheModel, gapPx = 6): ReasonLabel[] {
  const out: Array<{ xPx: number; reason: string; count: number }> = [];
  const widthPx = m.scale.widthPx;
  let rightPx = -Infinity;
  for (const p of m.markers) { // time order
    if (!isBarKind(p.kind) || !p.label) continue;
    const last = out[out.length - 1];
    // Room for the longest count the run may reach; centred on its first bar, kept inside the plot (it clips).
    const half = labelWidthPx(`${p.label} ×999`) / 2;
    const xPx = Math.max(half, Math.min(widthPx - half, p.xPx));
    if (xPx - half >= rightPx + gapPx) {
      out.push({ xPx, reason: p.label, count: p.count });
      rightPx = xPx + half;
    } else if (last && last.reason === p.label) last.count += p.count;
  }
  return out.map((l) => ({ xPx: l.xPx, text: l.count > 1 ? `${l.reason} ×${l.count}` : l.reason }));
}

/** Human size: 4096 → "4 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30 && bytes % 2 ** 30 === 0) return `${bytes / 2 ** 30} GiB`;
  if (bytes >= 2 ** 20 && bytes % 2 ** 20 === 0) return `${bytes / 2 ** 20} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} B`;
}

/** What a trace without mapping-cache events does have, so the empty view can say why it is empty. */
export interface TraceInventory {
  events: number;
  /** Rows of the fuse-iomap path: FUSE_IOMAP_* requests, iomap steps of a FUSE inode (nodeid ≠ 0), ioends. */
  fuseIomapEvents: number;
  /** Event kinds present, most frequent first. */
  kinds: Array<{ kind: string; count: number }>;
  /** fusescope's own server derived the iomap events (its `fusescope-mount` instant): no kernel traced them. */
  derivedIomap: boolean;
}

const IOMAP_UPCALLS: ReadonlySet<number> = new Set([Opcode.IOMAP_BEGIN, Opcode.IOMAP_END, Opcode.IOMAP_IOEND, Opcode.IOMAP_CONFIG]);

/** One pass over the store (only for the empty view: a trace with no cache events). */
export function traceInventory(store: TraceStore): TraceInventory {
  const counts = new Map<number, number>();
  const kinds = store.kinds;
  const opcode = store.col('opcode');
  const nodeId = store.col('nodeId');
  const K = KIND_CODE;
  let fuseIomapEvents = 0;
  for (let row = 0; row < store.length; row++) {
    const k = kinds[row]!;
    counts.set(k, (counts.get(k) ?? 0) + 1);
    if ((k === K.fuse_send && IOMAP_UPCALLS.has(opcode[row]!)) || k === K.iomap_ioend
      || ((k === K.iomap_begin || k === K.iomap_map) && nodeId[row] !== 0)) fuseIomapEvents++;
  }
  const mount = store.strings.find('fusescope-mount');
  const name = store.col('name');
  let derivedIomap = false;
  if (mount >= 0) for (let row = 0; row < store.length && !derivedIomap; row++) derivedIomap = kinds[row] === K.instant && name[row] === mount;
  return {
    events: store.length, fuseIomapEvents, derivedIomap,
    kinds: [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([k, count]) => ({ kind: KINDS[k]!, count })),
  };
}

/** One decimal, never rounded up to 100 % (or down to 0 %) while a miss (or a hit) exists. */
export function hitRateText(hits: number, lookups: number): string {
  const pct = (100 * hits) / lookups;
  const shown = hits < lookups ? Math.min(pct, 99.9) : pct;
  return `${(hits > 0 ? Math.max(shown, 0.1) : shown).toFixed(1).replace(/\.0$/, '')}%`;
}
