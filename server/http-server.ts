// The HTTP + websocket front of `fusescope serve`: serves the built UI from dist/ and one websocket
// endpoint, /ws, bound to a LiveSession.
//
// Security defaults: bind 127.0.0.1; refuse websocket upgrades whose Origin is not this server
// (a page on another site must not drive or read the session); when bound to a non-loopback
// address a token is required on both the page and the websocket. Nothing a browser can send
// starts anything privileged: the control messages only pause, resume, change speed or switch
// between the server's own scenarios (pause/resume without `shared` hold only the sender's own
// stream; speed and scenario without `shared` are refused, so a passive viewer changes nothing for
// the others) — except `capture_start`/`capture_stop`, which reach a
// `CaptureController` only when the CLI gave one (`capture --allow-capture`); without one they
// are refused (`capture_not_allowed`) and nothing starts.
// Each connection's messages pass a token bucket (hub/control-rate.ts) before they are parsed, and
// replies go through the session (they count against the client's budget like its frames): a
// client flooding messages or not reading is cut off, the others are served as before.
//
// Read-only recordings API (the page opens saved sessions with it; same token rule as the page):
//   GET /api/recordings          {recordings: [{name, bytes, mtimeMs, events|null}]}, newest first
//   GET /api/recordings/<name>   the .fscope bytes; <name> is a plain file name in the sessions
//                                folder (no separators, no dot-files, no symlinks): anything else 404

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { timingSafeEqual } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CLIENT_MESSAGE_MAX_BYTES, parseClientMessage, type ClientMessage, type ServerMessage } from '../src/trace/wire.ts';
import type { ClientSocket, LiveSession } from './hub/live-session.ts';
import { ControlRateLimit, DEFAULT_CONTROL_RATE, type ControlRateOptions } from './hub/control-rate.ts';
import { TRAILER_BYTES, parseTrailer } from '../src/trace/recording/format.ts';

interface ServeOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  /** Required for non-loopback hosts. */
  token?: string;
  distDir: string;
  session: LiveSession;
  /** Starts/stops workload runs from the page; only `capture --allow-capture` gives one. */
  capture?: CaptureController;
  /** The sessions folder whose .fscope files /api/recordings lists and serves; none: the API 404s. */
  recordingsDir?: string;
  /** Per-client limit on control messages (DEFAULT_CONTROL_RATE: 50/s, burst 100). */
  controlRate?: ControlRateOptions;
  log?: (line: string) => void;
}

/** Close code for a client cut off for flooding control messages (websocket "policy violation"). */
export const CLOSE_FLOODING = 1008;
/** A cut-off client that does not answer the close (it is not reading) is dropped after this. */
const CLOSE_GRACE_MS = 2000;

/** A refusal of a capture control message: its error code and the user-facing reason. */
export type CaptureRefusal = { code: string; message: string } | null;
export interface CaptureController {
  /** Starts a run, or says why not (nothing started then). */
  start(req: Extract<ClientMessage, { type: 'capture_start' }>): CaptureRefusal;
  stop(): CaptureRefusal;
}

/** A recording name the API serves: one path component, ends in .fscope, no leading dot. */
const RECORDING_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}\.fscope$/;

interface RecordingListing {
  name: string;
  bytes: number;
  mtimeMs: number;
  /** Rows from the trailer (a cheap 32-byte read); null without one (being written, or killed). */
  events: number | null;
}

/** The .fscope files of `dir`, newest first; a missing folder is an empty list. */
async function listRecordings(dir: string): Promise<RecordingListing[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [] as string[];
    throw err;
  });
  const out: RecordingListing[] = [];
  for (const name of names) {
    if (!RECORDING_NAME.test(name)) continue;
    const info = await lstat(join(dir, name)).catch(() => null);
    if (!info?.isFile()) continue;
    out.push({ name, bytes: info.size, mtimeMs: info.mtimeMs, events: await trailerRows(join(dir, name), info.size) });
  }
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name));
}

async function trailerRows(path: string, size: number): Promise<number | null> {
  if (size < TRAILER_BYTES) return null;
  const fh = await open(path, 'r').catch(() => null);
  if (!fh) return null;
  try {
    const buf = new Uint8Array(TRAILER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, TRAILER_BYTES, size - TRAILER_BYTES);
    return bytesRead === TRAILER_BYTES ? (parseTrailer(buf)?.totalRows ?? null) : null;
  } finally {
    await fh.close();
  }
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
};

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Origins a browser may connect from: this server's own, under any loopback name. */
function allowedOrigins(host: string, port: number): Set<string> {
  const names = isLoopback(host) ? ['127.0.0.1', 'localhost', '[::1]'] : [host.includes(':') ? `[${host}]` : host];
  return new Set(names.map((n) => `http://${n}:${port}`));
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  if (!isLoopback(opts.host) && !opts.token) {
    throw new Error(`refusing to bind ${opts.host} without --token: a non-loopback bind needs a token`);
  }
  const log = opts.log ?? (() => {});
  const distDir = resolve(opts.distDir);
  let origins = new Set<string>();

  const server: Server = createServer((req, res) => {
    void serveStatic(req, res).catch((err: Error) => {
      log(`http error: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const isApi = url.pathname === '/api/recordings' || url.pathname.startsWith('/api/recordings/');
    if (opts.token && (url.pathname === '/' || isApi) && !tokenMatches(opts.token, url.searchParams.get('token'))) {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('token required: open the URL fusescope printed\n');
      return;
    }
    if (isApi) {
      await serveRecordings(req, res, url.pathname);
      return;
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^([/\\])+/, '');
    let file = join(distDir, rel === '' ? 'index.html' : rel);
    if (file !== distDir && !file.startsWith(distDir + sep)) {
      res.writeHead(403).end();
      return;
    }
    let info = await stat(file).catch(() => null);
    if (info?.isDirectory()) {
      file = join(file, 'index.html');
      info = await stat(file).catch(() => null);
    }
    if (!info?.isFile()) {
      if (rel === '' || rel === 'index.html') {
        res.writeHead(503, { 'content-type': 'text/plain' }).end(`UI not built: run \`npm run build\` (looked in ${distDir})\n`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
      return;
    }
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': body.byteLength,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-cache',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  async function serveRecordings(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const dir = opts.recordingsDir ? resolve(opts.recordingsDir) : null;
    if (!dir) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('this server keeps no recordings\n');
      return;
    }
    if (pathname === '/api/recordings') {
      const body = JSON.stringify({ recordings: await listRecordings(dir) });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    let name = '';
    try {
      name = decodeURIComponent(pathname.slice('/api/recordings/'.length));
    } catch {
      name = '';
    }
    const file = join(dir, name);
    const info = RECORDING_NAME.test(name) && dirname(file) === dir ? await lstat(file).catch(() => null) : null;
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such recording\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': info.size,
      'content-disposition': `attachment; filename="${name}"`,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    // Exactly the bytes present when listed: a recording still being written grows, and the
    // reader opens a prefix (it recovers by scanning chunk headers).
    const stream = createReadStream(file, { start: 0, end: Math.max(0, info.size - 1) });
    stream.on('error', (err) => {
      log(`recording read error: ${err.message}`);
      res.destroy(err);
    });
    stream.pipe(res);
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: CLIENT_MESSAGE_MAX_BYTES });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const refuse = (status: number, why: string): void => {
      log(`refused websocket: ${why}`);
      socket.end(`HTTP/1.1 ${status} ${status === 403 ? 'Forbidden' : 'Unauthorized'}\r\ncontent-type: text/plain\r\n\r\n${why}\n`);
    };
    if (url.pathname !== '/ws') return refuse(403, `no websocket endpoint at ${url.pathname}`);
    const origin = req.headers.origin;
    // Browsers always send Origin; a missing one is a non-browser client (CLI, tests), which
    // cannot be a cross-site page. A foreign Origin is a page on another site: refuse.
    if (origin !== undefined && !origins.has(origin)) return refuse(403, `origin ${origin} not allowed`);
    if (opts.token && !tokenMatches(opts.token, url.searchParams.get('token'))) return refuse(401, 'bad or missing token');
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, `viewer ${req.socket.remoteAddress}:${req.socket.remotePort}`));
  });

  function onConnection(ws: WebSocket, label: string): void {
    let cut = false;
    const clientSocket: ClientSocket = {
      get bufferedAmount() { return ws.bufferedAmount; },
      send: (d) => ws.send(d),
      close: (code, reason) => {
        cut = true;
        ws.close(code, reason);
        // A client that does not read never answers the close: its socket (and what it holds) goes.
        setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      },
    };
    const viewer = opts.session.attach(clientSocket, label);
    // Replies go through the session: they count against this client's budget like its frames.
    const reply = (msg: ServerMessage): void => viewer.send(msg);
    const rate = opts.controlRate ?? DEFAULT_CONTROL_RATE;
    const limit = new ControlRateLimit(rate, performance.now());
    ws.on('message', (data, isBinary) => {
      if (cut) return;
      // Counted before anything is parsed: a dropped message costs the server next to nothing.
      switch (limit.take(performance.now())) {
        case 'accept': break;
        case 'drop': return;
        case 'drop_tell': {
          const r = limit.report();
          reply({ type: 'error', code: 'rate_limited', message: `over ${rate.perSecond} messages/s (burst ${rate.burst}): ${r.droppedSinceTold} dropped unanswered; keep on and the connection is closed` });
          return;
        }
        case 'cut_off': {
          const r = limit.report();
          viewer.cutOff(CLOSE_FLOODING, `flooding: over ${rate.perSecond} control messages/s, ${r.droppedInEpisode} dropped`);
          return;
        }
      }
      if (isBinary) {
        reply({ type: 'error', code: 'binary_not_accepted', message: 'send JSON text control messages' });
        return;
      }
      const parsed = parseClientMessage(data.toString());
      if (!parsed.ok) {
        reply({ type: 'error', code: parsed.code, message: parsed.message });
        return;
      }
      const msg = parsed.value;
      // Only a message marked `shared` changes what every viewer sees (the page's "drive the shared
      // session"); a passive viewer's pause holds its own stream, and its speed or scenario is refused.
      const notDriving = (what: string): void => reply({
        type: 'error', code: 'not_driving',
        message: `${what} changes the shared session for every viewer: tick "drive the shared session" first`,
      });
      switch (msg.type) {
        case 'pause':
          if (msg.shared) opts.session.pause();
          else viewer.setPaused(true);
          break;
        case 'resume':
          if (msg.shared) opts.session.resume();
          else viewer.setPaused(false);
          break;
        case 'speed':
          if (msg.shared) opts.session.setSpeed(msg.value);
          else notDriving('speed');
          break;
        case 'ping': reply({ type: 'state', state: opts.session.state }); break;
        case 'scenario':
          if (!msg.shared) {
            notDriving('switching or restarting the scenario');
            break;
          }
          try {
            opts.session.setScenario(msg.name);
          } catch (err) {
            reply({ type: 'error', code: 'bad_scenario', message: (err as Error).message });
          }
          break;
        case 'capture_start':
        case 'capture_stop': {
          const refusal = !opts.capture
            ? { code: 'capture_not_allowed', message: 'this server may not start or stop captures from the page: start it with `fusescope capture --tracefs --allow-capture`' }
            : msg.type === 'capture_start' ? opts.capture.start(msg) : opts.capture.stop();
          if (refusal) reply({ type: 'error', ...refusal });
          break;
        }
      }
    });
    ws.on('error', (err) => log(`websocket error: ${err.message}`));
    ws.on('close', viewer);
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => ok());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  origins = allowedOrigins(opts.host, port);
  const hostInUrl = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${hostInUrl}:${port}/${opts.token ? `?token=${encodeURIComponent(opts.token)}` : ''}`;

  return {
    url,
    port,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((ok) => wss.close(() => ok()));
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}
