// Opening a file in the page (FileSession over the page's AppStore, with a scripted import worker):
// the file loads apart and is shown only when whole; a failure leaves the trace, the view and the
// live stream as they were and says why; one that stopped part way is held for the user to view.
import { describe, expect, it } from 'vitest';
import { TraceStore } from '../trace/store.ts';
import { encodeBatch } from '../trace/wire.ts';
import { AppStore } from './app-store.ts';
import { FileSession } from './file-session.ts';
import type { WsClient } from './ws-client.ts';
import type { FrameScheduler } from '../views/host.ts';
import { FakeWorker } from './testing-import.ts';
import { typed } from '../trace/testing/events.ts';

const fakeScheduler = (): FrameScheduler => ({ markDirty() {}, scheduleAction(a) { a(); }, addRenderer: () => () => {} });

class FakeClient {
  started = true;
  stops = 0;
  start(): void { this.started = true; }
  stop(): void { this.started = false; this.stops++; }
}


/** `n` write syscalls (begin + end) of task `task`, from `t0Ns` on. */
function rows(n: number, task: string, t0Ns = 1000): TraceStore {
  const s = new TraceStore();
  for (let i = 0; i < n; i++) {
    s.append(typed({ kind: 'app_op_begin', tsNs: t0Ns + i * 100, task, op: 'write', path: '/a', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 }));
    s.append(typed({ kind: 'app_op_end', tsNs: t0Ns + i * 100 + 50, task, op: 'write', fd: 3, ret: 1 }));
  }
  return s;
}
const frameOf = (s: TraceStore): ArrayBuffer => encodeBatch(s, 0, s.length, 0).frame.slice().buffer as ArrayBuffer;

function page() {
  const app = new AppStore(fakeScheduler(), () => 0);
  const client = new FakeClient();
  const worker = new FakeWorker();
  const session = new FileSession(app, client as unknown as WsClient, () => worker, '', () => Promise.reject(new Error('no fetch')));
  // A live trace of 3 syscalls (6 rows), an area selected and a search typed on it.
  app.resetTrace(0n);
  app.ingestBatch(new Uint8Array(frameOf(rows(3, 'live/1'))));
  app.setArea(1000, 1200);
  app.view.setQuery('live');
  app.view.setTheme('dark');
  return { app, client, worker, session };
}
const blob = (text: string): { name: string; blob: Blob } => ({ name: 'bad.txt', blob: new Blob([text]) });

describe('FileSession over the page', () => {
  it('a file with nothing usable leaves the live trace, its view state and the stream as they were, and says why with the lines', () => {
    const { app, client, worker, session } = page();
    const generation = app.traceGeneration;
    session.openFiles([blob('# tracer: nop\nxx\n')]);
    expect(app.loading).not.toBeNull(); // the progress is shown over the live trace
    expect(client.stops).toBe(0);
    const id = worker.requests[0]!.id;
    worker.send({ type: 'start', id, originNs: '0', kind: 'import', label: 'bad.txt', meta: {}, expectedEvents: 0 });
    worker.send({ type: 'done', id, events: 0, diags: ['bad.txt:2:1: not an ftrace event line: "xx"'], diagCount: 1, damage: '' });
    expect([app.trace.length, app.traceGeneration, app.status.sourceKind, client.stops]).toEqual([6, generation, 'live', 0]);
    expect([app.areaFromNs, app.areaToNs, app.view.query]).toEqual([1000, 1200, 'live']);
    expect(app.loading).toBeNull();
    expect(app.status.importProblem).toEqual({
      label: 'bad.txt', message: 'nothing usable to import from bad.txt: no events',
      diagLines: ['bad.txt:2:1: not an ftrace event line: "xx"'], diagCount: 1, keptEvents: 0,
    });
    expect(session.busy).toBe(false);
  });

  it('a worker error before any row leaves the trace; its diagnostics are shown', () => {
    const { app, worker, session } = page();
    session.openFiles([blob('eggs\n')]);
    const id = worker.requests[0]!.id;
    worker.send({ type: 'error', id, message: 'nothing to import: no file was recognised', diags: ['bad.txt:1: no known format'], diagCount: 1 });
    expect(app.trace.length).toBe(6);
    expect(app.status.importProblem).toMatchObject({ message: 'nothing to import: no file was recognised', diagLines: ['bad.txt:1: no known format'], keptEvents: 0 });
  });

  it('a whole file is shown: the stream detached, the per-trace view state reset, the theme kept', () => {
    const { app, client, worker, session } = page();
    session.openFiles([{ name: 'ok.txt', blob: new Blob(['x']) }]);
    const id = worker.requests[0]!.id;
    worker.send({ type: 'start', id, originNs: '0', kind: 'import', label: 'ok.txt', meta: {} });
    worker.send({ type: 'batch', id, frame: frameOf(rows(5, 'dd/7', 2000)) });
    expect(app.trace.length).toBe(6); // not shown until it is whole
    worker.send({ type: 'done', id, events: 10, diags: [], diagCount: 0, damage: '' });
    expect([app.trace.length, app.status.sourceKind, app.status.file?.label, client.stops]).toEqual([10, 'file', 'ok.txt', 1]);
    expect(Number.isNaN(app.areaFromNs)).toBe(true);
    expect([app.view.query, app.view.theme, app.status.importProblem]).toEqual(['', 'dark', null]);
    // The replay spans the file: 2000 ns to the last end, 2000 + 4·100 + 50.
    expect([app.replay.playhead.startNs, app.replay.playhead.endNs]).toEqual([2000, 2450]);
  });

  it('a damaged recording is held: the previous trace stays until the user views the rows read before the damage', () => {
    const { app, client, worker, session } = page();
    session.openFiles([{ name: 'r.fscope', blob: new Blob(['x']) }]);
    const id = worker.requests[0]!.id;
    worker.send({ type: 'start', id, originNs: '0', kind: 'recording', label: 'r.fscope', meta: {} });
    worker.send({ type: 'batch', id, frame: frameOf(rows(2, 'dd/7')) });
    worker.send({ type: 'done', id, events: 4, diags: ['r.fscope:0: byte 900: bad crc'], diagCount: 1, damage: 'byte 900: bad crc' });
    expect([app.trace.length, app.status.sourceKind, client.stops]).toEqual([6, 'live', 0]);
    expect(app.status.importProblem).toMatchObject({ label: 'r.fscope', message: 'r.fscope is damaged (byte 900: bad crc)', keptEvents: 4 });
    session.viewHeld();
    expect([app.trace.length, app.status.sourceKind, client.stops, app.status.importProblem]).toEqual([4, 'file', 1, null]);
  });

  it('a file that fails over an open file keeps that file; the next good one replaces it', () => {
    const { app, worker, session } = page();
    session.openFiles([{ name: 'a.txt', blob: new Blob(['x']) }]);
    let id = worker.requests[0]!.id;
    worker.send({ type: 'start', id, originNs: '0', kind: 'import', label: 'a.txt', meta: {} });
    worker.send({ type: 'batch', id, frame: frameOf(rows(4, 'dd/7')) });
    worker.send({ type: 'done', id, events: 8, diags: [], diagCount: 0, damage: '' });
    app.setArea(1000, 1100);
    session.openFiles([blob('zz')]);
    id = worker.requests[1]!.id;
    worker.send({ type: 'error', id, message: 'nothing to import' });
    expect([app.trace.length, app.status.file?.label, app.areaFromNs]).toEqual([8, 'a.txt', 1000]);
  });
});
