// Writes a .fscope recording (docs/recording-format.md) from events or store rows.
//
// Rows are copied into a pending store with the recording's own string table (string ids of the
// caller's table are remapped), and flushed as one data chunk when the pending rows reach
// `maxRowsPerChunk`, or `flushIntervalMs` after the oldest pending row arrived (a timer makes
// that true even when no further rows come). Each flush is a synchronous write of whole chunks
// followed, at most once per `fsyncIntervalMs`, by an fsync; a process killed at any moment
// leaves every chunk written so far readable (the reader's recovery path), and a machine crash
// loses at most the last fsync interval.
//
// A file-system error (a full disk, EIO, a file-size limit) fails the recorder for good: the file is
// cut back to the end of its last whole chunk (a write that stopped part way leaves nothing half
// written), fsynced and closed, so it reads back through the recovery path with every chunk written
// before the error. The method that hit it throws; a hit on the auto-flush timer goes to `onError`.

import { closeSync, fsyncSync, ftruncateSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { deflateRawSync, constants as zc } from 'node:zlib';
import { TraceStore } from '../../src/trace/store.ts';
import { StringIdMaps, columnsMapped } from '../../src/trace/copy-rows.ts';
import { StringTable } from '../../src/trace/strings.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { RecordingEncoder } from '../../src/trace/recording/encoder.ts';
import { FINAL_BLOCK_BYTES, JOINABLE_TAIL, type StoredFindings } from '../../src/trace/recording/format.ts';
import { CheckRunner, DEFAULT_SETTINGS, type CheckOptions } from '../../src/trace/checks/index.ts';

/**
 * Deflate-raw that ends as a joinable chunk body (format.ts JOINABLE_TAIL): zlib's sync flush
 * instead of its finish, then the empty final block. Still one complete deflate stream for any
 * reader; the page's reader inflates a file's bodies as one stream in the browser's own zlib,
 * about twice as fast as a JavaScript inflate of each (docs/performance.md, "One inflate stream").
 */
export function joinableDeflateRaw(bytes: Uint8Array, level: number): Uint8Array {
  const flushed = deflateRawSync(bytes, { level, strategy: zc.Z_DEFAULT_STRATEGY, finishFlush: zc.Z_SYNC_FLUSH });
  const out = new Uint8Array(flushed.byteLength + FINAL_BLOCK_BYTES);
  out.set(flushed, 0);
  out.set(JOINABLE_TAIL.subarray(JOINABLE_TAIL.byteLength - FINAL_BLOCK_BYTES), flushed.byteLength);
  return out;
}

export interface RecorderOptions {
  originNs?: bigint;
  meta?: Record<string, unknown>;
  /** Rows per data chunk; measured in bench (see docs/recording-format.md "Chunk size"). */
  maxRowsPerChunk?: number;
  /** Longest a row waits in memory before its chunk is written. ≤ 1000 per the crash-safety promise. */
  flushIntervalMs?: number;
  fsyncIntervalMs?: number;
  indexEveryChunks?: number;
  /** deflate level 1..9; 0 = store uncompressed. */
  compressionLevel?: number;
  /** Start a timer so pending rows are flushed even if no more rows arrive (off for batch tools). */
  autoFlush?: boolean;
  /**
   * Run the checkers over the recording's rows as chunks are written, and store their findings
   * (a findings chunk before every index chunk and at close; docs/recording-format.md).
   */
  checks?: CheckOptions;
  now?: () => number;
  /** Told once when a write, fsync or close fails (the recorder is then closed; see the header comment). */
  onError?: (err: Error) => void;
}

/**
 * A seek inflates and decodes one whole chunk to return the rows it wants, and the wire batch is
 * ~200 B/row uncompressed (every column for every row): 16,384 rows allocated 8–10 MB of
 * ArrayBuffers per seek, which in a process with a real heap triggered a mark-compact every ~8
 * seeks (bench R3m: the worst seek was the one that hit it). 8,192 halves that for +5 % on disk;
 * see docs/recording-format.md "Chunk size".
 */
const DEFAULT_ROWS_PER_CHUNK = 8_192;
/** Data chunks per index chunk: 4 M rows at the default chunk size (10 M events: 3 index reads on open). */
const DEFAULT_INDEX_EVERY_CHUNKS = 512;

export class Recorder {
  readonly path: string;
  private fd: number | null;
  private readonly enc: RecordingEncoder;
  private readonly strings = new StringTable();
  private pending: TraceStore;
  private pendingSinceMs = 0;
  private lastFsyncMs = 0;
  private lastTsNs = -Infinity;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly remaps = new StringIdMaps(this.strings);
  private readonly o: Required<Omit<RecorderOptions, 'originNs' | 'meta' | 'checks' | 'onError'>>;
  /** Fed each chunk's rows as it is written, so its stream rows are the recording's rows. */
  private readonly runner: CheckRunner | null;
  private readonly checkSettings: Record<string, unknown>;
  /** Bytes of whole chunks written: always a chunk boundary in the file (what a failure cuts back to). */
  bytesWritten = 0;
  rowsWritten = 0;
  private failure: Error | null = null;
  private readonly onError: ((err: Error) => void) | undefined;

  constructor(path: string, options: RecorderOptions = {}) {
    this.path = path;
    this.o = {
      maxRowsPerChunk: DEFAULT_ROWS_PER_CHUNK, flushIntervalMs: 1000, fsyncIntervalMs: 1000, indexEveryChunks: DEFAULT_INDEX_EVERY_CHUNKS,
      compressionLevel: 6, autoFlush: false, now: () => Date.now(), ...options,
    };
    if (this.o.flushIntervalMs > 1000) throw new RangeError('flushIntervalMs must be ≤ 1000 (recordings are flushed at least once a second)');
    const level = this.o.compressionLevel;
    this.enc = new RecordingEncoder({
      originNs: options.originNs ?? 0n,
      createdUnixMs: Date.now(),
      meta: { tool: 'fusescope', ...options.meta },
      indexEveryChunks: this.o.indexEveryChunks,
      ...(level > 0 ? { deflate: (b: Uint8Array) => joinableDeflateRaw(b, level), joinable: true } : {}),
    });
    this.pending = new TraceStore(options.originNs ?? 0n, this.strings);
    this.runner = options.checks ? new CheckRunner(options.checks) : null;
    // Every setting the runner used (defaults filled in), stored with the findings.
    const given = (options.checks?.settings ?? {}) as Record<string, object | undefined>;
    this.checkSettings = Object.fromEntries(Object.entries(DEFAULT_SETTINGS).map(([rule, d]) => [rule, { ...d, ...given[rule] }]));
    this.onError = options.onError;
    this.fd = openSync(path, 'wx');
    try {
      this.write(this.enc.header());
      fsyncSync(this.fd);
    } catch (err) {
      // Not even a header: leave no empty file behind (it would list as a broken recording).
      this.failed(err);
      try { unlinkSync(path); } catch { /* already gone */ }
      throw err;
    }
    this.lastFsyncMs = this.o.now();
    if (this.o.autoFlush) {
      this.timer = setInterval(() => {
        // Never throws out of the timer (that would end the process): the failure is reported instead.
        try { this.maybeFlush(); } catch (err) { if (this.failure === null) this.failed(err); }
      }, Math.max(50, this.o.flushIntervalMs / 4));
      this.timer.unref?.();
    }
  }

  get isOpen(): boolean { return this.fd !== null; }
  /** The file-system error that stopped this recorder (null: none). */
  get error(): Error | null { return this.failure; }
  get pendingRows(): number { return this.pending.length; }

  private write(buf: Uint8Array): void {
    const fd = this.fd;
    if (fd === null) throw this.failure ?? new Error(`${this.path}: recorder is closed`);
    let at = 0;
    try {
      while (at < buf.byteLength) at += writeSync(fd, buf, at, buf.byteLength - at);
    } catch (err) {
      this.failed(err);
      throw err;
    }
    this.bytesWritten += buf.byteLength;
  }

  /** Runs an fsync/close step; a failure stops the recorder as a failed write does. */
  private io(step: (fd: number) => void): void {
    const fd = this.fd;
    if (fd === null) throw this.failure ?? new Error(`${this.path}: recorder is closed`);
    try {
      step(fd);
    } catch (err) {
      this.failed(err);
      throw err;
    }
  }

  /**
   * Stops for good after a file-system error: cuts the file back to its last whole chunk, fsyncs
   * and closes it (each step best effort: the disk may refuse them too), then tells onError once.
   */
  private failed(err: unknown): void {
    const e = err instanceof Error ? err : new Error(String(err));
    if (this.failure !== null) return;
    this.failure = e;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const fd = this.fd;
    this.fd = null;
    if (fd !== null) {
      try { ftruncateSync(fd, this.bytesWritten); } catch { /* the chunks before it are whole either way */ }
      try { fsyncSync(fd); } catch { /* nothing more can be kept */ }
      try { closeSync(fd); } catch { /* closed or gone */ }
    }
    this.onError?.(e);
  }

  private markPending(): void {
    if (this.pending.length === 0) this.pendingSinceMs = this.o.now();
  }

  appendEvent(ev: TraceEvent): void {
    this.markPending();
    const ts = ev.tsNs < this.lastTsNs ? this.lastTsNs : ev.tsNs;
    this.pending.append(ts === ev.tsNs ? ev : { ...ev, tsNs: ts });
    this.lastTsNs = ts;
    if (this.pending.length >= this.o.maxRowsPerChunk) this.flush();
  }

  appendEvents(events: Iterable<TraceEvent>): void {
    for (const ev of events) this.appendEvent(ev);
    this.maybeFlush();
  }

  /** Copies rows [fromRow, toRow) of any store (its string ids are remapped to the recording's). */
  appendRows(src: TraceStore, fromRow = 0, toRow = src.length): void {
    while (fromRow < toRow) {
      const room = this.o.maxRowsPerChunk - this.pending.length;
      const n = Math.min(room, toRow - fromRow);
      this.copyRows(src, fromRow, fromRow + n);
      fromRow += n;
      if (this.pending.length >= this.o.maxRowsPerChunk) this.flush();
    }
    this.maybeFlush();
  }

  private copyRows(src: TraceStore, from: number, to: number): void {
    if (to <= from) return;
    this.markPending();
    const cols = columnsMapped(src, from, to, src.strings === this.strings ? null : this.remaps.of(src.strings));
    let ts = src.tsNs.subarray(from, to);
    if (ts[0]! < this.lastTsNs) ts = ts.map((t) => Math.max(t, this.lastTsNs));
    this.pending.appendColumns(to - from, src.kinds.subarray(from, to), ts, cols);
    this.lastTsNs = this.pending.endNs;
  }



  /** Flushes if the oldest pending row has waited `flushIntervalMs`; fsyncs on its own interval. */
  maybeFlush(): void {
    if (this.fd === null) return;
    const now = this.o.now();
    if (this.pending.length > 0 && now - this.pendingSinceMs >= this.o.flushIntervalMs) this.flush();
    if (now - this.lastFsyncMs >= this.o.fsyncIntervalMs) this.sync();
  }

  /** Writes pending rows as a chunk (plus an index chunk when one is due). */
  flush(): void {
    if (this.fd === null || this.pending.length === 0) return;
    const store = this.pending;
    // Checkers see exactly the rows this chunk stores (timestamps as clamped), numbered as the recording numbers them.
    this.runner?.feed(store, 0, store.length, this.enc.totalRows);
    this.write(this.enc.dataChunk(store, 0, store.length));
    this.rowsWritten += store.length;
    if (this.enc.indexDue) {
      const findings = this.findings();
      if (findings) this.write(this.enc.findingsChunk(findings));
    }
    const index = this.enc.indexChunkIfDue();
    if (index) this.write(index);
    this.pending = new TraceStore(store.originNs, this.strings);
  }

  /** The findings over every row written so far, as a findings chunk stores them (null without checks). */
  findings(): StoredFindings | null {
    const r = this.runner;
    if (!r) return null;
    return {
      rows: r.processedRows, rules: r.checkers.map((c) => c.rule), settings: this.checkSettings,
      findings: r.findings(), unknowns: r.unknowns(),
    };
  }

  sync(): void {
    if (this.fd === null) return;
    this.io(fsyncSync);
    this.lastFsyncMs = this.o.now();
  }

  /** Flushes, writes the final index and trailer, fsyncs and closes. Idempotent. */
  close(): void {
    if (this.fd === null) return;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flush();
    this.write(this.enc.finish(this.findings() ?? undefined));
    this.io(fsyncSync);
    this.io(closeSync);
    this.fd = null;
  }

  /** Stops without the final index and trailer, as a crash would (tests). */
  abandon(): void {
    if (this.fd === null) return;
    if (this.timer) clearInterval(this.timer);
    closeSync(this.fd);
    this.fd = null;
  }
}
