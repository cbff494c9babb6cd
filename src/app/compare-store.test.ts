import { describe, expect, it } from 'vitest';
import { TraceStore } from '../trace/store.ts';
import { encodeBatch } from '../trace/wire.ts';
import { diffStats, traceStats } from '../trace/compare.ts';
import type { TraceEvent } from '../trace/schema.ts';
import type { FrameScheduler } from '../views/host.ts';
import { ComparePair, type CompareSide } from './compare-store.ts';
import { typed } from '../trace/testing/events.ts';

function fakeScheduler(): FrameScheduler {
  return { markDirty() {}, scheduleAction(a) { a(); }, addRenderer: () => () => {} };
}

/** Two writes by dd/1, starting at `t0Ns`, each `durNs` long, `gapNs` apart. */
function writes(t0Ns: number, durNs: number, gapNs: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  for (let i = 0; i < 2; i++) {
    const t = t0Ns + i * (durNs + gapNs);
    out.push(typed({ kind: 'app_op_begin', tsNs: t, task: 'dd/1', op: 'write', path: '/a', fd: 3, posBytes: i * 4096, lenBytes: 4096, oflags: 0 }));
    out.push(typed({ kind: 'app_op_end', tsNs: t + durNs, task: 'dd/1', op: 'write', fd: 3, ret: 4096 }));
  }
  return out;
}

function load(side: CompareSide, events: TraceEvent[], finish = true): void {
  side.beginFile({ label: side.key, kind: 'recording', recordingName: side.key });
  side.resetTrace(0n);
  const src = new TraceStore();
  src.appendAll(events);
  side.ingestBatch(encodeBatch(src, 0, src.length, 0).frame);
  if (finish) side.finishFile([], 0);
}

describe('ComparePair', () => {
  it('aligns both sides from their first event and shows both whole', () => {
    const pair = new ComparePair(fakeScheduler(), () => 0);
    load(pair.a, writes(1_000, 100, 50)); // 1000 … 1250
    load(pair.b, writes(50_000, 300, 100)); // 50000 … 50700
    expect([pair.a.anchorNs, pair.b.anchorNs]).toEqual([1_000, 50_000]);
    expect([pair.startNs, pair.endNs]).toEqual([0, 700]);
    expect([pair.a.viewStartNs, pair.a.viewEndNs]).toEqual([1_000, 1_700]);
    expect([pair.b.viewStartNs, pair.b.viewEndNs]).toEqual([50_000, 50_700]);
    expect(pair.a.axisOriginNs).toBe(1_000);
    expect(pair.a.playheadNs).toBeNaN();
  });

  it('a zoom or pan on either side moves both by the same aligned range', () => {
    const pair = new ComparePair(fakeScheduler(), () => 0);
    load(pair.a, writes(1_000, 100, 50));
    load(pair.b, writes(50_000, 300, 100));
    pair.b.setRange(50_100, 50_300, true); // as B's timeline does on a wheel zoom
    expect([pair.startNs, pair.endNs]).toEqual([100, 300]);
    expect([pair.a.viewStartNs, pair.a.viewEndNs]).toEqual([1_100, 1_300]);
    expect([pair.b.viewStartNs, pair.b.viewEndNs]).toEqual([50_100, 50_300]);
    // Once the user zoomed, more data does not refit.
    pair.sideChanged(); // what each arriving batch calls
    expect([pair.startNs, pair.endNs]).toEqual([100, 300]);
    pair.fitAll();
    expect([pair.startNs, pair.endNs]).toEqual([0, 700]);
  });

  it('the cursor on one side is drawn at the same aligned time on the other; leaving clears both', () => {
    const pair = new ComparePair(fakeScheduler(), () => 0);
    load(pair.a, writes(1_000, 100, 50));
    load(pair.b, writes(50_000, 300, 100));
    pair.a.setCursor(1_040);
    expect(pair.cursorNs).toBe(40);
    expect([pair.a.cursorNs, pair.b.cursorNs]).toEqual([1_040, 50_040]);
    expect(pair.a.cursorLine && pair.b.cursorLine).toBe(true);
    pair.b.setCursor(Number.NaN);
    expect(pair.a.cursorNs).toBeNaN();
    expect(pair.b.cursorNs).toBeNaN();
  });

  it('aligns on the span selected in each side; without both selections it says why', () => {
    const pair = new ComparePair(fakeScheduler(), () => 0);
    load(pair.a, writes(1_000, 100, 50)); // second write starts at 1150
    load(pair.b, writes(50_000, 300, 100)); // second write starts at 50400
    pair.a.select(1);
    expect(pair.alignOnSelection()).toBe(false);
    expect(pair.alignError).toMatch(/select an event in A and one in B/);
    expect(pair.mode).toBe('start');
    pair.b.select(1);
    expect(pair.alignOnSelection()).toBe(true);
    expect(pair.mode).toBe('marker');
    expect([pair.a.anchorNs, pair.b.anchorNs]).toEqual([1_150, 50_400]);
    expect([pair.a.markerNs, pair.b.markerNs]).toEqual([1_150, 50_400]);
    // The marker is aligned 0 on both sides, and the width is kept.
    expect(pair.a.viewStartNs - pair.a.anchorNs).toBe(pair.b.viewStartNs - pair.b.anchorNs);
    expect(pair.endNs - pair.startNs).toBe(700);
    expect(pair.startNs).toBeLessThanOrEqual(0);
    expect(pair.endNs).toBeGreaterThanOrEqual(0);
    pair.alignFromStart();
    expect([pair.a.anchorNs, pair.b.anchorNs]).toEqual([1_000, 50_000]);
    expect(pair.a.markerNs).toBeNaN();
  });

  it('a side never follows and has no replay; `f` on a side moves the pair (both sides)', () => {
    const pair = new ComparePair(fakeScheduler(), () => 0);
    load(pair.a, writes(1_000, 100, 50)); // second write 1150 … 1250
    load(pair.b, writes(50_000, 300, 100));
    expect(pair.a.followLive).toBe(false);
    pair.a.view.setFollowLive(true); // nothing to follow: the pair owns the range
    expect(pair.a.followLive).toBe(false);
    pair.a.select(1);
    pair.a.focusSelection(); // 100 ns span, 25 % margin each side: 1125 … 1275 in A
    expect([pair.startNs, pair.endNs]).toEqual([125, 275]);
    expect([pair.a.viewStartNs, pair.a.viewEndNs]).toEqual([1_125, 1_275]);
    expect([pair.b.viewStartNs, pair.b.viewEndNs]).toEqual([50_125, 50_275]);
  });

  it('computes the A-vs-B rows (compare.ts) once both sides have loaded', () => {
    const pair = new ComparePair(fakeScheduler(), () => 0);
    const ea = writes(1_000, 100, 50);
    const eb = writes(50_000, 300, 100);
    load(pair.a, ea);
    load(pair.b, eb, false);
    expect(pair.rows).toBeNull();
    pair.b.finishFile([], 0);
    const sa = new TraceStore();
    sa.appendAll(ea);
    const sb = new TraceStore();
    sb.appendAll(eb);
    expect(pair.rows).toEqual(diffStats(traceStats(sa), traceStats(sb)));
  });
});
