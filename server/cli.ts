// The `fusescope` command line. Each subcommand is a small function; argument parsing is strict:
// an unknown flag or a bad value is an error with exit code 2, never silently ignored.
//
//   fusescope serve   [--host H] [--port N] [--token T] [--scenario NAME|FILE] [--seed N] [--speed X]
//   fusescope sim     [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] --out FILE
//   fusescope sim     --list
//   fusescope summary FILE…

import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { TraceStore } from '../src/trace/store.ts';
import { NdjsonParser, eventLine, headerLine } from '../src/trace/ndjson.ts';
import { summarize } from '../src/trace/summary.ts';
import { LiveSession } from './hub/live-session.ts';
import { isLoopback, startServer } from './http-server.ts';
import { listScenarios, makeSimulation, DEFAULT_SCENARIO } from './sim-source.ts';

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
  const session = new LiveSession({
    scenarios: listScenarios(userScenarios),
    scenario: initial,
    speed: (flags.speed as number | undefined) ?? 1,
    makeSource: (name) => makeSimulation(name, seed, userScenarios),
  });
  const server = await startServer({
    host,
    port: (flags.port as number | undefined) ?? 7681,
    token,
    distDir: resolve(REPO_ROOT, 'dist'),
    session,
    log: (line) => process.stderr.write(`fusescope: ${line}\n`),
  });
  session.start();
  process.stdout.write(`fusescope: streaming scenario '${session.state.scenario}' (seed ${seed})\n`);
  process.stdout.write(`fusescope: open ${server.url}\n`);
  const shutdown = (): void => {
    session.stop();
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
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
  stream.write(headerLine({ originNs: '0', source: label }) + '\n');
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

/** Reads fusescope files into one store (NDJSON now; recordings and imports extend this). */
export async function loadFiles(files: string[]): Promise<{ store: TraceStore; parsers: NdjsonParser[] }> {
  const store = new TraceStore();
  const parsers: NdjsonParser[] = [];
  for (const file of files) {
    const parser = new NdjsonParser(file, (ev) => store.append(ev));
    parsers.push(parser);
    const input = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    for await (const chunk of input) parser.push(chunk as string);
    parser.end();
  }
  return { store, parsers };
}

async function cmdSummary(argv: string[]): Promise<void> {
  const { rest } = parseArgs(argv, {});
  if (rest.length === 0) throw new UsageError('summary needs at least one FILE');
  for (const f of rest) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const { store, parsers } = await loadFiles(rest);
  const diags = parsers.flatMap((p) => p.diags.first);
  const count = parsers.reduce((n, p) => n + p.diags.count, 0);
  process.stdout.write(JSON.stringify(summarize(store, diags, count), null, 2) + '\n');
  if (count > 0) process.exitCode = 1;
}

const USAGE = `usage: fusescope <command> [options]
  serve    [--host 127.0.0.1] [--port 7681] [--token T] [--scenario NAME|FILE] [--seed N] [--speed X]
  sim      [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] --out FILE
  sim      --list
  summary  FILE…
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'serve': await cmdServe(rest); return 0;
      case 'sim': await cmdSim(rest); return 0;
      case 'summary': await cmdSummary(rest); return (process.exitCode as number | undefined) ?? 0;
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
