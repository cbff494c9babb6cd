// Node adapters for the core recording reader: a ByteSource over a file handle, inflate via zlib.
import { open, type FileHandle } from 'node:fs/promises';
import { inflateRawSync } from 'node:zlib';
import { RecordingReader, type ByteSource } from '../../src/trace/recording/reader.ts';

export const nodeInflate = (bytes: Uint8Array): Uint8Array => inflateRawSync(bytes);

export async function fileSource(path: string): Promise<ByteSource & { close(): Promise<void>; handle: FileHandle }> {
  const handle = await open(path, 'r');
  const { size } = await handle.stat();
  return {
    handle,
    sizeBytes: size,
    async read(offsetBytes, lengthBytes) {
      const len = Math.max(0, Math.min(lengthBytes, size - offsetBytes));
      const buf = new Uint8Array(len);
      let at = 0;
      while (at < len) {
        const { bytesRead } = await handle.read(buf, at, len - at, offsetBytes + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return at === len ? buf : buf.subarray(0, at);
    },
    close: () => handle.close(),
  };
}

/** Opens a recording file; call `close()` when done. */
export async function openRecordingFile(path: string): Promise<{ reader: RecordingReader; close(): Promise<void> }> {
  const src = await fileSource(path);
  try {
    const reader = await RecordingReader.open(src, nodeInflate, path);
    return { reader, close: () => src.close() };
  } catch (err) {
    await src.close();
    throw err;
  }
}
