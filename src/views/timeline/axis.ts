// The shared time axis: an SVG overlay drawn with d3-axis (ticks only; d3 never touches event
// data). Tick labels are time since the recording's origin, in a unit chosen from the tick step.

import { axisTop } from 'd3-axis';
import { scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import type { TimeScale } from '../../render/time-scale.ts';
import type { GapPrimitive } from './model.ts';

/** ~1 tick per 90 px keeps "12.345 ms" labels from touching. */
const PX_PER_TICK = 90;
export const AXIS_HEIGHT_PX = 24;

export function tickFormatter(stepNs: number): (tsNs: number) => string {
  // The unit is the largest one the step is at least 1/100 of, so labels read "334.6 ms", not
  // "334600 µs", and carry at most 2 decimals.
  const [div, unit] = stepNs >= 1e8 ? [1e9, 's'] : stepNs >= 1e4 ? [1e6, 'ms'] : stepNs >= 10 ? [1e3, 'µs'] : [1, 'ns'];
  const decimals = Math.max(0, Math.ceil(-Math.log10(stepNs / div) - 1e-9));
  return (tsNs) => `${(tsNs / div).toFixed(Math.min(decimals, 6))} ${unit}`;
}

/** `labelOriginNs`: the time labelled 0 (A/B compare labels aligned time; ticks fall on round aligned values). */
export function drawAxis(svg: SVGSVGElement, scale: TimeScale, offsetXPx: number, gaps: readonly GapPrimitive[], labelOriginNs = 0): void {
  const x = scaleLinear().domain([scale.startNs - labelOriginNs, scale.endNs - labelOriginNs]).range([0, scale.widthPx]);
  const tickCount = Math.max(2, Math.floor(scale.widthPx / PX_PER_TICK));
  const ticks = x.ticks(tickCount);
  const stepNs = ticks.length > 1 ? ticks[1]! - ticks[0]! : scale.durNs;
  const root = select(svg);
  root.attr('width', offsetXPx + scale.widthPx).attr('height', AXIS_HEIGHT_PX);
  let g = root.select<SVGGElement>('g.axis');
  if (g.empty()) g = root.append('g').attr('class', 'axis');
  g.attr('transform', `translate(${offsetXPx},${AXIS_HEIGHT_PX - 1})`)
    .call(axisTop(x).tickValues(ticks).tickFormat((v) => tickFormatter(stepNs)(v as number)).tickSizeOuter(0));
  // Gap marks: the axis shows where events are missing even if no lane is scrolled into view.
  let gg = root.select<SVGGElement>('g.gaps');
  if (gg.empty()) gg = root.append('g').attr('class', 'gaps');
  gg.attr('transform', `translate(${offsetXPx},0)`)
    .selectAll('rect')
    .data(gaps)
    .join('rect')
    .attr('x', (d) => d.xPx)
    .attr('y', 0)
    .attr('width', (d) => d.widthPx)
    .attr('height', AXIS_HEIGHT_PX)
    .attr('class', 'gap-mark')
    .selectAll('title')
    .data((d) => [d])
    .join('title')
    .text((d) => `${d.missedEvents} events missed`);
}
