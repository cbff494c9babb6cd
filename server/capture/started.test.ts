// started.ts without root or FUSE: a temporary run folder, a `sleep` child standing in for a server,
// temporary folders. What a user would notice: a killed capture's leftovers are ended and removed
// and said; a running capture's, and a process that only has the recorded pid, are left alone.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartedRecord, cleanupLeftBehind, processStartTime } from './started.ts';

const made: string[] = [];
const kids: ChildProcess[] = [];
afterEach(() => {
  for (const k of kids.splice(0)) k.kill('SIGKILL');
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'fusescope-started-test-'));
  made.push(d);
  return d;
}

function sleeper(): Promise<ChildProcess> {
  const k = spawn('sleep', ['60'], { stdio: 'ignore' });
  kids.push(k);
  return new Promise((ok) => k.once('spawn', () => ok(k)));
}

/** A record file as a capture with that owner would have left it. */
function leave(runDir: string, owner: { pid: number; startTime: number | null }, items: unknown[]): string {
  mkdirSync(runDir, { recursive: true });
  const path = join(runDir, `started-${owner.pid}.json`);
  writeFileSync(path, JSON.stringify({ version: 1, owner, startedAt: '2026-01-01T00:00:00.000Z', items }));
  return path;
}

const exited = (k: ChildProcess): Promise<string | null> => new Promise((ok) => {
  if (k.exitCode !== null || k.signalCode !== null) return ok(k.signalCode);
  k.once('exit', (_c, sig) => ok(sig));
});

describe('what a capture started, written down and cleaned', () => {
  it('processStartTime reads field 22 of /proc/PID/stat; null for no such process', () => {
    // Field 22 is after the parenthesised comm: counted by hand on this process's own stat line.
    const line = readFileSync('/proc/self/stat', 'utf8');
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    expect(processStartTime(process.pid)).toBe(Number(fields[22 - 3]));
    expect(processStartTime(2 ** 22 + 12345)).toBeNull();
  });

  it('the record is on disk before the start, has the pid after the spawn, and goes with the last entry', async () => {
    const run = join(tmp(), 'run');
    const r = new StartedRecord(run);
    const item = r.add({ what: 'fuse2fs', mountDir: '/tmp/x/mnt', tempDirs: ['/tmp/x'] });
    const onDisk = (): { owner: { pid: number }; items: Array<{ pid: number | null; startTime: number | null; mountDir: string }> } => JSON.parse(readFileSync(r.path, 'utf8'));
    expect(onDisk().owner.pid).toBe(process.pid);
    expect(onDisk().items).toMatchObject([{ what: 'fuse2fs', pid: null, mountDir: '/tmp/x/mnt', tempDirs: ['/tmp/x'] }]);
    const k = await sleeper();
    r.spawned(item, k.pid!);
    expect(onDisk().items[0]).toMatchObject({ pid: k.pid, startTime: processStartTime(k.pid!) });
    r.done(item);
    expect(existsSync(r.path)).toBe(false);
  });

  it('a killed capture\'s server is ended and its temp dir removed, each said; a running capture\'s record is left alone', async () => {
    const run = join(tmp(), 'run');
    const k = await sleeper();
    const dir = tmp();
    writeFileSync(join(dir, 'f'), 'x');
    // Owner: this pid with another start time — the pid of a capture that is gone, now someone else's.
    leave(run, { pid: process.pid, startTime: 1 }, [
      { what: 'fuse2fs', pid: k.pid, startTime: processStartTime(k.pid!), mountDir: null, tempDirs: [] },
      { what: 'workload temp dir', pid: null, startTime: null, mountDir: null, tempDirs: [dir] },
    ]);
    // A running capture (this process, as it is): not touched.
    const alive = await sleeper();
    const liveFile = leave(run, { pid: alive.pid!, startTime: processStartTime(alive.pid!) }, [
      { what: 'fuse2fs', pid: alive.pid, startTime: processStartTime(alive.pid!), mountDir: null, tempDirs: [] },
    ]);
    const said = cleanupLeftBehind(run);
    expect(await exited(k)).toBe('SIGTERM');
    expect(existsSync(dir)).toBe(false);
    expect(said).toEqual([
      `a killed capture (pid ${process.pid}, started 2026-01-01T00:00:00.000Z): its fuse2fs (pid ${k.pid}) ended on SIGTERM`,
      `a killed capture (pid ${process.pid}, started 2026-01-01T00:00:00.000Z): removed its temporary folder ${dir}`,
    ]);
    expect(readdirSync(run)).toEqual([liveFile.split('/').at(-1)]);
    expect(alive.exitCode).toBeNull();
    expect(alive.signalCode).toBeNull();
    // Cleaned once: a second look finds nothing of the killed one.
    expect(cleanupLeftBehind(run)).toEqual([]);
  });

  it('a pid whose start time is not the recorded one is another process: never signalled', async () => {
    const run = join(tmp(), 'run');
    const k = await sleeper();
    leave(run, { pid: process.pid, startTime: 1 }, [{ what: 'fuse2fs', pid: k.pid, startTime: 7, mountDir: null, tempDirs: [] }]);
    const said = cleanupLeftBehind(run);
    expect(said).toEqual([`a killed capture (pid ${process.pid}, started 2026-01-01T00:00:00.000Z): its fuse2fs (pid ${k.pid}) had ended: that pid is another process now, left alone`]);
    expect(k.exitCode).toBeNull();
    expect(k.signalCode).toBeNull();
  });
});
