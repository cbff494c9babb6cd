// window.__fusescopeBench: what `npm run bench` (bench/browser.ts) reads in the page. Reads only;
// the bench acts through real input (keys, the recording URL, the live websocket).
//
//   frame log   every requestAnimationFrame callback of the page, timed: the scheduler's frame (actions +
//               every renderer) plus a forced raster of the timeline canvas (a 1-px getImageData),
//               because Canvas2D defers its drawing until the next flush and the JS time alone would
//               leave the rasterization out. Each entry also notes the newest tsNs the frame drew
//               (follow-live shows the store's end), for the live latency figure (P7).
//   memory      the typed arrays the page keeps per event, by owner, to split the CDP heap figure.
// Installed from main.tsx; nothing here runs unless the bench calls start().

import type { AppStore } from './app-store.ts';

export interface BenchFrame {
  /** performance.timeOrigin + performance.now() at the frame's end (epoch ms, comparable across processes). */
  endWallMs: number;
  /** Wall ms of the callback (scheduler frame) alone, and with the forced canvas raster. */
  jsMs: number;
  totalMs: number;
  /** store.trace.endNs / length when the frame started: what this frame drew. */
  drawnEndNs: number;
  drawnEvents: number;
  viewStartNs: number;
  viewEndNs: number;
}

export interface BenchHooks {
  /** Starts (clears) the frame log. */
  start(): void;
  /** Stops recording and returns the log. */
  stop(): BenchFrame[];
  frameCount(): number;
  /** Bytes of typed-array capacity held per owner (store columns, span index, …), and rows. */
  /** The last opened file's load phases, ms (fetch, inflate, decode, store, indexes, first frame). */
  loadPhases?(): Record<string, number>;
  /**
   * When (performance.now(), the page's clock) the last opened file's first frame was drawn, and when
   * its findings were in (the same moment or later: a file is shown while its checkers finish).
   */
  loadTimes?(): { firstFrameAtMs: number; findingsAtMs: number };
  typedArrayBytes(): { events: number; spans: number; storeBytes: number; sharedBytes: number; storeUsedBytes: number; spanBytes: number; lockBytes: number; cacheBytes: number; columns: number };
}

declare global {
  interface Window { __fusescopeBench?: BenchHooks }
}

type Raf = (cb: FrameRequestCallback) => number;

export function installBenchHooks(win: Window, store: AppStore): () => void {
  let recording = false;
  let log: BenchFrame[] = [];
  const origRaf: Raf = win.requestAnimationFrame.bind(win);
  const flushCanvas = (): void => {
    const canvas = win.document.querySelector<HTMLCanvasElement>('[data-testid="timeline-canvas"]');
    canvas?.getContext('2d')?.getImageData(0, 0, 1, 1);
  };
  const wallNow = (): number => performance.timeOrigin + performance.now();
  // The first frame after a file was adopted, timed from the adopt (every frame is watched for it).
  let adoptSeenMs = -1;
  let firstFrameMs = 0;
  let firstFrameAtMs = -1;
  const noteFirstFrame = (): void => {
    if (store.adoptedAtMs <= adoptSeenMs) return;
    adoptSeenMs = store.adoptedAtMs;
    flushCanvas();
    firstFrameAtMs = performance.now();
    firstFrameMs = firstFrameAtMs - store.adoptedAtMs;
  };
  win.requestAnimationFrame = (cb: FrameRequestCallback): number => origRaf((t) => {
    if (!recording) { cb(t); noteFirstFrame(); return; }
    const drawnEndNs = store.trace.endNs;
    const drawnEvents = store.trace.length;
    const t0 = performance.now();
    cb(t);
    const t1 = performance.now();
    flushCanvas();
    const t2 = performance.now();
    log.push({
      endWallMs: wallNow(), jsMs: t1 - t0, totalMs: t2 - t0, drawnEndNs, drawnEvents,
      viewStartNs: store.viewStartNs, viewEndNs: store.viewEndNs,
    });
  });

  const hooks: BenchHooks = {
    start: () => { log = []; recording = true; },
    stop: () => { recording = false; return log; },
    frameCount: () => log.length,
    loadPhases: () => {
      const started = store.status.importStatus.startedMs ?? store.adoptedAtMs;
      return { ...store.status.loadPhasesMs, adopt: store.adoptedAtMs - started, firstFrame: firstFrameMs };
    },
    loadTimes: () => ({ firstFrameAtMs, findingsAtMs: store.findingsAtMs }),
    typedArrayBytes: () => {
      const t = store.trace;
      const s = store.spans;
      // Capacity included; spanBytes includes the per-track LOD levels.
      return {
        events: t.length, spans: s.count, storeBytes: t.byteLength(), sharedBytes: t.sharedByteLength(), storeUsedBytes: t.bytesPerRow() * t.length,
        spanBytes: s.byteLength(), lockBytes: store.locks.byteLength(), cacheBytes: store.cache.byteLength(), columns: t.columnsInUse().length + 2,
      };
    },
  };
  win.__fusescopeBench = hooks;
  return () => {
    win.requestAnimationFrame = origRaf;
    delete win.__fusescopeBench;
  };
}
