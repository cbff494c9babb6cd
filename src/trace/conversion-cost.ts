// The seed's "unwritten conversion costs about 90 % more overhead" (RFC v3–v7 cover letters on random
// direct writes; RFC v1: "a 90 % hit" on random buffered writes; docs/domain.md §7), measured on a
// trace. The figures are the unwritten-cost rule's for the workload (checks/unwritten-cost.ts):
//   conversion time  = Σ FUSE_IOMAP_IOEND(UNWRITTEN) send → reply
//   write time       = Σ write syscalls + conversions outside them (writeback's)
//   share            = conversion ÷ write time               (what the rule reports)
//   more overhead    = conversion ÷ (write time − conversion) (the cover letters' "N % more": how much
//                      longer the writes took than they would have without the conversion upcalls)
// so "90 % more" is a share of 0.9 / 1.9 ≈ 47 %. Null where the trace cannot say: no conversion, or
// no write it can time.

import { runChecks } from './checks/index.ts';
import type { TraceStore } from './store.ts';
import { fmtNs } from './checks/text.ts';

/** The cover letters' figure, as a fraction ("about 90 % more overhead"). */
export const SEED_MORE_OVERHEAD = 0.9;

export interface ConversionCost {
  conversions: number;
  conversionNs: number;
  writes: number;
  /** Write syscall time plus conversions outside writes (the share's denominator). */
  writeNs: number;
  /** conversionNs ÷ writeNs; null when the trace has no write it can time. */
  share: number | null;
  /** conversionNs ÷ (writeNs − conversionNs); null with share null or when conversions are all of it. */
  moreOverhead: number | null;
}

/** The workload's conversion cost, or null when the trace has no unwritten conversion. */
export function conversionCost(store: TraceStore): ConversionCost | null {
  const found = runChecks(store, { rules: ['unwritten-cost'] }).findings;
  // The rule reports per file, and the workload apart only when more than one file converted.
  const f = found.find((x) => x.figures.nodeId === null) ?? (found.length === 1 ? found[0] : undefined);
  if (!f) return null;
  const num = (k: string): number => f.figures[k] as number;
  const writeNs = num('writeNs') + num('outsideWritesNs');
  const share = f.figures.share as number | null;
  const without = writeNs - num('conversionNs');
  return {
    conversions: num('conversions'), conversionNs: num('conversionNs'), writes: num('writes'), writeNs, share,
    moreOverhead: share === null || without <= 0 ? null : num('conversionNs') / without,
  };
}

const pct = (x: number): string => `${Math.round(x * 100)} %`;

/** The cost in a sentence, with its basis and the seed's figure beside it. */
export function describeConversionCost(c: ConversionCost): string {
  const n = `${c.conversions.toLocaleString('en-US')} unwritten conversion${c.conversions === 1 ? '' : 's'} (FUSE_IOMAP_IOEND upcalls answered in the trace)`;
  if (c.share === null || c.moreOverhead === null) {
    return `${n} waited ${fmtNs(c.conversionNs)} on the server, but the trace has no write it can time: their share of the write cost is unknown.`;
  }
  return `${n} took ${pct(c.share)} of the write time (${fmtNs(c.conversionNs)} of ${fmtNs(c.writeNs)}, ${c.writes.toLocaleString('en-US')} write${c.writes === 1 ? '' : 's'}): ` +
    `the writes took ${pct(c.moreOverhead)} more than they would have without these upcalls. ` +
    `The cover letters say about ${pct(SEED_MORE_OVERHEAD)} more overhead (RFC v3–v7, random direct writes).`;
}
