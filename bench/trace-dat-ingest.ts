// P1d / P1dr: trace.dat ingest on one core, and its time against `trace-cmd report` on the same file.
// Input: fixtures/trace-dat/ext4-dio.v6.dat (uncompressed v6) with its per-CPU pages repeated in a
// temp file until it holds ~1 M records, each repetition's page timestamps moved 1 s later (events
// inside a page are deltas, so the pages stay valid: trace-cmd reads the file too).
// P1d: `loadFiles` of that file (the CLI's path: ByteSource reads → tracedat reader → each record's
// decoded header and body bytes handed to the ftrace parser → passes → store), best of 3 after a warm-up. P1dr: that time ÷ `trace-cmd report`
// writing its text to /dev/null (best of 3), when trace-cmd is installed. P1drc: the same ratio in
// CPU time (ours: process.cpuUsage around each loadFiles, GC threads included; trace-cmd's: the
// children's user + system time the kernel adds to /proc/self/stat when it is waited for), which
// other work on the machine stretches far less than wall time.
import { readFileSync, writeFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFiles } from '../server/sources/files.ts';
import { memorySource } from '../src/trace/recording/reader.ts';
import { TraceDat } from '../src/trace/import/tracedat/reader.ts';
import { readTraceDat } from '../src/trace/import/tracedat/records.ts';

const FIXTURE = 'fixtures/trace-dat/ext4-dio.v6.dat';

export async function bigDat(targetRecords: number): Promise<{ bytes: Uint8Array; records: number }> {
  const src = new Uint8Array(readFileSync(FIXTURE));
  const dat = await TraceDat.open(memorySource(src), { inflate: (b) => b, zstd: (b) => b });
  let records = 0;
  await readTraceDat(memorySource(src), { inflate: (b) => b, zstd: (b) => b }, { push: (t) => { records += t.split('\n').length - 1; }, diag: () => {} });
  const reps = Math.ceil(targetRecords / records);
  const page = dat.info.pageBytes;
  const cpus = dat.info.cpuData;
  // The flyrecord table: 'flyrecord\0' then (u64 offset, u64 size) per CPU, right before the data.
  const tag = new TextEncoder().encode('flyrecord\0');
  let tableAt = -1;
  for (let i = cpus[0]!.offsetBytes - tag.length; i >= 0 && tableAt < 0; i--) if (tag.every((b, k) => src[i + k] === b)) tableAt = i + tag.length;
  const dataAt = Math.ceil((tableAt + 16 * cpus.length) / page) * page;
  const total = dataAt + cpus.reduce((n, c) => n + c.sizeBytes * reps, 0);
  const out = new Uint8Array(total);
  out.set(src.subarray(0, tableAt));
  const dv = new DataView(out.buffer);
  let at = dataAt;
  cpus.forEach((c, i) => {
    dv.setBigUint64(tableAt + 16 * i, BigInt(at), true);
    dv.setBigUint64(tableAt + 16 * i + 8, BigInt(c.sizeBytes * reps), true);
    for (let r = 0; r < reps; r++) {
      out.set(src.subarray(c.offsetBytes, c.offsetBytes + c.sizeBytes), at);
      for (let p = 0; p < c.sizeBytes; p += page) dv.setBigUint64(at + p, dv.getBigUint64(at + p, true) + BigInt(r) * 1_000_000_000n, true);
      at += c.sizeBytes;
    }
  });
  return { bytes: out, records: records * reps };
}

/** CPU seconds (user + system) of this process's waited-for children so far, or null where /proc says nothing. */
function childrenCpuSec(): number | null {
  if (!existsSync('/proc/self/stat')) return null;
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state): cutime, cstime are fields 16, 17
  const ticks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;
  return (Number(f[13]) + Number(f[14])) / ticks;
}

export async function traceDatIngestFigures(targetRecords = 1_000_000): Promise<{
  eventsPerSec: number; records: number; mb: number; ourSec: number; traceCmdSec: number | null; traceCmd: string;
  ourCpuSec: number; traceCmdCpuSec: number | null;
}> {
  const { bytes, records } = await bigDat(targetRecords);
  const dir = mkdtempSync(join(tmpdir(), 'fscope-dat-'));
  const file = join(dir, 'big.dat');
  try {
    writeFileSync(file, bytes);
    await loadFiles([file]); // warm-up
    let ourSec = Infinity;
    let ourCpuSec = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      const r = await loadFiles([file]);
      const c = process.cpuUsage(c0);
      ourSec = Math.min(ourSec, (performance.now() - t0) / 1000);
      ourCpuSec = Math.min(ourCpuSec, (c.user + c.system) / 1e6);
      if (r.diagCount !== 0) throw new Error(`trace.dat bench: ${r.diagCount} diagnostics`);
    }
    let traceCmdSec: number | null = null;
    let traceCmdCpuSec: number | null = null;
    let traceCmd = 'not installed';
    const v = spawnSync('trace-cmd', ['--version'], { encoding: 'utf8' });
    if (v.error === undefined) {
      traceCmd = /version (\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1] ?? '?';
      for (let i = 0; i < 3; i++) {
        const cpu0 = childrenCpuSec();
        const t0 = performance.now();
        const r = spawnSync('sh', ['-c', `trace-cmd report -t '${file}' > /dev/null 2>&1`]);
        const sec = (performance.now() - t0) / 1000;
        const cpu1 = childrenCpuSec();
        if (r.status !== 0) { traceCmd = `${traceCmd} (report failed)`; traceCmdSec = null; traceCmdCpuSec = null; break; }
        traceCmdSec = Math.min(traceCmdSec ?? Infinity, sec);
        // (getconf, run by childrenCpuSec, is a child too: its few ms fall below the tick.)
        if (cpu0 !== null && cpu1 !== null) traceCmdCpuSec = Math.min(traceCmdCpuSec ?? Infinity, cpu1 - cpu0);
      }
    }
    return { eventsPerSec: records / ourSec, records, mb: bytes.length / 1e6, ourSec, traceCmdSec, traceCmd, ourCpuSec, traceCmdCpuSec };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await traceDatIngestFigures());
