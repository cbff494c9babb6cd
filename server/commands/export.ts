// `fusescope export FILE… --format chrome-json|perfetto|arrow -o OUT`
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { TraceStore } from '../../src/trace/store.ts';
import { chromeTraceJsonChunks, toChromeTrace } from '../../src/trace/export/chrome-json.ts';
import { toPerfettoTrace } from '../../src/trace/export/perfetto.ts';
import { arrowFileChunks } from '../../src/trace/export/arrow.ts';

export const EXPORT_FORMATS = ['chrome-json', 'perfetto', 'arrow'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export async function runExport(store: TraceStore, format: ExportFormat, out: string, source: string): Promise<number> {
  if (format === 'perfetto') {
    const bytes = toPerfettoTrace(store, source);
    await writeFile(out, bytes);
    return bytes.byteLength;
  }
  const chunks: Iterable<string | Uint8Array> = format === 'arrow'
    ? arrowFileChunks(store, { metadata: { source } })
    : chromeTraceJsonChunks(toChromeTrace(store, source));
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
