// The kernel's writes to the v3+ mapping cache (mapping-cache.ts): server notifications (upsert
// and invalidate, §1.5 payloads, §3.2 semantics), run synchronously in the notifying server
// thread's context, and the kernel's own range invalidations (ioend, truncate, fallocate,
// copy_file_range, §3.2). Every change is traced. Lookups live with iomap_begin (iomap-iter.ts).

import {
  CACHE_MAX_MAX_BYTES, EFSCORRUPTED, Errno, FuseDecodeError, INVAL_TO_EOF, MapType, OUT_HEADER_BYTES, readInvalMappingsOut,
  readUpsertMappingsOut, type RevisionTraits,
} from '../../../src/trace/fuse-proto.ts';
import type { Fork, InvalReason } from '../../../src/trace/schema.ts';
import type { SimCore } from '../core.ts';
import { outError } from '../proto.ts';
import type { FuseInode } from './inode.ts';
import { MappingCache, recOfIo } from './mapping-cache.ts';

/** Smallest cache_maxbytes the kernel accepts (§3.1). */
const CACHE_MIN_MAX_BYTES = 256;
import { validateMapping, type ValidateContext } from './validate.ts';
import { NO_NODE_ID, asNodeId, type NodeId, type TaskId } from '../../../src/trace/ids.ts';

interface CacheOpsConfig {
  blockBytes: number;
  maxBytes: number;
  /** Per-fork cache cap in bytes (§3.1). */
  cacheMaxBytes: number;
  registeredDevs: ReadonlySet<number>;
  /** The revision's notification codes. */
  rev: Pick<RevisionTraits, 'notifyUpsert' | 'notifyInval'>;
}

export class CacheOps {
  private readonly validateCtx: ValidateContext;

  constructor(private readonly core: SimCore, private readonly inodes: ReadonlyMap<NodeId, FuseInode>, private readonly cfg: CacheOpsConfig) {
    // hasCache only matters for RETRY_CACHE, which an upsert rejects before validating.
    this.validateCtx = {
      posBytes: 0, blockBytes: cfg.blockBytes, maxBytes: cfg.maxBytes, hasCache: false,
      isDevRegistered: (d) => cfg.registeredDevs.has(d),
    };
  }

  /** The IOMAP_CONFIG reply's cache size (v7, §3.1): 0 keeps the default, else clamped to 256 B … 2 MiB. Before any upsert. */
  configureCacheMaxBytes(bytes: number): void {
    if (bytes !== 0) this.cfg.cacheMaxBytes = Math.min(CACHE_MAX_MAX_BYTES, Math.max(CACHE_MIN_MAX_BYTES, bytes));
  }

  /** A notification from the server (DevFuse.onNotify): returns 0 or the -errno write(2) returns. */
  handleNotify(bytes: Uint8Array, task: TaskId): number {
    const code = outError(bytes);
    const body = bytes.subarray(OUT_HEADER_BYTES);
    const tsNs = this.core.sched.nowNs;
    const isUpsert = code === this.cfg.rev.notifyUpsert, isInval = code === this.cfg.rev.notifyInval;
    let nodeId = NO_NODE_ID;
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
      nodeId = asNodeId(Number(msg.nodeid));
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
  private cacheRemove(task: TaskId, inode: FuseInode, fork: Fork, startBytes: number, endBytes: number, reason: InvalReason): void {
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
  invalidateRange(task: TaskId, inode: FuseInode, startBytes: number, endBytes: number, reason: InvalReason): void {
    if (inode.cache === null) return;
    const B = this.cfg.blockBytes;
    const s = Math.floor(startBytes / B) * B;
    const e = endBytes >= this.cfg.maxBytes ? this.cfg.maxBytes : Math.ceil(endBytes / B) * B;
    if (e <= s) return;
    this.cacheRemove(task, inode, 'read', s, e, reason);
    this.cacheRemove(task, inode, 'write', s, e, reason);
  }
}
