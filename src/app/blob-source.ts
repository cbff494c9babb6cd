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
export const WHOLE_READ_MAX_BYTES = 1 << 30;

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
 * The bytes written straight into a DecompressionStream and its output read back in pieces, joined
 * once (measured in a worker on a 1 M-event recording's chunks: 0.5–0.9 s, against 1.0–1.3 s through
 * `new Response(bytes).body` and `Response.arrayBuffer()`). With a bound, reading stops and the
 * stream is cancelled once the output passes it.
 */
export const browserInflate: Inflate = async (bytes, maxOutputBytes = Infinity) => {
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  // Not awaited: the output must be read for a large input's write to finish. A bad input errors
  // the stream, which the read below reports; these promises then reject unheard.
  writer.write(bytes as Uint8Array<ArrayBuffer>).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const pieces: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxOutputBytes) {
      await reader.cancel();
      throw new Error(`inflates past ${maxOutputBytes} bytes`);
    }
    pieces.push(value);
  }
  const only = pieces[0];
  if (pieces.length === 1 && only!.byteOffset === 0 && only!.byteLength === only!.buffer.byteLength) return only!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};
