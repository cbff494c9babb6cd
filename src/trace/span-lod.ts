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
// with many closed spans after it is passed over and stays a lone span. A file loading whole
// (extend's holdAtOpen) passes over it the same way but can go back to it if it closes, so its
// levels are those of the complete file whatever its batches were.

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

/** Per level, 1 / its bucket width: a power of two, so s × this is s / bucketNs exactly (and cheaper). */
const INV_BUCKET_NS = Float64Array.from({ length: LOD_LEVELS }, (_, j) => 2 ** -(LOD_MIN_LOG2 + j * LOD_LOG2_STEP));

/**
 * A file of known size summarised as it loads sizes its levels once this share of its rows is in
 * (TrackLod.reserveScaled): its first rows (when the other indexes are sized) say little of how
 * coarse levels grow — on the bench's 10 M-event file, sized at 64 Ki rows they were 40 % over.
 */
export const LOD_SIZE_AT = 1 / 8;

/** TrackLod.put's scratch: the buckets a span starts, by level (one thread, not reentrant). */
const NEXT_BUCKET = new Float64Array(LOD_LEVELS);

/** One level's stored buckets (the state of the bucket being filled is TrackLod's). */
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

  constructor(log2: number, ranked: boolean) {
    this.bucketNs = 2 ** log2;
    this.maxRank = ranked ? new Growable(Uint8Array, LEVEL_START_BUCKETS) : null;
  }

  get count(): number { return this.first.length; }

  /**
   * Appends a finished bucket. The columns share one capacity (created, reserved, grown and
   * trimmed together), so one room check covers them all.
   */
  store(first: number, end: number, firstStartNs: number, lastStartNs: number, maxDurNs: number, domKey: number, domTimeNs: number, maxRank: number): void {
    const p = this.first.length;
    if (p === this.first.data.length) {
      for (const g of this.columns()) g.data = g.grownData();
      if (this.maxRank) this.maxRank.data = this.maxRank.grownData();
    }
    this.first.data[p] = first;
    this.end.data[p] = end;
    this.firstStartNs.data[p] = firstStartNs;
    this.lastStartNs.data[p] = lastStartNs;
    this.maxDurNs.data[p] = maxDurNs;
    this.domKey.data[p] = domKey;
    this.domTimeNs.data[p] = domTimeNs;
    const n = p + 1;
    this.first.length = n;
    this.end.length = n;
    this.firstStartNs.length = n;
    this.lastStartNs.length = n;
    this.maxDurNs.length = n;
    this.domKey.length = n;
    this.domTimeNs.length = n;
    if (this.maxRank) {
      this.maxRank.data[p] = maxRank;
      this.maxRank.length = n;
    }
  }

  /** Keeps the first `count` buckets (TrackLod.backTo). */
  truncate(count: number): void {
    for (const g of this.columns()) g.length = count;
    if (this.maxRank) this.maxRank.length = count;
  }

  private columns(): Growable<Uint32Array | Float64Array | Float32Array | Uint16Array>[] {
    return [this.first, this.end, this.firstStartNs, this.lastStartNs, this.maxDurNs, this.domKey, this.domTimeNs];
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

  /** Drops every bucket of slack: a file's page memory (P4) must not grow by a load's margin. */
  trim(): void {
    for (const g of this.columns()) g.trim();
    this.maxRank?.trim();
  }

  /** Room for `buckets` buckets in all (TrackLod.build counted them exactly: no growth, nothing to trim). */
  reserve(buckets: number): void {
    for (const g of this.columns()) g.reserve(buckets);
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

/** An open span a TrackLod passed over (TrackLod.passOver): its position and id, and for the first few what the TrackLod was just before it. */
interface Passed {
  pos: number;
  id: number;
  before: LodState | null;
}
/** Each level's bucket count and the buckets being filled. */
interface LodState {
  lengths: Uint32Array;
  curBucket: Float64Array;
  curFirst: Uint32Array;
  curEnd: Uint32Array;
  curFirstStartNs: Float64Array;
  curLastStartNs: Float64Array;
  curMaxDurNs: Float64Array;
  curMaxRank: Uint8Array;
  keys: Uint16Array;
  times: Float64Array;
  keyCount: Uint8Array;
}
/**
 * Open spans a track passes over while a file loads at most (past them it holds at the next until
 * it closes), and how many of them keep the state before them (~3 KB each; one that closes without
 * one goes back to the nearest earlier that has one, and goes on from there).
 */
const MAX_PASSED = 256;
const MAX_PASSED_STATES = 8;

export class TrackLod {
  readonly levels: LodLevel[] = [];
  /** Spans [0, sealedCount) of the track are summarised; the next one is still open. */
  sealedCount = 0;

  // The bucket each level is filling, by level (flat arrays: extend touches several levels per
  // span, and one object per level made that a property chase each). It is stored only once
  // finished with ≥ 2 spans (a lone span is as cheap to visit as a bucket); until then its spans
  // are lone too. Level 0 is filled span by span; a coarser level only from the finer level's
  // finished buckets (extend), so it holds what they held: curEnd − curFirst is 0 until then.
  /** Bucket index (⌊start / bucketNs⌋) being filled; NaN: none. */
  private readonly curBucket = new Float64Array(LOD_LEVELS).fill(Number.NaN);
  /** Its spans: track positions [curFirst, curEnd). */
  private readonly curFirst = new Uint32Array(LOD_LEVELS);
  private readonly curEnd = new Uint32Array(LOD_LEVELS);
  private readonly curFirstStartNs = new Float64Array(LOD_LEVELS);
  private readonly curLastStartNs = new Float64Array(LOD_LEVELS);
  private readonly curMaxDurNs = new Float64Array(LOD_LEVELS);
  private readonly curMaxRank = new Uint8Array(LOD_LEVELS);
  /** Time covered per colour key, MAX_KEYS slots a level, in order of first appearance (the dominant key is chosen when stored). */
  private readonly keys = new Uint16Array(LOD_LEVELS * MAX_KEYS);
  private readonly times = new Float64Array(LOD_LEVELS * MAX_KEYS);
  private readonly keyCount = new Uint8Array(LOD_LEVELS);
  /** Open spans passed over while a file loads, oldest first, with the summaries as they were before each (passOver). */
  private passed: Passed[] | null = null;

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
   * Summarising a track in steps is summarising it at once: each span goes in as it is when
   * reached, so a caller passes only spans that will not change any more (`count`).
   *
   * Bottom-up: a span goes into level 0 only; a level's bucket, once finished, goes into the
   * next coarser level's (buckets nest: ⌊s / 4b⌋ = ⌊⌊s / b⌋ / 4⌋), so level j + 1 is made from
   * level j's buckets, not from the spans again. A span starting a new bucket at level j starts
   * one at every finer level too, so the levels whose bucket it leaves are 0 … J − 1: finished
   * there, finest first, each bucket stored when it has its last span — when the span-by-span
   * way (every span into every level) stored it.
   */
  extend(ids: Uint32Array, count: number, startNs: Float64Array, endNs: Float64Array, kind: Uint8Array, style: Uint8Array, rankOf?: RankOf, final = false, holdAtOpen = false): void {
    let i = this.sealedCount;
    for (; i < count; i++) {
      const id = ids[i]!;
      const e = endNs[id]!;
      if (Number.isNaN(e)) {
        // An open span holds summaries back until it closes — unless many later spans of the track
        // closed meanwhile: then its close was lost (a gap, a truncated file) or it is a rare
        // overlap. It is left out of every bucket (a lone span, visited by position) and sealing
        // goes on past it. `holdAtOpen` (a file loading whole: nothing is drawn before it is
        // complete, and then an open span is left out) goes on past it as if it never closes,
        // keeping how the summaries were to go back to if it does (passOver, resume) — only
        // then: the newest spans of a track are often open, and close in the next rows.
        if (count - i <= ORPHAN_AFTER_SPANS ? !final : holdAtOpen && !this.passOver(i, id)) break;
        this.finishAll();
        continue;
      }
      this.put(i, startNs[id]!, e, colourKey(kind[id]!, style[id]!), rankOf ? rankOf(id) : 0);
    }
    this.sealedCount = i;
  }

  /**
   * Notes the open span `id` at position `i` being passed over (extend's holdAtOpen), for the
   * first MAX_PASSED_STATES with the summaries as they are before it, to go back to if it
   * closes; false (hold at it) past MAX_PASSED.
   */
  private passOver(i: number, id: number): boolean {
    const passed = (this.passed ??= []);
    if (passed.length === MAX_PASSED) return false;
    const before = passed.length < MAX_PASSED_STATES ? {
      lengths: Uint32Array.from(this.levels, (l) => l.count), curBucket: this.curBucket.slice(), curFirst: this.curFirst.slice(),
      curEnd: this.curEnd.slice(), curFirstStartNs: this.curFirstStartNs.slice(), curLastStartNs: this.curLastStartNs.slice(),
      curMaxDurNs: this.curMaxDurNs.slice(), curMaxRank: this.curMaxRank.slice(), keys: this.keys.slice(), times: this.times.slice(), keyCount: this.keyCount.slice(),
    } : null;
    passed.push({ pos: i, id, before });
    return true;
  }

  /**
   * Goes back to just before passed-over span k — or the nearest before it that kept its state:
   * the buckets since dropped, the ones being filled as they were; the spans from there on are
   * summarised again.
   */
  private backTo(k: number): void {
    const passed = this.passed!;
    while (passed[k]!.before === null) k--; // the first MAX_PASSED_STATES keep theirs
    const p = passed[k]!;
    const b = p.before!;
    this.levels.forEach((l, j) => l.truncate(b.lengths[j]!));
    this.curBucket.set(b.curBucket);
    this.curFirst.set(b.curFirst);
    this.curEnd.set(b.curEnd);
    this.curFirstStartNs.set(b.curFirstStartNs);
    this.curLastStartNs.set(b.curLastStartNs);
    this.curMaxDurNs.set(b.curMaxDurNs);
    this.curMaxRank.set(b.curMaxRank);
    this.keys.set(b.keys);
    this.times.set(b.times);
    this.keyCount.set(b.keyCount);
    this.sealedCount = p.pos;
    passed.length = k;
  }

  /**
   * Before extend(…, holdAtOpen) takes more spans: the first passed-over span that has closed since
   * (`endNs` by id) is summarised after all — the summaries go back to before it (backTo).
   */
  resume(endNs: Float64Array): void {
    const passed = this.passed;
    if (passed === null) return;
    for (let k = 0; k < passed.length; k++) {
      if (!Number.isNaN(endNs[passed[k]!.id]!)) {
        this.backTo(k);
        return;
      }
    }
  }

  /**
   * A load that summarised with holdAtOpen ends with `count` spans in the track: a passed-over
   * span still open is left out, as extend then leaves it out — when `final` (the file is complete)
   * or more than ORPHAN_AFTER_SPANS follow it; else the summaries stop at it (extend holds there).
   */
  endLoad(count: number, endNs: Float64Array, final: boolean): void {
    this.resume(endNs);
    const passed = this.passed;
    if (passed === null) return;
    if (!final) {
      const k = passed.findIndex((p) => count - p.pos <= ORPHAN_AFTER_SPANS);
      if (k >= 0) this.backTo(k);
    }
    this.passed = null;
  }

  /**
   * The closed span at track position `i` (start `s`, end `e`) goes into level 0, after the
   * buckets it leaves are finished (extend's comment).
   */
  private put(i: number, s: number, e: number, key: number, rank: number): void {
    const cur = this.curBucket;
    const b0 = Math.floor(s * INV_BUCKET_NS[0]!);
    if (b0 !== cur[0]) {
      // The buckets it starts, kept as found (finishBelow clears the old ones first).
      const next = NEXT_BUCKET;
      next[0] = b0;
      let top = 1;
      for (; top < LOD_LEVELS; top++) {
        const b = Math.floor(s * INV_BUCKET_NS[top]!);
        if (b === cur[top]) break;
        next[top] = b;
      }
      this.finishBelow(top);
      for (let j = 0; j < top; j++) cur[j] = next[j]!;
    }
    const durNs = e - s;
    this.add(i, s, durNs + 1, durNs, key, rank);
  }

  /** Span at track position `spanIdx` joins level 0's bucket being filled. */
  private add(spanIdx: number, startNs: number, weightNs: number, durNs: number, key: number, rank: number): void {
    if (this.curEnd[0] === this.curFirst[0]) {
      this.curFirst[0] = spanIdx;
      this.curFirstStartNs[0] = startNs;
      this.curMaxDurNs[0] = durNs;
      this.curMaxRank[0] = rank;
    } else {
      if (durNs > this.curMaxDurNs[0]!) this.curMaxDurNs[0] = durNs;
      if (rank > this.curMaxRank[0]!) this.curMaxRank[0] = rank;
    }
    this.tally(0, key, weightNs);
    this.curEnd[0] = spanIdx + 1;
    this.curLastStartNs[0] = startNs;
  }

  /** Time `weightNs` of colour `key` into level j's bucket (a ninth colour shares the last slot: approximate). */
  private tally(j: number, key: number, weightNs: number): void {
    const base = j * MAX_KEYS;
    const n = this.keyCount[j]!;
    let slot = 0;
    while (slot < n && this.keys[base + slot] !== key) slot++;
    if (slot === n) {
      if (slot === MAX_KEYS) slot = MAX_KEYS - 1;
      else { this.keys[base + slot] = key; this.times[base + slot] = 0; this.keyCount[j] = n + 1; }
    }
    this.times[base + slot]! += weightNs;
  }

  /**
   * Ends the buckets being filled at levels 0 … top − 1, finest first: each is stored if it has
   * ≥ 2 spans and handed to the next coarser level, whose bucket it lies in.
   *
   * Levels are either all filling a bucket or none is (curBucket NaN: after finishAll, before
   * the next span). A coarser level's bucket is often still empty (it began with the span that
   * began the finer one): handed a finished bucket it would hold just that, store it again (the
   * same range and figures) and hand it on unchanged. So a bucket goes straight to the first
   * non-empty level above it, stored on the way at each empty level — what the level-by-level
   * way stores, without copying it level to level (most of the spans of a sparse track are alone
   * in their buckets of the finest levels).
   */
  private finishBelow(top: number): void {
    const curFirst = this.curFirst;
    const curEnd = this.curEnd;
    let j = 0;
    while (j < top) {
      const first = curFirst[j]!;
      const end = curEnd[j]!;
      if (end === first) {
        this.curBucket[j] = Number.NaN;
        j++;
        continue;
      }
      // Levels j + 1 … k − 1 (below top) are empty: each would hold this bucket alone.
      let k = j + 1;
      while (k < top && curEnd[k] === curFirst[k]) k++;
      if (end - first >= 2) {
        // The dominant colour: the most time covered; on a tie, the colour seen first.
        const base = j * MAX_KEYS;
        let dom = base;
        for (let s = base + 1; s < base + this.keyCount[j]!; s++) if (this.times[s]! > this.times[dom]!) dom = s;
        const firstStartNs = this.curFirstStartNs[j]!;
        const lastStartNs = this.curLastStartNs[j]!;
        const maxDurNs = this.curMaxDurNs[j]!;
        const maxRank = this.curMaxRank[j]!;
        for (let l = j; l < k; l++) this.levels[l]!.store(first, end, firstStartNs, lastStartNs, maxDurNs, this.keys[dom]!, this.times[dom]!, maxRank);
      }
      if (k < LOD_LEVELS) this.mergeInto(k, j);
      for (let l = j; l < k; l++) this.curBucket[l] = Number.NaN;
      curFirst[j] = 0;
      curEnd[j] = 0;
      this.keyCount[j] = 0;
      j = k;
    }
  }

  /** Level j's finished bucket (the spans right after level c's) joins level c's. */
  private mergeInto(c: number, j: number): void {
    if (this.curEnd[c] === this.curFirst[c]) {
      this.curFirst[c] = this.curFirst[j]!;
      this.curFirstStartNs[c] = this.curFirstStartNs[j]!;
      this.curMaxDurNs[c] = this.curMaxDurNs[j]!;
      this.curMaxRank[c] = this.curMaxRank[j]!;
    } else {
      if (this.curMaxDurNs[j]! > this.curMaxDurNs[c]!) this.curMaxDurNs[c] = this.curMaxDurNs[j]!;
      if (this.curMaxRank[j]! > this.curMaxRank[c]!) this.curMaxRank[c] = this.curMaxRank[j]!;
    }
    const base = j * MAX_KEYS;
    const n = this.keyCount[j]!;
    for (let s = 0; s < n; s++) this.tally(c, this.keys[base + s]!, this.times[base + s]!);
    this.curEnd[c] = this.curEnd[j]!;
    this.curLastStartNs[c] = this.curLastStartNs[j]!;
  }

  /** Ends every level's bucket being filled, finest first (each goes into the next coarser one). */
  private finishAll(): void {
    this.finishBelow(LOD_LEVELS);
  }


  /**
   * Summarises a complete track in one pass (a file loaded whole: nothing was summarised yet):
   * TrackLod.buildAll for this one track.
   */
  build(ids: Uint32Array, count: number, startNs: Float64Array, endNs: Float64Array, kind: Uint8Array, style: Uint8Array, rankOf?: RankOf): void {
    if (this.sealedCount !== 0) {
      this.extend(ids, count, startNs, endNs, kind, style, rankOf, true);
      this.finishAll();
      return;
    }
    const lodOf = new Int32Array(ids.length > 0 && count > 0 ? ids[count - 1]! + 1 : 0).fill(-1);
    for (let i = 0; i < count; i++) lodOf[ids[i]!] = 0;
    TrackLod.buildAll([this], lodOf, startNs, endNs, kind, style, rankOf);
  }

  /**
   * Summarises complete tracks in one pass over the spans in id order (a file loaded whole:
   * nothing of them was summarised yet, sealedCount 0). `lodOf[id]` is the index in `lods` of
   * the track span `id` is in (−1: none, or a begun-before span: not in a track's list); a
   * track's list is its spans in id order, so the n-th span of lodOf's track is its position n.
   * Walking the columns in id order reads them front to back: track by track, each read a
   * scattered few of every cache line, and that was most of the time.
   *
   * The buckets each level will store are counted first, so every level's arrays are allocated
   * once at their final size — no growth by doubling, no trim by copy. The same buckets as
   * extend(…, final) over each track, then its buckets being filled stored (finishAll).
   */
  static buildAll(lods: readonly TrackLod[], lodOf: Int32Array, startNs: Float64Array, endNs: Float64Array, kind: Uint8Array, style: Uint8Array, rankOf?: RankOf): void {
    const L = LOD_LEVELS;
    const count = lodOf.length;
    // The count: per track and level, the bucket being filled, where it began, and the buckets stored.
    const cur = new Float64Array(lods.length * L).fill(Number.NaN);
    const from = new Float64Array(lods.length * L);
    const stored = new Uint32Array(lods.length * L);
    const pos = new Float64Array(lods.length);
    for (let id = 0; id < count; id++) {
      const t = lodOf[id]!;
      if (t < 0) continue;
      const i = pos[t]!++;
      const base = t * L;
      if (Number.isNaN(endNs[id]!)) {
        // An open span is left out of every bucket and ends the ones being filled (extend).
        for (let j = base; j < base + L; j++) {
          if (i - from[j]! >= 2 && !Number.isNaN(cur[j]!)) stored[j]!++;
          cur[j] = Number.NaN;
        }
        continue;
      }
      const s = startNs[id]!;
      for (let j = 0; j < L; j++) {
        const b = Math.floor(s * INV_BUCKET_NS[j]!);
        if (b === cur[base + j]) break;
        if (i - from[base + j]! >= 2 && !Number.isNaN(cur[base + j]!)) stored[base + j]!++;
        cur[base + j] = b;
        from[base + j] = i;
      }
    }
    for (let t = 0; t < lods.length; t++) {
      if (lods[t]!.sealedCount !== 0) throw new Error('TrackLod.buildAll: a track already summarised');
      const n = pos[t]!;
      for (let j = 0; j < L; j++) {
        const k = t * L + j;
        if (n > 0) lods[t]!.levels[j]!.reserve(stored[k]! + (n - from[k]! >= 2 && !Number.isNaN(cur[k]!) ? 1 : 0));
      }
    }
    // The summaries, as extend(…, final) makes them track by track.
    pos.fill(0);
    for (let id = 0; id < count; id++) {
      const t = lodOf[id]!;
      if (t < 0) continue;
      const lod = lods[t]!;
      const i = pos[t]!++;
      const e = endNs[id]!;
      if (Number.isNaN(e)) lod.finishAll();
      else lod.put(i, startNs[id]!, e, colourKey(kind[id]!, style[id]!), rankOf ? rankOf(id) : 0);
    }
    for (let t = 0; t < lods.length; t++) {
      lods[t]!.sealedCount = pos[t]!;
      lods[t]!.finishAll();
    }
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

  /**
   * Room in every level for `scale` × the buckets it has stored: a file of known size summarised
   * as it loads, once enough of it is in to show how its levels grow (LOD_SIZE_AT).
   */
  reserveScaled(scale: number): void {
    for (const l of this.levels) l.reserve(Math.ceil(l.count * scale));
  }

  /**
   * Stores the buckets still being filled and, unless `keepSlack`, drops the levels' growth slack
   * (the file is complete). Exactly, not by a load's margin as the span columns: the levels are
   * sized from an eighth of the file (~4 % over on the bench's), and keeping that grew P4 by
   * 0.15 B/event; the copy is ~50 MB at 10 M, so a page that is opening a file leaves it until its
   * first frame is drawn (`keepSlack`, then dropSlack: TraceSession.lodSlackPending).
   */
  trim(keepSlack = false): void {
    this.finishAll();
    if (!keepSlack) this.dropSlack();
  }

  /** Drops the levels' growth slack, by a copy of each level that has any. */
  dropSlack(): void {
    for (const l of this.levels) l.trim();
  }


  byteLength(): number {
    let n = 0;
    for (const l of this.levels) n += l.byteLength();
    return n;
  }
}
