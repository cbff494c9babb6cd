// The shared time axis: an SVG overlay drawn with d3-axis (ticks only; d3 never touches event
// data). Tick labels are time since the axis origin (render/ticks.ts tickLabels: one unit, enough
// decimals that adjacent labels differ).

import { axisTop } from 'd3-axis';
import { scaleLinear } from 'd3-scale';
import { select } from 'd3-selection';
import type { TimeScale } from '../../render/time-scale.ts';
import { fittedTicks } from '../../render/ticks.ts';
import type { GapPrimitive } from './model.ts';
import type { FindingMark } from './findings.ts';
import type { Finding } from '../../trace/checks/types.ts';
import { sameFinding } from '../host.ts';

/** ~1 tick per 90 px keeps "12.345 ms" labels from touching. */
const PX_PER_TICK = 90;
/** The top FINDING_BAND_PX hold the findings' markers; the tick labels sit under them. */
export const AXIS_HEIGHT_PX = 33;
const FINDING_BAND_PX = 10;

/** A trace with untimed events (pasted lines, or a log, without times): how many of how many, and from what. */
export interface UntimedAxis { untimed: number; total: number; source?: string }

/** What the axis says when some or all events have no time. */
export function untimedAxisText(u: UntimedAxis): string {
  return u.untimed >= u.total
    ? `times unknown: every event is from ${u.source === undefined || u.source === 'pasted lines without time' ? 'a pasted line without time' : u.source} — placed in file order, 1 µs apart; widths are not durations`
    : `times unknown for ${u.untimed} of ${u.total} events (${u.source ?? 'pasted lines without time'}): placed in file order; their spans (dashed) are not durations`;
}

/**
 * `labelOriginNs`: the time labelled 0 (A/B compare labels aligned time; ticks fall on round aligned values).
 * `untimed`: the trace has untimed events: a note says so, and with no timed event at all the ticks carry no times.
 */
export function drawAxis(svg: SVGSVGElement, scale: TimeScale, offsetXPx: number, gaps: readonly GapPrimitive[], labelOriginNs = 0, untimed: UntimedAxis | null = null): void {
  const x = scaleLinear().domain([scale.startNs - labelOriginNs, scale.endNs - labelOriginNs]).range([0, scale.widthPx]);
  const noTimes = untimed !== null && untimed.untimed >= untimed.total;
  const { values: ticks, labels } = fittedTicks(scale, PX_PER_TICK, labelOriginNs, noTimes);
  const root = select(svg);
  root.attr('width', offsetXPx + scale.widthPx).attr('height', AXIS_HEIGHT_PX);
  let g = root.select<SVGGElement>('g.axis');
  if (g.empty()) g = root.append('g').attr('class', 'axis');
  g.attr('transform', `translate(${offsetXPx},${AXIS_HEIGHT_PX - 1})`)
    .call(axisTop(x).tickValues(ticks).tickFormat((_v, i) => labels[i] ?? '').tickSizeOuter(0));
  // The note sits in the label column's band at the top-left, over the findings band.
  let note = root.select<SVGTextElement>('text.untimed-note');
  if (untimed) {
    if (note.empty()) note = root.append('text').attr('class', 'untimed-note').attr('data-testid', 'axis-untimed');
    note.attr('x', offsetXPx + 4).attr('y', FINDING_BAND_PX + 2).text(`⚠ ${untimedAxisText(untimed)}`);
  } else if (!note.empty()) note.remove();
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
    .text((d) => (d.missedEvents < 0 ? 'events missed (count unknown)' : `${d.missedEvents} events missed`));
}

/**
 * The findings' markers along the top of the axis: a triangle per finding (merged ones show their
 * most severe), coloured by severity (CSS), the shown one outlined; a click shows the finding.
 */
export function drawFindingMarks(svg: SVGSVGElement, marks: readonly FindingMark[], offsetXPx: number, selected: Finding | null,
  onClick: (f: Finding) => void): void {
  const root = select(svg);
  let g = root.select<SVGGElement>('g.finding-marks');
  if (g.empty()) g = root.append('g').attr('class', 'finding-marks');
  g.attr('transform', `translate(${offsetXPx},0)`)
    .selectAll<SVGPathElement, FindingMark>('path')
    .data(marks)
    .join('path')
    .attr('d', (m) => `M${m.xPx - 5},1 L${m.xPx + 5},1 L${m.xPx},${FINDING_BAND_PX} Z`)
    .attr('class', (m) => `finding-mark sev-${m.severity}${sameFinding(m.finding, selected) ? ' selected' : ''}`)
    .attr('data-rule', (m) => m.finding.rule)
    .attr('data-severity', (m) => m.severity)
    .on('click', (_e, m) => onClick(m.finding))
    .selectAll('title')
    .data((m) => [m])
    .join('title')
    .text((m) => `${m.finding.severity} ${m.finding.rule}${m.count > 1 ? ` (+${m.count - 1} more here)` : ''}: click to show it`);
}
