// Argument handling for the recording-related subcommands (record, export, diff) and the serve
// recording flags. cli.ts passes its parser, usage error and file loader in (`CliContext`) so this
// folder never imports cli.ts.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TraceStore } from '../../src/trace/store.ts';
import type { ParseDiag } from '../../src/trace/ndjson.ts';
import { formatDiag } from '../../src/trace/ndjson.ts';
import type { LiveSession } from '../hub/live-session.ts';
import { DEFAULT_RECORD_MAX_BYTES, DEFAULT_SESSIONS_DIR, SessionRecorder } from '../recorder/session-recorder.ts';
import { RecordUsageError, runRecord } from './record.ts';
import { EXPORT_FORMATS, runExport, type ExportFormat } from './export.ts';
import { runDiff } from './diff.ts';

type Flags = Record<string, string | number | boolean>;
export interface CliContext {
  parseArgs(argv: string[], spec: Record<string, 'string' | 'number' | 'boolean'>): { flags: Flags; rest: string[] };
  usage(message: string): Error;
  loadFiles(files: string[]): Promise<{ store: TraceStore; diags: ParseDiag[]; diagCount: number }>;
}

const log = (line: string): void => { process.stderr.write(`fusescope: ${line}\n`); };
/** `-o X` is accepted as `--out X`. */
const withOut = (argv: string[]): string[] => argv.map((a) => (a === '-o' ? '--out' : a));

export async function cmdRecord(argv: string[], ctx: CliContext): Promise<number> {
  const { flags, rest } = ctx.parseArgs(withOut(argv), {
    source: 'string', scenario: 'string', seed: 'number', events: 'number', policy: 'string', out: 'string',
  });
  if (rest.length > 0) throw ctx.usage(`record takes no positional arguments (got ${rest.join(' ')})`);
  const out = flags.out as string | undefined;
  if (!out) throw ctx.usage('record needs -o OUT.fscope');
  try {
    await runRecord({
      source: (flags.source as string | undefined) ?? 'sim', out,
      scenario: flags.scenario as string | undefined, seed: flags.seed as number | undefined,
      events: flags.events as number | undefined, policy: flags.policy as string | undefined,
    }, log);
  } catch (err) {
    if (err instanceof RecordUsageError) throw ctx.usage(err.message);
    throw err;
  }
  return 0;
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
  const { store, code } = await load(ctx, rest);
  if (code === 2) return 2;
  const bytes = await runExport(store, format as ExportFormat, out, rest.join(','));
  log(`wrote ${store.length} events as ${format} to ${out} (${bytes} bytes)`);
  return code;
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
