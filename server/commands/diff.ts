// `fusescope diff A B`: the A-vs-B table of src/trace/compare.ts, as text (or JSON with --json).
import type { TraceStore } from '../../src/trace/store.ts';
import { diffStats, formatDiff, traceStats, type DiffRow } from '../../src/trace/compare.ts';

/** JSON has no NaN: a figure with nothing to measure is null. */
const finite = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** Runs of unequal virtual length: totals differ for that reason alone, so say to read the rates. */
function durationNote(rows: readonly DiffRow[]): string {
  const d = rows.find((r) => r.metric === 'duration');
  if (!d || !(d.ratio < 0.8 || d.ratio > 1.25)) return '';
  return `note: the runs cover different virtual time (${d.a.toFixed(1)} vs ${d.b.toFixed(1)} ms); compare rates (MiB/s, per MiB, p99), not totals\n`;
}

export function runDiff(a: TraceStore, b: TraceStore, labelA: string, labelB: string, json = false): { text: string; rows: DiffRow[] } {
  const rows = diffStats(traceStats(a), traceStats(b));
  const text = json
    ? JSON.stringify({ a: labelA, b: labelB, rows: rows.map((r) => ({ ...r, a: finite(r.a), b: finite(r.b), ratio: finite(r.ratio) })) }, null, 2) + '\n'
    : `A: ${labelA}\nB: ${labelB}\n${durationNote(rows)}\n${formatDiff(rows)}`;
  return { text, rows };
}
