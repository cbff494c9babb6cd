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

  /** The trace starts over: a fresh runner, no findings. */
  reset(): void {
    this.runner = new CheckRunner();
    this.list = [];
    this.unknowns = [];
    this.fedRows = 0;
    this.checkedRows = 0;
    this.listKey = '';
    this.version++;
  }

  /**
   * Rows [fromRow, toRow) of `store`, just appended; store row r is stream row `rowBase + r`.
   * Call before an eviction replaces the store, so no row is skipped.
   */
  feed(store: TraceStore, fromRow: number, toRow: number, rowBase: number): void {
    if (toRow <= fromRow) return;
    // Pre-streaming runner API: it feeds the rows of `store` past its own row count (store rows).
    void rowBase;
    this.runner.update(store);
    this.fedRows = rowBase + toRow;
  }

  /** Recomputes the findings if rows came since the last time; returns whether they changed. */
  refresh(store: TraceStore, rowBase: number): boolean {
    if (this.fedRows === this.checkedRows) return false;
    this.checkedRows = this.fedRows;
    const found = this.runner.findings(store).map((f) => (rowBase === 0 ? f : { ...f, evidence: f.evidence.map((r) => r + rowBase) }));
    const unknowns = this.runner.unknowns(store);
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
