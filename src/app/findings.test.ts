import { describe, expect, it } from 'vitest';
import { TraceStore } from '../trace/store.ts';
import { encodeBatch } from '../trace/wire.ts';
import { ev } from '../trace/testing/events.ts';
import type { TraceEvent } from '../trace/schema.ts';
import type { FrameScheduler } from '../views/host.ts';
import { runChecks } from '../trace/checks/index.ts';
import { AppStore } from './app-store.ts';

// The page's checkers (findings-tracker.ts) over a live stream whose page evicts old rows: the
// findings name stream rows, and equal those of the whole trace checked at once.

const fakeScheduler = (): FrameScheduler => ({ markDirty() {}, scheduleAction(a) { a(); }, addRenderer: () => () => {} });

/** One write syscall of a writer through its own file (nodeid 2 + i % 3, one nodeid per inode): 6 rows, no alias. */
function filler(i: number): TraceEvent[] {
  const t = i * 1000;
  const task = `writer/${100 + (i % 3)}`;
  const lock = { lock: 'i_rwsem', mode: 'W', nodeId: 2 + (i % 3), ino: 12 + (i % 3) } as const;
  return [
    ev('app_op_begin', t, task, { op: 'write' }),
    ev('lock_acquire', t + 20, task, lock),
    ev('fuse_send', t + 30, task, { unique: i + 1, nodeId: lock.nodeId }),
    ev('fuse_reply', t + 50, 'fuse2fs/9', { unique: i + 1 }),
    ev('lock_release', t + 60, task, lock),
    ev('app_op_end', t + 70, task),
  ];
}

/**
 * Two writers through nodeids 20 and 21 of one inode (ino 99): A holds its i_rwsem W from
 * t+100 to t+500, B from t+300 to t+700 — the two "exclusive" holds overlap from t+300 to t+500.
 */
function race(i: number): TraceEvent[] {
  const t = i * 1000;
  const a = { lock: 'i_rwsem', mode: 'W', nodeId: 20, ino: 99 } as const;
  const b = { lock: 'i_rwsem', mode: 'W', nodeId: 21, ino: 99 } as const;
  return [
    ev('lock_acquire', t + 100, 'racerA/7', a),
    ev('lock_acquire', t + 300, 'racerB/8', b),
    ev('lock_release', t + 500, 'racerA/7', a),
    ev('lock_release', t + 700, 'racerB/8', b),
  ];
}

/** A server store and a page fed from it in wire batches of `opsPerBatch` ops; the race is op `raceAt`. */
function liveRun(ops: number, raceAt: number, windowEvents: number, opsPerBatch = 10) {
  const server = new TraceStore();
  const app = new AppStore(fakeScheduler(), () => 0);
  app.resetTrace(0n);
  app.setWindowEvents(windowEvents);
  let known = 0;
  for (let op = 0; op < ops; op += opsPerBatch) {
    const from = server.length;
    for (let k = op; k < Math.min(ops, op + opsPerBatch); k++) server.appendAll(k === raceAt ? race(k) : filler(k));
    const b = encodeBatch(server, from, server.length, known);
    known = b.knownStrings;
    app.ingestBatch(b.frame);
  }
  app.tickCounters();
  return { server, app };
}

describe('findings in the page', () => {
  it('a live page that evicted the race still reports it, with the stream rows of its evidence, as checking the whole trace does', () => {
    // 6 rows per op: the race (op 100) is stream rows 600..603; 1 000 ops = 5 998 rows with a 1 000-row window evict it.
    const { server, app } = liveRun(1000, 100, 1000);
    expect(app.data.evictedEvents).toBeGreaterThan(604);
    const found = app.findings.list.filter((f) => f.rule === 'alias-race');
    expect(found).toHaveLength(1);
    // The overlap: B's acquire (t = 100 300) to A's release (100 500); evidence: the four lock rows.
    expect(found[0]).toMatchObject({ severity: 'error', tsNs: 100_300, durNs: 200, evidence: [600, 601, 602, 603] });
    expect(app.findings.list).toEqual(runChecks(server).findings);
    expect(app.findings.checkedEvents).toBe(server.length);
  });

  it('showing a finding whose evidence is in the page zooms to it, pins its lanes, selects its first row and opens the aliasing tab', () => {
    const { app } = liveRun(300, 250, 1000);
    const f = app.findings.list.find((x) => x.rule === 'alias-race')!;
    expect(f.evidence).toEqual([1500, 1501, 1502, 1503]);
    const base = app.data.evictedEvents;
    expect(base).toBeGreaterThan(0);
    expect(base).toBeLessThan(1500);
    app.findings.select(f);
    expect(app.findings.selected).toBe(f);
    expect(app.view.followLive).toBe(false);
    // Zoomed to the two holds (250 100 … 250 700), margins on both sides, not to the whole trace.
    expect(app.viewStartNs).toBeLessThan(250_100);
    expect(app.viewStartNs).toBeGreaterThan(249_000);
    expect(app.viewEndNs).toBeGreaterThan(250_700);
    expect(app.viewEndNs).toBeLessThan(251_800);
    expect(app.pinnedTasks).toEqual(['racerA/7', 'racerB/8']);
    expect(app.selectedRow).toBe(1500 - base);
    expect(app.view.tab).toBe('aliases');
    // Another finding unpins what this one pinned; the user's own pins stay.
    app.togglePin('writer/100');
    app.findings.select(null);
    expect(app.pinnedTasks).toEqual(['writer/100']);
  });

  it('an opened file is checked the same way: its findings once the file is in', () => {
    const server = new TraceStore();
    for (let k = 0; k < 50; k++) server.appendAll(k === 20 ? race(k) : filler(k));
    const app = new AppStore(fakeScheduler(), () => 0);
    app.beginFile({ label: 'x', kind: 'import', recordingName: '' });
    app.resetTrace(0n);
    app.ingestBatch(encodeBatch(server, 0, server.length, 0).frame);
    app.finishFile([], 0);
    expect(app.findings.list).toEqual(runChecks(server).findings);
    expect(app.findings.list.some((f) => f.rule === 'alias-race' && f.severity === 'error')).toBe(true);
  });
});

describe('FindingsTracker', () => {
  it('recomputes only when rows came, and bumps its version only when the findings changed', async () => {
    const { FindingsTracker } = await import('./findings-tracker.ts');
    const server = new TraceStore();
    for (let k = 0; k < 30; k++) server.appendAll(k === 10 ? race(k) : filler(k));
    const t = new FindingsTracker();
    t.feed(server, 0, 60, 0); // the 10 clean ops before the race
    t.refresh(true);
    expect(t.list).toEqual([]);
    t.feed(server, 60, 154, 0); // the race (4 rows) and 15 whole clean ops: no request left open
    expect(t.refresh(true)).toBe(true);
    const v = t.version;
    expect(t.list.map((f) => f.rule)).toEqual(['alias-race']);
    expect(t.refresh(true)).toBe(false); // nothing new
    t.feed(server, 154, server.length, 0); // more whole clean writes: the same findings
    expect(t.refresh(true)).toBe(false);
    expect(t.version).toBe(v);
    expect(t.checkedRows).toBe(server.length);
    t.reset();
    expect([t.list.length, t.checkedRows, t.version > v]).toEqual([0, 0, true]);
  });
});
