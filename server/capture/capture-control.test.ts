// The capture panel's server side without root: a fake run source stands in for the workload
// (server/capture/allow-capture.cases.ts runs the real one as root).
import { describe, expect, it } from 'vitest';
import { LiveSession, type ClientSocket } from '../hub/live-session.ts';
import type { LiveSink, LiveSource } from '../sources/live-source.ts';
import { parseServerMessage, type CaptureRunStatus, type ServerMessage } from '../../src/trace/wire.ts';
import type { WorkloadHooks, WorkloadStats } from './workloads.ts';
import { CaptureControl, type RunSpec } from './capture-control.ts';

class Viewer implements ClientSocket {
  bufferedAmount = 0;
  readonly messages: ServerMessage[] = [];
  send(data: Uint8Array | string): void {
    if (typeof data !== 'string') return;
    const m = parseServerMessage(data);
    if (!m.ok) throw new Error(`the page would refuse: ${m.message}`);
    this.messages.push(m.value);
  }
  phases(): string[] {
    return this.messages.flatMap((m) => (m.type === 'capture' ? [m.capture.status.phase] : []));
  }
  last(): CaptureRunStatus {
    const m = this.messages.filter((x) => x.type === 'capture').at(-1);
    return (m as Extract<ServerMessage, { type: 'capture' }>).capture.status;
  }
}

/** A run the test drives: what the real workload source would report, step by step. */
class FakeRun implements LiveSource {
  readonly info = { label: 'fake run', paceNsPerSec: 1e9 };
  sink: LiveSink | null = null;
  stopped = 0;
  constructor(readonly spec: RunSpec, readonly seconds: number, readonly hooks: WorkloadHooks) {}
  start(sink: LiveSink, signal: AbortSignal): Promise<void> {
    this.sink = sink;
    return new Promise((ok) => {
      signal.addEventListener('abort', () => ok());
      this.resolve = ok;
    });
  }
  resolve: () => void = () => {};
  mount(): void { this.hooks.mounted?.('/tmp/fusescope-workload-x/mnt', () => { this.stopped++; this.hooks.stopping?.(); }); }
  end(error?: string, problems: string[] = [], stats: WorkloadStats = { runs: {}, failures: {}, firstError: null }): void {
    this.hooks.closed?.(problems, stats);
    this.sink!.end(error);
    this.resolve();
  }
}

function setup(): { session: LiveSession; control: CaptureControl; runs: FakeRun[]; a: Viewer; b: Viewer; clock: { ms: number } } {
  const session = new LiveSession({
    scenarios: [{ name: 'tracefs', description: '' }], scenario: 'tracefs',
    makeSource: () => ({ info: { label: 'kernel', paceNsPerSec: 1e9 }, start: (_s, signal) => new Promise((ok) => signal.addEventListener('abort', () => ok())) }),
  });
  const runs: FakeRun[] = [];
  const clock = { ms: 1_000_000 };
  const control = new CaptureControl({
    session, defaultSeconds: 5, recordingPath: () => '/rec/run.fscope', nowMs: () => clock.ms,
    makeRunSource: (spec, seconds, hooks) => {
      const r = new FakeRun(spec, seconds, hooks);
      runs.push(r);
      return r;
    },
  });
  session.start();
  const a = new Viewer();
  const b = new Viewer();
  session.attach(a);
  session.attach(b);
  return { session, control, runs, a, b, clock };
}

const req = (over: Record<string, unknown> = {}) =>
  ({ type: 'capture_start' as const, workload: 'hardlink-writers', policy: 'per-path', direct: false, seconds: 2, ...over });

describe('capture control (the page\'s capture panel, server side)', () => {
  it('hello carries what the page may start, the three workloads and both policies, idle', () => {
    const { a } = setup();
    const hello = a.messages[0]!;
    expect(hello.type).toBe('hello');
    expect(hello.type === 'hello' && hello.capture).toMatchObject({
      workloads: ['hardlink-writers', 'readers-writers', 'truncate-race'], policies: ['per-path', 'ino'],
      secondsMin: 1, secondsMax: 600, defaultSeconds: 5, status: { phase: 'idle', run: null },
    });
  });

  it('refuses an unknown workload or policy and seconds out of range, starting nothing', () => {
    const { control, runs, a } = setup();
    expect(control.start(req({ workload: 'rm -rf /' }))).toMatchObject({ code: 'bad_workload', message: expect.stringContaining('hardlink-writers, readers-writers, truncate-race') });
    expect(control.start(req({ policy: 'inode' }))).toMatchObject({ code: 'bad_policy' });
    for (const seconds of [0, -1, 601, 2.5]) expect(control.start(req({ seconds }))).toMatchObject({ code: 'bad_seconds' });
    expect(runs).toEqual([]);
    // Only the hello: no reset (the stream was not switched) and no status change.
    expect(a.messages.map((m) => m.type)).toEqual(['hello']);
    expect(control.stop()).toMatchObject({ code: 'capture_idle' });
  });

  it('a run: every viewer sees mounting → running (seconds counting) → stopping → done; a second start is refused while it runs', () => {
    const { control, runs, a, b, clock } = setup();
    expect(control.start(req({ workload: 'readers-writers', policy: 'ino', direct: true, seconds: 3 }))).toBeNull();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.spec).toEqual({ name: 'readers-writers', policy: 'ino', direct: true });
    expect(runs[0]!.seconds).toBe(3);
    // The stream switched to the run: viewers start a fresh trace.
    expect(a.messages.some((m) => m.type === 'reset' && m.state.scenario === 'workload:readers-writers:ino:direct')).toBe(true);
    expect(a.last()).toMatchObject({ phase: 'mounting', run: { workload: 'readers-writers', policy: 'ino', direct: true, seconds: 3 }, mountDir: null });
    runs[0]!.mount();
    expect(a.last()).toMatchObject({ phase: 'mounting', mountDir: '/tmp/fusescope-workload-x/mnt' });
    runs[0]!.hooks.running!();
    expect(control.start(req())).toMatchObject({ code: 'capture_busy', message: expect.stringContaining('running') });
    clock.ms += 2500;
    runs[0]!.hooks.stopping!(); // the deadline
    expect(a.last()).toMatchObject({ phase: 'stopping', elapsedMs: 2500 });
    runs[0]!.end();
    expect(a.last()).toMatchObject({ phase: 'done', elapsedMs: 2500, reason: null, recording: '/rec/run.fscope', mountDir: '/tmp/fusescope-workload-x/mnt' });
    expect(b.phases()).toEqual(a.phases());
    expect(new Set(a.phases())).toEqual(new Set(['mounting', 'running', 'stopping', 'done']));
    // A viewer arriving now is told the last run in its hello.
    const c = new Viewer();
    (control as unknown as { o: { session: LiveSession } }).o.session.attach(c);
    expect(c.messages[0]!.type === 'hello' && c.messages[0]!.capture?.status.phase).toBe('done');
    // And a new run may start.
    expect(control.start(req())).toBeNull();
    expect(runs).toHaveLength(2);
  });

  it('capture_stop ends the run early (the run unmounts) and says so; stop while mounting stops it as soon as it is mounted', () => {
    const { control, runs, a, clock } = setup();
    control.start(req({ seconds: 60 }));
    runs[0]!.mount();
    runs[0]!.hooks.running!();
    clock.ms += 1200;
    expect(control.stop()).toBeNull();
    expect(runs[0]!.stopped).toBe(1);
    expect(a.last()).toMatchObject({ phase: 'stopping', elapsedMs: 1200 });
    expect(control.stop()).toMatchObject({ code: 'capture_idle' });
    runs[0]!.end();
    expect(a.last()).toMatchObject({ phase: 'done', reason: 'stopped from the page', elapsedMs: 1200 });

    control.start(req());
    expect(control.stop()).toBeNull();
    expect(runs[1]!.stopped).toBe(0); // nothing mounted yet to stop
    runs[1]!.mount();
    expect(runs[1]!.stopped).toBe(1);
  });

  it('failed with the server\'s reason: a mount that fails, or a run that left problems', () => {
    const { control, runs, a } = setup();
    control.start(req());
    runs[0]!.end('workload hardlink-writers: mount failed: /dev/fuse: Permission denied');
    expect(a.last()).toMatchObject({ phase: 'failed', reason: 'workload hardlink-writers: mount failed: /dev/fuse: Permission denied' });
    control.start(req());
    runs[1]!.mount();
    runs[1]!.hooks.running!();
    runs[1]!.hooks.stopping!();
    runs[1]!.end(undefined, ['the server (pid 7) ended during the workload: boom']);
    expect(a.last()).toMatchObject({ phase: 'failed', reason: 'the server (pid 7) ended during the workload: boom' });
  });

  it('done, but says so when some of the workload\'s programs failed', () => {
    const { control, runs, a } = setup();
    control.start(req());
    runs[0]!.mount();
    runs[0]!.hooks.running!();
    runs[0]!.hooks.stopping!();
    runs[0]!.end(undefined, [], {
      runs: { 'fsw-writer-a': 7, 'fsw-writer-b': 6 }, failures: { 'fsw-writer-b': 2 }, firstError: 'fsw-writer-b (dd) exited 1: No space left on device',
    });
    expect(a.last()).toMatchObject({ phase: 'done', reason: '2 of 13 program runs failed, first: fsw-writer-b (dd) exited 1: No space left on device' });
  });
});
