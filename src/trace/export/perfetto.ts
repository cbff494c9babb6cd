// Export to Perfetto's native trace format: a `Trace` protobuf of TracePackets carrying
// TrackDescriptors and TrackEvents (https://perfetto.dev/docs/reference/synthetic-track-event).
// Same layout as the Chrome JSON export (tracks.ts): one process track, one child track per
// export track, two counter tracks, SLICE_BEGIN/END pairs, instants, flows fuse_req → fuse_serve.
//
// Field numbers, from google/perfetto protos/perfetto/trace/:
//   trace.proto               Trace.packet = 1
//   trace_packet.proto        TracePacket.timestamp = 8 (uint64 ns), trusted_packet_sequence_id = 10,
//                             track_event = 11, track_descriptor = 60
//   track_event/track_descriptor.proto  TrackDescriptor.uuid = 1, name = 2, process = 3,
//                             parent_uuid = 5, counter = 8
//   track_event/process_descriptor.proto ProcessDescriptor.pid = 1, process_name = 6
//   track_event/counter_descriptor.proto CounterDescriptor (empty: a plain counter)
//   track_event/track_event.proto TrackEvent.type = 9 (SLICE_BEGIN 1, SLICE_END 2, INSTANT 3,
//                             COUNTER 4), track_uuid = 11, categories = 22, name = 23,
//                             counter_value = 30 (int64), debug_annotations = 4,
//                             flow_ids = 47 (fixed64), terminating_flow_ids = 48 (fixed64)
//   track_event/debug_annotation.proto DebugAnnotation.name = 10, bool_value = 2, uint_value = 3,
//                             int_value = 4, string_value = 6, pointer_value = 7
// A slice whose end the trace does not show gets a SLICE_BEGIN and no SLICE_END (Perfetto shows
// it as "Did not end"; tracks.ts keeps its track free after it) and the annotation did_not_end;
// one that began before the trace starts at the trace's start, annotated began_before_trace.
// Annotations are typed by the field's schema type: bool, uint (unsigned and ids), int (signed:
// error, ret, fd), pointer (addresses), string (text and enum values).

import { FIELD_TYPES, KIND_FIELDS, type FieldName } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { ProtoWriter } from './protobuf.ts';
import { buildExportModel } from './tracks.ts';

export const PF = {
  Trace: { packet: 1 },
  TracePacket: { timestamp: 8, trustedPacketSequenceId: 10, trackEvent: 11, trackDescriptor: 60 },
  TrackDescriptor: { uuid: 1, name: 2, process: 3, parentUuid: 5, counter: 8 },
  ProcessDescriptor: { pid: 1, processName: 6 },
  TrackEvent: { debugAnnotations: 4, type: 9, trackUuid: 11, categories: 22, name: 23, counterValue: 30, flowIds: 47, terminatingFlowIds: 48 },
  DebugAnnotation: { boolValue: 2, uintValue: 3, intValue: 4, stringValue: 6, pointerValue: 7, name: 10 },
  Type: { sliceBegin: 1, sliceEnd: 2, instant: 3, counter: 4 },
} as const;

const SEQ_ID = 1;
const PROCESS_UUID = 1n;
const PID = 1;
const trackUuid = (id: number): bigint => 1000n + BigInt(id);
const counterUuid = (i: number): bigint => 500n + BigInt(i);

/**
 * Sort key: time, then `order` (0 = slice ends, 1 = slice begins and instants, 2 = counters), then
 * `seq`. A zero-length slice's END sorts right after its own BEGIN (order 1, seq + 1), so an END
 * always closes the slice it belongs to.
 */
interface Pending { tsNs: number; order: number; seq: number; write: (w: ProtoWriter) => void }

export function toPerfettoTrace(store: TraceStore, source = 'fusescope'): Uint8Array {
  const m = buildExportModel(store);
  const out = new ProtoWriter();
  const packet = (fill: (p: ProtoWriter) => void): void => { out.message(PF.Trace.packet, fill); };
  const origin = store.originNs;
  const ts = (tsNs: number): bigint => origin + BigInt(Math.round(tsNs));

  packet((p) => p.varint(PF.TracePacket.trustedPacketSequenceId, SEQ_ID).message(PF.TracePacket.trackDescriptor, (d) => d
    .varint(PF.TrackDescriptor.uuid, PROCESS_UUID)
    .message(PF.TrackDescriptor.process, (pd) => pd.varint(PF.ProcessDescriptor.pid, PID).string(PF.ProcessDescriptor.processName, source))));
  for (const t of m.tracks) {
    packet((p) => p.varint(PF.TracePacket.trustedPacketSequenceId, SEQ_ID).message(PF.TracePacket.trackDescriptor, (d) => d
      .varint(PF.TrackDescriptor.uuid, trackUuid(t.id)).varint(PF.TrackDescriptor.parentUuid, PROCESS_UUID).string(PF.TrackDescriptor.name, t.name)));
  }
  m.counters.forEach((c, i) => {
    packet((p) => p.varint(PF.TracePacket.trustedPacketSequenceId, SEQ_ID).message(PF.TracePacket.trackDescriptor, (d) => d
      .varint(PF.TrackDescriptor.uuid, counterUuid(i)).varint(PF.TrackDescriptor.parentUuid, PROCESS_UUID)
      .string(PF.TrackDescriptor.name, c.name).message(PF.TrackDescriptor.counter, () => {})));
  });

  // Events, sorted by time; at equal times ends go first so back-to-back slices never overlap.
  const flowsFrom = new Map<number, number[]>();
  const flowsTo = new Map<number, number[]>();
  for (const f of m.flows) {
    (flowsFrom.get(f.fromSpan) ?? flowsFrom.set(f.fromSpan, []).get(f.fromSpan)!).push(f.id);
    (flowsTo.get(f.toSpan) ?? flowsTo.set(f.toSpan, []).get(f.toSpan)!).push(f.id);
  }
  const pending: Pending[] = [];
  const flag = (e: ProtoWriter, name: string): void => {
    e.message(PF.TrackEvent.debugAnnotations, (a) => a.string(PF.DebugAnnotation.name, name).varint(PF.DebugAnnotation.boolValue, true));
  };
  const annotate = (e: ProtoWriter, row: number): void => {
    const ev = store.get(row) as unknown as Record<string, unknown>;
    e.message(PF.TrackEvent.debugAnnotations, (a) => a.string(PF.DebugAnnotation.name, 'row').varint(PF.DebugAnnotation.uintValue, row));
    for (const field of KIND_FIELDS[store.kindOf(row)] as readonly FieldName[]) {
      e.message(PF.TrackEvent.debugAnnotations, (a) => annotationValue(a.string(PF.DebugAnnotation.name, field), field, ev[field]));
    }
  };
  for (const s of m.spans) {
    const uuid = trackUuid(s.trackId);
    const seq = s.spanId * 2;
    pending.push({ tsNs: s.startNs, order: 1, seq, write: (e) => {
      e.varint(PF.TrackEvent.type, PF.Type.sliceBegin).varint(PF.TrackEvent.trackUuid, uuid)
        .string(PF.TrackEvent.categories, s.kind).string(PF.TrackEvent.name, s.name);
      for (const id of flowsFrom.get(s.spanId) ?? []) e.fixed64(PF.TrackEvent.flowIds, BigInt(id));
      for (const id of flowsTo.get(s.spanId) ?? []) e.fixed64(PF.TrackEvent.terminatingFlowIds, BigInt(id));
      if (s.open) flag(e, 'did_not_end');
      if (s.begunBefore) flag(e, 'began_before_trace');
      if (s.inferredHold) flag(e, 'end_not_traced');
      annotate(e, s.beginRow);
    } });
    if (!s.open) pending.push({ tsNs: s.endNs, order: s.endNs === s.startNs ? 1 : 0, seq: seq + 1, write: (e) => { e.varint(PF.TrackEvent.type, PF.Type.sliceEnd).varint(PF.TrackEvent.trackUuid, uuid); } });
  }
  for (const i of m.instants) {
    pending.push({ tsNs: i.tsNs, order: 1, seq: Number.MAX_SAFE_INTEGER, write: (e) => {
      e.varint(PF.TrackEvent.type, PF.Type.instant).varint(PF.TrackEvent.trackUuid, trackUuid(i.trackId))
        .string(PF.TrackEvent.categories, 'event').string(PF.TrackEvent.name, i.name);
      annotate(e, i.row);
    } });
  }
  m.counters.forEach((c, ci) => {
    for (const s of c.samples) {
      pending.push({ tsNs: s.tsNs, order: 2, seq: 0, write: (e) => {
        e.varint(PF.TrackEvent.type, PF.Type.counter).varint(PF.TrackEvent.trackUuid, counterUuid(ci)).varint(PF.TrackEvent.counterValue, s.value);
      } });
    }
  });
  pending.sort((a, b) => a.tsNs - b.tsNs || a.order - b.order || a.seq - b.seq);
  for (const ev of pending) {
    packet((p) => p.varint(PF.TracePacket.timestamp, ts(ev.tsNs)).varint(PF.TracePacket.trustedPacketSequenceId, SEQ_ID)
      .message(PF.TracePacket.trackEvent, ev.write));
  }
  return out.finish();
}

/** Writes a field's value typed by its schema type (FIELD_TYPES). */
function annotationValue(a: ProtoWriter, field: FieldName, v: unknown): void {
  const type: string = FIELD_TYPES[field];
  if (typeof v === 'boolean') a.varint(PF.DebugAnnotation.boolValue, v);
  else if (typeof v === 'bigint') a.varint(PF.DebugAnnotation.pointerValue, BigInt.asUintN(64, v));
  else if (typeof v === 'number' && Number.isInteger(v)) {
    // Signed columns, and any negative value (f64 fields such as ret hold −errno), as int.
    if (type === 'i32' || v < 0) a.varint(PF.DebugAnnotation.intValue, v);
    else a.varint(PF.DebugAnnotation.uintValue, v);
  } else a.string(PF.DebugAnnotation.stringValue, String(v));
}
