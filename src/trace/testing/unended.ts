// A hand-written excerpt of a fuse-iomap run cut at both ends (issue #13): iomap steps ended by
// each kind of closer, spans whose start or end the trace does not show, a hold inferred from
// lock contention. Tests derive their expectations from the comments.
import type { TraceEvent } from '../schema.ts';
import { ev } from './events.ts';

const W2 = { lock: 'i_rwsem', mode: 'W', nodeId: 2, ino: 12 } as const;
const W3 = { lock: 'i_rwsem', mode: 'W', nodeId: 3, ino: 12 } as const;

/** Four tasks' excerpt of a fuse-iomap run, cut at both ends (see the comments for what each row does). */
export function excerpt(): TraceEvent[] {
  return [
    ev('app_op_begin', 1000, 'dd/100', { op: 'pwrite' }), // the trace starts at 1000
    ev('fuse_reply', 1005, 'fuse2fs/9', { unique: 4 }), // its request began before the trace
    ev('iomap_end', 1010, 'dd/101'), // a step that began before the trace
    ev('app_op_end', 1020, 'dd/101'), // a syscall that began before the trace
    ev('lock_release', 1030, 'dd/102', W2), // a hold that began before the trace
    ev('fs_op', 1100, 'dd/100', { name: 'iomap_buffered_write' }), // an entry: closes nothing
    ev('lock_contention', 1110, 'dd/100', { phase: 'begin' }),
    ev('lock_wait', 1110, 'dd/100', W2),
    ev('lock_wait', 1120, 'dd/101', W2), // never acquired: unfinished
    ev('lock_contention', 1140, 'dd/100', { phase: 'end' }),
    ev('lock_acquire', 1140, 'dd/100', W2), // derived from the contention end: an inferred hold
    ev('lock_acquire', 1150, 'dd/103', W3),
    ev('lock_release', 1160, 'dd/103', W3),
    ev('iomap_begin', 1200, 'dd/100'), // step 1
    ev('iomap_begin', 1250, 'kworker/u8:1/77'), // step 4
    ev('iomap_map', 1300, 'dd/100', { slot: 'write', mapType: 2 }),
    ev('iomap_begin', 1400, 'dd/101'), // step 5
    ev('fs_op', 1450, 'kworker/u8:1/77', { name: 'iomap_writeback_submit' }), // not a closer
    ev('fs_op', 1450, 'dd/101', { name: 'iomap_dio_write_end_io' }), // closes step 5
    ev('iomap_begin', 1500, 'dd/100'), // closes step 1, opens step 2
    ev('fs_op', 1550, 'kworker/u8:1/77', { name: 'iomap_dio_complete' }), // closes step 4
    ev('iomap_end', 1600, 'dd/100'), // closes step 2
    ev('fuse_send', 1650, 'dd/100', { unique: 10, opcode: 4095 }), // FUSE_IOMAP_END of step 2
    ev('fuse_reply', 1700, 'fuse2fs/9', { unique: 10, opcode: 4095 }),
    ev('iomap_iter_end', 1800, 'dd/100', { error: -5 }), // step 2 (closed) failed, and its request
    ev('iomap_begin', 1900, 'dd/100'), // step 3
    ev('fs_op', 2100, 'dd/100', { name: 'iomap_buffered_write_end' }), // closes step 3
    ev('app_op_end', 2200, 'dd/100', { op: 'pwrite' }),
    ev('iomap_begin', 2300, 'dd/101'), // step 6: never closes
    ev('fuse_send', 2350, 'dd/101', { unique: 12 }), // never replied
  ];
}

