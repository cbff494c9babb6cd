// `fusescope capture --tracefs --workload NAME --fuse2fs IMAGE|new` against the real kernel and
// Debian's fuse2fs (root, tracefs with lock events and uprobe_events, /dev/fuse, /usr/bin/fuse2fs;
// elsewhere skipped, saying why), and the clean-up of what a capture killed with SIGKILL started.
//
// What a user would notice, worked out from the workloads (workloads.ts) and libfuse 2's path API
// (docs/capture.md): `a` is created and hardlinked as `b`; fuse2fs answers the two names with two
// nodeids (a nodeid per path), both with the one inode's st_ino — the number stat(2) prints for
// both names on the mount, which the capture says after making them. So: one alias group {that
// st_ino, the two nodeids, /a and /b}; WRITE requests on both nodeids; writers through `a` and `b`
// on two inodes, so never waiting on one lock.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { Opcode } from '../../src/trace/fuse-proto.ts';
import { summarize } from '../../src/trace/summary.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { openRecordingFile } from '../recorder/file-source.ts';
import { DEFAULT_RUN_DIR, DEFAULT_TRACEFS } from './tracefs.ts';

const T = DEFAULT_TRACEFS;
const CLI = ['--import', 'tsx', 'server/cli.ts'];
const whyNot = process.getuid?.() !== 0 ? 'not root'
  : !existsSync(join(T, 'events/lock/contention_begin')) ? `no tracefs with lock events at ${T}`
    : !existsSync(join(T, 'uprobe_events')) ? `no ${T}/uprobe_events`
      : !existsSync('/dev/fuse') ? 'no /dev/fuse'
        : !existsSync('/usr/bin/fuse2fs') ? 'no /usr/bin/fuse2fs (Debian package fuse2fs)' : null;
if (whyNot) console.warn(`\n*** SKIPPED capture --workload --fuse2fs and the killed-capture clean-up (server/capture/fuse2fs-workloads.cases.ts): ${whyNot} — NOT tested here ***\n`);

/** The tracefs files a fuse2fs capture touches (fuse and lock events, uprobes) and the global ones. */
function tracefsState(): Map<string, string> {
  const files = ['tracing_on', 'trace_clock', 'options/hash-ptr', 'options/record-tgid', 'buffer_size_kb', 'set_event', 'uprobe_events'];
  for (const sys of ['fuse', 'lock']) {
    for (const ev of readdirSync(join(T, 'events', sys), { withFileTypes: true })) {
      if (ev.isDirectory()) files.push(`events/${sys}/${ev.name}/enable`, `events/${sys}/${ev.name}/filter`, `events/${sys}/${ev.name}/trigger`);
    }
  }
  return new Map(files.map((f) => [f, readFileSync(join(T, f), 'utf8')]));
}

/** tracefsState() once no capture holds the lock (another capture on this machine is not ours to compare). */
async function settledState(): Promise<Map<string, string>> {
  for (let i = 0; i < 120 && existsSync(join(DEFAULT_RUN_DIR, 'capture.lock')); i++) await new Promise((ok) => setTimeout(ok, 500));
  return tracefsState();
}

function changed(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...before].filter(([f, v]) => after.get(f) !== v).map(([f]) => f);
}

const mountPoints = (): string[] => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '');
/** Whether pid is a running process (a zombie has ended: its parent was killed, init reaps it). */
const running = (pid: number): boolean => {
  try {
    return !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

interface Run { code: number | null; stderr: string; events: TraceEvent[]; meta: Record<string, unknown>; mnt: string; tmp: string; stIno: number[]; fuse2fsPid: number }

/** Runs the CLI (retried while another capture holds the lock) and reads its recording back. */
async function capture(dir: string, args: string[]): Promise<Run> {
  const out = join(dir, `run-${Math.random().toString(36).slice(2)}.fscope`);
  const argv = [...CLI, 'capture', '--tracefs', ...args, '--seconds', '1', '--no-serve', '-o', out];
  let r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 120_000 });
  for (let i = 0; i < 60 && r.status !== 0 && /another capture is running|changed by another process/i.test(r.stderr); i++) {
    await new Promise((ok) => setTimeout(ok, 2000));
    rmSync(out, { force: true });
    rmSync(`${out}.fuse2fs.log`, { force: true });
    r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 120_000 });
  }
  const mnt = /fuse2fs \(pid \d+\) mounted (\S+)/.exec(r.stderr)?.[1] ?? '';
  const fuse2fsPid = Number(/fuse2fs \(pid (\d+)\)/.exec(r.stderr)?.[1] ?? NaN);
  const stIno = (/st_ino (\d+) and (\d+) \(stat/.exec(r.stderr) ?? []).slice(1).map(Number);
  const base = { code: r.status, stderr: r.stderr, mnt, tmp: mnt.replace(/\/mnt$/, ''), stIno, fuse2fsPid };
  if (!existsSync(out)) return { ...base, events: [], meta: {} };
  const { reader, close } = await openRecordingFile(out);
  try {
    const store = await reader.readAll();
    return { ...base, events: Array.from({ length: store.length }, (_, i) => store.get(i)), meta: reader.header.meta };
  } finally {
    await close();
  }
}

/** Every run: exit 0, tracefs and uprobe_events as found, fuse2fs ended, nothing mounted, the temp dir gone. */
async function checkRun(r: Run, before: Map<string, string>): Promise<void> {
  expect(r.stderr, r.stderr).toContain('tracefs restored as found');
  expect(r.code, r.stderr).toBe(0);
  expect(changed(before, await settledState())).toEqual([]);
  expect(r.mnt).toMatch(/fusescope-fuse2fs-workload-/);
  expect(mountPoints()).not.toContain(r.mnt);
  expect(existsSync(r.tmp)).toBe(false);
  expect(running(r.fuse2fsPid)).toBe(false);
  expect(existsSync(join(T, 'events/fusescope'))).toBe(false);
  expect(r.meta.server).toBe('fuse2fs');
  // Every fuse2fs thread is placed in fuse2fs's process (the kernel's pid → tgid table may hold an
  // exited task's entry for a new thread's tid: the capture must not pass that on).
  const f2fsRows = r.events.filter((e): e is TraceEvent & { kind: 'task_process' } => e.kind === 'task_process' && e.task.startsWith('fuse2fs/'));
  expect(f2fsRows.length).toBeGreaterThan(0);
  expect(f2fsRows.filter((e) => e.tgid !== r.fuse2fsPid).map((e) => `${e.task} in ${e.tgid}`)).toEqual([]);
}

/** nodeid per path, from the -d log's entry replies (the inode events with a path). */
function nodeOf(events: TraceEvent[], path: string): number {
  const ids = new Set(events.filter((e) => (e.kind === 'inode_lookup' || e.kind === 'inode_new') && e.path === path).map((e) => (e as { nodeId: number }).nodeId));
  expect(ids.size, `nodeids of ${path}`).toBe(1);
  return [...ids][0]!;
}

/** The st_ino the reply probes gave each nodeid (identity evidence: inode_lookup with path ''). */
function inosOf(events: TraceEvent[], nodeId: number): number[] {
  return [...new Set(events.filter((e) => e.kind === 'inode_lookup' && e.path === '' && e.nodeId === nodeId).map((e) => (e as { ino: number }).ino))];
}

/** Opcodes the kernel sent, by the nodeid the join gave them. */
function sentByNode(events: TraceEvent[]): Map<number, Set<number>> {
  const m = new Map<number, Set<number>>();
  for (const e of events) if (e.kind === 'fuse_send') (m.get(e.nodeId) ?? m.set(e.nodeId, new Set()).get(e.nodeId)!).add(e.opcode);
  return m;
}

function storeOf(events: TraceEvent[]): TraceStore {
  const s = new TraceStore(0n);
  for (const e of events) s.append(e);
  return s;
}

/** Lock addresses each comm waited on (lock:contention_begin). */
function locksByComm(events: TraceEvent[]): Map<string, Set<bigint>> {
  const m = new Map<string, Set<bigint>>();
  for (const e of events) {
    if (e.kind !== 'lock_contention' || e.phase !== 'begin') continue;
    // rwsem write waits only (contention_begin flags: WRITE 4, SPIN 1): an i_rwsem writer's. On a fresh VM the
    // writers also spin on allocator locks every task shares (first touch of memory the host took back).
    if ((e.lockFlags & 4) === 0 || (e.lockFlags & 1) !== 0) continue;
    const comm = e.task.split('/')[0]!;
    (m.get(comm) ?? m.set(comm, new Set()).get(comm)!).add(e.lockAddr);
  }
  return m;
}

/** Defined inside tracefs-capture.test.ts: that file's tests run one after another, so no two captures overlap. */
export function fuse2fsWorkloadCases(): void {
describe('capture --workload --fuse2fs: refusals (no tracefs touched)', () => {
  it('refuses --policy (the path API decides) and --allow-capture, saying why; `new` only with --workload', async () => {
    // The four CLIs at once (each a usage error: nothing started).
    const run = (args: string[]): Promise<{ code: number | null; stderr: string }> => new Promise((ok) => {
      const p = spawn(process.execPath, [...CLI, 'capture', '--tracefs', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      p.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      p.once('close', (code) => ok({ code, stderr }));
    });
    const [policy, allow, mnt, fresh] = await Promise.all([
      run(['--workload', 'hardlink-writers', '--fuse2fs', 'new', '--policy', 'ino']),
      run(['--workload', 'hardlink-writers', '--fuse2fs', 'new', '--allow-capture']),
      run(['--workload', 'hardlink-writers', '--fuse2fs', 'new', '--mount', '/tmp']),
      run(['--fuse2fs', 'new', '--mount', '/tmp']),
    ]);
    expect(policy.code).toBe(2);
    expect(policy.stderr).toContain('--policy has no meaning with --fuse2fs');
    expect(policy.stderr).toContain('always per-path');
    expect(allow.code).toBe(2);
    expect(allow.stderr).toContain('--fuse2fs does not go with --allow-capture');
    expect(mnt.code).toBe(2);
    expect(mnt.stderr).toContain('--mount does not go with --workload');
    expect(fresh.code).toBe(2);
    expect(fresh.stderr).toContain('is for --workload');
  }, 120_000);
});

describe.skipIf(whyNot !== null)('capture --workload --fuse2fs (real kernel, Debian fuse2fs)', () => {
  it('hardlink-writers on a new image: two nodeids, the st_ino stat(2) shows for both, one alias group, writes on both, never one lock', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-f2wl-test-'));
    try {
      const before = await settledState();
      const r = await capture(dir, ['--workload', 'hardlink-writers', '--fuse2fs', 'new']);
      await checkRun(r, before);
      expect(r.meta).toMatchObject({ workload: 'hardlink-writers', direct: false, policy: 'per-path' });
      // stat(2) on the mount: one inode behind both names.
      expect(r.stIno.length).toBe(2);
      expect(r.stIno[0]).toBe(r.stIno[1]);
      const ino = r.stIno[0]!;
      const a = nodeOf(r.events, '/a');
      const b = nodeOf(r.events, '/b');
      expect(a).not.toBe(b);
      expect(inosOf(r.events, a)).toEqual([ino]);
      expect(inosOf(r.events, b)).toEqual([ino]);
      // Every request the workload's processes sent has the nodeid from fuse2fs's own header.
      const sends = r.events.filter((e): e is TraceEvent & { kind: 'fuse_send' } => e.kind === 'fuse_send' && e.task.startsWith('fsw-'));
      expect(sends.length).toBeGreaterThan(20);
      expect(sends.filter((s) => s.nodeId === 0).length).toBe(0);
      const byNode = sentByNode(r.events);
      expect(byNode.get(a)?.has(Opcode.WRITE)).toBe(true);
      expect(byNode.get(b)?.has(Opcode.WRITE)).toBe(true);
      // The writers through each name: writer-a's writes on a's nodeid only, writer-b's on b's.
      const writesOf = (comm: string): Set<number> => new Set(sends.filter((s) => s.opcode === Opcode.WRITE && s.task.startsWith(`${comm}/`)).map((s) => s.nodeId));
      expect(writesOf('fsw-writer-a')).toEqual(new Set([a]));
      expect(writesOf('fsw-writer-b')).toEqual(new Set([b]));
      expect(summarize(storeOf(r.events)).aliasGroups).toEqual([{ ino, inoEvidence: [ino], nodeids: [a, b].sort((x, y) => x - y), paths: ['/a', '/b'] }]);
      const locks = locksByComm(r.events);
      expect([...(locks.get('fsw-writer-a') ?? [])].filter((x) => locks.get('fsw-writer-b')?.has(x))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('hardlink-writers, O_DIRECT, on a given image: in a new folder of it (removed after), writes through both nodeids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-f2wl-test-'));
    try {
      const img = join(dir, 'user.img');
      expect(spawnSync('mke2fs', ['-q', '-t', 'ext4', '-O', '^has_journal', '-F', img, '32M']).status).toBe(0);
      const before = await settledState();
      const r = await capture(dir, ['--workload', 'hardlink-writers', '--fuse2fs', img, '--direct']);
      await checkRun(r, before);
      expect(r.meta).toMatchObject({ direct: true, image: img });
      const folder = /mnt(\/fusescope-workload-\d+)\/a and b/.exec(r.stderr)?.[1];
      expect(folder, r.stderr).toBeDefined();
      const a = nodeOf(r.events, `${folder}/a`);
      const b = nodeOf(r.events, `${folder}/b`);
      expect(a).not.toBe(b);
      expect(inosOf(r.events, a)).toEqual([r.stIno[0]]);
      expect(inosOf(r.events, b)).toEqual([r.stIno[0]]);
      const byNode = sentByNode(r.events);
      expect(byNode.get(a)?.has(Opcode.WRITE)).toBe(true);
      expect(byNode.get(b)?.has(Opcode.WRITE)).toBe(true);
      // The image is left as the workload found it: no folder of its own in the root.
      const ls = spawnSync('debugfs', ['-R', 'ls -l /', img], { encoding: 'utf8' });
      expect(ls.stdout).toContain('lost+found');
      expect(ls.stdout).not.toContain('fusescope-workload');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  it('readers-writers: WRITE through a\'s nodeid, READ through b\'s; truncate-race: SETATTR through b\'s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-f2wl-test-'));
    try {
      for (const [name, opB] of [['readers-writers', Opcode.READ], ['truncate-race', Opcode.SETATTR]] as const) {
        const before = await settledState();
        const r = await capture(dir, ['--workload', name, '--fuse2fs', 'new']);
        await checkRun(r, before);
        const a = nodeOf(r.events, '/a');
        const b = nodeOf(r.events, '/b');
        expect(a).not.toBe(b);
        expect(inosOf(r.events, b)).toEqual([r.stIno[1]]);
        const byNode = sentByNode(r.events);
        expect(byNode.get(a)?.has(Opcode.WRITE), name).toBe(true);
        expect(byNode.get(b)?.has(opB), name).toBe(true);
        expect(r.events.filter((e) => e.kind === 'fuse_send' && e.task.startsWith('fsw-') && e.nodeId === 0)).toEqual([]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe.skipIf(whyNot !== null)('a capture killed with SIGKILL leaves nothing behind after `capture --restore`', () => {
  const outs: string[] = [];
  afterAll(() => { for (const f of outs) rmSync(f, { force: true }); });

  /** Starts the CLI and resolves (with what it printed) once its workload runs; retried while another capture runs. */
  async function startKilled(args: string[], ready: RegExp): Promise<{ pid: number; stderr: string }> {
    for (let attempt = 0; ; attempt++) {
      const out = join(tmpdir(), `fusescope-killed-${process.pid}-${attempt}-${Math.random().toString(36).slice(2)}.fscope`);
      outs.push(out, `${out}.fuse2fs.log`);
      const child = spawn(process.execPath, [...CLI, 'capture', '--tracefs', ...args, '--no-serve', '-o', out, '--seconds', '120'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
      const up = await new Promise<boolean>((ok) => {
        child.stderr!.on('data', (d: Buffer) => { err += d.toString(); if (ready.test(err)) ok(true); });
        void exited.then(() => ok(false));
      });
      if (up) {
        child.kill('SIGKILL');
        await exited;
        return { pid: child.pid!, stderr: err };
      }
      if (attempt > 60 || !/another capture is running/.test(err)) throw new Error(`capture did not start: ${err}`);
      await new Promise((ok) => setTimeout(ok, 2000));
    }
  }

  function restore(): string {
    const r = spawnSync(process.execPath, [...CLI, 'capture', '--restore'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    return r.stderr;
  }

  it('--workload --fuse2fs: fuse2fs ended, its mount and temp dir gone, uprobes and tracefs as found', async () => {
    const before = await settledState();
    const k = await startKilled(['--workload', 'hardlink-writers', '--fuse2fs', 'new'], /workload hardlink-writers .* for 120 s/);
    const pid = Number(/fuse2fs \(pid (\d+)\)/.exec(k.stderr)![1]);
    const mnt = /fuse2fs \(pid \d+\) mounted (\S+)/.exec(k.stderr)![1]!;
    // What SIGKILL left: fuse2fs serving its mount in the temp dir, and the probes.
    expect(running(pid)).toBe(true);
    expect(mountPoints()).toContain(mnt);
    expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toContain('fusescope/libfuse_recv');
    const said = restore();
    expect(said).toContain(`restored tracefs as the killed capture (pid ${k.pid}`);
    expect(said).toContain(`unmounted ${mnt}`);
    expect(said).toMatch(new RegExp(`its fuse2fs \\(pid ${pid}\\) ended`));
    expect(said).toContain(`removed its temporary folder ${mnt.replace(/\/mnt$/, '')}`);
    expect(running(pid)).toBe(false);
    expect(mountPoints()).not.toContain(mnt);
    expect(existsSync(mnt.replace(/\/mnt$/, ''))).toBe(false);
    expect(changed(before, tracefsState())).toEqual([]);
    expect(readdirSync(DEFAULT_RUN_DIR).filter((n) => n.startsWith(`started-${k.pid}`))).toEqual([]);
    // Nothing left: a second --restore says so.
    expect(restore()).toContain('nothing a killed capture started is left');
  }, 240_000);

  it('--workload on fusescope\'s server: the server ended, its mount and temp dir gone', async () => {
    const before = await settledState();
    const k = await startKilled(['--workload', 'hardlink-writers', '--policy', 'ino'], /workload hardlink-writers .* for 120 s/);
    const m = /mounted fusescope's server \(pid (\d+), policy ino\) on (\S+)/.exec(k.stderr)!;
    const pid = Number(m[1]);
    const mnt = m[2]!;
    expect(mountPoints()).toContain(mnt);
    const said = restore();
    expect(said).toContain(`unmounted ${mnt}`);
    expect(said).toContain(`removed its temporary folder ${mnt.replace(/\/mnt$/, '')}`);
    expect(running(pid)).toBe(false);
    expect(mountPoints()).not.toContain(mnt);
    expect(existsSync(mnt.replace(/\/mnt$/, ''))).toBe(false);
    expect(changed(before, tracefsState())).toEqual([]);
  }, 240_000);
});
}
