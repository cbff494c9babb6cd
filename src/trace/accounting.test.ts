import { describe, expect, it } from 'vitest';
import { accountRun } from './accounting.ts';
import { IoendFlag, Opcode } from './fuse-proto.ts';
import { TraceStore } from './store.ts';
import { ev } from './testing/events.ts';
import type { TraceEvent } from './schema.ts';

const MiB = 1024 * 1024;
function storeOf(evs: TraceEvent[]): TraceStore {
  const s = new TraceStore();
  s.appendAll(evs);
  return s;
}

describe('accountRun', () => {
  it('leaves the FUSE server\'s own reads and writes out of the bytes moved (its threads: those that reply or receive)', () => {
    const store = storeOf([
      ev('app_op_end', 100, 'fsw-writer-a/10', { op: 'write', ret: 65536 }),
      // fuse2fs/21 reads the request from /dev/fuse and writes the image; fuse2fs/22 replies (fuse_request_end
      // runs in the replying thread); both are the server's comm, so both threads' IO is the server's.
      ev('app_op_end', 110, 'fuse2fs/21', { op: 'read', ret: 65616 }),
      ev('app_op_end', 120, 'fuse2fs/21', { op: 'pwrite', ret: 65536 }),
      ev('fuse_reply', 130, 'fuse2fs/22', { unique: 4, opcode: Opcode.WRITE }),
      ev('app_op_end', 140, 'fsw-reader/11', { op: 'pread', ret: 4096 }),
    ]);
    const a = accountRun(store);
    // app: 65536 written + 4096 read; server: 65616 + 65536 = 131152 (by hand).
    expect(a).toMatchObject({ bytesMoved: 69632, bytesWritten: 65536, bytesRead: 4096, serverBytes: 131152, serverComms: ['fuse2fs'] });
    expect(a.throughputBytesPerSec).toBeCloseTo(69632 / (40 / 1e9));
  });

  it('computes upcalls per MiB, hit rate, conversions, lock waits and throughput from events', () => {
    const store = storeOf([
      ev('app_op_begin', 0, 'fio/1', { op: 'pwrite', lenBytes: MiB }),
      ev('lock_wait', 100, 'fio/1', { lock: 'i_rwsem', mode: 'W', nodeId: 12 }),
      ev('lock_wait', 150, 'fio/2', { lock: 'invalidate_lock', mode: 'R', nodeId: 12 }),
      ev('lock_acquire', 400, 'fio/1', { lock: 'i_rwsem', mode: 'W', nodeId: 12 }), // waited 300
      ev('lock_acquire', 1150, 'fio/2', { lock: 'invalidate_lock', mode: 'R', nodeId: 12 }), // waited 1000
      ev('lock_acquire', 1200, 'fio/3', { lock: 'i_rwsem', mode: 'R', nodeId: 12 }), // no wait
      ev('cache_lookup', 500, 'fio/1', { hit: false }),
      ev('fuse_send', 510, 'fio/1', { opcode: Opcode.IOMAP_BEGIN }),
      ev('cache_lookup', 600, 'fio/1', { hit: true }),
      ev('cache_lookup', 700, 'fio/1', { hit: true }),
      ev('cache_lookup', 800, 'fio/1', { hit: true }),
      ev('cache_stale', 850, 'fio/1'),
      ev('iomap_ioend', 900, 'fio/1', { ioendFlags: IoendFlag.DIRECT | IoendFlag.UNWRITTEN, sent: true }),
      ev('fuse_send', 910, 'fio/1', { opcode: Opcode.IOMAP_IOEND }),
      ev('iomap_ioend', 920, 'kw/9', { ioendFlags: IoendFlag.WRITEBACK | IoendFlag.UNWRITTEN, sent: false, error: 0 }),
      ev('iomap_ioend', 930, 'kw/9', { ioendFlags: IoendFlag.WRITEBACK, sent: true, error: -5 }),
      ev('fuse_send', 940, 'kw/9', { opcode: Opcode.IOMAP_IOEND }),
      ev('fuse_send', 950, 'fio/1', { opcode: Opcode.LOOKUP }),
      ev('app_op_end', 1000, 'fio/1', { op: 'pwrite', ret: MiB }),
      ev('app_op_end', 1500, 'fio/3', { op: 'pread', ret: MiB }),
      ev('app_op_end', 1600, 'fio/3', { op: 'pread', ret: -5 }),
      ev('app_op_end', 1700, 'fio/3', { op: 'open', ret: 3 }),
      ev('app_op_end', 2000, 'fio/3', { op: 'fsync', ret: 0 }),
    ]);
    const a = accountRun(store);
    expect(a.durationNs).toBe(2000);
    expect(a.bytesRead).toBe(MiB);
    expect(a.bytesWritten).toBe(MiB);
    expect(a.bytesMoved).toBe(2 * MiB);
    expect(a.upcallsByOpcode).toEqual({ FUSE_IOMAP_BEGIN: 1, FUSE_IOMAP_IOEND: 2, FUSE_LOOKUP: 1 });
    expect(a.upcallsPerMiB).toEqual({ FUSE_IOMAP_BEGIN: 0.5, FUSE_IOMAP_IOEND: 1, FUSE_LOOKUP: 0.5 });
    expect(a.iomapUpcallsPerMiB).toBe(1.5);
    expect(a.cacheLookups).toBe(4);
    expect(a.cacheHits).toBe(3);
    expect(a.cacheHitRate).toBe(0.75);
    expect(a.staleMappings).toBe(1);
    expect(a.unwrittenConversions).toBe(1);
    expect(a.lockWaits).toBe(2);
    expect(a.lockWaitTotalNs).toBe(1300);
    expect(a.lockWaitMaxNs).toBe(1000);
    expect(a.throughputBytesPerSec).toBeCloseTo((2 * MiB) / 2e-6);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('says where its cache and ioend figures come from: cache events at all, stale uses the oracle saw, derived iomap events', () => {
    const none = accountRun(storeOf([ev('fuse_send', 0, 'a/1', { opcode: Opcode.WRITE }), ev('app_op_end', 10, 'a/1', { op: 'write', ret: 4096 })]));
    // A classic FUSE trace: no cache, no ioend, no iomap upcall — its "0 stale, 0 conversions" checked nothing.
    expect(none).toMatchObject({ cacheEvents: 0, staleMappingsUsed: 0, ioendEvents: 0, iomapUpcalls: 0, derivedIomapNote: null });
    const text = 'fusescope mount img on /mnt: iomap_begin/iomap_map/iomap_iter_end/iomap_ioend are derived';
    const a = accountRun(storeOf([
      ev('instant', 0, 'fusescope-mount/7', { name: 'fusescope-mount', text }),
      ev('cache_lookup', 5, 'w/1', { hit: true }),
      ev('cache_upsert', 6, 's/2', {}),
      ev('instant', 7, 'w/1', { name: 'stale_mapping_used', text: 'nodeid 4 ino 12 pos 0x0 cookie 1 ic_seq 2: …' }),
      ev('instant', 8, 'w/1', { name: 'stale_mapping_used', text: 'nodeid 4 ino 12 pos 0x1000 cookie 1 ic_seq 3: …' }),
      ev('iomap_ioend', 9, 'fusescope-mount/7', { sent: true, ioendFlags: IoendFlag.UNWRITTEN }),
      ev('iomap_ioend', 10, 'fusescope-mount/7', { sent: false, ioendFlags: 0 }),
    ]));
    // By hand: 2 cache events, 2 stale-use instants, 2 ioend rows (1 a conversion), no IOMAP upcall, the mount's text.
    expect(a).toMatchObject({ cacheEvents: 2, staleMappingsUsed: 2, staleMappings: 0, ioendEvents: 2, unwrittenConversions: 1, iomapUpcalls: 0, derivedIomapNote: text });
  });

  it('an empty trace or one without data ops has no rates', () => {
    // No application read or write traced: what moved is unknown (appDataOps 0; the page says so), not 0 B/s.
    expect(accountRun(new TraceStore())).toMatchObject({ durationNs: 0, appDataOps: 0, bytesMoved: 0, cacheHitRate: null, throughputBytesPerSec: null, upcallsPerMiB: {} });
    const a = accountRun(storeOf([ev('fuse_send', 0, 'a/1', { opcode: Opcode.IOMAP_BEGIN }), ev('fuse_send', 10, 'a/1')]));
    expect(a.upcallsByOpcode).toEqual({ FUSE_IOMAP_BEGIN: 2 });
    expect(a.upcallsPerMiB).toEqual({});
    expect(a.iomapUpcallsPerMiB).toBe(0);
  });

  it('a capture without the applications\' syscalls: 2 FUSE_WRITEs but no write of theirs traced, so the bytes moved are unknown, not 0', () => {
    // As a fuse2fs capture whose syscall events were off: the kernel's requests and the server's own IO only.
    const a = accountRun(storeOf([
      ev('fuse_send', 0, 'fsw-writer-a/10', { unique: 2, opcode: Opcode.WRITE }),
      ev('app_op_end', 5, 'fuse2fs/21', { op: 'pwrite', ret: 4096 }),
      ev('fuse_reply', 10, 'fuse2fs/21', { unique: 2, opcode: Opcode.WRITE }),
      ev('fuse_send', 20, 'fsw-writer-a/10', { unique: 4, opcode: Opcode.WRITE }),
    ]));
    expect(a).toMatchObject({ appDataOps: 0, bytesMoved: 0, serverBytes: 4096, throughputBytesPerSec: null, upcallsByOpcode: { FUSE_WRITE: 2 } });
    // A write that was traced and moved nothing is a known 0.
    const b = accountRun(storeOf([ev('app_op_end', 0, 'dd/1', { op: 'write', ret: 0 }), ev('app_op_end', 10, 'dd/1', { op: 'write', ret: -5 })]));
    expect(b).toMatchObject({ appDataOps: 2, bytesMoved: 0, throughputBytesPerSec: 0 });
  });
});
