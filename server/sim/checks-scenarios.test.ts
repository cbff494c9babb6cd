// The checkers (src/trace/checks) on the simulator's scenarios and on the real captures: each
// fires where its scenario was built to trigger it, with the rows an independent scan of the
// events names, and stays silent on the clean ones.
import { describe, expect, it } from 'vitest';
import { SCENARIOS, Simulation } from './index.ts';
import { TraceStore } from '../../src/trace/store.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';
import { InodeState } from '../../src/trace/fuse-proto.ts';
import { CheckRunner, atLeast, runChecks, type Finding } from '../../src/trace/checks/index.ts';
import { loadFiles } from '../sources/files.ts';

const EVENTS = 20_000;
function simulate(name: string, events = EVENTS): TraceEvent[] {
  const out: TraceEvent[] = [];
  new Simulation(SCENARIOS[name]!, { seed: 1 }).runEvents(events, (e) => out.push(e));
  return out;
}
function storeOf(events: TraceEvent[]): TraceStore {
  const s = new TraceStore();
  s.appendAll(events);
  return s;
}
const brief = (fs: Finding[]) => fs.map((f) => `${f.rule}:${f.severity}`);

describe('checkers on the scenarios', () => {
  it('hardlink-alias-race: one alias-race error whose evidence is the first overlapping pair of exclusive holds on nodeids 4 and 5', () => {
    const evs = simulate('hardlink-alias-race');
    // Above info: only the race (unwritten-cost gives its info figures beside it).
    const findings = atLeast(runChecks(storeOf(evs)).findings, 'warning');
    expect(brief(findings)).toEqual(['alias-race:error']);
    const f = findings[0]!;
    expect(f.figures).toMatchObject({ ino: 12, nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'], iomapNodeIds: [4, 5] });

    // Independently: exclusive i_rwsem holds per nodeid as [acquire row, release row].
    type Hold = { nodeId: number; start: number; end: number };
    const holds: Hold[] = [];
    const open = new Map<number, Hold>();
    evs.forEach((e, row) => {
      if ((e.kind === 'lock_acquire' || e.kind === 'lock_release') && e.lock === 'i_rwsem' && e.mode === 'W') {
        if (e.kind === 'lock_acquire') { const h = { nodeId: e.nodeId, start: row, end: -1 }; holds.push(h); open.set(e.nodeId, h); }
        else { const h = open.get(e.nodeId); if (h) { h.end = row; open.delete(e.nodeId); } }
      }
    });
    // The first hold (by start) that began while a hold of the other nodeid was open and that one ended.
    let pair: [Hold, Hold] | undefined;
    for (const b of holds) {
      const a = holds.find((x) => x.nodeId !== b.nodeId && x.start < b.start && x.end > b.start);
      if (a) { pair = [a, b]; break; }
    }
    expect(pair).toBeDefined();
    const [a, b] = pair!;
    const firstRow = (pred: (e: TraceEvent) => boolean) => evs.findIndex(pred);
    const iomapRows = [4, 5].map((n) => firstRow((e) => e.kind === 'inode_iomap' && e.nodeId === n && (e.inodeFlags & InodeState.IOMAP) !== 0));
    const cacheRows = [4, 5].map((n) => firstRow((e) => (e.kind === 'cache_lookup' || (e.kind === 'cache_upsert' && !e.rejected)) && e.nodeId === n));
    const want = [...new Set([a.start, a.end, b.start, b.end, ...iomapRows, ...cacheRows])].sort((x, y) => x - y);
    expect(f.evidence).toEqual(want);
    expect(f.tsNs).toBe(evs[b.start]!.tsNs);
    expect(f.durNs).toBe(Math.min(evs[a.end]!.tsNs, evs[b.end]!.tsNs) - evs[b.start]!.tsNs);
    expect(f.figures.overlaps as number).toBeGreaterThan(1);
  });

  it('hardlink-alias-race-v7: the classic path still races (FUSE_WRITE or holds through two nodeids), iomap not enabled on them', () => {
    const { findings } = runChecks(storeOf(simulate('hardlink-alias-race-v7')));
    expect(brief(findings)).toEqual(['alias-race:error']);
    expect(findings[0]!.figures).toMatchObject({ nodeIds: [4, 5], iomapNodeIds: [] });
  });

  it('wrong-mappings: one mapping-invalid error per iomap_bad_data, each with that row and the reply rows before it', () => {
    const evs = simulate('wrong-mappings', 5_000);
    // Above info (uncached says, as info, that its file has no cache).
    const findings = atLeast(runChecks(storeOf(evs)).findings, 'warning');
    const badRows = evs.flatMap((e, row) => (e.kind === 'iomap_bad_data' ? [row] : []));
    expect(badRows.length).toBeGreaterThan(10);
    expect(findings.every((f) => f.rule === 'mapping-invalid' && f.severity === 'error')).toBe(true);
    expect(findings.map((f) => f.evidence.find((r) => evs[r]!.kind === 'iomap_bad_data'))).toEqual(badRows);
    for (const f of findings) {
      const bad = f.evidence.find((r) => evs[r]!.kind === 'iomap_bad_data')!;
      const badEv = evs[bad] as EventOf<'iomap_bad_data'>;
      // The reply rows it names are iomap_map replies of the same task, at or before the bad_data.
      const maps = f.evidence.filter((r) => evs[r]!.kind === 'iomap_map');
      expect(maps.length).toBeGreaterThan(0);
      for (const r of maps) {
        const m = evs[r] as EventOf<'iomap_map'>;
        expect([m.task, m.source, r < bad]).toEqual([badEv.task, 'reply', true]);
      }
      expect(f.figures.kernelMessage).toBe(badEv.message);
    }
  });

  // unwritten-cost, checked by a plain scan of the events: pwrite/write syscalls paired by task, FUSE_IOMAP_IOEND
  // paired by unique, a conversion when the ioend row before the send on its task says UNWRITTEN.
  function conversionScan(evs: TraceEvent[]) {
    const openWrite = new Map<string, number>();
    const lastIoend = new Map<string, EventOf<'iomap_ioend'>>();
    const sends = new Map<number, { tsNs: number; unwritten: boolean; inside: boolean }>();
    let writeNs = 0, writes = 0, conversionNs = 0, conversions = 0, outsideNs = 0;
    for (const e of evs) {
      if (e.kind === 'app_op_begin' && (e.op === 'pwrite' || e.op === 'write')) openWrite.set(e.task, e.tsNs);
      else if (e.kind === 'app_op_end' && openWrite.has(e.task)) { writeNs += e.tsNs - openWrite.get(e.task)!; writes++; openWrite.delete(e.task); }
      else if (e.kind === 'iomap_ioend' && e.sent) lastIoend.set(e.task, e);
      else if (e.kind === 'fuse_send' && e.opcode === 4093) {
        const io = lastIoend.get(e.task);
        lastIoend.delete(e.task);
        sends.set(e.unique, { tsNs: e.tsNs, unwritten: io !== undefined && (io.ioendFlags & 2) !== 0, inside: openWrite.has(e.task) });
      } else if (e.kind === 'fuse_reply' && sends.has(e.unique)) {
        const x = sends.get(e.unique)!;
        sends.delete(e.unique);
        if (!x.unwritten) continue;
        conversions++;
        conversionNs += e.tsNs - x.tsNs;
        if (!x.inside) outsideNs += e.tsNs - x.tsNs;
      }
    }
    return { writes, writeNs, conversions, conversionNs, outsideWritesNs: outsideNs, share: conversionNs / (writeNs + outsideNs) };
  }

  it.each([['random-dio', 'direct: every conversion inside its write'], ['random-buffered-write', 'buffered: every conversion in writeback']])(
    '%s: unwritten-cost info for file 12 with the scanned figures (%s), under the 50 %% default', (name) => {
      const evs = simulate(name);
      const fs = runChecks(storeOf(evs), { rules: ['unwritten-cost'] }).findings;
      expect(brief(fs)).toEqual(['unwritten-cost:info']);
      const want = conversionScan(evs);
      expect(fs[0]!.figures).toMatchObject({ nodeId: 12, ...want });
      expect(want.conversions).toBeGreaterThan(100);
      expect(want.outsideWritesNs).toBe(name === 'random-dio' ? 0 : want.conversionNs);
      expect(want.share).toBeGreaterThan(0.05);
      expect(want.share).toBeLessThan(0.5);
    });

  // uncached: steps and IOMAP_BEGIN upcalls of nodeid 12 counted from the events.
  const upcallScan = (evs: TraceEvent[]) => ({
    steps: evs.filter((e) => e.kind === 'iomap_begin' && e.nodeId === 12).length,
    upcalls: evs.filter((e) => e.kind === 'fuse_send' && e.opcode === 4094 && e.nodeId === 12).length,
  });
  it.each([
    ['cache-hit-miss-nocache (the server never fills the cache)', SCENARIOS['cache-hit-miss-nocache']!, { seed: 1 }],
    ['cache-hit-miss at RFC v1 (no cache in the revision)', SCENARIOS['cache-hit-miss']!, { seed: 3, revision: 'rfc-v1' as const }],
  ])('%s: uncached info "no-cache" for nodeid 12, one upcall per step', (_label, spec, opts) => {
    const evs: TraceEvent[] = [];
    new Simulation(spec, opts).runEvents(EVENTS, (e) => evs.push(e));
    const fs = runChecks(storeOf(evs), { rules: ['uncached'] }).findings;
    const want = upcallScan(evs);
    expect(want.steps).toBeGreaterThan(1000);
    expect(want.upcalls).toBe(want.steps);
    expect(fs.map((f) => [f.severity, f.figures.nodeId, f.figures.kind, f.figures.steps, f.figures.upcalls, f.figures.hitRate]))
      .toEqual([['info', 12, 'no-cache', want.steps, want.upcalls, null]]);
  });

  it('cache-hit-miss (the cache answers: fewer than 1 upcall in 100 steps) and its small-cache variant: no uncached finding', () => {
    for (const [spec, seed] of [[SCENARIOS['cache-hit-miss']!, 1], [{ ...SCENARIOS['cache-hit-miss']!, cacheMaxBytes: 4096 }, 2]] as const) {
      const evs: TraceEvent[] = [];
      new Simulation(spec, { seed }).runEvents(EVENTS, (e) => evs.push(e));
      const { steps, upcalls } = upcallScan(evs);
      expect(upcalls / steps).toBeLessThan(0.01);
      expect(runChecks(storeOf(evs), { rules: ['uncached'] }).findings).toEqual([]);
    }
  });

  it('stale-mapping (cookie validation off): stale-mapping warnings, each a cached write mapping and another task\'s invalidation of its range while the step ran', () => {
    const evs = simulate('stale-mapping');
    const fs = runChecks(storeOf(evs)).findings.filter((f) => f.rule === 'stale-mapping');
    expect(fs.length).toBeGreaterThan(10);
    expect(fs.every((f) => f.severity === 'warning' && f.figures.kind === 'stale-use')).toBe(true);
    for (const f of fs) {
      const [begin, map, change, end] = f.evidence.map((r) => evs[r]!);
      // The change is the invalidation, or the ioend (UNWRITTEN) whose invalidation follows it.
      expect([begin!.kind, map!.kind, end!.kind]).toEqual(['iomap_begin', 'iomap_map', 'iomap_iter_end']);
      expect(['cache_inval', 'iomap_ioend']).toContain(change!.kind);
      const m = map as EventOf<'iomap_map'>, v = change as EventOf<'cache_inval'> | EventOf<'iomap_ioend'>;
      const vLen = v.kind === 'cache_inval' ? v.lenBytes : v.writtenBytes;
      expect([m.source, m.cookie !== 0, v.task !== m.task, v.nodeId === m.nodeId]).toEqual(['cache', true, true, true]);
      expect(v.posBytes < m.mapOffsetBytes + m.mapLenBytes && m.mapOffsetBytes < v.posBytes + vLen).toBe(true);
      // No failed revalidation on the writer's task between the invalidation and the step's end.
      const [i0, i1] = [f.evidence[2]!, f.evidence[3]!];
      expect(evs.slice(i0, i1).some((e) => e.kind === 'cache_stale' && e.task === m.task)).toBe(false);
    }
  });

  // lock, checked by a plain scan of the events: waits are lock_wait … lock_acquire of one task, lock and nodeid.
  function waitScan(evs: TraceEvent[], lock: string, nodeId: number) {
    const open = new Map<string, number>();
    const durs: number[] = [];
    for (const e of evs) {
      if ((e.kind !== 'lock_wait' && e.kind !== 'lock_acquire') || e.lock !== lock || e.nodeId !== nodeId) continue;
      if (e.kind === 'lock_wait') open.set(e.task, e.tsNs);
      else if (open.has(e.task)) { durs.push(e.tsNs - open.get(e.task)!); open.delete(e.task); }
    }
    return durs;
  }

  it('rwsem-contention: one lock info for i_rwsem of nodeid 12, the waits over the 1 ms default counted by a scan', () => {
    const evs = simulate('rwsem-contention');
    const fs = runChecks(storeOf(evs), { rules: ['lock'] }).findings;
    expect(brief(fs)).toEqual(['lock:info']);
    const durs = waitScan(evs, 'i_rwsem', 12);
    const long = durs.filter((d) => d > 1e6);
    expect(long.length).toBeGreaterThan(0);
    expect(fs[0]!.figures).toMatchObject({ kind: 'wait', lock: 'i_rwsem', nodeId: 12, ino: 12, waits: durs.length, longWaits: long.length, maxWaitNs: Math.max(...long) });
    // The evidence: the worst wait's lock_wait and lock_acquire (same task), and the holder's acquire and release.
    const [w, a] = fs[0]!.evidence.filter((r) => evs[r]!.task === fs[0]!.figures.waiter).map((r) => evs[r]!);
    expect([w!.kind, a!.kind, a!.tsNs - w!.tsNs]).toEqual(['lock_wait', 'lock_acquire', Math.max(...long)]);
  });

  it('random-dio with holdAcrossUpcallNs 50 µs: the upcalls a scan finds under an i_rwsem hold, slower than that, are counted; info', () => {
    const evs = simulate('random-dio');
    const fs = runChecks(storeOf(evs), { rules: ['lock'], settings: { lock: { holdAcrossUpcallNs: 50_000 } } }).findings.filter((f) => f.figures.kind === 'hold-across-upcall');
    // Scan: requests sent by a task holding i_rwsem of nodeid 12, answered before that hold's release.
    const holding = new Set<string>();
    const sent = new Map<number, number>();
    const rtts: number[] = [];
    const underHold = new Map<number, string>();
    for (const e of evs) {
      if ((e.kind === 'lock_acquire' || e.kind === 'lock_release') && e.lock === 'i_rwsem' && e.nodeId === 12) {
        if (e.kind === 'lock_acquire') holding.add(e.task); else holding.delete(e.task);
      } else if (e.kind === 'fuse_send' && holding.has(e.task)) { sent.set(e.unique, e.tsNs); underHold.set(e.unique, e.task); }
      else if (e.kind === 'fuse_reply' && sent.has(e.unique)) {
        if (holding.has(underHold.get(e.unique)!)) rtts.push(e.tsNs - sent.get(e.unique)!);
        sent.delete(e.unique);
      }
    }
    const slow = rtts.filter((d) => d > 50_000);
    expect(slow.length).toBeGreaterThan(0);
    expect(fs.map((f) => [f.severity, f.figures.nodeId, f.figures.longUpcalls, f.figures.maxRttNs])).toEqual([['info', 12, slow.length, Math.max(...slow)]]);
  });

  it.each(['hardlink-alias-race', 'hardlink-alias-race-v7', 'wrong-mappings', 'stale-mapping'])('%s: no lock finding above info', (name) => {
    expect(runChecks(storeOf(simulate(name)), { rules: ['lock'] }).findings.filter((f) => f.severity !== 'info')).toEqual([]);
  });

  const clean = Object.keys(SCENARIOS).filter((n) => !['hardlink-alias-race', 'hardlink-alias-race-v7', 'wrong-mappings', 'stale-mapping'].includes(n));
  it.each(clean)('%s: no finding above info', (name) => {
    const { findings } = runChecks(storeOf(simulate(name)));
    expect(brief(findings.filter((f) => f.severity !== 'info'))).toEqual([]);
  });

  // The import worker (import-run.ts, WorkerChecks) feeds a recording chunk by chunk into one store
  // it clears each time: a checker may keep nothing of a store's rows but what it copied.
  it.each(Object.keys(SCENARIOS))('%s: the same findings and unknowns fed whole and in odd-sized batches through one cleared store', (name) => {
    const events = simulate(name, 10_000);
    const whole = runChecks(storeOf(events));
    const rolling = new TraceStore();
    const runner = new CheckRunner();
    // Batch edges everywhere in a step: single rows, primes.
    const sizes = [1, 997, 2, 4093, 13, 1, 331];
    for (let at = 0, i = 0; at < events.length; i++) {
      const n = Math.min(sizes[i % sizes.length]!, events.length - at);
      rolling.clear();
      rolling.appendAll(events.slice(at, at + n));
      runner.feed(rolling, 0, n, at);
      at += n;
    }
    expect(JSON.stringify(runner.findings())).toBe(JSON.stringify(whole.findings));
    expect(JSON.stringify(runner.unknowns())).toBe(JSON.stringify(whole.unknowns));
  });

  it('a live stream (the sim in time slices, checked after each) gives the whole run\'s findings', () => {
    const whole = runChecks(storeOf(simulate('hardlink-alias-race', 5_000))).findings;
    const sim = new Simulation(SCENARIOS['hardlink-alias-race']!, { seed: 1 });
    const s = new TraceStore();
    const runner = new CheckRunner();
    const batch: TraceEvent[] = [];
    for (let untilNs = 0; s.length < 5_000; untilNs += 50_000) {
      sim.runUntil(untilNs, (e) => batch.push(e));
      s.appendAll(batch.splice(0, 5_000 - s.length));
      batch.length = 0;
      runner.update(s);
      runner.findings(); // read mid-stream, as a live panel does
    }
    expect(JSON.stringify(runner.findings())).toBe(JSON.stringify(whole));
  });
});

describe('checkers on the real captures (fixtures/real, docs/fixtures.md)', () => {
  const load = async (...files: string[]) => (await loadFiles(files.map((f) => `fixtures/real/${f}`), {})).store;
  /**
   * lock findings on a real capture: info waits only, each one lock address's lock:contention begin … end
   * pairs (scanned per task) with the count over the 1 ms default, and the worst pair's rows as evidence.
   */
  const expectLockWaits = (s: TraceStore, findings: Finding[]) => {
    const lock = findings.filter((f) => f.rule === 'lock');
    for (const f of lock) {
      expect([f.severity, f.figures.kind]).toEqual(['info', 'wait']);
      const addr = BigInt(f.figures.lockAddr as string);
      const open = new Map<string, number>();
      const durs: number[] = [];
      for (let r = 0; r < s.length; r++) {
        const e = s.get(r);
        if (e.kind !== 'lock_contention' || e.lockAddr !== addr) continue;
        if (e.phase === 'begin') open.set(e.task, e.tsNs);
        else if (open.has(e.task)) { durs.push(e.tsNs - open.get(e.task)!); open.delete(e.task); }
      }
      const long = durs.filter((d) => d > 1e6);
      expect([f.figures.waits, f.figures.longWaits, f.figures.maxWaitNs, f.durNs]).toEqual([durs.length, long.length, Math.max(...long), Math.max(...long)]);
      const [b, , e] = f.evidence.map((r) => s.get(r));
      expect([b!.kind, e!.kind, b!.task === e!.task, e!.tsNs - b!.tsNs]).toEqual(['lock_contention', 'lock_contention', true, f.durNs]);
    }
    return lock.length;
  };

  it('fuse2fs-hardlink-ino: alias-race error for ino 14 through nodeids 4 and 5, from FUSE_WRITEs of the two names in flight at once', async () => {
    const s = await load('fuse2fs-hardlink-ino/trace.txt', 'fuse2fs-hardlink-ino/fuse2fs-d.log');
    const all = runChecks(s).findings;
    // Beside it, lock info: the two writers' i_rwsem waits (their inode unattributed: nodeid and ino null).
    expect(expectLockWaits(s, all)).toBe(2);
    const findings = atLeast(all, 'warning');
    expect(brief(findings)).toEqual(['alias-race:error']);
    const f = findings[0]!;
    expect(f.figures).toMatchObject({ ino: 14, nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'] });
    // The evidence: a FUSE_WRITE through each nodeid, each with its reply; the second sent before the first was answered.
    const evs = f.evidence.map((r) => s.get(r));
    const sends = evs.filter((e): e is EventOf<'fuse_send'> => e.kind === 'fuse_send');
    const replies = evs.filter((e): e is EventOf<'fuse_reply'> => e.kind === 'fuse_reply');
    expect(sends.map((e) => [e.opcode, e.nodeId]).sort()).toEqual([[16, 4], [16, 5]]);
    expect(replies.map((e) => e.unique).sort()).toEqual(sends.map((e) => e.unique).sort());
    const [first, second] = [...sends].sort((x, y) => x.tsNs - y.tsNs);
    const firstReply = replies.find((e) => e.unique === first!.unique)!;
    expect(second!.tsNs).toBeLessThan(firstReply.tsNs);
  });

  it('fuse2fs-hardlink (no st_ino evidence): the LINK makes the group, its inode number stays unknown', async () => {
    const s = await load('fuse2fs-hardlink/trace.txt', 'fuse2fs-hardlink/fuse2fs-d.log');
    const all = runChecks(s).findings;
    expectLockWaits(s, all);
    const findings = atLeast(all, 'warning');
    expect(brief(findings)).toEqual(['alias-race:error']);
    expect(findings[0]!.figures).toMatchObject({ ino: null, nodeIds: [4, 5] });
  });

  it.each([['ext4-dio.txt', 0], ['ext4-mixed.report.txt', 1], ['ext4-mixed.trace.txt', 1], ['xfs-buffered.txt', 0], ['xfs-contend.report.txt', 1], ['xfs-contend.trace.txt', 1]] as const)(
    'kernel-fs/%s: no finding but lock info (%i: i_rwsem waits over 1 ms, from lock:contention)', async (file, waits) => {
      const s = await load(`kernel-fs/${file}`);
      const { findings } = runChecks(s);
      expect(brief(findings)).toEqual(Array(waits).fill('lock:info'));
      expect(expectLockWaits(s, findings)).toBe(waits);
      for (const f of findings) expect([f.figures.lock, f.figures.nodeId, typeof f.figures.ino]).toEqual(['i_rwsem', null, 'number']);
    });
});
