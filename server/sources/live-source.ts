// The one shape of a live event source: the simulator (sim.ts), the instrumentation socket
// (instrument.ts) and the tracefs capture (server/capture/tracefs-capture.ts). The hub (hub/live-session.ts) and the record
// command consume only this.
//
//   owner ──start(sink, signal)──► source ──event()…event() flush()──► sink   (one batch per flush)
//                                         └─end(error?)──────────────► sink   (ended by itself)
//   owner ──abort()──► signal: the source stops at once, releases what the run holds (timers,
//                       sockets, child processes), the start() promise resolves; no sink call follows.
//
// What only some sources can do is an optional capability the owner checks for (`controls`),
// never a method every source must stub.

import type { TraceEvent } from '../../src/trace/schema.ts';

export interface LiveSourceInfo {
  /** Shown to the user (`hello.source`, recording meta): e.g. `sim:NAME:seed=1`, `instrument:unix:/x`. */
  readonly label: string;
  /** Trace ns the source yields per wall second at speed 1 (1e9 for a source in real time). */
  readonly paceNsPerSec: number;
}

export interface LiveSink {
  /** One event, in nondecreasing tsNs; it belongs to the batch the next flush() closes. */
  event(ev: TraceEvent): void;
  /** Closes a batch (a tick's worth): what event() got since the last flush goes out now. */
  flush(): void;
  /**
   * The source ended by itself (scenario finished, listener closed): no further calls. With
   * `error`, it failed; the source has already sent what it could (a diag event, if it had one).
   */
  end(error?: string): void;
}

/** Pause and pace: the simulator has both; a real-time source may offer pause only. */
export interface PaceControls {
  /** A paused source yields nothing; what arrives meanwhile is held (or dropped and counted). */
  setPaused(paused: boolean): void;
  /** Virtual-time multiplier on paceNsPerSec; absent for a source that runs in real time. */
  setSpeed?(speed: number): void;
}

export interface LiveSource {
  readonly info: LiveSourceInfo;
  readonly controls?: PaceControls;
  /**
   * Runs until the source ends (after sink.end) or `signal` aborts; never rejects: a failure is
   * `sink.end(message)`. One run at a time; a source that can run again may be started after.
   */
  start(sink: LiveSink, signal: AbortSignal): Promise<void>;
  /**
   * While running: every event of this run with a time below this (ns, the source's axis) has been
   * given to the sink. A source that cannot say leaves it out; a merge of sources
   * (server/capture/workloads.ts MergedSource) then waits a fixed time for it instead.
   */
  deliveredNs?(): number;
}
