// Export to Perfetto's native trace format: a `perfetto.protos.Trace` of TracePackets carrying
// TrackDescriptors and TrackEvents (https://perfetto.dev/docs/reference/synthetic-track-event),
// encoded by protobufjs from Perfetto's own message definitions (perfetto-proto.ts beside this file).
// Same layout as the Chrome JSON export (src/trace/export/tracks.ts): one process track, one child
// track per export track, two counter tracks, SLICE_BEGIN/END pairs, instants, flows fuse_req →
// fuse_serve.
//
// A slice whose end the trace does not show gets a SLICE_BEGIN and no SLICE_END (Perfetto shows
// it as "Did not end"; tracks.ts keeps its track free after it) and the annotation did_not_end;
// one that began before the trace starts at the trace's start, annotated began_before_trace.
// Annotations are typed by the field's schema type: bool, uint (unsigned and ids), int (signed:
// error, ret, fd), pointer (addresses), string (text and enum values).
//
// A Trace is `repeated TracePacket packet = 1`, so the file is the packets one after another, each
// as field 1 (tag, length, bytes): packets are encoded one at a time and handed out in ~1 MiB
// pieces, never as one Trace object.
import protobuf from 'protobufjs';
import { PERFETTO_PROTO } from './perfetto-proto.ts';
import { FIELD_TYPES, KIND_FIELDS, type FieldName } from '../trace/schema.ts';
import type { TraceStore } from '../trace/store.ts';
import { concatBytes } from '../trace/bytes.ts';
import { buildExportModel } from '../trace/export/tracks.ts';

/** Perfetto's messages, parsed from perfetto.proto on first use (only `export` needs them). */
interface PerfettoTypes { Trace: protobuf.Type; TracePacket: protobuf.Type }
let types: PerfettoTypes | null = null;
export function perfettoTypes(): PerfettoTypes {
  if (!types) {
    const root = protobuf.parse(PERFETTO_PROTO).root;
    types = { Trace: root.lookupType('perfetto.protos.Trace'), TracePacket: root.lookupType('perfetto.protos.TracePacket') };
  }
  return types;
}

const enum EventType { SliceBegin = 1, SliceEnd = 2, Instant = 3, Counter = 4 } // TrackEvent.Type
const PACKET_TAG = (1 << 3) | 2; // Trace.packet = 1, length-delimited
const SEQ_ID = 1;
const PROCESS_UUID = 1;
const PID = 1;
const trackUuid = (id: number): number => 1000 + id;
const counterUuid = (i: number): number => 500 + i;

/**
 * A 64-bit value as protobufjs takes it exactly (a number is exact only below 2^53; a bigint it
 * does not accept): the low and high 32 bits.
 */
function u64(v: bigint): { low: number; high: number; unsigned: true } {
  const bits = BigInt.asUintN(64, v);
  return { low: Number(bits & 0xffff_ffffn) | 0, high: Number(bits >> 32n) | 0, unsigned: true };
}

type Annotation = Record<string, unknown>;
type TrackEventMsg = Record<string, unknown>;
/**
 * Sort key: time, then `order` (0 = slice ends, 1 = slice begins and instants, 2 = counters), then
 * `seq`. A zero-length slice's END sorts right after its own BEGIN (order 1, seq + 1), so an END
 * always closes the slice it belongs to.
 */
interface Pending { tsNs: number; order: number; seq: number; event: () => TrackEventMsg }

/** The trace as Perfetto protobuf bytes, in pieces of about `pieceBytes` (write them in order). */
export function* perfettoTraceChunks(store: TraceStore, source = 'fusescope', pieceBytes = 1 << 20): Generator<Uint8Array> {
  const { TracePacket } = perfettoTypes();
  const m = buildExportModel(store);
  let w = protobuf.Writer.create();
  /** Appends one packet; returns a finished piece when pieceBytes have gathered. */
  const packet = (p: Record<string, unknown>): Uint8Array | null => {
    TracePacket.encode(p, w.uint32(PACKET_TAG).fork()).ldelim();
    if (w.len < pieceBytes) return null;
    const piece = w.finish();
    w = protobuf.Writer.create();
    return piece;
  };
  const origin = store.originNs;
  const ts = (tsNs: number): ReturnType<typeof u64> => u64(origin + BigInt(Math.round(tsNs)));
  const descriptor = (d: Record<string, unknown>): Uint8Array | null => packet({ trustedPacketSequenceId: SEQ_ID, trackDescriptor: d });

  let piece = descriptor({ uuid: PROCESS_UUID, process: { pid: PID, processName: source } });
  if (piece) yield piece;
  for (const t of m.tracks) {
    piece = descriptor({ uuid: trackUuid(t.id), parentUuid: PROCESS_UUID, name: t.name });
    if (piece) yield piece;
  }
  for (const [i, c] of m.counters.entries()) {
    piece = descriptor({ uuid: counterUuid(i), parentUuid: PROCESS_UUID, name: c.name, counter: {} });
    if (piece) yield piece;
  }

  // Events, sorted by time; at equal times ends go first so back-to-back slices never overlap.
  const flowsFrom = new Map<number, number[]>();
  const flowsTo = new Map<number, number[]>();
  for (const f of m.flows) {
    (flowsFrom.get(f.fromSpan) ?? flowsFrom.set(f.fromSpan, []).get(f.fromSpan)!).push(f.id);
    (flowsTo.get(f.toSpan) ?? flowsTo.set(f.toSpan, []).get(f.toSpan)!).push(f.id);
  }
  const flag = (name: string): Annotation => ({ name, boolValue: true });
  const annotations = (row: number): Annotation[] => {
    const ev = store.get(row) as unknown as Record<string, unknown>;
    const out: Annotation[] = [{ name: 'row', uintValue: row }];
    for (const field of KIND_FIELDS[store.kindOf(row)] as readonly FieldName[]) out.push(annotationValue(field, ev[field]));
    return out;
  };
  const pending: Pending[] = [];
  for (const s of m.spans) {
    const uuid = trackUuid(s.trackId);
    const seq = s.spanId * 2;
    pending.push({ tsNs: s.startNs, order: 1, seq, event: () => {
      const debugAnnotations: Annotation[] = [];
      if (s.open) debugAnnotations.push(flag('did_not_end'));
      if (s.begunBefore) debugAnnotations.push(flag('began_before_trace'));
      if (s.inferredHold) debugAnnotations.push(flag('end_not_traced'));
      debugAnnotations.push(...annotations(s.beginRow));
      return {
        type: EventType.SliceBegin, trackUuid: uuid, categories: [s.kind], name: s.name, debugAnnotations,
        flowIds: flowsFrom.get(s.spanId), terminatingFlowIds: flowsTo.get(s.spanId),
      };
    } });
    if (!s.open) pending.push({ tsNs: s.endNs, order: s.endNs === s.startNs ? 1 : 0, seq: seq + 1, event: () => ({ type: EventType.SliceEnd, trackUuid: uuid }) });
  }
  for (const i of m.instants) {
    pending.push({ tsNs: i.tsNs, order: 1, seq: Number.MAX_SAFE_INTEGER, event: () => ({
      type: EventType.Instant, trackUuid: trackUuid(i.trackId), categories: ['event'], name: i.name, debugAnnotations: annotations(i.row),
    }) });
  }
  for (const [ci, c] of m.counters.entries()) {
    for (const s of c.samples) {
      pending.push({ tsNs: s.tsNs, order: 2, seq: 0, event: () => ({ type: EventType.Counter, trackUuid: counterUuid(ci), counterValue: s.value }) });
    }
  }
  pending.sort((a, b) => a.tsNs - b.tsNs || a.order - b.order || a.seq - b.seq);
  for (const ev of pending) {
    piece = packet({ timestamp: ts(ev.tsNs), trustedPacketSequenceId: SEQ_ID, trackEvent: ev.event() });
    if (piece) yield piece;
  }
  if (w.len > 0) yield w.finish();
}

/** The whole trace as one buffer (tests, small exports). */
export function toPerfettoTrace(store: TraceStore, source = 'fusescope'): Uint8Array {
  return concatBytes([...perfettoTraceChunks(store, source)]);
}

/** A field's value as a DebugAnnotation, typed by its schema type (FIELD_TYPES). */
function annotationValue(field: FieldName, v: unknown): Annotation {
  const type: string = FIELD_TYPES[field];
  if (typeof v === 'boolean') return { name: field, boolValue: v };
  if (typeof v === 'bigint') return { name: field, pointerValue: u64(v) };
  if (typeof v === 'number' && Number.isInteger(v)) {
    // Signed columns, and any negative value (f64 fields such as ret hold −errno), as int.
    return type === 'i32' || v < 0 ? { name: field, intValue: v } : { name: field, uintValue: v };
  }
  return { name: field, stringValue: String(v) };
}
