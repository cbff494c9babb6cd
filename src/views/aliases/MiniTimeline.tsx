// One alias group's mini-timeline canvas, on the shared range and the page's rAF scheduler.

import { useEffect, useRef } from 'react';
import { mountCanvas } from '../../render/mount-canvas.ts';
import { paletteFor } from '../../render/palette.ts';
import { TimeZoom } from '../../render/time-zoom.ts';
import { timeTicks } from '../../render/ticks.ts';
import { allUntimed } from '../../trace/untimed.ts';
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
    let boxWidthPx = 0;
    const unmount = mountCanvas(host.scheduler, canvas, (surface) => {
      boxWidthPx = surface.boxWidthPx;
      const widthPx = Math.max(MINI_LABEL_WIDTH_PX + 10, boxWidthPx);
      const plotW = widthPx - MINI_LABEL_WIDTH_PX;
      const k = `${host.traceGeneration}:${host.spans.version}:${host.viewStartNs}:${host.viewEndNs}:${plotW}`;
      if (k !== key || !model) {
        model = buildMiniTimeline(nodeIds, host.locks, host.spans, host.trace, host.viewStartNs, host.viewEndNs, plotW);
        key = k;
      }
      const ctx = surface.resize(widthPx, miniHeightPx(nodeIds.length));
      drawMini(ctx, paletteFor(host.theme), model, labels, widthPx, timeTicks(model.scale, undefined, allUntimed(host.trace), host.axisOriginNs ?? 0), host.selectedSpanId);
    });
    const zoom = new TimeZoom({
      host, canvas, plotLeftPx: MINI_LABEL_WIDTH_PX,
      plotWidthPx: () => model?.scale.widthPx ?? Math.max(10, boxWidthPx - MINI_LABEL_WIDTH_PX),
      onClick: (xPx, yPx) => {
        if (!model) return;
        const i = model.prims.hitTest(xPx - MINI_LABEL_WIDTH_PX, Math.floor((yPx - MINI_AXIS_HEIGHT_PX) / MINI_ROW_HEIGHT_PX));
        host.select(i >= 0 ? model.prims.spanId[i]! : -1);
      },
    });
    return () => { zoom.dispose(); unmount(); };
  }, [host, nodeKey, labelKey]);
  return <canvas className="mini-timeline" data-testid={`alias-mini-${group.id}`} data-ino={group.ino || undefined} ref={canvasRef} />;
}
