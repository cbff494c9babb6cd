// The track layout both exporters share: spans (src/trace/spans.ts) packed onto non-overlapping
// tracks, the rows no span accounts for as instants, and two counters.
//
//   task "writer-a/1001" ─┬─ "writer-a/1001 syscalls"      app_op spans
//                         ├─ "writer-a/1001 iomap"         iomap steps
//                         ├─ "writer-a/1001 fuse"          fuse_req / fuse_serve spans
//                         ├─ "writer-a/1001 locks"         lock_wait / lock_hold spans
//                         └─ "writer-a/1001 events"        instants
// Chrome JSON and Perfetto both require the slices of one track to nest; fusescope spans of one
// category can overlap partially (a task holding one lock while waiting for another, async
// writeback requests), so each category is packed greedily: a span goes on the first track
// (#1, #2, …) whose last span has ended. Overlap is therefore impossible, nesting trivially holds.
// A span with no observed end (open) occupies its track to the end of the trace — the exporters
// write it without an end, which Perfetto shows as "Did not end" — so nothing follows it there.
// Spans are packed in start order (a begun-before span starts at the trace's start but is made
// when its end arrives, so ids are not in start order).

import { SpanIndex, SPAN_KIND_NAMES, type SpanKindName } from '../spans.ts';
import { KIND_CODE } from '../schema.ts';
import { opcodeName } from '../fuse-proto.ts';
import type { TraceStore } from '../store.ts';

type TrackCategory = 'syscalls' | 'iomap' | 'fuse' | 'locks' | 'events';
const CATEGORY_OF: Record<SpanKindName, TrackCategory> = {
  app_op: 'syscalls', iomap: 'iomap', fuse_req: 'fuse', fuse_serve: 'fuse', lock_wait: 'locks', lock_hold: 'locks',
};
const CATEGORY_ORDER: TrackCategory[] = ['syscalls', 'iomap', 'fuse', 'locks', 'events'];

interface ExportTrack {
  /** 1-based, dense; also the Chrome tid and the Perfetto uuid offset. */
  id: number;
  name: string;
  task: string;
  category: TrackCategory;
  /** Display order. */
  sortIndex: number;
}
interface ExportSpan {
  spanId: number;
  trackId: number;
  name: string;
  kind: SpanKindName;
  startNs: number;
  /** NaN for an open span: the trace does not show its end, so none is given. */
  endNs: number;
  /** The trace does not show the span's end (the exporters write no end for it). */
  open: boolean;
  /** The trace does not show its start: it starts at the trace's start. */
  begunBefore: boolean;
  /** A hold inferred from lock contention events: its end is never traced. */
  inferredHold: boolean;
  beginRow: number;
  /** -1 if open. */
  endRow: number;
}
interface ExportInstant { row: number; trackId: number; name: string; tsNs: number }
interface CounterSample { tsNs: number; value: number }
interface ExportFlow { id: number; fromSpan: number; toSpan: number }

interface ExportModel {
  tracks: ExportTrack[];
  spans: ExportSpan[];
  instants: ExportInstant[];
  counters: { name: string; samples: CounterSample[] }[];
  /** fuse request (send) → the server's handling of it (recv), keyed by unique. */
  flows: ExportFlow[];
}

const NO_ROW = 0xffff_ffff;

function spanName(store: TraceStore, kind: SpanKindName, beginRow: number): string {
  switch (kind) {
    case 'app_op': return String(store.readField('op', beginRow));
    case 'fuse_req': case 'fuse_serve': return opcodeName(store.col('opcode')[beginRow]!);
    case 'iomap': return 'iomap_iter';
    case 'lock_wait': return `wait ${store.readField('lock', beginRow)} ${store.readField('mode', beginRow)}`;
    case 'lock_hold': return `hold ${store.readField('lock', beginRow)} ${store.readField('mode', beginRow)}`;
  }
}

export function buildExportModel(store: TraceStore): ExportModel {
  const index = new SpanIndex();
  index.update(store);
  // Tracks are created lazily per (task, category, depth), then numbered in display order.
  interface Packing { lastEndNs: number[]; trackKeys: string[] }
  const packs = new Map<string, Packing>();
  const trackOf = new Map<string, { task: string; category: TrackCategory; depth: number; laneIdx: number }>();
  const spanTrackKey: string[] = [];
  const consumed = new Uint8Array(store.length);
  const order = Uint32Array.from({ length: index.count }, (_, i) => i)
    .sort((a, b) => index.startNs.data[a]! - index.startNs.data[b]! || a - b);
  for (const id of order) {
    const kind = SPAN_KIND_NAMES[index.kind.data[id]!]!;
    const laneIdx = index.lane.data[id]!;
    const lane = index.lanes[laneIdx]!;
    const category = CATEGORY_OF[kind];
    const startNs = index.startNs.data[id]!;
    const endNs = index.isOpen(id) ? Infinity : index.endNs.data[id]!;
    const packKey = `${laneIdx}:${category}`;
    let pack = packs.get(packKey);
    if (!pack) packs.set(packKey, (pack = { lastEndNs: [], trackKeys: [] }));
    let depth = pack.lastEndNs.findIndex((e) => e <= startNs);
    if (depth < 0) {
      depth = pack.lastEndNs.length;
      pack.lastEndNs.push(endNs);
      const key = `${packKey}:${depth}`;
      pack.trackKeys.push(key);
      trackOf.set(key, { task: lane.task, category, depth, laneIdx });
    } else pack.lastEndNs[depth] = endNs;
    spanTrackKey[id] = `${packKey}:${depth}`;
    consumed[index.beginRow.data[id]!] = 1;
    const endRow = index.endRow.data[id]!;
    if (endRow !== NO_ROW) consumed[endRow] = 1;
  }
  const laneOfTask = new Map(index.lanes.map((l) => [l.task, l.idx]));
  const taskCol = store.col('task');
  const instantTaskKeys = new Map<string, string>();
  for (let row = 0; row < store.length; row++) {
    if (consumed[row]) continue;
    const task = store.strings.get(taskCol[row]!);
    const laneIdx = laneOfTask.get(task) ?? index.laneOf(task);
    const key = `${laneIdx}:events:0`;
    if (!trackOf.has(key)) trackOf.set(key, { task, category: 'events', depth: 0, laneIdx });
    instantTaskKeys.set(task, key);
  }
  const ordered = [...trackOf.entries()].sort((a, b) =>
    a[1].laneIdx - b[1].laneIdx || CATEGORY_ORDER.indexOf(a[1].category) - CATEGORY_ORDER.indexOf(b[1].category) || a[1].depth - b[1].depth);
  const idOfKey = new Map<string, number>();
  const tracks: ExportTrack[] = ordered.map(([key, t], i) => {
    idOfKey.set(key, i + 1);
    return { id: i + 1, name: `${t.task} ${t.category}${t.depth > 0 ? ` #${t.depth + 1}` : ''}`, task: t.task, category: t.category, sortIndex: i };
  });

  const spans: ExportSpan[] = [];
  for (const id of order) {
    const kind = SPAN_KIND_NAMES[index.kind.data[id]!]!;
    const open = index.isOpen(id);
    const beginRow = index.beginRow.data[id]!;
    spans.push({
      spanId: id, trackId: idOfKey.get(spanTrackKey[id]!)!, kind, name: spanName(store, kind, beginRow),
      startNs: index.startNs.data[id]!, endNs: open ? Number.NaN : index.endNs.data[id]!, open,
      begunBefore: index.isBegunBefore(id), inferredHold: index.isInferredHold(id), beginRow, endRow: open ? -1 : index.endRow.data[id]!,
    });
  }
  const instants: ExportInstant[] = [];
  for (let row = 0; row < store.length; row++) {
    if (consumed[row]) continue;
    const key = instantTaskKeys.get(store.strings.get(taskCol[row]!))!;
    instants.push({ row, trackId: idOfKey.get(key)!, name: store.kindOf(row), tsNs: store.tsNs[row]! });
  }

  // Flows: a request's fuse_req span (requesting task) → its fuse_serve span (server thread).
  const reqByUnique = new Map<number, number>();
  const flows: ExportFlow[] = [];
  const unique = store.fieldCol('unique');
  for (const s of spans) {
    if (s.kind === 'fuse_req') reqByUnique.set(unique[s.beginRow]!, s.spanId);
    else if (s.kind === 'fuse_serve') {
      const from = reqByUnique.get(unique[s.beginRow]!);
      if (from !== undefined) flows.push({ id: flows.length + 1, fromSpan: from, toSpan: s.spanId });
    }
  }

  // Counters: requests in flight (send +1, reply −1) and tasks waiting for a lock.
  const inflight: CounterSample[] = [];
  const waiters: CounterSample[] = [];
  let nReq = 0;
  let nWait = 0;
  const kinds = store.kinds;
  for (let row = 0; row < store.length; row++) {
    const k = kinds[row]!;
    const t = store.tsNs[row]!;
    if (k === KIND_CODE.fuse_send) inflight.push({ tsNs: t, value: ++nReq });
    else if (k === KIND_CODE.fuse_reply && nReq > 0) inflight.push({ tsNs: t, value: --nReq });
    else if (k === KIND_CODE.lock_wait) waiters.push({ tsNs: t, value: ++nWait });
    else if (k === KIND_CODE.lock_acquire && nWait > 0) waiters.push({ tsNs: t, value: --nWait });
  }
  return {
    tracks, spans, instants, flows,
    counters: [{ name: 'fuse requests in flight', samples: inflight }, { name: 'tasks waiting for a lock', samples: waiters }],
  };
}
