// Scenarios are data: which files exist (sizes, preallocation, hardlinks), which app threads run
// which op mix through which path, and the knobs of the kernel/server models. The default one
// reproduces the hardlink aliasing problem of fuse-iomap-domain.md §5.3.
//
// To add a scenario: add an entry to SCENARIOS below (it is validated by a test), document the
// seed point it demonstrates in `description`.

import { CACHE_DEFAULT_MAX_BYTES, CACHE_MAX_MAX_BYTES, PROTOCOL_REVISIONS, type ProtocolRevision } from '../../src/trace/fuse-proto.ts';

export type NodeIdPolicy = 'per-path' | 'ino';
export type Prealloc = 'none' | 'unwritten' | 'written';
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
 */
export type OpKind = 'read' | 'write' | 'fault' | 'fsync' | 'truncate' | 'fallocate' | 'punch' | 'copy' | 'open_trunc';
export const OP_KINDS: readonly OpKind[] = ['read', 'write', 'fault', 'fsync', 'truncate', 'fallocate', 'punch', 'copy', 'open_trunc'];

export interface OpSpec {
  kind: OpKind;
  direct: boolean;
  pattern: PosPattern;
  lenBytes: number;
  /** Relative probability of picking this op in the mix. */
  weight: number;
  /** Offsets stay in [0, spanBytes); defaults to the file's size (or 64 MiB for empty files). */
  spanBytes?: number;
  /** copy only: destination file (one of the scenario's paths). */
  toPath?: string;
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
  // The baseline's in-kernel costs: an extent lookup is ~1 µs, conversion a few µs of journalling.
  ext4MapNs: 1_000,
  ext4AllocNs: 4_000,
  ext4ConvertNs: 5_000,
  ext4MetaNs: 3_000,
  jitterPct: 20,
};

export interface FaultSpec {
  /** Corrupt every Nth IOMAP_BEGIN reply (misaligned, zero length, no device, pos outside…). */
  badMappingEvery?: number;
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
  /** Per-fork mapping cache cap (IOMAP_CONFIG cache_maxbytes): default 256 KiB, clamped to 256 B … 2 MiB. */
  cacheMaxBytes?: number;
}

export type Backend = 'fuse' | 'kernel-ext4';

const KiB = 1024;
const MiB = 1024 * KiB;
const US = 1000;

function op(kind: OpKind, direct: boolean, pattern: PosPattern, lenBytes: number, weight = 1, spanBytes?: number): OpSpec {
  return spanBytes === undefined ? { kind, direct, pattern, lenBytes, weight } : { kind, direct, pattern, lenBytes, weight, spanBytes };
}

function scenario(s: Omit<ScenarioSpec, 'faults' | 'costs' | 'revision'> & Partial<ScenarioSpec>): ScenarioSpec {
  return { revision: 'v7', faults: {}, costs: DEFAULT_COSTS, ...s };
}

const hardlinkAliasRace = scenario({
  name: 'hardlink-alias-race',
  description:
    'One ext4 inode reachable as /d1/file and /d2/link. Under the high-level (per-path) nodeid policy the kernel ' +
    'builds two fuse_inodes, each with its own i_rwsem, so writer A and writer B hold "exclusive" locks on the ' +
    'same file at once (fuse-iomap-domain.md §5.3). Switch policy to ino to see them serialise.',
  files: [{ path: '/d1/file', sizeBytes: 1 * MiB, prealloc: 'none', links: ['/d2/link'] }],
  threads: [
    { name: 'writerA', path: '/d1/file', thinkNs: 20 * US, ops: [op('write', false, 'random', 16 * KiB, 3), op('write', true, 'random', 16 * KiB, 1)] },
    { name: 'writerB', path: '/d2/link', thinkNs: 20 * US, ops: [op('write', true, 'random', 16 * KiB, 3), op('write', false, 'random', 16 * KiB, 1)] },
    { name: 'reader', path: '/d1/file', thinkNs: 30 * US, ops: [op('read', false, 'sequential', 64 * KiB)] },
  ],
  policy: 'per-path',
  serverThreads: 2,
  writebackIntervalNs: 2_000 * US,
});

const streamingBuffered = scenario({
    name: 'streaming-buffered',
    description:
      'A buffered writer appends 256 KiB chunks to an empty file while a reader follows it. Each extending write ' +
      'sends IOMAP_END (size changed); writeback allocates nothing new but sends APPEND|UNWRITTEN ioends.',
    files: [{ path: '/data/stream', sizeBytes: 0, prealloc: 'none', links: [] }],
    threads: [
      { name: 'writer', path: '/data/stream', thinkNs: 10 * US, ops: [op('write', false, 'sequential', 256 * KiB, 1, 64 * MiB)] },
      { name: 'reader', path: '/data/stream', thinkNs: 50 * US, ops: [op('read', false, 'sequential', 256 * KiB, 1, 64 * MiB)] },
    ],
    policy: 'ino',
    serverThreads: 2,
    writebackIntervalNs: 1_000 * US,
});
const streamingDio = scenario({
    name: 'streaming-dio',
    description: 'O_DIRECT 1 MiB sequential writes into a sparse file and a direct reader. The first pass allocates unwritten extents and converts each with an IOEND under i_rwsem; later passes overwrite in place and send none.',
    files: [{ path: '/data/dio', sizeBytes: 256 * MiB, prealloc: 'none', links: [] }],
    threads: [
      { name: 'ddwrite', path: '/data/dio', thinkNs: 5 * US, ops: [op('write', true, 'sequential', 1 * MiB)] },
      { name: 'ddread', path: '/data/dio', thinkNs: 5 * US, ops: [op('read', true, 'sequential', 1 * MiB)] },
    ],
    policy: 'ino',
    serverThreads: 2,
    writebackIntervalNs: 0,
});

const randomDio = scenario({
  name: 'random-dio',
  description:
    'Four threads do 4 KiB random O_DIRECT writes into a preallocated-unwritten file: they serialise on i_rwsem ' +
    '(direct writes are always exclusive, §6) and each write pays an unwritten-conversion IOEND under the lock ' +
    '(the "~90% more overhead" of §2.5/§7). Compare with random-dio-ext4.',
  files: [{ path: '/data/db', sizeBytes: 16 * MiB, prealloc: 'unwritten', links: [] }],
  threads: [1, 2, 3, 4].map((i) => ({
    name: `fio${i}`, path: '/data/db', thinkNs: 2 * US, ops: [op('write', true, 'random', 4 * KiB)],
  })).concat([{ name: 'fioread', path: '/data/db', thinkNs: 2 * US, ops: [op('read', true, 'random', 4 * KiB)] }]),
  policy: 'ino',
  serverThreads: 4,
  writebackIntervalNs: 0,
});

const randomBufferedWrite = scenario({
  name: 'random-buffered-write',
  description:
    'Two threads do 4 KiB random buffered writes over a sparse 64 MiB file. Each write into a hole allocates an ' +
    'unwritten extent in IOMAP_BEGIN; writeback then sends one IOEND(UNWRITTEN) per dirty run and the server ' +
    'converts it — the conversion upcalls RFC v1 blamed for the "90% hit" on random buffered writes (§2.5, §7). ' +
    'Compare with random-buffered-write-ext4.',
  files: [{ path: '/data/rand', sizeBytes: 64 * MiB, prealloc: 'none', links: [] }],
  threads: [1, 2].map((i) => ({ name: `rw${i}`, path: '/data/rand', thinkNs: 3 * US, ops: [op('write', false, 'random', 4 * KiB)] })),
  policy: 'ino',
  serverThreads: 2,
  writebackIntervalNs: 500 * US,
});

const staleMapping = scenario({
  name: 'stale-mapping',
  description:
    'The race validity cookies fix (§2.6), with cookie validation OFF: a buffered writer rewrites 1 MiB ranges of a ' +
    'preallocated-unwritten file from cached UNWRITTEN mappings while the kworker writes the same ranges back; the ' +
    'ioend converts the blocks and invalidates the cache, but the writer keeps using its stale mapping ' +
    '(instant event stale_mapping_used: partial folios are zeroed instead of read). See stale-mapping-checked.',
  files: [{ path: '/data/img', sizeBytes: 8 * MiB, prealloc: 'unwritten', links: [] }],
  threads: [
    { name: 'writer', path: '/data/img', thinkNs: 5 * US, ops: [op('write', false, 'random', 1 * MiB + 1000, 1, 4 * MiB)] },
    { name: 'syncer', path: '/data/img', thinkNs: 150 * US, ops: [op('fsync', false, 'sequential', 4 * KiB)] },
  ],
  policy: 'ino',
  serverThreads: 2,
  writebackIntervalNs: 100 * US,
  cookieValidation: false,
});

const cacheHitMiss = scenario({
  name: 'cache-hit-miss',
  description:
    'Random 4 KiB buffered reads and direct writes over a written 32 MiB file with the v7 mapping cache: after the ' +
    'first RETRY_CACHE upsert per extent, most iomap_begin calls are cache hits (no upcall). Each direct write\'s ' +
    'ioend invalidates its block, so the next access there misses and re-upserts. Compare with cache-hit-miss-nocache.',
  files: [{ path: '/data/hot', sizeBytes: 32 * MiB, prealloc: 'written', links: [] }],
  threads: [
    { name: 'reader1', path: '/data/hot', thinkNs: 2 * US, ops: [op('read', false, 'random', 4 * KiB)] },
    { name: 'reader2', path: '/data/hot', thinkNs: 2 * US, ops: [op('read', true, 'random', 4 * KiB)] },
    { name: 'writer', path: '/data/hot', thinkNs: 10 * US, ops: [op('write', true, 'random', 4 * KiB)] },
  ],
  policy: 'ino',
  serverThreads: 2,
  writebackIntervalNs: 1_000 * US,
});

const rwsemContention = scenario({
  name: 'rwsem-contention',
  description:
    'Writers (buffered and direct), readers, an mmap writer, a truncater (truncate, punch, fallocate, O_TRUNC ' +
    'reopen) and an fsync+copy_file_range thread on one file: i_rwsem waits (W for writes, R for reads), ' +
    'invalidate_lock waits between page faults and truncate/fallocate, and the kernel\'s own cache invalidations ' +
    '(truncate, o_trunc, fallocate, copy_file_range, ioend) (§3.2, §6).',
  files: [
    { path: '/data/shared', sizeBytes: 8 * MiB, prealloc: 'written', links: [] },
    { path: '/data/copy', sizeBytes: 8 * MiB, prealloc: 'none', links: [] },
  ],
  threads: [
    { name: 'bwriter', path: '/data/shared', thinkNs: 10 * US, ops: [op('write', false, 'random', 64 * KiB, 1, 8 * MiB)] },
    { name: 'dwriter', path: '/data/shared', thinkNs: 10 * US, ops: [op('write', true, 'random', 16 * KiB, 1, 8 * MiB)] },
    { name: 'reader1', path: '/data/shared', thinkNs: 5 * US, ops: [op('read', false, 'random', 64 * KiB, 1, 8 * MiB)] },
    { name: 'reader2', path: '/data/shared', thinkNs: 5 * US, ops: [op('read', true, 'random', 64 * KiB, 1, 8 * MiB)] },
    { name: 'creader', path: '/data/copy', thinkNs: 20 * US, ops: [op('read', false, 'random', 64 * KiB, 1, 8 * MiB)] },
    { name: 'mmapper', path: '/data/shared', thinkNs: 5 * US, ops: [op('fault', false, 'random', 4 * KiB, 1, 8 * MiB)] },
    {
      name: 'truncater', path: '/data/shared', thinkNs: 400 * US,
      ops: [op('truncate', false, 'random', 1 * MiB, 4, 8 * MiB), op('fallocate', false, 'random', 1 * MiB, 4, 8 * MiB),
        op('punch', false, 'random', 256 * KiB, 2, 8 * MiB), op('open_trunc', false, 'sequential', 4 * KiB, 1)],
    },
    {
      name: 'syncer', path: '/data/shared', thinkNs: 200 * US,
      ops: [op('fsync', false, 'sequential', 4 * KiB, 2), { ...op('copy', false, 'random', 256 * KiB, 1, 8 * MiB), toPath: '/data/copy' }],
    },
  ],
  policy: 'ino',
  serverThreads: 4,
  writebackIntervalNs: 500 * US,
});

/** The same workload on kernel ext4 (fuse-iomap-domain.md §7's comparison point): no upcalls. */
function ext4Baseline(base: ScenarioSpec): ScenarioSpec {
  return {
    ...base,
    name: `${base.name}-ext4`,
    description: `Baseline for ${base.name}: the same workload with kernel ext4 answering mappings in the kernel (no FUSE upcalls, no mapping cache, ext4 lock rules for direct writes).`,
    backend: 'kernel-ext4',
  };
}

export const SCENARIOS: Record<string, ScenarioSpec> = {
  'hardlink-alias-race': hardlinkAliasRace,
  'hardlink-alias-fixed': {
    ...hardlinkAliasRace,
    name: 'hardlink-alias-fixed',
    description: 'The hardlink race with fuse4fs-style nodeids (nodeid = ino, root_nodeid=2): one fuse_inode, one i_rwsem; the writers serialise.',
    policy: 'ino',
  },
  'streaming-buffered': streamingBuffered,
  'streaming-dio': streamingDio,
  'random-dio': randomDio,
  'random-buffered-write': randomBufferedWrite,
  'stale-mapping': staleMapping,
  'stale-mapping-checked': {
    ...staleMapping,
    name: 'stale-mapping-checked',
    description: 'The stale-mapping workload with cookie validation on (v3+): each time an ioend bumps ic_seq under a writer, the next folio lock sees the cookie mismatch (cache_stale), ends the iteration short (IOMAP_END with written < count) and refetches.',
    cookieValidation: true,
  },
  'cache-hit-miss-nocache': {
    ...cacheHitMiss,
    name: 'cache-hit-miss-nocache',
    description: 'The cache-hit-miss workload with fuse4fs\'s noiomap_cache: every iomap_begin is an IOMAP_BEGIN upcall. Compare upcalls per MiB with cache-hit-miss.',
    serverCache: false,
  },
  'cache-hit-miss': cacheHitMiss,
  'rwsem-contention': rwsemContention,
  'random-dio-ext4': ext4Baseline(randomDio),
  'random-buffered-write-ext4': ext4Baseline(randomBufferedWrite),
  'streaming-dio-ext4': ext4Baseline(streamingDio),
  'streaming-buffered-ext4': ext4Baseline(streamingBuffered),
};

export const DEFAULT_SCENARIO_NAME = 'hardlink-alias-race';

// ---------------------------------------------------------------------------------------------
// Validation of user-supplied JSON. Messages name the field path, e.g.
// `scenario.threads[1].ops[0].lenBytes: direct IO needs a multiple of 4096, got 1000`.

export const BLOCK_BYTES = 4096;

class SpecError extends Error {}

function fail(path: string, msg: string): never {
  throw new SpecError(`${path}: ${msg}`);
}
function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function obj(v: unknown, path: string): Record<string, unknown> {
  if (!isObj(v)) fail(path, `expected an object, got ${JSON.stringify(v)}`);
  return v;
}
function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, `expected an array, got ${JSON.stringify(v)}`);
  return v;
}
function str(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, `expected a string, got ${JSON.stringify(v)}`);
  return v;
}
function int(v: unknown, path: string, minIncl: number, maxIncl = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < minIncl || v > maxIncl) {
    fail(path, `expected an integer in [${minIncl}, ${maxIncl}], got ${JSON.stringify(v)}`);
  }
  return v;
}
function bool(v: unknown, path: string, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(path, `expected a boolean, got ${JSON.stringify(v)}`);
  return v;
}
function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(path, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}
function absPath(v: unknown, path: string): string {
  const p = str(v, path);
  if (!/^(\/[^/\0]+)+$/.test(p) || p.split('/').some((c) => c === '.' || c === '..')) {
    fail(path, `expected an absolute path like /dir/file without . or .., got ${JSON.stringify(p)}`);
  }
  return p;
}
function onlyKeys(o: Record<string, unknown>, path: string, keys: readonly string[]): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${path}.${k}`, `unknown field (known: ${keys.join(', ')})`);
}

const MAX_FILE_BYTES = 2 ** 40; // keeps every offset exact in a double and the extent tree small

/** Turns a user's JSON object into a ScenarioSpec (defaults filled in) or throws an Error naming the field. */
export function parseScenario(input: unknown, root = 'scenario'): ScenarioSpec {
  const o = obj(input, root);
  onlyKeys(o, root, ['name', 'description', 'files', 'threads', 'policy', 'serverThreads', 'revision', 'writebackIntervalNs', 'faults', 'costs',
    'backend', 'cookieValidation', 'serverCache', 'cacheMaxBytes']);
  const name = o.name === undefined ? 'custom' : str(o.name, `${root}.name`);
  const description = o.description === undefined ? '' : str(o.description, `${root}.description`);

  const files = arr(o.files, `${root}.files`).map((fv, i): FileSpec => {
    const fp = `${root}.files[${i}]`;
    const f = obj(fv, fp);
    onlyKeys(f, fp, ['path', 'sizeBytes', 'prealloc', 'links']);
    const sizeBytes = int(f.sizeBytes ?? 0, `${fp}.sizeBytes`, 0, MAX_FILE_BYTES);
    const prealloc = f.prealloc === undefined ? 'none' : oneOf(f.prealloc, `${fp}.prealloc`, ['none', 'unwritten', 'written'] as const);
    const links = f.links === undefined ? [] : arr(f.links, `${fp}.links`).map((l, j) => absPath(l, `${fp}.links[${j}]`));
    return { path: absPath(f.path, `${fp}.path`), sizeBytes, prealloc, links };
  });
  if (files.length === 0) fail(`${root}.files`, 'at least one file is needed');

  // Every name must be unique and no file path may be a directory of another.
  const filePaths = new Map<string, number>();
  files.forEach((f, i) => {
    for (const p of [f.path, ...f.links]) {
      if (filePaths.has(p)) fail(`${root}.files[${i}]`, `path ${p} is used twice`);
      filePaths.set(p, i);
    }
  });
  for (const p of filePaths.keys()) {
    const parts = p.split('/');
    for (let k = 2; k < parts.length; k++) {
      const dir = parts.slice(0, k).join('/');
      if (filePaths.has(dir)) fail(`${root}.files`, `${dir} is a file but ${p} uses it as a directory`);
    }
  }

  const threads = arr(o.threads, `${root}.threads`).map((tv, i): ThreadSpec => {
    const tp = `${root}.threads[${i}]`;
    const t = obj(tv, tp);
    onlyKeys(t, tp, ['name', 'path', 'ops', 'opCount', 'thinkNs']);
    const tname = str(t.name ?? `thread${i}`, `${tp}.name`);
    if (!/^[A-Za-z0-9_.:+-]{1,15}$/.test(tname)) fail(`${tp}.name`, `expected a comm of 1-15 chars [A-Za-z0-9_.:+-], got ${JSON.stringify(tname)}`);
    const path = absPath(t.path, `${tp}.path`);
    const fileIdx = filePaths.get(path);
    if (fileIdx === undefined) fail(`${tp}.path`, `${path} is not one of the files or links`);
    const file = files[fileIdx]!;
    const ops = arr(t.ops, `${tp}.ops`).map((ov, j): OpSpec => {
      const op_ = `${tp}.ops[${j}]`;
      const x = obj(ov, op_);
      onlyKeys(x, op_, ['kind', 'direct', 'pattern', 'lenBytes', 'weight', 'spanBytes', 'toPath']);
      const kind = oneOf(x.kind, `${op_}.kind`, OP_KINDS);
      if (x.direct !== undefined && typeof x.direct !== 'boolean') fail(`${op_}.direct`, `expected a boolean, got ${JSON.stringify(x.direct)}`);
      const direct = x.direct === true;
      if (direct && kind !== 'read' && kind !== 'write') fail(`${op_}.direct`, `only read and write ops can be direct`);
      const pattern = x.pattern === undefined ? 'sequential' : oneOf(x.pattern, `${op_}.pattern`, ['sequential', 'random'] as const);
      const lenBytes = x.lenBytes === undefined && kind !== 'read' && kind !== 'write' ? BLOCK_BYTES : int(x.lenBytes, `${op_}.lenBytes`, 1, 64 * MiB);
      // Direct IO in the sim must be block aligned: unaligned DIO (FORCE_WAIT, sub-block zeroing) is not modelled.
      if (direct && lenBytes % BLOCK_BYTES !== 0) fail(`${op_}.lenBytes`, `direct IO needs a multiple of ${BLOCK_BYTES}, got ${lenBytes}`);
      // Range ops work on whole blocks (fallocate/punch/copy/truncate offsets are drawn in lenBytes steps).
      if ((kind === 'fallocate' || kind === 'punch' || kind === 'copy' || kind === 'truncate') && lenBytes % BLOCK_BYTES !== 0) {
        fail(`${op_}.lenBytes`, `${kind} needs a multiple of ${BLOCK_BYTES}, got ${lenBytes}`);
      }
      const weight = x.weight === undefined ? 1 : int(x.weight, `${op_}.weight`, 1, 1_000_000);
      const spanDefault = file.sizeBytes > 0 ? file.sizeBytes : 64 * MiB;
      const spanBytes = x.spanBytes === undefined ? spanDefault : int(x.spanBytes, `${op_}.spanBytes`, 1, MAX_FILE_BYTES);
      if (spanBytes < lenBytes) fail(`${op_}.spanBytes`, `span ${spanBytes} is smaller than lenBytes ${lenBytes}`);
      if (direct && spanBytes % BLOCK_BYTES !== 0) fail(`${op_}.spanBytes`, `direct IO needs a multiple of ${BLOCK_BYTES}, got ${spanBytes}`);
      if (kind === 'copy') {
        const toPath = absPath(x.toPath, `${op_}.toPath`);
        if (!filePaths.has(toPath)) fail(`${op_}.toPath`, `${toPath} is not one of the files or links`);
        return { kind, direct, pattern, lenBytes, weight, spanBytes, toPath };
      }
      if (x.toPath !== undefined) fail(`${op_}.toPath`, 'only copy ops have a destination');
      return { kind, direct, pattern, lenBytes, weight, spanBytes };
    });
    if (ops.length === 0) fail(`${tp}.ops`, 'at least one op is needed');
    const opCount = t.opCount === undefined ? undefined : int(t.opCount, `${tp}.opCount`, 0);
    const thinkNs = t.thinkNs === undefined ? 20 * US : int(t.thinkNs, `${tp}.thinkNs`, 0, 60e9);
    return opCount === undefined ? { name: tname, path, ops, thinkNs } : { name: tname, path, ops, opCount, thinkNs };
  });
  if (threads.length === 0) fail(`${root}.threads`, 'at least one thread is needed');

  const policy = o.policy === undefined ? 'per-path' : oneOf(o.policy, `${root}.policy`, ['per-path', 'ino'] as const);
  const serverThreads = o.serverThreads === undefined ? 2 : int(o.serverThreads, `${root}.serverThreads`, 1, 64);
  const revision = o.revision === undefined ? 'v7' : oneOf(o.revision, `${root}.revision`, PROTOCOL_REVISIONS);
  const writebackIntervalNs = o.writebackIntervalNs === undefined ? 2_000 * US : int(o.writebackIntervalNs, `${root}.writebackIntervalNs`, 0, 60e9);
  if (writebackIntervalNs > 0 && writebackIntervalNs < 10 * US) fail(`${root}.writebackIntervalNs`, `use 0 (off) or at least 10000 ns, got ${writebackIntervalNs}`);

  const faults: FaultSpec = {};
  if (o.faults !== undefined) {
    const f = obj(o.faults, `${root}.faults`);
    onlyKeys(f, `${root}.faults`, ['badMappingEvery']);
    if (f.badMappingEvery !== undefined) faults.badMappingEvery = int(f.badMappingEvery, `${root}.faults.badMappingEvery`, 1);
  }

  const costs: CostModel = { ...DEFAULT_COSTS };
  if (o.costs !== undefined) {
    const c = obj(o.costs, `${root}.costs`);
    const keys = Object.keys(DEFAULT_COSTS) as (keyof CostModel)[];
    onlyKeys(c, `${root}.costs`, keys);
    for (const k of keys) {
      if (c[k] !== undefined) costs[k] = int(c[k], `${root}.costs.${k}`, 0, k === 'jitterPct' ? 90 : 60e9);
    }
  }
  const backend = o.backend === undefined ? 'fuse' : oneOf(o.backend, `${root}.backend`, ['fuse', 'kernel-ext4'] as const);
  const cookieValidation = bool(o.cookieValidation, `${root}.cookieValidation`, true);
  const serverCache = bool(o.serverCache, `${root}.serverCache`, true);
  // §3.1: 0 keeps the default; other values are clamped to 256 B … 2 MiB.
  const cacheRaw = o.cacheMaxBytes === undefined ? 0 : int(o.cacheMaxBytes, `${root}.cacheMaxBytes`, 0, 2 ** 32 - 1);
  const cacheMaxBytes = cacheRaw === 0 ? CACHE_DEFAULT_MAX_BYTES : Math.min(CACHE_MAX_MAX_BYTES, Math.max(256, cacheRaw));
  return {
    name, description, files, threads, policy, serverThreads, revision, writebackIntervalNs, faults, costs,
    backend, cookieValidation, serverCache, cacheMaxBytes,
  };
}
