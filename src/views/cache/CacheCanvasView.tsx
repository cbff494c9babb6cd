// The offset × time canvas of one inode's cache, redrawn on the page's rAF scheduler.

import { useEffect, useRef } from 'react';
import { makeHatchPattern, makeMarkPattern, sizeCanvas } from '../../render/canvas.ts';
import { ElementSize } from '../../render/element-size.ts';
import { CHROME, MARK_INK, PALETTE } from '../../render/palette.ts';
import { attachTimeInteraction } from '../../render/time-interact.ts';
import { timeTicks } from '../../render/ticks.ts';
import type { ViewHost } from '../host.ts';
import { buildCacheModel, formatBytes, hitTestMarker, type CacheModel } from './model.ts';
import { CACHE_LEFT_PX, CACHE_TOP_PX, HIT_STRIP_PX, drawCache } from './draw.ts';

export function CacheCanvasView({ host, nodeId }: { host: ViewHost; nodeId: number }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const box = boxRef.current;
    const canvas = canvasRef.current;
    if (!box || !canvas) throw new Error('CacheCanvasView: not mounted');
    let model: CacheModel | null = null;
    let key = '';
    const boxSize = new ElementSize(box, () => host.scheduler.markDirty());
    const hatches = new Map<string, string | CanvasPattern>();
    const marks = new Map<number, CanvasPattern | null>();
    const render = (): void => {
      const inode = host.cache.inodes.get(nodeId);
      if (!inode) return;
      const widthPx = Math.max(CACHE_LEFT_PX + 20, boxSize.widthPx);
      const heightPx = Math.max(120, boxSize.heightPx);
      const plotH = heightPx - CACHE_TOP_PX - HIT_STRIP_PX - 6;
      const k = `${host.traceGeneration}:${host.cache.version}:${host.viewStartNs}:${host.viewEndNs}:${widthPx}:${heightPx}`;
      if (k !== key || !model) {
        model = buildCacheModel(inode, host.trace, host.viewStartNs, host.viewEndNs, widthPx - CACHE_LEFT_PX - 4, plotH, host.trace.endNs);
        key = k;
        hatches.clear();
        marks.clear();
      }
      const ctx = sizeCanvas(canvas, widthPx, heightPx);
      const m = model;
      const yLabels = [0, 0.5, 1].map((f) => ({ yPx: f * plotH, label: formatBytes(Math.round((f * m.maxOffsetBytes) / 4096) * 4096) }));
      drawCache(ctx, m, {
        widthPx, plotHeightPx: plotH, ticks: timeTicks(m.scale), yLabels,
        cursorXPx: Number.isNaN(host.cursorNs) ? -1 : m.scale.nsToPx(host.cursorNs),
        hatch: (c) => {
          let h = hatches.get(c);
          if (!h) { h = makeHatchPattern(ctx, c, CHROME.hatchBackground, 5); hatches.set(c, h); }
          return h;
        },
        mark: (idx) => {
          if (!marks.has(idx)) {
            const m = PALETTE[idx]?.mark;
            marks.set(idx, m ? makeMarkPattern(ctx, m, MARK_INK) : null);
          }
          return marks.get(idx) ?? null;
        },
      });
    };
    const off = host.scheduler.addRenderer(render);
    const detach = attachTimeInteraction({
      canvas, plotLeftPx: CACHE_LEFT_PX, scale: () => model?.scale ?? null,
      setRange: (a, b) => host.scheduler.scheduleAction(() => host.setRange(a, b, true)),
      setCursor: (t) => host.setCursor(t),
      onClick: (x, y) => {
        if (!model) return;
        const i = hitTestMarker(model, x - CACHE_LEFT_PX, y - CACHE_TOP_PX);
        if (i >= 0) host.selectRow(model.markers[i]!.row);
      },
    });
    host.scheduler.markDirty();
    return () => { off(); boxSize.dispose(); detach(); };
  }, [host, nodeId]);
  return <div className="cache-canvas-box" ref={boxRef}><canvas data-testid="cache-canvas" ref={canvasRef} /></div>;
}
