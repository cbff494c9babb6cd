// stale-mapping (docs/checks.md): a write-ish iomap step that kept using a mapping from the kernel's
// cache after an invalidation changed the range it covers, with no revalidation (cache_stale) on its
// task before the step ended: the race the validity cookie closes (docs/domain.md §2.6). Once the
// trace has shown a revalidation fail anywhere, the cookie check is known to be on, and such a step
// may simply have finished the range before the invalidation: info. Before that, a warning.
import { KIND_CODE, ENUMS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { isWriteish } from '../fuse-proto.ts';
import type { Checker, Finding, RuleInfo } from './types.ts';
import { fmtNs, rowSet } from './text.ts';

const K = KIND_CODE;
const SOURCE_CACHE = ENUMS.source.indexOf('cache');

// Rows are stream rows; the times and tasks later rows need are copied (the store may be gone).
interface Step { task: number; beginRow: number; nodeId: number; writeish: boolean; mapRow: number; mapNs: number; mapLo: number; mapHi: number; invalRow: number; invalNs: number; staleRow: number }
interface Hit { beginRow: number; mapRow: number; mapNs: number; invalRow: number; invalNs: number; endRow: number; endNs: number; nodeId: number; validationSeen: boolean }

class StaleMappingChecker implements Checker {
  readonly rule = 'stale-mapping' as const;
  private readonly steps = new Map<number, Step>();
  /** Open write-ish steps using a cached mapping, by nodeid (an invalidation is matched against them). */
  private readonly openByNode = new Map<number, Set<Step>>();
  private readonly hits: Hit[] = [];
  private validationSeen = false;

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const ts = store.tsNs;
    const kinds = store.kinds;
    const task = store.col('task');
    const nodeId = store.col('nodeId');
    const opflags = store.col('opflags');
    const source = store.col('source');
    const cookie = store.col('cookie');
    const mapOff = store.col('mapOffsetBytes');
    const mapLen = store.col('mapLenBytes');
    const pos = store.col('posBytes');
    const len = store.col('lenBytes');
    for (let row = from; row < to; row++) {
      const k = kinds[row]!;
      if (k === K.iomap_begin) {
        const n = nodeId[row]!;
        if (n === 0) continue;
        this.close(task[row]!);
        this.steps.set(task[row]!, { task: task[row]!, beginRow: rowBase + row, nodeId: n, writeish: isWriteish(opflags[row]!), mapRow: -1, mapNs: 0, mapLo: 0, mapHi: 0, invalRow: -1, invalNs: 0, staleRow: -1 });
      } else if (k === K.iomap_map) {
        const s = this.steps.get(task[row]!);
        if (!s || !s.writeish || s.nodeId !== nodeId[row] || source[row] !== SOURCE_CACHE || cookie[row] === 0 || s.mapRow >= 0) continue;
        s.mapRow = rowBase + row; s.mapNs = ts[row]!; s.mapLo = mapOff[row]!; s.mapHi = mapOff[row]! + mapLen[row]!;
        let set = this.openByNode.get(s.nodeId);
        if (!set) { set = new Set(); this.openByNode.set(s.nodeId, set); }
        set.add(s);
      } else if (k === K.cache_inval) {
        const set = this.openByNode.get(nodeId[row]!);
        if (!set) continue;
        const lo = pos[row]!, hi = lo + len[row]!;
        for (const s of set) if (s.invalRow < 0 && lo < s.mapHi && s.mapLo < hi && s.task !== task[row]) { s.invalRow = rowBase + row; s.invalNs = ts[row]!; }
      } else if (k === K.cache_stale) {
        this.validationSeen = true;
        const s = this.steps.get(task[row]!);
        if (s && s.nodeId === nodeId[row]) s.staleRow = rowBase + row;
      } else if (k === K.iomap_iter_end) {
        const s = this.steps.get(task[row]!);
        if (s && s.nodeId === nodeId[row]) this.close(task[row]!, rowBase + row, ts[row]!);
      }
    }
  }

  private close(t: number, endRow = -1, endNs = 0): void {
    const s = this.steps.get(t);
    if (!s) return;
    this.steps.delete(t);
    if (s.mapRow < 0) return;
    this.openByNode.get(s.nodeId)?.delete(s);
    // A step cut by a new begin without its end is not judged: its end is not in the trace.
    if (endRow >= 0 && s.invalRow >= 0 && s.staleRow < 0) {
      this.hits.push({ beginRow: s.beginRow, mapRow: s.mapRow, mapNs: s.mapNs, invalRow: s.invalRow, invalNs: s.invalNs, endRow, endNs, nodeId: s.nodeId, validationSeen: this.validationSeen });
    }
  }

  findings(): Finding[] {
    return this.hits.map((h) => ({
      rule: this.rule, severity: h.validationSeen ? 'info' as const : 'warning' as const,
      explanation: `stale-mapping: a write-ish iomap step on nodeid ${h.nodeId} took a mapping from the kernel's cache, and ` +
        `${fmtNs(h.invalNs - h.mapNs)} later, while the step was still running, another task invalidated the cached range; ` +
        'the step went on to its end with no failed revalidation (fuse_iomap_invalid) on its task. The validity cookie exists for this: ' +
        'writeback and ioend completion change mappings without i_rwsem, and a writer that keeps a stale UNWRITTEN mapping zeroes ' +
        'folios that now hold data (docs/domain.md §2.6). ' +
        (h.validationSeen
          ? 'This trace has shown failed revalidations before, so cookie validation is on and the step may have finished the range before the invalidation: info.'
          : 'The trace has shown no failed revalidation so far: cookie validation may be off (RFC v1 has none), so the step may have used a stale mapping.'),
      tsNs: h.invalNs, durNs: h.endNs - h.invalNs,
      evidence: rowSet([h.beginRow, h.mapRow, h.invalRow, h.endRow]),
      figures: { nodeId: h.nodeId, validationSeen: h.validationSeen },
    }));
  }
}

export const staleMappingRule: RuleInfo = {
  id: 'stale-mapping',
  title: 'a write that kept a cached mapping across an invalidation of its range with no revalidation',
  create: () => new StaleMappingChecker(),
};
