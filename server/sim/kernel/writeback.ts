// Writeback and ioends: the kworker flushing dirty page ranges, writeback_range's mapping reuse
// (cookie-checked, §2.6) and BEGIN(WRITEBACK), and fuse_iomap_end_ioend, which decides whether
// FUSE_IOMAP_IOEND is sent (§1.5), moves i_disk_size and invalidates the written range (§3.2).
// Writeback takes no i_rwsem (§6); direct writes call `ioend` themselves under theirs (vfs.ts).

import { Errno, IoendFlag, MapFlag, MapType, NULL_ADDR, OpFlag, Opcode, writeIomapIoendIn, type IomapIo, type RevisionTraits } from '../../../src/trace/fuse-proto.ts';
import type { Proc, ProcStep, Scheduler } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { CacheOps } from './cache-ops.ts';
import type { FuseInode } from './inode.ts';
import type { IomapIter } from './iomap-iter.ts';
import type { MappingOracle } from './oracle.ts';
import { devNs } from './timing.ts';
import type { FuseTransport } from './transport.ts';
import type { NodeId } from '../../../src/trace/ids.ts';

/** Block-layer sectors are 512 bytes: byte address >> 9 (§1.5 ioend new_addr). */
const SECTOR_SHIFT = 9n;

/** Max dirty bytes one writeback_range call maps and submits (one BEGIN may cover less). */
const WRITEBACK_CHUNK_BYTES = 1024 * 1024;
/** Dirty bytes the kworker flushes per inode per pass (bounds how long a pass holds the CPU). */
const WRITEBACK_PASS_BYTES = 8 * 1024 * 1024;

interface WritebackConfig {
  /** iomap_valid checks cookies (v3+ and not turned off). */
  checkCookies: boolean;
  /** The revision's IOEND layout: request size and whether the reply carries a new size (v7). */
  rev: Pick<RevisionTraits, 'ioendInBytes' | 'ioendHasReply'>;
}

interface WritebackDeps {
  transport: Pick<FuseTransport, 'request' | 'isLocal'>;
  iter: Pick<IomapIter, 'mapBegin' | 'iterEnd'>;
  cache: Pick<CacheOps, 'invalidateRange'>;
  oracle: Pick<MappingOracle, 'changeBegin' | 'changeEnd' | 'noteStaleUse'>;
}

export class Writeback {
  /** Server answered IOMAP_IOEND with ENOSYS once (§1.5): stop sending it on this connection. */
  private noIoend = false;
  private readonly sched: Scheduler;
  private readonly transport: WritebackDeps['transport'];
  private readonly iter: WritebackDeps['iter'];
  private readonly cache: WritebackDeps['cache'];
  private readonly oracle: WritebackDeps['oracle'];

  constructor(private readonly core: SimCore, private readonly inodes: ReadonlyMap<NodeId, FuseInode>, deps: WritebackDeps, private readonly cfg: WritebackConfig) {
    this.sched = core.sched;
    this.transport = deps.transport;
    this.iter = deps.iter;
    this.cache = deps.cache;
    this.oracle = deps.oracle;
  }

  hasDirtyData(): boolean {
    for (const inode of this.inodes.values()) if (!inode.dirty.isEmpty) return true;
    return false;
  }

  /**
   * The writeback kworker: every `intervalNs` flush dirty ranges of every fuse_inode. It exits
   * once `shouldStop()` holds and nothing is dirty, so finite scenarios end cleanly.
   */
  *kworker(proc: Proc, intervalNs: number, shouldStop: () => boolean): ProcStep<void> {
    for (;;) {
      { const ns = intervalNs; if (!this.sched.advanceIfNext(ns)) yield ns; }
      for (const inode of this.inodes.values()) {
        let budgetBytes = WRITEBACK_PASS_BYTES;
        while (budgetBytes > 0) {
          const r = inode.dirty.takeFirst(Math.min(budgetBytes, WRITEBACK_CHUNK_BYTES));
          if (!r) break;
          budgetBytes -= r[1] - r[0];
          yield* this.writebackRange(proc, inode, r[0], r[1]);
        }
      }
      if (shouldStop() && !this.hasDirtyData()) return;
    }
  }

  /** filemap_write_and_wait_range — only this fuse_inode's page cache (aliases keep theirs). */
  *flushRange(proc: Proc, inode: FuseInode, posBytes: number, lenBytes: number): ProcStep<void> {
    if (inode.dirty.isEmpty) return;
    for (const [s, e] of inode.dirty.extract(posBytes, posBytes + lenBytes)) yield* this.writebackRange(proc, inode, s, e);
  }

  /**
   * Writes back dirty [startBytes, endBytes) of one fuse_inode without i_rwsem (§6): per folio
   * range reuse the writeback context's mapping if it still covers pos and its cookie is valid,
   * else BEGIN(WRITEBACK); the bio; then one ioend per mapping.
   */
  *writebackRange(proc: Proc, inode: FuseInode, startBytes: number, endBytes: number): ProcStep<void> {
    let pos = startBytes;
    let wbMap: IomapIo | null = null;
    let wbCookie = 0;
    while (pos < endBytes && pos < inode.iSizeBytes) {
      const count = endBytes - pos;
      let dest: IomapIo | null = null;
      let error = 0;
      if (wbMap !== null && pos < Number(wbMap.offsetBytes + wbMap.lenBytes) && pos >= Number(wbMap.offsetBytes)) {
        if (wbCookie === 0 || inode.cache === null || inode.cache.seq === wbCookie) dest = wbMap;
        else if (this.cfg.checkCookies) {
          this.core.emit({ rawType: '',
            kind: 'cache_stale', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
            posBytes: pos, oldCookie: wbCookie, newCookie: inode.cache.seq,
            mapType: wbMap.type, mapFlags: wbMap.flags, mapOffsetBytes: Number(wbMap.offsetBytes), mapLenBytes: Number(wbMap.lenBytes),
            mapAddr: wbMap.addr, mapDev: wbMap.dev,
          });
        } else {
          this.oracle.noteStaleUse(proc, inode, pos, wbMap, wbCookie);
          dest = wbMap;
        }
      }
      if (dest === null) {
        const m = yield* this.iter.mapBegin(proc, inode, OpFlag.WRITEBACK, pos, count);
        error = m.error;
        dest = m.dest;
        wbMap = dest;
        wbCookie = m.cookie;
      }
      // Writeback needs real blocks; a hole/delalloc/inline answer here is bad data → EIO (§2.3).
      if (dest && dest.type !== MapType.MAPPED && dest.type !== MapType.UNWRITTEN) error = -Errno.EIO;
      if (error !== 0 || !dest) {
        // "Discard folio": the range is dropped and reported as an ioend with flags 0 (§1.5).
        this.iter.iterEnd(proc, inode, pos, count, 0, error);
        yield* this.ioend(proc, inode, pos, 0, 0, error, NULL_ADDR, 0);
        return;
      }
      const n = Math.min(count, Number(dest.offsetBytes + dest.lenBytes) - pos);
      { const ns = devNs(this.core, true, n); if (!this.sched.advanceIfNext(ns)) yield ns; }
      this.iter.iterEnd(proc, inode, pos, n, n, 0);
      // iomap clamps the ioend to the in-core EOF so size updates are byte exact.
      const writtenBytes = Math.max(0, Math.min(n, inode.iSizeBytes - pos));
      let flags = IoendFlag.WRITEBACK;
      if (dest.type === MapType.UNWRITTEN) flags |= IoendFlag.UNWRITTEN;
      if ((dest.flags & MapFlag.SHARED) !== 0) flags |= IoendFlag.SHARED;
      // new_addr as the kernel fills it for a writeback ioend: the bio's start *sector* (512-byte
      // units), not the byte address the uapi comment promises (§1.5; v7 fuse_iomap.c).
      const newAddrSectors = (dest.addr + BigInt(pos) - dest.offsetBytes) >> SECTOR_SHIFT;
      yield* this.ioend(proc, inode, pos, writtenBytes, flags, 0, newAddrSectors, dest.dev);
      pos += n;
    }
  }

  /**
   * fuse_iomap_end_ioend: traces every ioend (`newAddr` as sent: sectors for writeback, NULL_ADDR
   * for direct writes and discarded folios), sends FUSE_IOMAP_IOEND only when §1.5 says so, and
   * on success moves i_disk_size (and i_size) forward and invalidates the cached mappings of the
   * range (§3.2). Returns 0 or the -errno to report.
   */
  *ioend(proc: Proc, inode: FuseInode, posBytes: number, writtenBytes: number, ioendFlags: number, error: number, newAddr: bigint, dev: number): ProcStep<number> {
    let flags = ioendFlags;
    if (error === 0 && posBytes + writtenBytes > inode.iDiskSizeBytes) flags |= IoendFlag.APPEND;
    const sent = !this.noIoend && (error !== 0 || (writtenBytes > 0 && (flags & (IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.APPEND)) !== 0));
    // The kernel pre-fills newsize with max(on-disk size, pos + written); a v7 reply overrides it.
    let newSizeBytes = Math.max(inode.iDiskSizeBytes, posBytes + writtenBytes);
    if (!this.transport.isLocal) {
      this.core.emit({
        kind: 'iomap_ioend', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
        posBytes, writtenBytes, ioendFlags: flags, error, newAddr, newSizeBytes, sent,
      });
    }
    let result = error;
    if (sent) {
      this.oracle.changeBegin(inode.ino);
      const ioendInBytes = this.cfg.rev.ioendInBytes;
      const ioendIn = { flags, error, attrIno: BigInt(inode.ino), posBytes: BigInt(posBytes), newAddr, writtenBytes: BigInt(writtenBytes), dev };
      const r = yield* this.transport.request(proc, Opcode.IOMAP_IOEND, inode.nodeId, ioendInBytes, (dv, at) => writeIomapIoendIn(dv, at, ioendIn, ioendInBytes));
      if (r.error === -Errno.ENOSYS) this.noIoend = true;
      else if (r.error !== 0 && result === 0) result = r.error;
      else if (r.error === 0 && this.cfg.rev.ioendHasReply && r.body.byteLength >= 8) {
        newSizeBytes = Number(new DataView(r.body.buffer, r.body.byteOffset, 8).getBigUint64(0, true));
      }
    }
    if (result === 0) {
      inode.iDiskSizeBytes = newSizeBytes;
      if (newSizeBytes > inode.iSizeBytes) inode.iSizeBytes = newSizeBytes;
      // Every successful ioend invalidates its range (§3.2) — also unsent ones: the code path is
      // the same; an in-place overwrite thus costs its cached range a refetch.
      if (writtenBytes > 0) this.cache.invalidateRange(proc.task, inode, posBytes, posBytes + writtenBytes, 'ioend');
    }
    if (sent) this.oracle.changeEnd(inode.ino);
    return result;
  }
}
