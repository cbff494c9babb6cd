// The fuse-iomap series' tracepoints end to end: text written by the scenario generator
// (testing/series-trace.ts) from the formats, parsed, summarized, compared with the figures the
// scenario implies (counted by the generator while writing, not by the parser).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { TraceEvent } from '../schema.ts';
import { TraceStore } from '../store.ts';
import { summarize } from '../summary.ts';
import { MAP_TYPE_UNKNOWN } from '../fuse-proto.ts';
import { seriesTrace, type SeriesExpect, type SeriesLayout, type SeriesVersion } from '../testing/series-trace.ts';
import { importText } from './testing.ts';
import { IOMAP_STYLE_UNKNOWN, SpanIndex, SpanKind } from '../spans.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');

function load(text: string): { events: TraceEvent[]; diags: string[]; store: TraceStore } {
  const r = importText([{ name: 'series', text, format: 'ftrace' }]);
  const store = new TraceStore();
  store.appendAll(r.events);
  return { events: r.events, diags: r.parseDiags, store };
}

/**
 * App tasks' iomap steps as the span pairing closes them (docs/import.md): from an iomap_begin to
 * the task's next iomap_begin, iomap_end, iomap_iter_end, app_op_end, or an fs_op exit (`…_end`,
 * iomap_dio_write_end_io, iomap_dio_complete).
 */
function appSteps(events: TraceEvent[], tasks: string[]): Record<string, number[]> {
  const open = new Map<string, number>();
  const out: Record<string, number[]> = {};
  for (const ev of events) {
    if (!tasks.includes(ev.task)) continue;
    const closes = ev.kind === 'iomap_begin' || ev.kind === 'iomap_end' || ev.kind === 'iomap_iter_end' || ev.kind === 'app_op_end' ||
      (ev.kind === 'fs_op' && (ev.name.endsWith('_end') || ev.name === 'iomap_dio_write_end_io' || ev.name === 'iomap_dio_complete'));
    const b = open.get(ev.task);
    if (closes && b !== undefined) {
      (out[ev.task] ??= []).push(ev.tsNs - b);
      open.delete(ev.task);
    }
    if (ev.kind === 'iomap_begin') open.set(ev.task, ev.tsNs);
  }
  return out;
}

function check(events: TraceEvent[], diags: string[], store: TraceStore, ex: SeriesExpect): void {
  expect(diags).toEqual([]);
  // Every line is a typed event: the series' lines are all known tracepoints.
  expect(events.filter((e) => e.kind === 'instant').map((e) => (e as { name: string }).name)).toEqual([]);
  const sum = summarize(store);
  expect({ hits: sum.cache.hits, misses: sum.cache.misses, absent: sum.cache.absent }).toEqual(ex.lookups);
  expect(sum.accounting.cacheHitRate).toBeCloseTo(ex.hitRate, 12);
  expect(sum.cache.invalsByReason).toEqual(ex.invalsByReason);
  expect(sum.cache.dropsByReason).toEqual(ex.dropsByReason);
  expect({ accepted: sum.cache.upserts, rejected: sum.cache.upsertsRejected }).toEqual(ex.upserts);
  expect(sum.accounting.staleMappings).toBe(ex.stale);
  const steps: Record<string, number> = {};
  for (const e of events) if (e.kind === 'iomap_begin') steps[e.task] = (steps[e.task] ?? 0) + 1;
  expect(steps).toEqual(ex.stepsByTask);
  expect(appSteps(events, Object.keys(ex.appStepNs))).toEqual(ex.appStepNs);
  const sends: Record<number, number> = {};
  for (const e of events) if (e.kind === 'fuse_send') sends[e.opcode] = (sends[e.opcode] ?? 0) + 1;
  expect(sends).toEqual(ex.sendsByOpcode);
  const notifies = events.filter((e) => e.kind === 'fuse_notify') as Array<TraceEvent & { kind: 'fuse_notify' }>;
  expect({ upsert: notifies.filter((n) => n.notifyCode === 100).length, inval: notifies.filter((n) => n.notifyCode === 101).length }).toEqual(ex.notifies);
  expect(events.filter((e) => e.kind === 'iomap_map' && e.mapType === MAP_TYPE_UNKNOWN).map((e) => (e as { rawType: string }).rawType))
    .toHaveLength(ex.unknownTypes);
  expect(events.filter((e) => e.kind === 'iomap_bad_data')).toHaveLength(ex.badData);
  expect(new Set(events.filter((e) => e.kind === 'iomap_begin').map((e) => (e as { fsDev: number }).fsDev))).toEqual(new Set([ex.fsDev]));
  // Through the span pairing the views use: one lane per task, the steps and their durations as
  // above, and every step's mapping known — a cache hit's `map…` is its mapping as a reply's
  // read_map/write_map would be (a step left "unknown" would mean a mapping the trace showed was lost).
  const spans = new SpanIndex();
  spans.update(store);
  const stepsByLane: Record<string, number> = {};
  const durByLane: Record<string, number[]> = {};
  let unknownStyle = 0;
  for (let id = 0; id < spans.count; id++) {
    if (spans.kind.data[id] !== SpanKind.iomap) continue;
    const task = spans.lanes[spans.lane.data[id]!]!.task;
    stepsByLane[task] = (stepsByLane[task] ?? 0) + 1;
    if (spans.isOpen(id)) continue;
    if (task in ex.appStepNs) (durByLane[task] ??= []).push(spans.endNs.data[id]! - spans.startNs.data[id]!);
    if (spans.style.data[id] === IOMAP_STYLE_UNKNOWN) unknownStyle++;
  }
  expect(stepsByLane).toEqual(ex.stepsByTask);
  expect(durByLane).toEqual(ex.appStepNs);
  expect(unknownStyle).toBe(0);
}

describe('series tracepoints: generated fuse4fs-like runs', () => {
  for (const version of ['v7', 'v6'] as SeriesVersion[]) {
    for (const layout of ['pipe', 'report'] as SeriesLayout[]) {
      it(`${version} ${layout}: the summary has the scenario's figures`, () => {
        const { text, expect: ex } = seriesTrace({ version, layout });
        const { events, diags, store } = load(text);
        check(events, diags, store, ex);
      });
    }
  }

  it('the scenario has what the figures need (in-place server, hits and misses, every reason)', () => {
    const { expect: ex } = seriesTrace({ version: 'v7', layout: 'pipe' });
    expect(ex.lookups.hits).toBeGreaterThan(0);
    expect(ex.lookups.misses).toBeGreaterThan(0);
    expect(ex.lookups.absent).toBe(ex.lookups.hits + ex.lookups.misses); // every lookup is a write-ish one's
    expect(Object.keys(ex.invalsByReason).sort()).toEqual(['ioend', 'o_trunc', 'server', 'truncate', 'upsert']);
    expect(ex.upserts.rejected).toBe(3);
    expect(ex.dropsByReason).toEqual({ overflow: 1, evict: 2 });
    expect(ex.stale).toBe(1);
  });

  for (const [file, version, layout] of [['ftrace/series-run-v7.txt', 'v7', 'pipe'], ['ftrace/series-run-v6.txt', 'v6', 'report']] as const) {
    it(`${file}: is the generator's output, and its summary has the scenario's figures`, () => {
      const text = fixture(file);
      const gen = seriesTrace({ version, layout });
      expect(text).toBe(gen.text);
      const { events, diags, store } = load(text);
      check(events, diags, store, gen.expect);
    });
  }
});

describe('series tracepoints: single rules', () => {
  const P = (task: string, t: number, name: string, body: string): string => `${task.padStart(16)} [001] ..... ${(100 + t / 1e6).toFixed(6)}: ${name}: ${body}`;
  const I = 'connection 45 ino 12 nodeid 12 isize 0x100000 idisksize 0x100000';

  it('writeback_submit: addr is 512× the byte address; a negative ret is an error', () => {
    const { events } = load([
      P('kworker/u8:1-77', 1, 'fuse_iomap_writeback_submit', `${I} pos 0x2000 length 0x1000 addr 0x4000000000 nr_folios 1 error 0`),
      P('fio-3001', 2, 'fuse_iomap_buffered_write_end', `${I} pos 0x0 length 0x1000 ret 0xffffffffffffffe4`),
      P('fio-3001', 3, 'fuse_iomap_buffered_read_end', `${I} pos 0x0 length 0x1000 ret 0x800`),
    ].join('\n'));
    const ops = events.filter((e) => e.kind === 'fs_op') as Array<TraceEvent & { kind: 'fs_op' }>;
    expect(ops.map((o) => [o.name, o.mapAddr, o.processedBytes, o.error])).toEqual([
      ['iomap_writeback_submit', 0x20000000n, 0, 0], ['iomap_buffered_write_end', 0xffffffffffffffffn, 0, -28],
      ['iomap_buffered_read_end', 0xffffffffffffffffn, 0x800, 0],
    ]);
  });

  it('a server inval in a trace without remove lines counts once per non-zero fork (fallback); a later remove is not counted again', () => {
    const inv = P('fuse4fs-1502', 1, 'fuse_iomap_inval_mappings', `${I} attr_ino 0xc readpos 0x0 length 0x2000 writepos 0x4000 length 0x1000`);
    const rm = P('fuse4fs-1502', 2, 'fuse_iomap_cache_remove', `${I} pos 0x0 length 0x2000 iodir read caller x+0x1/0x2`);
    const alone = load(inv).events.filter((e) => e.kind === 'cache_inval');
    expect(alone.map((e) => [e.fork, e.posBytes, e.lenBytes, e.reason])).toEqual([['read', 0, 0x2000, 'server'], ['write', 0x4000, 0x1000, 'server']]);
    const withRemove = load(`${inv}\n${rm}`).events;
    expect(withRemove.filter((e) => e.kind === 'cache_inval')).toHaveLength(2);
    // Once the trace has shown a remove, the notify no longer counts: the removes do.
    const later = load(`${rm}\n${inv.replace('100.000001', '100.000003')}\n${rm.replace('100.000002', '100.000004')}`).events
      .filter((e) => e.kind === 'cache_inval');
    expect(later.map((e) => e.reason)).toEqual(['unknown', 'server']);
  });

  it('a rejected inval (attr_ino not the inode) invalidates nothing; the notify carries -EINVAL', () => {
    const { events } = load(P('fuse4fs-1502', 1, 'fuse_iomap_inval_mappings', `${I} attr_ino 0xd readpos 0x0 length 0x2000 writepos 0x0 length 0x0`));
    expect(events.map((e) => e.kind)).toEqual(['fuse_notify']);
    expect(events[0]).toMatchObject({ notifyCode: 101, error: -22 });
  });

  it('init_inode with iomap state, and cache_cleanup without a fork names both forks', () => {
    const { events } = load([
      P('fio-3001', 1, 'fuse_iomap_init_inode', `${I} state (excl|iomap|iomap_cache)`),
      P('fio-3001', 2, 'fuse_iomap_cache_cleanup', I),
    ].join('\n'));
    expect(events[0]).toMatchObject({ kind: 'inode_iomap', nodeId: 12, inodeFlags: (1 << 6) | (1 << 7) | (1 << 9) });
    expect(events.slice(1).map((e) => [e.kind, (e as { fork: string }).fork, (e as { reason: string }).reason]))
      .toEqual([['cache_drop', 'read', 'overflow'], ['cache_drop', 'write', 'overflow']]);
  });

  it('fuse_request_sent is the server receiving the request; end_error closes the step with its written bytes', () => {
    const { events } = load([
      P('fuse4fs-1502', 1, 'fuse_request_sent', 'connection 45 req 88 opcode 4094 (FUSE_IOMAP_BEGIN)'),
      P('fio-3001', 2, 'fuse_iomap_end_error', `${I} opflags (write) pos 0x0 length 0x2000 written 4096 error -5`),
    ].join('\n'));
    expect(events[0]).toMatchObject({ kind: 'fuse_recv', unique: 88, opcode: 4094, nodeId: 0, task: 'fuse4fs/1502' });
    expect(events[1]).toMatchObject({ kind: 'iomap_iter_end', processedBytes: 4096, error: -5, lenBytes: 0x2000 });
  });
});
