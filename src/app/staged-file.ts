// A file being opened in the page, loaded apart from what the page shows (FileTarget): its own
// TraceSession (checkers on) and SourceStatus, no view and no replay. The page keeps showing the
// previous trace — live or another file — until this one has loaded; then AppStore.adoptFile
// makes it the page's trace. If it fails, it is dropped (or, when it read some rows before it
// stopped, held for the user to view), and nothing the page showed has changed.

import { TraceSession } from './trace-session.ts';
import { SourceStatus, type OpenedFile } from './source-status.ts';
import type { FileTarget } from './trace-view-host.ts';
import type { SharedRows } from '../trace/store.ts';
import type { Changed } from './view-state.ts';

export class StagedFile implements FileTarget {
  readonly data = new TraceSession(() => {}, true);
  readonly status: SourceStatus;
  /** 'loading' until the worker's done or error; 'failed' also when nothing usable came. */
  outcome: 'loading' | 'done' | 'failed' = 'loading';
  /** The worker's error message ('' when done). */
  message = '';

  /**
   * `changed`: the owner's chrome only (the page shows the load's progress while it shows the
   * previous trace): a progress message must not redraw the page's views, nothing they show changed.
   * `deferCache`: the cache replay waits until the file is shown (TraceSession.deferCache).
   */
  constructor(changed: Changed, nowMs: () => number, private readonly deferCache = false) {
    this.status = new SourceStatus(changed, nowMs);
  }

  beginFile(file: OpenedFile): void {
    this.status.beginFile(file);
  }

  resetTrace(originNs: bigint): void {
    this.data.reset(originNs);
    // Nothing draws it until it is whole: its LOD is summarised as it loads and finished by
    // markComplete (SpanIndex.deferLod).
    this.data.spans.deferLod = true;
    this.data.deferCache = this.deferCache;
    this.data.deferLodTrim = true;
  }

  ingestBatch(frame: Uint8Array | SharedRows, strings?: readonly string[]): void {
    // Not live: a file is never cut to the live window.
    this.data.ingest(frame, false, strings);
  }

  finishFile(diagLines: readonly string[], diagCount: number): void {
    this.status.finishFile(diagLines, diagCount);
    // Usually done already, when the worker said every row was sent (file-session.ts, `sent`).
    this.data.finish();
    const t1 = performance.now();
    this.data.refreshFindings(true);
    const p = this.status.loadPhasesMs;
    p.store = this.data.ingestMs.store;
    p.checkers = this.data.ingestMs.checkers;
    p.indexes = this.data.ingestMs.indexes;
    p.finish = this.data.ingestMs.finish;
    p.checks = performance.now() - t1;
    this.outcome = 'done';
  }

  failFile(message: string): void {
    this.message = message;
    this.outcome = 'failed';
    this.status.failFile(message);
  }
}
