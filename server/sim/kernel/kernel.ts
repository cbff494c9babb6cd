// The kernel model: VFS + fuse + iomap as far as fuse-iomap needs them, composed from parts that
// each get only what they use:
//
//   app thread ── syscall (vfs.ts) ──▶ i_rwsem (locks.ts) ──▶ iomap_iter loop (iomap-iter.ts) ──▶ FUSE_IOMAP_BEGIN/END
//                                                               │ buffered write
//                                                               ▼
//                          dirty page ranges ──▶ writeback kworker (writeback.ts) ──▶ BEGIN(WRITEBACK), bio
//                                                                   completion kworker: merged ioends ──▶ IOEND
//
// Upcalls cross DevFuse as bytes through transport.ts (or the in-kernel ext4 baseline, `cfg.local`);
// server notifications and the kernel's own invalidations change the mapping cache in
// cache-ops.ts; oracle.ts observes the mappings used, for tests. fuse_inodes are keyed by nodeid
// (inode.ts). Timed sleeps read `{ const ns = …; if (!this.sched.advanceIfNext(ns)) yield ns; }`:
// the clock moves in place when this task would be resumed next anyway (see clock.ts).

import { AttrFlag, CACHE_DEFAULT_MAX_BYTES, Opcode, REVISIONS, attrEnablesIomap, type ProtocolRevision } from '../../../src/trace/fuse-proto.ts';
import {
  ATTR_ATOMIC, FUSE_INIT_EXT, FUSE_IOMAP_FLAGS2, FUSE_MAJOR, FUSE_MINOR_IOMAP, INIT_IN_BYTES, IOMAP_CONFIG_IN_BYTES, IomapConfig,
  readInitOut, readIomapConfigOut, writeInitIn, writeIomapConfigIn,
} from '../proto.ts';
import type { Proc, ProcStep } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { DevFuse } from '../dev-fuse.ts';
import { CacheOps } from './cache-ops.ts';
import { ClassicIo } from './classic-io.ts';
import type { FuseInode } from './inode.ts';
import { IomapIter } from './iomap-iter.ts';
import { InodeLocks } from './locks.ts';
import { MappingOracle, type CheckMapping, type MappingCheckStats } from './oracle.ts';
import { FuseTransport, type LocalBackend } from './transport.ts';
import { Vfs } from './vfs.ts';
import { Writeback } from './writeback.ts';
import { NO_NODE_ID, type NodeId } from '../../../src/trace/ids.ts';

/**
 * Revisions whose kernel sends FUSE_IOMAP_CONFIG after INIT with the 64-byte config_in modelled
 * here (v4–v7 layouts, §1.5); v7 adds cache_maxbytes. RFC v1 and the v3 era (16-byte config_in,
 * config bits not checked) send none in the sim.
 */
const CONFIG_FLAGS_SENT: Record<ProtocolRevision, number> = {
  'rfc-v1': 0, v3: 0,
  v5: IomapConfig.SID | IomapConfig.UUID | IomapConfig.BLOCKSIZE | IomapConfig.MAX_LINKS | IomapConfig.TIME | IomapConfig.MAXBYTES,
  v6: IomapConfig.SID | IomapConfig.UUID | IomapConfig.BLOCKSIZE | IomapConfig.MAX_LINKS | IomapConfig.TIME | IomapConfig.MAXBYTES,
  v7: IomapConfig.SID | IomapConfig.UUID | IomapConfig.BLOCKSIZE | IomapConfig.MAX_LINKS | IomapConfig.TIME | IomapConfig.MAXBYTES | IomapConfig.CACHE_MAXBYTES,
};

export type { OpenFile } from './inode.ts';
export type { MappingCheckStats } from './oracle.ts';
export type { LocalBackend } from './transport.ts';
export type { Syscalls } from './vfs.ts';

interface KernelConfig {
  rootNodeId: NodeId;
  revision: ProtocolRevision;
  blockBytes: number;
  maxBytes: number;
  registeredDevs: ReadonlySet<number>;
  /** iomap_valid checks cookies (§2.6); false = the stale-mapping race is possible. */
  cookieValidation: boolean;
  /** kernel-ext4 baseline instead of fuse (no /dev/fuse at all). */
  local: LocalBackend | null;
  /** Test oracle: does a mapping agree with the server's extent map now? (null = yes). */
  checkMapping: CheckMapping | null;
}

export class KernelModel {
  /** fuse_inodes by nodeid, in instantiation order: filled by vfs lookups, read by writeback and notifications. */
  private readonly inodes = new Map<NodeId, FuseInode>();
  /** The syscalls app threads make. */
  readonly vfs: Vfs;
  private readonly wb: Writeback;
  private readonly oracle: MappingOracle;
  private readonly transport: FuseTransport;
  private readonly cache: CacheOps;
  private readonly cfg: KernelConfig;
  private readonly classic: ClassicIo;
  /** The INIT reply accepted FUSE_IOMAP: without it no file gets iomap (§1.10). */
  private iomapConn = false;

  constructor(core: SimCore, dev: DevFuse, cfg: KernelConfig) {
    const rev = REVISIONS[cfg.revision];
    // Cookies are checked only where the revision has them (v3+) and the switch is on.
    const checkCookies = cfg.cookieValidation && rev.hasValidityCookies;
    const { blockBytes, maxBytes, registeredDevs } = cfg;
    this.cfg = cfg;
    const transport = (this.transport = new FuseTransport(core, dev, cfg.local));
    const oracle = (this.oracle = new MappingOracle(core, cfg.checkMapping));
    // The cache starts at the kernel default; a v7 IOMAP_CONFIG reply may resize it (mount below).
    const cache = (this.cache = new CacheOps(core, this.inodes, { blockBytes, maxBytes, registeredDevs, cacheMaxBytes: CACHE_DEFAULT_MAX_BYTES, rev }));
    const iter = new IomapIter(core, transport, oracle, { blockBytes, maxBytes, registeredDevs, checkCookies });
    const classic = (this.classic = new ClassicIo(core, transport));
    const wb = (this.wb = new Writeback(core, this.inodes, { transport, iter, cache, oracle, classic }, { checkCookies, rev }));
    // Per-inode enablement at instantiation (§1.10). The ext4 baseline is iomap throughout.
    const iomapFor = cfg.local !== null ? () => true : (attrFlags: number) => this.iomapConn && attrEnablesIomap(rev, attrFlags);
    this.vfs = new Vfs(core, this.inodes, { transport, locks: new InodeLocks(core), iter, wb, cache, oracle, classic }, {
      rootNodeId: cfg.rootNodeId, blockBytes, maxBytes, local: cfg.local, iomapFor, attrAtomicBit: ATTR_ATOMIC[cfg.revision],
      attrExclusiveBit: cfg.revision === 'v7' ? AttrFlag.V7_EXCLUSIVE : 0,
    });
    dev.onNotify = (bytes, task) => cache.handleNotify(bytes, task);
  }

  /**
   * The mount's handshake: FUSE_INIT offering iomap (INIT_EXT + FUSE_IOMAP in flags2, §1.10), then,
   * if the server accepted it and the revision has it, FUSE_IOMAP_CONFIG (nodeid 0) whose reply
   * sets the mapping cache size (v7 cache_maxbytes, §1.5/§3.1). ENOSYS keeps the defaults.
   */
  *mount(proc: Proc): ProcStep<void> {
    const init = { major: FUSE_MAJOR, minor: FUSE_MINOR_IOMAP, flags: FUSE_INIT_EXT, flags2: FUSE_IOMAP_FLAGS2 };
    const r = yield* this.transport.request(proc, Opcode.INIT, NO_NODE_ID, INIT_IN_BYTES, (dv, at) => writeInitIn(dv, at, init));
    if (r.error !== 0) return;
    const initOut = readInitOut(r.body);
    this.classic.configureMaxWrite(initOut.maxWriteBytes ?? 0);
    if ((initOut.flags2 & FUSE_IOMAP_FLAGS2) === 0) return;
    this.iomapConn = true;
    const flags = CONFIG_FLAGS_SENT[this.cfg.revision];
    if (flags === 0) return;
    const cin = { flags, maxBytes: this.cfg.maxBytes, cacheMaxBytes: this.cfg.revision === 'v7' ? CACHE_DEFAULT_MAX_BYTES : 0 };
    const c = yield* this.transport.request(proc, Opcode.IOMAP_CONFIG, NO_NODE_ID, IOMAP_CONFIG_IN_BYTES, (dv, at) => writeIomapConfigIn(dv, at, cin));
    if (c.error !== 0) return;
    const out = readIomapConfigOut(c.body);
    if ((out.flags & IomapConfig.CACHE_MAXBYTES) !== 0) this.cache.configureCacheMaxBytes(out.cacheMaxBytes);
  }

  /** fuse_inodes by nodeid, in instantiation order (for tests and the UI). */
  get fuseInodes(): ReadonlyMap<number, FuseInode> {
    return this.inodes;
  }

  hasDirtyData(): boolean {
    return this.wb.hasDirtyData();
  }

  /** No completed writeback ioend is left for the completion worker. */
  get ioendsIdle(): boolean {
    return this.wb.ioendsIdle;
  }

  /** The ioend completion worker's body (see Writeback.completionWorker). */
  completionWorker(proc: Proc): ProcStep<void> {
    return this.wb.completionWorker(proc);
  }

  /** The writeback kworker's body (see Writeback.kworker). */
  kworker(proc: Proc, intervalNs: number, shouldStop: () => boolean): ProcStep<void> {
    return this.wb.kworker(proc, intervalNs, shouldStop);
  }

  /** Mapping-oracle results (only with `checkMapping`). */
  get mappingCheck(): MappingCheckStats {
    return this.oracle.mappingCheck;
  }

  /** Stale mappings used because validation was off (the §2.6 race), for tests. */
  get staleUsedCount(): number {
    return this.oracle.staleUsedCount;
  }
}
