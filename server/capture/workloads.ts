// Built-in workloads for `fusescope capture --tracefs --workload NAME`: fusescope's own FUSE server
// (server/fuse, `fusescope mount` as a child via spawnMount, instrumenting into this capture's
// session) mounted on an image in a temporary folder, and real processes driving it while tracefs
// records the kernel's side.
//
//   WorkloadRun.start()  temp dir (image, mount point, instrument socket, bin/ of named programs)
//                        → instrument listener on the capture's clock → the mount → setup
//   run(until)           each role's program started again and again until the deadline
//   close()              roles stopped (SIGTERM, by pid) → the mount stopped (SIGTERM: it
//                        unmounts; SIGKILL + cleanupMount if it does not) → listener closed →
//                        temp dir removed — on every path (error, signal, deadline); idempotent
//
// Workload processes are coreutils (dd, ln, truncate) exec'd through symlinks in the temp bin/
// folder: the kernel names a task after the basename of the path it exec'd (comm), so each role has
// its own comm (`fsw-writer-a`, …) for the tracefs filter and in the views, while the I/O is dd's
// plain read(2)/write(2) loop — buffered, or O_DIRECT with `oflag=direct`/`iflag=direct`. No shell
// and no Node child: a shell's forks run under other comms, a Node child does its I/O from threads
// started before any rename.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenInstrument, type InstrumentListener } from '../sources/instrument.ts';
import { spawnMount, type SpawnedMount } from '../fuse/spawn.ts';
import { cleanupMount } from '../fuse/session.ts';
import type { NodePolicy } from '../fuse/nodes.ts';
import type { LiveSink, LiveSource } from '../sources/live-source.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { CapturePasses, TransformedSink } from './live-passes.ts';
import { startedRecord, type StartedItem } from './started.ts';

export const WORKLOADS = ['hardlink-writers', 'readers-writers', 'truncate-race'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

/** The server's comm (server/commands/mount.ts sets process.title before its threads start). */
export const MOUNT_COMM = 'fusescope-mount';
/** The two names of one file: `a` is created, `b` is a hardlink to it. */
export const NAME_A = 'a';
export const NAME_B = 'b';
const FILE_BYTES = 1 << 20;
const BLOCK = '64k';
const BLOCKS = 16; // 1 MiB per dd run

/** One program of a workload: its comm (= the symlink's name) and the coreutils program behind it. */
export interface Role { comm: string; program: string; args: (dir: string, direct: boolean) => string[] }

const ddWrite = (name: string) => (dir: string, direct: boolean): string[] =>
  ['if=/dev/zero', `of=${join(dir, name)}`, `bs=${BLOCK}`, `count=${BLOCKS}`, 'conv=notrunc', 'status=none', ...(direct ? ['oflag=direct'] : [])];
const ddRead = (name: string) => (dir: string, direct: boolean): string[] =>
  [`if=${join(dir, name)}`, 'of=/dev/null', `bs=${BLOCK}`, `count=${BLOCKS}`, 'status=none', ...(direct ? ['iflag=direct'] : [])];

/** Makes `a` (1 MiB, so readers and O_DIRECT writers have blocks) and the hardlink `b`. */
export const SETUP: Role[] = [
  { comm: 'fsw-setup', program: 'dd', args: (dir) => ['if=/dev/zero', `of=${join(dir, NAME_A)}`, `bs=${BLOCK}`, `count=${BLOCKS}`, 'status=none'] },
  { comm: 'fsw-link', program: 'ln', args: (dir) => [join(dir, NAME_A), join(dir, NAME_B)] },
];

/** Every role works through one of the two names, so `per-path` (two nodeids) and `ino` (one) differ. */
export const ROLES: Record<WorkloadName, Role[]> = {
  'hardlink-writers': [
    { comm: 'fsw-writer-a', program: 'dd', args: ddWrite(NAME_A) },
    { comm: 'fsw-writer-b', program: 'dd', args: ddWrite(NAME_B) },
  ],
  'readers-writers': [
    { comm: 'fsw-writer-a', program: 'dd', args: ddWrite(NAME_A) },
    { comm: 'fsw-reader-b', program: 'dd', args: ddRead(NAME_B) },
  ],
  'truncate-race': [
    { comm: 'fsw-writer-a', program: 'dd', args: ddWrite(NAME_A) },
    // ftruncate(2) through the other name, back and forth: shrink to nothing, grow to the file's size.
    { comm: 'fsw-trunc-b', program: 'truncate', args: (dir) => ['-s', String(FILE_BYTES), join(dir, NAME_B)] },
    { comm: 'fsw-trunc0-b', program: 'truncate', args: (dir) => ['-s', '0', join(dir, NAME_B)] },
  ],
};

export function isWorkload(name: string): name is WorkloadName {
  return (WORKLOADS as readonly string[]).includes(name);
}

/** The comms a workload's capture filters on: its programs and the server. */
export function workloadComms(name: WorkloadName): string[] {
  return [...SETUP, ...ROLES[name]].map((r) => r.comm).concat(MOUNT_COMM);
}

export function which(program: string): string {
  for (const d of ['/usr/bin', '/bin', '/usr/sbin', '/sbin']) if (existsSync(join(d, program))) return join(d, program);
  throw new Error(`workload needs ${program} (coreutils); not found in /usr/bin or /bin`);
}

/** Runs one program to its end; resolves with its exit code and stderr (never rejects). */
/**
 * One run of a role, counted in `stats` (runs, failures, the first error): a failure while the run is
 * stopping is not one. `mustSucceed` (the set-up roles): a failure throws. Shared by the runs on
 * fusescope's server and on fuse2fs.
 */
export async function runCounted(
  bin: string, role: Role, dir: string, direct: boolean, children: Set<ChildProcess>, stats: WorkloadStats,
  stopping: () => boolean, mustSucceed: boolean,
): Promise<void> {
  const r = await runOnce(bin, role, dir, direct, children);
  stats.runs[role.comm] = (stats.runs[role.comm] ?? 0) + 1;
  if (r.code !== 0 && !stopping()) {
    stats.failures[role.comm] = (stats.failures[role.comm] ?? 0) + 1;
    const msg = `${role.comm} (${role.program}) exited ${r.code}: ${r.err.trim()}`;
    stats.firstError ??= msg;
    if (mustSucceed) throw new Error(`workload setup failed: ${msg}`);
  }
}

export function runOnce(bin: string, role: Role, mnt: string, direct: boolean, live: Set<ChildProcess>): Promise<{ code: number | null; err: string }> {
  return new Promise((ok) => {
    const p = spawn(join(bin, role.comm), role.args(mnt, direct), { stdio: ['ignore', 'ignore', 'pipe'] });
    live.add(p);
    let err = '';
    p.stderr!.on('data', (d: Buffer) => { if (err.length < 2000) err += d.toString(); });
    p.once('error', (e) => { live.delete(p); ok({ code: -1, err: e.message }); });
    p.once('close', (code) => { live.delete(p); ok({ code, err }); });
  });
}

export interface WorkloadOptions {
  name: WorkloadName;
  policy: NodePolicy;
  direct: boolean;
  /** CLOCK_MONOTONIC ns of the capture's start: the instrumentation's receive clock counts from it. */
  originMonoNs: bigint;
  log: (line: string) => void;
}

export interface WorkloadStats {
  /** Program runs per comm, and how many ended with a non-zero status. */
  runs: Record<string, number>;
  failures: Record<string, number>;
  firstError: string | null;
}

export class WorkloadRun {
  readonly dir: string;
  readonly mnt: string;
  readonly listener: InstrumentListener;
  private readonly bin: string;
  private readonly children = new Set<ChildProcess>();
  private mount: SpawnedMount | null = null;
  private stopping = false;
  private closed: Promise<string[]> | null = null;
  private recorded: StartedItem | null = null;
  readonly stats: WorkloadStats = { runs: {}, failures: {}, firstError: null };

  private constructor(readonly o: WorkloadOptions, dir: string, listener: InstrumentListener) {
    this.dir = dir;
    this.mnt = join(dir, 'mnt');
    this.bin = join(dir, 'bin');
    this.listener = listener;
  }

  /** Temp dir, listener, the mount, the two names; on any failure what was made is removed again. */
  static async start(o: WorkloadOptions): Promise<WorkloadRun> {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-workload-'));
    // Written down before the server starts: a capture killed with SIGKILL is cleaned up by the next start (started.ts).
    const record = startedRecord();
    let item;
    try {
      item = record.add({ what: 'fusescope mount', mountDir: join(dir, 'mnt'), tempDirs: [dir] });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    let run: WorkloadRun | null = null;
    try {
      mkdirSync(join(dir, 'mnt'));
      mkdirSync(join(dir, 'bin'));
      for (const r of [...SETUP, ...ROLES[o.name]]) symlinkSync(which(r.program), join(dir, 'bin', r.comm));
      // The server stamps its events with CLOCK_MONOTONIC; received on the capture's axis, they
      // land at most the smallest socket latency after the kernel's (docs/capture.md).
      const listener = await listenInstrument({ path: join(dir, 'instrument.sock') }, {
        clockNs: () => Number(process.hrtime.bigint() - o.originMonoNs), monoOriginNs: o.originMonoNs,
      });
      run = new WorkloadRun(o, dir, listener);
      run.recorded = item;
      run.mount = await spawnMount({
        image: join(dir, 'image.fsimg'), dir: run.mnt, policy: o.policy, mkfs: '64M', instrument: join(dir, 'instrument.sock'),
        onSpawn: (pid) => record.spawned(item, pid),
      });
      o.log(`mounted fusescope's server (pid ${run.mount.pid}, policy ${o.policy}) on ${run.mnt}`);
      for (const r of SETUP) await run.runRole(r, true);
      return run;
    } catch (e) {
      if (run) await run.close();
      else {
        rmSync(dir, { recursive: true, force: true });
        record.done(item);
      }
      throw e;
    }
  }

  get mountPid(): number | null { return this.mount?.pid ?? null; }

  private runRole(role: Role, mustSucceed: boolean): Promise<void> {
    return runCounted(this.bin, role, this.mnt, this.o.direct, this.children, this.stats, () => this.stopping, mustSucceed);
  }

  /** Every role in a loop of its own, concurrently, until `untilMs` (Date.now()) or close(). */
  async run(untilMs: number): Promise<void> {
    const loops = ROLES[this.o.name].map(async (role) => {
      while (!this.stopping && Date.now() < untilMs) await this.runRole(role, false);
    });
    await Promise.all(loops);
  }

  /**
   * Stops the programs and the mount, closes the listener, removes the temp dir. Returns problems
   * (empty: nothing left behind). Idempotent; safe after a partial start.
   */
  close(): Promise<string[]> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<string[]> {
    this.stopping = true;
    const problems: string[] = [];
    const waits = [...this.children].map((p) => new Promise<void>((ok) => {
      if (p.exitCode !== null || p.signalCode !== null) return ok();
      p.once('close', () => ok());
      p.kill('SIGTERM');
    }));
    await Promise.all(waits);
    if (this.mount) {
      // A server that ended by itself (a crash) left its mount: stop() then has nothing to signal.
      const died = this.mount.proc.exitCode !== null || this.mount.proc.signalCode !== null;
      if (died) problems.push(`the server (pid ${this.mount.pid}) ended during the workload: ${this.mount.stderr().trim().split('\n').slice(-3).join(' | ')}`);
      try {
        await this.mount.stop();
        if (isMounted(this.mnt)) await cleanupMount(this.mnt, this.o.log);
        this.o.log(`unmounted ${this.mnt}`);
      } catch (e) {
        problems.push(`unmounting ${this.mnt}: ${(e as Error).message}`);
      }
    }
    await this.listener.close().catch(() => {});
    if (isMounted(this.mnt)) problems.push(`${this.mnt} is still mounted (fusescope mount --cleanup ${this.mnt})`);
    else {
      rmSync(this.dir, { recursive: true, force: true });
      if (this.recorded) startedRecord().done(this.recorded);
    }
    return problems;
  }
}

/** Whether /proc/self/mounts lists `dir` as a mount point. */
export function isMounted(dir: string): boolean {
  // /proc/mounts escapes space, tab, newline and backslash as octal.
  const esc = dir.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === esc);
}

/**
 * Two live sources as one: the kernel's (tracefs) and the server's (instrumentation), both on the
 * capture's clock. Each source's events come in time order but late (a read interval, and however
 * long this process's event loop was busy), so a tick hands out only what every source has
 * delivered: below its deliveredNs() where it says (the tracefs capture knows its readers'
 * progress), else older than `holdNs`. Merged by time; an event later still is moved up to the last
 * time handed out (counted in `clamped`). A tick drains after the event loop's poll phase
 * (setImmediate), so what a socket held when the loop woke is in the queues first.
 * The run ends when every source has ended (all held events handed out first) or on abort.
 */
export class MergedSource implements LiveSource {
  readonly info;
  clamped = 0;
  private readonly ended: Array<Promise<void>> = [];
  private drainedNs = 0;

  constructor(private readonly sources: readonly LiveSource[], private readonly nowNs: () => number, private readonly holdNs = 300e6, private readonly tickMs = 50) {
    this.info = { label: sources.map((s) => s.info.label).join(' + '), paceNsPerSec: 1e9 };
  }

  /** Every event below this has gone to the sink (the bound of the last drain). */
  deliveredNs(): number {
    return this.drainedNs;
  }

  /** Resolves when source `i`'s current run has ended (its last events are in the queue). */
  whenEnded(i: number): Promise<void> { return this.ended[i] ?? Promise.resolve(); }

  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    const queues: TraceEvent[][] = this.sources.map(() => []);
    const errors: string[] = [];
    let running = this.sources.length;
    const endedNow = this.sources.map(() => false);
    const boundNs = (): number => {
      const waitNs = this.nowNs() - this.holdNs;
      let ns = Infinity;
      this.sources.forEach((src, i) => {
        if (!endedNow[i]) ns = Math.min(ns, src.deliveredNs?.() ?? waitNs);
      });
      return ns;
    };
    let drainQueued = false;
    let lastNs = 0;
    let timer: ReturnType<typeof setInterval> | undefined;
    let done!: () => void;
    const finished = new Promise<void>((ok) => { done = ok; });
    const drain = (upToNs: number): void => {
      const out: TraceEvent[] = [];
      for (const q of queues) {
        let n = 0;
        while (n < q.length && q[n]!.tsNs < upToNs) n++;
        if (n > 0) out.push(...q.splice(0, n));
      }
      if (out.length === 0) return;
      out.sort((x, y) => x.tsNs - y.tsNs);
      for (const ev of out) {
        if (ev.tsNs < lastNs) {
          ev.tsNs = lastNs;
          this.clamped++;
        } else lastNs = ev.tsNs;
        sink.event(ev);
      }
      sink.flush();
    };
    const finish = (): void => {
      if (timer === undefined) return;
      clearInterval(timer);
      timer = undefined;
      signal.removeEventListener('abort', onAbort);
      drain(Infinity);
      done();
    };
    const onAbort = (): void => finish();
    this.ended.length = 0;
    this.sources.forEach((src, i) => {
      let endOne!: () => void;
      this.ended[i] = new Promise<void>((ok) => { endOne = ok; });
      const sub: LiveSink = {
        event: (ev) => { queues[i]!.push(ev); },
        flush: () => {},
        end: (error) => {
          if (error) errors.push(`${src.info.label}: ${error}`);
          endedNow[i] = true;
          endOne();
          if (--running === 0 && timer !== undefined) {
            finish();
            sink.end(errors.length > 0 ? errors.join('; ') : undefined);
          }
        },
      };
      void src.start(sub, signal);
    });
    timer = setInterval(() => {
      if (drainQueued) return;
      drainQueued = true;
      setImmediate(() => {
        drainQueued = false;
        if (timer === undefined) return;
        const bound = boundNs();
        drain(bound);
        if (bound !== Infinity && bound > this.drainedNs) this.drainedNs = bound;
      });
    }, this.tickMs);
    signal.addEventListener('abort', onAbort, { once: true });
    return finished;
  }
}

export function workloadScenarioName(s: { name: WorkloadName; policy: NodePolicy; direct: boolean }): string {
  return `workload:${s.name}:${s.policy}${s.direct ? ':direct' : ''}`;
}

/** Every workload's comms (the filter of a capture whose page may start any of them). */
export function allWorkloadComms(): string[] {
  return [...new Set(WORKLOADS.flatMap(workloadComms))];
}

/** What a page-started run tells its owner (server/capture/capture-control.ts), in this order. */
export interface WorkloadHooks {
  /** Mounted; `stop()` ends the run early (programs stopped, unmounted, the last events streamed). */
  mounted?(mountDir: string, stop: () => void): void;
  /** The workload's programs start (its seconds count from here). */
  running?(): void;
  /** The programs are being stopped and the server unmounted (deadline or stop()). */
  stopping?(): void;
  /** Unmounted and the temp dir removed; `problems` is empty when nothing was left behind. */
  closed?(problems: string[], stats: WorkloadStats): void;
}

/**
 * A workload as a live source (a page's capture panel, `--allow-capture`): a run mounts the server,
 * streams the kernel's capture merged with the server's events while the workload runs for
 * `seconds`, then unmounts and ends. Aborting the run (another scenario, the capture's end)
 * stops the workload and unmounts too. `active` holds the closers of runs not yet closed (the CLI
 * calls them at its end).
 */
export function workloadSource(
  spec: { name: WorkloadName; policy: NodePolicy; direct: boolean }, kernel: LiveSource, originMonoNs: bigint,
  seconds: number, active: Set<() => Promise<string[]>>, log: (line: string) => void, hooks: WorkloadHooks = {},
): LiveSource {
  const info = { label: `${kernel.info.label} + ${workloadScenarioName(spec)}`, paceNsPerSec: 1e9 };
  return {
    info,
    start: async (sink, signal) => {
      if (signal.aborted) return;
      let run: WorkloadRun;
      try {
        run = await WorkloadRun.start({ ...spec, originMonoNs, log });
      } catch (e) {
        sink.end(`workload ${spec.name}: ${(e as Error).message}`);
        return;
      }
      let closed: Promise<string[]> | null = null;
      const close = (): Promise<string[]> => {
        if (!closed) {
          hooks.stopping?.();
          closed = run.close();
          void closed.then((problems) => { active.delete(close); for (const p of problems) log(p); hooks.closed?.(problems, run.stats); });
        }
        return closed;
      };
      active.add(close);
      hooks.mounted?.(run.mnt, () => { void close(); });
      if (signal.aborted) {
        await close();
        return;
      }
      const inner = new AbortController();
      const onAbort = (): void => { inner.abort(); void close(); };
      signal.addEventListener('abort', onAbort, { once: true });
      const origin = originMonoNs;
      const nowNs = (): number => Number(process.hrtime.bigint() - origin);
      const merged = new MergedSource([kernel, run.listener.source], nowNs);
      // The import's passes on the merged stream (live-passes.ts); the run ends by abort, so finish() lets out what they hold.
      // Their waits are bounded in stream time (how far the merge has delivered), not wall time: a busy process stays true.
      const passes = new TransformedSink({ event: (ev) => sink.event(ev), flush: () => sink.flush(), end: () => {} }, new CapturePasses('workload', () => merged.deliveredNs(), run.mountPid ?? 0).make());
      const streaming = merged.start(passes, inner.signal);
      log(`workload ${workloadScenarioName(spec)} for ${seconds} s`);
      hooks.running?.();
      await run.run(Date.now() + seconds * 1000);
      await close();
      await Promise.race([merged.whenEnded(1), new Promise((ok) => setTimeout(ok, 2000))]);
      signal.removeEventListener('abort', onAbort);
      if (signal.aborted) return;
      inner.abort(); // the kernel's stream stops here: its last events are handed out first
      await streaming;
      passes.finish();
      sink.end();
    },
  };
}
