// App threads: each opens its path (once per buffered/direct mode its op mix needs, plus the
// destination of any copy op) and then loops over its op mix — weighted random choice of op,
// sequential or random offsets — until its op count runs out (forever by default); then it
// closes every fd it opened (each close sends FUSE_RELEASE) and exits.

import { Proc, type ProcStep } from './clock.ts';
import type { SimCore } from './core.ts';
import type { OpenFile, Syscalls } from './kernel/kernel.ts';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, O_DIRECT, O_RDONLY, O_RDWR, O_TRUNC } from './proto.ts';
import { BLOCK_BYTES, type ThreadSpec } from './scenarios/index.ts';

export function* appThread(proc: Proc, core: SimCore, kernel: Syscalls, spec: ThreadSpec, onExit: () => void): ProcStep<void> {
  const hasWrite = spec.ops.some((o) => o.kind !== 'read');
  const baseFlags = hasWrite ? O_RDWR : O_RDONLY;
  const files = new Map<boolean, OpenFile>(); // direct? → fd
  const copyTargets = new Map<string, OpenFile>();
  function* exit(): ProcStep<void> {
    for (const f of [...files.values(), ...copyTargets.values()]) yield* kernel.close(proc, f);
    onExit();
  }
  for (const direct of [false, true]) {
    if (!spec.ops.some((o) => o.direct === direct)) continue;
    const f = yield* kernel.open(proc, spec.path, baseFlags | (direct ? O_DIRECT : 0));
    if (typeof f === 'number') { yield* exit(); return; }
    files.set(direct, f);
  }
  for (const o of spec.ops) {
    if (o.kind !== 'copy' || copyTargets.has(o.toPath!)) continue;
    const f = yield* kernel.open(proc, o.toPath!, O_RDWR);
    if (typeof f === 'number') { yield* exit(); return; }
    copyTargets.set(o.toPath!, f);
  }
  const totalWeight = spec.ops.reduce((s, o) => s + o.weight, 0);
  const cursors = spec.ops.map(() => 0);
  for (let i = 0; spec.opCount === undefined || i < spec.opCount; i++) {
    let pick = core.prng.next() * totalWeight;
    let opIdx = 0;
    while (opIdx < spec.ops.length - 1 && pick >= spec.ops[opIdx]!.weight) pick -= spec.ops[opIdx++]!.weight;
    const op = spec.ops[opIdx]!;
    const spanBytes = op.spanBytes!;
    let posBytes: number;
    if (op.pattern === 'random') {
      posBytes = core.prng.int(0, Math.floor((spanBytes - op.lenBytes) / BLOCK_BYTES) + 1) * BLOCK_BYTES;
    } else {
      posBytes = cursors[opIdx]! + op.lenBytes > spanBytes ? 0 : cursors[opIdx]!;
    }
    const file = files.get(op.direct)!;
    let ret: number;
    switch (op.kind) {
      case 'read': case 'write':
        ret = yield* kernel.pio(proc, file, op.kind === 'write', posBytes, op.lenBytes, op.atomic === true);
        break;
      case 'fault': ret = yield* kernel.fault(proc, file, posBytes); break;
      case 'fsync': ret = yield* kernel.fsync(proc, file); break;
      case 'truncate': ret = yield* kernel.truncate(proc, file, posBytes); break;
      case 'fallocate': ret = yield* kernel.fallocate(proc, file, 0, posBytes, op.lenBytes); break;
      case 'punch': ret = yield* kernel.fallocate(proc, file, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, posBytes, op.lenBytes); break;
      case 'copy': ret = yield* kernel.copyFileRange(proc, file, copyTargets.get(op.toPath!)!, posBytes, op.lenBytes); break;
      case 'link': ret = yield* kernel.link(proc, spec.path, op.toPath!); break;
      case 'open_trunc': {
        const f = yield* kernel.open(proc, spec.path, O_RDWR | O_TRUNC);
        ret = typeof f === 'number' ? f : 0;
        if (typeof f !== 'number') yield* kernel.close(proc, f);
        break;
      }
    }
    // A short or failed sequential op (EOF, error) restarts from the beginning of the span.
    cursors[opIdx] = ret === op.lenBytes ? posBytes + ret : 0;
    if (spec.thinkNs > 0) {
      const ns = core.jitterNs(spec.thinkNs);
      if (!core.sched.advanceIfNext(ns)) yield ns; // in place when nothing else is due first (clock.ts)
    }
  }
  yield* exit();
}
