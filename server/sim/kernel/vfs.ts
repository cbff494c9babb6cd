// The VFS entry points of the kernel model: path lookup (dcache + FUSE_LOOKUP, instantiating a
// fuse_inode per nodeid) and the syscalls app threads make — open/close (FUSE_OPEN/RELEASE), pread/pwrite, mmap write
// fault, fsync, ftruncate, fallocate, copy_file_range, link — each with the locks §6 gives it,
// driving the iomap iteration (iomap-iter.ts), writeback and ioends (writeback.ts) and the
// kernel's own cache invalidations (cache-ops.ts); a file the server did not enable iomap for
// takes the classic FUSE_READ/FUSE_WRITE path instead (classic-io.ts). Each syscall is traced as
// app_op_begin/app_op_end.

import { Errno, InodeState, IoendFlag, NULL_ADDR, Opcode } from '../../../src/trace/fuse-proto.ts';
import type { AppOp } from '../../../src/trace/schema.ts';
import type { Proc, ProcStep, Scheduler } from '../clock.ts';
import type { SimCore } from '../core.ts';
import {
  COPY_FILE_RANGE_IN_BYTES, FALLOCATE_IN_BYTES, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FSYNC_IN_BYTES, LINK_IN_BYTES, O_DIRECT,
  OPEN_IN_BYTES, O_TRUNC, RELEASE_IN_BYTES, SETATTR_IN_BYTES, lookupBodyBytes, readEntryOut, readOpenOut, writeCopyRangeIn,
  writeFallocateIn, writeOpenIn, writeReleaseIn, writeSetattrSize,
} from '../proto.ts';
import type { CacheOps } from './cache-ops.ts';
import type { ClassicIo } from './classic-io.ts';
import { newFuseInode, type FuseInode, type OpenFile } from './inode.ts';
import { IterKind, type IomapIter, type IterResult } from './iomap-iter.ts';
import type { InodeLocks } from './locks.ts';
import type { MappingOracle } from './oracle.ts';
import type { RwMode } from './rwsem.ts';
import type { FuseTransport, LocalBackend } from './transport.ts';
import { mustFlush, type Writeback } from './writeback.ts';
import { NO_NODE_ID, type NodeId } from '../../../src/trace/ids.ts';

const EOPNOTSUPP = 95;

interface VfsConfig {
  rootNodeId: NodeId;
  blockBytes: number;
  maxBytes: number;
  /** kernel-ext4 baseline: its overwrite check decides the direct-write lock mode. */
  local: Pick<LocalBackend, 'isWrittenRange'> | null;
  /** The revision's FUSE_ATTR_ATOMIC bit (0 = none). */
  attrAtomicBit: number;
  /** The revision's FUSE_ATTR_EXCLUSIVE bit (v7; 0 = none). */
  attrExclusiveBit: number;
  /** Does an entry reply's fuse_attr.flags put a regular file on iomap (connection + revision rule, §1.10)? */
  iomapFor: (attrFlags: number) => boolean;
}

interface VfsDeps {
  transport: Pick<FuseTransport, 'request' | 'requestBackground'>;
  locks: Pick<InodeLocks, 'tryLock' | 'lockWait' | 'unlock'>;
  iter: Pick<IomapIter, 'iterate'>;
  wb: Pick<Writeback, 'flushRange' | 'ioend'>;
  cache: Pick<CacheOps, 'invalidateRange'>;
  oracle: Pick<MappingOracle, 'changeBegin' | 'changeEnd'>;
  classic: Pick<ClassicIo, 'read' | 'write'>;
}

/** The syscalls app threads make (app.ts). */
export type Syscalls = Pick<Vfs, 'open' | 'close' | 'pio' | 'fault' | 'fsync' | 'truncate' | 'fallocate' | 'copyFileRange' | 'link'>;

export class Vfs {
  /** dcache: path → nodeid. Entries never expire (entry_valid is "forever" in the sim). */
  private readonly dcache = new Map<string, NodeId>();
  private nextFd = 3;
  private readonly sched: Scheduler;
  private readonly transport: VfsDeps['transport'];
  private readonly locks: VfsDeps['locks'];
  private readonly iter: VfsDeps['iter'];
  private readonly wb: VfsDeps['wb'];
  private readonly cache: VfsDeps['cache'];
  private readonly oracle: VfsDeps['oracle'];
  private readonly classic: VfsDeps['classic'];

  /** `inodes`: the fuse_inode table, filled by lookups here and read by writeback and notifications. */
  constructor(private readonly core: SimCore, private readonly inodes: Map<NodeId, FuseInode>, deps: VfsDeps, private readonly cfg: VfsConfig) {
    this.sched = core.sched;
    this.transport = deps.transport;
    this.locks = deps.locks;
    this.iter = deps.iter;
    this.wb = deps.wb;
    this.cache = deps.cache;
    this.oracle = deps.oracle;
    this.classic = deps.classic;
  }


  /** Walks `path` from the root, sending FUSE_LOOKUP for each component the dcache lacks. */
  *lookupPath(proc: Proc, path: string): ProcStep<FuseInode | number> {
    let nodeId = this.cfg.rootNodeId;
    let soFar = '';
    for (const name of path.split('/').filter(Boolean)) {
      soFar += `/${name}`;
      const cached = this.dcache.get(soFar);
      if (cached !== undefined) { nodeId = cached; continue; }
      const nameBytes = lookupBodyBytes(name);
      const res = yield* this.transport.request(proc, Opcode.LOOKUP, nodeId, nameBytes.byteLength, (dv, at) => {
        new Uint8Array(dv.buffer, dv.byteOffset + at, nameBytes.byteLength).set(nameBytes);
      });
      if (res.error !== 0) return res.error;
      nodeId = this.enter(proc, res.body, soFar).nodeId;
    }
    const inode = this.inodes.get(nodeId);
    return inode ?? -Errno.ENOENT; // the root has no fuse_inode in the sim: opening "/" is not a file op
  }

  /**
   * An entry reply (LOOKUP, LINK) for `path`: fuse_iget — a new nodeid instantiates a fuse_inode,
   * whose iomap state is decided now from fuse_attr.flags and kept (§1.10); then the lookup count
   * and the dcache entry.
   */
  private enter(proc: Proc, body: Uint8Array, path: string): FuseInode {
    const entry = readEntryOut(body);
    const tsNs = this.core.sched.nowNs;
    let inode = this.inodes.get(entry.nodeId);
    if (!inode) {
      const isDir = (entry.mode & 0o170000) === 0o040000;
      const isReg = (entry.mode & 0o170000) === 0o100000;
      inode = newFuseInode(entry.nodeId, entry.ino, path, isDir, entry.sizeBytes, isReg && this.cfg.iomapFor(entry.attrFlags));
      inode.atomicWrites = inode.iomap && this.cfg.attrAtomicBit !== 0 && (entry.attrFlags & this.cfg.attrAtomicBit) !== 0;
      this.inodes.set(entry.nodeId, inode);
      this.core.emit({ aliasOf: NO_NODE_ID, kind: 'inode_new', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, path });
      // fuse_iomap_init_inode: the kernel sets the new inode up for iomap and traces its state bits
      // (IOMAP; EXCL from FUSE_ATTR_EXCLUSIVE at v7; ATOMIC from FUSE_ATTR_ATOMIC). The ext4 baseline has no fuse inode.
      if (inode.iomap && this.cfg.local === null) {
        const excl = this.cfg.attrExclusiveBit !== 0 && (entry.attrFlags & this.cfg.attrExclusiveBit) !== 0;
        const inodeFlags = InodeState.IOMAP | (excl ? InodeState.EXCL : 0) | (inode.atomicWrites ? InodeState.ATOMIC : 0);
        this.core.emit({ kind: 'inode_iomap', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, inodeFlags });
      }
    }
    inode.nlookup++;
    this.core.emit({ aliasOf: NO_NODE_ID, kind: 'inode_lookup', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, path, nlookup: inode.nlookup });
    this.dcache.set(path, entry.nodeId);
    return inode;
  }

  /**
   * link(2) of `oldPath` as `newPath`: resolve both, lock the source inode (vfs_link takes its
   * i_rwsem; the new parent's lock is not modelled), FUSE_LINK (fuse_link_in + name, sent to the
   * new parent), and enter the reply's nodeid. Returns 0 or -errno (EPERM when a v6+ path-API
   * server refuses to hardlink an iomap file, §5.4).
   */
  *link(proc: Proc, oldPath: string, newPath: string): ProcStep<number> {
    this.appBegin(proc, 'link', oldPath, -1, 0, 0, 0);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    const ret = yield* this.linkInner(proc, oldPath, newPath);
    this.appEnd(proc, 'link', -1, ret);
    return ret;
  }

  private *linkInner(proc: Proc, oldPath: string, newPath: string): ProcStep<number> {
    const src = yield* this.lookupPath(proc, oldPath);
    if (typeof src === 'number') return src;
    const cut = newPath.lastIndexOf('/');
    const parentPath = newPath.slice(0, cut);
    let dirNodeId = this.cfg.rootNodeId;
    if (parentPath !== '') {
      const dir = yield* this.lookupPath(proc, parentPath);
      if (typeof dir === 'number') return dir;
      dirNodeId = dir.nodeId;
    }
    const nameBytes = lookupBodyBytes(newPath.slice(cut + 1));
    if (!this.locks.tryLock(proc, src, 'i_rwsem', 'W')) yield* this.locks.lockWait(proc, src, 'i_rwsem', 'W');
    const r = yield* this.transport.request(proc, Opcode.LINK, dirNodeId, LINK_IN_BYTES + nameBytes.byteLength, (dv, at) => {
      dv.setBigUint64(at, BigInt(src.nodeId), true);
      new Uint8Array(dv.buffer, dv.byteOffset + at + LINK_IN_BYTES, nameBytes.byteLength).set(nameBytes);
    });
    if (r.error === 0) this.enter(proc, r.body, newPath);
    this.locks.unlock(proc, src, 'i_rwsem', 'W');
    return r.error;
  }

  /**
   * open(2): returns the open file or -errno. After the lookup, FUSE_OPEN (fuse_open_in: the
   * file's flags, open_flags 0) gets the server's fh (fs/fuse/file.c fuse_send_open). O_TRUNC:
   * the mount does not negotiate FUSE_ATOMIC_O_TRUNC, so fuse strips O_TRUNC from the OPEN
   * flags and the VFS truncates after the open (fs/namei.c do_open → handle_truncate): i_rwsem +
   * invalidate_lock, FUSE_SETATTR size 0, and the whole mapping cache dropped (fuse_iomap_open_truncate, §3.2).
   */
  *open(proc: Proc, path: string, oflags: number): ProcStep<OpenFile | number> {
    const fd = this.nextFd++;
    this.appBegin(proc, 'open', path, fd, 0, 0, oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    const inode = yield* this.lookupPath(proc, path);
    if (typeof inode === 'number') {
      this.appEnd(proc, 'open', fd, inode);
      return inode;
    }
    let fh = 0;
    // The kernel-ext4 baseline has no server to open files with.
    if (this.cfg.local === null) {
      const r = yield* this.transport.request(proc, inode.isDir ? Opcode.OPENDIR : Opcode.OPEN, inode.nodeId, OPEN_IN_BYTES,
        (dv, at) => writeOpenIn(dv, at, oflags & ~O_TRUNC));
      if (r.error !== 0) { this.appEnd(proc, 'open', fd, r.error); return r.error; }
      fh = readOpenOut(r.body).fh;
      if ((oflags & 3) !== 0) inode.writeFh = fh; // O_WRONLY / O_RDWR
    }
    const file: OpenFile = { fd, fh, path, oflags, inode };
    if ((oflags & O_TRUNC) !== 0 && !inode.isDir) {
      const err = yield* this.setSize(proc, inode, 0, 'o_trunc');
      if (err !== 0) { this.releaseFile(proc, file); this.appEnd(proc, 'open', fd, err); return err; }
    }
    this.appEnd(proc, 'open', fd, fd);
    return file;
  }

  /**
   * close(2): the fd's struct file is never shared in the sim, so every close is its last and
   * sends FUSE_RELEASE. Upstream sends it in the background (fuse_file_put, not synchronous on
   * a non-fuseblk mount): the closing task traces the send and returns without waiting for the reply.
   */
  *close(proc: Proc, file: OpenFile): ProcStep<number> {
    this.appBegin(proc, 'close', file.path, file.fd, 0, 0, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    this.releaseFile(proc, file);
    this.appEnd(proc, 'close', file.fd, 0);
    return 0;
  }

  /**
   * FUSE_RELEASE (RELEASEDIR for a directory) of an opened file, sent in the background
   * (fuse_release_in: fh and the file's f_flags, which no longer hold O_TRUNC: fs/open.c
   * do_dentry_open clears it after ->open).
   */
  private releaseFile(proc: Proc, file: OpenFile): void {
    if (this.cfg.local !== null) return;
    const opcode = file.inode.isDir ? Opcode.RELEASEDIR : Opcode.RELEASE;
    const fFlags = file.oflags & ~O_TRUNC;
    this.transport.requestBackground(proc, opcode, file.inode.nodeId, RELEASE_IN_BYTES, (dv, at) => writeReleaseIn(dv, at, file.fh, fFlags));
  }

  private appBegin(proc: Proc, op: AppOp, path: string, fd: number, posBytes: number, lenBytes: number, oflags: number): void {
    this.core.emit({ kind: 'app_op_begin', tsNs: this.core.sched.nowNs, task: proc.task, op, path, fd, posBytes, lenBytes, oflags });
  }
  private appEnd(proc: Proc, op: AppOp, fd: number, ret: number): void {
    this.core.emit({ kind: 'app_op_end', tsNs: this.core.sched.nowNs, task: proc.task, op, fd, ret });
  }


  /**
   * pread(2)/pwrite(2) on an open file; returns bytes done or -errno, like the syscall. `atomic`:
   * pwritev2(RWF_ATOMIC) — direct only, one fs block, on a file with FUSE_ATTR_ATOMIC (§2.4).
   */
  *pio(proc: Proc, file: OpenFile, isWrite: boolean, posBytes: number, lenBytes: number, atomic = false): ProcStep<number> {
    const op: AppOp = isWrite ? 'pwrite' : 'pread';
    this.appBegin(proc, op, file.path, file.fd, posBytes, lenBytes, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    const direct = (file.oflags & O_DIRECT) !== 0;
    const inode = file.inode;
    let ret: number;
    if (!inode.iomap) {
      // Classic fuse (fs/fuse/file.c, cached-IO path): reads take no i_rwsem (generic_file_read_iter);
      // buffered and direct writes take it exclusive (fuse_cache_write_iter's inode_lock).
      if (!isWrite) ret = yield* this.classic.read(proc, inode, file.fh, direct, posBytes, lenBytes);
      else {
        if (!this.locks.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.locks.lockWait(proc, inode, 'i_rwsem', 'W');
        if (mustFlush(inode)) yield* this.wb.flushRange(proc, inode, posBytes, lenBytes);
        ret = yield* this.classic.write(proc, inode, file.fh, direct, posBytes, lenBytes);
        this.locks.unlock(proc, inode, 'i_rwsem', 'W');
      }
    } else if (!isWrite) {
      // Buffered and direct reads both take i_rwsem shared.
      if (!this.locks.tryLock(proc, inode, 'i_rwsem', 'R')) yield* this.locks.lockWait(proc, inode, 'i_rwsem', 'R');
      if (direct && mustFlush(inode)) yield* this.wb.flushRange(proc, inode, posBytes, lenBytes);
      const n = Math.min(lenBytes, Math.max(0, inode.iSizeBytes - posBytes));
      ret = n === 0 ? 0 : this.retOf(yield* this.iter.iterate(proc, inode, direct ? IterKind.DioRead : IterKind.BufRead, posBytes, n));
      // A buffered read's mapping error leaves the folio not uptodate, and filemap_read_folio turns
      // that into -EIO whatever iomap's error was (iomap_read_folio itself returns 0).
      if (!direct && ret < 0) ret = -Errno.EIO;
      this.locks.unlock(proc, inode, 'i_rwsem', 'R');
    } else if (atomic && (!direct || !inode.atomicWrites)) {
      ret = -EOPNOTSUPP; // buffered RWF_ATOMIC, or a file without FUSE_ATTR_ATOMIC (§2.4, §1.10)
    } else if (atomic && lenBytes !== this.cfg.blockBytes) {
      ret = -Errno.EINVAL; // an atomic direct write is exactly one fs block
    } else if (!direct) {
      if (!this.locks.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.locks.lockWait(proc, inode, 'i_rwsem', 'W');
      // Writing past a partial last block: zero its tail first (iomap_zero_range, op ZERO) under
      // the exclusive invalidate_lock (§2.4 buffered write, §6).
      const B = this.cfg.blockBytes;
      let zeroErr = 0;
      if (posBytes > inode.iSizeBytes && inode.iSizeBytes % B !== 0) {
        zeroErr = yield* this.zeroTail(proc, inode, inode.iSizeBytes, Math.min(posBytes, Math.ceil(inode.iSizeBytes / B) * B));
      }
      ret = zeroErr !== 0 ? zeroErr : this.retOf(yield* this.iter.iterate(proc, inode, IterKind.BufWrite, posBytes, lenBytes));
      this.locks.unlock(proc, inode, 'i_rwsem', 'W');
    } else {
      // fuse-iomap direct writes are always exclusive (§6); the kernel-ext4 baseline takes the
      // shared lock for aligned overwrites of written blocks inside EOF, as ext4 does.
      const mode: RwMode = this.cfg.local !== null && posBytes + lenBytes <= inode.iSizeBytes &&
        this.cfg.local.isWrittenRange(inode.ino, posBytes, lenBytes) ? 'R' : 'W';
      if (!this.locks.tryLock(proc, inode, 'i_rwsem', mode)) yield* this.locks.lockWait(proc, inode, 'i_rwsem', mode);
      if (mustFlush(inode)) yield* this.wb.flushRange(proc, inode, posBytes, lenBytes);
      // The IOEND round trip of a synchronous direct write happens before iomap_dio_rw returns,
      // i.e. still under i_rwsem (§2.4).
      const res = yield* this.iter.iterate(proc, inode, atomic ? IterKind.DioAtomicWrite : IterKind.DioWrite, posBytes, lenBytes);
      const ok = yield* this.wb.ioend(proc, inode, posBytes, res.processedBytes, IoendFlag.DIRECT | res.ioendFlags, res.error, NULL_ADDR, 0);
      ret = ok === 0 ? this.retOf(res) : ok;
      this.locks.unlock(proc, inode, 'i_rwsem', mode);
    }
    this.appEnd(proc, op, file.fd, ret);
    return ret;
  }

  private *zeroTail(proc: Proc, inode: FuseInode, startBytes: number, endBytes: number): ProcStep<number> {
    if (endBytes <= startBytes) return 0;
    if (!this.locks.tryLock(proc, inode, 'invalidate_lock', 'W')) yield* this.locks.lockWait(proc, inode, 'invalidate_lock', 'W');
    const res = yield* this.iter.iterate(proc, inode, IterKind.Zero, startBytes, endBytes - startBytes);
    this.locks.unlock(proc, inode, 'invalidate_lock', 'W');
    return res.error;
  }

  /** mmap write fault on one page (page_mkwrite): no i_rwsem, invalidate_lock shared (§6). */
  *fault(proc: Proc, file: OpenFile, posBytes: number): ProcStep<number> {
    const inode = file.inode;
    const B = this.cfg.blockBytes;
    const pos = Math.floor(posBytes / B) * B;
    this.appBegin(proc, 'fault', file.path, file.fd, pos, B, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    if (!inode.iomap) {
      // Classic fuse_page_mkwrite: no i_rwsem or invalidate_lock; the page is dirtied and written back later with FUSE_WRITE.
      const ret = pos >= inode.iSizeBytes ? -Errno.EINVAL : B;
      if (ret > 0) inode.dirty.add(pos, B);
      this.appEnd(proc, 'fault', file.fd, ret);
      return ret;
    }
    if (!this.locks.tryLock(proc, inode, 'invalidate_lock', 'R')) yield* this.locks.lockWait(proc, inode, 'invalidate_lock', 'R');
    let ret: number;
    if (pos >= inode.iSizeBytes) ret = -Errno.EINVAL; // SIGBUS in reality: the page is past EOF
    else ret = this.retOf(yield* this.iter.iterate(proc, inode, IterKind.Fault, pos, Math.min(B, inode.iSizeBytes - pos)));
    this.locks.unlock(proc, inode, 'invalidate_lock', 'R');
    this.appEnd(proc, 'fault', file.fd, ret);
    return ret;
  }

  /** fsync(2): write back and wait, then FUSE_FSYNC under i_rwsem (upstream fuse_fsync takes the lock). */
  *fsync(proc: Proc, file: OpenFile): ProcStep<number> {
    const inode = file.inode;
    this.appBegin(proc, 'fsync', file.path, file.fd, 0, 0, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    if (mustFlush(inode)) yield* this.wb.flushRange(proc, inode, 0, Infinity);
    if (!this.locks.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.locks.lockWait(proc, inode, 'i_rwsem', 'W');
    const r = yield* this.transport.request(proc, Opcode.FSYNC, inode.nodeId, FSYNC_IN_BYTES);
    this.locks.unlock(proc, inode, 'i_rwsem', 'W');
    const ret = r.error === -Errno.ENOSYS ? 0 : r.error;
    this.appEnd(proc, 'fsync', file.fd, ret);
    return ret;
  }

  /** ftruncate(2). */
  *truncate(proc: Proc, file: OpenFile, sizeBytes: number): ProcStep<number> {
    this.appBegin(proc, 'truncate', file.path, file.fd, sizeBytes, 0, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    const ret = yield* this.setSize(proc, file.inode, sizeBytes, 'truncate');
    this.appEnd(proc, 'truncate', file.fd, ret);
    return ret;
  }

  /**
   * setattr(size) on an iomap inode (§6 truncate row): i_rwsem and invalidate_lock exclusive,
   * zero the partial block at the new EOF, drop the page cache past it, write back the rest,
   * FUSE_SETATTR, then invalidate the mapping cache from the new EOF (a whole-file drop for
   * size 0 — no ic_seq bump, §3.1).
   */
  private *setSize(proc: Proc, inode: FuseInode, sizeBytes: number, reason: 'truncate' | 'o_trunc'): ProcStep<number> {
    if (!this.locks.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.locks.lockWait(proc, inode, 'i_rwsem', 'W');
    if (!this.locks.tryLock(proc, inode, 'invalidate_lock', 'W')) yield* this.locks.lockWait(proc, inode, 'invalidate_lock', 'W');
    const B = this.cfg.blockBytes;
    let err = 0;
    if (sizeBytes < inode.iSizeBytes) {
      // Only iomap zeroes the partial block in the kernel; a classic fuse server does it itself.
      if (sizeBytes % B !== 0 && inode.iomap) {
        const res = yield* this.iter.iterate(proc, inode, IterKind.Zero, sizeBytes, Math.min(inode.iSizeBytes, Math.ceil(sizeBytes / B) * B) - sizeBytes);
        err = res.error;
      }
      inode.dirty.extract(Math.ceil(sizeBytes / B) * B, Infinity); // truncate_pagecache
    }
    if (err === 0) {
      if (mustFlush(inode)) yield* this.wb.flushRange(proc, inode, 0, Infinity);
      const change = this.oracle.changeBegin(inode.ino);
      const r = yield* this.transport.request(proc, Opcode.SETATTR, inode.nodeId, SETATTR_IN_BYTES, (dv, at) => writeSetattrSize(dv, at, sizeBytes));
      err = r.error;
      if (err === 0) {
        inode.iSizeBytes = sizeBytes;
        inode.iDiskSizeBytes = sizeBytes;
        this.cache.invalidateRange(proc.task, inode, sizeBytes, this.cfg.maxBytes, reason);
      }
      this.oracle.changeEnd(inode.ino, change);
    }
    this.locks.unlock(proc, inode, 'invalidate_lock', 'W');
    this.locks.unlock(proc, inode, 'i_rwsem', 'W');
    return err;
  }

  /** fallocate(2) (§6): both locks exclusive, FUSE_FALLOCATE, cache invalidation of the range, size update. */
  *fallocate(proc: Proc, file: OpenFile, mode: number, posBytes: number, lenBytes: number): ProcStep<number> {
    const inode = file.inode;
    this.appBegin(proc, 'fallocate', file.path, file.fd, posBytes, lenBytes, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    if (!this.locks.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.locks.lockWait(proc, inode, 'i_rwsem', 'W');
    if (!this.locks.tryLock(proc, inode, 'invalidate_lock', 'W')) yield* this.locks.lockWait(proc, inode, 'invalidate_lock', 'W');
    const isPunch = (mode & FALLOC_FL_PUNCH_HOLE) !== 0;
    // Punching must not leave dirty pages over freed blocks: write back, then drop them.
    if (isPunch) {
      if (mustFlush(inode)) yield* this.wb.flushRange(proc, inode, posBytes, lenBytes);
      inode.dirty.extract(posBytes, posBytes + lenBytes);
    }
    const change = this.oracle.changeBegin(inode.ino);
    const r = yield* this.transport.request(proc, Opcode.FALLOCATE, inode.nodeId, FALLOCATE_IN_BYTES, (dv, at) => writeFallocateIn(dv, at, posBytes, lenBytes, mode));
    if (r.error === 0) {
      this.cache.invalidateRange(proc.task, inode, posBytes, posBytes + lenBytes, 'fallocate');
      if ((mode & FALLOC_FL_KEEP_SIZE) === 0 && posBytes + lenBytes > inode.iSizeBytes) {
        inode.iSizeBytes = posBytes + lenBytes;
        inode.iDiskSizeBytes = inode.iSizeBytes;
      }
    }
    this.oracle.changeEnd(inode.ino, change);
    this.locks.unlock(proc, inode, 'invalidate_lock', 'W');
    this.locks.unlock(proc, inode, 'i_rwsem', 'W');
    this.appEnd(proc, 'fallocate', file.fd, r.error);
    return r.error;
  }

  /**
   * copy_file_range(2): flush both ranges, FUSE_COPY_FILE_RANGE under the destination's i_rwsem
   * (upstream fuse locks inode_out), then drop the destination's page cache and cached mappings
   * for the range (§3.2 kernel self-invalidation).
   */
  *copyFileRange(proc: Proc, src: OpenFile, dst: OpenFile, posBytes: number, lenBytes: number): ProcStep<number> {
    this.appBegin(proc, 'copy_file_range', src.path, src.fd, posBytes, lenBytes, src.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    const out = dst.inode;
    if (mustFlush(src.inode)) yield* this.wb.flushRange(proc, src.inode, posBytes, lenBytes);
    if (!this.locks.tryLock(proc, out, 'i_rwsem', 'W')) yield* this.locks.lockWait(proc, out, 'i_rwsem', 'W');
    if (mustFlush(out)) yield* this.wb.flushRange(proc, out, posBytes, lenBytes);
    const change = this.oracle.changeBegin(out.ino);
    const r = yield* this.transport.request(proc, Opcode.COPY_FILE_RANGE, src.inode.nodeId, COPY_FILE_RANGE_IN_BYTES, (dv, at) =>
      writeCopyRangeIn(dv, at, { offInBytes: posBytes, nodeIdOut: out.nodeId, offOutBytes: posBytes, lenBytes }));
    let ret = r.error;
    if (r.error === 0) {
      ret = new DataView(r.body.buffer, r.body.byteOffset, 4).getUint32(0, true);
      out.dirty.extract(posBytes, posBytes + ret);
      this.cache.invalidateRange(proc.task, out, posBytes, posBytes + ret, 'copy_file_range');
      if (posBytes + ret > out.iSizeBytes) out.iSizeBytes = posBytes + ret;
      if (posBytes + ret > out.iDiskSizeBytes) out.iDiskSizeBytes = posBytes + ret;
    }
    this.oracle.changeEnd(out.ino, change);
    this.locks.unlock(proc, out, 'i_rwsem', 'W');
    this.appEnd(proc, 'copy_file_range', src.fd, ret);
    return ret;
  }

  private retOf(res: IterResult): number {
    return res.processedBytes > 0 ? res.processedBytes : res.error;
  }

}
