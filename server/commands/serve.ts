// `fusescope serve`: the UI and a live session (a simulator scenario, or fuse servers' own events
// with --instrument, docs/instrumentation.md), every source run recorded unless --no-record.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { DEFAULT_HISTORY_MAX_BYTES, LiveSession } from '../hub/live-session.ts';
import { isLoopback, startServer, type CaptureController, type RunningServer } from '../http-server.ts';
import { listScenarios, simSource, DEFAULT_SCENARIO } from '../sources/sim.ts';
import { instrumentSession, listenInstrument, parseInstrumentTarget, type InstrumentListener } from '../sources/instrument.ts';
import { DEFAULT_RECORD_MAX_BYTES, DEFAULT_SESSIONS_DIR, SessionRecorder } from '../recorder/session-recorder.ts';
import { UsageError, log, type Command, type Flags } from './command.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function cmdServe(flags: Flags): Promise<number> {
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
    historyMaxBytes: historyMaxBytes(flags),
    ...(instrument ? instrumentSession(instrument) : {}),
    log: (line) => process.stderr.write(`fusescope: ${line}\n`),
  });
  const server = await serveSession(session, flags);
  const stopRecording = startSessionRecording(session, flags);
  session.recorded = !flags['no-record'];
  session.start();
  process.stdout.write(`fusescope: streaming scenario '${session.state.scenario}' (seed ${seed})\n`);
  if (instrument) process.stdout.write(`fusescope: instrumentation socket on ${instrument.address}\n`);
  if (instrument?.token) {
    // Any local user or web page can reach a TCP port: a hello without this run's token is refused.
    process.stdout.write(`fusescope: instrumentation token ${instrument.token} (send it in the hello: "token":"…"; ` +
      `\`fusescope mount --instrument ${instrument.port} --instrument-token ${instrument.token}\` or FUSESCOPE_INSTRUMENT_TOKEN)\n`);
  }
  process.stdout.write(`fusescope: open ${server.url}\n`);
  const shutdown = (): void => {
    session.stop();
    stopRecording();
    void Promise.all([server.close(), instrument?.close()]).then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  return 0; // the server holds the event loop until a signal
}

/** `--history-mb N`: MiB of encoded batches kept for viewers that join late or pause (default 64). */
export function historyMaxBytes(flags: Flags): number {
  const mb = flags['history-mb'] as number | undefined;
  if (mb === undefined) return DEFAULT_HISTORY_MAX_BYTES;
  if (!(mb > 0)) throw new UsageError('--history-mb must be > 0');
  return Math.round(mb * 1024 * 1024);
}

/**
 * The HTTP/websocket server of a live session, from --host/--port/--token/--record-dir: binds
 * 127.0.0.1 unless told; a non-loopback --host without --token gets a generated one. `serve` and
 * `capture` share it, and so its security defaults. `capture`: the page may start workload runs
 * (only `capture --allow-capture` passes one).
 */
export async function serveSession(session: LiveSession, flags: Flags, capture?: CaptureController): Promise<RunningServer> {
  const host = (flags.host as string | undefined) ?? '127.0.0.1';
  let token = flags.token as string | undefined;
  if (!isLoopback(host) && !token) {
    token = randomBytes(18).toString('base64url');
  }
  return startServer({
    host,
    port: (flags.port as number | undefined) ?? 7681,
    token,
    distDir: resolve(REPO_ROOT, 'dist'),
    session,
    capture,
    // The page lists and opens these read-only (/api/recordings), also under --no-record.
    recordingsDir: resolve((flags['record-dir'] as string | undefined) ?? DEFAULT_SESSIONS_DIR),
    log: (line) => process.stderr.write(`fusescope: ${line}\n`),
  });
}

/** `--instrument PATH|PORT`: the listener whose stream replaces the simulator (null without the flag). */
async function openInstrument(flags: Flags): Promise<InstrumentListener | null> {
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

/**
 * Records every source run of `session` unless --no-record; returns a closer for shutdown, with
 * `currentPath()`: the file being written (null: none yet, or not recording).
 */
export function startSessionRecording(session: LiveSession, flags: Flags): (() => void) & { currentPath(): string | null } {
  if (flags['no-record']) return Object.assign(() => {}, { currentPath: () => null });
  const maxBytes = (flags['record-max-bytes'] as number | undefined) ?? DEFAULT_RECORD_MAX_BYTES;
  if (!(maxBytes > 0)) throw new UsageError('--record-max-bytes must be > 0');
  const dir = resolve((flags['record-dir'] as string | undefined) ?? DEFAULT_SESSIONS_DIR);
  // A file-system error pauses recording (the reason goes to the log and every viewer); the session goes on.
  const rec = new SessionRecorder({ dir, maxBytes, log, onStatus: (s) => session.setRecordingStatus(s) });
  const remove = session.addListener(rec);
  log(`recording sessions to ${dir} (cap ${maxBytes} bytes; --no-record to disable)`);
  return Object.assign(() => {
    remove();
    rec.close();
  }, { currentPath: () => rec.currentPath });
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the UI and stream a scenario, or instrumented fuse servers, live (recorded unless --no-record)',
  usage: [
    '  serve    [--host 127.0.0.1] [--port 7681] [--token T] [--scenario NAME|FILE] [--seed N] [--speed X]',
    '           [--instrument PATH|PORT]  (unix socket PATH, mode 0600 (recommended), or TCP PORT on 127.0.0.1:',
    '            clients must send the per-run token serve prints in their hello)',
    '  (serve also takes --record-dir DIR (default .fusescope/sessions), --no-record, --record-max-bytes N,',
    '   --history-mb N: MiB of the run kept for pages that join late or pause, default 64)',
  ].join('\n'),
  options: {
    host: { type: 'string' }, port: { type: 'string' }, token: { type: 'string' }, scenario: { type: 'string' },
    seed: { type: 'string' }, speed: { type: 'string' }, instrument: { type: 'string' },
    'record-dir': { type: 'string' }, 'no-record': { type: 'boolean' }, 'record-max-bytes': { type: 'string' },
    'history-mb': { type: 'string' },
  },
  numbers: ['port', 'seed', 'speed', 'record-max-bytes', 'history-mb'],
  positionals: false,
  run: cmdServe,
};
