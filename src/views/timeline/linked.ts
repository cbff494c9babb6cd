// Linked hover on the timeline: which drawn primitives belong to the lock or inode hovered in
// another view (locks rows, alias graph nodes, table rows), and which lock / inode a hovered span
// names for the other views. Pure over the model and the derived indexes.

import { SpanKind, type SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import type { AliasIndex } from '../../trace/derive/aliases.ts';
import type { LockIndex } from '../../trace/derive/locks.ts';
import type { TimelineModel } from './model.ts';
import { UNKNOWN_INO, type Ino } from '../../trace/ids.ts';

interface LinkedInput { trace: TraceStore; spans: SpanIndex; locks: LockIndex; aliases: AliasIndex }

/** The lock (for lock spans) and ino a span is about; ino 0 when unknown. */
export function linkOfSpan(h: LinkedInput, spanId: number): { lockIdx: number; ino: Ino } {
  if (spanId < 0 || spanId >= h.spans.count) return { lockIdx: -1, ino: UNKNOWN_INO };
  const kind = h.spans.kind.data[spanId];
  const lockIdx = kind === SpanKind.lock_wait || kind === SpanKind.lock_hold ? h.locks.lockOfSpan(spanId) : -1;
  const row = h.spans.beginRow.data[spanId]!;
  // A begin row may lack ino (fuse_send, fuse_recv) or nodeId too (app_op_begin).
  const ino = h.trace.inoAt(row) || h.aliases.inoOf(h.trace.nodeIdAt(row));
  return { lockIdx, ino };
}

/** Indexes of primitives (single spans) that belong to the hovered lock, else to the hovered ino. */
export function linkedPrims(h: LinkedInput, model: TimelineModel, lockIdx: number, ino: Ino): number[] {
  if (lockIdx < 0 && ino === 0) return [];
  const out: number[] = [];
  const p = model.prims;
  for (let i = 0; i < p.count; i++) {
    const id = p.spanId[i]!;
    if (id < 0) continue;
    const link = linkOfSpan(h, id);
    if (lockIdx >= 0 ? link.lockIdx === lockIdx : link.ino === ino) out.push(i);
  }
  return out;
}
