// Debian's fuse2fs as a capture's FUSE server: started in the foreground with its libfuse debug log
// (`-d -o fakeroot`: the log is parsed as it comes and kept in a file), waited for until mounted,
// and unmounted (then waited for) at the end. Only this process's own child is ever signalled.
// It is written down (started.ts: mount folder before the spawn, pid and start time right after)
// until it has ended and its folder is unmounted, so a capture killed with SIGKILL is cleaned up by
// the next start or `capture --restore`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { FuseLogParser } from '../../src/trace/import/fuse-log.ts';
import { TracefsError } from './tracefs.ts';
import { libfuseOf, libfuseProbes, type UprobeSpec } from './libfuse.ts';
import { LibfuseJoin } from './libfuse-join.ts';
import { startedRecord, type StartedItem } from './started.ts';

export const FUSE2FS = '/usr/bin/fuse2fs';

/**
 * The FUSE connection mounted at `dir` as the kernel's tracepoints print it (`connection`: the
 * superblock's dev_t, MAJOR<<20 | MINOR, include/linux/kdev_t.h), or null when `dir` is not a fuse
 * mount point (/proc/self/mountinfo: field 3 major:minor, field 5 the mount point, after ` - ` the type).
 */
export function fuseConnectionAt(dir: string): number | null {
  const want = resolve(dir);
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    if (f[4] !== want || sep < 0 || !(f[sep + 1] ?? '').startsWith('fuse')) continue;
    const [major, minor] = (f[2] ?? '').split(':').map(Number) as [number, number];
    return major * 2 ** 20 + minor;
  }
  return null;
}

export function isFuseMount(dir: string): boolean {
  return fuseConnectionAt(dir) !== null;
}

export class Fuse2fs {
  readonly log: FuseLogParser;
  private logFile: WriteStream | null;
  private exitCode: number | null | undefined = undefined;
  private readonly exited: Promise<void>;
  private stderrTail = '';
  private stopped: Promise<string[]> | null = null;
  /** Its entry in this capture's record of what it started (dropped once it has ended, unmounted). */
  private recorded: StartedItem | null = null;

  private constructor(readonly child: ChildProcess, readonly mountDir: string, logPath: string | null) {
    this.log = new FuseLogParser('fuse2fs -d');
    this.logFile = logPath ? createWriteStream(logPath, { flags: 'wx' }) : null;
    child.stderr!.on('data', (d: Buffer) => {
      this.log.push(d);
      this.logFile?.write(d);
      this.stderrTail = (this.stderrTail + d.toString('latin1')).slice(-2000);
    });
    this.exited = new Promise((r) => child.once('exit', (code) => { this.exitCode = code; r(); }));
  }

  get pid(): number { return this.child.pid!; }

  /** Starts fuse2fs on IMAGE at DIR and resolves once DIR is a fuse mount; refuses (TracefsError) otherwise. */
  static async start(image: string, mountDir: string, logPath: string | null, timeoutMs = 10_000): Promise<Fuse2fs> {
    if (!existsSync(FUSE2FS)) throw new TracefsError(`${FUSE2FS} not found (Debian package fuse2fs)`);
    if (!existsSync(image) || !statSync(image).isFile()) throw new TracefsError(`--fuse2fs ${image}: no such image file`);
    if (!existsSync(mountDir) || !statSync(mountDir).isDirectory()) throw new TracefsError(`--mount ${mountDir}: not a directory`);
    if (isFuseMount(mountDir)) throw new TracefsError(`--mount ${mountDir}: already a fuse mount`);
    if (logPath !== null && existsSync(logPath)) throw new TracefsError(`${logPath} exists; logs are never overwritten`);
    const record = startedRecord();
    const item = record.add({ what: 'fuse2fs', mountDir, tempDirs: [] });
    let child: ChildProcess | undefined;
    try {
      child = spawn(FUSE2FS, ['-d', '-o', 'fakeroot', image, mountDir], { stdio: ['ignore', 'ignore', 'pipe'] });
      if (child.pid === undefined) throw new TracefsError(`could not start ${FUSE2FS}`);
      record.spawned(item, child.pid);
    } catch (e) {
      child?.kill('SIGTERM'); // not written down: not left running either
      record.done(item);
      throw e;
    }
    const f = new Fuse2fs(child, resolve(mountDir), logPath);
    f.recorded = item;
    const t0 = Date.now();
    while (!isFuseMount(mountDir)) {
      if (f.exitCode !== undefined || Date.now() - t0 > timeoutMs) {
        await f.stop();
        throw new TracefsError(`fuse2fs did not mount ${mountDir}${f.exitCode !== undefined ? ` (exited ${f.exitCode})` : ` within ${timeoutMs} ms`}: ${f.stderrTail.trim().split('\n').slice(-3).join(' | ')}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    return f;
  }

  /** Unmounts (fusermount -u, else umount -l) and waits for fuse2fs to exit (SIGTERM to it after 5 s). Idempotent. */
  stop(): Promise<string[]> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private async doStop(): Promise<string[]> {
    const problems: string[] = [];
    if (isFuseMount(this.mountDir)) {
      const r = spawnSync('fusermount', ['-u', this.mountDir], { encoding: 'utf8' });
      if (r.status !== 0 && isFuseMount(this.mountDir)) {
        const l = spawnSync('umount', ['-l', this.mountDir], { encoding: 'utf8' });
        if (l.status !== 0) problems.push(`unmounting ${this.mountDir}: ${r.stderr.trim()} / ${l.stderr.trim()}`);
      }
    }
    if (this.exitCode === undefined) {
      const t = setTimeout(() => { if (this.exitCode === undefined) this.child.kill('SIGTERM'); }, 5000);
      await this.exited;
      clearTimeout(t);
    }
    this.log.end();
    const lf = this.logFile;
    this.logFile = null;
    if (lf) await new Promise<void>((r) => lf.end(r));
    // Ended and unmounted: nothing of it for a later start to clean.
    if (this.recorded && problems.length === 0 && !isFuseMount(this.mountDir)) startedRecord().done(this.recorded);
    return problems;
  }
}

export interface Fuse2fsCapture {
  fuse2fs: Fuse2fs;
  join: LibfuseJoin;
  uprobes: UprobeSpec[];
  /** The mount's FUSE connection (tracepoints' `connection`): only its requests are captured. */
  connection: number;
  /** e.g. `libfuse 2.9 (x86_64, glibc) at /usr/lib/…/libfuse.so.2.9.9`. */
  library: string;
}

/**
 * `capture --fuse2fs IMAGE --mount DIR`: fuse2fs started and mounted, the libfuse it maps checked
 * against the offsets table and its probes built, the live join made. fuse2fs is stopped again
 * when the library is refused.
 */
export async function startFuse2fsCapture(image: string, mountDir: string, logPath: string | null): Promise<Fuse2fsCapture> {
  const fuse2fs = await Fuse2fs.start(image, mountDir, logPath);
  try {
    const lib = libfuseOf(fuse2fs.pid);
    if (lib === null) throw new TracefsError(`fuse2fs (pid ${fuse2fs.pid}) maps no libfuse (/proc/${fuse2fs.pid}/maps)`);
    const p = libfuseProbes(lib);
    const connection = fuseConnectionAt(mountDir);
    if (connection === null) throw new TracefsError(`${mountDir} is no longer a fuse mount`);
    return { fuse2fs, join: new LibfuseJoin(fuse2fs.pid, fuse2fs.log), uprobes: p.probes, connection, library: `${p.layout} at ${lib}` };
  } catch (e) {
    await fuse2fs.stop();
    throw e;
  }
}
