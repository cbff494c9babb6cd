// Writeback and ioends: the kworker flushing dirty page ranges, writeback_range's mapping reuse
// (cookie-checked, §2.6) and BEGIN(WRITEBACK); the completion worker, which merges the completed
// ioends (iomap_ioend_try_merge) and runs fuse_iomap_end_ioend on each, which decides whether
// FUSE_IOMAP_IOEND is sent (§1.5), moves i_disk_size and invalidates the written range (§3.2).
// Writeback takes no i_rwsem (§6); direct writes call `ioend` themselves under theirs (vfs.ts).

import { Errno, IoendFlag, MapFlag, MapType, NULL_ADDR, OpFlag, Opcode, writeIomapIoendIn, type IomapIo, type RevisionTraits } from '../../../src/trace/fuse-proto.ts';
import { PARK, type Proc, type ProcStep, type Scheduler } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { CacheOps } from './cache-ops.ts';
import type { ClassicIo } from './classic-io.ts';
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

/**
 * A writeback ioend from its bio's submission until the completion worker has finished it (its
 * folios are under writeback all that time). `flags` are the ioend's own bits (WRITEBACK plus
 * UNWRITTEN/SHARED from its mapping); APPEND is decided when it is finished.
 */
interface PendingIoend {
  inode: FuseInode;
  posBytes: number;
  /** Bytes of page cache the bio wrote (its folios stay under writeback until the ioend finishes). */
  bioBytes: number;
  /** Bytes reported: clamped to the in-core EOF. */
  writtenBytes: number;
  flags: number;
  error: number;
  /** Start sector (512-byte units). */
  newAddr: bigint;
  dev: number;
  /**
   * Submitted as far as the kernel is concerned: the writeback code has stopped adding to its
   * ioend (the next block could not join it, iomap_can_add_to_ioend, or writepages ended). The
   * worker takes only sealed ioends, so a contiguous run is not split by an early wakeup.
   */
  sealed: boolean;
}

/** Ioend bits that must be equal on both sides of a merge (IOMAP_IOEND_NOMERGE_FLAGS, include/linux/iomap.h). */
const NOMERGE_FLAGS = IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.DIRECT;

/**
 * iomap_ioend_can_merge (fs/iomap/ioend.c): same IO status, same no-merge flags, `next` starts
 * where `a` ends in the file and on the disk (sector contiguity). BOUNDARY is never set here.
 */
function canMerge(a: PendingIoend, next: PendingIoend): boolean {
  return a.error === next.error && (a.flags & NOMERGE_FLAGS) === (next.flags & NOMERGE_FLAGS) &&
    a.posBytes + a.writtenBytes === next.posBytes && a.newAddr !== NULL_ADDR && next.newAddr !== NULL_ADDR &&
    a.dev === next.dev && a.newAddr + (BigInt(a.writtenBytes) >> SECTOR_SHIFT) === next.newAddr;
}

/** Whether Writeback.flushRange has anything to do for inode: dirty data, or ioends not yet finished. */
export function mustFlush(inode: FuseInode): boolean {
  return !inode.dirty.isEmpty || inode.wbPendingCount > 0;
}

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
  classic: Pick<ClassicIo, 'writeback'>;
}

export class Writeback {
  /** Server answered IOMAP_IOEND with ENOSYS once (§1.5): stop sending it on this connection. */
  private noIoend = false;
  private readonly sched: Scheduler;
  private readonly transport: WritebackDeps['transport'];
  private readonly iter: WritebackDeps['iter'];
  private readonly cache: WritebackDeps['cache'];
  private readonly oracle: WritebackDeps['oracle'];
  private readonly classic: WritebackDeps['classic'];
  /** Bios submitted, not yet completed. */
  private readonly submitted: PendingIoend[] = [];
  /** Completed writeback ioends waiting for the completion worker (the per-inode completion lists, in completion order). */
  private readonly done: PendingIoend[] = [];
  /** The worker's current batch: taken from `done`, not yet finished. */
  private active: PendingIoend[] = [];
  /** The completion worker (a workqueue kworker), parked while `workerIdle`. */
  private worker: Proc | null = null;
  private workerIdle = false;
  /**
   * Tasks in filemap_write_and_wait_range waiting for the folios of [startBytes, endBytes) of an
   * inode to leave writeback, which happens when the worker has finished their ioends.
   */
  private readonly flushWaiters: { inode: FuseInode; startBytes: number; endBytes: number; proc: Proc }[] = [];

  constructor(private readonly core: SimCore, private readonly inodes: ReadonlyMap<NodeId, FuseInode>, deps: WritebackDeps, private readonly cfg: WritebackConfig) {
    this.sched = core.sched;
    this.transport = deps.transport;
    this.iter = deps.iter;
    this.cache = deps.cache;
    this.oracle = deps.oracle;
    this.classic = deps.classic;
  }

  hasDirtyData(): boolean {
    for (const inode of this.inodes.values()) if (!inode.dirty.isEmpty) return true;
    return false;
  }

  /** No completed ioend is waiting for, or being processed by, the completion worker. */
  get ioendsIdle(): boolean {
    return this.submitted.length === 0 && this.done.length === 0 && this.active.length === 0;
  }

  /** Whether some folio of [startBytes, endBytes) of inode is still under writeback (its ioend not finished). */
  private underWriteback(inode: FuseInode, startBytes: number, endBytes: number): boolean {
    if (inode.wbPendingCount === 0) return false;
    for (const list of [this.submitted, this.active, this.done]) {
      for (const d of list) if (d.inode === inode && d.posBytes < endBytes && startBytes < d.posBytes + d.bioBytes) return true;
    }
    return false;
  }

  /** [startBytes, endBytes) minus the parts under writeback, and those parts. */
  private splitByWriteback(inode: FuseInode, startBytes: number, endBytes: number): { free: [number, number][]; busy: [number, number][] } {
    if (!this.underWriteback(inode, startBytes, endBytes)) return { free: [[startBytes, endBytes]], busy: [] };
    const busy: [number, number][] = [];
    for (const list of [this.submitted, this.active, this.done]) {
      for (const d of list) {
        const s = Math.max(d.posBytes, startBytes), e = Math.min(d.posBytes + d.bioBytes, endBytes);
        if (d.inode === inode && s < e) busy.push([s, e]);
      }
    }
    busy.sort((a, b) => a[0] - b[0]);
    const free: [number, number][] = [], merged: [number, number][] = [];
    let at = startBytes;
    for (const [s, e] of busy) {
      if (s > at) free.push([at, s]);
      const last = merged[merged.length - 1];
      if (last && s <= last[1]) last[1] = Math.max(last[1], e); else merged.push([s, e]);
      at = Math.max(at, e);
    }
    if (at < endBytes) free.push([at, endBytes]);
    return { free, busy: merged };
  }

  /**
   * The ioend completion worker (fuse's per-inode ioend work on an unbound workqueue, §2.4): bio
   * completion cannot upcall, so completed ioends wait here; each run takes everything completed
   * so far, per inode sorted by offset (iomap_sort_ioends), merges neighbours
   * (iomap_ioend_try_merge) and completes each merged ioend — so the IOMAP_IOEND upcalls come from
   * this task, not from the flusher that submitted the bios.
   */
  *completionWorker(proc: Proc): ProcStep<void> {
    this.worker = proc;
    for (;;) {
      if (!this.done.some((d) => d.sealed)) {
        this.workerIdle = true;
        yield PARK;
        continue;
      }
      const batch = this.done.filter((d) => d.sealed);
      this.done.splice(0, this.done.length, ...this.done.filter((d) => !d.sealed));
      this.active = batch.slice();
      const byInode = new Map<FuseInode, PendingIoend[]>();
      for (const d of batch) {
        const list = byInode.get(d.inode);
        if (list) list.push(d); else byInode.set(d.inode, [d]);
      }
      for (const [inode, list] of byInode) {
        list.sort((a, b) => a.posBytes - b.posBytes);
        for (let i = 0; i < list.length;) {
          const head = { ...list[i]! };
          let j = i + 1;
          while (j < list.length && canMerge(head, list[j]!)) head.writtenBytes += list[j++]!.writtenBytes;
          yield* this.ioend(proc, inode, head.posBytes, head.writtenBytes, head.flags, head.error, head.newAddr, head.dev);
          // iomap_finish_ioends: the merged ioends' folios leave writeback.
          const finished = new Set(list.slice(i, j));
          this.active = this.active.filter((d) => !finished.has(d));
          inode.wbPendingCount -= j - i;
          this.wakeFlushWaiters();
          i = j;
        }
      }
    }
  }

  private wakeFlushWaiters(): void {
    for (let k = this.flushWaiters.length - 1; k >= 0; k--) {
      const w = this.flushWaiters[k]!;
      if (!this.underWriteback(w.inode, w.startBytes, w.endBytes)) {
        this.flushWaiters.splice(k, 1);
        this.sched.wake(w.proc, undefined, 0);
      }
    }
  }

  /** queue_work for the completion worker when it sleeps. */
  private kickWorker(): void {
    if (this.worker === null || !this.workerIdle || !this.done.some((d) => d.sealed)) return;
    this.workerIdle = false;
    this.sched.wake(this.worker, undefined, 0);
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
        // Background writeback (WB_SYNC_NONE) skips folios still under writeback; they stay dirty.
        const skipped: [number, number][] = [];
        while (budgetBytes > 0) {
          const r = inode.dirty.takeFirst(Math.min(budgetBytes, WRITEBACK_CHUNK_BYTES));
          if (!r) break;
          budgetBytes -= r[1] - r[0];
          const { free, busy } = this.splitByWriteback(inode, r[0], r[1]);
          skipped.push(...busy);
          for (const [s, e] of free) yield* this.writebackRange(proc, inode, s, e);
        }
        for (const [s, e] of skipped) inode.dirty.add(s, e - s);
        this.kickWorker();
      }
      if (shouldStop() && !this.hasDirtyData()) return;
    }
  }

  /**
   * filemap_write_and_wait_range — only this fuse_inode's page cache (aliases keep theirs). Data
   * integrity writeback (WB_SYNC_ALL) first waits for folios already under writeback, writes the
   * dirty ones back, then waits until the completion worker has finished every ioend of the range
   * (folio writeback ends there) — also those the background flusher submitted. Callers skip it
   * when `mustFlush` is false.
   */
  *flushRange(proc: Proc, inode: FuseInode, posBytes: number, lenBytes: number): ProcStep<void> {
    const endBytes = posBytes + lenBytes;
    yield* this.waitWriteback(proc, inode, posBytes, endBytes);
    for (const [s, e] of inode.dirty.extract(posBytes, endBytes)) yield* this.writebackRange(proc, inode, s, e);
    yield* this.waitWriteback(proc, inode, posBytes, endBytes);
  }

  /** folio_wait_writeback over [startBytes, endBytes): park until the worker has finished those ioends. */
  private *waitWriteback(proc: Proc, inode: FuseInode, startBytes: number, endBytes: number): ProcStep<void> {
    if (!this.underWriteback(inode, startBytes, endBytes)) return;
    if (this.worker === null) throw new Error('sim: writeback completed with no completion worker');
    this.flushWaiters.push({ inode, startBytes, endBytes, proc });
    this.kickWorker();
    yield PARK;
  }


  /**
   * Writes back dirty [startBytes, endBytes) of one fuse_inode without i_rwsem (§6): per folio
   * range reuse the writeback context's mapping if it still covers pos and its cookie is valid,
   * else BEGIN(WRITEBACK); the bio; when it completes, one ioend per mapping joins the
   * completion list (the completion worker sends them).
   */
  *writebackRange(proc: Proc, inode: FuseInode, startBytes: number, endBytes: number): ProcStep<void> {
    if (!inode.iomap) return yield* this.classic.writeback(proc, inode, startBytes, endBytes); // FUSE_WRITE, no mapping, no ioend
    let pos = startBytes;
    let wbMap: IomapIo | null = null;
    let wbCookie = 0;
    /** This call's completed ioends not yet sealed (the one iomap is still adding blocks to). */
    const run: PendingIoend[] = [];
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
        // "Discard folio": the range is dropped and reported as an ioend with flags 0 (§1.5). No
        // bio was submitted, so no completion is queued: the writeback task reports it itself.
        this.iter.iterEnd(proc, inode, pos, count, 0, error);
        this.seal(run);
        yield* this.ioend(proc, inode, pos, 0, 0, error, NULL_ADDR, 0);
        return;
      }
      const n = Math.min(count, Number(dest.offsetBytes + dest.lenBytes) - pos);
      let flags = IoendFlag.WRITEBACK;
      if (dest.type === MapType.UNWRITTEN) flags |= IoendFlag.UNWRITTEN;
      if ((dest.flags & MapFlag.SHARED) !== 0) flags |= IoendFlag.SHARED;
      // new_addr as the kernel fills it for a writeback ioend: the bio's start *sector* (512-byte
      // units), not the byte address the uapi comment promises (§1.5; v7 fuse_iomap.c).
      const newAddrSectors = (dest.addr + BigInt(pos) - dest.offsetBytes) >> SECTOR_SHIFT;
      // Submitted: from here the folios are under writeback until the worker finishes the ioend.
      const io: PendingIoend = { inode, posBytes: pos, bioBytes: n, writtenBytes: 0, flags, error: 0, newAddr: newAddrSectors, dev: dest.dev, sealed: false };
      this.submitted.push(io);
      inode.wbPendingCount++;
      { const ns = devNs(this.core, true, n); if (!this.sched.advanceIfNext(ns)) yield ns; }
      this.iter.iterEnd(proc, inode, pos, n, n, 0);
      // The bio completed. iomap clamps the ioend to the in-core EOF so size updates are byte exact.
      io.writtenBytes = Math.max(0, Math.min(n, inode.iSizeBytes - pos));
      this.submitted.splice(this.submitted.indexOf(io), 1);
      const last = run[run.length - 1];
      if (last !== undefined && !canMerge(last, io)) this.seal(run);
      this.done.push(io);
      run.push(io);
      pos += n;
    }
    this.seal(run);
  }

  /** The ioends of `run` are submitted: the worker may take them once their bios completed. */
  private seal(run: PendingIoend[]): void {
    if (run.length === 0) return;
    for (const d of run) d.sealed = true;
    run.length = 0;
    this.kickWorker();
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
    let change = 0;
    if (sent) {
      // The server converts or remaps only this ioend's range (§1.5).
      change = this.oracle.changeBegin(inode.ino, posBytes, posBytes + writtenBytes);
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
    if (sent) this.oracle.changeEnd(inode.ino, change);
    return result;
  }
}
