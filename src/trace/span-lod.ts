// Level-of-detail summaries of one track's spans, kept up to date as spans close, so a zoomed-out
// frame reads a few buckets per pixel column instead of every span.
//
// Level j groups the track's spans by the 2^k-ns bucket their start falls in (k = LOD_MIN_LOG2 +
// j·LOD_LOG2_STEP, absolute buckets: ⌊startNs / 2^k⌋). A level stores only buckets of ≥ 2 spans
// (a lone span is as cheap to visit as a bucket), once finished, each as a contiguous range of the track's span
// list — spans are in start order, so a bucket is [first, end) — with the longest duration in it
// and its dominant colour key (span kind × 256 + style) by time covered. Buckets of a finer level
// nest inside the coarser level's buckets, so a walk descends only where a coarse bucket cannot be
// used whole (it straddles a pixel column, holds a span ≥ 1 px, or crosses the range's edge).
//
// Only closed spans are summarised, in track order: `sealedCount` stops at the first open span, and
// spans from there on are visited one by one (in live mode, the tail of each track). An open span
// with many closed spans after it is passed over and stays a lone span.

import { Growable } from './growable.ts';
import { searchSortedBy } from './sorted.ts';

const LOD_MIN_LOG2 = 6; // 64 ns buckets
const LOD_LOG2_STEP = 2; // each level 4× coarser than the one below
const LOD_LEVELS = 18; // up to 2^40 ns (~18 min) per bucket

/**
 * For visitors (the views): a bucket of sub-pixel spans whose starts lie within this many px may
 * be drawn in its first span's column — its other spans move left by less than this. Walking a
 * level whose buckets are ≤ half a column wide, that takes nearly every bucket whole.
 */
const MAX_UNIT_SPREAD_PX = 0.5;
/** A bucket's longest span under this many px is sub-pixel whatever the rounding of its ends. */
const SUBPIXEL_SAFE_PX = 0.999;

/**
 * The views' unitOk at `pxPerNs`: every span of the bucket is sub-pixel and their starts lie
 * within MAX_UNIT_SPREAD_PX, so the bucket can be one unit in its first span's column (requiring
 * one column exactly made every bucket on a column edge descend level by level: ~2× the visits).
 */
export function subPixelUnit(firstStartNs: number, lastStartNs: number, maxDurNs: number, pxPerNs: number): boolean {
  return maxDurNs * pxPerNs < SUBPIXEL_SAFE_PX && (lastStartNs - firstStartNs) * pxPerNs < MAX_UNIT_SPREAD_PX;
}

/** Colour key of a span: kind × 256 + style (style < 256). */
const colourKey = (kind: number, style: number): number => kind * 256 + (style & 0xff);

/** An open span followed by more spans than this in its track is summarised around. */
const ORPHAN_AFTER_SPANS = 64;

/**
 * A level's first capacity, in buckets: every track and lock row has 18 levels of 7–8 columns, so
 * at 64 (the Growable default) an idle track held ~40 KB; its coarse levels keep a few buckets.
 */
const LEVEL_START_BUCKETS = 4;

/** Spans sharing one bucket usually have one or two colours; a short assoc list tallies them. */
const MAX_KEYS = 8;

class LodLevel {
  readonly bucketNs: number;
  /** Per bucket, the highest rank of its spans (only in a ranked TrackLod: see TrackLod). */
  readonly maxRank: Growable<Uint8Array> | null;
  readonly first = new Growable(Uint32Array, LEVEL_START_BUCKETS);
  readonly end = new Growable(Uint32Array, LEVEL_START_BUCKETS);
  // Start times of the first and last span, here and not read through span ids: a walk touches
  // buckets in order, while the spans' own columns would be one cache miss per bucket.
  readonly firstStartNs = new Growable(Float64Array, LEVEL_START_BUCKETS);
  readonly lastStartNs = new Growable(Float64Array, LEVEL_START_BUCKETS);
  readonly maxDurNs = new Growable(Float32Array, LEVEL_START_BUCKETS);
  readonly domKey = new Growable(Uint16Array, LEVEL_START_BUCKETS);
  readonly domTimeNs = new Growable(Float32Array, LEVEL_START_BUCKETS);
  // The bucket being filled lives in these fields and is stored only once finished with ≥ 2
  // spans (a lone span is as cheap to visit as a bucket); until then its spans are lone too.
  // Level 0 is filled span by span; a coarser level only from the finer level's finished
  // buckets (TrackLod.extend), so it holds what they held: `curEnd - curFirst` is 0 until then.
  /** Bucket index (⌊start / bucketNs⌋) of the bucket being filled; NaN: none. */
  curBucket = Number.NaN;
  private curFirst = 0;
  private curEnd = 0;
  private curFirstStartNs = 0;
  private curLastStartNs = 0;
  private curMaxDurNs = 0;
  private curMaxRank = 0;
  /** Time covered per colour key, in order of first appearance (the dominant key is chosen when stored). */
  private readonly keys = new Uint16Array(MAX_KEYS);
  private readonly times = new Float64Array(MAX_KEYS);
  private keyCount = 0;

  constructor(log2: number, ranked: boolean) {
    this.bucketNs = 2 ** log2;
    this.maxRank = ranked ? new Growable(Uint8Array, LEVEL_START_BUCKETS) : null;
  }

  get count(): number { return this.first.length; }

  /** Starts filling bucket `bucket` (empty until spans or finer buckets come). */
  begin(bucket: number): void {
    this.curBucket = bucket;
    this.curFirst = 0;
    this.curEnd = 0;
    this.keyCount = 0;
  }

  /** Time `weightNs` of colour `key` (a ninth colour shares the last slot: approximate). */
  private tally(key: number, weightNs: number): void {
    let slot = 0;
    while (slot < this.keyCount && this.keys[slot] !== key) slot++;
    if (slot === this.keyCount) {
      if (slot === MAX_KEYS) slot = MAX_KEYS - 1;
      else { this.keys[slot] = key; this.times[slot] = 0; this.keyCount++; }
    }
    this.times[slot]! += weightNs;
  }

  /** Span at track position `spanIdx` joins the bucket being filled (level 0). */
  add(spanIdx: number, startNs: number, weightNs: number, durNs: number, key: number, rank: number): void {
    if (this.curEnd === this.curFirst) {
      this.curFirst = spanIdx;
      this.curFirstStartNs = startNs;
      this.curMaxDurNs = durNs;
      this.curMaxRank = rank;
    } else {
      if (durNs > this.curMaxDurNs) this.curMaxDurNs = durNs;
      if (rank > this.curMaxRank) this.curMaxRank = rank;
    }
    this.tally(key, weightNs);
    this.curEnd = spanIdx + 1;
    this.curLastStartNs = startNs;
  }

  /** A finer level's finished bucket (the spans right after this bucket's) joins this one. */
  private merge(f: LodLevel): void {
    if (f.curEnd === f.curFirst) return;
    if (this.curEnd === this.curFirst) {
      this.curFirst = f.curFirst;
      this.curFirstStartNs = f.curFirstStartNs;
      this.curMaxDurNs = f.curMaxDurNs;
      this.curMaxRank = f.curMaxRank;
    } else {
      if (f.curMaxDurNs > this.curMaxDurNs) this.curMaxDurNs = f.curMaxDurNs;
      if (f.curMaxRank > this.curMaxRank) this.curMaxRank = f.curMaxRank;
    }
    for (let s = 0; s < f.keyCount; s++) this.tally(f.keys[s]!, f.times[s]!);
    this.curEnd = f.curEnd;
    this.curLastStartNs = f.curLastStartNs;
  }

  /**
   * Ends the bucket being filled: stored if it has ≥ 2 spans, and handed to the next coarser
   * level (`coarser`, null for the coarsest), whose bucket it lies in.
   */
  finishInto(coarser: LodLevel | null): void {
    if (Number.isNaN(this.curBucket)) return;
    if (this.curEnd - this.curFirst >= 2) {
      // The dominant colour: the most time covered; on a tie, the colour seen first.
      let dom = 0;
      for (let s = 1; s < this.keyCount; s++) if (this.times[s]! > this.times[dom]!) dom = s;
      this.first.push(this.curFirst);
      this.end.push(this.curEnd);
      this.firstStartNs.push(this.curFirstStartNs);
      this.lastStartNs.push(this.curLastStartNs);
      this.maxDurNs.push(this.curMaxDurNs);
      this.domKey.push(this.keys[dom]!);
      this.domTimeNs.push(this.times[dom]!);
      this.maxRank?.push(this.curMaxRank);
    }
    coarser?.merge(this);
    this.curBucket = Number.NaN;
    this.curFirst = 0;
    this.curEnd = 0;
    this.keyCount = 0;
  }

  /**
   * First bucket at or after `fromP` whose end > spanIdx (count if none). Walks move forward, so
   * this gallops from the previous answer: cheap for the next bucket, logarithmic for a far one.
   */
  seek(spanIdx: number, fromP: number): number {
    const end = this.end.data;
    const n = this.first.length;
    let lo = fromP;
    let step = 1;
    let hi = lo;
    while (hi < n && end[hi]! <= spanIdx) {
      lo = hi + 1;
      hi += step;
      step *= 2;
    }
    if (hi > n) hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (end[mid]! <= spanIdx) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  trim(): void {
    for (const g of [this.first, this.end, this.firstStartNs, this.lastStartNs, this.maxDurNs, this.domKey, this.domTimeNs]) g.trim();
    this.maxRank?.trim();
  }

  /** Room for exactly `buckets` buckets (TrackLod.build counted them): no growth, nothing to trim. */
  reserveExact(buckets: number): void {
    for (const g of [this.first, this.end, this.firstStartNs, this.lastStartNs, this.maxDurNs, this.domKey, this.domTimeNs]) g.reserve(buckets);
    this.maxRank?.reserve(buckets);
  }

  byteLength(): number {
    return this.first.byteLength() + this.end.byteLength() + this.firstStartNs.byteLength()
      + this.lastStartNs.byteLength() + this.maxDurNs.byteLength()
      + this.domKey.byteLength() + this.domTimeNs.byteLength() + (this.maxRank?.byteLength() ?? 0);
  }
}

/** What a walk reports, in start order: single spans, or buckets of ≥ 2 spans taken whole. */
export interface LodVisitor {
  /** May a bucket of spans starting from firstStartNs to lastStartNs, the longest maxDurNs, be one unit? */
  unitOk(firstStartNs: number, lastStartNs: number, maxDurNs: number): boolean;
  span(id: number): void;
  /**
   * `count` spans from `firstId` (which starts at firstStartNs); their dominant colour key and its
   * time; in a ranked TrackLod their highest rank (0 otherwise).
   */
  unit(firstId: number, firstStartNs: number, count: number, domKey: number, domTimeNs: number, maxRank: number): void;
}

/** Where visitReaching hands the spans that reach its time. */
interface SpanSink { span(id: number): void }

/**
 * visitReaching's walk (one per TrackLod, reset per call: no allocation per frame): buckets that
 * ended before tsNs are its units, and dropped; a span goes to `target` if it ends at or after
 * tsNs (an open one, NaN, ends at nowNs).
 */
class EndedBefore implements LodVisitor {
  tsNs = 0;
  nowNs = 0;
  endNs: Float64Array = new Float64Array(0);
  target: SpanSink = { span: () => {} };
  span(id: number): void {
    const e = this.endNs[id]!;
    if ((Number.isNaN(e) ? this.nowNs : e) >= this.tsNs) this.target.span(id);
  }
  unitOk(_firstStartNs: number, lastStartNs: number, maxDurNs: number): boolean {
    // maxDurNs is a float32: a margin keeps its rounding from dropping a span that just reaches.
    return lastStartNs + maxDurNs * (1 + 2 ** -16) + 1 < this.tsNs;
  }
  unit(): void {}
}

/** A span's rank in a ranked TrackLod (a small number ≥ 0, e.g. lock wait > write hold > read hold). */
type RankOf = (spanId: number) => number;

export class TrackLod {
  readonly levels: LodLevel[] = [];
  /** Spans [0, sealedCount) of the track are summarised; the next one is still open. */
  sealedCount = 0;

  /** `ranked`: buckets also keep their spans' highest rank (extend's rankOf), for views where one state wins a column. */
  constructor(ranked = false) {
    for (let j = 0; j < LOD_LEVELS; j++) this.levels.push(new LodLevel(LOD_MIN_LOG2 + j * LOD_LOG2_STEP, ranked));
  }

  /**
   * Summarises newly closed spans of the track, in order. `ids` is the track's span list; the
   * columns are the span index's. A span's weight is its duration + 1 ns, so instants count.
   * `final`: the trace is complete, so an open span never closes (it is open-ended): summarised
   * around at once.
   *
   * Bottom-up: a span goes into level 0 only; a level's bucket, once finished, goes into the
   * next coarser level's (buckets nest: ⌊s / 4b⌋ = ⌊⌊s / b⌋ / 4⌋), so level j + 1 is made from
   * level j's buckets, not from the spans again. A span starting a new bucket at level j starts
   * one at every finer level too, so the levels whose bucket it leaves are 0 … J − 1: finished
   * there, finest first, each bucket stored when it has its last span — when the span-by-span
   * way (every span into every level) stored it.
   */
  extend(ids: Uint32Array, count: number, startNs: Float64Array, endNs: Float64Array, kind: Uint8Array, style: Uint8Array, rankOf?: RankOf, final = false): void {
    const levels = this.levels;
    const n = levels.length;
    const level0 = levels[0]!;
    let i = this.sealedCount;
    for (; i < count; i++) {
      const id = ids[i]!;
      const e = endNs[id]!;
      if (Number.isNaN(e)) {
        // An open span holds summaries back until it closes — unless many later spans of the track
        // closed meanwhile: then its close was lost (a gap, a truncated file) or it is a rare
        // overlap. It is left out of every bucket (a lone span, visited by position) and sealing
        // goes on past it.
        if (count - i <= ORPHAN_AFTER_SPANS && !final) break;
        this.finishAll();
        continue;
      }
      const s = startNs[id]!;
      if (Math.floor(s / level0.bucketNs) !== level0.curBucket) {
        let top = 1;
        while (top < n && Math.floor(s / levels[top]!.bucketNs) !== levels[top]!.curBucket) top++;
        for (let j = 0; j < top; j++) levels[j]!.finishInto(j + 1 < n ? levels[j + 1]! : null);
        for (let j = 0; j < top; j++) levels[j]!.begin(Math.floor(s / levels[j]!.bucketNs));
      }
      const durNs = e - s;
      level0.add(i, s, durNs + 1, durNs, colourKey(kind[id]!, style[id]!), rankOf ? rankOf(id) : 0);
    }
    this.sealedCount = i;
  }

  /** Ends every level's bucket being filled, finest first (each goes into the next coarser one). */
  private finishAll(): void {
    const levels = this.levels;
    for (let j = 0; j < levels.length; j++) levels[j]!.finishInto(j + 1 < levels.length ? levels[j + 1]! : null);
  }

  /**
   * Summarises a complete track in one pass (a file loaded whole: nothing was summarised yet):
   * the buckets each level will store are counted first, so every level's arrays are allocated
   * once at their final size — no growth by doubling, no trim by copy. The same buckets as
   * extend(…, final) over the track. The count walks the levels as extend does: per span, only
   * the levels whose bucket it leaves.
   */
  build(ids: Uint32Array, count: number, startNs: Float64Array, endNs: Float64Array, kind: Uint8Array, style: Uint8Array, rankOf?: RankOf): void {
    if (this.sealedCount === 0 && count > 0) {
      const n = this.levels.length;
      const bucketNs = this.levels.map((l) => l.bucketNs);
      const cur = new Float64Array(n).fill(Number.NaN);
      /** Track position where each level's bucket being filled began. */
      const from = new Float64Array(n);
      const stored = new Uint32Array(n);
      for (let i = 0; i < count; i++) {
        const id = ids[i]!;
        if (Number.isNaN(endNs[id]!)) {
          // An open span is left out of every bucket and ends the ones being filled (extend).
          for (let j = 0; j < n; j++) {
            if (i - from[j]! >= 2 && !Number.isNaN(cur[j]!)) stored[j]!++;
            cur[j] = Number.NaN;
          }
          continue;
        }
        const s = startNs[id]!;
        for (let j = 0; j < n; j++) {
          const b = Math.floor(s / bucketNs[j]!);
          if (b === cur[j]) break;
          if (i - from[j]! >= 2 && !Number.isNaN(cur[j]!)) stored[j]!++;
          cur[j] = b;
          from[j] = i;
        }
      }
      for (let j = 0; j < n; j++) this.levels[j]!.reserveExact(stored[j]! + (count - from[j]! >= 2 && !Number.isNaN(cur[j]!) ? 1 : 0));
    }
    this.extend(ids, count, startNs, endNs, kind, style, rankOf, true);
    this.finishAll();
  }

  /** Finest-to-coarsest index of the coarsest level whose buckets are ≤ maxBucketNs (−1: none). */
  levelFor(maxBucketNs: number): number {
    let j = -1;
    while (j + 1 < this.levels.length && this.levels[j + 1]!.bucketNs <= maxBucketNs) j++;
    return j;
  }

  /**
   * Visits the track's spans at positions [fromIdx, toIdx) of `ids` (toIdx ≤ sealedCount) in order, taking whole buckets
   * of level `levelIdx` (and finer ones, where a coarser bucket cannot be used) when `v.unitOk`.
   */
  walk(levelIdx: number, ids: Uint32Array, fromIdx: number, toIdx: number, v: LodVisitor): void {
    this.cursors.fill(0);
    this.walkLevel(levelIdx, ids, fromIdx, toIdx, v);
  }

  /**
   * Visits, in order, the spans at positions [fromIdx, toIdx) of `ids` (toIdx ≤ sealedCount) that
   * may still be running at tsNs, skipping every bucket whose spans all ended before it (a walk
   * from the coarsest level whose "units" are those buckets, dropped). For the spans that start
   * before a range: a track's longest span bounds how far back they can start, and after one
   * long span that is a lot of short ones to look at one by one.
   */
  visitReaching(ids: Uint32Array, fromIdx: number, toIdx: number, tsNs: number, endNs: Float64Array, nowNs: number, target: SpanSink): void {
    const eb = this.reaching(tsNs, endNs, nowNs, target);
    this.walk(this.levels.length - 1, ids, fromIdx, toIdx, eb);
  }

  private readonly endedBefore = new EndedBefore();
  private reaching(tsNs: number, endNs: Float64Array, nowNs: number, target: SpanSink): EndedBefore {
    const eb = this.endedBefore;
    eb.tsNs = tsNs;
    eb.endNs = endNs;
    eb.nowNs = nowNs;
    eb.target = target;
    return eb;
  }

  /**
   * Visits the spans of a track-like list that overlap [fromNs, toNs], from position `fromIdx`
   * (where spans that may still run at fromNs begin) on: those starting before fromNs that end at
   * or after it (visitReaching; open spans end at nowNs) to `v.span`; those starting in the range
   * as buckets of up to `levelIdx` where `v.unitOk` (−1: none), else to `v.span`; the
   * unsummarised tail one by one. `ids[0, count)` is in start order, `startNs`/`endNs` by id.
   */
  visitRange(ids: Uint32Array, count: number, startNs: Float64Array, endNs: Float64Array, nowNs: number, fromIdx: number,
    fromNs: number, toNs: number, levelIdx: number, v: LodVisitor): void {
    const inRange = searchSortedBy(ids, count, startNs, fromNs, false, fromIdx);
    const sealedBefore = Math.min(inRange, this.sealedCount);
    const eb = this.reaching(fromNs, endNs, nowNs, v);
    if (sealedBefore > fromIdx) this.walk(this.levels.length - 1, ids, fromIdx, sealedBefore, eb);
    for (let i = Math.max(fromIdx, sealedBefore); i < inRange; i++) eb.span(ids[i]!);
    const stop = searchSortedBy(ids, count, startNs, toNs, true, inRange);
    const sealedStop = Math.min(stop, this.sealedCount);
    if (sealedStop > inRange) this.walk(levelIdx, ids, inRange, sealedStop, v);
    for (let i = Math.max(inRange, sealedStop); i < stop; i++) v.span(ids[i]!);
  }

  /** Per level, the bucket the walk reached: a walk only moves forward. */
  private readonly cursors = new Int32Array(LOD_LEVELS);

  private walkLevel(levelIdx: number, ids: Uint32Array, fromIdx: number, toIdx: number, v: LodVisitor): void {
    let i = fromIdx;
    if (levelIdx < 0) {
      for (; i < toIdx; i++) v.span(ids[i]!);
      return;
    }
    const level = this.levels[levelIdx]!;
    const first = level.first.data;
    const end = level.end.data;
    const n = level.count;
    let p = level.seek(i, this.cursors[levelIdx]!);
    for (; i < toIdx; p++) {
      if (p >= n || first[p]! >= toIdx) {
        // No bucket of ≥ 2 spans here, so no finer level has one either: lone spans.
        for (; i < toIdx; i++) v.span(ids[i]!);
        break;
      }
      for (; i < first[p]!; i++) v.span(ids[i]!);
      const bucketEnd = end[p]!;
      if (i === first[p]! && bucketEnd <= toIdx && bucketEnd - i >= 2
        && v.unitOk(level.firstStartNs.data[p]!, level.lastStartNs.data[p]!, level.maxDurNs.data[p]!)) {
        v.unit(ids[i]!, level.firstStartNs.data[p]!, bucketEnd - i, level.domKey.data[p]!, level.domTimeNs.data[p]!, level.maxRank?.data[p] ?? 0);
        i = bucketEnd;
      } else {
        const stop = Math.min(bucketEnd, toIdx);
        if (stop - i < 2) for (; i < stop; i++) v.span(ids[i]!);
        else { this.walkLevel(levelIdx - 1, ids, i, stop, v); i = stop; }
      }
    }
    this.cursors[levelIdx] = p;
  }

  /** Drops growth slack and stores the buckets still being filled (the file is complete). */
  trim(): void {
    this.finishAll();
    for (const l of this.levels) l.trim();
  }

  byteLength(): number {
    let n = 0;
    for (const l of this.levels) n += l.byteLength();
    return n;
  }
}
