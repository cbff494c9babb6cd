// Test helper: a protobuf wire decoder of its own, with the Perfetto message schemas we emit
// transcribed apart from perfetto-proto.ts (from google/perfetto protos/perfetto/trace/{trace,
// trace_packet}.proto and track_event/{track_event,track_descriptor,process_descriptor,
// counter_descriptor,debug_annotation}.proto), so a test reads the exporter's bytes by another
// path than the protobufjs that wrote them: a wrong field number or wire type in either fails.

type FieldType = 'uint64' | 'int64' | 'uint32' | 'int32' | 'enum' | 'bool' | 'string' | 'fixed64' | 'double' | string;
const SCHEMA: Record<string, Record<number, { name: string; type: FieldType; repeated?: boolean }>> = {
  Trace: { 1: { name: 'packet', type: 'TracePacket', repeated: true } },
  TracePacket: {
    8: { name: 'timestamp', type: 'uint64' }, 10: { name: 'trusted_packet_sequence_id', type: 'uint32' },
    11: { name: 'track_event', type: 'TrackEvent' }, 60: { name: 'track_descriptor', type: 'TrackDescriptor' },
  },
  TrackDescriptor: {
    1: { name: 'uuid', type: 'uint64' }, 2: { name: 'name', type: 'string' }, 3: { name: 'process', type: 'ProcessDescriptor' },
    5: { name: 'parent_uuid', type: 'uint64' }, 8: { name: 'counter', type: 'CounterDescriptor' },
  },
  ProcessDescriptor: { 1: { name: 'pid', type: 'int32' }, 6: { name: 'process_name', type: 'string' } },
  CounterDescriptor: {},
  TrackEvent: {
    4: { name: 'debug_annotations', type: 'DebugAnnotation', repeated: true }, 9: { name: 'type', type: 'enum' },
    11: { name: 'track_uuid', type: 'uint64' }, 22: { name: 'categories', type: 'string', repeated: true },
    23: { name: 'name', type: 'string' }, 30: { name: 'counter_value', type: 'int64' },
    47: { name: 'flow_ids', type: 'fixed64', repeated: true }, 48: { name: 'terminating_flow_ids', type: 'fixed64', repeated: true },
  },
  DebugAnnotation: {
    2: { name: 'bool_value', type: 'bool' }, 3: { name: 'uint_value', type: 'uint64' }, 4: { name: 'int_value', type: 'int64' },
    6: { name: 'string_value', type: 'string' }, 7: { name: 'pointer_value', type: 'uint64' }, 10: { name: 'name', type: 'string' },
  },
};
const WIRE_OF = (t: FieldType): number =>
  ['uint64', 'int64', 'uint32', 'int32', 'enum', 'bool'].includes(t) ? 0 : t === 'fixed64' || t === 'double' ? 1 : 2;

export type Msg = Record<string, unknown[]>;
export function decodeProto(buf: Uint8Array, type: string): Msg {
  const schema = SCHEMA[type];
  if (!schema) throw new Error(`no schema for ${type}`);
  const out: Msg = {};
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buf.length) throw new Error('truncated varint');
      const b = buf[at++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
    }
  };
  while (at < buf.length) {
    const tag = Number(varint());
    const field = tag >>> 3;
    const wire = tag & 7;
    const f = schema[field];
    if (!f) throw new Error(`${type}: field ${field} is not in the published schema`);
    if (WIRE_OF(f.type) !== wire) throw new Error(`${type}.${f.name}: wire type ${wire}, schema says ${WIRE_OF(f.type)}`);
    let value: unknown;
    if (wire === 0) value = varint();
    else if (wire === 1) {
      value = new DataView(buf.buffer, buf.byteOffset + at, 8).getBigUint64(0, true);
      at += 8;
    } else {
      const len = Number(varint());
      if (at + len > buf.length) throw new Error(`${type}.${f.name}: length overruns`);
      const sub = buf.subarray(at, at + len);
      at += len;
      value = f.type === 'string' ? new TextDecoder('utf-8', { fatal: true }).decode(sub) : decodeProto(sub, f.type);
    }
    (out[f.name] ??= []).push(value);
    if (!f.repeated && out[f.name]!.length > 1) throw new Error(`${type}.${f.name} repeated`);
  }
  return out;
}

