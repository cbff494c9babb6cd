// Joins a kernel trace with server-side knowledge of the same requests, by FUSE `unique`.
// fuse:fuse_request_send has no nodeid (§4.3); the libfuse debug log (or a uprobe that reads the
// fuse_in_header and became a fuse_recv) has it. On real data the join is exact (docs/fixtures.md, the real captures):
// a unique in both must have the same opcode, else it is reported and not joined.
//
//   kernel fuse_send(unique U, nodeId 0)  +  log header(unique U, nodeid N)  →  fuse_send.nodeId = N
//   kernel fuse_reply(unique U) at t      +  log entry reply(NODEID M, path) →  inode_new/lookup at t
//
// Log requests that are not in the kernel trace (before tracing started, or after it stopped) still
// give their inode events — that is where LINK/CREATE usually are — placed after the last matched
// request before them (0 if none); so do the log's other lines. Their time is not known (the log
// has none): they are on the server's task marked untimed (untimed.ts), so no figure measures them.

import type { TraceEvent } from '../schema.ts';
import type { ParseDiag } from './diagnostics.ts';
import { FUSE_LOG_LINE_NS, SERVER_TASK, type FuseLogParser } from './fuse-log.ts';
import type { NodeId } from '../ids.ts';
import { untimedLogTask } from '../untimed.ts';

interface JoinResult {
  events: TraceEvent[];
  matched: number;
  /** Kernel requests with no log entry (traced while the log was not being written). */
  kernelOnly: number;
  /** Log requests with no kernel send (outside the trace window). */
  logOnly: number;
  /** Events the log gave (inode events and its other lines). */
  logEvents: number;
  /** Of those, how many have no time (on an untimed task: no kernel reply to take a time from). */
  untimedEvents: number;
  diags: ParseDiag[];
}

export function joinWithLog(kernel: readonly TraceEvent[], log: FuseLogParser, logName: string): JoinResult {
  const diags: ParseDiag[] = [];
  const replyByUnique = new Map<number, TraceEvent & { kind: 'fuse_reply' }>();
  let matched = 0;
  let kernelOnly = 0;
  const joinedUniques = new Set<number>();
  for (const ev of kernel) {
    if (ev.kind === 'fuse_send') {
      const req = log.requests.get(ev.unique);
      if (req === undefined) {
        kernelOnly++;
        continue;
      }
      if (req.opcode !== ev.opcode) {
        if (diags.length < 100) {
          diags.push({
            source: logName, line: req.line, code: 'join_mismatch',
            message: `unique ${ev.unique}: log opcode ${req.opcode} but kernel opcode ${ev.opcode}; not joined`,
          });
        }
        continue;
      }
      if (ev.nodeId === 0) ev.nodeId = req.nodeId;
      joinedUniques.add(ev.unique);
      matched++;
    } else if (ev.kind === 'fuse_reply' && !replyByUnique.has(ev.unique)) {
      replyByUnique.set(ev.unique, ev);
    }
  }
  // Inode events in log order, at the kernel reply's time when there is one. The log's instants
  // (a server's own debug lines, unknown lines) go after the last request before them, untimed.
  const derived: TraceEvent[] = [];
  let lastTs = 0;
  let logOnly = 0;
  let untimedEvents = 0;
  let x = 0;
  for (const req of log.order) {
    for (; x < log.extra.length && log.extra[x]!.tsNs < req.line * FUSE_LOG_LINE_NS; x++, untimedEvents++) derived.push({ ...log.extra[x]!, tsNs: lastTs, task: untimedLogTask(log.extra[x]!.task) });
    const reply = joinedUniques.has(req.unique) ? replyByUnique.get(req.unique) : undefined;
    if (reply) lastTs = reply.tsNs;
    else logOnly++;
    for (const ev of log.inodeEvents(req, reply ? reply.tsNs : lastTs, reply ? reply.task : untimedLogTask(SERVER_TASK))) {
      derived.push(ev);
      if (!reply) untimedEvents++;
    }
  }
  for (; x < log.extra.length; x++, untimedEvents++) derived.push({ ...log.extra[x]!, tsNs: lastTs, task: untimedLogTask(log.extra[x]!.task) });
  return { events: mergeByTime(kernel, derived), matched, kernelOnly, logOnly, logEvents: derived.length, untimedEvents, diags };
}

/** Fills fuse_send nodeIds from fuse_recv events of the same trace (uprobe on the server). */
export function joinWithRecv(events: TraceEvent[]): number {
  const nodeIdByUnique = new Map<number, NodeId>();
  for (const ev of events) if (ev.kind === 'fuse_recv') nodeIdByUnique.set(ev.unique, ev.nodeId);
  let n = 0;
  for (const ev of events) {
    if (ev.kind === 'fuse_send' && ev.nodeId === 0) {
      const id = nodeIdByUnique.get(ev.unique);
      if (id !== undefined) {
        ev.nodeId = id;
        n++;
      }
    }
  }
  return n;
}

/** Stable merge of two time-ordered lists; on equal times `a` comes first. */
export function mergeByTime(a: readonly TraceEvent[], b: readonly TraceEvent[]): TraceEvent[] {
  const out: TraceEvent[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = b[j]!.tsNs < a[i]!.tsNs ? b[j++]! : a[i++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}
