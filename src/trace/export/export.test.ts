import { describe, expect, it } from 'vitest';
import { TraceStore } from '../store.ts';
import type { TraceEvent } from '../schema.ts';
import { ev } from '../testing/events.ts';
import { importChromeJson, toChromeTrace, chromeTraceJsonChunks } from './chrome-json.ts';
import { toPerfettoTrace } from './perfetto.ts';
import { buildExportModel } from './tracks.ts';
import { decodeProto as decode, validateChrome, type Msg } from '../testing/export-checks.ts';

// A small trace with every span kind, overlapping lock spans on one task (wait for B while
// holding A), a zero-length span, an open span, orphan closers and instants.
function sample(): TraceEvent[] {
  return [
    ev('app_op_begin', 100, 'dd/1', { op: 'write' }),
    ev('lock_wait', 110, 'dd/1', { nodeId: 2 }),
    ev('lock_acquire', 120, 'dd/1', { nodeId: 2 }),
    ev('lock_wait', 125, 'dd/1', { nodeId: 3 }),
    ev('iomap_begin', 130, 'dd/1'),
    ev('fuse_send', 140, 'dd/1', { unique: 4 }),
    ev('fuse_recv', 150, 'srv/9', { unique: 4 }),
    ev('cache_upsert', 155, 'srv/9'),
    ev('fuse_reply', 170, 'srv/9', { unique: 4 }),
    ev('iomap_map', 175, 'dd/1'),
    ev('iomap_iter_end', 180, 'dd/1'),
    ev('lock_release', 185, 'dd/1', { nodeId: 2 }),
    ev('lock_acquire', 190, 'dd/1', { nodeId: 3 }),
    ev('lock_release', 190, 'dd/1', { nodeId: 3 }),
    ev('app_op_end', 200, 'dd/1', { op: 'write' }),
    ev('fuse_reply', 205, 'srv/9', { unique: 99 }),
    ev('lock_contention', 210, 'kworker/u8:1/77'),
    ev('app_op_begin', 220, 'dd/1', { op: 'fsync' }),
  ];
}
const storeOf = (events: TraceEvent[]): TraceStore => {
  const s = new TraceStore();
  s.appendAll(events);
  return s;
};

describe('chrome-json export', () => {
  it('follows the format rules and re-imports to the same events', () => {
    const events = sample();
    const trace = toChromeTrace(storeOf(events), 'test');
    expect(validateChrome(trace.traceEvents)).toEqual([]);
    const phases = new Set(trace.traceEvents.map((e) => e.ph));
    for (const p of ['M', 'X', 'i', 's', 'f', 'C']) expect(phases).toContain(p);
    const text = [...chromeTraceJsonChunks(trace)].join('');
    const back = importChromeJson(text);
    expect(back.errors).toEqual([]);
    expect(back.events).toEqual(events);
  });

  it('packs overlapping lock spans of one task onto separate tracks', () => {
    const m = buildExportModel(storeOf(sample()));
    const lockTracks = m.tracks.filter((t) => t.task === 'dd/1' && t.category === 'locks');
    expect(lockTracks.map((t) => t.name)).toEqual(['dd/1 locks', 'dd/1 locks #2']);
    expect(m.spans.find((s) => s.open)?.name).toBe('fsync');
    expect(m.flows).toHaveLength(1);
  });
});

describe('perfetto export', () => {
  it('decodes with the published schema; slices pair per track; timestamps monotonic; flows pair', () => {
    const events = sample();
    const trace = decode(toPerfettoTrace(storeOf(events), 'test'), 'Trace');
    const packets = trace.packet as Msg[];
    const described = new Set<bigint>();
    const open = new Map<bigint, number>();
    const lastTs = new Map<bigint, bigint>();
    const flowOut = new Set<bigint>();
    const flowIn = new Set<bigint>();
    let instants = 0;
    const unended: bigint[] = [];
    let counters = 0;
    let rows = new Set<bigint>();
    for (const p of packets) {
      expect(p.trusted_packet_sequence_id?.[0]).toBe(1n);
      const d = p.track_descriptor?.[0] as Msg | undefined;
      if (d) {
        expect(d.uuid).toBeDefined();
        if (d.parent_uuid) expect(described.has(d.parent_uuid[0] as bigint)).toBe(true);
        described.add(d.uuid![0] as bigint);
        continue;
      }
      const e = p.track_event![0] as Msg;
      const uuid = e.track_uuid![0] as bigint;
      const ts = p.timestamp![0] as bigint;
      expect(described.has(uuid)).toBe(true);
      expect(ts >= (lastTs.get(uuid) ?? 0n)).toBe(true);
      lastTs.set(uuid, ts);
      const type = Number(e.type![0]);
      if (type === 1) open.set(uuid, (open.get(uuid) ?? 0) + 1);
      else if (type === 2) {
        expect(open.get(uuid) ?? 0).toBeGreaterThan(0);
        open.set(uuid, open.get(uuid)! - 1);
      } else if (type === 3) instants++;
      else if (type === 4) counters++;
      for (const id of (e.flow_ids ?? []) as bigint[]) flowOut.add(id);
      for (const id of (e.terminating_flow_ids ?? []) as bigint[]) flowIn.add(id);
      for (const a of (e.debug_annotations ?? []) as Msg[]) if (a.name![0] === 'row') rows.add(a.uint_value![0] as bigint);
      if (type === 1 && ((e.debug_annotations ?? []) as Msg[]).some((a) => a.name![0] === 'did_not_end' && a.bool_value![0] === 1n)) unended.push(uuid);
    }
    // Every slice ends except the one the trace does not show ending (the fsync at 220): no END,
    // marked did_not_end, and nothing after it on its track.
    expect(unended).toHaveLength(1);
    for (const [uuid, n] of open) expect(n).toBe(unended.includes(uuid) ? 1 : 0);
    expect(instants).toBeGreaterThan(0);
    expect(counters).toBeGreaterThan(0);
    expect([...flowOut]).toEqual([...flowIn]);
    expect(flowOut.size).toBe(1);
    // Every row is referenced by a slice begin or an instant, except span closers.
    const m = buildExportModel(storeOf(events));
    rows = new Set([...rows, ...m.spans.filter((s) => !s.open).map((s) => BigInt(s.endRow))]);
    expect(rows.size).toBe(events.length);
  });

  it('types debug annotations: uint ids, int errors, pointers for addresses, bools', () => {
    const events: TraceEvent[] = [
      ev('lock_wait', 10, 'dd/1', { nodeId: 7, lockAddr: 0xffff888112a4c3d8n }),
      ev('lock_acquire', 20, 'dd/1', { nodeId: 7 }),
      ev('iomap_ioend', 30, 'kworker/u8:1/77', { error: -5, sent: true }),
    ];
    const trace = decode(toPerfettoTrace(storeOf(events), 'test'), 'Trace');
    const ann = new Map<string, Msg>();
    for (const p of trace.packet as Msg[]) {
      const e = p.track_event?.[0] as Msg | undefined;
      for (const a of (e?.debug_annotations ?? []) as Msg[]) if (!ann.has(a.name![0] as string)) ann.set(a.name![0] as string, a);
    }
    expect(ann.get('nodeId')!.uint_value).toEqual([7n]);
    expect(ann.get('lockAddr')!.pointer_value).toEqual([0xffff888112a4c3d8n]);
    expect(ann.get('error')!.int_value).toEqual([BigInt.asUintN(64, -5n)]); // int64 −5 on the wire
    expect(ann.get('sent')!.bool_value).toEqual([1n]);
    expect(ann.get('lock')!.string_value).toEqual(['i_rwsem']);
  });
});

describe('exports of spans the trace does not show ending or starting', () => {
  it('a syscall cut off by the end is a B with no E (did_not_end); one begun before is an X from the start', () => {
    const events: TraceEvent[] = [
      ev('app_op_begin', 100, 'dd/1', { op: 'fsync' }),
      ev('app_op_end', 150, 'dd/2', { op: 'pwrite' }), // began before the trace (starts at 100)
      ev('app_op_end', 200, 'dd/1', { op: 'fsync' }),
      ev('app_op_begin', 300, 'dd/1', { op: 'pwrite' }), // never ends
      ev('instant', 400, 'dd/1'),
    ];
    const trace = toChromeTrace(storeOf(events), 'test');
    expect(validateChrome(trace.traceEvents)).toEqual([]);
    const slices = trace.traceEvents.filter((e) => e.ph === 'X' || e.ph === 'B');
    expect(slices.map((e) => [e.ph, e.name, e.ts, e.dur === undefined ? undefined : Math.round(e.dur * 1000), e.args?.did_not_end, e.args?.began_before_trace])).toEqual([
      ['X', 'fsync', 0.1, 100, undefined, undefined],
      ['X', 'pwrite', 0.1, 50, undefined, true],
      ['B', 'pwrite', 0.3, undefined, true, undefined],
    ]);
    expect(trace.traceEvents.some((e) => (e.ph as string) === 'E')).toBe(false);
    expect(importChromeJson([...chromeTraceJsonChunks(trace)].join('')).events).toEqual(events);
  });
});

