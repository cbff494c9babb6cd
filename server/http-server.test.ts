import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startServer, type RunningServer } from './http-server.ts';
import { LiveSession, type PacedSource } from './hub/live-session.ts';
import type { TraceEvent } from '../src/trace/schema.ts';

class Idle implements PacedSource {
  nowNs = 0;
  done = false;
  runUntil(untilNs: number, sink: (ev: TraceEvent) => void): number {
    sink({ kind: 'instant', tsNs: untilNs, task: 'x/1', name: 'tick', text: '' });
    this.nowNs = untilNs;
    return 1;
  }
}

let server: RunningServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

async function start(token?: string): Promise<{ server: RunningServer; session: LiveSession }> {
  const dist = mkdtempSync(join(tmpdir(), 'fusescope-dist-'));
  writeFileSync(join(dist, 'index.html'), '<!doctype html><title>fusescope</title>');
  const session = new LiveSession({
    scenarios: [{ name: 'idle', description: '' }],
    scenario: 'idle',
    makeSource: (name) => {
      if (name !== 'idle') throw new Error(`unknown scenario '${name}'`);
      return { source: new Idle(), paceNsPerSec: 1e6, label: 'idle' };
    },
  });
  server = await startServer({ host: '127.0.0.1', port: 0, distDir: dist, session, token });
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
    ws.send(JSON.stringify({ type: 'scenario', name: 'nope' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_scenario', message: expect.stringContaining("unknown scenario 'nope'") });
    ws.send(JSON.stringify({ type: 'pause' }));
    expect(await next()).toMatchObject({ type: 'state', state: { paused: true } });
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
