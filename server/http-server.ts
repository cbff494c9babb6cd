// The HTTP + websocket front of `fusescope serve`: serves the built UI from dist/ and one websocket
// endpoint, /ws, bound to a LiveSession.
//
// Security defaults (docs/reliability.md, "Network exposure"): bind 127.0.0.1. Before any route,
// every request (page, static file, API, websocket upgrade) must name this server in its Host
// header (a DNS-rebound name is refused with 421) and, when it carries an Origin, come from this
// server (403): the accepted names are the loopback names and the configured --host, with the bound
// port; a request holding the right token may also use the name it reached us by (a remote browser
// on a `--host 0.0.0.0` bind). With a token (required for a non-loopback bind) every route needs
// it: `?token=` in the URL, or the per-port cookie the first tokened page load sets (so the page's
// own scripts and styles load). Every response carries CSP, frame, referrer and cross-origin isolation headers (COOP / COEP:
// the page may use SharedArrayBuffer, file-session.ts). Nothing a browser can send
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
//                                folder (no separators, no dot-files, no symlinks): anything else 404.
//                                One byte range (`Range: bytes=a-b`, `a-`, `-n`) gets 206 with just those
//                                bytes, or 416 when it lies past the end: the page's worker reads a
//                                recording's index (at its end) that way while the whole file downloads.

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

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 421: 'Misdirected Request' };

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

function tokenMatches(expected: string, given: string | null): boolean {
  if (given === null) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The `host:port` values a request may name in its Host header: the loopback names and the
 * configured host, each with the bound port (lower case; a Host without a port means port 80).
 */
export function boundHosts(host: string, port: number): Set<string> {
  const names = ['127.0.0.1', 'localhost', '[::1]', host.includes(':') && !host.startsWith('[') ? `[${host}]` : host];
  return new Set(names.map((n) => `${n.toLowerCase()}:${port}`));
}

/** A Host header as `name:port`, lower case; null when it is not a plain host name or address. */
export function normalHost(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^([a-z0-9.-]{1,253}|\[[0-9a-f:.]{2,45}\])(?::(\d{1,5}))?$/i.exec(header);
  if (!m) return null;
  return `${(m[1] ?? '').toLowerCase()}:${m[2] === undefined ? 80 : Number(m[2])}`;
}

/** Headers on every response: no framing by other sites, no referrer leak of `?token=`, no sniffing. */
function securityHeaders(hostPort: string | null): Record<string, string> {
  // The websocket's own URL only (ws://<this host>): CSP's 'self' does not cover ws: in every browser.
  const ws = hostPort === null ? '' : ` ws://${hostPort} wss://${hostPort}`;
  // 'unsafe-eval': the store's compiled writers (src/trace/codegen.ts, `new Function` from schema
  // field names only, never trace data) are 1.6-7x faster than its fallback; no inline script runs.
  return {
    'content-security-policy':
      `default-src 'self'; script-src 'self' 'unsafe-eval'; worker-src 'self'; connect-src 'self'${ws}; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; ` +
      "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    // Cross-origin isolation: the page may then use SharedArrayBuffer, so the import worker fills a
    // file's columns and the page reads them where they are (no copy). The page loads nothing from
    // other origins, so requiring CORP of its subresources costs nothing; browsers honour these on
    // loopback and https only, and elsewhere the page falls back to copying batches.
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin',
  };
}

const TOKEN_COOKIE_PREFIX = 'fusescope_token_';

/** The value of cookie `name` in a Cookie header, or null. */
function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** Why a request is refused before any route, or null when it may go on. */
export interface GateDecision { status: number; why: string }

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  if (!isLoopback(opts.host) && !opts.token) {
    throw new Error(`refusing to bind ${opts.host} without --token: a non-loopback bind needs a token`);
  }
  const log = opts.log ?? (() => {});
  const distDir = resolve(opts.distDir);
  let hosts = new Set<string>();
  let cookieName = TOKEN_COOKIE_PREFIX;

  /** The token a request carries: `?token=` first, else this server's cookie. */
  function givenToken(req: IncomingMessage, url: URL): { ok: boolean; fromQuery: boolean } {
    if (!opts.token) return { ok: true, fromQuery: false };
    const q = url.searchParams.get('token');
    if (q !== null) return { ok: tokenMatches(opts.token, q), fromQuery: true };
    return { ok: tokenMatches(opts.token, cookieValue(req.headers.cookie, cookieName)), fromQuery: false };
  }

  /**
   * Host, Origin and token, checked before any route. A Host outside the bound names is a rebound
   * DNS name (421) unless the request holds the token: a page on a rebound name cannot know it, while
   * a remote browser on a wildcard bind reaches us by a name we cannot list (the machine's name or
   * IP). An Origin must be this server: a bound name, or the request's own Host when the token holds.
   */
  function gate(req: IncomingMessage, tokenOk: boolean): GateDecision | null {
    const host = normalHost(req.headers.host);
    if (host === null) return { status: 400, why: `bad or missing Host header` };
    if (!hosts.has(host) && !(opts.token && tokenOk)) return { status: 421, why: `Host ${req.headers.host} is not this server` };
    const origin = req.headers.origin;
    // Browsers send Origin on every cross-origin request and on websocket upgrades; a missing one is a
    // same-origin navigation or a non-browser client (CLI, tests), neither a page on another site.
    if (origin !== undefined) {
      const m = /^http:\/\/(.*)$/i.exec(origin);
      const originHost = m ? normalHost(m[1]) : null;
      const ok = originHost !== null && (hosts.has(originHost) || (opts.token !== undefined && tokenOk && originHost === host));
      if (!ok) return { status: 403, why: `origin ${origin} not allowed` };
    }
    if (!tokenOk) return { status: 401, why: 'bad or missing token: open the URL fusescope printed' };
    return null;
  }

  const server: Server = createServer((req, res) => {
    void serveStatic(req, res).catch((err: Error) => {
      log(`http error: ${err.message}`);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  });

  async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const token = givenToken(req, url);
    const refused = gate(req, token.ok);
    const hostPort = refused === null ? normalHost(req.headers.host) : null;
    for (const [k, v] of Object.entries(securityHeaders(hostPort))) res.setHeader(k, v);
    if (refused) {
      log(`refused ${req.method} ${url.pathname}: ${refused.why}`);
      res.writeHead(refused.status, { 'content-type': 'text/plain' }).end(`${refused.why}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    // A page opened with the token keeps it in a cookie for its own scripts, styles and API calls,
    // which carry no `?token=`. SameSite=Strict: no other site's page sends it; per port: two
    // servers on one machine do not overwrite each other's.
    if (opts.token && token.fromQuery) {
      res.setHeader('set-cookie', `${cookieName}=${encodeURIComponent(opts.token)}; Path=/; HttpOnly; SameSite=Strict`);
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('malformed URL (bad % escape)\n');
      return;
    }
    const isApi = url.pathname === '/api/recordings' || url.pathname.startsWith('/api/recordings/');
    if (isApi) {
      await serveRecordings(req, res, url.pathname);
      return;
    }
    const rel = normalize(pathname).replace(/^([/\\])+/, '');
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
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
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
    const range = byteRange(req.headers.range, info.size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { 'content-range': `bytes */${info.size}`, 'content-type': 'text/plain' }).end('range not satisfiable\n');
      return;
    }
    const [from, to] = range ?? [0, info.size - 1];
    res.writeHead(range ? 206 : 200, {
      'content-type': 'application/octet-stream',
      'content-length': Math.max(0, to - from + 1),
      'content-disposition': `attachment; filename="${name}"`,
      'cache-control': 'no-store',
      'accept-ranges': 'bytes',
      ...(range ? { 'content-range': `bytes ${from}-${to}/${info.size}` } : {}),
    });
    if (req.method === 'HEAD' || to < from) {
      res.end();
      return;
    }
    // Exactly the bytes present when listed: a recording still being written grows, and the
    // reader opens a prefix (it recovers by scanning chunk headers). 1 MiB reads, not 64 KiB: a
    // 29 MB recording came over loopback in 84–92 ms instead of 114–174 (node fetch, steady state).
    const stream = createReadStream(file, { start: from, end: to, highWaterMark: 1 << 20 });
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
      socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Forbidden'}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${why}\n`);
    };
    const refused = gate(req, givenToken(req, url).ok);
    if (refused) return refuse(refused.status, refused.why);
    if (url.pathname !== '/ws') return refuse(403, `no websocket endpoint at ${url.pathname}`);
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
  hosts = boundHosts(opts.host, port);
  cookieName = `${TOKEN_COOKIE_PREFIX}${port}`;
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

/**
 * One byte range of a `Range` header (RFC 9110 14.1.2) over a file of `size` bytes, inclusive:
 * null when there is none or it is not one range of bytes (the whole file is sent then, as the RFC
 * allows), 'unsatisfiable' when it starts past the end.
 */
export function byteRange(header: string | undefined, size: number): [number, number] | null | 'unsatisfiable' {
  const m = header ? /^bytes=(\d*)-(\d*)$/.exec(header.trim()) : null;
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    return [Math.max(0, size - suffix), size - 1];
  }
  const from = Number(m[1]);
  const to = m[2] === '' ? size - 1 : Math.min(size - 1, Number(m[2]));
  if (from >= size) return 'unsatisfiable';
  if (to < from) return null;
  return [from, to];
}
