// Findings in the locks view (pure): severity markers on the header row of each lock a lock or
// alias-race finding names (a lock span among its evidence), and the boxes of the shown finding's
// evidence holds and waits on their lock × task rows. Evidence rows are stream rows: store row =
// stream row − rowBase; a row below rowBase was evicted and is skipped.

import type { Finding, RuleId } from '../../trace/checks/types.ts';
import type { TraceStore } from '../../trace/store.ts';
import type { SpanIndex } from '../../trace/spans.ts';
import type { LockIndex } from '../../trace/derive/locks.ts';
import { spanOfRow } from '../../trace/derive/relatives.ts';
import { INFERRED_STUB_PX, isInferredStub } from '../../render/faded.ts';
import { findingMarks, type FindingMark } from '../finding-marks.ts';
import type { LocksModel } from './model.ts';

/** Rules whose evidence holds lock spans (docs/checks.md). */
const LOCK_RULES: ReadonlySet<RuleId> = new Set<RuleId>(['lock', 'alias-race']);

/**
 * The lock spans that begin or end at an evidence row of `f` in the page. End rows are found with
 * one pass over the lock rows' spans, only when a row opened no span (once per shown finding).
 */
export function lockEvidenceSpans(f: Finding, trace: TraceStore, spans: SpanIndex, locks: LockIndex, rowBase: number): number[] {
  const out = new Set<number>();
  const pending = new Set<number>();
  for (const streamRow of f.evidence) {
    const row = streamRow - rowBase;
    if (row < 0 || row >= trace.length) continue;
    const id = spanOfRow(spans, row);
    if (id >= 0 && locks.lockOfSpan(id) >= 0) out.add(id);
    else if (id < 0) pending.add(row);
  }
  if (pending.size > 0) {
    const endRow = spans.endRow.data;
    for (const r of locks.rows) {
      for (let k = 0; k < r.spanIds.length; k++) {
        const id = r.spanIds.data[k]!;
        if (!spans.isOpen(id) && pending.has(endRow[id]!)) out.add(id);
      }
    }
  }
  return [...out].sort((a, b) => a - b);
}

export interface LockFindingMark extends FindingMark {
  /** Position of the lock's header row in the model. */
  rowPos: number;
}

/**
 * Markers at each lock / alias-race finding's start, on the header row of every lock its evidence
 * opens a span of (only rows of acquires and waits: a release row alone names no lock here).
 */
export function lockFindingMarks(list: readonly Finding[], trace: TraceStore, spans: SpanIndex, locks: LockIndex, rowBase: number,
  m: Pick<LocksModel, 'rows' | 'scale'>): LockFindingMark[] {
  const headerPos = new Map<number, number>();
  m.rows.forEach((r, pos) => { if (r.type === 'lock') headerPos.set(r.lockIdx, pos); });
  const byRow = new Map<number, Finding[]>();
  for (const f of list) {
    if (!LOCK_RULES.has(f.rule) || f.tsNs < m.scale.startNs || f.tsNs > m.scale.endNs) continue;
    const seen = new Set<number>();
    for (const streamRow of f.evidence) {
      const row = streamRow - rowBase;
      if (row < 0 || row >= trace.length) continue;
      const lockIdx = locks.lockOfSpan(spanOfRow(spans, row));
      const pos = headerPos.get(lockIdx);
      if (pos === undefined || seen.has(pos)) continue;
      seen.add(pos);
      let fs = byRow.get(pos);
      if (!fs) byRow.set(pos, (fs = []));
      fs.push(f);
    }
  }
  const out: LockFindingMark[] = [];
  for (const [rowPos, fs] of [...byRow].sort((a, b) => a[0] - b[0])) {
    for (const mk of findingMarks(fs, m.scale)) out.push({ ...mk, rowPos });
  }
  return out;
}

export interface LockEvidenceBox {
  spanId: number;
  rowPos: number;
  xPx: number;
  widthPx: number;
}

/**
 * Where the evidence spans are drawn: their lock × task row and time extent, as the model draws
 * them (open: to now; a hold inferred from contention: its stub). Spans out of range or on a row
 * the filter hides are left out.
 */
export function lockEvidenceBoxes(spanIds: readonly number[], spans: SpanIndex, locks: LockIndex, m: Pick<LocksModel, 'rows' | 'scale'>,
  nowNs: number): LockEvidenceBox[] {
  const taskPos = new Map<number, number>();
  m.rows.forEach((r, pos) => { if (r.type === 'task') taskPos.set(r.rowIdx, pos); });
  const out: LockEvidenceBox[] = [];
  for (const id of spanIds) {
    const rowPos = taskPos.get(locks.rowOfSpan(id));
    if (rowPos === undefined) continue;
    const startNs = spans.startNs.data[id]!;
    const open = spans.isOpen(id);
    const x0 = m.scale.nsToPx(startNs);
    const x1 = open
      ? (isInferredStub(spans.flags.data[id]!, open) ? x0 + INFERRED_STUB_PX : m.scale.nsToPx(nowNs))
      : m.scale.nsToPx(spans.endNs.data[id]!);
    if (x1 < 0 || x0 > m.scale.widthPx) continue;
    const from = Math.max(-2, x0);
    const to = Math.min(m.scale.widthPx + 2, x1);
    out.push({ spanId: id, rowPos, xPx: from, widthPx: Math.max(1, to - from) });
  }
  return out;
}
