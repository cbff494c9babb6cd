// The kernel model: VFS + fuse + iomap as far as fuse-iomap needs them, composed from parts that
// each get only what they use:
//
//   app thread ── syscall (vfs.ts) ──▶ i_rwsem (locks.ts) ──▶ iomap_iter loop (iomap-iter.ts) ──▶ FUSE_IOMAP_BEGIN/END
//                                                               │ buffered write
//                                                               ▼
//                          dirty page ranges ──▶ writeback kworker (writeback.ts) ──▶ BEGIN(WRITEBACK), bio, IOEND
//
// Upcalls cross DevFuse as bytes through transport.ts (or the in-kernel ext4 baseline, `cfg.local`);
// server notifications and the kernel's own invalidations change the mapping cache in
// cache-ops.ts; oracle.ts observes the mappings used, for tests. fuse_inodes are keyed by nodeid
// (inode.ts). Timed sleeps read `{ const ns = …; if (!this.sched.advanceIfNext(ns)) yield ns; }`:
// the clock moves in place when this task would be resumed next anyway (see clock.ts).

import { REVISIONS, type ProtocolRevision } from '../../../src/trace/fuse-proto.ts';
import type { Proc, ProcStep } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { DevFuse } from '../dev-fuse.ts';
import { CacheOps } from './cache-ops.ts';
import type { FuseInode } from './inode.ts';
import { IomapIter } from './iomap-iter.ts';
import { InodeLocks } from './locks.ts';
import { MappingOracle, type CheckMapping, type MappingCheckStats } from './oracle.ts';
import { FuseTransport, type LocalBackend } from './transport.ts';
import { Vfs } from './vfs.ts';
import { Writeback } from './writeback.ts';
import type { NodeId } from '../../../src/trace/ids.ts';

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
  /** Per-fork cache cap in bytes (§3.1). */
  cacheMaxBytes: number;
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

  constructor(core: SimCore, dev: DevFuse, cfg: KernelConfig) {
    const rev = REVISIONS[cfg.revision];
    // Cookies are checked only where the revision has them (v3+) and the switch is on.
    const checkCookies = cfg.cookieValidation && rev.hasValidityCookies;
    const { blockBytes, maxBytes, registeredDevs } = cfg;
    const transport = new FuseTransport(core, dev, cfg.local);
    const oracle = (this.oracle = new MappingOracle(core, cfg.checkMapping));
    const cache = new CacheOps(core, this.inodes, { blockBytes, maxBytes, registeredDevs, cacheMaxBytes: cfg.cacheMaxBytes, rev });
    const iter = new IomapIter(core, transport, oracle, { blockBytes, maxBytes, registeredDevs, checkCookies });
    const wb = (this.wb = new Writeback(core, this.inodes, { transport, iter, cache, oracle }, { checkCookies, rev }));
    this.vfs = new Vfs(core, this.inodes, { transport, locks: new InodeLocks(core), iter, wb, cache, oracle }, {
      rootNodeId: cfg.rootNodeId, blockBytes, maxBytes, local: cfg.local,
    });
    dev.onNotify = (bytes, task) => cache.handleNotify(bytes, task);
  }

  /** fuse_inodes by nodeid, in instantiation order (for tests and the UI). */
  get fuseInodes(): ReadonlyMap<number, FuseInode> {
    return this.inodes;
  }

  hasDirtyData(): boolean {
    return this.wb.hasDirtyData();
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
