// The compare view's A-vs-B table as display rows: the DiffRows of src/trace/compare.ts (the same
// numbers `fusescope diff --json` prints), split into run figures and per-opcode figures, with the
// cells formatted as `fusescope diff` formats them and a tone on the ratio (is B better or worse?).

import type { DiffRow } from '../../trace/compare.ts';

/** A ratio within ±10% of 1 is "about the same": run-to-run noise of the simulator's jitter. */
const SAME_WITHIN = 0.1;

type Tone = 'better' | 'worse' | 'same' | 'none';

export interface DiffCell {
  row: DiffRow;
  /** `FUSE_IOMAP_BEGIN` for per-opcode rows, '' for run rows. */
  opcode: string;
  /** The metric without the opcode: `count`, `p50`… for per-opcode rows. */
  label: string;
  aText: string;
  bText: string;
  ratioText: string;
  tone: Tone;
}

const HIGHER_IS_BETTER = new Set(['throughput', 'cache hit rate']);
const LOWER_IS_BETTER = new Set(['upcalls per MiB', 'iomap upcalls per MiB', 'lock wait total', 'lock wait per MiB', 'lock wait p99', 'lock wait max']);
const OPCODE_STATS = new Set(['p50', 'p90', 'p99', 'max']);

/** Thousands separators; 1 decimal from 100 up, 3 below; "—" for NaN (nothing to measure) — as `fusescope diff`. */
function formatFigure(v: number): string {
  if (Number.isNaN(v)) return '—';
  const digits = Number.isInteger(v) ? 0 : Math.abs(v) >= 100 ? 1 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `1.23×`; "new" when only B has it; "—" when there is nothing to divide — as `fusescope diff`. */
export function formatRatio(r: DiffRow): string {
  if (r.unknown) return '—';
  if (!Number.isNaN(r.ratio)) return `${r.ratio.toFixed(2)}×`;
  return (r.a === 0 || Number.isNaN(r.a)) && r.b > 0 ? 'new' : '—';
}

/** Per-opcode rows are `<OPCODE> <stat>` (the opcode has no space); run rows have spaces in the name. */
export function splitMetric(metric: string): { opcode: string; label: string } {
  const m = /^(\S+) (count|p50|p90|p99|max)$/.exec(metric);
  return m ? { opcode: m[1]!, label: m[2]! } : { opcode: '', label: metric };
}

export function toneOf(r: DiffRow, opcode: string, label: string): Tone {
  if (!Number.isFinite(r.ratio)) return 'none';
  const lowerBetter = opcode ? OPCODE_STATS.has(label) : LOWER_IS_BETTER.has(label);
  const higherBetter = !opcode && HIGHER_IS_BETTER.has(label);
  if (!lowerBetter && !higherBetter) return 'none';
  if (Math.abs(r.ratio - 1) <= SAME_WITHIN) return 'same';
  return (r.ratio > 1) === higherBetter ? 'better' : 'worse';
}

export function diffCells(rows: readonly DiffRow[]): { run: DiffCell[]; opcodes: DiffCell[] } {
  const run: DiffCell[] = [];
  const opcodes: DiffCell[] = [];
  for (const row of rows) {
    const { opcode, label } = splitMetric(row.metric);
    // A figure that cannot be known says so (its reason is the cell's title and a note under the table).
    const aText = row.unknown?.a ? 'unknown' : formatFigure(row.a);
    const bText = row.unknown?.b ? 'unknown' : formatFigure(row.b);
    const cell: DiffCell = { row, opcode, label, aText, bText, ratioText: formatRatio(row), tone: toneOf(row, opcode, label) };
    (opcode ? opcodes : run).push(cell);
  }
  return { run, opcodes };
}
