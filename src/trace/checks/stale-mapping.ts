// stale-mapping (docs/checks.md): IO through a mapping that no longer says where the data is — the
// race the validity cookie closes (docs/domain.md §2.6): writeback and ioend completion change mappings
// without i_rwsem, and a writer that keeps a stale UNWRITTEN mapping zeroes folios that now hold data.
// Kinds of finding:
//  - stale-use: a write-ish step whose mapping came from the kernel's cache (cookie ≠ 0) ran on while
//    another task changed the range it covers (cache_inval, a differing cache_upsert, an UNWRITTEN or
//    SHARED ioend), with no failed revalidation (cache_stale) on its task: warning until the trace
//    has shown a revalidation fail anywhere (validation may be off), info after (the step may simply
//    have finished the range before the change: the trace has no per-folio timing).
//  - no-validation: the same with a mapping from the server's BEGIN reply: cookie 0, which the kernel
//    never revalidates (§2.6, §3.3), so nothing could have caught it: the step may have used a stale mapping.
//  - no-refetch: a revalidation failed (cache_stale) and the step's IO went on past that point with
//    the stale mapping instead of a new iomap_begin for the rest (the kernel ends the iteration short).
// Streaming: everything is copied out of the store in onRows; rows are stream rows (rowBase + r).
import { KIND_CODE, ENUMS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { IoendFlag, MapType, isWriteish } from '../fuse-proto.ts';
import type { Checker, Finding, RuleInfo, Unknown } from './types.ts';
import { fmtNs, rowSet } from './text.ts';

const K = KIND_CODE;
const SOURCE_CACHE = ENUMS.source.indexOf('cache');
const SLOT_WRITE = ENUMS.slot.indexOf('write');
/** ioend flags after which the range's mapping is different: unwritten converted, staging remapped (§1.9, §2.5). */
const CHANGING_IOEND = IoendFlag.UNWRITTEN | IoendFlag.SHARED;
/** By map type (a u8 column): 1 for the types a step's IO never goes through. */
const NOT_A_DEST = new Uint8Array(256);
for (const t of [MapType.NOCACHE, MapType.RETRY_CACHE, MapType.PURE_OVERWRITE]) NOT_A_DEST[t] = 1;
const TWO_32 = 0x1_0000_0000;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A mapping's address minus its file offset (where the file's bytes sit on the device), exactly:
 * a number whenever the value is a safe integer, else a bigint, so two equal placements are always
 * `===`. Mappings with a real address (below 2^53) take the number path, with no BigInt made per
 * mapping row; the null address of a hole takes the BigInt path. An offset that is no integer
 * throws here, as BigInt(offset) always did.
 */
function placement(hi: number, lo: number, off: number): number | bigint {
  if (hi >= 0 && hi < 0x20_0000 && lo >= 0 && lo < TWO_32 && Number.isSafeInteger(off)) {
    // addr < 2^53 is exact; the difference of two safe integers is exact whenever it is itself safe.
    const d = hi * TWO_32 + lo - off;
    if (Number.isSafeInteger(d)) return d;
  }
  const d = ((BigInt(hi) << 32n) | BigInt(lo)) - BigInt(off);
  return d >= -MAX_SAFE && d <= MAX_SAFE ? Number(d) : d;
}

type Change = 'inval' | 'upsert' | 'ioend';

/**
 * A task's iomap step. One object per task, reset by each iomap_begin (`open` until the step ends
 * or the next begin cuts it): no object and no Map set/delete per step.
 */
interface Step {
  open: boolean;
  /** Its index in openByNode's list of its nodeid while it is there, else -1. */
  slot: number;
  taskId: number; nodeId: number; beginRow: number; writeish: boolean;
  mapRow: number; mapTs: number; cached: boolean; cookie: number; mapLo: number; mapHi: number; mapType: number; mapDev: number; mapPlacement: number | bigint;
  changeRow: number; changeTs: number; change: Change | null;
  staleRow: number;
}
function newStep(taskId: number): Step {
  return {
    open: false, slot: -1, taskId, nodeId: 0, beginRow: -1, writeish: false,
    mapRow: -1, mapTs: 0, cached: false, cookie: 0, mapLo: 0, mapHi: 0, mapType: 0, mapDev: 0, mapPlacement: 0,
    changeRow: -1, changeTs: 0, change: null, staleRow: -1,
  };
}
interface Pending { step: Step; staleRow: number; staleTs: number; stalePos: number }
interface Hit {
  kind: 'stale-use' | 'no-validation' | 'no-refetch';
  nodeId: number; rows: number[]; tsNs: number; durNs: number; change: Change | null; cookie: number;
  validationSeen: boolean; cacheSeen: boolean; mapTs: number; changeTs: number; stalePos: number; ioEndBytes: number;
}

class StaleMappingChecker implements Checker {
  readonly rule = 'stale-mapping' as const;
  /** The iomap step per task id (`open` while it runs). */
  private readonly steps = new Map<number, Step>();
  /** Open write-ish steps with a mapping, by nodeid, in no particular order: a change of the range is matched against each. */
  private readonly openByNode = new Map<number, Step[]>();
  /** A failed revalidation per task, until a new iomap_begin refetches (or the step's end shows it did not). */
  private readonly pending = new Map<number, Pending>();
  /** Nodeids the trace showed a cache lookup for (else the revision or server may have no cache). */
  private readonly cacheSeen = new Set<number>();
  private readonly hits: Hit[] = [];
  private validationSeen = false;
  /** The nodeid last added to cacheSeen: most lookups repeat it, and the set only grows. */
  private lastCacheSeen = -1;

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const task = store.col('task');
    const nodeId = store.col('nodeId');
    const opflags = store.col('opflags');
    const source = store.col('source');
    const slot = store.col('slot');
    const cookie = store.col('cookie');
    const mapType = store.col('mapType');
    const mapDev = store.col('mapDev');
    const addrHi = store.col('mapAddrHi');
    const addrLo = store.col('mapAddrLo');
    const mapOff = store.col('mapOffsetBytes');
    const mapLen = store.col('mapLenBytes');
    const pos = store.col('posBytes');
    const len = store.col('lenBytes');
    const processed = store.col('processedBytes');
    const written = store.col('writtenBytes');
    const ioendFlags = store.col('ioendFlags');
    const error = store.col('error');
    const rejected = store.col('rejected');
    for (let r = from; r < to; r++) {
      const k = kinds[r]!;
      const row = rowBase + r;
      const t = task[r]!;
      if (k === K.iomap_begin) {
        const n = nodeId[r]!;
        if (n === 0) continue;
        let s = this.steps.get(t);
        if (s !== undefined && s.open) this.close(s);
        // A new step after a failed revalidation is the refetch when it covers the stale position.
        if (this.pending.size !== 0) this.pending.delete(t);
        if (s === undefined) this.steps.set(t, (s = newStep(t)));
        s.open = true; s.nodeId = n; s.beginRow = row; s.writeish = isWriteish(opflags[r]!);
        s.mapRow = -1; s.mapTs = 0; s.cached = false; s.cookie = 0; s.mapLo = 0; s.mapHi = 0; s.mapType = 0; s.mapDev = 0; s.mapPlacement = 0;
        s.changeRow = -1; s.changeTs = 0; s.change = null; s.staleRow = -1;
      } else if (k === K.iomap_map) {
        const s = this.steps.get(t);
        if (!s || !s.open || !s.writeish || s.nodeId !== nodeId[r]) continue;
        const fromCache = source[r] === SOURCE_CACHE && cookie[r] !== 0;
        const type = mapType[r]!;
        // The destination: a cache hit; else the reply's write slot unless PURE_OVERWRITE, else its read slot.
        // A later mapping row of the step replaces an earlier one (a cached HOLE a write cannot use is
        // followed by an upcall and a new lookup): changes count from the mapping the IO used.
        if (!fromCache && (NOT_A_DEST[type] === 1 || (slot[r] !== SLOT_WRITE && s.mapRow >= 0 && s.mapTs === ts[r]))) continue;
        const first = s.mapRow < 0;
        s.mapRow = row; s.mapTs = ts[r]!; s.cached = fromCache; s.cookie = fromCache ? cookie[r]! : 0;
        s.mapLo = mapOff[r]!; s.mapHi = mapOff[r]! + mapLen[r]!; s.mapType = type; s.mapDev = mapDev[r]!; s.mapPlacement = placement(addrHi[r]!, addrLo[r]!, mapOff[r]!);
        s.change = null; s.changeRow = -1;
        if (first) {
          let list = this.openByNode.get(s.nodeId);
          if (!list) this.openByNode.set(s.nodeId, (list = []));
          s.slot = list.length;
          list.push(s);
        }
      } else if (k === K.cache_inval) {
        this.changed(nodeId[r]!, t, pos[r]!, pos[r]! + len[r]!, row, ts[r]!, 'inval', -1, 0, 0);
      } else if (k === K.cache_upsert) {
        if (rejected[r] !== 0) continue;
        this.changed(nodeId[r]!, t, mapOff[r]!, mapOff[r]! + mapLen[r]!, row, ts[r]!, 'upsert',
          mapType[r]!, mapDev[r]!, placement(addrHi[r]!, addrLo[r]!, mapOff[r]!));
      } else if (k === K.iomap_ioend) {
        if (error[r] !== 0 || written[r] === 0 || (ioendFlags[r]! & CHANGING_IOEND) === 0) continue;
        this.changed(nodeId[r]!, t, pos[r]!, pos[r]! + written[r]!, row, ts[r]!, 'ioend', -1, 0, 0);
      } else if (k === K.cache_lookup) {
        const n = nodeId[r]!;
        if (n !== this.lastCacheSeen) { this.cacheSeen.add(n); this.lastCacheSeen = n; }
      } else if (k === K.cache_stale) {
        this.validationSeen = true;
        const s = this.steps.get(t);
        if (!s || !s.open || s.nodeId !== nodeId[r]) continue;
        const p = this.pending.get(t);
        if (p && p.step === s && pos[r]! > p.stalePos) {
          // The step revalidated a later folio after failing one: it went on with the stale mapping.
          this.noRefetch(p, row, ts[r]!, pos[r]!);
          continue;
        }
        if (s.staleRow < 0) s.staleRow = row;
        if (!p) this.pending.set(t, { step: s, staleRow: row, staleTs: ts[r]!, stalePos: pos[r]! });
      } else if (k === K.iomap_iter_end) {
        const s = this.steps.get(t);
        if (!s || !s.open || s.nodeId !== nodeId[r]) continue;
        const p = this.pending.size === 0 ? undefined : this.pending.get(t);
        if (p && p.step === s && pos[r]! + processed[r]! > p.stalePos) this.noRefetch(p, row, ts[r]!, pos[r]! + processed[r]!);
        this.close(s, row, ts[r]!);
      }
    }
  }

  /**
   * Another task changed [lo, hi) of nodeid n: the first such change is kept per open step. An
   * upsert (`type` ≥ 0, with its device and placement) that restates the step's own mapping changes
   * nothing it relies on. Values, not a closure: this runs for every upsert.
   */
  private changed(n: number, t: number, lo: number, hi: number, row: number, tsNs: number, change: Change,
    type: number, dev: number, place: number | bigint): void {
    const list = this.openByNode.get(n);
    if (!list) return;
    const placed = type === MapType.MAPPED || type === MapType.UNWRITTEN;
    // Each open step is judged on its own: the order does not matter.
    for (const s of list) {
      if (s.change !== null || s.taskId === t || !(lo < s.mapHi && s.mapLo < hi)) continue;
      if (type >= 0 && s.mapType === type && s.mapDev === dev && (!placed || s.mapPlacement === place)) continue;
      s.change = change; s.changeRow = row; s.changeTs = tsNs;
    }
  }

  private noRefetch(p: Pending, row: number, tsNs: number, ioEndBytes: number): void {
    this.pending.delete(p.step.taskId);
    const s = p.step;
    this.hits.push({
      kind: 'no-refetch', nodeId: s.nodeId, rows: rowSet([s.beginRow, s.mapRow, p.staleRow, row]), tsNs: p.staleTs, durNs: tsNs - p.staleTs,
      change: null, cookie: s.cookie, validationSeen: true, cacheSeen: true, mapTs: s.mapTs, changeTs: p.staleTs, stalePos: p.stalePos, ioEndBytes,
    });
  }

  /** Step `s` (open) ends at stream row `endRow`, or is cut by its task's next begin (-1). */
  private close(s: Step, endRow = -1, endTs = 0): void {
    s.open = false;
    if (s.mapRow < 0) return;
    // Out of its nodeid's list: the last step takes its place.
    const list = this.openByNode.get(s.nodeId)!;
    const last = list.pop()!;
    if (last !== s) { list[s.slot] = last; last.slot = s.slot; }
    s.slot = -1;
    // A step cut by a new begin without its end is not judged: its end is not in the trace.
    if (endRow < 0 || s.change === null || s.staleRow >= 0) return;
    this.hits.push({
      kind: s.cached ? 'stale-use' : 'no-validation', nodeId: s.nodeId, rows: rowSet([s.beginRow, s.mapRow, s.changeRow, endRow]),
      tsNs: s.changeTs, durNs: endTs - s.changeTs, change: s.change, cookie: s.cookie, validationSeen: this.validationSeen,
      cacheSeen: this.cacheSeen.has(s.nodeId), mapTs: s.mapTs, changeTs: s.changeTs, stalePos: -1, ioEndBytes: -1,
    });
  }

  findings(): Finding[] {
    return this.hits.map((h) => {
      const what = h.change === 'inval' ? 'invalidated the cached range (cache_inval)'
        : h.change === 'upsert' ? 'upserted a different mapping over it (cache_upsert)'
          : 'completed an ioend over it that converts or remaps the extent (UNWRITTEN or SHARED)';
      const race = 'Writeback and ioend completion change mappings without i_rwsem, and a writer that keeps a stale UNWRITTEN ' +
        'mapping zeroes folios that now hold data (docs/domain.md §2.6).';
      let severity: Finding['severity'];
      let explanation: string;
      const figures: Finding['figures'] = { nodeId: h.nodeId, kind: h.kind, change: h.change, cookie: h.cookie, validationSeen: h.validationSeen };
      if (h.kind === 'no-refetch') {
        severity = 'error';
        explanation = `stale-mapping: a write-ish iomap step on nodeid ${h.nodeId} found its cached mapping stale at byte ${h.stalePos} ` +
          `(fuse_iomap_invalid: the cookie no longer matched the cache's sequence), yet its IO went on to byte ${h.ioEndBytes} with that mapping ` +
          'instead of ending short and asking for a new one (a new iomap_begin: a cache lookup or a FUSE_IOMAP_BEGIN). On a failed revalidation ' +
          `the kernel marks the mapping stale, ends the iteration and maps the rest again (§2.6). ${race}`;
        Object.assign(figures, { stalePosBytes: h.stalePos, ioEndBytes: h.ioEndBytes });
      } else if (h.kind === 'stale-use') {
        severity = h.validationSeen ? 'info' : 'warning';
        explanation = `stale-mapping: a write-ish iomap step on nodeid ${h.nodeId} took a mapping from the kernel's cache (cookie ${h.cookie}), and ` +
          `${fmtNs(h.changeTs - h.mapTs)} later, while the step was still running, another task ${what}; the step went on to its end with no ` +
          `failed revalidation (fuse_iomap_invalid) on its task. The validity cookie exists for this: ${race} ` +
          (h.validationSeen
            ? 'This trace has shown failed revalidations before, so cookie validation is on and the step may have finished the range before the change: info.'
            : 'The trace has shown no failed revalidation so far although a cached mapping\'s range changed under it: cookie validation may be off (RFC v1 has none, or it was turned off), so the step may have used a stale mapping.');
      } else {
        severity = 'warning';
        explanation = `stale-mapping: a write-ish iomap step on nodeid ${h.nodeId} used the mapping of the server's FUSE_IOMAP_BEGIN reply, and ` +
          `${fmtNs(h.changeTs - h.mapTs)} later, while the step was still running, another task ${what}. A mapping from a reply carries cookie 0 ` +
          '(always valid), which the kernel never revalidates (§2.6, §3.3): no cookie validation protects this step, so it may have gone on with a ' +
          `stale mapping. ${race} ` +
          (h.cacheSeen
            ? 'The trace shows cache lookups for this nodeid, so the server answered this step without filling the cache.'
            : 'The trace shows no cache lookup for this nodeid: the revision may have no mapping cache (RFC v1 has none), or the server may not fill it.');
        figures.cacheSeen = h.cacheSeen;
      }
      return { rule: this.rule, severity, explanation, tsNs: h.tsNs, durNs: h.durNs, evidence: h.rows, figures };
    });
  }

  unknowns(): Unknown[] {
    const n = this.pending.size;
    return n === 0 ? [] : [{ rule: this.rule, count: n, what: 'failed revalidations (cache_stale) whose refetch the trace does not show yet: no new iomap_begin on the task after the step ended short' }];
  }
}

export const staleMappingRule: RuleInfo = {
  id: 'stale-mapping',
  title: 'IO through a mapping another task changed (cache, upsert, ioend), a failed revalidation not refetched, or no cookie validation at all',
  create: () => new StaleMappingChecker(),
};
