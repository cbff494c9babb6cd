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

export interface HttpSourceStats {
  /** Range requests made, and the bytes they brought. */
  ranges: number;
  rangeBytes: number;
}

/** Starts the download of `url`; resolves once its length is known (the response's headers). */
export async function httpSource(name: string, url: string, fetchFn: FetchFn = (u, i) => fetch(u, i), rangeAheadBytes = RANGE_AHEAD_BYTES): Promise<NamedSource & { stats: HttpSourceStats }> {
  const startedMs = performance.now();
  let doneMs: number | null = null;
  const res = await fetchFn(url);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${(await res.text()).trim()}`);
  const sizeBytes = Number(res.headers.get('content-length') ?? Number.NaN);
  const stats: HttpSourceStats = { ranges: 0, rangeBytes: 0 };
  if (res.body && Number.isSafeInteger(sizeBytes) && sizeBytes > WHOLE_READ_MAX_BYTES) {
    // Too big to hold whole (a blob is read by slices instead, as a picked file is).
    return { ...blobSource(name, await res.blob()), stats };
  }
  if (!res.body || !Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    // No length to size the buffer by: the whole body first, as a Blob's bytes would be.
    const whole = new Uint8Array(await res.arrayBuffer());
    return { name, sizeBytes: whole.byteLength, stats, read: async (at, n) => whole.subarray(Math.min(at, whole.byteLength), Math.min(whole.byteLength, at + n)) };
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
  const inBuffer = async (at: number, end: number): Promise<Uint8Array> => {
    if (end > have && !failure) await new Promise<void>((wake) => waiters.push({ end, wake }));
    if (end > have) throw failure!;
    return buf.subarray(at, end);
  };
  return {
    name, sizeBytes, stats,
    downloadMs: () => (doneMs ?? performance.now()) - startedMs,
    read: async (offsetBytes, lengthBytes) => {
      const at = Math.min(offsetBytes, sizeBytes);
      const end = Math.min(sizeBytes, offsetBytes + lengthBytes);
      if (end <= have || failure) return inBuffer(at, end);
      if (ranged && end - at <= RANGE_MAX_BYTES && at >= have + rangeAheadBytes) {
        const r = await fetchFn(url, { headers: { range: `bytes=${at}-${end - 1}` } });
        if (r.status === 206) {
          const bytes = new Uint8Array(await r.arrayBuffer());
          stats.ranges++;
          stats.rangeBytes += bytes.byteLength;
          if (bytes.byteLength === end - at) return bytes;
        } else {
          await r.body?.cancel();
        }
      }
      return inBuffer(at, end);
    },
  };
}
