// Node adapters for the core recording reader: a ByteSource over a file descriptor, inflate via zlib.
//
// Reads are synchronous positional reads (`readSync` at an offset) behind the async ByteSource
// interface. A seek is ~8 small reads (header, trailer, index chunks, one data chunk) of data that
// is almost always in the page cache (tens of µs each); through `fs/promises` each one was a round
// trip to the libuv thread pool and back, and on a loaded machine every hop waits for a thread to
// be scheduled, and a pending GC task could run in between (bench R3 on a loaded machine: up to ~35 ms
// of a seek was such waits, with its CPU work at 3–7 ms).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { RecordingReader, type ByteSource } from '../../src/trace/recording/reader.ts';

/**
 * zlib's sync API writes its output in `chunkSize` pieces (16 KiB by default) and concatenates
 * them: a 3.3 MB chunk body cost ~200 small buffers plus a 3.3 MB copy, twice the bytes (and GC
 * pressure) of the output itself. Chunk bodies (columnar wire batches, mostly zero columns) inflate
 * ~20–30× their stored size in the bench's recordings, so one piece of 32× the input (64 KiB at
 * least, 16 MiB at most) usually holds the whole output; when it does not, zlib continues in further
 * pieces of that size and concatenates, still correct.
 */
export const nodeInflate = (bytes: Uint8Array, maxOutputBytes?: number): Uint8Array => {
  const chunkSize = Math.min(16 << 20, Math.max(64 << 10, bytes.byteLength * 32));
  // maxOutputLength makes zlib stop (ERR_BUFFER_TOO_LARGE) once the output passes the bound,
  // before allocating more: a decompression bomb costs at most the bound plus one piece.
  if (maxOutputBytes === undefined) return inflateRawSync(bytes, { chunkSize });
  return inflateRawSync(bytes, { chunkSize: Math.min(chunkSize, Math.max(64, maxOutputBytes + 1)), maxOutputLength: Math.max(1, maxOutputBytes) });
};

export async function fileSource(path: string): Promise<ByteSource & { close(): Promise<void>; fd: number }> {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let closed = false;
  return {
    fd,
    sizeBytes: size,
    async read(offsetBytes, lengthBytes) {
      const len = Math.max(0, Math.min(lengthBytes, size - offsetBytes));
      const buf = new Uint8Array(len);
      let at = 0;
      while (at < len) {
        const bytesRead = readSync(fd, buf, at, len - at, offsetBytes + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return at === len ? buf : buf.subarray(0, at);
    },
    async close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
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
