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

// The hardlinks exist before mount (made by mkfs/debugfs), so the server's first LOOKUP already
// reports st_nlink 2.
const hardlinkAliasRace = scenario({
  name: 'hardlink-alias-race',
  // RFC v5: the last revision whose path-API fuse2fs still enabled iomap on a hardlinked file (v6
  // added the st_nlink < 2 rule), so this is the broken locking model the series then fixed.
  revision: 'v5',
  description:
    'RFC v5, per-path: one ext4 inode reachable as /d1/file and /d2/link gets two nodeids, two fuse_inodes and ' +
    'two i_rwsems on the iomap path (docs/domain.md §5.3), so writer A and writer B hold "exclusive" locks on the same file at once.',
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
    'Random 4 KiB buffered reads and direct writes over a written 32 MiB file with the v7 mapping cache: fuse4fs ' +
    'upserts the file\'s first extent when it is opened, so most iomap_begin calls are cache hits (no upcall). Each direct write\'s ' +
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

const outOfPlaceWrites = scenario({
  name: 'out-of-place-writes',
  description:
    'A server that writes out of place, like libfuse\'s iomap_ow_ll example: every write-ish IOMAP_BEGIN gets a ' +
    'separate write mapping onto freshly allocated staging blocks, flagged SHARED (the read slot keeps the old ' +
    'blocks as the srcmap), and the v7 cache gets it in the write fork; buffered writeback and direct writes end ' +
    'in IOEND(SHARED) with the bio\'s new_addr, where the server remaps the staging blocks into the file, and the ' +
    'kernel then invalidates that range in both forks (§1.5, §1.7, §1.9, §3.1). ' +
    'You should see write mappings `mapped` with `shared` at new addresses, write-fork upserts and hits, and every ' +
    'write completion as a sent IOEND(shared) followed by a `cache_inval reason ioend`.',
  files: [{ path: '/data/cow', sizeBytes: 16 * MiB, prealloc: 'written', links: [] }],
  threads: [
    { name: 'bwriter', path: '/data/cow', thinkNs: 10 * US, ops: [op('write', false, 'random', 16 * KiB)] },
    { name: 'dwriter', path: '/data/cow', thinkNs: 10 * US, ops: [op('write', true, 'random', 4 * KiB)] },
    { name: 'reader', path: '/data/cow', thinkNs: 5 * US, ops: [op('read', false, 'random', 64 * KiB)] },
  ],
  policy: 'ino',
  serverThreads: 2,
  writebackIntervalNs: 500 * US,
  serverWrites: 'out-of-place',
});

const atomicWrites = scenario({
  name: 'atomic-writes',
  description:
    'RWF_ATOMIC direct writes of one 4 KiB block each into a written file whose entry reply carries ' +
    'FUSE_ATTR_ATOMIC, next to a buffered reader whose misses the server upserts into the v7 mapping cache. ' +
    'ATOMIC ops bypass the cache (§3.3) and fuse4fs answers them with ATOMIC_BIO (§5.5). ' +
    'You should see one IOMAP_BEGIN upcall per atomic write with opflags `write|direct|atomic` and no cache ' +
    'lookup, even where the reader\'s upserts cover the block, each reply\'s mapping flagged `atomic`.',
  files: [{ path: '/data/journal', sizeBytes: 8 * MiB, prealloc: 'written', links: [] }],
  threads: [
    { name: 'atomicw', path: '/data/journal', thinkNs: 10 * US, ops: [{ ...op('write', true, 'random', 4 * KiB), atomic: true }] },
    { name: 'reader', path: '/data/journal', thinkNs: 5 * US, ops: [op('read', false, 'random', 4 * KiB)] },
  ],
  policy: 'ino',
  serverThreads: 2,
  writebackIntervalNs: 0,
  atomicWrites: true,
});

const inlineData = scenario({
  name: 'inline-data',
  description:
    'Two small files whose bytes the server keeps inline in the inode (ext4 inline data; libfuse\'s ' +
    'iomap_inline_ll example): every IOMAP_BEGIN is answered with one INLINE mapping (null device and address, ' +
    'offset 0, one block). During begin the kernel fetches the inline bytes with a FUSE_READ to the nodeid; a ' +
    'write lands in that buffer (no dirty folios, so no writeback) and goes back with a FUSE_WRITE of the written ' +
    'range instead of an IOMAP_END, even when it grows the file (§1.5, §2.3). ' +
    'You should see BEGIN → FUSE_READ per read or write, FUSE_WRITE after each write, and no IOMAP_END, IOEND or ' +
    'writeback for these files.',
  files: [
    { path: '/etc/motd', sizeBytes: 3000, prealloc: 'inline', links: [] },
    { path: '/etc/hostname', sizeBytes: 1000, prealloc: 'inline', links: [] },
  ],
  threads: [
    { name: 'reader', path: '/etc/motd', thinkNs: 20 * US, ops: [op('read', false, 'sequential', 3000)] },
    { name: 'rewriter', path: '/etc/motd', thinkNs: 30 * US, ops: [op('write', false, 'sequential', 1000)] },
    { name: 'appender', path: '/etc/hostname', thinkNs: 30 * US, ops: [op('write', false, 'sequential', 500, 1, 4000)] },
    { name: 'hreader', path: '/etc/hostname', thinkNs: 25 * US, ops: [op('read', false, 'sequential', 4000, 1, 4000)] },
  ],
  policy: 'ino',
  serverThreads: 2,
  writebackIntervalNs: 1_000 * US,
  // Inline mappings are answered in plain replies (the sim's server never upserts them), so no cache forms.
  serverCache: false,
});

const wrongMappings = scenario({
  name: 'wrong-mappings',
  description:
    'A buggy server: every 4th IOMAP_BEGIN reply carries a wrong read mapping — misaligned, zero length, ' +
    'MAPPED with no device or with a device it never registered, PURE_OVERWRITE in the read slot, or a range ' +
    'that does not contain pos (the server runs without the mapping cache, so every iomap_begin asks it). The ' +
    'kernel validates every reply ' +
    '(§1.4): it refuses the mapping, fires fuse_iomap_bad_data, and the IO fails (EFSCORRUPTED; a buffered ' +
    'read reports EIO). ' +
    'You should see `iomap_bad_data` events with the reason, each followed by its syscall failing, and no ' +
    'cache upsert or use of the refused mapping.',
  files: [{ path: '/data/victim', sizeBytes: 32 * MiB, prealloc: 'written', links: [] }],
  threads: [
    { name: 'breader', path: '/data/victim', thinkNs: 10 * US, ops: [op('read', false, 'random', 16 * KiB)] },
    { name: 'dreader', path: '/data/victim', thinkNs: 10 * US, ops: [op('read', true, 'random', 4 * KiB)] },
    { name: 'dwriter', path: '/data/victim', thinkNs: 10 * US, ops: [op('write', true, 'random', 4 * KiB)] },
    { name: 'bwriter', path: '/data/victim', thinkNs: 20 * US, ops: [op('write', false, 'random', 16 * KiB)] },
  ],
  policy: 'ino',
  serverThreads: 2,
  writebackIntervalNs: 1_000 * US,
  faults: { badMappingEvery: 4 },
  // fuse4fs's noiomap_cache: every iomap_begin is an upcall, so the fault rate is one in four begins.
  serverCache: false,
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
  'hardlink-alias-race-v7': {
    ...hardlinkAliasRace,
    name: 'hardlink-alias-race-v7',
    description:
      'v7, per-path: the hardlinked file (st_nlink 2) gets no FUSE_ATTR_IOMAP, so both names run the classic ' +
      'FUSE_READ/FUSE_WRITE path — still two nodeids with two i_rwsems, but no iomap upcalls or mapping cache, at ' +
      'classic fuse2fs speed (compare hardlink-alias-fixed).',
    revision: 'v7',
  },
  'hardlink-alias-fixed': {
    ...hardlinkAliasRace,
    name: 'hardlink-alias-fixed',
    description:
      'v7, fuse4fs (policy ino, nodeid = inode number): the hardlinked file keeps iomap with one nodeid, one ' +
      'fuse_inode and one i_rwsem, so the writers serialise.',
    revision: 'v7',
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
  'out-of-place-writes': outOfPlaceWrites,
  'atomic-writes': atomicWrites,
  'inline-data': inlineData,
  'wrong-mappings': wrongMappings,
  'random-dio-ext4': ext4Baseline(randomDio),
  'random-buffered-write-ext4': ext4Baseline(randomBufferedWrite),
  'streaming-dio-ext4': ext4Baseline(streamingDio),
  'streaming-buffered-ext4': ext4Baseline(streamingBuffered),
};

export const DEFAULT_SCENARIO_NAME = 'hardlink-alias-race';
