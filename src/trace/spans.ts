// Pairing of instant events into spans, incrementally as rows arrive:
//   app_op      app_op_begin → app_op_end            per task (a syscall)
//   fuse_req    fuse_send → fuse_reply               by unique, on the requesting task's lane
//   fuse_serve  fuse_recv → fuse_reply               by unique, on the server thread's lane
//   iomap       iomap_begin → iomap_iter_end         per task (one iomap_iter step)
//   lock_wait   lock_wait → lock_acquire             per task + lock + nodeId
//   lock_hold   lock_acquire → lock_release          per task + lock + nodeId
// A span is created when it opens (endNs = NaN until it closes), so spans are in startNs order
// both globally and per lane. `style` carries what colours a span: the mapping type of an iomap
// step, the lock mode of a hold, the opcode class of a request.

import { KIND_CODE, type EventKind } from './schema.ts';
import { Opcode, MapType } from './fuse-proto.ts';
import type { TraceStore } from './store.ts';
import { Growable, type TypedArray } from './growable.ts';
import { TrackLod, type LodVisitor } from './span-lod.ts';
import { searchSortedBy } from './sorted.ts';

export const SpanKind = {
  app_op: 0,
  fuse_req: 1,
  fuse_serve: 2,
  iomap: 3,
  lock_wait: 4,
  lock_hold: 5,
} as const;
export type SpanKindName = keyof typeof SpanKind;
export const SPAN_KIND_NAMES = Object.keys(SpanKind) as SpanKindName[];

/** Sub-row of a lane each span kind is drawn in (lanes are SUBROW_COUNT sub-rows tall). */
export const SPAN_SUBROW: Record<SpanKindName, number> = {
  app_op: 0, fuse_serve: 0, iomap: 1, fuse_req: 2, lock_wait: 3, lock_hold: 3,
};
export const SUBROW_COUNT = 4;

/** style for lock spans. */
export const LockStyle = { read: 0, write: 1 } as const;
/** style for fuse spans: opcode class. */
export const FuseStyle = { iomap_begin: 0, iomap_end: 1, iomap_ioend: 2, lookup: 3, other: 4 } as const;
/** style for iomap spans before a mapping is known / on error. */
export const IOMAP_STYLE_UNKNOWN = 250;
export const IOMAP_STYLE_ERROR = 251;

export function fuseStyleOf(opcode: number): number {
  switch (opcode) {
    case Opcode.IOMAP_BEGIN: return FuseStyle.iomap_begin;
    case Opcode.IOMAP_END: return FuseStyle.iomap_end;
    case Opcode.IOMAP_IOEND: return FuseStyle.iomap_ioend;
    case Opcode.LOOKUP: return FuseStyle.lookup;
    default: return FuseStyle.other;
  }
}

export interface Lane {
  idx: number;
  task: string;
  /** Guessed role: a lane that serves requests is a server thread; `kworker/…` is writeback. */
  role: 'app' | 'server' | 'kworker';
}

/** Marks a missing row link. */
export const NO_ROW = 0xffff_ffff;
/** mappingRowsOf looks this many rows past an iomap span's begin at most (a step is a handful). */
const MAX_MAP_SCAN_ROWS = 1 << 16;
const K = KIND_CODE;

const f64s = (): Growable<Float64Array> => new Growable(Float64Array, 1024);
const u32s = (): Growable<Uint32Array> => new Growable(Uint32Array, 1024);
const u8s = (): Growable<Uint8Array> => new Growable(Uint8Array, 1024);

/** The spans of one lane and sub-row, in start order; `maxDurNs` bounds range queries. */
export class Track {
  readonly spans = u32s();
  maxDurNs = 0;
  /** Spans still open: their end is unknown, so range queries must include them. */
  readonly openIds = new Set<number>();
  /** Power-of-two summaries of the closed spans, for zoomed-out frames (span-lod.ts). */
  readonly lod = new TrackLod();
  constructor(readonly laneIdx: number, readonly subrow: number) {}
}

export class SpanIndex {
  readonly startNs = f64s();
  readonly endNs = f64s();
  /** SpanKind (< 8) and style (< 256: colourKey in span-lod.ts keeps 8 bits of it): a byte each. */
  readonly kind = u8s();
  readonly style = u8s();
  readonly lane = u32s();
  readonly beginRow = u32s();
  readonly endRow = u32s();
  readonly lanes: Lane[] = [];
  /** tracks[laneIdx * SUBROW_COUNT + subrow] */
  readonly tracks: Track[] = [];
  /** Rows of the store already paired. */
  processedRows = 0;
  version = 0;

  private readonly laneByTask = new Map<string, number>();
  private readonly openByTaskKey = new Map<string, number>();
  private readonly openReq = new Map<number, number>();
  private readonly openServe = new Map<number, number>();
  /**
   * Per lane: whether its open iomap step's latest write-slot mapping is a real destination (not
   * PURE_OVERWRITE), which then colours the step instead of the read slot. A lane has one open
   * step; mappingRowsOf finds a step's mapping rows when someone asks.
   */
  private readonly writeIsDestByLane: number[] = [];

  get count(): number { return this.startNs.length; }

  laneOf(task: string): number {
    let idx = this.laneByTask.get(task);
    if (idx === undefined) {
      idx = this.lanes.length;
      const role = task.startsWith('kworker') ? 'kworker' : 'app';
      this.lanes.push({ idx, task, role });
      this.laneByTask.set(task, idx);
      for (let s = 0; s < SUBROW_COUNT; s++) this.tracks.push(new Track(idx, s));
    }
    return idx;
  }

  track(laneIdx: number, subrow: number): Track {
    return this.tracks[laneIdx * SUBROW_COUNT + subrow]!;
  }

  private open(kind: SpanKindName, laneIdx: number, tsNs: number, row: number, style: number): number {
    const id = this.startNs.length;
    this.startNs.push(tsNs);
    this.endNs.push(Number.NaN);
    this.kind.push(SpanKind[kind]);
    this.style.push(style);
    this.lane.push(laneIdx);
    this.beginRow.push(row);
    this.endRow.push(NO_ROW);
    const t = this.track(laneIdx, SPAN_SUBROW[kind]);
    t.spans.push(id);
    t.openIds.add(id);
    return id;
  }

  private close(id: number, tsNs: number, row: number): void {
    this.endNs.data[id] = tsNs;
    this.endRow.data[id] = row;
    const kind = SPAN_KIND_NAMES[this.kind.data[id]!]!;
    const t = this.track(this.lane.data[id]!, SPAN_SUBROW[kind]);
    t.openIds.delete(id);
    const durNs = tsNs - this.startNs.data[id]!;
    if (durNs > t.maxDurNs) t.maxDurNs = durNs;
  }

  /**
   * An iomap span's `iomap_map` rows, in order: its task's, after its begin row and up to its end
   * row — or, for a span that never closed (an import without iter_end events, a gap), up to the
   * task's next iomap_begin, which is where pairing stopped giving the task's mappings to it.
   * A scan for the few spans a user asks about (inspector, search) instead of per-span columns;
   * past MAX_MAP_SCAN_ROWS rows the rest of the span is not looked at.
   */
  mappingRowsOf(store: TraceStore, id: number): number[] {
    const rows: number[] = [];
    if (this.kind.data[id] !== SpanKind.iomap) return rows;
    const begin = this.beginRow.data[id]!;
    const endRow = this.endRow.data[id]!;
    const last = Math.min(endRow === NO_ROW ? store.length - 1 : endRow, begin + MAX_MAP_SCAN_ROWS);
    const kinds = store.kinds;
    const task = store.col('task');
    const t = task[begin]!;
    for (let r = begin + 1; r <= last; r++) {
      if (task[r] !== t) continue;
      if (kinds[r] === K.iomap_map) rows.push(r);
      else if (kinds[r] === K.iomap_begin) break;
    }
    return rows;
  }

  /**
   * The mapping an iomap span's step used, per slot: the last of its mapping rows in each (a
   * RETRY_CACHE reply is followed by the cache's mapping); NO_ROW if none.
   */
  mapRowsOf(store: TraceStore, id: number): { read: number; write: number } {
    const out = { read: NO_ROW, write: NO_ROW };
    const slot = store.col('slot');
    for (const r of this.mappingRowsOf(store, id)) {
      if (slot[r] === 1) out.write = r;
      else out.read = r;
    }
    return out;
  }

  /** The per-span columns. */
  private columns(): Growable<TypedArray>[] {
    return [this.startNs, this.endNs, this.kind, this.style, this.lane, this.beginRow, this.endRow];
  }

  /** Spans `rows` rows will make at the rate these spans came from `rowsSoFar` rows, 5 % over (for reserve). */
  spansFor(rows: number, rowsSoFar: number): number {
    return rowsSoFar > 0 ? Math.ceil((this.count / rowsSoFar) * rows * 1.05) : 0;
  }

  /** Room for `spanCount` spans in the per-span columns (a live window's rebuild knows about how many). */
  reserve(spanCount: number): void {
    for (const g of this.columns()) g.reserve(spanCount);
  }

  /** Drops growth slack everywhere (a file finished loading); later updates grow again. */
  trim(): void {
    for (const g of this.columns()) g.trim();
    for (const t of this.tracks) {
      t.spans.trim();
      t.lod.trim();
    }
  }

  /** Bytes of the typed arrays (capacity included): spans, tracks and their LOD levels. */
  byteLength(): number {
    let n = 0;
    for (const g of this.columns()) n += g.byteLength();
    for (const t of this.tracks) n += t.spans.byteLength() + t.lod.byteLength();
    return n;
  }

  isOpen(id: number): boolean {
    return Number.isNaN(this.endNs.data[id]!);
  }

  /** Pairs every row appended to `store` since the last call. */
  update(store: TraceStore): void {
    if (this.processedRows >= store.length) return;
    const kinds = store.kinds;
    const ts = store.tsNs;
    const task = store.col('task');
    const unique = store.f64('unique');
    const opcode = store.col('opcode');
    const nodeId = store.f64('nodeId');
    const lock = store.col('lock');
    const mode = store.col('mode');
    const mapType = store.col('mapType');
    const slot = store.col('slot');
    const err = store.col('error');
    const strings = store.strings;
    for (let row = this.processedRows; row < store.length; row++) {
      const k = kinds[row]!;
      const t = ts[row]!;
      switch (k) {
        case K.app_op_begin: {
          const lane = this.laneOf(strings.get(task[row]!));
          this.openByTaskKey.set(`a:${lane}`, this.open('app_op', lane, t, row, 0));
          break;
        }
        case K.app_op_end: this.closeKeyed(`a:${this.laneOf(strings.get(task[row]!))}`, t, row); break;
        case K.fuse_send: {
          const lane = this.laneOf(strings.get(task[row]!));
          this.openReq.set(unique[row]!, this.open('fuse_req', lane, t, row, fuseStyleOf(opcode[row]!)));
          break;
        }
        case K.fuse_recv: {
          const lane = this.laneOf(strings.get(task[row]!));
          this.lanes[lane]!.role = 'server';
          this.openServe.set(unique[row]!, this.open('fuse_serve', lane, t, row, fuseStyleOf(opcode[row]!)));
          break;
        }
        case K.fuse_reply: {
          const u = unique[row]!;
          const req = this.openReq.get(u);
          if (req !== undefined) { this.close(req, t, row); this.openReq.delete(u); }
          const serve = this.openServe.get(u);
          if (serve !== undefined) { this.close(serve, t, row); this.openServe.delete(u); }
          break;
        }
        case K.iomap_begin: {
          const lane = this.laneOf(strings.get(task[row]!));
          this.writeIsDestByLane[lane] = 0;
          this.openByTaskKey.set(`i:${lane}`, this.open('iomap', lane, t, row, IOMAP_STYLE_UNKNOWN));
          break;
        }
        case K.iomap_map: {
          // The destination decides the colour: the write slot unless it is PURE_OVERWRITE.
          const lane = this.laneOf(strings.get(task[row]!));
          const id = this.openByTaskKey.get(`i:${lane}`);
          if (id === undefined) break;
          // The last mapping of each slot is the one the step used (a RETRY_CACHE reply is
          // followed by the cache's mapping), so later rows override earlier ones.
          const type = mapType[row]!;
          const isWriteSlot = slot[row] === 1;
          if (isWriteSlot) {
            const isDest = type !== MapType.PURE_OVERWRITE;
            this.writeIsDestByLane[lane] = isDest ? 1 : 0;
            if (isDest) this.style.data[id] = type;
          } else if (!this.writeIsDestByLane[lane]) this.style.data[id] = type;
          break;
        }
        case K.iomap_iter_end: {
          const key = `i:${this.laneOf(strings.get(task[row]!))}`;
          const id = this.openByTaskKey.get(key);
          if (id !== undefined && err[row]! !== 0) this.style.data[id] = IOMAP_STYLE_ERROR;
          this.closeKeyed(key, t, row);
          break;
        }
        case K.lock_wait: {
          const lane = this.laneOf(strings.get(task[row]!));
          const key = `w:${lane}:${lock[row]}:${nodeId[row]}`;
          this.openByTaskKey.set(key, this.open('lock_wait', lane, t, row, mode[row]!));
          break;
        }
        case K.lock_acquire: {
          const lane = this.laneOf(strings.get(task[row]!));
          const suffix = `${lane}:${lock[row]}:${nodeId[row]}`;
          this.closeKeyed(`w:${suffix}`, t, row);
          this.openByTaskKey.set(`h:${suffix}`, this.open('lock_hold', lane, t, row, mode[row]!));
          break;
        }
        case K.lock_release: {
          const lane = this.laneOf(strings.get(task[row]!));
          this.closeKeyed(`h:${lane}:${lock[row]}:${nodeId[row]}`, t, row);
          break;
        }
        default:
          break;
      }
    }
    this.processedRows = store.length;
    for (const t of this.tracks) {
      if (t.lod.sealedCount < t.spans.length) {
        t.lod.extend(t.spans.data, t.spans.length, this.startNs.data, this.endNs.data, this.kind.data, this.style.data);
      }
    }
    this.version++;
  }

  private closeKeyed(key: string, tsNs: number, row: number): void {
    const id = this.openByTaskKey.get(key);
    if (id === undefined) return;
    this.close(id, tsNs, row);
    this.openByTaskKey.delete(key);
  }

  /**
   * Calls `visit` for each span of a track overlapping [fromNs, toNs], in start order. Open spans
   * are treated as ending at `nowNs` (the store's last time).
   */
  forEachInRange(track: Track, fromNs: number, toNs: number, nowNs: number, visit: (id: number) => void): void {
    this.forEachInRangeLod(track, fromNs, toNs, nowNs, -1, { span: visit, unitOk: () => false, unit: () => {} });
  }

  /**
   * Like forEachInRange, but spans starting inside [fromNs, toNs] that are already summarised may
   * come as whole LOD buckets (levels up to `levelIdx`, see span-lod.ts; −1: none) where `v.unitOk`
   * allows. Closed spans that overlap fromNs start at or after fromNs − maxDur; open spans that
   * started earlier are visited first, from the (small) open set.
   */
  forEachInRangeLod(track: Track, fromNs: number, toNs: number, nowNs: number, levelIdx: number, v: LodVisitor): void {
    const ids = track.spans.data;
    const n = track.spans.length;
    const start = this.startNs.data;
    const lo = searchSortedBy(ids, n, start, fromNs - track.maxDurNs, false);
    const firstStart = lo < n ? start[ids[lo]!]! : Infinity;
    // Open spans that started before the scan (never summarised), in opening = start order.
    for (const id of track.openIds) if (start[id]! < firstStart && start[id]! <= toNs) v.span(id);
    track.lod.visitRange(ids, n, start, this.endNs.data, nowNs, lo, fromNs, toNs, levelIdx, v);
  }
}

export function spanKindOf(kindCode: number): SpanKindName {
  return SPAN_KIND_NAMES[kindCode]!;
}
/** Convenience for tests: event kinds that open spans. */
export const SPAN_OPENERS: readonly EventKind[] = ['app_op_begin', 'fuse_send', 'fuse_recv', 'iomap_begin', 'lock_wait', 'lock_acquire'];
