// Regression guard for refactors of the simulator (issue #14's kernel/scenario split): the event
// stream of every built-in scenario for a fixed seed, plus a few option variants (revisions, nodeid
// policy, injected bad mappings), hashed. The expected hashes were computed from the code BEFORE
// the split (commit 5fe9b8c) by running this file with GOLDEN_PRINT=1; a pure refactor must keep
// every one. A deliberate behaviour change updates them (rerun with GOLDEN_PRINT=1) and says why.
// Deliberate updates (rerun with GOLDEN_PRINT=1 after the change's own tests in shapes.test.ts pass):
// - issue #15 item 3a (branch s15-shapes): write-ish cache lookups trace the write fork, then the
//   read fork (an absent write fork is `forkAbsent`), each hit with its own mapping row — every
//   cached revision (v3/v6/v7) changed; rfc-v1 and the ext4 baselines (no cache) kept theirs.
// - issue #15 item 3b (branch s15-shapes): writeback ioends carry new_addr in 512-byte sectors —
//   every fuse scenario with buffered writeback changed; direct-write-only runs and ext4 kept theirs.
// - issue #15 item 3c (branch s15-shapes): the mount sends FUSE_INIT (and IOMAP_CONFIG at v6/v7)
//   before the workload starts — every fuse run changed; the ext4 baselines kept theirs.
// - issue #15 item 4 (branch s15-scen): four new scenarios (their hashes added once
//   scenarios-new.test.ts checked their shapes); the catalogue hash moved with them and with the
//   spec's new defaults (serverWrites, atomicWrites); 'rwsem-contention bad mappings' changed because
//   the fault injector now has six mistakes (unregistered device, PURE_OVERWRITE in the read slot)
//   and a buffered read that gets a refused mapping returns EIO (filemap_read_folio). Every other
//   hash is unchanged.
// - issue #15 items 1–2 (branch s15-enable, after enablement.test.ts passed): hardlink-alias-race
//   is now RFC v5 (seed 11 and the ino-policy variant changed); at v6 its per-path hardlinked file
//   gets no FUSE_ATTR_IOMAP and runs classic FUSE_READ/FUSE_WRITE ('hardlink-alias-race v6'
//   changed); new hardlink-alias-race-v7; the catalogue hash moved (new scenario, v7 on -fixed,
//   classic cost knobs). Every other run kept its hash.
// - merge of s15-scen and s15-enable on main: hashes that both branches moved (catalogue,
//   'rwsem-contention bad mappings' — the latter back to s15-scen's value) regenerated after the merged
//   tree passed scenarios-new.test.ts and enablement.test.ts.
// - issue #15 item 3 OPEN/RELEASE (branch s15-shapes2): open(2) sends FUSE_OPEN after the lookup
//   and close(2) (open_trunc, threads that run out of ops) sends FUSE_RELEASE — every fuse run
//   changed; the ext4 baselines (no server to open with) kept theirs.
// - issue #15 item 3 upsert at open (branch s15-shapes2): at v7 with the server cache on, the server
//   upserts a file's first extent after answering OPEN — the v7 runs whose files have blocks when
//   opened changed (random-dio, stale-mapping*, cache-hit-miss*, rwsem-contention*); runs on empty
//   files, rfc-v1/v3/v6, cache-hit-miss-nocache and ext4 kept theirs.
// - merge of s15-shapes2 into main (after s15-scen/s15-enable): every fuse run moved (OPEN/RELEASE
//   everywhere, upsert at open on v7 — only for iomap files of an in-place server, fixed in the
//   merge); regenerated once shapes.test.ts, enablement.test.ts and
//   scenarios-new.test.ts passed on the merged tree.
// - s15-domain: the catalogue hash moved with description text only (citations now name docs/domain.md).
// - inode_iomap (fuse_iomap_init_inode) emitted when an iomap inode is set up, after enablement.test.ts
//   checked its flags: every fuse run with an iomap file moved; the runs with none kept theirs
//   (the ext4 baselines, hardlink-alias-race-v7 and 'hardlink-alias-race v6').
// - issue #15 item 3 ioend worker (branch s15-ioend, after shapes.test.ts's merge/worker/writeback
//   tests passed): writeback ioends are finished by a completion worker (kworker/u8:2) that merges
//   them, folios stay under writeback until then, and the server's BEGIN upserts go out when read,
//   before the service time — every run with buffered writeback (fuse and ext4) or with the server
//   cache moved (regenerated again once ioends reach the worker as soon as they are sealed). Unchanged: runs whose first 6,000 events have neither (hardlink-alias-race at v6,
//   -v7, cache-hit-miss-nocache, inline-data, random-dio-ext4, streaming-dio-ext4, rfc-v1
//   cache-hit-miss and streaming-dio) and the catalogue.
// - merge of s15-ioend into main (after inode_iomap and the clean cut): hashes both sides moved
//   regenerated once shapes.test.ts (merged ioends), faithful.test.ts and roundtrip.test.ts passed.

import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { SCENARIOS, Simulation, parseScenario, type ScenarioSpec, type SimOptions } from './index.ts';

const EVENTS = 6_000;

/** Two independent 32-bit FNV-1a hashes of a string, as 16 hex digits (collisions: ~2^-64). */
function hash64(s: string): string {
  let a = 0x811c9dc5, b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
const json = (v: unknown) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x));

/** Hash of the first EVENTS events and of the model state and oracle figures after them. */
function runHash(spec: ScenarioSpec, opts: SimOptions): string {
  const sim = new Simulation(spec, opts);
  const lines: string[] = [];
  sim.runEvents(EVENTS, (ev: TraceEvent) => lines.push(json(ev)));
  const k = sim.inspect().kernelInodes;
  lines.push(json({ k, check: sim.mappingCheck, stale: sim.staleMappingsUsed, stats: sim.stats(), nowNs: sim.nowNs, done: sim.done }));
  return hash64(lines.join('\n'));
}

const CASES: [string, ScenarioSpec, SimOptions][] = [];
for (const name of Object.keys(SCENARIOS)) CASES.push([`${name} seed 11`, SCENARIOS[name]!, { seed: 11, checkMappings: true }]);
for (const rev of ['rfc-v1', 'v3', 'v6'] as const) {
  for (const name of ['hardlink-alias-race', 'cache-hit-miss', 'rwsem-contention', 'streaming-dio']) {
    CASES.push([`${name} ${rev}`, SCENARIOS[name]!, { seed: 3, revision: rev }]);
  }
}
CASES.push(['hardlink-alias-race ino policy', SCENARIOS['hardlink-alias-race']!, { seed: 4, policy: 'ino' }]);
CASES.push(['rwsem-contention bad mappings', { ...SCENARIOS['rwsem-contention']!, faults: { badMappingEvery: 7 } }, { seed: 9, checkMappings: true }]);
CASES.push(['cache-hit-miss small cache', { ...SCENARIOS['cache-hit-miss']!, cacheMaxBytes: 4096 }, { seed: 2 }]);

const EXPECTED: Record<string, string> = {
  'hardlink-alias-race seed 11': 'ab91d7cff2d59d56',
  'hardlink-alias-race-v7 seed 11': '429bc2db53913ae6',
  'hardlink-alias-fixed seed 11': '48c14ca63127e7f3',
  'streaming-buffered seed 11': '6fef1fea37b77fe3',
  'streaming-dio seed 11': 'e83de03d8499830d',
  'random-dio seed 11': '971339fa8a8d0c05',
  'random-buffered-write seed 11': '3e869e429207779a',
  'stale-mapping seed 11': 'd717bfe710b7239d',
  'stale-mapping-checked seed 11': 'ca53c4ceed7d3e72',
  'cache-hit-miss-nocache seed 11': '03eb9a79b1c6b61d',
  'cache-hit-miss seed 11': 'c4c0d98a4deb7d6b',
  'rwsem-contention seed 11': '165a6e69eae6ee34',
  'out-of-place-writes seed 11': '49152d9ced07fcfa',
  'atomic-writes seed 11': '3181cff85099406a',
  'inline-data seed 11': 'fdb8b1cf2fc0a41e',
  'wrong-mappings seed 11': '90700c806fd10e0d',
  'random-dio-ext4 seed 11': '57532b6556a9d56e',
  'random-buffered-write-ext4 seed 11': '259ad9257ea3a93c',
  'streaming-dio-ext4 seed 11': 'cb2691166f4ed6c7',
  'streaming-buffered-ext4 seed 11': '54244d0c7a3dbaa9',
  'hardlink-alias-race rfc-v1': 'd87737cb223e7498',
  'cache-hit-miss rfc-v1': '0c3d19a394c733da',
  'rwsem-contention rfc-v1': '94804562cbcf18cb',
  'streaming-dio rfc-v1': 'de017334a4f895da',
  'hardlink-alias-race v3': 'a8c15edcb8685ece',
  'cache-hit-miss v3': '13e66b09d56d26f4',
  'rwsem-contention v3': 'f6dc21d511c7448f',
  'streaming-dio v3': '856ab86b442a094f',
  'hardlink-alias-race v6': '2501d28f6ea7b225',
  'cache-hit-miss v6': '9b11fe7a925ada86',
  'rwsem-contention v6': '759dc206f37608c5',
  'streaming-dio v6': '87c637070a0daf72',
  'hardlink-alias-race ino policy': 'b98efe399d26579a',
  'rwsem-contention bad mappings': '19a3d8eef07e5a01',
  'cache-hit-miss small cache': '239f841fcc2e702b',
  catalogue: '38291903bc361251',
};

describe('golden event streams (pure-refactor guard)', () => {
  if (process.env.GOLDEN_PRINT === '1') {
    it('prints the hashes', () => {
      const out: string[] = [];
      for (const [label, spec, opts] of CASES) out.push(`  ${JSON.stringify(label)}: '${runHash(spec, opts)}',`);
      out.push(`  catalogue: '${hash64(json(Object.entries(SCENARIOS).map(([n, s]) => [n, s, parseScenario(s)])))}',`);
      console.log(out.join('\n'));
    });
    return;
  }
  it.each(CASES.map(([label, spec, opts]) => [label, spec, opts] as const))('%s', (label, spec, opts) => {
    expect(runHash(spec, opts)).toBe(EXPECTED[label]);
  });
  it('the scenario catalogue and its validated form', () => {
    expect(hash64(json(Object.entries(SCENARIOS).map(([n, s]) => [n, s, parseScenario(s)])))).toBe(EXPECTED.catalogue);
  });
});
