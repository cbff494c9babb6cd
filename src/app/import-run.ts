// What the import worker does, written against injected byte sources, inflate and post so it also
// runs under vitest (node) on the real fixtures. No DOM, no React.
//
// Text files (ftrace, libfuse -d logs, fusescope NDJSON): each is streamed in READ_CHUNK_BYTES
// slices of bytes into the core import pipeline (src/trace/import/pipeline.ts), the one
// `fusescope import` uses (server/sources/files.ts): format detection, parsing, the cross-file
// passes and one clock for every file; this file only reads, reports progress and posts.
// A trace.dat (recognised by its magic) is read by offsets through the core tracedat reader into
// the same pipeline (its pages one at a time, never the whole file).
// Text imports go to the page as wire batches (encodeBatch of a throwaway store that shares one
// string table, so each batch carries only strings the page has not seen).
// A .fscope recording (recognised by its magic, not its name) is read once, whole, and opened
// through the core reader, INFLATE_AHEAD chunks inflating at once (chunksInOrder). A data chunk's
// body already is a wire batch without strings: it goes to the page as it is (its buffer moved,
// not copied), in file order, with the strings the page has not seen beside it — no intermediate
// store, no re-encoding. The reader's checks and salvage (bad chunks skipped, damage named) stay.
// With a FramePool, chunk bodies inflate into buffers the page hands back once it has ingested them
// (frame-pool.ts): no fresh memory per chunk.
// With `shared` (the page can read SharedArrayBuffers) neither batches nor buffers go to the page:
// every chunk's rows (or text batch) are appended to one store whose columns are SharedArrayBuffers
// sized once for the file (SharedSender), the chunk's buffer goes straight back to the pool, and
// `rows` tells the page how many rows are final; its store reads them in place. `sent` says the
// last row is in, before the findings are ready, so the page completes its indexes meanwhile.
//
// With `checks`, the protocol checkers (FindingsTracker over CheckRunner, as the page runs them;
// with shared rows, in a checks worker of their own reading the same columns, checks-run.ts)
// see every row sent, numbered from 0 as the page's store numbers them, and their findings go with
// `done`: the page's main thread does not feed them during a load. Each batch sent (a text import's
// store, a recording's decoded chunk) is copied into one reused store sharing the sender's string
// table (the checkers copy what they need from a row while they see it: src/trace/checks/README.md). A
// recording whose stored findings cover every row needs none of it, unless a chunk turns out bad:
// then the stored findings cover rows the page lacks, and the kept chunks so far are read again
// to check them.

import { explanationSummary } from '../trace/import/detect.ts';
import { TraceStore, sharedAlloc, type Column } from '../trace/store.ts';
import { StringTable } from '../trace/strings.ts';
import { encodeBatch } from '../trace/wire.ts';
import { formatDiag, type ParseDiag } from '../trace/import/diagnostics.ts';
import { ImportPipeline } from '../trace/import/pipeline.ts';
import { decompress as zstd } from 'fzstd';
import { importTraceDat, isTraceDat } from '../trace/import/tracedat/index.ts';
import { FILE_MAGIC, RecordingError, RecordingReader, type ByteSource, type ChunkRows, type Inflate, type StoredFindings } from '../trace/recording/index.ts';
import { DEFAULT_SETTINGS, RULE_IDS } from '../trace/checks/index.ts';
import { MAX_DIAGS_SENT, PROGRESS_PERIOD_MS, type ImportPhase, type RecordingBodies, type SentSummary, type WorkerFindings, type WorkerMessage } from './import-protocol.ts';
import { FindingsTracker } from './findings-tracker.ts';
import type { FramePool } from './frame-pool.ts';
import { pooledInflate } from './fflate-inflate.ts';
import type { InflateStream, JoinedInflate } from '../trace/recording/joined.ts';
import { hostAfter } from './inflate-stream.ts';
import type { RemoteChecks } from './checks-run.ts';

/** Text is parsed in 1 MiB slices, as the CLI reads it: bounded memory per read, few messages. */
const READ_CHUNK_BYTES = 1 << 20;
/** Rows per batch sent to the page: the recording's chunk size, so both paths look alike. */
const BATCH_ROWS = 16_384;

export interface NamedSource extends ByteSource {
  readonly name: string;
  /** Reads the whole file into memory once, so later reads are views (blob-source.ts); absent: reads stay as they are. */
  loadWhole?(): Promise<void>;
  /** A download read as it arrives (http-source.ts): ms from its start to its last byte, or to now while it goes on. */
  downloadMs?(): number;
  /** Time reads spent waiting for bytes still downloading. */
  downloadWaitMs?(): number;
}

/** Chunks of a recording inflating at once: enough to keep the inflater busy while a chunk is decoded and posted. */
const INFLATE_AHEAD = 8;

interface RunOptions {
  id: number;
  inflate: Inflate;
  post: (msg: WorkerMessage) => void;
  nowMs?: () => number;
  /** Read size for text files (tests use tiny ones); READ_CHUNK_BYTES by default. */
  readChunkBytes?: number;
  /** Checked between chunks: a newer request cancels this one. */
  isCancelled?: () => boolean;
  /** Files on another clock than the first start with the first file (the page's "align starts"). */
  alignStarts?: boolean;
  /** Run the checkers here over the rows sent; their findings go with done. */
  checks?: boolean;
  /** Recording chunk bodies inflate into these buffers (returned by the page, or at once with `shared`); absent: fresh ones. */
  framePool?: FramePool;
  /**
   * Fill one store whose columns the page shares (SharedArrayBuffer) and post `rows` instead of
   * batches: the page's main thread then neither copies rows nor touches fresh memory for them.
   */
  shared?: boolean;
  /**
   * With `shared` and `checks`: a checks worker (checks-run.ts) that checks the shared rows while
   * this one goes on inflating; absent: the checkers run here, between chunks.
   */
  remoteChecks?: () => RemoteChecks;
  /**
   * A raw-inflate stream: a recording's joinable chunk bodies are then inflated as one stream
   * (src/trace/recording/joined.ts) instead of one by one.
   */
  inflateStream?: () => InflateStream;
}

/** The most rows a store is sized for up front: a damaged index must not make the worker allocate absurd columns. */
const MAX_RESERVED_ROWS = 50_000_000;

class Progress {
  doneBytes = 0;
  private lastMs = -Infinity;
  constructor(private readonly o: RunOptions, readonly totalBytes: number) {}
  /** Rows sent, of `totalRows` (0: not known yet). */
  doneRows = 0;
  totalRows = 0;
  report(phase: ImportPhase, force = false): void {
    const now = (this.o.nowMs ?? Date.now)();
    if (!force && now - this.lastMs < PROGRESS_PERIOD_MS) return;
    this.lastMs = now;
    const rows = this.totalRows > 0 ? { doneRows: this.doneRows, totalRows: this.totalRows } : {};
    this.o.post({ type: 'progress', id: this.o.id, doneBytes: this.doneBytes, totalBytes: this.totalBytes, phase, ...rows });
  }
}

async function isRecording(src: ByteSource): Promise<boolean> {
  if (src.sizeBytes < FILE_MAGIC.length) return false;
  const head = await src.read(0, FILE_MAGIC.length);
  return FILE_MAGIC.every((b, i) => head[i] === b);
}

/** First diagnostics in full, the rest counted. */
class Diags {
  readonly first: ParseDiag[] = [];
  count = 0;
  add = (d: ParseDiag): void => {
    this.count++;
    if (this.first.length < MAX_DIAGS_SENT) this.first.push(d);
  };
}

interface Loaded {
  events: number;
  damage: string;
  bodies?: RecordingBodies;
  phasesMs?: Record<string, number>;
  findings?: WorkerFindings;
  /** Files not on the first file's clock, and whether they were aligned (text imports only). */
  clocks?: { otherClockFiles: number; aligned: boolean };
}

/** Opens the files as one trace and posts start / batches / done (or error). Never throws. */
export async function runImport(sources: readonly NamedSource[], o: RunOptions): Promise<void> {
  const diags = new Diags();
  try {
    const recordings: NamedSource[] = [];
    const texts: NamedSource[] = [];
    for (const s of sources) (await isRecording(s) ? recordings : texts).push(s);
    let loaded: Loaded | null;
    if (recordings.length > 0) {
      // A recording carries its own string table and origin: it opens alone.
      for (const s of [...recordings.slice(1), ...texts]) {
        diags.add({ source: s.name, line: 0, code: 'not_opened', message: `not opened: ${recordings[0]!.name} is a recording, which opens on its own` });
      }
      loaded = await openRecording(recordings[0]!, o, diags);
    } else {
      loaded = await importTexts(texts, o, diags);
    }
    if (loaded === null) return; // cancelled: a newer request owns the page
    o.post({ type: 'done', id: o.id, events: loaded.events, diags: diags.first.map(formatDiag), diagCount: diags.count, damage: loaded.damage, ...loaded.clocks, ...(loaded.bodies ? { bodies: loaded.bodies } : {}), ...(loaded.phasesMs ? { phasesMs: loaded.phasesMs } : {}), ...(loaded.findings ? { findings: loaded.findings } : {}) });
  } catch (err) {
    // The diagnostics so far say which file and line made it unusable.
    const known = diags.first.length > 0 ? { diags: diags.first.map(formatDiag), diagCount: diags.count } : {};
    o.post({ type: 'error', id: o.id, message: err instanceof Error ? err.message : String(err), ...known });
  }
}

/**
 * The page's checkers (FindingsTracker), run here over the rows sent, stream row = page store row.
 * Each batch is copied into one store, cleared per batch, that shares the sender's string table: its
 * rows then read as the page's store holds them (a row earlier than the batch before is clamped to
 * it there, and here: TraceStore.clear keeps that floor), and no memory is taken per batch.
 */
class WorkerChecks {
  private readonly tracker = new FindingsTracker();
  private rolling: TraceStore | null = null;
  /** The checks worker fed the shared store's rows (feedStore), started on the first of them. */
  private remote: RemoteChecks | null = null;
  private remoteStrings = 1; // id 0, the empty string, is in every table
  /** Wall ms feeding them and computing the findings (the bench's worker checkers phase; the checks worker's own when it ran them). */
  ms = 0;
  /** Rows seen so far (fed, or skipped after a checker threw): the next row's stream number. */
  rows = 0;

  constructor(private readonly strings: StringTable, private readonly startRemote?: () => RemoteChecks) {}

  /** The next `n` rows sent, as columns (string ids of `strings`). */
  feed(n: number, kinds: Uint8Array, tsNs: Float64Array, columns: ReadonlyMap<number, Column>): void {
    const t0 = performance.now();
    const store = (this.rolling ??= new TraceStore(0n, this.strings));
    store.clear();
    store.appendColumns(n, kinds, tsNs, columns);
    this.tracker.feed(store, 0, n, this.rows);
    this.rows += n;
    this.ms += performance.now() - t0;
  }

  /** Starts the checks worker (if any) before its rows come, so it is up when they do. */
  warm(): void {
    if (this.startRemote) this.remote ??= this.startRemote();
  }

  /**
   * Rows [from, to) of the store the page shares (SharedSender): its row numbers are the page's, no
   * copy needed. With a checks worker they are checked there (it reads the shared columns too).
   */
  feedStore(store: TraceStore, from: number, to: number): void {
    if (this.startRemote) {
      this.remote ??= this.startRemote();
      const strings = store.strings.size > this.remoteStrings ? store.strings.slice(this.remoteStrings) : undefined;
      this.remoteStrings = store.strings.size;
      this.remote.rows(store.sharedView(), strings);
      this.rows = to;
      return;
    }
    const t0 = performance.now();
    this.tracker.feed(store, from, to, 0);
    this.rows = to;
    this.ms += performance.now() - t0;
  }

  /**
   * The findings, as the page's tracker holds them once a file is in (refresh forced); null when the
   * checks worker failed (the page then checks the rows itself).
   */
  async result(): Promise<WorkerFindings | null> {
    if (this.remote) {
      try {
        const reply = await this.remote.result();
        this.ms = reply.ms;
        return reply.findings;
      } catch {
        return null;
      } finally {
        this.remote.close();
      }
    }
    const t0 = performance.now();
    const found = this.tracker.finalFindings();
    this.ms += performance.now() - t0;
    return found;
  }

  /** Stops a checks worker that is no longer wanted (a cancelled load). */
  close(): void {
    this.remote?.close();
  }
}

class BatchSender {
  private knownStrings = 0;
  events = 0;
  constructor(private readonly o: RunOptions, readonly originNs: bigint, readonly strings: StringTable) {}

  /** Sends rows already in a store that shares `strings`. */
  sendStore(store: TraceStore): void {
    if (store.length === 0) return;
    const { frame, knownStrings } = encodeBatch(store, 0, store.length, this.knownStrings);
    this.knownStrings = knownStrings;
    this.events += store.length;
    const buf = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength ? frame.buffer : frame.slice().buffer;
    this.o.post({ type: 'batch', id: this.o.id, frame: buf as ArrayBuffer });
  }
}

/**
 * Rows appended to one store whose columns the page shares (sharedAlloc, sized once for the file):
 * each post says how many rows are final, with the strings the page has not seen and the columns
 * (the same arrays until one widens or the store grows). The page reads them as they are
 * (TraceStore.adoptShared); rows past `length` are still being written and it never reads them.
 */
class SharedSender {
  readonly store: TraceStore;
  private knownStrings = 1; // id 0, the empty string, is in every table
  private postedRows = 0;
  constructor(private readonly o: RunOptions, originNs: bigint, strings: StringTable, expectedRows: number) {
    this.store = new TraceStore(originNs, strings, sharedAlloc);
    this.store.reserve(Math.min(expectedRows, MAX_RESERVED_ROWS), true);
  }

  /** Wall ms appending rows to the shared columns (the bench's worker append phase: mostly their first touch). */
  appendMs = 0;

  get events(): number {
    return this.store.length;
  }

  /** Appends rows given as columns (string ids of this store's table). */
  append(n: number, kinds: Uint8Array, tsNs: Float64Array, columns: ReadonlyMap<number, Column>): void {
    const t0 = performance.now();
    this.store.appendColumns(n, kinds, tsNs, columns);
    this.appendMs += performance.now() - t0;
  }

  /** Tells the page of the rows appended since the last post. */
  post(): void {
    if (this.store.length === this.postedRows) return;
    this.postedRows = this.store.length;
    const strings = this.store.strings;
    const fresh = strings.size > this.knownStrings ? { strings: strings.slice(this.knownStrings) } : {};
    this.knownStrings = strings.size;
    this.o.post({ type: 'rows', id: this.o.id, ...this.store.sharedView(), ...fresh });
  }
}

/**
 * Every row is sent: the page is told (it completes its indexes meanwhile), then the checkers'
 * findings (none when a checks worker failed: the page checks the rows itself) and their time.
 */
async function rowsSent(o: RunOptions, progress: Progress, diags: Diags, end: Omit<SentSummary, 'diags' | 'diagCount'>, checker: WorkerChecks, afterSent?: () => void): Promise<{ findings?: WorkerFindings; phasesMs: Record<string, number> }> {
  o.post({ type: 'sent', id: o.id, ...end, diags: diags.first.map(formatDiag), diagCount: diags.count });
  progress.report('checking', true);
  const t0 = performance.now();
  afterSent?.();
  const findings = await checker.result();
  // workerChecksWait: how long the load's end waited for a checks worker still going.
  return { ...(findings ? { findings } : {}), phasesMs: { workerChecks: checker.ms, workerChecksWait: performance.now() - t0 } };
}

async function importTexts(sources: readonly NamedSource[], o: RunOptions, diags: Diags): Promise<Loaded | null> {
  const progress = new Progress(o, sources.reduce((n, s) => n + s.sizeBytes, 0));
  progress.report('reading', true);
  const pipe = new ImportPipeline({ alignStarts: o.alignStarts === true, files: sources.length });
  const chunkBytes = o.readChunkBytes ?? READ_CHUNK_BYTES;
  for (const src of sources) {
    if (isTraceDat(await src.read(0, 16))) {
      const base = progress.doneBytes;
      await importTraceDat(pipe, src.name, src, { inflate: o.inflate, zstd: (b) => zstd(b) }, (n) => {
        progress.doneBytes = base + n;
        progress.report('reading');
      });
      progress.doneBytes = base + src.sizeBytes;
      continue;
    }
    const feed = pipe.open(src.name);
    for (let at = 0; at < src.sizeBytes;) {
      if (o.isCancelled?.()) return null;
      const bytes = await src.read(at, chunkBytes);
      if (bytes.byteLength === 0) break;
      at += bytes.byteLength;
      progress.doneBytes += bytes.byteLength;
      if (!feed.push(bytes)) {
        progress.doneBytes += src.sizeBytes - at; // not a format we read: the rest is skipped
        break;
      }
      progress.report('reading');
    }
    feed.end();
  }
  progress.report('joining', true);
  const outcome = pipe.finish();
  if (outcome.formats.size === 0) {
    for (const d of outcome.diags) diags.add(d);
    diags.count += outcome.diagCount - outcome.diags.length;
    throw new Error('nothing to import: no file was recognised (ftrace text, trace.dat, perf script, perf lock contention, libfuse -d log, fusescope NDJSON or .fscope)');
  }
  const { result } = outcome;
  const sender = new BatchSender(o, result.originNs, new StringTable());
  const checker = o.checks ? new WorkerChecks(sender.strings, o.shared ? o.remoteChecks : undefined) : null;
  const label = sources.map((s) => s.name).join(' + ');
  o.post({
    type: 'start', id: o.id, originNs: result.originNs.toString(), kind: 'import', label,
    // Each file's format and the evidence that decided it (detect.ts): the file panel shows it.
    meta: {
      formats: [...outcome.formats].map(([name, format]) => {
        const x = outcome.explanations.get(name);
        return `${name}: ${x ? explanationSummary(x) : format}`;
      }),
      clock: result.clock?.id ?? null,
    },
    // Every row is parsed already: the page reserves them once instead of growing its columns.
    expectedEvents: outcome.rowCount,
    ...(checker ? { workerChecks: true } : {}),
  });
  progress.totalRows = outcome.rowCount;
  progress.report('loading', true);
  const shared = o.shared ? new SharedSender(o, result.originNs, sender.strings, outcome.rowCount) : null;
  for (const store of outcome.batches(BATCH_ROWS, sender.strings)) {
    if (o.isCancelled?.()) {
      checker?.close();
      return null;
    }
    if (shared) {
      const from = shared.store.length;
      shared.append(store.length, store.kinds, store.tsNs, store.columns());
      checker?.feedStore(shared.store, from, shared.store.length);
      shared.post();
    } else {
      checker?.feed(store.length, store.kinds, store.tsNs, store.columns());
      sender.sendStore(store);
    }
    progress.doneRows = shared ? shared.events : sender.events;
    progress.report('loading');
  }
  // Diagnostics after loading: appending may have added some (events the store refused).
  for (const d of outcome.diags) diags.add(d);
  diags.count += outcome.diagCount - outcome.diags.length; // counted beyond the ones kept in full
  const events = shared ? shared.events : sender.events;
  const otherClocks = result.files.filter((f) => !f.sameClock && f.eventCount > 0);
  const clocks = { otherClockFiles: otherClocks.length, aligned: otherClocks.some((f) => f.aligned) };
  const checked = checker ? await rowsSent(o, progress, diags, { events, damage: '', ...clocks }, checker) : {};
  progress.report('done', true);
  return { events, damage: '', clocks, ...checked };
}

async function openRecording(src: NamedSource, o: RunOptions, diags: Diags): Promise<Loaded | null> {
  const now = o.nowMs ?? Date.now;
  const t0 = now();
  const progress = new Progress(o, src.sizeBytes);
  progress.report('reading', true);
  await src.loadWhole?.();
  const readMs = now() - t0;
  // Wall time with at least one chunk inflating (they overlap: a sum would count it twice).
  let inflating = 0;
  let inflateSinceMs = 0;
  let inflateMs = 0;
  const inflateBegins = (): void => {
    if (inflating++ === 0) inflateSinceMs = now();
  };
  const inflateEnds = (): void => {
    if (--inflating === 0) inflateMs += now() - inflateSinceMs;
  };
  const timed = (f: Inflate): Inflate => async (bytes, maxOutputBytes) => {
    inflateBegins();
    try {
      return await f(bytes, maxOutputBytes);
    } finally {
      inflateEnds();
    }
  };
  // A joined run's stream counts as inflating from its start to its last output.
  const timedStream = (st: InflateStream): InflateStream => {
    inflateBegins();
    let open = true;
    const over = (): void => {
      if (open) inflateEnds();
      open = false;
    };
    return {
      write: (b) => st.write(b),
      close: () => st.close(),
      read: async () => {
        try {
          const piece = await st.read();
          if (piece === null) over();
          return piece;
        } catch (err) {
          over();
          throw err;
        }
      },
      cancel: () => {
        over();
        st.cancel();
      },
    };
  };
  const pool = o.framePool;
  let reader: RecordingReader;
  try {
    // Bodies a joined run inflates go into the same pool's buffers as the ones inflated alone.
    const joined: JoinedInflate | null = o.inflateStream ? {
      open: () => timedStream(o.inflateStream!()), after: hostAfter,
      ...(pool ? { take: async (bytes: number) => new Uint8Array(await pool.take(bytes)), putBack: (buf: Uint8Array) => pool.putBack(buf.buffer as ArrayBuffer) } : {}),
    } : null;
    reader = await RecordingReader.open(src, timed(o.inflate), src.name, timed(pool ? pooledInflate(pool, o.inflate) : o.inflate), joined);
  } catch (err) {
    throw new Error(err instanceof RecordingError ? err.message : `${src.name}: ${(err as Error).message}`);
  }
  const stored = await usableStoredFindings(reader);
  // Stored findings hold for the page's rows only if every row comes: damage found opening the file says they will not.
  const checker = o.checks ? new WorkerChecks(reader.strings, o.shared ? o.remoteChecks : undefined) : null;
  let checking = checker !== null && !(stored && !reader.damage);
  // The index knows the row count: the page reserves it once instead of growing its columns.
  o.post({
    type: 'start', id: o.id, originNs: reader.header.originNs.toString(), kind: 'recording', label: src.name, meta: { ...reader.header.meta },
    expectedEvents: reader.totalRows, ...(stored ? { storedFindings: true } : {}), ...(checker ? { workerChecks: true } : {}),
  });
  progress.totalRows = reader.totalRows;
  progress.report('loading', true);
  const check = (c: ChunkRows): void => checker!.feed(c.rowCount, c.kinds, c.tsNs, c.columns);
  const shared = o.shared ? new SharedSender(o, reader.header.originNs, reader.strings, reader.totalRows) : null;
  if (shared && checking) checker!.warm();
  let knownStrings = 1; // id 0, the empty string, is in every table
  let events = 0;
  for await (const { k, chunk: c } of reader.chunksInOrder(INFLATE_AHEAD)) {
    if (o.isCancelled?.()) {
      checker?.close();
      return null;
    }
    if (shared) {
      if (c) {
        shared.append(c.rowCount, c.kinds, c.tsNs, c.columns);
        // The rows are in the shared store now: the body's buffer inflates a later chunk.
        if (c.body.byteOffset === 0) pool?.putBack(c.body.buffer as ArrayBuffer);
        shared.post();
        events = shared.events;
      } else if (checker && !checking) {
        // A bad chunk: stored findings no longer cover the rows sent; the rows are checked once all are in.
        checking = true;
      }
      progress.doneRows = events;
      if (c) progress.doneBytes = c.entry.offsetBytes + c.entry.chunkBytes;
      progress.report('loading');
      continue;
    }
    if (!c) {
      // A bad chunk is skipped (damage noted), the good ones after it kept. Stored findings no
      // longer cover the rows sent: the kept chunks so far are read again for the checkers.
      if (checker && !checking) {
        checking = true;
        for (let j = 0; j < k; j++) {
          if (reader.badChunks.has(j)) continue;
          const again = await reader.readChunk(j);
          check(again);
          if (again.body.byteOffset === 0) pool?.putBack(again.body.buffer as ArrayBuffer); // never posted: free again
        }
      }
      continue;
    }
    // Before the post: it moves the body's buffer, which the chunk's columns are views of.
    if (checking) check(c);
    // The body's own buffer moves to the page (from offset 0: a pooled buffer the page hands back,
    // or one fflate sized); a body that is a view into more (a stored, not deflated, chunk of the
    // file's bytes) is copied out first.
    const b = c.body;
    const frame = b.byteOffset === 0 ? b.buffer as ArrayBuffer : b.slice().buffer;
    const strings = reader.strings.size > knownStrings ? { strings: reader.strings.slice(knownStrings) } : {};
    knownStrings = reader.strings.size;
    o.post({ type: 'batch', id: o.id, frame, frameBytes: b.byteLength, ...strings });
    pool?.posted();
    events += c.rowCount;
    progress.doneRows = events;
    progress.doneBytes = c.entry.offsetBytes + c.entry.chunkBytes;
    progress.report('loading');
  }
  let damage = '';
  if (reader.damage) {
    damage = `byte ${reader.damage.offsetBytes}: ${reader.damage.reason}`;
    diags.add({ source: src.name, line: 0, code: 'damage', message: damage });
  }
  progress.doneBytes = src.sizeBytes;
  // Stored findings name recording rows: they hold for the page's rows only if every row came.
  const workerMs = now() - t0;
  // Shared rows are checked once they are all in and the page was told (`sent`): on two cores the
  // checkers would otherwise take CPU from the inflate and the page's indexes, which the first frame
  // waits on, while the findings wait on those anyway (docs/performance.md, "One inflate stream").
  const checkAll = shared ? () => checker!.feedStore(shared.store, 0, shared.store.length) : undefined;
  const bodies = { alone: reader.stats.bodiesAlone, joined: reader.stats.joinedBodies, runs: reader.stats.joinedRuns };
  const checked = checking ? await rowsSent(o, progress, diags, { events, damage, bodies }, checker!, checkAll) : null;
  progress.report('done', true);
  const findings = checked ? (checked.findings ? { findings: checked.findings } : {})
    : stored && damage === '' && events === stored.rows ? { findings: { list: stored.findings, unknowns: stored.unknowns } } : {};
  // A joined stream may not have said its end yet when the last body is in: it counts to here.
  const phasesMs: Record<string, number> = { read: readMs, inflate: inflateMs + (inflating > 0 ? now() - inflateSinceMs : 0), worker: workerMs };
  if (checked) Object.assign(phasesMs, checked.phasesMs);
  if (shared) phasesMs.workerAppend = shared.appendMs;
  if (src.downloadMs) phasesMs.download = src.downloadMs();
  if (src.downloadWaitMs) phasesMs.downloadWaits = src.downloadWaitMs();
  if (pool) phasesMs.workerWaits = pool.waitedMs;
  return { events, damage, bodies, phasesMs, ...findings };
}

/** A canonical JSON (keys sorted), to compare settings whatever order their keys were written in. */
const canonical = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (x && typeof x === 'object' && !Array.isArray(x)
  ? Object.fromEntries(Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1))) : x));

/**
 * The findings the writer stored, when they are what the page's checkers would find: over every
 * row of the recording, by every rule with the default settings (the page runs those); else null.
 */
export async function usableStoredFindings(reader: RecordingReader): Promise<StoredFindings | null> {
  const r = await reader.storedFindings();
  if (r.status !== 'stored' || r.stored.rows !== reader.totalRows) return null;
  if (canonical(r.stored.rules) !== canonical(RULE_IDS) || canonical(r.stored.settings) !== canonical(DEFAULT_SETTINGS)) return null;
  return r.stored;
}
