// The live window (issue #7): a live session keeps about `windowEvents` rows in the page; older
// rows are evicted from the UI (the server's session recording keeps everything).
//
//   rows received:  0 ───────── evicted ─────────┬──────── kept: the newest ≈ windowEvents ────────┐
//                                               cut                                           length
//
// When the store holds more than windowEvents × (1 + WINDOW_SLACK) rows, a *rebuild* starts: a
// new TraceStore that will hold the rows from `cut` on (the newest KEEP_AT_START of the window),
// with its own span index and derived indexes, filled incrementally (RowCopier + the indexes'
// own incremental update()) — REBUILD_ROWS_PER_ARRIVAL rows per row that arrives, so it catches
// up while the stream keeps appending to the current store, and no frame pays for the whole
// window (pairing 2 M rows at once takes seconds). Arrivals during the rebuild refill it to about
// the window. When it has caught up, AppStore swaps it in. Cost: ≈ windowEvents rows copied and
// re-paired once per ≈ windowEvents / 2 events — amortised O(1) per event. Memory: the current
// store never passes hardCapRows (1.5 × window): past it the rebuild is finished at once.
//
// The new store shares the old one's StringTable: the server's batches carry string-id deltas
// against the connection's table, so ids must stay valid for every later batch. Strings are few
// (tasks, paths) next to rows; they are not evicted.
//
// Row numbers shift by the cut and span ids are renumbered: everything that holds a row or a span
// id (selection, hover, lock indexes) is remapped or cleared by the caller through remapRow /
// remapSelection below. Nothing here is ever applied to an opened file.

import { TraceStore } from '../trace/store.ts';
import { SpanIndex } from '../trace/spans.ts';
import { RowCopier } from '../trace/copy-rows.ts';
import { AliasIndex } from '../trace/derive/aliases.ts';
import { LockIndex } from '../trace/derive/locks.ts';
import { CacheIndex } from '../trace/derive/cache.ts';
import { spanOfRow } from '../trace/derive/relatives.ts';

export const DEFAULT_WINDOW_EVENTS = 2_000_000;
/** Smaller windows make evictions so frequent that the rebuilds dominate. */
export const MIN_WINDOW_EVENTS = 1_000;
export const MAX_WINDOW_EVENTS = 100_000_000;
/** The store may exceed the window by this fraction before an eviction trims it back. */
const WINDOW_SLACK = 0.25;
/** A rebuild copies this many rows per row that arrives meanwhile (so it converges at once). */
const REBUILD_ROWS_PER_ARRIVAL = 4;
/** …and at least this many per batch, so small batches finish it too. */
const MIN_REBUILD_STEP_ROWS = 2048;
/** A rebuild starts from the newest this fraction of the window; arrivals meanwhile refill it. */
const KEEP_AT_START = 1 - 1 / REBUILD_ROWS_PER_ARRIVAL;
/**
 * A rebuild that starts at the threshold catches up after ≈ window × KEEP_AT_START / (RPA − 1)
 * arrivals (RPA: REBUILD_ROWS_PER_ARRIVAL) — a quarter window. The hard cap sits twice that far
 * past the threshold, so batch granularity and MIN_REBUILD_STEP_ROWS never make a rebuild run
 * into it (which would finish the rest in one long step on the main thread).
 */
const HARD_CAP_MARGIN = (2 * KEEP_AT_START) / (REBUILD_ROWS_PER_ARRIVAL - 1);
/** Offered in the live controls (any value in range can come from the URL). */
export const WINDOW_CHOICES = [100_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000] as const;

/** A usable window size: an integer in [MIN, MAX]; anything else (NaN, ≤ 0) is the default. */
export function clampWindowEvents(n: number): number {
  if (!Number.isFinite(n) || n <= 0) return DEFAULT_WINDOW_EVENTS;
  return Math.min(MAX_WINDOW_EVENTS, Math.max(MIN_WINDOW_EVENTS, Math.round(n)));
}

/** Rows the store may hold before an eviction: the window plus its slack. */
export function evictionThreshold(windowEvents: number): number {
  return windowEvents + Math.ceil(windowEvents * WINDOW_SLACK);
}

export function shouldEvict(length: number, windowEvents: number): boolean {
  return length > evictionThreshold(windowEvents);
}

/** The most rows the current store may hold while a rebuild runs; past it, it is finished at once. */
export function hardCapRows(windowEvents: number): number {
  return evictionThreshold(windowEvents) + Math.ceil(windowEvents * HARD_CAP_MARGIN);
}

/**
 * A store past this many rows reserves what it will hold at once: a live one its hardCapRows, an
 * opened file's span columns (file-session.ts) what its spans per row so far predict. Growth by
 * 1.5× copies every used row (1.3 M rows of the wide store, ~95 B each: a ~150 ms stall on the main thread); a
 * reservation is zero pages the browser commits only as rows arrive. Small runs never pay it.
 */
export const RESERVE_AFTER_ROWS = 65_536;

/** Grows a live store to its window's hard cap once it passed RESERVE_AFTER_ROWS; true if it did. */
export function reserveLiveWindow(trace: TraceStore, windowEvents: number): boolean {
  const capRows = hardCapRows(windowEvents);
  if (trace.length < RESERVE_AFTER_ROWS || trace.capacityRows >= capRows) return false;
  trace.reserve(capRows - trace.length, true);
  return true;
}

/** Where a rebuild started at `length` rows cuts: it keeps the newest KEEP_AT_START of the window. */
export function rebuildCut(length: number, windowEvents: number): number {
  return Math.max(0, length - Math.round(windowEvents * KEEP_AT_START));
}

/** Rows a rebuild may copy in the step after `arrivedRows` arrived. */
export function rebuildBudget(arrivedRows: number): number {
  return Math.max(MIN_REBUILD_STEP_ROWS, REBUILD_ROWS_PER_ARRIVAL * arrivedRows);
}

/** `2M`, `500k`: the window's size in the controls. */
export function formatWindow(n: number): string {
  if (n >= 1e6 && n % 1e5 === 0) return `${n / 1e6}M`;
  if (n >= 1e3 && n % 100 === 0) return `${n / 1e3}k`;
  return String(n);
}

export interface WindowedTrace {
  trace: TraceStore;
  spans: SpanIndex;
  aliases: AliasIndex;
  locks: LockIndex;
  cache: CacheIndex;
  /** Rows of the old store not in the new one: old row r is new row r − droppedRows. */
  droppedRows: number;
}

/**
 * A store of `source`'s rows from `cut` on, and its indexes, built a step at a time while
 * `source` keeps growing. Shares source's StringTable.
 */
export class WindowRebuild {
  readonly trace: TraceStore;
  readonly spans = new SpanIndex();
  readonly aliases = new AliasIndex();
  readonly locks = new LockIndex();
  readonly cache = new CacheIndex();
  private readonly copier: RowCopier;

  /**
   * `reserveRows` / `reserveSpans`: what the new window will about hold once caught up. Reserved at
   * once, its columns never grow while the stream goes on (growth copies; see RESERVE_AFTER_ROWS).
   */
  constructor(readonly source: TraceStore, readonly cut: number, reserveRows = 0, reserveSpans = 0) {
    this.trace = new TraceStore(source.originNs, source.strings);
    if (reserveRows > 0) this.trace.reserve(reserveRows);
    if (reserveSpans > 0) this.spans.reserve(reserveSpans);
    this.copier = new RowCopier(this.trace);
  }

  /** True when it holds every row of source from the cut on. */
  get done(): boolean {
    return this.cut + this.trace.length >= this.source.length;
  }

  /** Copies and indexes up to `maxRows` more rows; returns done. */
  step(maxRows: number): boolean {
    const from = this.cut + this.trace.length;
    const to = Math.min(this.source.length, from + Math.max(0, maxRows));
    if (to > from) {
      this.copier.copy(this.source, from, to);
      this.spans.update(this.trace);
      this.aliases.update(this.trace);
      this.locks.update(this.spans, this.trace);
      this.cache.update(this.trace);
    }
    return this.done;
  }

  /** The finished window (call when done). */
  result(): WindowedTrace {
    this.trace.clampedCount = this.source.clampedCount;
    return { trace: this.trace, spans: this.spans, aliases: this.aliases, locks: this.locks, cache: this.cache, droppedRows: this.cut };
  }
}

/** A store holding the newest `keepRows` rows of `trace` (sharing its StringTable), indexes built. */
export function evictToWindow(trace: TraceStore, keepRows: number): WindowedTrace {
  const r = new WindowRebuild(trace, Math.max(0, trace.length - Math.max(0, keepRows)));
  r.step(Infinity);
  return r.result();
}

/** An old row's number after an eviction, or -1 if it was evicted (or was -1). */
export function remapRow(row: number, droppedRows: number): number {
  return row < 0 || row < droppedRows ? -1 : row - droppedRows;
}

interface Selection {
  spanId: number;
  row: number;
}

/**
 * The selection after an eviction: the row shifts, the span is found again by its begin row (a
 * selected span's row is its begin row, and a span that begins in the kept rows is rebuilt the
 * same). Cleared when the selected row was evicted — a span that began before the cut is gone
 * from the rebuilt index even if its end was kept.
 */
export function remapSelection(sel: Selection, newSpans: SpanIndex, droppedRows: number): Selection {
  const row = remapRow(sel.row, droppedRows);
  if (row < 0) return { spanId: -1, row: -1 };
  return { spanId: sel.spanId >= 0 ? spanOfRow(newSpans, row) : -1, row };
}
