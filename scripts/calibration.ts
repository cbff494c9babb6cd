// Calibration of the simulator against the fuse-iomap series' cover letters: every scenario that has
// a kernel-ext4 baseline (`NAME-ext4` in the catalogue) runs for a fixed stretch of virtual time with
// a fixed seed, at RFC v1 and at the scenario's own revision, and the throughputs are compared with
// the figures the letters report. The figures come from `diffStats(traceStats(A), traceStats(B))`,
// the code `fusescope diff` and the compare view use, so they are the ones a user sees.
//
// Run: `npm run calibration` prints the table; `npm run calibration -- --write` rewrites the block
// between the calibration markers in docs/simulator.md (scripts/calibration.test.ts checks they agree).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCENARIOS, Simulation } from '../server/sim/index.ts';
import { TraceStore } from '../src/trace/store.ts';
import { diffStats, traceStats, type DiffRow } from '../src/trace/compare.ts';
import type { ScenarioSpec } from '../server/sim/scenarios/spec.ts';
import type { ProtocolRevision } from '../src/trace/fuse-proto.ts';

export const CALIBRATION_SEED = 1;
/**
 * Virtual time each run covers, from mount. Long enough to pass start-up (mount handshake, first
 * writeback periods), short enough that the random scenarios' small files are still mostly
 * unwritten (their conversion-heavy phase, which the letters' random-write remarks are about) and
 * that all runs take about a second of wall time (the docs test runs them).
 */
export const CALIBRATION_SIM_NS = 50_000_000;

/** What the letters say for one workload (docs/domain.md §7, re-stated in docs/simulator.md). */
interface LetterFigures {
  /** RFC v1 cover letter (2025-05-21). */
  rfcV1: string;
  /** RFC v3 to v7 cover letters (same wording in each). */
  v3on: string;
  /** e2fsprogs cover's MB/s table, fuse2fs + iomap vs kernel ext4. */
  e2fsprogs: string;
}

/**
 * A what-if run next to the catalogued one: the same pair with one setting changed, to show how far
 * the ratio depends on it. Not a retuning: the catalogue and DEFAULT_COSTS stay as they are.
 */
interface Variant {
  label: string;
  apply: (spec: ScenarioSpec) => ScenarioSpec;
  /** Run only at the scenario's own revision (the setting does not exist at RFC v1). */
  ownRevisionOnly?: boolean;
  /** The letters' figures for this variant, where they differ from the scenario's. */
  letters?: LetterFigures;
}

/** Device latencies near what the letters' own ext4 random-DIO figure implies (40–55 MB/s of 4 KiB IOs). */
const SLOW_DEVICE: Variant = {
  label: 'device latency 100 µs read and write',
  apply: (s) => ({ ...s, costs: { ...s.costs, devReadLatencyNs: 100_000, devWriteLatencyNs: 100_000 } }),
};
/** The file laid out before the run (as a benchmark usually lays out its file), so writes find mappings. */
const PREALLOCATED: Variant = {
  label: 'file preallocated unwritten',
  apply: (s) => ({ ...s, files: s.files.map((f) => ({ ...f, prealloc: 'unwritten' as const })) }),
};

/**
 * Classic FUSE: the server answers with FUSE_ATTR_IOMAP but not FUSE_ATTR_EXCLUSIVE, which the v7
 * kernel ignores, so every file runs FUSE_READ / FUSE_WRITE through the server (the fault switch
 * `iomapWithoutExclusive`; only meaningful at v7). The e2fsprogs cover gives classic fuse2fs's MB/s.
 */
const classic = (e2fsprogs: string): Variant => ({
  label: 'classic FUSE path (no file on iomap)',
  apply: (s) => ({ ...s, faults: { ...s.faults, iomapWithoutExclusive: true } }),
  ownRevisionOnly: true,
  letters: { rfcV1: '—', v3on: '—', e2fsprogs: `classic fuse2fs ${e2fsprogs} vs ext4` },
});

export const CALIBRATED: readonly { scenario: string; letters: LetterFigures; variants?: readonly Variant[] }[] = [
  { scenario: 'streaming-dio', letters: { rfcV1: '~95 %', v3on: '~95 %', e2fsprogs: '2.5–8 GB/s vs 2.6–8.5 GB/s' }, variants: [classic('60–90 MB/s (same baseline as buffered)')] },
  { scenario: 'streaming-buffered', letters: { rfcV1: '~110 %', v3on: '~110 %', e2fsprogs: '2–2.5 GB/s vs ~1.6 GB/s' }, variants: [classic('60–90 MB/s')] },
  {
    scenario: 'random-buffered-write',
    letters: { rfcV1: '"90 % hit" on writes (~10 %)', v3on: '~85 %', e2fsprogs: '90–1300 MB/s vs 900–1300 MB/s (random 4k buffered IO)' },
    variants: [PREALLOCATED, classic('25–50 MB/s')],
  },
  { scenario: 'random-dio', letters: { rfcV1: '~60 %', v3on: '~80 %', e2fsprogs: '30–35 MB/s vs 40–55 MB/s' }, variants: [SLOW_DEVICE, classic('20–30 MB/s')] },
];

/** The fuse side is run at RFC v1 (no mapping cache, no cookies) and at the scenario's own revision. */
const REVISIONS_RUN: readonly ProtocolRevision[] = ['rfc-v1'];

function run(name: string, revision?: ProtocolRevision, variant?: Variant): TraceStore {
  const spec = SCENARIOS[name];
  if (!spec) throw new Error(`calibration: no scenario '${name}' in the catalogue`);
  const sim = new Simulation(variant ? variant.apply(spec) : spec, { seed: CALIBRATION_SEED, ...(revision ? { revision } : {}) });
  const store = new TraceStore();
  sim.runUntil(CALIBRATION_SIM_NS, (ev) => { store.append(ev); });
  return store;
}

const row = (rows: readonly DiffRow[], metric: string): DiffRow => {
  const r = rows.find((x) => x.metric === metric);
  if (!r) throw new Error(`calibration: diff has no '${metric}' row`);
  return r;
};

export interface CalibrationRow {
  scenario: string;
  /** The what-if setting, or null for the scenario as catalogued. */
  variant: string | null;
  revision: ProtocolRevision;
  fuseMiBPerSec: number;
  ext4MiBPerSec: number;
  /** fuse ÷ ext4 throughput, in percent. */
  ratioPct: number;
  /** Sent IOEND(UNWRITTEN) upcalls in the fuse run (one server conversion each). */
  conversions: number;
  /** FUSE_IOMAP_BEGIN + END + IOEND per MiB moved in the fuse run. */
  iomapUpcallsPerMiB: number;
  letters: LetterFigures;
}

/** Runs every calibrated pair: A = the fuse-iomap scenario, B = its `-ext4` baseline, as `fusescope diff A B`. */
export function calibrationRows(): CalibrationRow[] {
  const out: CalibrationRow[] = [];
  for (const { scenario, letters, variants } of CALIBRATED) {
    for (const variant of [undefined, ...(variants ?? [])]) {
      const ext4 = traceStats(run(`${scenario}-ext4`, undefined, variant));
      const own = SCENARIOS[scenario]!.revision;
      const revisions = variant?.ownRevisionOnly ? [own] : [...REVISIONS_RUN.filter((r) => r !== own), own];
      for (const revision of revisions) {
        const rows = diffStats(traceStats(run(scenario, revision, variant)), ext4);
        const tput = row(rows, 'throughput');
        out.push({
          scenario, variant: variant?.label ?? null, revision, fuseMiBPerSec: tput.a, ext4MiBPerSec: tput.b, ratioPct: (tput.a / tput.b) * 100,
          conversions: row(rows, 'unwritten conversions').a, iomapUpcallsPerMiB: row(rows, 'iomap upcalls per MiB').a,
          letters: variant?.letters ?? letters,
        });
      }
    }
  }
  return out;
}

const fmt = (v: number, digits = 0): string => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The markdown table docs/simulator.md carries between the calibration markers. */
export function calibrationTable(rows: readonly CalibrationRow[] = calibrationRows()): string {
  const lines = [
    `Seed ${CALIBRATION_SEED}, first ${CALIBRATION_SIM_NS / 1e6} ms of virtual time of each run; throughput = app bytes read + written ÷ virtual time, as \`fusescope diff\` prints it.`,
    '',
    '| scenario | what-if | revision | fuse MiB/s | kernel-ext4 MiB/s | fuse ÷ ext4 | letters: RFC v1 | letters: v3–v7 | e2fsprogs cover: iomap vs ext4 | IOEND(UNWRITTEN) conversions | iomap upcalls / MiB |',
    '|---|---|---|--:|--:|--:|---|---|---|--:|--:|',
  ];
  for (const r of rows) {
    const bold = (t: string, own: boolean): string => (own && t !== '—' ? `**${t}**` : t);
    const letters = bold(r.letters.rfcV1, r.revision === 'rfc-v1');
    const later = bold(r.letters.v3on, r.revision !== 'rfc-v1');
    lines.push(`| ${r.scenario} | ${r.variant ?? 'as catalogued'} | ${r.revision} | ${fmt(r.fuseMiBPerSec)} | ${fmt(r.ext4MiBPerSec)} | ${fmt(r.ratioPct)} % | ${letters} | ${later} | ${r.letters.e2fsprogs} | ${fmt(r.conversions)} | ${fmt(r.iomapUpcallsPerMiB, 1)} |`);
  }
  return lines.join('\n') + '\n';
}

export const DOC_PATH = fileURLToPath(new URL('../docs/simulator.md', import.meta.url));
export const BEGIN_MARK = '<!-- calibration:begin (generated by `npm run calibration -- --write`; do not edit by hand) -->';
export const END_MARK = '<!-- calibration:end -->';

/** The generated block currently in `doc` (between the markers), or null when the markers are missing. */
export function docBlock(doc: string): string | null {
  const from = doc.indexOf(BEGIN_MARK);
  const to = doc.indexOf(END_MARK);
  if (from < 0 || to < from) return null;
  return doc.slice(from + BEGIN_MARK.length, to).replace(/^\n/, '');
}

function writeDoc(table: string): void {
  const doc = readFileSync(DOC_PATH, 'utf8');
  if (docBlock(doc) === null) throw new Error(`calibration: ${DOC_PATH} has no calibration markers`);
  const from = doc.indexOf(BEGIN_MARK) + BEGIN_MARK.length;
  writeFileSync(DOC_PATH, `${doc.slice(0, from)}\n${table}${doc.slice(doc.indexOf(END_MARK))}`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const table = calibrationTable();
  process.stdout.write(table);
  if (process.argv.includes('--write')) {
    writeDoc(table);
    process.stderr.write(`calibration: rewrote the table in ${DOC_PATH}\n`);
  }
}
