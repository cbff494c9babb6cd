// `fusescope mount` as a child process, for commands that drive a workload against it (a capture
// filters tracefs by the child's comm, `fusescope-mount`, and its pid): start it, wait for the
// "mounted" line, stop it with SIGTERM (it unmounts) — or, if it does not end, SIGKILL it and remove
// what it left with cleanupMount.

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cleanupMount } from './session.ts';
import type { NodePolicy } from './nodes.ts';

const BIN = fileURLToPath(new URL('../../bin/fusescope.mjs', import.meta.url));
const MOUNTED = /^fusescope: mounted .* on (.*) \(policy /m;

export interface SpawnMountOptions {
  image: string;
  dir: string;
  policy?: NodePolicy;
  /** `--instrument` target as given on the command line (a socket path or a port). */
  instrument?: string;
  /** `--mkfs` size as given on the command line ("64M"). */
  mkfs?: string;
  /** Called with the child's pid as soon as it is spawned (before it mounts): to write it down. */
  onSpawn?: (pid: number) => void;
  /** Longest wait for the mount (default 60 s: starting Node and tsx on a busy machine). */
  timeoutMs?: number;
}

export interface SpawnedMount {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** The mount point as the server resolved it. */
  readonly dir: string;
  /** Everything the server wrote on stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null after a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, wait up to `graceMs` (default 10 s), then SIGKILL and cleanupMount; resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

export async function spawnMount(o: SpawnMountOptions): Promise<SpawnedMount> {
  const args = ['mount'];
  if (o.mkfs !== undefined) args.push('--mkfs', o.mkfs);
  if (o.policy !== undefined) args.push('--policy', o.policy);
  if (o.instrument !== undefined) args.push('--instrument', o.instrument);
  args.push('--', o.image, o.dir);
  const proc = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (proc.pid !== undefined) o.onSpawn?.(proc.pid);
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((ok) => proc.once('exit', (code) => ok(code)));
  const dir = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); fail(new Error(`fusescope mount did not mount in time: ${err.trim()}`)); }, o.timeoutMs ?? 60_000);
    const check = (): void => {
      const m = MOUNTED.exec(err);
      if (m) { clearTimeout(timer); proc.stderr!.off('data', check); ok(m[1]!); }
    };
    proc.stderr!.on('data', check);
    void exited.then((code) => { clearTimeout(timer); fail(new Error(`fusescope mount exited (${code}) before mounting: ${err.trim()}`)); });
  });
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([exited.then(() => false), new Promise<boolean>((ok) => { timer = setTimeout(() => ok(true), graceMs); })]);
    clearTimeout(timer);
    if (late) {
      proc.kill('SIGKILL');
      await exited;
      await cleanupMount(dir, () => {});
    }
    return proc.exitCode;
  };
  return { proc, pid: proc.pid!, dir, stderr: () => err, exited, stop };
}
