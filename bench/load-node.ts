// The floor P3l is measured against: the same load in Node alone, no page — the recording read
// whole, its chunks inflated and decoded in order by the core reader (node:zlib), each chunk's body
// ingested as the page ingests it (TraceSession: store, spans, aliases, locks, checkers; the LOD
// summarised as it loads and finished at the end, as for a file loaded apart), then finished, and the
// cache replayed last (the page does that after its first frame). Wall time per phase.
import { readFileSync } from 'node:fs';
import { RecordingReader } from '../src/trace/recording/index.ts';
import { nodeInflate } from '../server/recorder/file-source.ts';
import { TraceSession } from '../src/app/trace-session.ts';
import { RESERVE_AFTER_ROWS } from '../src/app/live-window.ts';
import { usableStoredFindings } from '../src/app/import-run.ts';

export interface NodeLoad { totalSec: number; phasesSec: Record<string, number>; events: number }

export async function nodeLoad(path: string): Promise<NodeLoad> {
  const t0 = performance.now();
  const bytes = new Uint8Array(readFileSync(path));
  const t1 = performance.now();
  let inflateMs = 0;
  // Reads are views into the bytes (the page's worker reads the file once the same way).
  const src = { sizeBytes: bytes.byteLength, read: async (at: number, n: number) => bytes.subarray(at, Math.min(bytes.byteLength, at + n)) };
  const reader = await RecordingReader.open(src, (b, max) => {
    const s = performance.now();
    try { return nodeInflate(b, max); } finally { inflateMs += performance.now() - s; }
  }, path);
  const session = new TraceSession(() => {}, true);
  session.reset(reader.header.originNs);
  session.spans.deferLod = true;
  // As the page on its default tab: the cache replayed once the file is in (TraceSession.deferCache).
  session.deferCache = true;
  // As the page (file-session.ts): the store reserved for the index's row count, the indexes once the rate is known.
  session.trace.reserve(reader.totalRows);
  let spansReserved = false;
  // As the page: a recording's stored findings, when they are the page's checkers' (import-run.ts), instead of feeding them.
  const stored = await usableStoredFindings(reader);
  if (stored) session.feedChecks = false;
  let known = 1;
  let readerMs = 0;
  let last = performance.now();
  for await (const { chunk } of reader.chunksInOrder()) {
    readerMs += performance.now() - last;
    if (chunk) {
      const strings = reader.strings.size > known ? reader.strings.slice(known) : undefined;
      known = reader.strings.size;
      session.ingest(chunk.body, false, strings);
      if (!spansReserved && session.trace.length >= RESERVE_AFTER_ROWS) {
        spansReserved = true;
        session.reserveIndexes(reader.totalRows);
      }
    }
    last = performance.now();
  }
  session.settleChecks(stored && !reader.damage && session.trace.length === stored.rows ? { list: stored.findings, unknowns: stored.unknowns } : null);
  const t2 = performance.now();
  session.finish();
  const t3 = performance.now();
  session.refreshFindings(true);
  const t4 = performance.now();
  session.catchUpCache();
  const t5 = performance.now();
  return {
    totalSec: (t5 - t0) / 1000,
    events: session.trace.length,
    phasesSec: {
      read: (t1 - t0) / 1000,
      inflate: inflateMs / 1000,
      decode: (readerMs - inflateMs) / 1000,
      store: session.ingestMs.store / 1000,
      checkers: session.ingestMs.checkers / 1000,
      indexes: session.ingestMs.indexes / 1000,
      finish: (t3 - t2) / 1000,
      checks: (t4 - t3) / 1000,
      deferredCache: (t5 - t4) / 1000,
    },
  };
}
