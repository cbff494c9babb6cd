// The live join of a libfuse server's uprobes (and its -d log) with the kernel's fuse_request_*,
// by FUSE unique — what the import pipeline does after the fact (src/trace/import/join.ts,
// identity.ts), done on the stream:
//
//   kernel fuse_send(unique U, nodeId 0) … probe libfuse_recv(unique U, nodeid N) → fuse_send.nodeId = N
//   probe libfuse_reply_entry/_create(unique, nodeid N, ino I)                     → inode_lookup(N, I)
//   probe libfuse_reply_attr(unique U, st_ino I) + the recv of U (nodeid N)          → inode_lookup(N, I)
//   kernel fuse_reply(U) + the -d log's request U (entry reply NODEID, paths)       → inode_new/_lookup with path
//
// The kernel's send comes before the server reads the request, so a send with no nodeid yet is held
// (and everything after it, to keep the order) until its recv, its reply, or the end. libfuse writes
// a request's log lines before its reply, but they reach this process by a pipe that may be read
// after trace_pipe: a reply whose request the log does not have yet is held too, up to LOG_WAIT_MS
// (then its log events are left out and counted, never placed at a wrong time). Probes are
// placed on a library, so they fire in every process that maps it: only the server's threads count
// (/proc/PID/task/TID). Opcode disagreements are reported and not joined; nothing is guessed.
import { existsSync } from 'node:fs';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { asIno, asNodeId, asTaskId, NO_NODE_ID, type NodeId } from '../../src/trace/ids.ts';
import type { FuseLogParser } from '../../src/trace/import/fuse-log.ts';
import type { EventTransform } from './tracefs-capture.ts';

const PROBE_PREFIX = 'libfuse_';
const FUSE_UNKNOWN_INO = 0xffffffff;
/** Held events beyond this are let go unjoined (counted): a request the server never read cannot stall the stream. */
const MAX_HELD = 200_000;
/** How long a kernel reply waits for its request's lines in the -d log. */
const LOG_WAIT_MS = 1000;
const JOIN_TASK = asTaskId('fusescope/libfuse-join');

const ARG = new Map(['unique', 'ino', 'st_ino', 'nodeid'].map((k) => [k, new RegExp(`(?:^|\\s)${k}=(0x[0-9a-fA-F]+|\\d+)\\b`)]));

function argNum(text: string, key: string): number {
  const m = ARG.get(key)!.exec(text);
  return m ? Number(m[1]) : NaN;
}

export interface JoinCounts {
  /** Kernel sends given their nodeid by the server's recv. */
  joined: number;
  /** Kernel sends that ended (reply) or were let go with no recv seen: nodeid unknown. */
  unjoined: number;
  /** Recv/send opcode disagreements (not joined). */
  mismatched: number;
  /** (nodeid, st_ino) pairs the reply probes showed. */
  identities: number;
  /** Probe hits from other processes mapping the same library (dropped). */
  otherProcesses: number;
  /**
   * Requests the server received as a pipe fd (splice, FUSE_BUF_IS_FD: header not in memory, not
   * read); their sends are among `unjoined`.
   */
  spliced: number;
  /** Kernel replies whose request the -d log named, with inode events from it. */
  logJoined: number;
  /** Kernel replies whose request the log did not show within LOG_WAIT_MS (or by the end). */
  logLate: number;
}

export class LibfuseJoin implements EventTransform {
  readonly counts: JoinCounts = { joined: 0, unjoined: 0, mismatched: 0, identities: 0, otherProcesses: 0, spliced: 0, logJoined: 0, logLate: 0 };
  private readonly recvByUnique = new Map<number, { opcode: number; nodeId: NodeId }>();
  /** Sends waiting for their recv, by unique. */
  private readonly waiting = new Map<number, TraceEvent & { kind: 'fuse_send' }>();
  private held: TraceEvent[] = [];
  private heldFrom = 0;
  private readonly seenPairs = new Set<string>();
  private readonly serverTids = new Set<number>();
  private readonly otherTids = new Set<number>();
  private dropNextRecv = false;
  /** Replies waiting for their request in the log: unique → since (performance.now()). */
  private readonly waitingLog = new Map<number, number>();

  /** `serverPid`: the process whose probe hits count; `log`: its -d log, parsed as it comes (optional). */
  constructor(private readonly serverPid: number, private readonly log: FuseLogParser | null = null) {}

  private isServerTask(task: string): boolean {
    const tid = Number(task.slice(task.lastIndexOf('/') + 1));
    if (!Number.isInteger(tid)) return false;
    if (this.serverTids.has(tid)) return true;
    if (this.otherTids.has(tid)) return false;
    // Live: the thread is there while it runs (a probe hit is read within a poll interval).
    const mine = tid === this.serverPid || existsSync(`/proc/${this.serverPid}/task/${tid}`);
    (mine ? this.serverTids : this.otherTids).add(tid);
    return mine;
  }

  push(ev: TraceEvent, out: TraceEvent[]): void {
    // The trace's own word on a thread's process (trace_pipe's tgid column, before the thread's first
    // line): no /proc look-up, which misses a libfuse worker thread that has already exited. Only its
    // yes is taken: the kernel's pid → tgid table keeps entries of exited tasks, so a new thread may
    // be printed with the process of an older task that had its tid — a no makes the thread unknown
    // again (/proc decides at its next probe hit), never another process's.
    if (ev.kind === 'task_process') {
      const tid = Number(ev.task.slice(ev.task.lastIndexOf('/') + 1));
      if (Number.isInteger(tid) && this.serverPid > 0) {
        this.otherTids.delete(tid);
        if (ev.tgid === this.serverPid) this.serverTids.add(tid);
        else this.serverTids.delete(tid);
      }
    }
    const extra: TraceEvent[] = [];
    if (ev.kind === 'instant' && ev.name.startsWith(PROBE_PREFIX)) {
      if (!this.isServerTask(ev.task)) {
        this.counts.otherProcesses++;
        this.dropNextRecv = ev.name === 'libfuse_recv';
        return;
      }
      this.identity(ev, extra);
    } else if (ev.kind === 'fuse_recv' && this.dropNextRecv) {
      this.dropNextRecv = false;
      return;
    } else if (ev.kind === 'fuse_recv') {
      this.recv(ev);
    } else if (ev.kind === 'fuse_send' && ev.nodeId === NO_NODE_ID) {
      const r = this.recvByUnique.get(ev.unique);
      if (r !== undefined) this.fill(ev, r);
      else {
        this.waiting.set(ev.unique, ev);
        if (this.held.length === this.heldFrom) { this.held = []; this.heldFrom = 0; }
        this.held.push(ev);
        return;
      }
    } else if (ev.kind === 'fuse_reply') {
      // The server is done with it (its reply probes came before): the unique may be reused.
      this.recvByUnique.delete(ev.unique);
      const w = this.waiting.get(ev.unique);
      if (w !== undefined) {
        // Ended with no recv (an interrupted or aborted request, or a probe hit lost): nodeid unknown.
        this.waiting.delete(ev.unique);
        this.counts.unjoined++;
      }
      if (this.log !== null && !this.fromLog(ev, extra)) {
        this.waitingLog.set(ev.unique, performance.now());
        if (this.held.length === this.heldFrom) { this.held = []; this.heldFrom = 0; }
        this.held.push(ev);
        return;
      }
    }
    if (this.held.length > this.heldFrom) {
      this.held.push(ev, ...extra);
      this.release(out);
      return;
    }
    out.push(ev, ...extra);
  }

  tick(out: TraceEvent[]): void {
    if (this.held.length > this.heldFrom) this.release(out);
  }

  end(out: TraceEvent[]): void {
    this.counts.unjoined += this.waiting.size;
    this.waiting.clear();
    this.release(out, true);
    if (this.counts.mismatched > 0) {
      out.push({ kind: 'diag', tsNs: out.length > 0 ? out[out.length - 1]!.tsNs : 0, task: JOIN_TASK, severity: 'warn', code: 'join_mismatch',
        message: `${this.counts.mismatched} request(s) where the server's header and the kernel disagreed on the opcode were not joined`, file: 'libfuse', line: 0 });
    }
  }

  private recv(ev: TraceEvent & { kind: 'fuse_recv' }): void {
    const r = { opcode: ev.opcode, nodeId: ev.nodeId };
    this.recvByUnique.set(ev.unique, r);
    const w = this.waiting.get(ev.unique);
    if (w !== undefined) {
      this.waiting.delete(ev.unique);
      this.fill(w, r);
    }
  }

  private fill(send: TraceEvent & { kind: 'fuse_send' }, r: { opcode: number; nodeId: NodeId }): void {
    if (r.opcode !== send.opcode) {
      this.counts.mismatched++;
      return;
    }
    send.nodeId = r.nodeId;
    this.counts.joined++;
  }

  /** Lets out the held events up to the first send still waiting (all of them at the end / over the bound). */
  private release(out: TraceEvent[], atEnd = false): void {
    const h = this.held;
    let i = this.heldFrom;
    const force = atEnd || this.held.length - this.heldFrom > MAX_HELD;
    const now = performance.now();
    for (; i < h.length; i++) {
      const ev = h[i]!;
      if (ev.kind === 'fuse_send' && this.waiting.has(ev.unique)) {
        if (!force) break;
        this.waiting.delete(ev.unique);
        this.counts.unjoined++;
      }
      if (ev.kind === 'fuse_reply' && this.waitingLog.has(ev.unique)) {
        const extra: TraceEvent[] = [];
        if (this.fromLog(ev, extra)) {
          this.waitingLog.delete(ev.unique);
          out.push(ev, ...extra);
          continue;
        }
        if (!force && now - this.waitingLog.get(ev.unique)! < LOG_WAIT_MS) break;
        this.waitingLog.delete(ev.unique);
        this.counts.logLate++;
      }
      out.push(ev);
    }
    this.heldFrom = i;
    if (i === h.length) { this.held = []; this.heldFrom = 0; }
  }

  /** A reply probe's (nodeid, st_ino): an identity inode_lookup (path '', nlookup 0) the first time a pair shows. */
  private identity(ev: TraceEvent & { kind: 'instant' }, extra: TraceEvent[]): void {
    if (ev.name === 'libfuse_recv') return;
    if (ev.name === 'libfuse_recv_fd') {
      this.counts.spliced++;
      return;
    }
    const unique = argNum(ev.text, 'unique');
    let ino = argNum(ev.text, 'ino');
    let nodeId = argNum(ev.text, 'nodeid');
    if (Number.isNaN(ino)) ino = argNum(ev.text, 'st_ino');
    if (Number.isNaN(nodeId)) {
      // fuse_reply_attr: about its request's nodeid (GETATTR, SETATTR).
      const r = this.recvByUnique.get(unique);
      nodeId = r ? r.nodeId : 0;
    }
    if (!(nodeId > 0) || !(ino > 0) || ino === FUSE_UNKNOWN_INO) return;
    const key = `${nodeId}:${ino}`;
    if (this.seenPairs.has(key)) return;
    this.seenPairs.add(key);
    this.counts.identities++;
    extra.push({ kind: 'inode_lookup', tsNs: ev.tsNs, task: ev.task, nodeId: asNodeId(nodeId), ino: asIno(ino), path: '', nlookup: 0, aliasOf: NO_NODE_ID });
  }

  /**
   * The -d log's entry reply for this request (paths, LINK's alias), at the kernel's reply time.
   * False while the log has not shown the request's reply yet. A request the log shows with
   * another opcode is reported, not joined.
   */
  private fromLog(ev: TraceEvent & { kind: 'fuse_reply' }, extra: TraceEvent[]): boolean {
    const req = this.log!.requests.get(ev.unique);
    if (req === undefined || req.error === null) return false;
    // Opcode 0: the kernel's send of this request was not traced (fuse_request_end names no opcode),
    // e.g. a request of the capture's own process, filtered out at send; its reply is on the server's
    // thread. Same unique on the same connection: the log's request is it — nothing disagrees.
    if (ev.opcode !== 0 && req.opcode !== ev.opcode) {
      this.counts.mismatched++;
      return true;
    }
    this.counts.logJoined++;
    for (const x of this.log!.inodeEvents(req, ev.tsNs, ev.task)) extra.push(x);
    return true;
  }
}
