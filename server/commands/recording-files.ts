// .fscope files as CLI inputs: detection by magic and loading into a store (with a diagnostic for
// any damage the reader found), so `summary`, `export` and `diff` read recordings like any trace.
import { open } from 'node:fs/promises';
import { TraceStore } from '../../src/trace/store.ts';
import { RowCopier } from '../../src/trace/copy-rows.ts';
import { FILE_MAGIC, hasRecordingMagic } from '../../src/trace/recording/format.ts';
import type { ParseDiag } from '../../src/trace/import/diagnostics.ts';
import { openRecordingFile } from '../recorder/file-source.ts';
import type { StoredFindingsResult } from '../../src/trace/recording/reader.ts';

export async function isRecordingFile(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = new Uint8Array(FILE_MAGIC.length);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return hasRecordingMagic(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** Splits inputs into recordings and everything else (unreadable files count as "else"). */
export async function splitRecordings(files: readonly string[]): Promise<{ recordings: string[]; others: string[] }> {
  const recordings: string[] = [];
  const others: string[] = [];
  for (const f of files) {
    let isRec = false;
    try {
      isRec = await isRecordingFile(f);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === undefined) throw err; // I/O errors go to the text loader's diags
    }
    (isRec ? recordings : others).push(f);
  }
  return { recordings, others };
}

/**
 * Appends each recording's good rows to `target.store`; damage and unopenable files become diags
 * (code `recording_damaged` with the byte offset, or `recording_refused`).
 */
export async function appendRecordings(
  target: { store: TraceStore; diags: ParseDiag[]; diagCount: number; unusable?: string[] },
  files: readonly string[],
): Promise<void> {
  const copier = new RowCopier(target.store);
  for (const file of files) {
    let opened;
    try {
      opened = await openRecordingFile(file);
    } catch (err) {
      target.diags.push({ source: file, line: 0, code: 'recording_refused', message: (err as Error).message });
      target.diagCount++;
      target.unusable?.push(file);
      continue;
    }
    const { reader, close } = opened;
    try {
      if (target.store.length === 0) target.store.originNs = reader.header.originNs;
      const rows = await reader.readAll();
      copier.copy(rows);
      if (reader.damage) {
        target.diags.push({
          source: file, line: 0, code: 'recording_damaged',
          message: `damaged at byte ${reader.damage.offsetBytes}: ${reader.damage.reason}; kept ${rows.length} events from ${reader.goodChunkCount} of ${reader.chunks.length} chunks`,
        });
        target.diagCount++;
      }
    } finally {
      await close();
    }
  }
}

/** Loads recordings alone (export, diff): one store, plus diags. */
export async function loadRecordings(files: readonly string[]): Promise<{ store: TraceStore; diags: ParseDiag[]; diagCount: number; unusable: string[] }> {
  const r = { store: new TraceStore(), diags: [] as ParseDiag[], diagCount: 0, unusable: [] as string[] };
  await appendRecordings(r, files);
  return r;
}

/**
 * The findings a recording's writer stored (docs/recording-format.md, format 2), or why there are
 * none; an unopenable file says so too (its load reports the error).
 */
export async function readStoredFindings(path: string): Promise<StoredFindingsResult> {
  let opened;
  try {
    opened = await openRecordingFile(path);
  } catch (err) {
    return { status: 'missing', reason: (err as Error).message };
  }
  try {
    return await opened.reader.storedFindings();
  } finally {
    await opened.close();
  }
}
