// Loading the files a command names: any text format through the import pipeline, .fscope through
// the recording reader (server/sources/files.ts, recording-files.ts), with a progress bar on a tty.
import { existsSync } from 'node:fs';
import type { TraceStore } from '../../src/trace/store.ts';
import { formatDiag } from '../../src/trace/import/diagnostics.ts';
import { IMPORT_FORMATS, type ImportFormat } from '../../src/trace/import/index.ts';
import { loadFiles as loadAnyFiles, type LoadResult } from '../sources/files.ts';
import { appendRecordings, splitRecordings } from './recording-files.ts';
import { UsageError, log } from './command.ts';

/** Reads trace files of any supported format into one store (see server/sources/files.ts). */
export async function loadFiles(files: string[], format: ImportFormat | 'auto' = 'auto', alignStarts = false): Promise<LoadResult> {
  let last = 0;
  const tty = process.stderr.isTTY === true;
  const { recordings, others } = await splitRecordings(files);
  const r = await loadAnyFiles(others, {
    format,
    alignStarts,
    onProgress: tty
      ? (file, done, total) => {
        const now = Date.now();
        if (now - last < 100 && done < total) return;
        last = now;
        const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
        const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
        process.stderr.write(`\r${bar} ${String(pct).padStart(3)}% ${file}`.slice(0, process.stderr.columns ?? 100));
      }
      : undefined,
  });
  if (tty) process.stderr.write('\r\x1b[K');
  await appendRecordings(r, recordings);
  return r;
}

/** 0 ok, 1 diagnostics (still imported), 2 nothing usable. */
export function exitCodeOf(r: LoadResult, files: string[]): number {
  if (r.unusable.length === files.length || r.store.length === 0) return 2;
  return r.diagCount > 0 ? 1 : 0;
}

export function parseFormat(v: unknown): ImportFormat | 'auto' {
  const f = (v as string | undefined) ?? 'auto';
  if (f !== 'auto' && !(IMPORT_FORMATS as readonly string[]).includes(f)) {
    throw new UsageError(`--format must be auto, ${IMPORT_FORMATS.join(', ')}; not '${f}'`);
  }
  return f as ImportFormat | 'auto';
}

/** The inputs of export and diff: one store, its first 20 diagnostics on stderr; code 2 when it has no events. */
export async function load(files: string[]): Promise<{ store: TraceStore; code: number }> {
  for (const f of files) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const r = await loadFiles(files);
  for (const d of r.diags.slice(0, 20)) process.stderr.write(`${formatDiag(d)}\n`);
  if (r.store.length === 0) {
    log(`${files.join(', ')}: no events`);
    return { store: r.store, code: 2 };
  }
  return { store: r.store, code: r.diagCount > 0 ? 1 : 0 };
}
