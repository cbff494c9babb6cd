// Trace shapes as the kernel emits them (issue #15 item 3), checked on the simulator's own events
// and, where an importer path exists, against ftrace lines written by hand from the v7 tracepoint
// formats (docs/domain.md §4.4, §4.7) — the importer must read those as the sim's events.

import { describe, expect, it } from 'vitest';
import { IoendFlag, MapType, NULL_ADDR, Opcode, isWriteish } from '../../src/trace/fuse-proto.ts';
import { importText } from '../../src/trace/import/testing.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';
import { SCENARIOS, Simulation, type SimOptions } from './index.ts';

function run(name: string, opts: SimOptions, events: number): TraceEvent[] {
  const evs: TraceEvent[] = [];
  new Simulation(SCENARIOS[name]!, opts).runEvents(events, (e) => evs.push(e));
  return evs;
}

/** The cache lookups a task makes right after each iomap_begin, before its upcall (or its hit). */
function lookupRounds(evs: TraceEvent[]): { begin: EventOf<'iomap_begin'>; lookups: EventOf<'cache_lookup'>[] }[] {
  const open = new Map<string, { begin: EventOf<'iomap_begin'>; lookups: EventOf<'cache_lookup'>[] }>();
  const out: { begin: EventOf<'iomap_begin'>; lookups: EventOf<'cache_lookup'>[] }[] = [];
  // A round that starts near the end may be cut off by the event budget: leave those out.
  const lastBegin = evs.length - 200;
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i]!;
    if (e.kind === 'iomap_begin' && i < lastBegin) {
      const r = { begin: e, lookups: [] };
      open.set(e.task, r);
      out.push(r);
    } else if (e.kind === 'iomap_begin') open.delete(e.task);
    else if (e.kind === 'cache_lookup') open.get(e.task)?.lookups.push(e);
    else if ((e.kind === 'fuse_send' || e.kind === 'iomap_iter_end') && 'task' in e) open.delete(e.task);
  }
  return out;
}

const TYPE_NAME: Record<number, string> = { [MapType.HOLE]: 'hole', [MapType.DELALLOC]: 'delalloc', [MapType.MAPPED]: 'mapped', [MapType.UNWRITTEN]: 'unwritten' };
const hex = (n: number | bigint) => `0x${n.toString(16)}`;

describe('cache lookups: write fork, then read fork (§3.3, §3.4)', () => {
  // cache-hit-miss: readers and writers of files the server upserts into the cache.
  const evs = run('cache-hit-miss', { seed: 7, revision: 'v7' }, 20_000);
  const rounds = lookupRounds(evs).filter((r) => r.lookups.length > 0);

  it('a buffered write on an in-place server looks in the absent write fork, then decides on the read fork', () => {
    const writes = rounds.filter((r) => isWriteish(r.begin.opflags));
    expect(writes.length).toBeGreaterThan(50);
    for (const { lookups } of writes) {
      // The sim's server never upserts a write fork (PURE_OVERWRITE), so the write fork is absent:
      // neither hit nor miss, and the read-fork lookup follows at once (§4.7's two lookup lines).
      expect(lookups[0]).toMatchObject({ fork: 'write', hit: false, forkAbsent: true });
      expect(lookups[1], JSON.stringify(lookups.map((l) => [l.fork, l.hit, l.forkAbsent, l.task]))).toMatchObject({ fork: "read", forkAbsent: false });
      expect(lookups[0]!.posBytes).toBe(lookups[1]!.posBytes);
    }
  });

  it('a read looks in the read fork only, and never says forkAbsent', () => {
    const reads = rounds.filter((r) => !isWriteish(r.begin.opflags));
    expect(reads.length).toBeGreaterThan(10);
    for (const { lookups } of reads) {
      expect(lookups[0]).toMatchObject({ fork: 'read', forkAbsent: false });
      expect(lookups.every((l) => l.fork === 'read')).toBe(true);
    }
  });

  it('the importer reads the kernel lines for such a lookup pair as the sim emitted it', () => {
    const r = rounds.find((x) => isWriteish(x.begin.opflags) && x.lookups[1]?.hit === true && TYPE_NAME[x.lookups[1].mapType] !== undefined)!;
    expect(r).toBeDefined();
    const [w, rd] = r.lookups as [EventOf<'cache_lookup'>, EventOf<'cache_lookup'>];
    const ino = Number(r.begin.ino), nodeid = Number(r.begin.nodeId);
    const head = `connection 45 ino ${ino} nodeid ${nodeid} isize 0x0 idisksize 0x0`;
    const rng = `pos ${hex(w.posBytes)} length ${hex(w.lenBytes)}`;
    // §1.7: DIRTY is 1<<1, printed `dirty`; the sim's cached read mappings carry no other flag.
    expect(rd.mapFlags & ~2).toBe(0);
    const m = `offset ${hex(rd.mapOffsetBytes)} length ${hex(rd.mapLenBytes)} type ${TYPE_NAME[rd.mapType]} dev ${rd.mapDev} addr ${hex(rd.mapAddr)} mapflags (${rd.mapFlags === 2 ? 'dirty' : ''})`;
    const text = [
      `              dd-2817    [002] .....   512.104240: fuse_iomap_begin: ${head} opflags (write) ${rng}`,
      `              dd-2817    [002] .....   512.104241: fuse_iomap_cache_lookup: ${head} ${rng} iodir write caller fuse_iomap_try_cache+0x5c/0x3a0`,
      `              dd-2817    [002] .....   512.104242: fuse_iomap_cache_lookup: ${head} ${rng} iodir read caller fuse_iomap_try_cache+0x1d4/0x3a0`,
      `              dd-2817    [002] .....   512.104243: fuse_iomap_cache_lookup_result: ${head} ${rng} iodir read map${m} got${m} cookie ${hex(rd.cookie)}`,
      '',
    ].join('\n');
    const imported = importText([{ name: 't', text, format: 'ftrace' }]).raw[0]!.filter((e): e is EventOf<'cache_lookup'> => e.kind === 'cache_lookup');
    const pick = (l: EventOf<'cache_lookup'>) => [l.fork, l.hit, l.forkAbsent, l.posBytes, l.lenBytes, l.cookie, l.mapType, l.mapFlags, l.mapOffsetBytes, l.mapLenBytes, l.mapAddr];
    expect(imported.map(pick)).toEqual([pick(w), pick(rd)]);
  });
});

describe('writeback ioend new_addr in 512-byte sectors (§1.5, §4.4)', () => {
  const evs = run('streaming-buffered', { seed: 3, revision: 'v7' }, 20_000);

  /** Each writeback ioend with the disk byte address its mapping gives for its pos. */
  function writebackIoends(): { ioend: EventOf<'iomap_ioend'>; diskByteAddr: bigint }[] {
    const lastDest = new Map<string, EventOf<'iomap_map'>>();
    const out: { ioend: EventOf<'iomap_ioend'>; diskByteAddr: bigint }[] = [];
    for (const e of evs) {
      // The server's write slot is PURE_OVERWRITE, so the read slot is the destination (§1.5).
      if (e.kind === 'iomap_map' && e.slot === 'read') lastDest.set(e.task, e);
      if (e.kind !== 'iomap_ioend' || (e.ioendFlags & IoendFlag.WRITEBACK) === 0 || e.error !== 0) continue;
      const m = lastDest.get(e.task);
      if (!m || e.posBytes < m.mapOffsetBytes || e.posBytes >= m.mapOffsetBytes + m.mapLenBytes) continue;
      out.push({ ioend: e, diskByteAddr: m.mapAddr + BigInt(e.posBytes - m.mapOffsetBytes) });
    }
    return out;
  }

  it('new_addr is the byte address of pos divided by 512', () => {
    const ioends = writebackIoends();
    expect(ioends.length).toBeGreaterThan(20);
    for (const { ioend, diskByteAddr } of ioends) {
      expect(diskByteAddr % 512n).toBe(0n); // blocks are 4 KiB-aligned on disk
      expect(ioend.newAddr).toBe(diskByteAddr / 512n);
    }
  });

  it('direct-write ioends carry the null address', () => {
    const dio = run('streaming-dio', { seed: 3, revision: 'v7' }, 10_000).filter((e): e is EventOf<'iomap_ioend'> => e.kind === 'iomap_ioend');
    expect(dio.length).toBeGreaterThan(5);
    for (const e of dio) expect(e.newAddr).toBe(NULL_ADDR);
  });

  it("the importer reads the kernel's fuse_iomap_ioend line as the sim's event", () => {
    const { ioend: e } = writebackIoends().find((x) => x.ioend.sent)!;
    expect(e.ioendFlags & ~(IoendFlag.WRITEBACK | IoendFlag.APPEND | IoendFlag.UNWRITTEN)).toBe(0);
    const names = [e.ioendFlags & IoendFlag.UNWRITTEN ? 'unwritten' : '', e.ioendFlags & IoendFlag.APPEND ? 'append' : '', 'writeback'].filter(Boolean).join('|');
    const head = `connection 45 ino ${Number(e.ino)} nodeid ${Number(e.nodeId)} isize 0x0 idisksize 0x0`;
    const text = [
      `   kworker/u33:2-211     [006] .....   515.220003: fuse_iomap_ioend: ${head} pos ${hex(e.posBytes)} length ${hex(e.writtenBytes)} ioendflags (${names}) error 0 dev 1 new_addr ${hex(e.newAddr)}`,
      '',
    ].join('\n');
    const imported = importText([{ name: 't', text, format: 'ftrace' }]).raw[0]!.filter((x): x is EventOf<'iomap_ioend'> => x.kind === 'iomap_ioend');
    expect(imported.map((x) => [x.posBytes, x.writtenBytes, x.ioendFlags, x.newAddr])).toEqual([[e.posBytes, e.writtenBytes, e.ioendFlags, e.newAddr]]);
  });
});

describe('mount: FUSE_INIT, then IOMAP_CONFIG with the cache size limit (§1.2, §1.5, §1.10)', () => {
  const sends = (evs: TraceEvent[]) => evs.filter((e): e is EventOf<'fuse_send'> => e.kind === 'fuse_send');

  it('v7: INIT then IOMAP_CONFIG (nodeid 0, 40 + 64 bytes each) come before any file request', () => {
    const evs = run('cache-hit-miss', { seed: 1, revision: 'v7' }, 2_000);
    const [init, config, first] = sends(evs);
    expect([init!.opcode, init!.nodeId, init!.lenBytes]).toEqual([Opcode.INIT, 0, 104]);
    expect([config!.opcode, config!.nodeId, config!.lenBytes]).toEqual([Opcode.IOMAP_CONFIG, 0, 104]);
    expect(first!.opcode).toBe(Opcode.LOOKUP);
    // The v7 reply is the 104-byte fuse_iomap_config_out (with cache_maxbytes) after a 16-byte header.
    const reply = evs.find((e): e is EventOf<'fuse_reply'> => e.kind === 'fuse_reply' && e.opcode === Opcode.IOMAP_CONFIG)!;
    expect([reply.error, reply.lenBytes]).toEqual([0, 120]);
    // No app operation starts before the handshake is answered.
    const firstApp = evs.findIndex((e) => e.kind === 'app_op_begin');
    expect(firstApp).toBeGreaterThan(evs.indexOf(reply));
  });

  it('v6 sends IOMAP_CONFIG with the 96-byte reply (no cache field); RFC v1 and v3 send none', () => {
    const v6 = run('cache-hit-miss', { seed: 1, revision: 'v6' }, 2_000);
    expect(sends(v6).slice(0, 2).map((s) => s.opcode)).toEqual([Opcode.INIT, Opcode.IOMAP_CONFIG]);
    expect(v6.find((e): e is EventOf<'fuse_reply'> => e.kind === 'fuse_reply' && e.opcode === Opcode.IOMAP_CONFIG)!.lenBytes).toBe(112);
    for (const revision of ['rfc-v1', 'v3'] as const) {
      const ops = sends(run('cache-hit-miss', { seed: 1, revision }, 2_000)).map((s) => s.opcode);
      expect(ops[0]).toBe(Opcode.INIT);
      expect(ops).not.toContain(Opcode.IOMAP_CONFIG);
    }
  });

  it("the cache size limit the server returns is the one the kernel's cache keeps (v7 only)", () => {
    // 256 B (the smallest allowed) = 8 records of 32 B: a fork above that is dropped whole at the next upsert (§3.1).
    const spec = { ...SCENARIOS['random-dio']!, cacheMaxBytes: 256 };
    const drops = (revision: 'v6' | 'v7') => {
      const evs: TraceEvent[] = [];
      new Simulation(spec, { seed: 2, revision }).runEvents(20_000, (e) => evs.push(e));
      return evs.filter((e) => e.kind === 'cache_drop' && e.reason === 'overflow').length;
    };
    expect(drops('v7')).toBeGreaterThan(0);
    // v6 has no cache field in IOMAP_CONFIG: the kernel keeps 256 KiB (8192 records), never reached here.
    expect(drops('v6')).toBe(0);
  });
});
