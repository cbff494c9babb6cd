// One fuse server thread (libfuse worker): read a request from /dev/fuse, decode its header,
// let the filesystem handle it, spend the service time, write the reply.

import { IN_HEADER_BYTES, readInHeader, readOutHeader } from '../../../src/trace/fuse-proto.ts';
import type { Proc, ProcStep } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { DevFuse } from '../dev-fuse.ts';
import type { FsServer } from './fs-server.ts';

export function* serverThread(proc: Proc, core: SimCore, dev: DevFuse, fs: FsServer): ProcStep<void> {
  for (;;) {
    const req = yield* dev.readRequest(proc);
    const h = readInHeader(req);
    const unique = Number(h.unique);
    core.emit({ kind: 'fuse_recv', tsNs: core.sched.nowNs, task: proc.task, unique, opcode: h.opcode, nodeId: Number(h.nodeid) });
    const { reply, costNs, notifies } = fs.handle(h, req.subarray(IN_HEADER_BYTES, h.len));
    yield costNs;
    // Upserts go out before the reply, so the kernel's RETRY_CACHE lookup can find them (§3.2).
    if (notifies !== null) for (const n of notifies) dev.writeNotify(n, proc.task);
    const out = readOutHeader(reply);
    core.emit({ kind: 'fuse_reply', tsNs: core.sched.nowNs, task: proc.task, unique, opcode: h.opcode, error: out.error, lenBytes: out.len });
    dev.writeReply(reply);
  }
}
