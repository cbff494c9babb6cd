// Real ext4/XFS captures (fixtures/real/kernel-fs) against their hand-derived figures
// (`*.expected.json`, worked out from the raw lines by scripts/capture/expected.py, not by fusescope).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { importText } from './testing.ts';
import type { TraceEvent } from '../schema.ts';
import { MAP_TYPE_UNKNOWN, MapType, OpFlag, mapTypeName } from '../fuse-proto.ts';

const dir = '../../../fixtures/real/kernel-fs/';
const text = (f: string): string => readFileSync(new URL(dir + f, import.meta.url), 'utf8');
const expected = (f: string): Expected => JSON.parse(text(f.replace(/\.txt$/, '.expected.json'))) as Expected;

interface ExpStep {
  pid: number; startNs: number; endNs: number | null; ino: string; pos: string; iterFlags: string;
  dstmap: { type: string; offset: string; length: string; addr: string };
}
interface Expected {
  eventLines: number;
  iomapSteps: { count: number; perTask: Record<string, number>; named: Record<string, ExpStep>; steps: ExpStep[] };
  lockContention: Record<string, { count: number; inoFromWaiterIomap?: string[]; inoFromXfsIlock?: string[]; waits: Array<{ lockCall: string; caller: string }> }>;
  xfsLockPairs?: { perTask: Record<string, Record<string, number>>; pairs: number; unmatchedLock: unknown[]; unmatchedUnlock: unknown[] };
}

type Ev<K extends TraceEvent['kind']> = Extract<TraceEvent, { kind: K }>;
interface Step { pid: number; startNs: number; endNs: number | null; begin: Ev<'iomap_begin'>; dst: Ev<'iomap_map'> }

const pidOf = (task: string): number => Number(task.slice(task.lastIndexOf('/') + 1));

function load(f: string): { events: TraceEvent[]; origin: bigint; diags: string[]; attributions: ReturnType<typeof importText>['attributions'] } {
  const r = importText([{ name: f, text: text(f), format: 'ftrace' }]);
  return { events: r.events, origin: r.originNs, diags: r.parseDiags, attributions: r.attributions };
}

/** Steps as a viewer pairs them: iomap_begin → the task's first mapping row → its iomap_iter_end (or none). */
function steps(events: TraceEvent[], origin: bigint): Step[] {
  const out: Step[] = [];
  const open = new Map<string, Step>();
  const abs = (ts: number): number => Number(origin) + ts;
  for (const ev of events) {
    if (ev.kind === 'iomap_begin') {
      const s = { pid: pidOf(ev.task), startNs: abs(ev.tsNs), endNs: null, begin: ev, dst: undefined as unknown as Ev<'iomap_map'> };
      open.set(ev.task, s);
      out.push(s);
    } else if (ev.kind === 'iomap_map') {
      const s = open.get(ev.task);
      if (s && s.dst === undefined) s.dst = ev;
    } else if (ev.kind === 'iomap_iter_end') {
      const s = open.get(ev.task);
      if (s) s.endNs = abs(ev.tsNs);
      open.delete(ev.task);
    }
  }
  return out;
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;

function expectStep(got: Step, want: ExpStep): void {
  expect(got.pid).toBe(want.pid);
  expect(got.startNs).toBe(want.startNs);
  expect(got.endNs).toBe(want.endNs);
  expect(hex(got.begin.ino)).toBe(want.ino);
  expect(hex(got.begin.posBytes)).toBe(want.pos);
  expect(got.begin.opflags).toBe(want.iterFlags.split('|').reduce((a, f) => a | (f === 'WRITE' ? OpFlag.WRITE : f === 'DIRECT' ? OpFlag.DIRECT : NaN), 0));
  expect(mapTypeName(got.dst.mapType).toUpperCase()).toBe(want.dstmap.type);
  expect(hex(got.dst.mapOffsetBytes)).toBe(want.dstmap.offset);
  expect(hex(got.dst.mapLenBytes)).toBe(want.dstmap.length);
  expect(hex(got.dst.mapAddr)).toBe(want.dstmap.addr);
}

const FILES = ['ext4-dio.txt', 'xfs-buffered.txt', 'ext4-mixed.trace.txt', 'ext4-mixed.report.txt', 'xfs-contend.trace.txt', 'xfs-contend.report.txt'];

describe('kernel filesystem iomap steps (real captures vs expected.json)', () => {
  for (const f of FILES) {
    it(`${f}: steps per task, every step's start/end, ino, pos, op and dstmap; no diagnostics`, () => {
      const want = expected(f);
      const { events, origin, diags } = load(f);
      expect(diags).toEqual([]);
      const got = steps(events, origin);
      expect(got.length).toBe(want.iomapSteps.count);
      const perTask: Record<string, number> = {};
      for (const s of got) perTask[s.pid] = (perTask[s.pid] ?? 0) + 1;
      expect(perTask).toEqual(want.iomapSteps.perTask);
      for (let i = 0; i < got.length; i++) expectStep(got[i]!, want.iomapSteps.steps[i]!);
      for (const s of got) {
        expect(s.begin.nodeId).toBe(0);
        expect(s.begin.fsDev).toBe(7 << 20); // dev 7:0 (loop0)
      }
    });
  }

  it('a step knows its op length from the direct IO in flight (ext4-dio: 64 KiB each), and processed bytes from the next iomap_iter', () => {
    const { events } = load('ext4-dio.txt');
    const begins = events.filter((e): e is Ev<'iomap_begin'> => e.kind === 'iomap_begin');
    expect(begins.map((b) => b.lenBytes)).toEqual(Array(10).fill(0x10000));
    const ends = events.filter((e): e is Ev<'iomap_iter_end'> => e.kind === 'iomap_iter_end');
    expect(ends.length).toBe(10);
    expect(ends.every((e) => e.processedBytes === 0x10000 && e.error === 0)).toBe(true);
  });

  it('xfs-buffered: the first buffered write has an unknown length (iomap_iter prints 0 at pos 0), later ones the printed one', () => {
    const { events } = load('xfs-buffered.txt');
    const writes = events.filter((e): e is Ev<'iomap_begin'> => e.kind === 'iomap_begin' && (e.opflags & OpFlag.DIRECT) === 0);
    expect(writes.map((b) => [b.posBytes, b.lenBytes])).toEqual([[0, 0], [0x10000, 0x10000], [0x20000, 0x10000], [0x30000, 0x10000]]);
    expect(events.filter((e) => e.kind === 'iomap_map' && e.mapType === MapType.DELALLOC).every((e) => (e as Ev<'iomap_map'>).slot === 'write')).toBe(true);
  });

  it('both printed forms of one XFS ring buffer give the same steps and lock events (times within the µs rounding)', () => {
    const a = load('xfs-contend.trace.txt');
    const b = load('xfs-contend.report.txt');
    const shape = (evs: TraceEvent[]): string[] => evs
      .filter((e) => e.kind === 'iomap_begin' || e.kind === 'iomap_iter_end' || e.kind === 'iomap_map' || e.kind.startsWith('lock_') || e.kind === 'fs_op')
      .map((e) => { const { tsNs: _t, ...rest } = e as unknown as Record<string, unknown>; return JSON.stringify(rest, (_k, v) => typeof v === 'bigint' ? v.toString(16) : v); });
    expect(shape(b.events)).toEqual(shape(a.events));
  });

  it('upstream iomap file events become typed fs_op rows with their fields', () => {
    const { events } = load('xfs-buffered.txt');
    const ops = events.filter((e): e is Ev<'fs_op'> => e.kind === 'fs_op');
    const names = new Set(ops.map((o) => o.name));
    expect(names).toEqual(new Set(['iomap_writeback_folio', 'iomap_add_to_ioend', 'iomap_dio_rw_begin', 'iomap_dio_complete']));
    expect(events.filter((e) => e.kind === 'instant' && e.name !== 'iomap_iter')).toEqual([]);
    // From the fixture: `iomap_add_to_ioend: … pos 0x0 dirty len 0x10000 addr 0x18000 …` (the first one).
    const add = ops.find((o) => o.name === 'iomap_add_to_ioend')!;
    expect([add.posBytes, add.lenBytes, add.mapAddr, add.ino, add.fsDev]).toEqual([0, 0x10000, 0x18000n, 0x83, 7 << 20]);
    const done = ops.find((o) => o.name === 'iomap_dio_complete')!;
    expect([done.processedBytes, done.error]).toEqual([65536, 0]);
  });
});

describe('stacks in every printed form', () => {
  for (const f of ['ext4-mixed.trace.txt', 'ext4-mixed.report.txt', 'xfs-contend.trace.txt', 'xfs-contend.report.txt']) {
    it(`${f}: one stack per contention, bare symbols innermost first, read by lock attribution (i_rwsem, no orphan frames)`, () => {
      const want = expected(f);
      const { events, diags, attributions } = load(f);
      expect(diags.filter((d) => d.includes('stack frame'))).toEqual([]);
      const stacks = events.filter((e): e is Ev<'instant'> => e.kind === 'instant' && e.name === 'stack_trace');
      const waits = Object.values(want.lockContention).flatMap((l) => l.waits);
      expect(stacks.length).toBe(waits.length);
      for (const s of stacks) {
        const frames = s.text.split('\n');
        expect(frames[0]).toBe('trace_event_raw_event_contention_begin');
        expect(frames.every((fr) => /^[A-Za-z_][\w.]*$/.test(fr))).toBe(true);
      }
      // Each stack's down_* call and the frame under it, in order, as the expected file read them.
      expect(stacks.map((s) => { const fr = s.text.split('\n'); const i = fr.findIndex((x) => /^down_(read|write)$/.test(x)); return `${fr[i]}<-${fr[i + 1]}`; }))
        .toEqual(waits.map((w) => `${w.lockCall}<-${w.caller}`));
      const addrs = Object.keys(want.lockContention);
      expect(attributions.map((a) => a.lockAddr)).toEqual(addrs.map((a) => `0x${a}`));
      expect(attributions.every((a) => a.lock === 'i_rwsem')).toBe(true);
    });
  }
});

describe('xfs_ilock / xfs_iunlock', () => {
  for (const f of ['xfs-contend.trace.txt', 'xfs-contend.report.txt']) {
    it(`${f}: typed lock events per lock bit, paired per task + lock + mode + ino as the expected pairs`, () => {
      const want = expected(f).xfsLockPairs!;
      const { events } = load(f);
      const bit = (lock: string, mode: string): string =>
        `${lock === 'i_rwsem' ? 'IOLOCK' : lock === 'xfs_ilock' ? 'ILOCK' : 'MMAPLOCK'}_${mode === 'W' ? 'EXCL' : 'SHARED'}`;
      // A request is the lock_acquire at xfs_ilock, or — when it blocked — the xfs_ilock instant left in its place.
      const open = new Map<string, number>();
      const perTask: Record<string, Record<string, number>> = {};
      let pairs = 0;
      let unmatched = 0;
      for (const e of events) {
        if (e.kind === 'instant' && e.name === 'xfs_ilock') {
          const m = /ino (0x[0-9a-f]+) flags (\w+)/.exec(e.text)!;
          const key = `${e.task}|${m[2]}|${m[1]}`;
          open.set(key, (open.get(key) ?? 0) + 1);
        } else if (e.kind === 'lock_acquire' && e.lockAddr === 0n) {
          expect(e.nodeId).toBe(0);
          const key = `${e.task}|${bit(e.lock, e.mode)}|${hex(e.ino)}`;
          open.set(key, (open.get(key) ?? 0) + 1);
        } else if (e.kind === 'lock_release') {
          expect(e.lockAddr).toBe(0n);
          const key = `${e.task}|${bit(e.lock, e.mode)}|${hex(e.ino)}`;
          const n = open.get(key) ?? 0;
          if (n === 0) { unmatched++; continue; }
          open.set(key, n - 1);
          pairs++;
          const t = perTask[pidOf(e.task)] ??= {};
          const b = bit(e.lock, e.mode);
          t[b] = (t[b] ?? 0) + 1;
        }
      }
      expect(unmatched).toBe(0);
      expect([...open.values()].every((n) => n === 0)).toBe(true);
      expect(pairs).toBe(want.pairs);
      expect(perTask).toEqual(want.perTask);
    });
  }

  it('a request that blocked (contention_begin next) leaves the acquire to lock attribution: the hold starts at contention_end', () => {
    const { events } = load('xfs-contend.trace.txt');
    // fixture lines 167–168: dd-11474 xfs_ilock IOLOCK_EXCL at 581.502974, contention_begin at 581.502989 (ends 581.517313).
    const i = events.findIndex((e) => e.kind === 'instant' && e.name === 'xfs_ilock' && e.task.endsWith('/11474'));
    expect(i).toBeGreaterThanOrEqual(0);
    const acq = events.slice(i).find((e): e is Ev<'lock_acquire'> => e.kind === 'lock_acquire' && e.task === events[i]!.task)!;
    expect(acq.lock).toBe('i_rwsem');
    expect(acq.lockAddr).toBe(0xffff8881420455d0n);
    // Requests that did not block are the acquire themselves (lockAddr 0: the address is not traced).
    expect(events.filter((e) => e.kind === 'lock_acquire' && e.lockAddr === 0n && e.lock === 'i_rwsem').length).toBeGreaterThan(0);
  });
});

describe('kernel iomap steps: what the lines say about a step is kept', () => {
  it("a step's failure comes from the next iomap_iter's status; an unknown type keeps its string", () => {
    // Lines in the 6.18 formats (fs/iomap/trace.h), hand-written: one step on ino 0xc whose begin
    // failed (-5 in the next call's status), its dstmap of a type this kernel version does not have.
    const line = (t: string, body: string): string => `              dd-100     [000] .....   10.${t}: ${body}`;
    const r = importText([{ name: 't', format: 'ftrace', text: [
      line('000100', 'iomap_iter: dev 7:0 ino 0xc pos 0x0 length 0x1000 status 0 flags WRITE|DIRECT (0x11) ops 0xffffffff8245b7e0 caller __iomap_dio_rw+0x286/0x960'),
      line('000110', 'iomap_iter_dstmap: dev 7:0 ino 0xc bdev 7:0 addr 0x850400 offset 0x0 length 0x1000 type SHINY (0x9) flags NEW (0x1)'),
      line('000150', 'iomap_iter: dev 7:0 ino 0xc pos 0x0 length 0x0 status -5 flags WRITE|DIRECT (0x11) ops 0xffffffff8245b7e0 caller __iomap_dio_rw+0x286/0x960'),
    ].join('\n') + '\n' }]);
    expect(r.parseDiags).toEqual([]);
    const map = r.events.find((e) => e.kind === 'iomap_map');
    expect(map).toMatchObject({ mapType: MAP_TYPE_UNKNOWN, rawType: 'SHINY', mapOffsetBytes: 0, mapLenBytes: 0x1000 }); // was: the line became `unparsed`
    const end = r.events.find((e) => e.kind === 'iomap_iter_end');
    expect(end).toMatchObject({ ino: 0xc, posBytes: 0, processedBytes: 0, error: -5 });
  });
});
