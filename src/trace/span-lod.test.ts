import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { SpanIndex, SPAN_SUBROW, SpanKind, IOMAP_STYLE_ERROR } from './spans.ts';
import { ev } from './testing/events.ts';
import type { TraceEvent } from './schema.ts';
import { TrackLod, type LodVisitor } from './span-lod.ts';

/** `count` syscalls on one task: bursts of short ones with idle time between bursts. */
function bursts(count: number, seed = 7): TraceEvent[] {
  let x = seed;
  const rnd = (): number => { x = (x * 1103515245 + 12345) >>> 0; return x / 2 ** 32; };
  const out: TraceEvent[] = [];
  let t = 1000;
  for (let i = 0; i < count; i++) {
    const durNs = 1 + Math.floor(rnd() * 400);
    out.push(ev('app_op_begin', t, 'dd/1'), ev('app_op_end', t + durNs, 'dd/1'));
    t += durNs + (i % 50 === 49 ? 200_000 : 1 + Math.floor(rnd() * 300));
  }
  return out;
}

function indexed(events: TraceEvent[], batches = 1): { spans: SpanIndex; store: TraceStore } {
  const store = new TraceStore();
  const spans = new SpanIndex();
  const per = Math.ceil(events.length / batches);
  for (let i = 0; i < events.length; i += per) {
    store.appendAll(events.slice(i, i + per));
    spans.update(store);
  }
  return { spans, store };
}

const appTrack = (spans: SpanIndex) => spans.track(0, SPAN_SUBROW.app_op);

/** Every bucket of every level: [first, end) in span positions. */
function buckets(lod: TrackLod): Array<Array<[number, number]>> {
  return lod.levels.map((l) => Array.from({ length: l.count }, (_, p) => [l.first.data[p]!, l.end.data[p]!] as [number, number]));
}

describe('TrackLod.visitReaching', () => {
  it('visits every span still running at a time, skipping the buckets that ended before it', () => {
    // A task's requests overlap (each is paired by its unique): one long request early on, then
    // bursts of short ones. The long one makes a range query look far back, where nearly
    // everything ended long before.
    const events: TraceEvent[] = [ev('fuse_send', 500, 'dd/1', { unique: 1 }), ev('fuse_reply', 900_000_000, 'srv/2', { unique: 1 })];
    bursts(20_000).forEach((e, i) => events.push(i % 2 === 0
      ? ev('fuse_send', e.tsNs, 'dd/1', { unique: 2 + i })
      : ev('fuse_reply', e.tsNs, 'srv/2', { unique: 1 + i })));
    events.sort((a, b) => a.tsNs - b.tsNs);
    const { spans, store } = indexed(events, 7);
    spans.trim();
    const t = spans.track(0, SPAN_SUBROW.fuse_req);
    const ids = t.spans.data;
    const end = spans.endNs.data;
    expect(t.lod.sealedCount).toBe(t.spans.length);
    for (const atNs of [1000, store.endNs / 3, store.endNs / 2, store.endNs - 5]) {
      const visited: number[] = [];
      t.lod.visitReaching(ids, 0, t.lod.sealedCount, atNs, end, store.endNs, { span: (id) => visited.push(id) });
      const reaching = [...ids.subarray(0, t.spans.length)].filter((id) => end[id]! >= atNs);
      expect(reaching.length, `at ${atNs}`).toBeGreaterThan(0); // the long request at least
      // Every span that reaches atNs, in track order (others in a reaching bucket may come too) …
      expect(visited.filter((id) => end[id]! >= atNs), `at ${atNs}`).toEqual(reaching);
      expect(visited).toEqual([...visited].sort((a, b) => a - b));
      // … and far fewer than all of them.
      if (atNs > 1000) expect(visited.length).toBeLessThan(t.spans.length / 20);
    }
  });
});

describe('TrackLod', () => {
  it('groups closed spans into power-of-two buckets of ≥ 2 spans that nest level by level', () => {
    const { spans } = indexed(bursts(2000));
    const t = appTrack(spans);
    expect(t.lod.sealedCount).toBe(2000);
    // Buckets still being filled are stored by trim (a complete file); before, the tail is lone spans.
    spans.trim();
    const start = spans.startNs.data;
    const ids = t.spans.data;
    const all = buckets(t.lod);
    for (let j = 0; j < all.length; j++) {
      const bucketNs = t.lod.levels[j]!.bucketNs;
      for (const [first, end] of all[j]!) {
        expect(end - first).toBeGreaterThanOrEqual(2);
        // All spans of a bucket start in the same 2^k-ns bucket …
        expect(Math.floor(start[ids[first]!]! / bucketNs)).toBe(Math.floor(start[ids[end - 1]!]! / bucketNs));
      }
      // … and each bucket of a finer level lies inside one bucket of the coarser level.
      if (j + 1 < all.length) {
        for (const [first, end] of all[j]!) {
          const parent = all[j + 1]!.find(([f, e]) => f <= first && end <= e);
          expect(parent, `level ${j} bucket [${first}, ${end})`).toBeDefined();
        }
      }
    }
    // The 200 µs pauses split a 64 µs-bucket level into at least one bucket per burst.
    const j64us = t.lod.levelFor(65_536);
    expect(t.lod.levels[j64us]!.count).toBeGreaterThanOrEqual(40);
  });

  it('builds the same buckets whether rows arrive at once or in many batches', () => {
    const events = bursts(3000);
    expect(buckets(appTrack(indexed(events, 37).spans).lod)).toEqual(buckets(appTrack(indexed(events, 1).spans).lod));
  });

  it('waits for an open span, but summarises around one whose close was lost', () => {
    const events = bursts(10);
    const store = new TraceStore();
    const spans = new SpanIndex();
    store.appendAll(events);
    store.append(ev('app_op_begin', store.endNs + 10, 'dd/1')); // still running
    spans.update(store);
    expect(appTrack(spans).lod.sealedCount).toBe(10);
    // Its end never comes: the next begin on the task replaces it, and 100 more syscalls close.
    const more = bursts(100).map((e) => ({ ...e, tsNs: e.tsNs + store.endNs + 1000 }));
    store.appendAll(more);
    spans.update(store);
    const t = appTrack(spans);
    expect(t.spans.length).toBe(111);
    expect(t.lod.sealedCount).toBe(111);
    for (const level of buckets(t.lod)) for (const [first, end] of level) expect(first > 10 || end <= 10).toBe(true);
  });

  it('walks every span in range exactly once, in order, whole buckets or one by one', () => {
    const { spans, store } = indexed(bursts(5000));
    const t = appTrack(spans);
    const fromNs = store.startNs + (store.endNs - store.startNs) * 0.2;
    const toNs = store.startNs + (store.endNs - store.startNs) * 0.7;
    const expected: number[] = [];
    spans.forEachInRange(t, fromNs, toNs, store.endNs, (id) => expected.push(id));
    const seen: number[] = [];
    let units = 0;
    const v: LodVisitor = {
      span: (id) => seen.push(id),
      unitOk: (_first, _last, maxDurNs) => maxDurNs < 300,
      unit: (firstId, firstStartNs, count) => {
        units++;
        expect(spans.startNs.data[firstId]).toBe(firstStartNs);
        const pos = t.spans.data.indexOf(firstId);
        for (let i = 0; i < count; i++) seen.push(t.spans.data[pos + i]!);
      },
    };
    spans.forEachInRangeLod(t, fromNs, toNs, store.endNs, t.lod.levelFor(50_000), v);
    expect(units).toBeGreaterThan(0);
    expect(seen).toEqual(expected);
  });
});

describe('a file summarised as it loads (SpanIndex.deferLod)', () => {
  /** Every bucket of every level with all it stores. */
  const full = (lod: TrackLod) => lod.levels.map((l) => Array.from({ length: l.count }, (_, p) => [l.first.data[p], l.end.data[p],
    l.firstStartNs.data[p], l.lastStartNs.data[p], l.maxDurNs.data[p], l.domKey.data[p], l.domTimeNs.data[p]]));
  /** The track's levels summarised at once from its spans as they are now (build: checked against the definition below). */
  const builtWhole = (spans: SpanIndex, t: ReturnType<typeof appTrack>) => {
    const lod = new TrackLod();
    lod.build(t.spans.data, t.spans.length, spans.startNs.data, spans.endNs.data, spans.kind.data, spans.style.data);
    return full(lod);
  };
  function loadInBatches(events: TraceEvent[], rowsPerBatch: number, afterBatch: (spans: SpanIndex, rows: number) => void = () => {}) {
    const store = new TraceStore();
    const spans = new SpanIndex();
    spans.deferLod = true;
    for (let i = 0; i < events.length; i += rowsPerBatch) {
      store.appendAll(events.slice(i, i + rowsPerBatch));
      spans.update(store);
      afterBatch(spans, store.length);
    }
    spans.markComplete();
    spans.trim();
    return spans;
  }

  it('passes over an open span as it loads, goes back to it when it closes, and ends with the buckets of the complete file', () => {
    // One task's requests: bursts of short ones, one long one (sent early, replied to after
    // thousands of others) and one never replied to.
    const events: TraceEvent[] = [ev('fuse_send', 500, 'dd/1', { unique: 1 }), ev('fuse_reply', 0, 'srv/2', { unique: 1 })];
    bursts(3000).forEach((e, i) => events.push(i % 2 === 0
      ? ev('fuse_send', e.tsNs, 'dd/1', { unique: 10 + i })
      : ev('fuse_reply', e.tsNs, 'srv/2', { unique: 9 + i })));
    events.push(ev('fuse_send', events.at(-1)!.tsNs + 10, 'dd/1', { unique: 99_999 }));
    bursts(200).forEach((e, i) => events.push(i % 2 === 0
      ? ev('fuse_send', events.at(-1)!.tsNs + 50, 'dd/1', { unique: 100_000 + i })
      : ev('fuse_reply', events.at(-1)!.tsNs + e.tsNs % 100, 'srv/2', { unique: 99_999 + i })));
    const longReply = events.splice(1, 1)[0]!;
    longReply.tsNs = events[2400]!.tsNs + 1;
    events.splice(2401, 0, longReply);
    const track = (spans: SpanIndex) => spans.track(0, SPAN_SUBROW.fuse_req);
    let passedOver = 0;
    let wentBack = false;
    let sealedBefore = 0;
    const spans = loadInBatches(events, 300, (sp, rows) => {
      const t = track(sp);
      if (rows <= 2401) {
        // The long request (position 0) is open: the ones after it are summarised all the same.
        expect(sp.isOpen(t.spans.data[0]!)).toBe(true);
        passedOver = Math.max(passedOver, t.lod.sealedCount);
        sealedBefore = t.lod.sealedCount;
      } else if (!wentBack) {
        wentBack = true;
        // Its reply came: summarised again from it (it is in the buckets now), up to where it was.
        expect(t.lod.sealedCount).toBeGreaterThanOrEqual(sealedBefore);
        expect(t.lod.levels.some((l) => l.count > 0 && l.first.data[0] === 0)).toBe(true);
      }
    });
    expect(passedOver).toBeGreaterThan(1000);
    expect(wentBack).toBe(true);
    const t = track(spans);
    expect(spans.isOpenEnded(t.spans.data[t.spans.length - 201]!)).toBe(true); // the one never replied to
    expect(full(t.lod)).toEqual(builtWhole(spans, t));
  });

  it('goes back to the nearest kept state when an open span passed over past the first few closes', () => {
    // Twelve long requests among short ones, each followed by hundreds of others; the tenth is
    // replied to near the end, the rest never. Only the first 8 passed over keep their state.
    const events: TraceEvent[] = [];
    let t = 1_000;
    let u = 1_000;
    for (let long = 0; long < 12; long++) {
      events.push(ev('fuse_send', t, 'dd/1', { unique: long + 1 }));
      for (let i = 0; i < 150; i++) {
        t += 37 + (i % 7) * 11;
        events.push(ev('fuse_send', t, 'dd/1', { unique: ++u }), ev('fuse_reply', t + 20 + (i % 5), 'srv/2', { unique: u }));
      }
      t += 5_000;
    }
    events.push(ev('fuse_reply', t + 100, 'srv/2', { unique: 10 }));
    for (let i = 0; i < 100; i++) {
      t += 300;
      events.push(ev('fuse_send', t + 200, 'dd/1', { unique: ++u }), ev('fuse_reply', t + 250, 'srv/2', { unique: u }));
    }
    const track = (spans: SpanIndex) => spans.track(0, SPAN_SUBROW.fuse_req);
    let sealedBeforeReply = 0;
    const spans = loadInBatches(events, 250, (sp, rows) => {
      if (rows < 12 * 301) sealedBeforeReply = track(sp).lod.sealedCount;
    });
    // Summarised past all twelve while they were open …
    expect(sealedBeforeReply).toBeGreaterThan(11 * 151);
    const tr = track(spans);
    expect(spans.isOpen(tr.spans.data[9 * 151]!)).toBe(false);
    expect(spans.isOpenEnded(tr.spans.data[10 * 151]!)).toBe(true);
    // … and, the tenth replied to, what summarising the complete file gives.
    expect(full(tr.lod)).toEqual(builtWhole(spans, tr));
    expect(tr.lod.levels.some((l) => Array.from(l.first.data.subarray(0, l.count)).includes(9 * 151))).toBe(true);
  });

  it('holds at a task\'s latest iomap step: an iomap_iter_end error in a later batch still colours it', () => {
    // Steps 200 ns apart, each closed by its iomap_end; every 50th step's iomap_iter_end (with an
    // error: it marks the step failed) comes first in the next batch.
    const events: TraceEvent[] = [];
    let t = 1_000;
    for (let i = 0; i < 2000; i++) {
      events.push(ev('iomap_begin', t, 'dd/1'), ev('iomap_end', t + 100, 'dd/1'));
      events.push(ev('iomap_iter_end', t + 120, 'dd/1', i % 50 === 49 ? { error: -5 } : {}));
      t += 200;
    }
    const rowsPerBatch = 150; // 50 steps
    const steps = (spans: SpanIndex) => spans.track(0, SPAN_SUBROW.iomap);
    let sealedWhileLoading = 0;
    const spans = loadInBatches(events, rowsPerBatch - 1, (sp) => {
      const tr = steps(sp);
      sealedWhileLoading = Math.max(sealedWhileLoading, tr.lod.sealedCount);
      // Never past the task's latest step.
      expect(tr.lod.sealedCount).toBeLessThan(tr.spans.length);
    });
    expect(sealedWhileLoading).toBeGreaterThan(1000);
    const tr = steps(spans);
    expect(spans.isFailed(tr.spans.data[49]!)).toBe(true);
    // The failed steps' colour is in the buckets as the complete file has it.
    expect(full(tr.lod)).toEqual(builtWhole(spans, tr));
    expect(tr.lod.levels.some((l) => Array.from(l.domKey.data.subarray(0, l.count)).includes(SpanKind.iomap * 256 + IOMAP_STYLE_ERROR))).toBe(true);
  });

  it('a load that stops part way leaves an open span as the per-batch path does: held at when few spans follow it, left out when many do', () => {
    const events = bursts(400);
    events.splice(401, 1); // syscall 200's end never comes: 199 spans follow it
    events.splice(790, 1); // syscall 395's (791 before the first splice): 4 follow it
    const perBatch = indexed(events, 8);
    const store = new TraceStore();
    const whole = new SpanIndex();
    whole.deferLod = true;
    for (let i = 0; i < events.length; i += 100) {
      store.appendAll(events.slice(i, i + 100));
      whole.update(store);
    }
    whole.endDeferredLod(); // as TraceSession.adopt does for a file that stopped loading
    expect(appTrack(whole).lod.sealedCount).toBe(395);
    expect(full(appTrack(whole).lod)).toEqual(full(appTrack(perBatch.spans).lod));
  });
});

describe('TrackLod.buildAll', () => {
  it('summarises tracks whose spans interleave by id as each alone', () => {
    // Three tracks' spans dealt out by id; one span of the second never closes.
    const n = 9000;
    let x = 5;
    const rnd = (m: number): number => { x = (x * 1103515245 + 12345) >>> 0; return Math.floor((x / 2 ** 32) * m); };
    const startNs = new Float64Array(n);
    const endNs = new Float64Array(n);
    const kind = new Uint8Array(n);
    const style = new Uint8Array(n);
    const lists: number[][] = [[], [], []];
    const clock = [1_000, 1_000, 1_000];
    const lodOf = new Int32Array(n);
    for (let id = 0; id < n; id++) {
      const k = rnd(3);
      lodOf[id] = k;
      lists[k]!.push(id);
      startNs[id] = clock[k]!;
      endNs[id] = k === 1 && lists[1]!.length === 500 ? Number.NaN : clock[k]! + rnd(300);
      kind[id] = rnd(2);
      style[id] = rnd(4);
      clock[k]! += rnd(8) === 0 ? 50_000 : 1 + rnd(400);
    }
    const together = [new TrackLod(), new TrackLod(), new TrackLod()];
    TrackLod.buildAll(together, lodOf, startNs, endNs, kind, style);
    lists.forEach((ids, k) => {
      const alone = new TrackLod();
      alone.extend(Uint32Array.from(ids), ids.length, startNs, endNs, kind, style, undefined, true);
      alone.trim();
      expect(together[k]!.sealedCount).toBe(ids.length);
      expect(buckets(together[k]!)).toEqual(buckets(alone));
      // Counted first: each level holds exactly its buckets (past the first 4).
      for (const l of together[k]!.levels) expect(l.first.data.length).toBe(Math.max(4, l.count));
    });
  });
});

describe('TrackLod levels against their definition', () => {
  // Spans of one track in start order, with 6 colours, random durations (ties of time covered
  // happen: durations are small integers) and one span that never closes in the middle.
  function track(count: number, seed = 11) {
    let x = seed;
    const rnd = (n: number): number => { x = (x * 1103515245 + 12345) >>> 0; return Math.floor((x / 2 ** 32) * n); };
    const ids = new Uint32Array(count);
    const startNs = new Float64Array(count);
    const endNs = new Float64Array(count);
    const kind = new Uint8Array(count);
    const style = new Uint8Array(count);
    let t = 5_000;
    for (let i = 0; i < count; i++) {
      ids[i] = i;
      startNs[i] = t;
      endNs[i] = i === count >> 1 ? Number.NaN : t + rnd(4) * 10;
      kind[i] = rnd(2);
      style[i] = rnd(3);
      t += rnd(5) === 0 ? 3_000 + rnd(100_000) : 1 + rnd(40);
    }
    return { ids, startNs, endNs, kind, style };
  }
  type Bucket = [first: number, end: number, firstStartNs: number, lastStartNs: number, maxDurNs: number, domKey: number, domTimeNs: number, maxRank: number];
  /**
   * Each level worked out from the spans alone: closed spans grouped by ⌊start / bucketNs⌋, an
   * open span ending the group; groups of ≥ 2 kept, with their most time-covering colour
   * (kind × 256 + style; weight duration + 1 ns; a tie goes to the colour seen first).
   */
  function expected(tr: ReturnType<typeof track>, bucketNs: number, rank: (id: number) => number): Bucket[] {
    const out: Bucket[] = [];
    let group: number[] = [];
    const flush = () => {
      if (group.length >= 2) {
        const times = new Map<number, number>();
        for (const i of group) {
          const key = tr.kind[i]! * 256 + tr.style[i]!;
          times.set(key, (times.get(key) ?? 0) + tr.endNs[i]! - tr.startNs[i]! + 1);
        }
        let dom = -1;
        let domTime = -1;
        for (const [key, time] of times) if (time > domTime) { dom = key; domTime = time; }
        out.push([group[0]!, group.at(-1)! + 1, tr.startNs[group[0]!]!, tr.startNs[group.at(-1)!]!,
          Math.fround(Math.max(...group.map((i) => tr.endNs[i]! - tr.startNs[i]!))), dom, Math.fround(domTime), Math.max(...group.map(rank))]);
      }
      group = [];
    };
    for (let i = 0; i < tr.ids.length; i++) {
      if (Number.isNaN(tr.endNs[i]!)) { flush(); continue; }
      if (group.length > 0 && Math.floor(tr.startNs[i]! / bucketNs) !== Math.floor(tr.startNs[group[0]!]! / bucketNs)) flush();
      group.push(i);
    }
    flush();
    return out;
  }
  function stored(lod: TrackLod): Bucket[][] {
    return lod.levels.map((l) => Array.from({ length: l.count }, (_, p): Bucket => [l.first.data[p]!, l.end.data[p]!,
      l.firstStartNs.data[p]!, l.lastStartNs.data[p]!, l.maxDurNs.data[p]!, l.domKey.data[p]!, l.domTimeNs.data[p]!, l.maxRank?.data[p] ?? 0]));
  }

  it('every level, built whole or extended batch by batch, is what grouping the spans by its bucket gives', () => {
    const tr = track(6000);
    const rank = (id: number): number => (tr.kind[id]! + tr.style[id]!) % 3;
    const whole = new TrackLod(true);
    whole.build(tr.ids, tr.ids.length, tr.startNs, tr.endNs, tr.kind, tr.style, rank);
    const batched = new TrackLod(true);
    for (let n = 97; ; n = Math.min(tr.ids.length, n + 389)) {
      batched.extend(tr.ids, n, tr.startNs, tr.endNs, tr.kind, tr.style, rank, n === tr.ids.length);
      if (n === tr.ids.length) break;
    }
    batched.trim();
    const want = whole.levels.map((l) => expected(tr, l.bucketNs, rank));
    // The fine levels hold many buckets, the coarse ones few: every level is exercised.
    expect(want[0]!.length).toBeGreaterThan(100);
    expect(want.at(-1)!.length).toBeGreaterThan(0);
    expect(stored(whole)).toEqual(want);
    expect(stored(batched)).toEqual(want);
  });
});

describe('TrackLod memory', () => {
  it('a track with nothing summarised yet holds 4 buckets a level: 18 levels × 4 × 34 bytes (a trace of many tasks has 4 tracks per task)', () => {
    // Per bucket: first, end (4 + 4), first and last start (8 + 8), longest duration (4), colour (2), its time (4).
    expect(new TrackLod().byteLength()).toBe(18 * 4 * 34);
    expect(new TrackLod(true).byteLength()).toBe(18 * 4 * 35); // + the highest rank (1)
  });
});
