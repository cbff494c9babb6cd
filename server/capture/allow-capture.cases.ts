// The page's power over a capture: without `--allow-capture`, no websocket message starts a
// workload, a mount or a capture; with it, the scenario picker lists the workloads and picking one
// mounts fusescope's server and runs it (the positive control: the first test could not pass by a
// gate that starts nothing ever). Root with tracefs and /dev/fuse; elsewhere skipped, saying why.
import { describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { DEFAULT_TRACEFS } from './tracefs.ts';

const whyNot = process.getuid?.() !== 0 ? 'not root'
  : !existsSync(join(DEFAULT_TRACEFS, 'events/lock/contention_begin')) ? `no tracefs with lock events at ${DEFAULT_TRACEFS}`
    : !existsSync('/dev/fuse') ? 'no /dev/fuse' : null;
if (whyNot) console.warn(`\n*** SKIPPED capture --allow-capture (server/capture/allow-capture.cases.ts): ${whyNot} — the --allow-capture gate is NOT tested here ***\n`);

interface Cli { child: ChildProcess; url: string; stderr: () => string; exited: Promise<number | null> }

/** The capture CLI serving a page on a free port; retried while another capture holds the lock. */
async function startCli(extra: string[]): Promise<Cli> {
  for (let attempt = 0; ; attempt++) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'capture', '--tracefs', '--events', 'fuse,lock',
      '--port', '0', '--no-record', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let out = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
    const url = await new Promise<string | null>((ok) => {
      const t = setInterval(() => {
        const m = /open (http:\/\/\S+)/.exec(out);
        if (m) { clearInterval(t); ok(m[1]!); }
      }, 50);
      void exited.then(() => { clearInterval(t); ok(null); });
    });
    if (url) return { child, url, stderr: () => err, exited };
    if (attempt < 30 && /another capture|is running|busy/i.test(err)) {
      await new Promise((ok) => setTimeout(ok, 2000));
      continue;
    }
    throw new Error(`capture did not start: ${err}`);
  }
}

function connect(url: string): Promise<{ ws: WebSocket; hello: { scenarios: Array<{ name: string }> }; replies: Array<{ type: string; code?: string }> }> {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/ws${u.search}`);
  const replies: Array<{ type: string; code?: string }> = [];
  return new Promise((ok, fail) => {
    ws.once('error', fail);
    ws.on('message', (data, binary) => {
      if (binary) return;
      const msg = JSON.parse(data.toString());
      if (msg.type === 'hello') ok({ ws, hello: msg, replies });
      else replies.push(msg);
    });
  });
}

/** fusescope workload mounts on this machine now (their temp dirs are named so). */
function workloadMounts(): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.includes('/fusescope-workload-'));
}

/** Processes started below `pid` that are a FUSE server or a workload program (by comm). */
function privilegedDescendants(pid: number): string[] {
  const parent = new Map<number, number>();
  const comm = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      comm.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
    } catch { /* gone */ }
  }
  const below = (p: number): boolean => {
    for (let q = parent.get(p), n = 0; q !== undefined && q > 1 && n < 64; q = parent.get(q), n++) if (q === pid) return true;
    return false;
  };
  return [...comm].filter(([p, c]) => below(p) && (c === 'fusescope-mount' || c.startsWith('fsw-'))).map(([p, c]) => `${c}[${p}]`);
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** Defined inside tracefs-capture.test.ts: that file's tests run one after another, so no two captures overlap. */
export function allowCaptureCases(): void {
describe.skipIf(whyNot !== null)('capture --allow-capture gate', () => {
  it('without --allow-capture: the page lists only the capture, and no message starts a workload, a mount or a capture', async () => {
    const mountsBefore = workloadMounts();
    const cli = await startCli([]);
    try {
      const { ws, hello, replies } = await connect(cli.url);
      expect(hello.scenarios.map((s) => s.name)).toEqual(['tracefs']);
      const tries = [
        { type: 'scenario', name: 'workload:hardlink-writers:ino' },
        { type: 'scenario', name: 'workload:truncate-race:per-path:direct' },
        { type: 'workload', name: 'hardlink-writers' },
        { type: 'mount', image: '/tmp/x', dir: '/tmp/y' },
        { type: 'capture', tracefs: true },
        { type: 'start' },
      ];
      for (const m of tries) ws.send(JSON.stringify(m));
      for (let i = 0; i < 100 && replies.length < tries.length; i++) await sleep(50);
      expect(replies.map((r) => r.code)).toEqual(['bad_scenario', 'bad_scenario', 'unknown_type', 'unknown_type', 'unknown_type', 'unknown_type']);
      // Long enough for a mount to appear had one been started (a workload mounts within a few seconds).
      for (let i = 0; i < 6; i++) {
        await sleep(500);
        expect(privilegedDescendants(cli.child.pid!)).toEqual([]);
        expect(workloadMounts()).toEqual(mountsBefore);
      }
      expect(cli.stderr()).not.toContain("mounted fusescope's server");
      ws.close();
    } finally {
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    }
    expect(cli.stderr()).toContain('tracefs restored as found');
  }, 120_000);

  it('with --allow-capture: the picker lists the workloads, and picking one mounts the server, runs it and unmounts', async () => {
    const mountsBefore = workloadMounts();
    const cli = await startCli(['--allow-capture', '--seconds', '1']);
    try {
      const { ws, hello } = await connect(cli.url);
      const names = hello.scenarios.map((s) => s.name);
      expect(names[0]).toBe('tracefs');
      expect(names).toContain('workload:hardlink-writers:ino');
      expect(names).toContain('workload:readers-writers:per-path:direct');
      expect(names.length).toBe(1 + 3 * 2 * 2);
      ws.send(JSON.stringify({ type: 'scenario', name: 'workload:hardlink-writers:ino' }));
      let sawMount = false;
      for (let i = 0; i < 600 && !/unmounted \/tmp\/fusescope-workload-/.test(cli.stderr()); i++) {
        if (workloadMounts().length > mountsBefore.length) sawMount = true;
        await sleep(100);
      }
      expect(sawMount).toBe(true);
      expect(cli.stderr()).toContain("mounted fusescope's server");
      expect(cli.stderr()).toMatch(/unmounted \/tmp\/fusescope-workload-/);
      expect(workloadMounts()).toEqual(mountsBefore);
      ws.close();
    } finally {
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    }
    expect(cli.stderr()).toContain('tracefs restored as found');
    expect(workloadMounts()).toEqual(mountsBefore);
  }, 180_000);
});
}
