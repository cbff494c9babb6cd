// The import Web Worker: parses dropped / picked files off the main thread (a
// large file must not freeze the page). Messages: import-protocol.ts; the work itself: import-run.ts. A new `open`
// cancels the one in progress (its late messages carry the old id and the page drops them).
// A file loaded into shared columns is checked by a checks worker this one starts (checks-run.ts).
// Each open has its own FramePool: the page hands back a recording's batch buffers (`frames`) for
// the next chunks; a return for another open than the current one is dropped.

import { decodeFramesReturn, decodeOpenRequest, encodeWorkerMessage, type WorkerMessage } from './import-protocol.ts';
import { blobSource, browserInflate } from './blob-source.ts';
import { runImport } from './import-run.ts';
import { fflateInflate } from './fflate-inflate.ts';
import { FramePool } from './frame-pool.ts';
import { decompressionStream } from './inflate-stream.ts';
import { httpSource } from './http-source.ts';
import { portChecks, type PortLike } from './checks-run.ts';

/** `url` if it is on the page's own origin (the worker's), else an error: a page never asks for another's. */
function sameOrigin(url: string): string {
  const u = new URL(url, self.location.href);
  if (u.origin !== self.location.origin) throw new Error(`${url} is not on this page's origin`);
  return u.href;
}

/** fflate inflates; the browser's DecompressionStream only the parts fflate cannot cap cheaply (fflate-inflate.ts). */
const inflate = fflateInflate(browserInflate);

interface WorkerScope {
  onmessage: ((ev: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;
const startChecksWorker = (): PortLike => new Worker(new URL('./checks-worker.ts', import.meta.url), { type: 'module' }) as unknown as PortLike;
let currentId = -1;
let currentPool: FramePool | null = null;

scope.onmessage = (ev: MessageEvent) => {
  const back = decodeFramesReturn(ev.data);
  if (back) {
    if (back.id === currentId) for (const f of back.frames) currentPool?.give(f);
    return;
  }
  const req = decodeOpenRequest(ev.data);
  if (!req) {
    const id = typeof (ev.data as { id?: unknown })?.id === 'number' ? (ev.data as { id: number }).id : -1;
    scope.postMessage({ type: 'error', id, message: 'import worker: malformed request' } satisfies WorkerMessage, []);
    return;
  }
  currentId = req.id;
  currentPool?.close();
  const pool = new FramePool();
  currentPool = pool;
  // A server recording downloads here, read as it arrives (http-source.ts); only from the page's own origin.
  // async: a URL refused by sameOrigin rejects (and is reported below) instead of throwing out of onmessage.
  const sources = Promise.all(req.files.map(async (f) => ('blob' in f ? blobSource(f.name, f.blob) : httpSource(f.name, sameOrigin(f.url)))));
  void sources.then((files) => runImport(files, {
    id: req.id,
    inflate,
    post: (msg) => scope.postMessage(...encodeWorkerMessage(msg)),
    isCancelled: () => currentId !== req.id,
    alignStarts: req.alignStarts === true,
    checks: req.checks === true,
    framePool: pool,
    // Joinable recordings: all their bodies through one DecompressionStream (the browser's zlib).
    inflateStream: decompressionStream,
    // The page asks only when it can read them; a worker without them sends batches.
    shared: req.shared === true && typeof SharedArrayBuffer === 'function',
    // The checkers in a worker of their own, reading the same shared rows (checks-run.ts).
    ...(typeof Worker === 'function' ? { remoteChecks: () => portChecks(startChecksWorker) } : {}),
  }), (err: unknown) => {
    if (currentId === req.id) scope.postMessage(...encodeWorkerMessage({ type: 'error', id: req.id, message: `could not open recording: ${(err as Error).message}` }));
  }).finally(() => pool.close());
};
