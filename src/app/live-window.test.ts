import { describe, expect, it } from 'vitest';
import { TraceStore } from '../trace/store.ts';
import { SPAN_KIND_NAMES, SpanIndex } from '../trace/spans.ts';
import { encodeBatch } from '../trace/wire.ts';
import { ev } from '../trace/testing/events.ts';
import type { TraceEvent } from '../trace/schema.ts';
import type { FrameScheduler } from '../views/host.ts';
import { AppStore } from './app-store.ts';
import { currentViewState } from './url-sync.ts';
import {
  DEFAULT_WINDOW_EVENTS, MAX_WINDOW_EVENTS, MIN_WINDOW_EVENTS, WindowRebuild, clampWindowEvents, evictToWindow, evictionThreshold,
  RESERVE_AFTER_ROWS, formatWindow, hardCapRows, rebuildBudget, rebuildCut, remapRow, remapSelection, shouldEvict,
} from './live-window.ts';
import { asIno } from '../trace/ids.ts';

const fakeScheduler = (): FrameScheduler => ({ markDirty() {}, scheduleAction(a) { a(); }, addRenderer: () => () => {} });

/** One syscall of op `i`: 8 rows (syscall, lock wait + hold, a FUSE request served by a server
 *  thread). Its path is new (`/f<i>`), so every batch adds strings to the table. */
function syscall(i: number): TraceEvent[] {
  const t = i * 1000;
  const task = `writer/${100 + (i % 3)}`;
  const lock = { lock: 'i_rwsem', mode: 'W', nodeId: 2 + (i % 4), ino: 12 + (i % 4) } as const;
  return [
    ev('app_op_begin', t, task, { path: `/f${i}` }),
    ev('lock_wait', t + 10, task, lock),
    ev('lock_acquire', t + 20, task, lock),
    ev('fuse_send', t + 30, task, { unique: i + 1, nodeId: lock.nodeId }),
    ev('fuse_recv', t + 40, 'fuse2fs/9', { unique: i + 1, nodeId: lock.nodeId }),
    ev('fuse_reply', t + 50, 'fuse2fs/9', { unique: i + 1 }),
    ev('lock_release', t + 60, task, lock),
    ev('app_op_end', t + 70, task),
  ];
}
const ROWS_PER_OP = 8;

/** A server-side store and an AppStore fed from it through real wire batches, as the ws client does. */
function liveSession(windowEvents: number) {
  const server = new TraceStore();
  const app = new AppStore(fakeScheduler(), () => 0);
  app.resetTrace(0n);
  app.setWindowEvents(windowEvents);
  let known = 0;
  let ops = 0;
  return {
    server, app,
    /** Appends `n` syscalls on the server and sends them to the page as one batch. */
    send(n: number): void {
      const from = server.length;
      for (let k = 0; k < n; k++) server.appendAll(syscall(ops++));
      const b = encodeBatch(server, from, server.length, known);
      known = b.knownStrings;
      app.ingestBatch(b.frame);
    },
  };
}

/** The page's row `row` is the server's row `row + evictedEvents`, field for field. */
function expectSameRows(app: AppStore, server: TraceStore, rows: number[]): void {
  for (const row of rows) expect(app.trace.get(row)).toEqual(server.get(row + app.data.evictedEvents));
}

function expectSameSpans(a: SpanIndex, b: SpanIndex): void {
  expect(a.count).toBe(b.count);
  const cols = ['startNs', 'endNs', 'kind', 'lane', 'beginRow', 'endRow'] as const;
  for (const c of cols) expect([...a[c].data.subarray(0, a.count)]).toEqual([...b[c].data.subarray(0, b.count)]);
}

describe('live window: sizes', () => {
  it('clamps the window and evicts only past window + slack', () => {
    expect(clampWindowEvents(Number.NaN)).toBe(DEFAULT_WINDOW_EVENTS);
    expect(clampWindowEvents(0)).toBe(DEFAULT_WINDOW_EVENTS);
    expect(clampWindowEvents(5)).toBe(MIN_WINDOW_EVENTS);
    expect(clampWindowEvents(1e12)).toBe(MAX_WINDOW_EVENTS);
    expect(clampWindowEvents(20_000.4)).toBe(20_000);
    expect(evictionThreshold(20_000)).toBe(25_000);
    expect(shouldEvict(25_000, 20_000)).toBe(false);
    expect(shouldEvict(25_001, 20_000)).toBe(true);
    expect(hardCapRows(20_000)).toBe(35_000); // 1.25 × window + twice the quarter window a rebuild needs
    expect(rebuildCut(25_001, 20_000)).toBe(10_001); // keeps the newest 3/4 of the window
    expect(rebuildBudget(10)).toBe(2048);
    expect(rebuildBudget(1000)).toBe(4000);
    expect(formatWindow(2_000_000)).toBe('2M');
    expect(formatWindow(500_000)).toBe('500k');
    expect(formatWindow(1234)).toBe('1234');
    expect(remapRow(5, 10)).toBe(-1);
    expect(remapRow(15, 10)).toBe(5);
    expect(remapRow(-1, 0)).toBe(-1);
  });
});

describe('live window: eviction', () => {
  it('keeps exactly the newest rows, in a store sharing the string table', () => {
    const src = new TraceStore();
    for (let i = 0; i < 50; i++) src.appendAll(syscall(i));
    const { trace, droppedRows } = evictToWindow(src, 100);
    expect(droppedRows).toBe(300);
    expect(trace.length).toBe(100);
    expect(trace.strings).toBe(src.strings);
    expect(trace.originNs).toBe(src.originNs);
    for (let row = 0; row < 100; row++) expect(trace.get(row)).toEqual(src.get(row + 300));
    expect(trace.startNs).toBe(src.tsNs[300]);
    expect(trace.endNs).toBe(src.endNs);
    // Nothing to drop: a copy of everything.
    expect(evictToWindow(src, 1000).droppedRows).toBe(0);
  });

  it('builds the next window a step at a time while the source keeps growing', () => {
    const src = new TraceStore();
    for (let i = 0; i < 50; i++) src.appendAll(syscall(i));
    const r = new WindowRebuild(src, 100);
    expect(r.step(50)).toBe(false);
    expect(r.trace.length).toBe(50);
    for (let i = 50; i < 60; i++) src.appendAll(syscall(i)); // the stream goes on
    expect(r.step(200)).toBe(false);
    expect(r.step(1e9)).toBe(true);
    const w = r.result();
    expect(w.droppedRows).toBe(100);
    expect(w.trace.length).toBe(src.length - 100);
    expect(w.trace.strings).toBe(src.strings);
    for (const row of [0, 1, 249, 250, w.trace.length - 1]) expect(w.trace.get(row)).toEqual(src.get(row + 100));
    expectSameSpans(w.spans, evictToWindow(src, src.length - 100).spans);
  });

  it('rebuilds spans and derived indexes from the kept rows only', () => {
    const src = new TraceStore();
    for (let i = 0; i < 50; i++) src.appendAll(syscall(i));
    // Cut in the middle of syscall 10, at its fuse_send (row 83): its app_op and lock spans began
    // before the cut and are gone; its request, its serve and everything after are rebuilt.
    const w = evictToWindow(src, src.length - 83);
    expect(w.droppedRows).toBe(83);
    const fresh = new SpanIndex();
    fresh.update(w.trace);
    expectSameSpans(w.spans, fresh);
    // …and equal the spans of the whole trace that begin at or after the cut, rows shifted; the
    // cut syscall's app_op and hold are in the window as begun-before spans (their ends are kept).
    const full = new SpanIndex();
    full.update(src);
    const firstKept = [...full.beginRow.data.subarray(0, full.count)].findIndex((r) => r >= 83);
    const seen = [...Array(w.spans.count).keys()].filter((id) => !w.spans.isBegunBefore(id));
    const before = [...Array(w.spans.count).keys()].filter((id) => w.spans.isBegunBefore(id));
    expect(full.count - firstKept).toBe(seen.length);
    seen.forEach((id, i) => {
      const f = firstKept + i;
      expect([w.spans.kind.data[id], w.spans.startNs.data[id], w.spans.endNs.data[id], w.spans.beginRow.data[id], w.spans.endRow.data[id]])
        .toEqual([full.kind.data[f], full.startNs.data[f], full.endNs.data[f], full.beginRow.data[f]! - 83, full.endRow.data[f]! - 83]);
    });
    expect(before.map((id) => SPAN_KIND_NAMES[w.spans.kind.data[id]!])).toEqual(['lock_hold', 'app_op']);
    for (const id of before) expect(w.spans.startNs.data[id]).toBe(w.trace.startNs);
    expect(w.spans.beginRow.data[0]).toBe(0); // the fuse_send at the cut
    expect(w.trace.kindOf(0)).toBe('fuse_send');
    // 39 whole syscalls × 5 spans (app_op, wait, hold, req, serve) + the cut one's req and serve,
    // and its app_op and hold that began before the window.
    expect(w.spans.count).toBe(39 * 5 + 2 + 2);
    for (let id = 0; id < w.spans.count; id++) expect(w.spans.beginRow.data[id]).toBeLessThan(w.trace.length);
    // Lock index: waits and holds of the kept syscalls only, with valid span ids.
    const waits = w.locks.locks.reduce((n, l) => n + l.waitIds.length, 0);
    expect(waits).toBe(39);
    for (const l of w.locks.locks) for (const id of [...l.waitIds.data.subarray(0, l.waitIds.length), ...l.holdIds.data.subarray(0, l.holdIds.length)]) expect(id).toBeLessThan(w.spans.count);
    expect(w.aliases.processedRows).toBe(w.trace.length);
  });

  it('remaps a selection by row, and clears it when its row was evicted', () => {
    const src = new TraceStore();
    for (let i = 0; i < 20; i++) src.appendAll(syscall(i));
    const spans = new SpanIndex();
    spans.update(src);
    const w = evictToWindow(src, 80);
    const kept = 20 * ROWS_PER_OP - 80;
    // A span: found again by its begin row (fuse_send of syscall 15 = row 123).
    const reqRow = 15 * ROWS_PER_OP + 3;
    const reqId = [...spans.beginRow.data.subarray(0, spans.count)].indexOf(reqRow);
    const sel = remapSelection({ spanId: reqId, row: reqRow }, w.spans, w.droppedRows);
    expect(sel.row).toBe(reqRow - kept);
    expect(w.spans.beginRow.data[sel.spanId]).toBe(sel.row);
    expect(w.trace.get(sel.row)).toEqual(src.get(reqRow));
    // A plain row (no span begins there) stays a row.
    expect(remapSelection({ spanId: -1, row: reqRow + 2 }, w.spans, w.droppedRows)).toEqual({ spanId: -1, row: reqRow + 2 - kept });
    // Evicted: cleared.
    expect(remapSelection({ spanId: 0, row: 0 }, w.spans, w.droppedRows)).toEqual({ spanId: -1, row: -1 });
    expect(remapSelection({ spanId: -1, row: -1 }, w.spans, w.droppedRows)).toEqual({ spanId: -1, row: -1 });
  });
});

describe('live window: AppStore', () => {
  it('keeps the store within its cap, builds the next window across batches, counts every event', () => {
    const W = 20_000;
    const s = liveSession(W);
    const generation = s.app.traceGeneration;
    const resets = s.app.data.resetGeneration;
    let evictionsSeen = 0;
    let batchesWhileRebuilding = 0;
    for (let b = 0; b < 100; b++) {
      s.send(100); // 800 rows per batch, each with new path strings
      expect(s.app.trace.length).toBeLessThanOrEqual(hardCapRows(W));
      expect(s.app.data.receivedEvents).toBe(s.server.length);
      expect(s.app.data.evictedEvents + s.app.trace.length).toBe(s.server.length);
      // The store's rows are exactly the server's newest rows, strings included.
      expectSameRows(s.app, s.server, [0, s.app.trace.length - 8, s.app.trace.length - 1]);
      if (s.app.data.rebuilding) batchesWhileRebuilding++;
      if (s.app.data.evictions > evictionsSeen) {
        evictionsSeen = s.app.data.evictions;
        // The rebuild started from the newest 3/4 window; what arrived meanwhile refilled it.
        expect(s.app.trace.length).toBeGreaterThan(0.75 * W);
        expect(s.app.trace.length).toBeLessThanOrEqual(W + 800);
      }
    }
    // 80 000 rows: the first rebuild starts past 25 000, each swap leaves ≈ 20 000, the next
    // starts 5 000 rows later; a rebuild of 15 000+ rows at 3 200 per 800-row batch spans batches.
    expect(s.app.data.evictions).toBeGreaterThanOrEqual(4);
    expect(batchesWhileRebuilding).toBeGreaterThanOrEqual(4 * s.app.data.evictions);
    expect(s.app.data.evictedEvents).toBe(s.server.length - s.app.trace.length);
    expect(s.app.traceGeneration).toBe(generation + s.app.data.evictions);
    expect(s.app.data.resetGeneration).toBe(resets); // not a restart
    // Strings sent after the last eviction (paths of the newest syscall) decode in the page.
    expect(s.app.trace.readField('path', s.app.trace.length - ROWS_PER_OP)).toBe(`/f${100 * 100 - 1}`);
    // Spans, built across batches and grown since, equal a fresh pairing of the kept rows.
    const fresh = new SpanIndex();
    fresh.update(s.app.trace);
    expectSameSpans(s.app.spans, fresh);
    // The counters count everything received.
    s.app.tickCounters();
    expect(s.app.status.eventCount).toBe(s.server.length);
  });

  it('reserves the whole window once past RESERVE_AFTER_ROWS, so no batch grows a store by copying', () => {
    const W = 60_000; // evictions past 75 000 rows, hard cap 105 000; the reservation comes at 65 536
    const s = liveSession(W);
    const capacities = new Set<number>();
    let reservedAt = -1;
    for (let b = 0; b < 100; b++) {
      s.send(250); // 2 000 rows a batch
      if (s.app.trace.length >= RESERVE_AFTER_ROWS && reservedAt < 0) reservedAt = b;
      if (reservedAt >= 0) capacities.add(s.app.trace.capacityRows);
    }
    expect(reservedAt).toBeGreaterThan(0);
    expect(s.app.data.evictions).toBeGreaterThanOrEqual(2);
    // The live store, and every window swapped in for it, held exactly the hard cap.
    expect([...capacities]).toEqual([hardCapRows(W)]);
    // A rebuild never ran into the cap (which would finish it in one long step).
    expect(s.app.trace.length).toBeLessThan(hardCapRows(W));
  });

  it('remaps the selection across an eviction, or clears it when it was evicted', () => {
    const s = liveSession(1000);
    s.send(150); // 1200 rows: under 1250, no eviction
    expect(s.app.data.evictions).toBe(0);
    const row = 140 * ROWS_PER_OP + 3; // a fuse_send: begins a request span
    s.app.selectRow(row);
    const spanId = s.app.selectedSpanId;
    expect(spanId).toBeGreaterThanOrEqual(0);
    const event = s.app.trace.get(row);
    s.app.setHover({ spanId, mergedCount: 1, paletteIdx: 0, clientXPx: 1, clientYPx: 1 });
    s.app.setHoverLink(0, asIno(12));
    s.send(10); // 1280 rows → keeps the newest 750 (a small window is rebuilt in one step)
    expect(s.app.data.evictions).toBe(1);
    expect(s.app.data.evictedEvents).toBe(530);
    expect(s.app.selectedRow).toBe(row - 530);
    expect(s.app.trace.get(s.app.selectedRow)).toEqual(event);
    expect(s.app.spans.beginRow.data[s.app.selectedSpanId]).toBe(s.app.selectedRow);
    expect(s.app.selectedSpanId).not.toBe(spanId); // renumbered
    // The link names the stream's row, so a restarted scenario selects the same event.
    expect(currentViewState(s.app).selectedRow).toBe(row);
    expect(s.app.hover.spanId).toBe(-1);
    expect(s.app.hoverLockIdx).toBe(-1);

    s.app.selectRow(9); // a fuse_send (stream row 539) near the window's start: evicted by the next one
    expect(s.app.trace.kindOf(9)).toBe('fuse_send');
    expect(s.app.selectedSpanId).toBeGreaterThanOrEqual(0);
    s.send(70);
    expect(s.app.data.evictions).toBe(2);
    expect([s.app.selectedRow, s.app.selectedSpanId]).toEqual([-1, -1]);
  });

  it('clamps a range that reached before the new start; following live keeps following', () => {
    const s = liveSession(1000);
    s.send(150);
    s.app.setRange(0, 20_000, true); // the first 20 syscalls; not following
    s.send(10);
    expect(s.app.data.evictions).toBe(1);
    const start = s.app.trace.startNs;
    expect(start).toBe(s.server.tsNs[530]);
    expect(s.app.viewStartNs).toBe(start);
    expect(s.app.viewEndNs - s.app.viewStartNs).toBe(20_000); // it was wholly before: moved, width kept

    s.app.setRange(start + 1000, start + 500_000, true); // inside the window; the next cut is past its start
    s.send(70);
    expect(s.app.data.evictions).toBe(2);
    expect(s.app.viewStartNs).toBe(s.app.trace.startNs);
    expect(s.app.viewEndNs).toBe(start + 500_000);

    s.app.setRange(start + 1000, start + 11_000, true);
    s.app.view.setFollowLive(true); // follows with this 10 µs width
    s.send(70);
    expect(s.app.data.evictions).toBe(3);
    s.app.view.followNow();
    expect(s.app.viewEndNs - s.app.viewStartNs).toBe(10_000);
    expect(s.app.viewEndNs).toBe(s.app.trace.endNs);
    expect(s.app.trace.endNs).toBe(s.server.endNs);
  });

  it('a smaller window evicts at once; an opened file is never evicted', () => {
    const s = liveSession(DEFAULT_WINDOW_EVENTS);
    s.send(300); // 2400 rows
    expect(s.app.data.evictions).toBe(0);
    s.app.setWindowEvents(1000); // at once, to exactly the window
    expect(s.app.data.evictions).toBe(1);
    expect(s.app.trace.length).toBe(1000);
    expectSameRows(s.app, s.server, [0, 999]);

    const file = new AppStore(fakeScheduler(), () => 0);
    file.setWindowEvents(1000);
    file.beginFile({ label: 'big.fscope', kind: 'recording', recordingName: '' });
    const server = new TraceStore();
    let known = 0;
    for (let b = 0; b < 5; b++) {
      const from = server.length;
      for (let i = 0; i < 100; i++) server.appendAll(syscall(b * 100 + i));
      const batch = encodeBatch(server, from, server.length, known);
      known = batch.knownStrings;
      file.ingestBatch(batch.frame);
    }
    expect(file.trace.length).toBe(4000);
    expect(file.data.evictions).toBe(0);
    expect(file.data.evictedEvents).toBe(0);
  });

  it('a reset starts the counts over', () => {
    const s = liveSession(1000);
    s.send(200);
    expect(s.app.data.evictedEvents).toBeGreaterThan(0);
    const resets = s.app.data.resetGeneration;
    s.app.resetTrace(0n);
    expect([s.app.data.evictedEvents, s.app.data.evictions, s.app.trace.length]).toEqual([0, 0, 0]);
    expect(s.app.data.resetGeneration).toBe(resets + 1);
    expect(s.app.data.windowEvents).toBe(1000); // the setting stays
  });
});
