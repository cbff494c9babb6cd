// The lock state machine over SpanIndex's lock spans (lock_wait: wait → acquire, lock_hold:
// acquire → release). A *lock* is (lock name, nodeId): each fuse_inode has its own i_rwsem and
// invalidate_lock (docs/domain.md §6), which is exactly why two nodeIds of one ino do not
// exclude each other (§5.3). Rows of the locks view are (lock, task).
//
//   lock i_rwsem nodeId 4 (ino 12)
//     writerA/1001  [==W==]            [==W==]
//     reader/1003     [..wait..][=R=]          ← the wait's holder: writerA's first hold
//
// Holder of a wait: among holds of the same lock by other tasks that overlap the wait, the one
// whose release came last before the wait ended (the release that let the waiter in); for a wait
// still open, the hold that is open — unless that hold is open-ended (the trace is complete) or
// inferred from contention events, whose end is never traced: then no holder is claimed. A hold
// that began before the trace (a release without acquire) is kept apart (`headHoldIds`, a row's
// `headIds`): it starts at the trace's start, so it would break the lists' start order.
// Statistics (contentionTable, exclusiveOverlaps) count durations of spans whose both ends the
// trace shows (SpanIndex.hasDuration) and count the others apart. Built incrementally: each call handles the spans opened since
// the last one; span ends are read from the SpanIndex when asked.

import { ENUMS, KIND_CODE, type LockMode, type LockName } from '../schema.ts';
import { taskMatches } from './search.ts';
import { LockStyle, SPAN_SUBROW, SpanKind, type SpanIndex } from '../spans.ts';
import type { TraceStore } from '../store.ts';
import { Growable, LOAD_MARGIN } from '../growable.ts';
import { LOD_SIZE_AT, TrackLod } from '../span-lod.ts';
import { lockCols, lockKeyAt } from '../lock-waits.ts';
import { searchSortedBy } from '../sorted.ts';
import { inoLabel, nodeIdLabel } from './inode-groups.ts';
import type { Ino, NodeId } from '../ids.ts';

export interface LockInfo {
  idx: number;
  lock: LockName;
  nodeId: NodeId;
  ino: Ino;
  /** The lock's kernel address when the trace showed it (lock_contention → derived events), 0n = not traced. */
  lockAddr: bigint;
  /** Hold span ids in start order. */
  holdIds: Growable<Uint32Array>;
  /** Wait span ids in start order. */
  waitIds: Growable<Uint32Array>;
  /** Holds that began before the trace (they start at its start; closed). */
  headHoldIds: number[];
  /** Longest closed hold and wait so far, and the still-open ones (see SpanReach): bound the searches below. */
  holdReach: SpanReach;
  waitReach: SpanReach;
  /** Row indexes (into LockIndex.rows) of this lock, one per task. */
  rowIdxs: number[];
}

/**
 * What a search over a start-ordered span list needs to stop early: the longest closed span (a
 * span starting earlier than t − that ended before t) and the positions still open (they last
 * until now). Each span is looked at once when it closes: `reachOf` brings it up to date.
 */
export interface SpanReach { scanned: number; maxClosedDurNs: number; openPos: number[]; spansVersion: number }
const newReach = (): SpanReach => ({ scanned: 0, maxClosedDurNs: 0, openPos: [], spansVersion: -1 });

/** `r` brought up to date with the spans of `ids` appended or closed since the last call. */
export function reachOf(r: SpanReach, ids: ArrayLike<number>, count: number, spans: SpanIndex): SpanReach {
  // Spans open or close only when the index takes rows: a frame's hundreds of calls cost nothing.
  if (r.spansVersion === spans.version && r.scanned === count) return r;
  r.spansVersion = spans.version;
  const start = spans.startNs.data;
  const end = spans.endNs.data;
  if (r.openPos.length > 0) {
    r.openPos = r.openPos.filter((pos) => {
      const id = ids[pos]!;
      if (spans.isOpen(id)) return true;
      r.maxClosedDurNs = Math.max(r.maxClosedDurNs, end[id]! - start[id]!);
      return false;
    });
  }
  for (; r.scanned < count; r.scanned++) {
    const id = ids[r.scanned]!;
    if (spans.isOpen(id)) r.openPos.push(r.scanned);
    else r.maxClosedDurNs = Math.max(r.maxClosedDurNs, end[id]! - start[id]!);
  }
  return r;
}

export interface LockRow {
  idx: number;
  lockIdx: number;
  task: string;
  /** Wait and hold span ids in start order. */
  spanIds: Growable<Uint32Array>;
  /** Holds that began before the trace, visited before spanIds (they start at the trace's start). */
  headIds: number[];
  /** Power-of-two summaries of the row's closed spans, ranked by lockRank (span-lod.ts). */
  lod: TrackLod;
  /** Where a range query over the row can start (reachOf; the locks view's rowStartPos). */
  reach: SpanReach;
}

/** Ids below this × 8 + a lock code are exact doubles: a lock's number key (LockIndex.lockByNum). */
const EXACT_KEY_IDS = 2 ** 50;

/** A lock span's rank: a wait wins a column over a write hold, which wins over a read hold. */
export const LOCK_RANK = { read: 1, write: 2, wait: 3 } as const;
export function lockRank(spans: SpanIndex, id: number): number {
  if (spans.kind.data[id] === SpanKind.lock_wait) return LOCK_RANK.wait;
  return spans.style.data[id] === LockStyle.write ? LOCK_RANK.write : LOCK_RANK.read;
}

export class LockIndex {
  readonly locks: LockInfo[] = [];
  readonly rows: LockRow[] = [];
  // span id → row index (lock × task) + 1 for lock spans, 0 for others (a row knows its lock). A
  // typed array by span id, not a Map: a 10 M-event trace has ~1 M lock spans, and Maps of them
  // were ~80 MB of JS heap (most of the page's) that every major GC walked. 16 bits a span while
  // there are fewer than 2^16 − 1 rows (there are a few per lock), 32 past that.
  private rowBySpan: Growable<Uint16Array | Uint32Array> = new Growable(Uint16Array, 1024);
  processedSpans = 0;
  version = 0;

  /** `rows16`: how many rows rowBySpan holds at 16 bits (less only in tests). */
  constructor(private readonly rows16 = 0xffff) {}
  /** A file of known size loading (reserveForRows): its rows, and the row count at which the rows' LOD levels are sized (null: done or none). */
  private lodSizing: { totalRows: number; atRows: number } | null = null;
  /** Holds inferred from lock contention events (their ends are never traced): the locks view says so. */
  inferredHolds = 0;
  private spansVersion = -1;
  /** Lock index by nodeId × 8 + lock code, or by −(ino × 8 + lock code) − 1 without a nodeId (ids < EXACT_KEY_IDS). */
  private readonly lockByNum = new Map<number, number>();
  /** Lock index by lockKeyAt's string: locks known by address only, or by ids too large for lockByNum. */
  private readonly lockByKey = new Map<string, number>();
  /** Row by lock index × 2^32 + the task's string id (a number: no string built per lock span). */
  private readonly rowByKey = new Map<number, number>();

  update(spans: SpanIndex, store: TraceStore): void {
    // Not only new spans: spans that closed since extend the rows' LODs too.
    if (spans.version === this.spansVersion) return;
    this.spansVersion = spans.version;
    const nodeIdCol = store.nodeIdCol();
    const inoCol = store.inoCol();
    const lockCol = store.col('lock');
    const taskCol = store.col('task');
    const cols = lockCols(store);
    for (let id = this.processedSpans; id < spans.count; id++) {
      const kind = spans.kind.data[id]!;
      this.rowBySpan.push(0);
      if (kind !== SpanKind.lock_wait && kind !== SpanKind.lock_hold) continue;
      const row = spans.beginRow.data[id]!;
      const lock = ENUMS.lock[lockCol[row]!] ?? 'unknown';
      const nodeId = nodeIdCol[row]!;
      const ino = inoCol[row]!;
      // Locks are told apart as everywhere (lockKeyAt: nodeId, else ino, else address) — by a
      // number where one is exact (no string per lock span); a lock learns its address from the
      // first of its rows that shows one.
      const code = lockCol[row]!;
      const numKey = code >= 8 ? NaN : nodeId !== 0 ? (nodeId < EXACT_KEY_IDS ? nodeId * 8 + code : NaN) : ino !== 0 && ino < EXACT_KEY_IDS ? -(ino * 8 + code) - 1 : NaN;
      const key = Number.isNaN(numKey) ? lockKeyAt(cols, row) : '';
      let li = key === '' ? this.lockByNum.get(numKey) : this.lockByKey.get(key);
      if (li === undefined) {
        li = this.locks.length;
        this.locks.push({ idx: li, lock, nodeId, ino, lockAddr: 0n, holdIds: new Growable(Uint32Array, 16), waitIds: new Growable(Uint32Array, 16), headHoldIds: [], holdReach: newReach(), waitReach: newReach(), rowIdxs: [] });
        if (key === '') this.lockByNum.set(numKey, li);
        else this.lockByKey.set(key, li);
      }
      const info = this.locks[li]!;
      if (info.lockAddr === 0n) {
        const hi = cols.addrHi[row]!;
        const lo = cols.addrLo[row]!;
        if (hi !== 0 || lo !== 0) info.lockAddr = (BigInt(hi) << 32n) | BigInt(lo);
      }
      const head = spans.isBegunBefore(id);
      if (spans.isInferredHold(id)) this.inferredHolds++;
      if (head) info.headHoldIds.push(id);
      else (kind === SpanKind.lock_hold ? info.holdIds : info.waitIds).push(id);
      const taskId = taskCol[row]!;
      const rowKey = li * 0x1_0000_0000 + taskId;
      let ri = this.rowByKey.get(rowKey);
      if (ri === undefined) {
        const task = store.strings.get(taskId);
        ri = this.rows.length;
        this.rows.push({ idx: ri, lockIdx: li, task, spanIds: new Growable(Uint32Array, 64), headIds: [], lod: new TrackLod(true), reach: newReach() });
        this.rowByKey.set(rowKey, ri);
        info.rowIdxs.push(ri);
      }
      if (head) this.rows[ri]!.headIds.push(id);
      else this.rows[ri]!.spanIds.push(id);
      if (ri + 1 > this.rows16 && this.rowBySpan.data instanceof Uint16Array) this.widenRowBySpan();
      this.rowBySpan.data[id] = ri + 1;
    }
    // A file loading whole (spans.deferLod): the rows' LOD takes a lock span once it closed (its
    // figures are then final), passing over an open one as if it never closes (TrackLod.extend's
    // holdAtOpen): what it is complete.
    this.extendLods(spans, spans.deferLod);
    // A file of known size: the rows' levels sized once LOD_SIZE_AT of it is in (as SpanIndex's).
    if (spans.deferLod && this.lodSizing !== null && store.length >= this.lodSizing.atRows) {
      const scale = (this.lodSizing.totalRows / store.length) * (1 + LOAD_MARGIN);
      for (const r of this.rows) r.lod.reserveScaled(scale);
      this.lodSizing = null;
    }
    this.processedSpans = spans.count;
    this.version++;
  }

  /** The lock a lock span belongs to, or −1 (not a lock span, or not indexed yet). */
  lockOfSpan(id: number): number {
    const ri = this.rowOfSpan(id);
    return ri < 0 ? -1 : this.rows[ri]!.lockIdx;
  }
  /** The row (lock × task) of a lock span, or −1. */
  rowOfSpan(id: number): number {
    return id >= 0 && id < this.rowBySpan.length ? this.rowBySpan.data[id]! - 1 : -1;
  }

  /** rowBySpan at 32 bits: a row index past 16 bits came. */
  private widenRowBySpan(): void {
    const wide = new Growable(Uint32Array, this.rowBySpan.data.length);
    wide.data.set(this.rowBySpan.data);
    wide.length = this.rowBySpan.length;
    this.rowBySpan = wide;
  }

  /** Summarises the spans closed since the last call (a row's LOD stops at its first open span; `holdAtOpen`: TrackLod.extend). */
  private extendLods(spans: SpanIndex, holdAtOpen = false): void {
    const rankOf = (id: number): number => lockRank(spans, id);
    for (const r of this.rows) {
      if (holdAtOpen) r.lod.resume(spans.endNs.data);
      if (r.lod.sealedCount < r.spanIds.length) {
        r.lod.extend(r.spanIds.data, r.spanIds.length, spans.startNs.data, spans.endNs.data, spans.kind.data, spans.style.data, rankOf, spans.complete, holdAtOpen);
      }
    }
  }

  /**
   * Sizes the span → row map for `spanCount` spans and every lock's and row's lists for a file of
   * `totalRows` rows from what its first `rowsSoFar` rows made, LOAD_MARGIN over (SpanIndex.reserveForRows).
   */
  reserveForRows(totalRows: number, rowsSoFar: number, spanCount: number): void {
    if (rowsSoFar <= 0) return;
    const scale = (totalRows / rowsSoFar) * (1 + LOAD_MARGIN);
    this.rowBySpan.reserve(spanCount);
    for (const r of this.rows) r.spanIds.reserve(Math.ceil(r.spanIds.length * scale));
    this.lodSizing = { totalRows, atRows: Math.max(rowsSoFar, Math.ceil(totalRows * LOD_SIZE_AT)) };
    for (const l of this.locks) {
      l.holdIds.reserve(Math.ceil(l.holdIds.length * scale));
      l.waitIds.reserve(Math.ceil(l.waitIds.length * scale));
    }
  }

  /**
   * A file finished loading: summarise what closed last, store the buckets being filled, drop growth
   * slack beyond a load's margin (`keepLodSlack`: the rows' LOD slack stays until dropLodSlack).
   */
  trim(spans: SpanIndex, keepLodSlack = false): void {
    this.lodSizing = null;
    for (const r of this.rows) r.lod.endLoad(r.spanIds.length, spans.endNs.data, spans.complete);
    if (spans.complete) {
      // Rows not summarised yet, in one pass over the spans (TrackLod.buildAll).
      const built: TrackLod[] = [];
      const lodOfRow = new Int32Array(this.rows.length).fill(-1);
      this.rows.forEach((r, k) => {
        if (r.lod.sealedCount === 0 && r.spanIds.length > 0) lodOfRow[k] = built.push(r.lod) - 1;
      });
      if (built.length > 0) {
        // Spans indexed so far (processedSpans); a begun-before span is in its row's headIds, not its list.
        const lodOf = new Int32Array(Math.min(this.rowBySpan.length, spans.count));
        const rowBySpan = this.rowBySpan.data;
        for (let id = 0; id < lodOf.length; id++) {
          const ri = rowBySpan[id]! - 1;
          lodOf[id] = ri < 0 || spans.isBegunBefore(id) ? -1 : lodOfRow[ri]!;
        }
        TrackLod.buildAll(built, lodOf, spans.startNs.data, spans.endNs.data, spans.kind.data, spans.style.data, (id) => lockRank(spans, id));
      }
    }
    this.extendLods(spans);
    for (const r of this.rows) {
      r.lod.trim(keepLodSlack);
      r.spanIds.trimLoose();
    }
    for (const l of this.locks) {
      l.holdIds.trimLoose();
      l.waitIds.trimLoose();
    }
    this.rowBySpan.trimLoose();
  }

  /** Drops the rows' LOD growth slack that trim(spans, true) kept. */
  dropLodSlack(): void {
    for (const r of this.rows) r.lod.dropSlack();
  }

  /** Bytes of the typed arrays: rows' span lists and LOD levels, locks' hold and wait lists, span → row. */
  byteLength(): number {
    let n = 0;
    for (const r of this.rows) n += r.spanIds.byteLength() + r.lod.byteLength();
    for (const l of this.locks) n += l.holdIds.byteLength() + l.waitIds.byteLength();
    return n + this.rowBySpan.byteLength();
  }

  /** The hold a wait waited for (see the file comment), or -1. */
  holderOf(spans: SpanIndex, waitId: number): number {
    const li = this.lockOfSpan(waitId);
    if (li < 0 || spans.kind.data[waitId] !== SpanKind.lock_wait) return -1;
    const info = this.locks[li]!;
    const waitStart = spans.startNs.data[waitId]!;
    const waitOpen = spans.isOpen(waitId);
    const waitEnd = waitOpen ? Infinity : spans.endNs.data[waitId]!;
    const lane = spans.lane.data[waitId]!;
    const holds = info.holdIds.data;
    const holdCount = info.holdIds.length;
    // Holds starting before the wait ended (a binary search: the last one may be far later); scan
    // back until they are too old to reach it (the longest closed hold bounds that).
    const reach = reachOf(info.holdReach, holds, holdCount, spans);
    const maxHoldNs = reach.maxClosedDurNs;
    const hi = searchSortedBy(holds, holdCount, spans.startNs.data, waitEnd, true);
    let best = -1;
    let bestEnd = -Infinity;
    for (let i = hi - 1; i >= 0; i--) {
      const id = holds[i]!;
      if (spans.isOpen(id)) continue;
      const s = spans.startNs.data[id]!;
      if (s < waitStart - maxHoldNs) break;
      if (spans.lane.data[id] === lane) continue;
      const e = spans.endNs.data[id]!;
      if (e <= waitStart || e > waitEnd) continue;
      if (e > bestEnd) { best = id; bestEnd = e; }
    }
    for (const id of info.headHoldIds) {
      if (spans.lane.data[id] === lane) continue;
      const e = spans.endNs.data[id]!;
      if (e > waitStart && e <= waitEnd && e > bestEnd) { best = id; bestEnd = e; }
    }
    // An open hold still held (live) may have begun any time before: the latest one of another
    // task (openPos is in position order). One whose end the trace never shows is no evidence.
    let openHold = -1;
    for (const pos of reach.openPos) {
      if (pos >= hi) break;
      const id = holds[pos]!;
      if (spans.lane.data[id] !== lane && !spans.isOpenEnded(id)) openHold = id;
    }
    if (waitOpen && openHold >= 0) return openHold;
    return best >= 0 ? best : openHold;
  }

  /** Waits whose holder is `holdId`. */
  waitersOf(spans: SpanIndex, holdId: number): number[] {
    const li = this.lockOfSpan(holdId);
    if (li < 0 || spans.kind.data[holdId] !== SpanKind.lock_hold) return [];
    const holdEnd = spans.isOpen(holdId) ? Infinity : spans.endNs.data[holdId]!;
    const holdStart = spans.startNs.data[holdId]!;
    const info = this.locks[li]!;
    const waits = info.waitIds.data;
    const waitCount = info.waitIds.length;
    // Waits that can overlap the hold: open ones, and closed ones from holdStart − the longest wait.
    const reach = reachOf(info.waitReach, waits, waitCount, spans);
    const from = searchSortedBy(waits, waitCount, spans.startNs.data, holdStart - reach.maxClosedDurNs, false);
    const positions = reach.openPos.filter((pos) => pos < from);
    for (let pos = from; pos < waitCount && spans.startNs.data[waits[pos]!]! <= holdEnd; pos++) positions.push(pos);
    const out: number[] = [];
    for (const pos of positions) {
      const w = waits[pos]!;
      if (spans.startNs.data[w]! > holdEnd) continue;
      const wEnd = spans.isOpen(w) ? Infinity : spans.endNs.data[w]!;
      if (wEnd < holdStart) continue;
      if (this.holderOf(spans, w) === holdId) out.push(w);
    }
    return out;
  }

  lockLabel(li: number): string {
    const l = this.locks[li]!;
    const node = l.nodeId ? `nodeid ${l.nodeId}` : 'nodeid unknown';
    return `${l.lock} ${node} (${inoLabel(l.ino)})${l.lockAddr ? ` ${lockAddrText(l.lockAddr)}` : ''}`;
  }
}

/** A lock address as the trace printed it (hex), or '' when not traced. */
export function lockAddrText(addr: bigint): string {
  return addr === 0n ? '' : `0x${addr.toString(16)}`;
}

// ---------------------------------------------------------------------------------------------
// Contention table, after `perf lock contention`: one row per group, waits split by mode.

/**
 * `caller` groups by what the waiter was doing: the syscall in progress on its task when the wait
 * began (pwrite, pread, truncate, fault …), or the task's role (writeback) when it has none —
 * the closest a trace gets to perf's caller symbol without stacks.
 */
export type ContentionGroupBy = 'ino' | 'nodeId' | 'task' | 'lock' | 'caller';

/** Which waits the table counts, whatever it groups by: the search box's `ino:` and `task:` terms. */
export interface ContentionFilter {
  /** Only waits on locks of this inode number (0 or absent: all). */
  ino?: number;
  /** Only waits of tasks whose name contains this text, ignoring case. */
  task?: string;
}

interface ContentionRow {
  key: string;
  label: string;
  /** Waits (contended acquisitions) in the group that ended in the trace: the durations are theirs. */
  contended: number;
  /** Waits that did not end in the trace (or are still waiting, live): counted apart, no duration. */
  unfinished: number;
  /**
   * Of `contended`, waits with an untimed end (untimed.ts: pasted lines without times): they ended,
   * their length is unknown, so when > 0 every wait figure of the group is unknown (null below).
   */
  untimed: number;
  totalWaitNs: number | null;
  maxWaitNs: number | null;
  meanWaitNs: number | null;
  readCount: number;
  readWaitNs: number | null;
  writeCount: number;
  writeWaitNs: number | null;
  /** The longest wait, to jump to. */
  maxWaitSpanId: number;
}

/**
 * Aggregates waits overlapping [fromNs, toNs] (whole trace by default). A wait that did not end
 * (open: still waiting, or open-ended) is counted in `unfinished`, not in any duration; it
 * overlaps the range if it began by toNs. Sorted by total wait, longest first.
 */
export function contentionTable(
  index: LockIndex, spans: SpanIndex, groupBy: ContentionGroupBy, nowNs: number,
  fromNs = -Infinity, toNs = Infinity, store?: TraceStore, filter: ContentionFilter = {},
): ContentionRow[] {
  const groups = new Map<string, ContentionRow>();
  const groupOf = (key: string, label: string, w: number): ContentionRow => {
    let g = groups.get(key);
    if (!g) {
      g = { key, label, contended: 0, unfinished: 0, untimed: 0, totalWaitNs: 0, maxWaitNs: 0, meanWaitNs: 0, readCount: 0, readWaitNs: 0, writeCount: 0, writeWaitNs: 0, maxWaitSpanId: w };
      groups.set(key, g);
    }
    return g;
  };
  // The task filter and a task's group are found once per lane, a lock's group once per lock (a
  // trace has many waits on few lanes and locks): a key string per wait took half this table's time.
  const laneOk = new Map<number, boolean>();
  const laneGroup = new Map<number, ContentionRow>();
  for (const info of index.locks) {
    if (filter.ino && info.ino !== filter.ino) continue;
    let lockGroup: ContentionRow | null = null;
    for (let k = 0; k < info.waitIds.length; k++) {
      const w = info.waitIds.data[k]!;
      const s = spans.startNs.data[w]!;
      const ended = spans.hasDuration(w);
      const e = ended ? spans.endNs.data[w]! : Infinity;
      if (e < fromNs || s > toNs) continue;
      const laneIdx = spans.lane.data[w]!;
      if (filter.task) {
        let ok = laneOk.get(laneIdx);
        if (ok === undefined) laneOk.set(laneIdx, ok = taskMatches(spans.lanes[laneIdx]?.task ?? '?', filter.task));
        if (!ok) continue;
      }
      let g: ContentionRow;
      switch (groupBy) {
        case 'ino': g = lockGroup ??= groupOf(`ino:${info.ino}`, inoLabel(info.ino), w); break;
        case 'nodeId': g = lockGroup ??= groupOf(`node:${info.nodeId}`, `${nodeIdLabel(info.nodeId)} (${inoLabel(info.ino)})`, w); break;
        case 'lock': g = lockGroup ??= groupOf(`lock:${info.idx}`, index.lockLabel(info.idx), w); break;
        case 'task': {
          let lg = laneGroup.get(laneIdx);
          if (!lg) {
            const task = spans.lanes[laneIdx]?.task ?? '?';
            laneGroup.set(laneIdx, lg = groupOf(`task:${task}`, task, w));
          }
          g = lg;
          break;
        }
        case 'caller': {
          const label = callerOf(spans, store, w, nowNs);
          g = groupOf(`caller:${label}`, label, w);
          break;
        }
      }
      const mode: LockMode = spans.style.data[w] === 1 ? 'W' : 'R';
      if (spans.isUntimed(w) && !spans.isOpen(w)) {
        // Ended, length unknown: counted, in no duration.
        g.contended++;
        g.untimed++;
        if (mode === 'R') g.readCount++; else g.writeCount++;
        continue;
      }
      if (!ended) { g.unfinished++; continue; }
      const durNs = e - s;
      g.contended++;
      g.totalWaitNs! += durNs;
      if (durNs > g.maxWaitNs!) { g.maxWaitNs = durNs; g.maxWaitSpanId = w; }
      if (mode === 'R') { g.readCount++; g.readWaitNs! += durNs; } else { g.writeCount++; g.writeWaitNs! += durNs; }
    }
  }
  const rows = [...groups.values()];
  for (const r of rows) {
    r.meanWaitNs = r.contended ? r.totalWaitNs! / r.contended : 0;
    if (r.untimed > 0) { r.totalWaitNs = null; r.maxWaitNs = null; r.meanWaitNs = null; r.readWaitNs = null; r.writeWaitNs = null; }
  }
  // Unknown totals sort after the known ones.
  return rows.sort((a, b) => (b.totalWaitNs ?? -1) - (a.totalWaitNs ?? -1) || a.key.localeCompare(b.key));
}

/** The syscall in progress on the waiter's task when wait span `waitId` began (see ContentionGroupBy). */
function callerOf(spans: SpanIndex, store: TraceStore | undefined, waitId: number, nowNs: number): string {
  const laneIdx = spans.lane.data[waitId]!;
  const atNs = spans.startNs.data[waitId]!;
  let op = '';
  if (store) {
    spans.forEachInRange(spans.track(laneIdx, SPAN_SUBROW.app_op), atNs, atNs, nowNs, (id) => {
      if (spans.kind.data[id] === SpanKind.app_op) op = String(store.readField('op', spans.beginRow.data[id]!));
    });
  }
  if (op) return op;
  const role = spans.lanes[laneIdx]?.role;
  return role === 'kworker' ? 'writeback (kworker)' : role === 'server' ? 'fuse server' : '(no syscall)';
}

// ---------------------------------------------------------------------------------------------
// The broken locking model (§5.3): exclusive holds on one ino through different nodeIds that
// overlap in time — each writer believes it holds the file exclusively.

interface ExclusiveOverlap {
  ino: Ino;
  /** The inode's key: its number by default, else what `inodeOf` returned (an alias group id). */
  inode: number;
  fromNs: number;
  toNs: number;
  holdA: number;
  holdB: number;
}

/**
 * Overlapping W holds of `lock` on the same inode through different nodeIds, in start order. The
 * inode of a lock is its ino by default; `inodeOf(nodeId)` (e.g. the alias group's id) also finds
 * the holds of a group whose number is unknown. Key 0 = unknown inode, never grouped. Only holds
 * whose both ends the trace shows count (countUnendedWriteHolds counts the others).
 */
export function exclusiveOverlaps(
  index: LockIndex, spans: SpanIndex, lock: LockName = 'i_rwsem', inodeOf?: (nodeId: NodeId) => number,
): ExclusiveOverlap[] {
  const byIno = new Map<number, LockInfo[]>();
  for (const info of index.locks) {
    const key = inodeOf ? (info.nodeId === 0 ? 0 : inodeOf(info.nodeId)) : info.ino;
    if (info.lock !== lock || key === 0) continue;
    const list = byIno.get(key) ?? [];
    list.push(info);
    byIno.set(key, list);
  }
  const out: ExclusiveOverlap[] = [];
  for (const [inode, infos] of byIno) {
    if (infos.length < 2) continue;
    const ino = infos[0]!.ino;
    const holds: { id: number; s: number; e: number; li: number }[] = [];
    for (const info of infos) {
      for (let k = 0; k < info.holdIds.length; k++) {
        const id = info.holdIds.data[k]!;
        if (spans.style.data[id] !== LockStyle.write || !spans.hasDuration(id)) continue; // W, both ends traced
        holds.push({ id, s: spans.startNs.data[id]!, e: spans.endNs.data[id]!, li: info.idx });
      }
    }
    holds.sort((a, b) => a.s - b.s);
    // Sweep: the active set is small (one hold per nodeId at most).
    const active: typeof holds = [];
    for (const h of holds) {
      for (let i = active.length - 1; i >= 0; i--) if (active[i]!.e <= h.s) active.splice(i, 1);
      for (const a of active) {
        if (a.li === h.li) continue;
        out.push({ ino, inode, fromNs: h.s, toNs: Math.min(a.e, h.e), holdA: a.id, holdB: h.id });
      }
      active.push(h);
    }
  }
  return out.sort((a, b) => a.fromNs - b.fromNs);
}

/** W holds of `lock` (on `ino`, if given) with an end or start the trace does not show: left out of exclusiveOverlaps. */
export function countUnendedWriteHolds(index: LockIndex, spans: SpanIndex, lock: LockName = 'i_rwsem', nodeIds?: readonly NodeId[]): number {
  let n = 0;
  for (const info of index.locks) {
    if (info.lock !== lock || (nodeIds !== undefined && !nodeIds.includes(info.nodeId))) continue;
    for (let k = 0; k < info.holdIds.length; k++) {
      const id = info.holdIds.data[k]!;
      if (spans.style.data[id] === LockStyle.write && !spans.hasDuration(id)) n++;
    }
    for (const id of info.headHoldIds) if (spans.style.data[id] === LockStyle.write) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// `perf lock contention` tables (lock_summary rows): perf's own totals, no timeline.

const summaryCache = new WeakMap<TraceStore, { scanned: number; rows: number[] }>();

/** Rows of kind lock_summary, in file order (scanned once per new row: a live store only grows). */
export function lockSummaryRows(store: TraceStore): readonly number[] {
  let c = summaryCache.get(store);
  if (c === undefined || c.scanned > store.length) summaryCache.set(store, (c = { scanned: 0, rows: [] }));
  const kinds = store.kinds;
  const code = KIND_CODE.lock_summary;
  for (let row = c.scanned; row < store.length; row++) if (kinds[row] === code) c.rows.push(row);
  c.scanned = store.length;
  return c.rows;
}
