// `fusescope capture --attach PID --mount DIR` against libfuse 3's own examples, built at test time
// from the unmodified sources Debian ships (/usr/share/doc/libfuse3-dev/examples) with gcc and
// `pkg-config fuse3`, and started by the test (not by fusescope). Root, tracefs with uprobe_events,
// /dev/fuse; elsewhere skipped, saying why. Runs inside tracefs-capture.test.ts (one file writes tracefs).
//
// The workload on a temp dir: mkdir d1 d2; echo > d1/f; ln d1/f d2/l; appends through both names.
// What a user would notice, from the two APIs (libfuse fuse-3.14.0 lib/fuse.c, example/passthrough_ll.c):
//   passthrough    (high-level, path API: a node per name; use_ino → the real st_ino)
//                  → the two names have two nodeids, both with the st_ino `stat -c %i` prints: an alias group
//   passthrough_ll (low-level: the nodeid is its inode object, looked up by st_ino/st_dev)
//                  → one nodeid for both names, no alias group
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { openRecordingFile } from '../recorder/file-source.ts';
import { TracefsCapture } from './tracefs-capture.ts';
import { DEFAULT_TRACEFS } from './tracefs.ts';

const T = DEFAULT_TRACEFS;
const EXAMPLES = '/usr/share/doc/libfuse3-dev/examples';
const CLI = ['--import', 'tsx', 'server/cli.ts'];
const FUSE_WRITE = 16;

const has = (cmd: string, arg = '--version'): boolean => spawnSync(cmd, [arg]).status === 0;
const whyNot = process.getuid?.() !== 0 ? 'not root'
  : !existsSync(join(T, 'uprobe_events')) ? `no ${T}/uprobe_events`
    : !existsSync('/dev/fuse') ? 'no /dev/fuse'
      : !has('gcc') || !has('pkg-config') ? 'no gcc / pkg-config (apt-get install gcc pkg-config libfuse3-dev)'
        : !existsSync(join(EXAMPLES, 'passthrough_ll.c')) || spawnSync('pkg-config', ['--exists', 'fuse3']).status !== 0
          ? `no libfuse3-dev (${EXAMPLES}, pkg-config fuse3)` : null;
if (whyNot) console.warn(`\n*** SKIPPED capture --attach on libfuse 3 examples (server/capture/attach.cases.ts): ${whyNot} — --attach is NOT tested here ***\n`);

const mountedAt = (mnt: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);

interface Server { child: ChildProcess; mnt: string; base: string; exited: Promise<void> }

interface Cli { child: ChildProcess; stderr: () => string; exited: Promise<number | null> }

/** The CLI in the background, once it says it is capturing; retried while another capture holds the lock. */
async function startCapture(args: string[]): Promise<Cli> {
  for (let i = 0; ; i++) {
    try {
      return await new Promise<Cli>((resolve, reject) => {
        const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('SIGINT/SIGTERM stops')) resolve({ child, stderr: () => err, exited });
        });
        void exited.then((code) => reject(new Error(`capture exited (${code}) before it started: ${err}`)));
      });
    } catch (e) {
      if (!/another capture is running|changed by another process/.test(String(e)) || i > 120) throw e;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function readEvents(path: string): Promise<TraceEvent[]> {
  const { reader, close } = await openRecordingFile(path);
  try {
    const store = await reader.readAll();
    return Array.from({ length: store.length }, (_, i) => store.get(i));
  } finally {
    await close();
  }
}

export function attachCases(): void {
  describe.skipIf(whyNot !== null)('capture --attach: an unmodified libfuse 3 server already running', () => {
    let dir: string;
    const servers: Server[] = [];
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'fusescope-attach-'));
      const flags = execFileSync('pkg-config', ['fuse3', '--cflags', '--libs'], { encoding: 'utf8' }).trim().split(/\s+/);
      for (const name of ['passthrough', 'passthrough_ll']) {
        execFileSync('gcc', ['-Wall', join(EXAMPLES, `${name}.c`), `-I${EXAMPLES}`, ...flags, '-o', join(dir, name)]);
      }
    }, 120_000);
    afterAll(async () => {
      // Only the servers this test started, by their pid.
      for (const s of servers) {
        if (mountedAt(s.mnt)) spawnSync('fusermount3', ['-u', s.mnt]);
        if (s.child.exitCode === null) s.child.kill('SIGTERM');
        await s.exited;
      }
      rmSync(dir, { recursive: true, force: true });
    });

    /** Starts an example in the foreground on a fresh mount point over a fresh source dir; resolves once mounted. */
    async function startServer(kind: 'passthrough' | 'passthrough_ll', tag: string, debugLog?: string): Promise<Server> {
      const src = join(dir, `${tag}-src`);
      const mnt = join(dir, `${tag}-mnt`);
      mkdirSync(src);
      mkdirSync(mnt);
      // passthrough mirrors / (src is reached under mnt by its full path); passthrough_ll takes -o source=.
      const args = kind === 'passthrough' ? [debugLog ? '-d' : '-f', mnt] : ['-f', '-o', `source=${src}`, mnt];
      const child = spawn(join(dir, kind), args, { stdio: ['ignore', 'ignore', debugLog ? 'pipe' : 'ignore'] });
      if (debugLog) {
        writeFileSync(debugLog, '');
        child.stderr!.on('data', (d: Buffer) => writeFileSync(debugLog, d, { flag: 'a' }));
      }
      const s: Server = { child, mnt, base: kind === 'passthrough' ? join(mnt, src) : mnt, exited: new Promise((r) => child.once('exit', () => r())) };
      servers.push(s);
      for (let i = 0; i < 100 && !mountedAt(mnt); i++) await new Promise((r) => setTimeout(r, 100));
      expect(mountedAt(mnt), `${kind} did not mount ${mnt}`).toBe(true);
      return s;
    }

    async function stopServer(s: Server): Promise<void> {
      expect(spawnSync('fusermount3', ['-u', s.mnt]).status).toBe(0);
      await s.exited;
    }

    /** The hardlink workload through the mount; returns st_ino of both names as stat(1) prints them. */
    async function hardlinkWorkload(base: string): Promise<[number, number]> {
      spawnSync('mkdir', [join(base, 'd1'), join(base, 'd2')]);
      writeFileSync(join(base, 'd1/f'), '\n');
      expect(spawnSync('ln', [join(base, 'd1/f'), join(base, 'd2/l')]).status).toBe(0);
      await writeFile(join(base, 'd1/f'), 'through f\n', { flag: 'a' });
      await writeFile(join(base, 'd2/l'), 'through l\n', { flag: 'a' });
      return spawnSync('stat', ['-c', '%i', join(base, 'd1/f'), join(base, 'd2/l')], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number) as [number, number];
    }

    /** One attach capture around the workload: events, st_inos, the CLI's stderr; uprobes and the server checked after. */
    async function attachRun(s: Server, tag: string, extra: string[] = []): Promise<{ events: TraceEvent[]; ino: number; stderr: string; out: string }> {
      const uprobesBefore = readFileSync(join(T, 'uprobe_events'), 'utf8');
      const out = join(dir, `${tag}.fscope`);
      const cli = await startCapture(['capture', '--attach', String(s.child.pid), '--mount', s.mnt, ...extra, '--no-serve', '-o', out, '--seconds', '120']);
      let inos: [number, number];
      try {
        expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toContain('fusescope/libfuse_recv');
        inos = await hardlinkWorkload(s.base);
      } finally {
        cli.child.kill('SIGINT');
      }
      expect(await cli.exited, cli.stderr()).toBe(0);
      expect(cli.stderr()).toContain('tracefs restored as found');
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toBe(uprobesBefore);
      expect(existsSync(join(T, 'events/fusescope'))).toBe(false);
      // fusescope did not start this server: it is still running and still mounted.
      expect(s.child.exitCode).toBe(null);
      expect(mountedAt(s.mnt)).toBe(true);
      expect(inos[0]).toBe(inos[1]);
      return { events: await readEvents(out), ino: inos[0], stderr: cli.stderr(), out };
    }

    const sends = (events: TraceEvent[]): Array<TraceEvent & { kind: 'fuse_send' }> =>
      events.filter((e): e is TraceEvent & { kind: 'fuse_send' } => e.kind === 'fuse_send');
    /** Nodeids the reply probes paired with this st_ino (identity evidence: path ''). */
    const nodeIdsWithIno = (events: TraceEvent[], ino: number): Set<number> =>
      new Set(events.filter((e) => e.kind === 'inode_lookup' && e.path === '' && e.ino === ino).map((e) => (e as { nodeId: number }).nodeId));
    const aliasGroups = (out: string): Array<{ ino: number; nodeids: number[]; paths: string[] }> =>
      (JSON.parse(spawnSync(process.execPath, [...CLI, 'summary', out], { encoding: 'utf8' }).stdout) as { aliasGroups: Array<{ ino: number; nodeids: number[]; paths: string[] }> }).aliasGroups;

    it('passthrough (high-level API), its -d log given: every request has its nodeid; the two names two nodeids with stat\'s st_ino; summary\'s alias group with both paths', async () => {
      const logPath = join(dir, 'hl.log');
      const s = await startServer('passthrough', 'hl', logPath);
      const r = await attachRun(s, 'hl', ['--server-log', logPath]);
      expect(r.stderr).toMatch(/uprobes on libfuse 3\.12–3\.16 .*decoded from fuse_session_process_buf/);
      const all = sends(r.events);
      expect(all.length).toBeGreaterThan(15);
      expect(all.filter((e) => e.nodeId === 0).map((e) => `${e.unique}:${e.opcode}`)).toEqual([]);
      const withIno = nodeIdsWithIno(r.events, r.ino);
      expect(withIno.size).toBe(2);
      // Writes went out through both nodeids.
      expect(new Set(all.filter((e) => e.opcode === FUSE_WRITE).map((e) => e.nodeId))).toEqual(withIno);
      // The paths, from its -d log (high-level passthrough names files by their path under /).
      const src = s.base.slice(s.mnt.length);
      expect(aliasGroups(r.out)).toContainEqual(expect.objectContaining({ ino: r.ino, nodeids: [...withIno].sort((a, b) => a - b), paths: [`${src}/d1/f`, `${src}/d2/l`] }));
      await stopServer(s);
    }, 240_000);

    it('passthrough_ll (low-level API), no -d log: one nodeid for both names, no alias group; paths unknown, said so', async () => {
      const s = await startServer('passthrough_ll', 'll');
      const r = await attachRun(s, 'll');
      expect(r.stderr).toContain('no --server-log: the paths behind nodeids are unknown');
      const all = sends(r.events);
      expect(all.filter((e) => e.nodeId === 0).map((e) => `${e.unique}:${e.opcode}`)).toEqual([]);
      const withIno = nodeIdsWithIno(r.events, r.ino);
      expect(withIno.size).toBe(1);
      expect(new Set(all.filter((e) => e.opcode === FUSE_WRITE).map((e) => e.nodeId))).toEqual(withIno);
      expect(aliasGroups(r.out).filter((g) => g.ino === r.ino)).toEqual([]);
      await stopServer(s);
    }, 240_000);

    it.skipIf(!existsSync('/usr/bin/fuse2fs'))('libfuse 2.9 too: Debian\'s fuse2fs started by the test, attached: two nodeids with stat\'s st_ino, the alias group', async () => {
      const img = join(dir, 'f2.img');
      const mnt = join(dir, 'f2-mnt');
      expect(spawnSync('mke2fs', ['-q', '-t', 'ext4', '-O', '^has_journal', '-F', img, '32M']).status).toBe(0);
      mkdirSync(mnt);
      const child = spawn('/usr/bin/fuse2fs', ['-f', '-o', 'fakeroot', img, mnt], { stdio: 'ignore' });
      const s: Server = { child, mnt, base: mnt, exited: new Promise((r) => child.once('exit', () => r())) };
      servers.push(s);
      for (let i = 0; i < 100 && !mountedAt(mnt); i++) await new Promise((r) => setTimeout(r, 100));
      expect(mountedAt(mnt)).toBe(true);
      const r = await attachRun(s, 'f2');
      expect(r.stderr).toMatch(/uprobes on libfuse 2\.9 .*fuse_session_process_buf \(exported\)/);
      expect(sends(r.events).filter((e) => e.nodeId === 0).map((e) => `${e.unique}:${e.opcode}`)).toEqual([]);
      const withIno = nodeIdsWithIno(r.events, r.ino);
      expect(withIno.size).toBe(2);
      expect(aliasGroups(r.out)).toContainEqual(expect.objectContaining({ ino: r.ino, nodeids: [...withIno].sort((a, b) => a - b) }));
      await stopServer(s);
    }, 240_000);

    it('a capture killed with SIGKILL leaves its uprobes to the next start, which removes them; the server is untouched', async () => {
      const s = await startServer('passthrough_ll', 'kill');
      const uprobesBefore = readFileSync(join(T, 'uprobe_events'), 'utf8');
      const cli = await startCapture(['capture', '--attach', String(s.child.pid), '--mount', s.mnt, '--no-serve', '-o', join(dir, 'kill.fscope'), '--seconds', '120']);
      cli.child.kill('SIGKILL');
      await cli.exited;
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toContain('fusescope/libfuse_recv');
      let c: TracefsCapture | undefined;
      for (let i = 0; i < 120 && c === undefined; i++) {
        try {
          c = TracefsCapture.open({ events: 'lock' });
        } catch (e) {
          if (!String(e).includes('another capture is running')) throw e;
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
      expect(c!.recovered?.pid).toBe(cli.child.pid);
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toBe(uprobesBefore);
      expect(c!.finish().restoreProblems).toEqual([]);
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toBe(uprobesBefore);
      expect(s.child.exitCode).toBe(null);
      expect(mountedAt(s.mnt)).toBe(true);
      await stopServer(s);
    }, 240_000);

    it('refuses, exit 2 and nothing placed: a process that serves no FUSE mount, a dir that is not a fuse mount; the capture ends when the server exits', async () => {
      const s = await startServer('passthrough_ll', 'ref');
      const uprobesBefore = readFileSync(join(T, 'uprobe_events'), 'utf8');
      const run = (args: string[]): { code: number | null; stderr: string } => {
        const r = spawnSync(process.execPath, [...CLI, 'capture', ...args, '--no-serve', '-o', join(dir, 'ref.fscope')], { encoding: 'utf8', timeout: 60_000 });
        return { code: r.status, stderr: r.stderr };
      };
      const notServer = run(['--attach', String(process.pid), '--mount', s.mnt]);
      expect(notServer.code).toBe(2);
      expect(notServer.stderr).toContain(`--attach ${process.pid}: the process has no /dev/fuse open`);
      const notMount = run(['--attach', String(s.child.pid), '--mount', dir]);
      expect(notMount.code).toBe(2);
      expect(notMount.stderr).toContain('not a fuse mount point');
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toBe(uprobesBefore);
      // The server unmounted (by the test, as a user would) while attached: the capture says so and ends, restored.
      const cli = await startCapture(['capture', '--attach', String(s.child.pid), '--mount', s.mnt, '--no-serve', '-o', join(dir, 'gone.fscope'), '--seconds', '120']);
      await stopServer(s);
      expect(await cli.exited, cli.stderr()).toBe(0);
      expect(cli.stderr()).toContain(`the attached server (pid ${s.child.pid}) exited: capture ends`);
      expect(cli.stderr()).toContain('tracefs restored as found');
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toBe(uprobesBefore);
    }, 240_000);
  });
}
