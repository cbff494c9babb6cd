// The classic FUSE data path, for files the kernel did not put on iomap at instantiation (§1.10:
// no FUSE_ATTR_IOMAP, or at v7 no FUSE_ATTR_EXCLUSIVE with it): the kernel sends the data in
// FUSE_READ / FUSE_WRITE requests and the server does the IO — no iomap upcalls, no mapping
// cache. Modelled on upstream fs/fuse/file.c without writeback_cache (the sim's INIT reply does
// not ask for FUSE_WRITEBACK_CACHE): buffered writes copy into the page cache and are written
// through, one or more FUSE_WRITE per syscall, before the syscall returns. Locks are the
// caller's (vfs.ts). Requests carry at most FUSE_DEFAULT_MAX_PAGES pages and at most max_write
// bytes (from the INIT reply).

import { Errno, Opcode } from '../../../src/trace/fuse-proto.ts';
import type { Proc, ProcStep, Scheduler } from '../clock.ts';
import type { SimCore } from '../core.ts';
import { FUSE_DEFAULT_MAX_PAGES, FUSE_MIN_MAX_WRITE, FUSE_WRITE_CACHE, READ_IN_BYTES, WRITE_IN_BYTES, writeRwIn } from '../proto.ts';
import type { FuseInode } from './inode.ts';
import { memNs } from './timing.ts';
import type { FuseTransport } from './transport.ts';

const PAGE_BYTES = 4096;

export class ClassicIo {
  /** fc->max_write: the INIT reply's max_write, never below 4096 (fuse_init). */
  private maxWriteBytes = FUSE_MIN_MAX_WRITE;
  private readonly sched: Scheduler;

  constructor(private readonly core: SimCore, private readonly transport: Pick<FuseTransport, 'request'>) {
    this.sched = core.sched;
  }

  /** The INIT reply's max_write (0 = the server did not say). */
  configureMaxWrite(bytes: number): void {
    this.maxWriteBytes = Math.max(FUSE_MIN_MAX_WRITE, bytes);
  }

  /** Bytes one FUSE_WRITE carries at most. */
  get writeChunkBytes(): number {
    return Math.min(this.maxWriteBytes, FUSE_DEFAULT_MAX_PAGES * PAGE_BYTES);
  }

  /**
   * read(2) of [pos, pos+len) capped at i_size. Buffered: the page cache is filled by FUSE_READ of
   * whole pages (the sim keeps no clean pages, so every read fills), then copied out; direct: the
   * exact range straight into the user buffer. Returns bytes read or -errno.
   */
  *read(proc: Proc, inode: FuseInode, fh: number, direct: boolean, posBytes: number, lenBytes: number): ProcStep<number> {
    const endBytes = Math.min(posBytes + lenBytes, inode.iSizeBytes);
    if (endBytes <= posBytes) return 0;
    const start = direct ? posBytes : Math.floor(posBytes / PAGE_BYTES) * PAGE_BYTES;
    const end = direct ? endBytes : Math.ceil(endBytes / PAGE_BYTES) * PAGE_BYTES;
    const chunk = FUSE_DEFAULT_MAX_PAGES * PAGE_BYTES;
    let got = start;
    while (got < end) {
      const size = Math.min(chunk, end - got);
      const at = got;
      const r = yield* this.transport.request(proc, Opcode.READ, inode.nodeId, READ_IN_BYTES, (dv, o) => writeRwIn(dv, o, fh, at, size, 0));
      if (r.error !== 0) return got > posBytes ? got - posBytes : r.error;
      got += r.body.byteLength;
      if (r.body.byteLength < size) break; // EOF on the server
    }
    const n = Math.max(0, Math.min(got, endBytes) - posBytes);
    if (!direct && n > 0) { const ns = memNs(this.core, n); if (!this.sched.advanceIfNext(ns)) yield ns; }
    return n;
  }

  /**
   * write(2): buffered copies each chunk into the page cache (write_flags FUSE_WRITE_CACHE) and
   * sends it at once; direct sends the user buffer. i_size follows the written end
   * (fuse_write_update_attr). Returns bytes written or -errno.
   */
  *write(proc: Proc, inode: FuseInode, fh: number, direct: boolean, posBytes: number, lenBytes: number): ProcStep<number> {
    return yield* this.send(proc, inode, fh, direct ? 0 : FUSE_WRITE_CACHE, posBytes, lenBytes, !direct);
  }

  /** Dirty pages of a classic inode (from mmap write faults) written back with FUSE_WRITE (fuse_writepages). */
  *writeback(proc: Proc, inode: FuseInode, startBytes: number, endBytes: number): ProcStep<void> {
    const end = Math.min(endBytes, inode.iSizeBytes);
    if (end > startBytes) yield* this.send(proc, inode, inode.writeFh, FUSE_WRITE_CACHE, startBytes, end - startBytes, false);
  }

  private *send(proc: Proc, inode: FuseInode, fh: number, writeFlags: number, posBytes: number, lenBytes: number, copyIn: boolean): ProcStep<number> {
    const chunk = this.writeChunkBytes;
    let done = 0;
    while (done < lenBytes) {
      const at = posBytes + done;
      const size = Math.min(chunk, lenBytes - done);
      if (copyIn) { const ns = memNs(this.core, size); if (!this.sched.advanceIfNext(ns)) yield ns; }
      const r = yield* this.transport.request(proc, Opcode.WRITE, inode.nodeId, WRITE_IN_BYTES + size, (dv, o) => writeRwIn(dv, o, fh, at, size, writeFlags));
      if (r.error !== 0) return done > 0 ? done : r.error;
      if (r.body.byteLength < 4) return done > 0 ? done : -Errno.EIO;
      const written = new DataView(r.body.buffer, r.body.byteOffset, 4).getUint32(0, true);
      done += written;
      if (at + written > inode.iSizeBytes) inode.iSizeBytes = at + written;
      if (at + written > inode.iDiskSizeBytes) inode.iDiskSizeBytes = at + written;
      if (written < size) break; // short write: the syscall returns what was done
    }
    return done;
  }
}
