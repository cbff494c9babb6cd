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
// The v3+ mapping cache (mapping-cache.ts) sits in `mapBegin`: a lookup before the upcall, the
// RETRY_CACHE loop, cookies stamped on hits and re-checked per folio by buffered writes (and by
// writeback for its cached mapping). Server notifications arrive through `handleNotify`, run in
// the server thread's context. The kernel-ext4 baseline (`cfg.local`) answers every request from
// the server model's extent map in-kernel: no /dev/fuse, no fuse events, ext4 costs.
//
// Timed sleeps read `{ const ns = …; if (!this.sched.advanceIfNext(ns)) yield ns; }`: the clock
// moves in place when this task would be resumed next anyway (see clock.ts).

import {
  EFSCORRUPTED, Errno, FUSE_REQ_ID_STEP, FuseDecodeError, IOMAP_BEGIN_IN_BYTES, IOMAP_END_IN_BYTES, IoendFlag,
  MapFlag, MapType, NULL_ADDR, IN_HEADER_BYTES, OUT_HEADER_BYTES, OpFlag, Opcode, REVISIONS, isWriteish,
  readInvalMappingsOut, readIomapBeginOut, readIomapIo, readUpsertMappingsOut, writeIomapBeginIn,
  writeIomapEndIn, writeIomapIoendIn, INVAL_TO_EOF, IOMAP_BEGIN_OUT_BYTES, IOMAP_IO_BYTES, type IomapBeginOut, type IomapIo,
  type ProtocolRevision, type RevisionTraits,
} from '../../../src/trace/fuse-proto.ts';
import type { AppOp, Fork, InvalReason, LockName } from '../../../src/trace/schema.ts';
import { PARK, type Proc, type ProcStep, type Scheduler } from '../clock.ts';
import type { SimCore } from '../core.ts';
import { taskBufs, type DevFuse } from '../dev-fuse.ts';
import {
  COPY_FILE_RANGE_IN_BYTES, FALLOCATE_IN_BYTES, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FSYNC_IN_BYTES, O_DIRECT,
  O_TRUNC, SETATTR_IN_BYTES, lookupBodyBytes, outError, outUnique, readEntryOut, startRequest, writeCopyRangeIn,
  writeFallocateIn, writeSetattrSize, type MsgBuf,
} from '../proto.ts';
import { DirtyRanges } from './dirty-ranges.ts';
import { MappingCache, ioOfRec, recOfIo, type CacheRec } from './mapping-cache.ts';
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
  /** mapping->invalidate_lock: faults shared, truncate/fallocate/EOF zeroing exclusive (§6). */
  readonly invalidateLock: RwSem;
  readonly dirty: DirtyRanges;
  /** The mapping cache, allocated by the first upsert (§3.1); null until then. */
  cache: MappingCache | null;
}

export interface OpenFile {
  fd: number;
  path: string;
  oflags: number;
  inode: FuseInode;
}

/** The in-kernel "filesystem" of the kernel-ext4 baseline: the server model called directly. */
export interface LocalBackend {
  /** Handles the request; the reply is written into `replyTo` (the calling task's memory). */
  handle(requestBytes: Uint8Array, replyTo: MsgBuf): { reply: Uint8Array; costKind: string };
  /** ext4's overwrite check for shared-lock direct writes: [pos, pos+len) is all written blocks. */
  isWrittenRange(ino: number, posBytes: number, lenBytes: number): boolean;
}

export interface KernelConfig {
  rootNodeId: number;
  revision: ProtocolRevision;
  blockBytes: number;
  maxBytes: number;
  registeredDevs: ReadonlySet<number>;
  /** iomap_valid checks cookies (§2.6); false = the stale-mapping race is possible. */
  cookieValidation: boolean;
  /** Per-fork cache cap in bytes (§3.1). */
  cacheMaxBytes: number;
  /** kernel-ext4 baseline instead of fuse (no /dev/fuse at all). */
  local: LocalBackend | null;
  /** Test oracle: does a mapping agree with the server's extent map now? (null = yes). */
  checkMapping: ((ino: number, io: IomapIo) => string | null) | null;
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
  /** Validity cookie: ic_seq for cache hits, 0 (always valid) for mappings straight from a reply. */
  cookie: number;
}

/** Which path drives an iomap iteration; decides opflags (§1.8) and what "acting" costs. */
const enum IterKind { BufRead, BufWrite, DioRead, DioWrite, Zero, Fault }
const ITER_OPFLAGS: Record<IterKind, number> = {
  [IterKind.BufRead]: 0,
  [IterKind.BufWrite]: OpFlag.WRITE,
  [IterKind.DioRead]: OpFlag.DIRECT,
  [IterKind.DioWrite]: OpFlag.WRITE | OpFlag.DIRECT,
  [IterKind.Zero]: OpFlag.ZERO,
  [IterKind.Fault]: OpFlag.WRITE | OpFlag.FAULT,
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
/**
 * Folio size of the buffered-write loop: iomap uses large folios; 16 KiB is a middle size that
 * gives writeback room to interleave with a long write (the §2.6 race needs that).
 */
const FOLIO_BYTES = 16 * 1024;
/**
 * RETRY_CACHE loop bound. The real kernel loops until a lookup hits or a signal arrives (§3.2);
 * the sim ends a livelocked loop with -EINTR so a broken server cannot hang a run.
 */
const RETRY_CACHE_MAX = 32;
const EINTR = 4;

/**
 * readIomapBeginOut of a reply in the task's `recv` buffer (body = bytes after fuse_out_header),
 * reading through the buffer's own DataView instead of a new one per reply; a wrong size goes to
 * the shared decoder, which throws its usual error.
 */
function readBeginOut(recv: MsgBuf, body: Uint8Array): IomapBeginOut {
  if (body.byteLength !== IOMAP_BEGIN_OUT_BYTES) return readIomapBeginOut(body);
  return { read: readIomapIo(recv.dv, OUT_HEADER_BYTES), write: readIomapIo(recv.dv, OUT_HEADER_BYTES + IOMAP_IO_BYTES) };
}

/** Mapping-changing requests of one ino, for the mapping oracle's "in flight" exemption. */
interface ChangeState { inflight: number; count: number }

export interface MappingCheckStats {
  checked: number;
  /** Checks skipped because a server-side change of that ino was in flight (reply not yet processed). */
  exempt: number;
  disagreements: { tsNs: number; task: string; ino: number; nodeId: number; source: 'reply' | 'cache'; why: string }[];
}

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
  private readonly rev: RevisionTraits;
  private readonly ioendInBytes: number;
  private readonly ioendHasReply: boolean;
  /** Cookies are checked only where the revision has them (v3+) and the switch is on. */
  private readonly checkCookies: boolean;
  private readonly local: LocalBackend | null;
  private readonly changes = new Map<number, ChangeState>();
  readonly mappingCheck: MappingCheckStats = { checked: 0, exempt: 0, disagreements: [] };
  /** Stale mappings used because validation was off (the §2.6 race), for tests. */
  staleUsedCount = 0;

  private readonly sched: Scheduler;

  constructor(private readonly core: SimCore, private readonly dev: DevFuse, private readonly cfg: KernelConfig) {
    this.sched = core.sched;
    this.validateCtx = {
      posBytes: 0, blockBytes: cfg.blockBytes, maxBytes: cfg.maxBytes, hasCache: false,
      isDevRegistered: (d) => cfg.registeredDevs.has(d),
    };
    this.rev = REVISIONS[cfg.revision];
    this.ioendInBytes = this.rev.ioendInBytes;
    this.ioendHasReply = this.rev.ioendHasReply;
    this.checkCookies = cfg.cookieValidation && this.rev.hasValidityCookies;
    this.local = cfg.local;
    dev.onNotify = (bytes, task) => this.handleNotify(bytes, task);
  }

  /** fuse_inodes by nodeid, in instantiation order (for tests and the UI). */
  get fuseInodes(): ReadonlyMap<number, FuseInode> {
    return this.inodes;
  }

  hasDirtyData(): boolean {
    for (const inode of this.inodes.values()) if (!inode.dirty.isEmpty) return true;
    return false;
  }

  private get isLocal(): boolean {
    return this.local !== null;
  }

  // -------------------------------------------------------------------------------------------
  // FUSE transport

  /** Sends one request as bytes and parks until DevFuse hands back the reply bytes. */
  *request(proc: Proc, opcode: number, nodeId: number, bodyBytes: number, fill?: (dv: DataView, at: number) => void): ProcStep<Reply> {
    const unique = this.nextUnique;
    this.nextUnique += FUSE_REQ_ID_STEP;
    // The task's own fuse_req memory: it is parked until the reply, so nothing reuses it meanwhile.
    const bufs = taskBufs(proc);
    const buf = startRequest(bufs.send, opcode, unique, nodeId, proc.tid, bodyBytes);
    if (fill) fill(bufs.send.dv, IN_HEADER_BYTES);
    if (this.local !== null) {
      // Baseline: the "server" is the kernel's own ext4 code — same handling, in-kernel cost, no events.
      const r = this.local.handle(buf, bufs.recv);
      { const ns = this.core.jitterNs(this.ext4CostNs(r.costKind)); if (!this.sched.advanceIfNext(ns)) yield ns; }
      return { error: outError(r.reply), body: bufs.recv.replyBody(r.reply.byteLength) };
    }
    this.core.emit({ kind: 'fuse_send', tsNs: this.core.sched.nowNs, task: proc.task, unique, opcode, nodeId, lenBytes: buf.byteLength });
    this.dev.submit(buf, unique, proc);
    const reply = (yield PARK) as Uint8Array;
    const replyUnique = outUnique(reply);
    if (replyUnique !== unique) throw new Error(`sim: ${proc.task} got reply ${replyUnique} for request ${unique}`);
    return { error: outError(reply), body: bufs.recv.replyBody(reply.byteLength) };
  }

  private ext4CostNs(kind: string): number {
    const c = this.core.costs;
    switch (kind) {
      case 'map': case 'end': return c.ext4MapNs;
      case 'alloc': return c.ext4AllocNs;
      case 'convert': return c.ext4ConvertNs;
      case 'ioend': return 0; // an in-place overwrite completes with no metadata work
      default: return c.ext4MetaNs;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Notifications (server → kernel, §1.5 payloads, §3.2 semantics), in the server thread's context.

  private handleNotify(bytes: Uint8Array, task: string): number {
    const code = outError(bytes);
    const body = bytes.subarray(OUT_HEADER_BYTES);
    const tsNs = this.core.sched.nowNs;
    const isUpsert = code === this.rev.notifyUpsert, isInval = code === this.rev.notifyInval;
    let nodeId = 0;
    let error = 0;
    let inode: FuseInode | undefined;
    let upsert: ReturnType<typeof readUpsertMappingsOut> | null = null;
    let inval: ReturnType<typeof readInvalMappingsOut> | null = null;
    try {
      if (isUpsert) upsert = readUpsertMappingsOut(body);
      else if (isInval) inval = readInvalMappingsOut(body);
      else error = -Errno.EINVAL; // unknown code, or a revision without these notifications
    } catch (e) {
      if (!(e instanceof FuseDecodeError)) throw e;
      error = -Errno.EINVAL;
    }
    const msg = upsert ?? inval;
    if (msg !== null) {
      nodeId = Number(msg.nodeid);
      inode = this.inodes.get(nodeId);
      // The kernel looks the nodeid up in its inode cache without instantiating one (§1.5).
      if (!inode) error = -Errno.ESTALE;
      else if (BigInt(inode.ino) !== msg.attrIno) error = -Errno.EINVAL;
    }
    if (upsert !== null && error === 0) {
      for (let k = 0; k < 2; k++) {
        const io = k === 0 ? upsert.read : upsert.write;
        if (io.type === MapType.NOCACHE || io.type === MapType.PURE_OVERWRITE) continue;
        if (io.type === MapType.RETRY_CACHE) { error = -Errno.EINVAL; break; }
        this.validateCtx.posBytes = Number(io.offsetBytes);
        const bad = validateMapping(io, 'read', this.validateCtx);
        if (bad !== null) {
          this.core.emit({ kind: 'iomap_bad_data', tsNs, task, nodeId, ino: inode!.ino, message: `upsert: ${bad}`, error: -EFSCORRUPTED });
          error = -EFSCORRUPTED;
          break;
        }
      }
    }
    this.core.emit({ kind: 'fuse_notify', tsNs, task, notifyCode: code, nodeId, error });
    if (error !== 0 || !inode) return error;
    if (upsert !== null) {
      if (inode.cache === null) inode.cache = new MappingCache(this.cfg.cacheMaxBytes, this.cfg.maxBytes);
      const cache = inode.cache;
      for (let k = 0; k < 2; k++) {
        const fork: Fork = k === 0 ? 'read' : 'write';
        const io = k === 0 ? upsert.read : upsert.write;
        if (io.type === MapType.NOCACHE) continue;
        const out = cache.upsert(fork, recOfIo(io));
        if (!out.applied) continue;
        if (out.overflowDropped) this.core.emit({ kind: 'cache_drop', tsNs, task, nodeId, ino: inode.ino, fork, reason: 'overflow' });
        this.core.emit({ rawType: '', rejected: false,
          kind: 'cache_upsert', tsNs, task, nodeId, ino: inode.ino, fork, mapType: io.type, mapFlags: io.flags,
          mapOffsetBytes: Number(io.offsetBytes), mapLenBytes: Number(io.lenBytes), mapAddr: io.addr, mapDev: io.dev, seq: cache.seq,
        });
      }
    } else if (inval !== null && inode.cache !== null) {
      for (let k = 0; k < 2; k++) {
        const fork: Fork = k === 0 ? 'read' : 'write';
        const r = k === 0 ? inval.read : inval.write;
        if (r.lenBytes === 0n) continue;
        const start = Number(r.offsetBytes);
        const end = r.lenBytes === INVAL_TO_EOF ? this.cfg.maxBytes : start + Number(r.lenBytes);
        this.cacheRemove(task, inode, fork, start, end, 'server');
      }
    }
    return 0;
  }

  /** One fork's removal, traced: a whole-fork drop shows as cache_drop (no seq bump, §3.1). */
  private cacheRemove(task: string, inode: FuseInode, fork: Fork, startBytes: number, endBytes: number, reason: InvalReason): void {
    const cache = inode.cache!;
    if (fork === 'write' && !cache.hasFork('write')) return;
    const res = cache.remove(fork, startBytes, endBytes);
    const tsNs = this.core.sched.nowNs;
    if (res === 'whole') {
      this.core.emit({ kind: 'cache_drop', tsNs, task, nodeId: inode.nodeId, ino: inode.ino, fork, reason: 'whole_fork' });
      return;
    }
    this.core.emit({
      kind: 'cache_inval', tsNs, task, nodeId: inode.nodeId, ino: inode.ino, fork, posBytes: startBytes,
      lenBytes: Math.min(endBytes, this.cfg.maxBytes) - startBytes, reason, seq: cache.seq,
    });
  }

  /** fuse_iomap_cache_invalidate_range: both forks, widened to blocks (§3.2); no-op without a cache. */
  private invalidateRange(task: string, inode: FuseInode, startBytes: number, endBytes: number, reason: InvalReason): void {
    if (inode.cache === null) return;
    const B = this.cfg.blockBytes;
    const s = Math.floor(startBytes / B) * B;
    const e = endBytes >= this.cfg.maxBytes ? this.cfg.maxBytes : Math.ceil(endBytes / B) * B;
    if (e <= s) return;
    this.cacheRemove(task, inode, 'read', s, e, reason);
    this.cacheRemove(task, inode, 'write', s, e, reason);
  }

  // -------------------------------------------------------------------------------------------
  // Mapping oracle bookkeeping: a server-side change of an ino is "in flight" from the request's
  // send until the kernel has processed its reply (and invalidated what it must).

  private changeBegin(ino: number): void {
    if (this.cfg.checkMapping === null) return;
    let st = this.changes.get(ino);
    if (!st) this.changes.set(ino, (st = { inflight: 0, count: 0 }));
    st.inflight++;
    st.count++;
  }
  private changeEnd(ino: number): void {
    if (this.cfg.checkMapping === null) return;
    this.changes.get(ino)!.inflight--;
  }
  private changeCount(ino: number): number {
    return this.changes.get(ino)?.count ?? 0;
  }
  private checkAgainstServer(proc: Proc, inode: FuseInode, io: IomapIo, source: 'reply' | 'cache', countAtSend: number): void {
    const check = this.cfg.checkMapping;
    if (check === null) return;
    const st = this.changes.get(inode.ino);
    if (st !== undefined && (st.inflight > 0 || st.count !== countAtSend)) { this.mappingCheck.exempt++; return; }
    this.mappingCheck.checked++;
    const why = check(inode.ino, io);
    if (why !== null && this.mappingCheck.disagreements.length < 100) {
      this.mappingCheck.disagreements.push({ tsNs: this.core.sched.nowNs, task: proc.task, ino: inode.ino, nodeId: inode.nodeId, source, why });
    }
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
          iSizeBytes: entry.sizeBytes, iDiskSizeBytes: entry.sizeBytes, iRwsem: new RwSem(), invalidateLock: new RwSem(),
          dirty: new DirtyRanges(), cache: null,
        };
        this.inodes.set(entry.nodeId, inode);
        this.core.emit({ aliasOf: 0, kind: 'inode_new', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, path: soFar });
      }
      inode.nlookup++;
      this.core.emit({ aliasOf: 0, kind: 'inode_lookup', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, path: soFar, nlookup: inode.nlookup });
      this.dcache.set(soFar, entry.nodeId);
      nodeId = entry.nodeId;
    }
    const inode = this.inodes.get(nodeId);
    return inode ?? -Errno.ENOENT; // the root has no fuse_inode in the sim: opening "/" is not a file op
  }

  /**
   * open(2): returns the open file or -errno. (FUSE_OPEN/RELEASE are not modelled.) O_TRUNC goes
   * through the VFS truncate (i_rwsem + invalidate_lock, FUSE_SETATTR size 0) and drops the whole
   * mapping cache (fuse_iomap_open_truncate, §3.2).
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
    if ((oflags & O_TRUNC) !== 0 && !inode.isDir) {
      const err = yield* this.setSize(proc, inode, 0, 'o_trunc');
      if (err !== 0) { this.appEnd(proc, 'open', fd, err); return err; }
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
  // i_rwsem and invalidate_lock

  /**
   * Takes the lock if that needs no wait (emitting lock_acquire) and returns true; else the caller
   * runs `yield* lockWait(…)`. Split so the uncontended case costs no generator.
   */
  private tryLock(proc: Proc, inode: FuseInode, lock: LockName, mode: RwMode): boolean {
    const sem = lock === 'i_rwsem' ? inode.iRwsem : inode.invalidateLock;
    if (!sem.tryAcquire(proc, mode)) return false;
    this.core.emit({ lockAddr: 0n, kind: 'lock_acquire', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
    return true;
  }

  private *lockWait(proc: Proc, inode: FuseInode, lock: LockName, mode: RwMode): ProcStep<void> {
    const sem = lock === 'i_rwsem' ? inode.iRwsem : inode.invalidateLock;
    this.core.emit({ lockAddr: 0n, kind: 'lock_wait', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
    sem.enqueue(proc, mode);
    yield PARK; // woken by unlock() once the lock is ours
    this.core.emit({ lockAddr: 0n, kind: 'lock_acquire', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
  }

  private unlock(proc: Proc, inode: FuseInode, lock: LockName, mode: RwMode): void {
    const sem = lock === 'i_rwsem' ? inode.iRwsem : inode.invalidateLock;
    this.core.emit({ lockAddr: 0n, kind: 'lock_release', tsNs: this.core.sched.nowNs, task: proc.task, lock, mode, nodeId: inode.nodeId, ino: inode.ino });
    for (const next of sem.release(proc, mode)) this.core.sched.wake(next, undefined, this.core.jitterNs(this.core.costs.wakeupNs));
  }

  // -------------------------------------------------------------------------------------------
  // read/write syscalls (§2.4 per-operation flows, §6 locking)

  /** pread(2)/pwrite(2) on an open file; returns bytes done or -errno, like the syscall. */
  *pio(proc: Proc, file: OpenFile, isWrite: boolean, posBytes: number, lenBytes: number): ProcStep<number> {
    const op: AppOp = isWrite ? 'pwrite' : 'pread';
    this.appBegin(proc, op, file.path, file.fd, posBytes, lenBytes, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    const direct = (file.oflags & O_DIRECT) !== 0;
    const inode = file.inode;
    let ret: number;
    if (!isWrite) {
      // Buffered and direct reads both take i_rwsem shared.
      if (!this.tryLock(proc, inode, 'i_rwsem', 'R')) yield* this.lockWait(proc, inode, 'i_rwsem', 'R');
      if (direct && !inode.dirty.isEmpty) yield* this.flushRange(proc, inode, posBytes, lenBytes);
      const n = Math.min(lenBytes, Math.max(0, inode.iSizeBytes - posBytes));
      ret = n === 0 ? 0 : this.retOf(yield* this.iterate(proc, inode, direct ? IterKind.DioRead : IterKind.BufRead, posBytes, n));
      this.unlock(proc, inode, 'i_rwsem', 'R');
    } else if (!direct) {
      if (!this.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.lockWait(proc, inode, 'i_rwsem', 'W');
      // Writing past a partial last block: zero its tail first (iomap_zero_range, op ZERO) under
      // the exclusive invalidate_lock (§2.4 buffered write, §6).
      const B = this.cfg.blockBytes;
      let zeroErr = 0;
      if (posBytes > inode.iSizeBytes && inode.iSizeBytes % B !== 0) {
        zeroErr = yield* this.zeroTail(proc, inode, inode.iSizeBytes, Math.min(posBytes, Math.ceil(inode.iSizeBytes / B) * B));
      }
      ret = zeroErr !== 0 ? zeroErr : this.retOf(yield* this.iterate(proc, inode, IterKind.BufWrite, posBytes, lenBytes));
      this.unlock(proc, inode, 'i_rwsem', 'W');
    } else {
      // fuse-iomap direct writes are always exclusive (§6); the kernel-ext4 baseline takes the
      // shared lock for aligned overwrites of written blocks inside EOF, as ext4 does.
      const mode: RwMode = this.local !== null && posBytes + lenBytes <= inode.iSizeBytes &&
        this.local.isWrittenRange(inode.ino, posBytes, lenBytes) ? 'R' : 'W';
      if (!this.tryLock(proc, inode, 'i_rwsem', mode)) yield* this.lockWait(proc, inode, 'i_rwsem', mode);
      if (!inode.dirty.isEmpty) yield* this.flushRange(proc, inode, posBytes, lenBytes);
      // The IOEND round trip of a synchronous direct write happens before iomap_dio_rw returns,
      // i.e. still under i_rwsem (§2.4).
      const res = yield* this.iterate(proc, inode, IterKind.DioWrite, posBytes, lenBytes);
      const ok = yield* this.ioend(proc, inode, posBytes, res.processedBytes, IoendFlag.DIRECT | res.ioendFlags, res.error, NULL_ADDR, 0);
      ret = ok === 0 ? this.retOf(res) : ok;
      this.unlock(proc, inode, 'i_rwsem', mode);
    }
    this.appEnd(proc, op, file.fd, ret);
    return ret;
  }

  private *zeroTail(proc: Proc, inode: FuseInode, startBytes: number, endBytes: number): ProcStep<number> {
    if (endBytes <= startBytes) return 0;
    if (!this.tryLock(proc, inode, 'invalidate_lock', 'W')) yield* this.lockWait(proc, inode, 'invalidate_lock', 'W');
    const res = yield* this.iterate(proc, inode, IterKind.Zero, startBytes, endBytes - startBytes);
    this.unlock(proc, inode, 'invalidate_lock', 'W');
    return res.error;
  }

  /** mmap write fault on one page (page_mkwrite): no i_rwsem, invalidate_lock shared (§6). */
  *fault(proc: Proc, file: OpenFile, posBytes: number): ProcStep<number> {
    const inode = file.inode;
    const B = this.cfg.blockBytes;
    const pos = Math.floor(posBytes / B) * B;
    this.appBegin(proc, 'fault', file.path, file.fd, pos, B, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    if (!this.tryLock(proc, inode, 'invalidate_lock', 'R')) yield* this.lockWait(proc, inode, 'invalidate_lock', 'R');
    let ret: number;
    if (pos >= inode.iSizeBytes) ret = -Errno.EINVAL; // SIGBUS in reality: the page is past EOF
    else ret = this.retOf(yield* this.iterate(proc, inode, IterKind.Fault, pos, Math.min(B, inode.iSizeBytes - pos)));
    this.unlock(proc, inode, 'invalidate_lock', 'R');
    this.appEnd(proc, 'fault', file.fd, ret);
    return ret;
  }

  /** fsync(2): write back and wait, then FUSE_FSYNC under i_rwsem (upstream fuse_fsync takes the lock). */
  *fsync(proc: Proc, file: OpenFile): ProcStep<number> {
    const inode = file.inode;
    this.appBegin(proc, 'fsync', file.path, file.fd, 0, 0, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    if (!inode.dirty.isEmpty) yield* this.flushRange(proc, inode, 0, Infinity);
    if (!this.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.lockWait(proc, inode, 'i_rwsem', 'W');
    const r = yield* this.request(proc, Opcode.FSYNC, inode.nodeId, FSYNC_IN_BYTES);
    this.unlock(proc, inode, 'i_rwsem', 'W');
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
    if (!this.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.lockWait(proc, inode, 'i_rwsem', 'W');
    if (!this.tryLock(proc, inode, 'invalidate_lock', 'W')) yield* this.lockWait(proc, inode, 'invalidate_lock', 'W');
    const B = this.cfg.blockBytes;
    let err = 0;
    if (sizeBytes < inode.iSizeBytes) {
      if (sizeBytes % B !== 0) {
        const res = yield* this.iterate(proc, inode, IterKind.Zero, sizeBytes, Math.min(inode.iSizeBytes, Math.ceil(sizeBytes / B) * B) - sizeBytes);
        err = res.error;
      }
      inode.dirty.extract(Math.ceil(sizeBytes / B) * B, Infinity); // truncate_pagecache
    }
    if (err === 0) {
      if (!inode.dirty.isEmpty) yield* this.flushRange(proc, inode, 0, Infinity);
      this.changeBegin(inode.ino);
      const r = yield* this.request(proc, Opcode.SETATTR, inode.nodeId, SETATTR_IN_BYTES, (dv, at) => writeSetattrSize(dv, at, sizeBytes));
      err = r.error;
      if (err === 0) {
        inode.iSizeBytes = sizeBytes;
        inode.iDiskSizeBytes = sizeBytes;
        this.invalidateRange(proc.task, inode, sizeBytes, this.cfg.maxBytes, reason);
      }
      this.changeEnd(inode.ino);
    }
    this.unlock(proc, inode, 'invalidate_lock', 'W');
    this.unlock(proc, inode, 'i_rwsem', 'W');
    return err;
  }

  /** fallocate(2) (§6): both locks exclusive, FUSE_FALLOCATE, cache invalidation of the range, size update. */
  *fallocate(proc: Proc, file: OpenFile, mode: number, posBytes: number, lenBytes: number): ProcStep<number> {
    const inode = file.inode;
    this.appBegin(proc, 'fallocate', file.path, file.fd, posBytes, lenBytes, file.oflags);
    { const ns = this.core.jitterNs(this.core.costs.syscallNs); if (!this.sched.advanceIfNext(ns)) yield ns; }
    if (!this.tryLock(proc, inode, 'i_rwsem', 'W')) yield* this.lockWait(proc, inode, 'i_rwsem', 'W');
    if (!this.tryLock(proc, inode, 'invalidate_lock', 'W')) yield* this.lockWait(proc, inode, 'invalidate_lock', 'W');
    const isPunch = (mode & FALLOC_FL_PUNCH_HOLE) !== 0;
    // Punching must not leave dirty pages over freed blocks: write back, then drop them.
    if (isPunch) {
      if (!inode.dirty.isEmpty) yield* this.flushRange(proc, inode, posBytes, lenBytes);
      inode.dirty.extract(posBytes, posBytes + lenBytes);
    }
    this.changeBegin(inode.ino);
    const r = yield* this.request(proc, Opcode.FALLOCATE, inode.nodeId, FALLOCATE_IN_BYTES, (dv, at) => writeFallocateIn(dv, at, posBytes, lenBytes, mode));
    if (r.error === 0) {
      this.invalidateRange(proc.task, inode, posBytes, posBytes + lenBytes, 'fallocate');
      if ((mode & FALLOC_FL_KEEP_SIZE) === 0 && posBytes + lenBytes > inode.iSizeBytes) {
        inode.iSizeBytes = posBytes + lenBytes;
        inode.iDiskSizeBytes = inode.iSizeBytes;
      }
    }
    this.changeEnd(inode.ino);
    this.unlock(proc, inode, 'invalidate_lock', 'W');
    this.unlock(proc, inode, 'i_rwsem', 'W');
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
    if (!src.inode.dirty.isEmpty) yield* this.flushRange(proc, src.inode, posBytes, lenBytes);
    if (!this.tryLock(proc, out, 'i_rwsem', 'W')) yield* this.lockWait(proc, out, 'i_rwsem', 'W');
    if (!out.dirty.isEmpty) yield* this.flushRange(proc, out, posBytes, lenBytes);
    this.changeBegin(out.ino);
    const r = yield* this.request(proc, Opcode.COPY_FILE_RANGE, src.inode.nodeId, COPY_FILE_RANGE_IN_BYTES, (dv, at) =>
      writeCopyRangeIn(dv, at, { offInBytes: posBytes, nodeIdOut: out.nodeId, offOutBytes: posBytes, lenBytes }));
    let ret = r.error;
    if (r.error === 0) {
      ret = new DataView(r.body.buffer, r.body.byteOffset, 4).getUint32(0, true);
      out.dirty.extract(posBytes, posBytes + ret);
      this.invalidateRange(proc.task, out, posBytes, posBytes + ret, 'copy_file_range');
      if (posBytes + ret > out.iSizeBytes) out.iSizeBytes = posBytes + ret;
      if (posBytes + ret > out.iDiskSizeBytes) out.iDiskSizeBytes = posBytes + ret;
    }
    this.changeEnd(out.ino);
    this.unlock(proc, out, 'i_rwsem', 'W');
    this.appEnd(proc, 'copy_file_range', src.fd, ret);
    return ret;
  }

  private retOf(res: IterResult): number {
    return res.processedBytes > 0 ? res.processedBytes : res.error;
  }

  /** filemap_write_and_wait_range — only this fuse_inode's page cache (aliases keep theirs). */
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
      let writtenBytes = n;
      let isStale = false;
      switch (kind) {
        case IterKind.BufRead:
        case IterKind.DioRead:
          // HOLE/UNWRITTEN/DELALLOC read as zeros without touching the disk (§2.3).
          { const ns = (hasData ? this.devNs(false, n) : this.memNs(n)) + this.core.jitterNs(costs.syscallNs >> 2); if (!this.sched.advanceIfNext(ns)) yield ns; }
          break;
        case IterKind.BufWrite:
        case IterKind.Fault: {
          writtenBytes = yield* this.copyFolios(proc, inode, pos, n, dest, m.cookie);
          isStale = writtenBytes < n;
          if (pos + writtenBytes > inode.iSizeBytes) {
            inode.iSizeBytes = pos + writtenBytes; // iomap sets IOMAP_F_SIZE_CHANGED when a buffered write extends i_size
            sizeChanged = true;
          }
          break;
        }
        case IterKind.Zero:
          // Only written blocks need zeroing in the page cache; holes and unwritten extents read as zeros (§2.3).
          if (hasData) inode.dirty.add(pos, n);
          { const ns = this.memNs(n); if (!this.sched.advanceIfNext(ns)) yield ns; }
          break;
        case IterKind.DioWrite:
          if (dest.type !== MapType.MAPPED && dest.type !== MapType.UNWRITTEN) {
            // iomap_dio: a direct write must target allocated space (§2.3).
            this.iterEnd(proc, inode, pos, n, 0, -Errno.EIO);
            res.error = -Errno.EIO;
            return res;
          }
          { const ns = this.devNs(true, n) + this.core.jitterNs(costs.syscallNs >> 2); if (!this.sched.advanceIfNext(ns)) yield ns; }
          if (dest.type === MapType.UNWRITTEN) res.ioendFlags |= IoendFlag.UNWRITTEN;
          if ((dest.flags & MapFlag.SHARED) !== 0) res.ioendFlags |= IoendFlag.SHARED;
          break;
      }
      // §1.5: never for INLINE; else if the server asked (intended WANT_IOMAP_END rule), or the op
      // is write-ish and it wrote short (a stale mapping ends the iteration short) or changed the size.
      const needEnd = !this.noEnd && dest.type !== MapType.INLINE &&
        ((dest.flags & MapFlag.WANT_IOMAP_END) !== 0 || (isWriteish(opflags) && (writtenBytes < n || sizeChanged)));
      if (needEnd) {
        let flags = dest.flags;
        if (sizeChanged) flags |= MapFlag.SIZE_CHANGED;
        if (isStale) flags |= MapFlag.STALE;
        const map: IomapIo = flags === dest.flags ? dest : { ...dest, flags };
        if (!this.isLocal) {
          this.core.emit({ rawType: '',
            kind: 'iomap_end', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
            opflags, posBytes: pos, lenBytes: n, writtenBytes,
            mapType: map.type, mapFlags: map.flags, mapOffsetBytes: Number(map.offsetBytes), mapLenBytes: Number(map.lenBytes),
            mapAddr: map.addr, mapDev: map.dev,
          });
        }
        const endIn = { opflags, attrIno: BigInt(inode.ino), posBytes: BigInt(pos), countBytes: BigInt(n), writtenBytes: BigInt(writtenBytes), map };
        const r = yield* this.request(proc, Opcode.IOMAP_END, inode.nodeId, IOMAP_END_IN_BYTES, (dv, at) => writeIomapEndIn(dv, at, endIn));
        if (r.error === -Errno.ENOSYS) this.noEnd = true;
      }
      this.iterEnd(proc, inode, pos, n, writtenBytes, 0);
      pos += writtenBytes;
      remaining -= writtenBytes;
      res.processedBytes += writtenBytes;
    }
    return res;
  }

  /**
   * The buffered-write folio loop: per folio, lock it, revalidate the mapping (iomap_valid: cookie
   * vs ic_seq, §2.6), copy, mark dirty. A stale cookie ends the iteration short (fuse_iomap_invalid
   * → a new BEGIN for the rest). With validation off the stale mapping is used, and the sim says so.
   * Returns the bytes copied.
   */
  private *copyFolios(proc: Proc, inode: FuseInode, posBytes: number, lenBytes: number, dest: IomapIo, cookie: number): ProcStep<number> {
    if (cookie === 0 || inode.cache === null) {
      // Always-valid mapping: nothing to revalidate, so the copy is one step.
      { const ns = this.memNs(lenBytes); if (!this.sched.advanceIfNext(ns)) yield ns; }
      inode.dirty.add(posBytes, lenBytes);
      return lenBytes;
    }
    const cache = inode.cache;
    let done = 0;
    let reported = false;
    while (done < lenBytes) {
      const pos = posBytes + done;
      const chunk = Math.min(lenBytes - done, FOLIO_BYTES - (pos % FOLIO_BYTES));
      if (cache.seq !== cookie) {
        if (this.checkCookies) {
          this.core.emit({ rawType: '',
            kind: 'cache_stale', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
            posBytes: pos, oldCookie: cookie, newCookie: cache.seq,
            mapType: dest.type, mapFlags: dest.flags, mapOffsetBytes: Number(dest.offsetBytes), mapLenBytes: Number(dest.lenBytes),
            mapAddr: dest.addr, mapDev: dest.dev,
          });
          return done;
        }
        // Reported once per iteration: every later folio of it uses the same stale mapping.
        if (!reported) reported = this.noteStaleUse(proc, inode, pos, dest, cookie);
      }
      { const ns = this.memNs(chunk); if (!this.sched.advanceIfNext(ns)) yield ns; }
      inode.dirty.add(pos, chunk);
      done += chunk;
    }
    return done;
  }

  /**
   * Validation off and the cookie is stale: is the mapping really wrong for this folio (the
   * cache no longer holds the same record here)? Then this is the §2.6 race: an UNWRITTEN mapping
   * over blocks writeback has converted makes the writer zero real data around its copy.
   */
  private noteStaleUse(proc: Proc, inode: FuseInode, pos: number, dest: IomapIo, cookie: number): boolean {
    const now: CacheRec | null = inode.cache!.lookup('read', pos);
    const same = now !== null && now.type === dest.type &&
      (dest.addr === NULL_ADDR ? now.addr < 0 : now.addr >= 0 && BigInt(now.addr - now.offBytes) === dest.addr - dest.offsetBytes);
    if (same) return false;
    this.staleUsedCount++;
    const what = dest.type === MapType.UNWRITTEN ? 'unwritten mapping over converted blocks: partial folios are zeroed instead of read'
      : 'mapping changed under the writer';
    this.core.emit({
      kind: 'instant', tsNs: this.core.sched.nowNs, task: proc.task, name: 'stale_mapping_used',
      text: `nodeid ${inode.nodeId} ino ${inode.ino} pos 0x${pos.toString(16)} cookie ${cookie} ic_seq ${inode.cache!.seq}: ${what} (cookie validation off)`,
    });
    return true;
  }

  private iterEnd(proc: Proc, inode: FuseInode, posBytes: number, lenBytes: number, processedBytes: number, error: number): void {
    this.core.emit({
      kind: 'iomap_iter_end', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
      posBytes, lenBytes, processedBytes, error,
    });
  }

  /**
   * fuse_iomap_begin: cache lookup (v3+, if the inode has a cache), else the upcall; trace both
   * reply slots, validate (§1.4), follow RETRY_CACHE back to the cache, choose the destination (§1.5).
   */
  private *mapBegin(proc: Proc, inode: FuseInode, opflags: number, posBytes: number, countBytes: number): ProcStep<MapResult> {
    const core = this.core;
    core.emit({ fsDev: 0, kind: 'iomap_begin', tsNs: core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, opflags, posBytes, lenBytes: countBytes });
    const bypassCache = (opflags & (OpFlag.ATOMIC | OpFlag.SWAPFILE)) !== 0;
    const writeish = isWriteish(opflags);
    const mayChange = writeish && (opflags & (OpFlag.ZERO | OpFlag.UNSHARE)) === 0; // the server may allocate
    for (let attempt = 0; ; attempt++) {
      if (inode.cache !== null && !bypassCache) {
        const hit = this.cacheLookup(proc, inode, opflags, posBytes, countBytes);
        if (hit !== null) return hit;
      }
      if (attempt >= RETRY_CACHE_MAX) return { error: -EINTR, dest: null, cookie: 0 };
      const beginIn = { opflags, attrIno: BigInt(inode.ino), posBytes: BigInt(posBytes), countBytes: BigInt(countBytes) };
      if (mayChange) this.changeBegin(inode.ino);
      const countAtSend = this.changeCount(inode.ino);
      const r = yield* this.request(proc, Opcode.IOMAP_BEGIN, inode.nodeId, IOMAP_BEGIN_IN_BYTES, (dv, at) => writeIomapBeginIn(dv, at, beginIn));
      if (mayChange) this.changeEnd(inode.ino);
      if (r.error !== 0) return { error: r.error, dest: null, cookie: 0 };
      let out;
      try {
        out = readBeginOut(taskBufs(proc).recv, r.body);
      } catch (e) {
        if (!(e instanceof FuseDecodeError)) throw e;
        this.badData(proc, inode, e.message, -Errno.EIO);
        return { error: -Errno.EIO, dest: null, cookie: 0 };
      }
      const tsNs = core.sched.nowNs;
      if (!this.isLocal) {
        for (let k = 0; k < 2; k++) {
          const slot = k === 0 ? 'read' : 'write';
          const io = k === 0 ? out.read : out.write;
          core.emit({ rawType: '',
            kind: 'iomap_map', tsNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, slot, source: 'reply',
            mapType: io.type, mapFlags: io.flags, mapOffsetBytes: Number(io.offsetBytes), mapLenBytes: Number(io.lenBytes),
            mapAddr: io.addr, mapDev: io.dev, cookie: 0,
          });
        }
      }
      this.validateCtx.posBytes = posBytes;
      this.validateCtx.hasCache = inode.cache !== null;
      const bad = validateMapping(out.read, 'read', this.validateCtx) ?? validateMapping(out.write, 'write', this.validateCtx);
      if (bad !== null) {
        this.badData(proc, inode, bad, -EFSCORRUPTED);
        return { error: -EFSCORRUPTED, dest: null, cookie: 0 };
      }
      if (out.read.type === MapType.RETRY_CACHE) continue; // the server upserted it: look again
      const dest = writeish && out.write.type !== MapType.PURE_OVERWRITE ? out.write : out.read;
      this.checkAgainstServer(proc, inode, dest, 'reply', countAtSend);
      return { error: 0, dest, cookie: 0 };
    }
  }

  /**
   * The cache side of iomap_begin (§3.3). Emits one cache_lookup naming the fork that decided
   * (write fork if present for a write-ish op, else read) and, on a hit, the mapping as
   * iomap_map(source cache) with the cookie = ic_seq. v7 trims the hit to the block-aligned
   * request window.
   */
  private cacheLookup(proc: Proc, inode: FuseInode, opflags: number, posBytes: number, countBytes: number): MapResult | null {
    const cache = inode.cache!;
    const writeish = isWriteish(opflags);
    const B = this.cfg.blockBytes;
    const winStart = Math.floor(posBytes / B) * B;
    const winEnd = Math.ceil((posBytes + countBytes) / B) * B;
    const tsNs = this.core.sched.nowNs;
    let fork: Fork = 'read';
    let destRec: CacheRec | null;
    if (writeish && cache.hasFork('write')) {
      fork = 'write';
      // A write-fork miss is an upcall even if the read fork would hit. A hit that is
      // PURE_OVERWRITE defers to the read fork; a real one is the destination and still needs
      // the read fork as its srcmap (a read miss = upcall).
      const w = cache.lookup('write', posBytes);
      const r = w === null ? null : cache.lookup('read', posBytes);
      destRec = w === null || r === null ? null : w.type === MapType.PURE_OVERWRITE ? r : w;
    } else {
      destRec = cache.lookup('read', posBytes);
    }
    // Write-ish: a HOLE is no destination unless zeroing/unsharing, nor DELALLOC for direct/writeback.
    if (destRec !== null && writeish) {
      if (destRec.type === MapType.HOLE && (opflags & (OpFlag.ZERO | OpFlag.UNSHARE)) === 0) destRec = null;
      else if (destRec.type === MapType.DELALLOC && (opflags & (OpFlag.DIRECT | OpFlag.WRITEBACK)) !== 0) destRec = null;
    }
    const ino = inode.ino, nodeId = inode.nodeId;
    if (destRec === null) {
      this.core.emit({ forkAbsent: false, rawType: '',
        kind: 'cache_lookup', tsNs, task: proc.task, nodeId, ino, fork, posBytes, lenBytes: countBytes, hit: false,
        mapType: MapType.HOLE, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: NULL_ADDR, mapDev: 0, cookie: 0,
      });
      return null;
    }
    const io = ioOfRec(destRec, winStart, winEnd);
    const cookie = cache.seq;
    const mapOffsetBytes = Number(io.offsetBytes), mapLenBytes = Number(io.lenBytes);
    this.core.emit({ forkAbsent: false, rawType: '',
      kind: 'cache_lookup', tsNs, task: proc.task, nodeId, ino, fork, posBytes, lenBytes: countBytes, hit: true,
      mapType: io.type, mapFlags: io.flags, mapOffsetBytes, mapLenBytes, mapAddr: io.addr, mapDev: io.dev, cookie,
    });
    if (!this.isLocal) {
      this.core.emit({ rawType: '',
        kind: 'iomap_map', tsNs, task: proc.task, nodeId, ino, slot: fork === 'write' ? 'write' : 'read', source: 'cache',
        mapType: io.type, mapFlags: io.flags, mapOffsetBytes, mapLenBytes, mapAddr: io.addr, mapDev: io.dev, cookie,
      });
    }
    this.checkAgainstServer(proc, inode, io, 'cache', this.changeCount(inode.ino));
    return { error: 0, dest: io, cookie };
  }

  private badData(proc: Proc, inode: FuseInode, message: string, error: number): void {
    this.core.emit({ kind: 'iomap_bad_data', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, message, error });
  }

  // -------------------------------------------------------------------------------------------
  // Writeback and ioends

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
        else if (this.checkCookies) {
          this.core.emit({ rawType: '',
            kind: 'cache_stale', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
            posBytes: pos, oldCookie: wbCookie, newCookie: inode.cache.seq,
            mapType: wbMap.type, mapFlags: wbMap.flags, mapOffsetBytes: Number(wbMap.offsetBytes), mapLenBytes: Number(wbMap.lenBytes),
            mapAddr: wbMap.addr, mapDev: wbMap.dev,
          });
        } else {
          this.noteStaleUse(proc, inode, pos, wbMap, wbCookie);
          dest = wbMap;
        }
      }
      if (dest === null) {
        const m = yield* this.mapBegin(proc, inode, OpFlag.WRITEBACK, pos, count);
        error = m.error;
        dest = m.dest;
        wbMap = dest;
        wbCookie = m.cookie;
      }
      // Writeback needs real blocks; a hole/delalloc/inline answer here is bad data → EIO (§2.3).
      if (dest && dest.type !== MapType.MAPPED && dest.type !== MapType.UNWRITTEN) error = -Errno.EIO;
      if (error !== 0 || !dest) {
        // "Discard folio": the range is dropped and reported as an ioend with flags 0 (§1.5).
        this.iterEnd(proc, inode, pos, count, 0, error);
        yield* this.ioend(proc, inode, pos, 0, 0, error, NULL_ADDR, 0);
        return;
      }
      const n = Math.min(count, Number(dest.offsetBytes + dest.lenBytes) - pos);
      { const ns = this.devNs(true, n); if (!this.sched.advanceIfNext(ns)) yield ns; }
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
   * on success moves i_disk_size (and i_size) forward and invalidates the cached mappings of the
   * range (§3.2). Returns 0 or the -errno to report.
   */
  private *ioend(proc: Proc, inode: FuseInode, posBytes: number, writtenBytes: number, ioendFlags: number, error: number, newAddr: bigint, dev: number): ProcStep<number> {
    let flags = ioendFlags;
    if (error === 0 && posBytes + writtenBytes > inode.iDiskSizeBytes) flags |= IoendFlag.APPEND;
    const sent = !this.noIoend && (error !== 0 || (writtenBytes > 0 && (flags & (IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.APPEND)) !== 0));
    // The kernel pre-fills newsize with max(on-disk size, pos + written); a v7 reply overrides it.
    let newSizeBytes = Math.max(inode.iDiskSizeBytes, posBytes + writtenBytes);
    if (!this.isLocal) {
      this.core.emit({
        kind: 'iomap_ioend', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
        posBytes, writtenBytes, ioendFlags: flags, error, newAddr, newSizeBytes, sent,
      });
    }
    let result = error;
    if (sent) {
      this.changeBegin(inode.ino);
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
      // Every successful ioend invalidates its range (§3.2) — also unsent ones: the code path is
      // the same; an in-place overwrite thus costs its cached range a refetch.
      if (writtenBytes > 0) this.invalidateRange(proc.task, inode, posBytes, posBytes + writtenBytes, 'ioend');
    }
    if (sent) this.changeEnd(inode.ino);
    return result;
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
