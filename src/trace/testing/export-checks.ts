// Checkers for exported traces (tests only): the Chrome Trace Event Format rules we rely on, and a
// schema-checked protobuf decoder for the Perfetto messages we emit.
import type { ChromeEvent } from '../export/chrome-json.ts';

/** The Chrome Trace Event Format's rules we rely on (docs: "Trace Event Format", Google). */
export function validateChrome(events: ChromeEvent[]): string[] {
  const errors: string[] = [];
  const names = new Set<number>();
  const lastTs = new Map<string, number>();
  const openStack = new Map<string, number[]>(); // per track: end times of enclosing X slices
  const flows = new Map<number, string[]>();
  for (const [i, e] of events.entries()) {
    if (typeof e.name !== 'string' || typeof e.ph !== 'string' || typeof e.pid !== 'number') errors.push(`#${i}: name/ph/pid missing`);
    if (e.ph === 'M') {
      if (e.name === 'thread_name') names.add(e.tid!);
      continue;
    }
    if (typeof e.ts !== 'number' || !Number.isFinite(e.ts)) errors.push(`#${i}: ts missing`);
    const track = `${e.pid}:${e.tid ?? 'p'}:${e.ph === 'C' ? e.name : ''}`;
    if (e.ph !== 'C' && e.ph !== 's' && e.ph !== 'f') {
      if (e.ts! < (lastTs.get(track) ?? -Infinity)) errors.push(`#${i}: ts goes backwards on ${track}`);
      lastTs.set(track, e.ts!);
    }
    switch (e.ph) {
      case 'X': {
        if (typeof e.dur !== 'number' || e.dur < 0) errors.push(`#${i}: X without dur`);
        if (!names.has(e.tid!)) errors.push(`#${i}: tid ${e.tid} has no thread_name`);
        const stack = openStack.get(track) ?? [];
        // µs are fractional floats: allow 1 ps of rounding where slices abut.
        while (stack.length && stack[stack.length - 1]! <= e.ts! + 1e-6) stack.pop();
        if (stack.length && e.ts! + e.dur! > stack[stack.length - 1]! + 1e-6) errors.push(`#${i}: X overlaps its parent without nesting`);
        if (stack.includes(Infinity)) errors.push(`#${i}: X after a slice that did not end, on its track`);
        stack.push(e.ts! + e.dur!);
        openStack.set(track, stack);
        break;
      }
      case 'B': {
        // A slice with no end: it lasts to the end of the trace, so nothing may follow on its track.
        if (!names.has(e.tid!)) errors.push(`#${i}: tid ${e.tid} has no thread_name`);
        const stack = openStack.get(track) ?? [];
        while (stack.length && stack[stack.length - 1]! <= e.ts! + 1e-6) stack.pop();
        stack.push(Infinity);
        openStack.set(track, stack);
        break;
      }
      case 'i': if (e.s !== 't' && e.s !== 'p' && e.s !== 'g') errors.push(`#${i}: instant scope`); break;
      case 'C': if (!e.args || Object.values(e.args).some((v) => typeof v !== 'number')) errors.push(`#${i}: counter args`); break;
      case 's': case 'f': {
        if (typeof e.id !== 'number' || !e.cat) errors.push(`#${i}: flow without id/cat`);
        const list = flows.get(e.id!) ?? [];
        list.push(e.ph);
        flows.set(e.id!, list);
        break;
      }
      default: errors.push(`#${i}: unexpected phase ${e.ph}`);
    }
  }
  for (const [id, phases] of flows) if (phases.join('') !== 'sf') errors.push(`flow ${id}: phases ${phases.join('')}`);
  return errors;
}

// ---------------------------------------------------------------------------------------------
// Perfetto: a generic protobuf wire decoder plus the message schemas we emit, transcribed from
// google/perfetto protos/perfetto/trace/{trace,trace_packet}.proto and track_event/{track_event,
// track_descriptor,process_descriptor,counter_descriptor,debug_annotation}.proto.

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

