// T1: events/s captured live from the kernel's tracefs, and how many were lost doing it.
//
// Workload: /usr/bin/dd copied as `fscbench` (a comm of its own), `bs=1` from /dev/zero to /dev/null:
// one read(2) and one write(2) per byte, each traced at enter and exit (4 events per byte), in
// bursts paced by a shell loop (a burst, 50 ms sleep), in steps of rising burst size. The
// capture takes exactly those four tracepoints, filtered to the comm, into a LiveSession with no
// client (what `fusescope capture --tracefs` does before any fan-out), read either way (`--reader`):
// trace_pipe's text (O_NONBLOCK, every 50 ms) → ftrace parser, or per_cpu/cpuN/trace_pipe_raw pages
// decoded by the events' formats → the same parser's records; then session batches (store append).
// cpuUsPerEvent: this process's CPU time (user + system: the kernel formats trace_pipe's text in the
// reader's read(2)) over the step ÷ events — the cost of a captured event, whatever the offered rate. A step's time runs from the
// workload's start until finish() has read and parsed the last of it; lost = ring-buffer overruns
// and drops (per_cpu stats) or the `[LOST n EVENTS]` gaps, whichever is larger. The figure is the
// highest step that lost nothing. Needs root with tracefs; otherwise the row says so.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TracefsCapture } from '../server/capture/tracefs-capture.ts';
import { LiveSession } from '../server/hub/live-session.ts';

export interface CaptureStep {
  /** Bytes each dd burst copies (4 events per byte), one burst then a 50 ms sleep, for `seconds`. */
  burstBytes: number;
  seconds: number;
  events: number;
  eventsPerSec: number;
  lost: number;
  bytesPerEvent: number;
  cpuUsPerEvent: number;
}

export interface CaptureBench {
  skipped: string | null;
  steps: CaptureStep[];
}

/** One capture while `sh` runs dd bursts of `burstBytes` with 50 ms sleeps for `seconds`. */
async function step(writer: string, burstBytes: number, seconds: number, reader: 'raw' | 'text'): Promise<CaptureStep> {
  const capture = TracefsCapture.open({
    reader,
    events: ['read', 'write'].flatMap((s) => [`syscalls:sys_enter_${s}`, `syscalls:sys_exit_${s}`]).join(','),
    comms: ['fscbench'],
  });
  try {
    const session = new LiveSession({ scenarios: [{ name: 'tracefs', description: '' }], scenario: 'tracefs', makeSource: () => capture.source });
    let events = 0;
    session.addListener({ onBatch: (_b, from, to) => { events += to - from; } });
    session.start();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    // The load is paced by the shell, not by this process: a capture that falls behind cannot slow it.
    const script = `end=$(($(date +%s) + ${seconds})); while [ $(date +%s) -lt $end ]; do "$0" if=/dev/zero of=/dev/null bs=1 count=${burstBytes} status=none; sleep 0.05; done`;
    const sh = spawn('sh', ['-c', script, writer], { stdio: 'ignore' });
    await new Promise((r) => sh.once('exit', r));
    // finish() reads what the live run has not yet taken, up to the last event.
    const r = capture.finish();
    const sec = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    session.stop();
    if (r.restoreProblems.length > 0) throw new Error(`tracefs not restored: ${r.restoreProblems.join('; ')}`);
    // The [LOST n] gaps report what the overrun counters count: the larger of the two, not their sum.
    const lost = Math.max(r.overrun + r.droppedEvents, r.lostInGaps);
    return { burstBytes, seconds, events, eventsPerSec: events / sec, lost, bytesPerEvent: r.bytesRead / Math.max(1, events), cpuUsPerEvent: (cpu.user + cpu.system) / Math.max(1, events) };
  } finally {
    capture.restore();
  }
}

/**
 * Steps of rising load (bursts of `bursts[i]` bytes) until one loses events; the figure is the
 * last step that lost none.
 */
export async function tracefsCaptureFigure(bursts: readonly number[], seconds: number, reader: 'raw' | 'text' = 'text'): Promise<CaptureBench> {
  if (process.getuid?.() !== 0) return { skipped: 'not root', steps: [] };
  if (!existsSync('/sys/kernel/tracing/events/syscalls') && !existsSync('/sys/kernel/tracing/events')) return { skipped: 'no tracefs', steps: [] };
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-bench-capture-'));
  const writer = join(dir, 'fscbench');
  copyFileSync('/usr/bin/dd', writer);
  const steps: CaptureStep[] = [];
  try {
    for (const b of bursts) {
      const s = await step(writer, b, seconds, reader);
      steps.push(s);
      if (s.lost > 0) break;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { skipped: null, steps };
}
