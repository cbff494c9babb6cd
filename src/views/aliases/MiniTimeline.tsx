// One alias group's mini-timeline canvas, on the shared range and the page's rAF scheduler.

import { useEffect, useRef } from 'react';
import { sizeCanvas } from '../../render/canvas.ts';
import { ElementSize } from '../../render/element-size.ts';
import { attachTimeInteraction } from '../../render/time-interact.ts';
import { timeTicks } from '../../render/ticks.ts';
import type { ViewHost } from '../host.ts';
import { buildMiniTimeline, type AliasGroupRow, type MiniTimeline as Model } from './model.ts';
import { MINI_AXIS_HEIGHT_PX, MINI_LABEL_WIDTH_PX, MINI_ROW_HEIGHT_PX, drawMini, miniHeightPx } from './draw.ts';

export function MiniTimeline({ host, group }: { host: ViewHost; group: AliasGroupRow }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const nodeKey = group.nodeIds.join(',');
  const labelKey = group.pathsByNode.map((p) => p.join(' ')).join('|');
  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) throw new Error('MiniTimeline: canvas not mounted');
    const nodeIds = nodeKey.split(',').map(Number);
    const labels = labelKey.split('|').map((p, i) => `nodeid ${nodeIds[i]} ${p}`);
    let model: Model | null = null;
    let key = '';
    // The box's width from a ResizeObserver: reading clientWidth each frame forced a layout.
    const box = canvas.parentElement ? new ElementSize(canvas.parentElement, () => host.scheduler.markDirty()) : null;
    const render = (): void => {
      const widthPx = Math.max(MINI_LABEL_WIDTH_PX + 10, box?.widthPx ?? 400);
      const plotW = widthPx - MINI_LABEL_WIDTH_PX;
      const k = `${host.traceGeneration}:${host.spans.version}:${host.viewStartNs}:${host.viewEndNs}:${plotW}`;
      if (k !== key || !model) {
        model = buildMiniTimeline(nodeIds, host.locks, host.spans, host.trace, host.viewStartNs, host.viewEndNs, plotW);
        key = k;
      }
      const ctx = sizeCanvas(canvas, widthPx, miniHeightPx(nodeIds.length));
      drawMini(ctx, model, labels, widthPx, timeTicks(model.scale), host.selectedSpanId);
    };
    const off = host.scheduler.addRenderer(render);
    const detach = attachTimeInteraction({
      canvas, plotLeftPx: MINI_LABEL_WIDTH_PX, scale: () => model?.scale ?? null,
      setRange: (a, b) => host.scheduler.scheduleAction(() => host.setRange(a, b, true)),
      setCursor: (t) => host.setCursor(t),
      onClick: (xPx, yPx) => {
        if (!model) return;
        const row = Math.floor((yPx - MINI_AXIS_HEIGHT_PX) / MINI_ROW_HEIGHT_PX);
        const x = xPx - MINI_LABEL_WIDTH_PX;
        const hit = [...model.prims].reverse().find((p) => p.rowPos === row && x >= p.xPx - 1 && x <= p.xPx + p.widthPx + 1);
        host.select(hit ? hit.spanId : -1);
      },
    });
    host.scheduler.markDirty();
    return () => { off(); detach(); box?.dispose(); };
  }, [host, nodeKey, labelKey]);
  return <canvas className="mini-timeline" data-testid={`alias-mini-${group.id}`} data-ino={group.ino || undefined} ref={canvasRef} />;
}
