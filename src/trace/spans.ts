// Pairing of instant events into spans, incrementally as rows arrive:
//   app_op      app_op_begin → app_op_end            per task (a syscall)
//   fuse_req    fuse_send → fuse_reply               by unique, on the requesting task's lane
//   fuse_serve  fuse_recv → fuse_reply               by unique, on the server thread's lane
//   iomap       iomap_begin → the first of IOMAP_STEP_CLOSERS on the task (one iomap_iter step)
// Lanes are per task, except a kernel filesystem's iomap step (begin row nodeId 0, fsDev ≠ 0): it
// is drawn on the lane of its inode, keyed by (fsDev, ino), role 'fs' — several tasks' steps on one
// file side by side. Its mappings and closers still pair by task (the per-task open-step state);
// only the lane it is drawn on differs. Steps of several tasks may overlap there, so each goes in
// the first of the lane's SUBROW_COUNT sub-rows with no open step (stacked); a step that finds all
// of them busy goes in the last and is drawn over (more than SUBROW_COUNT concurrent steps).
//   lock_wait   lock_wait → lock_acquire             per task + lock + nodeId
//   lock_hold   lock_acquire → lock_release          per task + lock + nodeId
// A span is created when it opens (endNs = NaN until it closes), so the spans of `Track.spans`
// are in startNs order per track and by id. Nothing is invented: a span ends only at an event
// that shows its end. Per span, `flags` (SpanFlag) says what the trace does not show:
//   begunBefore   a closer came with no opener (the excerpt began mid-way): drawn from the
//                 trace's start; kept in `Track.headIds`, not `Track.spans` (its start is
//                 earlier than every other's, so visiting the heads first keeps start order)
//   openEnded     the trace is complete (markComplete) and the span never closed
//   inferredHold  a hold derived from lock contention events: its start is traced, its end never
//   failed        an iomap step (and its request) an iomap_iter_end with error ≠ 0 marked failed
//   untimed       an end is an untimed event (untimed.ts: a pasted line without time): its place is
//                 the file's order, its width no duration
// A live stream's open span is still running (drawn to "now"); only markComplete makes it
// open-ended. Statistics count a duration only for spans with `hasDuration`.
// `style` carries what colours a span: the mapping type of an iomap step, the lock mode of a
// hold, the opcode class of a request.

import { KIND_CODE, KINDS, ENUMS, type EventKind } from './schema.ts';
import { Opcode, MapType } from './fuse-proto.ts';
import type { TraceStore } from './store.ts';
import { Growable, LOAD_MARGIN, claimSlot, type TypedArray } from './growable.ts';
import { LOD_SIZE_AT, TrackLod, type LodVisitor } from './span-lod.ts';
import { searchSorted, searchSortedBy } from './sorted.ts';
import type { NodeId, Ino } from './ids.ts';
import { UNTIMED_SPAN_TEXT, untimedSpanText, untimedTaskFlags } from './untimed.ts';

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

/** Bits of SpanIndex.flags: what the trace does not show about a span (file comment). */
export const SpanFlag = {
  begunBefore: 1,
  openEnded: 2,
  inferredHold: 4,
  failed: 8,
  untimed: 16,
} as const;
/** Flags that mean the span's duration is not known. */
const NO_DURATION = SpanFlag.begunBefore | SpanFlag.openEnded | SpanFlag.untimed;

/** Words the views use for the flags. */
export const BEGUN_BEFORE_TEXT = 'began before this trace';
export const OPEN_ENDED_TEXT = 'did not end in this trace';
export const INFERRED_HOLD_TEXT = 'inferred from lock contention: start traced, end not traced';

/**
 * What ends an iomap step on the step's task — the first of these after its iomap_begin (from the
 * kernel's iomap_iter loop and the fuse-iomap series' file operations). One line per closer; a
 * closer with `fsOpName` closes only fs_op events whose name it accepts. The step ends at the
 * closer's time.
 */
const IOMAP_STEP_CLOSERS: readonly { kind: EventKind; fsOpName?: (name: string) => boolean; why: string }[] = [
  { kind: 'iomap_begin', why: "the loop's next step begins" },
  { kind: 'iomap_end', why: 'FUSE_IOMAP_END is the last act of a step' },
  { kind: 'iomap_iter_end', why: 'the iteration ended (error ≠ 0 also marks the step failed)' },
  { kind: 'app_op_end', why: 'the syscall returned' },
  { kind: 'fs_op', fsOpName: (n) => n.endsWith('_end'), why: "a file operation's exit, e.g. iomap_buffered_write_end" },
  { kind: 'fs_op', fsOpName: (n) => n === 'iomap_dio_write_end_io' || n === 'iomap_dio_complete', why: 'direct IO completed' },
];
/** Per event kind code: 0 not a closer, 1 closes, 2 closes if an fs_op name test accepts the name. */
const CLOSES_STEP = new Uint8Array(KINDS.length);
for (const c of IOMAP_STEP_CLOSERS) CLOSES_STEP[KIND_CODE[c.kind]] = c.fsOpName ? 2 : 1;
const FS_OP_NAME_TESTS = IOMAP_STEP_CLOSERS.flatMap((c) => (c.fsOpName ? [c.fsOpName] : []));

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

function fuseStyleOf(opcode: number): number {
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
  /** The task (`comm/pid`); for an 'fs' lane its label, fsInodeLabel (`dev 7:0 ino 0xc`). */
  task: string;
  /**
   * What the trace shows the task to be. 'server': it read a request from /dev/fuse (fuse_recv) or
   * the kernel ended a request in its context (fuse_request_end runs in the thread that wrote the
   * reply, fs/fuse/dev.c; an abort's ENOTCONN/ECONNABORTED/ETIMEDOUT end is not counted). 'app': it
   * made a syscall, queued a FUSE request or ran an iomap step, and was never seen serving one.
   * 'kworker': the comm is `kworker/…`. 'unknown': none of these (e.g. only lock events). 'fs': not
   * a task but a kernel filesystem's inode, carrying that inode's iomap steps (file comment).
   */
  role: 'app' | 'server' | 'kworker' | 'unknown' | 'fs';
}

/** A kernel filesystem's inode as the kernel's iomap tracepoints print it: `dev 7:0 ino 0xc`. */
export function fsInodeLabel(fsDev: number, ino: Ino): string {
  // fsDev is the kernel's internal dev_t: major << 20 | minor.
  return `dev ${fsDev >>> 20}:${fsDev & 0xfffff} ino 0x${ino.toString(16)}`;
}

/** A request ended by an abort or timeout (-ENOTCONN, -ECONNABORTED, -ETIMEDOUT) ends in whoever aborted it, not a server thread. */
const ABORT_ENOTCONN = -107;
const ABORT_ECONNABORTED = -103;
const ABORT_ETIMEDOUT = -110;

/** Marks a missing row link. */
export const NO_ROW = 0xffff_ffff;
/** mappingRowsOf looks this many rows past an iomap span's begin at most (a step is a handful). */
const MAX_MAP_SCAN_ROWS = 1 << 16;
const K = KIND_CODE;
const PHASE_END = ENUMS.phase.indexOf('end');
/** A lock's key within a lane: nodeId × 8 + lock enum index (exact for nodeIds < 2^50). */
/** A lock per task: a fuse inode's by nodeId; a kernel filesystem's (nodeId 0) by its ino (negative keys). */
const lockKey = (lock: number, nodeId: NodeId, ino: Ino): number => (nodeId !== 0 ? nodeId * 8 + lock : -(ino * 8 + lock) - 1);
/** In a lane's lock maps: the key was seen and its span closed. */
const CLOSED = -1;

const f64s = (): Growable<Float64Array> => new Growable(Float64Array, 1024);
const u32s = (): Growable<Uint32Array> => new Growable(Uint32Array, 1024);
const u8s = (): Growable<Uint8Array> => new Growable(Uint8Array, 1024);
const i32s = (): Growable<Int32Array> => new Growable(Int32Array, 16);

/**
 * A track's open spans in opening (= start) order: a few at a time, so a short list searched
 * from its newest end is cheaper than a Set's hashing per span opened and closed.
 */
export class OpenSpans {
  private ids = new Int32Array(8);
  size = 0;
  add(id: number): void {
    if (this.size === this.ids.length) {
      const grown = new Int32Array(this.size * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.size++] = id;
  }
  delete(id: number): void {
    const ids = this.ids;
    let i = this.size - 1;
    while (i >= 0 && ids[i] !== id) i--;
    if (i < 0) return;
    ids.copyWithin(i, i + 1, this.size);
    this.size--;
  }
  *[Symbol.iterator](): IterableIterator<number> {
    for (let i = 0; i < this.size; i++) yield this.ids[i]!;
  }
  /** The open span at position `i` (0: the oldest). */
  at(i: number): number { return this.ids[i]!; }
}

/**
 * Open span ids by a request's `unique`: open addressing over typed arrays (linear probing,
 * deletion by shifting the run back), not a Map — a request is added, looked up and deleted once
 * per row that ends it, and a Map's delete was a tenth of pairing a file's rows. Few are open at
 * a time, so the table stays small. A unique is an integer; NaN (none) is its own key, as in a Map.
 */
export class OpenByUnique {
  private keys = new Float64Array(64);
  /** Span id per slot; −1: empty. */
  private ids = new Int32Array(64).fill(-1);
  private shift = 32 - 6;
  size = 0;

  private slotOf(k: number): number {
    // Mixes the low and high 32 bits (ToUint32 / ToInt32 wrap: defined for any double).
    const h = Math.imul((k >>> 0) ^ Math.imul((k / 4294967296) | 0, 0x27d4eb2d), 0x9e3779b1);
    return h >>> this.shift;
  }

  /** The id kept for `k`, or −1. */
  get(k: number): number {
    if (k !== k) k = -1; // NaN: no unique is negative
    const mask = this.ids.length - 1;
    for (let i = this.slotOf(k); ; i = (i + 1) & mask) {
      const id = this.ids[i]!;
      if (id === -1) return -1;
      if (this.keys[i] === k) return id;
    }
  }

  /** Keeps `id` (≥ 0) for `k`, replacing what was kept for it. */
  set(k: number, id: number): void {
    if (k !== k) k = -1;
    if ((this.size + 1) * 2 > this.ids.length) this.grow();
    const mask = this.ids.length - 1;
    let i = this.slotOf(k);
    while (this.ids[i] !== -1 && this.keys[i] !== k) i = (i + 1) & mask;
    if (this.ids[i] === -1) this.size++;
    this.keys[i] = k;
    this.ids[i] = id;
  }

  delete(k: number): void {
    if (k !== k) k = -1;
    const mask = this.ids.length - 1;
    let i = this.slotOf(k);
    while (this.ids[i] !== -1 && this.keys[i] !== k) i = (i + 1) & mask;
    if (this.ids[i] === -1) return;
    // Entries after it in its run move back into the hole when their home slot is not between it and them.
    for (let j = (i + 1) & mask; this.ids[j] !== -1; j = (j + 1) & mask) {
      const home = this.slotOf(this.keys[j]!);
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.keys[i] = this.keys[j]!;
        this.ids[i] = this.ids[j]!;
        i = j;
      }
    }
    this.ids[i] = -1;
    this.size--;
  }

  private grow(): void {
    const keys = this.keys;
    const ids = this.ids;
    this.keys = new Float64Array(keys.length * 2);
    this.ids = new Int32Array(ids.length * 2).fill(-1);
    this.shift--;
    this.size = 0;
    for (let i = 0; i < ids.length; i++) if (ids[i] !== -1) this.set(keys[i]!, ids[i]!);
  }
}

/** The spans of one lane and sub-row, in start order; `maxDurNs` bounds range queries. */
class Track {
  readonly spans = u32s();
  maxDurNs = 0;
  /** Spans still open: their end is unknown, so range queries must include them. */
  readonly openIds = new OpenSpans();
  /** Begun-before spans (they start at the trace's start, before every span of `spans`). */
  readonly headIds: number[] = [];
  /** Power-of-two summaries of the closed spans, for zoomed-out frames (span-lod.ts). */
  readonly lod = new TrackLod();
  constructor(readonly laneIdx: number, readonly subrow: number) {}
  get isEmpty(): boolean { return this.spans.length === 0 && this.headIds.length === 0; }
}

export class SpanIndex {
  readonly startNs = f64s();
  readonly endNs = f64s();
  /** SpanKind (< 8) and style (< 256: colourKey in span-lod.ts keeps 8 bits of it): a byte each. */
  readonly kind = u8s();
  readonly style = u8s();
  /** SpanFlag bits. */
  readonly flags = u8s();
  readonly lane = u32s();
  /** The sub-row of its lane the span is drawn in: SPAN_SUBROW of its kind, except stacked steps on an 'fs' lane. */
  readonly subrow = u8s();
  readonly beginRow = u32s();
  readonly endRow = u32s();
  readonly lanes: Lane[] = [];
  /** tracks[laneIdx * SUBROW_COUNT + subrow] */
  readonly tracks: Track[] = [];
  /** Rows of the store already paired. */
  processedRows = 0;
  version = 0;
  /** The trace is complete (a file finished loading): spans still open are open-ended. */
  complete = false;
  /**
   * A file loading whole, drawn only once complete: the LOD is summarised as it loads as it will
   * be once complete (extendSettledLods: open spans passed over as if they never close, gone back
   * to if they do), and finished by markComplete — which is then short.
   */
  deferLod = false;

  private readonly laneByTask = new Map<string, number>();
  /** 'fs' lanes by fsDev, then ino (ino is a 64-bit number: no exact single-number key). */
  private readonly fsLaneByDev = new Map<number, Map<number, number>>();
  /** The last fsLaneOf answer: a file's steps come in runs. */
  private lastFsDev = -1;
  private lastFsIno = -1;
  private lastFsLane = -1;
  /** Lane by the task's string id + 1 (0: not looked up yet): no string per row. */
  private readonly laneByTaskId = new Growable(Int32Array, 64);
  /** By task string id: 1 if the kernel ended a request in it (a server thread), lane or not yet. */
  private readonly serverTaskIds = new Growable(Uint8Array, 64);
  private readonly openReq = new OpenByUnique();
  private readonly openServe = new OpenByUnique();
  // Per-lane pairing state, by lane index (−1: none).
  private readonly openApp = i32s();
  private readonly openStep = i32s();
  /** The lane's most recent iomap step, open or closed (an iter_end error after the close marks it). */
  private readonly lastStep = i32s();
  /** The lane's most recent request span (an iomap step's failure marks it too). */
  private readonly lastReq = i32s();
  /** Bit per SpanKind: the lane has had a span of it (a closer without opener after that is a stray, not begun-before). */
  private readonly seenKinds = new Growable(Uint8Array, 16);
  /**
   * Whether the lane's open step's latest write-slot mapping is a real destination (not
   * PURE_OVERWRITE), which then colours the step instead of the read slot.
   */
  private readonly writeIsDest = new Growable(Uint8Array, 16);
  /** Per lane: open wait / hold by lockKey (CLOSED once closed, so a later closer is a stray). */
  private readonly openWait: Map<number, number>[] = [];
  private readonly openHold: Map<number, number>[] = [];
  /** During update(): the store's task column and its untimed task ids (untimed.ts; null: none), for the untimed flag. */
  private taskCol: ArrayLike<number> = [];
  private untimedFlags: Uint8Array | null = null;
  /** What an untimed span says (the kinds of untimed events the store has: untimed.ts). */
  private untimedText = UNTIMED_SPAN_TEXT;
  /** A file of known size loading (reserveForRows): its rows, and the row count at which the LOD levels are sized (LOD_SIZE_AT; null: done or none). */
  private lodSizing: { totalRows: number; atRows: number } | null = null;
  /** fs_op name string id → 1 does not close a step, 2 closes (0: not tested yet). */
  private readonly fsOpCloses = new Growable(Uint8Array, 64);

  get count(): number { return this.startNs.length; }

  laneOf(task: string): number {
    let idx = this.laneByTask.get(task);
    if (idx === undefined) {
      idx = this.addLane(task, task.startsWith('kworker') ? 'kworker' : 'unknown');
      this.laneByTask.set(task, idx);
    }
    return idx;
  }

  /** The 'fs' lane of a kernel filesystem's inode (fsDev as a 32-bit dev_t, ino). */
  fsLaneOf(fsDev: number, ino: Ino): number {
    if (fsDev === this.lastFsDev && ino === this.lastFsIno) return this.lastFsLane;
    let byIno = this.fsLaneByDev.get(fsDev);
    if (byIno === undefined) this.fsLaneByDev.set(fsDev, (byIno = new Map()));
    let idx = byIno.get(ino);
    if (idx === undefined) {
      idx = this.addLane(fsInodeLabel(fsDev, ino), 'fs');
      byIno.set(ino, idx);
    }
    this.lastFsDev = fsDev;
    this.lastFsIno = ino;
    this.lastFsLane = idx;
    return idx;
  }

  private addLane(task: string, role: Lane['role']): number {
    const idx = this.lanes.length;
    this.lanes.push({ idx, task, role });
    for (let s = 0; s < SUBROW_COUNT; s++) this.tracks.push(new Track(idx, s));
    // Per-task pairing state (unused on an 'fs' lane: its steps pair on their task's lane).
    this.openApp.push(-1);
    this.openStep.push(-1);
    this.lastStep.push(-1);
    this.lastReq.push(-1);
    this.seenKinds.push(0);
    this.writeIsDest.push(0);
    this.openWait.push(new Map());
    this.openHold.push(new Map());
    return idx;
  }

  /** The first sub-row of an 'fs' lane with no open step; the last if every one has one. */
  private freeFsSubrow(laneIdx: number): number {
    const base = laneIdx * SUBROW_COUNT;
    for (let s = 0; s < SUBROW_COUNT - 1; s++) if (this.tracks[base + s]!.openIds.size === 0) return s;
    return SUBROW_COUNT - 1;
  }

  private laneOfRow(store: TraceStore, taskId: number): number {
    const cache = this.laneByTaskId;
    if (taskId < cache.length && cache.data[taskId]! > 0) return cache.data[taskId]! - 1;
    const lane = this.laneOf(store.strings.get(taskId));
    if (this.isServerTask(taskId)) this.lanes[lane]!.role = 'server';
    while (cache.length <= taskId) cache.push(0);
    cache.data[taskId] = lane + 1;
    return lane;
  }

  /** A task lane that did an app's work; a server thread or a kworker stays what it is. */
  private markApp(lane: number): void {
    const l = this.lanes[lane]!;
    if (l.role === 'unknown') l.role = 'app';
  }

  private isServerTask(taskId: number): boolean {
    return taskId < this.serverTaskIds.length && this.serverTaskIds.data[taskId] === 1;
  }

  /** The kernel ended a request in this task: a server thread, its lane now or when it gets one. */
  private markServerTask(taskId: number): void {
    if (this.isServerTask(taskId)) return;
    const server = this.serverTaskIds;
    while (server.length <= taskId) server.push(0);
    server.data[taskId] = 1;
    const cache = this.laneByTaskId;
    if (taskId < cache.length && cache.data[taskId]! > 0) {
      const l = this.lanes[cache.data[taskId]! - 1]!;
      if (l.role !== 'fs') l.role = 'server';
    }
  }

  track(laneIdx: number, subrow: number): Track {
    return this.tracks[laneIdx * SUBROW_COUNT + subrow]!;
  }

  private push(kind: number, laneIdx: number, subrow: number, startNs: number, endNs: number, row: number, endRow: number, style: number, flags: number): number {
    const id = claimSlot(this.spanColumns);
    this.startNs.data[id] = startNs;
    this.endNs.data[id] = endNs;
    this.kind.data[id] = kind;
    this.style.data[id] = style;
    this.flags.data[id] = flags;
    this.lane.data[id] = laneIdx;
    this.subrow.data[id] = subrow;
    this.beginRow.data[id] = row;
    this.endRow.data[id] = endRow;
    this.seenKinds.data[laneIdx]! |= 1 << kind;
    return id;
  }

  /** SpanFlag.untimed if `row` is an untimed event (untimed.ts), else 0. */
  private untimedFlag(row: number): number {
    return this.untimedFlags !== null && this.untimedFlags[this.taskCol[row]!] === 1 ? SpanFlag.untimed : 0;
  }

  /** Opens a span of SpanKind `kind` in sub-row `subrow` (numbers, not names: no lookup by name per span). */
  private open(kind: number, subrow: number, laneIdx: number, tsNs: number, row: number, style: number): number {
    const id = this.push(kind, laneIdx, subrow, tsNs, Number.NaN, row, NO_ROW, style, this.untimedFlag(row));
    const t = this.track(laneIdx, subrow);
    t.spans.push(id);
    t.openIds.add(id);
    return id;
  }

  /**
   * A span whose closer (`row`) came with no opener: it began before the trace. It starts at the
   * trace's start and its begin row is the closer (the only event it has).
   */
  private openBefore(kind: SpanKindName, laneIdx: number, traceStartNs: number, tsNs: number, row: number, style: number): number {
    const id = this.push(SpanKind[kind], laneIdx, SPAN_SUBROW[kind], traceStartNs, tsNs, row, row, style, SpanFlag.begunBefore | this.untimedFlag(row));
    this.track(laneIdx, SPAN_SUBROW[kind]).headIds.push(id);
    return id;
  }

  private close(id: number, tsNs: number, row: number): void {
    this.endNs.data[id] = tsNs;
    this.endRow.data[id] = row;
    this.flags.data[id] = (this.flags.data[id]! & ~SpanFlag.openEnded) | this.untimedFlag(row);
    const t = this.track(this.lane.data[id]!, this.subrow.data[id]!);
    t.openIds.delete(id);
    const durNs = tsNs - this.startNs.data[id]!;
    if (durNs > t.maxDurNs) t.maxDurNs = durNs;
  }

  /** Ends the lane's open iomap step at this row, if it has one. */
  private closeStep(lane: number, tsNs: number, row: number): void {
    const id = this.openStep.data[lane]!;
    if (id < 0) return;
    this.close(id, tsNs, row);
    this.openStep.data[lane] = -1;
  }

  private closesStep(store: TraceStore, k: number, row: number): boolean {
    const c = CLOSES_STEP[k]!;
    if (c !== 2) return c === 1;
    const nameId = store.col('name')[row]!;
    const cache = this.fsOpCloses;
    while (cache.length <= nameId) cache.push(0);
    if (cache.data[nameId] === 0) {
      const name = store.strings.get(nameId);
      cache.data[nameId] = FS_OP_NAME_TESTS.some((test) => test(name)) ? 2 : 1;
    }
    return cache.data[nameId] === 2;
  }

  /** Whether the trace shows both ends of the span: only then does it have a duration to count. */
  hasDuration(id: number): boolean {
    return !Number.isNaN(this.endNs.data[id]!) && (this.flags.data[id]! & NO_DURATION) === 0;
  }
  isBegunBefore(id: number): boolean { return (this.flags.data[id]! & SpanFlag.begunBefore) !== 0; }
  /** Open with no end to come: the trace is complete, or it is a hold whose end is never traced. */
  isOpenEnded(id: number): boolean { return (this.flags.data[id]! & (SpanFlag.openEnded | SpanFlag.inferredHold)) !== 0 && this.isOpen(id); }
  isInferredHold(id: number): boolean { return (this.flags.data[id]! & SpanFlag.inferredHold) !== 0; }
  isFailed(id: number): boolean { return (this.flags.data[id]! & SpanFlag.failed) !== 0; }
  /** An end of the span is an untimed event: its width is the file's order, not a duration. */
  isUntimed(id: number): boolean { return (this.flags.data[id]! & SpanFlag.untimed) !== 0; }

  /** What the trace does not show about span `id`, in the views' words ('' when it shows it all). */
  unknownText(id: number): string {
    if (this.isUntimed(id)) return this.untimedText;
    if (this.isBegunBefore(id)) return BEGUN_BEFORE_TEXT;
    if (this.isInferredHold(id) && this.isOpen(id)) return INFERRED_HOLD_TEXT;
    if (this.isOpenEnded(id)) return OPEN_ENDED_TEXT;
    return '';
  }

  /**
   * The trace is complete (a file or recording finished loading): the spans still open will
   * never close — they are open-ended — and the LOD summarises past them.
   */
  markComplete(): void {
    if (this.complete) return;
    this.complete = true;
    for (const t of this.tracks) for (const id of t.openIds) this.flags.data[id]! |= SpanFlag.openEnded;
    if (this.deferLod) this.endDeferredLod();
    else this.extendLods();
    this.version++;
  }

  /**
   * Ends a deferLod load: complete, every track's LOD is summarised to its end (tracks summarised
   * as they loaded from where they stopped; one with nothing summarised yet in one pass,
   * TrackLod.buildAll); else (a file stopped part way) later updates keep it up.
   */
  endDeferredLod(): void {
    if (!this.deferLod) return;
    this.deferLod = false;
    this.lodSizing = null;
    for (const t of this.tracks) t.lod.endLoad(t.spans.length, this.endNs.data, this.complete);
    if (this.complete) {
      const built: TrackLod[] = [];
      const lodOfTrack = new Int32Array(this.tracks.length).fill(-1);
      this.tracks.forEach((t, k) => {
        if (t.lod.sealedCount === 0 && t.spans.length > 0) lodOfTrack[k] = built.push(t.lod) - 1;
      });
      if (built.length > 0) {
        const lodOf = new Int32Array(this.count);
        const lane = this.lane.data;
        const subrow = this.subrow.data;
        const flags = this.flags.data;
        for (let id = 0; id < lodOf.length; id++) {
          // A begun-before span is in its track's headIds, not its list.
          lodOf[id] = (flags[id]! & SpanFlag.begunBefore) !== 0 ? -1 : lodOfTrack[lane[id]! * SUBROW_COUNT + subrow[id]!]!;
        }
        TrackLod.buildAll(built, lodOf, this.startNs.data, this.endNs.data, this.kind.data, this.style.data);
      }
    }
    this.extendLods();
  }

  /**
   * An iomap span's `iomap_map` rows, in order: its task's, after its begin row and up to its end
   * row — or, for a span that never closed, up to the task's next iomap_begin.
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
  /** The per-span columns: one length and one capacity (claimSlot). Made once: push runs per span. */
  private readonly spanColumns: readonly Growable<TypedArray>[] = [this.startNs, this.endNs, this.kind, this.style, this.flags, this.lane, this.subrow, this.beginRow, this.endRow];

  /** Spans `rows` rows will make at the rate these spans came from `rowsSoFar` rows, 5 % over (for reserve). */
  spansFor(rows: number, rowsSoFar: number): number {
    return rowsSoFar > 0 ? Math.ceil((this.count / rowsSoFar) * rows * 1.05) : 0;
  }

  /** Room for `spanCount` spans in the per-span columns (a live window's rebuild knows about how many). */
  reserve(spanCount: number): void {
    for (const g of this.spanColumns) g.reserve(spanCount);
  }

  /**
   * Sizes the per-span columns and every track's list once for a file of `totalRows` rows, from
   * what its first `rowsSoFar` rows made, LOAD_MARGIN over: the load then grows nothing by
   * copying, and trim keeps that margin rather than copying it away.
   */
  reserveForRows(totalRows: number, rowsSoFar: number): void {
    if (rowsSoFar <= 0) return;
    const scale = (totalRows / rowsSoFar) * (1 + LOAD_MARGIN);
    this.reserve(Math.ceil(this.count * scale));
    for (const t of this.tracks) t.spans.reserve(Math.ceil(t.spans.length * scale));
    if (this.deferLod) this.lodSizing = { totalRows, atRows: Math.max(rowsSoFar, Math.ceil(totalRows * LOD_SIZE_AT)) };
  }

  /**
   * Drops growth slack beyond a load's margin everywhere (a file finished loading); later updates
   * grow again. `keepLodSlack`: the LOD levels' slack stays until dropLodSlack (TrackLod.trim).
   */
  trim(keepLodSlack = false): void {
    for (const g of this.spanColumns) g.trimLoose();
    for (const t of this.tracks) {
      t.spans.trimLoose();
      t.lod.trim(keepLodSlack);
    }
  }

  /** Drops the LOD levels' growth slack that trim(true) kept. */
  dropLodSlack(): void {
    for (const t of this.tracks) t.lod.dropSlack();
  }

  /** Bytes of the typed arrays (capacity included): spans, tracks and their LOD levels. */
  byteLength(): number {
    let n = 0;
    for (const g of this.spanColumns) n += g.byteLength();
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
    const unique = store.fieldCol('unique');
    const opcode = store.col('opcode');
    const nodeId = store.nodeIdCol();
    const ino = store.inoCol();
    const fsDev = store.col('fsDev');
    const lock = store.col('lock');
    const mode = store.col('mode');
    const mapType = store.col('mapType');
    const slot = store.col('slot');
    const err = store.col('error');
    const phase = store.col('phase');
    const traceStartNs = store.startNs;
    this.taskCol = task;
    this.untimedFlags = untimedTaskFlags(store);
    if (this.untimedFlags !== null) this.untimedText = untimedSpanText(store);
    for (let row = this.processedRows; row < store.length; row++) {
      const k = kinds[row]!;
      const t = ts[row]!;
      // Every closer of IOMAP_STEP_CLOSERS ends the task's open step first (the kinds below may
      // then open a new one or mark the one just closed).
      if (CLOSES_STEP[k] !== 0 && this.closesStep(store, k, row)) this.closeStep(this.laneOfRow(store, task[row]!), t, row);
      switch (k) {
        case K.app_op_begin: {
          const lane = this.laneOfRow(store, task[row]!);
          this.markApp(lane);
          this.openApp.data[lane] = this.open(SpanKind.app_op, SPAN_SUBROW.app_op, lane, t, row, 0);
          break;
        }
        case K.app_op_end: {
          const lane = this.laneOfRow(store, task[row]!);
          this.markApp(lane);
          const id = this.openApp.data[lane]!;
          if (id >= 0) {
            this.close(id, t, row);
            this.openApp.data[lane] = -1;
          } else if ((this.seenKinds.data[lane]! & (1 << SpanKind.app_op)) === 0) {
            this.openBefore('app_op', lane, traceStartNs, t, row, 0);
          }
          break;
        }
        case K.fuse_send: {
          const lane = this.laneOfRow(store, task[row]!);
          this.markApp(lane);
          const id = this.open(SpanKind.fuse_req, SPAN_SUBROW.fuse_req, lane, t, row, fuseStyleOf(opcode[row]!));
          this.openReq.set(unique[row]!, id);
          this.lastReq.data[lane] = id;
          break;
        }
        case K.fuse_recv: {
          const lane = this.laneOfRow(store, task[row]!);
          this.lanes[lane]!.role = 'server';
          this.openServe.set(unique[row]!, this.open(SpanKind.fuse_serve, SPAN_SUBROW.fuse_serve, lane, t, row, fuseStyleOf(opcode[row]!)));
          break;
        }
        case K.fuse_reply: {
          const u = unique[row]!;
          const e = err[row]!;
          if (e !== ABORT_ENOTCONN && e !== ABORT_ECONNABORTED && e !== ABORT_ETIMEDOUT) this.markServerTask(task[row]!);
          const req = this.openReq.get(u);
          if (req >= 0) { this.close(req, t, row); this.openReq.delete(u); }
          const serve = this.openServe.get(u);
          if (serve >= 0) { this.close(serve, t, row); this.openServe.delete(u); }
          if (req < 0 && serve < 0) {
            // The request began before the trace; the replying task is the server thread that
            // served it (the requester is not known).
            const lane = this.laneOfRow(store, task[row]!);
            this.lanes[lane]!.role = 'server';
            this.openBefore('fuse_serve', lane, traceStartNs, t, row, fuseStyleOf(opcode[row]!));
          }
          break;
        }
        case K.iomap_begin: {
          const lane = this.laneOfRow(store, task[row]!);
          this.markApp(lane);
          this.writeIsDest.data[lane] = 0;
          // A kernel filesystem's step is drawn on its inode's lane; it still pairs on its task's.
          const dev = fsDev[row]!;
          let id: number;
          if (nodeId[row] === 0 && dev !== 0) {
            const fsLane = this.fsLaneOf(dev, ino[row]!);
            id = this.open(SpanKind.iomap, this.freeFsSubrow(fsLane), fsLane, t, row, IOMAP_STYLE_UNKNOWN);
          } else id = this.open(SpanKind.iomap, SPAN_SUBROW.iomap, lane, t, row, IOMAP_STYLE_UNKNOWN);
          this.openStep.data[lane] = id;
          this.lastStep.data[lane] = id;
          break;
        }
        case K.iomap_map: {
          // The destination decides the colour: the write slot unless it is PURE_OVERWRITE.
          const lane = this.laneOfRow(store, task[row]!);
          const id = this.openStep.data[lane]!;
          if (id < 0) break;
          // The last mapping of each slot is the one the step used (a RETRY_CACHE reply is
          // followed by the cache's mapping), so later rows override earlier ones.
          const type = mapType[row]!;
          if (slot[row] === 1) {
            const isDest = type !== MapType.PURE_OVERWRITE;
            this.writeIsDest.data[lane] = isDest ? 1 : 0;
            if (isDest) this.style.data[id] = type;
          } else if (!this.writeIsDest.data[lane]) this.style.data[id] = type;
          break;
        }
        case K.iomap_end: {
          // Closed the open step above; with none ever on the task, the step began before the trace.
          const lane = this.laneOfRow(store, task[row]!);
          if (this.lastStep.data[lane]! < 0) this.lastStep.data[lane] = this.openBefore('iomap', lane, traceStartNs, t, row, IOMAP_STYLE_UNKNOWN);
          break;
        }
        case K.iomap_iter_end: {
          if (err[row]! === 0) break;
          // Marks the task's most recent step failed — the one just closed, or one that already
          // closed at its iomap_end — and its request when that began within the step.
          const lane = this.laneOfRow(store, task[row]!);
          const id = this.lastStep.data[lane]!;
          if (id < 0) break;
          this.style.data[id] = IOMAP_STYLE_ERROR;
          this.flags.data[id]! |= SpanFlag.failed;
          const req = this.lastReq.data[lane]!;
          if (req >= 0 && this.startNs.data[req]! >= this.startNs.data[id]!) this.flags.data[req]! |= SpanFlag.failed;
          break;
        }
        case K.lock_wait: {
          const lane = this.laneOfRow(store, task[row]!);
          this.openWait[lane]!.set(lockKey(lock[row]!, nodeId[row]!, ino[row]!), this.open(SpanKind.lock_wait, SPAN_SUBROW.lock_wait, lane, t, row, mode[row]!));
          break;
        }
        case K.lock_acquire: {
          const lane = this.laneOfRow(store, task[row]!);
          const key = lockKey(lock[row]!, nodeId[row]!, ino[row]!);
          const waits = this.openWait[lane]!;
          const w = waits.get(key);
          if (w !== undefined && w >= 0) { this.close(w, t, row); waits.set(key, CLOSED); }
          const id = this.open(SpanKind.lock_hold, SPAN_SUBROW.lock_hold, lane, t, row, mode[row]!);
          // Derived from a contention end (the importer writes it right after): no release will come.
          if (row > 0 && kinds[row - 1] === K.lock_contention && phase[row - 1] === PHASE_END && task[row - 1] === task[row]) {
            this.flags.data[id]! |= SpanFlag.inferredHold;
          }
          this.openHold[lane]!.set(key, id);
          break;
        }
        case K.lock_release: {
          const lane = this.laneOfRow(store, task[row]!);
          const key = lockKey(lock[row]!, nodeId[row]!, ino[row]!);
          const holds = this.openHold[lane]!;
          const h = holds.get(key);
          if (h !== undefined && h >= 0) { this.close(h, t, row); holds.set(key, CLOSED); }
          else if (h === undefined) {
            this.openBefore('lock_hold', lane, traceStartNs, t, row, mode[row]!);
            holds.set(key, CLOSED);
          }
          break;
        }
        default:
          break;
      }
    }
    this.processedRows = store.length;
    if (!this.deferLod) this.extendLods();
    else {
      this.extendSettledLods();
      if (this.lodSizing !== null && this.processedRows >= this.lodSizing.atRows) {
        const scale = (this.lodSizing.totalRows / this.processedRows) * (1 + LOAD_MARGIN);
        for (const t of this.tracks) t.lod.reserveScaled(scale);
        this.lodSizing = null;
      }
    }
    this.version++;
  }

  /**
   * deferLod: summarises each track's spans that will not change any more, up to the first that
   * may — a task's latest iomap step (an iomap_iter_end error may still mark it failed, changing
   * its colour) — passing over open spans as if they never close, and going back to one that
   * does (TrackLod.resume). The levels are then those of the complete file (extend: in steps is
   * at once) while the work is spread over the load instead of all at its end.
   */
  private extendSettledLods(): void {
    const tracks = this.tracks;
    // Per track, where its settled spans end (one small array per update, not per row).
    const limit = new Float64Array(tracks.length);
    for (let k = 0; k < tracks.length; k++) limit[k] = tracks[k]!.spans.length;
    for (let lane = 0; lane < this.lastStep.length; lane++) {
      const id = this.lastStep.data[lane]!;
      // A begun-before step is in its track's headIds, never summarised.
      if (id < 0 || (this.flags.data[id]! & SpanFlag.begunBefore) !== 0) continue;
      const k = this.lane.data[id]! * SUBROW_COUNT + this.subrow.data[id]!;
      const t = tracks[k]!;
      const pos = searchSorted(t.spans.data, t.spans.length, id);
      if (pos < limit[k]!) limit[k] = pos;
    }
    for (let k = 0; k < tracks.length; k++) {
      const t = tracks[k]!;
      t.lod.resume(this.endNs.data);
      if (t.lod.sealedCount < limit[k]!) {
        t.lod.extend(t.spans.data, limit[k]!, this.startNs.data, this.endNs.data, this.kind.data, this.style.data, undefined, false, true);
      }
    }
  }

  private extendLods(): void {
    for (const t of this.tracks) {
      if (t.lod.sealedCount < t.spans.length) {
        t.lod.extend(t.spans.data, t.spans.length, this.startNs.data, this.endNs.data, this.kind.data, this.style.data, undefined, this.complete);
      }
    }
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
   * allows. Begun-before spans come first (they start at the trace's start); closed spans that
   * overlap fromNs start at or after fromNs − maxDur; open spans that started earlier are visited
   * next, from the (small) open set.
   */
  forEachInRangeLod(track: Track, fromNs: number, toNs: number, nowNs: number, levelIdx: number, v: LodVisitor): void {
    const ids = track.spans.data;
    const n = track.spans.length;
    const start = this.startNs.data;
    const end = this.endNs.data;
    for (let i = 0; i < track.headIds.length; i++) {
      const id = track.headIds[i]!;
      if (end[id]! >= fromNs && start[id]! <= toNs) v.span(id);
    }
    const lo = searchSortedBy(ids, n, start, fromNs - track.maxDurNs, false);
    const firstStart = lo < n ? start[ids[lo]!]! : Infinity;
    // Open spans that started before the scan (never summarised), in opening = start order.
    const open = track.openIds;
    for (let i = 0; i < open.size; i++) {
      const id = open.at(i);
      if (start[id]! < firstStart && start[id]! <= toNs) v.span(id);
    }
    track.lod.visitRange(ids, n, start, end, nowNs, lo, fromNs, toNs, levelIdx, v);
  }
}
