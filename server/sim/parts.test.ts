import { describe, expect, it } from 'vitest';
import { ChunkedList } from './chunked.ts';
import { Proc, Scheduler, PARK, type ProcStep } from './clock.ts';
import { DirtyRanges } from './kernel/dirty-ranges.ts';
import { RwSem } from './kernel/rwsem.ts';
import { validateMapping } from './kernel/validate.ts';
import { Prng } from './prng.ts';
import { DEFAULT_SCENARIO_NAME, SCENARIOS, parseScenario } from './scenarios/index.ts';
import { ExtentMap } from './server/extent-map.ts';
import { CACHE_DEFAULT_MAX_BYTES, IOMAP_BEGIN_IN_BYTES, MapType, NULL_ADDR, Opcode, encodeReply, encodeRequest } from '../../src/trace/fuse-proto.ts';
import { MsgBuf, encodeReplyInto, outError, outLen, outUnique, readInHeaderInto, startRequest } from './proto.ts';
import { MappingCache } from './kernel/mapping-cache.ts';
import { asNodeId, NO_NODE_ID } from '../../src/trace/ids.ts';

describe('Prng', () => {
  it('is deterministic per seed and spreads', () => {
    const a = new Prng(42), b = new Prng(42), c = new Prng(43);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c.next())).not.toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
    expect(new Prng(2 ** 40).nextU32()).not.toBe(new Prng(0).nextU32());
  });
});

describe('Scheduler', () => {
  it('runs ties in scheduling order and resumes parked processes with a value', () => {
    const s = new Scheduler();
    const log: string[] = [];
    const waiter = new Proc('w/1', 1);
    function* sleeper(name: string, ns: number): ProcStep { yield ns; log.push(`${name}@${s.nowNs}`); }
    function* parked(): ProcStep { const v = yield PARK; log.push(`woke ${String(v)}@${s.nowNs}`); }
    function* waker(): ProcStep { yield 10; s.wake(waiter, 'hi', 5); }
    s.spawn(new Proc('a/2', 2), sleeper('a', 10), 0);
    s.spawn(new Proc('b/3', 3), sleeper('b', 10), 0);
    s.spawn(waiter, parked(), 0);
    s.spawn(new Proc('k/4', 4), waker(), 0);
    while (s.step());
    expect(log).toEqual(['a@10', 'b@10', 'woke hi@15']);
  });
  it('in-place advances (advanceIfNext) give the same run as plain yields', () => {
    // Sleeps on a 10 ns grid (many ties) plus park/wake handoffs; one log per resume.
    function run(inPlace: boolean): string[] {
      const s = new Scheduler();
      const prng = new Prng(7);
      const log: string[] = [];
      const procs = [1, 2, 3].map((i) => new Proc(`p/${i}`, i));
      const sleeper = new Proc('z/9', 9);
      function* body(p: Proc): ProcStep {
        for (let k = 0; k < 300; k++) {
          const ns = 10 * prng.int(0, 4);
          if (!inPlace || !s.advanceIfNext(ns)) yield ns;
          log.push(`${p.task}@${s.nowNs}:${prng.int(0, 1000)}`);
          if (k % 50 === 49 && sleeper.isParked) s.wake(sleeper, k, 5);
        }
      }
      function* parked(): ProcStep { for (;;) { const v = yield PARK; log.push(`z woke ${String(v)}@${s.nowNs}`); } }
      s.spawn(sleeper, parked(), 0);
      for (const p of procs) s.spawn(p, body(p), 0);
      while (s.step());
      return log;
    }
    const plain = run(false);
    expect(plain.length).toBeGreaterThan(900);
    expect(run(true)).toEqual(plain);
  });
});

describe('ChunkedList', () => {
  it('behaves like a sorted plain array under splices across chunk boundaries', () => {
    const prng = new Prng(3);
    const ref: number[] = [];
    const list = new ChunkedList<number>((x) => x);
    for (let op = 0; op < 4000; op++) {
      // Insert at the sorted position, or cut a run (sometimes longer than a chunk).
      if (ref.length === 0 || prng.next() < 0.7) {
        const v = prng.int(0, 100_000);
        const at = list.floorIdx(v) + 1;
        list.splice(at, 0, [v]);
        ref.splice(at, 0, v);
      } else {
        const at = prng.int(0, ref.length);
        const del = prng.next() < 0.1 ? prng.int(0, 600) : prng.int(0, 3);
        list.splice(at, del, []);
        ref.splice(at, del);
      }
      expect(list.length).toBe(ref.length);
      const q = prng.int(0, 100_001);
      let want = -1;
      while (want + 1 < ref.length && ref[want + 1]! <= q) want++;
      expect(list.floorIdx(q)).toBe(want);
      const i = prng.int(0, ref.length + 1);
      expect(list.at(i)).toBe(ref[i]);
    }
    expect(list.toArray()).toEqual(ref);
  });
});

describe('RwSem', () => {
  it('FIFO: a queued writer blocks later readers; release grants the head run', () => {
    const sem = new RwSem();
    const [r1, w, r2, r3] = [1, 2, 3, 4].map((i) => new Proc(`t/${i}`, i)) as [Proc, Proc, Proc, Proc];
    expect(sem.tryAcquire(r1, 'R')).toBe(true);
    expect(sem.tryAcquire(w, 'W')).toBe(false);
    sem.enqueue(w, 'W');
    expect(sem.tryAcquire(r2, 'R')).toBe(false); // writer waiting
    sem.enqueue(r2, 'R');
    sem.enqueue(r3, 'R');
    expect(sem.release(r1, 'R')).toEqual([w]);
    expect(sem.holders).toEqual({ readers: 0, hasWriter: true });
    expect(sem.release(w, 'W')).toEqual([r2, r3]);
    expect(sem.holders).toEqual({ readers: 2, hasWriter: false });
  });
});

describe('DirtyRanges', () => {
  it('merges page-rounded ranges and takes/extracts them', () => {
    const d = new DirtyRanges();
    d.add(100, 10); // → [0, 4096)
    d.add(8192, 4096);
    d.add(4096, 1); // bridges both
    expect(d.toArray()).toEqual([[0, 12288]]);
    d.add(40960, 4096);
    expect(d.extract(8192, 45056)).toEqual([[8192, 12288], [40960, 45056]]);
    expect(d.toArray()).toEqual([[0, 8192]]);
    expect(d.takeFirst(4096)).toEqual([0, 4096]);
    expect(d.takeFirst(1 << 20)).toEqual([4096, 8192]);
    expect(d.isEmpty).toBe(true);
  });
});

describe('ExtentMap', () => {
  it('finds extents and holes, converts unwritten ranges, and merges back', () => {
    const m = new ExtentMap();
    m.insert({ fileBlk: 0, lenBlk: 4, physBlk: 100, isUnwritten: false });
    m.insert({ fileBlk: 10, lenBlk: 6, physBlk: 200, isUnwritten: true });
    expect(m.lookup(5)).toEqual({ kind: 'hole', startBlk: 4, endBlk: 10 });
    expect(m.lookup(20)).toEqual({ kind: 'hole', startBlk: 16, endBlk: Infinity });
    expect(m.convert(12, 14)).toBe(2);
    expect(m.toArray().map((e) => [e.fileBlk, e.lenBlk, e.isUnwritten])).toEqual([[0, 4, false], [10, 2, true], [12, 2, false], [14, 2, true]]);
    expect(m.convert(0, 100)).toBe(4);
    expect(m.toArray().map((e) => [e.fileBlk, e.lenBlk, e.physBlk, e.isUnwritten])).toEqual([[0, 4, 100, false], [10, 6, 200, false]]);
    m.insert({ fileBlk: 4, lenBlk: 6, physBlk: 104, isUnwritten: false }); // contiguous on both sides? only left
    expect(m.count).toBe(2);
    expect(() => m.insert({ fileBlk: 3, lenBlk: 2, physBlk: 1, isUnwritten: false })).toThrow(/overlaps/);
  });
});

describe('validateMapping', () => {
  const ctx = { posBytes: 8192, blockBytes: 4096, maxBytes: 2 ** 44, hasCache: false, isDevRegistered: (d: number) => d === 1 };
  const mapped = { offsetBytes: 4096n, lenBytes: 8192n, addr: 1n << 20n, type: MapType.MAPPED, flags: 0, dev: 1 };
  it('accepts good mappings and names what is wrong with bad ones', () => {
    expect(validateMapping(mapped, 'read', ctx)).toBeNull();
    expect(validateMapping({ ...mapped, type: MapType.PURE_OVERWRITE, addr: NULL_ADDR, dev: 0 }, 'write', ctx)).toBeNull();
    expect(validateMapping({ ...mapped, type: MapType.PURE_OVERWRITE }, 'read', ctx)).toMatch(/write slot/);
    expect(validateMapping({ ...mapped, offsetBytes: 4608n }, 'read', ctx)).toMatch(/aligned/);
    expect(validateMapping({ ...mapped, lenBytes: 0n }, 'read', ctx)).toMatch(/zero length/);
    expect(validateMapping({ ...mapped, offsetBytes: 12288n }, 'read', ctx)).toMatch(/does not contain pos/);
    expect(validateMapping({ ...mapped, dev: 0 }, 'read', ctx)).toMatch(/device/);
    expect(validateMapping({ ...mapped, dev: 2 }, 'read', ctx)).toMatch(/device/);
    expect(validateMapping({ ...mapped, addr: NULL_ADDR }, 'read', ctx)).toMatch(/null address/);
    expect(validateMapping({ ...mapped, type: MapType.HOLE }, 'read', ctx)).toMatch(/null device/);
    expect(validateMapping({ ...mapped, flags: 1 << 8 }, 'read', ctx)).toMatch(/flags/);
    expect(validateMapping({ ...mapped, type: MapType.RETRY_CACHE }, 'read', ctx)).toMatch(/no mapping cache/);
    expect(validateMapping({ ...mapped, type: MapType.NOCACHE }, 'read', ctx)).toMatch(/nocache/);
    expect(validateMapping({ ...mapped, type: 77 }, 'read', ctx)).toMatch(/unknown type/);
  });
});

describe('scenarios', () => {
  it('every built-in scenario survives the validator unchanged apart from defaults', () => {
    expect(SCENARIOS[DEFAULT_SCENARIO_NAME]).toBeDefined();
    for (const [name, spec] of Object.entries(SCENARIOS)) {
      const parsed = parseScenario(JSON.parse(JSON.stringify(spec)));
      expect(parsed.name).toBe(name);
      expect(parsed.threads.length).toBe(spec.threads.length);
      expect(parseScenario(JSON.parse(JSON.stringify(parsed)))).toEqual(parsed);
    }
    for (const name of ['hardlink-alias-race', 'streaming-buffered', 'streaming-dio', 'random-dio']) expect(SCENARIOS[name]).toBeDefined();
  });
  it('rejects bad input with the field path', () => {
    const good = JSON.parse(JSON.stringify(SCENARIOS['hardlink-alias-race']));
    const bad = (mut: (s: any) => void) => { const s = structuredClone(good); mut(s); return () => parseScenario(s); };
    expect(() => parseScenario(null)).toThrow(/^scenario: expected an object/);
    expect(bad((s) => { s.threads[1].ops[0].lenBytes = 1000; })).toThrow(/^scenario\.threads\[1\]\.ops\[0\]\.lenBytes: direct IO needs a multiple of 4096/);
    expect(bad((s) => { s.threads[0].path = '/nope'; })).toThrow(/^scenario\.threads\[0\]\.path: \/nope is not one of the files/);
    expect(bad((s) => { s.policy = 'inode'; })).toThrow(/^scenario\.policy: expected one of per-path, ino/);
    expect(bad((s) => { s.revision = 'v9'; })).toThrow(/^scenario\.revision:/);
    expect(bad((s) => { s.files[0].links = ['/d1/file']; })).toThrow(/used twice/);
    expect(bad((s) => { s.files[0].sizeBytes = -1; })).toThrow(/^scenario\.files\[0\]\.sizeBytes:/);
    expect(bad((s) => { s.bogus = 1; })).toThrow(/^scenario\.bogus: unknown field/);
    expect(bad((s) => { s.costs.devNsPerKiB = 'fast'; })).toThrow(/^scenario\.costs\.devNsPerKiB:/);
    expect(bad((s) => { s.faults = { badMappingEvery: 0 }; })).toThrow(/^scenario\.faults\.badMappingEvery:/);
  });
  it('fills defaults for a minimal user scenario', () => {
    const s = parseScenario({ files: [{ path: '/f', sizeBytes: 8192 }], threads: [{ path: '/f', ops: [{ kind: 'read', lenBytes: 4096 }] }] });
    expect(s.policy).toBe('per-path');
    expect(s.revision).toBe('v7');
    expect(s.threads[0]!.ops[0]).toMatchObject({ direct: false, pattern: 'sequential', weight: 1, spanBytes: 8192 });
  });
});

describe('MappingCache', () => {
  const rec = (offBytes: number, lenBytes: number, type: number = MapType.MAPPED, addr = 1_000_000 + offBytes) =>
    ({ offBytes, lenBytes, addr: type === MapType.HOLE ? -1 : addr, type, flags: 0, dev: type === MapType.HOLE ? 0 : 1 });
  it('upserts replace overlaps, merge contiguous records and bump ic_seq', () => {
    const c = new MappingCache(CACHE_DEFAULT_MAX_BYTES, 2 ** 44);
    expect(c.seq).toBe(1);
    c.upsert('read', rec(0, 8192));
    c.upsert('read', rec(8192, 8192));
    expect(c.records('read')).toHaveLength(1); // contiguous in file and disk → merged
    expect(c.lookup('read', 12_000)!.lenBytes).toBe(16384);
    c.upsert('read', rec(4096, 4096, MapType.UNWRITTEN));
    expect(c.records('read').map((r) => [r.offBytes, r.lenBytes, r.type])).toEqual([[0, 4096, 2], [4096, 4096, 3], [8192, 8192, 2]]);
    expect(c.seq).toBeGreaterThan(3);
    expect(c.lookup('read', 20_000)).toBeNull(); // a record starting after pos is a miss
  });
  it('PURE_OVERWRITE into the absent write fork is a no-op; whole-fork removal does not bump', () => {
    const c = new MappingCache(CACHE_DEFAULT_MAX_BYTES, 2 ** 44);
    expect(c.upsert('write', rec(0, 4096, MapType.PURE_OVERWRITE)).applied).toBe(false);
    expect(c.hasFork('write')).toBe(false);
    c.upsert('read', rec(0, 4096));
    const before = c.seq;
    expect(c.remove('read', 0, 2 ** 44)).toBe('whole');
    expect(c.seq).toBe(before);
    c.upsert('read', rec(0, 16384));
    const s2 = c.seq;
    expect(c.remove('read', 4096, 8192)).toBe('range');
    expect(c.seq).toBe(s2 + 1);
    expect(c.records('read').map((r) => [r.offBytes, r.addr])).toEqual([[0, 1_000_000], [8192, 1_008_192]]);
  });
  it('drops the whole fork when it is already over the cap before an insert', () => {
    const c = new MappingCache(64, 2 ** 44); // 2 records × 32 B
    for (let i = 0; i < 3; i++) c.upsert('read', rec(i * 8192, 4096));
    expect(c.records('read')).toHaveLength(3);
    expect(c.upsert('read', rec(100 * 4096, 4096)).overflowDropped).toBe(true);
    expect(c.records('read')).toHaveLength(1);
  });
});

describe('message buffers (proto.ts)', () => {
  it('encode the same bytes as fuse-proto, reused and zeroed', () => {
    const m = new MsgBuf();
    m.take(200).fill(0xee); // a dirty buffer: take() must zero what it hands out
    const unique = 2 ** 40 + 6, nodeId = 2 ** 33 + 5;
    const req = startRequest(m, Opcode.IOMAP_BEGIN, unique, asNodeId(nodeId), 1001, IOMAP_BEGIN_IN_BYTES);
    const want = encodeRequest({ opcode: Opcode.IOMAP_BEGIN, unique: BigInt(unique), nodeid: BigInt(nodeId), uid: 0, gid: 0, pid: 1001 }, IOMAP_BEGIN_IN_BYTES);
    expect([...req]).toEqual([...want]);
    const h = { len: 0, opcode: 0, unique: 0, nodeId: NO_NODE_ID, pid: 0 };
    readInHeaderInto(req, h);
    expect(h).toEqual({ len: want.byteLength, opcode: Opcode.IOMAP_BEGIN, unique, nodeId, pid: 1001 });
    const rep = encodeReplyInto(m, -117, unique, 8, (dv, at) => dv.setUint32(at, 7, true));
    const wantRep = encodeReply({ error: -117, unique: BigInt(unique) }, 8, (dv, at) => dv.setUint32(at, 7, true));
    expect([...rep]).toEqual([...wantRep]);
    expect([outLen(rep), outError(rep), outUnique(rep)]).toEqual([24, -117, unique]);
    expect([...m.replyBody(rep.byteLength)]).toEqual([...wantRep.subarray(16)]);
  });
});
