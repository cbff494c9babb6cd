import { describe, expect, it } from 'vitest';
import { diffStats, formatDiff, traceStats } from './compare.ts';
import { NO_APP_IO } from './accounting.ts';
import { Opcode } from './fuse-proto.ts';
import { TraceStore } from './store.ts';
import { ev } from './testing/events.ts';
import type { TraceEvent } from './schema.ts';

const MiB = 1024 * 1024;
function storeOf(evs: TraceEvent[]): TraceStore {
  const s = new TraceStore();
  s.appendAll(evs);
  return s;
}

// A: a capture without the applications' syscalls (two FUSE_WRITEs, the server's own pwrite);
// B: the same with the writer's write traced: 1 MiB in 1 ms.
const captureOnly = storeOf([
  ev('fuse_send', 0, 'fsw-writer-a/10', { unique: 2, opcode: Opcode.WRITE }),
  ev('app_op_end', 500_000, 'fuse2fs/21', { op: 'pwrite', ret: 4096 }),
  ev('fuse_reply', 600_000, 'fuse2fs/21', { unique: 2, opcode: Opcode.WRITE }),
  ev('fuse_send', 700_000, 'fsw-writer-a/10', { unique: 4, opcode: Opcode.WRITE }),
  ev('fuse_reply', 1_000_000, 'fuse2fs/21', { unique: 4, opcode: Opcode.WRITE }),
]);
const withWrites = storeOf([
  ev('app_op_begin', 0, 'fsw-writer-a/10', { op: 'write', lenBytes: MiB }),
  ev('fuse_send', 100, 'fsw-writer-a/10', { unique: 2, opcode: Opcode.WRITE }),
  ev('fuse_reply', 600_000, 'fuse2fs/21', { unique: 2, opcode: Opcode.WRITE }),
  ev('app_op_end', 1_000_000, 'fsw-writer-a/10', { op: 'write', ret: MiB }),
]);

describe('compare: figures of the applications\' bytes on a trace without their syscalls', () => {
  it('are unknown with the reason, not 0 MiB and 0 MiB/s; the side that traced them keeps its figures', () => {
    const a = traceStats(captureOnly);
    const b = traceStats(withWrites);
    expect(a.appIoUnknown).toBe(NO_APP_IO);
    expect(a.appBytes).toBeNaN();
    expect(a.throughputMiBPerSec).toBeNaN();
    expect(a.upcallsPerMiB).toBeNaN();
    expect(a.requests).toBe(2); // what is known stays
    expect(b.appIoUnknown).toBeNull();
    expect(b.appBytes).toBe(MiB);
    expect(b.throughputMiBPerSec).toBeCloseTo(1000, 6); // 1 MiB in 1 ms
    const rows = diffStats(a, b);
    const moved = rows.find((r) => r.metric === 'app data moved')!;
    expect(moved.unknown).toEqual({ a: NO_APP_IO });
    expect(moved.b).toBe(1);
    expect(rows.find((r) => r.metric === 'FUSE requests')!.unknown).toBeUndefined();
    const text = formatDiff(rows);
    const line = (metric: string): string => text.split('\n').find((l) => l.startsWith(metric + ' '))!;
    // Not "new" (B is not new where A is unknown), not 0.
    expect(line('app data moved')).toMatch(/MiB\s+unknown\s+1\s+—$/);
    expect(line('throughput')).toMatch(/unknown\s+1,000\s+—$/);
    expect(text).toContain(`unknown in A (app data moved, throughput, upcalls per MiB, iomap upcalls per MiB, lock wait per MiB): ${NO_APP_IO}`);
    expect(text).not.toContain('unknown in B');
  });

  it('counts traced events as summary and the page do: task_process rows (which process a task is in) are not events', () => {
    const store = storeOf([
      ev('task_process', 0, 'fsw-writer-a/10', { tgid: 10 }),
      ev('task_process', 0, 'fuse2fs/21', { tgid: 20 }),
      ev('fuse_send', 5, 'fsw-writer-a/10', { unique: 2, opcode: Opcode.WRITE }),
      ev('fuse_reply', 9, 'fuse2fs/21', { unique: 2, opcode: Opcode.WRITE }),
    ]);
    expect(store.length).toBe(4);
    expect(traceStats(store).events).toBe(2);
  });
});
