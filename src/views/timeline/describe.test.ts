import { describe, expect, it } from 'vitest';
import { TraceStore } from '../../trace/store.ts';
import { SpanIndex } from '../../trace/spans.ts';
import { MapType, Opcode, OpFlag } from '../../trace/fuse-proto.ts';
import { formatField, inspectorSections, spanTooltip } from './describe.ts';

describe('inspector text', () => {
  it('pretty-prints flags, opcodes, map types and addresses', () => {
    expect(formatField('opflags', OpFlag.WRITE | OpFlag.DIRECT)).toBe('write|direct (0x11)');
    expect(formatField('opcode', Opcode.IOMAP_BEGIN)).toBe('FUSE_IOMAP_BEGIN (4094)');
    expect(formatField('mapType', MapType.UNWRITTEN)).toBe('unwritten (3)');
    expect(formatField('mapAddr', 0xffff_ffff_ffff_ffffn)).toBe('0xffffffffffffffff');
  });

  it('lists begin, mapping and end fields with unique names', () => {
    const store = new TraceStore();
    const task = 'dd/1';
    store.appendAll([
      { kind: 'iomap_begin', tsNs: 10, task, nodeId: 7, ino: 12, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 4096, fsDev: 0 },
      { kind: 'iomap_map', tsNs: 20, task, nodeId: 7, ino: 12, slot: 'write', source: 'reply', mapType: MapType.MAPPED,
        mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 4096, mapAddr: 0x10000n, mapDev: 0, cookie: 3, rawType: '' },
      { kind: 'iomap_iter_end', tsNs: 30, task, nodeId: 7, ino: 12, posBytes: 0, lenBytes: 4096, processedBytes: 4096, error: 0 },
    ]);
    const spans = new SpanIndex();
    spans.update(store);
    const fields = inspectorSections(store, spans, 0).flatMap((s) => s.rows.map((r) => r.field));
    expect(new Set(fields).size).toBe(fields.length);
    expect(fields).toEqual(expect.arrayContaining(['kind', 'opflags', 'mapType', 'mapAddr', 'end.tsNs', 'processedBytes']));
    const rows = Object.fromEntries(inspectorSections(store, spans, 0).flatMap((s) => s.rows.map((r) => [r.field, r.value])));
    expect(rows.mapAddr).toBe('0x10000');
    expect(rows.opflags).toBe('write (0x1)');
    expect(spanTooltip(store, spans, 0).title).toBe('iomap write:mapped');
  });
});
