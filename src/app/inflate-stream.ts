// The platform's raw inflate as the stream a joined run feeds (src/trace/recording/joined.ts):
// DecompressionStream('deflate-raw'), in the browser and in Node alike. One stream over a file's
// joinable bodies costs about half a JavaScript inflate of each (docs/performance.md, "One inflate stream").
import type { InflateStream } from '../trace/recording/joined.ts';

export function decompressionStream(): InflateStream {
  const ds = new DecompressionStream('deflate-raw');
  const w = ds.writable.getWriter();
  const r = ds.readable.getReader();
  return {
    async write(bytes) {
      // Settles once the transform has inflated them; that needs the run's pump to be reading.
      await w.ready;
      await w.write(bytes as Uint8Array<ArrayBuffer>);
    },
    async close() {
      await w.ready;
      await w.close();
    },
    async read() {
      const { value, done } = await r.read();
      return done ? null : value;
    },
    cancel() {
      r.cancel().catch(() => undefined);
      w.abort().catch(() => undefined);
    },
  };
}

/** The host's timer as JoinedInflate's `after` (the core has no timers). */
export const hostAfter = (ms: number, fn: () => void): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};
