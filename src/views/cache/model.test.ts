import { describe, expect, it } from 'vitest';
import { LIGHT_PALETTE } from '../../render/palette.ts';
import { ev } from '../../trace/testing/events.ts';
import { MapType } from '../../trace/fuse-proto.ts';
import type { TraceEvent } from '../../trace/schema.ts';
import { derived, recordingContext } from '../testing-fixtures.ts';
import { buildCacheModel, cacheInodes, formatBytes, hitRateText, hitTestMarker, layoutReasonLabels, paintOrder, traceInventory } from './model.ts';
import { CACHE_MARKER_KINDS } from '../../trace/derive/cache.ts';
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
    // An invalidation is a bar over its range (0…64 KiB of 128 KiB: y 0…100 of 200), not the full height.
    expect(hitTestMarker(m, 600, 50)).toBe(4);
    expect(hitTestMarker(m, 600, 190)).toBe(-1);
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
  it('a hit rate with a miss never reads 100 % (1306 hits, 5 misses: 99.6 %; 9999 of 10000: 99.9 %)', () => {
    expect([hitRateText(1306, 1311), hitRateText(9999, 10000), hitRateText(4, 4), hitRateText(0, 3), hitRateText(1, 10000)]).toEqual(['99.6%', '99.9%', '100%', '0%', '0.1%']);
  });
  it('formats sizes', () => {
    expect([formatBytes(4096), formatBytes(3 * 2 ** 20), formatBytes(100)]).toEqual(['4 KiB', '3 MiB', '100 B']);
  });
  it('paints misses and stale uses over the hits of their column, and hit-tests the one on top', () => {
    const stale = 'nodeid 4 ino 12 pos 0x0 cookie 1 ic_seq 2: mapping changed under the writer (cookie validation off)';
    const { cache, store } = derived([
      ev('cache_upsert', 0, 's/9', { nodeId: 4, mapOffsetBytes: 0, mapLenBytes: 65536 }),
      ev('cache_lookup', 10, 'r/1', { nodeId: 4, hit: false, posBytes: 0 }), // a miss first …
      ev('cache_lookup', 11, 'r/1', { nodeId: 4, hit: true, posBytes: 0 }), // … then a hit in the same px, same offset
      ev('instant', 12, 'w/2', { name: 'stale_mapping_used', text: stale }),
    ]);
    const m = buildCacheModel(cache.inodes.get(asNodeId(4))!, store, 0, 100, 100, 100, 100);
    const kinds = paintOrder(m).map((i) => CACHE_MARKER_KINDS[m.markers[i]!.kind]);
    expect(kinds).toEqual(['upsert', 'hit', 'miss', 'stale_use']); // time order would paint the hit over the miss
    expect(m.staleUsesDrawn).toBe(1);
    // At (10, 0) the miss, the hit and the stale use (x 12) are all within reach: the stale use is on top.
    expect(CACHE_MARKER_KINDS[m.markers[hitTestMarker(m, 10, 0)]!.kind]).toBe('stale_use');
    expect(CACHE_MARKER_KINDS[m.markers[hitTestMarker(m, 10, 0, 1)]!.kind]).toBe('miss');
    // Drawn: the miss's glyph comes after the hit's.
    const { ctx, log } = recordingContext<CacheCanvas>();
    drawCache(ctx, m, { palette: LIGHT_PALETTE, widthPx: 200, plotHeightPx: 100, ticks: [], cursorXPx: -1, hatch: (c) => c, yLabels: [] });
    const glyphs = log.filter((l) => l[0] === 'fillText').map((l) => l[1]);
    expect(glyphs.indexOf('✕')).toBeGreaterThan(glyphs.indexOf('●'));
    expect(glyphs.indexOf('!')).toBeGreaterThan(glyphs.indexOf('✕'));
  });
  it('draws an invalidation over its range, merges a pixel column\'s into one bar, and labels runs of a reason without overlap', () => {
    const events: TraceEvent[] = [ev('cache_upsert', 0, 's/9', { nodeId: 4, mapOffsetBytes: 0, mapLenBytes: 1024 * 4096 })];
    // 40 ioend invalidations of one 4 KiB block, 2.5 ns apart (40 per 100 px: 1 px per 2.5 ns) at blocks 0, 10, 20, …
    for (let i = 0; i < 40; i++) events.push(ev('cache_inval', 1 + 2.5 * i, 'kw/3', { nodeId: 4, posBytes: i * 10 * 4096, lenBytes: 4096, reason: 'ioend' }));
    events.push(ev('cache_inval', 99.5, 'kw/3', { nodeId: 4, posBytes: 0, lenBytes: 4096, reason: 'truncate' }));
    const { cache, store } = derived(events);
    const m = buildCacheModel(cache.inodes.get(asNodeId(4))!, store, 0, 100, 100, 1024, 100);
    const bars = m.markers.filter((p) => CACHE_MARKER_KINDS[p.kind] === 'inval');
    expect(bars.reduce((n, p) => n + p.count, 0)).toBe(41);
    // Block 10 is at y 10 of 1024 px (1 px per 4 KiB): a bar at its range, not the plot's height.
    const b = bars.find((p) => p.row === 2)!;
    expect([b.yPx, b.y2Px]).toEqual([10, 11]);
    // "ioend ×999" is ~65 px wide: the 40 ioend bars over 100 px take at most two labels; their counts add up to 40.
    const labels = layoutReasonLabels(m);
    const ioend = labels.filter((l) => l.text.startsWith('ioend'));
    expect(ioend.length).toBeLessThanOrEqual(2);
    expect(ioend.reduce((n, l) => n + Number(/×(\d+)/.exec(l.text)?.[1] ?? 1), 0)).toBe(40);
    for (let i = 1; i < labels.length; i++) expect(labels[i]!.xPx - labels[i - 1]!.xPx).toBeGreaterThanOrEqual(65);
  });
  it('says what a trace without cache events has: kinds by count, fuse-iomap rows, derived by fusescope\'s server', () => {
    const inv = traceInventory(derived([
      ev('fuse_send', 0, 'a/1', { opcode: 16, unique: 1 }), ev('fuse_send', 1, 'a/1', { opcode: 15, unique: 2 }),
      ev('fuse_reply', 2, 's/1', { unique: 1 }), ev('iomap_begin', 3, 'a/1', { nodeId: 0, fsDev: 8 }), // an ext4 step: not fuse-iomap
    ]).store);
    expect(inv).toEqual({ events: 4, fuseIomapEvents: 0, derivedIomap: false, kinds: [{ kind: 'fuse_send', count: 2 }, { kind: 'fuse_reply', count: 1 }, { kind: 'iomap_begin', count: 1 }] });
    const derivedInv = traceInventory(derived([
      ev('instant', 0, 'm/1', { name: 'fusescope-mount', text: 'derived' }), ev('iomap_begin', 1, 'm/1', { nodeId: 5 }),
      ev('fuse_send', 2, 'a/1', { opcode: 4094, unique: 3 }),
    ]).store);
    expect([derivedInv.fuseIomapEvents, derivedInv.derivedIomap]).toEqual([2, true]);
  });
});
