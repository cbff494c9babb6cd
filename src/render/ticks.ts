// Time ticks for canvases that carry their own small axis (locks, cache): d3's nice tick values,
// painted on the canvas. The main timeline keeps its SVG axis.

import { scaleLinear } from 'd3-scale';
import { formatDurNs, type TimeScale } from './time-scale.ts';

export interface Tick { xPx: number; label: string }

/**
 * About one tick per `spacingPx`, labelled as time since the trace start; `noTimes`: the trace has
 * no real time (every event from a pasted line without time), so the ticks carry no label.
 */
export function timeTicks(scale: TimeScale, spacingPx = 110, noTimes = false): Tick[] {
  const count = Math.max(2, Math.floor(scale.widthPx / spacingPx));
  return scaleLinear().domain([scale.startNs, scale.endNs]).ticks(count)
    .map((tsNs) => ({ xPx: scale.nsToPx(tsNs), label: noTimes ? '' : formatDurNs(tsNs) }));
}
