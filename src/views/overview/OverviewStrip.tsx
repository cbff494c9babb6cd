// Glue for the overview strip: a thin canvas over the whole opened file. Bars = event density
// (model.ts), played part in the accent colour; the view range is outlined, the loop range shaded,
// the playhead a line. Mouse down / drag seeks. Redrawn on the page's rAF scheduler, memoized on
// (trace version, width); React renders it once.

import { useEffect, useRef } from 'react';
import type { ViewHost } from '../host.ts';
import { mountCanvas } from '../../render/mount-canvas.ts';
import { paletteFor } from '../../render/palette.ts';
import { barHeights, overviewBuckets, stripNsToPx, stripPxToNs } from './model.ts';
import { severityRank, type Finding } from '../../trace/checks/types.ts';
import { drawSeverityTriangle } from '../finding-marks.ts';

/** Finding markers: triangles this tall along the strip's top; a click this close to one shows it instead of seeking. */
const MARK_HEIGHT_PX = 8;
const MARK_HIT_PX = 5;

/** 2 CSS px per bucket: bars stay distinct and the strip costs a few hundred fillRects. */
const BUCKET_WIDTH_PX = 2;
const STRIP_HEIGHT_PX = 34;

interface OverviewProps {
  host: ViewHost;
  /** Whether the area selection is the loop (shaded more strongly). */
  loop: () => boolean;
  onSeek: (tsNs: number) => void;
}

export function OverviewStrip({ host, loop, onSeek }: OverviewProps) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const loopRef = useRef(loop);
  const seekRef = useRef(onSeek);
  loopRef.current = loop;
  seekRef.current = onSeek;

  useEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) throw new Error('OverviewStrip: canvas not mounted');
    let heights: Float32Array = new Float32Array(0);
    let key = '';
    const range = (): [number, number] => {
      const s = host.trace.startNs;
      const e = host.trace.endNs;
      return [s, e > s ? e : s + 1];
    };
    const unmount = mountCanvas(host.scheduler, canvas, (surface) => {
      const widthPx = Math.max(1, surface.boxWidthPx);
      const [startNs, endNs] = range();
      const k = `${host.traceGeneration}:${host.trace.version}:${widthPx}`;
      if (k !== key) {
        heights = barHeights(overviewBuckets(host.trace, startNs, endNs, Math.floor(widthPx / BUCKET_WIDTH_PX)));
        key = k;
      }
      const ctx = surface.resize(widthPx, STRIP_HEIGHT_PX);
      const chrome = paletteFor(host.theme).chrome;
      const x = (ns: number): number => stripNsToPx(ns, startNs, endNs, widthPx);
      ctx.fillStyle = chrome.laneStripe;
      ctx.fillRect(0, 0, widthPx, STRIP_HEIGHT_PX);
      const playX = Number.isFinite(host.playheadNs) ? x(host.playheadNs) : widthPx;
      const barAreaPx = STRIP_HEIGHT_PX - 4;
      for (let i = 0; i < heights.length; i++) {
        const h = heights[i]!;
        if (h === 0) continue;
        const hPx = Math.max(1, h * barAreaPx);
        ctx.fillStyle = i * BUCKET_WIDTH_PX < playX ? chrome.areaEdge : chrome.laneLabelMuted;
        ctx.fillRect(i * BUCKET_WIDTH_PX, STRIP_HEIGHT_PX - 2 - hPx, BUCKET_WIDTH_PX - 0.5, hPx);
      }
      if (!Number.isNaN(host.areaFromNs)) {
        const a = x(host.areaFromNs);
        const b = x(host.areaToNs);
        ctx.fillStyle = loopRef.current() ? 'rgba(0, 158, 115, 0.28)' : chrome.areaFill;
        ctx.fillRect(a, 0, Math.max(1, b - a), STRIP_HEIGHT_PX);
      }
      const v0 = x(host.viewStartNs);
      const v1 = x(host.viewEndNs);
      ctx.strokeStyle = chrome.selection;
      ctx.lineWidth = 1;
      ctx.strokeRect(Math.round(v0) + 0.5, 0.5, Math.max(2, v1 - v0) - 1, STRIP_HEIGHT_PX - 1);
      ctx.fillStyle = chrome.gapEdge;
      ctx.fillRect(Math.round(playX) - 1, 0, 2, STRIP_HEIGHT_PX);
      // The findings, most severe drawn last (on top).
      const list = host.findings ? [...host.findings.list].sort((a, b) => severityRank(a.severity) - severityRank(b.severity)) : [];
      for (const f of list) {
        drawSeverityTriangle(ctx, chrome, f.severity, x(f.tsNs), 0, MARK_HEIGHT_PX, 4);
      }
    });
    /** The most severe finding whose marker is under (xPx, yPx), or null. */
    const markAt = (xPx: number, yPx: number, widthPx: number): Finding | null => {
      if (!host.findings || yPx > MARK_HEIGHT_PX + 2) return null;
      const [startNs, endNs] = range();
      let best: Finding | null = null;
      for (const f of host.findings.list) {
        if (Math.abs(stripNsToPx(f.tsNs, startNs, endNs, widthPx) - xPx) > MARK_HIT_PX) continue;
        if (!best || severityRank(f.severity) > severityRank(best.severity)) best = f;
      }
      return best;
    };
    let dragging = false;
    const seekAt = (e: MouseEvent): void => {
      const rect = canvas.getBoundingClientRect();
      const [startNs, endNs] = range();
      seekRef.current(stripPxToNs(e.clientX - rect.left, startNs, endNs, rect.width));
    };
    const down = (e: MouseEvent): void => {
      if (e.button !== 0) return;
      const rect = canvas.getBoundingClientRect();
      const mark = markAt(e.clientX - rect.left, e.clientY - rect.top, rect.width);
      if (mark) {
        host.findings?.select(mark);
        return;
      }
      dragging = true;
      seekAt(e);
    };
    const move = (e: MouseEvent): void => { if (dragging) seekAt(e); };
    const up = (): void => { dragging = false; };
    canvas.addEventListener('mousedown', down);
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
    return () => {
      unmount();
      canvas.removeEventListener('mousedown', down);
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
  }, [host]);

  return (
    <div className="overview" title="Event density over the whole file: click or drag to seek; the box is the timeline's range, the orange line the playhead; triangles on top are findings (click one to show it)">
      <canvas data-testid="overview" ref={canvasRef} />
    </div>
  );
}
