// The parts behind AppStore on their own: each changes only its own state and tells its owner
// through `changed(notify)` — React hears of what it shows, the canvas alone of the range.
import { describe, expect, it } from 'vitest';
import { TraceStore } from '../trace/store.ts';
import { encodeBatch } from '../trace/wire.ts';
import { TraceSession } from './trace-session.ts';
import { ViewState } from './view-state.ts';
import { Replay } from './replay.ts';
import { SourceStatus } from './source-status.ts';
import { typed } from '../trace/testing/events.ts';

/** A write by dd/1 from 1000 to 3000 ns, as one wire batch. */
function oneWrite(): Uint8Array {
  const server = new TraceStore();
  server.append(typed({ kind: 'app_op_begin', tsNs: 1000, task: 'dd/1', op: 'write', path: '/a', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 }));
  server.append(typed({ kind: 'app_op_end', tsNs: 3000, task: 'dd/1', op: 'write', fd: 3, ret: 1 }));
  return encodeBatch(server, 0, 2, 0).frame;
}

function spy(): { changed: (notify: boolean) => void; calls: boolean[] } {
  const calls: boolean[] = [];
  return { changed: (n) => calls.push(n), calls };
}

describe('AppStore parts', () => {
  it('ViewState: a user zoom turns follow off and notifies; a programmatic range only redraws', () => {
    const s = spy();
    const view = new ViewState(new TraceSession(), s.changed, () => 5000);
    expect(view.followLive).toBe(true);
    view.setRange(0, 1000, false);
    view.setRange(100, 1100, true);
    view.setRange(200, 1200, true);
    expect(s.calls).toEqual([false, true, false]);
    expect(view.followLive).toBe(false);
    // Without a follow source (a compare side) it starts, and stays, not following.
    const side = new ViewState(new TraceSession(), spy().changed, null);
    side.setFollowLive(true);
    expect(side.followLive).toBe(false);
  });

  it('TraceSession: a batch is data only (no React), a selection asked for before its row arrives is taken when it does', () => {
    const s = spy();
    const data = new TraceSession();
    const view = new ViewState(data, s.changed, null);
    view.selectRow(0); // the write's begin row: not there yet
    expect([view.selectedRow, view.pendingRow]).toEqual([-1, 0]);
    expect(data.ingest(oneWrite(), true)).toBe(false);
    view.selectPendingIfArrived();
    expect([view.selectedRow, view.selectedSpanId, view.pendingRow]).toEqual([0, 0, -1]);
    expect(data.receivedEvents).toBe(2);
  });

  it('Replay: inert without a file; with one, seek clamps to the file and the view follows the playhead', () => {
    const s = spy();
    const data = new TraceSession();
    let replay: Replay | null = null;
    const view = new ViewState(data, s.changed, (w) => Math.max(replay!.playhead.playheadNs, data.trace.startNs + Math.min(w, data.trace.endNs - data.trace.startNs)));
    replay = new Replay(view, () => 0, s.changed);
    replay.play();
    replay.seek(2000);
    expect(replay.playheadNs).toBeNaN();
    expect(s.calls).toEqual([]);

    data.ingest(oneWrite(), false);
    replay.begin();
    replay.extend(data.trace); // loaded: the playhead at the end, the whole file in view
    expect(replay.playhead).toMatchObject({ startNs: 1000, endNs: 3000, playheadNs: 3000, playing: false });
    expect([view.viewStartNs, view.viewEndNs]).toEqual([1000, 3000]);
    replay.seek(99_999);
    expect(replay.playheadNs).toBe(3000);
    replay.seek(0);
    expect([replay.playheadNs, replay.readoutNs]).toEqual([1000, 1000]);
    expect(s.calls).toEqual([true, true]);
    replay.end();
    expect(replay.playheadNs).toBeNaN();
  });

  it('SourceStatus: counters change only when the figures do; a failed file says why', () => {
    const s = spy();
    let nowMs = 0;
    const status = new SourceStatus(s.changed, () => nowMs);
    expect(status.refreshCounters(0, 0)).toBe(false);
    nowMs = 500;
    expect(status.refreshCounters(1000, 10)).toBe(true);
    expect([status.eventCount, status.spanCount, status.eventsPerSec]).toEqual([1000, 10, 2000]);
    status.beginFile({ label: 'x.fscope', kind: 'recording', recordingName: 'x.fscope' });
    expect([status.sourceKind, status.importStatus.phase]).toEqual(['file', 'reading']);
    status.failFile('HTTP 404');
    expect([status.importStatus.phase, status.lastError]).toEqual(['failed', 'HTTP 404']);
    expect(s.calls).toEqual([true]);
  });
});
