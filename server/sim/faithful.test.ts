// The issue-#3 invariants, checked on every built-in scenario (docs/domain.md §1.5, §2.6,
// §3, §6): lock exclusion per fuse_inode, END/IOEND exactly when due, mappings agree with the
// server's extent map, cache hits only on a valid covering entry, stale mappings never used with
// cookies on (and used, and reported, with them off), no upcalls on the ext4 baseline,
// determinism, and a bounded 1M-event run.

import { describe, expect, it } from 'vitest';
import { IoendFlag, MapFlag, MapType, Opcode, isWriteish } from '../../src/trace/fuse-proto.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { accountRun } from '../../src/trace/accounting.ts';
import { SCENARIOS, Simulation, type ScenarioSpec } from './index.ts';

const EVENTS_PER_SCENARIO = 25_000;

interface Run { evs: TraceEvent[]; sim: Simulation }
const runs = new Map<string, Run>();
function runOf(name: string, events = EVENTS_PER_SCENARIO): Run {
  const key = `${name}/${events}`;
  let r = runs.get(key);
  if (!r) {
    const sim = new Simulation(SCENARIOS[name]!, { seed: 5, checkMappings: true });
    const evs: TraceEvent[] = [];
    sim.runEvents(events, (e) => evs.push(e));
    runs.set(key, (r = { evs, sim }));
  }
  return r;
}
const of = <K extends TraceEvent['kind']>(evs: TraceEvent[], kind: K) => evs.filter((e): e is EventOf<K> => e.kind === kind);
const isBaseline = (name: string) => SCENARIOS[name]!.backend === 'kernel-ext4';
/** Scenarios whose files all run the classic FUSE_READ/FUSE_WRITE path (no iomap, §1.10): no mappings to check. */
const CLASSIC_ONLY = new Set(['hardlink-alias-race-v7']);
const NAMES = Object.keys(SCENARIOS);

/** Lock replay per (lock, nodeId): returns violations of rwsem exclusion. */
function lockViolations(evs: TraceEvent[]): string[] {
  const st = new Map<string, { readers: Map<string, number>; writer: string | null }>();
  const out: string[] = [];
  for (const e of evs) {
    if (e.kind !== 'lock_acquire' && e.kind !== 'lock_release') continue;
    const key = `${e.lock}:${e.nodeId}`;
    let s = st.get(key);
    if (!s) st.set(key, (s = { readers: new Map(), writer: null }));
    if (e.kind === 'lock_acquire') {
      if (s.writer !== null) out.push(`${e.tsNs} ${e.task} ${e.mode} ${key} while ${s.writer} holds W`);
      if (e.mode === 'W') {
        if (s.readers.size > 0) out.push(`${e.tsNs} ${e.task} W ${key} while readers hold it`);
        s.writer = e.task;
      } else s.readers.set(e.task, (s.readers.get(e.task) ?? 0) + 1);
    } else if (e.mode === 'W') {
      if (s.writer !== e.task) out.push(`${e.tsNs} ${e.task} releases W ${key} it does not hold`);
      s.writer = null;
    } else {
      const n = s.readers.get(e.task) ?? 0;
      if (n === 0) out.push(`${e.tsNs} ${e.task} releases R ${key} it does not hold`);
      else if (n === 1) s.readers.delete(e.task);
      else s.readers.set(e.task, n - 1);
    }
  }
  return out;
}

describe.each(NAMES)('scenario %s', (name) => {
  it('never two writers, or readers with a writer, on one fuse_inode lock', () => {
    const { evs } = runOf(name);
    expect(lockViolations(evs)).toEqual([]);
    expect(of(evs, 'app_op_end').length).toBeGreaterThan(20);
  });

  it('sends IOMAP_END exactly when due (§1.5) and IOMAP_IOEND exactly per the rule', () => {
    const { evs } = runOf(name);
    const open = new Map<string, { begin: EventOf<'iomap_begin'>; end?: EventOf<'iomap_end'> }>();
    const lastByTask = new Map<string, TraceEvent>();
    for (const e of evs) {
      if (e.kind === 'iomap_begin') open.set(e.task, { begin: e });
      if (e.kind === 'iomap_end') {
        const it = open.get(e.task)!;
        it.end = e;
        const due = (e.mapFlags & MapFlag.WANT_IOMAP_END) !== 0 ||
          (isWriteish(e.opflags) && (e.writtenBytes < e.lenBytes || (e.mapFlags & MapFlag.SIZE_CHANGED) !== 0));
        expect(due).toBe(true);
        expect(e.mapType).not.toBe(MapType.INLINE);
      }
      if (e.kind === 'iomap_iter_end') {
        const it = open.get(e.task);
        // A short write-ish iteration (stale cookie) must have told the server (written < count).
        if (!isBaseline(name) && it && e.error === 0 && e.processedBytes < e.lenBytes && isWriteish(it.begin.opflags)) {
          expect(it.end, `${name} short iteration without END at ${e.tsNs}`).toBeDefined();
        }
        open.delete(e.task);
      }
      if (e.kind === 'iomap_ioend') {
        const rule = e.error !== 0 || (e.writtenBytes > 0 && (e.ioendFlags & (IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.APPEND)) !== 0);
        expect(e.sent).toBe(rule);
      }
      if (e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_END) expect(lastByTask.get(e.task)?.kind).toBe('iomap_end');
      if (e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_IOEND) {
        const prev = lastByTask.get(e.task);
        expect(prev?.kind === 'iomap_ioend' && prev.sent).toBe(true);
      }
      lastByTask.set(e.task, e);
    }
    // Each END/IOEND trace event is followed by its send in the same step; only the run's cut-off
    // can separate them (at most one per task).
    const sends = of(evs, 'fuse_send');
    const taskCount = new Set(evs.map((e) => e.task)).size;
    const endGap = of(evs, 'iomap_end').length - sends.filter((s) => s.opcode === Opcode.IOMAP_END).length;
    const ioendGap = of(evs, 'iomap_ioend').filter((e) => e.sent).length - sends.filter((s) => s.opcode === Opcode.IOMAP_IOEND).length;
    expect(endGap).toBeGreaterThanOrEqual(0);
    expect(endGap).toBeLessThanOrEqual(taskCount);
    expect(ioendGap).toBeGreaterThanOrEqual(0);
    expect(ioendGap).toBeLessThanOrEqual(taskCount);
  });

  it('every mapping the kernel uses agrees with the server extent map at that moment', () => {
    const { sim } = runOf(name);
    const mc = sim.mappingCheck;
    if (CLASSIC_ONLY.has(name)) { expect(mc.checked).toBe(0); return; } // the kernel never maps a classic file
    expect(mc.checked).toBeGreaterThan(50);
    // Under per-path nodeids the alias's cache is never told about the other alias's changes:
    // that disagreement is the §5.3 bug the scenario demonstrates.
    if (SCENARIOS[name]!.policy === 'per-path') return;
    expect(mc.disagreements).toEqual([]);
  });

  it('a cache hit only when a valid entry covers pos (replayed from cache events)', () => {
    const { evs } = runOf(name);
    type Rec = { off: number; end: number; type: number; addrAt0: bigint };
    const forks = new Map<string, Rec[]>();
    const seq = new Map<number, number>();
    const recsOf = (nodeId: number, fork: string) => {
      const k = `${nodeId}:${fork}`;
      let r = forks.get(k);
      if (!r) forks.set(k, (r = []));
      return r;
    };
    const cut = (recs: Rec[], s: number, e: number) => {
      const out: Rec[] = [];
      for (const r of recs) {
        if (r.end <= s || r.off >= e) { out.push(r); continue; }
        if (r.off < s) out.push({ ...r, end: s });
        if (r.end > e) out.push({ ...r, off: e });
      }
      return out.sort((a, b) => a.off - b.off);
    };
    let hits = 0;
    for (const e of evs) {
      if (e.kind === 'cache_upsert') {
        const k = `${e.nodeId}:${e.fork}`;
        const addrAt0 = e.mapAddr === 0xffff_ffff_ffff_ffffn ? -1n : e.mapAddr - BigInt(e.mapOffsetBytes);
        forks.set(k, [...cut(recsOf(e.nodeId, e.fork), e.mapOffsetBytes, e.mapOffsetBytes + e.mapLenBytes),
          { off: e.mapOffsetBytes, end: e.mapOffsetBytes + e.mapLenBytes, type: e.mapType, addrAt0 }].sort((a, b) => a.off - b.off));
        seq.set(e.nodeId, e.seq);
      }
      if (e.kind === 'cache_inval') {
        forks.set(`${e.nodeId}:${e.fork}`, cut(recsOf(e.nodeId, e.fork), e.posBytes, e.posBytes + e.lenBytes));
        seq.set(e.nodeId, e.seq);
      }
      if (e.kind === 'cache_drop') forks.set(`${e.nodeId}:${e.fork}`, []);
      if (e.kind === 'cache_lookup' && e.hit) {
        hits++;
        const r = recsOf(e.nodeId, e.fork).find((x) => x.off <= e.posBytes && e.posBytes < x.end);
        expect(r, `${name}: hit at ${e.posBytes} with no covering entry`).toBeDefined();
        expect(e.mapType).toBe(r!.type);
        expect(e.mapOffsetBytes <= e.posBytes && e.posBytes < e.mapOffsetBytes + e.mapLenBytes).toBe(true);
        if (r!.addrAt0 >= 0n) expect(e.mapAddr - BigInt(e.mapOffsetBytes)).toBe(r!.addrAt0);
        expect(e.cookie).toBe(seq.get(e.nodeId));
      }
    }
    const rev = SCENARIOS[name]!.revision;
    if (CLASSIC_ONLY.has(name)) expect(hits).toBe(0); // no iomap, no mapping cache
    else if (!isBaseline(name) && rev !== 'rfc-v1' && SCENARIOS[name]!.serverCache !== false) expect(hits).toBeGreaterThan(0);
    else expect(hits).toBe(0);
  });

  it(SCENARIOS[name]!.cookieValidation === false ? 'uses stale mappings (cookies off) and says so' : 'never uses a stale mapping (cookies on)', () => {
    const { evs, sim } = runOf(name);
    const used = evs.filter((e) => e.kind === 'instant' && e.name === 'stale_mapping_used');
    if (SCENARIOS[name]!.cookieValidation === false) {
      expect(sim.staleMappingsUsed).toBeGreaterThan(0);
      expect(used.length).toBe(sim.staleMappingsUsed);
      expect(used.every((e) => e.kind === 'instant' && /cookie \d+ ic_seq \d+/.test(e.text))).toBe(true);
      expect(of(evs, 'cache_stale')).toEqual([]);
    } else {
      expect(sim.staleMappingsUsed).toBe(0);
      expect(used).toEqual([]);
    }
  });

  if (isBaseline(name)) {
    it('the kernel-ext4 baseline sends no upcalls at all', () => {
      const { evs } = runOf(name);
      expect(of(evs, 'fuse_send')).toEqual([]);
      expect(of(evs, 'iomap_map')).toEqual([]);
      expect(of(evs, 'iomap_begin').length).toBeGreaterThan(10);
    });
  }
});

describe('scenario shapes (§2.6, §3, §7)', () => {
  const acct = (name: string) => {
    const store = new TraceStore();
    store.appendAll(runOf(name).evs);
    return accountRun(store);
  };
  it('stale-mapping-checked detects the stale cookies the unchecked run uses', () => {
    expect(of(runOf('stale-mapping-checked').evs, 'cache_stale').length).toBeGreaterThan(10);
  });
  it('the v7 cache cuts BEGIN upcalls per MiB by an order of magnitude', () => {
    const off = acct('cache-hit-miss-nocache'), on = acct('cache-hit-miss');
    expect(off.cacheHitRate).toBeNull();
    expect(on.cacheHitRate!).toBeGreaterThan(0.9);
    expect(on.upcallsPerMiB.FUSE_IOMAP_BEGIN! * 10).toBeLessThan(off.upcallsPerMiB.FUSE_IOMAP_BEGIN!);
  });
  it('unwritten conversions cost fuse-iomap throughput against the ext4 baseline', () => {
    for (const base of ['random-dio', 'random-buffered-write']) {
      const fuse = acct(base), ext4 = acct(`${base}-ext4`);
      expect(fuse.unwrittenConversions).toBeGreaterThan(20);
      expect(ext4.unwrittenConversions).toBe(0);
      expect(fuse.throughputBytesPerSec!).toBeLessThan(ext4.throughputBytesPerSec!);
    }
  });
  it('rwsem-contention shows i_rwsem and invalidate_lock waits and every kernel invalidation reason', () => {
    // 40k events: the first whole-fork drop comes after ~12k at seed 5 (two cache_lookup rows per write, §3.4).
    const evs = runOf('rwsem-contention', 40_000).evs;
    const waits = of(evs, 'lock_wait');
    expect(waits.some((w) => w.lock === 'i_rwsem' && w.mode === 'W')).toBe(true);
    expect(waits.some((w) => w.lock === 'i_rwsem' && w.mode === 'R')).toBe(true);
    expect(waits.some((w) => w.lock === 'invalidate_lock')).toBe(true);
    const reasons = new Set([...of(evs, 'cache_inval').map((e) => e.reason), ...of(evs, 'cache_drop').map((e) => e.reason)]);
    for (const r of ['ioend', 'truncate', 'fallocate', 'copy_file_range', 'whole_fork']) expect(reasons, r).toContain(r);
    const ops = new Set(of(evs, 'app_op_end').map((e) => e.op));
    for (const o of ['pread', 'pwrite', 'fault', 'fsync', 'truncate', 'fallocate', 'copy_file_range', 'open']) expect(ops, o).toContain(o);
  });
  it('per-path aliases: the other alias caches mappings the server has since changed', () => {
    expect(runOf('hardlink-alias-race').sim.mappingCheck.disagreements.length).toBeGreaterThan(0);
  });
});

describe('revisions and settings', () => {
  const base = SCENARIOS['random-dio']!;
  it('rfc-v1 has no cache: no notifications, no lookups, every mapping from a reply with cookie 0', () => {
    const sim = new Simulation({ ...base, revision: 'rfc-v1' }, { seed: 1 });
    const evs: TraceEvent[] = [];
    sim.runEvents(8_000, (e) => evs.push(e));
    expect(of(evs, 'fuse_notify')).toEqual([]);
    expect(of(evs, 'cache_lookup')).toEqual([]);
    expect(of(evs, 'iomap_map').every((m) => m.source === 'reply' && m.cookie === 0)).toBe(true);
  });
  it('notify codes follow the revision (v3: 9, v6/v7: 100)', () => {
    for (const [revision, code] of [['v3', 9], ['v6', 100], ['v7', 100]] as const) {
      const sim = new Simulation({ ...base, revision }, { seed: 1 });
      const evs: TraceEvent[] = [];
      sim.runEvents(3_000, (e) => evs.push(e));
      const n = of(evs, 'fuse_notify');
      expect(n.length).toBeGreaterThan(0);
      expect(n.every((x) => x.notifyCode === code && x.error === 0)).toBe(true);
    }
  });
  it('a tiny cache cap drops the whole fork on overflow', () => {
    const spec: ScenarioSpec = { ...SCENARIOS['random-buffered-write']!, cacheMaxBytes: 256 };
    const sim = new Simulation(spec, { seed: 1 });
    const evs: TraceEvent[] = [];
    sim.runEvents(20_000, (e) => evs.push(e));
    expect(of(evs, 'cache_drop').filter((d) => d.reason === 'overflow').length).toBeGreaterThan(0);
    expect(sim.stats().cacheRecords).toBeLessThanOrEqual(2 * (256 / 32 + 1));
  });
  it('bad mappings from the server fail the IO with EFSCORRUPTED under the cache too', () => {
    const sim = new Simulation({ ...base, faults: { badMappingEvery: 5 } }, { seed: 1 });
    const evs: TraceEvent[] = [];
    sim.runEvents(10_000, (e) => evs.push(e));
    expect(of(evs, 'iomap_bad_data').length).toBeGreaterThan(5);
    expect(of(evs, 'app_op_end').some((e) => e.ret === -117)).toBe(true);
    expect(lockViolations(evs)).toEqual([]);
  });
});

describe('determinism and scale', () => {
  const hash = (name: string, seed: number) => {
    const sim = new Simulation(SCENARIOS[name]!, { seed });
    let h = 0;
    sim.runEvents(10_000, (e) => {
      const s = JSON.stringify(e, (_k, v) => (typeof v === 'bigint' ? `${v}` : v));
      for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
    });
    return h;
  };
  it.each(['stale-mapping', 'rwsem-contention', 'cache-hit-miss', 'random-dio-ext4'])('%s: same seed, same stream; other seed, other stream', (name) => {
    expect(hash(name, 9)).toBe(hash(name, 9));
    expect(hash(name, 9)).not.toBe(hash(name, 10));
  });
  it('a 1,000,000-event run finishes with bounded model state and heap', () => {
    const sim = new Simulation(SCENARIOS['hardlink-alias-race']!, { seed: 1 });
    const heapBefore = process.memoryUsage().heapUsed;
    let n = 0;
    let maxPending = 0;
    while (n < 1_000_000) {
      const got = sim.runEvents(50_000, () => {});
      if (got === 0) break;
      n += got;
      const st = sim.stats();
      maxPending = Math.max(maxPending, st.pendingEvents);
      expect(st.dirtyRanges).toBeLessThan(1_000);
      expect(st.cacheRecords).toBeLessThan(2 * 8_192 * st.fuseInodes);
      expect(st.serverExtents).toBeLessThan(1_000);
      expect(st.runnable).toBeLessThan(64);
    }
    expect(n).toBe(1_000_000);
    expect(maxPending).toBeLessThan(1_000);
    // Generous: the events themselves went to a sink that kept nothing.
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(200 * 1024 * 1024);
  }, 60_000);
});
