// The protocol checkers beside the import worker, in a worker of their own (checks-worker.ts): a
// file whose rows go into shared columns (import-run.ts, `shared`) is checked there while the
// import worker inflates and appends the next chunks, so the two run on both cores instead of one
// after the other. The checks worker's store adopts the import worker's shared arrays as the page
// does (TraceStore.adoptShared): no row is copied, and it reads only rows it was told are final.
//
//   import worker → checks worker   rows {length, clampedCount, kinds, tsNs, columns, strings?}
//                                   end                       (no rows follow: answer)
//   checks worker → import worker   findings {findings, ms}   (over every row told; ms: wall ms
//                                                             feeding the checkers, for the bench)
//
// ChecksMirror is that worker's whole job, written without the Worker API so tests run it in
// process (localChecks); portChecks is the import worker's end of the real one.

import { TraceStore, type SharedRows } from '../trace/store.ts';
import { FindingsTracker } from './findings-tracker.ts';
import type { WorkerFindings } from './import-protocol.ts';

export type ChecksRequest = ({ type: 'rows'; strings?: string[] } & SharedRows) | { type: 'end' };
export interface ChecksReply { type: 'findings'; findings: WorkerFindings; ms: number }

/** The checkers over a store that mirrors another thread's shared columns. */
export class ChecksMirror {
  private readonly store = new TraceStore();
  private readonly tracker = new FindingsTracker();
  /** Wall ms feeding the checkers and computing the findings. */
  ms = 0;

  /** Rows up to view.length are final: the new ones are fed (strings: what the table gained before them). */
  rows(view: SharedRows, strings?: readonly string[]): void {
    const t0 = performance.now();
    if (strings) for (const s of strings) this.store.strings.intern(s);
    const from = this.store.length;
    this.store.adoptShared(view);
    this.tracker.feed(this.store, from, this.store.length, 0);
    this.ms += performance.now() - t0;
  }

  /** The findings, as the page's tracker holds them once a file is in (refresh forced). */
  result(): WorkerFindings {
    const t0 = performance.now();
    const found = this.tracker.finalFindings();
    this.ms += performance.now() - t0;
    return found;
  }

  /** One request; the reply to `end`. A request that is not one, or rows that do not extend the store, throw. */
  handle(req: ChecksRequest): ChecksReply | null {
    if (req.type === 'end') return { type: 'findings', findings: this.result(), ms: this.ms };
    const { strings, ...view } = req;
    this.rows(view, strings);
    return null;
  }
}

/** The import worker's handle on a checks worker: rows as they become final, then the findings. */
export interface RemoteChecks {
  /** Rows [.., view.length) of the import worker's shared store, with the strings its table gained since the last call. */
  rows(view: SharedRows, strings?: string[]): void;
  /** The findings over every row sent (rejects if the checks worker failed: the page then checks the rows itself). */
  result(): Promise<ChecksReply>;
  close(): void;
}

/** A ChecksMirror in this thread, fed structured clones as a port would be: for tests, and where no nested worker can start. */
export function localChecks(): RemoteChecks {
  const mirror = new ChecksMirror();
  let failed: unknown = null;
  return {
    rows(view, strings) {
      if (failed) return;
      try {
        mirror.handle(structuredClone({ type: 'rows', ...view, ...(strings ? { strings } : {}) }));
      } catch (err) {
        failed = err;
      }
    },
    result: () => (failed ? Promise.reject(failed) : Promise.resolve(mirror.handle({ type: 'end' })!)),
    close() {},
  };
}

export interface PortLike {
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  postMessage(msg: ChecksRequest): void;
  terminate(): void;
}

/** The import worker's end of a checks worker (checks-worker.ts) started by `start`. */
export function portChecks(start: () => PortLike): RemoteChecks {
  const port = start();
  let settle: { ok: (r: ChecksReply) => void; fail: (e: Error) => void } | null = null;
  let failed: Error | null = null;
  const fail = (e: Error): void => {
    failed ??= e;
    settle?.fail(e);
    settle = null;
  };
  port.onmessage = (ev) => {
    const m = ev.data as Partial<ChecksReply> & { type?: string; message?: string };
    if (m?.type === 'findings' && m.findings && typeof m.ms === 'number') {
      settle?.ok(m as ChecksReply);
      settle = null;
    } else fail(new Error(`checks worker: ${typeof m?.message === 'string' ? m.message : 'malformed reply'}`));
  };
  port.onerror = (ev) => {
    ev.preventDefault?.();
    fail(new Error(`checks worker failed: ${ev.message || 'unknown error'}`));
  };
  return {
    rows(view, strings) {
      if (!failed) port.postMessage({ type: 'rows', ...view, ...(strings ? { strings } : {}) });
    },
    result() {
      if (failed) return Promise.reject(failed);
      const reply = new Promise<ChecksReply>((ok, failWith) => { settle = { ok, fail: failWith }; });
      port.postMessage({ type: 'end' });
      return reply;
    },
    close: () => port.terminate(),
  };
}
