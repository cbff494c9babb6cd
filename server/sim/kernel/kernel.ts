// The kernel model: VFS + fuse + iomap as far as fuse-iomap needs them.
//
//   app thread ── syscall ──▶ i_rwsem (per fuse_inode) ──▶ iomap_iter loop ──▶ FUSE_IOMAP_BEGIN/END
//                                                             │ buffered write
//                                                             ▼
//                                   dirty page ranges ──▶ writeback kworker ──▶ BEGIN(WRITEBACK), bio, IOEND
//
// fuse_inodes are keyed by nodeid (iget5 compares nodeid, §5.1): two nodeids for one attr ino
// (per-path policy + hardlinks) give two fuse_inodes with separate i_rwsem, i_size, i_disk_size
// and page cache — the aliasing the default scenario shows. Every upcall is encoded with
// src/trace/fuse-proto.ts and crosses DevFuse as bytes; the reply is decoded here.
//
// Extension points (later changes): the mapping cache goes into `mapBegin` (cache lookup before the
// upcall, RETRY_CACHE loop, cookies), truncate/fallocate become new syscalls next to `pwrite`.

import {
  EFSCORRUPTED, Errno, FUSE_REQ_ID_STEP, FuseDecodeError, IOMAP_BEGIN_IN_BYTES, IOMAP_END_IN_BYTES, IoendFlag,
  MapFlag, MapType, NULL_ADDR, OUT_HEADER_BYTES, OpFlag, Opcode, REVISIONS, encodeRequest, isWriteish,
  readIomapBeginOut, readOutHeader, writeIomapBeginIn, writeIomapEndIn, writeIomapIoendIn,
  type IomapIo, type ProtocolRevision,
} from '../../../src/trace/fuse-proto.ts';
import type { AppOp } from '../../../src/trace/schema.ts';
import { PARK, type Proc, type ProcStep } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { DevFuse } from '../dev-fuse.ts';
import { O_DIRECT, lookupBodyBytes, mapFields, readEntryOut } from '../proto.ts';
import { DirtyRanges } from './dirty-ranges.ts';
import { RwSem, type RwMode } from './rwsem.ts';
import { validateMapping, type ValidateContext } from './validate.ts';

export interface FuseInode {
  nodeId: number;
  /** attr.ino from the entry reply (fi->orig_ino). */
  ino: number;
  /** First path that resolved to this nodeid. */
  path: string;
  nlookup: number;
  isDir: boolean;
  /** In-memory size (i_size). */
  iSizeBytes: number;
  /** The kernel's idea of the on-disk size; decides APPEND on ioends (§1.5). */
  iDiskSizeBytes: number;
  readonly iRwsem: RwSem;
  readonly dirty: DirtyRanges;
}

export interface OpenFile {
  fd: number;
  path: string;
  oflags: number;
  inode: FuseInode;
}

export interface KernelConfig {
  rootNodeId: number;
  revision: ProtocolRevision;
  blockBytes: number;
  maxBytes: number;
  registeredDevs: ReadonlySet<number>;
}

interface Reply {
  /** 0 or -errno. */
  error: number;
  body: Uint8Array;
}

interface MapResult {
  error: number;
  /** The iomap destination: write slot for write-ish ops unless PURE_OVERWRITE, else read slot (§1.5). */
  dest: IomapIo | null;
}

/** Which path drives an iomap iteration; decides opflags (§1.8) and what "acting" costs. */
const enum IterKind { BufRead, BufWrite, DioRead, DioWrite }
const ITER_OPFLAGS: Record<IterKind, number> = {
  [IterKind.BufRead]: 0,
  [IterKind.BufWrite]: OpFlag.WRITE,
  [IterKind.DioRead]: OpFlag.DIRECT,
  [IterKind.DioWrite]: OpFlag.WRITE | OpFlag.DIRECT,
};

interface IterResult {
  processedBytes: number;
  error: number;
  /** IOEND flags collected from the mappings a direct write hit (UNWRITTEN, SHARED). */
  ioendFlags: number;
}

/** Max dirty bytes one writeback_range call maps and submits (one BEGIN may cover less). */
const WRITEBACK_CHUNK_BYTES = 1024 * 1024;
/** Dirty bytes the kworker flushes per inode per pass (bounds how long a pass holds the CPU). */
const WRITEBACK_PASS_BYTES = 8 * 1024 * 1024;

export class KernelModel {
  private readonly inodes = new Map<number, FuseInode>();
  /** dcache: path → nodeid. Entries never expire (entry_valid is "forever" in the sim). */
  private readonly dcache = new Map<string, number>();
  private nextUnique = FUSE_REQ_ID_STEP;
  private nextFd = 3;
  /** Server answered ENOSYS once (§1.5): stop sending that upcall on this connection. */
  private noEnd = false;
  private noIoend = false;
  private readonly validateCtx: ValidateContext;
  private readonly ioendInBytes: number;
  private readonly ioendHasReply: boolean;

  constructor(private readonly core: SimCore, private readonly dev: DevFuse, private readonly cfg: KernelConfig) {
    this.validateCtx = {
      posBytes: 0, blockBytes: cfg.blockBytes, maxBytes: cfg.maxBytes,
      hasCache: false, // the mapping cache arrives in a later change; until then RETRY_CACHE is invalid
      isDevRegistered: (dev) => cfg.registeredDevs.has(dev),
    };
    this.ioendInBytes = REVISIONS[cfg.revision].ioendInBytes;
    this.ioendHasReply = REVISIONS[cfg.revision].ioendHasReply;
  }

  /** fuse_inodes by nodeid, in instantiation order (for tests and the UI). */
  get fuseInodes(): ReadonlyMap<number, FuseInode> {
    return this.inodes;
  }

  hasDirtyData(): boolean {
    for (const inode of this.inodes.values()) if (!inode.dirty.isEmpty) return true;
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // FUSE transport

  /** Sends one request as bytes and parks until DevFuse hands back the reply bytes. */
  *request(proc: Proc, opcode: number, nodeId: number, bodyBytes: number, fill?: (dv: DataView, at: number) => void): ProcStep<Reply> {
    const unique = this.nextUnique;
    this.nextUnique += FUSE_REQ_ID_STEP;
    const buf = encodeRequest({ opcode, unique: BigInt(unique), nodeid: BigInt(nodeId), uid: 0, gid: 0, pid: proc.tid }, bodyBytes, fill);
    this.core.emit({ kind: 'fuse_send', tsNs: this.core.sched.nowNs, task: proc.task, unique, opcode, nodeId, lenBytes: buf.byteLength });
    this.dev.submit(buf, unique, proc);
    const reply = (yield PARK) as Uint8Array;
    const h = readOutHeader(reply);
    if (Number(h.unique) !== unique) throw new Error(`sim: ${proc.task} got reply ${h.unique} for request ${unique}`);
    return { error: h.error, body: reply.subarray(OUT_HEADER_BYTES) };
  }

  // -------------------------------------------------------------------------------------------
  // Path lookup and open

  /** Walks `path` from the root, sending FUSE_LOOKUP for each component the dcache lacks. */
  *lookupPath(proc: Proc, path: string): ProcStep<FuseInode | number> {
    let nodeId = this.cfg.rootNodeId;
    let soFar = '';
    for (const name of path.split('/').filter(Boolean)) {
      soFar += `/${name}`;
      const cached = this.dcache.get(soFar);
      if (cached !== undefined) { nodeId = cached; continue; }
      const nameBytes = lookupBodyBytes(name);
      const res = yield* this.request(proc, Opcode.LOOKUP, nodeId, nameBytes.byteLength, (dv, at) => {
        new Uint8Array(dv.buffer, dv.byteOffset + at, nameBytes.byteLength).set(nameBytes);
      });
      if (res.error !== 0) return res.error;
      const entry = readEntryOut(res.body);
      const tsNs = this.core.sched.nowNs;
      let inode = this.inodes.get(entry.nodeId);
      if (!inode) {
        inode = {
          nodeId: entry.nodeId, ino: entry.ino, path: soFar, nlookup: 0, isDir: (entry.mode & 0o170000) === 0o040000,
          iSizeBytes: entry.sizeBytes, iDiskSizeBytes: entry.sizeBytes, iRwsem: new RwSem(), dirty: new DirtyRanges(),
        };
        this.inodes.set(entry.nodeId, inode);
        this.core.emit({ kind: 'inode_new', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, path: soFar });
      }
      inode.nlookup++;
      this.core.emit({ kind: 'inode_lookup', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, path: soFar, nlookup: inode.nlookup });
      this.dcache.set(soFar, entry.nodeId);
      nodeId = entry.nodeId;
    }
    const inode = this.inodes.get(nodeId);
    return inode ?? -Errno.ENOENT; // the root has no fuse_inode in the sim: opening "/" is not a file op
  }

  /** open(2): returns the open file or -errno. (FUSE_OPEN/RELEASE are not modelled yet.) */
  *open(proc: Proc, path: string, oflags: number): ProcStep<OpenFile | number> {
    const fd = this.nextFd++;
    this.appBegin(proc, 'open', path, fd, 0, 0, oflags);
    yield this.core.jitterNs(this.core.costs.syscallNs);
    const inode = yield* this.lookupPath(proc, path);
    if (typeof inode === 'number') {
      this.appEnd(proc, 'open', fd, inode);
      return inode;
    }
    this.appEnd(proc, 'open', fd, fd);
    return { fd, path, oflags, inode };
  }

  private appBegin(proc: Proc, op: AppOp, path: string, fd: number, posBytes: number, lenBytes: number, oflags: number): void {
    this.core.emit({ kind: 'app_op_begin', tsNs: this.core.sched.nowNs, task: proc.task, op, path, fd, posBytes, lenBytes, oflags });
  }
  private appEnd(proc: Proc, op: AppOp, fd: number, ret: number): void {
    this.core.emit({ kind: 'app_op_end', tsNs: this.core.sched.nowNs, task: proc.task, op, fd, ret });
  }

  // -------------------------------------------------------------------------------------------
  // i_rwsem

  private *lock(proc: Proc, inode: FuseInode, mode: RwMode): ProcStep<void> {
    if (!inode.iRwsem.tryAcquire(proc, mode)) {
      this.core.emit({ kind: 'lock_wait', tsNs: this.core.sched.nowNs, task: proc.task, lock: 'i_rwsem', mode, nodeId: inode.nodeId, ino: inode.ino });
      inode.iRwsem.enqueue(proc, mode);
      yield PARK; // woken by unlock() once the lock is ours
    }
    this.core.emit({ kind: 'lock_acquire', tsNs: this.core.sched.nowNs, task: proc.task, lock: 'i_rwsem', mode, nodeId: inode.nodeId, ino: inode.ino });
  }

  private unlock(proc: Proc, inode: FuseInode, mode: RwMode): void {
    this.core.emit({ kind: 'lock_release', tsNs: this.core.sched.nowNs, task: proc.task, lock: 'i_rwsem', mode, nodeId: inode.nodeId, ino: inode.ino });
    for (const next of inode.iRwsem.release(proc, mode)) this.core.sched.wake(next, undefined, this.core.jitterNs(this.core.costs.wakeupNs));
  }

  // -------------------------------------------------------------------------------------------
  // read/write syscalls (§2.4 per-operation flows, §6 locking)

  /** pread(2)/pwrite(2) on an open file; returns bytes done or -errno, like the syscall. */
  *pio(proc: Proc, file: OpenFile, isWrite: boolean, posBytes: number, lenBytes: number): ProcStep<number> {
    const op: AppOp = isWrite ? 'pwrite' : 'pread';
    this.appBegin(proc, op, file.path, file.fd, posBytes, lenBytes, file.oflags);
    yield this.core.jitterNs(this.core.costs.syscallNs);
    const direct = (file.oflags & O_DIRECT) !== 0;
    const inode = file.inode;
    let ret: number;
    if (!isWrite) {
      // Buffered and direct reads both take i_rwsem shared.
      yield* this.lock(proc, inode, 'R');
      if (direct) yield* this.flushRange(proc, inode, posBytes, lenBytes);
      const n = Math.min(lenBytes, Math.max(0, inode.iSizeBytes - posBytes));
      ret = n === 0 ? 0 : this.retOf(yield* this.iterate(proc, inode, direct ? IterKind.DioRead : IterKind.BufRead, posBytes, n));
      this.unlock(proc, inode, 'R');
    } else if (!direct) {
      yield* this.lock(proc, inode, 'W');
      ret = this.retOf(yield* this.iterate(proc, inode, IterKind.BufWrite, posBytes, lenBytes));
      this.unlock(proc, inode, 'W');
    } else {
      // Direct writes are always exclusive (§6); the IOEND round trip of a synchronous direct
      // write happens before iomap_dio_rw returns, i.e. still under i_rwsem (§2.4).
      yield* this.lock(proc, inode, 'W');
      yield* this.flushRange(proc, inode, posBytes, lenBytes);
      const res = yield* this.iterate(proc, inode, IterKind.DioWrite, posBytes, lenBytes);
      const ok = yield* this.ioend(proc, inode, posBytes, res.processedBytes, IoendFlag.DIRECT | res.ioendFlags, res.error, NULL_ADDR, 0);
      ret = ok === 0 ? this.retOf(res) : ok;
      this.unlock(proc, inode, 'W');
    }
    this.appEnd(proc, op, file.fd, ret);
    return ret;
  }

  private retOf(res: IterResult): number {
    return res.processedBytes > 0 ? res.processedBytes : res.error;
  }

  /** filemap_write_and_wait_range before direct IO — only this fuse_inode's page cache. */
  private *flushRange(proc: Proc, inode: FuseInode, posBytes: number, lenBytes: number): ProcStep<void> {
    if (inode.dirty.isEmpty) return;
    for (const [s, e] of inode.dirty.extract(posBytes, posBytes + lenBytes)) yield* this.writebackRange(proc, inode, s, e);
  }

  /** The iomap_iter loop (§2.4): BEGIN, act on the mapping, END when due, advance. */
  private *iterate(proc: Proc, inode: FuseInode, kind: IterKind, posBytes: number, lenBytes: number): ProcStep<IterResult> {
    const opflags = ITER_OPFLAGS[kind];
    const costs = this.core.costs;
    const res: IterResult = { processedBytes: 0, error: 0, ioendFlags: 0 };
    let pos = posBytes;
    let remaining = lenBytes;
    while (remaining > 0) {
      const m = yield* this.mapBegin(proc, inode, opflags, pos, remaining);
      if (m.dest === null) {
        this.iterEnd(proc, inode, pos, remaining, 0, m.error);
        res.error = m.error;
        return res;
      }
      const dest = m.dest;
      const n = Math.min(remaining, Number(dest.offsetBytes + dest.lenBytes) - pos);
      const hasData = dest.type === MapType.MAPPED;
      let sizeChanged = false;
      let actNs: number;
      switch (kind) {
        case IterKind.BufRead:
        case IterKind.DioRead:
          // HOLE/UNWRITTEN/DELALLOC read as zeros without touching the disk (§2.3).
          actNs = hasData ? this.devNs(false, n) : this.memNs(n);
          break;
        case IterKind.BufWrite:
          actNs = this.memNs(n);
          inode.dirty.add(pos, n);
          if (pos + n > inode.iSizeBytes) {
            inode.iSizeBytes = pos + n; // iomap sets IOMAP_F_SIZE_CHANGED when a buffered write extends i_size
            sizeChanged = true;
          }
          break;
        case IterKind.DioWrite:
          if (dest.type !== MapType.MAPPED && dest.type !== MapType.UNWRITTEN) {
            // iomap_dio: a direct write must target allocated space (§2.3).
            this.iterEnd(proc, inode, pos, n, 0, -Errno.EIO);
            res.error = -Errno.EIO;
            return res;
          }
          actNs = this.devNs(true, n);
          if (dest.type === MapType.UNWRITTEN) res.ioendFlags |= IoendFlag.UNWRITTEN;
          if ((dest.flags & MapFlag.SHARED) !== 0) res.ioendFlags |= IoendFlag.SHARED;
          break;
      }
      yield actNs + this.core.jitterNs(costs.syscallNs >> 2);
      // §1.5: never for INLINE; else if the server asked (intended WANT_IOMAP_END rule), or the op
      // is write-ish and it wrote short or changed the size.
      const writtenBytes = n;
      const needEnd = !this.noEnd && dest.type !== MapType.INLINE &&
        ((dest.flags & MapFlag.WANT_IOMAP_END) !== 0 || (isWriteish(opflags) && (writtenBytes < n || sizeChanged)));
      if (needEnd) {
        const map: IomapIo = sizeChanged ? { ...dest, flags: dest.flags | MapFlag.SIZE_CHANGED } : dest;
        this.core.emit({
          kind: 'iomap_end', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
          opflags, posBytes: pos, lenBytes: n, writtenBytes, ...mapFields(map),
        });
        const endIn = { opflags, attrIno: BigInt(inode.ino), posBytes: BigInt(pos), countBytes: BigInt(n), writtenBytes: BigInt(writtenBytes), map };
        const r = yield* this.request(proc, Opcode.IOMAP_END, inode.nodeId, IOMAP_END_IN_BYTES, (dv, at) => writeIomapEndIn(dv, at, endIn));
        if (r.error === -Errno.ENOSYS) this.noEnd = true;
      }
      this.iterEnd(proc, inode, pos, n, writtenBytes, 0);
      pos += n;
      remaining -= n;
      res.processedBytes += n;
    }
    return res;
  }

  private iterEnd(proc: Proc, inode: FuseInode, posBytes: number, lenBytes: number, processedBytes: number, error: number): void {
    this.core.emit({
      kind: 'iomap_iter_end', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
      posBytes, lenBytes, processedBytes, error,
    });
  }

  /**
   * fuse_iomap_begin: upcall, trace both slots, validate (§1.4), choose the destination (§1.5).
   * The mapping cache (lookup, RETRY_CACHE, cookies) slots in here.
   */
  private *mapBegin(proc: Proc, inode: FuseInode, opflags: number, posBytes: number, countBytes: number): ProcStep<MapResult> {
    const core = this.core;
    core.emit({ kind: 'iomap_begin', tsNs: core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, opflags, posBytes, lenBytes: countBytes });
    const beginIn = { opflags, attrIno: BigInt(inode.ino), posBytes: BigInt(posBytes), countBytes: BigInt(countBytes) };
    const r = yield* this.request(proc, Opcode.IOMAP_BEGIN, inode.nodeId, IOMAP_BEGIN_IN_BYTES, (dv, at) => writeIomapBeginIn(dv, at, beginIn));
    if (r.error !== 0) return { error: r.error, dest: null };
    let out;
    try {
      out = readIomapBeginOut(r.body);
    } catch (e) {
      if (!(e instanceof FuseDecodeError)) throw e;
      this.badData(proc, inode, e.message, -Errno.EIO);
      return { error: -Errno.EIO, dest: null };
    }
    const tsNs = core.sched.nowNs;
    for (const slot of ['read', 'write'] as const) {
      core.emit({
        kind: 'iomap_map', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, slot, source: 'reply',
        ...mapFields(out[slot]), cookie: 0,
      });
    }
    this.validateCtx.posBytes = posBytes;
    const bad = validateMapping(out.read, 'read', this.validateCtx) ?? validateMapping(out.write, 'write', this.validateCtx);
    if (bad !== null) {
      this.badData(proc, inode, bad, -EFSCORRUPTED);
      return { error: -EFSCORRUPTED, dest: null };
    }
    const dest = isWriteish(opflags) && out.write.type !== MapType.PURE_OVERWRITE ? out.write : out.read;
    return { error: 0, dest };
  }

  private badData(proc: Proc, inode: FuseInode, message: string, error: number): void {
    this.core.emit({ kind: 'iomap_bad_data', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, message, error });
  }

  // -------------------------------------------------------------------------------------------
  // Writeback and ioends

  /**
   * Writes back dirty [startBytes, endBytes) of one fuse_inode without i_rwsem (§6): BEGIN with
   * WRITEBACK per mapping, the bio, then one ioend per mapping.
   */
  *writebackRange(proc: Proc, inode: FuseInode, startBytes: number, endBytes: number): ProcStep<void> {
    let pos = startBytes;
    while (pos < endBytes && pos < inode.iSizeBytes) {
      const count = endBytes - pos;
      const m = yield* this.mapBegin(proc, inode, OpFlag.WRITEBACK, pos, count);
      let error = m.error;
      const dest = m.dest;
      // Writeback needs real blocks; a hole/delalloc/inline answer here is bad data → EIO (§2.3).
      if (dest && dest.type !== MapType.MAPPED && dest.type !== MapType.UNWRITTEN) error = -Errno.EIO;
      if (error !== 0 || !dest) {
        // "Discard folio": the range is dropped and reported as an ioend with flags 0 (§1.5).
        this.iterEnd(proc, inode, pos, count, 0, error);
        yield* this.ioend(proc, inode, pos, 0, 0, error, NULL_ADDR, 0);
        return;
      }
      const n = Math.min(count, Number(dest.offsetBytes + dest.lenBytes) - pos);
      yield this.devNs(true, n);
      this.iterEnd(proc, inode, pos, n, n, 0);
      // iomap clamps the ioend to the in-core EOF so size updates are byte exact.
      const writtenBytes = Math.max(0, Math.min(n, inode.iSizeBytes - pos));
      let flags = IoendFlag.WRITEBACK;
      if (dest.type === MapType.UNWRITTEN) flags |= IoendFlag.UNWRITTEN;
      if ((dest.flags & MapFlag.SHARED) !== 0) flags |= IoendFlag.SHARED;
      // new_addr in bytes, as the uapi comment says (the code read used sectors; §1.5).
      const newAddr = dest.addr + BigInt(pos) - dest.offsetBytes;
      yield* this.ioend(proc, inode, pos, writtenBytes, flags, 0, newAddr, dest.dev);
      pos += n;
    }
  }

  /**
   * fuse_iomap_end_ioend: traces every ioend, sends FUSE_IOMAP_IOEND only when §1.5 says so, and
   * on success moves i_disk_size (and i_size) forward. Returns 0 or the -errno to report.
   */
  private *ioend(proc: Proc, inode: FuseInode, posBytes: number, writtenBytes: number, ioendFlags: number, error: number, newAddr: bigint, dev: number): ProcStep<number> {
    let flags = ioendFlags;
    if (error === 0 && posBytes + writtenBytes > inode.iDiskSizeBytes) flags |= IoendFlag.APPEND;
    const sent = !this.noIoend && (error !== 0 || (writtenBytes > 0 && (flags & (IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.APPEND)) !== 0));
    // The kernel pre-fills newsize with max(on-disk size, pos + written); a v7 reply overrides it.
    let newSizeBytes = Math.max(inode.iDiskSizeBytes, posBytes + writtenBytes);
    this.core.emit({
      kind: 'iomap_ioend', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
      posBytes, writtenBytes, ioendFlags: flags, error, newAddr, newSizeBytes, sent,
    });
    let result = error;
    if (sent) {
      const ioendIn = { flags, error, attrIno: BigInt(inode.ino), posBytes: BigInt(posBytes), newAddr, writtenBytes: BigInt(writtenBytes), dev };
      const r = yield* this.request(proc, Opcode.IOMAP_IOEND, inode.nodeId, this.ioendInBytes, (dv, at) => writeIomapIoendIn(dv, at, ioendIn, this.ioendInBytes));
      if (r.error === -Errno.ENOSYS) this.noIoend = true;
      else if (r.error !== 0 && result === 0) result = r.error;
      else if (r.error === 0 && this.ioendHasReply && r.body.byteLength >= 8) {
        newSizeBytes = Number(new DataView(r.body.buffer, r.body.byteOffset, 8).getBigUint64(0, true));
      }
    }
    if (result === 0) {
      inode.iDiskSizeBytes = newSizeBytes;
      if (newSizeBytes > inode.iSizeBytes) inode.iSizeBytes = newSizeBytes;
    }
    return result;
  }

  /**
   * The writeback kworker: every `intervalNs` flush dirty ranges of every fuse_inode. It exits
   * once `shouldStop()` holds and nothing is dirty, so finite scenarios end cleanly.
   */
  *kworker(proc: Proc, intervalNs: number, shouldStop: () => boolean): ProcStep<void> {
    for (;;) {
      yield intervalNs;
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

  // -------------------------------------------------------------------------------------------
  // Device / memory time model

  private devNs(isWrite: boolean, bytes: number): number {
    const c = this.core.costs;
    return this.core.jitterNs((isWrite ? c.devWriteLatencyNs : c.devReadLatencyNs) + Math.round((bytes / 1024) * c.devNsPerKiB));
  }
  private memNs(bytes: number): number {
    return this.core.jitterNs(Math.round((bytes / 1024) * this.core.costs.memcpyNsPerKiB) + 200);
  }
}
