import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import WebSocket from 'ws';
import { startServer, type RunningServer } from './http-server.ts';
import { LiveSession } from './hub/live-session.ts';
import type { LiveSink, LiveSource } from './sources/live-source.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { Recorder } from './recorder/recorder.ts';
import { typed } from '../src/trace/testing/events.ts';

/** Sends nothing until stopped. */
class Idle implements LiveSource {
  readonly info = { label: 'idle', paceNsPerSec: 1e6 };
  start(_sink: LiveSink, signal: AbortSignal): Promise<void> {
    return new Promise((ok) => signal.addEventListener('abort', () => ok()));
  }
}

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(token?: string, recordingsDir?: string): Promise<{ server: RunningServer; session: LiveSession }> {
  const dist = mkdtempSync(join(tmpdir(), 'fusescope-dist-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>fusescope</title>');
  const session = new LiveSession({
    scenarios: [{ name: 'idle', description: '' }],
    scenario: 'idle',
    makeSource: (name) => {
      if (name !== 'idle') throw new Error(`unknown scenario '${name}'`);
      return new Idle();
    },
  });
  server = await startServer({ host: '127.0.0.1', port: 0, distDir: dist, session, token, recordingsDir });
  return { server, session };
}

function connect(url: string, headers: Record<string, string> = {}): Promise<{ ws: WebSocket; next: () => Promise<unknown> }> {
  return new Promise((ok, fail) => {
    const ws = new WebSocket(url, { headers });
    const queue: unknown[] = [];
    const waiters: Array<(m: unknown) => void> = [];
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = JSON.parse(data.toString());
      const w = waiters.shift();
      if (w) w(m);
      else queue.push(m);
    });
    ws.on('open', () => ok({ ws, next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r))) }));
    ws.on('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
    ws.on('error', fail);
  });
}

describe('fusescope serve: http + websocket', () => {
  it('serves the UI and greets a websocket client', async () => {
    const { server } = await start();
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('fusescope');
    const { ws, next } = await connect(`ws://127.0.0.1:${server.port}/ws`, { origin: `http://127.0.0.1:${server.port}` });
    expect(await next()).toMatchObject({ type: 'hello', source: 'idle', scenarios: [{ name: 'idle' }] });
    ws.close();
  });

  it('refuses an upgrade from a foreign Origin', async () => {
    const { server } = await start();
    await expect(connect(`ws://127.0.0.1:${server.port}/ws`, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });

  it('does not serve files outside dist/', async () => {
    const { server } = await start();
    const res = await fetch(`http://127.0.0.1:${server.port}/..%2f..%2fetc%2fpasswd`);
    expect([403, 404]).toContain(res.status);
  });

  it('answers a malformed message with an error and keeps the connection working', async () => {
    const { server } = await start();
    const { ws, next } = await connect(`ws://127.0.0.1:${server.port}/ws`);
    await next(); // hello
    ws.send('{this is not json');
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_json' });
    ws.send(JSON.stringify({ type: 'format-disk' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'unknown_type' });
    ws.send(JSON.stringify({ type: 'scenario', name: 'nope', shared: true }));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_scenario', message: expect.stringContaining("unknown scenario 'nope'") });
    ws.send(JSON.stringify({ type: 'pause', shared: true }));
    expect(await next()).toMatchObject({ type: 'state', state: { paused: true } });
    ws.close();
  });

  it('refuses capture_start / capture_stop without a capture controller (no --allow-capture), and its hello has no capture', async () => {
    const { server } = await start();
    const { ws, next } = await connect(`ws://127.0.0.1:${server.port}/ws`);
    const hello = await next() as Record<string, unknown>;
    expect(hello.type).toBe('hello');
    expect('capture' in hello).toBe(false);
    ws.send(JSON.stringify({ type: 'capture_start', workload: 'hardlink-writers', policy: 'per-path', direct: false, seconds: 2 }));
    expect(await next()).toMatchObject({ type: 'error', code: 'capture_not_allowed', message: expect.stringContaining('--allow-capture') });
    ws.send(JSON.stringify({ type: 'capture_stop' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'capture_not_allowed' });
    // A malformed one is refused by shape before anything else.
    ws.send(JSON.stringify({ type: 'capture_start', workload: 'hardlink-writers', policy: 'per-path', direct: false, seconds: 2, cmd: 'sh' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_value', message: expect.stringContaining('cmd') });
    ws.close();
  });

  it('hands capture_start / capture_stop to the controller it was given, and sends its refusal back', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'fusescope-dist-'));
    const session = new LiveSession({ scenarios: [{ name: 'idle', description: '' }], scenario: 'idle', makeSource: () => new Idle() });
    const got: string[] = [];
    server = await startServer({
      host: '127.0.0.1', port: 0, distDir: dist, session,
      capture: {
        start: (req) => { got.push(`start ${req.workload} ${req.seconds}`); return { code: 'bad_seconds', message: 'no' }; },
        stop: () => { got.push('stop'); return null; },
      },
    });
    const { ws, next } = await connect(`ws://127.0.0.1:${server.port}/ws`);
    await next();
    ws.send(JSON.stringify({ type: 'capture_start', workload: 'w', policy: 'p', direct: true, seconds: 9 }));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_seconds', message: 'no' });
    ws.send(JSON.stringify({ type: 'capture_stop' }));
    ws.send(JSON.stringify({ type: 'ping' }));
    expect(await next()).toMatchObject({ type: 'state' }); // no reply to an accepted stop
    expect(got).toEqual(['start w 9', 'stop']);
    ws.close();
  });

  it('requires the token when one is set, and refuses a non-loopback bind without one', async () => {
    const { server } = await start('s3cret');
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(401);
    expect((await fetch(server.url)).status).toBe(200);
    await expect(connect(`ws://127.0.0.1:${server.port}/ws`)).rejects.toThrow(/401/);
    const ok = await connect(`ws://127.0.0.1:${server.port}/ws?token=s3cret`);
    ok.ws.close();
    await expect(startServer({ host: '0.0.0.0', port: 0, distDir: '.', session: null as never })).rejects.toThrow(/token/);
  });
});

describe('fusescope serve: /api/recordings (read-only)', () => {
  function sessionsDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-sessions-'));
    const rec = new Recorder(join(dir, '2026-01-01T00-00-00-000Z-idle.fscope'), { meta: { scenario: 'idle' } });
    rec.appendEvents(Array.from({ length: 10 }, (_, i): TraceEvent => (typed({ kind: 'instant', tsNs: i * 100, task: 'x/1', name: 'tick', text: '' }))));
    rec.close();
    writeFileSync(join(dir, '2026-01-02T00-00-00-000Z-cut.fscope'), readFileSync(join(dir, '2026-01-01T00-00-00-000Z-idle.fscope')).subarray(0, 200));
    writeFileSync(join(dir, 'notes.txt'), 'not a recording');
    writeFileSync(join(dir, '.hidden.fscope'), 'x');
    symlinkSync('/etc/passwd', join(dir, 'link.fscope'));
    return dir;
  }

  it('lists the .fscope files with sizes and, from the trailer, event counts', async () => {
    const dir = sessionsDir();
    const { server } = await start(undefined, dir);
    const res = await fetch(`http://127.0.0.1:${server.port}/api/recordings`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { recordings: Array<{ name: string; bytes: number; events: number | null }> };
    const byName = new Map(body.recordings.map((r) => [r.name, r]));
    expect([...byName.keys()].sort()).toEqual(['2026-01-01T00-00-00-000Z-idle.fscope', '2026-01-02T00-00-00-000Z-cut.fscope']);
    expect(byName.get('2026-01-01T00-00-00-000Z-idle.fscope')).toMatchObject({ events: 10 });
    expect(byName.get('2026-01-02T00-00-00-000Z-cut.fscope')).toMatchObject({ bytes: 200, events: null });
  });

  it('serves a recording\'s bytes', async () => {
    const dir = sessionsDir();
    const { server } = await start(undefined, dir);
    const res = await fetch(`http://127.0.0.1:${server.port}/api/recordings/2026-01-01T00-00-00-000Z-idle.fscope`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(readFileSync(join(dir, '2026-01-01T00-00-00-000Z-idle.fscope'))));
  });

  it('serves one byte range of a recording (206), refuses one past its end (416), sends it whole for anything else', async () => {
    const dir = sessionsDir();
    const { server } = await start(undefined, dir);
    const url = `http://127.0.0.1:${server.port}/api/recordings/2026-01-01T00-00-00-000Z-idle.fscope`;
    const bytes = new Uint8Array(readFileSync(join(dir, '2026-01-01T00-00-00-000Z-idle.fscope')));
    const size = bytes.byteLength;
    const get = (range: string): Promise<Response> => fetch(url, { headers: { range } });
    // The last 32 bytes (a trailer), a middle slice, a start to the end.
    const tail = await get('bytes=-32');
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes ${size - 32}-${size - 1}/${size}`);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(size - 32));
    const mid = await get('bytes=40-111');
    expect(mid.status).toBe(206);
    expect(mid.headers.get('content-length')).toBe('72');
    expect(new Uint8Array(await mid.arrayBuffer())).toEqual(bytes.subarray(40, 112));
    const rest = await get(`bytes=${size - 5}-`);
    expect(new Uint8Array(await rest.arrayBuffer())).toEqual(bytes.subarray(size - 5));
    // An end past the file is cut to it; a start past it cannot be served.
    expect(new Uint8Array(await (await get(`bytes=${size - 3}-${size + 100}`)).arrayBuffer())).toEqual(bytes.subarray(size - 3));
    const past = await get(`bytes=${size}-`);
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${size}`);
    // Several ranges, or nonsense: the whole file, as without a Range (RFC 9110 allows it).
    for (const other of ['bytes=0-1,5-9', 'lines=1-2', 'bytes=9-3']) {
      const r = await get(other);
      expect(r.status, other).toBe(200);
      expect((await r.arrayBuffer()).byteLength, other).toBe(size);
    }
    expect((await fetch(url)).headers.get('accept-ranges')).toBe('bytes');
  });

  it('refuses path traversal, other files, dot-files and symlinks', async () => {
    const dir = sessionsDir();
    const { server } = await start(undefined, dir);
    const base = `http://127.0.0.1:${server.port}/api/recordings/`;
    for (const bad of ['..%2F..%2Fetc%2Fpasswd', '..%2Fx.fscope', '%2Fetc%2Fpasswd', 'notes.txt', '.hidden.fscope', 'link.fscope', 'sub%2Fa.fscope']) {
      const res = await fetch(base + bad);
      expect(res.status, bad).toBe(404);
    }
    // A malformed % escape is the client's error (400), as for every other route.
    expect((await fetch(base + '%E0%A4%A')).status).toBe(400);
    const res = await fetch(`http://127.0.0.1:${server.port}/api/recordings/../../etc/passwd`);
    expect(res.status).not.toBe(200);
  });

  it('requires the token when one is set', async () => {
    const dir = sessionsDir();
    const { server } = await start('s3cret', dir);
    expect((await fetch(`http://127.0.0.1:${server.port}/api/recordings`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${server.port}/api/recordings/2026-01-01T00-00-00-000Z-idle.fscope`)).status).toBe(401);
    expect((await fetch(`http://127.0.0.1:${server.port}/api/recordings?token=s3cret`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${server.port}/api/recordings/2026-01-01T00-00-00-000Z-idle.fscope?token=s3cret`)).status).toBe(200);
  });

  it('answers an empty list for a missing folder and 404 without one', async () => {
    const { server } = await start(undefined, join(tmpdir(), 'fusescope-no-such-dir-' + process.pid));
    expect(await (await fetch(`http://127.0.0.1:${server.port}/api/recordings`)).json()).toEqual({ recordings: [] });
    await server.close();
    const again = await start();
    expect((await fetch(`http://127.0.0.1:${again.server.port}/api/recordings`)).status).toBe(404);
  });
});

/** A GET with exactly these headers (fetch() will not forge Host). */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((ok, fail) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => ok({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', fail);
    req.end();
  });
}

function distWithAsset(): string {
  const dist = mkdtempSync(join(tmpdir(), 'fusescope-dist-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>fusescope</title><script type="module" src="./assets/app.js"></script>');
  mkdirSync(join(dist, 'assets'));
  writeFileSync(join(dist, 'assets', 'app.js'), 'console.log("fusescope app")');
  return dist;
}

function idleSession(): LiveSession {
  return new LiveSession({ scenarios: [{ name: 'idle', description: '' }], scenario: 'idle', makeSource: () => new Idle() });
}

describe('fusescope serve: network exposure (DNS rebinding, other sites, token on every route)', () => {
  it('refuses a request whose Host is not this server (a DNS-rebound name) before any route', async () => {
    const { server } = await start(undefined, mkdtempSync(join(tmpdir(), 'fusescope-sessions-')));
    const p = server.port;
    for (const path of ['/', '/index.html', '/api/recordings']) {
      expect((await get(p, path, { host: `rebind.evil.example:${p}` })).status, path).toBe(421);
    }
    expect((await get(p, '/', { host: '127.0.0.1:1' })).status).toBe(421); // right name, other port
    expect((await get(p, '/', { host: 'localhost' })).status).toBe(421); // no port: port 80, not ours
    expect((await get(p, '/', { host: 'a b' })).status).toBe(400);
    // Every loopback name of this port is this server.
    for (const host of [`127.0.0.1:${p}`, `localhost:${p}`, `LOCALHOST:${p}`, `[::1]:${p}`]) {
      expect((await get(p, '/', { host })).status, host).toBe(200);
    }
    await expect(connect(`ws://127.0.0.1:${p}/ws`, { host: `rebind.evil.example:${p}` })).rejects.toThrow(/421/);
  });

  it('refuses a request carrying a foreign Origin, on the page and the API as on the websocket', async () => {
    const { server } = await start(undefined, mkdtempSync(join(tmpdir(), 'fusescope-sessions-')));
    const p = server.port;
    expect((await get(p, '/api/recordings', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get(p, '/', { origin: `http://evil.example:${p}` })).status).toBe(403);
    expect((await get(p, '/api/recordings', { origin: 'null' })).status).toBe(403);
    expect((await get(p, '/api/recordings', { origin: `http://localhost:${p}` })).status).toBe(200);
    const ok = await connect(`ws://127.0.0.1:${p}/ws`, { origin: `http://localhost:${p}` });
    ok.ws.close();
  });

  it('puts CSP, frame, referrer and nosniff headers on every response, refusals included', async () => {
    const { server } = await start('s3cret');
    const p = server.port;
    for (const [path, status] of [[`/?token=s3cret`, 200], ['/nope?token=s3cret', 404], ['/', 401], ['/%E0%A4%A?token=s3cret', 400]] as const) {
      const res = await get(p, path, { host: `127.0.0.1:${p}` });
      expect(res.status, path).toBe(status);
      const csp = String(res.headers['content-security-policy']);
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).not.toContain("'unsafe-inline'; script"); // no inline script
      expect(csp, path).toMatch(/script-src 'self' 'unsafe-eval';/);
      expect(res.headers['x-frame-options'], path).toBe('DENY');
      expect(res.headers['referrer-policy'], path).toBe('no-referrer');
      expect(res.headers['x-content-type-options'], path).toBe('nosniff');
      // Cross-origin isolated: the page's file loads read the worker's shared columns (file-session.ts).
      expect(res.headers['cross-origin-opener-policy'], path).toBe('same-origin');
      expect(res.headers['cross-origin-embedder-policy'], path).toBe('require-corp');
      expect(res.headers['cross-origin-resource-policy'], path).toBe('same-origin');
    }
    // The websocket is allowed by the page's CSP: its own host and port.
    expect(String((await get(p, '/?token=s3cret')).headers['content-security-policy'])).toContain(`connect-src 'self' ws://127.0.0.1:${p}`);
  });

  it('answers 400, not 500, to a malformed % escape', async () => {
    const { server } = await start();
    expect((await get(server.port, '/%E0%A4%A')).status).toBe(400);
    expect((await get(server.port, '/assets/%zz.js')).status).toBe(400);
  });

  it('guards static files with the token too; the page load with the token lets its own scripts load', async () => {
    const session = idleSession();
    server = await startServer({ host: '127.0.0.1', port: 0, distDir: distWithAsset(), session, token: 's3cret' });
    const p = server.port;
    expect((await get(p, '/assets/app.js')).status).toBe(401);
    expect((await get(p, '/index.html')).status).toBe(401);
    expect((await get(p, '/assets/app.js?token=wrong')).status).toBe(401);
    const page = await get(p, '/?token=s3cret');
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect(String(page.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    const js = await get(p, '/assets/app.js', { cookie });
    expect(js.status).toBe(200);
    expect(js.body).toContain('fusescope app');
    expect((await get(p, '/assets/app.js', { cookie: `fusescope_token_${p}=wrong` })).status).toBe(401);
    // Another port's cookie is not this server's.
    expect((await get(p, '/assets/app.js', { cookie: `fusescope_token_1=s3cret` })).status).toBe(401);
  });

  it('on a 0.0.0.0 bind: the printed URL and a remote browser using the machine\'s name work with the token, a rebound name without it does not', async () => {
    server = await startServer({ host: '0.0.0.0', port: 0, distDir: distWithAsset(), session: idleSession(), token: 's3cret' });
    const p = server.port;
    expect(server.url).toBe(`http://0.0.0.0:${p}/?token=s3cret`);
    // The printed URL's own name and origin.
    const printed = await connect(`ws://127.0.0.1:${p}/ws?token=s3cret`, { host: `0.0.0.0:${p}`, origin: `http://0.0.0.0:${p}` });
    printed.ws.close();
    // A remote browser that reached us as devbox.lan: page, script (cookie) and websocket.
    const remote = { host: `devbox.lan:${p}` };
    const page = await get(p, '/?token=s3cret', remote);
    expect(page.status).toBe(200);
    const cookie = String(page.headers['set-cookie']).split(';')[0]!;
    expect((await get(p, '/assets/app.js', { ...remote, cookie })).status).toBe(200);
    const ws = await connect(`ws://127.0.0.1:${p}/ws?token=s3cret`, { ...remote, origin: `http://devbox.lan:${p}` });
    ws.ws.close();
    // The same name without the token is a rebound name: refused before any route.
    expect((await get(p, '/', remote)).status).toBe(421);
    expect((await get(p, '/assets/app.js', remote)).status).toBe(421);
    // With the token, a page on another site still cannot use it.
    await expect(connect(`ws://127.0.0.1:${p}/ws?token=s3cret`, { ...remote, origin: `http://evil.example:${p}` })).rejects.toThrow(/403/);
    // Loopback names need the token too on this bind.
    expect((await get(p, '/assets/app.js', { host: `localhost:${p}` })).status).toBe(401);
  });
});
