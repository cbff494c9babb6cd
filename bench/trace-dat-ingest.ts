// P1d / P1dr: trace.dat ingest on one core, and its time against `trace-cmd report` on the same file.
// Input: fixtures/trace-dat/ext4-dio.v6.dat (uncompressed v6) with its per-CPU pages repeated in a
// temp file until it holds ~1 M records, each repetition's page timestamps moved 1 s later (events
// inside a page are deltas, so the pages stay valid: trace-cmd reads the file too).
// P1d: `loadFiles` of that file (the CLI's path: ByteSource reads → tracedat reader → each record's
// decoded header and printed body handed to the ftrace parser → passes → store), best of 3 after a warm-up. P1dr: that time ÷ `trace-cmd report`
// writing its text to /dev/null (best of 3), when trace-cmd is installed.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
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

export async function traceDatIngestFigures(targetRecords = 1_000_000): Promise<{
  eventsPerSec: number; records: number; mb: number; ourSec: number; traceCmdSec: number | null; traceCmd: string;
}> {
  const { bytes, records } = await bigDat(targetRecords);
  const dir = mkdtempSync(join(tmpdir(), 'fscope-dat-'));
  const file = join(dir, 'big.dat');
  try {
    writeFileSync(file, bytes);
    await loadFiles([file]); // warm-up
    let ourSec = Infinity;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await loadFiles([file]);
      ourSec = Math.min(ourSec, (performance.now() - t0) / 1000);
      if (r.diagCount !== 0) throw new Error(`trace.dat bench: ${r.diagCount} diagnostics`);
    }
    let traceCmdSec: number | null = null;
    let traceCmd = 'not installed';
    const v = spawnSync('trace-cmd', ['--version'], { encoding: 'utf8' });
    if (v.error === undefined) {
      traceCmd = /version (\S+)/.exec(`${v.stdout}${v.stderr}`)?.[1] ?? '?';
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const r = spawnSync('sh', ['-c', `trace-cmd report -t '${file}' > /dev/null 2>&1`]);
        const sec = (performance.now() - t0) / 1000;
        if (r.status !== 0) { traceCmd = `${traceCmd} (report failed)`; traceCmdSec = null; break; }
        traceCmdSec = Math.min(traceCmdSec ?? Infinity, sec);
      }
    }
    return { eventsPerSec: records / ourSec, records, mb: bytes.length / 1e6, ourSec, traceCmdSec, traceCmd };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await traceDatIngestFigures());
