// The page's capture panel, server side (`fusescope capture --tracefs --allow-capture`): the
// `capture_start` / `capture_stop` websocket messages, checked here value by value, start and stop
// one workload run at a time; every change of the run's status goes to every viewer.
//
//   capture_start → checked (workload, policy, seconds, nothing running) → the session switches to
//   the run's source (viewers get `reset`) → mounting → running (status each second) → stopping
//   (deadline or capture_stop) → done | failed (the server's reason)
//
// A run is `workloadSource` (workloads.ts) wrapped so its end is seen; the kernel's capture goes on
// under it. The http server hands these messages here only when the CLI made one of these; without
// --allow-capture they are refused there and nothing starts.
import type { CaptureControlInfo, CaptureRunStatus, ClientMessage } from '../../src/trace/wire.ts';
import type { CaptureController, CaptureRefusal } from '../http-server.ts';
import type { LiveSession } from '../hub/live-session.ts';
import type { LiveSource } from '../sources/live-source.ts';
import { NODE_POLICIES, type NodePolicy } from '../fuse/nodes.ts';
import { WORKLOADS, isWorkload, workloadScenarioName, type WorkloadHooks, type WorkloadName } from './workloads.ts';

/** A run's length from the page, whole seconds: at least one, at most ten minutes. */
export const CAPTURE_SECONDS_MIN = 1;
export const CAPTURE_SECONDS_MAX = 600;
const TICK_MS = 1000;

export interface RunSpec { name: WorkloadName; policy: NodePolicy; direct: boolean }
/** Makes the source of one run (workloadSource in the CLI; a fake in unit tests). */
export type RunSourceFactory = (spec: RunSpec, seconds: number, hooks: WorkloadHooks) => LiveSource;

export interface CaptureControlOptions {
  session: LiveSession;
  makeRunSource: RunSourceFactory;
  /** The panel's initial seconds (the CLI's --seconds, else 5). */
  defaultSeconds: number;
  /** The file the session records to now (null: not recording, or nothing written yet). */
  recordingPath: () => string | null;
  log?: (line: string) => void;
  nowMs?: () => number;
}

const IDLE: CaptureRunStatus = { phase: 'idle', run: null, elapsedMs: 0, mountDir: null, recording: null, reason: null };

export class CaptureControl implements CaptureController {
  private status: CaptureRunStatus = IDLE;
  /** Counts runs: hooks of an older run change nothing. */
  private runId = 0;
  private stopRun: (() => void) | null = null;
  private stopAsked = false;
  private runningSinceMs = 0;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private problems: string[] = [];
  /** The workload's programs that exited non-zero (the run still ran): said with `done`. */
  private programFailures: string | null = null;
  private readonly now: () => number;

  constructor(private readonly o: CaptureControlOptions) {
    this.now = o.nowMs ?? Date.now;
    o.session.setCaptureInfo(this.info);
  }

  get info(): CaptureControlInfo {
    return {
      workloads: [...WORKLOADS], policies: [...NODE_POLICIES], secondsMin: CAPTURE_SECONDS_MIN, secondsMax: CAPTURE_SECONDS_MAX,
      defaultSeconds: this.o.defaultSeconds, status: this.status,
    };
  }

  get active(): boolean {
    return this.status.phase === 'mounting' || this.status.phase === 'running' || this.status.phase === 'stopping';
  }

  start(req: Extract<ClientMessage, { type: 'capture_start' }>): CaptureRefusal {
    if (!isWorkload(req.workload)) {
      return { code: 'bad_workload', message: `unknown workload '${req.workload}': one of ${WORKLOADS.join(', ')}` };
    }
    if (!(NODE_POLICIES as readonly string[]).includes(req.policy)) {
      return { code: 'bad_policy', message: `unknown policy '${req.policy}': ${NODE_POLICIES.join(' or ')}` };
    }
    if (!Number.isInteger(req.seconds) || req.seconds < CAPTURE_SECONDS_MIN || req.seconds > CAPTURE_SECONDS_MAX) {
      return { code: 'bad_seconds', message: `seconds must be a whole number from ${CAPTURE_SECONDS_MIN} to ${CAPTURE_SECONDS_MAX} (got ${req.seconds})` };
    }
    if (this.active) {
      return { code: 'capture_busy', message: `a run is ${this.status.phase} (${this.describe()}): stop it first` };
    }
    const spec: RunSpec = { name: req.workload, policy: req.policy as NodePolicy, direct: req.direct };
    const id = ++this.runId;
    this.stopRun = null;
    this.stopAsked = false;
    this.problems = [];
    this.programFailures = null;
    this.set({ phase: 'mounting', run: { workload: spec.name, policy: spec.policy, direct: spec.direct, seconds: req.seconds }, elapsedMs: 0, mountDir: null, recording: null, reason: null });
    const mine = (): boolean => id === this.runId;
    const hooks: WorkloadHooks = {
      mounted: (mountDir, stop) => {
        if (!mine()) return;
        this.stopRun = stop;
        this.set({ mountDir });
        if (this.stopAsked) stop();
      },
      running: () => {
        if (!mine() || this.status.phase !== 'mounting') return;
        this.runningSinceMs = this.now();
        this.set({ phase: 'running' });
        this.ticker = setInterval(() => this.set({ elapsedMs: this.elapsed(), recording: this.o.recordingPath() }), TICK_MS);
        this.ticker.unref?.();
      },
      stopping: () => {
        if (!mine()) return;
        this.stopTicker();
        this.set({ phase: 'stopping', elapsedMs: this.elapsed() });
      },
      closed: (problems, stats) => {
        if (!mine()) return;
        this.problems = problems;
        const failed = Object.values(stats.failures).reduce((n, k) => n + k, 0);
        const runs = Object.values(stats.runs).reduce((n, k) => n + k, 0);
        if (failed > 0) this.programFailures = `${failed} of ${runs} program runs failed, first: ${stats.firstError ?? '?'}`;
      },
    };
    const inner = this.o.makeRunSource(spec, req.seconds, hooks);
    // The run's end: its source ends by itself (deadline, stop, failure) or is aborted (the stream
    // switched away, the capture ended).
    const wrapped: LiveSource = {
      info: inner.info,
      start: async (sink, signal) => {
        let ended = false;
        await inner.start({
          event: (ev) => sink.event(ev),
          flush: () => sink.flush(),
          end: (error) => {
            ended = true;
            sink.end(error);
            this.finish(id, error ?? null);
          },
        }, signal);
        if (!ended) this.finish(id, null, signal.aborted ? 'ended early: the stream was switched or the capture ended' : null);
      },
    };
    this.o.log?.(`page started ${workloadScenarioName(spec)} for ${req.seconds} s`);
    this.o.session.setScenario(workloadScenarioName(spec), wrapped);
    return null;
  }

  stop(): CaptureRefusal {
    if (this.status.phase === 'stopping') return { code: 'capture_idle', message: 'the run is already stopping' };
    if (!this.active) return { code: 'capture_idle', message: 'no run to stop' };
    this.stopAsked = true;
    this.o.log?.('page stopped the run');
    this.stopRun?.(); // while mounting there is nothing to stop yet: `mounted` stops it at once
    return null;
  }

  private finish(id: number, error: string | null, endedEarly: string | null = null): void {
    if (id !== this.runId || !this.active) return;
    this.stopTicker();
    const reasons = [...(error ? [error] : []), ...this.problems];
    const elapsedMs = this.status.phase === 'mounting' ? 0 : this.status.phase === 'running' ? this.elapsed() : this.status.elapsedMs;
    this.set({
      phase: reasons.length > 0 ? 'failed' : 'done', elapsedMs, recording: this.o.recordingPath(),
      reason: reasons.length > 0 ? reasons.join('; ')
        : [this.stopAsked ? 'stopped from the page' : endedEarly, this.programFailures].filter((x) => x !== null).join('; ') || null,
    });
  }

  private elapsed(): number {
    return Math.max(0, this.now() - this.runningSinceMs);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private describe(): string {
    const r = this.status.run;
    return r ? `${r.workload} ${r.policy}${r.direct ? ' O_DIRECT' : ''}` : '';
  }

  private set(change: Partial<CaptureRunStatus>): void {
    this.status = { ...this.status, ...change };
    this.o.session.setCaptureInfo(this.info);
  }

  /** Stops the status ticker (the CLI's end). */
  close(): void {
    this.stopTicker();
  }
}
