// Recording figures for `npm run bench`: write throughput and size on disk (R1, R2), and seek time
// in a large recording (R3) built by repeating a simulator run with shifted times.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { TraceStore } from '../src/trace/store.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { Recorder } from '../server/recorder/recorder.ts';
import { openRecordingFile } from '../server/recorder/file-source.ts';

interface RecordingFigure { id: string; figure: string; value: number; unit: string; goal: string }

/** `store` rows with tsNs shifted by `shiftNs` (same string table). */
export function shifted(store: TraceStore, shiftNs: number): TraceStore {
  const out = new TraceStore(0n, store.strings);
  const cols = store.columns();
  const ts = store.tsNs.slice(0, store.length).map((t) => t + shiftNs);
  out.appendColumns(store.length, store.kinds, ts, cols);
  return out;
}

/**
 * A recording of `count` events at `path`: `base` and time-shifted copies of it end to end (a
 * copy starts 1 µs after the one before ends). Returns the rows written. `checks`: the writer runs
 * the checkers and stores their findings, as `serve` and `record` do.
 */
export function writeRepeatedRecording(base: TraceStore, count: number, path: string, checks = false): number {
  const rec = new Recorder(path, checks ? { checks: {} } : {});
  let written = 0;
  for (let rep = 0; written < count; rep++) {
    const copy = rep === 0 ? base : shifted(base, rep * (base.endNs + 1000));
    const n = Math.min(copy.length, count - written);
    rec.appendRows(copy, 0, n);
    written += n;
  }
  rec.close();
  return written;
}

export async function recordingFigures(events: TraceEvent[], bigEvents: number): Promise<RecordingFigure[]> {
  const figures: RecordingFigure[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-bench-'));
  try {
    // R1/R2: events (objects, as a source produces them) → recorder → file, flat out.
    let bestSec = Infinity;
    let bytes = 0;
    for (let run = 0; run < 3; run++) {
      const path = join(dir, `w${run}.fscope`);
      const t0 = performance.now();
      const rec = new Recorder(path);
      rec.appendEvents(events);
      rec.close();
      bestSec = Math.min(bestSec, (performance.now() - t0) / 1000);
      bytes = statSync(path).size;
    }
    figures.push({ id: 'R1', figure: 'recording write (events → deflate chunks → file, fsync)', value: bytes / 1e6 / bestSec, unit: 'MB/s on disk', goal: '—' });
    figures.push({ id: 'R1e', figure: 'recording write rate', value: events.length / bestSec, unit: 'events/s', goal: '≥ live rate' });
    figures.push({ id: 'R2', figure: 'recording size on disk', value: bytes / events.length, unit: 'B/event', goal: '—' });
    // R1c: the same with the checkers on, as live sessions and `record` run them (findings chunks).
    let bestChecksSec = Infinity;
    for (let run = 0; run < 3; run++) {
      const path = join(dir, `c${run}.fscope`);
      const t0 = performance.now();
      const rec = new Recorder(path, { checks: {} });
      rec.appendEvents(events);
      rec.close();
      bestChecksSec = Math.min(bestChecksSec, (performance.now() - t0) / 1000);
    }
    figures.push({ id: 'R1c', figure: 'recording write rate with the checkers (findings chunks)', value: events.length / bestChecksSec, unit: 'events/s', goal: '≥ live rate' });
    figures.push({ id: 'R1cr', figure: 'recording time with checkers / without (R1c vs R1e)', value: bestChecksSec / bestSec, unit: '×', goal: '—' });

    // R3: a big recording from repeated, time-shifted copies of the run.
    const base = new TraceStore();
    base.appendAll(events);
    const path = join(dir, 'big.fscope');
    const t0 = performance.now();
    const written = writeRepeatedRecording(base, bigEvents, path);
    const buildSec = (performance.now() - t0) / 1000;
    const bigBytes = statSync(path).size;
    figures.push({ id: 'R3w', figure: `write ${(written / 1e6).toFixed(0)} M-event recording (store rows → file)`, value: written / buildSec, unit: 'events/s', goal: '—' });
    figures.push({ id: 'R3b', figure: `  its size (${(bigBytes / 1e6).toFixed(0)} MB)`, value: bigBytes / written, unit: 'B/event', goal: '—' });
    // Seek: open (cold: new reader each time) + read a 100 µs window at spread positions.
    const seeks: number[] = [];
    // ArrayBuffer bytes a seek allocates (V8 external memory before → after, read outside the timed
    // span; a GC inside a seek makes its delta meaningless, hence the median). What drives the GCs
    // that set the worst seek (docs/recording-format.md, "Chunk size").
    const allocs: number[] = [];
    let bodyReads = 0;
    let bytesRead = 0;
    let chunks = 0;
    let stringChunks = 0;
    const probes = 20;
    // One unmeasured seek first so JIT warm-up does not count as seek time.
    for (let i = -1; i < probes; i++) {
      const ext0 = getHeapStatistics().external_memory;
      const s0 = performance.now();
      const { reader, close } = await openRecordingFile(path);
      // The warm-up (i = -1) seeks where the first probe does, so it too lands inside the file.
      const atNs = reader.startNs + ((reader.endNs - reader.startNs) * (Math.max(i, 0) + 0.5)) / probes;
      const { store } = await reader.readRange(atNs, atNs + 100_000).finally(close);
      if (store.length === 0) throw new Error(`seek at ${atNs} ns returned no rows`);
      if (i < 0) continue;
      seeks.push(performance.now() - s0);
      allocs.push(getHeapStatistics().external_memory - ext0);
      bodyReads = Math.max(bodyReads, reader.stats.bodyReads);
      bytesRead = Math.max(bytesRead, reader.stats.bytesRead);
      chunks = reader.chunks.length;
      stringChunks = reader.chunks.filter((c) => c.newStringCount > 0).length;
    }
    seeks.sort((a, b) => a - b);
    allocs.sort((a, b) => a - b);
    const label = `${(written / 1e6).toFixed(0)} M events, ${chunks} chunks, ${stringChunks} with new strings`;
    figures.push({ id: 'R3', figure: `seek: open + read 100 µs window, median (${label})`, value: seeks[probes >> 1]!, unit: 'ms', goal: '≤ 50' });
    figures.push({ id: 'R3m', figure: '  seek, worst of 20', value: seeks[probes - 1]!, unit: 'ms', goal: '≤ 50' });
    figures.push({ id: 'R3r', figure: '  data chunk bodies read per seek (max)', value: bodyReads, unit: 'chunks', goal: '≤ 2' });
    figures.push({ id: 'R3k', figure: '  bytes read per seek (max)', value: bytesRead / 1024, unit: 'KiB', goal: '—' });
    figures.push({ id: 'R3a', figure: '  ArrayBuffers allocated per seek (median)', value: allocs[probes >> 1]! / 2 ** 20, unit: 'MiB', goal: '—' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}
