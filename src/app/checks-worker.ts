// The checks worker: the protocol checkers over a file's rows while the import worker (which
// starts it) inflates and appends the next ones. Its job and messages: checks-run.ts.

import { ChecksMirror, type ChecksRequest } from './checks-run.ts';

interface WorkerScope {
  onmessage: ((ev: MessageEvent) => void) | null;
  postMessage(msg: unknown): void;
}
const scope = self as unknown as WorkerScope;
const mirror = new ChecksMirror();

scope.onmessage = (ev: MessageEvent) => {
  try {
    const reply = mirror.handle(ev.data as ChecksRequest);
    if (reply) scope.postMessage(reply);
  } catch (err) {
    // Rows it cannot take: the import worker's findings fall back to the page checking the rows itself.
    scope.postMessage({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};
