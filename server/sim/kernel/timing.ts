// The kernel side's device and memory time model (ns, jittered by the scenario's cost model).

import type { SimCore } from '../core.ts';

/** A bio of `bytes` to or from the device. */
export function devNs(core: SimCore, isWrite: boolean, bytes: number): number {
  const c = core.costs;
  return core.jitterNs((isWrite ? c.devWriteLatencyNs : c.devReadLatencyNs) + Math.round((bytes / 1024) * c.devNsPerKiB));
}

/** Copying or zeroing `bytes` of page cache. */
export function memNs(core: SimCore, bytes: number): number {
  return core.jitterNs(Math.round((bytes / 1024) * core.costs.memcpyNsPerKiB) + 200);
}
