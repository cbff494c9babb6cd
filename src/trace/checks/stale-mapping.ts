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
const NOT_A_DEST = new Set<number>([MapType.NOCACHE, MapType.RETRY_CACHE, MapType.PURE_OVERWRITE]);

type Change = 'inval' | 'upsert' | 'ioend';

interface Step {
  taskId: number; nodeId: number; beginRow: number; writeish: boolean;
  mapRow: number; mapTs: number; cached: boolean; cookie: number; mapLo: number; mapHi: number; mapType: number; mapDev: number; mapDelta: bigint;
  changeRow: number; changeTs: number; change: Change | null;
  staleRow: number;
}
interface Pending { step: Step; staleRow: number; staleTs: number; stalePos: number }
interface Hit {
  kind: 'stale-use' | 'no-validation' | 'no-refetch';
  nodeId: number; rows: number[]; tsNs: number; durNs: number; change: Change | null; cookie: number;
  validationSeen: boolean; cacheSeen: boolean; mapTs: number; changeTs: number; stalePos: number; ioEndBytes: number;
}

class StaleMappingChecker implements Checker {
  readonly rule = 'stale-mapping' as const;
  /** The open iomap step per task id. */
  private readonly steps = new Map<number, Step>();
  /** Open write-ish steps with a mapping, by nodeid: a change of the range is matched against them. */
  private readonly openByNode = new Map<number, Set<Step>>();
  /** A failed revalidation per task, until a new iomap_begin refetches (or the step's end shows it did not). */
  private readonly pending = new Map<number, Pending>();
  /** Nodeids the trace showed a cache lookup for (else the revision or server may have no cache). */
  private readonly cacheSeen = new Set<number>();
  private readonly hits: Hit[] = [];
  private validationSeen = false;

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
    const delta = (r: number) => ((BigInt(addrHi[r]!) << 32n) | BigInt(addrLo[r]!)) - BigInt(mapOff[r]!);
    for (let r = from; r < to; r++) {
      const k = kinds[r]!;
      const row = rowBase + r;
      const t = task[r]!;
      if (k === K.iomap_begin) {
        const n = nodeId[r]!;
        if (n === 0) continue;
        this.close(t);
        // A new step after a failed revalidation is the refetch when it covers the stale position.
        const p = this.pending.get(t);
        if (p) this.pending.delete(t);
        this.steps.set(t, {
          taskId: t, nodeId: n, beginRow: row, writeish: isWriteish(opflags[r]!),
          mapRow: -1, mapTs: 0, cached: false, cookie: 0, mapLo: 0, mapHi: 0, mapType: 0, mapDev: 0, mapDelta: 0n,
          changeRow: -1, changeTs: 0, change: null, staleRow: -1,
        });
      } else if (k === K.iomap_map) {
        const s = this.steps.get(t);
        if (!s || !s.writeish || s.nodeId !== nodeId[r]) continue;
        const fromCache = source[r] === SOURCE_CACHE && cookie[r] !== 0;
        const type = mapType[r]!;
        // The destination: a cache hit; else the reply's write slot unless PURE_OVERWRITE, else its read slot.
        // A later mapping row of the step replaces an earlier one (a cached HOLE a write cannot use is
        // followed by an upcall and a new lookup): changes count from the mapping the IO used.
        if (!fromCache && (NOT_A_DEST.has(type) || (slot[r] !== SLOT_WRITE && s.mapRow >= 0 && s.mapTs === ts[r]))) continue;
        const first = s.mapRow < 0;
        s.mapRow = row; s.mapTs = ts[r]!; s.cached = fromCache; s.cookie = fromCache ? cookie[r]! : 0;
        s.mapLo = mapOff[r]!; s.mapHi = mapOff[r]! + mapLen[r]!; s.mapType = type; s.mapDev = mapDev[r]!; s.mapDelta = delta(r);
        s.change = null; s.changeRow = -1;
        if (first) {
          let set = this.openByNode.get(s.nodeId);
          if (!set) { set = new Set(); this.openByNode.set(s.nodeId, set); }
          set.add(s);
        }
      } else if (k === K.cache_inval) {
        this.changed(nodeId[r]!, t, pos[r]!, pos[r]! + len[r]!, row, ts[r]!, 'inval', null);
      } else if (k === K.cache_upsert) {
        if (rejected[r] !== 0) continue;
        const type = mapType[r]!, dev = mapDev[r]!, d = delta(r);
        // An upsert that restates the step's own mapping changes nothing it relies on.
        this.changed(nodeId[r]!, t, mapOff[r]!, mapOff[r]! + mapLen[r]!, row, ts[r]!, 'upsert',
          (s) => s.mapType !== type || s.mapDev !== dev || ((type === MapType.MAPPED || type === MapType.UNWRITTEN) && s.mapDelta !== d));
      } else if (k === K.iomap_ioend) {
        if (error[r] !== 0 || written[r] === 0 || (ioendFlags[r]! & CHANGING_IOEND) === 0) continue;
        this.changed(nodeId[r]!, t, pos[r]!, pos[r]! + written[r]!, row, ts[r]!, 'ioend', null);
      } else if (k === K.cache_lookup) {
        this.cacheSeen.add(nodeId[r]!);
      } else if (k === K.cache_stale) {
        this.validationSeen = true;
        const s = this.steps.get(t);
        if (!s || s.nodeId !== nodeId[r]) continue;
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
        if (!s || s.nodeId !== nodeId[r]) continue;
        const p = this.pending.get(t);
        if (p && p.step === s && pos[r]! + processed[r]! > p.stalePos) this.noRefetch(p, row, ts[r]!, pos[r]! + processed[r]!);
        this.close(t, row, ts[r]!);
      }
    }
  }

  /** Another task changed [lo, hi) of nodeid n: the first such change is kept per open step. */
  private changed(n: number, t: number, lo: number, hi: number, row: number, tsNs: number, change: Change, differs: ((s: Step) => boolean) | null): void {
    const set = this.openByNode.get(n);
    if (!set) return;
    for (const s of set) {
      if (s.change !== null || s.taskId === t || !(lo < s.mapHi && s.mapLo < hi)) continue;
      if (differs !== null && !differs(s)) continue;
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

  private close(t: number, endRow = -1, endTs = 0): void {
    const s = this.steps.get(t);
    if (!s) return;
    this.steps.delete(t);
    if (s.mapRow < 0) return;
    this.openByNode.get(s.nodeId)?.delete(s);
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
