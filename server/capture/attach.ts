// `capture --attach PID --mount DIR`: an already running, unmodified libfuse server (2.9 or 3.x),
// probed where it runs. Its libfuse is the one /proc/PID/maps names (checked against the offsets
// table, libfuse.ts); its connection is DIR's fuse mount (mountinfo, as for --fuse2fs). fusescope
// did not start this server, so it never signals it and never unmounts DIR: it only adds probes
// (removed at the end with the rest of tracefs) and reads. The server's -d log is joined only when
// the user names the file it goes to (--server-log); a server started without -d has none, and then
// the paths behind nodeids are unknown (nodeids and st_ino still come from the probes).
import { closeSync, existsSync, fstatSync, openSync, readSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FuseLogParser } from '../../src/trace/import/fuse-log.ts';
import { TracefsError } from './tracefs.ts';
import { libfuseOf, libfuseProbes, type UprobeSpec } from './libfuse.ts';
import { LibfuseJoin } from './libfuse-join.ts';
import { fuseConnectionAt } from './fuse2fs.ts';

const POLL_MS = 100;

export interface AttachCapture {
  pid: number;
  mountDir: string;
  join: LibfuseJoin;
  uprobes: UprobeSpec[];
  connection: number;
  /** e.g. `libfuse 3.12–3.16 (x86_64, glibc) at /usr/lib/…/libfuse3.so.3.14.0 (entry: …)`. */
  library: string;
  /** Null without --server-log: the paths behind nodeids are then unknown. */
  serverLog: string | null;
  /** Calls `onGone` once when the server's process ends (polled). */
  watch(onGone: () => void): void;
  /** Stops the watch and the log's tail (reads what the log has left). Never touches the server. */
  close(): void;
}

/** True when the process has /dev/fuse open (a FUSE server holds its connection's descriptor). */
function holdsDevFuse(pid: number): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch (e) {
    throw new TracefsError(`cannot read /proc/${pid}/fd: ${(e as Error).message}`);
  }
  return fds.some((fd) => {
    try { return readlinkSync(`/proc/${pid}/fd/${fd}`) === '/dev/fuse'; } catch { return false; }
  });
}

/**
 * A file another process appends to, read as it grows into the log parser — from its size at the
 * start: earlier lines may be another mount's (uniques restart per connection) and must not be joined.
 */
class LogTail {
  private fd: number;
  private pos = 0;
  private readonly buf = Buffer.alloc(64 * 1024);
  constructor(path: string, private readonly parser: FuseLogParser) {
    this.fd = openSync(path, 'r');
    this.pos = fstatSync(this.fd).size;
  }
  poll(): void {
    if (this.fd < 0) return;
    for (;;) {
      const n = readSync(this.fd, this.buf, 0, this.buf.length, this.pos);
      if (n <= 0) return;
      this.pos += n;
      this.parser.push(this.buf.subarray(0, n));
    }
  }
  close(): void {
    if (this.fd < 0) return;
    this.poll();
    this.parser.end();
    closeSync(this.fd);
    this.fd = -1;
  }
}

/**
 * Checks PID and DIR and builds the probes and the live join. Refuses (TracefsError, saying why):
 * no such process; DIR not a fuse mount; PID without /dev/fuse open; no libfuse mapped; a libfuse
 * the offsets table does not know; --server-log not a file.
 */
export function startAttachCapture(pid: number, mountDir: string, serverLog: string | null): AttachCapture {
  if (!Number.isInteger(pid) || pid <= 0 || !existsSync(`/proc/${pid}`)) throw new TracefsError(`--attach ${pid}: no such process`);
  const dir = resolve(mountDir);
  const connection = fuseConnectionAt(dir);
  if (connection === null) throw new TracefsError(`--mount ${mountDir}: not a fuse mount point (/proc/self/mountinfo)`);
  if (!holdsDevFuse(pid)) throw new TracefsError(`--attach ${pid}: the process has no /dev/fuse open, so it serves no FUSE mount`);
  const lib = libfuseOf(pid);
  if (lib === null) throw new TracefsError(`--attach ${pid}: the process maps no libfuse (/proc/${pid}/maps): not a libfuse server`);
  const p = libfuseProbes(lib);
  let parser: FuseLogParser | null = null;
  let tail: LogTail | null = null;
  if (serverLog !== null) {
    if (!existsSync(serverLog) || !statSync(serverLog).isFile()) throw new TracefsError(`--server-log ${serverLog}: no such file`);
    parser = new FuseLogParser(`pid ${pid} -d`);
    tail = new LogTail(serverLog, parser);
  }
  const join = new LibfuseJoin(pid, parser);
  let timer: ReturnType<typeof setInterval> | null = null;
  let gone: (() => void) | null = null;
  return {
    pid, mountDir: dir, join, uprobes: p.probes, connection, serverLog,
    library: `${p.layout} at ${lib} (entry: ${p.entry})`,
    watch(onGone) {
      gone = onGone;
      timer ??= setInterval(() => {
        tail?.poll();
        if (gone && !existsSync(`/proc/${pid}`)) {
          const g = gone;
          gone = null;
          g();
        }
      }, POLL_MS);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      tail?.close();
      tail = null;
    },
  };
}
