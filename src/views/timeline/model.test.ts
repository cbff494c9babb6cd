import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { SpanIndex, SpanKind, SUBROW_COUNT, SPAN_SUBROW } from '../../trace/spans.ts';
import { MapType, OpFlag } from '../../trace/fuse-proto.ts';
import { typed, type LooseEvent } from '../../trace/testing/events.ts';
import { PALETTE_IDX, mapTypePaletteIdx } from '../../render/palette.ts';
import { buildTimelineModel, hitTest, orderLanes } from './model.ts';

const NULL_ADDR = 0xffff_ffff_ffff_ffffn;
const MAP = { mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 4096, mapAddr: 8192n, mapDev: 0 };

/** A write(2) on dd/412 that maps one extent, plus a lock the task waits for then holds. */
function smallTrace(): LooseEvent[] {
  const task = 'dd/412';
  return [
    { lockAddr: 0n, kind: 'lock_wait', tsNs: 50, task, lock: 'i_rwsem', mode: 'W', nodeId: 7, ino: 12 },
    { lockAddr: 0n, kind: 'lock_acquire', tsNs: 90, task, lock: 'i_rwsem', mode: 'W', nodeId: 7, ino: 12 },
    { kind: 'app_op_begin', tsNs: 100, task, op: 'write', path: '/a', fd: 3, posBytes: 0, lenBytes: 4096, oflags: 0 },
    { fsDev: 0, kind: 'iomap_begin', tsNs: 200, task, nodeId: 7, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 4096 },
    { rawType: '', kind: 'iomap_map', tsNs: 300, task, nodeId: 7, ino: 12, slot: 'read', source: 'reply', ...MAP, mapType: MapType.HOLE, mapAddr: NULL_ADDR, cookie: 0 },
    { rawType: '', kind: 'iomap_map', tsNs: 300, task, nodeId: 7, ino: 12, slot: 'write', source: 'reply', ...MAP, mapType: MapType.MAPPED, cookie: 0 },
    { kind: 'iomap_iter_end', tsNs: 500, task, nodeId: 7, ino: 12, posBytes: 0, lenBytes: 4096, processedBytes: 4096, error: 0 },
    { kind: 'app_op_end', tsNs: 600, task, op: 'write', fd: 3, ret: 4096 },
    { lockAddr: 0n, kind: 'lock_release', tsNs: 700, task, lock: 'i_rwsem', mode: 'W', nodeId: 7, ino: 12 },
    // Far outside the range used below.
    { kind: 'app_op_begin', tsNs: 5000, task, op: 'fsync', path: '/a', fd: 3, posBytes: 0, lenBytes: 0, oflags: 0 },
    { kind: 'app_op_end', tsNs: 5100, task, op: 'fsync', fd: 3, ret: 0 },
  ];
}

function index(events: LooseEvent[]): { store: TraceStore; spans: SpanIndex } {
  const store = new TraceStore();
  store.appendAll(typed(events));
  const spans = new SpanIndex();
  spans.update(store);
  return { store, spans };
}

describe('buildTimelineModel', () => {
  it('turns spans in range into primitives with the right x and colour', () => {
    const { store, spans } = index(smallTrace());
    const m = buildTimelineModel(spans, store, 0, 1000, 1000); // 1 ns per px
    expect(m.lanes.map((l) => l.task)).toEqual(['dd/412']);
    const byKind = new Map<number, number>();
    for (let i = 0; i < m.prims.count; i++) byKind.set(m.prims.kind[i]!, i);
    expect(m.prims.count).toBe(4); // app op, iomap, lock wait, lock hold — not the fsync at 5000

    const iomap = byKind.get(SpanKind.iomap)!;
    expect(m.prims.xPx[iomap]).toBe(200);
    expect(m.prims.widthPx[iomap]).toBe(300);
    expect(m.prims.style[iomap]).toBe(mapTypePaletteIdx(MapType.MAPPED)); // write slot wins
    expect(m.prims.subrow[iomap]).toBe(SPAN_SUBROW.iomap);
    expect(m.prims.spanCount[iomap]).toBe(1);

    const app = byKind.get(SpanKind.app_op)!;
    expect([m.prims.xPx[app], m.prims.widthPx[app]]).toEqual([100, 500]);
    expect(m.prims.style[byKind.get(SpanKind.lock_wait)!]).toBe(PALETTE_IDX['lock.wait']);
    expect(m.prims.style[byKind.get(SpanKind.lock_hold)!]).toBe(PALETTE_IDX['lock.write']);

    expect(hitTest(m, 350, 0, SPAN_SUBROW.iomap)).toBe(iomap);
    expect(hitTest(m, 900, 0, SPAN_SUBROW.iomap)).toBe(-1);
  });

  it('clips spans to the range and emits nothing outside it', () => {
    const { store, spans } = index(smallTrace());
    const m = buildTimelineModel(spans, store, 300, 400, 100);
    for (let i = 0; i < m.prims.count; i++) {
      expect(m.prims.xPx[i]).toBeGreaterThanOrEqual(0);
      expect(m.prims.xPx[i]! + m.prims.widthPx[i]!).toBeLessThanOrEqual(100);
    }
    const empty = buildTimelineModel(spans, store, 1000, 4000, 300);
    expect(empty.prims.count).toBe(0);
  });

  it('merges 100k sub-pixel spans into at most widthPx blocks whose counts sum to 100k', () => {
    const events: LooseEvent[] = [];
    const task = 'fio/9';
    for (let i = 0; i < 100_000; i++) {
      const tsNs = i * 10;
      events.push({ fsDev: 0, kind: 'iomap_begin', tsNs, task, nodeId: 1, ino: 1, opflags: 0, posBytes: i * 4096, lenBytes: 4096 });
      events.push({ rawType: '', kind: 'iomap_map', tsNs: tsNs + 1, task, nodeId: 1, ino: 1, slot: 'read', source: 'cache', ...MAP,
        mapType: i % 3 === 0 ? MapType.UNWRITTEN : MapType.MAPPED, cookie: 0 });
      events.push({ kind: 'iomap_iter_end', tsNs: tsNs + 5, task, nodeId: 1, ino: 1, posBytes: i * 4096, lenBytes: 4096, processedBytes: 4096, error: 0 });
    }
    const { store, spans } = index(events);
    const widthPx = 800;
    const m = buildTimelineModel(spans, store, 0, 1_000_000, widthPx);
    expect(m.prims.count).toBeGreaterThan(0);
    expect(m.prims.count).toBeLessThanOrEqual(widthPx);
    let total = 0;
    for (let i = 0; i < m.prims.count; i++) {
      total += m.prims.spanCount[i]!;
      expect(m.prims.xPx[i]).toBeGreaterThanOrEqual(0);
      expect(m.prims.xPx[i]! + m.prims.widthPx[i]!).toBeLessThanOrEqual(widthPx);
    }
    expect(total).toBe(100_000);
    // Two thirds are mapped: the merged block takes the dominant colour.
    expect(m.prims.style[0]).toBe(mapTypePaletteIdx(MapType.MAPPED));
    expect(m.prims.spanId[0]).toBe(-1);
  });

  it('draws a lone sub-pixel span as a 1 px clickable span and marks gaps', () => {
    const { store, spans } = index(smallTrace());
    const m = buildTimelineModel(spans, store, 0, 100_000, 100, [{ fromTsNs: 50_000, toTsNs: 50_010, missedEvents: 42 }]);
    const iomap = [...Array(m.prims.count).keys()].find((i) => m.prims.kind[i] === SpanKind.iomap)!;
    expect(m.prims.spanCount[iomap]).toBe(1);
    expect(m.prims.spanId[iomap]).toBeGreaterThanOrEqual(0);
    expect(m.prims.widthPx[iomap]).toBe(1);
    expect(m.gaps).toEqual([{ xPx: 50, widthPx: 2, missedEvents: 42 }]);
    expect(SUBROW_COUNT).toBe(4);
  });
  it('draws LOD buckets within half a pixel of where every span would be drawn (one colour per track)', () => {
    // 3 tasks × 20k syscalls of 1–400 ns with pauses: dense enough that buckets are used.
    let x = 11;
    const rnd = (): number => { x = (x * 1103515245 + 12345) >>> 0; return x / 2 ** 32; };
    const events: LooseEvent[] = [];
    const t = [1000, 1000, 1000];
    for (let i = 0; i < 60_000; i++) {
      const task = i % 3;
      const durNs = 1 + Math.floor(rnd() * 400);
      events.push({ kind: 'app_op_begin', tsNs: t[task]!, task: `t/${task}`, op: 'read', path: '/f', fd: 3, posBytes: 0, lenBytes: 1, oflags: 0 });
      events.push({ kind: 'app_op_end', tsNs: t[task]! + durNs, task: `t/${task}`, op: 'read', fd: 3, ret: 1 });
      t[task]! += durNs + (i % 300 === 299 ? 5_000_000 : 1 + Math.floor(rnd() * 300));
    }
    events.sort((a, b) => a.tsNs - b.tsNs);
    const { store, spans } = index(events);
    const span = store.endNs - store.startNs;
    // At full range the walk has buckets to use (else this would compare the exact path with itself).
    const track = spans.track(0, SPAN_SUBROW.app_op);
    const level = track.lod.levels[track.lod.levelFor(span / 1250 / 2)];
    expect(level?.count ?? 0).toBeGreaterThan(10);
    type Model = ReturnType<typeof buildTimelineModel>;
    // Per track: which columns a primitive covers, the spans it counts, the spans drawn one by one.
    const cover = (m: Model, laneRow: number): Uint8Array => {
      const c = new Uint8Array(1250);
      for (let i = 0; i < m.prims.count; i++) {
        if (m.prims.row[i] !== laneRow) continue;
        const x0 = Math.floor(m.prims.xPx[i]!);
        for (let x = x0; x < Math.max(x0 + 1, Math.ceil(m.prims.xPx[i]! + m.prims.widthPx[i]!)); x++) c[x] = 1;
      }
      return c;
    };
    const counted = (m: Model, laneRow: number): number => {
      let n = 0;
      for (let i = 0; i < m.prims.count; i++) if (m.prims.row[i] === laneRow) n += m.prims.spanCount[i]!;
      return n;
    };
    const wide = (m: Model): number[] => [...Array(m.prims.count).keys()]
      .filter((i) => m.prims.spanCount[i] === 1 && m.prims.widthPx[i]! > 1).map((i) => m.prims.spanId[i]!).sort((x, y) => x - y);
    for (const [from, to] of [[0, 1], [0.1, 0.35], [0.5, 0.5 + 1 / 64], [0.3, 0.3 + 1 / 256]] as const) {
      const range = `range ${from}–${to}`;
      const a = buildTimelineModel(spans, store, store.startNs + span * from, store.startNs + span * to, 1250, [], [], true);
      const b = buildTimelineModel(spans, store, store.startNs + span * from, store.startNs + span * to, 1250, [], [], false);
      expect(b.prims.count, range).toBeGreaterThan(0);
      expect(wide(a), range).toEqual(wide(b)); // spans ≥ 1 px: the same, exactly
      for (let lane = 0; lane < a.lanes.length; lane++) {
        expect(counted(a, lane), range).toBe(counted(b, lane)); // no span dropped or counted twice
        const ca = cover(a, lane);
        const cb = cover(b, lane);
        // A column covered on one side is covered on the other there or one column to its right
        // (a bucket's spans moved left by < ½ px into their first span's column).
        for (let x = 0; x < 1250; x++) {
          if (ca[x]) expect(cb[x] || cb[x + 1], `${range} lane ${lane} column ${x}`).toBeTruthy();
          if (cb[x]) expect(ca[x] || ca[x - 1], `${range} lane ${lane} column ${x}`).toBeTruthy();
        }
      }
    }
    // At full range the walk takes buckets that straddle a column edge whole too: a rule that
    // took only buckets within one column descended at every edge (~8 visits a column a track):
    // fewer visits than one a column per track.
    const full = buildTimelineModel(spans, store, store.startNs, store.endNs, 1250, [], [], true);
    // (Here: ~1,100 visits for 3 tracks; ~59,000 with a ½-px spread of 0.0001 px.)
    expect(full.visits).toBeLessThan(1250 * 3);
  });

  it('keeps span counts exact with LOD when colours mix, and at most widthPx blocks per track', () => {
    // Requests of three opcode classes (three colours) in one track, sub-pixel at full range.
    const events: LooseEvent[] = [];
    const opcodes = [4094, 1, 4093];
    let tNs = 1000;
    for (let unique = 2; unique < 40_002; unique++) {
      const opcode = opcodes[(unique * 7) % 3]!;
      events.push({ kind: 'fuse_send', tsNs: tNs, task: 'dd/9', unique, opcode, nodeId: 2, lenBytes: 64 });
      events.push({ kind: 'fuse_reply', tsNs: tNs + 50 + (unique % 13) * 20, task: 'fuse2fs/2', unique, opcode, error: 0, lenBytes: 64 });
      tNs += 400 + (unique % 1000 === 0 ? 3_000_000 : (unique % 5) * 30);
    }
    const { store, spans } = index(events);
    const total = (m: ReturnType<typeof buildTimelineModel>) => {
      let n = 0;
      for (let i = 0; i < m.prims.count; i++) n += m.prims.spanCount[i]!;
      return n;
    };
    const lod = buildTimelineModel(spans, store, store.startNs, store.endNs, 800, [], [], true);
    const exact = buildTimelineModel(spans, store, store.startNs, store.endNs, 800, [], [], false);
    expect(total(lod)).toBe(total(exact));
    expect(total(lod)).toBeGreaterThan(10_000);
    const perTrack = new Map<number, number>();
    for (let i = 0; i < lod.prims.count; i++) {
      const k = lod.prims.row[i]! * 8 + lod.prims.subrow[i]!;
      perTrack.set(k, (perTrack.get(k) ?? 0) + 1);
    }
    for (const n of perTrack.values()) expect(n).toBeLessThanOrEqual(800);
  });

  it("draws kernel-filesystem steps on their inode's lane, after the task lanes, stacked when tasks overlap; a task with no other span has no row", () => {
    const k = { nodeId: 0, ino: 0xc, fsDev: 7 << 20, opflags: OpFlag.WRITE | OpFlag.DIRECT, posBytes: 0, lenBytes: 4096 };
    const end = { nodeId: 0, ino: 0xc, posBytes: 0, lenBytes: 4096, processedBytes: 4096, error: 0 };
    const { store, spans } = index([
      { kind: 'app_op_begin', tsNs: 50, task: 'dd/1', op: 'write', path: '/f', fd: 3, posBytes: 0, lenBytes: 4096, oflags: 0 },
      { kind: 'iomap_begin', tsNs: 100, task: 'dd/1', ...k },
      { kind: 'iomap_begin', tsNs: 200, task: 'dd/2', ...k },
      { kind: 'iomap_iter_end', tsNs: 300, task: 'dd/2', ...end },
      { kind: 'iomap_iter_end', tsNs: 400, task: 'dd/1', ...end },
      { kind: 'app_op_end', tsNs: 450, task: 'dd/1', op: 'write', fd: 3, ret: 4096 },
    ]);
    const m = buildTimelineModel(spans, store, 0, 1000, 1000);
    // dd/2's only span is on the inode lane: no dd/2 row.
    expect(m.lanes.map((l) => [l.task, l.role])).toEqual([['dd/1', 'app'], ['dev 7:0 ino 0xc', 'fs']]);
    const steps = [...Array(m.prims.count).keys()].filter((i) => m.prims.kind[i] === SpanKind.iomap);
    // dd/1's step [100, 400] in sub-row 0, dd/2's [200, 300] beside it in sub-row 1, both on row 1.
    expect(steps.map((i) => [m.prims.row[i], m.prims.subrow[i], m.prims.xPx[i], m.prims.widthPx[i]])).toEqual([[1, 0, 100, 300], [1, 1, 200, 100]]);
    expect(hitTest(m, 250, 1, 0)).toBe(steps[0]);
    expect(hitTest(m, 250, 1, 1)).toBe(steps[1]);
  });
});

describe('orderLanes groups', () => {
  it('puts pins first (no group), then lanes by role and comm, each role+comm one group', () => {
    const lanes = [
      { idx: 0, task: 'fuse2fs/11', role: 'unknown' as const },
      { idx: 1, task: 'dd/5', role: 'app' as const },
      { idx: 2, task: 'fuse2fs/12', role: 'server' as const },
      { idx: 3, task: 'cat/6', role: 'app' as const },
      { idx: 4, task: 'dd/7', role: 'app' as const },
      { idx: 5, task: 'fuse2fs/13', role: 'server' as const },
    ];
    const rows = orderLanes(lanes, ['fuse2fs/13']);
    expect(rows.map((r) => [r.task, r.group])).toEqual([
      ['fuse2fs/13', ''],
      ['dd/5', 'app:dd'], ['dd/7', 'app:dd'],
      ['cat/6', 'app:cat'],
      ['fuse2fs/12', 'server:fuse2fs'],
      ['fuse2fs/11', 'unknown:fuse2fs'],
    ]);
  });
});
