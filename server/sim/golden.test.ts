// Regression guard for refactors of the simulator (issue #14's kernel/scenario split): the event
// stream of every built-in scenario for a fixed seed, plus a few option variants (revisions, nodeid
// policy, injected bad mappings), hashed. The expected hashes were computed from the code BEFORE
// the split (commit 5fe9b8c) by running this file with GOLDEN_PRINT=1; a pure refactor must keep
// every one. A deliberate behaviour change updates them (rerun with GOLDEN_PRINT=1) and says why.

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
  'hardlink-alias-race seed 11': '3412931733e296c2',
  'hardlink-alias-fixed seed 11': '1d824008aa5efafd',
  'streaming-buffered seed 11': '9996de3b02923a0c',
  'streaming-dio seed 11': '884a93a9c461a08f',
  'random-dio seed 11': '65c12ce7d5c10a52',
  'random-buffered-write seed 11': 'd0cc1dd59eeb9334',
  'stale-mapping seed 11': '1a1140fd079949d6',
  'stale-mapping-checked seed 11': '25e8b1d0e88b53bc',
  'cache-hit-miss-nocache seed 11': 'fb910e406f6c0042',
  'cache-hit-miss seed 11': '0206f94d09516b24',
  'rwsem-contention seed 11': '86aff0ce8949fc7c',
  'random-dio-ext4 seed 11': '57532b6556a9d56e',
  'random-buffered-write-ext4 seed 11': 'b322f1b1b0e90410',
  'streaming-dio-ext4 seed 11': 'cb2691166f4ed6c7',
  'streaming-buffered-ext4 seed 11': 'c3c72c44d3e40d83',
  'hardlink-alias-race rfc-v1': '4d7dd1f77d055dbd',
  'cache-hit-miss rfc-v1': '9a161e322ce28fa1',
  'rwsem-contention rfc-v1': '59630151e302873a',
  'streaming-dio rfc-v1': '5a702655659dbfc2',
  'hardlink-alias-race v3': '353dd9d98f995ffe',
  'cache-hit-miss v3': '3bb2987d0245e3ec',
  'rwsem-contention v3': 'de89df3ce8a04d79',
  'streaming-dio v3': 'bb6f80fe61b51983',
  'hardlink-alias-race v6': 'fb2fb5a937e0421f',
  'cache-hit-miss v6': '936978c5a29a89fd',
  'rwsem-contention v6': 'ef2bf72c4f83850c',
  'streaming-dio v6': '40ad17162f9d2a9b',
  'hardlink-alias-race ino policy': '0a5f28fb21372449',
  'rwsem-contention bad mappings': '1358c304581677ee',
  'cache-hit-miss small cache': 'ecf8416e824e7bf0',
  catalogue: 'cb3c08fc3f409a92',
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
