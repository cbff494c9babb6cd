// Argument handling for the recording-related subcommands (record, export, diff) and the serve
// recording flags. cli.ts passes its parser, usage error and file loader in (`CliContext`) so this
// folder never imports cli.ts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TraceStore } from '../../src/trace/store.ts';
import { formatDiag } from '../../src/trace/import/diagnostics.ts';
import { IMPORT_FORMATS, type ImportFormat } from '../../src/trace/import/index.ts';
import { reportDiags, type LoadResult } from '../sources/files.ts';
import { parseInstrumentTarget } from '../sources/instrument.ts';
import type { LiveSession } from '../hub/live-session.ts';
import { DEFAULT_RECORD_MAX_BYTES, DEFAULT_SESSIONS_DIR, SessionRecorder } from '../recorder/session-recorder.ts';
import { RecordUsageError, recordImport, runRecord } from './record.ts';
import { recordInstrument } from './record-instrument.ts';
import { EXPORT_FORMATS, exportRecordingArrow, runExport, type ExportFormat } from './export.ts';
import { isRecordingFile } from './recording-files.ts';
import { openRecordingFile } from '../recorder/file-source.ts';
import { runDiff } from './diff.ts';

type Flags = Record<string, string | number | boolean>;
export interface CliContext {
  parseArgs(argv: string[], spec: Record<string, 'string' | 'number' | 'boolean'>): { flags: Flags; rest: string[] };
  usage(message: string): Error;
  /** The loader of `fusescope import` (text formats through the importers, .fscope through the reader). */
  loadFiles(files: string[], format?: ImportFormat | 'auto', alignStarts?: boolean): Promise<LoadResult>;
}

const log = (line: string): void => { process.stderr.write(`fusescope: ${line}\n`); };
/** `-o X` is accepted as `--out X`. */
const withOut = (argv: string[]): string[] => argv.map((a) => (a === '-o' ? '--out' : a));

export async function cmdRecord(argv: string[], ctx: CliContext): Promise<number> {
  const { flags, rest } = ctx.parseArgs(withOut(argv), {
    source: 'string', scenario: 'string', seed: 'number', events: 'number', policy: 'string', out: 'string',
    format: 'string', 'duration-s': 'number', 'align-starts': 'boolean',
  });
  const source = (flags.source as string | undefined) ?? 'sim';
  const out = flags.out as string | undefined;
  if (!out) throw ctx.usage('record needs -o OUT.fscope');
  const only = (allowed: string[]): void => {
    for (const name of Object.keys(flags)) {
      if (name !== 'source' && name !== 'out' && !allowed.includes(name)) throw ctx.usage(`--${name} does not apply to --source ${source}`);
    }
  };
  try {
    switch (source) {
      case 'files':
        only(['format', 'align-starts']);
        return await recordFiles(rest, out, flags.format, flags['align-starts'] === true, ctx);
      case 'instrument':
        only(['duration-s']);
        return await recordInstrumentCmd(rest, out, flags['duration-s'] as number | undefined, ctx);
      default:
        only(['scenario', 'seed', 'events', 'policy']);
        if (rest.length > 0) throw ctx.usage(`record --source ${source} takes no positional arguments (got ${rest.join(' ')})`);
        await runRecord({
          source, out,
          scenario: flags.scenario as string | undefined, seed: flags.seed as number | undefined,
          events: flags.events as number | undefined, policy: flags.policy as string | undefined,
        }, log);
        return 0;
    }
  } catch (err) {
    if (err instanceof RecordUsageError) throw ctx.usage(err.message);
    throw err;
  }
}

/** `--source files FILE…`: exit codes as `fusescope import`: 0 ok, 1 diagnostics (still recorded), 2 nothing usable. */
async function recordFiles(files: string[], out: string, formatFlag: unknown, alignStarts: boolean, ctx: CliContext): Promise<number> {
  if (files.length === 0) throw ctx.usage('record --source files needs at least one FILE');
  for (const f of files) if (!existsSync(f)) throw ctx.usage(`${f}: no such file`);
  const format = (formatFlag as string | undefined) ?? 'auto';
  if (format !== 'auto' && !(IMPORT_FORMATS as readonly string[]).includes(format)) {
    throw ctx.usage(`--format must be auto, ${IMPORT_FORMATS.join(', ')}; not '${format}'`);
  }
  if (existsSync(out)) throw ctx.usage(`${out} exists; recordings are never overwritten`);
  const r = await ctx.loadFiles(files, format as ImportFormat | 'auto', alignStarts);
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
async function recordInstrumentCmd(rest: string[], out: string, durationS: number | undefined, ctx: CliContext): Promise<number> {
  if (rest.length !== 1) throw ctx.usage('record --source instrument needs one PATH (unix socket) or PORT (TCP on 127.0.0.1)');
  let target;
  try {
    target = parseInstrumentTarget(rest[0]!);
  } catch (e) {
    throw ctx.usage((e as Error).message);
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

async function load(ctx: CliContext, files: string[]): Promise<{ store: TraceStore; code: number }> {
  for (const f of files) if (!existsSync(f)) throw ctx.usage(`${f}: no such file`);
  const r = await ctx.loadFiles(files);
  for (const d of r.diags.slice(0, 20)) process.stderr.write(`${formatDiag(d)}\n`);
  if (r.store.length === 0) {
    log(`${files.join(', ')}: no events`);
    return { store: r.store, code: 2 };
  }
  return { store: r.store, code: r.diagCount > 0 ? 1 : 0 };
}

/** Exit codes: 0 ok, 1 written but the input had diagnostics (e.g. a damaged recording), 2 unusable/usage. */
export async function cmdExport(argv: string[], ctx: CliContext): Promise<number> {
  const { flags, rest } = ctx.parseArgs(withOut(argv), { format: 'string', out: 'string' });
  const format = flags.format as string | undefined;
  if (!format || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw ctx.usage(`export needs --format ${EXPORT_FORMATS.join('|')}`);
  }
  const out = flags.out as string | undefined;
  if (!out) throw ctx.usage('export needs -o OUT');
  if (rest.length === 0) throw ctx.usage('export needs a FILE');
  if (format === 'arrow' && rest.length === 1) {
    const streamed = await streamArrow(rest[0]!, out, ctx);
    if (streamed !== null) return streamed;
  }
  const { store, code } = await load(ctx, rest);
  if (code === 2) return 2;
  const bytes = await runExport(store, format as ExportFormat, out, rest.join(','));
  log(`wrote ${store.length} events as ${format} to ${out} (${bytes} bytes)`);
  return code;
}

/**
 * Arrow export of one recording, chunk by chunk (export.ts). Null when the input is not a
 * recording, or one that does not open or holds no rows: the in-memory path reports those.
 */
async function streamArrow(file: string, out: string, ctx: CliContext): Promise<number | null> {
  if (!existsSync(file)) throw ctx.usage(`${file}: no such file`);
  if (!(await isRecordingFile(file))) return null;
  let opened;
  try {
    opened = await openRecordingFile(file);
  } catch {
    return null; // the in-memory path opens it again and reports why it cannot (recording_refused, exit 2)
  }
  try {
    if (opened.reader.totalRows === 0) return null;
    const r = await exportRecordingArrow(opened.reader, out, file);
    if (r.damage) process.stderr.write(`${formatDiag({ source: file, line: 0, code: 'recording_damaged', message: r.damage })}\n`);
    log(`wrote ${r.rows} events as arrow to ${out} (${r.bytes} bytes; streamed, at most ${r.maxRowsHeld} rows held)`);
    return r.damage ? 1 : 0;
  } finally {
    await opened.close();
  }
}

export async function cmdDiff(argv: string[], ctx: CliContext): Promise<number> {
  const { flags, rest } = ctx.parseArgs(argv, { json: 'boolean' });
  if (rest.length !== 2) throw ctx.usage('diff needs exactly two files: A B');
  const a = await load(ctx, [rest[0]!]);
  const b = await load(ctx, [rest[1]!]);
  if (a.code === 2 || b.code === 2) return 2;
  process.stdout.write(runDiff(a.store, b.store, rest[0]!, rest[1]!, flags.json === true).text);
  return Math.max(a.code, b.code);
}

/** Flags `serve` adds for recording; merge into its parseArgs spec. */
export const SERVE_RECORD_FLAGS = { 'record-dir': 'string', 'no-record': 'boolean', 'record-max-bytes': 'number' } as const;

/** Records every source run of `session` unless --no-record; returns a closer for shutdown. */
export function startSessionRecording(session: LiveSession, flags: Flags, ctx: Pick<CliContext, 'usage'>): () => void {
  if (flags['no-record']) return () => {};
  const maxBytes = (flags['record-max-bytes'] as number | undefined) ?? DEFAULT_RECORD_MAX_BYTES;
  if (!(maxBytes > 0)) throw ctx.usage('--record-max-bytes must be > 0');
  const dir = resolve((flags['record-dir'] as string | undefined) ?? DEFAULT_SESSIONS_DIR);
  const rec = new SessionRecorder({ dir, maxBytes, log });
  const remove = session.addListener(rec);
  log(`recording sessions to ${dir} (cap ${maxBytes} bytes; --no-record to disable)`);
  return () => {
    remove();
    rec.close();
  };
}
