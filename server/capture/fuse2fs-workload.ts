// `fusescope capture --tracefs --workload NAME --fuse2fs IMAGE|new`: the built-in workloads
// (workloads.ts: the same roles, comms and programs) run against Debian's fuse2fs instead of
// fusescope's own server. fuse2fs has no instrumentation: its side comes from the libfuse uprobes
// and its -d log, joined live (fuse2fs.ts, libfuse-join.ts), so the server must run — and its
// libfuse be mapped — before the capture places its probes:
//
//   prepare()  temp dir (mount point, bin/ of named programs, the image when `new`), written down
//              (started.ts) → fuse2fs -d on it (startFuse2fsCapture: probes, connection, join)
//   [the CLI opens the capture with those probes]
//   setup()    the two names made through the mount (in a new folder of a user's IMAGE), their
//              st_ino as stat(2) shows it (said, so a user can check the alias group's)
//   run(until) each role's program started again and again until the deadline
//   close()    roles stopped → the folder made in a user's IMAGE removed → fuse2fs unmounted and
//              waited for → temp dir removed (never while mounted) — on every path; idempotent
//
// `--policy` has no meaning here: libfuse 2's path API (what fuse2fs uses) gives every path its own
// nodeid, so a hardlink's names are always two nodeids (what `--policy per-path` imitates).
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startFuse2fsCapture, isFuseMount, type Fuse2fsCapture } from './fuse2fs.ts';
import { startedRecord, type StartedItem } from './started.ts';
import { TracefsError } from './tracefs.ts';
import { MOUNT_COMM, NAME_A, NAME_B, ROLES, SETUP, runCounted, which, workloadComms, type Role, type WorkloadName, type WorkloadStats } from './workloads.ts';

/** `--fuse2fs new`: a fresh image in the workload's temp dir (a file named `new` is `./new`). */
export const NEW_IMAGE = 'new';
/** fuse2fs's threads' comm (the capture's filter). */
export const FUSE2FS_COMM = 'fuse2fs';
const NEW_IMAGE_SIZE = '64M';

/** The comms a fuse2fs workload's capture filters on: its programs and fuse2fs. */
export function fuse2fsWorkloadComms(name: WorkloadName): string[] {
  return workloadComms(name).filter((c) => c !== MOUNT_COMM).concat(FUSE2FS_COMM);
}

export interface Fuse2fsWorkloadOptions {
  name: WorkloadName;
  direct: boolean;
  /** An ext2/3/4 image file, or NEW_IMAGE. */
  image: string;
  /** Where fuse2fs's -d log is kept (null: parsed only). */
  logPath: string | null;
  log: (line: string) => void;
}

export class Fuse2fsWorkload {
  readonly mnt: string;
  /** Where `a` and `b` are made: the mount's root on a new image, a new folder of a user's image. */
  readonly workDir: string;
  readonly stats: WorkloadStats = { runs: {}, failures: {}, firstError: null };
  /** st_ino of `a` and `b` as stat(2) on the mount shows them (after setup()). */
  inos: [number, number] | null = null;
  private readonly bin: string;
  private readonly children = new Set<ChildProcess>();
  private stopping = false;
  private closed: Promise<string[]> | null = null;

  private constructor(
    readonly o: Fuse2fsWorkloadOptions, readonly dir: string, private readonly recorded: StartedItem, readonly capture: Fuse2fsCapture,
  ) {
    this.mnt = join(dir, 'mnt');
    this.bin = join(dir, 'bin');
    this.workDir = o.image === NEW_IMAGE ? this.mnt : join(this.mnt, `fusescope-workload-${process.pid}`);
  }

  /** Temp dir, image, fuse2fs mounted with its probes ready; on failure what was made is removed again. */
  static async prepare(o: Fuse2fsWorkloadOptions): Promise<Fuse2fsWorkload> {
    const image = o.image === NEW_IMAGE ? null : resolve(o.image);
    if (image !== null && (!existsSync(image) || !statSync(image).isFile())) throw new TracefsError(`--fuse2fs ${o.image}: no such image file (\`new\` makes one)`);
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-fuse2fs-workload-'));
    const record = startedRecord();
    let item: StartedItem;
    try {
      item = record.add({ what: 'workload temp dir', mountDir: null, tempDirs: [dir] });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const undo = (): void => {
      if (!isFuseMount(join(dir, 'mnt'))) {
        rmSync(dir, { recursive: true, force: true });
        record.done(item);
      }
    };
    try {
      mkdirSync(join(dir, 'mnt'));
      mkdirSync(join(dir, 'bin'));
      for (const r of [...SETUP, ...Object.values(ROLES).flat()]) {
        if (!existsSync(join(dir, 'bin', r.comm))) symlinkSync(which(r.program), join(dir, 'bin', r.comm));
      }
      let img = image;
      if (img === null) {
        img = join(dir, 'ext4.img');
        // No journal: fuse2fs (e2fsprogs 1.47) does not write one ("Writing to the journal is not supported").
        const r = spawnSync('mke2fs', ['-q', '-t', 'ext4', '-O', '^has_journal', '-F', img, NEW_IMAGE_SIZE], { encoding: 'utf8' });
        if (r.status !== 0) throw new TracefsError(`mke2fs -t ext4 ${img} ${NEW_IMAGE_SIZE} failed: ${(r.stderr || r.error?.message || '').trim()}`);
        o.log(`made a ${NEW_IMAGE_SIZE} ext4 image (mke2fs -t ext4 -O ^has_journal) at ${img}`);
      }
      const capture = await startFuse2fsCapture(img, join(dir, 'mnt'), o.logPath);
      return new Fuse2fsWorkload(o, dir, item, capture);
    } catch (e) {
      undo();
      throw e;
    }
  }

  get fuse2fsPid(): number { return this.capture.fuse2fs.pid; }

  /** Makes `a` and its hardlink `b` through the mount (the capture is running) and reads their st_ino. */
  async setup(): Promise<void> {
    if (this.workDir !== this.mnt) mkdirSync(this.workDir);
    for (const r of SETUP) await this.runRole(r, true);
    const inos = [NAME_A, NAME_B].map((n) => statSync(join(this.workDir, n)).ino) as [number, number];
    this.inos = inos;
    this.o.log(`${join(this.workDir, NAME_A)} and ${NAME_B}: st_ino ${inos[0]} and ${inos[1]} (stat(2) on the mount)`);
  }

  private runRole(role: Role, mustSucceed: boolean): Promise<void> {
    return runCounted(this.bin, role, this.workDir, this.o.direct, this.children, this.stats, () => this.stopping, mustSucceed);
  }

  /** Every role in a loop of its own, concurrently, until `untilMs` (Date.now()) or close(). */
  async run(untilMs: number): Promise<void> {
    await Promise.all(ROLES[this.o.name].map(async (role) => {
      while (!this.stopping && Date.now() < untilMs) await this.runRole(role, false);
    }));
  }

  /** Stops the programs, removes what it made in a user's image, unmounts fuse2fs, removes the temp dir. Returns problems. */
  close(): Promise<string[]> {
    this.closed ??= this.doClose();
    return this.closed;
  }

  private async doClose(): Promise<string[]> {
    this.stopping = true;
    const problems: string[] = [];
    await Promise.all([...this.children].map((p) => new Promise<void>((ok) => {
      if (p.exitCode !== null || p.signalCode !== null) return ok();
      p.once('close', () => ok());
      p.kill('SIGTERM');
    })));
    const f = this.capture.fuse2fs;
    if (this.workDir !== this.mnt && isFuseMount(this.mnt)) {
      try {
        rmSync(this.workDir, { recursive: true, force: true });
      } catch (e) {
        problems.push(`removing ${this.workDir} from the image: ${(e as Error).message}`);
      }
    }
    if (f.child.exitCode !== null || f.child.signalCode !== null) problems.push(`fuse2fs (pid ${f.pid}) ended during the workload`);
    problems.push(...await f.stop());
    if (isFuseMount(this.mnt)) problems.push(`${this.mnt} is still mounted (fusermount -u ${this.mnt})`);
    else {
      this.o.log(`unmounted ${this.mnt}`);
      rmSync(this.dir, { recursive: true, force: true });
      startedRecord().done(this.recorded);
    }
    return problems;
  }
}
