// The data of one trace in the page: the TraceStore, its SpanIndex and derived indexes, the
// generations that say when they were replaced, the gaps counted, and the live window that keeps
// a live trace to its newest rows (live-window.ts). Batches go in here; no React, no view state.
// A window swapped in renumbers rows and spans: `onSwap` lets the owner remap what named them.

import { TraceStore, type SharedRows } from '../trace/store.ts';
import { SpanIndex } from '../trace/spans.ts';
import { KIND_CODE } from '../trace/schema.ts';
import { applyBatch, decodeBatch } from '../trace/wire.ts';
import { AliasIndex } from '../trace/derive/aliases.ts';
import { LockIndex } from '../trace/derive/locks.ts';
import { CacheIndex } from '../trace/derive/cache.ts';
import type { GapMark } from '../views/host.ts';
import { FindingsTracker } from './findings-tracker.ts';
import type { WorkerFindings } from './import-protocol.ts';
import {
  DEFAULT_WINDOW_EVENTS, WindowRebuild, clampWindowEvents, reserveLiveWindow, evictToWindow, hardCapRows, rebuildBudget, rebuildCut,
  shouldEvict, type WindowedTrace,
} from './live-window.ts';

export class TraceSession {
  trace = new TraceStore();
  spans = new SpanIndex();
  aliases = new AliasIndex();
  locks = new LockIndex();
  cache = new CacheIndex();
  /** Bumped whenever trace / spans / derived indexes are replaced: a reset, or a live-window eviction. */
  traceGeneration = 0;
  /** Bumped only when the trace starts over (hello, reset, file): row numbers restart from 0. */
  resetGeneration = 0;
  gaps: GapMark[] = [];
  missedEvents = 0;
  /** task_process rows received (evicted ones too): what a source knew of its tasks, not events it traced. */
  metadataRows = 0;
  /** Wall ms spent appending batches to the store, feeding the checkers, and updating the indexes (the bench's load phases). */
  readonly ingestMs = { store: 0, checkers: 0, indexes: 0, finish: 0, deferredCache: 0, lodTrim: 0 };
  /** A file's rows are all in and finish() has run (it runs once: on the worker's `sent`, or at done). */
  complete = false;
  /** Bumped (at the counter rate) when the derived indexes changed in a way React panels show. */
  derivedVersion = 0;

  /** A live session keeps about this many of the newest rows; older ones are evicted from the page. */
  windowEvents = DEFAULT_WINDOW_EVENTS;
  /** Rows evicted since the trace started: store row r is the stream's row r + evictedEvents. */
  evictedEvents = 0;
  /**
   * Events of the live run the server no longer kept when this page joined (its hello's history):
   * counted in evictedEvents so rows keep the stream's numbers, but never received here.
   */
  notKeptEvents = 0;
  /** Evictions since the trace started. */
  evictions = 0;
  /** The most rows the store held after a batch was appended (before an eviction it started). */
  peakRows = 0;
  /** The next window, being built while the stream goes on (null when none is under way). */
  private rebuild: WindowRebuild | null = null;

  /** The protocol checkers over this trace (null: not run, e.g. on a compare side). Replaced by adopt. */
  findings: FindingsTracker | null;
  /**
   * False while a file loads whose findings come with the worker's done (the recording's stored
   * findings, or the worker's own checkers': its start said so): its rows are not fed to them here;
   * settleChecks takes the findings, or feeds every row once if they did not come.
   */
  feedChecks = true;
  /**
   * A file shown before its findings came (the worker's `sent`; file-session.ts): the import side's
   * checkers are still going, and their findings settle this session when they come.
   */
  findingsPending = false;
  /**
   * The cache replay waits until the file is drawn: a file opened while the Mapping cache tab is
   * not shown is ingested without it (the first frame needs none of it, and on two cores it took
   * a fifth of the page's time opening 10 M events), and replayed once it is in, in slices after
   * the first frame (AppStore), or at once when a view host is asked for it (catchUpCache).
   */
  deferCache = false;
  /**
   * A file whose LOD levels keep their growth slack until its first frame is drawn (StagedFile): the
   * exact trim copies ~50 MB at 10 M events, which the first frame does not need. finish keeps it;
   * dropLodSlack gives it back (AppStore after the first frame, with the deferred cache replay).
   */
  deferLodTrim = false;

  /** finish kept the LOD levels' slack (deferLodTrim) and dropLodSlack has not run yet. */
  get lodSlackPending(): boolean {
    return this.deferLodTrim && this.complete;
  }

  constructor(private readonly onSwap: (w: WindowedTrace) => void = () => {}, checks = false) {
    this.findings = checks ? new FindingsTracker() : null;
  }

  /** Starts a fresh trace (hello, reset, a file): the server's string table restarts too. */
  reset(originNs: bigint): void {
    this.trace = new TraceStore(originNs);
    this.spans = new SpanIndex();
    this.aliases = new AliasIndex();
    this.locks = new LockIndex();
    this.cache = new CacheIndex();
    this.traceGeneration++;
    this.resetGeneration++;
    this.evictedEvents = 0;
    this.notKeptEvents = 0;
    this.evictions = 0;
    this.peakRows = 0;
    this.rebuild = null;
    this.gaps = [];
    this.missedEvents = 0;
    this.metadataRows = 0;
    this.feedChecks = true;
    this.findingsPending = false;
    this.deferCache = false;
    this.deferLodTrim = false;
    this.complete = false;
    this.findings?.reset();
  }

  /**
   * A load that skipped the checkers ends: `found` (the recording's stored findings, or the worker's
   * checkers', over these rows) become the findings; without them every row is fed to the checkers
   * now, once.
   */
  settleChecks(found: WorkerFindings | null): void {
    if (this.feedChecks) return;
    this.feedChecks = true;
    this.findingsPending = false;
    const t0 = performance.now();
    if (found) this.findings?.adoptStored(found.list, found.unknowns, found.rows ?? this.trace.length, found.error);
    else this.findings?.feed(this.trace, 0, this.trace.length, this.evictedEvents);
    this.ingestMs.checkers += performance.now() - t0;
  }

  /**
   * Takes over a file loaded apart (file-session.ts loads into a StagedFile so a failed import
   * leaves this trace as it was): its store, indexes, gaps and findings become this session's, a
   * new trace (both generations bumped). The live window setting stays; `other` must not be used after.
   */
  adopt(other: TraceSession): void {
    // A file that stopped part way (held, then viewed) never finished: its LOD is built now.
    if (other.spans.deferLod) {
      other.spans.endDeferredLod();
      other.locks.trim(other.spans);
    }
    // Findings still to come from the import side stay to come (settleChecks on this session then);
    // any other load that skipped the checkers is checked now.
    if (!other.feedChecks && !other.findingsPending) {
      other.settleChecks(null);
      other.refreshFindings(true);
    }
    this.feedChecks = other.feedChecks;
    this.findingsPending = other.findingsPending;
    this.deferCache = other.deferCache;
    this.deferLodTrim = other.deferLodTrim;
    this.trace = other.trace;
    this.spans = other.spans;
    this.aliases = other.aliases;
    this.locks = other.locks;
    this.cache = other.cache;
    this.gaps = other.gaps;
    this.missedEvents = other.missedEvents;
    this.metadataRows = other.metadataRows;
    this.findings = other.findings;
    this.complete = other.complete;
    this.traceGeneration++;
    this.resetGeneration++;
    this.evictedEvents = 0;
    this.evictions = 0;
    this.peakRows = 0;
    this.rebuild = null;
    this.derivedVersion = -1; // the next refresh tells React the derived indexes changed
  }

  /** Traced events received since the trace started, evicted ones included (the header's count: no task_process rows). */
  get receivedTracedEvents(): number {
    return this.receivedEvents - this.metadataRows;
  }

  /** Rows received since the trace started, evicted ones included. */
  get receivedEvents(): number {
    return this.evictedEvents - this.notKeptEvents + this.trace.length;
  }

  /** This (fresh) trace starts at the stream's row `notKept`: the server kept no earlier ones. */
  startAfterNotKept(notKept: number): void {
    this.notKeptEvents = notKept;
    this.evictedEvents = notKept;
    this.findings?.startAt(notKept);
  }

  /** Whether the next window is being built (for the test hooks). */
  get rebuilding(): boolean {
    return this.rebuild !== null;
  }

  /**
   * Decodes and appends one binary batch (or takes the rows the import worker appended to columns
   * it shares with this store: TraceStore.adoptShared); throws WireError (RangeError) on a malformed
   * one. A `live` store that outgrew its window (plus slack) gets the next window built alongside, a
   * step per batch, and swapped in when it has caught up. Returns whether React must hear of it (gaps, an eviction).
   */
  ingest(frame: Uint8Array | SharedRows, live: boolean, strings?: readonly string[]): boolean {
    const t0 = performance.now();
    const from = this.trace.length;
    // A recording's chunk: its new strings come beside the frame (the frame then starts after them).
    if (strings) for (const s of strings) this.trace.strings.intern(s);
    if (frame instanceof Uint8Array) applyBatch(this.trace, decodeBatch(frame));
    else this.trace.adoptShared(frame);
    if (this.trace.length > this.peakRows) this.peakRows = this.trace.length;
    const t1 = performance.now();
    this.ingestMs.store += t1 - t0;
    const gapsAdded = this.collectGaps(from);
    // Before advanceWindow: an eviction swaps the store, and the checkers must see every row.
    if (this.feedChecks) this.findings?.feed(this.trace, from, this.trace.length, this.evictedEvents);
    const t2 = performance.now();
    this.ingestMs.checkers += t2 - t1;
    this.spans.update(this.trace);
    this.aliases.update(this.trace);
    this.locks.update(this.spans, this.trace);
    if (!this.deferCache) this.cache.update(this.trace);
    this.ingestMs.indexes += performance.now() - t2;
    const evicted = live && this.advanceWindow(this.trace.length - from);
    return gapsAdded || evicted;
  }

  /** Records the gap events among rows [from, length) (counted even once evicted), and counts the task_process rows. */
  private collectGaps(from: number): boolean {
    const gapCode = KIND_CODE.gap;
    const processCode = KIND_CODE.task_process;
    const kinds = this.trace.kinds;
    let gapsAdded = false;
    for (let row = from; row < this.trace.length; row++) {
      if (kinds[row] === processCode) this.metadataRows++;
      if (kinds[row] !== gapCode) continue;
      const missed = this.trace.readField('missedEvents', row) as number;
      this.gaps.push({
        fromTsNs: this.trace.readField('fromTsNs', row) as number,
        toTsNs: this.trace.readField('toTsNs', row) as number,
        missedEvents: missed,
      });
      // -1: a trace's `[EVENTS DROPPED]` with no count; nothing to add (the gap itself is kept).
      if (missed > 0) this.missedEvents += missed;
      gapsAdded = true;
    }
    return gapsAdded;
  }

  /** Sets the live window (clamped); a smaller one evicts a `live` trace at once, down to it. Returns whether it changed. */
  setWindowEvents(n: number, live: boolean): boolean {
    const windowEvents = clampWindowEvents(n);
    if (windowEvents === this.windowEvents) return false;
    this.windowEvents = windowEvents;
    this.rebuild = null;
    if (live && shouldEvict(this.trace.length, windowEvents)) this.swapIn(evictToWindow(this.trace, windowEvents));
    return true;
  }

  /**
   * Starts building the next window when the store holds more than the window plus its slack,
   * advances it by a budget for `arrivedRows` new rows (all at once past the hard cap), and swaps it
   * in when it has caught up. Returns whether it did.
   */
  private advanceWindow(arrivedRows: number): boolean {
    reserveLiveWindow(this.trace, this.windowEvents);
    if (!this.rebuild) {
      if (!shouldEvict(this.trace.length, this.windowEvents)) return false;
      // Reserved for as many rows as the store may hold (the hard cap; spans by the rate so far), so
      // neither it nor, once swapped in, the live store it becomes grows by copying.
      const capRows = hardCapRows(this.windowEvents);
      this.rebuild = new WindowRebuild(this.trace, rebuildCut(this.trace.length, this.windowEvents), capRows, this.spans.spansFor(capRows, this.trace.length));
    }
    const r = this.rebuild;
    const budget = this.trace.length > hardCapRows(this.windowEvents) ? Infinity : rebuildBudget(arrivedRows);
    if (!r.step(budget)) return false;
    this.rebuild = null;
    this.swapIn(r.result());
    return true;
  }

  /** Makes `w` the trace; the owner remaps what names a row or a span id. */
  private swapIn(w: WindowedTrace): void {
    this.trace = w.trace;
    this.spans = w.spans;
    this.aliases = w.aliases;
    this.locks = w.locks;
    this.cache = w.cache;
    this.traceGeneration++;
    this.evictedEvents += w.droppedRows;
    this.evictions++;
    this.onSwap(w);
  }

  /**
   * A file of `totalRows` rows is loading and the rows so far show its mix: the span, lock and
   * cache indexes are sized once for all of it (reserveForRows), so none grows by copying.
   */
  reserveIndexes(totalRows: number): void {
    const rows = this.trace.length;
    this.spans.reserveForRows(totalRows, rows);
    this.locks.reserveForRows(totalRows, rows, this.spans.startNs.data.length);
    if (!this.deferCache) this.cache.reserveForRows(totalRows, rows);
  }

  /** Drops the LOD levels' growth slack finish kept (deferLodTrim); once. */
  dropLodSlack(): void {
    if (!this.lodSlackPending) return;
    this.deferLodTrim = false;
    const t0 = performance.now();
    this.spans.dropLodSlack();
    this.locks.dropLodSlack();
    this.ingestMs.lodTrim = performance.now() - t0;
  }

  /**
   * Replays up to `maxRows` more rows into a deferred cache index (deferCache); once it has every
   * row it is an ordinary index again (trimmed, if the trace is complete). Returns whether it has
   * caught up. Sized once for the rows it has still to take after its first slice, as a loading
   * file's indexes are (reserveIndexes).
   */
  catchUpCache(maxRows = Infinity): boolean {
    if (!this.deferCache) return true;
    const t0 = performance.now();
    const from = this.cache.processedRows;
    const to = Math.min(this.trace.length, from + maxRows);
    this.cache.update(this.trace, to);
    if (from === 0 && to < this.trace.length) this.cache.reserveForRows(this.trace.length, to);
    this.ingestMs.deferredCache += performance.now() - t0;
    if (to < this.trace.length) return false;
    this.deferCache = false;
    if (this.complete) this.cache.trim();
    return true;
  }

  /** The trace is complete: spans still open never end in it, and growth slack is trimmed. Once per trace. */
  finish(): void {
    if (this.complete) return;
    this.complete = true;
    const t0 = performance.now();
    this.finishIndexes();
    this.ingestMs.finish = performance.now() - t0;
  }

  private finishIndexes(): void {
    // Open spans are open-ended now (SpanIndex.markComplete).
    this.spans.markComplete();
    // Loaded completely: the growth slack of the columns and span arrays is dead weight now.
    this.trace.trim();
    this.spans.trim(this.deferLodTrim);
    this.locks.trim(this.spans, this.deferLodTrim);
    if (!this.deferCache) this.cache.trim();
  }

  /** Recomputes the findings if rows came (call at the counter rate; `force` when a file is in: no back-off); returns whether they changed. */
  refreshFindings(force = false): boolean {
    return this.findings?.refresh(force) ?? false;
  }

  /** Picks up changes of the derived indexes (call at the counter rate); returns whether they changed. */
  refreshDerivedVersion(): boolean {
    const derived = this.aliases.version + this.locks.version + this.cache.version;
    if (derived === this.derivedVersion) return false;
    this.derivedVersion = derived;
    return true;
  }
}
