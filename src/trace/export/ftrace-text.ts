// Simulator events → the text a fuse-iomap v7 kernel's tracepoints would print (`fusescope sim
// --format ftrace`): `trace-cmd report -t` layout by default (9-digit ns stamps, so durations are
// exact), or trace_pipe layout (µs stamps, as the kernel prints them). Formats: upstream
// fuse_request_send/_end (§4.3 of the domain notes; fs/fuse/fuse_trace.h since 6.12), the series'
// v7 fuse_iomap_* events (the series' fs/fuse/fuse_trace.h), iomap:iomap_iter (fs/iomap/trace.h),
// lock:contention_begin/_end (include/trace/events/lock.h), syscalls:sys_enter_*/sys_exit_*.
// docs/simulator.md "ftrace output" lists what is written for which event and what is not.
//
// Written per event kind:
//   app_op_begin/_end   sys_enter_X / sys_exit_X (pread64, pwrite64, openat, ftruncate, …); a page
//                       fault (op `fault`) is no syscall: not written
//   fuse_send/_reply    fuse_request_send / fuse_request_end (the reply on the server thread)
//   fuse_notify         fuse_iomap_upsert_mappings (maps from the cache_upsert events that follow)
//                       or fuse_iomap_inval_mappings (ranges from the cache_inval/drop that follow)
//   iomap_begin         iomap_iter (first call of a loop) + fuse_iomap_begin; writeback maps
//                       without iomap_iter (iomap_writepages calls ->writeback_range directly)
//   iomap_map (reply)   fuse_iomap_read_map / _write_map; (cache) nothing: the lookup's _result line
//   iomap_end           iomap_iter (the loop's next call, which calls ->iomap_end) + fuse_iomap_end
//   iomap_iter_end      iomap_iter with the step's status, or fuse_iomap_begin_error when the step
//                       never got a usable mapping; nothing for writeback or after an iomap_end
//   iomap_ioend         fuse_iomap_ioend;  iomap_bad_data → fuse_iomap_bad_data
//   cache_lookup        fuse_iomap_cache_lookup (+ _result on a hit; `got` = `map`: the sim's
//                       event carries only the trimmed mapping)
//   cache_inval         fuse_iomap_cache_remove, after fuse_iomap_cache_invalidate_range for the
//                       kernel's own invalidations, preceded by the series op that causes it
//                       (setsize_finish, open_truncate, fallocate, copied_file_range) when the
//                       task's last written op is not already that cause
//   cache_drop          overflow → fuse_iomap_cache_cleanup; whole_fork → fuse_iomap_cache_remove
//                       (the kernel traces that removal like any other); evict → fuse_iomap_cache_free
//   cache_stale         fuse_iomap_invalid;  inode_iomap / inode_evict → fuse_iomap_init/evict_inode
//   lock_wait + acquire contention_begin / contention_end (a wait is the rwsem slow path); the
//                       address is synthetic (the sim has none): one per (nodeid, lock)
//   fs_op               fuse_<name> with INODE + RANGE for the series file ops that print that
// The series' file-op entry events, which lock attribution reads (they fire at function entry,
// before i_rwsem, §4.6), are written from the sim's own events — it has no entry event of its own:
//   read/pread/write/pwrite on an iomap file → fuse_iomap_{buffered,direct}_{read,write} (O_DIRECT
//                       picks direct) right after sys_enter_X, at its time; pos/length are the
//                       call's (iocb->ki_pos, iov_iter_count);
//   fault on an iomap file → fuse_iomap_page_mkwrite (the faulting page) at the fault's start;
//   the invalidate_lock a buffered write takes to zero past EOF → fuse_iomap_write_zero_eof (the
//                       write's pos/length, as the kernel prints it) right before that lock.
// A classic-path file has none of them. Whether a file is on iomap is known once one of its
// iomap/cache events (iomap) or a FUSE_READ/FUSE_WRITE (classic) has been seen: until then the
// entry line is held, with every line after it, and dropped if the call ends with neither.
// Not written — the kernel has no tracepoint for them: fuse_recv (the newest upstream's
// fuse_request_sent only with `requestSent`), inode_new/_lookup/_forget, uncontended lock_acquire,
// lock_release, instants, diag, gap; nor the entry events' `_end` exits (the sim's app_op_end is
// the syscall's return, not ->write_iter's).
// The INODE prefix's isize/idisksize are what the events tell (a size-changing END, an ioend's new
// size), else 0; the sim has no CPUs (every line is on CPU 0) and no symbol offsets (`caller`
// prints the function name only).

import {
  IoendFlag, MapFlag, OpFlag, formatFlags, inodeStateStrings, ioendFlagStrings, mapFlagStrings, mapTypeName, opFlagStrings,
  opcodeName, Opcode, REVISIONS,
} from '../fuse-proto.ts';
import type { EventOf, InvalReason, MapFields, TraceEvent } from '../schema.ts';

export type FtraceLayout = 'report' | 'pipe';
/** Where lines go: the caller's array, or the held lines behind an undecided entry line. */
interface Sink { push(line: string): unknown }

export interface FtraceTextOptions {
  /** `report` (trace-cmd report -t, ns stamps; default) or `pipe` (trace_pipe, µs stamps). */
  layout?: FtraceLayout;
  /** The fuse connection number printed (`connection N`, iomap's `dev 0:N`). */
  connection?: number;
  /** Also write the newest upstream's fuse_request_sent for each fuse_recv. */
  requestSent?: boolean;
  /**
   * `kernel-ext4`: the sim's ext4 baseline. Its iomap events are not written: ext4 prints them as
   * iomap_iter + iomap_iter_dstmap on its block device, and the sim has neither device nor mapping.
   */
  backend?: 'fuse' | 'kernel-ext4';
}

const hex = (n: number | bigint): string => `0x${n.toString(16)}`;
/** A negative value as the kernel prints it with %llx/%zx (two's complement, 64 bits). */
const hex64 = (n: number): string => hex(BigInt.asUintN(64, BigInt(n)));

/** One event line in the chosen layout (kernel/trace/trace_output.c; trace-cmd report). */
export function ftraceLine(layout: FtraceLayout, task: string, tsNs: number, name: string, body: string, cpu = 0): string {
  const slash = task.lastIndexOf('/');
  const comm = slash >= 0 ? task.slice(0, slash) : task;
  const pid = slash >= 0 ? task.slice(slash + 1) : '0';
  const secs = Math.floor(tsNs / 1e9);
  const cpuText = String(cpu).padStart(3, '0');
  if (layout === 'pipe') {
    const usec = String(Math.floor((tsNs - secs * 1e9) / 1000)).padStart(6, '0');
    return `${comm.padStart(16)}-${pid.padEnd(7)} [${cpuText}] ..... ${String(secs).padStart(5)}.${usec}: ${name}: ${body}`;
  }
  const nsec = String(Math.round(tsNs - secs * 1e9)).padStart(9, '0');
  return `${comm.padStart(16)}-${pid.padEnd(5)} [${cpuText}] ..... ${String(secs).padStart(5)}.${nsec}: ${(name + ':').padEnd(21)} ${body}`;
}

/** `SYSCALL_NAME`s of app ops (x86-64 names, as syscalls:sys_enter_* call them); absent = not a syscall. */
const SYSCALL: Partial<Record<string, string>> = {
  read: 'read', write: 'write', pread: 'pread64', pwrite: 'pwrite64', fsync: 'fsync', truncate: 'ftruncate',
  fallocate: 'fallocate', open: 'openat', close: 'close', link: 'linkat', unlink: 'unlinkat', copy_file_range: 'copy_file_range',
};

/** The series op that the importer (and the kernel) reads as the cause of a kernel invalidation. */
const CAUSE_TP: Partial<Record<InvalReason, string>> = {
  truncate: 'fuse_iomap_setsize_finish', o_trunc: 'fuse_iomap_open_truncate', fallocate: 'fuse_iomap_fallocate',
  copy_file_range: 'fuse_iomap_copied_file_range',
};

/** Series file ops whose line is INODE + RANGE (+ ` ret` for `_end`), for fs_op events. */
const RANGE_OPS = new Set([
  'iomap_direct_read', 'iomap_direct_write', 'iomap_buffered_read', 'iomap_buffered_write', 'iomap_write_zero_eof',
  'iomap_read_folio', 'iomap_readahead', 'iomap_page_mkwrite', 'iomap_discard_folio', 'iomap_truncate_up',
  'iomap_truncate_down', 'iomap_punch_range', 'iomap_flush_unmap_range', 'iomap_copied_file_range', 'iomap_setsize_finish',
]);

/** Kernel iomap_iter `flags` names of the op bits (include/linux/iomap.h; the same bits as FUSE_IOMAP_OP_*). */
const KERNEL_OP_NAMES: ReadonlyArray<readonly [number, string]> = [
  [OpFlag.WRITE, 'WRITE'], [OpFlag.ZERO, 'ZERO'], [OpFlag.REPORT, 'REPORT'], [OpFlag.FAULT, 'FAULT'],
  [OpFlag.DIRECT, 'DIRECT'], [OpFlag.NOWAIT, 'NOWAIT'], [OpFlag.OVERWRITE_ONLY, 'OVERWRITE_ONLY'],
  [OpFlag.UNSHARE, 'UNSHARE'], [OpFlag.DAX, 'DAX'], [OpFlag.ATOMIC, 'ATOMIC'], [OpFlag.DONTCACHE, 'DONTCACHE'],
];

/** O_DIRECT as open(2) takes it (x86-64, include/uapi/asm-generic/fcntl.h). */
const O_DIRECT = 0o40000;
/** The series' entry event of each app op on an iomap file (§4.4; read/write pick buffered or direct). */
const ENTRY_KIND: Partial<Record<string, 'read' | 'write' | 'page_mkwrite'>> = {
  read: 'read', pread: 'read', write: 'write', pwrite: 'write', fault: 'page_mkwrite',
};

/** contention_begin flags (include/trace/events/lock.h): rwsem slow paths print READ or WRITE. */
const LCB_READ = 'READ';
const LCB_WRITE = 'WRITE';
/** Base of the synthetic lock addresses (a direct-map kernel address; the sim has no memory). */
const LOCK_ADDR_BASE = 0xffff_8881_0000_0000n;

interface InodeSizes { isize: number; idisk: number; dev: number }
interface Step { nodeId: number; ino: number; posBytes: number; opflags: number; writeback: boolean; ended: boolean; hasDest: boolean }
interface PendingNotify {
  ev: EventOf<'fuse_notify'>;
  badData: EventOf<'iomap_bad_data'> | null;
  upserts: EventOf<'cache_upsert'>[];
  drops: EventOf<'cache_drop'>[];
  invals: EventOf<'cache_inval'>[];
}
interface TaskW {
  step: Step | null;
  /** The task's last written event was the end of a step: a begin now continues the same loop. */
  afterStepEnd: boolean;
  /** The cause the importer would give a kernel invalidation now (the task's last series op). */
  cause: InvalReason;
  /** The kernel invalidation (ts:nodeId:pos:len) whose invalidate_range line is written. */
  invalKey: string;
  /** The last lock_wait not yet acquired (lock:nodeId). */
  waiting: string | null;
  heldBadData: EventOf<'iomap_bad_data'> | null;
  /** The task's read/write call in flight on an iomap-or-unknown file (for write_zero_eof), else null. */
  io: { nodeId: number; ino: number; posBytes: number; lenBytes: number; bufferedWrite: boolean; zeroEofWritten: boolean } | null;
  /** Its entry line while the file's path (iomap or classic) is not known yet. */
  entry: HeldEntry | null;
}
/** An entry line written only if its file turns out to be on iomap. */
interface HeldEntry { nodeId: number; text: string; state: 'pending' | 'write' | 'drop' }

export class FtraceTextWriter {
  private readonly layout: FtraceLayout;
  private readonly conn: number;
  private readonly requestSent: boolean;
  private readonly kernelFs: boolean;
  private readonly tasks = new Map<string, TaskW>();
  private readonly sizes = new Map<number, InodeSizes>();
  private pending: PendingNotify | null = null;
  private readonly upsertCodes = new Set<number>();
  private readonly invalCodes = new Set<number>();
  /** path → nodeid/ino, from the sim's inode events (the app's events name the file by path). */
  private readonly byPath = new Map<string, { nodeId: number; ino: number }>();
  /** nodeids seen on the iomap path (iomap/cache events) and on the classic path (FUSE_READ/WRITE). */
  private readonly iomapNodes = new Set<number>();
  private readonly classicNodes = new Set<number>();
  /** Lines after a held entry line, kept in order until it is decided (null: none held). */
  private held: Array<string | HeldEntry> | null = null;

  constructor(opts: FtraceTextOptions = {}) {
    this.layout = opts.layout ?? 'report';
    this.conn = opts.connection ?? 45;
    this.requestSent = opts.requestSent ?? false;
    this.kernelFs = opts.backend === 'kernel-ext4';
    for (const r of Object.values(REVISIONS)) {
      if (r.notifyUpsert !== undefined && r.notifyUpsert !== null) this.upsertCodes.add(r.notifyUpsert);
      if (r.notifyInval !== undefined && r.notifyInval !== null) this.invalCodes.add(r.notifyInval);
    }
  }

  /** Lines before the first event (trace-cmd report's header; none for trace_pipe). */
  header(): string[] {
    return this.layout === 'report' ? ['cpus=1'] : [];
  }

  /** Appends the lines of `ev` (possibly none, possibly of events held before it) to `out`. */
  write(ev: TraceEvent, out: string[]): void {
    this.observe(ev);
    this.writeEvent(ev, this.held ?? out);
    if (ev.kind === 'app_op_end') {
      const t = this.task(ev.task);
      t.io = null;
      if (t.entry !== null && t.entry.state === 'pending') t.entry.state = 'drop';
      t.entry = null;
    }
    this.flushHeld(out);
  }

  private writeEvent(ev: TraceEvent, out: Sink): void {
    if (this.pending !== null && !this.continuesNotify(ev)) this.flushNotify(out);
    if (this.kernelFs && (ev.kind === 'iomap_begin' || ev.kind === 'iomap_iter_end' || ev.kind === 'iomap_map')) return;
    const t = this.task(ev.task);
    if (t.heldBadData !== null && !(ev.kind === 'fuse_notify' && ev.task === t.heldBadData.task)) {
      this.line(out, t.heldBadData, 'fuse_iomap_bad_data', this.badDataBody(t.heldBadData));
      t.heldBadData = null;
    }
    switch (ev.kind) {
      case 'app_op_begin': {
        const sys = SYSCALL[ev.op];
        if (sys !== undefined) this.line(out, ev, `sys_enter_${sys}`, this.sysArgs(sys, ev));
        this.fileEntry(out, t, ev);
        break;
      }
      case 'app_op_end': {
        const sys = SYSCALL[ev.op];
        if (sys === undefined) break;
        this.line(out, ev, `sys_exit_${sys}`, ev.ret < 0 ? hex64(ev.ret) : hex(ev.ret));
        break;
      }
      case 'fuse_send':
        this.line(out, ev, 'fuse_request_send', `connection ${this.conn} req ${ev.unique} opcode ${ev.opcode} (${opcodeName(ev.opcode)}) len ${ev.lenBytes} `);
        break;
      case 'fuse_recv':
        if (this.requestSent) this.line(out, ev, 'fuse_request_sent', `connection ${this.conn} req ${ev.unique} opcode ${ev.opcode} (${opcodeName(ev.opcode)})`);
        break;
      case 'fuse_reply':
        this.line(out, ev, 'fuse_request_end', `connection ${this.conn} req ${ev.unique} len ${ev.lenBytes} error ${ev.error}`);
        break;
      case 'fuse_notify': {
        if (!this.upsertCodes.has(ev.notifyCode) && !this.invalCodes.has(ev.notifyCode)) break;
        const bad = t.heldBadData;
        t.heldBadData = null;
        this.pending = { ev, badData: bad, upserts: [], drops: [], invals: [] };
        break;
      }
      case 'iomap_begin': {
        const writeback = ev.opflags >= OpFlag.WRITEBACK;
        if (!writeback && !t.afterStepEnd) {
          // The loop's first iomap_iter call: iomap_length() of the empty mapping (0 at pos 0, else the request).
          this.iter(out, ev, ev.ino, ev.posBytes, ev.posBytes === 0 ? 0 : ev.lenBytes, 0, ev.opflags);
        }
        t.step = { nodeId: ev.nodeId, ino: ev.ino, posBytes: ev.posBytes, opflags: ev.opflags, writeback, ended: false, hasDest: false };
        this.line(out, ev, 'fuse_iomap_begin', `${this.inode(ev.nodeId, ev.ino)} opflags (${formatFlags(ev.opflags, opFlagStrings)}) pos ${hex(ev.posBytes)} length ${hex(ev.lenBytes)}`);
        break;
      }
      case 'iomap_map':
        this.noteDev(ev.nodeId, ev.mapDev);
        if (t.step !== null) t.step.hasDest = true;
        if (ev.source === 'cache') return; // the lookup's _result line
        this.line(out, ev, ev.slot === 'read' ? 'fuse_iomap_read_map' : 'fuse_iomap_write_map', `${this.inode(ev.nodeId, ev.ino)}${this.map('', ev)}`);
        break;
      case 'iomap_bad_data':
        if (ev.message.startsWith('upsert:')) {
          // The kernel traces the upsert before validating it: held until the notify's line.
          t.heldBadData = ev;
          return;
        }
        if (t.step !== null) t.step.hasDest = false;
        this.line(out, ev, 'fuse_iomap_bad_data', this.badDataBody(ev));
        break;
      case 'iomap_end': {
        const s = t.step;
        if (s !== null && !s.ended && !s.writeback) {
          s.ended = true;
          this.iter(out, ev, ev.ino, ev.posBytes + ev.writtenBytes, ev.lenBytes - ev.writtenBytes, 0, ev.opflags);
        }
        if ((ev.mapFlags & MapFlag.SIZE_CHANGED) !== 0) this.grow(ev.nodeId, ev.posBytes + ev.writtenBytes);
        this.line(out, ev, 'fuse_iomap_end',
          `${this.inode(ev.nodeId, ev.ino)} opflags (${formatFlags(ev.opflags, opFlagStrings)}) pos ${hex(ev.posBytes)} length ${hex(ev.lenBytes)} written ${ev.writtenBytes}${this.map('', ev)}`);
        t.afterStepEnd = true;
        return;
      }
      case 'iomap_iter_end': {
        const s = t.step;
        t.step = null;
        if (s === null || s.ended) { t.afterStepEnd = s !== null; return; }
        if (ev.error !== 0 && !s.hasDest) {
          this.line(out, ev, 'fuse_iomap_begin_error',
            `${this.inode(ev.nodeId, ev.ino)} opflags (${formatFlags(s.opflags, opFlagStrings)}) pos ${hex(ev.posBytes)} length ${hex(ev.lenBytes)} err ${ev.error}`);
          t.afterStepEnd = false;
          return;
        }
        if (s.writeback) { t.afterStepEnd = false; return; }
        this.iter(out, ev, ev.ino, ev.posBytes + ev.processedBytes, ev.lenBytes - ev.processedBytes, ev.error, s.opflags);
        t.afterStepEnd = ev.error === 0;
        return;
      }
      case 'iomap_ioend': {
        const sz = this.size(ev.nodeId);
        this.line(out, ev, 'fuse_iomap_ioend',
          `${this.inode(ev.nodeId, ev.ino)} pos ${hex(ev.posBytes)} length ${hex(ev.writtenBytes)} ioendflags (${formatFlags(ev.ioendFlags, ioendFlagStrings)}) error ${ev.error} dev ${sz.dev} new_addr ${hex(ev.newAddr)}`);
        t.cause = 'ioend';
        if (ev.error === 0 && (ev.ioendFlags & (IoendFlag.APPEND | IoendFlag.UNWRITTEN | IoendFlag.SHARED)) !== 0) {
          sz.idisk = ev.newSizeBytes;
          this.grow(ev.nodeId, ev.newSizeBytes);
        }
        break;
      }
      case 'cache_lookup': {
        const R = `${this.inode(ev.nodeId, ev.ino)} pos ${hex(ev.posBytes)} length ${hex(ev.lenBytes)} iodir ${ev.fork}`;
        this.line(out, ev, 'fuse_iomap_cache_lookup', `${R} caller fuse_iomap_begin`);
        if (ev.hit) this.line(out, ev, 'fuse_iomap_cache_lookup_result', `${R}${this.map('map', ev)}${this.map('got', ev)} cookie ${hex(ev.cookie)}`);
        break;
      }
      case 'cache_upsert':
        // Outside a notify (not emitted so by the sim): no line of its own.
        break;
      case 'cache_inval':
        this.remove(out, t, ev, ev.reason, ev.posBytes, ev.lenBytes, ev.fork);
        break;
      case 'cache_drop':
        if (ev.reason === 'overflow') this.line(out, ev, 'fuse_iomap_cache_cleanup', `${this.inode(ev.nodeId, ev.ino)} iodir ${ev.fork}`);
        else if (ev.reason === 'evict') {
          if (ev.fork === 'read') this.line(out, ev, 'fuse_iomap_cache_free', `${this.inode(ev.nodeId, ev.ino)} state ()`);
        } else this.remove(out, t, ev, t.cause, 0, 0x7fff_ffff_ffff_f000, ev.fork);
        break;
      case 'cache_stale':
        this.line(out, ev, 'fuse_iomap_invalid', `${this.inode(ev.nodeId, ev.ino)}${this.map('', { ...ev, mapDev: 0 })} old_cookie ${hex(ev.oldCookie)} new_cookie ${hex(ev.newCookie)}`);
        break;
      case 'inode_iomap':
        this.line(out, ev, 'fuse_iomap_init_inode', `${this.inode(ev.nodeId, ev.ino)} state (${formatFlags(ev.inodeFlags, inodeStateStrings)})`);
        break;
      case 'inode_evict':
        this.line(out, ev, 'fuse_iomap_evict_inode', `${this.inode(ev.nodeId, ev.ino)} state ()`);
        break;
      case 'lock_wait': {
        this.zeroEof(out, t, ev);
        const key = `${ev.lock}:${ev.nodeId}`;
        t.waiting = key;
        this.line(out, ev, 'contention_begin', `${hex(this.lockAddr(ev.nodeId, ev.lock))} (flags=${ev.mode === 'W' ? LCB_WRITE : LCB_READ})`);
        return;
      }
      case 'lock_acquire':
        this.zeroEof(out, t, ev);
        if (t.waiting === `${ev.lock}:${ev.nodeId}`) {
          t.waiting = null;
          this.line(out, ev, 'contention_end', `${hex(this.lockAddr(ev.nodeId, ev.lock))} (ret=0)`);
        }
        return;
      case 'fs_op':
        if (RANGE_OPS.has(ev.name) || RANGE_OPS.has(ev.name.replace(/_end$/, ''))) {
          const ret = ev.name.endsWith('_end') ? ` ret ${ev.error < 0 ? hex64(ev.error) : hex(ev.processedBytes)}` : '';
          this.line(out, ev, `fuse_${ev.name}`, `${this.inode(ev.nodeId, ev.ino)} pos ${hex(ev.posBytes)} length ${hex(ev.lenBytes)}${ret}`);
          t.cause = ev.name === 'iomap_truncate_up' || ev.name === 'iomap_truncate_down' || ev.name === 'iomap_setsize_finish' ? 'truncate'
            : ev.name === 'iomap_punch_range' ? 'fallocate' : ev.name === 'iomap_copied_file_range' ? 'copy_file_range' : 'unknown';
        }
        break;
      default:
        // inode_new/_lookup/_forget, lock_release, lock_contention (never from the sim), instant, diag, gap: no tracepoint.
        break;
    }
    if (ev.kind !== 'lock_release') t.afterStepEnd = false;
  }

  /** Writes what is still held (call once after the last event). */
  end(out: string[]): void {
    // An entry still undecided: its file never showed its path (no line: nothing says iomap).
    for (const t of this.tasks.values()) {
      if (t.entry !== null && t.entry.state === 'pending') t.entry.state = 'drop';
      t.entry = null;
    }
    this.flushHeld(out);
    if (this.pending !== null) this.flushNotify(out);
    for (const t of this.tasks.values()) {
      if (t.heldBadData !== null) {
        this.line(out, t.heldBadData, 'fuse_iomap_bad_data', this.badDataBody(t.heldBadData));
        t.heldBadData = null;
      }
    }
  }

  /** What the event tells about files: a path's nodeid, a nodeid's path (iomap or classic). */
  private observe(ev: TraceEvent): void {
    switch (ev.kind) {
      case 'inode_new': case 'inode_lookup':
        if (ev.path !== '') this.byPath.set(ev.path, { nodeId: ev.nodeId, ino: ev.ino });
        return;
      case 'fuse_send':
        if (ev.opcode === Opcode.READ || ev.opcode === Opcode.WRITE) this.decide(ev.nodeId, false);
        return;
      case 'iomap_begin': case 'iomap_map': case 'iomap_end': case 'iomap_ioend': case 'cache_lookup': case 'cache_upsert':
      case 'cache_inval': case 'cache_stale': case 'cache_drop': case 'inode_iomap':
        if (ev.nodeId !== 0) this.decide(ev.nodeId, true);
        return;
      default:
        return;
    }
  }

  /** Records a nodeid's path and settles the entry lines held for it. */
  private decide(nodeId: number, iomap: boolean): void {
    const set = iomap ? this.iomapNodes : this.classicNodes;
    if (set.has(nodeId)) return;
    set.add(nodeId);
    for (const t of this.tasks.values()) {
      const e = t.entry;
      if (e === null || e.nodeId !== nodeId || e.state !== 'pending') continue;
      e.state = iomap ? 'write' : 'drop';
      // The importer (and the kernel) take the task's last series op as an invalidation's cause.
      if (iomap) t.cause = 'unknown';
      t.entry = null;
    }
  }

  /** The series' entry event of a read/write/fault on an iomap file (held while its path is unknown). */
  private fileEntry(out: Sink, t: TaskW, ev: EventOf<'app_op_begin'>): void {
    t.io = null;
    t.entry = null;
    const kind = ENTRY_KIND[ev.op];
    const f = this.byPath.get(ev.path);
    if (this.kernelFs || kind === undefined || f === undefined || this.classicNodes.has(f.nodeId)) return;
    const direct = (ev.oflags & O_DIRECT) !== 0;
    const name = kind === 'page_mkwrite' ? 'fuse_iomap_page_mkwrite' : `fuse_iomap_${direct ? 'direct' : 'buffered'}_${kind}`;
    const text = ftraceLine(this.layout, ev.task, ev.tsNs, name, `${this.inode(f.nodeId, f.ino)} pos ${hex(ev.posBytes)} length ${hex(ev.lenBytes)}`);
    if (kind !== 'page_mkwrite') {
      t.io = { nodeId: f.nodeId, ino: f.ino, posBytes: ev.posBytes, lenBytes: ev.lenBytes, bufferedWrite: kind === 'write' && !direct, zeroEofWritten: false };
    }
    if (this.iomapNodes.has(f.nodeId)) {
      out.push(text);
      t.cause = 'unknown';
      return;
    }
    const e: HeldEntry = { nodeId: f.nodeId, text, state: 'pending' };
    t.entry = e;
    if (this.held === null) this.held = [];
    this.held.push(e);
  }

  /**
   * fuse_iomap_write_zero_eof: a buffered write past EOF takes invalidate_lock (exclusive) to zero
   * the gap, and the kernel traces that just before the lock (the write's pos/length). The classic
   * write path takes no invalidate_lock, so the file is on iomap.
   */
  private zeroEof(out: Sink, t: TaskW, ev: EventOf<'lock_wait'> | EventOf<'lock_acquire'>): void {
    const io = t.io;
    if (io === null || !io.bufferedWrite || io.zeroEofWritten || ev.lock !== 'invalidate_lock' || ev.mode !== 'W' || ev.nodeId !== io.nodeId) return;
    io.zeroEofWritten = true;
    this.decide(io.nodeId, true);
    this.line(out, ev, 'fuse_iomap_write_zero_eof', `${this.inode(io.nodeId, io.ino)} pos ${hex(io.posBytes)} length ${hex(io.lenBytes)}`);
    t.cause = 'unknown';
  }

  /** Moves held lines to `out` up to the first entry line still undecided. */
  private flushHeld(out: string[]): void {
    const h = this.held;
    if (h === null) return;
    let i = 0;
    for (; i < h.length; i++) {
      const x = h[i]!;
      if (typeof x === 'string') out.push(x);
      else if (x.state === 'write') out.push(x.text);
      else if (x.state === 'pending') break;
    }
    if (i === h.length) this.held = null;
    else if (i > 0) this.held = h.slice(i);
  }

  private task(name: string): TaskW {
    let t = this.tasks.get(name);
    if (!t) {
      t = { step: null, afterStepEnd: false, cause: 'unknown', invalKey: '', waiting: null, heldBadData: null, io: null, entry: null };
      this.tasks.set(name, t);
    }
    return t;
  }

  private line(out: Sink, ev: { task: string; tsNs: number }, name: string, body: string): void {
    out.push(ftraceLine(this.layout, ev.task, ev.tsNs, name, body));
  }

  private size(nodeId: number): InodeSizes {
    let s = this.sizes.get(nodeId);
    if (!s) this.sizes.set(nodeId, (s = { isize: 0, idisk: 0, dev: 0 }));
    return s;
  }
  private grow(nodeId: number, toBytes: number): void {
    const s = this.size(nodeId);
    if (toBytes > s.isize) s.isize = toBytes;
  }
  private noteDev(nodeId: number, dev: number): void {
    if (dev !== 0) this.size(nodeId).dev = dev;
  }

  /** INODE prefix (v7): `connection %u ino %llu nodeid %llu isize 0x%llx idisksize 0x%llx`. */
  private inode(nodeId: number, ino: number): string {
    const s = this.size(nodeId);
    return `connection ${this.conn} ino ${ino} nodeid ${nodeId} isize ${hex(s.isize)} idisksize ${hex(s.idisk)}`;
  }

  /** MAP suffix: ` <prefix>offset … length … type %s dev %u addr 0x%llx mapflags (%s)`. */
  private map(prefix: string, m: MapFields): string {
    const type = m.rawType !== '' ? m.rawType : mapTypeName(m.mapType);
    return ` ${prefix}offset ${hex(m.mapOffsetBytes)} length ${hex(m.mapLenBytes)} type ${type} dev ${m.mapDev} addr ${hex(m.mapAddr)} mapflags (${formatFlags(m.mapFlags, mapFlagStrings)})`;
  }

  private badDataBody(ev: EventOf<'iomap_bad_data'>): string {
    // The sim's message is the failed check; it has no source line (0).
    return `func fuse_iomap_validate line 0 condition ${ev.message}`;
  }

  /** iomap:iomap_iter of a fuse-iomap inode: `dev 0:N ino 0x%llx pos … length … status %d flags %s (0x%x) ops %ps caller %pS`. */
  private iter(out: Sink, ev: { task: string; tsNs: number }, ino: number, posBytes: number, lenBytes: number, status: number, opflags: number): void {
    const kernelOps = opflags & 0x7ff;
    const caller = (opflags & OpFlag.DIRECT) !== 0 ? '__iomap_dio_rw'
      : (opflags & OpFlag.FAULT) !== 0 ? 'iomap_page_mkwrite'
        : (opflags & OpFlag.ZERO) !== 0 ? 'iomap_zero_range'
          : (opflags & OpFlag.WRITE) !== 0 ? 'iomap_file_buffered_write' : 'iomap_read_folio';
    this.line(out, ev, 'iomap_iter',
      `dev 0:${this.conn} ino ${hex(ino)} pos ${hex(posBytes)} length ${hex(Math.max(0, lenBytes))} status ${status} flags ${formatFlags(kernelOps, KERNEL_OP_NAMES)} (${hex(kernelOps)}) ops fuse_iomap_ops caller ${caller}`);
  }

  private lockAddr(nodeId: number, lock: string): bigint {
    // Like &inode->i_rwsem / &mapping->invalidate_lock of one inode object per nodeid.
    return LOCK_ADDR_BASE + BigInt(nodeId) * 0x1000n + (lock === 'i_rwsem' ? 0x98n : 0x1a8n);
  }

  /** One fork's removal from the cache, with the lines that say why before it when needed. */
  private remove(out: Sink, t: TaskW, ev: EventOf<'cache_inval'> | EventOf<'cache_drop'>, reason: InvalReason, posBytes: number, lenBytes: number, fork: string): void {
    const I = this.inode(ev.nodeId, ev.ino);
    const R = `pos ${hex(posBytes)} length ${hex(lenBytes)}`;
    if (reason !== 'server' && reason !== 'upsert' && reason !== 'unknown' && reason !== 'evict') {
      const key = `${ev.tsNs}:${ev.nodeId}:${posBytes}:${lenBytes}`;
      if (t.invalKey !== key) {
        const cause = CAUSE_TP[reason];
        if (cause !== undefined && t.cause !== reason) {
          const body = cause === 'fuse_iomap_open_truncate' ? I
            : cause === 'fuse_iomap_setsize_finish' ? `${I} pos ${hex(posBytes)} length 0x0`
              : cause === 'fuse_iomap_fallocate' ? `${I} ${R} mode 0x0 newsize ${hex(this.size(ev.nodeId).isize)}`
                : `${I} ${R}`;
          this.line(out, ev, cause, body);
          t.cause = reason;
        }
        this.line(out, ev, 'fuse_iomap_cache_invalidate_range', `${I} ${R}`);
        t.invalKey = key;
      }
    }
    this.line(out, ev, 'fuse_iomap_cache_remove', `${I} ${R} iodir ${fork} caller fuse_iomap_cache_remove`);
  }

  private continuesNotify(ev: TraceEvent): boolean {
    const p = this.pending!;
    if (ev.task !== p.ev.task || ev.tsNs !== p.ev.tsNs) return false;
    switch (ev.kind) {
      case 'cache_upsert': p.upserts.push(ev); return true;
      case 'cache_drop': p.drops.push(ev); return true;
      case 'cache_inval': if (ev.reason !== 'server') return false; p.invals.push(ev); return true;
      default: return false;
    }
  }

  private flushNotify(out: Sink): void {
    const p = this.pending!;
    this.pending = null;
    const ev = p.ev;
    const first = p.upserts[0] ?? p.invals[0] ?? p.drops[0];
    // The notify names only a nodeid; the INODE prefix needs the inode's number, which the
    // kernel's line has (it found the inode) and the events after it carry. None: no inode, no line.
    if (first === undefined) {
      if (p.badData) this.line(out, p.badData, 'fuse_iomap_bad_data', this.badDataBody(p.badData));
      return;
    }
    const I = this.inode(ev.nodeId, first.ino);
    // attr_ino: the inode's own number unless the kernel refused it for attr_ino (EINVAL, no RETRY
    // fork); the sim's events do not carry the number the server sent, so that case prints 0.
    const retry = p.upserts.some((u) => u.mapType === 254);
    const attrIno = ev.error === -22 && !retry ? 0 : first.ino;
    if (this.upsertCodes.has(ev.notifyCode)) {
      const read = p.upserts.find((u) => u.fork === 'read');
      const write = p.upserts.find((u) => u.fork === 'write');
      const nocache: MapFields = { mapType: 253, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: 0xffff_ffff_ffff_ffffn, mapDev: 0, rawType: '' };
      this.line(out, ev, 'fuse_iomap_upsert_mappings', `${I} attr_ino ${hex(attrIno)}${this.map('read', read ?? nocache)}${this.map('write', write ?? nocache)}`);
      if (p.badData) this.line(out, p.badData, 'fuse_iomap_bad_data', this.badDataBody(p.badData));
      for (const d of p.drops) this.line(out, d, 'fuse_iomap_cache_cleanup', `${I} iodir ${d.fork}`);
    } else {
      const r = p.invals.find((v) => v.fork === 'read');
      const w = p.invals.find((v) => v.fork === 'write');
      const rd = p.drops.find((d) => d.fork === 'read');
      const wd = p.drops.find((d) => d.fork === 'write');
      const TO_EOF = 0x7fff_ffff_ffff_f000;
      const rr = r ? [r.posBytes, r.lenBytes] : rd ? [0, TO_EOF] : [0, 0];
      const wr = w ? [w.posBytes, w.lenBytes] : wd ? [0, TO_EOF] : [0, 0];
      this.line(out, ev, 'fuse_iomap_inval_mappings',
        `${I} attr_ino ${hex(attrIno)} readpos ${hex(rr[0]!)} length ${hex(rr[1]!)} writepos ${hex(wr[0]!)} length ${hex(wr[1]!)}`);
      const t = this.task(ev.task);
      for (const v of p.invals) this.remove(out, t, v, 'server', v.posBytes, v.lenBytes, v.fork);
      for (const d of p.drops) this.remove(out, t, d, 'server', 0, TO_EOF, d.fork);
    }
  }

  private sysArgs(sys: string, ev: EventOf<'app_op_begin'>): string {
    const fd = hex(ev.fd);
    switch (sys) {
      case 'pread64': case 'pwrite64': return `fd: ${fd}, buf: 0x00000000, count: ${hex(ev.lenBytes)}, pos: ${hex(ev.posBytes)}`;
      case 'read': case 'write': return `fd: ${fd}, buf: 0x00000000, count: ${hex(ev.lenBytes)}`;
      case 'ftruncate': return `fd: ${fd}, length: ${hex(ev.lenBytes)}`;
      case 'fallocate': return `fd: ${fd}, mode: 0x0, offset: ${hex(ev.posBytes)}, len: ${hex(ev.lenBytes)}`;
      case 'openat': return `dfd: 0xffffff9c, filename: 0x00000000, flags: ${hex(ev.oflags)}, mode: 0x0`;
      case 'copy_file_range': return `fd_in: ${fd}, off_in: 0x00000000, fd_out: ${fd}, off_out: 0x00000000, len: ${hex(ev.lenBytes)}, flags: 0x0`;
      default: return `fd: ${fd}`;
    }
  }
}
