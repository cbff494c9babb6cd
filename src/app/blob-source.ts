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

export const browserInflate: Inflate = async (bytes) => {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
};
