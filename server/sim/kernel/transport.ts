// The kernel's FUSE transport: every upcall is encoded with src/trace/fuse-proto.ts into the
// calling task's own request buffer, crosses DevFuse as bytes, and the task parks until the reply
// bytes come back. The kernel-ext4 baseline (`local`) answers the same request bytes in-kernel
// instead: no /dev/fuse, no fuse events, ext4 costs.

import { FUSE_REQ_ID_STEP, IN_HEADER_BYTES } from '../../../src/trace/fuse-proto.ts';
import { PARK, type Proc, type ProcStep, type Scheduler } from '../clock.ts';
import type { SimCore } from '../core.ts';
import { taskBufs, type DevFuse } from '../dev-fuse.ts';
import { MsgBuf, outError, outUnique, startRequest } from '../proto.ts';
import type { NodeId } from '../../../src/trace/ids.ts';

export interface Reply {
  /** 0 or -errno. */
  error: number;
  body: Uint8Array;
}

/** The in-kernel "filesystem" of the kernel-ext4 baseline: the server model called directly. */
export interface LocalBackend {
  /** Handles the request; the reply is written into `replyTo` (the calling task's memory). */
  handle(requestBytes: Uint8Array, replyTo: MsgBuf): { reply: Uint8Array; costKind: string };
  /** ext4's overwrite check for shared-lock direct writes: [pos, pos+len) is all written blocks. */
  isWrittenRange(ino: number, posBytes: number, lenBytes: number): boolean;
}

export class FuseTransport {
  private nextUnique = FUSE_REQ_ID_STEP;
  private readonly sched: Scheduler;
  /** The baseline: no fuse connection, so no fuse tracepoints either. */
  readonly isLocal: boolean;

  constructor(private readonly core: SimCore, private readonly dev: DevFuse, private readonly local: LocalBackend | null) {
    this.sched = core.sched;
    this.isLocal = local !== null;
  }

  /** Sends one request as bytes and parks until DevFuse hands back the reply bytes. */
  *request(proc: Proc, opcode: number, nodeId: NodeId, bodyBytes: number, fill?: (dv: DataView, at: number) => void): ProcStep<Reply> {
    const unique = this.nextUnique;
    this.nextUnique += FUSE_REQ_ID_STEP;
    // The task's own fuse_req memory: it is parked until the reply, so nothing reuses it meanwhile.
    const bufs = taskBufs(proc);
    const buf = startRequest(bufs.send, opcode, unique, nodeId, proc.tid, bodyBytes);
    if (fill) fill(bufs.send.dv, IN_HEADER_BYTES);
    if (this.local !== null) {
      // Baseline: the "server" is the kernel's own ext4 code — same handling, in-kernel cost, no events.
      const r = this.local.handle(buf, bufs.recv);
      { const ns = this.core.jitterNs(this.ext4CostNs(r.costKind)); if (!this.sched.advanceIfNext(ns)) yield ns; }
      return { error: outError(r.reply), body: bufs.recv.replyBody(r.reply.byteLength) };
    }
    this.core.emit({ kind: 'fuse_send', tsNs: this.core.sched.nowNs, task: proc.task, unique, opcode, nodeId, lenBytes: buf.byteLength });
    this.dev.submit(buf, unique, proc);
    const reply = (yield PARK) as Uint8Array;
    const replyUnique = outUnique(reply);
    if (replyUnique !== unique) throw new Error(`sim: ${proc.task} got reply ${replyUnique} for request ${unique}`);
    return { error: outError(reply), body: bufs.recv.replyBody(reply.byteLength) };
  }

  /**
   * A background request (fuse_simple_background): traced from the sending task, which goes on
   * without waiting; the reply is dropped. Its bytes get their own buffer, since the sender's is
   * reused by its next request before a server thread reads this one. Nothing on the baseline.
   */
  requestBackground(proc: Proc, opcode: number, nodeId: NodeId, bodyBytes: number, fill?: (dv: DataView, at: number) => void): void {
    if (this.local !== null) return;
    const unique = this.nextUnique;
    this.nextUnique += FUSE_REQ_ID_STEP;
    const m = new MsgBuf();
    const buf = startRequest(m, opcode, unique, nodeId, proc.tid, bodyBytes);
    if (fill) fill(m.dv, IN_HEADER_BYTES);
    this.core.emit({ kind: 'fuse_send', tsNs: this.core.sched.nowNs, task: proc.task, unique, opcode, nodeId, lenBytes: buf.byteLength });
    this.dev.submitBackground(buf, unique);
  }

  private ext4CostNs(kind: string): number {
    const c = this.core.costs;
    switch (kind) {
      case 'map': case 'end': return c.ext4MapNs;
      case 'alloc': return c.ext4AllocNs;
      case 'convert': return c.ext4ConvertNs;
      case 'ioend': return 0; // an in-place overwrite completes with no metadata work
      default: return c.ext4MetaNs;
    }
  }
}
