// App threads: each opens its path (once per buffered/direct mode its op mix needs) and then
// loops over its op mix — weighted random choice of op, sequential or random offsets — until its
// op count runs out (forever by default).

import { Proc, type ProcStep } from './clock.ts';
import type { SimCore } from './core.ts';
import type { KernelModel, OpenFile } from './kernel/kernel.ts';
import { O_DIRECT, O_RDONLY, O_RDWR } from './proto.ts';
import { BLOCK_BYTES, type ThreadSpec } from './scenarios.ts';

export function* appThread(proc: Proc, core: SimCore, kernel: KernelModel, spec: ThreadSpec, onExit: () => void): ProcStep<void> {
  const hasWrite = spec.ops.some((o) => o.kind === 'write');
  const baseFlags = hasWrite ? O_RDWR : O_RDONLY;
  const files = new Map<boolean, OpenFile>(); // direct? → fd
  for (const direct of [false, true]) {
    if (!spec.ops.some((o) => o.direct === direct)) continue;
    const f = yield* kernel.open(proc, spec.path, baseFlags | (direct ? O_DIRECT : 0));
    if (typeof f === 'number') { onExit(); return; }
    files.set(direct, f);
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
    const ret = yield* kernel.pio(proc, files.get(op.direct)!, op.kind === 'write', posBytes, op.lenBytes);
    // A short or failed sequential op (EOF, error) restarts from the beginning of the span.
    cursors[opIdx] = ret === op.lenBytes ? posBytes + ret : 0;
    if (spec.thinkNs > 0) yield core.jitterNs(spec.thinkNs);
  }
  onExit();
}
