// File import adapter: streams each file (never read whole) through the core importers
// (src/trace/import), detects the format from the first chunk, runs the cross-file passes and fills
// one store. Progress is reported per chunk so the CLI can draw a bar on a TTY.

import { createReadStream, statSync } from 'node:fs';
import { TraceStore } from '../../src/trace/store.ts';
import { formatDiag, type ParseDiag } from '../../src/trace/ndjson.ts';
import { detectFormat, finishImport, openImport, type FileImport, type ImportFormat, type ImportResult } from '../../src/trace/import/index.ts';

export interface LoadOptions {
  /** 'auto' (default) detects each file's format from its content. */
  format?: ImportFormat | 'auto';
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
}

const CHUNK_BYTES = 1 << 20;

export async function loadFiles(files: readonly string[], opts: LoadOptions = {}): Promise<LoadResult> {
  const imports: FileImport[] = [];
  const unusable: string[] = [];
  const diags: ParseDiag[] = [];
  let diagCount = 0;
  const formats = new Map<string, ImportFormat>();
  for (const file of files) {
    let total = 0;
    try {
      total = statSync(file).size;
    } catch (e) {
      unusable.push(file);
      diags.push({ source: file, line: 0, code: 'unreadable', message: (e as Error).message });
      diagCount++;
      continue;
    }
    let imp: FileImport | null = null;
    let done = 0;
    const input = createReadStream(file, { encoding: 'utf8', highWaterMark: CHUNK_BYTES });
    try {
      for await (const chunk of input) {
        const text = chunk as string;
        if (imp === null) {
          const format = opts.format && opts.format !== 'auto' ? opts.format : detectFormat(text);
          if (format === null) {
            unusable.push(file);
            diags.push({ source: file, line: 1, code: 'unknown_format', message: 'not ftrace text, a libfuse debug log or fusescope NDJSON' });
            diagCount++;
            input.destroy();
            break;
          }
          imp = openImport(file, format);
          formats.set(file, format);
        }
        imp.push(text);
        done += Buffer.byteLength(text);
        opts.onProgress?.(file, done, total);
      }
    } catch (e) {
      diags.push({ source: file, line: 0, code: 'read_error', message: (e as Error).message });
      diagCount++;
    }
    if (imp === null) {
      if (!unusable.includes(file)) {
        unusable.push(file);
        diags.push({ source: file, line: 0, code: 'empty', message: 'file is empty' });
        diagCount++;
      }
      continue;
    }
    imp.end();
    imports.push(imp);
  }
  const result = finishImport(imports);
  for (const imp of imports) {
    diags.push(...imp.diags.first);
    diagCount += imp.diags.count;
  }
  diags.push(...result.diags);
  diagCount += result.diags.length;
  // One store: the first file's origin; other files keep their own relative times (store clamps).
  const store = new TraceStore(result.files[0]?.originNs ?? 0n);
  for (const f of result.files) {
    for (const ev of f.events) store.append(ev);
  }
  return { store, diags, diagCount, unusable, result, formats };
}

export { formatDiag };

/** Prints diagnostics as `fusescope import` does: the first 50 as `file:line: message`, then the count. */
export function reportDiags(r: LoadResult): void {
  for (const d of r.diags.slice(0, 50)) process.stderr.write(`${formatDiag(d)}\n`);
  if (r.diagCount > 0) {
    process.stderr.write(`fusescope: ${r.diagCount} diagnostic(s)${r.diagCount > r.diags.length ? ` (first ${r.diags.length} kept)` : ''}\n`);
  }
}
