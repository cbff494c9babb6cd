// The e2e tests' channel to the drawn views (src/app/test-hooks.ts reads it): a controller that can
// answer "where is a span / a lock wait on screen" registers here under the ViewHost it draws.
// Not part of ViewHost, and inert until the test hooks enable it: registering is then a no-op and
// nothing is kept. Keyed weakly by host, so a compare side's probes go with the side.

import type { SpanKindName } from '../trace/spans.ts';

/** A timeline lane as last drawn: where it is on screen (client px) and what the layout did to it. */
export interface TimelineLaneInfo {
  task: string; role: string; pinned: boolean; group: string; collapsed: boolean; hidden: boolean;
  /** The header text of the lane's group ('' when its group has no header: one lane, or pinned). */
  groupText: string;
  topPx: number; bottomPx: number; inView: boolean;
}

/** What a drawn timeline answers: a clickable span of a kind. */
export interface ViewProbe {
  /** The lanes of the last frame (the main timeline). */
  lanes?(): TimelineLaneInfo[];
  findSpan(kind?: SpanKindName): { xPx: number; yPx: number; spanId: number } | null;
  /** The shown finding's evidence outlined in the last frame: span ids and (non-span) store rows. */
  evidenceHighlights?(): { spanIds: number[]; rows: number[] };
  /** Where a task's lane is: its row in display order and whether all of it is inside the scroll box. */
  laneInView?(task: string): { laneRow: number; visible: boolean } | null;
  /** The lanes' tasks in display order, as last drawn. */
  laneTasks?(): string[];
}

/** What the locks view answers: a clickable wait and its holder. */
export interface LocksProbe {
  /** The locks view's time axis labels as last painted. */
  axisLabels?(): string[];
  findWait(): { xPx: number; yPx: number; spanId: number; holderSpanId: number } | null;
  /** The rows drawn last frame, top to bottom: lock headers and task rows (their labels). */
  rowLabels?(): string[];
}

/** What a view drew of the findings last frame: its severity markers and the shown finding's outlined evidence. */
export interface FindingOverlay {
  marks: { rule: string; severity: string; count: number; xPx: number }[];
  /** Store rows outlined (cache events; a lock view's outlined spans' begin rows). */
  evidenceRows: number[];
  /** Spans outlined (the locks view's holds and waits). */
  evidenceSpanIds: number[];
}

/** A view that draws findings (the cache view, the locks view). */
export interface FindingOverlayProbe {
  findingOverlay(): FindingOverlay;
}

/** What the cache plot drew last frame: markers per kind (merged ones counted), and its stale uses. */
export interface CachePlotProbe {
  drawn(): { nodeId: number; markersByKind: Record<string, number>; staleUsesDrawn: number; reasonLabels: string[] };
}

interface Probes {
  cachePlot?: CachePlotProbe;
  timeline?: ViewProbe;
  locks?: LocksProbe;
  locksFindings?: FindingOverlayProbe;
  cacheFindings?: FindingOverlayProbe;
}

let registry: WeakMap<object, Probes> | null = null;

/** Called by the test hooks: from now on views register their probes. */
export function enableProbes(): void {
  registry ??= new WeakMap();
}

/** Registers `probe` for `host`; returns its unregistration (call on dispose). */
export function registerProbe<K extends keyof Probes>(host: object, kind: K, probe: NonNullable<Probes[K]>): () => void {
  if (!registry) return () => {};
  let probes = registry.get(host);
  if (!probes) registry.set(host, (probes = {}));
  const p = probes;
  p[kind] = probe;
  return () => {
    if (p[kind] === probe) delete p[kind];
  };
}

/** The probe registered for `host`, or null (none drawn, or probes not enabled). */
export function probeOf<K extends keyof Probes>(host: object, kind: K): NonNullable<Probes[K]> | null {
  return registry?.get(host)?.[kind] ?? null;
}
