// Recordings written by hand for tests: the encoder over a store, with a deflate that may do
// something else to chosen chunk bodies (a lying file whose checksums are right). Used by
// joined.test.ts and e2e/files.spec.ts.
import { RecordingEncoder } from '../../src/trace/recording/encoder.ts';
import type { TraceStore } from '../../src/trace/store.ts';
import { concatBytes } from '../../src/trace/bytes.ts';
import { BATCH_MAGIC } from '../../src/trace/wire.ts';

/** A data chunk's body before compression is a wire batch (the other parts the deflate sees are not). */
const isBody = (b: Uint8Array): boolean => b.byteLength >= 4 && new DataView(b.buffer, b.byteOffset).getUint32(0, true) === BATCH_MAGIC;

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
