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

  it('counts traced events in the header: a task_process row (which process a task is in) is not one', () => {
    const app = new AppStore(fakeScheduler(), () => 0);
    app.resetTrace(0n);
    const server = new TraceStore();
    server.append(typed({ kind: 'task_process', tsNs: 1000, task: 'dd/7', tgid: 7 }));
    server.append(typed({ kind: 'app_op_begin', tsNs: 1000, task: 'dd/7', op: 'write', path: '/a', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 }));
    server.append(typed({ kind: 'task_process', tsNs: 2000, task: 'dd/8', tgid: 7 }));
    server.append(typed({ kind: 'app_op_end', tsNs: 3000, task: 'dd/7', op: 'write', fd: 3, ret: 1 }));
    app.ingestBatch(encodeBatch(server, 0, 4, 0).frame);
    app.tickCounters();
    expect(app.trace.length).toBe(4);
    expect(app.status.eventCount).toBe(2);
  });

  it('a file adopted over the live run gives the findings a version the live run never had, so the panel shows the file\'s findings', () => {
    // The panel keys its memo on findings.version (the facade outlives the tracker it reads). Two
    // trackers counting from 0 met at the same number, and the page kept the live run's findings
    // over the file's rows (seen: the default scenario's alias-race text on a fuse2fs capture).
    const app = new AppStore(fakeScheduler(), () => 0);
    app.resetTrace(0n);
    const staged = app.stageFile({ label: 'f.fscope', kind: 'recording', recordingName: 'f.fscope' });
    staged.resetTrace(0n);
    staged.finishFile([], 0);
    const fileVersion = staged.data.findings!.version;
    // The live run's tracker brought up to the file's count, as a few refreshes would.
    for (let i = 0; i < 10 && app.findings.version < fileVersion; i++) app.data.findings!.reset();
    const before = app.findings.version;
    app.adoptFile(staged);
    expect(app.findings.version).not.toBe(before);
    expect(app.findings.version).toBe(fileVersion);
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

  it('a late page whose hello says the server did not keep the first 1000 events: rows are stream rows from 1000, checked from there', () => {
    const app = new AppStore(fakeScheduler(), () => 0);
    app.resetTrace(0n);
    const state = { paused: false, speed: 1, scenario: 's', paceNsPerSec: 1e6 };
    app.setHello('sim', [], state, null, false, { maxBytes: 65_536, notKeptEvents: 1000, keptFromNs: 1_001_000, recorded: false });
    expect(app.status.historyNotKept).toEqual({ events: 1000, keptFromNs: 1_001_000, maxBytes: 65_536, recorded: false });
    const server = new TraceStore();
    server.append(typed({ kind: 'app_op_begin', tsNs: 1_001_000, task: 'dd/1', op: 'write', path: '/a', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 }));
    server.append(typed({ kind: 'app_op_end', tsNs: 1_003_000, task: 'dd/1', op: 'write', fd: 3, ret: 1 }));
    app.ingestBatch(encodeBatch(server, 0, 2, 0).frame);
    // Store row 1 is the stream's row 1001 (a link's sel=1001 names it); 2 events were received, none evicted here.
    expect(app.data.evictedEvents).toBe(1000);
    expect(app.data.receivedEvents).toBe(2);
    expect(app.findings.rowBase).toBe(1000);
    // The checkers take the run from row 1000 on (they refused rows not starting at 0 before).
    expect(app.findings.error).toBe('');
    app.data.refreshFindings(true);
    expect(app.findings.checkedEvents).toBe(2);
    // A hello with the whole run (or a reset) says nothing was dropped.
    app.resetTrace(0n);
    app.setHello('sim', [], state, null, false, { maxBytes: 65_536, notKeptEvents: 0, keptFromNs: null });
    expect(app.status.historyNotKept).toBeNull();
    expect(app.data.evictedEvents).toBe(0);
  });

  it("the pause button is this page's own pause, or the shared session's while driving it", () => {
    const app = new AppStore(fakeScheduler(), () => 0);
    app.setHello('sim', [], { paused: true, speed: 1, scenario: 's', paceNsPerSec: 1 }, null, false);
    expect(app.status.pausedHere).toBe(false); // a driver paused the session; this page did not pause itself
    app.status.setViewerPaused(true);
    expect(app.status.pausedHere).toBe(true);
    app.status.setViewerPaused(false);
    app.status.setDriving(true);
    expect(app.status.pausedHere).toBe(true);
  });
});
