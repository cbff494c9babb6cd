// Perfetto's trace schema as far as fusescope writes it, in .proto syntax, kept as a string so the
// exporter runs in the browser as in node (no file read): protobufjs parses it on first use
// (perfetto.ts); nothing is generated from it. Edit the text below as the .proto it is.
export const PERFETTO_PROTO = `// The part of Perfetto's trace schema that \`fusescope export --format perfetto\` writes: only the
// messages and fields we emit, with Perfetto's own message names, field names, field numbers and
// oneof groups, so a .pftrace we write is a valid perfetto.protos.Trace. Written for fusescope
// against google/perfetto commit ec5d16b14b743ba6063d720956d6d6af6610fd72 (Aug 2026), files:
//   protos/perfetto/trace/trace.proto, trace_packet.proto,
//   protos/perfetto/trace/track_event/{track_event,track_descriptor,process_descriptor,
//   counter_descriptor,debug_annotation}.proto
// Perfetto's protos are proto2: repeated scalars stay unpacked (one tag per flow id), as there.
// Parsed at run time by protobufjs (src/export/perfetto.ts); nothing is generated from it.
syntax = "proto2";

package perfetto.protos;

message Trace {
  repeated TracePacket packet = 1;
}

message TracePacket {
  // Nanoseconds on the trace clock (we write originNs + tsNs; no clock snapshot).
  optional uint64 timestamp = 8;
  oneof data {
    TrackEvent track_event = 11;
    TrackDescriptor track_descriptor = 60;
  }
  oneof optional_trusted_packet_sequence_id {
    uint32 trusted_packet_sequence_id = 10;
  }
}

message TrackDescriptor {
  optional uint64 uuid = 1;
  optional uint64 parent_uuid = 5;
  oneof static_or_dynamic_name {
    string name = 2;
  }
  optional ProcessDescriptor process = 3;
  optional CounterDescriptor counter = 8;
}

message ProcessDescriptor {
  optional int32 pid = 1;
  optional string process_name = 6;
}

// Empty: a plain counter track with Perfetto's defaults (no unit, no multiplier).
message CounterDescriptor {
}

message TrackEvent {
  repeated string categories = 22;
  oneof name_field {
    string name = 23;
  }
  enum Type {
    TYPE_UNSPECIFIED = 0;
    TYPE_SLICE_BEGIN = 1;
    TYPE_SLICE_END = 2;
    TYPE_INSTANT = 3;
    TYPE_COUNTER = 4;
  }
  optional Type type = 9;
  optional uint64 track_uuid = 11;
  oneof counter_value_field {
    int64 counter_value = 30;
  }
  repeated fixed64 flow_ids = 47;
  repeated fixed64 terminating_flow_ids = 48;
  repeated DebugAnnotation debug_annotations = 4;
}

message DebugAnnotation {
  oneof name_field {
    string name = 10;
  }
  oneof value {
    bool bool_value = 2;
    uint64 uint_value = 3;
    int64 int_value = 4;
    uint64 pointer_value = 7;
    string string_value = 6;
  }
}
`;
