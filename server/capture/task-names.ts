// Who a task in a live capture is: its comm and its process (tgid), for both readers.
//
// tracefs records only a pid. trace_pipe prints comm and tgid from the kernel's pid → comm and
// pid → tgid tables (saved_cmdlines, saved_tgids), which it writes at context switches and never
// clears: an entry may belong to an exited task that had the same pid, and a new thread may be
// printed with that older task's process until its own first switch is saved (seen on this
// machine: a fuse2fs worker thread named as its own process, its libfuse probe hits then taken for
// another process's). So:
//   a live task   /proc/PID (comm, status's Tgid), asked again each pass: an exec renames it
//   a task gone   the tables as read in that pass — after its records were written, and after its
//                 last context switch saved its entry — only that task's entry taken from them
// /proc is asked only in the initial pid namespace (tracefs pids are that namespace's).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The kernel keeps 15 characters of a comm (TASK_COMM_LEN 16, with the NUL). */
export const COMM_CHARS = 15;

/**
 * True when this process's /proc numbers tasks as tracefs records them: the initial pid namespace,
 * where pid 2 is kthreadd (kernel threads live only there; in a container's namespace pid 2 is a
 * process of the container, or none).
 */
export function initialPidNamespace(proc: string): boolean {
  try {
    return readFileSync(`${proc}/2/comm`, 'latin1') === 'kthreadd\n' && /\nPPid:\t0\n/.test(readFileSync(`${proc}/2/status`, 'latin1'));
  } catch {
    return false;
  }
}

export interface TaskNamesOptions {
  /** tracefs (saved_cmdlines, saved_tgids). */
  root: string;
  /** procfs (default /proc; tests give a folder laid out as one). */
  procRoot?: string;
  /**
   * The capture's `comm ==` filter: a record passed it, so its task had one of these comms when it
   * happened — a comm outside them is stale (see commOf).
   */
  comms?: readonly string[];
}

export class TaskNames {
  /** Comm and tgid of each task met in this capture, and the pass that last checked them. */
  private readonly comms = new Map<number, string>();
  private readonly tgids = new Map<number, number>();
  private readonly checkedPass = new Map<number, number>();
  /** The tables as read in pass tablesPass (only the entries of tasks asked about then are taken). */
  private tableComms = new Map<number, string>();
  private tableTgids = new Map<number, number>();
  private tablesPass = -1;
  private pass = 0;
  private readonly proc: string;
  private readonly procPidsMatch: boolean;
  private readonly allowedComms: ReadonlySet<string> | null;
  /** Tasks named from /proc, and passes that read the tables for a task already gone. */
  fromProcCount = 0;
  tableReads = 0;

  constructor(private readonly o: TaskNamesOptions) {
    this.proc = o.procRoot ?? '/proc';
    this.procPidsMatch = initialPidNamespace(this.proc);
    this.allowedComms = o.comms && o.comms.length > 0 ? new Set(o.comms.map((c) => c.slice(0, COMM_CHARS))) : null;
  }

  /** A new read of the ring buffer: every record handed out after this was written before it. */
  newPass(): void {
    this.pass++;
  }

  /** The task's process, or 0 when nothing knows it. */
  tgidOf(pid: number): number {
    this.check(pid);
    return this.tgids.get(pid) ?? 0;
  }

  /**
   * A record's comm. With a comm filter, a comm outside it is stale — the record passed the filter —
   * e.g. saved_cmdlines saw the task before it exec'd (a child forked from this node process is
   * `node` there until it runs again after its exec); then this pass's tables are asked, and if they
   * give no filter comm either, the filter's only comm, or `<...>` among several.
   */
  commOf(pid: number): string {
    this.check(pid);
    const comm = this.comms.get(pid);
    const allowed = this.allowedComms;
    if (allowed === null || (comm !== undefined && allowed.has(comm))) return comm ?? '<...>';
    this.fromTables(pid);
    const again = this.comms.get(pid);
    if (again !== undefined && allowed.has(again)) return again;
    const only = allowed.size === 1 ? allowed.values().next().value! : '<...>';
    this.comms.set(pid, only);
    return only;
  }

  private check(pid: number): void {
    if (this.checkedPass.get(pid) === this.pass) return;
    this.checkedPass.set(pid, this.pass);
    if (this.fromProc(pid)) return;
    if (this.comms.has(pid) && this.tgids.has(pid)) return; // gone, named while it lived
    this.fromTables(pid);
  }

  private fromTables(pid: number): void {
    if (this.tablesPass !== this.pass) this.readTables();
    const comm = this.tableComms.get(pid);
    const tgid = this.tableTgids.get(pid);
    if (comm !== undefined) this.comms.set(pid, comm);
    if (tgid !== undefined) this.tgids.set(pid, tgid);
  }

  private fromProc(pid: number): boolean {
    if (!this.procPidsMatch || pid <= 0) return false;
    try {
      const status = readFileSync(`${this.proc}/${pid}/status`, 'latin1');
      const m = /\nTgid:\t(\d+)/.exec(status);
      if (m === null) return false;
      // comm, not status's Name: Name escapes what comm holds as it is.
      const comm = readFileSync(`${this.proc}/${pid}/comm`, 'latin1').replace(/\n$/, '');
      if (!this.comms.has(pid)) this.fromProcCount++;
      this.comms.set(pid, comm);
      this.tgids.set(pid, Number(m[1]));
      return true;
    } catch {
      return false; // gone already
    }
  }

  /** saved_cmdlines and saved_tgids (reading and indexing them costs 20-30 ms here: at most once a pass). */
  private readTables(): void {
    this.tablesPass = this.pass;
    this.tableReads++;
    this.tableComms = new Map();
    this.tableTgids = new Map();
    for (const [file, parse] of [['saved_cmdlines', (pid: number, v: string) => this.tableComms.set(pid, v)], ['saved_tgids', (pid: number, v: string) => this.tableTgids.set(pid, Number(v))]] as const) {
      let text: string;
      try {
        text = readFileSync(join(this.o.root, file), 'latin1');
      } catch {
        continue;
      }
      for (const line of text.split('\n')) {
        const sp = line.indexOf(' ');
        if (sp > 0) parse(Number(line.slice(0, sp)), line.slice(sp + 1));
      }
    }
  }
}
