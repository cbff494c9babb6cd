// The `fusescope` command line. Each subcommand is a small function; argument parsing is strict:
// an unknown flag or a bad value is an error with exit code 2, never silently ignored.
//
//   fusescope serve   [--host H] [--port N] [--token T] [--scenario NAME|FILE] [--seed N] [--speed X]
//                     [--instrument PATH|PORT]   (stream fuse servers' own events; docs/instrumentation.md)
//   fusescope sim     [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] --out FILE
//   fusescope sim     --list
//   fusescope summary FILE…                      (any format, detected by content)
//   fusescope import  FILE… [-o OUT] [--format auto|ftrace|fuse-log|ndjson]
//   fusescope record  --source sim [--scenario NAME] [--seed N] [--events N] -o OUT.fscope   (server/commands/)
//   fusescope record  --source files FILE… [--format …] -o OUT.fscope   (what import loads, diags included)
//   fusescope record  --source instrument PATH|PORT [--duration-s N] -o OUT.fscope   (until SIGINT/SIGTERM)
//   fusescope export  FILE… --format chrome-json|perfetto|arrow -o OUT
//   fusescope diff    A B [--json]
//
// Exit codes of import and summary: 0 ok, 1 input errors found (the rest was still imported),
// 2 unusable (no file readable/recognised, or no events at all) or a usage error.

import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { eventLine, headerLine } from '../src/trace/ndjson.ts';
import { IMPORT_FORMATS, type ImportFormat } from '../src/trace/import/index.ts';
import { loadFiles as loadAnyFiles, reportDiags, type LoadResult } from './sources/files.ts';
import { summarize } from '../src/trace/summary.ts';
import { LiveSession } from './hub/live-session.ts';
import { isLoopback, startServer } from './http-server.ts';
import { listScenarios, makeSimulation, simSource, DEFAULT_SCENARIO } from './sources/sim.ts';
import { instrumentSession, listenInstrument, parseInstrumentTarget, type InstrumentListener } from './sources/instrument.ts';
import { SERVE_RECORD_FLAGS, cmdDiff, cmdExport, cmdRecord, startSessionRecording, type CliContext } from './commands/index.ts';
import { appendRecordings, splitRecordings } from './commands/recording-files.ts';
import { DEFAULT_SESSIONS_DIR } from './recorder/session-recorder.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export class UsageError extends Error {}

type FlagSpec = Record<string, 'string' | 'number' | 'boolean'>;

/** Parses `--name value` / `--name=value` / `--flag`; positional arguments are returned apart. */
export function parseArgs(argv: string[], spec: FlagSpec): { flags: Record<string, string | number | boolean>; rest: string[] } {
  const flags: Record<string, string | number | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const type = spec[name];
    if (!type) throw new UsageError(`unknown option --${name}`);
    if (type === 'boolean') {
      flags[name] = true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    if (type === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new UsageError(`--${name}: '${raw}' is not a number`);
      flags[name] = n;
    } else flags[name] = raw;
  }
  return { flags, rest };
}

async function cmdServe(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, {
    host: 'string', port: 'number', token: 'string', scenario: 'string', seed: 'number', speed: 'number',
    instrument: 'string',
    ...SERVE_RECORD_FLAGS,
  });
  const host = (flags.host as string | undefined) ?? '127.0.0.1';
  let token = flags.token as string | undefined;
  if (!isLoopback(host) && !token) {
    token = randomBytes(18).toString('base64url');
  }
  const seed = (flags.seed as number | undefined) ?? 1;
  const initial = (flags.scenario as string | undefined) ?? DEFAULT_SCENARIO;
  const userScenarios = new Map<string, unknown>();
  if (existsSync(initial)) userScenarios.set(initial, JSON.parse(await readFile(initial, 'utf8')));
  const instrument = await openInstrument(flags);
  const session = new LiveSession({
    scenarios: listScenarios(userScenarios),
    scenario: initial,
    speed: (flags.speed as number | undefined) ?? 1,
    makeSource: (name) => simSource(name, seed, userScenarios),
    ...(instrument ? instrumentSession(instrument) : {}),
    log: (line) => process.stderr.write(`fusescope: ${line}\n`),
  });
  const server = await startServer({
    host,
    port: (flags.port as number | undefined) ?? 7681,
    token,
    distDir: resolve(REPO_ROOT, 'dist'),
    session,
    // The page lists and opens these read-only (/api/recordings), also under --no-record.
    recordingsDir: resolve((flags['record-dir'] as string | undefined) ?? DEFAULT_SESSIONS_DIR),
    log: (line) => process.stderr.write(`fusescope: ${line}\n`),
  });
  const stopRecording = startSessionRecording(session, flags, CLI);
  session.start();
  process.stdout.write(`fusescope: streaming scenario '${session.state.scenario}' (seed ${seed})\n`);
  if (instrument) process.stdout.write(`fusescope: instrumentation socket on ${instrument.address}\n`);
  process.stdout.write(`fusescope: open ${server.url}\n`);
  const shutdown = (): void => {
    session.stop();
    stopRecording();
    void Promise.all([server.close(), instrument?.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/** `--instrument PATH|PORT`: the listener whose stream replaces the simulator (null without the flag). */
async function openInstrument(flags: Record<string, string | number | boolean>): Promise<InstrumentListener | null> {
  if (flags.instrument === undefined) return null;
  if (flags.scenario !== undefined) throw new UsageError('--instrument and --scenario exclude each other: the session streams the instrumented servers');
  let target;
  try {
    target = parseInstrumentTarget(String(flags.instrument));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  return listenInstrument(target);
}

async function cmdSim(argv: string[]): Promise<void> {
  const { flags } = parseArgs(argv, {
    scenario: 'string', seed: 'number', events: 'number', out: 'string', policy: 'string', list: 'boolean',
  });
  if (flags.list) {
    for (const s of listScenarios(new Map())) process.stdout.write(`${s.name}\t${s.description}\n`);
    return;
  }
  const out = flags.out as string | undefined;
  if (!out) throw new UsageError('sim needs --out FILE');
  const name = (flags.scenario as string | undefined) ?? DEFAULT_SCENARIO;
  const seed = (flags.seed as number | undefined) ?? 1;
  const maxEvents = (flags.events as number | undefined) ?? 100_000;
  const policy = flags.policy as string | undefined;
  if (policy !== undefined && policy !== 'per-path' && policy !== 'ino') {
    throw new UsageError(`--policy must be per-path or ino, not '${policy}'`);
  }
  const userScenarios = new Map<string, unknown>();
  if (existsSync(name)) userScenarios.set(name, JSON.parse(await readFile(name, 'utf8')));
  const { simulation, label } = makeSimulation(name, seed, userScenarios, policy);
  const stream = createWriteStream(out);
  stream.write(headerLine({ originNs: '0', source: label, clock: `sim:${label}` }) + '\n');
  let buffered: string[] = [];
  let written = 0;
  while (written < maxEvents && !simulation.done) {
    const n = simulation.runEvents(Math.min(10_000, maxEvents - written), (ev) => buffered.push(eventLine(ev)));
    if (n === 0) break;
    written += n;
    if (!stream.write(buffered.join('\n') + '\n')) await once(stream, 'drain');
    buffered = [];
  }
  stream.end();
  await once(stream, 'finish');
  process.stderr.write(`fusescope: wrote ${written} events to ${out}\n`);
}

/** Reads trace files of any supported format into one store (see server/sources/files.ts). */
export async function loadFiles(files: string[], format: ImportFormat | 'auto' = 'auto', alignStarts = false): Promise<LoadResult> {
  let last = 0;
  const tty = process.stderr.isTTY === true;
  const { recordings, others } = await splitRecordings(files);
  const r = await loadAnyFiles(others, {
    format,
    alignStarts,
    onProgress: tty
      ? (file, done, total) => {
        const now = Date.now();
        if (now - last < 100 && done < total) return;
        last = now;
        const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
        const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
        process.stderr.write(`\r${bar} ${String(pct).padStart(3)}% ${file}`.slice(0, process.stderr.columns ?? 100));
      }
      : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  await appendRecordings(r, recordings);
  return r;
}

/** 0 ok, 1 diagnostics (still imported), 2 nothing usable. */
function exitCodeOf(r: LoadResult, files: string[]): number {
  if (r.unusable.length === files.length || r.store.length === 0) return 2;
  return r.diagCount > 0 ? 1 : 0;
}

function parseFormat(v: unknown): ImportFormat | 'auto' {
  const f = (v as string | undefined) ?? 'auto';
  if (f !== 'auto' && !(IMPORT_FORMATS as readonly string[]).includes(f)) {
    throw new UsageError(`--format must be auto, ${IMPORT_FORMATS.join(', ')}; not '${f}'`);
  }
  return f as ImportFormat | 'auto';
}

async function cmdSummary(argv: string[]): Promise<number> {
  const { flags, rest } = parseArgs(argv, { format: 'string', 'align-starts': 'boolean' });
  if (rest.length === 0) throw new UsageError('summary needs at least one FILE');
  for (const f of rest) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const format = parseFormat(flags.format);
  const r = await loadFiles(rest, format, flags['align-starts'] === true);
  const summary = summarize(r.store, r.diags, r.diagCount);
  const out: Record<string, unknown> = { ...summary };
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
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  reportDiags(r);
  return exitCodeOf(r, rest);
}

async function cmdImport(argv: string[]): Promise<number> {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) args.push(argv[i] === '-o' ? '--out' : argv[i]!);
  const { flags, rest } = parseArgs(args, { out: 'string', format: 'string', 'align-starts': 'boolean' });
  if (rest.length === 0) throw new UsageError('import needs at least one FILE');
  for (const f of rest) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const format = parseFormat(flags.format);
  const r = await loadFiles(rest, format, flags['align-starts'] === true);
  reportDiags(r);
  const code = exitCodeOf(r, rest);
  if (code === 2) {
    process.stderr.write('fusescope: nothing usable to import\n');
    return 2;
  }
  const outPath = flags.out as string | undefined;
  const stream = outPath ? createWriteStream(outPath) : process.stdout;
  const source = `import:${rest.map((f) => `${r.formats.get(f) ?? '?'}:${f}`).join(',')}`;
  // The clock of the axis (the first file's), so a later import of this file compares clocks.
  const clock = r.result.clock?.id;
  stream.write(headerLine({ originNs: r.store.originNs.toString(), source, ...(clock ? { clock } : {}) }) + '\n');
  let lines: string[] = [];
  for (let row = 0; row < r.store.length; row++) {
    lines.push(eventLine(r.store.get(row)));
    if (lines.length === 10_000) {
      if (!stream.write(lines.join('\n') + '\n')) await once(stream, 'drain');
      lines = [];
    }
  }
  if (lines.length > 0) stream.write(lines.join('\n') + '\n');
  if (outPath) {
    (stream as ReturnType<typeof createWriteStream>).end();
    await once(stream, 'finish');
    process.stderr.write(`fusescope: wrote ${r.store.length} events to ${outPath}\n`);
  }
  return code;
}

const USAGE = `usage: fusescope <command> [options]
  serve    [--host 127.0.0.1] [--port 7681] [--token T] [--scenario NAME|FILE] [--seed N] [--speed X]
           [--instrument PATH|PORT]  (unix socket PATH, mode 0600, or TCP PORT on 127.0.0.1)
  sim      [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] --out FILE
  sim      --list
  summary  FILE… [--format auto|ftrace|fuse-log|ndjson] [--align-starts]
  import   FILE… [-o OUT.ndjson] [--format auto|ftrace|fuse-log|ndjson] [--align-starts]
  record   --source sim [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] -o OUT.fscope
  record   --source files FILE… [--format auto|ftrace|fuse-log|ndjson] [--align-starts] -o OUT.fscope
  record   --source instrument PATH|PORT [--duration-s N] -o OUT.fscope   (until SIGINT/SIGTERM)
  export   FILE… --format chrome-json|perfetto|arrow -o OUT
  diff     A B [--json]
  (serve also takes --record-dir DIR (default .fusescope/sessions), --no-record, --record-max-bytes N)
`;

const COMMANDS = ['serve', 'sim', 'summary', 'import', 'record', 'export', 'diff'] as const;

/** The usage lines of one command (its own lines, their continuations, serve's note), for `CMD --help`. */
export function usageOf(cmd: string): string {
  const out: string[] = [];
  let mine = false;
  for (const line of USAGE.split('\n').slice(1)) {
    if (/^  \w/.test(line)) mine = line.trimStart().split(/\s/)[0] === cmd;
    else if (/^  \(serve /.test(line)) mine = cmd === 'serve';
    if (mine && line !== '') out.push(line);
  }
  return `usage: fusescope ${cmd} [options]\n${out.join('\n')}\n`;
}

const CLI: CliContext = { parseArgs, usage: (m) => new UsageError(m), loadFiles: (files, format, alignStarts) => loadFiles(files, format, alignStarts) };

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  // `fusescope CMD --help` / `-h` and `fusescope help CMD`: that command's usage, exit 0.
  const helpFor = cmd === 'help' ? rest[0] : rest.includes('--help') || rest.includes('-h') ? cmd : undefined;
  if (helpFor !== undefined && (COMMANDS as readonly string[]).includes(helpFor)) {
    process.stdout.write(usageOf(helpFor));
    return 0;
  }
  try {
    switch (cmd) {
      case 'serve': await cmdServe(rest); return 0;
      case 'sim': await cmdSim(rest); return 0;
      case 'summary': return await cmdSummary(rest);
      case 'import': return await cmdImport(rest);
      case 'record': return await cmdRecord(rest, CLI);
      case 'export': return await cmdExport(rest, CLI);
      case 'diff': return await cmdDiff(rest, CLI);
      case undefined: case 'help': case '--help': case '-h':
        process.stdout.write(USAGE);
        return cmd === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command '${cmd}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`fusescope: ${err.message}\n${USAGE}`);
      return 2;
    }
    process.stderr.write(`fusescope: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2));
  // serve keeps running (its server holds the event loop); others exit with their code.
  if (process.argv[2] !== 'serve' || code !== 0) process.exitCode = code;
}
