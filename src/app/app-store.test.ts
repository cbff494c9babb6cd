import { describe, expect, it } from 'vitest';
import { TraceStore } from '../trace/store.ts';
import { encodeBatch } from '../trace/wire.ts';
import { AppStore } from './app-store.ts';
import type { FrameScheduler } from '../views/host.ts';
import { typed } from '../trace/testing/events.ts';

function fakeScheduler(): FrameScheduler & { dirty: number } {
  return { dirty: 0, markDirty() { this.dirty++; }, scheduleAction(a) { a(); }, addRenderer: () => () => {} };
}

describe('AppStore', () => {
  it('ingests batches without notifying React, counts gaps, and follows the newest data', () => {
    const sched = fakeScheduler();
    const app = new AppStore(sched, () => 0);
    let notified = 0;
    app.subscribe(() => notified++);
    app.resetTrace(0n);
    notified = 0;

    const server = new TraceStore();
    server.append(typed({ kind: 'app_op_begin', tsNs: 1000, task: 'dd/1', op: 'write', path: '/a', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 }));
    server.append(typed({ kind: 'app_op_end', tsNs: 3000, task: 'dd/1', op: 'write', fd: 3, ret: 1 }));
    const first = encodeBatch(server, 0, 2, 0);
    app.ingestBatch(first.frame);
    expect(app.trace.length).toBe(2);
    expect(app.spans.count).toBe(1);
    expect(notified).toBe(0);
    expect(sched.dirty).toBeGreaterThan(0);

    server.append(typed({ kind: 'gap', tsNs: 50e6, task: '', missedEvents: 17, fromTsNs: 40e6, toTsNs: 50e6 }));
    app.ingestBatch(encodeBatch(server, 2, 3, first.knownStrings).frame);
    expect(app.data.missedEvents).toBe(17);
    expect(app.gaps).toEqual([{ fromTsNs: 40e6, toTsNs: 50e6, missedEvents: 17 }]);
    expect(notified).toBe(1);

    app.view.followNow();
    expect(app.viewEndNs).toBe(50e6);
    expect(app.viewEndNs - app.viewStartNs).toBe(app.view.followWindowNs);
  });

  it('turns follow-live off on a user zoom and keeps that width when it is turned back on', () => {
    const app = new AppStore(fakeScheduler(), () => 0);
    app.setRange(100, 1100, true);
    expect(app.followLive).toBe(false);
    expect([app.viewStartNs, app.viewEndNs]).toEqual([100, 1100]);
    app.view.setFollowLive(true);
    expect(app.view.followWindowNs).toBe(1000);
    app.setRange(0, 10, false); // programmatic: clamped to the minimum width, follow stays on
    expect(app.followLive).toBe(true);
    expect(app.viewEndNs - app.viewStartNs).toBe(100);
  });

  it('labels axes on the trace clock (originNs + tsNs) or since the first event, whichever the time mode says', () => {
    const app = new AppStore(fakeScheduler(), () => 0);
    app.resetTrace(57_464_780_453_967n);
    const server = new TraceStore();
    server.append(typed({ kind: 'app_op_begin', tsNs: 10_652_033, task: 'dd/1', op: 'write', path: '/a', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 }));
    server.append(typed({ kind: 'app_op_end', tsNs: 20_000_000, task: 'dd/1', op: 'write', fd: 3, ret: 1 }));
    app.ingestBatch(encodeBatch(server, 0, 2, 0).frame);
    // A label is tsNs − axisOriginNs: on the clock, 10_652_033 reads 57_464_791_106_000.
    expect(10_652_033 - app.axisOriginNs).toBe(57_464_791_106_000);
    app.view.setTimeMode('relative');
    expect(app.axisOriginNs).toBe(10_652_033);
    app.view.setTimeMode('absolute');
    expect(app.axisOriginNs).toBe(-57_464_780_453_967);
  });
});
