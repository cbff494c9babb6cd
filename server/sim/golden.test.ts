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
  'hardlink-alias-race seed 11': 'c1183e1d387c0c21',
  'hardlink-alias-fixed seed 11': '471b938d73b1b8f8',
  'streaming-buffered seed 11': '1782218b11f8f644',
  'streaming-dio seed 11': '5694d0098bde1087',
  'random-dio seed 11': 'b7f402e7f116b0af',
  'random-buffered-write seed 11': '54cabb37dc088378',
  'stale-mapping seed 11': '913ad2f089e2179d',
  'stale-mapping-checked seed 11': '8dd0d35970619832',
  'cache-hit-miss-nocache seed 11': 'fb910e406f6c0042',
  'cache-hit-miss seed 11': '956d896072f40991',
  'rwsem-contention seed 11': '18e20c7d281c56e4',
  'random-dio-ext4 seed 11': '57532b6556a9d56e',
  'random-buffered-write-ext4 seed 11': 'b322f1b1b0e90410',
  'streaming-dio-ext4 seed 11': 'cb2691166f4ed6c7',
  'streaming-buffered-ext4 seed 11': 'c3c72c44d3e40d83',
  'hardlink-alias-race rfc-v1': '3de95e74f3e02d82',
  'cache-hit-miss rfc-v1': '9a161e322ce28fa1',
  'rwsem-contention rfc-v1': 'ba5961e6005801bd',
  'streaming-dio rfc-v1': '5a702655659dbfc2',
  'hardlink-alias-race v3': 'e60fb3ce92fa6b23',
  'cache-hit-miss v3': '699b1f0e182f0e51',
  'rwsem-contention v3': '2858661dcac0e3bc',
  'streaming-dio v3': '2603f502981c60e3',
  'hardlink-alias-race v6': '20190c4e8bb4a57d',
  'cache-hit-miss v6': 'c9c4cc9e1ddea6c1',
  'rwsem-contention v6': '1aaf378d83ea6721',
  'streaming-dio v6': '5ba05d02434504ed',
  'hardlink-alias-race ino policy': 'a73036e81d90bb00',
  'rwsem-contention bad mappings': 'b33c928355be1ac7',
  'cache-hit-miss small cache': 'df6425b83c37460f',
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
