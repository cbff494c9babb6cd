import { describe, expect, it } from 'vitest';
import { ev } from '../../trace/testing/events.ts';
import type { Finding, RuleId } from '../../trace/checks/types.ts';
import { TimeScale } from '../../render/time-scale.ts';
import { asNodeId } from '../../trace/ids.ts';
import { derived } from '../testing-fixtures.ts';
import { cacheEvidence, cacheFindingMarks, cacheNodeOfFinding } from './findings.ts';

// Stream rows 0…5, in time order.
const EVENTS = [
  ev('cache_upsert', 100, 's/9', { nodeId: 4, mapOffsetBytes: 0, mapLenBytes: 65536 }),
  ev('cache_lookup', 200, 'r/1', { nodeId: 4, hit: true, posBytes: 32768 }),
  ev('iomap_map', 300, 'r/1', { nodeId: 4, source: 'cache', mapOffsetBytes: 8192, mapLenBytes: 4096 }),
  ev('iomap_map', 350, 'r/1', { nodeId: 4, source: 'reply', mapOffsetBytes: 0, mapLenBytes: 4096 }),
  ev('cache_inval', 600, 'kw/3', { nodeId: 4, posBytes: 0, lenBytes: 65536, reason: 'truncate' }),
  ev('cache_lookup', 700, 'r/2', { nodeId: 7, hit: false, posBytes: 0 }),
];

const finding = (rule: RuleId, tsNs: number, evidence: number[], severity: Finding['severity'] = 'warning'): Finding =>
  ({ rule, severity, explanation: '', tsNs, durNs: 0, evidence, figures: {} });

const scale = new TimeScale(0, 1000, 1000); // 1 px per ns
const yOf = (offsetBytes: number): number => offsetBytes / 1024;

describe('findings in the cache view', () => {
  const stale = finding('stale-mapping', 250, [1, 2, 3, 4]);
  const onSeven = finding('cache', 700, [5], 'error');
  const lock = finding('lock', 400, [1]); // a rule whose evidence is never the cache's

  it('marks a cache-rule finding on the inodes its cache evidence names, at its start', () => {
    const { store } = derived(EVENTS);
    const marks = (nodeId: number) => cacheFindingMarks([stale, onSeven, lock], store, 0, asNodeId(nodeId), scale)
      .map((m) => [m.finding.rule, m.xPx, m.severity]);
    expect(marks(4)).toEqual([['stale-mapping', 250, 'warning']]);
    expect(marks(7)).toEqual([['cache', 700, 'error']]);
    expect(marks(9)).toEqual([]);
    // Out of the range: no marker.
    expect(cacheFindingMarks([stale], store, 0, asNodeId(4), new TimeScale(300, 1000, 700))).toEqual([]);
  });

  it('places the shown finding\'s cache events of the inode: lookups and cached mappings at their offset, an invalidation full height', () => {
    const { store } = derived(EVENTS);
    // Row 3 is a mapping from the server's reply, not from the cache: not cache evidence.
    expect(cacheEvidence(stale, store, 0, asNodeId(4), scale, yOf)).toEqual([
      { row: 1, xPx: 200, yPx: 32 },
      { row: 2, xPx: 300, yPx: 8 },
      { row: 4, xPx: 600, yPx: Number.NaN },
    ]);
    expect(cacheEvidence(stale, store, 0, asNodeId(7), scale, yOf)).toEqual([]);
    expect(cacheEvidence(stale, store, 0, asNodeId(4), new TimeScale(250, 1000, 750), yOf).map((e) => e.row)).toEqual([2, 4]);
    expect(cacheNodeOfFinding(stale, store, 0)).toBe(4);
    expect(cacheNodeOfFinding(onSeven, store, 0)).toBe(7);
  });

  it('skips evidence evicted from the page and maps stream rows to store rows', () => {
    // A live page that evicted stream rows 0 and 1: store row r is stream row r + 2.
    const { store } = derived(EVENTS.slice(2));
    expect(cacheEvidence(stale, store, 2, asNodeId(4), scale, yOf)).toEqual([
      { row: 0, xPx: 300, yPx: 8 },
      { row: 2, xPx: 600, yPx: Number.NaN },
    ]);
    // A finding whose only cache evidence was evicted has no marker left on the inode.
    expect(cacheFindingMarks([finding('stale-mapping', 250, [1])], store, 2, asNodeId(4), scale)).toEqual([]);
    expect(cacheNodeOfFinding(finding('stale-mapping', 250, [0, 1]), store, 2)).toBeNull();
  });
});
