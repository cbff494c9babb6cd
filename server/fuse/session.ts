// The mount/session runner of `fusescope mount`: opens /dev/fuse, mounts it on DIR with mount(8)
// (`mount -i -t fuse.fusescope -o fd=3,…`, the descriptor passed as the child's fd 3), reads
// requests in a worker thread and answers them on the main thread (FuseOps), in the order read —
// several requests in flight are answered one after the other. It unmounts on every exit it can see
// (the caller's abort, SIGINT/SIGTERM, the kernel ending the connection); after a SIGKILL,
// cleanupMount (`fusescope mount --cleanup DIR`, and every start on DIR) removes what was left.
//
// Why a worker: read(2) on /dev/fuse blocks until a request comes, and no Node API polls a character
// device; a blocking read on the main thread (or the libuv pool) would freeze the loop or hang exit.
// The worker ends when its read fails with ENODEV (the kernel aborted the connection: unmount), or
// after the next request once `stop` is set (teardown of a busy mount sends it one to wake it).

import { closeSync, existsSync, openSync, readFileSync, realpathSync, writeSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Opcode } from '../../src/trace/fuse-proto.ts';
import { asTaskId } from '../../src/trace/ids.ts';
import { ImageFs } from './image.ts';
import { FuseOps, MAX_WRITE_BYTES } from './ops.ts';
import type { NodePolicy } from './nodes.ts';
import { InstrumentClient } from './instrument-client.ts';
import type { InstrumentTarget } from '../sources/instrument.ts';

/** mount(8)'s filesystem type: the kernel's fuse with a subtype, so our mounts are recognisable. */
export const FS_TYPE = 'fuse.fusescope';
export const FS_SOURCE = 'fusescope';
export const DEFAULT_IMAGE_BYTES = 64 << 20;
/** Reads must hold the largest request: a WRITE of max_write plus its headers. */
const READ_BUFFER_BYTES = MAX_WRITE_BYTES + 64 * 1024;

const READER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const { readSync } = require('node:fs');
const { fd, bufBytes, stop } = workerData;
const flag = new Int32Array(stop);
const buf = Buffer.alloc(bufBytes);
for (;;) {
  let n;
  try {
    n = readSync(fd, buf, 0, bufBytes, null);
  } catch (e) {
    // EINTR: a signal; ENOENT: the request was interrupted before we read it.
    if (e.code === 'EINTR' || e.code === 'ENOENT' || e.code === 'EAGAIN') continue;
    parentPort.postMessage({ end: e.code || String(e) });
    break;
  }
  if (n === 0) { parentPort.postMessage({ end: 'EOF' }); break; }
  const copy = new Uint8Array(n);
  copy.set(buf.subarray(0, n));
  parentPort.postMessage({ req: copy }, [copy.buffer]);
  if (Atomics.load(flag, 0) !== 0) { parentPort.postMessage({ end: 'stopped' }); break; }
}
`;

export interface MountOptions {
  image: string;
  dir: string;
  policy: NodePolicy;
  instrument?: InstrumentTarget;
  /** Make a fresh image of this size first (also used when IMAGE does not exist; default 64 MiB). */
  mkfsBytes?: number;
  log: (line: string) => void;
  /** Unmount on SIGINT/SIGTERM (default true; an embedding command with its own handlers passes false and calls stop()). */
  signals?: boolean;
}

export interface RunningMount {
  readonly dir: string;
  /** Resolves with the exit code once unmounted and closed. */
  readonly done: Promise<number>;
  /** Unmounts and closes (idempotent); resolves like `done`. */
  stop(): Promise<number>;
  readonly ops: FuseOps;
}

interface MountEntry { mountPoint: string; fsType: string; source: string; /** major << 20 | minor of st_dev. */ dev: number }

/** The mounts in /proc/self/mountinfo (mount points unescaped). */
export function mountsAt(dir: string): MountEntry[] {
  const out: MountEntry[] = [];
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const dash = f.indexOf('-');
    if (dash < 0 || f.length < dash + 3) continue;
    const mountPoint = unescape(f[4]!);
    const [major, minor] = f[2]!.split(':').map(Number) as [number, number];
    if (mountPoint === dir) out.push({ mountPoint, fsType: f[dash + 1]!, source: unescape(f[dash + 2]!), dev: major * 2 ** 20 + minor });
  }
  return out;
}

function run(cmd: string, args: string[], fd?: number): Promise<{ code: number; stderr: string }> {
  return new Promise((ok) => {
    const child = spawn(cmd, args, { stdio: fd === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', 'ignore', 'pipe', fd] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', (err) => ok({ code: 127, stderr: err.message }));
    child.on('close', (code) => ok({ code: code ?? 1, stderr: stderr.trim() }));
  });
}

function resolveDir(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    // A dead fuse mount cannot be stat'ed (ENOTCONN): keep the path as given, absolute.
    return dir.startsWith('/') ? dir.replace(/\/+$/, '') || '/' : `${process.cwd()}/${dir}`.replace(/\/+$/, '');
  }
}

/**
 * Unmounts every fusescope mount on `dir` (a server killed by SIGKILL leaves one whose connection
 * is dead): umount, or a lazy umount when something still uses it. A mount of anything else on
 * `dir` is left alone and reported. Returns how many were removed.
 */
export async function cleanupMount(dir: string, log: (line: string) => void): Promise<number> {
  const path = resolveDir(dir);
  let removed = 0;
  for (let guard = 0; guard < 16; guard++) {
    const top = mountsAt(path).at(-1);
    if (!top) break;
    if (top.fsType !== FS_TYPE) {
      log(`${path} has a ${top.fsType} mount of ${top.source}, not fusescope's: left alone`);
      break;
    }
    let r = await run('umount', [path]);
    if (r.code !== 0) r = await run('umount', ['-l', path]);
    if (r.code !== 0) throw new Error(`could not unmount ${path}: ${r.stderr}`);
    removed++;
  }
  return removed;
}

/** Mounts IMAGE on DIR and serves it until stop() (or the kernel ends the connection). */
export async function startMount(opts: MountOptions): Promise<RunningMount> {
  const dir = resolveDir(opts.dir);
  const stale = await cleanupMount(dir, opts.log);
  if (stale > 0) opts.log(`removed ${stale} stale fusescope mount${stale > 1 ? 's' : ''} on ${dir}`);
  if (opts.mkfsBytes !== undefined || !existsSync(opts.image)) {
    const bytes = opts.mkfsBytes ?? DEFAULT_IMAGE_BYTES;
    ImageFs.mkfs(opts.image, bytes);
    opts.log(`made a ${bytes}-byte image at ${opts.image}`);
  }
  const fs = ImageFs.open(opts.image);
  let client: InstrumentClient | null = null;
  try {
    if (opts.instrument) client = await InstrumentClient.connect(opts.instrument, 'fusescope-mount', process.pid);
  } catch (err) {
    fs.close();
    throw err;
  }
  // Events name the thread that answers (this one) by its real comm, as ftrace would.
  let comm = 'node';
  try { comm = readFileSync(`/proc/self/task/${process.pid}/comm`, 'utf8').trim(); } catch { /* not Linux */ }
  const task = `${comm}/${process.pid}`;
  client?.send({
    kind: 'instant', tsNs: Number(process.hrtime.bigint()), task: asTaskId(task), name: 'fusescope-mount',
    text: `fusescope mount ${opts.image} on ${dir}, policy ${opts.policy}: fuse_recv/fuse_reply/inode_* are this server's real requests; `
      + 'iomap_begin/iomap_map/iomap_iter_end/iomap_ioend are derived: the iomap steps, mappings and ioends a fuse-iomap kernel and server '
      + 'would have had for each READ/WRITE from this extent map (this kernel sends classic FUSE_READ/FUSE_WRITE; mapAddr is a byte address '
      + 'in the image file, mapDev 1 the backing id such a server would have registered)',
  });
  const ops = new FuseOps(fs, { policy: opts.policy, task, emit: client ? (ev) => client!.send(ev) : undefined });

  let fuseFd: number;
  try {
    fuseFd = openSync('/dev/fuse', 'r+');
  } catch (err) {
    fs.close();
    await client?.close();
    throw new Error(`cannot open /dev/fuse (${(err as Error).message}); fusescope mount needs root and the fuse module`);
  }
  const stopFlag = new SharedArrayBuffer(4);
  // Referenced while mounted: it keeps the process serving (stop() unrefs it).
  const reader = new Worker(READER_SOURCE, { eval: true, workerData: { fd: fuseFd, bufBytes: READ_BUFFER_BYTES, stop: stopFlag } });
  let readerEnded = false;
  let readerEndedResolve!: () => void;
  const readerEndedP = new Promise<void>((ok) => { readerEndedResolve = ok; });
  let stopping: Promise<number> | null = null;
  let mounted = false;
  const endReader = (why: string): void => {
    if (readerEnded) return;
    readerEnded = true;
    readerEndedResolve();
    // The kernel ended the connection without us (someone unmounted DIR): tear down the rest.
    if (!stopping && why !== 'stopped') void stop();
  };
  reader.on('message', (m: { req?: Uint8Array; end?: string }) => {
    if (m.end !== undefined) { endReader(m.end); return; }
    const req = Buffer.from(m.req!.buffer, m.req!.byteOffset, m.req!.byteLength);
    const out = ops.handle(req);
    if (!out) return;
    try {
      writeSync(fuseFd, out);
    } catch (err) {
      // ENOENT: the request was interrupted meanwhile; ENODEV: the connection is gone.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENODEV') opts.log(`reply to opcode ${req.readUInt32LE(4)}: ${(err as Error).message}`);
    }
  });
  reader.on('error', (err) => { opts.log(`reader: ${err.message}`); endReader('error'); });
  reader.on('exit', () => endReader('exit'));

  const onSignal = (sig: NodeJS.Signals): void => {
    opts.log(`${sig}: unmounting ${dir}`);
    void stop();
  };
  // If the process exits without stop() (an uncaught error), detach the mount so nothing hangs on
  // it; the blocked reader would hang the exit, so end the process outright (the kernel then aborts
  // the connection as the /dev/fuse descriptor closes).
  const onExit = (): void => {
    if (!mounted) return;
    spawnSync('umount', ['-l', dir]);
    process.kill(process.pid, 'SIGKILL');
  };

  async function stop(): Promise<number> {
    if (stopping) return stopping;
    stopping = (async () => {
      let code = 0;
      if (mounted && mountsAt(dir).some((m) => m.fsType === FS_TYPE)) {
        // A plain umount ends the connection (the reader gets ENODEV); a busy mount needs the lazy one,
        // which keeps the connection while files are open: wake the reader with one last request first.
        const r = await run('umount', [dir]);
        if (r.code !== 0) {
          Atomics.store(new Int32Array(stopFlag), 0, 1);
          await run('stat', [`${dir}/.fusescope-wake-${process.pid}`]);
          const l = await run('umount', ['-l', dir]);
          if (l.code !== 0) { opts.log(`could not unmount ${dir}: ${l.stderr}`); code = 1; }
        }
      }
      mounted = false;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([readerEndedP, new Promise((ok) => { timer = setTimeout(ok, 3000); })]);
      clearTimeout(timer);
      reader.unref();
      closeSync(fuseFd); // the last reference: the kernel aborts whatever is still queued
      if (!readerEnded) {
        opts.log('the /dev/fuse reader did not end; it will end with the process');
        code = 1;
      }
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('exit', onExit);
      fs.close();
      if (client) {
        await client.close();
        if (client.droppedEvents > 0) opts.log(`instrumentation: ${client.droppedEvents} events dropped (the viewer fell behind)`);
      }
      return code;
    })();
    return stopping;
  }

  if (opts.signals !== false) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  process.on('exit', onExit);
  const m = await run('mount', ['-i', '-t', FS_TYPE, '-o', 'fd=3,rootmode=40000,user_id=0,group_id=0,allow_other,default_permissions', FS_SOURCE, dir], fuseFd);
  if (m.code !== 0) {
    await stop();
    throw new Error(`mount ${dir} failed: ${m.stderr || `exit ${m.code}`}`);
  }
  mounted = true;
  // The connection's device, as the kernel's tracepoints name the filesystem (fsDev of iomap_begin).
  ops.fsDev = mountsAt(dir).filter((e) => e.fsType === FS_TYPE).at(-1)?.dev ?? 0;
  const done = new Promise<number>((ok) => { void readerEndedP.then(() => stop()).then(ok); });
  return { dir, done, stop, ops };
}

/** Opcode names for the exit summary. */
export function opcodeCounts(ops: FuseOps): string {
  const names = new Map(Object.entries(Opcode).map(([k, v]) => [v as number, k]));
  return [...ops.counts].sort((a, b) => b[1] - a[1]).map(([op, n]) => `${names.get(op) ?? op} ${n}`).join(', ');
}
