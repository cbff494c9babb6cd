// What a capture started outside itself — a FUSE server (Debian's fuse2fs, fusescope's own
// `fusescope mount`), the folder it mounted, temporary folders — written down before it is started,
// so that a capture killed with SIGKILL (which cannot clean up) is cleaned up by the next start or
// `fusescope capture --restore`, like its tracefs state (tracefs.ts).
//
// One file per capture process, `RUN_DIR/started-PID.json` (written whole: temporary name, fsync,
// rename), next to the tracefs state file. Per process rather than one file: the server is started
// before the capture takes its lock (its libfuse must be mapped before the uprobes are placed), so
// two starting captures must not write one file. The file names its owner by pid and start time;
// only files whose owner is no longer that process are cleaned, each claimed first by renaming it
// (two cleaners never clean one file).
//
// Cleaning one record: its mount folder unmounted when it is a FUSE mount (`fusermount -u`, then
// `umount -l` if busy: a lazy unmount detaches it now and ends the connection when the last user
// lets go); its process ended (SIGTERM, then SIGKILL after 5 s) only while /proc/PID/stat still
// shows the start time recorded (a pid reused by another process is left alone); its temporary
// folders removed, never while anything is mounted under them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_RUN_DIR, TracefsError, writeDurably } from './tracefs.ts';

export interface StartedItem {
  /** What it is, for the messages: `fuse2fs`, `fusescope mount`, `workload temp dir`. */
  what: string;
  /** The process, once spawned (null: recorded before the spawn, and the spawn never happened or was not recorded). */
  pid: number | null;
  /** Its start time, field 22 of /proc/PID/stat (clock ticks since boot): a reused pid has another. */
  startTime: number | null;
  /** The folder it mounts (null: none). */
  mountDir: string | null;
  /** Folders made for it, removed after it (never while something is mounted under them). */
  tempDirs: string[];
}

interface StartedFile {
  version: 1;
  owner: { pid: number; startTime: number | null };
  startedAt: string;
  items: StartedItem[];
}

const PREFIX = 'started-';

/** Field 22 of /proc/PID/stat (after the `(comm)` field, which may hold spaces and parentheses), or null when there is no such process. */
export function processStartTime(pid: number): number | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): field 22 is rest[19].
  const v = Number(rest[19]);
  return Number.isFinite(v) ? v : null;
}

/** Whether `pid` is still the process that had `startTime` (not a zombie: its work is over). */
function sameProcess(pid: number, startTime: number | null): boolean {
  const now = processStartTime(pid);
  if (now === null || (startTime !== null && now !== startTime)) return false;
  try {
    return !/^\S+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Mount points at or under `dir` (/proc/self/mountinfo field 5, octal escapes undone), with their fs type. */
function mountsUnder(dir: string): Array<{ at: string; type: string }> {
  const out: Array<{ at: string; type: string }> = [];
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = l.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0 || f[4] === undefined) continue;
    const at = f[4].replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (at === dir || at.startsWith(`${dir}/`)) out.push({ at, type: f[sep + 1] ?? '' });
  }
  return out;
}

/** The records of this process: added before a start, completed after the spawn, dropped once stopped. */
export class StartedRecord {
  private readonly items: StartedItem[] = [];
  readonly path: string;

  constructor(readonly runDir = DEFAULT_RUN_DIR) {
    this.path = join(runDir, `${PREFIX}${process.pid}.json`);
  }

  /** Records an item before it is started (the file is on disk when this returns). */
  add(item: Omit<StartedItem, 'pid' | 'startTime'>): StartedItem {
    const it: StartedItem = { ...item, mountDir: item.mountDir === null ? null : resolve(item.mountDir), tempDirs: item.tempDirs.map((d) => resolve(d)), pid: null, startTime: null };
    this.items.push(it);
    this.save();
    return it;
  }

  /** The item's process was spawned: its pid and start time, saved at once. */
  spawned(item: StartedItem, pid: number): void {
    item.pid = pid;
    item.startTime = processStartTime(pid);
    this.save();
  }

  /** The item was stopped and cleaned by its owner; the file goes with the last item. */
  done(item: StartedItem): void {
    const i = this.items.indexOf(item);
    if (i < 0) return;
    this.items.splice(i, 1);
    this.save();
  }

  private save(): void {
    try {
      if (this.items.length === 0) {
        if (existsSync(this.path)) unlinkSync(this.path);
        return;
      }
      mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
      const body: StartedFile = { version: 1, owner: { pid: process.pid, startTime: processStartTime(process.pid) }, startedAt: new Date().toISOString(), items: this.items };
      writeDurably(this.path, JSON.stringify(body));
    } catch (e) {
      // Starting something that a killed capture could not have cleaned up is refused.
      throw new TracefsError(`cannot record what the capture starts in ${this.path}: ${(e as Error).message}`);
    }
  }
}

let own: StartedRecord | null = null;
/** This process's record in the default run folder. */
export function startedRecord(): StartedRecord {
  own ??= new StartedRecord(DEFAULT_RUN_DIR);
  return own;
}

/**
 * Cleans what captures that are gone left (see the file comment); returns one line per thing
 * done or found, for the user. Records of live captures (this one included) are left alone.
 */
export function cleanupLeftBehind(runDir = DEFAULT_RUN_DIR): string[] {
  const said: string[] = [];
  let names: string[];
  try {
    names = readdirSync(runDir).filter((n) => n.startsWith(PREFIX) && n.endsWith('.json'));
  } catch {
    return said; // no run folder: nothing was recorded
  }
  for (const name of names) {
    const path = join(runDir, name);
    let file: StartedFile;
    try {
      file = JSON.parse(readFileSync(path, 'utf8')) as StartedFile;
    } catch {
      continue; // being renamed by another cleaner, or half-written by a writer killed before the rename (its .tmp)
    }
    if (file.version !== 1 || !Array.isArray(file.items)) continue;
    if (sameProcess(file.owner.pid, file.owner.startTime)) continue; // its capture is running
    // Claim it: of two cleaners only one renames it.
    const claimed = `${path}.cleaning-${process.pid}`;
    try {
      renameSync(path, claimed);
    } catch {
      continue;
    }
    const owner = `a killed capture (pid ${file.owner.pid}, started ${file.startedAt})`;
    let left = false;
    // Servers first (unmounted, ended), then the folders they were in.
    for (const it of file.items) said.push(...cleanItem(it, owner));
    for (const it of file.items) {
      for (const d of it.tempDirs) {
        if (!existsSync(d)) continue;
        const m = mountsUnder(d);
        if (m.length > 0) {
          said.push(`${owner}: left ${d} in place: ${m.map((x) => x.at).join(', ')} still mounted`);
          left = true;
          continue;
        }
        rmSync(d, { recursive: true, force: true });
        said.push(`${owner}: removed its temporary folder ${d}`);
      }
    }
    if (left) renameSync(claimed, path); // kept for another try
    else unlinkSync(claimed);
  }
  return said;
}

/** Unmounts the item's folder (FUSE mounts only) and ends its process if it still is that process. */
function cleanItem(it: StartedItem, owner: string): string[] {
  const said: string[] = [];
  if (it.mountDir !== null) {
    for (let guard = 0; guard < 8; guard++) {
      const top = mountsUnder(it.mountDir).filter((m) => m.at === it.mountDir).at(-1);
      if (!top) break;
      if (!top.type.startsWith('fuse')) {
        said.push(`${owner}: ${it.mountDir} has a ${top.type} mount, not a FUSE server's: left alone`);
        break;
      }
      const u = spawnSync('fusermount', ['-u', it.mountDir], { encoding: 'utf8' });
      if (u.status === 0) {
        said.push(`${owner}: unmounted ${it.mountDir} (its ${it.what}'s mount; fusermount -u)`);
        continue;
      }
      const l = spawnSync('umount', ['-l', it.mountDir], { encoding: 'utf8' });
      if (l.status === 0) said.push(`${owner}: unmounted ${it.mountDir} lazily (its ${it.what}'s mount was busy: umount -l)`);
      else {
        said.push(`${owner}: could not unmount ${it.mountDir}: ${(u.stderr ?? '').trim()} / ${(l.stderr ?? '').trim()}`);
        break;
      }
    }
  }
  if (it.pid !== null) {
    const now = processStartTime(it.pid);
    if (now !== null && it.startTime !== null && now !== it.startTime) {
      said.push(`${owner}: its ${it.what} (pid ${it.pid}) had ended: that pid is another process now, left alone`);
      return said;
    }
    const unmounted = said.some((l) => l.includes(': unmounted '));
    // An unmounted FUSE server usually ends by itself: give it a moment before signalling.
    for (let i = 0; unmounted && i < 20 && sameProcess(it.pid, it.startTime); i++) sleepMs(50);
    let how = unmounted ? 'when its mount went' : 'already';
    for (const [sig, waitMs] of [['SIGTERM', 5000], ['SIGKILL', 2000]] as const) {
      if (!sameProcess(it.pid, it.startTime)) break;
      try {
        process.kill(it.pid, sig);
      } catch {
        break;
      }
      how = `on ${sig}`;
      for (let t = 0; t < waitMs && sameProcess(it.pid, it.startTime); t += 50) sleepMs(50);
    }
    said.push(sameProcess(it.pid, it.startTime)
      ? `${owner}: its ${it.what} (pid ${it.pid}) is still running after SIGKILL`
      : how === 'already' ? `${owner}: its ${it.what} (pid ${it.pid}) had already ended` : `${owner}: its ${it.what} (pid ${it.pid}) ended ${how}`);
  }
  return said;
}
