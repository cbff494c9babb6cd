// The page's Export menu: writes what the page shows — the live session's rows in the page (its
// live window) or the opened file — as a .fscope recording, Chrome JSON, Perfetto or Arrow, in the
// browser, with the same writers as `fusescope export` (src/trace/export, src/export: isomorphic,
// so an opened local file, which the server never saw, exports too). The writers are loaded on
// first use (apache-arrow and protobufjs stay out of the page's main bundle). Pieces are gathered
// into a Blob; between pieces the loop yields to the page, so the progress shows and Cancel works.
// No DOM here apart from Blob: the download itself is ExportMenu.tsx's.

import { TraceStore } from '../trace/store.ts';
import { RecordingEncoder } from '../trace/recording/encoder.ts';

export type PageExportFormat = 'fscope' | 'chrome-json' | 'perfetto' | 'arrow';

export interface ExportChoice {
  format: PageExportFormat;
  label: string;
  /** File name extension, with its dot. */
  ext: string;
  mime: string;
  /** What it is for (the item's title). */
  title: string;
}

export const EXPORT_CHOICES: readonly ExportChoice[] = [
  { format: 'fscope', label: 'Recording (.fscope)', ext: '.fscope', mime: 'application/octet-stream', title: 'fusescope recording: opens again in fusescope (Open…, or fusescope summary/check/export)' },
  { format: 'chrome-json', label: 'Chrome JSON', ext: '.json', mime: 'application/json', title: 'Chrome Trace Event JSON: chrome://tracing, Perfetto UI, speedscope; opens again in fusescope' },
  { format: 'perfetto', label: 'Perfetto', ext: '.pftrace', mime: 'application/octet-stream', title: 'Perfetto protobuf trace (TrackEvent): ui.perfetto.dev, trace_processor' },
  { format: 'arrow', label: 'Arrow', ext: '.arrow', mime: 'application/vnd.apache.arrow.file', title: 'Apache Arrow IPC file, one row per event: DuckDB, pandas/pyarrow, polars' },
];

/** Rows per .fscope data chunk (as the import worker's batches and the recorder's order of size). */
const FSCOPE_CHUNK_ROWS = 16_384;
/** Yield to the page at least this often while writing (ms of work between progress updates). */
const YIELD_EVERY_MS = 40;

/**
 * A file name for the export of `shown`: a file's label (its first file's name without its
 * extension, `+N` for the others) or `live-SCENARIO`, then the extension; characters a file
 * system may refuse become `_`.
 */
export function exportFileName(shown: { kind: 'live' | 'file'; name: string }, format: PageExportFormat): string {
  const ext = EXPORT_CHOICES.find((c) => c.format === format)!.ext;
  let base: string;
  if (shown.kind === 'live') base = `live-${shown.name || 'session'}`;
  else {
    const names = shown.name.split(' + ');
    const first = names[0]!.replace(/\.[A-Za-z0-9]{1,8}$/, '') || 'trace';
    base = names.length > 1 ? `${first}+${names.length - 1}` : first;
    // An export of a .fscope as .fscope must not take the opened file's own name.
    if (format === 'fscope' && /\.fscope$/i.test(names[0]!)) base += '-export';
  }
  return `${base.replace(/[^\w.+-]+/g, '_')}${ext}`;
}

/**
 * A copy of rows [0, length) of `store` (sharing its append-only string table): a live store keeps
 * growing (and its window is swapped) while the export runs, the copy stays as it was when asked.
 */
export function snapshotStore(store: TraceStore): TraceStore {
  const n = store.length;
  const copy = new TraceStore(store.originNs, store.strings);
  if (n > 0) copy.appendColumns(n, store.kinds.subarray(0, n), store.tsNs.subarray(0, n), store.columns(0, n));
  return copy;
}

/** The .fscope bytes of `store` (stored chunks, an index every 256 chunks, a trailer): a complete recording. */
export function* fscopePieces(store: TraceStore, meta: Record<string, unknown>, createdUnixMs: number): Generator<Uint8Array> {
  const enc = new RecordingEncoder({ originNs: store.originNs, createdUnixMs, meta: { tool: 'fusescope', ...meta } });
  yield enc.header();
  for (let from = 0; from < store.length; from += FSCOPE_CHUNK_ROWS) {
    yield enc.dataChunk(store, from, Math.min(store.length, from + FSCOPE_CHUNK_ROWS));
    const index = enc.indexChunkIfDue();
    if (index) yield index;
  }
  yield enc.finish();
}

/** The writer of `format` over `store`, as pieces (loaded on first use). */
async function piecesOf(store: TraceStore, format: PageExportFormat, source: string, nowMs: number): Promise<Iterable<string | Uint8Array>> {
  switch (format) {
    case 'fscope':
      return fscopePieces(store, { source, exported: 'page' }, nowMs);
    case 'chrome-json': {
      const { toChromeTrace, chromeTraceJsonChunks } = await import('../trace/export/chrome-json.ts');
      return chromeTraceJsonChunks(toChromeTrace(store, source));
    }
    case 'perfetto': {
      const { perfettoTraceChunks } = await import('../export/perfetto.ts');
      return perfettoTraceChunks(store, source);
    }
    case 'arrow': {
      const { arrowFileChunks } = await import('../export/arrow.ts');
      return arrowFileChunks(store, { metadata: { source } });
    }
  }
}

export interface ExportProgress {
  bytes: number;
}

export interface ExportOptions {
  /** What the trace is (the writers' `source`: process name, metadata). */
  source: string;
  onProgress?: (p: ExportProgress) => void;
  isCancelled?: () => boolean;
  nowMs?: () => number;
}

/** Writes `store` as `format` into a Blob; null when cancelled. Throws what the writer throws. */
export async function exportStore(store: TraceStore, format: PageExportFormat, o: ExportOptions): Promise<Blob | null> {
  const now = o.nowMs ?? (() => Date.now());
  const choice = EXPORT_CHOICES.find((c) => c.format === format)!;
  const parts: BlobPart[] = [];
  let bytes = 0;
  let lastYieldMs = now();
  const encoder = new TextEncoder();
  for (const piece of await piecesOf(store, format, o.source, now())) {
    const b = typeof piece === 'string' ? encoder.encode(piece) : piece;
    parts.push(b as Uint8Array<ArrayBuffer>);
    bytes += b.byteLength;
    if (now() - lastYieldMs >= YIELD_EVERY_MS) {
      o.onProgress?.({ bytes });
      await new Promise((r) => setTimeout(r, 0));
      lastYieldMs = now();
      if (o.isCancelled?.()) return null;
    }
  }
  o.onProgress?.({ bytes });
  return new Blob(parts, { type: choice.mime });
}
