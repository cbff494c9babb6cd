// Records every live session into a sessions folder: one .fscope per source run (a scenario switch
// starts a new file), named `<UTC time>-<scenario>.fscope`. A size cap deletes the oldest closed
// recordings when the folder's .fscope files exceed it.
//
// The folder may be shared and hostile (docs/reliability.md "Recorder safety"):
// - every active recording has an owner file `NAME.fscope.owner` (pid and the process's start time),
//   created before the recording; the cap never deletes a recording whose owner is alive, so two
//   servers sharing the folder never delete each other's active files;
// - the cap skips what is not a regular file (a dangling `*.fscope` symlink, a directory named
//   `x.fscope`) and survives every file-system error (the folder removed, a file gone under it);
// - a file-system error while recording (a full disk, the file or folder removed) pauses recording
//   with the reason (log and `onStatus`, which `serve` shows to every viewer); the live session goes
//   on; after `retryMs` the next batch tries a new file.

import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { TraceStore } from '../../src/trace/store.ts';
import type { RecordingStatus } from '../../src/trace/wire.ts';
import type { SessionListener } from '../hub/live-session.ts';
import { Recorder, type RecorderOptions } from './recorder.ts';

export const DEFAULT_SESSIONS_DIR = '.fusescope/sessions';
/** 1 GiB: about 10^8 sim events at the measured ~10 B/event (bench R2). */
export const DEFAULT_RECORD_MAX_BYTES = 1 << 30;
/** How often the cap (and that the active file is still there) is re-checked while a recording grows. */
const CAP_CHECK_INTERVAL_MS = 5000;
/** After a pause, how long before a batch tries a new file (a full disk is not retried every batch). */
const DEFAULT_RETRY_MS = 30_000;
export const OWNER_SUFFIX = '.owner';

interface SessionRecorderOptions {
  dir: string;
  maxBytes: number;
  recorder?: RecorderOptions;
  log?: (line: string) => void;
  now?: () => number;
  /** Told every change of the recording's state (a new file, a pause with its reason). */
  onStatus?: (status: RecordingStatus) => void;
  retryMs?: number;
}

/** What an owner file holds: enough to tell a live owner from a dead one whose pid was reused. */
interface Owner {
  pid: number;
  /** The process's start time in clock ticks since boot (/proc/PID/stat field 22); null off Linux. */
  procStart: number | null;
  startedUnixMs: number;
}

export class SessionRecorder implements SessionListener {
  private current: Recorder | null = null;
  /** The active file's inode: a different (or no) file at its path means it was removed under us. */
  private currentIno = 0;
  private scenario = '';
  private label = '';
  private lastCapCheckMs = -Infinity;
  private pausedAtMs = 0;
  private status: RecordingStatus = { state: 'recording', file: null, reason: null };
  /** Rows of the live session not recorded (while paused, and the pending rows a failure lost). */
  droppedRows = 0;
  readonly deleted: string[] = [];
  readonly written: string[] = [];

  constructor(private readonly o: SessionRecorderOptions) {
    try {
      mkdirSync(o.dir, { recursive: true });
    } catch (err) {
      this.pause(`cannot create the sessions folder ${o.dir}: ${describe(err)}`);
    }
  }

  get currentPath(): string | null { return this.current?.path ?? null; }
  get recordingStatus(): RecordingStatus { return this.status; }
  private now(): number { return (this.o.now ?? Date.now)(); }

  onSourceChange(scenario: string, label: string): void {
    this.closeCurrent();
    this.scenario = scenario;
    this.label = label;
  }

  onBatch(batch: TraceStore, fromRow: number, toRow: number): void {
    const now = this.now();
    if (this.status.state === 'paused' && now - this.pausedAtMs < (this.o.retryMs ?? DEFAULT_RETRY_MS)) {
      this.droppedRows += toRow - fromRow;
      return;
    }
    if (!this.current && !this.openNew(batch.originNs)) {
      this.droppedRows += toRow - fromRow;
      return;
    }
    const rec = this.current!;
    try {
      rec.appendRows(batch, fromRow, toRow);
    } catch (err) {
      this.droppedRows += rec.pendingRows;
      this.recorderFailed(rec, err);
      return;
    }
    if (now - this.lastCapCheckMs >= CAP_CHECK_INTERVAL_MS) {
      this.lastCapCheckMs = now;
      this.checkCurrentThere();
      this.enforceCap();
    }
  }

  /** Opens a new file (its owner file first); false, and paused with the reason, if it cannot. */
  private openNew(originNs: bigint): boolean {
    const stamp = new Date(this.now()).toISOString().replace(/[:.]/g, '-');
    const safe = this.scenario.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'session';
    let lastErr: unknown = null;
    try {
      mkdirSync(this.o.dir, { recursive: true }); // again: it may have been removed while serving
    } catch (err) {
      this.pause(`cannot create the sessions folder ${this.o.dir}: ${describe(err)}`);
      return false;
    }
    // Another server may take the same name at the same moment: the owner file (`wx`) claims it.
    for (let i = 1; i <= 100; i++) {
      const path = join(this.o.dir, `${stamp}-${safe}${i === 1 ? '' : `-${i}`}.fscope`);
      if (existsQuiet(path)) continue;
      try {
        writeFileSync(path + OWNER_SUFFIX, JSON.stringify(selfOwner()) + '\n', { flag: 'wx' });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        lastErr = err;
        break;
      }
      let rec: Recorder | null = null;
      try {
        rec = new Recorder(path, {
          autoFlush: true, originNs, checks: {}, ...this.o.recorder,
          meta: { source: this.label, scenario: this.scenario, ...this.o.recorder?.meta },
          onError: (err) => { if (rec) this.recorderFailed(rec, err); },
        });
        this.currentIno = statSync(path).ino;
      } catch (err) {
        removeQuiet(path + OWNER_SUFFIX);
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
        lastErr = err;
        break;
      }
      this.current = rec;
      this.written.push(path);
      this.o.log?.(`recording to ${path}`);
      this.setStatus({ state: 'recording', file: basename(path), reason: null });
      this.enforceCap();
      return true;
    }
    this.pause(`cannot start a recording in ${this.o.dir}: ${lastErr ? describe(lastErr) : 'no free name'}`);
    return false;
  }

  /** The recorder hit a file-system error (it has kept every whole chunk and closed the file). */
  private recorderFailed(rec: Recorder, err: unknown): void {
    if (this.current !== rec) return;
    this.current = null;
    removeQuiet(rec.path + OWNER_SUFFIX);
    this.pause(`${describe(err)} while writing ${basename(rec.path)} (the chunks written before it are kept: ${rec.rowsWritten} events)`);
  }

  /** Pauses when the active file was removed (or replaced) under us: what it would hold is lost. */
  private checkCurrentThere(): void {
    const rec = this.current;
    if (!rec) return;
    let ino = -1;
    try { ino = statSync(rec.path).ino; } catch { /* gone */ }
    if (ino === this.currentIno) return;
    this.current = null;
    try { rec.close(); } catch { /* writing to a deleted file: nothing to keep */ }
    removeQuiet(rec.path + OWNER_SUFFIX);
    this.pause(`${basename(rec.path)} was removed while being written (the folder removed, or another process deleted it); its events are lost`);
  }

  private pause(reason: string): void {
    this.pausedAtMs = this.now();
    this.o.log?.(`recording paused: ${reason}`);
    this.setStatus({ state: 'paused', file: null, reason });
  }

  private setStatus(s: RecordingStatus): void {
    this.status = s;
    this.o.onStatus?.(s);
  }

  private closeCurrent(): void {
    const rec = this.current;
    if (!rec) return;
    this.current = null;
    try {
      rec.close();
    } catch (err) {
      this.o.log?.(`recording ${rec.path} not closed cleanly: ${describe(err)} (its whole chunks are kept)`);
    }
    removeQuiet(rec.path + OWNER_SUFFIX);
  }

  /**
   * Deletes the oldest closed .fscope files until the folder is within maxBytes. Never throws; never
   * deletes the active file, one whose owner is alive, or anything not a regular file.
   */
  enforceCap(): void {
    let names: string[];
    try {
      names = readdirSync(this.o.dir);
    } catch (err) {
      // Gone: the next batch's checks pause recording; any other error: nothing to delete now.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log?.(`size cap not checked: ${describe(err)}`);
      return;
    }
    const present = new Set(names);
    const files: Array<{ path: string; bytes: number; mtimeMs: number; owned: boolean }> = [];
    for (const f of names) {
      if (!f.endsWith('.fscope')) continue;
      const path = join(this.o.dir, f);
      let st;
      try { st = lstatSync(path); } catch { continue; } // removed since the listing
      if (!st.isFile()) continue; // a symlink (dangling or not), a directory, a fifo: not ours to count or delete
      const owned = path === this.current?.path || (present.has(f + OWNER_SUFFIX) && ownerAlive(path + OWNER_SUFFIX));
      files.push({ path, bytes: st.size, mtimeMs: st.mtimeMs, owned });
    }
    files.sort((a, b) => a.mtimeMs - b.mtimeMs || a.path.localeCompare(b.path));
    let total = files.reduce((n, f) => n + f.bytes, 0);
    for (const f of files) {
      if (total <= this.o.maxBytes) break;
      if (f.owned) continue;
      try {
        unlinkSync(f.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.o.log?.(`could not delete ${f.path} for --record-max-bytes: ${describe(err)}`);
          continue;
        }
      }
      removeQuiet(f.path + OWNER_SUFFIX); // a dead owner's file (it crashed while recording)
      total -= f.bytes;
      this.deleted.push(f.path);
      this.o.log?.(`deleted ${f.path} (${f.bytes} bytes) to stay under --record-max-bytes ${this.o.maxBytes}`);
    }
  }

  close(): void {
    this.closeCurrent();
  }
}

/** `ENOSPC: no space left on device` rather than node's message with the syscall and path. */
function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string') {
    const text = /^[A-Z0-9]+: ([^,]+)/.exec(e.message)?.[1];
    return text ? `${e.code}: ${text}` : e.code;
  }
  return e instanceof Error ? e.message : String(err);
}

function existsQuiet(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false; // ENOENT, or unreadable: the `wx` opens that follow decide
  }
}

function removeQuiet(path: string): void {
  try { unlinkSync(path); } catch { /* already gone, or the folder is */ }
}

/** Field 22 of /proc/PID/stat (start time, clock ticks since boot); null where there is no /proc. */
function procStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(after[22 - 3]);
    return Number.isFinite(v) ? v : null;
  } catch {
    return null;
  }
}

function selfOwner(): Owner {
  return { pid: process.pid, procStart: procStartTime(process.pid), startedUnixMs: Date.now() };
}

/**
 * Whether the process named by an owner file still runs (and is the same process, not a reused pid).
 * An unreadable or malformed owner file counts as alive: when in doubt, delete nothing.
 */
export function ownerAlive(ownerPath: string): boolean {
  let owner: Owner;
  try {
    owner = JSON.parse(readFileSync(ownerPath, 'utf8')) as Owner;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  if (!owner || !Number.isInteger(owner.pid) || owner.pid <= 0) return true;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (owner.procStart === null || owner.procStart === undefined) return true;
  const now = procStartTime(owner.pid);
  return now === null || now === owner.procStart;
}
