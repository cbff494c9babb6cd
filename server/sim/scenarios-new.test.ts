// The four scenarios of issue #15 item 4, each checked on its trace shape with expectations worked
// out from the series' rules (docs/domain.md §1.4–1.9, §2.3–2.6, §3.3), not from the code:
// out-of-place writes (SHARED write mappings, IOEND SHARED), atomic writes (cache bypass), inline
// data (FUSE_READ / FUSE_WRITE, no IOMAP_END) and wrong mappings (refused by validation). Each also
// goes through the NDJSON import without diagnostics and is offered by the scenario list the UI shows.

import { describe, expect, it } from 'vitest';
import { IoendFlag, MapFlag, MapType, NULL_ADDR, OpFlag, Opcode } from '../../src/trace/fuse-proto.ts';
import { eventLine, headerLine } from '../../src/trace/import/ndjson.ts';
import { importText } from '../../src/trace/import/testing.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';
import { listScenarios } from '../sources/sim.ts';
import { SCENARIOS, Simulation, parseScenario, type ScenarioSpec, type SimOptions } from './index.ts';
import { CLEAN_CUT_MAX_EXTRA_EVENTS, CleanCut } from './clean-cut.ts';

const NEW = ['out-of-place-writes', 'atomic-writes', 'inline-data', 'wrong-mappings'];
const B = 4096;
const EIO = 5, EUCLEAN = 117, EOPNOTSUPP = 95;

function run(spec: ScenarioSpec, opts: SimOptions, events: number): TraceEvent[] {
  const evs: TraceEvent[] = [];
  new Simulation(spec, opts).runEvents(events, (e) => evs.push(e));
  return evs;
}
/** As `run`, then on to a clean cut (clean-cut.ts): no reply is cut from the kernel's verdict on it. */
function runClean(spec: ScenarioSpec, opts: SimOptions, events: number): TraceEvent[] {
  const sim = new Simulation(spec, opts);
  const evs: TraceEvent[] = [];
  const cut = new CleanCut();
  const take = (e: TraceEvent): void => { evs.push(e); cut.see(e); };
  sim.runEvents(events, take);
  for (let extra = 0; extra < CLEAN_CUT_MAX_EXTRA_EVENTS && !sim.done && !cut.clean(); extra++) sim.runEvents(1, take);
  expect(cut.clean() || sim.done).toBe(true);
  return evs;
}
const of = <K extends TraceEvent['kind']>(evs: TraceEvent[], kind: K) => evs.filter((e): e is EventOf<K> => e.kind === kind);
const byTask = (evs: TraceEvent[], prefix: string) => evs.filter((e) => 'task' in e && e.task.startsWith(prefix));

/** Each app op of a task with the events it caused in between (closed ops only). */
function appOps(evs: TraceEvent[], prefix: string): { begin: EventOf<'app_op_begin'>; end: EventOf<'app_op_end'>; inner: TraceEvent[] }[] {
  const out: { begin: EventOf<'app_op_begin'>; end: EventOf<'app_op_end'>; inner: TraceEvent[] }[] = [];
  let cur: { begin: EventOf<'app_op_begin'>; inner: TraceEvent[] } | null = null;
  for (const e of byTask(evs, prefix)) {
    if (e.kind === 'app_op_begin') cur = { begin: e, inner: [] };
    else if (e.kind === 'app_op_end' && cur) { out.push({ ...cur, end: e }); cur = null; }
    else cur?.inner.push(e);
  }
  return out;
}

describe('out-of-place-writes: SHARED staging mappings, remapped at IOEND(SHARED)', () => {
  const spec = SCENARIOS['out-of-place-writes']!;
  const evs = run(spec, { seed: 3, checkMappings: true }, 30_000);

  it('write-fork upserts are MAPPED + SHARED onto other blocks than the read fork holds there', () => {
    const ups = of(evs, 'cache_upsert');
    const writes = ups.filter((u) => u.fork === 'write');
    expect(writes.length).toBeGreaterThan(50);
    for (const w of writes) {
      expect(w.mapType).toBe(MapType.MAPPED);
      expect(w.mapFlags & MapFlag.SHARED).toBe(MapFlag.SHARED);
      // The read upsert of the same notification (same task, same instant) maps the old blocks.
      const r = ups.find((u) => u.fork === 'read' && u.task === w.task && u.tsNs === w.tsNs)!;
      expect(r).toBeDefined();
      if (r.mapType === MapType.MAPPED) {
        const at = w.mapOffsetBytes; // inside both: the write mapping is trimmed to the read one
        expect(w.mapAddr).not.toBe(r.mapAddr + BigInt(at - r.mapOffsetBytes));
      }
    }
  });

  it('buffered writes and direct writes use the SHARED write mapping (write-fork hit or reply slot)', () => {
    const writeMaps = of(evs, 'iomap_map').filter((m) => m.slot === 'write' && m.mapType !== MapType.PURE_OVERWRITE);
    expect(writeMaps.length).toBeGreaterThan(50);
    for (const m of writeMaps) expect(m.mapFlags & MapFlag.SHARED).toBe(MapFlag.SHARED);
  });

  it('every write completion is a sent IOEND with SHARED; writeback carries new_addr = staging sector, direct writes none', () => {
    const ends = of(evs, 'iomap_ioend').filter((e) => e.error === 0 && e.writtenBytes > 0);
    const wb = ends.filter((e) => (e.ioendFlags & IoendFlag.WRITEBACK) !== 0);
    const dio = ends.filter((e) => (e.ioendFlags & IoendFlag.DIRECT) !== 0);
    expect(wb.length).toBeGreaterThan(20);
    expect(dio.length).toBeGreaterThan(20);
    for (const e of ends) {
      expect(e.ioendFlags & IoendFlag.SHARED).toBe(IoendFlag.SHARED);
      expect(e.sent).toBe(true); // SHARED alone makes the kernel send it (§1.5)
    }
    for (const e of dio) expect(e.newAddr).toBe(NULL_ADDR);
    // The staging mapping last upserted over pos says where the bio went: new_addr (512 B sectors) * 512.
    for (const e of wb) {
      const i = evs.indexOf(e);
      const up = evs.slice(0, i).reverse().find((u): u is EventOf<'cache_upsert'> =>
        u.kind === 'cache_upsert' && u.fork === 'write' && u.mapOffsetBytes <= e.posBytes && e.posBytes < u.mapOffsetBytes + u.mapLenBytes)!;
      expect(up).toBeDefined();
      expect(e.newAddr * 512n).toBe(up.mapAddr + BigInt(e.posBytes - up.mapOffsetBytes));
    }
  });

  it('after each SHARED ioend the kernel invalidates the written blocks in both forks', () => {
    const ends = of(evs, 'iomap_ioend').filter((e) => e.error === 0 && e.writtenBytes > 0 && e.sent);
    let checked = 0;
    for (const e of ends) {
      const i = evs.indexOf(e);
      const after = evs.slice(i + 1).filter((x) => 'task' in x && x.task === e.task);
      const nextIoend = after.findIndex((x) => x.kind === 'iomap_ioend');
      const window = nextIoend < 0 ? after : after.slice(0, nextIoend);
      if (nextIoend < 0 && window.length < 3) continue; // cut off by the event budget
      const invals = window.filter((x): x is EventOf<'cache_inval'> => x.kind === 'cache_inval' && x.reason === 'ioend');
      const startBytes = Math.floor(e.posBytes / B) * B;
      expect(invals.map((v) => [v.fork, v.posBytes])).toEqual([['read', startBytes], ['write', startBytes]]);
      checked++;
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('the server moved the staged blocks into the file: every mapping the kernel used agreed with it', () => {
    const sim = new Simulation(spec, { seed: 3, checkMappings: true });
    sim.runEvents(30_000, () => {});
    expect(sim.mappingCheck.checked).toBeGreaterThan(500);
    expect(sim.mappingCheck.disagreements).toEqual([]);
  });

  it('an in-place server (the default) never sends SHARED', () => {
    const inPlace = run({ ...spec, serverWrites: 'in-place' }, { seed: 3 }, 10_000);
    expect(of(inPlace, 'iomap_ioend').filter((e) => (e.ioendFlags & IoendFlag.SHARED) !== 0)).toEqual([]);
    expect(of(inPlace, 'cache_upsert').filter((u) => u.fork === 'write')).toEqual([]);
  });
});

describe('atomic-writes: RWF_ATOMIC always upcalls, answered with ATOMIC_BIO', () => {
  const spec = SCENARIOS['atomic-writes']!;
  const evs = run(spec, { seed: 4 }, 30_000);
  const ATOMIC_OPFLAGS = OpFlag.WRITE | OpFlag.DIRECT | OpFlag.ATOMIC; // 0x211

  it('each atomic write: one iomap_begin (write|direct|atomic), one IOMAP_BEGIN upcall, no cache lookup, an ATOMIC_BIO mapping', () => {
    const ops = appOps(evs, 'atomicw/').filter((o) => o.begin.op === 'pwrite');
    expect(ops.length).toBeGreaterThan(100);
    for (const { end, inner } of ops) {
      expect(end.ret).toBe(B);
      const begins = inner.filter((e): e is EventOf<'iomap_begin'> => e.kind === 'iomap_begin');
      expect(begins.map((b) => b.opflags)).toEqual([ATOMIC_OPFLAGS]);
      expect(inner.filter((e) => e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_BEGIN)).toHaveLength(1);
      expect(inner.filter((e) => e.kind === 'cache_lookup')).toEqual([]);
      // In place: the write slot is PURE_OVERWRITE and the read mapping is the destination.
      const read = inner.find((e): e is EventOf<'iomap_map'> => e.kind === 'iomap_map' && e.slot === 'read')!;
      expect(read.mapFlags & MapFlag.ATOMIC_BIO).toBe(MapFlag.ATOMIC_BIO);
      expect(read.mapLenBytes).toBeGreaterThanOrEqual(B);
    }
  });

  it('still upcalls where the reader\'s upsert covers the block (the cache is bypassed, §3.3)', () => {
    // Replay the read fork from the cache events: ranges upserted and not since invalidated.
    let cached: [number, number][] = [];
    let covered = 0;
    let openPos = -1;
    for (const e of evs) {
      if (e.kind === 'cache_upsert' && e.fork === 'read') cached.push([e.mapOffsetBytes, e.mapOffsetBytes + e.mapLenBytes]);
      if (e.kind === 'cache_inval' && e.fork === 'read') {
        const s = e.posBytes, t = e.posBytes + e.lenBytes;
        cached = cached.flatMap(([a, b]): [number, number][] => (b <= s || a >= t ? [[a, b]] : [...(a < s ? [[a, s]] as [number, number][] : []), ...(b > t ? [[t, b]] as [number, number][] : [])]));
      }
      if (e.kind === 'app_op_begin' && e.task.startsWith('atomicw/') && e.op === 'pwrite') {
        openPos = cached.some(([a, b]) => a <= e.posBytes && e.posBytes + e.lenBytes <= b) ? e.posBytes : -1;
      }
      if (e.kind === 'fuse_send' && e.task.startsWith('atomicw/') && e.opcode === Opcode.IOMAP_BEGIN && openPos >= 0) {
        covered++;
        openPos = -1;
      }
    }
    expect(covered).toBeGreaterThan(50);
  });

  it('the reader meanwhile hits the cache (so the bypass is not for want of a cache)', () => {
    const hits = of(evs, 'cache_lookup').filter((l) => l.hit && l.task.startsWith('reader/'));
    expect(hits.length).toBeGreaterThan(100);
  });

  it('without FUSE_ATTR_ATOMIC on the file the kernel refuses RWF_ATOMIC with EOPNOTSUPP, before any upcall', () => {
    const noAttr = run({ ...spec, atomicWrites: false }, { seed: 4 }, 5_000);
    const ops = appOps(noAttr, 'atomicw/').filter((o) => o.begin.op === 'pwrite');
    expect(ops.length).toBeGreaterThan(20);
    for (const o of ops) {
      expect(o.end.ret).toBe(-EOPNOTSUPP);
      expect(o.inner.filter((e) => e.kind === 'iomap_begin')).toEqual([]);
    }
  });

  it('the spec takes atomic only on direct writes of exactly one block', () => {
    const base = { files: [{ path: '/f', sizeBytes: 1 << 20 }], threads: [{ path: '/f', ops: [] as unknown[] }] };
    const withOp = (o: unknown) => ({ ...base, threads: [{ path: '/f', ops: [o] }] });
    expect(parseScenario(withOp({ kind: 'write', direct: true, lenBytes: B, atomic: true })).threads[0]!.ops[0]!.atomic).toBe(true);
    expect(() => parseScenario(withOp({ kind: 'write', direct: false, lenBytes: B, atomic: true }))).toThrow(/only direct writes can be atomic/);
    expect(() => parseScenario(withOp({ kind: 'read', direct: true, lenBytes: B, atomic: true }))).toThrow(/only direct writes can be atomic/);
    expect(() => parseScenario(withOp({ kind: 'write', direct: true, lenBytes: 2 * B, atomic: true }))).toThrow(/exactly one block/);
  });
});

describe('inline-data: INLINE mappings, FUSE_READ during begin, FUSE_WRITE instead of IOMAP_END', () => {
  const spec = SCENARIOS['inline-data']!;
  const evs = run(spec, { seed: 6 }, 20_000);
  // Request sizes (fuse_in_header 40 B): FUSE_READ carries fuse_read_in (40 B); FUSE_WRITE carries
  // fuse_write_in (40 B) plus the written bytes.
  const READ_LEN = 40 + 40;

  it('every read and write: BEGIN, an INLINE mapping (offset 0, one block, no device/address), then FUSE_READ of it', () => {
    let n = 0;
    for (const prefix of ['reader/', 'rewriter/', 'appender/', 'hreader/']) {
      for (const { begin, end, inner } of appOps(evs, prefix)) {
        if (begin.op !== 'pread' && begin.op !== 'pwrite') continue;
        if (end.ret <= 0) continue; // a read at EOF does no IO
        const sends = inner.filter((e): e is EventOf<'fuse_send'> => e.kind === 'fuse_send');
        const read = inner.find((e): e is EventOf<'iomap_map'> => e.kind === 'iomap_map' && e.slot === 'read')!;
        expect(read).toMatchObject({ mapType: MapType.INLINE, mapOffsetBytes: 0, mapLenBytes: B, mapAddr: NULL_ADDR, mapDev: 0 });
        expect(sends[0]!.opcode).toBe(Opcode.IOMAP_BEGIN);
        expect(sends[1]).toMatchObject({ opcode: Opcode.READ, lenBytes: READ_LEN, nodeId: begin.kind === 'app_op_begin' ? sends[0]!.nodeId : 0 });
        if (begin.op === 'pwrite') {
          // The written range goes back, and nothing else: no IOMAP_END even when the write grows the file.
          expect(sends.slice(2).map((s) => [s.opcode, s.lenBytes])).toEqual([[Opcode.WRITE, 40 + 40 + begin.lenBytes]]);
        } else expect(sends).toHaveLength(2);
        n++;
      }
    }
    expect(n).toBeGreaterThan(300);
  });

  it('no IOMAP_END, no IOEND and no writeback for inline files', () => {
    expect(of(evs, 'iomap_end')).toEqual([]);
    expect(of(evs, 'iomap_ioend')).toEqual([]);
    expect(of(evs, 'fuse_send').filter((s) => s.opcode === Opcode.IOMAP_END || s.opcode === Opcode.IOMAP_IOEND)).toEqual([]);
    expect(byTask(evs, 'kworker/')).toEqual([]);
  });

  it('the appender grows /etc/hostname (1000 B) to 4000 B through inline writes alone', () => {
    const reads = appOps(evs, 'hreader/').filter((o) => o.begin.op === 'pread').map((o) => o.end.ret);
    expect(Math.max(...reads)).toBe(4000);
    expect(Math.min(...reads.filter((r) => r > 0))).toBeGreaterThanOrEqual(1000);
  });

  it('the spec keeps inline files to one non-empty block of buffered reads and writes', () => {
    const f = (size: number, op: unknown) => ({ files: [{ path: '/i', sizeBytes: size, prealloc: 'inline' }], threads: [{ path: '/i', ops: [op] }] });
    expect(() => parseScenario(f(0, { kind: 'read', lenBytes: 10 }))).toThrow(/sizeBytes/);
    expect(() => parseScenario(f(B + 1, { kind: 'read', lenBytes: 10 }))).toThrow(/sizeBytes/);
    expect(() => parseScenario(f(100, { kind: 'read', direct: true, lenBytes: B, spanBytes: B }))).toThrow(/buffered IO only/);
    expect(() => parseScenario(f(100, { kind: 'fsync', spanBytes: B }))).toThrow(/only read and write/);
    expect(() => parseScenario(f(100, { kind: 'write', lenBytes: 10, spanBytes: 2 * B }))).toThrow(/first 4096 bytes/);
  });
});

describe('wrong-mappings: the kernel refuses wrong BEGIN replies', () => {
  const spec = SCENARIOS['wrong-mappings']!;

  /** §1.4 by hand, for the read slot (the server corrupts only that one). */
  function isBad(m: EventOf<'iomap_map'>, posBytes: number): boolean {
    if (m.mapType > MapType.INLINE) return m.mapType !== MapType.RETRY_CACHE; // PURE_OVERWRITE / NOCACHE / unknown in the read slot
    if (m.mapType === MapType.RETRY_CACHE) return false;
    if (m.mapLenBytes === 0 || m.mapOffsetBytes % B !== 0 || m.mapLenBytes % B !== 0) return true;
    if (posBytes < m.mapOffsetBytes || posBytes >= m.mapOffsetBytes + m.mapLenBytes) return true;
    if ((m.mapType === MapType.MAPPED || m.mapType === MapType.UNWRITTEN) && m.mapDev !== 1) return true; // dev 1: the one registered
    return false;
  }

  /** `cut`: bad replies whose refusal lies past the end of the run (none, on a clean cut). */
  function judge(evs: TraceEvent[]): { bad: number; refused: number; unrefused: string[]; cut: number } {
    const pos = new Map<string, number>();
    let bad = 0;
    const unrefused: string[] = [];
    const pending = new Map<string, number>();
    for (const e of evs) {
      if (e.kind === 'iomap_begin') pos.set(e.task, e.posBytes);
      if (e.kind === 'iomap_map' && e.source === 'reply' && e.slot === 'read' && isBad(e, pos.get(e.task)!)) {
        bad++;
        pending.set(e.task, e.tsNs);
      } else if (e.kind === 'iomap_bad_data') pending.delete(e.task);
      else if ('task' in e && pending.has(e.task) && e.kind !== 'iomap_map') unrefused.push(`${e.task} ${e.kind} at ${e.tsNs}`);
    }
    return { bad, refused: of(evs, 'iomap_bad_data').length, unrefused, cut: pending.size };
  }

  it('every wrong reply is refused at once (fuse_iomap_bad_data), and nothing else is', () => {
    const evs = runClean(spec, { seed: 8 }, 20_000);
    const { bad, refused, unrefused, cut } = judge(evs);
    expect(bad).toBeGreaterThan(50);
    // Cut cleanly: every bad reply's refusal is in the run (`unrefused` would list any later event of its task).
    expect(cut).toBe(0);
    expect(refused).toBe(bad);
    expect(unrefused).toEqual([]);
    // All six kinds of mistake show up, with five reasons (no device and an unregistered one read alike).
    const reasons = new Set(of(evs, 'iomap_bad_data').map((b) => b.message.replace(/\d+/g, 'N')));
    expect([...reasons].sort()).toEqual([
      'read mapping: device N is not a registered iomap device',
      'read mapping: does not contain pos N',
      'read mapping: offset/length not aligned to N',
      'read mapping: pure overwrite is only allowed in the write slot',
      'read mapping: zero length',
    ]);
    for (const b of of(evs, 'iomap_bad_data')) expect(b.error).toBe(-EUCLEAN);
  });

  it('the syscall that got a refused mapping fails: EIO for a buffered read, EFSCORRUPTED otherwise', () => {
    const evs = runClean(spec, { seed: 8 }, 20_000);
    let failed = 0;
    for (const prefix of ['breader/', 'dreader/', 'dwriter/', 'bwriter/']) {
      for (const { begin, end, inner } of appOps(evs, prefix)) {
        if (!inner.some((e) => e.kind === 'iomap_bad_data')) {
          expect(end.ret).toBeGreaterThanOrEqual(0);
          continue;
        }
        expect(end.ret).toBe(begin.op === 'pread' && prefix === 'breader/' ? -EIO : -EUCLEAN);
        failed++;
      }
    }
    expect(failed).toBeGreaterThan(30);
  });

  it('with the server\'s cache on, a refused mapping is never upserted nor served from the cache', () => {
    const evs = run({ ...spec, serverCache: true }, { seed: 8 }, 20_000);
    const { bad, refused, unrefused } = judge(evs);
    expect(bad).toBeGreaterThan(3);
    expect(refused).toBe(bad);
    expect(unrefused).toEqual([]);
    for (const u of of(evs, 'cache_upsert')) {
      expect(u.mapLenBytes % B === 0 && u.mapLenBytes > 0 && u.mapOffsetBytes % B === 0).toBe(true);
      if (u.mapType === MapType.MAPPED || u.mapType === MapType.UNWRITTEN) expect(u.mapDev).toBe(1);
    }
  });
});

describe('the new scenarios in the product', () => {
  it.each(NEW)('%s goes through the NDJSON import without diagnostics, every event intact', (name) => {
    const evs = run(SCENARIOS[name]!, { seed: 2 }, 4_000);
    const text = [headerLine({ originNs: '0', source: name, clock: `sim:${name}` }), ...evs.map(eventLine)].join('\n') + '\n';
    const res = importText([{ name: `${name}.ndjson`, text, format: 'ndjson' }]);
    expect(res.parseDiags).toEqual([]);
    expect(res.diags).toEqual([]);
    expect(res.raw[0]).toHaveLength(evs.length);
    expect(res.raw[0]).toEqual(evs);
  });

  it('the scenario list the UI and `sim --list` show offers all four, each with its one-line "you should see"', () => {
    const list = listScenarios(new Map());
    for (const name of NEW) {
      const entry = list.find((s) => s.name === name)!;
      expect(entry).toBeDefined();
      const last = entry.description.split(/(?<=\.)\s+/).pop()!;
      expect(last).toMatch(/^You should see /);
    }
  });

  it('the list says which runs have no mapping cache and which revalidate cookies (the views\' empty states and figures name them)', () => {
    const by = new Map(listScenarios(new Map()).map((s) => [s.name, s]));
    // The catalogue: serverCache false, a kernel-ext4 baseline, cookieValidation false / true.
    expect(by.get('cache-hit-miss-nocache')!.noCacheWhy).toMatch(/noiomap_cache/);
    expect(by.get('random-dio-ext4')!.noCacheWhy).toMatch(/kernel-ext4 baseline/);
    expect(by.get('cache-hit-miss')!.noCacheWhy).toBeUndefined();
    expect(by.get('stale-mapping')!.cookieValidation).toBe(false);
    expect(by.get('stale-mapping-checked')!.cookieValidation).toBe(true);
  });
});
