// `fusescope export FILE… --format chrome-json|perfetto|arrow -o OUT`
//
// runExport writes from a store in memory (every format). exportRecordingArrow streams one .fscope
// to Arrow without loading it: chunks are read one at a time and regrouped into record batches of
// the same size the in-memory path uses, so both paths write the same bytes, and at most one batch
// plus one chunk of rows is held (DEFAULT_ROWS_PER_BATCH + DEFAULT_ROWS_PER_CHUNK). What still
// grows with the recording: the string table and the Arrow dictionaries (distinct strings), and the
// Arrow footer's block list (48 bytes per batch).
//
//   chunk k ──readChunk──► held rows [offsetRow, length) ──writeRows(step)──► file
//                          └ compacted into a fresh store before the next chunk is appended
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { TraceStore } from '../../src/trace/store.ts';
import { chromeTraceJsonChunks, toChromeTrace } from '../../src/trace/export/chrome-json.ts';
import { perfettoTraceChunks } from '../../src/export/perfetto.ts';
import { ArrowEventWriter, DEFAULT_ROWS_PER_BATCH, arrowFileChunks } from '../../src/export/arrow.ts';
import { type RecordingReader } from '../../src/trace/recording/index.ts';
import { formatDiag } from '../../src/trace/import/diagnostics.ts';
import { openRecordingFile } from '../recorder/file-source.ts';
import { isRecordingFile } from './recording-files.ts';
import { UsageError, log, type Command, type Flags } from './command.ts';
import { load } from './load.ts';

const EXPORT_FORMATS = ['chrome-json', 'perfetto', 'arrow'] as const;
type ExportFormat = (typeof EXPORT_FORMATS)[number];

export async function runExport(store: TraceStore, format: ExportFormat, out: string, source: string): Promise<number> {
  const chunks: Iterable<string | Uint8Array> = format === 'arrow'
    ? arrowFileChunks(store, { metadata: { source } })
    : format === 'perfetto' ? perfettoTraceChunks(store, source) : chromeTraceJsonChunks(toChromeTrace(store, source));
  const stream = createWriteStream(out);
  let bytes = 0;
  for (const chunk of chunks) {
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  return bytes;
}

async function writeAll(stream: WriteStream, chunks: Iterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for (const chunk of chunks) {
    bytes += chunk.byteLength;
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  return bytes;
}

interface StreamedExport {
  rows: number;
  bytes: number;
  /** Most rows held in memory at once (bounded by rowsPerBatch + the largest chunk). */
  maxRowsHeld: number;
  /** The reader's damage (recovered file, or a chunk failing its checksums: rows stop there), else null. */
  damage: string | null;
}

/** Streams an opened recording to an Arrow IPC file, chunk by chunk (see the file comment). */
export async function exportRecordingArrow(
  reader: RecordingReader, out: string, source: string, opts: { rowsPerBatch?: number } = {},
): Promise<StreamedExport> {
  const step = opts.rowsPerBatch ?? DEFAULT_ROWS_PER_BATCH;
  const w = new ArrowEventWriter({ originNs: reader.header.originNs, metadata: { source } });
  const stream = createWriteStream(out);
  let bytes = await writeAll(stream, w.start());
  let held = reader.newStore();
  let offsetRow = 0;
  let maxRowsHeld = 0;
  let goodChunks = 0;
  for (let k = 0; k < reader.chunks.length; k++) {
    // As readAll: a bad chunk is skipped, every good one kept, the damage reported.
    const c = await reader.readChunkOrSkip(k);
    if (!c) continue;
    goodChunks++;
    if (offsetRow > 0) {
      held = rest(held, offsetRow, reader.newStore());
      offsetRow = 0;
    }
    held.appendColumns(c.rowCount, c.kinds, c.tsNs, c.columns);
    maxRowsHeld = Math.max(maxRowsHeld, held.length);
    for (; held.length - offsetRow >= step; offsetRow += step) bytes += await writeAll(stream, w.writeRows(held, offsetRow, offsetRow + step));
  }
  if (held.length > offsetRow) bytes += await writeAll(stream, w.writeRows(held, offsetRow, held.length));
  bytes += await writeAll(stream, w.finish());
  stream.end();
  await once(stream, 'finish');
  const damage = reader.damage
    ? `damaged at byte ${reader.damage.offsetBytes}: ${reader.damage.reason}; kept ${w.rowsWritten} events from ${goodChunks} of ${reader.chunks.length} chunks`
    : null;
  return { rows: w.rowsWritten, bytes, maxRowsHeld, damage };
}

/** Rows [fromRow, length) of `src` in `into` (a store sharing src's string table). */
function rest(src: TraceStore, fromRow: number, into: TraceStore): TraceStore {
  into.appendColumns(src.length - fromRow, src.kinds.subarray(fromRow, src.length), src.tsNs.subarray(fromRow, src.length), src.columns(fromRow));
  return into;
}

/** Exit codes: 0 ok, 1 written but the input had diagnostics (e.g. a damaged recording), 2 unusable/usage. */
async function cmdExport(flags: Flags, rest: string[]): Promise<number> {
  const format = flags.format as string | undefined;
  if (!format || !(EXPORT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`export needs --format ${EXPORT_FORMATS.join('|')}`);
  }
  const out = flags.out as string | undefined;
  if (!out) throw new UsageError('export needs -o OUT');
  if (rest.length === 0) throw new UsageError('export needs a FILE');
  if (format === 'arrow' && rest.length === 1) {
    const streamed = await streamArrow(rest[0]!, out);
    if (streamed !== null) return streamed;
  }
  const { store, code } = await load(rest);
  if (code === 2) return 2;
  const bytes = await runExport(store, format as ExportFormat, out, rest.join(','));
  log(`wrote ${store.length} events as ${format} to ${out} (${bytes} bytes)`);
  return code;
}

/**
 * Arrow export of one recording, chunk by chunk (exportRecordingArrow). Null when the input is not a
 * recording, or one that does not open or holds no rows: the in-memory path reports those.
 */
async function streamArrow(file: string, out: string): Promise<number | null> {
  if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
  if (!(await isRecordingFile(file))) return null;
  let opened;
  try {
    opened = await openRecordingFile(file);
  } catch {
    return null; // the in-memory path opens it again and reports why it cannot (recording_refused, exit 2)
  }
  try {
    if (opened.reader.totalRows === 0) return null;
    const r = await exportRecordingArrow(opened.reader, out, file);
    if (r.damage) process.stderr.write(`${formatDiag({ source: file, line: 0, code: 'recording_damaged', message: r.damage })}\n`);
    log(`wrote ${r.rows} events as arrow to ${out} (${r.bytes} bytes; streamed, at most ${r.maxRowsHeld} rows held)`);
    return r.damage ? 1 : 0;
  } finally {
    await opened.close();
  }
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'convert a trace or recording to Chrome JSON, Perfetto protobuf or an Arrow IPC file',
  usage: '  export   FILE… --format chrome-json|perfetto|arrow -o OUT',
  options: { format: { type: 'string' }, out: { type: 'string', short: 'o' } },
  positionals: true,
  run: cmdExport,
};
