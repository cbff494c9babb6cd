// The embedded simulator's public API. A Simulation is a deterministic discrete-event model of a
// kernel (VFS + fuse-iomap) and a fuse2fs/fuse4fs-like server that talk only through FUSE message
// bytes (see README.md). Same spec + seed → byte-identical event stream.

import { CACHE_DEFAULT_MAX_BYTES, type ProtocolRevision } from '../../src/trace/fuse-proto.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { appThread } from './app.ts';
import { Proc } from './clock.ts';
import { SimCore } from './core.ts';
import { DevFuse } from './dev-fuse.ts';
import { IN_HEADER_BYTES } from '../../src/trace/fuse-proto.ts';
import { TaskBufs, readInHeaderInto, type SimInHeader } from './proto.ts';
import { KernelModel, type LocalBackend, type MappingCheckStats } from './kernel/kernel.ts';
import { BLOCK_BYTES, parseScenario, type ScenarioSpec } from './scenarios/index.ts';
import { FsServer, SERVER_DEV_ID } from './server/fs-server.ts';
import { serverThread } from './server/server-thread.ts';
import { NO_NODE_ID, asNodeId } from '../../src/trace/ids.ts';

export { DEFAULT_SCENARIO_NAME, SCENARIOS, parseScenario, type ScenarioSpec } from './scenarios/index.ts';
export { validateMapping } from './kernel/validate.ts';

export interface SimOptions {
  seed: number;
  policy?: 'per-path' | 'ino';
  revision?: ProtocolRevision;
  /**
   * Check every mapping the kernel uses against the server's extent map at that moment (test
   * oracle; costs an extent walk per mapping). Results in `Simulation.mappingCheck`.
   */
  checkMappings?: boolean;
}

/** tids the sim hands out: writeback kworker, ioend completion kworker, mount, server threads from 501, app threads from 1001. */
const KWORKER_TID = 77;
const IOEND_WORKER_TID = 78;
const MOUNT_TID = 400;
const FIRST_SERVER_TID = 501;
const FIRST_APP_TID = 1001;
/** s_maxbytes as ext4 with 4 KiB blocks reports it (16 TiB - 1 block). */
const MAX_FILE_BYTES = 2 ** 44 - BLOCK_BYTES;

export class Simulation {
  readonly spec: ScenarioSpec;
  private readonly core: SimCore;
  private readonly kernel: KernelModel;
  private readonly fs: FsServer;
  private liveAppThreads = 0;
  private kworker: Proc | null = null;
  private clockNs = 0;

  constructor(spec: ScenarioSpec, opts: SimOptions) {
    if (!Number.isSafeInteger(opts.seed)) throw new Error(`sim: seed must be a safe integer, got ${opts.seed}`);
    // Normalise through the validator: fills per-op defaults (spanBytes) and rejects a spec built in code wrongly.
    const checked = parseScenario(spec);
    this.spec = { ...checked, policy: opts.policy ?? checked.policy, revision: opts.revision ?? checked.revision };
    const s = this.spec;
    const core = (this.core = new SimCore(opts.seed, s.costs));
    const isBaseline = s.backend === 'kernel-ext4';
    // The baseline has no server process: the same extent-map code runs "in the kernel", with the
    // nodeid = ino convention of ext4 and no mapping cache (ext4 has its own extent status tree).
    this.fs = new FsServer({
      policy: isBaseline ? 'ino' : s.policy, revision: s.revision, costs: s.costs, faults: s.faults, useCache: !isBaseline && s.serverCache !== false,
      cacheMaxBytes: s.cacheMaxBytes ?? CACHE_DEFAULT_MAX_BYTES, maxBytes: MAX_FILE_BYTES,
      serverWrites: s.serverWrites ?? 'in-place', atomicWrites: s.atomicWrites === true,
    }, s.files, core.prng);
    const dev = new DevFuse(core.sched, () => core.jitterNs(s.costs.fuseDispatchNs), () => core.jitterNs(s.costs.fuseReplyNs));
    const fs = this.fs;
    // In-kernel handling is synchronous: one scratch area, the reply copied out to the caller's memory.
    const localBufs = new TaskBufs();
    const localHeader: SimInHeader = { len: 0, opcode: 0, unique: 0, nodeId: NO_NODE_ID, pid: 0 };
    const local: LocalBackend | null = !isBaseline ? null : {
      handle: (bytes, replyTo) => {
        readInHeaderInto(bytes, localHeader);
        const r = fs.handle(localHeader, bytes.subarray(IN_HEADER_BYTES, localHeader.len), localBufs);
        const reply = replyTo.take(r.reply.byteLength);
        reply.set(r.reply);
        return { reply, costKind: r.costKind };
      },
      isWrittenRange: (ino, posBytes, lenBytes) => fs.isWrittenRange(ino, posBytes, lenBytes),
    };
    this.kernel = new KernelModel(core, dev, {
      rootNodeId: asNodeId(this.fs.rootNodeId), revision: s.revision, blockBytes: BLOCK_BYTES, maxBytes: MAX_FILE_BYTES,
      registeredDevs: new Set([SERVER_DEV_ID]),
      cookieValidation: s.cookieValidation !== false,
      local,
      checkMapping: opts.checkMappings === true ? (ino, io) => fs.checkMapping(ino, io) : null,
    });

    for (let i = 0; i < (isBaseline ? 0 : s.serverThreads); i++) {
      const p = new Proc(`fuse2fs/${FIRST_SERVER_TID + i}`, FIRST_SERVER_TID + i);
      core.sched.spawn(p, serverThread(p, core, dev, this.fs), 0);
    }
    this.liveAppThreads = s.threads.length;
    const startWorkload = (): void => {
      const t0 = core.sched.nowNs;
      // Writeback completions run on their own workqueue task, apart from the flusher (§2.4).
      const w = new Proc(`kworker/u8:2/${IOEND_WORKER_TID}`, IOEND_WORKER_TID);
      core.sched.spawn(w, this.kernel.completionWorker(w), t0);
      s.threads.forEach((t, i) => {
        const tid = FIRST_APP_TID + i;
        const p = new Proc(`${t.name}/${tid}`, tid);
        // A small random start offset so threads do not move in lockstep.
        core.sched.spawn(p, appThread(p, core, this.kernel.vfs, t, () => { this.liveAppThreads--; }), t0 + core.prng.int(0, 20_000));
      });
      if (s.writebackIntervalNs > 0) {
        const p = (this.kworker = new Proc(`kworker/u8:1/${KWORKER_TID}`, KWORKER_TID));
        core.sched.spawn(p, this.kernel.kworker(p, s.writebackIntervalNs, () => this.liveAppThreads === 0), t0);
      }
    };
    if (isBaseline) startWorkload(); // no fuse connection to set up
    else {
      // The mount (fuse4fs's own mount(2) with synchronous INIT, §1.11): INIT, IOMAP_CONFIG, then the workload.
      const p = new Proc(`mount/${MOUNT_TID}`, MOUNT_TID);
      const kernel = this.kernel;
      core.sched.spawn(p, (function* () { yield* kernel.mount(p); startWorkload(); })(), 0);
    }
  }

  /** Virtual time (ns since start): the latest step run or `untilNs` reached. */
  get nowNs(): number {
    return Math.max(this.clockNs, this.core.sched.nowNs);
  }

  /** All app threads finished (and the writeback flushed what they left dirty). */
  get done(): boolean {
    return this.liveAppThreads === 0 && (this.kworker === null || this.kworker.isDone) && this.kernel.ioendsIdle && this.core.pendingCount === 0;
  }

  /** Emits events with tsNs <= untilNs in time order (ties: deterministic) to sink; returns count emitted. */
  runUntil(untilNs: number, sink: (ev: TraceEvent) => void): number {
    const core = this.core;
    let count = 0;
    core.sched.horizonNs = untilNs; // in-place advances (clock.ts) must not run past untilNs
    try {
      for (;;) {
        let ev = core.peekPending();
        while (ev !== undefined && ev.tsNs <= untilNs) {
          core.shiftPending();
          sink(ev);
          count++;
          ev = core.peekPending();
        }
        if (ev !== undefined || core.sched.peekNs() > untilNs) break;
        core.sched.step();
      }
    } finally {
      core.sched.horizonNs = Infinity;
    }
    if (untilNs > this.clockNs) this.clockNs = untilNs;
    return count;
  }

  /** Emits up to maxEvents events (or until done); returns count. */
  runEvents(maxEvents: number, sink: (ev: TraceEvent) => void): number {
    const core = this.core;
    let count = 0;
    while (count < maxEvents) {
      const ev = core.shiftPending();
      if (ev !== undefined) {
        sink(ev);
        count++;
        continue;
      }
      if (!core.sched.step()) break;
    }
    return count;
  }

  /** Mapping-oracle results (only with `checkMappings`). */
  get mappingCheck(): MappingCheckStats {
    return this.kernel.mappingCheck;
  }

  /** Stale mappings used because cookie validation was off (the §2.6 race). */
  get staleMappingsUsed(): number {
    return this.kernel.staleUsedCount;
  }

  /** Sizes of every growing structure, to show memory stays bounded on long runs. */
  stats(): { pendingEvents: number; runnable: number; dirtyRanges: number; cacheRecords: number; serverExtents: number; fuseInodes: number } {
    let dirtyRanges = 0, cacheRecords = 0, serverExtents = 0;
    for (const i of this.kernel.fuseInodes.values()) {
      dirtyRanges += i.dirty.rangeCount;
      if (i.cache) cacheRecords += i.cache.recordCount('read') + i.cache.recordCount('write');
      serverExtents += this.fs.inodeInfo(i.ino)?.extentCount ?? 0;
    }
    return {
      pendingEvents: this.core.pendingCount, runnable: this.core.sched.runnableCount, dirtyRanges, cacheRecords, serverExtents,
      fuseInodes: this.kernel.fuseInodes.size,
    };
  }

  /** Read-only peek at model state for tests and debugging panels. */
  inspect(): { kernelInodes: { nodeId: number; ino: number; path: string; iSizeBytes: number; iDiskSizeBytes: number; dirtyBytes: number }[]; serverInode: (ino: number) => ReturnType<FsServer['inodeInfo']> } {
    return {
      kernelInodes: [...this.kernel.fuseInodes.values()].map((i) => ({
        nodeId: i.nodeId, ino: i.ino, path: i.path, iSizeBytes: i.iSizeBytes, iDiskSizeBytes: i.iDiskSizeBytes, dirtyBytes: i.dirty.totalBytes,
      })),
      serverInode: (ino) => this.fs.inodeInfo(ino),
    };
  }
}
