// A server recording as the import worker's byte source, read while it downloads: the whole file
// comes in one GET into a buffer of its length, and a read waits until its bytes are in. The reader
// opens a recording at its end (trailer, index chunks, stored findings), so a small read far ahead
// of the download is one range request instead (the server answers `Range`, http-server.ts); then
// the chunks are read in order as they arrive. The file's ~0.2–0.4 s download at 10 M events thus
// overlaps the worker's inflate instead of coming before it (docs/performance.md).
import type { NamedSource } from './import-run.ts';
import { WHOLE_READ_MAX_BYTES, blobSource } from './blob-source.ts';

/** A read at most this long, starting this far past the downloaded bytes, is fetched as a range. */
const RANGE_MAX_BYTES = 8 << 20;
const RANGE_AHEAD_BYTES = 1 << 20;

type FetchFn = (url: string, init?: { headers?: Record<string, string> }) => Promise<Response>;

/** Starts the download of `url`; resolves once its length is known (the response's headers). */
export async function httpSource(name: string, url: string, fetchFn: FetchFn = (u, i) => fetch(u, i), rangeAheadBytes = RANGE_AHEAD_BYTES): Promise<NamedSource> {
  const startedMs = performance.now();
  let doneMs: number | null = null;
  /** Time reads spent waiting for their bytes to download (the download behind the reader). */
  let waitedMs = 0;
  const res = await fetchFn(url);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${(await res.text()).trim()}`);
  const sizeBytes = Number(res.headers.get('content-length') ?? Number.NaN);
  if (!res.body || !Number.isSafeInteger(sizeBytes) || sizeBytes < 0 || sizeBytes > WHOLE_READ_MAX_BYTES) {
    // No length to size a buffer by, or too big to hold whole: a Blob of it, read as a picked file is.
    return blobSource(name, await res.blob());
  }
  const ranged = res.headers.get('accept-ranges') === 'bytes';
  const buf = new Uint8Array(sizeBytes);
  let have = 0;
  let failure: Error | null = null;
  const waiters: Array<{ end: number; wake: () => void }> = [];
  const wakeUp = (): void => {
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (failure || waiters[i]!.end <= have) waiters.splice(i, 1)[0]!.wake();
    }
  };
  void (async () => {
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (have + value.byteLength > sizeBytes) throw new Error(`more than the ${sizeBytes} bytes the server announced`);
        buf.set(value, have);
        have += value.byteLength;
        wakeUp();
      }
      if (have < sizeBytes) throw new Error(`the download ended at byte ${have} of ${sizeBytes}`);
      doneMs = performance.now();
    } catch (err) {
      failure = new Error(`${name}: ${(err as Error).message}`);
    }
    wakeUp();
  })();
  /** Bytes [at, end) by one range request; null if it fails or is not answered with them (the download brings them too). */
  const rangeOf = async (at: number, end: number): Promise<Uint8Array | null> => {
    try {
      const r = await fetchFn(url, { headers: { range: `bytes=${at}-${end - 1}` } });
      if (r.status === 206) return new Uint8Array(await r.arrayBuffer());
      await r.body?.cancel();
    } catch {
      // a network error on the side request: wait for the download instead
    }
    return null;
  };
  const inBuffer = async (at: number, end: number): Promise<Uint8Array> => {
    if (end > have && !failure) {
      const t0 = performance.now();
      await new Promise<void>((wake) => waiters.push({ end, wake }));
      waitedMs += performance.now() - t0;
    }
    if (end > have) throw failure!;
    return buf.subarray(at, end);
  };
  return {
    name, sizeBytes,
    downloadMs: () => (doneMs ?? performance.now()) - startedMs,
    downloadWaitMs: () => waitedMs,
    read: async (offsetBytes, lengthBytes) => {
      const at = Math.min(offsetBytes, sizeBytes);
      const end = Math.min(sizeBytes, offsetBytes + lengthBytes);
      if (end <= have || failure) return inBuffer(at, end);
      if (ranged && end - at <= RANGE_MAX_BYTES && at >= have + rangeAheadBytes) {
        const bytes = await rangeOf(at, end);
        if (bytes?.byteLength === end - at) return bytes;
      }
      return inBuffer(at, end);
    },
  };
}
