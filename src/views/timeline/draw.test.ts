import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { SpanIndex } from '../../trace/spans.ts';
import { typed, type LooseEvent } from '../../trace/testing/events.ts';
import { buildTimelineModel } from './model.ts';
import { drawTimeline, type Canvas2D } from './draw.ts';
import { LABEL_WIDTH_PX, contentHeightPx } from './layout.ts';
import { DARK_PALETTE, LIGHT_PALETTE, PALETTE } from '../../render/palette.ts';
import { recordingContext as recordingFake } from '../testing-fixtures.ts';

const recordingContext = (): { ctx: Canvas2D; log: string[][] } => recordingFake<Canvas2D>();

function denseStore(laneCount: number, spansPerLane: number): { store: TraceStore; spans: SpanIndex } {
  const store = new TraceStore();
  const events: LooseEvent[] = [];
  for (let i = 0; i < spansPerLane; i++) {
    for (let l = 0; l < laneCount; l++) {
      const task = `app/${l}`;
      events.push({ kind: 'app_op_begin', tsNs: i * 100 + l, task, op: 'read', path: '/f', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 });
    }
    for (let l = 0; l < laneCount; l++) {
      events.push({ kind: 'app_op_end', tsNs: i * 100 + 50 + l, task: `app/${l}`, op: 'read', fd: 3, ret: 1 });
    }
  }
  store.appendAll(typed(events));
  const spans = new SpanIndex();
  spans.update(store);
  return { store, spans };
}

const OPTS = { palette: LIGHT_PALETTE, visibleTopPx: 0, hoverSpanId: -1, selectedSpanId: -1, lockWaitFill: '#555' };

describe('drawTimeline', () => {
  it('issues primitives bounded by pixels, not by events', () => {
    const lanes = 8;
    const { store, spans } = denseStore(lanes, 20_000); // 160k spans
    const plotWidthPx = 600;
    const m = buildTimelineModel(spans, store, 0, store.endNs, plotWidthPx);
    const { ctx, log } = recordingContext();
    const heightPx = contentHeightPx(lanes);
    const stats = drawTimeline(ctx, m, { ...OPTS, canvasWidthPx: LABEL_WIDTH_PX + plotWidthPx, canvasHeightPx: heightPx, visibleBottomPx: heightPx });
    const primitives = log.filter((op) => op[0] === 'fillRect' || op[0] === 'fillText' || op[0] === 'strokeRect').length;
    expect(stats.drawnPrimitives).toBe(primitives);
    expect(stats.drawnLanes).toBe(lanes);
    // background + 4 per lane + ≤ 3 per merged block, ≤ 1 block per 2 px of each track.
    expect(primitives).toBeLessThanOrEqual(1 + lanes * 4 + lanes * 3 * plotWidthPx);
    expect(primitives).toBeLessThan(10_000);
    // Merged blocks carry their count.
    expect(log.some((op) => op[0] === 'fillText' && op[1]!.startsWith('×'))).toBe(true);
  });

  it('skips lanes scrolled out of view and draws gap bands', () => {
    const { store, spans } = denseStore(10, 10);
    const m = buildTimelineModel(spans, store, 0, store.endNs, 400, [{ fromTsNs: 100, toTsNs: 200, missedEvents: 5 }]);
    const { ctx, log } = recordingContext();
    const stats = drawTimeline(ctx, m, { ...OPTS, canvasWidthPx: LABEL_WIDTH_PX + 400, canvasHeightPx: contentHeightPx(10), visibleBottomPx: 100 });
    expect(stats.drawnLanes).toBeLessThan(10);
    expect(log.filter((op) => op[0] === 'fillRect' && op[1]!.startsWith('rgba(213')).length).toBe(1);
  });

  it('draws each mapping type\'s mark over wide iomap spans, so types differ without colour', () => {
    const store = new TraceStore();
    const iomapStep = (t0: number, mapType: number): LooseEvent[] => [
      { fsDev: 0, kind: 'iomap_begin', tsNs: t0, task: 'w/1', nodeId: 2, ino: 12, opflags: 1, posBytes: 0, lenBytes: 4096 },
      { rawType: '', kind: 'iomap_map', tsNs: t0 + 1, task: 'w/1', nodeId: 2, ino: 12, slot: 'read', source: 'reply', mapType, mapFlags: 0,
        mapOffsetBytes: 0, mapLenBytes: 4096, mapAddr: 0n, mapDev: 1, cookie: 0 },
      { kind: 'iomap_iter_end', tsNs: t0 + 400, task: 'w/1', nodeId: 2, ino: 12, posBytes: 0, lenBytes: 4096, processedBytes: 4096, error: 0 },
    ];
    store.appendAll(typed([...iomapStep(0, 2 /* MAPPED */), ...iomapStep(500, 3 /* UNWRITTEN */)]));
    const spans = new SpanIndex();
    spans.update(store);
    const plotWidthPx = 400;
    const m = buildTimelineModel(spans, store, 0, 1000, plotWidthPx);
    const { ctx, log } = recordingContext();
    const heightPx = contentHeightPx(1);
    const markFills = PALETTE.map((p) => (p.mark ? `mark:${p.mark}` : null));
    drawTimeline(ctx, m, { ...OPTS, canvasWidthPx: LABEL_WIDTH_PX + plotWidthPx, canvasHeightPx: heightPx, visibleBottomPx: heightPx, markFills });
    const fills = log.filter((op) => op[0] === 'fillRect').map((op) => op[1]);
    expect(fills).toContain('mark:diagonal'); // unwritten
    expect(fills.filter((f) => f!.startsWith('mark:'))).toHaveLength(1); // mapped stays solid
  });

  it('draws with the palette it is given: a dark and a light canvas side by side keep their own chrome', () => {
    const { store, spans } = denseStore(1, 2);
    const m = buildTimelineModel(spans, store, 0, store.endNs, 200);
    const heightPx = contentHeightPx(1);
    const draw = (palette: typeof LIGHT_PALETTE): string[][] => {
      const { ctx, log } = recordingContext();
      drawTimeline(ctx, m, { ...OPTS, palette, canvasWidthPx: LABEL_WIDTH_PX + 200, canvasHeightPx: heightPx, visibleBottomPx: heightPx });
      return log;
    };
    const dark = draw(DARK_PALETTE);
    const light = draw(LIGHT_PALETTE);
    // Fills in order: the background, lane 0's stripe, its label gutter (palette.ts CHROME_*).
    const fills = (log: string[][]): string[] => log.filter((op) => op[0] === 'fillRect').slice(0, 3).map((op) => op[1]!);
    expect(fills(dark)).toEqual(['#1c232c', '#232c37', '#26303b']);
    expect(fills(light)).toEqual(['#ffffff', '#f4f6f8', '#eceff3']);
  });
});
