// The cover letters' "unwritten conversion costs about 90 % more overhead" (docs/domain.md §7), stated
// where the user compares: each side's measured conversion cost (src/trace/conversion-cost.ts, the
// unwritten-cost rule's figures) with its basis, and, when only one side converts, the throughput
// gap beside it — said to include the other upcalls too, so it is not read as the conversions' alone.

import { useMemo } from 'react';
import type { TraceStore } from '../../trace/store.ts';
import type { DiffRow } from '../../trace/compare.ts';
import { conversionCost, describeConversionCost, SEED_MORE_OVERHEAD } from '../../trace/conversion-cost.ts';

export function ConversionCompare({ a, b, labelA, labelB, rows }: { a: TraceStore; b: TraceStore; labelA: string; labelB: string; rows: readonly DiffRow[] }) {
  // Once per loaded pair (rows are computed once both sides are in).
  const costs = useMemo(() => [conversionCost(a), conversionCost(b)] as const, [a, b, rows]);
  const sides = [{ side: 'A', label: labelA, cost: costs[0] }, { side: 'B', label: labelB, cost: costs[1] }];
  const throughput = rows.find((r) => r.metric === 'throughput');
  const only = sides.filter((s) => s.cost !== null);
  return (
    <div className="conversion-compare" data-testid="conversion-cost">
      <strong>Unwritten-conversion cost</strong>{' '}
      <span className="muted" title="docs/checks.md, rule unwritten-cost">(measured as the unwritten-cost rule does: write syscalls' time against FUSE_IOMAP_IOEND(UNWRITTEN) send → reply; the cover letters: about {Math.round(SEED_MORE_OVERHEAD * 100)} % more overhead)</span>
      {only.length === 0 && <p data-testid="conversion-cost-none">Neither run has an unwritten conversion (FUSE_IOMAP_IOEND with UNWRITTEN): that overhead cannot be measured on these two.</p>}
      {only.map((s) => (
        <p key={s.side} data-testid={`conversion-cost-${s.side.toLowerCase()}`} data-share={String(s.cost!.share)} data-more-overhead={String(s.cost!.moreOverhead)}>
          <span className={`side-badge side-badge-${s.side.toLowerCase()}`}>{s.side}</span> {describeConversionCost(s.cost!)}
        </p>
      ))}
      {only.length === 1 && throughput && Number.isFinite(throughput.ratio) && throughput.ratio > 0 && (
        <p className="muted" data-testid="conversion-cost-throughput">
          Throughput: {only[0]!.side === 'A' ? 'B' : 'A'} (no conversions) moved data {(only[0]!.side === 'A' ? throughput.ratio : 1 / throughput.ratio).toFixed(2)}× as
          fast as {only[0]!.side}; that gap includes every other difference between the runs (BEGIN/END upcalls, locking), not the conversions alone.
        </p>
      )}
    </div>
  );
}
