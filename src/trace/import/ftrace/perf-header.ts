// The event line's header as `perf script` prints it (tools/perf/builtin-script.c,
// perf_sample__fprintf_start, then the event name and the tracepoint's print-fmt body — the same
// body text ftrace prints, so the tracepoint tables of systems/ read it unchanged):
//
//   [comm] [pid[/tid]] [[cpu]] secs.frac: system:event: body
//
// comm is `%16s` (right-aligned) or, with a call chain, `%s`; pid/tid `%5d/%-5d`, a lone pid or
// tid `%5d`; cpu `[%03d]`; time `%5lu.%06lu` (µs) or `.%09lu` with --ns; the event name is padded
// to the longest name (`%*s: `). Every field but the event and the time may be left out with -F.
// The task is `comm/tid` as in ftrace (`<...>/tid` without a comm); proc is the pid when printed.
// A line without a time is not an event here (perf script -F without `time`: no time to place it).
import { newTaskState, type TaskState } from './context.ts';
import { UNKNOWN_TASK, setUntimed, type EventHeader } from './header.ts';
import type { Line } from '../line.ts';
import { NO_TASK, type TaskId } from '../../ids.ts';

//              comm (lazy, optional)  pid      /tid          [cpu]             secs  . frac     :   system:event:
const PERF_HEADER = /^\s*(?:(\S.*?)\s+)??(?:(\d+)(?:\/(\d+))?\s+)?(?:\[(\d+)\]\s+)?(\d+)\.(\d+):\s+([\w.-]+:[\w.-]+):(?:\s+|$)/;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];

/** Does a line look like a perf script event line (detection, index.ts)? */
export function isPerfScriptLine(line: string): boolean {
  return PERF_HEADER.test(line);
}

export class PerfHeaderParser implements EventHeader {
  originNs: bigint | null = null;
  stampKind: 'secs' | 'integer' | null = null;
  tsNs = 0;
  task: TaskId = NO_TASK;
  taskState: TaskState = newTaskState('');
  pid = 0;
  proc = 0;
  /** The pid of `pid/tid` (-F pid,tid); 0 when perf printed one number (a tid or a pid: unknown which). */
  tgid = 0;
  /** perf has no trace-cmd instance buffers. */
  readonly instance = '';
  private originSec = 0;
  private originFracNs = 0;
  private readonly tasks = new Map<string, TaskState>();
  /** Pasted lines without perf's header, as HeaderParser.untimed() (header.ts). */
  untimedEvents = 0;
  private readonly unknownTask = newTaskState(UNKNOWN_TASK);

  constructor(private readonly line: Line) {}

  untimed(): void {
    setUntimed(this, this.unknownTask);
  }

  /** No known-header cache: every line is matched whole. */
  known(): number {
    return -1;
  }

  parse(commStart: number): number {
    const line = this.line;
    const text = line.str(commStart, line.le);
    const m = PERF_HEADER.exec(text);
    if (m === null) return -1;
    const [, comm, first, tid, , secs, frac] = m;
    // One number: a tid (the default field) or a pid (-F pid); with both, pid/tid.
    const tidNum = Number(tid ?? first ?? 0);
    this.pid = tidNum;
    this.proc = tid !== undefined ? Number(first) : tidNum;
    this.tgid = tid !== undefined ? Number(first) : 0;
    const name = `${comm ?? '<...>'}/${first === undefined ? '?' : tidNum}`;
    let state = this.tasks.get(name);
    if (state === undefined) this.tasks.set(name, (state = newTaskState(name)));
    this.taskState = state;
    this.task = state.name;
    const sec = Number(secs);
    const digits = Math.min(frac!.length, 9);
    const fracNs = Number(frac!.slice(0, digits)) * POW10[9 - digits]!;
    if (this.originNs === null) {
      this.originSec = sec;
      this.originFracNs = fracNs;
      this.originNs = BigInt(secs!) * 1_000_000_000n + BigInt(fracNs);
      this.stampKind = 'secs';
    }
    this.tsNs = (sec - this.originSec) * 1e9 + (fracNs - this.originFracNs);
    // The body starts after `system:event:` and its spaces; dispatch reads the name again.
    return commStart + m[0].lastIndexOf(`${m[7]!}:`);
  }
}
