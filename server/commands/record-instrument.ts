// `fusescope record --source instrument PATH|PORT [--duration-s N] -o OUT.fscope`: listens on the
// instrumentation socket (server/sources/instrument.ts) and records what arrives until `signal`
// aborts (the CLI aborts on SIGINT/SIGTERM) or the duration ends.
//
//   clients ──NDJSON──► InstrumentSource queues ──run: a batch every 50 ms──► sink → Recorder
//   (autoFlush: a chunk at least once a second, fsync once a second) ──stop──► close listener
//   (each connection ends with its `disconnected` diag) → the run drains them and ends (sink.end)
//   → Recorder.close() (final index + trailer)
//
// Time: tsNs is the source's receive clock (ns since the listener opened); originNs is the wall
// clock (CLOCK_REALTIME, ms precision) at that instant, so the recording knows when it was made.

import { existsSync } from 'node:fs';
import { Recorder } from '../recorder/recorder.ts';
import { listenInstrument, type InstrumentLimits, type InstrumentTarget } from '../sources/instrument.ts';
import type { LiveSink } from '../sources/live-source.ts';
import { UsageError } from './command.ts';

/** Longest wait for destroyed sockets to report 'close' at shutdown (normally one loop turn). */
const CLOSE_WAIT_MS = 1000;

export interface InstrumentRecordOptions {
  target: InstrumentTarget;
  out: string;
  /** Stop after this many seconds (default: only on `signal`). */
  durationS?: number;
  signal: AbortSignal;
  limits?: Partial<InstrumentLimits>;
  log?: (line: string) => void;
}

export interface InstrumentRecordResult {
  events: number;
  /** `diag` events of severity warn or error (bad lines, floods, refused connections). */
  problemDiags: number;
  connections: number;
  bytes: number;
}

export async function recordInstrument(o: InstrumentRecordOptions): Promise<InstrumentRecordResult> {
  if (existsSync(o.out)) throw new UsageError(`${o.out} exists; recordings are never overwritten`);
  if (o.durationS !== undefined && !(o.durationS > 0)) throw new UsageError('--duration-s must be > 0');
  const t0 = process.hrtime.bigint();
  const originNs = BigInt(Date.now()) * 1_000_000n;
  const listener = await listenInstrument(o.target, { limits: o.limits, clockNs: () => Number(process.hrtime.bigint() - t0), monoOriginNs: t0 });
  let rec: Recorder;
  try {
    rec = new Recorder(o.out, { originNs, autoFlush: true, checks: {}, meta: { source: listener.source.info.label, scenario: 'instrument' } });
  } catch (err) {
    await listener.close();
    throw err;
  }
  let events = 0;
  let problemDiags = 0;
  const sink: LiveSink = {
    event: (ev) => {
      rec.appendEvent(ev);
      events++;
      if (ev.kind === 'diag' && ev.severity !== 'info') problemDiags++;
    },
    flush: () => {}, // autoFlush writes a chunk at least once a second on its own timer
    end: () => {},
  };
  if (listener.token) o.log?.(`instrumentation token ${listener.token} (clients send it in the hello: "token":"…")`);
  o.log?.(`recording ${listener.address} to ${o.out}${o.durationS ? ` for ${o.durationS} s` : ''} (SIGINT/SIGTERM stops)`);
  const run = new AbortController();
  const ran = listener.source.start(sink, run.signal);
  let deadline: ReturnType<typeof setTimeout> | undefined;
  let closeWait: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((stop) => {
      if (o.signal.aborted) return stop();
      o.signal.addEventListener('abort', () => stop(), { once: true });
      if (o.durationS !== undefined) deadline = setTimeout(stop, o.durationS * 1000);
    });
  } finally {
    clearTimeout(deadline);
    try {
      // Closing the listener ends the connections; the run drains their last events (the
      // `disconnected` diags arrive a loop phase later) and ends by itself, or is cut after CLOSE_WAIT_MS.
      await listener.close();
      closeWait = setTimeout(() => run.abort(), CLOSE_WAIT_MS);
      await ran;
    } finally {
      clearTimeout(closeWait);
      run.abort();
      rec.close();
    }
  }
  return { events, problemDiags, connections: listener.source.acceptedConnections, bytes: rec.bytesWritten };
}
