// The kernel parts through their narrow interfaces, each with stub neighbours: what writeback's
// ioend sends and records (§1.5), what the mapping oracle counts, what a server notification does
// to the mapping cache (§3.2). Expected values are worked out from those rules, not from runs.

import { describe, expect, it } from 'vitest';
import {
  Errno, INVAL_MAPPINGS_OUT_BYTES, IoendFlag, MapType, Opcode, REVISIONS, encodeReply, readIomapIoendIn,
  writeInvalMappingsOut, type IomapIo,
} from '../../../src/trace/fuse-proto.ts';
import type { TraceEvent } from '../../../src/trace/schema.ts';
import { Proc, type ProcStep } from '../clock.ts';
import { SimCore } from '../core.ts';
import { DEFAULT_COSTS } from '../scenarios/index.ts';
import { CacheOps } from './cache-ops.ts';
import { newFuseInode, type FuseInode } from './inode.ts';
import { MappingCache } from './mapping-cache.ts';
import { MappingOracle } from './oracle.ts';
import type { Reply } from './transport.ts';
import { Writeback } from './writeback.ts';
import { asNodeId, asIno, asTaskId } from '../../../src/trace/ids.ts';

const proc = new Proc('kworker/77', 77);

function drain(core: SimCore): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let ev = core.shiftPending(); ev !== undefined; ev = core.shiftPending()) out.push(ev);
  return out;
}

/** Runs a generator that never waits (the stubs answer at once) to its result. */
function run<T>(g: ProcStep<T>): T {
  const r = g.next();
  if (!r.done) throw new Error('stub step waited');
  return r.value;
}

describe('Writeback.ioend through stub transport, cache and oracle (v7)', () => {
  function setup(replies: Reply[]) {
    const core = new SimCore(1, DEFAULT_COSTS);
    const sent: { opcode: number; nodeId: number; body: Uint8Array }[] = [];
    const invalidated: [number, number, string][] = [];
    const changes: string[] = [];
    const transport = {
      isLocal: false,
      *request(_p: Proc, opcode: number, nodeId: number, bodyBytes: number, fill?: (dv: DataView, at: number) => void): ProcStep<Reply> {
        const body = new Uint8Array(bodyBytes);
        if (fill) fill(new DataView(body.buffer), 0);
        sent.push({ opcode, nodeId, body });
        return replies.shift() ?? { error: 0, body: new Uint8Array(0) };
      },
    };
    const inode = newFuseInode(asNodeId(5), asIno(12), '/f', false, 8192);
    const wb = new Writeback(core, new Map([[asNodeId(5), inode]]), {
      transport,
      iter: { *mapBegin() { throw new Error('not used'); }, iterEnd() { throw new Error('not used'); } },
      cache: { invalidateRange: (_t: string, _i: FuseInode, s: number, e: number, why: string) => { invalidated.push([s, e, why]); } },
      oracle: {
        changeBegin: (ino: number, s?: number, e?: number) => { changes.push(`begin ${ino} [${s}, ${e})`); return changes.length; },
        changeEnd: (ino: number, token: number) => { changes.push(`end ${ino} #${token}`); },
        noteStaleUse: () => false,
      },
      classic: { *writeback() { throw new Error('not used'); } },
    }, { checkCookies: true, rev: REVISIONS.v7 });
    return { core, wb, inode, sent, invalidated, changes };
  }

  it('an in-place overwrite inside the on-disk size is traced, not sent, and still invalidates its range', () => {
    const { core, wb, inode, sent, invalidated, changes } = setup([]);
    expect(run(wb.ioend(proc, inode, 0, 4096, IoendFlag.WRITEBACK, 0, 0x10_0000n, 1))).toBe(0);
    expect(sent).toEqual([]);
    expect(changes).toEqual([]);
    expect(invalidated).toEqual([[0, 4096, 'ioend']]);
    const [ev, ...rest] = drain(core);
    expect(rest).toEqual([]);
    expect(ev).toMatchObject({ kind: 'iomap_ioend', nodeId: 5, ino: 12, posBytes: 0, writtenBytes: 4096, ioendFlags: IoendFlag.WRITEBACK, sent: false, newSizeBytes: 8192 });
    expect(inode.iDiskSizeBytes).toBe(8192);
  });

  it('a write past the on-disk size is APPEND: one IOMAP_IOEND, then i_disk_size and i_size move to its end', () => {
    const { core, wb, inode, sent, changes } = setup([]);
    expect(run(wb.ioend(proc, inode, 8192, 4096, IoendFlag.WRITEBACK, 0, 0x10_2000n, 1))).toBe(0);
    expect(sent.map((s) => [s.opcode, s.nodeId, s.body.byteLength])).toEqual([[Opcode.IOMAP_IOEND, 5, 48]]);
    const wire = readIomapIoendIn(sent[0]!.body);
    expect(wire).toMatchObject({ flags: IoendFlag.WRITEBACK | IoendFlag.APPEND, error: 0, attrIno: 12n, posBytes: 8192n, writtenBytes: 4096n, newAddr: 0x10_2000n, dev: 1 });
    // The server may change only the ioend's own range: mappings elsewhere stay checkable.
    expect(changes).toEqual(['begin 12 [8192, 12288)', 'end 12 #1']);
    expect(drain(core)).toMatchObject([{ kind: 'iomap_ioend', sent: true, newSizeBytes: 12288 }]);
    expect([inode.iDiskSizeBytes, inode.iSizeBytes]).toEqual([12288, 12288]);
  });

  it("a v7 reply's newsize wins over the kernel's guess; ENOSYS stops later IOENDs on the connection", () => {
    const newsize = new Uint8Array(8);
    new DataView(newsize.buffer).setBigUint64(0, 10_000n, true);
    const { wb, inode, sent } = setup([{ error: 0, body: newsize }, { error: -Errno.ENOSYS, body: new Uint8Array(0) }]);
    run(wb.ioend(proc, inode, 8192, 4096, IoendFlag.WRITEBACK | IoendFlag.UNWRITTEN, 0, 0x10_2000n, 1));
    expect(inode.iDiskSizeBytes).toBe(10_000);
    expect(run(wb.ioend(proc, inode, 16384, 4096, IoendFlag.WRITEBACK, 0, 0x10_4000n, 1))).toBe(0); // ENOSYS is not an IO error
    expect(sent).toHaveLength(2);
    run(wb.ioend(proc, inode, 20480, 4096, IoendFlag.WRITEBACK, 0, 0x10_5000n, 1)); // APPEND, but no longer sent
    expect(sent).toHaveLength(2);
    expect(inode.iDiskSizeBytes).toBe(24576);
  });
});

describe('MappingOracle', () => {
  const io: IomapIo = { offsetBytes: 0n, lenBytes: 4096n, addr: 0n, type: MapType.MAPPED, flags: 0, dev: 1 };
  const inode = newFuseInode(asNodeId(5), asIno(12), '/f', false, 4096);

  it('checks a mapping only when no change of its ino was in flight or began since it was fetched', () => {
    const oracle = new MappingOracle(new SimCore(1, DEFAULT_COSTS), () => 'extent map disagrees');
    oracle.checkAgainstServer(proc, inode, io, 'reply', oracle.changeCount(12));
    expect(oracle.mappingCheck).toMatchObject({ checked: 1, exempt: 0 });
    expect(oracle.mappingCheck.disagreements).toMatchObject([{ ino: 12, nodeId: 5, source: 'reply', why: 'extent map disagrees' }]);
    const before = oracle.changeCount(12);
    const change = oracle.changeBegin(12);
    oracle.checkAgainstServer(proc, inode, io, 'cache', oracle.changeCount(12)); // in flight
    oracle.changeEnd(12, change);
    oracle.checkAgainstServer(proc, inode, io, 'reply', before); // fetched before the change
    expect(oracle.mappingCheck).toMatchObject({ checked: 1, exempt: 2 });
    oracle.checkAgainstServer(proc, inode, io, 'cache', oracle.changeCount(12));
    expect(oracle.mappingCheck).toMatchObject({ checked: 2, exempt: 2 });
  });

  it('a change limited to a range exempts only mappings that overlap it (an IOEND converts only its own blocks)', () => {
    const oracle = new MappingOracle(new SimCore(1, DEFAULT_COSTS), () => null);
    const at = (offsetBytes: bigint): IomapIo => ({ ...io, offsetBytes });
    const before = oracle.changeCount(12);
    const change = oracle.changeBegin(12, 8192, 12288); // an IOEND of block 2
    oracle.checkAgainstServer(proc, inode, at(0n), 'cache', oracle.changeCount(12)); // block 0: checked
    oracle.checkAgainstServer(proc, inode, at(8192n), 'cache', oracle.changeCount(12)); // block 2, in flight: exempt
    oracle.changeEnd(12, change);
    oracle.checkAgainstServer(proc, inode, at(4096n), 'reply', before); // block 1, fetched across it: checked
    oracle.checkAgainstServer(proc, inode, at(8192n), 'reply', before); // block 2, fetched across it: exempt
    oracle.checkAgainstServer(proc, inode, at(8192n), 'cache', oracle.changeCount(12)); // block 2 after it: checked
    expect(oracle.mappingCheck).toMatchObject({ checked: 3, exempt: 2 });
  });

  it('a mapping fetched before changes the oracle no longer remembers is exempt', () => {
    const oracle = new MappingOracle(new SimCore(1, DEFAULT_COSTS), () => null);
    const before = oracle.changeCount(12);
    for (let i = 0; i < 200; i++) oracle.changeEnd(12, oracle.changeBegin(12, 1 << 20, 2 << 20)); // far from block 0
    oracle.checkAgainstServer(proc, inode, io, 'reply', before);
    oracle.checkAgainstServer(proc, inode, io, 'reply', oracle.changeCount(12));
    expect(oracle.mappingCheck).toMatchObject({ checked: 1, exempt: 1 });
  });

  it('without a check function it counts nothing', () => {
    const oracle = new MappingOracle(new SimCore(1, DEFAULT_COSTS), null);
    oracle.changeBegin(12);
    oracle.checkAgainstServer(proc, inode, io, 'reply', 0);
    expect(oracle.changeCount(12)).toBe(0);
    expect(oracle.mappingCheck).toEqual({ checked: 0, exempt: 0, disagreements: [] });
  });
});

describe('CacheOps: server notifications (v7 codes)', () => {
  function setup() {
    const core = new SimCore(1, DEFAULT_COSTS);
    const inode = newFuseInode(asNodeId(5), asIno(12), '/f', false, 64 * 1024);
    inode.cache = new MappingCache(256 * 1024, 2 ** 44);
    inode.cache.upsert('read', { offBytes: 0, lenBytes: 64 * 1024, addr: 0x10_0000, type: MapType.MAPPED, flags: 0, dev: 1 });
    const ops = new CacheOps(core, new Map([[asNodeId(5), inode]]), {
      blockBytes: 4096, maxBytes: 2 ** 44, cacheMaxBytes: 256 * 1024, registeredDevs: new Set([1]), rev: REVISIONS.v7,
    });
    return { core, inode, ops };
  }
  const inval = (nodeid: bigint, attrIno: bigint, offsetBytes: bigint, lenBytes: bigint) =>
    encodeReply({ error: REVISIONS.v7.notifyInval!, unique: 0n }, INVAL_MAPPINGS_OUT_BYTES, (dv, at) => writeInvalMappingsOut(dv, at, {
      nodeid, attrIno, read: { offsetBytes, lenBytes }, write: { offsetBytes: 0n, lenBytes: 0n },
    }));

  it('an invalidation removes the read-fork range and bumps ic_seq; the absent write fork is left alone', () => {
    const { core, inode, ops } = setup();
    const seqBefore = inode.cache!.seq;
    expect(ops.handleNotify(inval(5n, 12n, 4096n, 4096n), asTaskId('fuse2fs/501'))).toBe(0);
    expect(drain(core)).toMatchObject([
      { kind: 'fuse_notify', nodeId: 5, error: 0, notifyCode: 101 },
      { kind: 'cache_inval', fork: 'read', posBytes: 4096, lenBytes: 4096, reason: 'server', seq: seqBefore + 1 },
    ]);
    expect(inode.cache!.lookup('read', 4096)).toBeNull();
    expect(inode.cache!.lookup('read', 0)).not.toBeNull();
    expect(inode.cache!.lookup('read', 8192)).not.toBeNull();
  });

  it('an unknown nodeid is ESTALE, a mismatched attr ino EINVAL, and neither touches the cache', () => {
    const { core, inode, ops } = setup();
    const seqBefore = inode.cache!.seq;
    expect(ops.handleNotify(inval(9n, 12n, 0n, 4096n), asTaskId('fuse2fs/501'))).toBe(-Errno.ESTALE);
    expect(ops.handleNotify(inval(5n, 13n, 0n, 4096n), asTaskId('fuse2fs/501'))).toBe(-Errno.EINVAL);
    expect(drain(core)).toMatchObject([
      { kind: 'fuse_notify', nodeId: 9, error: -Errno.ESTALE },
      { kind: 'fuse_notify', nodeId: 5, error: -Errno.EINVAL },
    ]);
    expect(inode.cache!.seq).toBe(seqBefore);
  });

  it("the kernel's own invalidation widens the range to whole blocks", () => {
    const { core, ops, inode } = setup();
    ops.invalidateRange(asTaskId('app/1001'), inode, 5000, 9000, 'fallocate');
    expect(drain(core)).toMatchObject([{ kind: 'cache_inval', fork: 'read', posBytes: 4096, lenBytes: 8192, reason: 'fallocate' }]);
  });
});

