import { describe, expect, it } from 'vitest';
import { IoendFlag, MapFlag, MapType, Opcode, isWriteish, type IomapIo } from '../../src/trace/fuse-proto.ts';
import { KIND_FIELDS, type EventOf, type TraceEvent } from '../../src/trace/schema.ts';
import { SCENARIOS, Simulation, validateMapping, type ScenarioSpec, type SimOptions } from './index.ts';
import { CLEAN_CUT_MAX_EXTRA_EVENTS, CleanCut } from './clean-cut.ts';

function run(spec: ScenarioSpec, opts: SimOptions, maxEvents: number): TraceEvent[] {
  const sim = new Simulation(spec, opts);
  const out: TraceEvent[] = [];
  sim.runEvents(maxEvents, (ev) => out.push(ev));
  return out;
}
/** As `run`, then on to a clean cut (clean-cut.ts): no pair of events is cut in two. */
function runClean(spec: ScenarioSpec, opts: SimOptions, maxEvents: number): TraceEvent[] {
  const sim = new Simulation(spec, opts);
  const out: TraceEvent[] = [];
  const cut = new CleanCut();
  const take = (ev: TraceEvent): void => { out.push(ev); cut.see(ev); };
  sim.runEvents(maxEvents, take);
  for (let extra = 0; extra < CLEAN_CUT_MAX_EXTRA_EVENTS && !sim.done && !cut.clean(); extra++) sim.runEvents(1, take);
  expect(cut.clean() || sim.done).toBe(true);
  return out;
}
const bigintJson = (evs: TraceEvent[]) => JSON.stringify(evs, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
const of = <K extends TraceEvent['kind']>(evs: TraceEvent[], kind: K) => evs.filter((e): e is EventOf<K> => e.kind === kind);
const DEFAULT = SCENARIOS['hardlink-alias-race']!;

describe('determinism', () => {
  it('same seed gives a byte-identical stream of 20k events', () => {
    const a = bigintJson(run(DEFAULT, { seed: 7 }, 20_000));
    const b = bigintJson(run(DEFAULT, { seed: 7 }, 20_000));
    expect(a.length).toBeGreaterThan(1000);
    expect(a === b).toBe(true);
  });
  it('a different seed gives a different stream', () => {
    expect(bigintJson(run(DEFAULT, { seed: 7 }, 20_000)) === bigintJson(run(DEFAULT, { seed: 8 }, 20_000))).toBe(false);
  });
  it('runUntil slices the same stream as runEvents, in nondecreasing time, never past untilNs', () => {
    const whole = run(DEFAULT, { seed: 3 }, 5_000);
    const sim = new Simulation(DEFAULT, { seed: 3 });
    const sliced: TraceEvent[] = [];
    for (let untilNs = 0; sliced.length < 5_000; untilNs += 37_000) {
      const before = sliced.length;
      const n = sim.runUntil(untilNs, (ev) => sliced.push(ev));
      expect(n).toBe(sliced.length - before);
      for (const ev of sliced.slice(before)) expect(ev.tsNs).toBeLessThanOrEqual(untilNs);
      expect(sim.nowNs).toBeGreaterThanOrEqual(untilNs);
    }
    expect(bigintJson(sliced.slice(0, 5_000))).toBe(bigintJson(whole));
    for (let i = 1; i < whole.length; i++) expect(whole[i]!.tsNs).toBeGreaterThanOrEqual(whole[i - 1]!.tsNs);
  });
});

describe('event shape', () => {
  it('every event carries exactly the fields of its kind, with integer tsNs', () => {
    for (const name of Object.keys(SCENARIOS)) {
      for (const ev of run(SCENARIOS[name]!, { seed: 1 }, 1_500)) {
        const want = new Set<string>(['kind', 'tsNs', ...KIND_FIELDS[ev.kind]]);
        const rec = ev as unknown as Record<string, unknown>;
        expect(new Set(Object.keys(rec)), `${name} ${ev.kind}`).toEqual(want);
        for (const k of want) expect(rec[k], `${name} ${ev.kind}.${k}`).not.toBeUndefined();
        expect(Number.isInteger(ev.tsNs)).toBe(true);
        if (ev.kind === 'iomap_map') expect(typeof ev.mapAddr).toBe('bigint');
        if (ev.kind === 'iomap_ioend') expect(typeof ev.newAddr).toBe('bigint');
      }
    }
  });
});

describe('nodeid policy', () => {
  const aliasOf = (evs: TraceEvent[]) => {
    const byPath = new Map<string, { nodeId: number; ino: number }>();
    for (const e of [...of(evs, 'inode_new'), ...of(evs, 'inode_lookup')]) byPath.set(e.path, { nodeId: e.nodeId, ino: e.ino });
    return { file: byPath.get('/d1/file')!, link: byPath.get('/d2/link')! };
  };
  it('per-path: two hardlinked names get two nodeids with one attr ino', () => {
    const evs = run(DEFAULT, { seed: 1 }, 2_000);
    const { file, link } = aliasOf(evs);
    expect(file.ino).toBe(link.ino);
    expect(file.nodeId).not.toBe(link.nodeId);
    expect(of(evs, 'inode_new').filter((e) => e.ino === file.ino)).toHaveLength(2);
  });
  it('ino: one nodeid (= ino) for both names', () => {
    const evs = run(DEFAULT, { seed: 1, policy: 'ino' }, 2_000);
    const { file, link } = aliasOf(evs);
    expect(file).toEqual(link);
    expect(file.nodeId).toBe(file.ino);
    expect(of(evs, 'inode_new').filter((e) => e.ino === file.ino)).toHaveLength(1);
    const nlookups = of(evs, 'inode_lookup').filter((e) => e.nodeId === file.nodeId).map((e) => e.nlookup);
    expect(nlookups).toEqual(nlookups.map((_, i) => i + 1));
  });
});

/** Replays lock events; returns the max number of concurrent W holders per ino seen across nodeids. */
function replayLocks(evs: TraceEvent[]): { maxWritersPerIno: Map<number, number>; violations: string[] } {
  const perNode = new Map<number, { readers: Set<string>; writer: string | null }>();
  const writersByIno = new Map<number, Set<string>>();
  const maxWritersPerIno = new Map<number, number>();
  const violations: string[] = [];
  for (const e of evs) {
    if (e.kind !== 'lock_acquire' && e.kind !== 'lock_release') continue;
    const st = perNode.get(e.nodeId) ?? { readers: new Set(), writer: null };
    perNode.set(e.nodeId, st);
    const ws = writersByIno.get(e.ino) ?? new Set();
    writersByIno.set(e.ino, ws);
    if (e.kind === 'lock_acquire') {
      if (st.writer !== null) violations.push(`${e.tsNs}: ${e.task} ${e.mode} while ${st.writer} holds W on ${e.nodeId}`);
      if (e.mode === 'W') {
        if (st.readers.size > 0) violations.push(`${e.tsNs}: ${e.task} W while readers hold ${e.nodeId}`);
        st.writer = e.task;
        ws.add(e.task);
        maxWritersPerIno.set(e.ino, Math.max(maxWritersPerIno.get(e.ino) ?? 0, ws.size));
      } else st.readers.add(e.task);
    } else if (e.mode === 'W') {
      if (st.writer !== e.task) violations.push(`${e.tsNs}: ${e.task} releases W it does not hold`);
      st.writer = null;
      ws.delete(e.task);
    } else if (!st.readers.delete(e.task)) violations.push(`${e.tsNs}: ${e.task} releases R it does not hold`);
  }
  return { maxWritersPerIno, violations };
}

describe('i_rwsem', () => {
  for (const policy of ['per-path', 'ino'] as const) {
    it(`never two writers, or a reader with a writer, on one fuse_inode (${policy})`, () => {
      const { violations } = replayLocks(run(DEFAULT, { seed: 11, policy }, 20_000));
      expect(violations).toEqual([]);
    });
  }
  it('per-path: writers A and B hold "exclusive" locks on the same ino at once', () => {
    const { maxWritersPerIno } = replayLocks(run(DEFAULT, { seed: 11 }, 20_000));
    expect(maxWritersPerIno.get(12)).toBe(2);
  });
  it('ino: writers A and B never overlap', () => {
    const { maxWritersPerIno } = replayLocks(run(DEFAULT, { seed: 11, policy: 'ino' }, 20_000));
    expect(maxWritersPerIno.get(12)).toBe(1);
  });
  it('lock_wait only when the task really blocks, and it is followed by its acquire', () => {
    const evs = run(SCENARIOS['random-dio']!, { seed: 2 }, 10_000);
    const waiting = new Map<string, number>();
    for (const e of evs) {
      if (e.kind === 'lock_wait') { expect(waiting.has(e.task)).toBe(false); waiting.set(e.task, e.nodeId); }
      if (e.kind === 'lock_acquire' && waiting.has(e.task)) { expect(waiting.get(e.task)).toBe(e.nodeId); waiting.delete(e.task); }
    }
    expect(of(evs, 'lock_wait').length).toBeGreaterThan(100);
  });
});

/** Groups each task's iomap events into iterations: begin, maps, [end], iter_end. */
interface Iteration { begin: EventOf<'iomap_begin'>; maps: EventOf<'iomap_map'>[]; end?: EventOf<'iomap_end'>; iterEnd?: EventOf<'iomap_iter_end'>; bad?: EventOf<'iomap_bad_data'> }
function iterations(evs: TraceEvent[]): Iteration[] {
  const open = new Map<string, Iteration>();
  const done: Iteration[] = [];
  for (const e of evs) {
    if (e.kind === 'iomap_begin') open.set(e.task, { begin: e, maps: [] });
    const it = open.get(e.task);
    if (!it) continue;
    if (e.kind === 'iomap_map') it.maps.push(e);
    if (e.kind === 'iomap_end') it.end = e;
    if (e.kind === 'iomap_bad_data') it.bad = e;
    if (e.kind === 'iomap_iter_end') { it.iterEnd = e; done.push(it); open.delete(e.task); }
  }
  return done;
}
const ioOf = (m: EventOf<'iomap_map'>): IomapIo => ({
  offsetBytes: BigInt(m.mapOffsetBytes), lenBytes: BigInt(m.mapLenBytes), addr: m.mapAddr, type: m.mapType, flags: m.mapFlags, dev: m.mapDev,
});

describe('protocol', () => {
  it('every IOMAP_BEGIN reply contains pos and passes kernel validation', () => {
    for (const name of Object.keys(SCENARIOS)) {
      if (SCENARIOS[name]!.backend === 'kernel-ext4') continue; // no replies: the kernel maps itself
      if (SCENARIOS[name]!.faults.badMappingEvery !== undefined) continue; // wrong-mappings: bad replies on purpose
      if (name === 'hardlink-alias-race-v7') continue; // classic FUSE_READ/WRITE only: no BEGIN replies (enablement.test.ts)
      const evs = run(SCENARIOS[name]!, { seed: 5 }, 20_000);
      expect(of(evs, 'iomap_bad_data'), name).toEqual([]);
      const its = iterations(evs);
      expect(its.length).toBeGreaterThan(100);
      for (const it of its) {
        // Reply slots come in (read, write) pairs, cookie 0; with the v3+ cache a RETRY_CACHE reply
        // is followed by the cache hit it pointed at (cookie = ic_seq). Each lookup round (one
        // before the first upcall, one after each reply) yields at most one hit per fork (§3.4);
        // a hit a write cannot use (a HOLE) still shows its _result before the upcall.
        const replies = it.maps.filter((m) => m.source === 'reply');
        const cached = it.maps.filter((m) => m.source === 'cache');
        expect(replies.length % 2).toBe(0);
        replies.forEach((m, i) => expect(m.slot).toBe(i % 2 === 0 ? 'read' : 'write'));
        expect(cached.length).toBeLessThanOrEqual(2 * (replies.length / 2 + 1));
        expect(replies.length + cached.length).toBeGreaterThan(0);
        for (const m of it.maps) {
          const ctx = { posBytes: it.begin.posBytes, blockBytes: 4096, maxBytes: 2 ** 44, hasCache: true, isDevRegistered: (d: number) => d === 1 };
          expect(validateMapping(ioOf(m), m.slot, ctx), `${name} ${JSON.stringify(it.begin)}`).toBeNull();
        }
        for (const m of replies) if (m.slot === 'write') expect(m.mapType).toBe(MapType.PURE_OVERWRITE);
        expect(replies.every((m) => m.cookie === 0)).toBe(true);
        expect(cached.every((m) => m.cookie > 0)).toBe(true);
      }
    }
  });

  it('IOMAP_END is sent exactly when §1.5 says (write-ish and short or size changed)', () => {
    for (const name of ['hardlink-alias-race', 'streaming-buffered', 'streaming-dio']) {
      const evs = run(SCENARIOS[name]!, { seed: 9 }, 20_000);
      for (const it of iterations(evs)) {
        if (!it.end) continue;
        expect(isWriteish(it.begin.opflags)).toBe(true);
        expect(it.end.writtenBytes < it.end.lenBytes || (it.end.mapFlags & MapFlag.SIZE_CHANGED) !== 0).toBe(true);
      }
      // Each FUSE_IOMAP_END send is immediately preceded (same task) by its iomap_end event.
      const lastByTask = new Map<string, TraceEvent>();
      for (const e of evs) {
        if (e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_END) expect(lastByTask.get(e.task)?.kind).toBe('iomap_end');
        lastByTask.set(e.task, e);
      }
      expect(of(evs, 'iomap_end').length).toBe(of(evs, 'fuse_send').filter((e) => e.opcode === Opcode.IOMAP_END).length);
    }
    // Appending buffered writes change the size: ENDs must appear; in-place direct writes never send one.
    expect(of(run(SCENARIOS['streaming-buffered']!, { seed: 9 }, 5_000), 'iomap_end').length).toBeGreaterThan(0);
    expect(of(run(SCENARIOS['random-dio']!, { seed: 9 }, 5_000), 'iomap_end')).toEqual([]);
  });

  it('IOMAP_IOEND is traced for every ioend and sent only per the §1.5 rule', () => {
    for (const name of ['hardlink-alias-race', 'streaming-buffered', 'random-dio']) {
      const evs = runClean(SCENARIOS[name]!, { seed: 4 }, 20_000);
      const ioends = of(evs, 'iomap_ioend');
      expect(ioends.length).toBeGreaterThan(10);
      const lastByTask = new Map<string, TraceEvent>();
      for (const e of evs) {
        if (e.kind === 'iomap_ioend') {
          const rule = e.error !== 0 || (e.writtenBytes > 0 && (e.ioendFlags & (IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.APPEND)) !== 0);
          expect(e.sent).toBe(rule);
        }
        if (e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_IOEND) {
          const prev = lastByTask.get(e.task);
          expect(prev?.kind === 'iomap_ioend' && prev.sent).toBe(true);
        }
        lastByTask.set(e.task, e);
      }
      // Cut cleanly, so no sent ioend has lost its IOMAP_IOEND send to the end of the run.
      expect(ioends.filter((e) => e.sent).length).toBe(of(evs, 'fuse_send').filter((e) => e.opcode === Opcode.IOMAP_IOEND).length);
    }
    // Writeback ioends come from the kworker with WRITEBACK; direct-write ones with DIRECT under i_rwsem.
    const evs = run(DEFAULT, { seed: 4 }, 20_000);
    const wb = of(evs, 'iomap_ioend').filter((e) => e.task.startsWith('kworker/'));
    expect(wb.length).toBeGreaterThan(0);
    expect(wb.every((e) => (e.ioendFlags & IoendFlag.WRITEBACK) !== 0)).toBe(true);
    expect(of(evs, 'iomap_ioend').some((e) => (e.ioendFlags & IoendFlag.DIRECT) !== 0 && (e.ioendFlags & IoendFlag.UNWRITTEN) !== 0)).toBe(true);
    // kworker never takes i_rwsem (§6).
    expect(evs.some((e) => e.task.startsWith('kworker/') && e.kind.startsWith('lock_'))).toBe(false);
  });

  it('fuse_send carries real opcodes, even uniques from 2 and the right request lengths', () => {
    for (const revision of ['rfc-v1', 'v6', 'v7'] as const) {
      // Policy ino: from v6 a per-path server gives the hardlinked file no iomap (classic requests, enablement.test.ts).
      const evs = run(DEFAULT, { seed: 6, revision, policy: 'ino' }, 10_000);
      const sends = of(evs, 'fuse_send');
      sends.forEach((s, i) => expect(s.unique).toBe(2 + 2 * i));
      const wantLen: Record<number, number> = {
        [Opcode.IOMAP_BEGIN]: 72, [Opcode.IOMAP_END]: 112, [Opcode.IOMAP_IOEND]: revision === 'v7' ? 88 : 80,
        // The mount: fuse_init_in 64 B, fuse_iomap_config_in 64 B (v6/v7), each after the 40-byte header.
        [Opcode.INIT]: 104, [Opcode.IOMAP_CONFIG]: 104,
        // open(2): fuse_open_in 8 B; close(2): fuse_release_in 24 B (upstream fuse.h).
        [Opcode.OPEN]: 48, [Opcode.RELEASE]: 64,
      };
      for (const s of sends) {
        expect([Opcode.INIT, Opcode.IOMAP_CONFIG, Opcode.LOOKUP, Opcode.OPEN, Opcode.RELEASE, Opcode.IOMAP_BEGIN, Opcode.IOMAP_END, Opcode.IOMAP_IOEND]).toContain(s.opcode);
        if (s.opcode !== Opcode.LOOKUP) expect(s.lenBytes).toBe(wantLen[s.opcode]);
      }
      const replyLen: Record<number, number> = {
        [Opcode.IOMAP_BEGIN]: 80, [Opcode.IOMAP_END]: 16, [Opcode.IOMAP_IOEND]: revision === 'v7' ? 24 : 16, [Opcode.LOOKUP]: 144,
        [Opcode.INIT]: 80, [Opcode.IOMAP_CONFIG]: revision === 'v7' ? 120 : 112,
        [Opcode.OPEN]: 32, [Opcode.RELEASE]: 16, // fuse_open_out 16 B; RELEASE has no reply body
      };
      for (const r of of(evs, 'fuse_reply')) {
        expect(r.error).toBe(0);
        expect(r.lenBytes).toBe(replyLen[r.opcode]);
      }
      expect(sends.some((s) => s.opcode === Opcode.IOMAP_IOEND)).toBe(true);
    }
  });

  it('every request is received by a server thread and answered exactly once', () => {
    const evs = run(DEFAULT, { seed: 12 }, 20_000);
    const state = new Map<number, string>();
    for (const e of evs) {
      if (e.kind === 'fuse_send') { expect(state.has(e.unique)).toBe(false); state.set(e.unique, 'sent'); }
      if (e.kind === 'fuse_recv') { expect(state.get(e.unique)).toBe('sent'); expect(e.task).toMatch(/^fuse2fs\/50\d$/); state.set(e.unique, 'recv'); }
      if (e.kind === 'fuse_reply') { expect(state.get(e.unique)).toBe('recv'); state.set(e.unique, 'done'); }
    }
  });
});

describe('faults', () => {
  it('a corrupt BEGIN reply produces iomap_bad_data and a -117 op', () => {
    const spec: ScenarioSpec = { ...DEFAULT, faults: { badMappingEvery: 7 } };
    const evs = run(spec, { seed: 1 }, 20_000);
    const bad = of(evs, 'iomap_bad_data');
    expect(bad.length).toBeGreaterThan(20);
    expect(bad.every((b) => b.error === -117 && b.message.length > 0)).toBe(true);
    expect(of(evs, 'app_op_end').some((e) => e.ret === -117)).toBe(true);
    expect(of(evs, 'iomap_iter_end').some((e) => e.error === -117 && e.processedBytes === 0)).toBe(true);
    // A bad writeback mapping is reported as an error ioend (flags 0) and sent.
    const wbErr = of(evs, 'iomap_ioend').filter((e) => e.error !== 0);
    for (const e of wbErr) expect(e.sent).toBe(true);
    // Locks stay balanced through the error paths.
    expect(replayLocks(evs).violations).toEqual([]);
  });
});

describe('finite runs', () => {
  it('finishes when every thread ran its op count, with all dirty data written back', () => {
    const spec: ScenarioSpec = { ...DEFAULT, threads: DEFAULT.threads.map((t) => ({ ...t, opCount: 40 })) };
    const sim = new Simulation(spec, { seed: 3 });
    const evs: TraceEvent[] = [];
    while (!sim.done) {
      if (sim.runEvents(10_000, (e) => evs.push(e)) === 0) break;
    }
    expect(sim.done).toBe(true);
    expect(of(evs, 'app_op_end').filter((e) => e.op === 'pread' || e.op === 'pwrite')).toHaveLength(120);
    for (const i of sim.inspect().kernelInodes) expect(i.dirtyBytes).toBe(0);
    expect(sim.runEvents(100, () => {})).toBe(0);
  });

  it('streaming appends reach the server size via IOMAP_END and i_disk_size via IOEND', () => {
    const base = SCENARIOS['streaming-buffered']!;
    const spec: ScenarioSpec = { ...base, threads: [{ ...base.threads[0]!, opCount: 8 }] };
    const sim = new Simulation(spec, { seed: 3 });
    while (sim.runEvents(10_000, () => {}) > 0);
    expect(sim.done).toBe(true);
    const file = sim.inspect().kernelInodes.find((i) => i.path === '/data/stream')!;
    expect(file.iSizeBytes).toBe(8 * 256 * 1024);
    expect(file.iDiskSizeBytes).toBe(8 * 256 * 1024);
    expect(sim.inspect().serverInode(file.ino)!.sizeBytes).toBe(8 * 256 * 1024);
  });
});
