// The built-in scenarios. The default one reproduces the hardlink aliasing problem of
// docs/domain.md §5.3; every entry is checked by faithful.test.ts.
//
// To add a scenario: add an entry to SCENARIOS below with a `description` of the seed point it
// demonstrates, and a section in docs/scenarios.md.

import { DEFAULT_COSTS, type OpKind, type OpSpec, type PosPattern, type ScenarioSpec } from './spec.ts';

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
    'same file at once (docs/domain.md §5.3). Switch policy to ino to see them serialise.',
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

/** The same workload on kernel ext4 (docs/domain.md §7's comparison point): no upcalls. */
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
