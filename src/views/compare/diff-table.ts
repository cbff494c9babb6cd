// The compare view's A-vs-B table as display rows: the DiffRows of src/trace/compare.ts (the same
// numbers `fusescope diff --json` prints), split into run figures and per-opcode figures, with the
// cells formatted as `fusescope diff` formats them and a tone on the ratio (is B better or worse?).

import { figureText, ratioText, type DiffRow } from '../../trace/compare.ts';

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
    // The cells as `fusescope diff` prints them; an unknown figure's reason is its cell's title and a note above the table.
    const cell: DiffCell = { row, opcode, label, aText: figureText(row, 'a'), bText: figureText(row, 'b'), ratioText: ratioText(row), tone: toneOf(row, opcode, label) };
    (opcode ? opcodes : run).push(cell);
  }
  return { run, opcodes };
}
