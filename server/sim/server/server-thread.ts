// One fuse server thread (libfuse worker): read a request from /dev/fuse, decode its header,
// let the filesystem handle it, spend the service time, write the reply.

import { IN_HEADER_BYTES } from '../../../src/trace/fuse-proto.ts';
import type { Proc, ProcStep } from '../clock.ts';
import type { SimCore } from '../core.ts';
import { taskBufs, type DevFuse } from '../dev-fuse.ts';
import { outError, outLen, readInHeaderInto, type SimInHeader } from '../proto.ts';
import type { FsServer } from './fs-server.ts';
import { NO_NODE_ID } from '../../../src/trace/ids.ts';

export function* serverThread(proc: Proc, core: SimCore, dev: DevFuse, fs: FsServer): ProcStep<void> {
  // libfuse's per-thread buffers: the reply and notification of one request live here until written.
  const bufs = taskBufs(proc);
  const h: SimInHeader = { len: 0, opcode: 0, unique: 0, nodeId: NO_NODE_ID, pid: 0 };
  for (;;) {
    const req = yield* dev.readRequest(proc);
    readInHeaderInto(req, h);
    const unique = h.unique, opcode = h.opcode;
    core.emit({ kind: 'fuse_recv', tsNs: core.sched.nowNs, task: proc.task, unique, opcode, nodeId: h.nodeId });
    const { reply, costNs, notify, notifyAfterReply } = fs.handle(h, req.subarray(IN_HEADER_BYTES, h.len), bufs);
    // Upserts go out before the reply, so the kernel's RETRY_CACHE lookup can find them (§3.2),
    // and at once: the mapping was read from the extent map now, and a request another thread
    // handles during this one's service time (an IOEND conversion, say) must not be overtaken by
    // it. The upsert at open follows its reply (fuse4fs answers the open first), built then.
    if (notify !== null) dev.writeNotify(notify, proc.task);
    if (!core.sched.advanceIfNext(costNs)) yield costNs; // in place when nothing else is due first (clock.ts)
    core.emit({ kind: 'fuse_reply', tsNs: core.sched.nowNs, task: proc.task, unique, opcode, error: outError(reply), lenBytes: outLen(reply) });
    dev.writeReply(reply);
    const later = notifyAfterReply?.() ?? null;
    if (later !== null) dev.writeNotify(later, proc.task);
  }
}
