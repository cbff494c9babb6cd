// Aligned time for A/B compare: both recordings are shown on one time axis. Each side has an
// anchor — the side time that aligned time 0 stands for — and every conversion goes through it:
//
//   side A   originA ──── anchorA ═══════════════ A's events
//   side B   originB ─────────── anchorB ═════════════ B's events
//   aligned               0 ──────────────────────▶ (the shared axis; negative before the anchor)
//
//   alignedNs = sideNs − anchorNs          sideNs = alignedNs + anchorNs
//
// "from start" anchors each side at its first event; "on marker" at a chosen time in each side
// (a selected event), so "the first fsync" of A and of B sit at the same x. The shared view range
// lives in aligned time; each side's own range is that range shifted by its anchor, so both sides
// always show the same width of time — zooming one zooms the other by exactly the same factor.

export type AlignMode = 'start' | 'marker';

interface SideExtent {
  /** First and last event time of the side, in its own ns (TraceStore.startNs / endNs). */
  startNs: number;
  endNs: number;
}

/** The side time aligned 0 stands for: its first event, or the marker (its first event if none). */
export function anchorOf(mode: AlignMode, extent: SideExtent, markerNs: number): number {
  return mode === 'marker' && Number.isFinite(markerNs) ? markerNs : extent.startNs;
}

export function toAlignedNs(sideNs: number, anchorNs: number): number {
  return sideNs - anchorNs;
}

export function toSideNs(alignedNs: number, anchorNs: number): number {
  return alignedNs + anchorNs;
}

/** A side's own view range for an aligned range. */
export function sideRange(alignedStartNs: number, alignedEndNs: number, anchorNs: number): [number, number] {
  return [toSideNs(alignedStartNs, anchorNs), toSideNs(alignedEndNs, anchorNs)];
}

/**
 * The aligned range that shows every side whole (the union of their aligned extents), or null
 * when no side has an extent yet. A side with no events (startNs = endNs = 0 before its first
 * batch) is skipped so a loading side does not pull the range to 0.
 */
export function unionAlignedRange(sides: ReadonlyArray<{ extent: SideExtent; anchorNs: number; empty: boolean }>): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of sides) {
    if (s.empty) continue;
    lo = Math.min(lo, toAlignedNs(s.extent.startNs, s.anchorNs));
    hi = Math.max(hi, toAlignedNs(s.extent.endNs, s.anchorNs));
  }
  return lo <= hi ? [lo, hi] : null;
}

/**
 * After re-anchoring, the view keeps its width and puts aligned 0 (the marker) at the same
 * fraction of the view it had — or centres it when it was outside — so the marker stays in sight.
 */
export function rangeAroundZero(startNs: number, endNs: number): [number, number] {
  const widthNs = endNs - startNs;
  const frac = startNs <= 0 && endNs >= 0 ? -startNs / widthNs : 0.5;
  return [-frac * widthNs, (1 - frac) * widthNs];
}
