// Recordings written by hand for tests: the encoder over a store, with a deflate that may do
// something else to chosen chunk bodies (a lying file whose checksums are right). Used by
// joined.test.ts and e2e/files.spec.ts.
import { RecordingEncoder } from '../../src/trace/recording/encoder.ts';
import type { TraceStore } from '../../src/trace/store.ts';

/** One buffer holding `parts` back to back. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A wire batch (a data chunk's body before compression) starts with 'FSCB'. */
const isBody = (b: Uint8Array): boolean => b.byteLength >= 4 && new DataView(b.buffer, b.byteOffset).getUint32(0, true) === 0x42435346;

export interface HandRecording {
  rowsPerChunk: number;
  /** Compression of every part (strings, bodies, findings) but the bodies `bodyFor` takes. */
  deflate: (bytes: Uint8Array) => Uint8Array;
  /** The encoder's `joinable` promise (format.ts ChunkFlags). */
  joinable: boolean;
  /** Data chunk k's body (its wire batch) as stored; absent: `deflate`. */
  bodyFor?: (k: number, batch: Uint8Array) => Uint8Array;
  indexEveryChunks?: number;
}

/** The whole file: header, data chunks of `rowsPerChunk` rows of `store`, index chunks, trailer. */
export function handRecording(store: TraceStore, o: HandRecording): Uint8Array {
  let k = 0;
  const enc = new RecordingEncoder({
    joinable: o.joinable, indexEveryChunks: o.indexEveryChunks ?? 4, meta: { source: 'test' },
    deflate: (b) => (isBody(b) && o.bodyFor ? o.bodyFor(k++, b) : o.deflate(b)),
  });
  const parts = [enc.header()];
  for (let from = 0; from < store.length; from += o.rowsPerChunk) {
    parts.push(enc.dataChunk(store, from, Math.min(store.length, from + o.rowsPerChunk)));
    const idx = enc.indexChunkIfDue();
    if (idx) parts.push(idx);
  }
  parts.push(enc.finish());
  return concatBytes(parts);
}
