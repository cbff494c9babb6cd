// Browser adapters for the core readers: a ByteSource over a Blob / File (read by slices, never
// whole) and inflate through DecompressionStream('deflate-raw') — the codec .fscope chunks use
// (docs/recording-format.md, "compression").

import type { Inflate } from '../trace/recording/index.ts';
import type { NamedSource } from './import-run.ts';

export function blobSource(name: string, blob: Blob): NamedSource {
  return {
    name,
    sizeBytes: blob.size,
    read: async (offsetBytes, lengthBytes) => new Uint8Array(await blob.slice(offsetBytes, Math.min(blob.size, offsetBytes + lengthBytes)).arrayBuffer()),
  };
}

/** With a bound, reading stops (and the stream is cancelled) once the output passes it. */
export const browserInflate: Inflate = async (bytes, maxOutputBytes = Infinity) => {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  const pieces: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pieces.push(value);
    total += value.byteLength;
    if (total > maxOutputBytes) {
      await reader.cancel();
      throw new Error(`inflates past ${maxOutputBytes} bytes`);
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
};
