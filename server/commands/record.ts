// `fusescope record --source sim|files|instrument … -o OUT.fscope`
//   sim         runs the simulator (a LiveSource, flat out) into a recording (runRecord)
//   files       records what `fusescope import` loads: the imported store plus its diagnostics as
//               `diag` events (recordImport)
//   instrument  listens on the instrumentation socket until stopped (record-instrument.ts)
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Recorder } from '../recorder/recorder.ts';
import { simSource, DEFAULT_SCENARIO } from '../sources/sim.ts';
import type { LiveSink } from '../sources/live-source.ts';
import type { Diag, TraceEvent } from '../../src/trace/schema.ts';
import type { TraceStore } from '../../src/trace/store.ts';
import type { ParseDiag } from '../../src/trace/import/diagnostics.ts';
import { IMPORT_FORMATS, type ImportFormat } from '../../src/trace/import/index.ts';
import { reportDiags } from '../sources/files.ts';
import { parseInstrumentTarget } from '../sources/instrument.ts';
import { recordInstrument } from './record-instrument.ts';
import { UsageError, log, type Command, type Flags } from './command.ts';
import { loadFiles } from './load.ts';
import { asTaskId } from '../../src/trace/ids.ts';

export interface RecordOptions {
  source: string;
  scenario?: string;
  seed?: number;
  events?: number;
  policy?: string;
  out: string;
}

export async function runRecord(o: RecordOptions, log: (line: string) => void = () => {}): Promise<{ events: number; bytes: number }> {
  if (o.source !== 'sim') throw new UsageError(`--source must be sim, files or instrument, not '${o.source}'`);
  if (o.policy !== undefined && o.policy !== 'per-path' && o.policy !== 'ino') {
    throw new UsageError(`--policy must be per-path or ino, not '${o.policy}'`);
  }
  const name = o.scenario ?? DEFAULT_SCENARIO;
  const seed = o.seed ?? 1;
  const maxEvents = o.events ?? 100_000;
  const user = new Map<string, unknown>();
  if (existsSync(name)) user.set(name, JSON.parse(await readFile(name, 'utf8')));
  const sim = simSource(name, seed, user, { flatOutEvents: maxEvents, ...(o.policy ? { policy: o.policy as 'per-path' | 'ino' } : {}) });
  if (existsSync(o.out)) throw new UsageError(`${o.out} exists; recordings are never overwritten`);
  const rec = new Recorder(o.out, { checks: {}, meta: { source: sim.info.label, scenario: name, seed, ...(o.policy ? { policy: o.policy } : {}) } });
  let written = 0;
  let failed: string | undefined;
  const buf: TraceEvent[] = [];
  const sink: LiveSink = {
    event: (ev) => { buf.push(ev); },
    flush: () => {
      rec.appendEvents(buf);
      written += buf.length;
      buf.length = 0;
    },
    end: (error) => { failed = error; },
  };
  try {
    await sim.start(sink, new AbortController().signal);
  } finally {
    rec.close();
  }
  if (failed !== undefined) throw new Error(failed);
  log(`wrote ${written} events to ${o.out} (${rec.bytesWritten} bytes, ${(rec.bytesWritten / Math.max(1, written)).toFixed(1)} B/event)`);
  return { events: written, bytes: rec.bytesWritten };
}

/** Task of the diag events that carry import diagnostics into a recording. */
export const IMPORT_DIAG_TASK = asTaskId('fusescope/import');

/** An import diagnostic as a `diag` event at `tsNs` (the column, if any, leads the message as in formatDiag). */
export function diagEventOf(d: ParseDiag, tsNs: number): Diag {
  return {
    kind: 'diag', tsNs, task: IMPORT_DIAG_TASK, severity: 'warn', code: d.code,
    message: d.col ? `col ${d.col}: ${d.message}` : d.message, file: d.source, line: d.line,
  };
}

/**
 * Writes an imported store to a new recording. The import's diagnostics come first, as `diag`
 * events at the first row's time (they have no time of their own): the kept ones, then one
 * `diags_not_kept` event with the count of the rest, so a recording says what its import said.
 */
export function recordImport(
  r: { store: TraceStore; diags: readonly ParseDiag[]; diagCount: number },
  out: string,
  meta: Record<string, unknown>,
): { events: number; bytes: number } {
  if (existsSync(out)) throw new UsageError(`${out} exists; recordings are never overwritten`);
  const rec = new Recorder(out, { originNs: r.store.originNs, checks: {}, meta });
  try {
    const atNs = r.store.startNs;
    rec.appendEvents(r.diags.map((d) => diagEventOf(d, atNs)));
    if (r.diagCount > r.diags.length) {
      rec.appendEvent({
        kind: 'diag', tsNs: atNs, task: IMPORT_DIAG_TASK, severity: 'warn', code: 'diags_not_kept', file: '', line: 0,
        message: `${r.diagCount - r.diags.length} more diagnostic(s) were counted but not kept`,
      });
    }
    rec.appendRows(r.store);
  } finally {
    rec.close();
  }
  return { events: rec.rowsWritten, bytes: rec.bytesWritten };
}

async function cmdRecord(flags: Flags, rest: string[]): Promise<number> {
  const source = (flags.source as string | undefined) ?? 'sim';
  const out = flags.out as string | undefined;
  if (!out) throw new UsageError('record needs -o OUT.fscope');
  const only = (allowed: string[]): void => {
    for (const name of Object.keys(flags)) {
      if (name !== 'source' && name !== 'out' && !allowed.includes(name)) throw new UsageError(`--${name} does not apply to --source ${source}`);
    }
  };
  switch (source) {
    case 'files':
      only(['format', 'align-starts']);
      return await recordFiles(rest, out, flags.format, flags['align-starts'] === true);
    case 'instrument':
      only(['duration-s']);
      return await recordInstrumentCmd(rest, out, flags['duration-s'] as number | undefined);
    default:
      only(['scenario', 'seed', 'events', 'policy']);
      if (rest.length > 0) throw new UsageError(`record --source ${source} takes no positional arguments (got ${rest.join(' ')})`);
      await runRecord({
        source, out,
        scenario: flags.scenario as string | undefined, seed: flags.seed as number | undefined,
        events: flags.events as number | undefined, policy: flags.policy as string | undefined,
      }, log);
      return 0;
  }
}

/** `--source files FILE…`: exit codes as `fusescope import`: 0 ok, 1 diagnostics (still recorded), 2 nothing usable. */
async function recordFiles(files: string[], out: string, formatFlag: unknown, alignStarts: boolean): Promise<number> {
  if (files.length === 0) throw new UsageError('record --source files needs at least one FILE');
  for (const f of files) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const format = (formatFlag as string | undefined) ?? 'auto';
  if (format !== 'auto' && !(IMPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be auto, ${IMPORT_FORMATS.join(', ')}; not '${format}'`);
  }
  if (existsSync(out)) throw new UsageError(`${out} exists; recordings are never overwritten`);
  const r = await loadFiles(files, format as ImportFormat | 'auto', alignStarts);
  reportDiags(r);
  if (r.unusable.length === files.length || r.store.length === 0) {
    log('nothing usable to record');
    return 2;
  }
  const formats = files.map((f) => ({ file: f, format: r.formats.get(f) ?? (r.unusable.includes(f) ? 'unusable' : 'fscope') }));
  const w = recordImport(r, out, {
    source: `import:${formats.map((f) => `${f.format}:${f.file}`).join(',')}`,
    files: formats,
    ...(r.result.joins.length > 0 ? { joins: r.result.joins } : {}),
    ...(r.diagCount > 0 ? { diagCount: r.diagCount } : {}),
    ...(r.result.clock?.id ? { clock: r.result.clock.id } : {}),
  });
  log(`wrote ${w.events} events to ${out} (${w.bytes} bytes; ${r.store.length} imported, ${w.events - r.store.length} diag)`);
  return r.diagCount > 0 ? 1 : 0;
}

/**
 * `--source instrument PATH|PORT`: records until SIGINT/SIGTERM or `--duration-s`. Exit codes:
 * 0 ok, 1 the stream carried warnings (bad lines, floods), 2 no client connected (the recording
 * is still written, complete and empty).
 */
async function recordInstrumentCmd(rest: string[], out: string, durationS: number | undefined): Promise<number> {
  if (rest.length !== 1) throw new UsageError('record --source instrument needs one PATH (unix socket) or PORT (TCP on 127.0.0.1)');
  let target;
  try {
    target = parseInstrumentTarget(rest[0]!);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const r = await recordInstrument({ target, out, durationS, signal: stop.signal, log });
    log(`wrote ${r.events} events from ${r.connections} connection(s) to ${out} (${r.bytes} bytes)`);
    if (r.connections === 0) {
      log('no client connected');
      return 2;
    }
    return r.problemDiags > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const recordCommand: Command = {
  name: 'record',
  summary: 'write a .fscope recording from the simulator, from trace files, or from the instrumentation socket',
  usage: [
    '  record   --source sim [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] -o OUT.fscope',
    `  record   --source files FILE… [--format auto|${IMPORT_FORMATS.join('|')}] [--align-starts] -o OUT.fscope`,
    '  record   --source instrument PATH|PORT [--duration-s N] -o OUT.fscope   (until SIGINT/SIGTERM)',
  ].join('\n'),
  options: {
    source: { type: 'string' }, scenario: { type: 'string' }, seed: { type: 'string' }, events: { type: 'string' },
    policy: { type: 'string' }, out: { type: 'string', short: 'o' }, format: { type: 'string' },
    'duration-s': { type: 'string' }, 'align-starts': { type: 'boolean' },
  },
  numbers: ['seed', 'events', 'duration-s'],
  positionals: true,
  run: cmdRecord,
};
