// Issue #15 items 1–2: per-inode iomap enablement (fuse_attr.flags, §1.10) and the series' hardlink
// rules by revision (§5.4). Expected values are worked out from the struct layouts:
//   FUSE_WRITE request = fuse_in_header 40 + fuse_write_in 40 + data; reply = fuse_out_header 16 + fuse_write_out 8
//   FUSE_READ request  = 40 + fuse_read_in 40;                          reply = 16 + the data
//   FUSE_LINK request  = 40 + fuse_link_in 8 + name + NUL
import { describe, expect, it } from 'vitest';
import { AttrFlag, Errno, Opcode, REVISIONS, attrEnablesIomap, type ProtocolRevision } from '../../src/trace/fuse-proto.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';
import { SCENARIOS, Simulation, parseScenario } from './index.ts';

const KiB = 1024;
const IOMAP_OPCODES: readonly number[] = [Opcode.IOMAP_BEGIN, Opcode.IOMAP_END, Opcode.IOMAP_IOEND];

const of = <K extends TraceEvent['kind']>(evs: TraceEvent[], kind: K) => evs.filter((e): e is EventOf<K> => e.kind === kind);

function runToEnd(input: object, opts: { revision?: ProtocolRevision; policy?: 'per-path' | 'ino' } = {}): TraceEvent[] {
  const sim = new Simulation(parseScenario(input), { seed: 1, ...opts });
  const evs: TraceEvent[] = [];
  sim.runEvents(200_000, (e) => evs.push(e));
  expect(sim.done).toBe(true);
  return evs;
}

/** /d1/file (64 KiB, written) with a hardlink /d2/link made before mount; one 16 KiB write through each name's path and one read. */
function hardlinked(extra: object = {}): object {
  return {
    files: [{ path: '/d1/file', sizeBytes: 64 * KiB, prealloc: 'written', links: ['/d2/link'] }],
    threads: [
      { name: 'w', path: '/d1/file', opCount: 1, thinkNs: 0, ops: [{ kind: 'write', lenBytes: 16 * KiB }] },
      { name: 'dw', path: '/d2/link', opCount: 1, thinkNs: 0, ops: [{ kind: 'write', direct: true, lenBytes: 16 * KiB }] },
      { name: 'r', path: '/d2/link', opCount: 1, thinkNs: 0, ops: [{ kind: 'read', lenBytes: 16 * KiB }] },
    ],
    serverThreads: 1, writebackIntervalNs: 0, costs: { jitterPct: 0 },
    ...extra,
  };
}

const iomapTraffic = (evs: TraceEvent[]) => evs.filter((e) =>
  (e.kind === 'fuse_send' && IOMAP_OPCODES.includes(e.opcode)) || e.kind.startsWith('iomap_') || e.kind.startsWith('cache_'));

describe('the kernel rule: which fuse_attr.flags enable iomap (§1.10)', () => {
  it('v7 needs EXCLUSIVE (1<<2) and IOMAP (1<<3); v5/v6 need IOMAP at 1<<2; RFC v1 has no per-inode switch', () => {
    expect(attrEnablesIomap(REVISIONS.v7, (1 << 2) | (1 << 3))).toBe(true);
    expect(attrEnablesIomap(REVISIONS.v7, 1 << 3)).toBe(false); // IOMAP without EXCLUSIVE is ignored
    expect(attrEnablesIomap(REVISIONS.v7, 1 << 2)).toBe(false);
    expect(attrEnablesIomap(REVISIONS.v6, 1 << 2)).toBe(true);
    expect(attrEnablesIomap(REVISIONS.v5, 1 << 2)).toBe(true);
    expect(attrEnablesIomap(REVISIONS.v6, 0)).toBe(false);
    expect(attrEnablesIomap(REVISIONS['rfc-v1'], 0)).toBe(true);
    expect(AttrFlag.V7_IOMAP).toBe(8);
  });
});

describe('a hardlinked file under the path API (§5.4)', () => {
  for (const revision of ['v6', 'v7'] as const) {
    it(`${revision} per-path: no iomap at all; FUSE_WRITE / FUSE_READ with their real lengths instead`, () => {
      const evs = runToEnd(hardlinked({ revision, policy: 'per-path' }));
      expect(iomapTraffic(evs)).toEqual([]);
      const sends = of(evs, 'fuse_send');
      const writes = sends.filter((s) => s.opcode === Opcode.WRITE);
      const reads = sends.filter((s) => s.opcode === Opcode.READ);
      // One 16 KiB write through each name: 40 + 40 + 16384.
      expect(writes.map((w) => w.lenBytes)).toEqual([16_464, 16_464]);
      expect(reads.map((r) => r.lenBytes)).toEqual([80]);
      const replies = of(evs, 'fuse_reply');
      expect(replies.filter((r) => r.opcode === Opcode.WRITE).map((r) => r.lenBytes)).toEqual([24, 24]);
      // A buffered 16 KiB read of a 64 KiB file: 16 bytes of header + 16384 of data.
      expect(replies.filter((r) => r.opcode === Opcode.READ).map((r) => r.lenBytes)).toEqual([16_400]);
      expect(replies.every((r) => r.error === 0)).toBe(true);
      // Two names, two nodeids, one inode; each name's requests go to its own nodeid.
      const news = of(evs, 'inode_new').filter((n) => n.ino === 12);
      expect(news.map((n) => n.path).sort()).toEqual(['/d1/file', '/d2/link']);
      const nodeOf = new Map(news.map((n) => [n.path, n.nodeId]));
      expect(nodeOf.get('/d1/file')).not.toBe(nodeOf.get('/d2/link'));
      expect(new Set(writes.map((w) => w.nodeId))).toEqual(new Set([nodeOf.get('/d1/file'), nodeOf.get('/d2/link')]));
      expect(reads[0]!.nodeId).toBe(nodeOf.get('/d2/link'));
      // The syscalls see full transfers.
      expect(of(evs, 'app_op_end').filter((e) => e.op === 'pwrite' || e.op === 'pread').map((e) => e.ret)).toEqual([16 * KiB, 16 * KiB, 16 * KiB]);
    });
  }

  it('v5 per-path: the same file runs iomap through two nodeids, and no FUSE_READ/FUSE_WRITE', () => {
    const evs = runToEnd(hardlinked({ revision: 'v5', policy: 'per-path' }));
    const sends = of(evs, 'fuse_send');
    expect(sends.filter((s) => s.opcode === Opcode.READ || s.opcode === Opcode.WRITE)).toEqual([]);
    const begins = sends.filter((s) => s.opcode === Opcode.IOMAP_BEGIN);
    expect(new Set(begins.map((b) => b.nodeId)).size).toBe(2);
  });

  it('v7 ino (fuse4fs): the hardlinked file keeps iomap with one nodeid', () => {
    const evs = runToEnd(hardlinked({ revision: 'v7', policy: 'ino' }));
    const sends = of(evs, 'fuse_send');
    expect(sends.filter((s) => s.opcode === Opcode.READ || s.opcode === Opcode.WRITE)).toEqual([]);
    expect(new Set(sends.filter((s) => s.opcode === Opcode.IOMAP_BEGIN).map((b) => b.nodeId))).toEqual(new Set([12]));
  });

  it('v7 per-path: a file with one link keeps iomap (the rule is st_nlink < 2)', () => {
    const evs = runToEnd(hardlinked({ revision: 'v7', policy: 'per-path', files: [{ path: '/d1/file', sizeBytes: 64 * KiB, prealloc: 'written' }, { path: '/d2/link', sizeBytes: 64 * KiB, prealloc: 'written' }] }));
    const ops = new Set(of(evs, 'fuse_send').map((s) => s.opcode));
    // iomap steps ran (the upsert at open may serve them all from the cache, so no BEGIN upcall is needed).
    expect(of(evs, 'iomap_begin').length).toBeGreaterThan(0);
    expect(ops.has(Opcode.WRITE) || ops.has(Opcode.READ)).toBe(false);
  });

  it('v7 with FUSE_ATTR_IOMAP but no FUSE_ATTR_EXCLUSIVE: the kernel ignores it and the file runs classic', () => {
    const evs = runToEnd(hardlinked({ revision: 'v7', policy: 'ino', faults: { iomapWithoutExclusive: true } }));
    expect(iomapTraffic(evs)).toEqual([]);
    expect(of(evs, 'fuse_send').filter((s) => s.opcode === Opcode.WRITE).map((w) => w.lenBytes)).toEqual([16_464, 16_464]);
  });
});

describe('link() of an iomap file (§5.4)', () => {
  /** /d1/file, one link; a thread links it as /d1/other once. */
  const linker = (extra: object) => ({
    files: [{ path: '/d1/file', sizeBytes: 8 * KiB, prealloc: 'written' }],
    threads: [{ name: 'ln', path: '/d1/file', opCount: 1, thinkNs: 0, ops: [{ kind: 'link', toPath: '/d1/other' }] }],
    serverThreads: 1, writebackIntervalNs: 0, costs: { jitterPct: 0 },
    ...extra,
  });
  const linkResult = (evs: TraceEvent[]) => of(evs, 'app_op_end').find((e) => e.op === 'link')!.ret;

  for (const revision of ['v6', 'v7'] as const) {
    it(`${revision} per-path: EPERM, and the request was FUSE_LINK of 40 + 8 + "other\\0" = 54 bytes`, () => {
      const evs = runToEnd(linker({ revision, policy: 'per-path' }));
      expect(linkResult(evs)).toBe(-Errno.EPERM);
      const link = of(evs, 'fuse_send').filter((s) => s.opcode === Opcode.LINK);
      expect(link.map((s) => s.lenBytes)).toEqual([54]);
      expect(of(evs, 'fuse_reply').filter((r) => r.opcode === Opcode.LINK).map((r) => [r.error, r.lenBytes])).toEqual([[-1, 16]]);
      expect(of(evs, 'inode_new').some((n) => n.path === '/d1/other')).toBe(false);
    });
  }

  it('v5 per-path: the link succeeds and the new name is a second nodeid of inode 12', () => {
    const evs = runToEnd(linker({ revision: 'v5', policy: 'per-path' }));
    expect(linkResult(evs)).toBe(0);
    const news = of(evs, 'inode_new').filter((n) => n.ino === 12);
    expect(news.map((n) => n.path)).toEqual(['/d1/file', '/d1/other']);
    expect(news[0]!.nodeId).not.toBe(news[1]!.nodeId);
    // fuse_entry_out reply: 16 + 128.
    expect(of(evs, 'fuse_reply').filter((r) => r.opcode === Opcode.LINK).map((r) => [r.error, r.lenBytes])).toEqual([[0, 144]]);
  });

  it('v7 ino (fuse4fs): the link succeeds on the same nodeid 12', () => {
    const evs = runToEnd(linker({ revision: 'v7', policy: 'ino' }));
    expect(linkResult(evs)).toBe(0);
    expect(of(evs, 'inode_new').filter((n) => n.ino === 12).map((n) => n.path)).toEqual(['/d1/file']);
    expect(of(evs, 'inode_lookup').filter((l) => l.path === '/d1/other').map((l) => l.nodeId)).toEqual([12]);
  });
});

describe('the hardlink scenarios', () => {
  const first = (name: string, n: number) => {
    const sim = new Simulation(SCENARIOS[name]!, { seed: 3 });
    const evs: TraceEvent[] = [];
    sim.runEvents(n, (e) => evs.push(e));
    return { evs, nowNs: sim.nowNs };
  };
  it('hardlink-alias-race is RFC v5 and runs iomap through two nodeids of inode 12', () => {
    expect(SCENARIOS['hardlink-alias-race']!.revision).toBe('v5');
    const { evs } = first('hardlink-alias-race', 20_000);
    expect(new Set(of(evs, 'iomap_begin').filter((b) => b.ino === 12).map((b) => b.nodeId)).size).toBe(2);
  });

  it('hardlink-alias-race-v7: classic requests only, still two i_rwsems held W at once', () => {
    const { evs } = first('hardlink-alias-race-v7', 20_000);
    expect(iomapTraffic(evs)).toEqual([]);
    const writes = of(evs, 'fuse_send').filter((s) => s.opcode === Opcode.WRITE);
    expect(new Set(writes.map((w) => w.nodeId)).size).toBe(2);
    // 16 KiB writes: every FUSE_WRITE carries 40 + 40 + 16384 bytes.
    expect(writes.every((w) => w.lenBytes === 16_464)).toBe(true);
    // Replay i_rwsem W holds per nodeid: at some moment both nodeids are held W by different tasks.
    const holder = new Map<number, string>();
    let both = false;
    for (const e of evs) {
      if ((e.kind === 'lock_acquire' || e.kind === 'lock_release') && e.lock === 'i_rwsem' && e.mode === 'W') {
        if (e.kind === 'lock_acquire') holder.set(e.nodeId, e.task);
        else holder.delete(e.nodeId);
        const tasks = new Set(holder.values());
        if (holder.size === 2 && tasks.size === 2) both = true;
      }
    }
    expect(both).toBe(true);
  });

  it('the classic path costs: a 64 KiB read in hardlink-alias-race-v7 takes far longer than in hardlink-alias-fixed', () => {
    /** Mean pread latency (app_op_begin → app_op_end, virtual ns) over the first 30k events. */
    const meanReadNs = (name: string) => {
      const { evs } = first(name, 30_000);
      const begun = new Map<string, number>();
      const lat: number[] = [];
      for (const e of evs) {
        if (e.kind === 'app_op_begin' && e.op === 'pread') begun.set(e.task, e.tsNs);
        if (e.kind === 'app_op_end' && e.op === 'pread') lat.push(e.tsNs - begun.get(e.task)!);
      }
      expect(lat.length).toBeGreaterThan(50);
      return lat.reduce((a, b) => a + b, 0) / lat.length;
    };
    // Classic: one FUSE_READ of 64 KiB, which the server spends 6 µs + 64 × 13 µs + 60 µs + 64 × 0.25 µs
    // = 914 µs on (before jitter, which averages out). iomap maps (cache hit or BEGIN) and the kernel
    // reads the device itself: 60 µs + 16 µs, plus any wait for the writers' i_rwsem.
    const classic = meanReadNs('hardlink-alias-race-v7');
    expect(classic).toBeGreaterThan(850_000);
    expect(classic).toBeGreaterThan(1.5 * meanReadNs('hardlink-alias-fixed'));
    expect(SCENARIOS['hardlink-alias-fixed']!.revision).toBe('v7');
    expect(SCENARIOS['hardlink-alias-fixed']!.policy).toBe('ino');
  });
});

describe('fuse_iomap_init_inode: an iomap inode says so when the kernel sets it up', () => {
  // InodeState bits (docs/domain.md §4.4 state strings): excl 1<<6, iomap 1<<7, atomic 1<<8.
  it('v7: iomap|excl for a single-link file; nothing for the classic hardlinked file', () => {
    const single = runToEnd(hardlinked({ revision: 'v7', policy: 'per-path', files: [{ path: '/d1/file', sizeBytes: 64 * KiB, prealloc: 'written' }, { path: '/d2/link', sizeBytes: 64 * KiB, prealloc: 'written' }] }));
    const inits = of(single, 'inode_iomap');
    expect(inits.map((e) => e.inodeFlags)).toEqual([0xc0, 0xc0]);
    // Each follows its inode_new at once (same task, same time).
    for (const e of inits) {
      const born = of(single, 'inode_new').find((n) => n.nodeId === e.nodeId)!;
      expect([born.task, born.tsNs]).toEqual([e.task, e.tsNs]);
    }
    expect(of(runToEnd(hardlinked({ revision: 'v7', policy: 'per-path' })), 'inode_iomap')).toEqual([]);
  });

  it('v6: iomap alone (no EXCLUSIVE bit before v7); an atomic-writes file adds atomic', () => {
    const v6 = runToEnd(hardlinked({ revision: 'v6', policy: 'ino' }));
    expect(of(v6, 'inode_iomap').map((e) => e.inodeFlags)).toEqual([0x80]);
    const sim = new Simulation(SCENARIOS['atomic-writes']!, { seed: 1 });
    const evs: TraceEvent[] = [];
    sim.runEvents(2000, (e) => evs.push(e));
    expect(of(evs, 'inode_iomap').map((e) => e.inodeFlags)).toEqual([0x1c0]);
  });
});
