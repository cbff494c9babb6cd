// The offset × time canvas of one inode's cache, redrawn on the page's rAF scheduler.

import { useEffect, useRef } from 'react';
import { PaletteFills } from '../../render/canvas.ts';
import { mountCanvas } from '../../render/mount-canvas.ts';
import { paletteFor } from '../../render/palette.ts';
import { TimeZoom } from '../../render/time-zoom.ts';
import { timeTicks } from '../../render/ticks.ts';
import { allUntimed } from '../../trace/untimed.ts';
import type { ViewHost } from '../host.ts';
import { buildCacheModel, formatBytes, hitTestMarker, layoutReasonLabels, offsetYPx, type CacheModel } from './model.ts';
import { CACHE_MARKER_KINDS } from '../../trace/derive/cache.ts';
import { CACHE_LEFT_PX, CACHE_TOP_PX, HIT_STRIP_PX, drawCache, drawCacheFindings } from './draw.ts';
import { cacheEvidence, cacheFindingMarks, type CacheEvidenceMark } from './findings.ts';
import { hitTestFindingMark, type FindingMark } from '../finding-marks.ts';
import { registerProbe, type FindingOverlay } from '../probes.ts';
import type { NodeId } from '../../trace/ids.ts';

/** Hatched extents use a finer stripe than lock waits: they are often only a few px tall. */
const CACHE_HATCH_PERIOD_PX = 5;

export function CacheCanvasView({ host, nodeId }: { host: ViewHost; nodeId: NodeId }) {
  const boxRef = useRef<HTMLDivElement>(null);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const box = boxRef.current;
    const canvas = canvasRef.current;
    if (!box || !canvas) throw new Error('CacheCanvasView: not mounted');
    let model: CacheModel | null = null;
    let key = '';
    let boxWidthPx = 0;
    const fills = new PaletteFills();
    // Findings: recomputed when the model, the list or the shown finding changes, not per frame.
    let marks: FindingMark[] = [];
    let evidence: CacheEvidenceMark[] = [];
    let findingsKey = '';
    let drawn: FindingOverlay = { marks: [], evidenceRows: [], evidenceSpanIds: [] };
    const unmount = mountCanvas(host.scheduler, canvas, (surface) => {
      const inode = host.cache.inodes.get(nodeId);
      if (!inode) return;
      boxWidthPx = surface.boxWidthPx;
      const widthPx = Math.max(CACHE_LEFT_PX + 20, boxWidthPx);
      const heightPx = Math.max(120, surface.boxHeightPx);
      const plotH = heightPx - CACHE_TOP_PX - HIT_STRIP_PX - 6;
      const k = `${host.traceGeneration}:${host.cache.version}:${host.viewStartNs}:${host.viewEndNs}:${widthPx}:${heightPx}`;
      if (k !== key || !model) {
        model = buildCacheModel(inode, host.trace, host.viewStartNs, host.viewEndNs, widthPx - CACHE_LEFT_PX - 4, plotH, host.trace.endNs);
        key = k;
      }
      const ctx = surface.resize(widthPx, heightPx);
      const palette = paletteFor(host.theme);
      const f = fills.use(ctx, palette);
      const m = model;
      const yLabels = [0, 0.5, 1].map((frac) => ({ yPx: frac * plotH, label: formatBytes(Math.round((frac * m.maxOffsetBytes) / 4096) * 4096) }));
      drawCache(ctx, m, {
        palette, widthPx, plotHeightPx: plotH, ticks: timeTicks(m.scale, undefined, allUntimed(host.trace), host.axisOriginNs ?? 0), yLabels,
        cursorXPx: Number.isNaN(host.cursorNs) ? -1 : m.scale.nsToPx(host.cursorNs),
        hatch: (c) => f.hatch(c, CACHE_HATCH_PERIOD_PX),
        mark: (idx) => f.marks[idx] ?? null,
      });
      const pf = host.findings;
      const sel = pf?.selected ?? null;
      const fk = pf ? `${key}:${pf.version}:${pf.rowBase}:${sel ? `${sel.rule}:${sel.tsNs}:${sel.evidence[0]}` : ''}` : '';
      if (fk !== findingsKey) {
        findingsKey = fk;
        marks = pf ? cacheFindingMarks(pf.list, host.trace, pf.rowBase, nodeId, m.scale) : [];
        evidence = pf && sel ? cacheEvidence(sel, host.trace, pf.rowBase, nodeId, m.scale, (o) => offsetYPx(m, o)) : [];
        drawn = {
          marks: marks.map((k) => ({ rule: k.finding.rule, severity: k.severity, count: k.count, xPx: k.xPx })),
          evidenceRows: evidence.map((e) => e.row), evidenceSpanIds: [],
        };
      }
      drawCacheFindings(ctx, m, marks, evidence, sel, palette);
    }, { box });
    const zoom = new TimeZoom({
      host, canvas, plotLeftPx: CACHE_LEFT_PX,
      plotWidthPx: () => model?.scale.widthPx ?? Math.max(1, boxWidthPx - CACHE_LEFT_PX - 4),
      onClick: (x, y) => {
        if (!model) return;
        if (y < CACHE_TOP_PX) {
          // The findings' band: a marker shows its finding, as the findings panel's click does.
          const i = hitTestFindingMark(marks, x - CACHE_LEFT_PX);
          if (i >= 0) host.findings?.select(marks[i]!.finding);
          return;
        }
        const i = hitTestMarker(model, x - CACHE_LEFT_PX, y - CACHE_TOP_PX);
        if (i >= 0) host.selectRow(model.markers[i]!.row);
      },
    });
    const unprobe = registerProbe(host, 'cacheFindings', { findingOverlay: () => drawn });
    const unprobePlot = registerProbe(host, 'cachePlot', {
      drawn: () => {
        const byKind: Record<string, number> = {};
        for (const p of model?.markers ?? []) byKind[CACHE_MARKER_KINDS[p.kind]!] = (byKind[CACHE_MARKER_KINDS[p.kind]!] ?? 0) + p.count;
        return { nodeId, markersByKind: byKind, staleUsesDrawn: model?.staleUsesDrawn ?? 0, reasonLabels: model ? layoutReasonLabels(model).map((l) => l.text) : [] };
      },
    });
    return () => { unprobe(); unprobePlot(); zoom.dispose(); unmount(); };
  }, [host, nodeId]);
  return <div className="cache-canvas-box" ref={boxRef}><canvas data-testid="cache-canvas" ref={canvasRef} /></div>;
}
