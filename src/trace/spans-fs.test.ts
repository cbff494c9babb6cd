// Kernel-filesystem iomap steps on per-inode lanes (role 'fs', keyed by fsDev and ino), paired by
// task: real ext4/XFS captures against their hand-derived `*.expected.json`, and synthetic rows
// for what the captures do not show (overlapping steps of several tasks, fuse-iomap steps).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TraceStore } from './store.ts';
import { SpanIndex, SpanKind, SPAN_SUBROW, SUBROW_COUNT, fsInodeLabel } from './spans.ts';
import { importText } from './import/testing.ts';
import { ev } from './testing/events.ts';
import { MapType } from './fuse-proto.ts';
import { asIno } from './ids.ts';

const dir = '../../fixtures/real/kernel-fs/';
const text = (f: string): string => readFileSync(new URL(dir + f, import.meta.url), 'utf8');
interface ExpStep { pid: number; startNs: number; endNs: number | null; ino: string }
const expectedSteps = (f: string): ExpStep[] =>
  (JSON.parse(text(f.replace(/\.txt$/, '.expected.json'))) as { iomapSteps: { steps: ExpStep[] } }).iomapSteps.steps;

function pair(f: string): { store: TraceStore; spans: SpanIndex; originNs: number } {
  const r = importText([{ name: f, text: text(f), format: 'ftrace' }]);
  const store = new TraceStore();
  store.appendAll(r.events);
  const spans = new SpanIndex();
  spans.update(store);
  spans.markComplete();
  return { store, spans, originNs: Number(r.originNs) };
}

const laneName = (spans: SpanIndex, id: number): string => spans.lanes[spans.lane.data[id]!]!.task;
const ids = (spans: SpanIndex, kind: number): number[] => [...Array(spans.count).keys()].filter((i) => spans.kind.data[i] === kind);

describe('kernel filesystem steps on per-inode lanes (real captures)', () => {
  it('ext4-dio: 8 steps on lane "dev 7:0 ino 0xc", 2 on "dev 7:0 ino 0xd", none on the dd lanes; each names its dd task', () => {
    // From the capture's lines: dd-17997 writes ino 0xc in 4 steps, dd-18003 writes 0xd in 2, dd-18004 reads 0xc in 4.
    const { store, spans, originNs } = pair('ext4-dio.txt');
    const steps = ids(spans, SpanKind.iomap);
    const perLane: Record<string, number> = {};
    for (const id of steps) perLane[laneName(spans, id)] = (perLane[laneName(spans, id)] ?? 0) + 1;
    expect(perLane).toEqual({ 'dev 7:0 ino 0xc': 8, 'dev 7:0 ino 0xd': 2 });
    for (const id of steps) expect(spans.lanes[spans.lane.data[id]!]!.role).toBe('fs');
    // The same steps, one by one, as expected.json lists them: lane by ino, task, start and end.
    const want = expectedSteps('ext4-dio.txt');
    expect(steps.map((id) => ({
      lane: laneName(spans, id),
      task: store.readField('task', spans.beginRow.data[id]!),
      startNs: originNs + spans.startNs.data[id]!,
      endNs: originNs + spans.endNs.data[id]!,
    }))).toEqual(want.map((s) => ({ lane: `dev 7:0 ino ${s.ino}`, task: `dd/${s.pid}`, startNs: s.startNs, endNs: s.endNs })));
    // One task at a time per inode here: every step in the lane's first sub-row.
    expect(steps.every((id) => spans.subrow.data[id] === 0)).toBe(true);
    // Each step's mapping is the dstmap of its own task (MAPPED for 0xc, UNWRITTEN for 0xd).
    for (const id of steps) expect(spans.style.data[id]).toBe(laneName(spans, id).endsWith('0xc') ? MapType.MAPPED : MapType.UNWRITTEN);
  });

  for (const f of ['xfs-buffered.txt', 'ext4-mixed.trace.txt', 'xfs-contend.trace.txt']) {
    it(`${f}: steps per (dev, ino) lane equal expected.json's steps per inode; no step on a task lane`, () => {
      const { spans } = pair(f);
      const want: Record<string, number> = {};
      for (const s of expectedSteps(f)) want[`dev 7:0 ino ${s.ino}`] = (want[`dev 7:0 ino ${s.ino}`] ?? 0) + 1;
      const got: Record<string, number> = {};
      for (const id of ids(spans, SpanKind.iomap)) got[laneName(spans, id)] = (got[laneName(spans, id)] ?? 0) + 1;
      expect(got).toEqual(want);
    });
  }

  it('ext4-mixed.trace: the dd lanes keep their syscalls (226 traced open/openat/read/write/pread64/close calls)', () => {
    // From the capture: 28 sys_openat, 71 sys_read, 64 sys_write, 14 sys_pread64, 49 sys_close enter
    // lines (its 14 sys_dup2 are not syscalls the importer pairs), each with its `-> ret` line.
    const { spans } = pair('ext4-mixed.trace.txt');
    const apps = ids(spans, SpanKind.app_op);
    expect(apps.length).toBe(28 + 71 + 64 + 14 + 49);
    expect(apps.every((id) => /^dd\/\d+$/.test(laneName(spans, id)) && spans.lanes[spans.lane.data[id]!]!.role === 'app')).toBe(true);
    expect(ids(spans, SpanKind.iomap).every((id) => spans.lanes[spans.lane.data[id]!]!.role === 'fs')).toBe(true);
  });
});

describe('kernel filesystem steps on per-inode lanes (synthetic)', () => {
  const kstep = { nodeId: 0, fsDev: (8 << 20) | 1, ino: 0x83 };

  it('overlapping steps of two tasks on one inode stack in sub-rows; each pairs mappings and closers on its own task', () => {
    const store = new TraceStore();
    store.appendAll([
      ev('iomap_begin', 100, 'a/1', kstep),
      ev('iomap_begin', 110, 'b/2', kstep),
      ev('iomap_map', 120, 'b/2', { slot: 'read', mapType: MapType.UNWRITTEN, nodeId: 0 }),
      ev('iomap_map', 125, 'a/1', { slot: 'read', mapType: MapType.MAPPED, nodeId: 0 }),
      ev('iomap_iter_end', 130, 'b/2', { nodeId: 0 }),
      ev('iomap_iter_end', 150, 'a/1', { nodeId: 0 }),
      // After both ended: back in the first sub-row.
      ev('iomap_begin', 160, 'b/2', kstep),
      ev('iomap_iter_end', 170, 'b/2', { nodeId: 0 }),
    ]);
    const spans = new SpanIndex();
    spans.update(store);
    expect(spans.count).toBe(3);
    const lane = spans.lanes.find((l) => l.role === 'fs')!;
    expect(lane.task).toBe('dev 8:1 ino 0x83');
    expect([0, 1, 2].map((id) => spans.lane.data[id])).toEqual([lane.idx, lane.idx, lane.idx]);
    expect([0, 1, 2].map((id) => spans.subrow.data[id])).toEqual([0, 1, 0]);
    expect([0, 1, 2].map((id) => [spans.startNs.data[id], spans.endNs.data[id]])).toEqual([[100, 150], [110, 130], [160, 170]]);
    expect([spans.style.data[0], spans.style.data[1]]).toEqual([MapType.MAPPED, MapType.UNWRITTEN]);
    expect([0, 1].map((id) => spans.mappingRowsOf(store, id))).toEqual([[3], [2]]);
    // The tracks the timeline draws: sub-row 0 has steps 0 and 2, sub-row 1 step 1.
    const inRange = (sub: number): number[] => { const out: number[] = []; spans.forEachInRange(spans.track(lane.idx, sub), 0, 200, 200, (id) => out.push(id)); return out; };
    expect([inRange(0), inRange(1), inRange(2), inRange(3)]).toEqual([[0, 2], [1], [], []]);
    // The tasks' own lanes have no spans.
    for (const t of ['a/1', 'b/2']) for (let s = 0; s < SUBROW_COUNT; s++) expect(spans.track(spans.laneOf(t), s).isEmpty).toBe(true);
  });

  it(`more than ${SUBROW_COUNT} concurrent steps: the rest go in the last sub-row`, () => {
    const store = new TraceStore();
    for (let i = 0; i < SUBROW_COUNT + 2; i++) store.append(ev('iomap_begin', i, `t/${i}`, kstep));
    const spans = new SpanIndex();
    spans.update(store);
    expect([...Array(spans.count).keys()].map((id) => spans.subrow.data[id])).toEqual([0, 1, 2, 3, 3, 3]);
  });

  it('lanes are keyed by device and inode: same ino on another device, or a 64-bit ino, is its own lane', () => {
    const store = new TraceStore();
    const big = 2 ** 40 + 0xc; // not exact as fsDev·2^32 + ino: must not collide with ino 0xc
    store.appendAll([
      ev('iomap_begin', 0, 'a/1', { nodeId: 0, fsDev: 7 << 20, ino: 0xc }),
      ev('iomap_begin', 1, 'a/1', { nodeId: 0, fsDev: (7 << 20) | 1, ino: 0xc }),
      ev('iomap_begin', 2, 'a/1', { nodeId: 0, fsDev: 7 << 20, ino: big }),
      ev('iomap_begin', 3, 'a/1', { nodeId: 0, fsDev: 7 << 20, ino: 0xc }),
    ]);
    const spans = new SpanIndex();
    spans.update(store);
    expect([0, 1, 2, 3].map((id) => laneName(spans, id))).toEqual(['dev 7:0 ino 0xc', 'dev 7:1 ino 0xc', 'dev 7:0 ino 0x1000000000c', 'dev 7:0 ino 0xc']);
    expect(fsInodeLabel((259 << 20) | 3, asIno(0x1a))).toBe('dev 259:3 ino 0x1a');
  });

  it('a fuse-iomap step (nodeId ≠ 0) and a step with an unknown device stay on their task lane', () => {
    const store = new TraceStore();
    store.appendAll([
      ev('iomap_begin', 0, 'dd/7', { nodeId: 2, fsDev: 7 << 20, ino: 0xc }),
      ev('iomap_iter_end', 5, 'dd/7'),
      ev('iomap_begin', 6, 'dd/7', { nodeId: 0, fsDev: 0, ino: 0xc }),
    ]);
    const spans = new SpanIndex();
    spans.update(store);
    expect(spans.lanes.map((l) => [l.task, l.role])).toEqual([['dd/7', 'app']]);
    expect([0, 1].map((id) => [spans.lane.data[id], spans.subrow.data[id]])).toEqual([[0, SPAN_SUBROW.iomap], [0, SPAN_SUBROW.iomap]]);
  });
});
