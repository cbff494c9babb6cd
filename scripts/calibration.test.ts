// The calibration table in docs/simulator.md is the script's current output (so the docs cannot
// drift from the simulator silently), and its figures are the ones `fusescope diff` prints for the
// same runs written out with `fusescope sim` and read back.
import { readFileSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALIBRATION_SEED, CALIBRATION_SIM_NS, DOC_PATH, calibrationRows, calibrationTable, docBlock, type CalibrationRow } from './calibration.ts';
import { SCENARIOS, Simulation } from '../server/sim/index.ts';
import { DEFAULT_COSTS } from '../server/sim/scenarios/spec.ts';
import { eventLine, headerLine } from '../src/trace/import/ndjson.ts';
import { diffStats, traceStats } from '../src/trace/compare.ts';
import { load } from '../server/commands/load.ts';

let rows: CalibrationRow[];
// The runs take 1–3 s of CPU (JIT warm-up included); on a busy machine they can pass vitest's 10 s hook default.
beforeAll(() => { rows = calibrationRows(); }, 60_000);

describe('calibration', () => {
  it('docs/simulator.md carries the table the script prints now (regenerate: npm run calibration -- --write)', () => {
    const block = docBlock(readFileSync(DOC_PATH, 'utf8'));
    expect(block, 'docs/simulator.md lost its calibration markers').not.toBeNull();
    expect(block).toBe(calibrationTable(rows));
  });

  it('covers every scenario that has a kernel-ext4 baseline, at RFC v1 and at its own revision', () => {
    const withBaseline = Object.keys(SCENARIOS).filter((n) => SCENARIOS[`${n}-ext4`] !== undefined).sort();
    const asCatalogued = rows.filter((r) => r.variant === null);
    expect([...new Set(asCatalogued.map((r) => r.scenario))].sort()).toEqual(withBaseline);
    for (const name of withBaseline) {
      expect(asCatalogued.filter((r) => r.scenario === name).map((r) => r.revision).sort())
        .toEqual([...new Set(['rfc-v1', SCENARIOS[name]!.revision])].sort());
    }
  });

  describe('figures are what fusescope diff prints for the same runs', () => {
    let dir: string;
    beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'fusescope-calib-')); });
    afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

    /** What `fusescope sim` would write, cut at the calibration's virtual time. */
    function ndjson(name: string): string {
      const sim = new Simulation(SCENARIOS[name]!, { seed: CALIBRATION_SEED });
      const lines = [headerLine({ originNs: '0', source: name, clock: `sim:${name}` })];
      sim.runUntil(CALIBRATION_SIM_NS, (ev) => { lines.push(eventLine(ev)); });
      const file = join(dir, `${name}.ndjson`);
      writeFileSync(file, lines.join('\n') + '\n');
      return file;
    }

    it('streaming-dio vs streaming-dio-ext4: throughputs and ratio', async () => {
      const a = await load([ndjson('streaming-dio')]);
      const b = await load([ndjson('streaming-dio-ext4')]);
      const diff = diffStats(traceStats(a.store), traceStats(b.store));
      const tput = diff.find((r) => r.metric === 'throughput')!;
      const mine = rows.find((r) => r.scenario === 'streaming-dio' && r.variant === null && r.revision === SCENARIOS['streaming-dio']!.revision)!;
      expect(mine.fuseMiBPerSec).toBeCloseTo(tput.a, 6);
      expect(mine.ext4MiBPerSec).toBeCloseTo(tput.b, 6);
      // diff prints B/A (ext4 ÷ fuse); the table's percentage is its inverse.
      expect(mine.ratioPct).toBeCloseTo(100 / tput.ratio, 6);
    });
  });

  it('no built-in scenario overrides a cost (docs/simulator.md says so; list the overrides there if one does)', () => {
    const overriding = Object.values(SCENARIOS).filter((s) => JSON.stringify(s.costs) !== JSON.stringify(DEFAULT_COSTS)).map((s) => s.name);
    expect(overriding).toEqual([]);
  });

  it('docBlock finds nothing without both markers', () => {
    expect(docBlock('# doc\nno markers here\n')).toBeNull();
  });
});
