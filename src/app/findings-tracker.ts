// The protocol checkers (src/trace/checks) over the page's trace: one CheckRunner per trace, fed
// every batch as it is appended — live or from an opened file, so a file and a live run of the
// same rows give the same findings. Evidence rows are *stream* rows (a live page evicts old rows:
// store row r is stream row r + evictedEvents), so findings outlive evictions; the panel maps
// them back and says when one was evicted. `findings()` is recomputed only at the counter rate
// (refresh), never per batch: it is cheap but not free, and React re-renders on its version.

import { CheckRunner, type Finding, type Unknown } from '../trace/checks/index.ts';
import type { TraceStore } from '../trace/store.ts';

export class FindingsTracker {
  private runner = new CheckRunner();
  /** The findings of the rows checked, in the runner's order (time); evidence as stream rows. */
  list: readonly Finding[] = [];
  unknowns: readonly Unknown[] = [];
  /** Bumped whenever `list` / `unknowns` were recomputed with a different result. */
  version = 0;
  /** Stream rows fed to the runner, and how many of them `list` covers. */
  fedRows = 0;
  checkedRows = 0;
  private listKey = '';
  /** A checker threw: checking stopped (the page goes on); said in the panel. '' when none. */
  error = '';

  /** The trace starts over: a fresh runner, no findings. */
  reset(): void {
    this.runner = new CheckRunner();
    this.list = [];
    this.unknowns = [];
    this.fedRows = 0;
    this.checkedRows = 0;
    this.listKey = '';
    this.error = '';
    this.version++;
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
      this.version++;
      return;
    }
    this.fedRows = rowBase + toRow;
  }

  /** Recomputes the findings if rows came since the last time; returns whether they changed. */
  refresh(): boolean {
    if (this.fedRows === this.checkedRows) return false;
    this.checkedRows = this.fedRows;
    // The checkers keep nothing of the store: their findings name stream rows already.
    const found = this.runner.findings();
    const unknowns = this.runner.unknowns();
    // Findings are revised as rows come (a count grows, a warning becomes an error): compare whole.
    const key = JSON.stringify([found, unknowns]);
    if (key === this.listKey) return false;
    this.listKey = key;
    this.list = found;
    this.unknowns = unknowns;
    this.version++;
    return true;
  }
}
