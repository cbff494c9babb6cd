// Browser adapters for the core readers: a ByteSource over a Blob / File, and inflate through
// DecompressionStream('deflate-raw') — the codec .fscope chunks use (docs/recording-format.md,
// "compression").
//
// A Blob read goes through the browser process, so a reader that reads a recording chunk by chunk
// pays that round trip ~1,200 times for 10 M events: `loadWhole` reads the file once (one
// arrayBuffer) and every read after it is a view into those bytes (no copy). Text files are read
// in slices (they stream through the parser; holding them whole buys nothing).

import type { Inflate } from '../trace/recording/index.ts';
import type { NamedSource } from './import-run.ts';

/** Files up to this size are read whole by loadWhole; a larger one is read by slices (memory). */
const WHOLE_READ_MAX_BYTES = 1 << 30;

export function blobSource(name: string, blob: Blob): NamedSource {
  let whole: Uint8Array | null = null;
  return {
    name,
    sizeBytes: blob.size,
    read: async (offsetBytes, lengthBytes) => {
      const end = Math.min(blob.size, offsetBytes + lengthBytes);
      if (whole) return whole.subarray(Math.min(offsetBytes, end), end);
      return new Uint8Array(await blob.slice(offsetBytes, end).arrayBuffer());
    },
    loadWhole: async () => {
      if (!whole && blob.size <= WHOLE_READ_MAX_BYTES) whole = new Uint8Array(await blob.arrayBuffer());
    },
  };
}

/**
 * One stream from the bytes to one ArrayBuffer of exactly the inflated size (no pieces to join in
 * JS). With a bound, the stream errors (and the inflate is cancelled) once the output passes it.
 */
export const browserInflate: Inflate = async (bytes, maxOutputBytes = Infinity) => {
  let total = 0;
  const cap = new TransformStream<Uint8Array, Uint8Array>({
    transform(piece, ctl) {
      total += piece.byteLength;
      if (total > maxOutputBytes) ctl.error(new Error(`inflates past ${maxOutputBytes} bytes`));
      else ctl.enqueue(piece);
    },
  });
  const inflated = new Response(bytes as Uint8Array<ArrayBuffer>).body!.pipeThrough(new DecompressionStream('deflate-raw')).pipeThrough(cap);
  return new Uint8Array(await new Response(inflated).arrayBuffer());
};
