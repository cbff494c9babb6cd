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
  'hardlink-alias-race seed 11': 'f2635c866113b52e',
  'hardlink-alias-fixed seed 11': '3d5121d6931c2168',
  'streaming-buffered seed 11': '4e605c967dd0a57e',
  'streaming-dio seed 11': '4a3e6edfc344f681',
  'random-dio seed 11': 'b88b437ee8595de2',
  'random-buffered-write seed 11': '69f5cf3dbd6e4209',
  'stale-mapping seed 11': '5bede36889e4300c',
  'stale-mapping-checked seed 11': 'aa041a645244f7f5',
  'cache-hit-miss-nocache seed 11': 'd11b231b0166ee9e',
  'cache-hit-miss seed 11': '008a855fff21b8f2',
  'rwsem-contention seed 11': 'a37aa5bdf81bd431',
  'random-dio-ext4 seed 11': '57532b6556a9d56e',
  'random-buffered-write-ext4 seed 11': 'b322f1b1b0e90410',
  'streaming-dio-ext4 seed 11': 'cb2691166f4ed6c7',
  'streaming-buffered-ext4 seed 11': 'c3c72c44d3e40d83',
  'hardlink-alias-race rfc-v1': '6cf418f655f97a48',
  'cache-hit-miss rfc-v1': 'ce74599b30d90fcb',
  'rwsem-contention rfc-v1': '25789f3f34894cd3',
  'streaming-dio rfc-v1': '5d9cb120332d824f',
  'hardlink-alias-race v3': 'ebb1cd8e1d94f81b',
  'cache-hit-miss v3': '8a969760d5869c44',
  'rwsem-contention v3': 'cdcc0e5e41df7693',
  'streaming-dio v3': '4ad52079029f14f2',
  'hardlink-alias-race v6': 'f3af687df48230c7',
  'cache-hit-miss v6': '5e3291bcf0a84c3c',
  'rwsem-contention v6': 'e1bbb62cd045419c',
  'streaming-dio v6': '533f782346c3beac',
  'hardlink-alias-race ino policy': '49bf986d23541385',
  'rwsem-contention bad mappings': '0c81e80fb4ab971a',
  'cache-hit-miss small cache': 'ee96c1def2086e09',
  catalogue: '0d625b1a7bd0fc38',
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
