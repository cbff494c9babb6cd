// The area-selection table of the timeline: FUSE requests (send → reply on the caller) that start
// in [fromNs, toNs], aggregated by opcode and by inode — count, total / mean / p50 / p99 latency.
// Percentiles are nearest-rank over the exact durations (a selection holds at most a few 100k).

import { opcodeName } from '../fuse-proto.ts';
import { SPAN_SUBROW, SpanKind, type SpanIndex } from '../spans.ts';
import type { TraceStore } from '../store.ts';
import type { AliasIndex } from './aliases.ts';

export interface AggregateRow {
  key: string;
  label: string;
  count: number;
  totalNs: number;
  meanNs: number;
  p50Ns: number;
  p99Ns: number;
}

interface AreaAggregate {
  requests: number;
  /** Requests with no end in the trace (still open live, or open-ended): not in the latency figures. */
  openRequests: number;
  /** Requests whose send the trace does not show (began before it): not in the latency figures. */
  begunBeforeRequests: number;
  /** Requests with an untimed send or reply (untimed.ts: pasted lines without times): no latency, not in the figures. */
  untimedRequests: number;
  byOpcode: AggregateRow[];
  byInode: AggregateRow[];
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function rows(groups: Map<string, { label: string; durs: number[] }>): AggregateRow[] {
  const out: AggregateRow[] = [];
  for (const [key, g] of groups) {
    const sorted = Float64Array.from(g.durs).sort();
    const totalNs = sorted.reduce((a, b) => a + b, 0);
    out.push({ key, label: g.label, count: sorted.length, totalNs, meanNs: totalNs / sorted.length, p50Ns: percentile(sorted, 50), p99Ns: percentile(sorted, 99) });
  }
  return out.sort((a, b) => b.totalNs - a.totalNs || a.key.localeCompare(b.key));
}

export function aggregateArea(spans: SpanIndex, store: TraceStore, aliases: AliasIndex, fromNs: number, toNs: number): AreaAggregate {
  const byOp = new Map<string, { label: string; durs: number[] }>();
  const byIno = new Map<string, { label: string; durs: number[] }>();
  const opcodeCol = store.col('opcode');
  const nodeIdCol = store.nodeIdCol();
  let requests = 0;
  let openRequests = 0;
  let untimedRequests = 0;
  let begunBeforeRequests = 0;
  const add = (m: Map<string, { label: string; durs: number[] }>, key: string, label: string, durNs: number): void => {
    let g = m.get(key);
    if (!g) m.set(key, (g = { label, durs: [] }));
    g.durs.push(durNs);
  };
  for (const lane of spans.lanes) {
    const track = spans.track(lane.idx, SPAN_SUBROW.fuse_req);
    spans.forEachInRange(track, fromNs, toNs, store.endNs, (id) => {
      if (spans.kind.data[id] !== SpanKind.fuse_req) return;
      const s = spans.startNs.data[id]!;
      if (s < fromNs || s > toNs) return;
      requests++;
      if (spans.isBegunBefore(id)) { begunBeforeRequests++; return; }
      if (spans.isUntimed(id)) { untimedRequests++; return; }
      if (!spans.hasDuration(id)) { openRequests++; return; }
      const durNs = spans.endNs.data[id]! - s;
      const row = spans.beginRow.data[id]!;
      const op = opcodeCol[row]!;
      add(byOp, `op:${op}`, opcodeName(op), durNs);
      const nodeId = nodeIdCol[row]!;
      const ino = aliases.inoOf(nodeId);
      add(byIno, ino ? `ino:${ino}` : `node:${nodeId}`, ino ? `ino ${ino}` : `nodeid ${nodeId} (ino unknown)`, durNs);
    });
  }
  return { requests, openRequests, begunBeforeRequests, untimedRequests, byOpcode: rows(byOp), byInode: rows(byIno) };
}
