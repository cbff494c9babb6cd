// The protocol checkers (src/trace/checks) over the page's trace: one CheckRunner per trace, fed
// every batch as it is appended — live or from an opened file, so a file and a live run of the
// same rows give the same findings. Evidence rows are *stream* rows (a live page evicts old rows:
// store row r is stream row r + evictedEvents), so findings outlive evictions; the panel maps
// them back and says when one was evicted. `findings()` is recomputed only at the counter rate
// (refresh), never per batch: it is cheap but not free, and React re-renders on its version.

import { CheckRunner, type Finding, type Unknown } from '../trace/checks/index.ts';
import type { TraceStore } from '../trace/store.ts';
import type { WorkerFindings } from './import-protocol.ts';

/**
 * After a recomputation that took T ms the next waits at least T × this: a trace with thousands of
 * findings (stale-mapping gives one per racing step) must not spend the page's main thread on them.
 */
const BACKOFF_FACTOR = 20;

/** Same rule, severity, time, evidence and text (figures follow from those); no allocation. */
function sameList(a: readonly Finding[], b: readonly Finding[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.rule !== y.rule || x.severity !== y.severity || x.tsNs !== y.tsNs || x.durNs !== y.durNs || x.explanation !== y.explanation
      || x.evidence.length !== y.evidence.length || x.evidence.some((r, k) => r !== y.evidence[k])) return false;
  }
  return true;
}

function sameUnknowns(a: readonly Unknown[], b: readonly Unknown[]): boolean {
  return a.length === b.length && a.every((u, i) => u.rule === b[i]!.rule && u.count === b[i]!.count && u.what === b[i]!.what);
}

/**
 * Versions come from one sequence for every tracker: the page's findings facade (app-store.ts)
 * outlives the tracker it reads (a file adopted replaces it), and React compares version numbers,
 * so a new tracker must never start at a number the old one already had (it showed the live run's
 * findings over a file's rows when they matched).
 */
let versionSeq = 0;
const nextVersion = (): number => ++versionSeq;

export class FindingsTracker {
  private runner = new CheckRunner();
  /** The findings of the rows checked, in the runner's order (time); evidence as stream rows. */
  list: readonly Finding[] = [];
  unknowns: readonly Unknown[] = [];
  /** Bumped whenever `list` / `unknowns` were recomputed with a different result. */
  version = nextVersion();
  /** Stream rows fed to the runner, and how many of them `list` covers. */
  fedRows = 0;
  checkedRows = 0;
  /** performance.now() ms before which refresh() does not recompute (BACKOFF_FACTOR). */
  private nextRefreshMs = 0;
  /** A checker threw: checking stopped (the page goes on); said in the panel. '' when none. */
  error = '';

  /** The trace starts over: a fresh runner, no findings. */
  reset(): void {
    this.runner = new CheckRunner();
    this.list = [];
    this.unknowns = [];
    this.fedRows = 0;
    this.checkedRows = 0;
    this.nextRefreshMs = 0;
    this.error = '';
    this.version = nextVersion();
  }

  /**
   * The (fresh) trace starts at stream row `streamRow`: a live page joined after the server had
   * dropped the run's first rows (its hello's history). The checkers see the run from there on.
   */
  startAt(streamRow: number): void {
    this.runner.processedRows = streamRow;
    this.fedRows = streamRow;
    this.checkedRows = streamRow;
  }

  /**
   * Rows [fromRow, toRow) of `store`, just appended; store row r is stream row `rowBase + r`.
   * Call before an eviction replaces the store, so no row is skipped.
   */
  feed(store: TraceStore, fromRow: number, toRow: number, rowBase: number): void {
    if (toRow <= fromRow || this.error) return;
    try {
      this.runner.feed(store, fromRow, toRow, rowBase);
    } catch (err) {
      // A checker's bug must not stop the trace from loading: the findings so far stay, marked incomplete.
      this.error = `checking stopped at stream row ${this.fedRows}: ${(err as Error).message}`;
      this.version = nextVersion();
      return;
    }
    this.fedRows = rowBase + toRow;
  }

  /**
   * The findings once a file is in (refresh forced), as the import side sends them with done; a
   * recomputation that throws stops checking there, said as feed says it (the page would have too).
   */
  finalFindings(): WorkerFindings {
    try {
      this.refresh(true);
    } catch (err) {
      this.error ||= `checking stopped at stream row ${this.fedRows}: ${(err as Error).message}`;
    }
    return { list: [...this.list], unknowns: [...this.unknowns], rows: this.fedRows, ...(this.error ? { error: this.error } : {}) };
  }

  /**
   * Findings found by the same checkers elsewhere over stream rows [0, rows) — a recording's stored
   * findings, or the import worker's checkers' — taken instead of feeding those rows. `error`: a
   * checker threw there (checking stopped at row `rows`, as feed says). Nothing more may be fed after them.
   */
  adoptStored(list: readonly Finding[], unknowns: readonly Unknown[], rows: number, error = ''): void {
    this.list = list;
    this.unknowns = unknowns;
    this.fedRows = rows;
    this.checkedRows = rows;
    this.runner.processedRows = rows; // in step, were rows to follow (a file gets none)
    this.error = error;
    this.version = nextVersion();
  }

  /**
   * Recomputes the findings if rows came since the last time (and the back-off allows: `force`
   * ignores it, for a file that is complete); returns whether they changed.
   */
  refresh(force = false): boolean {
    // Wall time (performance.now), whatever clock the page's owner fakes: the back-off is about real cost.
    const t0 = performance.now();
    if (this.fedRows === this.checkedRows || (!force && t0 < this.nextRefreshMs)) return false;
    this.checkedRows = this.fedRows;
    // The checkers keep nothing of the store: their findings name stream rows already.
    const found = this.runner.findings();
    const unknowns = this.runner.unknowns();
    this.nextRefreshMs = t0 + BACKOFF_FACTOR * Math.max(0, performance.now() - t0);
    // Findings are revised as rows come (a count grows, a warning becomes an error): compare whole.
    if (sameList(found, this.list) && sameUnknowns(unknowns, this.unknowns)) return false;
    this.list = found;
    this.unknowns = unknowns;
    this.version = nextVersion();
    return true;
  }
}
