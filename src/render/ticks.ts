// Time ticks shared by every time axis: d3's nice tick values, labelled so that adjacent labels
// always differ (the main timeline's SVG axis and the small axes the locks / cache / alias canvases
// paint themselves).
//
// A label is `(tsNs - originNs)` in one unit for the whole axis, chosen from the tick step: the
// largest of s / ms / µs / ns that the step is at least 1/100 of ("334.6 ms", not "334600 µs").
// Decimals start at what the step needs and grow until no two adjacent labels read the same — a
// rounding step (d3 ticks at 2.5 ms) or a float tick value (5123.6849999 ms) cannot make two
// ticks look like one time (the old "5.12 s 5.12 s 5.12 s" of 3-significant-digit labels). At
// 1 µs zoom 5 s into a trace a label is "5123680.2 µs": the digits are what tells ticks apart.

import { scaleLinear } from 'd3-scale';
import type { TimeScale } from './time-scale.ts';

export interface Tick { xPx: number; label: string }

/** The most decimals a label carries: below a nanosecond a tick step means nothing. */
const MAX_DECIMALS: Record<string, number> = { s: 9, ms: 6, 'µs': 3, ns: 3 };

/** The unit a tick step `stepNs` is labelled in, and its size in ns. */
export function tickUnit(stepNs: number): { unit: 's' | 'ms' | 'µs' | 'ns'; unitNs: number } {
  const s = Math.abs(stepNs);
  return s >= 1e8 ? { unit: 's', unitNs: 1e9 } : s >= 1e4 ? { unit: 'ms', unitNs: 1e6 } : s >= 10 ? { unit: 'µs', unitNs: 1e3 } : { unit: 'ns', unitNs: 1 };
}

/**
 * Labels for tick times `ticksNs` (ascending; the step is their spacing), as time since `originNs`.
 * Adjacent labels differ whenever the ticks are at least a thousandth of a ns apart.
 */
export function tickLabels(ticksNs: readonly number[], originNs = 0): string[] {
  if (ticksNs.length === 0) return [];
  const stepNs = ticksNs.length > 1 ? ticksNs[1]! - ticksNs[0]! : 0;
  const { unit, unitNs } = tickUnit(stepNs > 0 ? stepNs : 1e9);
  const max = MAX_DECIMALS[unit]!;
  let decimals = stepNs > 0 ? stepDecimals(stepNs / unitNs, max) : 0;
  for (;;) {
    const labels = ticksNs.map((t) => `${fmt((t - originNs) / unitNs, decimals)} ${unit}`);
    if (decimals >= max || labels.every((l, i) => i === 0 || l !== labels[i - 1])) return labels;
    decimals++;
  }
}

/** Fewest decimals that write the step exactly (2.5 ms → 1: ticks read 5.0, 7.5, not 5, 8). */
function stepDecimals(step: number, max: number): number {
  for (let d = 0; d < max; d++) if (Math.abs(Number(step.toFixed(d)) - step) <= 1e-6 * step) return d;
  return max;
}

/** toFixed without "-0": a tick a hair before the origin reads 0. */
function fmt(v: number, decimals: number): string {
  const s = v.toFixed(decimals);
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/**
 * About one tick per `spacingPx`, labelled as time since `originNs`; `noTimes`: the trace has no
 * real time (every event from a pasted line without time), so the ticks carry no label.
 */
export function timeTicks(scale: TimeScale, spacingPx = 110, noTimes = false, originNs = 0): Tick[] {
  const { values, labels } = fittedTicks(scale, spacingPx, originNs, noTimes);
  return values.map((relNs, i) => ({ xPx: scale.nsToPx(relNs + originNs), label: labels[i]! }));
}

/** Rough px per character of the 10–11 px axis fonts, and the room a label wants on each side. */
const AXIS_CHAR_PX = 6.2;
const LABEL_PAD_PX = 14;

/**
 * Tick values (as time since originNs, on round values of it) and their labels, about one per
 * `spacingPx` — fewer when the labels are long (a clock 57464 s in, at µs zoom: "57464791106.1 µs"),
 * so neighbours never overlap.
 */
export function fittedTicks(scale: TimeScale, spacingPx: number, originNs = 0, noTimes = false): { values: number[]; labels: string[] } {
  const x = scaleLinear().domain([scale.startNs - originNs, scale.endNs - originNs]);
  let count = Math.max(2, Math.floor(scale.widthPx / spacingPx));
  for (let pass = 0; ; pass++) {
    const values = x.ticks(count);
    const labels = noTimes ? values.map(() => '') : tickLabels(values);
    const wantPx = Math.max(...labels.map((l) => l.length), 0) * AXIS_CHAR_PX + LABEL_PAD_PX;
    const fit = Math.max(1, Math.floor(scale.widthPx / wantPx));
    if (pass > 0 || values.length <= fit + 1) return { values, labels };
    count = Math.max(1, Math.floor(fit * 0.9));
  }
}
