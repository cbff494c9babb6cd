// Test helpers for the import path: the worker's job run in-process with its messages applied as
// the page applies them, and a fake Worker the FileSession talks to. Used by tests only.
import { TraceStore } from '../trace/store.ts';
import { applyBatch, decodeBatch } from '../trace/wire.ts';
import { runImport, type NamedSource } from './import-run.ts';
import { browserInflate } from './blob-source.ts';
import { decodeWorkerMessage, type OpenRequest, type WorkerMessage } from './import-protocol.ts';
import type { WorkerLike } from './file-session.ts';

type RunOptions = Omit<Parameters<typeof runImport>[1], 'post' | 'id' | 'inflate'> & { id?: number };

/**
 * Runs runImport on `sources` and applies each message as the page does: structured clone, then
 * checked as the page checks it; a recording chunk's new strings, then its frame.
 */
export async function runImportAsPage(sources: NamedSource[], opts: RunOptions = {}): Promise<{ store: TraceStore; msgs: WorkerMessage[] }> {
  const msgs: WorkerMessage[] = [];
  let store = new TraceStore();
  await runImport(sources, {
    inflate: browserInflate,
    ...opts,
    id: opts.id ?? 7,
    post: (m) => {
      const cloned = decodeWorkerMessage(structuredClone(m));
      if (!cloned) throw new Error(`malformed ${JSON.stringify(m)}`);
      msgs.push(cloned);
      if (cloned.type === 'start') store = new TraceStore(BigInt(cloned.originNs));
      if (cloned.type === 'batch') {
        for (const s of cloned.strings ?? []) store.strings.intern(s);
        applyBatch(store, decodeBatch(new Uint8Array(cloned.frame)));
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
  postMessage(msg: OpenRequest): void { this.requests.push(msg); }
  terminate(): void {}
  send(msg: WorkerMessage): void { this.onmessage!({ data: msg } as MessageEvent); }
}
