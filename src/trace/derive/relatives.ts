// Relatives of a selected span or event, for the inspector's links (issue #4 §5):
//   fuse_req ↔ fuse_serve (same unique)      app syscall → the requests and iomap steps it caused
//   iomap step → its IOMAP_BEGIN request, iomap_end, the ioend covering it
//   lock wait ↔ holder                        nodeId → ino, paths, the other nodeIds of the ino
//   cache entry (upsert) → the iomap step whose BEGIN upcall filled it
// Scans are bounded (SCAN_ROWS) so a click never walks a whole long trace.

import { KIND_CODE } from '../schema.ts';
import { searchSorted } from '../sorted.ts';
import { NO_ROW, SpanKind, SPAN_KIND_NAMES, SPAN_SUBROW, type SpanIndex } from '../spans.ts';
import type { TraceStore } from '../store.ts';
import type { AliasIndex } from './aliases.ts';
import type { LockIndex } from './locks.ts';
import { inoText } from './inode-groups.ts';

/** Rows looked at around an event: an iomap step or a request is a few hundred rows at most. */
const SCAN_ROWS = 20_000;

export interface Relative {
  /** What it is to the selection: 'holder', 'waiter', 'reply', 'served by', … */
  role: string;
  label: string;
  spanId: number;
  /** Event row when it is not a span (or the span's begin row). */
  row: number;
}

/** The span opened by `row`, or -1 (spans open in row order, so beginRow is increasing). */
export function spanOfRow(spans: SpanIndex, row: number): number {
  const rows = spans.beginRow.data;
  const lo = searchSorted(rows, spans.count, row);
  return lo < spans.count && rows[lo] === row ? lo : -1;
}

interface RelativesInput {
  trace: TraceStore;
  spans: SpanIndex;
  locks: LockIndex;
  aliases: AliasIndex;
}

function spanRel(spans: SpanIndex, role: string, id: number, label: string): Relative {
  return { role, label, spanId: id, row: spans.beginRow.data[id]! };
}

/** Relatives of a span (spanId ≥ 0) or else of an event row. */
export function relativesOf(inp: RelativesInput, spanId: number, row: number): Relative[] {
  const { trace: store, spans, locks, aliases } = inp;
  const out: Relative[] = [];
  const rowOf = spanId >= 0 ? spans.beginRow.data[spanId]! : row;
  if (rowOf < 0 || rowOf >= store.length) return out;
  const kindName = spanId >= 0 ? SPAN_KIND_NAMES[spans.kind.data[spanId]!]! : null;
  const unique = store.fieldCol('unique');
  const kinds = store.kinds;
  const taskCol = store.col('task');

  if (kindName === 'lock_wait') {
    const h = locks.holderOf(spans, spanId);
    if (h >= 0) out.push(spanRel(spans, 'holder', h, `${spans.lanes[spans.lane.data[h]!]!.task} held it`));
  }
  if (kindName === 'lock_hold') {
    for (const w of locks.waitersOf(spans, spanId).slice(0, 20)) {
      out.push(spanRel(spans, 'waiter', w, `${spans.lanes[spans.lane.data[w]!]!.task} waited`));
    }
  }
  if (kindName === 'fuse_req' || kindName === 'fuse_serve') {
    const u = unique[rowOf]!;
    const want = kindName === 'fuse_req' ? KIND_CODE.fuse_recv : KIND_CODE.fuse_send;
    const from = kindName === 'fuse_req' ? rowOf + 1 : Math.max(0, rowOf - SCAN_ROWS);
    const to = kindName === 'fuse_req' ? Math.min(store.length, rowOf + SCAN_ROWS) : rowOf;
    for (let r = from; r < to; r++) {
      if (kinds[r] !== want || unique[r] !== u) continue;
      const s = spanOfRow(spans, r);
      if (s >= 0) out.push(spanRel(spans, kindName === 'fuse_req' ? 'served by' : 'request', s, spans.lanes[spans.lane.data[s]!]!.task));
      break;
    }
  }
  const onFsLane = spanId >= 0 && spans.lanes[spans.lane.data[spanId]!]?.role === 'fs';
  if (kindName === 'app_op' || (kindName === 'iomap' && !onFsLane)) {
    // Children: spans of the same lane inside this one, in deeper sub-rows. (An 'fs' lane's
    // sub-rows are other tasks' steps on the inode, not children.)
    const lane = spans.lane.data[spanId]!;
    const s0 = spans.startNs.data[spanId]!;
    const e0 = spans.isOpen(spanId) ? store.endNs : spans.endNs.data[spanId]!;
    const mySub = SPAN_SUBROW[kindName];
    let n = 0;
    for (let sub = mySub + 1; sub < 4; sub++) {
      spans.forEachInRange(spans.track(lane, sub), s0, e0, store.endNs, (id) => {
        if (n >= 30 || spans.startNs.data[id]! < s0) return;
        const k = SPAN_KIND_NAMES[spans.kind.data[id]!]!;
        if (k === 'fuse_req' || k === 'iomap') { out.push(spanRel(spans, 'caused', id, k)); n++; }
      });
    }
    if (kindName === 'app_op') {
      // A kernel filesystem's steps of this syscall are on their inode's lane: found by the task's rows.
      const endRow = spans.endRow.data[spanId]!;
      const last = Math.min(endRow === NO_ROW ? store.length - 1 : endRow, rowOf + SCAN_ROWS);
      const task = taskCol[rowOf];
      for (let r = rowOf + 1; r <= last && n < 30; r++) {
        if (kinds[r] !== KIND_CODE.iomap_begin || taskCol[r] !== task) continue;
        const id = spanOfRow(spans, r);
        if (id >= 0 && spans.lane.data[id] !== lane) { out.push(spanRel(spans, 'caused', id, 'iomap')); n++; }
      }
    }
  }
  if (kindName === 'iomap') {
    const task = taskCol[rowOf];
    const nodeId = store.fieldCol('nodeId')[rowOf]!;
    const pos = store.fieldCol('posBytes')[rowOf]!;
    const endRow = spans.endRow.data[spanId]!;
    const limit = Math.min(store.length, rowOf + SCAN_ROWS);
    let sawEnd = false;
    for (let r = rowOf + 1; r < limit; r++) {
      const k = kinds[r];
      if (!sawEnd && k === KIND_CODE.iomap_end && taskCol[r] === task && store.fieldCol('nodeId')[r] === nodeId) {
        out.push({ role: 'end', label: 'iomap_end', spanId: -1, row: r });
        sawEnd = true;
      }
      if (k === KIND_CODE.iomap_ioend && store.fieldCol('nodeId')[r] === nodeId) {
        const p = store.fieldCol('posBytes')[r]!;
        if (pos >= p && pos < p + Math.max(store.fieldCol('writtenBytes')[r]!, 1)) {
          out.push({ role: 'ioend', label: `iomap_ioend ${store.readField('task', r) as string}`, spanId: -1, row: r });
          break;
        }
      }
      if (k === KIND_CODE.iomap_begin && taskCol[r] === task && r > endRow) break;
    }
  }
  if (spanId < 0 && kinds[rowOf] === KIND_CODE.cache_upsert) {
    // The server upserts while serving IOMAP_BEGIN: its fuse_recv → the request → the iomap step.
    const task = taskCol[rowOf];
    for (let r = rowOf - 1; r >= Math.max(0, rowOf - SCAN_ROWS); r--) {
      if (kinds[r] !== KIND_CODE.fuse_recv || taskCol[r] !== task) continue;
      const u = unique[r]!;
      for (let q = r - 1; q >= Math.max(0, r - SCAN_ROWS); q--) {
        if (kinds[q] !== KIND_CODE.fuse_send || unique[q] !== u) continue;
        const req = spanOfRow(spans, q);
        if (req >= 0) {
          out.push(spanRel(spans, 'filled by request', req, 'IOMAP_BEGIN'));
          const lane = spans.lane.data[req]!;
          const t = spans.startNs.data[req]!;
          spans.forEachInRange(spans.track(lane, SPAN_SUBROW.iomap), t, t, store.endNs, (id) => {
            if (spans.kind.data[id] === SpanKind.iomap) out.push(spanRel(spans, 'filled by begin', id, 'iomap step'));
          });
        }
        break;
      }
      break;
    }
  }
  // Inode identity: every event with a nodeId links to its inode, paths and aliases.
  const nodeId = store.nodeIdAt(rowOf);
  const node = nodeId ? aliases.nodes.get(nodeId) : undefined;
  if (node) {
    const g = aliases.groupOf(nodeId);
    out.push({ role: 'nodeid', label: `nodeid ${node.nodeId} → ${inoText(g?.inos ?? [])}`, spanId: -1, row: node.firstRow });
    for (const p of node.paths) out.push({ role: 'path', label: p, spanId: -1, row: aliases.paths.get(p)?.firstRow ?? node.firstRow });
    for (const other of g?.nodeIds ?? []) {
      if (other === nodeId) continue;
      const o = aliases.nodes.get(other)!;
      const why = node.linkedTo.includes(other) ? 'LINK' : 'same inode';
      out.push({ role: 'alias', label: `nodeid ${other} (${o.paths.join(', ') || 'no path'}) — ${why}`, spanId: -1, row: o.firstRow });
    }
  }
  return out;
}
