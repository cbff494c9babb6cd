// tracefs as a capture finds it and leaves it: mount if absent, a snapshot of every file the capture
// will write (taken before the first write, and saved to a state file so a capture killed with
// SIGKILL is undone by the next start or `fusescope capture --restore`), writes limited to the
// snapshotted files, and a restore that puts each back and re-reads it to prove it.
//
// How a file is put back depends on what reading it shows (kernel Documentation/trace/ftrace.rst,
// events.rst):
//   trace_clock     `[local] global … mono …`: the bracketed name is written back
//   */filter        `none` when empty: cleared by writing `0`; else the expression is written back
//   */trigger       `# Available triggers: …` comments, then one line per trigger: a trigger the
//                   capture added is removed by writing it again prefixed with `!`
//   uprobe_events   one line per probe: a probe the capture added is removed by appending
//                   `-:GROUP/EVENT` (after its events are off); the file then reads as found
//   buffer_size_kb  `N`, or `N (expanded: M)` while the ring buffer was never allocated (a tracefs
//                   mounted fresh): M is what tracing there would use. Once expanded it stays so, so
//                   M is written back and the size read after is checked against M (rounded up to
//                   whole buffer pages: a few KiB more)
//   everything else (enable, options/*, tracing_on): the value read is written back
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const DEFAULT_TRACEFS = '/sys/kernel/tracing';
/** The state file and lock of the running capture (tmpfs: gone at reboot, as is the tracefs state it records). */
export const DEFAULT_RUN_DIR = '/run/fusescope';
export const STATE_FILE = 'tracefs-restore.json';
export const LOCK_FILE = 'capture.lock';

/** What the state file holds: enough to undo a capture from another process. */
export interface TracefsSnapshot {
  version: 1;
  /** The capture's pid (the lock's owner). */
  pid: number;
  root: string;
  /** The capture mounted tracefs at `root`: unmount it at the end. */
  mounted: boolean;
  /** Each touched file (path relative to root) and its content as read before the first write. */
  files: Array<{ path: string; content: string }>;
  /** Triggers the capture added: `{ path, trigger }` (removed with `!trigger`). */
  triggers: Array<{ path: string; trigger: string }>;
  /** Uprobes the capture added, `GROUP/EVENT` (removed with `-:GROUP/EVENT`; absent in older state files). */
  uprobes?: string[];
  startedAt: string;
}

export class TracefsError extends Error {}

/** One value to write back for a file, from its snapshot content (see the file comment). */
function restoreValue(path: string, content: string): string | null {
  const text = content.trim();
  if (path === 'trace_clock') {
    const m = /\[(\S+)\]/.exec(text);
    return m ? m[1]! : null;
  }
  if (path.endsWith('/filter')) return text === 'none' ? '0' : text;
  if (path.endsWith('/trigger')) return null; // triggers: only the capture's own are removed
  if (path === 'uprobe_events') return null; // uprobes: only the capture's own are removed
  if (path === 'buffer_size_kb') {
    const kb = bufferKb(text);
    return kb === null ? null : String(kb);
  }
  return text;
}

/**
 * The per-CPU buffer size a `buffer_size_kb` reading means: `N`, or M of `N (expanded: M)` (the
 * size the buffer takes when tracing first uses it; a write expands it, and it never unexpands).
 */
export function bufferKb(text: string): number | null {
  const m = /^(\d+)(?:\s*\(expanded:\s*(\d+)\))?/.exec(text.trim());
  return m ? Number(m[2] ?? m[1]) : null;
}

/**
 * Whether a file reads as the snapshot took it. buffer_size_kb: the same size, expanded or not; and
 * for an unexpanded one, the size writing it gives — the kernel rounds a size up to whole buffer
 * pages (each holds a little under 4 KiB of events: 1408 reads back as 1410 on x86-64).
 */
function readsAsFound(path: string, now: string, was: string): boolean {
  if (now === was) return true;
  if (path !== 'buffer_size_kb') return false;
  const nowKb = bufferKb(now);
  const wasKb = bufferKb(was);
  if (nowKb === null || wasKb === null) return false;
  return nowKb === wasKb || (/expanded/.test(was) && nowKb > wasKb && nowKb - wasKb <= 4);
}

/** Restore order: triggers and events off before filters; clock and buffer (which reset the buffer) late; tracing_on last. */
function restoreRank(path: string): number {
  if (path.endsWith('/trigger')) return 0;
  if (path.endsWith('/enable')) return 1;
  if (path.endsWith('/filter')) return 2;
  if (path.startsWith('options/')) return 3;
  if (path === 'trace_clock') return 4;
  if (path === 'buffer_size_kb') return 5;
  return path === 'tracing_on' ? 7 : 6;
}

function writeValue(file: string, value: string): void {
  // One write(2) per value: tracefs parses each write as a whole command.
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, value.endsWith('\n') ? value : `${value}\n`);
  } finally {
    closeSync(fd);
  }
}

function appendValue(file: string, value: string): void {
  // Triggers are added and removed by appending (O_TRUNC on `trigger` would drop every trigger).
  const fd = openSync(file, 'a');
  try {
    writeSync(fd, `${value}\n`);
  } finally {
    closeSync(fd);
  }
}

/** A tracefs that the capture may change: only files snapshotted first. */
export class Tracefs {
  readonly snapshot: TracefsSnapshot;
  private readonly known = new Set<string>();
  private restored = false;

  private constructor(readonly root: string, mounted: boolean, private readonly statePath: string | null) {
    this.snapshot = { version: 1, pid: process.pid, root, mounted, files: [], triggers: [], startedAt: new Date().toISOString() };
  }

  /**
   * tracefs at `root`, mounted there if its `events` folder is absent. `statePath`: where the
   * snapshot is saved before each write batch (null: not saved, for tests of this class).
   */
  static open(root: string, statePath: string | null): Tracefs {
    let mounted = false;
    if (!existsSync(join(root, 'events'))) {
      try {
        // Not recursive: Node's recursive mkdir loops forever under /proc (ENOENT there is not a missing parent).
        if (!existsSync(root)) mkdirSync(root);
        execFileSync('mount', ['-t', 'tracefs', 'nodev', root], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        const err = e as { stderr?: Buffer; message: string };
        throw new TracefsError(`tracefs is not mounted at ${root} and could not be mounted: ${(err.stderr?.toString().trim() || err.message)}`);
      }
      if (!existsSync(join(root, 'events'))) throw new TracefsError(`mounted tracefs at ${root} but it has no events/ (kernel without tracing?)`);
      mounted = true;
    }
    const t = new Tracefs(root, mounted, statePath);
    t.save();
    return t;
  }

  read(path: string): string {
    return readFileSync(join(this.root, path), 'utf8');
  }

  exists(path: string): boolean {
    return existsSync(join(this.root, path));
  }

  /** Reads and remembers `paths` (those not remembered yet), then saves the state file: before any write to them. */
  remember(paths: readonly string[]): void {
    let added = false;
    for (const p of paths) {
      if (this.known.has(p)) continue;
      this.snapshot.files.push({ path: p, content: this.read(p) });
      this.known.add(p);
      added = true;
    }
    if (added) this.save();
  }

  /** Writes a remembered file (anything else is a programming error: it could not be restored). */
  write(path: string, value: string): void {
    if (!this.known.has(path)) throw new Error(`tracefs: ${path} written before it was snapshotted`);
    try {
      writeValue(join(this.root, path), value);
    } catch (e) {
      throw new TracefsError(`tracefs: writing '${value}' to ${path} failed: ${(e as Error).message}`);
    }
  }

  /** Adds a trigger to a remembered `trigger` file; it is recorded (and saved) before it is written. */
  addTrigger(path: string, trigger: string): void {
    if (!this.known.has(path)) throw new Error(`tracefs: ${path} written before it was snapshotted`);
    this.snapshot.triggers.push({ path, trigger });
    this.save();
    try {
      appendValue(join(this.root, path), trigger);
    } catch (e) {
      throw new TracefsError(`tracefs: adding trigger '${trigger}' to ${path} failed: ${(e as Error).message}`);
    }
  }

  /**
   * Adds a uprobe (a `p:GROUP/EVENT …` line) to the remembered uprobe_events; it is recorded (and
   * saved) before it is written, so a killed capture's next start removes it.
   */
  addUprobe(definition: string): void {
    if (!this.known.has('uprobe_events')) throw new Error('tracefs: uprobe_events written before it was snapshotted');
    const m = /^[pr]:(\S+\/\S+) /.exec(definition);
    if (!m) throw new Error(`tracefs: '${definition}' is not a named uprobe definition`);
    // A probe of that name that is already there is not ours: never recorded, so never removed by us.
    if (existsSync(join(this.root, 'events', m[1]!))) throw new TracefsError(`tracefs: a uprobe ${m[1]} already exists (another tool's, or a capture's left behind without its state file); not replacing it`);
    (this.snapshot.uprobes ??= []).push(m[1]!);
    this.save();
    try {
      appendValue(join(this.root, 'uprobe_events'), definition);
    } catch (e) {
      throw new TracefsError(`tracefs: adding uprobe '${definition}' failed: ${(e as Error).message}`);
    }
  }

  private save(): void {
    if (this.statePath === null) return;
    writeStateFile(this.statePath, this.snapshot);
  }

  /**
   * Puts every file back (idempotent); returns the files that do not read back as they were
   * (empty: restored exactly). Removes the state file when all is back, unmounts what it mounted.
   */
  restore(): string[] {
    if (this.restored) return [];
    this.restored = true;
    const bad = restoreSnapshot(this.snapshot);
    if (bad.length === 0 && this.statePath !== null) removeQuiet(this.statePath);
    return bad;
  }
}

/** Undoes a snapshot (this process's, or a killed capture's from its state file); returns what did not read back equal. */
export function restoreSnapshot(s: TracefsSnapshot): string[] {
  const problems: string[] = [];
  if (!existsSync(join(s.root, 'events'))) return [`${s.root}: tracefs is not mounted; nothing to restore`];
  for (const t of s.triggers) {
    try {
      appendValue(join(s.root, t.path), `!${t.trigger}`);
    } catch (e) {
      // Already gone (the event's trigger was never written, or was removed): verification below decides.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'EINVAL') problems.push(`${t.path}: ${(e as Error).message}`);
    }
  }
  const files = [...s.files].sort((a, b) => restoreRank(a.path) - restoreRank(b.path));
  for (const f of files) {
    const value = restoreValue(f.path, f.content);
    if (value === null) continue;
    try {
      if (!readsAsFound(f.path, readFileSync(join(s.root, f.path), 'utf8'), f.content)) writeValue(join(s.root, f.path), value);
    } catch (e) {
      problems.push(`${f.path}: ${(e as Error).message}`);
    }
  }
  // Uprobes after their events are off (an enabled probe cannot be removed: EBUSY); their own
  // events/GROUP/EVENT files go with them, so they are not re-read below.
  const gone = new Set<string>();
  for (const u of s.uprobes ?? []) {
    gone.add(`events/${u}/`);
    try {
      if (existsSync(join(s.root, 'events', u))) appendValue(join(s.root, 'uprobe_events'), `-:${u}`);
    } catch (e) {
      problems.push(`uprobe ${u}: ${(e as Error).message}`);
    }
  }
  for (const f of s.files) {
    if ([...gone].some((g) => f.path.startsWith(g))) {
      if (existsSync(join(s.root, f.path))) problems.push(`${f.path}: the capture's uprobe is still there`);
      continue;
    }
    try {
      const now = readFileSync(join(s.root, f.path), 'utf8');
      if (!readsAsFound(f.path, now, f.content)) problems.push(`${f.path}: reads ${JSON.stringify(now.trim())}, was ${JSON.stringify(f.content.trim())}`);
    } catch (e) {
      problems.push(`${f.path}: ${(e as Error).message}`);
    }
  }
  if (s.mounted) {
    try {
      execFileSync('umount', [s.root], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (e) {
      problems.push(`umount ${s.root}: ${((e as { stderr?: Buffer }).stderr?.toString().trim()) || (e as Error).message}`);
    }
  }
  return problems;
}

/** Written whole to a temporary name, fsynced, renamed: a reader never sees half a state file. */
export function writeStateFile(path: string, s: TracefsSnapshot): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeDurably(path, JSON.stringify(s));
}

export function readStateFile(path: string): TracefsSnapshot | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const s = JSON.parse(text) as TracefsSnapshot;
  if (s.version !== 1 || !Array.isArray(s.files) || !Array.isArray(s.triggers) || typeof s.root !== 'string') {
    throw new TracefsError(`${path} is not a fusescope tracefs state file`);
  }
  return s;
}

export function removeQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** What taking the lock found: null, or the state a dead capture left (already restored; `problems` empty when exact). */
export interface Recovery { pid: number; problems: string[]; startedAt: string }

/**
 * The one-capture-at-a-time lock: a file holding the owner's pid, created exclusively. A lock
 * whose pid is dead is taken over after restoring the state file that capture left (if any).
 */
export class CaptureLock {
  private held = false;
  readonly lockPath: string;
  readonly statePath: string;

  constructor(readonly runDir: string) {
    this.lockPath = join(runDir, LOCK_FILE);
    this.statePath = join(runDir, STATE_FILE);
  }

  /** Takes the lock; throws if a live capture holds it. Returns what it recovered from a dead one. */
  acquire(): Recovery | null {
    mkdirSync(this.runDir, { recursive: true, mode: 0o700 });
    let recovery: Recovery | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.held = true;
        // A state file with no live owner: a capture killed before (or between) lock files.
        recovery = this.recoverState() ?? recovery;
        if (recovery && recovery.problems.length > 0) {
          this.release();
          throw new TracefsError(`a killed capture (pid ${recovery.pid}) left tracefs changed and it could not all be put back ` +
            `(state kept in ${this.statePath}): ${recovery.problems.join('; ')}`);
        }
        return recovery;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      const owner = Number.parseInt(readFileSync(this.lockPath, 'utf8'), 10);
      // Our own pid counts as alive: a second capture in one process is refused like any other.
      if (Number.isInteger(owner) && pidAlive(owner)) {
        throw new TracefsError(`another capture is running (pid ${owner}, lock ${this.lockPath}); only one capture at a time`);
      }
      recovery = this.recoverState();
      removeQuiet(this.lockPath);
    }
    throw new TracefsError(`could not take the capture lock ${this.lockPath}`);
  }

  /** Restores and removes a state file left behind; null when there is none. */
  recoverState(): Recovery | null {
    const s = readStateFile(this.statePath);
    if (s === null) return null;
    if (s.pid !== process.pid && pidAlive(s.pid) && existsSync(this.lockPath) && !this.held) {
      throw new TracefsError(`capture pid ${s.pid} is still running; not restoring its tracefs state under it`);
    }
    const problems = restoreSnapshot(s);
    if (problems.length === 0) removeQuiet(this.statePath);
    return { pid: s.pid, problems, startedAt: s.startedAt };
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    removeQuiet(this.lockPath);
  }

}

/**
 * Replaces `path` with `text` so that a crash leaves the old file or the new one, never a torn one:
 * written to a temporary name (this process's), fsynced, renamed over it. Mode 0600 (root's state).
 */
export function writeDurably(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
