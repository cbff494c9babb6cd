import { describe, expect, it } from 'vitest';
import { LIGHT_PALETTE } from '../../render/palette.ts';
import { ev } from '../../trace/testing/events.ts';
import { MapType } from '../../trace/fuse-proto.ts';
import type { TraceEvent } from '../../trace/schema.ts';
import { derived, recordingContext } from '../testing-fixtures.ts';
import { buildCacheModel, cacheInodes, formatBytes, hitTestMarker } from './model.ts';
import { drawCache, type CacheCanvas } from './draw.ts';
import { asNodeId } from '../../trace/ids.ts';

const EVENTS = [
  ev('cache_upsert', 100, 's/9', { nodeId: 4, mapType: MapType.MAPPED, mapOffsetBytes: 0, mapLenBytes: 65536 }),
  ev('cache_lookup', 200, 'r/1', { nodeId: 4, hit: true, posBytes: 32768 }),
  ev('cache_lookup', 300, 'r/1', { nodeId: 4, hit: false, posBytes: 0 }),
  ev('cache_upsert', 400, 's/9', { nodeId: 4, fork: 'write', mapType: MapType.UNWRITTEN, mapOffsetBytes: 65536, mapLenBytes: 65536 }),
  ev('cache_inval', 600, 'kw/3', { nodeId: 4, posBytes: 0, lenBytes: 65536, reason: 'truncate' }),
  ev('cache_lookup', 700, 'r/1', { nodeId: 7, hit: false }),
];

describe('cache view model', () => {
  it('lists inodes busiest first', () => {
    expect(cacheInodes(derived(EVENTS).cache).map((c) => c.nodeId)).toEqual([4, 7]);
  });
  it('maps extents to time × offset rectangles, unwritten hatched', () => {
    const { cache, store } = derived(EVENTS);
    const m = buildCacheModel(cache.inodes.get(asNodeId(4))!, store, 0, 1000, 1000, 200, 1000);
    expect(m.maxOffsetBytes).toBe(131072);
    expect(m.rects.map((r) => [r.xPx, r.widthPx, r.yPx, r.heightPx, r.hatched, r.fork])).toEqual([
      [100, 500, 0, 100, false, 'read'],
      [400, 600, 100, 100, true, 'write'],
    ]);
    expect(m.markers.map((p) => [p.kind, p.xPx, p.label])).toEqual([[2, 100, ''], [0, 200, ''], [1, 300, ''], [2, 400, ''], [3, 600, 'truncate']]);
    expect([m.hits, m.misses]).toEqual([1, 1]);
    expect(hitTestMarker(m, 201, 51)).toBe(1);
    expect(hitTestMarker(m, 600, 190)).toBe(4); // an invalidation is a full-height bar
  });
  it('merges markers of one kind in one pixel column (LOD) and computes the hit rate', () => {
    const events: TraceEvent[] = [ev('cache_upsert', 0, 's/9', { nodeId: 4 })];
    for (let i = 0; i < 1000; i++) events.push(ev('cache_lookup', 1 + i, 'r/1', { nodeId: 4, hit: i % 4 !== 0 }));
    const { cache, store } = derived(events);
    const m = buildCacheModel(cache.inodes.get(asNodeId(4))!, store, 0, 1001, 16, 100, 1001);
    expect(m.markers.length).toBeLessThanOrEqual(16 * 3);
    expect(m.markers.reduce((n, p) => n + p.count, 0)).toBe(1001);
    expect(m.hitRate).toHaveLength(2);
    expect(m.hitRate[0]).toBeCloseTo(0.75, 1);
    const { ctx } = recordingContext<CacheCanvas>();
    expect(drawCache(ctx, m, { palette: LIGHT_PALETTE, widthPx: 100, plotHeightPx: 100, ticks: [], cursorXPx: -1, hatch: (c) => c, yLabels: [] })).toBeLessThan(100);
  });
  it('formats sizes', () => {
    expect([formatBytes(4096), formatBytes(3 * 2 ** 20), formatBytes(100)]).toEqual(['4 KiB', '3 MiB', '100 B']);
  });
});
