// The ftrace writer's lines, one by one, against lines written out by hand from the formats in
// docs/domain.md §4 (§4.2 trace-cmd report layout, §4.3 request events, §4.4 the series' INODE +
// RANGE events, §4.5 iomap_iter, §4.6 lock contention). The round trip through the importer is
// server/sim/roundtrip.test.ts; this file pins the text itself.
import { describe, expect, it } from 'vitest';
import { FtraceTextWriter, ftraceLine } from './ftrace-text.ts';
import { ev } from '../testing/events.ts';
import type { TraceEvent } from '../schema.ts';

const O_RDWR = 0o2;
const O_DIRECT = 0o40000;
const S = 1_000_000_000; // 1 s in ns

function write(events: TraceEvent[]): string[] {
  const w = new FtraceTextWriter();
  const out: string[] = [];
  for (const e of events) w.write(e, out);
  w.end(out);
  return out;
}

// `report` layout: comm right-aligned to 16, pid left-aligned to 5, CPU, 5 flag characters,
// secs.nsecs, the event name with its colon padded to 21, a space, the body.
const INODE12 = 'connection 45 ino 12 nodeid 12 isize 0x0 idisksize 0x0';
/** &i_rwsem / &invalidate_lock of nodeid 12: base 0xffff888100000000 + 12 × 0x1000 + 0x98 / 0x1a8. */
const RWSEM12 = '0xffff88810000c098';
const INVAL12 = '0xffff88810000c1a8';

describe('ftrace text writer: lines', () => {
  it('a direct write on a file not yet known to be on iomap: its entry line is held, then written in place once an iomap step shows the file', () => {
    const lines = write([
      ev('inode_new', 0, 'fio/3001', { nodeId: 12, ino: 12, path: '/mnt/f' }),
      ev('app_op_begin', S, 'fio/3001', { op: 'pwrite', path: '/mnt/f', fd: 3, posBytes: 0x5000, lenBytes: 0x1000, oflags: O_RDWR | O_DIRECT }),
      ev('lock_wait', S + 2000, 'fio/3001', { lock: 'i_rwsem', mode: 'W', nodeId: 12, ino: 12 }),
      ev('fuse_send', S + 3000, 'dd/4000', { unique: 7, opcode: 20, nodeId: 12, lenBytes: 56 }),
      ev('lock_acquire', S + 50_000, 'fio/3001', { lock: 'i_rwsem', mode: 'W', nodeId: 12, ino: 12 }),
      ev('iomap_begin', S + 51_000, 'fio/3001', { nodeId: 12, ino: 12, opflags: 0x11, posBytes: 0x5000, lenBytes: 0x1000 }),
    ]);
    expect(lines).toEqual([
      '             fio-3001  [000] .....     1.000000000: sys_enter_pwrite64:   fd: 0x3, buf: 0x00000000, count: 0x1000, pos: 0x5000',
      `             fio-3001  [000] .....     1.000000000: fuse_iomap_direct_write: ${INODE12} pos 0x5000 length 0x1000`,
      `             fio-3001  [000] .....     1.000002000: contention_begin:     ${RWSEM12} (flags=WRITE)`,
      '              dd-4000  [000] .....     1.000003000: fuse_request_send:    connection 45 req 7 opcode 20 (FUSE_FSYNC) len 56 ',
      `             fio-3001  [000] .....     1.000050000: contention_end:       ${RWSEM12} (ret=0)`,
      '             fio-3001  [000] .....     1.000051000: iomap_iter:           dev 0:45 ino 0xc pos 0x5000 length 0x1000 status 0 flags WRITE|DIRECT (0x11) ops fuse_iomap_ops caller __iomap_dio_rw',
      `             fio-3001  [000] .....     1.000051000: fuse_iomap_begin:     ${INODE12} opflags (write|direct) pos 0x5000 length 0x1000`,
    ]);
  });

  it('a classic-path file gets no entry line: its FUSE_READ shows it is not on iomap', () => {
    const lines = write([
      ev('inode_new', 0, 'cat/5000', { nodeId: 14, ino: 14, path: '/mnt/c' }),
      ev('app_op_begin', S, 'cat/5000', { op: 'pread', path: '/mnt/c', fd: 4, posBytes: 0, lenBytes: 0x2000, oflags: 0 }),
      ev('fuse_send', S + 1000, 'cat/5000', { unique: 9, opcode: 15, nodeId: 14, lenBytes: 120 }),
    ]);
    expect(lines).toEqual([
      '             cat-5000  [000] .....     1.000000000: sys_enter_pread64:    fd: 0x4, buf: 0x00000000, count: 0x2000, pos: 0x0',
      '             cat-5000  [000] .....     1.000001000: fuse_request_send:    connection 45 req 9 opcode 15 (FUSE_READ) len 120 ',
    ]);
  });

  it('on a known iomap file: a buffered write past EOF prints its entry, then write_zero_eof (the write\'s pos/length) before invalidate_lock; a fault prints page_mkwrite', () => {
    const lines = write([
      ev('inode_new', 0, 'dd/4000', { nodeId: 12, ino: 12, path: '/mnt/f' }),
      ev('inode_iomap', 0, 'dd/4000', { nodeId: 12, ino: 12, inodeFlags: 0 }),
      ev('app_op_begin', S, 'dd/4000', { op: 'pwrite', path: '/mnt/f', fd: 3, posBytes: 0x9000, lenBytes: 0x800, oflags: O_RDWR }),
      ev('lock_acquire', S + 1000, 'dd/4000', { lock: 'i_rwsem', mode: 'W', nodeId: 12, ino: 12 }),
      ev('lock_wait', S + 1000, 'dd/4000', { lock: 'invalidate_lock', mode: 'W', nodeId: 12, ino: 12 }),
      ev('app_op_begin', S + 2000, 'mm/6000', { op: 'fault', path: '/mnt/f', fd: 5, posBytes: 0x3000, lenBytes: 0x1000, oflags: O_RDWR }),
      ev('lock_wait', S + 2000, 'mm/6000', { lock: 'invalidate_lock', mode: 'R', nodeId: 12, ino: 12 }),
    ]);
    expect(lines).toEqual([
      `              dd-4000  [000] .....     0.000000000: fuse_iomap_init_inode: ${INODE12} state ()`,
      '              dd-4000  [000] .....     1.000000000: sys_enter_pwrite64:   fd: 0x3, buf: 0x00000000, count: 0x800, pos: 0x9000',
      `              dd-4000  [000] .....     1.000000000: fuse_iomap_buffered_write: ${INODE12} pos 0x9000 length 0x800`,
      `              dd-4000  [000] .....     1.000001000: fuse_iomap_write_zero_eof: ${INODE12} pos 0x9000 length 0x800`,
      `              dd-4000  [000] .....     1.000001000: contention_begin:     ${INVAL12} (flags=WRITE)`,
      `              mm-6000  [000] .....     1.000002000: fuse_iomap_page_mkwrite: ${INODE12} pos 0x3000 length 0x1000`,
      `              mm-6000  [000] .....     1.000002000: contention_begin:     ${INVAL12} (flags=READ)`,
    ]);
  });

  it('an entry whose file never shows its path is not written; the lines after it still are', () => {
    const lines = write([
      ev('inode_new', 0, 'fio/3001', { nodeId: 12, ino: 12, path: '/mnt/f' }),
      ev('app_op_begin', S, 'fio/3001', { op: 'pread', path: '/mnt/f', fd: 3, posBytes: 0x7000, lenBytes: 0x1000, oflags: O_DIRECT }),
      ev('app_op_end', S + 500, 'fio/3001', { op: 'pread', fd: 3, ret: 0 }),
    ]);
    expect(lines).toEqual([
      '             fio-3001  [000] .....     1.000000000: sys_enter_pread64:    fd: 0x3, buf: 0x00000000, count: 0x1000, pos: 0x7000',
      '             fio-3001  [000] .....     1.000000500: sys_exit_pread64:     0x0',
    ]);
  });

  it('trace_pipe layout: pid padded to 7, µs stamps', () => {
    expect(ftraceLine('pipe', 'fio/3001', S + 2_345_678, 'contention_end', `${RWSEM12} (ret=0)`))
      .toBe(`             fio-3001    [000] .....     1.002345: contention_end: ${RWSEM12} (ret=0)`);
  });
});
