// T2-T4: sequential write through fusescope's own FUSE server (server/fuse) against Debian's fuse2fs,
// on the same workload, as MB/s, requests/s and their ratio.
//
// Workload: /usr/bin/dd copied as `fscbw` (its own comm) writing `mib` MiB of zeros with bs=1M and
// conv=fsync into a new file on the mount. Servers: `fusescope mount --mkfs 512M --policy per-path`
// (no --instrument: the server alone), and `fuse2fs -f -o fakeroot` on an image made with
// `mke2fs -t ext4 -O ^has_journal` (fuse2fs refuses to write a journal). Requests are counted by the
// kernel, not guessed: a tracefs capture of `fuse:fuse_request_send` filtered to the writer's comm
// (the same small cost for both servers; the time is dd's wall time, fsync included).
// Needs root with tracefs, /dev/fuse and fuse2fs; otherwise the row says why.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TracefsCapture } from '../server/capture/tracefs-capture.ts';
import { TracefsError } from '../server/capture/tracefs.ts';
import { spawnMount } from '../server/fuse/spawn.ts';
import { isMounted } from '../server/capture/workloads.ts';

export interface WriteRun { server: string; bytes: number; seconds: number; mbPerSec: number; requests: number; writes: number; requestsPerSec: number }
export interface WriteBench { skipped: string | null; runs: WriteRun[] }

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** The capture of the writer's requests; waits while another capture holds the lock. */
async function openCapture(): Promise<TracefsCapture> {
  for (let i = 0; ; i++) {
    try {
      return TracefsCapture.open({ events: 'fuse:fuse_request_send', comms: ['fscbw'] });
    } catch (e) {
      if (!(e instanceof TracefsError) || !/another capture|running/i.test(e.message) || i >= 60) throw e;
      await sleep(2000);
    }
  }
}

async function writeThrough(server: string, writer: string, mnt: string, mib: number): Promise<WriteRun> {
  const capture = await openCapture();
  try {
    let requests = 0;
    let writes = 0;
    const run = new AbortController();
    void capture.source.start({
      event: (ev) => {
        if (ev.kind !== 'fuse_send') return;
        requests++;
        if (ev.opcode === 16) writes++; // FUSE_WRITE
      },
      flush: () => {}, end: () => {},
    }, run.signal);
    const t0 = performance.now();
    const dd = spawn(writer, ['if=/dev/zero', `of=${join(mnt, 'seq')}`, 'bs=1M', `count=${mib}`, 'conv=fsync', 'status=none'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    dd.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    const code = await new Promise<number | null>((ok) => dd.once('exit', ok));
    const seconds = (performance.now() - t0) / 1000;
    if (code !== 0) throw new Error(`${server}: dd exited ${code}: ${err.trim()}`);
    const r = capture.finish();
    run.abort();
    if (r.restoreProblems.length > 0) throw new Error(`tracefs not restored: ${r.restoreProblems.join('; ')}`);
    if (r.overrun + r.droppedEvents + r.lostInGaps > 0) throw new Error(`${server}: the request count lost events`);
    const bytes = mib << 20;
    return { server, bytes, seconds, mbPerSec: bytes / 1e6 / seconds, requests, writes, requestsPerSec: requests / seconds };
  } finally {
    capture.restore();
  }
}

async function fuse2fsMount(img: string, mnt: string): Promise<{ stop: () => Promise<void> }> {
  const mk = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', '-O', '^has_journal', img, '512M'], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`mke2fs: ${mk.stderr}`);
  const p: ChildProcess = spawn('fuse2fs', ['-f', '-o', 'fakeroot', img, mnt], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((ok) => p.once('exit', () => ok()));
  for (let i = 0; !isMounted(mnt); i++) {
    if (p.exitCode !== null || i > 300) { p.kill('SIGKILL'); throw new Error(`fuse2fs did not mount: ${err.trim()}`); }
    await sleep(50);
  }
  return {
    stop: async () => {
      spawnSync('umount', [mnt]);
      const late = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
      if (late) {
        p.kill('SIGKILL');
        await exited;
        spawnSync('umount', ['-l', mnt]);
      }
    },
  };
}

/** T2-T4: one run per server on the same workload (fusescope's first). */
export async function fuseWriteFigure(mib: number): Promise<WriteBench> {
  if (process.getuid?.() !== 0) return { skipped: 'not root', runs: [] };
  if (!existsSync('/sys/kernel/tracing/events/fuse')) return { skipped: 'no tracefs fuse events', runs: [] };
  if (!existsSync('/dev/fuse')) return { skipped: 'no /dev/fuse', runs: [] };
  if (spawnSync('which', ['fuse2fs']).status !== 0) return { skipped: 'no fuse2fs (Debian fuse2fs package)', runs: [] };
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-bench-write-'));
  const writer = join(dir, 'fscbw');
  copyFileSync('/usr/bin/dd', writer);
  const runs: WriteRun[] = [];
  try {
    const m1 = join(dir, 'mnt-fusescope');
    mkdirSync(m1);
    const own = await spawnMount({ image: join(dir, 'own.fsimg'), dir: m1, mkfs: '512M', policy: 'per-path' });
    try {
      runs.push(await writeThrough('fusescope mount', writer, m1, mib));
    } finally {
      await own.stop();
    }
    const m2 = join(dir, 'mnt-fuse2fs');
    mkdirSync(m2);
    const f2 = await fuse2fsMount(join(dir, 'ext4.img'), m2);
    try {
      runs.push(await writeThrough('fuse2fs', writer, m2, mib));
    } finally {
      await f2.stop();
    }
  } finally {
    if (![join(dir, 'mnt-fusescope'), join(dir, 'mnt-fuse2fs')].some(isMounted)) rmSync(dir, { recursive: true, force: true });
  }
  return { skipped: null, runs };
}
