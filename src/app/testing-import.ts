// Test helpers for the import path: the worker's job run in-process with its messages applied as
// the page applies them, and a fake Worker the FileSession talks to. Used by tests only.
import { TraceStore } from '../trace/store.ts';
import { applyBatch, decodeBatch } from '../trace/wire.ts';
import { runImport, type NamedSource } from './import-run.ts';
import { browserInflate } from './blob-source.ts';
import { decodeWorkerMessage, type FramesReturn, type OpenRequest, type WorkerMessage } from './import-protocol.ts';
import type { WorkerLike } from './file-session.ts';

type RunOptions = Omit<Parameters<typeof runImport>[1], 'post' | 'id' | 'inflate'> & { id?: number; inflate?: Parameters<typeof runImport>[1]['inflate'] };

/**
 * Runs runImport on `sources` and applies each message as the page does: structured clone (a
 * batch's buffer transferred: the worker's handle is detached), then checked as the page checks
 * it; a recording chunk's new strings, then its frame, whose buffer then goes back to
 * `opts.framePool` (transferred again) as the page hands it back. `msgs` keep a copy of each frame.
 */
export async function runImportAsPage(sources: NamedSource[], opts: RunOptions = {}): Promise<{ store: TraceStore; msgs: WorkerMessage[] }> {
  const msgs: WorkerMessage[] = [];
  let store = new TraceStore();
  await runImport(sources, {
    inflate: browserInflate,
    ...opts,
    id: opts.id ?? 7,
    post: (m) => {
      const cloned = decodeWorkerMessage(structuredClone(m, m.type === 'batch' ? { transfer: [m.frame] } : undefined));
      if (!cloned) throw new Error(`malformed ${JSON.stringify(m)}`);
      if (cloned.type !== 'batch') msgs.push(cloned);
      if (cloned.type === 'start') store = new TraceStore(BigInt(cloned.originNs));
      if (cloned.type === 'batch') {
        const frame = new Uint8Array(cloned.frame, 0, cloned.frameBytes ?? cloned.frame.byteLength);
        msgs.push({ ...cloned, frame: frame.slice().buffer });
        for (const s of cloned.strings ?? []) store.strings.intern(s);
        applyBatch(store, decodeBatch(frame));
        if (cloned.frameBytes !== undefined) opts.framePool?.give(structuredClone(cloned.frame, { transfer: [cloned.frame] }));
      }
    },
  });
  return { store, msgs };
}

/** A Worker that records the page's requests; `send` delivers a worker message to the page. */
export class FakeWorker implements WorkerLike {
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onerror: ((ev: ErrorEvent) => void) | null = null;
  requests: OpenRequest[] = [];
  /** Batch buffers the page handed back (frames messages), in order. */
  returned: ArrayBuffer[] = [];
  postMessage(msg: OpenRequest | FramesReturn): void {
    if (msg.type === 'frames') this.returned.push(...msg.frames);
    else this.requests.push(msg);
  }
  terminated = false;
  terminate(): void { this.terminated = true; }
  send(msg: WorkerMessage): void { this.onmessage!({ data: msg } as MessageEvent); }
}
