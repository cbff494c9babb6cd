// The shape of a scenario: which files exist (sizes, preallocation, hardlinks), which app threads
// run which op mix through which path, and the knobs of the kernel and server models. Scenarios
// are data; the built-in ones are in catalogue.ts, user JSON goes through validate.ts.

import type { ProtocolRevision } from '../../../src/trace/fuse-proto.ts';

/** The sim's filesystem block size: direct IO and range ops must be multiples of it. */
export const BLOCK_BYTES = 4096;

export type NodeIdPolicy = 'per-path' | 'ino';
/**
 * 'inline': the server keeps the file's bytes inside its inode (ext4 inline data, libfuse's
 * iomap_inline_ll example) and answers every mapping as INLINE at offset 0, one block long.
 */
type Prealloc = 'none' | 'unwritten' | 'written' | 'inline';
export type PosPattern = 'sequential' | 'random';

export interface FileSpec {
  /** Absolute path; parent directories are created implicitly. */
  path: string;
  sizeBytes: number;
  /** How [0, sizeBytes) is backed at start: sparse, uninitialised extents, or written extents. */
  prealloc: Prealloc;
  /** Extra hardlinks (absolute paths) to the same inode. */
  links: string[];
}

/**
 * What one op does (offset/length come from pattern, lenBytes and spanBytes):
 *   read, write   pread/pwrite (O_DIRECT when `direct`)
 *   fault         mmap write fault on the page at the offset (page_mkwrite; offset < i_size)
 *   fsync         fsync(2) of the whole file
 *   truncate      ftruncate to the op's offset (block aligned)
 *   fallocate     fallocate(mode 0) of [offset, offset+len) — unwritten extents, size may grow
 *   punch         fallocate(PUNCH_HOLE|KEEP_SIZE) of [offset, offset+len)
 *   copy          copy_file_range of [offset, offset+len) to the same offset of `toPath`
 *   open_trunc    open(path, O_TRUNC) and close: the file drops to size 0
 *   link          link(path, toPath): a new hardlink (toPath is a new name whose directory exists)
 */
export type OpKind = 'read' | 'write' | 'fault' | 'fsync' | 'truncate' | 'fallocate' | 'punch' | 'copy' | 'open_trunc' | 'link';
export const OP_KINDS: readonly OpKind[] = ['read', 'write', 'fault', 'fsync', 'truncate', 'fallocate', 'punch', 'copy', 'open_trunc', 'link'];

export interface OpSpec {
  kind: OpKind;
  direct: boolean;
  pattern: PosPattern;
  lenBytes: number;
  /** Relative probability of picking this op in the mix. */
  weight: number;
  /** Offsets stay in [0, spanBytes); defaults to the file's size (or 64 MiB for empty files). */
  spanBytes?: number;
  /** copy: destination file (one of the scenario's paths); link: the new name (not one of them). */
  toPath?: string;
  /** write only: RWF_ATOMIC (untorn) — direct and exactly one fs block (§2.4). */
  atomic?: boolean;
}

export interface ThreadSpec {
  /** comm of the thread (task prints as `name/tid`). */
  name: string;
  path: string;
  ops: OpSpec[];
  /** Ops before the thread exits; absent = run forever. */
  opCount?: number;
  /** Pause between ops (ns). */
  thinkNs: number;
}

/** Every duration of the service-time and device models (ns), before jitter. */
export interface CostModel {
  /** Syscall entry/exit overhead per app op. */
  syscallNs: number;
  /** Wakeup latency of a task blocked on a lock. */
  wakeupNs: number;
  /** /dev/fuse: request queued → idle server thread running. */
  fuseDispatchNs: number;
  /** /dev/fuse: reply written → requesting task running. */
  fuseReplyNs: number;
  serverLookupNs: number;
  /** IOMAP_BEGIN answered from the extent tree. */
  serverBeginNs: number;
  /** IOMAP_BEGIN that had to allocate (uninitialised extent). */
  serverBeginAllocNs: number;
  serverEndNs: number;
  /** IOMAP_IOEND with nothing to convert. */
  serverIoendNs: number;
  /** IOMAP_IOEND that converted unwritten extents (the "~90% overhead" of §2.5). */
  serverConvertNs: number;
  devReadLatencyNs: number;
  devWriteLatencyNs: number;
  devNsPerKiB: number;
  /** Page-cache copy / zeroing cost. */
  memcpyNsPerKiB: number;
  /** FUSE_SETATTR (truncate): free or keep extents, update the inode. */
  serverSetattrNs: number;
  /** FUSE_FALLOCATE: allocate uninitialised extents / punch. */
  serverFallocNs: number;
  serverFsyncNs: number;
  /** FUSE_COPY_FILE_RANGE: fuse4fs copies through its own buffers (read + write per KiB). */
  serverCopyNsPerKiB: number;
  /** Classic FUSE_READ / FUSE_WRITE (files without iomap): fixed part of the server's work. */
  serverClassicIoNs: number;
  /** Classic FUSE_READ / FUSE_WRITE: server work per KiB of data (fuse2fs's own block IO), on top of device time. */
  serverClassicNsPerKiB: number;
  /** kernel-ext4 baseline: an extent-tree lookup in the kernel (no upcall). */
  ext4MapNs: number;
  /** kernel-ext4 baseline: a block allocation in the kernel. */
  ext4AllocNs: number;
  /** kernel-ext4 baseline: unwritten→written conversion at ioend (journalled, in the kernel). */
  ext4ConvertNs: number;
  /** kernel-ext4 baseline: any other metadata op (lookup, setattr, fallocate, fsync). */
  ext4MetaNs: number;
  /** ± percentage applied to every duration. */
  jitterPct: number;
}

export const DEFAULT_COSTS: CostModel = {
  syscallNs: 1_500,
  wakeupNs: 3_000,
  fuseDispatchNs: 4_000,
  fuseReplyNs: 3_000,
  serverLookupNs: 12_000,
  serverBeginNs: 6_000,
  serverBeginAllocNs: 35_000,
  serverEndNs: 5_000,
  serverIoendNs: 6_000,
  serverConvertNs: 45_000,
  devReadLatencyNs: 60_000,
  devWriteLatencyNs: 25_000,
  devNsPerKiB: 250, // ~4 GB/s
  memcpyNsPerKiB: 100, // ~10 GB/s
  serverSetattrNs: 20_000,
  serverFallocNs: 30_000,
  serverFsyncNs: 40_000,
  serverCopyNsPerKiB: 600,
  // Classic fuse2fs moves 60-90 MB/s streaming (e2fsprogs cover letter's "fuse2fs classic" row,
  // §7): ~13 µs per KiB ≈ 75 MB/s, device time on top is small by comparison.
  serverClassicIoNs: 6_000,
  serverClassicNsPerKiB: 13_000,
  // The baseline's in-kernel costs: an extent lookup is ~1 µs, conversion a few µs of journalling.
  ext4MapNs: 1_000,
  ext4AllocNs: 4_000,
  ext4ConvertNs: 5_000,
  ext4MetaNs: 3_000,
  jitterPct: 20,
};

export interface FaultSpec {
  /**
   * Corrupt every Nth IOMAP_BEGIN reply: misaligned, zero length, no device, an unregistered
   * device, PURE_OVERWRITE in the read slot, or a range that does not contain pos (§1.4).
   */
  badMappingEvery?: number;
  /** v7 only: the server sets FUSE_ATTR_IOMAP without FUSE_ATTR_EXCLUSIVE (as a v6 server would); the kernel then ignores it (§1.10). */
  iomapWithoutExclusive?: boolean;
}

export interface ScenarioSpec {
  name: string;
  description: string;
  files: FileSpec[];
  threads: ThreadSpec[];
  policy: NodeIdPolicy;
  serverThreads: number;
  revision: ProtocolRevision;
  /** Period of the writeback kworker (ns); 0 = no background writeback. */
  writebackIntervalNs: number;
  faults: FaultSpec;
  costs: CostModel;
  /** 'fuse' (default): fuse-iomap with upcalls. 'kernel-ext4': the baseline — the kernel maps from its own extent tree, no upcalls. */
  backend?: Backend;
  /** iomap_valid revalidation of cache cookies (default true; false reproduces the stale-mapping race, §2.6). */
  cookieValidation?: boolean;
  /** fuse4fs `iomap_cache` option (default true): upsert + RETRY_CACHE on v3+; false = plain replies, no cache. */
  serverCache?: boolean;
  /** Per-fork mapping cache cap the server returns in IOMAP_CONFIG (cache_maxbytes, v7 only): default 256 KiB, clamped to 256 B … 2 MiB. */
  cacheMaxBytes?: number;
  /**
   * How the server writes (default 'in-place', fuse4fs): 'out-of-place' answers write-ish BEGINs
   * with a separate SHARED write mapping onto staging blocks and remaps them at IOEND(SHARED), as
   * libfuse's iomap_ow_ll example server does (§1.5 write slot, §1.9).
   */
  serverWrites?: ServerWrites;
  /** The server sets FUSE_ATTR_ATOMIC on its files (v6+): RWF_ATOMIC writes are allowed (§1.10). */
  atomicWrites?: boolean;
}

export type ServerWrites = 'in-place' | 'out-of-place';

type Backend = 'fuse' | 'kernel-ext4';
