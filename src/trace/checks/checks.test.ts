import { describe, expect, it } from 'vitest';
import { TraceStore } from '../store.ts';
import type { EventOf, TraceEvent } from '../schema.ts';
import { ev } from '../testing/events.ts';
import { InodeState, IoendFlag, MapFlag, MapType, Opcode, OpFlag } from '../fuse-proto.ts';
import { CheckRunner, DEFAULT_SETTINGS, RULE_IDS, atLeast, runChecks, type Finding } from './index.ts';
import { lockRule } from './lock.ts';
import { StringTable } from '../strings.ts';

const store = (events: TraceEvent[]): TraceStore => { const s = new TraceStore(); s.appendAll(events); return s; };
const check = (events: TraceEvent[], opts?: Parameters<typeof runChecks>[1]) => runChecks(store(events), opts);
const W = { lock: 'i_rwsem', mode: 'W' } as const;

describe('alias-race', () => {
  // Rows 0, 1: two names, one ino (12) → one inode through nodeids 4 and 5.
  const names = [
    ev('inode_new', 1, 'srv/1', { nodeId: 4, ino: 12, path: '/d1/file' }),
    ev('inode_new', 2, 'srv/1', { nodeId: 5, ino: 12, path: '/d2/link' }),
  ];

  it('exclusive holds through two nodeids of one ino that overlap: error, with the two holds as evidence', () => {
    const { findings } = check([
      ...names,
      ev('lock_acquire', 10, 'A/1', { ...W, nodeId: 4, ino: 12 }), // row 2
      ev('lock_acquire', 15, 'B/2', { ...W, nodeId: 5, ino: 12 }), // row 3: while A holds nodeid 4's lock
      ev('lock_release', 30, 'A/1', { ...W, nodeId: 4, ino: 12 }), // row 4
      ev('lock_release', 40, 'B/2', { ...W, nodeId: 5, ino: 12 }), // row 5
    ]);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ rule: 'alias-race', severity: 'error', tsNs: 15, durNs: 15, evidence: [2, 3, 4, 5] });
    expect(f.figures).toMatchObject({ ino: 12, nodeIds: [4, 5], paths: ['/d1/file', '/d2/link'], overlaps: 1 });
    expect(f.explanation).toMatch(/^alias-race: ino 12 .*nodeids 4 and 5.*§5\.3/);
  });

  it('holds that take turns: only the aliasing, a warning naming the rows that showed the two nodeids', () => {
    const { findings } = check([
      ...names,
      ev('lock_acquire', 10, 'A/1', { ...W, nodeId: 4, ino: 12 }),
      ev('lock_release', 12, 'A/1', { ...W, nodeId: 4, ino: 12 }),
      ev('lock_acquire', 15, 'B/2', { ...W, nodeId: 5, ino: 12 }),
      ev('lock_release', 40, 'B/2', { ...W, nodeId: 5, ino: 12 }),
    ]);
    expect(findings.map((f) => [f.severity, f.tsNs, f.evidence])).toEqual([['warning', 2, [0, 1]]]);
  });

  it('two inodes (different ino) overlapping: nothing; shared holds (R): nothing', () => {
    expect(check([
      ev('inode_new', 1, 'srv/1', { nodeId: 4, ino: 12, path: '/a' }),
      ev('inode_new', 2, 'srv/1', { nodeId: 5, ino: 13, path: '/b' }),
      ev('lock_acquire', 10, 'A/1', { ...W, nodeId: 4, ino: 12 }),
      ev('lock_acquire', 15, 'B/2', { ...W, nodeId: 5, ino: 13 }),
      ev('lock_release', 30, 'A/1', { ...W, nodeId: 4, ino: 12 }),
      ev('lock_release', 40, 'B/2', { ...W, nodeId: 5, ino: 13 }),
    ]).findings).toEqual([]);
    const shared = check([
      ...names,
      ev('lock_acquire', 10, 'A/1', { lock: 'i_rwsem', mode: 'R', nodeId: 4, ino: 12 }),
      ev('lock_acquire', 15, 'B/2', { lock: 'i_rwsem', mode: 'R', nodeId: 5, ino: 12 }),
      ev('lock_release', 30, 'A/1', { lock: 'i_rwsem', mode: 'R', nodeId: 4, ino: 12 }),
      ev('lock_release', 40, 'B/2', { lock: 'i_rwsem', mode: 'R', nodeId: 5, ino: 12 }),
    ]).findings;
    expect(shared.map((f) => f.severity)).toEqual(['warning']);
  });

  it('an acquire whose release the trace never shows overlaps nothing (a real capture has no releases)', () => {
    const { findings } = check([
      ...names,
      ev('lock_acquire', 10, 'A/1', { ...W, nodeId: 4, ino: 12 }),
      ev('lock_acquire', 15, 'B/2', { ...W, nodeId: 5, ino: 12 }),
    ]);
    expect(findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('FUSE_WRITE requests in flight through two names of a LINK: error, ino unknown (null), never a nodeid', () => {
    const { findings } = check([
      ev('inode_new', 1, 'srv/1', { nodeId: 4, ino: 0, path: '/d1/file' }),
      ev('inode_new', 2, 'srv/1', { nodeId: 5, ino: 0, path: '/d2/link', aliasOf: 4 }),
      ev('fuse_send', 10, 'dd/1', { unique: 20, opcode: Opcode.WRITE, nodeId: 4 }), // row 2
      ev('fuse_send', 11, 'dd/2', { unique: 22, opcode: Opcode.WRITE, nodeId: 5 }), // row 3
      ev('fuse_reply', 19, 'srv/1', { unique: 22, opcode: Opcode.WRITE }), // row 4
      ev('fuse_reply', 25, 'srv/1', { unique: 20, opcode: Opcode.WRITE }), // row 5
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', tsNs: 11, durNs: 8, evidence: [2, 3, 4, 5] });
    expect(findings[0]!.figures).toMatchObject({ ino: null, inoEvidence: [], nodeIds: [4, 5] });
    expect(findings[0]!.explanation).toContain('ino unknown');
    expect(findings[0]!.explanation).toContain('FUSE_WRITE requests');
  });

  it('iomap enabled on an aliased inode is named, with its inode_iomap rows as evidence', () => {
    const { findings } = check([
      ...names,
      ev('inode_iomap', 3, 'srv/1', { nodeId: 4, ino: 12, inodeFlags: InodeState.IOMAP }), // row 2
      ev('inode_iomap', 4, 'srv/1', { nodeId: 5, ino: 12, inodeFlags: InodeState.IOMAP }), // row 3
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'warning', evidence: [0, 1, 2, 3] });
    expect(findings[0]!.figures).toMatchObject({ iomapNodeIds: [4, 5] });
    expect(findings[0]!.explanation).toMatch(/iomap was enabled on nodeids 4 and 5.*v6.*§5\.4/);
  });

  it('the mapping cache used on one alias only reads as a sentence of its own', () => {
    const { findings } = check([
      ...names,
      ev('cache_lookup', 3, 'A/1', { nodeId: 5, ino: 12, fork: 'read', posBytes: 0, lenBytes: 4096, hit: true }), // row 2
    ]);
    expect(findings[0]!.figures).toMatchObject({ iomapNodeIds: [], cacheNodeIds: [5] });
    expect(findings[0]!.explanation).toContain('prevents one. The mapping cache was used on nodeid 5; from v6 on');
    expect(findings[0]!.explanation).not.toMatch(/ {2}/);
  });

  it('identity evidence that comes after the overlap does not make it a race (judged with the rows before it)', () => {
    const { findings } = check([
      ev('lock_acquire', 10, 'A/1', { ...W, nodeId: 4, ino: 0 }),
      ev('lock_acquire', 15, 'B/2', { ...W, nodeId: 5, ino: 0 }),
      ev('lock_release', 30, 'A/1', { ...W, nodeId: 4, ino: 0 }),
      ev('lock_release', 40, 'B/2', { ...W, nodeId: 5, ino: 0 }),
      ev('inode_lookup', 50, 'srv/1', { nodeId: 4, ino: 12, path: '/d1/file' }),
      ev('inode_lookup', 51, 'srv/1', { nodeId: 5, ino: 12, path: '/d2/link' }),
    ]);
    expect(findings.map((f) => f.severity)).toEqual(['warning']);
  });
});

describe('mapping-invalid', () => {
  const begin = ev('iomap_begin', 10, 'dd/1', { nodeId: 4, ino: 12, opflags: 0, posBytes: 8192, lenBytes: 4096 });
  const good = { slot: 'read', source: 'reply', nodeId: 4, ino: 12, mapType: MapType.MAPPED, mapOffsetBytes: 8192, mapLenBytes: 4096, mapAddr: 0x100000n, mapDev: 1 } as const;
  const reasons = (map: Partial<typeof good> | Record<string, unknown>) =>
    check([begin, ev('iomap_map', 11, 'dd/1', { ...good, ...map } as never)]).findings.map((f) => f.figures.reasons);

  it('a valid reply: nothing', () => {
    expect(reasons({})).toEqual([]);
    expect(reasons({ mapType: MapType.HOLE, mapAddr: 0xffff_ffff_ffff_ffffn, mapDev: 0 })).toEqual([]);
    expect(reasons({ slot: 'write', mapType: MapType.PURE_OVERWRITE, mapAddr: 0xffff_ffff_ffff_ffffn, mapDev: 0 })).toEqual([]);
  });

  it('each rule of §1.4 the trace can show', () => {
    expect(reasons({ mapOffsetBytes: 12288 })).toEqual([['read mapping: 12288+4096 does not contain pos 8192']]);
    expect(reasons({ mapLenBytes: 0 })).toEqual([['read mapping: zero length']]);
    expect(reasons({ mapOffsetBytes: 8000, mapLenBytes: 4096 })).toEqual([['read mapping: offset 8000 or length 4096 not a multiple of 512 bytes']]);
    expect(reasons({ mapDev: 0 })).toEqual([['read mapping: mapped with the null device']]);
    expect(reasons({ mapType: MapType.UNWRITTEN, mapAddr: 0xffff_ffff_ffff_ffffn })).toEqual([['read mapping: unwritten with the null address']]);
    expect(reasons({ mapType: MapType.HOLE })).toEqual([['read mapping: hole must carry the null device and address']]);
    expect(reasons({ mapType: MapType.PURE_OVERWRITE })).toEqual([['read mapping: pure overwrite is only allowed in the write slot']]);
    expect(reasons({ slot: 'write', mapType: MapType.RETRY_CACHE })).toEqual([['write mapping: retry_cache is only allowed in the read slot']]);
    expect(reasons({ mapType: MapType.NOCACHE })).toEqual([['read mapping: nocache is not allowed in a begin reply']]);
    expect(reasons({ mapFlags: MapFlag.STALE })).toEqual([['read mapping: unknown or kernel-only flags 0x200']]);
  });

  it('block size: 512 by default; the setting checks the real one', () => {
    expect(reasons({ mapOffsetBytes: 7680, mapLenBytes: 1024 })).toEqual([]); // 512-aligned, contains 8192
    const withBlock = check([begin, ev('iomap_map', 11, 'dd/1', { ...good, mapOffsetBytes: 7680, mapLenBytes: 1024 })],
      { settings: { 'mapping-invalid': { blockBytes: 4096 } } }).findings;
    expect(withBlock.map((f) => f.figures.reasons)).toEqual([['read mapping: offset 7680 or length 1024 not a multiple of 4096 bytes']]);
  });

  it('the refused reply and the kernel\'s bad_data make one finding with both rows; a cache mapping or a kernel fs is no reply', () => {
    const { findings } = check([
      begin, // row 0
      ev('iomap_map', 11, 'dd/1', { ...good, mapLenBytes: 0 }), // row 1
      ev('iomap_bad_data', 11, 'dd/1', { nodeId: 4, ino: 12, message: 'read mapping: zero length' }), // row 2
      ev('iomap_iter_end', 11, 'dd/1', { nodeId: 4, ino: 12, processedBytes: 0, error: -117 }),
      ev('iomap_begin', 20, 'dd/1', { nodeId: 4, ino: 12, posBytes: 0, lenBytes: 4096 }),
      ev('iomap_map', 21, 'dd/1', { ...good, source: 'cache', mapLenBytes: 0 }),
      ev('iomap_begin', 30, 'dd/1', { nodeId: 0, ino: 131, posBytes: 0 }),
      ev('iomap_map', 31, 'dd/1', { ...good, nodeId: 0, ino: 131, mapDev: 0 }),
    ]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'mapping-invalid', severity: 'error', tsNs: 11, evidence: [0, 1, 2] });
    expect(findings[0]!.figures).toMatchObject({ kernelRefused: true, kernelMessage: 'read mapping: zero length' });
  });

  it('a bad_data for a rule the trace cannot show (an unregistered device) links the reply rows', () => {
    const { findings } = check([
      begin,
      ev('iomap_map', 11, 'dd/1', { ...good, mapDev: 9 }),
      ev('iomap_map', 11, 'dd/1', { ...good, slot: 'write', mapType: MapType.PURE_OVERWRITE, mapAddr: 0xffff_ffff_ffff_ffffn, mapDev: 0 }),
      ev('iomap_bad_data', 11, 'dd/1', { nodeId: 4, ino: 12, message: 'read mapping: device 9 is not a registered iomap device' }),
    ]);
    expect(findings.map((f) => [f.evidence, f.figures.reasons, f.figures.kernelMessage])).toEqual([
      [[0, 1, 2, 3], [], 'read mapping: device 9 is not a registered iomap device'],
    ]);
  });
});

describe('unpaired', () => {
  const S = 1e9;
  it('a request unanswered past the timeout while the trace goes on; one still open within it is unknown', () => {
    const late = check([
      ev('fuse_send', 0, 'ls/1', { unique: 2, opcode: Opcode.LOOKUP, nodeId: 1 }),
      ev('fuse_send', 31 * S, 'ls/1', { unique: 4, opcode: Opcode.GETATTR, nodeId: 1 }),
      ev('fuse_reply', 31 * S + 5, 'srv/1', { unique: 4, opcode: Opcode.GETATTR }),
    ]);
    expect(late.findings.map((f) => [f.figures.kind, f.figures.opcode, f.evidence, f.durNs])).toEqual([['no-reply', 'FUSE_LOOKUP', [0], 31 * S + 5]]);
    const open = check([
      ev('fuse_send', 0, 'ls/1', { unique: 2, opcode: Opcode.LOOKUP, nodeId: 1 }),
      ev('fuse_send', 1 * S, 'ls/1', { unique: 4, opcode: Opcode.FORGET, nodeId: 1 }), // never answered, by design
    ]);
    expect(open.findings).toEqual([]);
    expect(open.unknowns.map((u) => [u.rule, u.count])).toEqual([['unpaired', 1]]);
  });

  it('a reply later than the timeout setting', () => {
    const { findings } = check([
      ev('fuse_send', 0, 'ls/1', { unique: 2, opcode: Opcode.LOOKUP }),
      ev('fuse_reply', 3 * S, 'srv/1', { unique: 2, opcode: Opcode.LOOKUP }),
    ], { settings: { unpaired: { replyTimeoutNs: 2 * S } } });
    expect(findings.map((f) => [f.figures.kind, f.evidence, f.durNs])).toEqual([['late-reply', [0, 1], 3 * S]]);
  });

  // A buffered write step that mapped 8 KiB at 0 and did 4 KiB: a short write.
  const shortWrite = (extra: TraceEvent[] = [], mapType: number = MapType.MAPPED) => [
    ev('iomap_begin', 10, 'dd/1', { nodeId: 4, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 8192 }), // row 0
    ev('iomap_map', 11, 'dd/1', {
      nodeId: 4, ino: 12, slot: 'read', source: 'reply', mapType, mapOffsetBytes: 0, mapLenBytes: 8192,
      ...(mapType === MapType.INLINE ? { mapAddr: 0xffff_ffff_ffff_ffffn, mapDev: 0 } : { mapAddr: 0x1000n, mapDev: 1 }),
    }), // row 1
    ...extra,
    ev('iomap_iter_end', 20, 'dd/1', { nodeId: 4, ino: 12, posBytes: 0, lenBytes: 8192, processedBytes: 4096 }),
  ];
  it('IOMAP_END due after a short write-ish step but not sent', () => {
    const { findings } = check(shortWrite());
    expect(findings.map((f) => [f.figures.kind, f.evidence, f.tsNs, f.durNs])).toEqual([['iomap-end-missing', [0, 1, 2], 10, 10]]);
    expect(findings[0]!.figures).toMatchObject({ countBytes: 8192, writtenBytes: 4096 });
  });
  it('no IOMAP_END due: it was sent; an inline mapping; a read; a whole write; after ENOSYS', () => {
    expect(check(shortWrite([ev('iomap_end', 19, 'dd/1', { nodeId: 4, ino: 12 })])).findings).toEqual([]);
    expect(check(shortWrite([], MapType.INLINE)).findings).toEqual([]);
    expect(check([
      ev('iomap_begin', 10, 'dd/1', { nodeId: 4, ino: 12, opflags: 0, posBytes: 0, lenBytes: 8192 }),
      ev('iomap_map', 11, 'dd/1', { nodeId: 4, ino: 12, mapType: MapType.MAPPED, mapLenBytes: 8192, mapAddr: 0x1000n, mapDev: 1 }),
      ev('iomap_iter_end', 20, 'dd/1', { nodeId: 4, ino: 12, lenBytes: 8192, processedBytes: 4096 }),
    ]).findings).toEqual([]);
    // The mapping covers 4 KiB of the 8 KiB asked: count is 4096, all done.
    expect(check([
      ev('iomap_begin', 10, 'dd/1', { nodeId: 4, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 8192 }),
      ev('iomap_map', 11, 'dd/1', { nodeId: 4, ino: 12, mapType: MapType.MAPPED, mapLenBytes: 4096, mapAddr: 0x1000n, mapDev: 1 }),
      ev('iomap_iter_end', 20, 'dd/1', { nodeId: 4, ino: 12, lenBytes: 8192, processedBytes: 4096 }),
    ]).findings).toEqual([]);
    expect(check([
      ev('fuse_send', 1, 'dd/1', { unique: 2, opcode: Opcode.IOMAP_END, nodeId: 4 }),
      ev('fuse_reply', 2, 'srv/1', { unique: 2, opcode: Opcode.IOMAP_END, error: -38 }),
      ...shortWrite(),
    ]).findings).toEqual([]);
  });

  const written = ev('iomap_begin', 1, 'dd/1', { nodeId: 4, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 65536 });
  it('IOEND due (unwritten, append, an error) but not sent; an in-place overwrite inside EOF is not due', () => {
    const kinds = (e: TraceEvent) => check([written, e]).findings.map((f) => f.figures.kind);
    expect(kinds(ev('iomap_ioend', 5, 'kw/1', { nodeId: 4, ino: 12, ioendFlags: IoendFlag.WRITEBACK | IoendFlag.UNWRITTEN, sent: false }))).toEqual(['ioend-missing']);
    expect(kinds(ev('iomap_ioend', 5, 'kw/1', { nodeId: 4, ino: 12, ioendFlags: IoendFlag.WRITEBACK | IoendFlag.APPEND, sent: false }))).toEqual(['ioend-missing']);
    expect(kinds(ev('iomap_ioend', 5, 'kw/1', { nodeId: 4, ino: 12, ioendFlags: 0, writtenBytes: 0, error: -5, sent: false }))).toEqual(['ioend-missing']);
    expect(kinds(ev('iomap_ioend', 5, 'kw/1', { nodeId: 4, ino: 12, ioendFlags: IoendFlag.WRITEBACK | IoendFlag.UNWRITTEN, sent: true }))).toEqual([]);
    expect(kinds(ev('iomap_ioend', 5, 'kw/1', { nodeId: 4, ino: 12, ioendFlags: IoendFlag.WRITEBACK, sent: false }))).toEqual([]);
  });

  it('an ioend with no write through its nodeid before it, on an inode the trace saw set up', () => {
    const born = ev('inode_new', 0, 'dd/1', { nodeId: 4, ino: 12, path: '/f' });
    const e = ev('iomap_ioend', 5, 'kw/1', { nodeId: 4, ino: 12, posBytes: 0, writtenBytes: 4096, ioendFlags: IoendFlag.WRITEBACK | IoendFlag.UNWRITTEN, sent: true });
    expect(check([born, e]).findings.map((f) => [f.figures.kind, f.evidence])).toEqual([['ioend-without-write', [1]]]);
    expect(check([born, ev('iomap_begin', 1, 'dd/1', { nodeId: 5, ino: 13, opflags: OpFlag.WRITE, lenBytes: 65536 }), e]).findings).toHaveLength(1);
    expect(check([born, written, e]).findings).toEqual([]);
    // A first lookup (nlookup 1) or iomap set-up instantiates the inode too; a later lookup (nlookup 2) does not.
    expect(check([ev('inode_lookup', 0, 'dd/1', { nodeId: 4, ino: 12, path: '/f', nlookup: 1 }), e]).findings).toHaveLength(1);
    expect(check([ev('inode_iomap', 0, 'dd/1', { nodeId: 4, ino: 12, inodeFlags: InodeState.IOMAP }), e]).findings).toHaveLength(1);
    expect(check([ev('inode_lookup', 0, 'dd/1', { nodeId: 4, ino: 12, path: '/f', nlookup: 2 }), e]).findings).toEqual([]);
  });

  it('an ioend on an inode set up before the trace began (a page that joined a live stream) is unknown, not a finding', () => {
    const e = ev('iomap_ioend', 5, 'kw/1', { nodeId: 4, ino: 12, posBytes: 0, writtenBytes: 4096, ioendFlags: IoendFlag.WRITEBACK | IoendFlag.UNWRITTEN, sent: true });
    const r = check([e]);
    expect(r.findings).toEqual([]);
    expect(r.unknowns).toEqual([expect.objectContaining({ rule: 'unpaired', count: 1, what: expect.stringContaining('the write may predate the trace') })]);
  });
});

describe('unwritten-cost', () => {
  const IOEND = Opcode.IOMAP_IOEND;
  // A direct pwrite of nodeid 8 (100 ns) that waits for its conversion upcall (60 ns) inside it.
  const direct = (t0: number, nodeId: number, unique: number, task = 'E/7') => [
    ev('app_op_begin', t0, task, { op: 'pwrite' }),
    ev('iomap_begin', t0 + 1, task, { nodeId, ino: 100 + nodeId, opflags: OpFlag.WRITE | OpFlag.DIRECT, posBytes: 0, lenBytes: 4096 }),
    ev('iomap_ioend', t0 + 10, task, { nodeId, ino: 100 + nodeId, posBytes: 0, writtenBytes: 4096, ioendFlags: IoendFlag.UNWRITTEN, sent: true }),
    ev('fuse_send', t0 + 10, task, { unique, opcode: IOEND, nodeId }),
    ev('fuse_reply', t0 + 70, 'srv/1', { unique, opcode: IOEND }),
    ev('app_op_end', t0 + 100, task, { op: 'pwrite' }),
  ];

  it('a direct write whose conversion takes 60 of its 100 ns: warning above the 50 % default, with the write and the upcall as evidence', () => {
    const { findings } = check(direct(100, 8, 20));
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'unwritten-cost', severity: 'warning', tsNs: 110, durNs: 60, evidence: [0, 2, 3, 4, 5] });
    expect(findings[0]!.figures).toMatchObject({ nodeId: 8, share: 0.6, conversions: 1, conversionNs: 60, writes: 1, writeNs: 100, outsideWritesNs: 0, thresholdShare: 0.5 });
    expect(findings[0]!.explanation).toMatch(/^unwritten-cost: .*§2\.5.*90 %.*60 %, above the 50 % threshold/);
    // The same with the threshold at 70 %: info.
    expect(check(direct(100, 8, 20), { settings: { 'unwritten-cost': { warnShare: 0.7 } } }).findings.map((f) => f.severity)).toEqual(['info']);
  });

  it('buffered: a conversion in writeback (outside the write) is added to the write time; a SHARED-only ioend is no conversion', () => {
    const { findings } = check([
      ev('app_op_begin', 0, 'W/1', { op: 'write' }),
      ev('iomap_begin', 1, 'W/1', { nodeId: 8, ino: 30, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 4096 }),
      ev('app_op_end', 40, 'W/1', { op: 'write' }), // row 2: 40 ns of write
      ev('iomap_ioend', 100, 'kw/2', { nodeId: 8, ino: 30, writtenBytes: 4096, ioendFlags: IoendFlag.UNWRITTEN, sent: true }),
      ev('fuse_send', 100, 'kw/2', { unique: 5, opcode: IOEND, nodeId: 8 }),
      ev('fuse_reply', 140, 'srv/1', { unique: 5, opcode: IOEND }), // row 5: 40 ns of conversion
      ev('iomap_ioend', 150, 'kw/2', { nodeId: 8, ino: 30, writtenBytes: 4096, ioendFlags: IoendFlag.SHARED, sent: true }),
      ev('fuse_send', 150, 'kw/2', { unique: 6, opcode: IOEND, nodeId: 8 }),
      ev('fuse_reply', 900, 'srv/1', { unique: 6, opcode: IOEND }),
    ]);
    // 40 / (40 + 40) = 50 %: not above the threshold.
    expect(findings.map((f) => [f.severity, f.figures.share, f.figures.conversions, f.figures.outsideWritesNs, f.evidence])).toEqual([['info', 0.5, 1, 40, [0, 2, 3, 4, 5]]]);
  });

  it('two files: one finding each and one for the workload (nodeId null) with the summed figures', () => {
    const { findings } = check([...direct(100, 8, 20), ...direct(300, 9, 21, 'F/8')]);
    // File 9: its write also 100 ns with 60 ns of conversion; file 8 the same.
    expect(findings.map((f) => [f.figures.nodeId, f.figures.writeNs, f.figures.conversionNs, f.severity])).toEqual([
      [8, 100, 60, 'warning'], [null, 200, 120, 'warning'], [9, 100, 60, 'warning'],
    ]);
  });

  it('conversions with no write in the trace: the share is unknown (null), info; an IOEND with no ioend row is unknown, not counted', () => {
    const r = check([
      ev('iomap_ioend', 10, 'kw/2', { nodeId: 8, ino: 30, writtenBytes: 4096, ioendFlags: IoendFlag.UNWRITTEN, sent: true }),
      ev('fuse_send', 10, 'kw/2', { unique: 5, opcode: IOEND, nodeId: 8 }),
      ev('fuse_reply', 30, 'srv/1', { unique: 5, opcode: IOEND }),
      ev('fuse_send', 40, 'kw/3', { unique: 6, opcode: IOEND, nodeId: 8 }),
      ev('fuse_reply', 50, 'srv/1', { unique: 6, opcode: IOEND }),
    ], { rules: ['unwritten-cost'] });
    expect(r.findings.map((f) => [f.severity, f.figures.share, f.figures.conversions])).toEqual([['info', null, 1]]);
    expect(r.findings[0]!.explanation).toMatch(/unknown/);
    expect(r.unknowns.map((u) => [u.rule, u.count])).toEqual([['unwritten-cost', 1]]);
  });

  it('a write with no conversion: nothing', () => {
    expect(check([ev('app_op_begin', 0, 'W/1', { op: 'write' }), ev('app_op_end', 40, 'W/1', { op: 'write' })]).findings).toEqual([]);
  });
});

describe('uncached', () => {
  // n read steps of 4096 bytes on nodeid 8, 10 ns apart; `upcall(i)` says whether step i asked the server.
  const steps = (n: number, upcall: (i: number) => boolean, lookup: 'none' | 'hit-unless-upcall', dropAt = -1) => {
    const out: TraceEvent[] = [];
    for (let i = 0; i < n; i++) {
      const t = 100 + 10 * i;
      out.push(ev('iomap_begin', t, 'R/1', { nodeId: 8, ino: 30, opflags: 0, posBytes: 4096 * i, lenBytes: 4096 }));
      if (lookup !== 'none') out.push(ev('cache_lookup', t, 'R/1', { nodeId: 8, ino: 30, posBytes: 4096 * i, lenBytes: 4096, hit: !upcall(i) }));
      if (upcall(i)) {
        out.push(ev('fuse_send', t + 1, 'R/1', { unique: 100 + i, opcode: Opcode.IOMAP_BEGIN, nodeId: 8 }));
        out.push(ev('fuse_reply', t + 2, 'srv/1', { unique: 100 + i, opcode: Opcode.IOMAP_BEGIN }));
      }
      if (i === dropAt) out.push(ev('cache_drop', t + 3, 'srv/1', { nodeId: 8, ino: 30, fork: 'read', reason: 'overflow' }));
      out.push(ev('iomap_iter_end', t + 4, 'R/1', { nodeId: 8, ino: 30, posBytes: 4096 * i, lenBytes: 4096, processedBytes: 4096 }));
    }
    return out;
  };

  it('every step an upcall and no cache lookup: info "no-cache", 256 upcalls per MiB (16 for 64 KiB), first step and upcall as evidence', () => {
    const { findings } = check(steps(16, () => true, 'none'), { rules: ['uncached'] });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'uncached', severity: 'info', tsNs: 100, durNs: 150, evidence: [0, 1] });
    expect(findings[0]!.figures).toMatchObject({ nodeId: 8, kind: 'no-cache', steps: 16, upcalls: 16, upcallsPerStep: 1, upcallsPerMiB: 256, ioBytes: 65536, lookups: 0, hitRate: null });
    expect(findings[0]!.explanation).toMatch(/^uncached: nodeid 8: 16 IOMAP_BEGIN upcalls for 16 iomap steps.*§3\.3.*RFC v1/);
  });

  it('a cache the size cap keeps dropping, every lookup a miss: warning "thrashing" with the drop among the evidence', () => {
    const { findings } = check(steps(16, () => true, 'hit-unless-upcall', 3), { rules: ['uncached'] });
    expect(findings.map((f) => [f.severity, f.figures.kind, f.figures.hitRate, f.figures.overflowDrops])).toEqual([['warning', 'thrashing', 0, 1]]);
    // Rows: step 0 is begin, lookup, send, reply, iter_end (0..4); step 3's drop follows its reply: 3 * 5 + 4 = 19.
    expect(findings[0]!.evidence).toEqual([0, 2, 19]);
  });

  it('a cache that answers: nothing; too few steps to judge: nothing; 14 upcalls in 16 steps under the 90 % default: nothing', () => {
    expect(check(steps(16, (i) => i === 0, 'hit-unless-upcall'), { rules: ['uncached'] }).findings).toEqual([]);
    expect(check(steps(15, () => true, 'none'), { rules: ['uncached'] }).findings).toEqual([]);
    expect(check(steps(16, (i) => i >= 2, 'hit-unless-upcall'), { rules: ['uncached'] }).findings).toEqual([]);
    // The same at a threshold of 80 %: info "misses".
    expect(check(steps(16, (i) => i >= 2, 'hit-unless-upcall'), { rules: ['uncached'], settings: { uncached: { everyShare: 0.8 } } })
      .findings.map((f) => [f.severity, f.figures.kind, f.figures.hitRate])).toEqual([['info', 'misses', 2 / 16]]);
  });
});

describe('stale-mapping', () => {
  // A writer's step on nodeid 8 from a cached UNWRITTEN mapping (cookie 5) over 0..1 MiB; writeback's ioend invalidates 4096 bytes at 8192.
  const race = (staleOnWriter: boolean, priorStale = false) => [
    ...(priorStale ? [ev('cache_stale', 1, 'X/9', { nodeId: 8, ino: 30, posBytes: 0, oldCookie: 1, newCookie: 2 })] : []),
    ev('iomap_begin', 10, 'W/1', { nodeId: 8, ino: 30, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 1 << 20 }),
    ev('iomap_map', 10, 'W/1', { nodeId: 8, ino: 30, slot: 'write', source: 'cache', cookie: 5, mapType: MapType.UNWRITTEN, mapLenBytes: 1 << 20, mapAddr: 0x100000n, mapDev: 1 }),
    ev('cache_inval', 30, 'kw/2', { nodeId: 8, ino: 30, fork: 'read', posBytes: 8192, lenBytes: 4096, reason: 'ioend', seq: 6 }),
    // Revalidating, the writer ends short at the stale folio (8192 bytes done) and maps the rest again.
    ...(staleOnWriter ? [ev('cache_stale', 35, 'W/1', { nodeId: 8, ino: 30, posBytes: 8192, oldCookie: 5, newCookie: 6 })] : []),
    ev('iomap_iter_end', 50, 'W/1', { nodeId: 8, ino: 30, posBytes: 0, lenBytes: 1 << 20, processedBytes: staleOnWriter ? 8192 : 1 << 20 }),
    ...(staleOnWriter ? [ev('iomap_begin', 51, 'W/1', { nodeId: 8, ino: 30, opflags: OpFlag.WRITE, posBytes: 8192, lenBytes: (1 << 20) - 8192 })] : []),
  ];
  const only = { rules: ['stale-mapping' as const] };

  it('a step that keeps its cached mapping across an invalidation of its range, no revalidation seen: warning with the four rows', () => {
    const { findings } = check(race(false), only);
    expect(findings.map((f) => [f.severity, f.tsNs, f.durNs, f.evidence])).toEqual([['warning', 30, 20, [0, 1, 2, 3]]]);
    expect(findings[0]!.explanation).toMatch(/^stale-mapping: .*nodeid 8.*§2\.6/);
  });

  it('the writer revalidates (cache_stale on its task): nothing; validation seen earlier in the trace: only info', () => {
    expect(check(race(true), only).findings).toEqual([]);
    expect(check(race(false, true), only).findings.map((f) => f.severity)).toEqual(['info']);
  });

  it('an invalidation outside the mapping: nothing', () => {
    const outside = race(false).map((e) => (e.kind === 'cache_inval' ? { ...e, posBytes: 2 << 20 } : e));
    expect(check(outside, only).findings).toEqual([]);
  });

  // Each kind's change over the writer's range, by another task; each with the counterpart that changes nothing.
  const withChange = (change: TraceEvent, map: Partial<EventOf<'iomap_map'>> = {}) => [
    ev('iomap_begin', 10, 'W/1', { nodeId: 8, ino: 30, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 1 << 20 }), // row 0
    { ...ev('iomap_map', 10, 'W/1', { nodeId: 8, ino: 30, slot: 'write', source: 'cache', cookie: 5, mapType: MapType.UNWRITTEN, mapLenBytes: 1 << 20, mapAddr: 0x100000n, mapDev: 1 }), ...map } as TraceEvent, // row 1
    change, // row 2
    ev('iomap_iter_end', 50, 'W/1', { nodeId: 8, ino: 30, posBytes: 0, lenBytes: 1 << 20, processedBytes: 1 << 20 }), // row 3
  ];
  const upsert = (mapType: number, extra = {}) => ev('cache_upsert', 30, 'srv/3', {
    nodeId: 8, ino: 30, fork: 'write', mapType, mapOffsetBytes: 8192, mapLenBytes: 4096, mapAddr: 0x100000n + 8192n, mapDev: 1, ...extra,
  });
  const ioend = (ioendFlags: number, error = 0) => ev('iomap_ioend', 30, 'kw/2', { nodeId: 8, ino: 30, posBytes: 8192, writtenBytes: 4096, ioendFlags, error });
  const inval = (posBytes: number) => ev('cache_inval', 30, 'kw/2', { nodeId: 8, ino: 30, fork: 'read', posBytes, lenBytes: 4096, reason: 'ioend', seq: 6 });
  const brief = (fs: Finding[]) => fs.map((f) => [f.severity, f.figures.kind, f.figures.change, f.tsNs, f.durNs, f.evidence]);

  it('another task upserts a different mapping (MAPPED over the UNWRITTEN one): stale-use warning; the same extent restated, or a refused upsert: nothing', () => {
    expect(brief(check(withChange(upsert(MapType.MAPPED)), only).findings)).toEqual([['warning', 'stale-use', 'upsert', 30, 20, [0, 1, 2, 3]]]);
    // Same type, device and address − offset: the step's own mapping of that range.
    expect(check(withChange(upsert(MapType.UNWRITTEN)), only).findings).toEqual([]);
    expect(check(withChange(upsert(MapType.MAPPED, { rejected: true })), only).findings).toEqual([]);
  });

  it('an UNWRITTEN ioend over the range by another task: stale-use warning; a plain ioend, or a failed one: nothing', () => {
    expect(brief(check(withChange(ioend(IoendFlag.UNWRITTEN)), only).findings)).toEqual([['warning', 'stale-use', 'ioend', 30, 20, [0, 1, 2, 3]]]);
    expect(check(withChange(ioend(0)), only).findings).toEqual([]);
    expect(check(withChange(ioend(IoendFlag.UNWRITTEN, -5)), only).findings).toEqual([]);
  });

  it('a mapping from the BEGIN reply (cookie 0) changed under the step: no-validation warning that says "may", even once validation was seen; outside its range or on a read step: nothing', () => {
    const reply = { source: 'reply' as const, cookie: 0 };
    const fs = check(withChange(inval(8192), reply), only).findings;
    expect(brief(fs)).toEqual([['warning', 'no-validation', 'inval', 30, 20, [0, 1, 2, 3]]]);
    expect(fs[0]!.figures).toMatchObject({ nodeId: 8, cookie: 0, cacheSeen: false });
    expect(fs[0]!.explanation).toMatch(/cookie 0.*may have gone on with a stale mapping/);
    const seen = [ev('cache_stale', 1, 'X/9', { nodeId: 8, ino: 30, posBytes: 0, oldCookie: 1, newCookie: 2 }), ...withChange(inval(8192), reply)];
    expect(brief(check(seen, only).findings)).toEqual([['warning', 'no-validation', 'inval', 30, 20, [1, 2, 3, 4]]]);
    expect(check(withChange(inval(2 << 20), reply), only).findings).toEqual([]);
    const read = withChange(inval(8192), reply).map((e) => (e.kind === 'iomap_begin' ? { ...e, opflags: 0 } : e));
    expect(check(read, only).findings).toEqual([]);
  });

  it('a failed revalidation whose step writes on past it instead of refetching: no-refetch error; a second failed one on a later folio shows it too', () => {
    // race(true) without the refetch, and the step's IO reaching 1 MiB: rows begin 0, map 1, inval 2, stale 3, end 4.
    const on = race(true).slice(0, -1).map((e) => (e.kind === 'iomap_iter_end' ? { ...e, processedBytes: 1 << 20 } : e));
    const fs = check(on, only).findings;
    expect(brief(fs)).toEqual([['error', 'no-refetch', null, 35, 15, [0, 1, 3, 4]]]);
    expect(fs[0]!.figures).toMatchObject({ stalePosBytes: 8192, ioEndBytes: 1 << 20, cookie: 5 });
    // A second cache_stale at 12288 (ts 40, row 4) on the same step: found there, once.
    const twice = [...on.slice(0, 4), ev('cache_stale', 40, 'W/1', { nodeId: 8, ino: 30, posBytes: 12288, oldCookie: 5, newCookie: 6 }), on[4]!];
    expect(brief(check(twice, only).findings)).toEqual([['error', 'no-refetch', null, 35, 5, [0, 1, 3, 4]]]);
    expect(check(twice, only).findings[0]!.figures.ioEndBytes).toBe(12288);
    // Ended short at the stale folio but no new step seen yet: not a finding, an unknown.
    const short = race(true).slice(0, -1);
    expect(check(short, only).findings).toEqual([]);
    expect(check(short, only).unknowns.map((u) => [u.rule, u.count])).toEqual([['stale-mapping', 1]]);
    expect(check(race(true), only).unknowns).toEqual([]);
  });
});

describe('cache', () => {
  const only = { rules: ['cache' as const] };
  const brief = (fs: Finding[]) => fs.map((f) => [f.severity, f.figures.kind, f.figures.nodeId, f.figures.op, f.tsNs, f.evidence]);

  it('ESTALE: an upsert for a nodeid the kernel does not hold is a warning, an invalidation only info; the trace\'s eviction is context', () => {
    const { findings } = check([
      ev('inode_new', 1, 'srv/1', { nodeId: 7, ino: 21, path: '/a' }), // row 0
      ev('inode_evict', 5, 'kw/3', { nodeId: 7, ino: 21 }), // row 1
      ev('fuse_notify', 10, 'srv/1', { notifyCode: 100, nodeId: 7, error: -116 }), // row 2: upsert
      ev('fuse_notify', 20, 'srv/1', { notifyCode: 101, nodeId: 9, error: -116 }), // row 3: inval
    ], only);
    expect(brief(findings)).toEqual([['warning', 'uncached-nodeid', 7, 'upsert', 10, [2]], ['info', 'uncached-nodeid', 9, 'inval', 20, [3]]]);
    expect(findings.map((f) => f.figures.nodeIdInTrace)).toEqual(['gone', 'never']);
    expect(findings[0]!.explanation).toMatch(/ESTALE.*§1\.5.*evicted before \(row 1\)/);
  });

  it('accepted notifies, and ESTALE for a notify that is not a mapping one: nothing', () => {
    expect(check([
      ev('fuse_notify', 10, 'srv/1', { notifyCode: 100, nodeId: 7, error: 0 }),
      ev('fuse_notify', 11, 'srv/1', { notifyCode: 101, nodeId: 7, error: 0 }),
      ev('fuse_notify', 12, 'srv/1', { notifyCode: 2, nodeId: 7, error: -116 }),
    ], only).findings).toEqual([]);
  });

  it('EINVAL: the refused upsert rows at its time name the cause (RETRY_CACHE fork, else attr_ino with the inode\'s ino); without them both are said', () => {
    const refused = (forkType: number) => [
      ev('fuse_notify', 10, 'srv/1', { notifyCode: 100, nodeId: 4, error: -22 }), // row 0
      ev('cache_upsert', 10, 'srv/1', { nodeId: 4, ino: 12, fork: 'read', mapType: MapType.MAPPED, rejected: true }), // row 1
      ev('cache_upsert', 10, 'srv/1', { nodeId: 4, ino: 12, fork: 'write', mapType: forkType, rejected: true }), // row 2
      ev('cache_upsert', 11, 'srv/1', { nodeId: 4, ino: 12, fork: 'read', mapType: MapType.MAPPED }), // row 3: a later notify's
    ];
    const cause = (fs: Finding[]) => fs.map((f) => [f.severity, f.figures.cause, f.figures.ino, f.evidence]);
    expect(cause(check(refused(MapType.RETRY_CACHE), only).findings)).toEqual([['warning', 'retry-cache', 12, [0, 1, 2]]]);
    const ino = check(refused(MapType.UNWRITTEN), only).findings;
    expect(cause(ino)).toEqual([['warning', 'attr_ino', 12, [0, 1, 2]]]);
    expect(ino[0]!.explanation).toMatch(/EINVAL.*the inode is ino 12/);
    expect(cause(check(refused(MapType.MAPPED).slice(0, 1), only).findings)).toEqual([['warning', 'attr_ino-or-retry-cache', null, [0]]]);
    // A refused invalidation leaves mappings the server disowned in the cache: error.
    expect(brief(check([ev('fuse_notify', 10, 'srv/1', { notifyCode: 101, nodeId: 4, error: -22 })], only).findings))
      .toEqual([['error', 'ino-mismatch', 4, 'inval', 10, [0]]]);
  });

  it('size-cap fork drops, counted per nodeid with the forks and the accepted upserts; other drops: nothing', () => {
    const { findings } = check([
      ev('cache_upsert', 10, 'srv/1', { nodeId: 4 }), // row 0
      ev('cache_drop', 11, 'srv/1', { nodeId: 4, fork: 'read', reason: 'overflow' }), // row 1
      ev('cache_upsert', 12, 'srv/1', { nodeId: 5 }), // row 2
      ev('cache_drop', 20, 'srv/1', { nodeId: 4, fork: 'write', reason: 'overflow' }), // row 3
      ev('cache_drop', 21, 'srv/1', { nodeId: 5, fork: 'read', reason: 'overflow' }), // row 4
      ev('cache_drop', 30, 'srv/1', { nodeId: 4, fork: 'read', reason: 'overflow' }), // row 5
      ev('cache_drop', 40, 'srv/1', { nodeId: 4, fork: 'read', reason: 'overflow' }), // row 6
      ev('cache_drop', 45, 'kw/2', { nodeId: 4, fork: 'read', reason: 'evict' }), // row 7: not the cap
      ev('cache_upsert', 50, 'srv/1', { nodeId: 4, rejected: true }), // row 8: refused, not counted
    ], only);
    expect(findings.map((f) => [f.severity, f.tsNs, f.durNs, f.evidence, f.figures])).toEqual([
      ['info', 11, 29, [1, 3, 5], { kind: 'overflow-drops', nodeId: 4, overflowDrops: 4, readForkDrops: 3, writeForkDrops: 1, upserts: 1 }],
      ['info', 21, 0, [4], { kind: 'overflow-drops', nodeId: 5, overflowDrops: 1, readForkDrops: 1, writeForkDrops: 0, upserts: 1 }],
    ]);
    expect(check([
      ev('cache_drop', 45, 'kw/2', { nodeId: 4, fork: 'read', reason: 'evict' }),
      ev('cache_drop', 46, 'srv/1', { nodeId: 4, fork: 'write', reason: 'whole_fork' }),
    ], only).findings).toEqual([]);
  });
});

describe('lock', () => {
  const N4 = { nodeId: 4, ino: 12 } as const;
  const lockCheck = (events: TraceEvent[], lock: Partial<typeof DEFAULT_SETTINGS.lock>) => check(events, { rules: ['lock'], settings: { lock } });
  // B waits 20 → 250 (230 ns) for A's exclusive hold, released at 250; then B waits 310 → 350 (40 ns).
  const contended = [
    ev('lock_acquire', 10, 'A/1', { ...W, ...N4 }), // row 0
    ev('lock_wait', 20, 'B/2', { ...W, ...N4 }), // row 1
    ev('lock_release', 250, 'A/1', { ...W, ...N4 }), // row 2
    ev('lock_acquire', 250, 'B/2', { ...W, ...N4 }), // row 3
    ev('lock_release', 260, 'B/2', { ...W, ...N4 }), // row 4
    ev('lock_acquire', 300, 'A/1', { ...W, ...N4 }), // row 5
    ev('lock_wait', 310, 'B/2', { ...W, ...N4 }), // row 6
    ev('lock_release', 350, 'A/1', { ...W, ...N4 }), // row 7
    ev('lock_acquire', 350, 'B/2', { ...W, ...N4 }), // row 8
    ev('lock_release', 360, 'B/2', { ...W, ...N4 }), // row 9
  ];

  it('a wait over lock.waitNs: info naming waiter, lock, nodeid, ino, length and the holder, with the wait, acquire and the holder\'s hold as evidence', () => {
    const { findings } = lockCheck(contended, { waitNs: 100 });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ rule: 'lock', severity: 'info', tsNs: 20, durNs: 230, evidence: [0, 1, 2, 3] });
    expect(findings[0]!.figures).toMatchObject({
      kind: 'wait', lock: 'i_rwsem', mode: 'W', nodeId: 4, ino: 12, lockAddr: null, waits: 2, longWaits: 1,
      p50WaitNs: 230, maxWaitNs: 230, waiter: 'B/2', holder: 'A/1',
    });
    expect(findings[0]!.explanation).toMatch(/^lock: 1 of 2 waits for i_rwsem of nodeid 4 \(ino 12\).*B\/2.*held by A\/1.*§6/);
  });

  it('waits at or under the threshold: nothing; the worst reaching lock.warnWaitNs: warning', () => {
    expect(lockCheck(contended, { waitNs: 230 }).findings).toEqual([]);
    expect(lockCheck(contended, { waitNs: 100, warnWaitNs: 230 }).findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('several long waits on one lock: one finding with the count, median and worst; evidence the worst wait only', () => {
    const { findings } = lockCheck([
      ev('lock_wait', 0, 'A/1', { ...W, ...N4 }), ev('lock_acquire', 300, 'A/1', { ...W, ...N4 }), // 300 ns, rows 0, 1
      ev('lock_wait', 400, 'B/2', { ...W, ...N4 }), ev('lock_acquire', 900, 'B/2', { ...W, ...N4 }), // 500 ns, rows 2, 3
      ev('lock_wait', 1000, 'C/3', { ...W, ...N4 }), ev('lock_acquire', 1200, 'C/3', { ...W, ...N4 }), // 200 ns, rows 4, 5
      ev('lock_wait', 1300, 'C/3', { ...W, nodeId: 5, ino: 13 }), ev('lock_acquire', 1350, 'C/3', { ...W, nodeId: 5, ino: 13 }), // other lock, short
    ], { waitNs: 100 });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ tsNs: 400, durNs: 500, evidence: [2, 3] });
    expect(findings[0]!.figures).toMatchObject({ waits: 3, longWaits: 3, p50WaitNs: 300, maxWaitNs: 500, totalLongWaitNs: 1000, waiter: 'B/2', holder: null, waiters: ['A/1', 'B/2', 'C/3'] });
  });

  it('a wait whose end is not in the trace: unknown, not a finding', () => {
    const r = lockCheck([
      ev('lock_wait', 10, 'B/2', { ...W, ...N4 }),
      ev('fuse_send', 5e9, 'ls/3', { unique: 8, opcode: Opcode.LOOKUP, nodeId: 1 }),
    ], { waitNs: 100 });
    expect(r.findings).toEqual([]);
    expect(r.unknowns.map((u) => [u.rule, u.count])).toEqual([['lock', 1]]);
  });

  it('a real capture: contention_begin … _end of one task, named by the derived lock_wait; no holder, its acquire\'s release unknown', () => {
    const addr = 0xffff8881420455d0n;
    const named = { lock: 'i_rwsem', mode: 'R', nodeId: 0, ino: 131, lockAddr: addr } as const;
    const r = lockCheck([
      ev('lock_contention', 100, 'dd/1', { phase: 'begin', lockAddr: addr, lockFlags: 2 }), // row 0
      ev('lock_wait', 100, 'dd/1', named), // row 1 (derived)
      ev('lock_contention', 100, 'dd/2', { phase: 'begin', lockAddr: 0x1234n, lockFlags: 4 }), // row 2: never ends
      ev('lock_contention', 5100, 'dd/1', { phase: 'end', lockAddr: addr, ret: 0 }), // row 3
      ev('lock_acquire', 5100, 'dd/1', named), // row 4 (derived)
    ], { waitNs: 1000 });
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ severity: 'info', tsNs: 100, durNs: 5000, evidence: [0, 1, 3, 4] });
    expect(r.findings[0]!.figures).toMatchObject({ kind: 'wait', lock: 'i_rwsem', mode: 'R', nodeId: null, ino: 131, lockAddr: '0xffff8881420455d0', holder: null, waits: 1 });
    expect(r.unknowns.map((u) => u.count)).toEqual([1, 1]);
  });

  // dd/1 holds i_rwsem of nodeid 4 from 0 to 3000; IOMAP_BEGIN round trip 2000 ns, IOEND 500 ns.
  const upcalls = [
    ev('lock_acquire', 0, 'dd/1', { ...W, ...N4 }), // row 0
    ev('fuse_send', 10, 'dd/1', { unique: 7, opcode: Opcode.IOMAP_BEGIN, nodeId: 4 }), // row 1
    ev('fuse_reply', 2010, 'srv/9', { unique: 7, opcode: Opcode.IOMAP_BEGIN }), // row 2
    ev('fuse_send', 2020, 'dd/1', { unique: 8, opcode: Opcode.IOMAP_IOEND, nodeId: 4 }), // row 3
    ev('fuse_reply', 2520, 'srv/9', { unique: 8, opcode: Opcode.IOMAP_IOEND }), // row 4
    ev('lock_release', 3000, 'dd/1', { ...W, ...N4 }), // row 5
  ];

  it('i_rwsem held across an upcall slower than lock.holdAcrossUpcallNs: info naming holder, request, round trip and hold', () => {
    const { findings } = lockCheck(upcalls, { holdAcrossUpcallNs: 1000 });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'info', tsNs: 0, durNs: 3000, evidence: [0, 1, 2, 5] });
    expect(findings[0]!.figures).toMatchObject({
      kind: 'hold-across-upcall', lock: 'i_rwsem', nodeId: 4, ino: 12, holder: 'dd/1', mode: 'W', opcode: 'FUSE_IOMAP_BEGIN', unique: 7,
      rttNs: 2000, holdNs: 3000, longUpcalls: 1, holds: 1, p50RttNs: 2000, maxRttNs: 2000, opcodes: ['FUSE_IOMAP_BEGIN'],
    });
    expect(findings[0]!.explanation).toContain('dd/1 held it exclusive during FUSE_IOMAP_BEGIN (unique 7), which took 2 µs');
  });

  it('round trips at or under the threshold, or answered after the release: nothing', () => {
    expect(lockCheck(upcalls, { holdAcrossUpcallNs: 2000 }).findings).toEqual([]);
    const releasedFirst = [upcalls[0]!, upcalls[1]!, ev('lock_release', 1000, 'dd/1', { ...W, ...N4 }), upcalls[2]!];
    expect(lockCheck(releasedFirst, { holdAcrossUpcallNs: 1000 }).findings).toEqual([]);
  });

  const INV = { lock: 'invalidate_lock', mode: 'W' } as const;
  // trunc/1 takes i_rwsem then invalidate_lock of nodeid 4 (the kernel's order); odd/2 the other way round.
  const inverted = [
    ev('lock_acquire', 10, 'trunc/1', { ...W, ...N4 }), // row 0
    ev('lock_acquire', 11, 'trunc/1', { ...INV, ...N4 }), // row 1
    ev('lock_release', 12, 'trunc/1', { ...INV, ...N4 }),
    ev('lock_release', 13, 'trunc/1', { ...W, ...N4 }),
    ev('lock_acquire', 20, 'odd/2', { ...INV, ...N4 }), // row 4
    ev('lock_acquire', 21, 'odd/2', { ...W, ...N4 }), // row 5
    ev('lock_release', 22, 'odd/2', { ...W, ...N4 }),
    ev('lock_release', 23, 'odd/2', { ...INV, ...N4 }),
  ];

  it('i_rwsem and invalidate_lock of one inode taken in opposite orders by two tasks: error, both tasks\' acquires as evidence', () => {
    const { findings } = lockCheck(inverted, {});
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ severity: 'error', tsNs: 10, durNs: 11, evidence: [0, 1, 4, 5] });
    expect(findings[0]!.figures).toMatchObject({ kind: 'order', nodeId: 4, ino: 12, rwsemFirst: 1, invalidateFirst: 1, tasks: ['trunc/1', 'odd/2'] });
    expect(findings[0]!.explanation).toMatch(/i_rwsem before its invalidate_lock.*§6.*ABBA deadlock/);
  });

  it('one order only, one task both ways, or two inodes: nothing', () => {
    const retask = (evs: TraceEvent[], task: string) => evs.map((e) => ({ ...e, task }) as TraceEvent);
    const sameOrder = [...inverted.slice(0, 4), ...retask(inverted.slice(0, 4), 'other/3').map((e) => ({ ...e, tsNs: e.tsNs + 10 }))];
    expect(lockCheck(sameOrder, {}).findings).toEqual([]);
    expect(lockCheck(retask(inverted, 'one/1'), {}).findings).toEqual([]);
    const otherInode = inverted.map((e, i) => (i >= 4 ? { ...e, nodeId: 5, ino: 13 } as TraceEvent : e));
    expect(lockCheck(otherInode, {}).findings).toEqual([]);
  });

  it('same findings for one batch, one row at a time, and separate stores sharing one string table', () => {
    const at = (evs: TraceEvent[], dt: number) => evs.map((e) => ({ ...e, tsNs: e.tsNs + dt }) as TraceEvent);
    const all = [...contended, ...at(upcalls, 1000), ...at(inverted, 5000), ev('lock_wait', 6000, 'Z/9', { ...W, nodeId: 7, ino: 0 })];
    const settings = { ...DEFAULT_SETTINGS, lock: { waitNs: 100, warnWaitNs: 1e9, holdAcrossUpcallNs: 1000 } };
    const create = () => lockRule.create(settings);
    const whole = create();
    const one = store(all);
    whole.onRows(one, 0, one.length, 0);
    const f = whole.findings();
    expect(f.map((x) => x.figures.kind).sort()).toEqual(['hold-across-upcall', 'order', 'wait']);
    const rowAtATime = create();
    const grow = new TraceStore();
    for (const e of all) { grow.append(e); rowAtATime.onRows(grow, grow.length - 1, grow.length, 0); }
    const strings = new StringTable();
    const split = create();
    for (let i = 0; i < all.length; i += 3) {
      const s = new TraceStore(0n, strings);
      s.appendAll(all.slice(i, i + 3));
      split.onRows(s, 0, s.length, i);
    }
    for (const c of [rowAtATime, split]) {
      expect(JSON.stringify(c.findings())).toBe(JSON.stringify(f));
      expect(JSON.stringify(c.unknowns!())).toBe(JSON.stringify(whole.unknowns!()));
    }
  });
});

describe('the runner', () => {
  // One trace with a finding of every rule (the cases above, on one clock).
  const mixed: TraceEvent[] = [
    ev('inode_new', 1, 'srv/1', { nodeId: 4, ino: 12, path: '/d1/file' }),
    ev('inode_new', 2, 'srv/1', { nodeId: 5, ino: 12, path: '/d2/link' }),
    ev('lock_acquire', 10, 'A/1', { ...W, nodeId: 4, ino: 12 }),
    ev('iomap_begin', 11, 'A/1', { nodeId: 4, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 8192 }),
    ev('lock_acquire', 15, 'B/2', { ...W, nodeId: 5, ino: 12 }),
    ev('iomap_map', 16, 'A/1', { nodeId: 4, ino: 12, mapType: MapType.MAPPED, mapLenBytes: 8192, mapAddr: 0x1000n, mapDev: 1 }),
    ev('iomap_iter_end', 20, 'A/1', { nodeId: 4, ino: 12, lenBytes: 8192, processedBytes: 4096 }),
    ev('lock_release', 30, 'A/1', { ...W, nodeId: 4, ino: 12 }),
    ev('iomap_begin', 31, 'B/2', { nodeId: 5, ino: 12, opflags: 0, posBytes: 8192, lenBytes: 4096 }),
    ev('iomap_map', 32, 'B/2', { nodeId: 5, ino: 12, mapType: MapType.MAPPED, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: 0x1000n, mapDev: 1 }),
    ev('iomap_bad_data', 32, 'B/2', { nodeId: 5, ino: 12, message: 'read mapping: zero length' }),
    ev('lock_release', 40, 'B/2', { ...W, nodeId: 5, ino: 12 }),
    ev('fuse_send', 41, 'ls/3', { unique: 8, opcode: Opcode.LOOKUP, nodeId: 1 }),
    ev('iomap_ioend', 50, 'kw/4', { nodeId: 4, ino: 12, posBytes: 1 << 20, writtenBytes: 4096, ioendFlags: IoendFlag.UNWRITTEN, sent: false }),
    // Nodeids 6 and 7 overlap before any evidence says they are one inode (ino 20).
    ev('lock_acquire', 60, 'C/5', { ...W, nodeId: 6, ino: 0 }),
    ev('lock_acquire', 61, 'D/6', { ...W, nodeId: 7, ino: 0 }),
    ev('lock_release', 62, 'C/5', { ...W, nodeId: 6, ino: 0 }),
    ev('lock_release', 63, 'D/6', { ...W, nodeId: 7, ino: 0 }),
    ev('inode_lookup', 64, 'srv/1', { nodeId: 6, ino: 20, path: '/e/a' }),
    ev('inode_lookup', 65, 'srv/1', { nodeId: 7, ino: 20, path: '/e/b' }),
    // A direct write of nodeid 9 waiting for its unwritten conversion.
    ev('app_op_begin', 70, 'E/7', { op: 'pwrite' }),
    ev('iomap_begin', 71, 'E/7', { nodeId: 9, ino: 30, opflags: OpFlag.WRITE | OpFlag.DIRECT, posBytes: 0, lenBytes: 4096 }),
    ev('iomap_map', 71, 'E/7', { nodeId: 9, ino: 30, slot: 'write', mapType: MapType.UNWRITTEN, mapLenBytes: 4096, mapAddr: 0x2000n, mapDev: 1 }),
    ev('iomap_iter_end', 72, 'E/7', { nodeId: 9, ino: 30, lenBytes: 4096, processedBytes: 4096 }),
    ev('iomap_ioend', 72, 'E/7', { nodeId: 9, ino: 30, writtenBytes: 4096, ioendFlags: IoendFlag.UNWRITTEN, sent: true }),
    ev('fuse_send', 72, 'E/7', { unique: 30, opcode: Opcode.IOMAP_IOEND, nodeId: 9 }),
    ev('fuse_reply', 80, 'srv/1', { unique: 30, opcode: Opcode.IOMAP_IOEND }),
    ev('app_op_end', 85, 'E/7', { op: 'pwrite' }),
    // 16 read steps of nodeid 10, each asking the server (no cache).
    ...Array.from({ length: 16 }, (_, i) => [
      ev('iomap_begin', 90 + 3 * i, 'G/9', { nodeId: 10, ino: 40, opflags: 0, posBytes: 4096 * i, lenBytes: 4096 }),
      ev('fuse_send', 90 + 3 * i, 'G/9', { unique: 200 + i, opcode: Opcode.IOMAP_BEGIN, nodeId: 10 }),
      ev('fuse_reply', 91 + 3 * i, 'srv/1', { unique: 200 + i, opcode: Opcode.IOMAP_BEGIN }),
    ]).flat(),
    // A writer of nodeid 11 keeps a cached mapping across writeback's invalidation (no revalidation in this trace).
    ev('iomap_begin', 140, 'H/10', { nodeId: 11, ino: 50, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 8192 }),
    ev('iomap_map', 140, 'H/10', { nodeId: 11, ino: 50, slot: 'write', source: 'cache', cookie: 3, mapType: MapType.MAPPED, mapLenBytes: 8192, mapAddr: 0x3000n, mapDev: 1 }),
    ev('cache_inval', 141, 'kw/4', { nodeId: 11, ino: 50, fork: 'read', posBytes: 4096, lenBytes: 4096, reason: 'ioend', seq: 4 }),
    ev('iomap_iter_end', 142, 'H/10', { nodeId: 11, ino: 50, posBytes: 0, lenBytes: 8192, processedBytes: 8192 }),
    // The server upserts a mapping for nodeid 77, which the kernel does not have (ESTALE).
    ev('fuse_notify', 150, 'srv/1', { notifyCode: 100, nodeId: 77, error: -116 }),
    // The kernel refuses an upsert for nodeid 11 with EINVAL (its write fork is RETRY_CACHE), then drops a fork over the size cap.
    ev('fuse_notify', 151, 'srv/1', { notifyCode: 100, nodeId: 11, error: -22 }),
    ev('cache_upsert', 151, 'srv/1', { nodeId: 11, ino: 50, fork: 'write', mapType: MapType.RETRY_CACHE, rejected: true }),
    ev('cache_upsert', 152, 'srv/1', { nodeId: 11, ino: 50, fork: 'read', mapType: MapType.MAPPED, mapLenBytes: 8192, mapAddr: 0x3000n, mapDev: 1 }),
    ev('cache_drop', 153, 'srv/1', { nodeId: 11, ino: 50, fork: 'read', reason: 'overflow' }),
    // A writer of nodeid 12 fails revalidation at 4096 and writes on to 8192 with the stale mapping (no-refetch).
    ev('iomap_begin', 160, 'J/11', { nodeId: 12, ino: 60, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 8192 }),
    ev('iomap_map', 160, 'J/11', { nodeId: 12, ino: 60, slot: 'write', source: 'cache', cookie: 2, mapType: MapType.MAPPED, mapLenBytes: 8192, mapAddr: 0x4000n, mapDev: 1 }),
    ev('cache_stale', 161, 'J/11', { nodeId: 12, ino: 60, posBytes: 4096, oldCookie: 2, newCookie: 3 }),
    ev('iomap_iter_end', 162, 'J/11', { nodeId: 12, ino: 60, posBytes: 0, lenBytes: 8192, processedBytes: 8192 }),
    // A writer of nodeid 13 on its BEGIN reply's mapping (cookie 0) while the server invalidates it (no-validation).
    ev('iomap_begin', 170, 'L/12', { nodeId: 13, ino: 70, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 4096 }),
    ev('iomap_map', 170, 'L/12', { nodeId: 13, ino: 70, slot: 'write', mapType: MapType.MAPPED, mapLenBytes: 4096, mapAddr: 0x5000n, mapDev: 1 }),
    ev('cache_inval', 171, 'srv/1', { nodeId: 13, ino: 70, fork: 'read', posBytes: 0, lenBytes: 4096, reason: 'server', seq: 9 }),
    ev('iomap_iter_end', 172, 'L/12', { nodeId: 13, ino: 70, posBytes: 0, lenBytes: 4096, processedBytes: 4096 }),
    // Nodeid 14's i_rwsem and invalidate_lock taken in opposite orders by M and N.
    ev('lock_acquire', 180, 'M/13', { ...W, nodeId: 14, ino: 80 }),
    ev('lock_acquire', 181, 'M/13', { lock: 'invalidate_lock', mode: 'W', nodeId: 14, ino: 80 }),
    ev('lock_release', 182, 'M/13', { lock: 'invalidate_lock', mode: 'W', nodeId: 14, ino: 80 }),
    ev('lock_release', 183, 'M/13', { ...W, nodeId: 14, ino: 80 }),
    ev('lock_acquire', 184, 'N/14', { lock: 'invalidate_lock', mode: 'W', nodeId: 14, ino: 80 }),
    ev('lock_acquire', 185, 'N/14', { ...W, nodeId: 14, ino: 80 }),
    ev('lock_release', 186, 'N/14', { ...W, nodeId: 14, ino: 80 }),
    ev('lock_release', 187, 'N/14', { lock: 'invalidate_lock', mode: 'W', nodeId: 14, ino: 80 }),
    ev('fuse_send', 31e9, 'ls/3', { unique: 10, opcode: Opcode.STATFS, nodeId: 1 }),
  ];
  const key = (fs: Finding[]) => JSON.stringify(fs);

  it('the mixed trace has a finding of every rule', () => {
    expect(new Set(check(mixed).findings.map((f) => f.rule))).toEqual(new Set(RULE_IDS));
    // and of every kind of the cache and stale-mapping rules, so the batching tests below cover their state across rows.
    const kinds = check(mixed).findings.filter((f) => f.rule === 'cache' || f.rule === 'stale-mapping').map((f) => `${f.rule} ${f.figures.kind} ${f.severity}`);
    expect(kinds.sort()).toEqual(['cache ino-mismatch warning', 'cache overflow-drops info', 'cache uncached-nodeid warning',
      'stale-mapping no-refetch error', 'stale-mapping no-validation warning', 'stale-mapping stale-use warning']);
  });

  it('same findings for one batch, one row at a time, and random splits', () => {
    const whole = key(check(mixed).findings);
    const byRows = (cuts: (n: number) => number) => {
      const s = new TraceStore();
      const r = new CheckRunner();
      for (let i = 0; i < mixed.length;) {
        const n = Math.max(1, Math.min(cuts(i), mixed.length - i));
        s.appendAll(mixed.slice(i, i + n));
        r.update(s);
        i += n;
      }
      return key(r.findings());
    };
    expect(byRows(() => 1)).toBe(whole);
    let seed = 7;
    const rnd = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return 1 + (seed % 5); };
    for (let t = 0; t < 20; t++) expect(byRows(rnd)).toBe(whole);
  });

  it('same findings, with stream row numbers, when each batch is its own store (a live session\'s batches)', () => {
    const whole = key(check(mixed).findings);
    const bySeparateStores = (n: number) => {
      const strings = new TraceStore().strings;
      const r = new CheckRunner();
      for (let i = 0; i < mixed.length; i += n) {
        const batch = new TraceStore(0n, strings);
        batch.appendAll(mixed.slice(i, i + n));
        r.feed(batch, 0, batch.length, i);
      }
      return key(r.findings());
    };
    for (const n of [1, 2, 3, 7, mixed.length]) expect(bySeparateStores(n)).toBe(whole);
  });

  it('refuses rows fed out of order instead of mixing up row numbers', () => {
    const s = new TraceStore();
    s.appendAll(mixed.slice(0, 4));
    const r = new CheckRunner();
    r.feed(s, 0, 2);
    expect(() => r.feed(s, 3, 4)).toThrow(/fed stream rows from 3, expected 2/);
  });

  it('--rule picks rules; atLeast filters by severity', () => {
    const only = check(mixed, { rules: ['mapping-invalid'] }).findings;
    expect(only.map((f) => f.rule)).toEqual(['mapping-invalid']);
    const all = check(mixed).findings;
    expect(atLeast(all, 'error').every((f) => f.severity === 'error')).toBe(true);
    expect(atLeast(all, 'info')).toHaveLength(all.length);
  });
});
