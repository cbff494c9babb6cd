// `fusescope diff A B`: the A-vs-B table of src/trace/compare.ts, as text (or JSON with --json).
import type { TraceStore } from '../../src/trace/store.ts';
import { diffStats, formatDiff, traceStats, type DiffRow } from '../../src/trace/compare.ts';
import { UsageError, type Command, type Flags } from './command.ts';
import { load } from './load.ts';

/** JSON has no NaN: a figure with nothing to measure is null. */
const finite = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** Runs of unequal length or volume: totals differ for that reason alone, so say to read the rates. */
function lengthNote(rows: readonly DiffRow[]): string {
  const d = rows.find((r) => r.metric === 'duration');
  const m = rows.find((r) => r.metric === 'app data moved');
  const off = (r: DiffRow | undefined): boolean => r !== undefined && (r.ratio < 0.8 || r.ratio > 1.25);
  if (!off(d) && !off(m)) return '';
  const mib = (v: number): string => (Number.isNaN(v) ? 'unknown' : v.toFixed(1));
  return `note: the runs differ in length (${d!.a.toFixed(1)} vs ${d!.b.toFixed(1)} ms virtual, ${mib(m!.a)} vs ${mib(m!.b)} MiB moved); `
    + 'compare rates (MiB/s, per MiB, percentiles), not totals\n';
}

function runDiff(a: TraceStore, b: TraceStore, labelA: string, labelB: string, json = false): { text: string; rows: DiffRow[] } {
  const rows = diffStats(traceStats(a), traceStats(b));
  const text = json
    ? JSON.stringify({ a: labelA, b: labelB, rows: rows.map((r) => ({ ...r, a: finite(r.a), b: finite(r.b), ratio: finite(r.ratio) })) }, null, 2) + '\n'
    : `A: ${labelA}\nB: ${labelB}\n${lengthNote(rows)}\n${formatDiff(rows)}`;
  return { text, rows };
}

async function cmdDiff(flags: Flags, rest: string[]): Promise<number> {
  if (rest.length !== 2) throw new UsageError('diff needs exactly two files: A B');
  const a = await load([rest[0]!]);
  const b = await load([rest[1]!]);
  if (a.code === 2 || b.code === 2) return 2;
  process.stdout.write(runDiff(a.store, b.store, rest[0]!, rest[1]!, flags.json === true).text);
  return Math.max(a.code, b.code);
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare two runs: rates, percentiles and per-opcode counts, A vs B (JSON with --json)',
  usage: '  diff     A B [--json]',
  options: { json: { type: 'boolean' } },
  positionals: true,
  run: cmdDiff,
};
