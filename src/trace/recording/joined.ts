// A run of joinable chunk bodies (format.ts ChunkFlags.joinable) inflated as ONE deflate stream, and
// the output cut back into bodies at each batch's end (wire.ts batchByteLength).
//
// Why: in the browser the fast inflate is the platform's own zlib behind DecompressionStream, whose
// cost is per stream and per output piece, not per byte; one stream over a file's bodies inflated
// a 5 M-event recording in 0.5–0.6 s in a Chromium worker, against 1.3–1.6 s for a JavaScript inflate
// of each body (docs/performance.md, "One inflate stream").
//
// Each body ends with a sync flush (all its output is out, byte-aligned) and an empty final block;
// the run writes each body without that final block, then a marker of its own (MARKER_BLOCK: a
// stored block holding MARKER), and one final block when it ends. The stream is valid deflate whose output is each
// body followed by its marker.
//
// Exactly what reading each body alone gives, or a body is handed back to be read alone:
// - a body is given out when its batch's layout says it ended and the marker comes right there: a
//   body whose output is shorter or longer than its batch does not meet its marker;
// - bad deflate anywhere, a marker out of place, output past the last body, a batch past its cap
//   (format.ts maxBatchBytes, so a bomb costs no more than an honest body), a stream that ends
//   early: every body not yet given out is rejected with JoinedRunFailed, and the reader inflates
//   each alone.
// A stream that drops input after a final block inside a body (Node's DecompressionStream does;
// Chromium's fails) stops giving output: the reader ends such a run when it waits on a body, every
// body it fed was taken, and the stream gave nothing while asked for STALL_MS (`end`); the bodies
// left are then read alone.
// The core never imports a decompressor: the stream is injected (JoinedInflate.open).

import { batchByteLength } from '../wire.ts';
import { FINAL_BLOCK_BYTES, JOINABLE_TAIL } from './format.ts';

/** One raw-inflate stream the run feeds and reads (the page: DecompressionStream('deflate-raw')). */
export interface InflateStream {
  /** Input; resolves once the stream has processed it (its output is out to `read`); rejects once the stream failed. */
  write(bytes: Uint8Array): Promise<void>;
  /** No more input. */
  close(): Promise<void>;
  /** The next output piece, in order; null after the last. Rejects on bad deflate. */
  read(): Promise<Uint8Array | null>;
  /** The output is no longer wanted. */
  cancel(): void;
}

export interface JoinedInflate {
  open(): InflateStream;
  /** A buffer of at least `bytes` for one body, at offset 0 of its ArrayBuffer (a pool's); default: a new one. */
  take?(bytes: number): Promise<Uint8Array>;
  /** A buffer `take` gave whose body was never given out (it failed). */
  putBack?(buf: Uint8Array): void;
  /** The host's timer (the core has none): `fn` after `ms`; returns a cancel. For the stall check (STALL_MS). */
  after(ms: number, fn: () => void): () => void;
}

/** The run could not give this body out: read it alone. `reason` says what went wrong (for tests and diagnostics). */
export class JoinedRunFailed extends Error {}

interface Body {
  rowCount: number;
  capBytes: number;
  buf: Uint8Array | null;
  filledBytes: number;
  /** From the batch's layout, once enough of it is in. */
  lengthBytes: number | null;
  /** Marker bytes seen after the batch. */
  markerBytes: number;
  settled: boolean;
  resolve(body: Uint8Array): void;
  reject(err: Error): void;
}

/** What `add` gives back: the body (or a JoinedRunFailed), when its input was processed, and whether it settled. */
export interface JoinedBody {
  body: Promise<Uint8Array>;
  written: Promise<void>;
  settled(): boolean;
}

/** How long a stream may give nothing, with every body's input taken, before the reader ends its run. */
export const STALL_MS = 50;

/** The output after each body: never a batch's first bytes (its magic is 'FSCB'). */
const MARKER = new Uint8Array([0x46, 0x53, 0x4a, 0x4e, 0x2f, 0x2f, 0x2f, 0x2f]); // 'FSJN////'
/** The marker as a stored, not final, block: header byte (BFINAL 0, BTYPE 00), LEN, NLEN, the bytes (RFC 1951 3.2.4). */
const MARKER_BLOCK = new Uint8Array([0x00, MARKER.byteLength, 0x00, ~MARKER.byteLength & 0xff, 0xff, ...MARKER]);

export class JoinedRun {
  private readonly stream: InflateStream;
  /** Bodies added and not yet given out or failed, oldest first; the first is the one being filled. */
  private readonly bodies: Body[] = [];
  private failure: Error | null = null;
  private ended = false;
  /** Output pieces read so far, and whether the pump is waiting on the stream for the next. */
  piecesRead = 0;
  reading = false;

  constructor(private readonly j: JoinedInflate) {
    this.stream = j.open();
    void this.pump();
  }

  /** True once `end` was called or the run failed: add nothing more (start another run). */
  get over(): boolean {
    return this.ended || this.failure !== null;
  }

  /** Adds the next body, `stored` as its chunk holds it (ending in JOINABLE_TAIL). */
  add(stored: Uint8Array, rowCount: number, capBytes: number): JoinedBody {
    let entry!: Body;
    const body = new Promise<Uint8Array>((resolve, reject) => {
      entry = {
        rowCount, capBytes, buf: null, filledBytes: 0, lengthBytes: null, markerBytes: 0, settled: false,
        resolve: (b) => { entry.settled = true; resolve(b); },
        reject: (e) => { entry.settled = true; reject(e); },
      };
    });
    body.catch(() => undefined); // a caller that stopped early need not await it
    const settled = (): boolean => entry.settled;
    if (this.over) {
      entry.reject(new JoinedRunFailed(this.failure?.message ?? 'the run had ended'));
      return { body, written: Promise.resolve(), settled };
    }
    this.bodies.push(entry);
    const written = (async () => {
      try {
        await this.stream.write(stored.subarray(0, stored.byteLength - FINAL_BLOCK_BYTES));
        await this.stream.write(MARKER_BLOCK);
      } catch (err) {
        this.fail(err);
      }
    })();
    return { body, written, settled };
  }

  /** No more bodies: the final block, then the end of the stream. */
  async end(): Promise<void> {
    if (this.over) return;
    this.ended = true;
    try {
      await this.stream.write(JOINABLE_TAIL.subarray(JOINABLE_TAIL.byteLength - FINAL_BLOCK_BYTES));
      await this.stream.close();
    } catch (err) {
      this.fail(err);
    }
  }

  /** Stops the run: bodies not given out fail (read them alone). */
  cancel(): void {
    this.fail(new JoinedRunFailed('cancelled'));
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        this.reading = true;
        const piece = await this.stream.read();
        this.reading = false;
        if (this.failure) return;
        if (piece === null) break;
        this.piecesRead++;
        await this.place(piece);
        if (this.failure) return;
      }
      if (!this.ended) throw new JoinedRunFailed('the stream ended before the run did (a final block inside a body)');
      if (this.bodies.length > 0) throw new JoinedRunFailed(`the stream ended with ${this.bodies.length} bodies not out`);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Copies one output piece into the bodies it belongs to, checking each marker. */
  private async place(piece: Uint8Array): Promise<void> {
    let at = 0;
    while (at < piece.byteLength) {
      const b = this.bodies[0];
      if (!b) throw new JoinedRunFailed('output past the last body added');
      if (b.lengthBytes !== null && b.filledBytes === b.lengthBytes) {
        // The batch is in: its marker must follow at once.
        const n = Math.min(MARKER.byteLength - b.markerBytes, piece.byteLength - at);
        for (let i = 0; i < n; i++) {
          if (piece[at + i] !== MARKER[b.markerBytes + i]) throw new JoinedRunFailed(`a batch of ${b.rowCount} rows is not followed by its marker: its body is longer or shorter than its layout`);
        }
        b.markerBytes += n;
        at += n;
        if (b.markerBytes === MARKER.byteLength) {
          this.bodies.shift();
          b.resolve(b.buf!.subarray(0, b.lengthBytes));
        }
        continue;
      }
      if (!b.buf) {
        // cap + 1 bytes: the size a body inflated alone takes from the same pool (fflate-inflate.ts), so buffers go either way.
        b.buf = this.j.take ? await this.j.take(b.capBytes + 1) : new Uint8Array(b.capBytes + 1);
        if (this.failure) {
          this.j.putBack?.(b.buf);
          return;
        }
      }
      const room = (b.lengthBytes ?? b.capBytes) - b.filledBytes;
      if (room <= 0) throw new JoinedRunFailed(`a batch of ${b.rowCount} rows runs past its cap of ${b.capBytes} bytes`);
      const n = Math.min(room, piece.byteLength - at);
      b.buf.set(piece.subarray(at, at + n), b.filledBytes);
      b.filledBytes += n;
      at += n;
      if (b.lengthBytes === null) {
        b.lengthBytes = batchByteLength(b.buf, b.filledBytes);
        if (b.lengthBytes === null) continue;
        if (b.lengthBytes > b.capBytes) throw new JoinedRunFailed(`a batch of ${b.rowCount} rows declares ${b.lengthBytes} bytes, past its cap of ${b.capBytes}`);
        if (b.filledBytes > b.lengthBytes) {
          // Copied past the batch's end (its length was not known yet): those bytes are the marker's.
          at -= b.filledBytes - b.lengthBytes;
          b.filledBytes = b.lengthBytes;
        }
      }
    }
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure = err instanceof JoinedRunFailed ? err : new JoinedRunFailed((err as Error)?.message ?? String(err));
    for (const b of this.bodies.splice(0)) {
      if (b.buf) this.j.putBack?.(b.buf);
      b.reject(this.failure);
    }
    try {
      this.stream.cancel();
    } catch {
      // already errored or closed
    }
  }
}
