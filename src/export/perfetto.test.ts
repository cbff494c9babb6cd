// The Perfetto export read back two ways: by perfetto-wire.ts, a decoder of its own with the field
// numbers transcribed apart from perfetto-proto.ts (so the protobufjs that wrote the bytes is not what
// reads them), and by protobufjs against perfetto-proto.ts, whose packets are compared with a
// structure worked out by hand from the layout rules (tracks.ts, perfetto.ts).
import { describe, expect, it } from 'vitest';
import { TraceStore } from '../trace/store.ts';
import type { TraceEvent } from '../trace/schema.ts';
import { ev } from '../trace/testing/events.ts';
import { exportSample as sample } from '../trace/testing/export-checks.ts';
import { buildExportModel } from '../trace/export/tracks.ts';
import { perfettoTraceChunks, perfettoTypes, toPerfettoTrace } from './perfetto.ts';
import { decodeProto as decode, type Msg } from './perfetto-wire.ts';

const storeOf = (events: TraceEvent[], originNs = 0n): TraceStore => {
  const s = new TraceStore(originNs);
  s.appendAll(events);
  return s;
};

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

describe('perfetto export read back by protobufjs (perfetto-proto.ts)', () => {
  // One syscall whose FUSE request is served by another thread, and one instant between.
  const ORIGIN = 1_700_000_000_000_000_000n; // beyond 2^53: timestamps must stay exact
  const events = (): TraceEvent[] => [
    ev('app_op_begin', 100, 'dd/1', { op: 'write' }), // row 0
    ev('fuse_send', 110, 'dd/1', { unique: 4 }), //       row 1 (opcode 4094 = FUSE_IOMAP_BEGIN)
    ev('fuse_recv', 120, 'srv/9', { unique: 4 }), //      row 2
    ev('fuse_reply', 130, 'srv/9', { unique: 4 }), //     row 3
    ev('instant', 140, 'dd/1', { name: 'x' }), //         row 4
    ev('app_op_end', 150, 'dd/1', { op: 'write' }), //    row 5
  ];
  interface Packet {
    timestamp?: bigint; trustedPacketSequenceId?: number;
    trackDescriptor?: { uuid?: bigint; parentUuid?: bigint; name?: string; process?: { pid?: number; processName?: string }; counter?: object };
    trackEvent?: {
      type?: string; trackUuid?: bigint; name?: string; categories?: string[]; counterValue?: bigint;
      flowIds?: bigint[]; terminatingFlowIds?: bigint[];
      debugAnnotations?: { name?: string; uintValue?: bigint; intValue?: bigint; stringValue?: string; boolValue?: boolean }[];
    };
  }
  const readBack = (bytes: Uint8Array): Packet[] => {
    const { Trace } = perfettoTypes();
    const obj = Trace.toObject(Trace.decode(bytes), { longs: BigInt, enums: String, arrays: false }) as { packet: Packet[] };
    return obj.packet;
  };

  it('tracks: the process, one per (task, category), two counters; slices, flow and counters in time order', () => {
    const packets = readBack(toPerfettoTrace(storeOf(events(), ORIGIN), 'test'));
    expect(packets.every((p) => p.trustedPacketSequenceId === 1)).toBe(true);
    // Lanes in order of first appearance (dd/1, srv/9); per lane syscalls, fuse, events.
    expect(packets.filter((p) => p.trackDescriptor).map((p) => p.trackDescriptor)).toEqual([
      { uuid: 1n, process: { pid: 1, processName: 'test' } },
      { uuid: 1001n, parentUuid: 1n, name: 'dd/1 syscalls' },
      { uuid: 1002n, parentUuid: 1n, name: 'dd/1 fuse' },
      { uuid: 1003n, parentUuid: 1n, name: 'dd/1 events' },
      { uuid: 1004n, parentUuid: 1n, name: 'srv/9 fuse' },
      { uuid: 500n, parentUuid: 1n, name: 'fuse requests in flight', counter: {} },
      { uuid: 501n, parentUuid: 1n, name: 'tasks waiting for a lock', counter: {} },
    ]);
    const timed = packets.filter((p) => p.trackEvent).map((p) => {
      const e = p.trackEvent!;
      return [p.timestamp! - ORIGIN, e.trackUuid, e.type, e.name ?? e.counterValue ?? null, e.flowIds?.[0] ?? e.terminatingFlowIds?.[0] ?? null];
    });
    expect(timed).toEqual([
      [100n, 1001n, 'TYPE_SLICE_BEGIN', 'write', null],
      [110n, 1002n, 'TYPE_SLICE_BEGIN', 'FUSE_IOMAP_BEGIN', 1n], // flow 1 starts on the request…
      [110n, 500n, 'TYPE_COUNTER', 1n, null], //                     counters after slices at one time
      [120n, 1004n, 'TYPE_SLICE_BEGIN', 'FUSE_IOMAP_BEGIN', 1n], // …and ends on the server's handling
      [130n, 1002n, 'TYPE_SLICE_END', null, null],
      [130n, 1004n, 'TYPE_SLICE_END', null, null],
      [130n, 500n, 'TYPE_COUNTER', 0n, null],
      [140n, 1003n, 'TYPE_INSTANT', 'instant', null],
      [150n, 1001n, 'TYPE_SLICE_END', null, null],
    ]);
    const request = packets.find((p) => p.trackEvent?.trackUuid === 1002n)!.trackEvent!;
    expect(request.flowIds).toEqual([1n]);
    expect(request.terminatingFlowIds).toBeUndefined();
    expect(request.categories).toEqual(['fuse_req']);
    expect(packets.find((p) => p.trackEvent?.trackUuid === 1004n)!.trackEvent!.terminatingFlowIds).toEqual([1n]);
    // The begin row's fields as annotations: the row, then the kind's fields in schema order.
    expect(request.debugAnnotations).toEqual([
      { name: 'row', uintValue: 1n }, { name: 'task', stringValue: 'dd/1' }, { name: 'unique', uintValue: 4n },
      { name: 'opcode', uintValue: 4094n }, { name: 'nodeId', uintValue: 2n }, { name: 'lenBytes', uintValue: 72n },
    ]);
  });

  it('pieces: packets handed out in pieces join to the one-buffer bytes', () => {
    const store = storeOf(events(), ORIGIN);
    const pieces = [...perfettoTraceChunks(store, 'test', 64)];
    // 7 descriptors + 9 events, each packet ≥ 10 bytes: a 64-byte piece closes every few packets.
    expect(pieces.length).toBeGreaterThan(3);
    const joined = Buffer.concat(pieces);
    expect(joined.equals(toPerfettoTrace(store, 'test'))).toBe(true);
    expect(readBack(joined)).toHaveLength(16);
  });
});
