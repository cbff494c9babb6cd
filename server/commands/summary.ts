// `fusescope summary FILE…`: one JSON object for any file fusescope reads (src/trace/summary.ts).
// Exit codes as import: 0 ok, 1 input errors found (the rest still read), 2 unusable or usage.
import { existsSync } from 'node:fs';
import { IMPORT_FORMATS } from '../../src/trace/import/index.ts';
import { summarize } from '../../src/trace/summary.ts';
import { reportDiags } from '../sources/files.ts';
import { UsageError, type Command, type Flags } from './command.ts';
import { exitCodeOf, loadFiles, parseFormat } from './load.ts';
import { readStoredFindings, splitRecordings } from './recording-files.ts';

async function cmdSummary(flags: Flags, rest: string[]): Promise<number> {
  if (rest.length === 0) throw new UsageError('summary needs at least one FILE');
  for (const f of rest) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const format = parseFormat(flags.format);
  const r = await loadFiles(rest, format, flags['align-starts'] === true);
  // One recording: the findings its writer stored are used when they cover every row read (their
  // row numbers are then this store's); otherwise they are recomputed and the summary says why.
  const stored = rest.length === 1 && (await splitRecordings(rest)).recordings.length === 1 ? await readStoredFindings(rest[0]!) : null;
  const useStored = stored?.status === 'stored' && stored.stored.rows === r.store.length ? stored.stored : null;
  const summary = summarize(r.store, r.diags, r.diagCount, useStored?.findings);
  const out: Record<string, unknown> = { ...summary };
  if (stored) {
    // Added key: where the findings came from.
    out.findings = {
      ...summary.findings,
      stored: useStored
        ? { rows: useStored.rows, rules: useStored.rules }
        : stored.status === 'stored'
          ? { rows: null, why: `the stored findings cover rows 0..${stored.stored.rows - 1} of ${r.store.length}: recomputed over all rows` }
          : { rows: null, why: `${stored.status}: ${stored.reason}; recomputed` },
    };
  }
  // Added keys (the contract allows additions): per-lock-address attribution and join statistics.
  if (r.result.attributions.length > 0) out.lockAttribution = r.result.attributions;
  if (r.result.joins.length > 0) out.joins = r.result.joins;
  // Several files: where each landed on the one time axis (docs/import.md "One clock").
  if (r.result.files.length > 1) {
    out.clocks = r.result.files.map((f) => ({
      file: f.name, format: f.format, clock: f.clock.id, sameClockAsFirst: f.sameClock, originNs: String(f.originNs),
      offsetNs: f.offsetNs, aligned: f.aligned, shiftNs: String(f.shiftNs),
    }));
  }
  // Added key: files whose events (some or all) have no real time (pasted lines without the
  // `comm-pid [cpu] time:` prefix): their times are the file's order, 1 µs apart, so every duration,
  // wait, latency and rate above that involves them is null (src/trace/untimed.ts).
  // A log joined with a kernel trace is not a file of its own on the axis: its untimed events
  // (requests outside the trace window, its other lines) are counted by the join.
  const untimed = [
    ...r.result.files.filter((f) => f.untimedEvents > 0).map((f) => ({ file: f.name, events: f.eventCount, untimedEvents: f.untimedEvents })),
    ...r.result.joins.filter((j) => j.untimedEvents > 0).map((j) => ({ file: j.log, events: j.logEvents, untimedEvents: j.untimedEvents })),
  ];
  if (untimed.length > 0) {
    out.timesUnknown = {
      files: untimed,
      note: 'these events come from lines without times: only their order is known; every duration, wait and rate involving them is null (unknown), the checks count them as not judged',
    };
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  reportDiags(r);
  return exitCodeOf(r, rest);
}

export const summaryCommand: Command = {
  name: 'summary',
  summary: 'print one JSON object (counts, alias groups, locks, cache, accounting) for any trace or recording',
  usage: `  summary  FILE… [--format auto|${IMPORT_FORMATS.join('|')}] [--align-starts]`,
  options: { format: { type: 'string' }, 'align-starts': { type: 'boolean' } },
  positionals: true,
  run: cmdSummary,
};
