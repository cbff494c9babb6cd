// Trace shapes as the kernel emits them (issue #15 item 3), checked on the simulator's own events
// and, where an importer path exists, against ftrace lines written by hand from the v7 tracepoint
// formats (docs/domain.md §4.4, §4.7) — the importer must read those as the sim's events.

import { describe, expect, it } from 'vitest';
import { IoendFlag, MapType, NULL_ADDR, Opcode, REVISIONS, isWriteish, readIomapIoendIn } from '../../src/trace/fuse-proto.ts';
import { importText } from '../../src/trace/import/testing.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';
import { SCENARIOS, Simulation, type ScenarioSpec, type SimOptions } from './index.ts';
import { Proc, type ProcStep } from './clock.ts';
import { SimCore } from './core.ts';
import { newFuseInode } from './kernel/inode.ts';
import type { Reply } from './kernel/transport.ts';
import { Writeback } from './kernel/writeback.ts';
import { Vfs } from './kernel/vfs.ts';
import { ENTRY_OUT_BYTES, O_DIRECT, O_RDWR, O_TRUNC, writeEntryOut } from './proto.ts';
import { DEFAULT_COSTS } from './scenarios/index.ts';
import { asIno, asNodeId } from '../../src/trace/ids.ts';

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
    // The flusher's writeback mappings per nodeid; the ioend itself comes from the completion worker.
    const wbDest = new Map<number, EventOf<'iomap_map'>[]>();
    const out: { ioend: EventOf<'iomap_ioend'>; diskByteAddr: bigint }[] = [];
    for (const e of evs) {
      // The server's write slot is PURE_OVERWRITE, so the read slot is the destination (§1.5).
      if (e.kind === 'iomap_map' && e.slot === 'read' && e.task.startsWith('kworker/u8:1/')) {
        const l = wbDest.get(e.nodeId) ?? [];
        l.push(e);
        wbDest.set(e.nodeId, l);
      }
      if (e.kind !== 'iomap_ioend' || (e.ioendFlags & IoendFlag.WRITEBACK) === 0 || e.error !== 0) continue;
      const m = wbDest.get(e.nodeId)?.findLast((x) => e.posBytes >= x.mapOffsetBytes && e.posBytes < x.mapOffsetBytes + x.mapLenBytes);
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

describe('open(2) sends FUSE_OPEN, the last close FUSE_RELEASE (upstream fuse, §1.5)', () => {
  /** Runs a spec to its end (every thread has an opCount) and returns all its events. */
  function runToEnd(spec: ScenarioSpec, opts: SimOptions): TraceEvent[] {
    const evs: TraceEvent[] = [];
    const sim = new Simulation(spec, opts);
    sim.runEvents(200_000, (e) => evs.push(e));
    expect(sim.done).toBe(true);
    return evs;
  }
  const base = SCENARIOS['streaming-buffered']!;
  const finite: ScenarioSpec = {
    ...base,
    threads: [
      { name: 'w', path: '/data/stream', thinkNs: 10_000, opCount: 3, ops: [{ kind: 'write', direct: false, pattern: 'sequential', lenBytes: 65536, weight: 1 }] },
      { name: 'r', path: '/data/stream', thinkNs: 10_000, opCount: 2, ops: [{ kind: 'read', direct: true, pattern: 'sequential', lenBytes: 65536, weight: 1 }] },
    ],
  };

  it('each thread: LOOKUP, OPEN (48 B) inside its open, ops, then RELEASE (64 B) inside its close, answered after close returned', () => {
    const evs = runToEnd(finite, { seed: 5, revision: 'v7' });
    const replies = new Map(evs.filter((e): e is EventOf<'fuse_reply'> => e.kind === 'fuse_reply').map((r) => [r.unique, { r, at: evs.indexOf(r) }]));
    for (const task of new Set(evs.filter((e) => e.kind === 'app_op_begin').map((e) => e.task))) {
      const mine = evs.filter((e) => e.task === task && (e.kind === 'app_op_begin' || e.kind === 'app_op_end' || (e.kind === 'fuse_send' && (e.opcode === Opcode.OPEN || e.opcode === Opcode.RELEASE))));
      const shape = mine.map((e) => e.kind === 'fuse_send' ? `send ${e.opcode} ${e.lenBytes}` : e.kind === 'app_op_begin' ? `begin ${e.op}` : e.kind === 'app_op_end' ? `end ${e.op}` : e.kind);
      const ops = task.startsWith('w/') ? 3 : 2;
      const io = task.startsWith('w/') ? 'pwrite' : 'pread';
      expect(shape).toEqual([
        'begin open', `send ${Opcode.OPEN} 48`, 'end open',
        ...Array.from({ length: ops }, () => [`begin ${io}`, `end ${io}`]).flat(),
        'begin close', `send ${Opcode.RELEASE} 64`, 'end close',
      ]);
      const open = mine[1] as EventOf<'fuse_send'>, release = mine[mine.length - 2] as EventOf<'fuse_send'>;
      const fileNode = evs.find((e): e is EventOf<'inode_lookup'> => e.kind === 'inode_lookup' && e.path === '/data/stream')!.nodeId;
      expect([open.nodeId, release.nodeId]).toEqual([fileNode, fileNode]);
      // OPEN's reply is fuse_open_out (16 B after the header); RELEASE's the bare header, error 0 =
      // the server knew the fh the kernel sent back. RELEASE is a background request: close does not wait.
      expect([replies.get(open.unique)!.r.lenBytes, replies.get(open.unique)!.r.error]).toEqual([32, 0]);
      expect([replies.get(release.unique)!.r.lenBytes, replies.get(release.unique)!.r.error]).toEqual([16, 0]);
      expect(replies.get(release.unique)!.at).toBeGreaterThan(evs.indexOf(mine[mine.length - 1]!));
    }
  });

  it('an O_TRUNC open: OPEN, then the VFS truncate (SETATTR) before open returns; the close releases it', () => {
    const spec: ScenarioSpec = {
      ...base,
      threads: [{ name: 't', path: '/data/stream', thinkNs: 10_000, opCount: 2, ops: [{ kind: 'open_trunc', direct: false, pattern: 'sequential', lenBytes: 4096, weight: 1 }] }],
    };
    const evs = runToEnd(spec, { seed: 5, revision: 'v7' });
    const shape = evs.filter((e) => e.task.startsWith('t/') && (e.kind === 'app_op_begin' || e.kind === 'app_op_end' || e.kind === 'fuse_send'))
      .map((e) => e.kind === 'fuse_send' ? e.opcode : e.kind === 'app_op_begin' ? `begin ${e.op}` : e.kind === 'app_op_end' ? `end ${e.op}` : e.kind);
    // First the thread's own (non-trunc) open; each open_trunc op opens, truncates and closes; exit closes the first fd.
    const trunc = ['begin open', Opcode.OPEN, Opcode.SETATTR, 'end open', 'begin close', Opcode.RELEASE, 'end close'];
    expect(shape).toEqual([
      'begin open', Opcode.LOOKUP, Opcode.LOOKUP, Opcode.OPEN, 'end open', ...trunc, ...trunc, 'begin close', Opcode.RELEASE, 'end close',
    ]);
  });

  it('fuse_open_in carries the flags without O_TRUNC (no atomic_o_trunc), fuse_release_in the fh OPEN returned', () => {
    const core = new SimCore(1, DEFAULT_COSTS);
    const sent: { opcode: number; body: Uint8Array; background: boolean }[] = [];
    const capture = (opcode: number, bodyBytes: number, fill: ((dv: DataView, at: number) => void) | undefined, background: boolean) => {
      const body = new Uint8Array(bodyBytes);
      fill?.(new DataView(body.buffer), 0);
      sent.push({ opcode, body, background });
    };
    const entry = new Uint8Array(ENTRY_OUT_BYTES);
    writeEntryOut(new DataView(entry.buffer), 0, { nodeId: asNodeId(7), ino: asIno(12), sizeBytes: 8192, mode: 0o100644, nlink: 1, attrFlags: 0 });
    // fuse_open_out by hand: fh = 0x1122334455 (u64 LE), open_flags 0, backing_id 0.
    const openOut = new Uint8Array([0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const inodes = new Map();
    const vfs = new Vfs(core, inodes, {
      transport: {
        *request(_p: Proc, opcode: number, _n: number, bodyBytes: number, fill?: (dv: DataView, at: number) => void): ProcStep<Reply> {
          capture(opcode, bodyBytes, fill, false);
          return { error: 0, body: opcode === Opcode.LOOKUP ? entry : opcode === Opcode.OPEN ? openOut : new Uint8Array(104) };
        },
        requestBackground(_p: Proc, opcode: number, _n: number, bodyBytes: number, fill?: (dv: DataView, at: number) => void) { capture(opcode, bodyBytes, fill, true); },
      },
      locks: { tryLock: () => true, *lockWait() { /* never contended here */ }, unlock: () => {} },
      iter: { *iterate() { throw new Error('not used'); } },
      wb: { *flushRange() { /* nothing dirty */ }, *ioend() { return 0; } },
      cache: { invalidateRange: () => {} },
      oracle: { changeBegin: () => 0, changeEnd: () => {} },
      classic: { *read() { throw new Error('not used'); }, *write() { throw new Error('not used'); } },
    }, { rootNodeId: asNodeId(1), blockBytes: 4096, maxBytes: 2 ** 40, local: null, iomapFor: () => true, attrAtomicBit: 0, attrExclusiveBit: 0 });
    const p = new Proc('t/1', 1);
    const drive = <T>(g: ProcStep<T>): T => { let r = g.next(); while (!r.done) r = g.next(); return r.value; };
    const f = drive(vfs.open(p, '/f', O_RDWR | O_DIRECT | O_TRUNC));
    expect(typeof f).toBe('object');
    drive(vfs.close(p, f as Exclude<typeof f, number>));
    expect(sent.map((x) => [x.opcode, x.body.byteLength, x.background])).toEqual([
      [Opcode.LOOKUP, 2, false], [Opcode.OPEN, 8, false], [Opcode.SETATTR, 88, false], [Opcode.RELEASE, 24, true],
    ]);
    const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer).getUint32(at, true);
    // O_RDWR (2) | O_DIRECT (0o40000) = 0x4002; O_TRUNC (0o1000) stripped; open_flags 0.
    expect([u32(sent[1]!.body, 0), u32(sent[1]!.body, 4)]).toEqual([0x4002, 0]);
    // fh 0x1122334455 back at 0; flags = the file's f_flags at 8 — O_TRUNC no longer among them
    // (do_dentry_open clears it after ->open); release_flags and lock_owner 0.
    const rel = sent[3]!.body;
    expect([...rel.subarray(0, 8)]).toEqual([0x55, 0x44, 0x33, 0x22, 0x11, 0, 0, 0]);
    expect([u32(rel, 8), u32(rel, 12), u32(rel, 16), u32(rel, 20)]).toEqual([0x4002, 0, 0, 0]);
  });
});

describe('v7 fuse4fs upserts a file\'s first mapping at open (§3.2, §5.5)', () => {
  // One buffered reader of /data/hot (32 MiB, written: one extent from block 0) reading from offset 0.
  const spec: ScenarioSpec = {
    ...SCENARIOS['cache-hit-miss']!,
    threads: [{ name: 'r', path: '/data/hot', thinkNs: 2_000, opCount: 4, ops: [{ kind: 'read', direct: false, pattern: 'sequential', lenBytes: 4096, weight: 1 }] }],
  };
  const runAll = (opts: SimOptions, s: ScenarioSpec = spec) => {
    const evs: TraceEvent[] = [];
    new Simulation(s, opts).runEvents(100_000, (e) => evs.push(e));
    return evs;
  };

  it('after the OPEN reply, an UPSERT of the whole first extent; the first lookup (pos 0) then hits with no upcall', () => {
    const evs = runAll({ seed: 1, revision: 'v7' });
    const open = evs.find((e): e is EventOf<'fuse_send'> => e.kind === 'fuse_send' && e.opcode === Opcode.OPEN)!;
    const node = open.nodeId;
    const openReply = evs.findIndex((e) => e.kind === 'fuse_reply' && e.unique === open.unique);
    const notify = evs.findIndex((e) => e.kind === 'fuse_notify' && e.nodeId === node);
    const upsert = evs.findIndex((e) => e.kind === 'cache_upsert' && e.nodeId === node);
    const firstLookup = evs.findIndex((e) => e.kind === 'cache_lookup' && e.nodeId === node);
    const firstBegin = evs.findIndex((e) => e.kind === 'iomap_begin' && e.nodeId === node);
    expect(openReply).toBeGreaterThan(evs.indexOf(open));
    expect(notify).toBeGreaterThan(openReply);
    expect(evs[notify]).toMatchObject({ notifyCode: 100, error: 0 }); // v7 FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS (§1.3)
    expect(upsert).toBeGreaterThan(notify);
    // 32 MiB at the device's first data block (256 × 4 KiB = 0x100000), written → MAPPED, dev 1, read fork only.
    expect(evs[upsert]).toMatchObject({ fork: 'read', mapOffsetBytes: 0, mapLenBytes: 32 * 1024 * 1024, mapType: MapType.MAPPED, mapAddr: 0x100000n, mapDev: 1 });
    expect(evs.filter((e) => e.kind === 'cache_upsert' && e.nodeId === node && e.fork === 'write')).toEqual([]);
    expect(firstBegin).toBeGreaterThan(upsert);
    expect(firstLookup).toBeGreaterThan(firstBegin);
    expect(evs[firstBegin]).toMatchObject({ posBytes: 0, opflags: 0 });
    expect(evs[firstLookup]).toMatchObject({ fork: 'read', hit: true, posBytes: 0 });
    // A hit means no IOMAP_BEGIN upcall at all for these reads.
    expect(evs.some((e) => e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_BEGIN)).toBe(false);
  });

  it('v6 (no upsert at open) and v7 with the server cache off: the first read upcalls instead', () => {
    for (const [opts, s] of [[{ seed: 1, revision: 'v6' }, spec], [{ seed: 1, revision: 'v7' }, { ...spec, serverCache: false }]] as const) {
      const evs = runAll(opts, s);
      const open = evs.findIndex((e) => e.kind === 'fuse_send' && e.opcode === Opcode.OPEN);
      const firstBeginSend = evs.findIndex((e) => e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_BEGIN);
      expect(open).toBeGreaterThan(0);
      expect(evs.slice(open, firstBeginSend).some((e) => e.kind === 'fuse_notify')).toBe(false);
      expect(firstBeginSend).toBeGreaterThan(open);
    }
  });
});

describe('writeback completions: merged (iomap_ioend_try_merge) and sent by a completion worker (§2.4, §2.5)', () => {
  /**
   * A Writeback over one 64 KiB file, 0 bytes on disk, with one 4 KiB UNWRITTEN mapping per block
   * at `addrOf(blk)`; each request's reply takes `replyDelayNs`. Records IOEND bodies and bios.
   */
  function setup(addrOf: (blk: number) => bigint, replyDelayNs = 0) {
    const core = new SimCore(1, DEFAULT_COSTS);
    const sent: { task: string; body: Uint8Array; sentNs: number; replyNs: number }[] = [];
    const bios: { task: string; posBytes: number; atNs: number }[] = [];
    const inode = { ...newInode(), iSizeBytes: 64 * 1024 };
    const wb = new Writeback(core, new Map([[inode.nodeId, inode]]), {
      transport: {
        isLocal: false,
        *request(p: Proc, _op: number, _n: number, bodyBytes: number, fill?: (dv: DataView, at: number) => void): ProcStep<Reply> {
          const body = new Uint8Array(bodyBytes);
          fill?.(new DataView(body.buffer), 0);
          const sentNs = core.sched.nowNs;
          if (replyDelayNs > 0) yield replyDelayNs;
          sent.push({ task: p.task, body, sentNs, replyNs: core.sched.nowNs });
          return { error: 0, body: new Uint8Array(8) };
        },
      },
      iter: {
        *mapBegin(_p: Proc, _i: unknown, _op: number, pos: number) {
          const blk = Math.floor(pos / 4096);
          return { error: 0, cookie: 0, dest: { offsetBytes: BigInt(blk * 4096), lenBytes: 4096n, addr: addrOf(blk), type: MapType.UNWRITTEN, flags: 0, dev: 1 } };
        },
        iterEnd: (p: Proc, _i: unknown, pos: number) => { bios.push({ task: p.task, posBytes: pos, atNs: core.sched.nowNs }); },
      },
      cache: { invalidateRange: () => {} },
      oracle: { changeBegin: () => 0, changeEnd: () => {}, noteStaleUse: () => false },
      classic: { *writeback() { throw new Error('an iomap file never takes the classic path'); } },
    }, { checkCookies: true, rev: REVISIONS.v7 });
    const worker = new Proc('kworker/u8:2/78', 78);
    core.sched.spawn(worker, wb.completionWorker(worker), 0);
    return { core, wb, inode, sent, bios };
  }
  /** Writes back `dirty` ranges of that file from the flusher; returns the IOENDs sent and traced. */
  function flush(dirty: [number, number][], addrOf: (blk: number) => bigint) {
    const { core, wb, inode, sent } = setup(addrOf);
    for (const [s, e] of dirty) inode.dirty.add(s, e - s);
    const flusher = new Proc('kworker/u8:1/77', 77);
    core.sched.spawn(flusher, (function* () { yield* wb.flushRange(flusher, inode, 0, Infinity); })(), 0);
    while (core.sched.step()) { /* run to quiescence */ }
    expect(flusher.isDone).toBe(true);
    const ioends: EventOf<'iomap_ioend'>[] = [];
    for (let e = core.shiftPending(); e !== undefined; e = core.shiftPending()) if (e.kind === 'iomap_ioend') ioends.push(e);
    return { sent: sent.map((x) => ({ task: x.task, ...readIomapIoendIn(x.body) })), ioends };
  }
  function newInode() {
    return newFuseInodeForTest();
  }

  it('four adjacent dirty blocks, contiguous on disk: one IOEND (pos 0, 16 KiB) from the completion worker', () => {
    // Blocks 0..3 at disk bytes 0x100000 + blk*4096: sectors 0x800, 0x808, 0x810, 0x818 — contiguous.
    const { sent, ioends } = flush([[0, 16384]], (blk) => 0x100000n + BigInt(blk * 4096));
    expect(ioends.map((e) => [e.task, e.posBytes, e.writtenBytes, e.newAddr])).toEqual([['kworker/u8:2/78', 0, 16384, 0x800n]]);
    // unwritten (2) | append (16, past i_disk_size 0) | writeback (32)
    expect(sent.map((x) => [x.task, x.posBytes, x.writtenBytes, x.flags, x.newAddr])).toEqual([['kworker/u8:2/78', 0n, 16384n, 2 | 16 | 32, 0x800n]]);
  });

  it('a non-contiguous pair (blocks 0 and 2) gives two IOENDs; so do file-adjacent blocks far apart on disk', () => {
    const gap = flush([[0, 4096], [8192, 12288]], (blk) => 0x100000n + BigInt(blk * 4096));
    expect(gap.sent.map((x) => [x.posBytes, x.writtenBytes, x.newAddr])).toEqual([[0n, 4096n, 0x800n], [8192n, 4096n, 0x810n]]);
    // Blocks 0 and 1 adjacent in the file, but block 1 lives 1 MiB further on: sectors 0x800 and 0x1008.
    const far = flush([[0, 8192]], (blk) => 0x100000n + BigInt(blk * (1024 * 1024 + 4096)));
    expect(far.sent.map((x) => [x.posBytes, x.writtenBytes, x.newAddr])).toEqual([[0n, 4096n, 0x800n], [4096n, 4096n, 0x1008n]]);
    expect(new Set([...gap.sent, ...far.sent].map((x) => x.task))).toEqual(new Set(['kworker/u8:2/78']));
  });

  it('a folio under writeback is not written back again until the worker has finished its ioend; fsync waits for it', () => {
    // Each IOEND reply takes 50 µs. The flusher writes block 0 back at t=0 (bio ~26 µs); at 10 µs an
    // fsync re-dirties block 0 and flushes it: the folio is still under writeback until the first
    // IOEND's reply, so its bio must come after that reply, and fsync returns after its own IOEND.
    const { core, wb, inode, sent, bios } = setup((blk) => 0x100000n + BigInt(blk * 4096), 50_000);
    inode.dirty.add(0, 4096);
    const flusher = new Proc('kworker/u8:1/77', 77), fsync = new Proc('fsync/1001', 1001);
    core.sched.spawn(flusher, (function* () { yield* wb.flushRange(flusher, inode, 0, 4096); })(), 0);
    let fsyncDoneNs = -1;
    core.sched.spawn(fsync, (function* () {
      inode.dirty.add(0, 4096);
      yield* wb.flushRange(fsync, inode, 0, Infinity);
      fsyncDoneNs = core.sched.nowNs;
    })(), 10_000);
    while (core.sched.step()) { /* run to quiescence */ }
    expect(bios.map((b) => [b.task, b.posBytes])).toEqual([['kworker/u8:1/77', 0], ['fsync/1001', 0]]);
    expect(sent.map((x) => x.task)).toEqual(['kworker/u8:2/78', 'kworker/u8:2/78']);
    expect(bios[1]!.atNs).toBeGreaterThanOrEqual(sent[0]!.replyNs);
    expect(fsyncDoneNs).toBeGreaterThanOrEqual(sent[1]!.replyNs);
    expect(inode.wbPendingCount).toBe(0);
  });

  it('in a run, writeback IOENDs are sent by the completion worker, BEGIN(WRITEBACK) by the flusher', () => {
    const evs = run('streaming-buffered', { seed: 3, revision: 'v7' }, 20_000);
    const ioendSends = evs.filter((e) => e.kind === 'fuse_send' && e.opcode === Opcode.IOMAP_IOEND);
    expect(ioendSends.length).toBeGreaterThan(5);
    expect(new Set(ioendSends.map((e) => e.task))).toEqual(new Set(['kworker/u8:2/78']));
    expect(evs.some((e) => e.kind === 'iomap_begin' && e.task === 'kworker/u8:1/77')).toBe(true);
  });
});

function newFuseInodeForTest() {
  return newFuseInode(asNodeId(5), asIno(12), '/f', false, 0);
}
