// The page's power over a capture: without `--allow-capture`, no websocket message starts a
// workload, a mount or a capture — `capture_start` included; with it, the same `capture_start`
// mounts fusescope's server and runs the workload (the positive control: the first test could not
// pass by a gate that starts nothing ever), and bad values start nothing. Root with tracefs and
// /dev/fuse; elsewhere skipped, saying why.
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

interface Conn {
  ws: WebSocket;
  hello: { scenarios: Array<{ name: string }>; capture?: { workloads: string[]; status: { phase: string } } };
  /** Error replies, in order. */
  replies: Array<{ type: string; code?: string; message?: string }>;
  /** Every capture status pushed to this viewer, in order. */
  statuses: Array<{ phase: string; mountDir: string | null; reason: string | null; elapsedMs: number }>;
}

function connect(url: string): Promise<Conn> {
  const u = new URL(url);
  const ws = new WebSocket(`ws://${u.host}/ws${u.search}`);
  const replies: Conn['replies'] = [];
  const statuses: Conn['statuses'] = [];
  return new Promise((ok, fail) => {
    ws.once('error', fail);
    ws.on('message', (data, binary) => {
      if (binary) return;
      const msg = JSON.parse(data.toString());
      if (msg.type === 'hello') ok({ ws, hello: msg, replies, statuses });
      else if (msg.type === 'error') replies.push(msg);
      else if (msg.type === 'capture') statuses.push(msg.capture.status);
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

const START = { type: 'capture_start', workload: 'hardlink-writers', policy: 'ino', direct: false, seconds: 1 };

/** Waits (up to `ms`) until `cond`; false if it never held. */
async function until(cond: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 100) {
    if (cond()) return true;
    await sleep(100);
  }
  return cond();
}

/** Defined inside tracefs-capture.test.ts: that file's tests run one after another, so no two captures overlap. */
export function allowCaptureCases(): void {
describe.skipIf(whyNot !== null)('capture --allow-capture gate', () => {
  it('without --allow-capture: no capture panel in hello, and no message (capture_start included) starts a workload, a mount or a capture', async () => {
    const mountsBefore = workloadMounts();
    const cli = await startCli([]);
    try {
      const { ws, hello, replies } = await connect(cli.url);
      expect(hello.scenarios.map((s) => s.name)).toEqual(['tracefs']);
      expect(hello.capture).toBeUndefined();
      const tries = [
        START,
        { ...START, workload: 'truncate-race', policy: 'per-path', direct: true, seconds: 5 },
        { type: 'capture_stop' },
        // Marked shared (a page driving the session): even then a scenario name starts nothing.
        { type: 'scenario', name: 'workload:hardlink-writers:ino', shared: true },
        { type: 'scenario', name: 'workload:truncate-race:per-path:direct', shared: true },
        { type: 'workload', name: 'hardlink-writers' },
        { type: 'mount', image: '/tmp/x', dir: '/tmp/y' },
        { type: 'capture', tracefs: true },
        { type: 'start' },
      ];
      for (const m of tries) ws.send(JSON.stringify(m));
      await until(() => replies.length >= tries.length, 5000);
      expect(replies.map((r) => r.code)).toEqual([
        'capture_not_allowed', 'capture_not_allowed', 'capture_not_allowed',
        'bad_scenario', 'bad_scenario', 'unknown_type', 'unknown_type', 'unknown_type', 'unknown_type',
      ]);
      expect(replies[0]!.message).toContain('--allow-capture');
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

  it('with --allow-capture: bad values start nothing; the same capture_start mounts the server, runs the workload, unmounts, and every viewer sees its status', async () => {
    const mountsBefore = workloadMounts();
    const cli = await startCli(['--allow-capture', '--seconds', '1']);
    try {
      const one = await connect(cli.url);
      const two = await connect(cli.url);
      // The panel replaces the picker's workload entries: the picker streams the kernel only.
      expect(one.hello.scenarios.map((s) => s.name)).toEqual(['tracefs']);
      expect(one.hello.capture).toMatchObject({ workloads: ['hardlink-writers', 'readers-writers', 'truncate-race'], status: { phase: 'idle' } });
      const bad = [
        { ...START, workload: 'fork-bomb' }, { ...START, policy: 'inode' }, { ...START, seconds: 0 }, { ...START, seconds: 601 },
        { ...START, seconds: 1.5 }, { type: 'capture_stop' }, { type: 'scenario', name: 'workload:hardlink-writers:ino', shared: true },
      ];
      for (const m of bad) one.ws.send(JSON.stringify(m));
      await until(() => one.replies.length >= bad.length, 5000);
      expect(one.replies.map((r) => r.code)).toEqual(['bad_workload', 'bad_policy', 'bad_seconds', 'bad_seconds', 'bad_seconds', 'capture_idle', 'bad_scenario']);
      for (let i = 0; i < 4; i++) {
        await sleep(500);
        expect(privilegedDescendants(cli.child.pid!)).toEqual([]);
        expect(workloadMounts()).toEqual(mountsBefore);
      }
      expect(one.statuses).toEqual([]);

      one.ws.send(JSON.stringify(START));
      let sawMount = false;
      let sawPrograms = false;
      const ended = await until(() => {
        if (workloadMounts().length > mountsBefore.length) sawMount = true;
        if (privilegedDescendants(cli.child.pid!).length > 0) sawPrograms = true;
        return ['done', 'failed'].includes(two.statuses.at(-1)?.phase ?? '');
      }, 60_000);
      expect(ended).toBe(true);
      expect(sawMount).toBe(true);
      expect(sawPrograms).toBe(true);
      expect(one.replies.length).toBe(bad.length); // the good start got no error
      const phases = two.statuses.map((s) => s.phase);
      expect(phases[0]).toBe('mounting');
      expect(phases).toContain('running');
      expect(phases.at(-1)).toBe('done');
      expect(two.statuses.at(-1)!.mountDir).toMatch(/^\/tmp\/fusescope-workload-.*\/mnt$/);
      expect(one.statuses.map((s) => s.phase)).toEqual(phases);
      expect(cli.stderr()).toContain("mounted fusescope's server");
      expect(cli.stderr()).toMatch(/unmounted \/tmp\/fusescope-workload-/);
      expect(workloadMounts()).toEqual(mountsBefore);
      expect(privilegedDescendants(cli.child.pid!)).toEqual([]);

      // capture_stop ends a long run early: it unmounts and says the page stopped it.
      one.ws.send(JSON.stringify({ ...START, seconds: 600 }));
      expect(await until(() => two.statuses.at(-1)?.phase === 'running', 60_000)).toBe(true);
      one.ws.send(JSON.stringify(START));
      await until(() => one.replies.length > bad.length, 5000);
      expect(one.replies.at(-1)!.code).toBe('capture_busy');
      two.ws.send(JSON.stringify({ type: 'capture_stop' }));
      expect(await until(() => two.statuses.at(-1)?.phase === 'done', 60_000)).toBe(true);
      expect(two.statuses.at(-1)!.reason).toBe('stopped from the page');
      expect(workloadMounts()).toEqual(mountsBefore);
      one.ws.close();
      two.ws.close();
    } finally {
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
    }
    expect(cli.stderr()).toContain('tracefs restored as found');
    expect(workloadMounts()).toEqual(mountsBefore);
  }, 240_000);
});
}
