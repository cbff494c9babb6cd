// File import adapter: streams each file's bytes (never read whole, 1 MiB reads) into the core
// import pipeline (src/trace/import/pipeline.ts: detection, parsing, joins, one clock) and fills
// one store. Progress is reported per chunk so the CLI can draw a bar on a TTY.

import { createReadStream, statSync } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { TraceStore } from '../../src/trace/store.ts';
import { formatDiag, type ParseDiag } from '../../src/trace/import/diagnostics.ts';
import type { ImportFormat } from '../../src/trace/import/index.ts';
import type { FormatExplanation } from '../../src/trace/import/detect.ts';
import { headerLine, rowLines } from '../../src/trace/import/ndjson.ts';
import { ImportPipeline, type ImportResult } from '../../src/trace/import/pipeline.ts';
import { importTraceDat, isTraceDat } from '../../src/trace/import/tracedat/index.ts';
import { decompress as zstd } from 'fzstd';
import { fileSource, nodeInflate } from '../recorder/file-source.ts';

export interface LoadOptions {
  /** 'auto' (default) detects each file's format from its content. */
  format?: ImportFormat | 'auto';
  /** Files on another clock than the first start with the first file (`--align-starts`). */
  alignStarts?: boolean;
  onProgress?: (file: string, doneBytes: number, totalBytes: number) => void;
}

export interface LoadResult {
  store: TraceStore;
  /** First diagnostics of every file and pass (counts are in diagCount). */
  diags: ParseDiag[];
  diagCount: number;
  /** Files whose format could not be detected or that could not be read. */
  unusable: string[];
  result: ImportResult;
  formats: Map<string, ImportFormat>;
  /** How each file's format was decided (src/trace/import/detect.ts). */
  explanations: Map<string, FormatExplanation>;
}

const CHUNK_BYTES = 1 << 20;

export async function loadFiles(files: readonly string[], opts: LoadOptions = {}): Promise<LoadResult> {
  // The file count lets a single file stream its rows straight into the store (pipeline.ts).
  const pipe = new ImportPipeline({ format: opts.format, alignStarts: opts.alignStarts, files: files.length });
  for (const file of files) {
    let total = 0;
    try {
      total = statSync(file).size;
    } catch (e) {
      pipe.unreadable(file, (e as Error).message);
      continue;
    }
    // A trace.dat (its magic, not its name) is read by offsets through its own reader.
    if (opts.format === undefined || opts.format === 'auto' || opts.format === 'trace-dat') {
      let src: Awaited<ReturnType<typeof fileSource>> | null = null;
      try {
        src = await fileSource(file);
        if (isTraceDat(await src.read(0, 16))) {
          await importTraceDat(pipe, file, src, { inflate: nodeInflate, zstd: (b) => zstd(b) }, (n) => opts.onProgress?.(file, n, total));
          opts.onProgress?.(file, total, total);
          continue;
        }
      } catch (e) {
        pipe.unreadable(file, (e as Error).message);
        continue;
      } finally {
        await src?.close();
      }
    }
    const feed = pipe.open(file);
    let done = 0;
    const input = createReadStream(file, { highWaterMark: CHUNK_BYTES });
    try {
      for await (const chunk of input) {
        const bytes = chunk as Buffer;
        if (!feed.push(bytes)) {
          input.destroy();
          break;
        }
        done += bytes.byteLength;
        opts.onProgress?.(file, done, total);
      }
    } catch (e) {
      feed.readError((e as Error).message);
    }
    feed.end();
  }
  const outcome = pipe.finish();
  const store = outcome.toStore();
  return { store, diags: outcome.diags, diagCount: outcome.diagCount, unusable: outcome.unusable, result: outcome.result, formats: outcome.formats, explanations: outcome.explanations };
}

export { formatDiag };

/** Prints diagnostics as `fusescope import` does: the first 50 as `file:line: message`, then the count. */
export function reportDiags(r: LoadResult): void {
  for (const d of r.diags.slice(0, 50)) process.stderr.write(`${formatDiag(d)}\n`);
  if (r.diagCount > 0) {
    process.stderr.write(`fusescope: ${r.diagCount} diagnostic(s)${r.diagCount > r.diags.length ? ` (first ${r.diags.length} kept)` : ''}\n`);
  }
}

/** Rows per write: large enough that a write is cheap, small enough to keep a bounded string. */
const WRITE_ROWS = 10_000;

/**
 * `fusescope import`'s output: the NDJSON header (the store's origin, the files and their formats,
 * the axis's clock so that a later import compares clocks), then every row of the store written
 * from its columns (no event objects), waiting on `out` when it is full.
 */
export async function writeNdjson(r: LoadResult, files: readonly string[], out: Writable): Promise<void> {
  const source = `import:${files.map((f) => `${r.formats.get(f) ?? '?'}:${f}`).join(',')}`;
  const clock = r.result.clock?.id;
  out.write(headerLine({ originNs: r.store.originNs.toString(), source, ...(clock ? { clock } : {}) }) + '\n');
  for (let at = 0; at < r.store.length; at += WRITE_ROWS) {
    if (!out.write(rowLines(r.store, at, Math.min(r.store.length, at + WRITE_ROWS)))) await once(out, 'drain');
  }
}
