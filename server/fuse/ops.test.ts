// FuseOps without a kernel: requests built byte by byte as fuse.h lays them out, replies read back
// at fuse.h's offsets. The real-kernel behaviour is mount.test.ts; this runs everywhere, fast.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IN_HEADER_BYTES, Opcode, writeInHeader } from '../../src/trace/fuse-proto.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { ImageFs } from './image.ts';
import { FuseOps } from './ops.ts';
import type { NodePolicy } from './nodes.ts';

const dirs: string[] = [];
const open: ImageFs[] = [];
afterEach(() => {
  for (const fs of open.splice(0)) fs.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

let unique = 2n;
function req(opcode: number, nodeId: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(IN_HEADER_BYTES + body.length);
  writeInHeader(new DataView(b.buffer, b.byteOffset), 0, { len: b.length, opcode, unique: (unique += 2n), nodeid: BigInt(nodeId), uid: 0, gid: 0, pid: 42 });
  body.copy(b, IN_HEADER_BYTES);
  return b;
}
const name = (s: string): Buffer => Buffer.from(`${s}\0`);
const u32s = (...v: number[]): Buffer => { const b = Buffer.alloc(4 * v.length); v.forEach((x, i) => b.writeUInt32LE(x, 4 * i)); return b; };
const u64s = (...v: number[]): Buffer => { const b = Buffer.alloc(8 * v.length); v.forEach((x, i) => b.writeBigUInt64LE(BigInt(x), 8 * i)); return b; };

function setup(policy: NodePolicy): { ops: FuseOps; events: TraceEvent[] } {
  const d = mkdtempSync(join(tmpdir(), 'fusescope-ops-'));
  dirs.push(d);
  ImageFs.mkfs(join(d, 'img'), 4 << 20);
  const fs = ImageFs.open(join(d, 'img'));
  open.push(fs);
  const events: TraceEvent[] = [];
  let t = 0;
  const ops = new FuseOps(fs, { policy, task: 'fusescope-mount/1', emit: (ev) => events.push(ev), nowNs: () => ++t });
  // INIT 7.40 offering BIG_WRITES (bit 5) and MAX_PAGES (bit 22): the reply says 7.38, keeps both flags.
  const init = ops.handle(req(Opcode.INIT, 0, u32s(7, 40, 131072, (1 << 5) | (1 << 22), 0, ...new Array(11).fill(0))))!;
  expect([init.readUInt32LE(16), init.readUInt32LE(20), init.readUInt32LE(28)]).toEqual([7, 38, (1 << 5) | (1 << 22)]);
  expect(init.readUInt32LE(16 + 20)).toBe(131072); // max_write
  return { ops, events };
}

/** fuse_entry_out after the 16-byte out header: nodeid at 0, attr.ino at 40, attr.nlink at 40 + 64. */
const entry = (reply: Buffer): { error: number; nodeId: number; ino: number; nlink: number } => ({
  error: reply.readInt32LE(4),
  nodeId: reply.length > 16 ? Number(reply.readBigUInt64LE(16)) : 0,
  ino: reply.length > 16 ? Number(reply.readBigUInt64LE(16 + 40)) : 0,
  nlink: reply.length > 16 ? reply.readUInt32LE(16 + 40 + 64) : 0,
});

describe('FuseOps', () => {
  for (const policy of ['per-path', 'ino'] as const) {
    it(`${policy}: CREATE then LINK answer ${policy === 'per-path' ? 'two nodeids' : 'one nodeid'} for one inode; FORGET has no reply`, () => {
      const { ops, events } = setup(policy);
      // fuse_create_in: flags O_RDWR|O_CREAT, mode 0100644, umask, open_flags; then the name.
      const created = ops.handle(req(Opcode.CREATE, 1, Buffer.concat([u32s(0o102, 0o100644, 0o022, 0), name('f')])))!;
      const a = entry(created);
      expect(a.error).toBe(0);
      expect(created.length).toBe(16 + 128 + 16); // entry_out + open_out
      const linked = entry(ops.handle(req(Opcode.LINK, 1, Buffer.concat([u64s(a.nodeId), name('g')])))!);
      expect(linked.ino).toBe(a.ino);
      expect(linked.nlink).toBe(2);
      if (policy === 'per-path') expect(linked.nodeId).not.toBe(a.nodeId);
      else expect([a.nodeId, linked.nodeId]).toEqual([a.ino, a.ino]);
      const lookups = events.filter((e) => e.kind === 'inode_lookup');
      expect(lookups.map((e) => e.kind === 'inode_lookup' && [e.path, e.nodeId, e.ino, e.nlookup, e.aliasOf])).toEqual([
        ['/f', a.nodeId, a.ino, 1, 0],
        ['/g', linked.nodeId, a.ino, policy === 'per-path' ? 1 : 2, policy === 'per-path' ? a.nodeId : 0],
      ]);
      expect(ops.handle(req(Opcode.FORGET, linked.nodeId, u64s(1)))).toBeNull();
      expect(events.at(-1)).toMatchObject({ kind: 'inode_forget', nodeId: linked.nodeId, ino: a.ino, nlookup: 1 });
      expect(events.at(-2)).toMatchObject({ kind: 'fuse_recv', opcode: Opcode.FORGET });
    });
  }

  it('WRITE into a hole: fuse_recv, the UNWRITTEN write mapping, the ioend, then fuse_reply — in that order', () => {
    const { ops, events } = setup('ino');
    const created = ops.handle(req(Opcode.CREATE, 1, Buffer.concat([u32s(0o102, 0o100644, 0, 0), name('f')])))!;
    const nodeId = entry(created).nodeId;
    const fh = Number(created.readBigUInt64LE(16 + 128));
    events.length = 0;
    // fuse_write_in: fh, offset 4000, size 200, write_flags, lock_owner, flags (O_RDWR), padding; then the data.
    const w = ops.handle(req(Opcode.WRITE, nodeId, Buffer.concat([u64s(fh, 4000), u32s(200, 0), u64s(0), u32s(2, 0), Buffer.alloc(200, 7)])))!;
    expect([w.readInt32LE(4), w.readUInt32LE(16)]).toEqual([0, 200]);
    expect(events.map((e) => e.kind)).toEqual(['fuse_recv', 'iomap_begin', 'iomap_map', 'iomap_iter_end', 'iomap_ioend', 'fuse_reply']);
    // A buffered write asks with opflags WRITE (1) for the request's range.
    expect(events[1]).toMatchObject({ nodeId, ino: nodeId, opflags: 1, posBytes: 4000, lenBytes: 200 });
    // Bytes 4000..4199 touch blocks 0 and 1: one unwritten piece of 8 KiB at file offset 0, on backing device 1.
    expect(events[2]).toMatchObject({ slot: 'write', mapType: 3, mapOffsetBytes: 0, mapLenBytes: 8192, mapDev: 1, nodeId, ino: nodeId });
    const addr = (events[2] as { mapAddr: bigint }).mapAddr;
    expect(events[3]).toMatchObject({ posBytes: 4000, lenBytes: 200, processedBytes: 200, error: 0 });
    // Buffered (no O_DIRECT in flags): WRITEBACK|UNWRITTEN|APPEND = 32|2|16, new_addr = sector of byte 4000.
    expect(events[4]).toMatchObject({ posBytes: 4000, writtenBytes: 200, ioendFlags: 50, newAddr: (addr + 4000n) / 512n, newSizeBytes: 4200, sent: true });
    expect(events[5]).toMatchObject({ kind: 'fuse_reply', opcode: Opcode.WRITE, error: 0, lenBytes: 24 });
    // READ of 8 KiB: one read mapping, MAPPED now, 4200 bytes back (short at EOF).
    events.length = 0;
    const r = ops.handle(req(Opcode.READ, nodeId, Buffer.concat([u64s(fh, 0), u32s(8192, 0), u64s(0), u32s(0, 0)])))!;
    expect(r.length - 16).toBe(4200);
    expect(r[16 + 4000]).toBe(7);
    expect(events.filter((e) => e.kind === 'iomap_map')).toEqual([expect.objectContaining({ slot: 'read', mapType: 2, mapOffsetBytes: 0, mapLenBytes: 8192, mapAddr: addr })]);
    // Clamped to EOF: the step asks for 4200 bytes and processes them; a buffered read has opflags 0.
    expect(events.filter((e) => e.kind === 'iomap_begin' || e.kind === 'iomap_iter_end')).toEqual([
      expect.objectContaining({ kind: 'iomap_begin', opflags: 0, posBytes: 0, lenBytes: 4200 }),
      expect.objectContaining({ kind: 'iomap_iter_end', posBytes: 0, lenBytes: 4200, processedBytes: 4200 }),
    ]);
  });

  it('a write over a written block and a hole is two iomap steps, as iomap_iter walks the mappings', () => {
    const { ops, events } = setup('ino');
    const created = ops.handle(req(Opcode.CREATE, 1, Buffer.concat([u32s(0o102, 0o100644, 0, 0), name('f')])))!;
    const nodeId = entry(created).nodeId;
    const fh = Number(created.readBigUInt64LE(16 + 128));
    const write = (offset: number, n: number) => ops.handle(req(Opcode.WRITE, nodeId, Buffer.concat([u64s(fh, offset), u32s(n, 0), u64s(0), u32s(2, 0), Buffer.alloc(n, 1)])));
    write(0, 4096);
    events.length = 0;
    write(0, 8192);
    const steps = events.filter((e) => e.kind.startsWith('iomap_') && e.kind !== 'iomap_ioend').map((e) => {
      if (e.kind === 'iomap_begin') return ['begin', e.posBytes, e.lenBytes];
      if (e.kind === 'iomap_map') return ['map', e.mapType, e.mapOffsetBytes, e.mapLenBytes];
      if (e.kind === 'iomap_iter_end') return ['end', e.posBytes, e.lenBytes, e.processedBytes];
      return [e.kind];
    });
    expect(steps).toEqual([
      ['begin', 0, 8192], ['map', 2, 0, 4096], ['end', 0, 8192, 4096],
      ['begin', 4096, 4096], ['map', 3, 4096, 4096], ['end', 4096, 4096, 4096],
    ]);
    // One block converted and the size grew 4096 → 8192: WRITEBACK|UNWRITTEN|APPEND.
    expect(events.find((e) => e.kind === 'iomap_ioend')).toMatchObject({ ioendFlags: 50, posBytes: 0, writtenBytes: 8192, newSizeBytes: 8192 });
  });

  it('answers ENOSYS to what it does not implement and ENOENT to a missing name', () => {
    const { ops } = setup('per-path');
    expect(ops.handle(req(Opcode.SYMLINK, 1, Buffer.concat([name('t'), name('l')])))!.readInt32LE(4)).toBe(-38);
    expect(ops.handle(req(Opcode.LOOKUP, 1, name('nope')))!.readInt32LE(4)).toBe(-2);
  });

  it('READDIRPLUS binds only the entries that fit; READDIR continues from the offset', () => {
    const { ops, events } = setup('per-path');
    // Three directories, each forgotten again (so a READDIRPLUS entry is a new lookup).
    for (const n of ['a', 'b', 'c']) {
      const made = entry(ops.handle(req(Opcode.MKDIR, 1, Buffer.concat([u32s(0o755, 0), name(n)])))!);
      ops.handle(req(Opcode.FORGET, made.nodeId, u64s(1)));
    }
    const fh = Number(ops.handle(req(Opcode.OPENDIR, 1, u32s(0, 0)))!.readBigUInt64LE(16));
    events.length = 0;
    // Each plus entry for a 1-byte name is 128 + 24 + 1 → 160 bytes: 3 fit in 480 (".", "..", "a").
    const plus = ops.handle(req(Opcode.READDIRPLUS, 1, Buffer.concat([u64s(fh, 0), u32s(480, 0), u64s(0), u32s(0, 0)])))!;
    expect(plus.length - 16).toBe(480);
    expect(events.filter((e) => e.kind === 'inode_lookup').map((e) => e.kind === 'inode_lookup' && e.path)).toEqual(['/a']);
    // The third entry's fuse_dirent.off (at 160*2 + 128 + 8) says where to go on: 3.
    expect(Number(plus.readBigUInt64LE(16 + 320 + 128 + 8))).toBe(3);
    const rest = ops.handle(req(Opcode.READDIR, 1, Buffer.concat([u64s(fh, 3), u32s(4096, 0), u64s(0), u32s(0, 0)])))!;
    // fuse_dirent for "b" then "c": 24 + 1 → 32 bytes each; names at offset 24 of each.
    expect(rest.length - 16).toBe(64);
    expect([rest.toString('utf8', 16 + 24, 16 + 25), rest.toString('utf8', 16 + 56, 16 + 57)]).toEqual(['b', 'c']);
  });
});
