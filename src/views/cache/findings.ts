// Findings in the mapping-cache view (pure): severity markers on its time axis for the findings
// whose evidence includes a cache event of the shown inode, and where the shown finding's cache
// evidence sits in the offset × time plot (outlined there). Evidence rows are stream rows: store
// row = stream row − rowBase; a row below rowBase was evicted and is skipped.

import type { Finding, RuleId } from '../../trace/checks/types.ts';
import type { TraceStore } from '../../trace/store.ts';
import { ENUMS } from '../../trace/schema.ts';
import type { NodeId } from '../../trace/ids.ts';
import type { TimeScale } from '../../render/time-scale.ts';
import { findingMarks, type FindingMark } from '../finding-marks.ts';

/** Rules whose evidence can be cache events (docs/checks.md). */
const CACHE_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['stale-mapping', 'cache', 'uncached', 'alias-race']);
const SOURCE_CACHE = ENUMS.source.indexOf('cache');

/** Where a cache event puts its offset: the extent's start for an upsert or a mapping served from the cache. */
const OFFSET_KEY: Readonly<Record<string, string | null>> = {
  cache_lookup: 'posBytes', cache_upsert: 'mapOffsetBytes', cache_stale: 'posBytes', iomap_map: 'mapOffsetBytes',
  cache_inval: null, cache_drop: null, // whole-height bars, as the view draws them
};

/** Whether store row `row` is a cache event of `nodeId` (an iomap_map counts when the cache served it). */
export function isCacheEvidence(trace: TraceStore, row: number, nodeId: NodeId): boolean {
  const kind = trace.kindOf(row);
  if (!(kind in OFFSET_KEY)) return false;
  if (kind === 'iomap_map' && trace.numAt('source', row) !== SOURCE_CACHE) return false;
  return trace.nodeIdAt(row) === nodeId;
}

function hasCacheEvidence(f: Finding, trace: TraceStore, rowBase: number, nodeId: NodeId): boolean {
  for (const streamRow of f.evidence) {
    const row = streamRow - rowBase;
    if (row >= 0 && row < trace.length && isCacheEvidence(trace, row, nodeId)) return true;
  }
  return false;
}

/** Markers (at each finding's start) for the cache-rule findings with cache evidence of `nodeId` in the page. */
export function cacheFindingMarks(list: readonly Finding[], trace: TraceStore, rowBase: number, nodeId: NodeId, scale: TimeScale): FindingMark[] {
  // The time test first: a stale-mapping trace has a finding per racing step, most out of range.
  const here = list.filter((f) => CACHE_RULES.has(f.rule) && f.tsNs >= scale.startNs && f.tsNs <= scale.endNs
    && hasCacheEvidence(f, trace, rowBase, nodeId));
  return findingMarks(here, scale);
}

export interface CacheEvidenceMark {
  /** Store row. */
  row: number;
  xPx: number;
  /** Offset in plot px; NaN for an invalidation or a drop (drawn full height, as their markers). */
  yPx: number;
}

/** The shown finding's cache events of `nodeId` in range, placed in the plot (`yOf`: offset bytes → px). */
export function cacheEvidence(f: Finding, trace: TraceStore, rowBase: number, nodeId: NodeId, scale: TimeScale,
  yOf: (offsetBytes: number) => number): CacheEvidenceMark[] {
  const out: CacheEvidenceMark[] = [];
  for (const streamRow of f.evidence) {
    const row = streamRow - rowBase;
    if (row < 0 || row >= trace.length || !isCacheEvidence(trace, row, nodeId)) continue;
    const tsNs = trace.tsNs[row]!;
    if (tsNs < scale.startNs || tsNs > scale.endNs) continue;
    const key = OFFSET_KEY[trace.kindOf(row)];
    out.push({ row, xPx: scale.nsToPx(tsNs), yPx: key ? yOf(trace.numAt(key, row)) : Number.NaN });
  }
  return out;
}

/** The nodeid of the first cache event among `f`'s evidence in the page (the inode to show for it), or null. */
export function cacheNodeOfFinding(f: Finding, trace: TraceStore, rowBase: number): NodeId | null {
  for (const streamRow of f.evidence) {
    const row = streamRow - rowBase;
    if (row < 0 || row >= trace.length) continue;
    const nodeId = trace.nodeIdAt(row);
    if (nodeId !== 0 && isCacheEvidence(trace, row, nodeId)) return nodeId;
  }
  return null;
}
