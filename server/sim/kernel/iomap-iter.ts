// The iomap iteration (§2.4): iomap_iter's loop of BEGIN, act on the mapping, END when due, advance.
// `mapBegin` is fuse_iomap_begin with the v3+ mapping cache in front of the upcall: a lookup, the
// RETRY_CACHE loop, cookies stamped on hits; buffered writes re-check the cookie per folio
// (iomap_valid, §2.6). Locks are the caller's (vfs.ts, writeback.ts).

import {
  EFSCORRUPTED, Errno, FuseDecodeError, IOMAP_BEGIN_IN_BYTES, IOMAP_BEGIN_OUT_BYTES, IOMAP_END_IN_BYTES, IOMAP_IO_BYTES,
  IoendFlag, MapFlag, MapType, NULL_ADDR, OUT_HEADER_BYTES, OpFlag, Opcode, isWriteish, readIomapBeginOut, readIomapIo,
  writeIomapBeginIn, writeIomapEndIn, type IomapBeginOut, type IomapIo,
} from '../../../src/trace/fuse-proto.ts';
import type { Fork } from '../../../src/trace/schema.ts';
import type { Proc, ProcStep, Scheduler } from '../clock.ts';
import type { SimCore } from '../core.ts';
import { taskBufs } from '../dev-fuse.ts';
import { READ_WRITE_IN_BYTES, type MsgBuf } from '../proto.ts';
import type { FuseInode } from './inode.ts';
import { ioOfRec, type CacheRec } from './mapping-cache.ts';
import type { MappingOracle } from './oracle.ts';
import { devNs, memNs } from './timing.ts';
import type { FuseTransport } from './transport.ts';
import { validateMapping, type ValidateContext } from './validate.ts';

/** Which path drives an iomap iteration; decides opflags (§1.8) and what "acting" costs. */
export const enum IterKind { BufRead, BufWrite, DioRead, DioWrite, Zero, Fault, DioAtomicWrite }
const ITER_OPFLAGS: Record<IterKind, number> = {
  [IterKind.BufRead]: 0,
  [IterKind.BufWrite]: OpFlag.WRITE,
  [IterKind.DioRead]: OpFlag.DIRECT,
  [IterKind.DioWrite]: OpFlag.WRITE | OpFlag.DIRECT,
  [IterKind.Zero]: OpFlag.ZERO,
  [IterKind.Fault]: OpFlag.WRITE | OpFlag.FAULT,
  // pwritev2(RWF_ATOMIC) with O_DIRECT (§1.8): ATOMIC makes iomap_begin bypass the cache (§3.3).
  [IterKind.DioAtomicWrite]: OpFlag.WRITE | OpFlag.DIRECT | OpFlag.ATOMIC,
};

export interface IterResult {
  processedBytes: number;
  error: number;
  /** IOEND flags collected from the mappings a direct write hit (UNWRITTEN, SHARED). */
  ioendFlags: number;
}

interface MapResult {
  error: number;
  /** The iomap destination: write slot for write-ish ops unless PURE_OVERWRITE, else read slot (§1.5). */
  dest: IomapIo | null;
  /** Validity cookie: ic_seq for cache hits, 0 (always valid) for mappings straight from a reply. */
  cookie: number;
}

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

interface IomapIterConfig {
  blockBytes: number;
  maxBytes: number;
  registeredDevs: ReadonlySet<number>;
  /** iomap_valid checks cookies: the revision has them (v3+) and the scenario did not turn them off. */
  checkCookies: boolean;
}

type OracleHooks = Pick<MappingOracle, 'changeBegin' | 'changeEnd' | 'changeCount' | 'checkAgainstServer' | 'noteStaleUse'>;

export class IomapIter {
  /** Server answered IOMAP_END with ENOSYS once (§1.5): stop sending it on this connection. */
  private noEnd = false;
  private readonly validateCtx: ValidateContext;
  private readonly sched: Scheduler;

  constructor(
    private readonly core: SimCore,
    private readonly transport: Pick<FuseTransport, 'request' | 'isLocal'>,
    private readonly oracle: OracleHooks,
    private readonly cfg: IomapIterConfig,
  ) {
    this.sched = core.sched;
    this.validateCtx = {
      posBytes: 0, blockBytes: cfg.blockBytes, maxBytes: cfg.maxBytes, hasCache: false,
      isDevRegistered: (d) => cfg.registeredDevs.has(d),
    };
  }

  /** The iomap_iter loop (§2.4): BEGIN, act on the mapping, END when due, advance. */
  *iterate(proc: Proc, inode: FuseInode, kind: IterKind, posBytes: number, lenBytes: number): ProcStep<IterResult> {
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
      // INLINE (§2.3): fuse_iomap_begin fetches the whole inline mapping with FUSE_READ (for reads,
      // and for writes, whose srcmap is then a hole); the bytes live in a kernel buffer, not in folios.
      const isInline = dest.type === MapType.INLINE;
      if (isInline) {
        const err = yield* this.inlineRead(proc, inode, dest);
        if (err !== 0) {
          this.iterEnd(proc, inode, pos, remaining, 0, err);
          res.error = err;
          return res;
        }
      }
      const hasData = dest.type === MapType.MAPPED;
      let sizeChanged = false;
      let writtenBytes = n;
      let isStale = false;
      switch (kind) {
        case IterKind.BufRead:
        case IterKind.DioRead:
          // HOLE/UNWRITTEN/DELALLOC read as zeros without touching the disk (§2.3).
          { const ns = (hasData ? devNs(this.core, false, n) : memNs(this.core, n)) + this.core.jitterNs(costs.syscallNs >> 2); if (!this.sched.advanceIfNext(ns)) yield ns; }
          break;
        case IterKind.BufWrite:
        case IterKind.Fault: {
          if (isInline) {
            // Copied into the inline buffer: no folio is dirtied, so writeback never sees it.
            const ns = memNs(this.core, n); if (!this.sched.advanceIfNext(ns)) yield ns;
          } else writtenBytes = yield* this.copyFolios(proc, inode, pos, n, dest, m.cookie);
          isStale = writtenBytes < n;
          if (pos + writtenBytes > inode.iSizeBytes) {
            inode.iSizeBytes = pos + writtenBytes; // iomap sets IOMAP_F_SIZE_CHANGED when a buffered write extends i_size
            sizeChanged = true;
          }
          break;
        }
        case IterKind.Zero:
          // Only written blocks need zeroing in the page cache; holes and unwritten extents read as zeros (§2.3).
          if (hasData && !isInline) inode.dirty.add(pos, n);
          { const ns = memNs(this.core, n); if (!this.sched.advanceIfNext(ns)) yield ns; }
          break;
        case IterKind.DioWrite:
        case IterKind.DioAtomicWrite:
          if (dest.type !== MapType.MAPPED && dest.type !== MapType.UNWRITTEN) {
            // iomap_dio: a direct write must target allocated space (§2.3).
            this.iterEnd(proc, inode, pos, n, 0, -Errno.EIO);
            res.error = -Errno.EIO;
            return res;
          }
          { const ns = devNs(this.core, true, n) + this.core.jitterNs(costs.syscallNs >> 2); if (!this.sched.advanceIfNext(ns)) yield ns; }
          if (dest.type === MapType.UNWRITTEN) res.ioendFlags |= IoendFlag.UNWRITTEN;
          if ((dest.flags & MapFlag.SHARED) !== 0) res.ioendFlags |= IoendFlag.SHARED;
          break;
      }
      // An inline write goes back with FUSE_WRITE of the written range at iomap_end, instead of an
      // IOMAP_END upcall; the kernel then moves i_disk_size (fuse_iomap_end, djwong tree).
      if (isInline && isWriteish(opflags) && writtenBytes > 0) {
        const err = yield* this.inlineWrite(proc, inode, pos, writtenBytes);
        if (err !== 0) {
          this.iterEnd(proc, inode, pos, n, 0, err);
          res.error = err;
          return res;
        }
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
        if (!this.transport.isLocal) {
          this.core.emit({ rawType: '',
            kind: 'iomap_end', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
            opflags, posBytes: pos, lenBytes: n, writtenBytes,
            mapType: map.type, mapFlags: map.flags, mapOffsetBytes: Number(map.offsetBytes), mapLenBytes: Number(map.lenBytes),
            mapAddr: map.addr, mapDev: map.dev,
          });
        }
        const endIn = { opflags, attrIno: BigInt(inode.ino), posBytes: BigInt(pos), countBytes: BigInt(n), writtenBytes: BigInt(writtenBytes), map };
        const r = yield* this.transport.request(proc, Opcode.IOMAP_END, inode.nodeId, IOMAP_END_IN_BYTES, (dv, at) => writeIomapEndIn(dv, at, endIn));
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
      { const ns = memNs(this.core, lenBytes); if (!this.sched.advanceIfNext(ns)) yield ns; }
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
        if (this.cfg.checkCookies) {
          this.core.emit({ rawType: '',
            kind: 'cache_stale', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
            posBytes: pos, oldCookie: cookie, newCookie: cache.seq,
            mapType: dest.type, mapFlags: dest.flags, mapOffsetBytes: Number(dest.offsetBytes), mapLenBytes: Number(dest.lenBytes),
            mapAddr: dest.addr, mapDev: dest.dev,
          });
          return done;
        }
        // Reported once per iteration: every later folio of it uses the same stale mapping.
        if (!reported) reported = this.oracle.noteStaleUse(proc, inode, pos, dest, cookie);
      }
      { const ns = memNs(this.core, chunk); if (!this.sched.advanceIfNext(ns)) yield ns; }
      inode.dirty.add(pos, chunk);
      done += chunk;
    }
    return done;
  }

  /**
   * fuse_iomap_inline_read: FUSE_READ to the nodeid with no file handle, for the whole inline
   * mapping (offset, length); an empty answer is -EIO. Returns 0 or -errno.
   */
  private *inlineRead(proc: Proc, inode: FuseInode, io: IomapIo): ProcStep<number> {
    const offsetBytes = io.offsetBytes, sizeBytes = Number(io.lenBytes);
    const r = yield* this.transport.request(proc, Opcode.READ, inode.nodeId, READ_WRITE_IN_BYTES, (dv, at) => {
      dv.setBigUint64(at + 8, offsetBytes, true);
      dv.setUint32(at + 16, sizeBytes, true);
    });
    if (r.error !== 0 && r.error !== -Errno.ENOSYS) return r.error;
    return r.error === 0 && r.body.byteLength === 0 ? -Errno.EIO : 0;
  }

  /**
   * fuse_iomap_inline_write: FUSE_WRITE (no file handle) of the written range only; a zero-length
   * answer is -EIO. On success i_disk_size covers the write. Returns 0 or -errno.
   */
  private *inlineWrite(proc: Proc, inode: FuseInode, posBytes: number, writtenBytes: number): ProcStep<number> {
    const r = yield* this.transport.request(proc, Opcode.WRITE, inode.nodeId, READ_WRITE_IN_BYTES + writtenBytes, (dv, at) => {
      dv.setBigUint64(at + 8, BigInt(posBytes), true);
      dv.setUint32(at + 16, writtenBytes, true);
    });
    if (r.error === -Errno.ENOSYS) return 0;
    if (r.error !== 0) return r.error;
    const persisted = r.body.byteLength >= 4 ? new DataView(r.body.buffer, r.body.byteOffset, 4).getUint32(0, true) : 0;
    if (persisted === 0) return -Errno.EIO;
    inode.iDiskSizeBytes = Math.max(inode.iDiskSizeBytes, posBytes + Math.min(persisted, writtenBytes));
    return 0;
  }

  iterEnd(proc: Proc, inode: FuseInode, posBytes: number, lenBytes: number, processedBytes: number, error: number): void {
    this.core.emit({
      kind: 'iomap_iter_end', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino,
      posBytes, lenBytes, processedBytes, error,
    });
  }

  /**
   * fuse_iomap_begin: cache lookup (v3+, if the inode has a cache), else the upcall; trace both
   * reply slots, validate (§1.4), follow RETRY_CACHE back to the cache, choose the destination (§1.5).
   */
  *mapBegin(proc: Proc, inode: FuseInode, opflags: number, posBytes: number, countBytes: number): ProcStep<MapResult> {
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
      const change = mayChange ? this.oracle.changeBegin(inode.ino) : 0;
      const countAtSend = this.oracle.changeCount(inode.ino);
      const r = yield* this.transport.request(proc, Opcode.IOMAP_BEGIN, inode.nodeId, IOMAP_BEGIN_IN_BYTES, (dv, at) => writeIomapBeginIn(dv, at, beginIn));
      if (mayChange) this.oracle.changeEnd(inode.ino, change);
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
      if (!this.transport.isLocal) {
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
      this.oracle.checkAgainstServer(proc, inode, dest, 'reply', countAtSend);
      return { error: 0, dest, cookie: 0 };
    }
  }

  /**
   * The cache side of iomap_begin (§3.3), traced as the kernel does (§3.4): a write-ish op looks in
   * the write fork first. An absent write fork (an in-place server never creates one) is neither a
   * hit nor a miss (`forkAbsent`): the read fork is looked up next and decides. A write-fork miss
   * is an upcall with no read lookup. A write-fork hit is followed by the read-fork lookup (the
   * srcmap; its miss is an upcall too). Each hit also emits its mapping as iomap_map(source cache)
   * in the fork's slot, cookie = ic_seq; v7 trims hits to the block-aligned request window.
   */
  private cacheLookup(proc: Proc, inode: FuseInode, opflags: number, posBytes: number, countBytes: number): MapResult | null {
    const cache = inode.cache!;
    const writeish = isWriteish(opflags);
    let destRec: CacheRec | null;
    if (writeish) {
      const hasWriteFork = cache.hasFork('write');
      const w = hasWriteFork ? cache.lookup('write', posBytes) : null;
      this.emitLookup(proc, inode, 'write', posBytes, countBytes, w, !hasWriteFork);
      if (hasWriteFork && w === null) return null; // a write-fork miss is an upcall even if the read fork would hit
      const r = cache.lookup('read', posBytes);
      this.emitLookup(proc, inode, 'read', posBytes, countBytes, r, false);
      // No write fork: writes are pure overwrites of the read mapping. A PURE_OVERWRITE write hit
      // defers to the read fork; a real one is the destination with the read fork as srcmap.
      destRec = r === null ? null : w === null || w.type === MapType.PURE_OVERWRITE ? r : w;
    } else {
      destRec = cache.lookup('read', posBytes);
      this.emitLookup(proc, inode, 'read', posBytes, countBytes, destRec, false);
    }
    // Write-ish: a HOLE is no destination unless zeroing/unsharing, nor DELALLOC for direct/writeback.
    if (destRec !== null && writeish) {
      if (destRec.type === MapType.HOLE && (opflags & (OpFlag.ZERO | OpFlag.UNSHARE)) === 0) destRec = null;
      else if (destRec.type === MapType.DELALLOC && (opflags & (OpFlag.DIRECT | OpFlag.WRITEBACK)) !== 0) destRec = null;
    }
    if (destRec === null) return null;
    const io = this.trimmed(destRec, posBytes, countBytes);
    this.oracle.checkAgainstServer(proc, inode, io, 'cache', this.oracle.changeCount(inode.ino));
    return { error: 0, dest: io, cookie: inode.cache!.seq };
  }

  /** The hit, trimmed (v7) to the block-aligned request window. */
  private trimmed(rec: CacheRec, posBytes: number, countBytes: number): IomapIo {
    const B = this.cfg.blockBytes;
    return ioOfRec(rec, Math.floor(posBytes / B) * B, Math.ceil((posBytes + countBytes) / B) * B);
  }

  /** fuse_iomap_cache_lookup (+ _result on a hit, as the mapping row iomap_map of that fork's slot). */
  private emitLookup(proc: Proc, inode: FuseInode, fork: Fork, posBytes: number, countBytes: number, rec: CacheRec | null, forkAbsent: boolean): void {
    const core = this.core;
    const tsNs = core.sched.nowNs;
    const ino = inode.ino, nodeId = inode.nodeId;
    if (rec === null) {
      core.emit({ forkAbsent, rawType: '',
        kind: 'cache_lookup', tsNs, task: proc.task, nodeId, ino, fork, posBytes, lenBytes: countBytes, hit: false,
        mapType: MapType.HOLE, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: NULL_ADDR, mapDev: 0, cookie: 0,
      });
      return;
    }
    const io = this.trimmed(rec, posBytes, countBytes);
    const cookie = inode.cache!.seq;
    const mapOffsetBytes = Number(io.offsetBytes), mapLenBytes = Number(io.lenBytes);
    core.emit({ forkAbsent: false, rawType: '',
      kind: 'cache_lookup', tsNs, task: proc.task, nodeId, ino, fork, posBytes, lenBytes: countBytes, hit: true,
      mapType: io.type, mapFlags: io.flags, mapOffsetBytes, mapLenBytes, mapAddr: io.addr, mapDev: io.dev, cookie,
    });
    if (!this.transport.isLocal) {
      core.emit({ rawType: '',
        kind: 'iomap_map', tsNs, task: proc.task, nodeId, ino, slot: fork, source: 'cache',
        mapType: io.type, mapFlags: io.flags, mapOffsetBytes, mapLenBytes, mapAddr: io.addr, mapDev: io.dev, cookie,
      });
    }
  }

  private badData(proc: Proc, inode: FuseInode, message: string, error: number): void {
    this.core.emit({ kind: 'iomap_bad_data', tsNs: this.core.sched.nowNs, task: proc.task, nodeId: inode.nodeId, ino: inode.ino, message, error });
  }
}
