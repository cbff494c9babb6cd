import { describe, expect, it } from 'vitest';
import { conversionCost, describeConversionCost } from './conversion-cost.ts';
import { IoendFlag, OpFlag, Opcode } from './fuse-proto.ts';
import { TraceStore } from './store.ts';
import { ev } from './testing/events.ts';
import type { TraceEvent } from './schema.ts';

const storeOf = (evs: TraceEvent[]): TraceStore => { const s = new TraceStore(); s.appendAll(evs); return s; };

// A direct pwrite of `nodeId` taking 100 ns that waits inside it for a conversion upcall of `convNs`.
const direct = (t0: number, nodeId: number, unique: number, convNs: number): TraceEvent[] => [
  ev('app_op_begin', t0, 'E/7', { op: 'pwrite' }),
  ev('iomap_begin', t0 + 1, 'E/7', { nodeId, ino: 100 + nodeId, opflags: OpFlag.WRITE | OpFlag.DIRECT, posBytes: 0, lenBytes: 4096 }),
  ev('iomap_ioend', t0 + 10, 'E/7', { nodeId, ino: 100 + nodeId, posBytes: 0, writtenBytes: 4096, ioendFlags: IoendFlag.UNWRITTEN, sent: true }),
  ev('fuse_send', t0 + 10, 'E/7', { unique, opcode: Opcode.IOMAP_IOEND, nodeId }),
  ev('fuse_reply', t0 + 10 + convNs, 'srv/1', { unique, opcode: Opcode.IOMAP_IOEND }),
  ev('app_op_end', t0 + 100, 'E/7', { op: 'pwrite' }),
];

describe('conversionCost (the seed\'s "90 % more overhead", measured)', () => {
  it('one file: 60 of 100 ns converting is a 60 % share, 150 % more than the 40 ns without it', () => {
    const c = conversionCost(storeOf(direct(100, 8, 20, 60)))!;
    expect(c).toMatchObject({ conversions: 1, conversionNs: 60, writes: 1, writeNs: 100, share: 0.6 });
    expect(c.moreOverhead).toBeCloseTo(60 / 40);
  });
  it('two files: the workload\'s figures (two writes of 100 ns, conversions of 30 and 20 ns: 50 of 200 → 50 / 150 more)', () => {
    const c = conversionCost(storeOf([...direct(100, 8, 20, 30), ...direct(300, 9, 21, 20)]))!;
    expect(c).toMatchObject({ conversions: 2, conversionNs: 50, writes: 2, writeNs: 200, share: 0.25 });
    expect(c.moreOverhead).toBeCloseTo(1 / 3);
  });
  it('no conversion: null (nothing to state); conversions but no timed write: share and overhead unknown', () => {
    expect(conversionCost(storeOf([ev('app_op_begin', 0, 'a/1', { op: 'pwrite' }), ev('app_op_end', 9, 'a/1', { op: 'pwrite' })]))).toBeNull();
    const noWrite = direct(100, 8, 20, 60).filter((e) => e.kind !== 'app_op_begin' && e.kind !== 'app_op_end');
    expect(conversionCost(storeOf(noWrite))).toMatchObject({ conversions: 1, share: null, moreOverhead: null });
  });
  it('states the cost with its basis and the cover letters\' 90 % beside it', () => {
    expect(describeConversionCost(conversionCost(storeOf(direct(100, 8, 20, 60)))!)).toBe(
      '1 unwritten conversion (FUSE_IOMAP_IOEND upcalls answered in the trace) took 60 % of the write time (60 ns of 100 ns, 1 write): ' +
      'the writes took 150 % more than they would have without these upcalls. The cover letters say about 90 % more overhead (RFC v3–v7, random direct writes).');
  });
});
