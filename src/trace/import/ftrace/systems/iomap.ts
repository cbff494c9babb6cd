// System `iomap`: upstream fs/iomap tracepoints (fs/iomap/trace.h; docs/domain.md §4.5), as
// ext4, XFS and FUSE fire them. Events not listed here stay instants with their body.
//
// Steps (docs/import.md "Kernel iomap steps"): iomap_iter() traces `iomap_iter` at the top of each
// loop call, before the filesystem's ->iomap_begin, and `iomap_iter_dstmap`/`_srcmap` after it
// (fs/iomap/iter.c). A step is an `iomap_iter` of a task followed by that task's dstmap; it ends
// at the task's next `iomap_iter` (the loop's next call), or at its `iomap_dio_complete` or
// syscall exit. So an `iomap_iter` line is held (deferred, kept as an `instant` by default) until
// the task's dstmap turns it into an `iomap_begin` at the line's time, or another iomap event or
// the syscall's exit settles it as no step. Lock and stack events of the task between the two
// (XFS takes its ILOCK inside ->iomap_begin) do not settle it.
// FUSE inodes that use the fuse-iomap series (SharedState.fuseIomapInodes, filled by the `fuse`
// system) have their steps from fuse_iomap_begin and their mappings from the reply: their
// iomap_iter stays an instant (after ending the task's open fuse step, as the loop's next call)
// and their dstmap/srcmap become `fs_op`s (no second mapping row).
import { NULL_ADDR, OpFlag, mapFlagStrings, parseFlags } from '../../../fuse-proto.ts';
import type { TraceEvent } from '../../../schema.ts';
import { inodeKey, type SharedState, type TracepointContext, type TracepointSystem } from '../context.ts';
import type { Cursor } from '../cursor.ts';
import { devT, mapTypeOf } from '../fields.ts';
import { asIno, NO_NODE_ID, type Ino } from '../../../ids.ts';

/** Distinct iomap_iter / *map flag texts cached (a handful in a real trace). */
const MAX_CACHED_FLAG_TEXTS = 256;

/** Upstream IOMAP_F_* trace names → the fuse map-flag strings with the same meaning (§2.2 vs §1.7). */
const KERNEL_MAP_FLAG_TO_FUSE: Record<string, string> = {
  NEW: 'new', DIRTY: 'dirty', SHARED: 'shared', MERGED: 'merged', BOUNDARY: 'boundary',
  ANON_WRITE: 'anon_write', ATOMIC_BIO: 'atomic', SIZE_CHANGED: 'append', STALE: 'stale',
};

/**
 * iomap_iter's IOMAP_* op names (include/linux/iomap.h, 6.18 format file) with their bits, which are
 * the FUSE_IOMAP_OP_* bits of the same meaning (bits 0–10; the series' DAX string is `fsdax`).
 */
const KERNEL_OP_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [OpFlag.WRITE, 'WRITE'], [OpFlag.ZERO, 'ZERO'], [OpFlag.REPORT, 'REPORT'], [OpFlag.FAULT, 'FAULT'],
  [OpFlag.DIRECT, 'DIRECT'], [OpFlag.NOWAIT, 'NOWAIT'], [OpFlag.OVERWRITE_ONLY, 'OVERWRITE_ONLY'],
  [OpFlag.UNSHARE, 'UNSHARE'], [OpFlag.DAX, 'DAX'], [OpFlag.ATOMIC, 'ATOMIC'], [OpFlag.DONTCACHE, 'DONTCACHE'],
];

interface IomapState {
  /** iomap_iter_*map `flags` text → fuse map flags (splitting it per line was 1.5% of the parse). */
  readonly kernelMapFlags: Map<string, number>;
  /** iomap_iter `flags` text → op flags (texts with an unknown name are not cached: each line reports it). */
  readonly opFlags: Map<string, number>;
  readonly shared: SharedState;
}

type FsOpFields = Omit<TraceEvent & { kind: 'fs_op' }, 'kind' | 'tsNs' | 'task' | 'name'>;

export const iomapSystem: TracepointSystem<IomapState> = {
  name: 'iomap',
  newState: (setup) => ({ kernelMapFlags: new Map(), opFlags: new Map(), shared: setup.shared }),
  handlers: {
    iomap_iter: iter,
    iomap_iter_dstmap: iterMap,
    iomap_iter_srcmap: iterMap,
    iomap_dio_rw_begin(ctx, c) {
      // `dev %d:%d ino 0x%lx size 0x%llx offset 0x%llx length 0x%zx done_before 0x%zx flags %s dio_flags %s aio %d`
      const fsDev = devT(c.token('dev'));
      const ino = asIno(c.num('ino'));
      c.num('size');
      const posBytes = c.num('offset');
      const lenBytes = c.num('length');
      ctx.taskState.iomapDio = { fsDev, ino, endBytes: posBytes + lenBytes };
      fsOp(ctx, { nodeId: NO_NODE_ID, ino, fsDev, posBytes, lenBytes, processedBytes: 0, error: 0, mapAddr: NULL_ADDR });
    },
    iomap_dio_complete(ctx, c) {
      // `dev %d:%d ino 0x%lx size 0x%llx offset 0x%llx flags %s aio %d error %d ret %zd`; offset is
      // the file position after the IO.
      const fsDev = devT(c.token('dev'));
      const ino = asIno(c.num('ino'));
      c.num('size');
      const posBytes = c.num('offset');
      const error = c.num('error');
      const ret = c.num('ret');
      const ts = ctx.taskState;
      ts.iomapDio = undefined;
      closeStep(ctx, fsDev, ino, posBytes);
      fsOp(ctx, { nodeId: NO_NODE_ID, ino, fsDev, posBytes, lenBytes: 0, processedBytes: ret > 0 ? ret : 0, error, mapAddr: NULL_ADDR });
    },
    // range class: `dev %d:%d ino 0x%llx size 0x%llx offset 0x%llx length 0x%llx`
    iomap_writeback_folio: rangeOp,
    iomap_writepage: rangeOp, // older name
    iomap_release_folio: rangeOp,
    iomap_invalidate_folio: rangeOp,
    iomap_dio_invalidate_fail: rangeOp,
    iomap_dio_rw_queued: rangeOp,
    iomap_zero_iter: rangeOp,
    iomap_readpage: readOp,
    iomap_readahead: readOp,
    iomap_add_to_ioend: addToIoend,
    iomap_writepage_map: addToIoend, // older name
  },
};

function fsOp(ctx: TracepointContext, f: FsOpFields): void {
  ctx.emit({ kind: 'fs_op', tsNs: ctx.tsNs, task: ctx.task, name: ctx.name, ...f });
}

function rangeOp(ctx: TracepointContext, c: Cursor): void {
  const fsDev = devT(c.token('dev'));
  const ino = asIno(c.num('ino'));
  c.num('size');
  const posBytes = c.num('offset');
  const lenBytes = c.num('length');
  fsOp(ctx, { nodeId: NO_NODE_ID, ino, fsDev, posBytes, lenBytes, processedBytes: 0, error: 0, mapAddr: NULL_ADDR });
}

/** `dev %d:%d ino 0x%llx nr_pages %d`: no position; the page count has no fs_op field (kept out). */
function readOp(ctx: TracepointContext, c: Cursor): void {
  const fsDev = devT(c.token('dev'));
  const ino = asIno(c.num('ino'));
  fsOp(ctx, { nodeId: NO_NODE_ID, ino, fsDev, posBytes: 0, lenBytes: 0, processedBytes: 0, error: 0, mapAddr: NULL_ADDR });
}

/** `dev ino bdev pos 0x%llx dirty len 0x%llx addr 0x%llx offset … length … type … flags …`: the dirty range and the mapping's disk address. */
function addToIoend(ctx: TracepointContext, c: Cursor): void {
  const fsDev = devT(c.token('dev'));
  const ino = asIno(c.num('ino'));
  c.token('bdev');
  const posBytes = c.num('pos');
  const lenBytes = c.num('len');
  const mapAddr = c.u64('addr');
  fsOp(ctx, { nodeId: NO_NODE_ID, ino, fsDev, posBytes, lenBytes, processedBytes: 0, error: 0, mapAddr });
}

function isFuseIomap(s: IomapState, fsDev: number, ino: Ino): boolean {
  // Only anonymous devices (major 0) can be fuse connections: no key is built for block devices.
  return fsDev >>> 20 === 0 && s.shared.fuseIomapInodes.size > 0 && s.shared.fuseIomapInodes.has(inodeKey(fsDev, ino));
}

/**
 * Ends the task's open step at file position `posBytes` (processed = how far the loop got, same
 * inode only). `error`: the step's result as the next iomap_iter prints it (its `status`, or a
 * negative `processed` on older kernels); 0 where nothing prints one (iomap_dio_complete).
 */
function closeStep(ctx: TracepointContext, fsDev: number, ino: Ino, posBytes: number, error = 0): void {
  const ts = ctx.taskState;
  const step = ts.iomapStep;
  if (step === undefined) return;
  ts.iomapStep = undefined;
  const same = step.ino === ino && step.fsDev === fsDev && posBytes >= step.posBytes;
  ctx.emit({
    kind: 'iomap_iter_end', tsNs: ctx.tsNs, task: ctx.task, nodeId: NO_NODE_ID, ino: step.ino, posBytes: step.posBytes,
    lenBytes: step.lenBytes, processedBytes: same ? posBytes - step.posBytes : 0, error,
  });
}

/**
 * `dev %d:%d ino 0x%llx pos 0x%llx length 0x%llx status %d flags %s (0x%x) ops %ps caller %pS`
 * (older kernels: `processed %lld` for status). Ends the task's open step, then is held as a step
 * candidate (see the file comment).
 */
function iter(ctx: TracepointContext, c: Cursor, s: IomapState): void {
  const fsDev = devT(c.token('dev'));
  const ino = asIno(c.num('ino'));
  const posBytes = c.num('pos');
  const printedLenBytes = c.num('length');
  // The previous step's result: `status` (0 or -errno) since 6.15, `processed` (bytes or -errno) before.
  const result = c.has('status') ? c.num('status') : c.has('processed') ? c.num('processed') : 0;
  const flagsText = c.token('flags');
  let opflags = s.opFlags.get(flagsText);
  if (opflags === undefined) {
    const { value, unknown } = parseFlags(flagsText, KERNEL_OP_FLAGS);
    opflags = value;
    if (unknown.length > 0) ctx.diag('unknown_flag', `unknown iomap op flag ${unknown.join('|')}`);
    else {
      if (s.opFlags.size >= MAX_CACHED_FLAG_TEXTS) s.opFlags.clear();
      s.opFlags.set(flagsText, opflags);
    }
  }
  const ts = ctx.taskState;
  ts.iterWrite = (opflags & OpFlag.WRITE) !== 0;
  const firstCall = ts.iomapStep === undefined;
  closeStep(ctx, fsDev, ino, posBytes, result < 0 ? result : 0);
  const text = c.text();
  const held: TraceEvent = { kind: 'instant', tsNs: ctx.tsNs, task: ctx.task, name: ctx.name, text };
  if (isFuseIomap(s, fsDev, ino)) {
    // The loop's next call ends the task's open fuse_iomap_begin step (fs/iomap/iter.c traces it
    // before ->iomap_end, so before fuse_iomap_end): processed = how far pos advanced.
    const step = ts.fuseStep;
    if (step !== undefined && step.fsDev === fsDev && step.ino === ino) {
      ts.fuseStep = undefined;
      ctx.emit({
        kind: 'iomap_iter_end', tsNs: ctx.tsNs, task: ctx.task, nodeId: step.nodeId, ino, posBytes: step.posBytes,
        lenBytes: step.lenBytes, processedBytes: posBytes >= step.posBytes ? posBytes - step.posBytes : 0, error: result < 0 ? result : 0,
      });
    }
    ts.iomapIter = undefined;
    ctx.emit(held);
    return;
  }
  // lenBytes: what the loop still has to map from pos. The printed length is iomap_length(), the
  // rest of the *previous* mapping trimmed to iter->len: iter->len itself only on the loop's first
  // call, and then 0 at pos 0 (the empty mapping's end, 0, minus pos). A direct IO in flight knows it.
  const dio = ts.iomapDio;
  const lenBytes = dio !== undefined && dio.ino === ino && dio.fsDev === fsDev && dio.endBytes >= posBytes
    ? dio.endBytes - posBytes
    : firstCall ? printedLenBytes : 0;
  ts.iomapIter = { fsDev, ino, posBytes, lenBytes, opflags, held };
  ctx.defer(held, iterSettled);
}

/** An iomap_iter candidate waits through its task's lock and stack events; any other event settles it as no step. */
function iterSettled(_held: TraceEvent, next: TraceEvent): void | true {
  switch (next.kind) {
    case 'lock_wait': case 'lock_acquire': case 'lock_release': case 'lock_contention':
      return true;
    case 'instant':
      return next.name === 'iomap_iter' ? undefined : true;
    default:
      return undefined;
  }
}

/**
 * `dev %d:%d ino 0x%llx bdev %d:%d addr 0x%llx offset 0x%llx length 0x%llx type %s (0x%x) flags %s (0x%x)`:
 * dstmap is the write slot if the task's last iomap_iter had WRITE, srcmap the read one; kernel
 * IOMAP_F_* names become the fuse flag bits of the same meaning; mapDev is bdev as a dev_t.
 */
function iterMap(ctx: TracepointContext, c: Cursor, s: IomapState): void {
  const fsDev = devT(c.token('dev'));
  const ino = asIno(c.num('ino'));
  const bdev = c.token('bdev');
  const mapAddr = c.u64('addr');
  const mapOffsetBytes = c.num('offset');
  const mapLenBytes = c.num('length');
  const typeName = c.token('type');
  const flagsText = c.token('flags');
  const { mapType, rawType } = mapTypeOf(typeName.toLowerCase(), typeName);
  if (isFuseIomap(s, fsDev, ino)) {
    // The mapping the fuse_iomap_read_map/write_map or cache lines already gave (fuse-iomap inode).
    fsOp(ctx, { nodeId: NO_NODE_ID, ino, fsDev, posBytes: mapOffsetBytes, lenBytes: mapLenBytes, processedBytes: 0, error: 0, mapAddr });
    return;
  }
  let mapFlags = s.kernelMapFlags.get(flagsText);
  if (mapFlags === undefined) {
    const fuseNames = flagsText.split('|').map((f) => KERNEL_MAP_FLAG_TO_FUSE[f] ?? '').filter((f) => f !== '');
    mapFlags = parseFlags(fuseNames.join('|'), mapFlagStrings).value;
    if (s.kernelMapFlags.size >= MAX_CACHED_FLAG_TEXTS) s.kernelMapFlags.clear();
    s.kernelMapFlags.set(flagsText, mapFlags);
  }
  const ts = ctx.taskState;
  const pending = ts.iomapIter;
  if (pending !== undefined) {
    ts.iomapIter = undefined;
    if (ctx.deferred() === pending.held) {
      // This task's iomap_iter opened a step: its line becomes the step's iomap_begin.
      const { fsDev: dev, ino: stepIno, posBytes, lenBytes, opflags } = pending;
      ctx.replaceDeferred({ kind: 'iomap_begin', tsNs: pending.held.tsNs, task: ctx.task, nodeId: NO_NODE_ID, ino: stepIno, fsDev: dev, opflags, posBytes, lenBytes });
      ts.iomapStep = { fsDev: dev, ino: stepIno, posBytes, lenBytes };
    }
  }
  const slot = ctx.name === 'iomap_iter_srcmap' ? 'read' : ts.iterWrite ? 'write' : 'read';
  ctx.emit({
    kind: 'iomap_map', tsNs: ctx.tsNs, task: ctx.task, nodeId: NO_NODE_ID, ino, slot, source: 'reply', rawType,
    mapType, mapFlags, mapOffsetBytes, mapLenBytes,
    mapAddr, mapDev: devT(bdev), cookie: 0,
  });
}
