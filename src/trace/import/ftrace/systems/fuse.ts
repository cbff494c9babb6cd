// System `fuse`: the upstream request events (docs/domain.md §4.3) and every tracepoint of
// the fuse-iomap series (§4.4; v7 formats, and the v4–v6 names and formats), as the series' code
// fires them (fs/fuse/fuse_trace.h, fuse_iomap_cache.c as posted to linux-fsdevel):
//   requests      fuse_request_send/_end/_sent       → fuse_send / fuse_reply / fuse_recv
//   iomap steps   begin, read_map/write_map, end, *_error, ioend, bad_data → iomap_*
//   cache         lookup(+_result), remove, upsert, inval, invalid, free, cleanup → cache_*
//                 (+ fuse_notify for the server's upsert/inval notifications)
//   inodes        init_inode / evict_inode → inode_iomap / inode_evict
//   file ops, writeback, cache and B+tree internals, config, devices → fs_op (name without `fuse_`)
// Per task (TaskState) it remembers the context a kernel invalidation comes from, the reason of
// the cache_remove lines that follow a trigger, and an upsert still open to a bad_data rejection.
import type { InvalReason, TraceEvent } from '../../../schema.ts';
import {
  EFSCORRUPTED, Errno, InodeState, MapType, NULL_ADDR, Opcode, REVISIONS, inodeStateStrings, ioendFlagStrings, opFlagStrings,
} from '../../../fuse-proto.ts';
import { inodeKey, type PendingUpsert, type Resolve, type TaskState, type TracepointContext, type TracepointHandler, type TracepointSystem, type WaitQueue } from '../context.ts';
import type { Cursor } from '../cursor.ts';
import { inode, iodir, map, range } from '../fields.ts';
import { NO_NODE_ID, UNKNOWN_INO, type NodeId, type Ino } from '../../../ids.ts';

/** Replied requests' entries kept (opcodeByUnique) beyond twice the open ones before they are dropped. */
const MAX_REPLIED_KEPT = 4096;
const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;

type FuseSend = TraceEvent & { kind: 'fuse_send' };
type FuseNotify = TraceEvent & { kind: 'fuse_notify' };
type IomapIoend = TraceEvent & { kind: 'iomap_ioend' };
type CacheLookup = TraceEvent & { kind: 'cache_lookup' };
type CacheUpsert = TraceEvent & { kind: 'cache_upsert' };

interface FuseState {
  /**
   * Opcodes of sent requests by unique; NaN once replied. (Deleting from a Map that becomes nearly
   * empty shrinks its table every time, a runtime call: 4% of the parse. Replied entries are
   * dropped in bulk instead, amortized over MAX_REPLIED_KEPT replies.)
   */
  readonly opcodeByUnique: Map<number, number>;
  openRequests: number;
  /** `req 0` sends (6.12–6.17 kernels) by connection, waiting for their request_end. */
  readonly zeroReqSends: WaitQueue<FuseSend>;
  /** Upsert notifies held until their task's next non-cache event (a bad_data before it rejects them). */
  readonly upserts: WaitQueue<FuseNotify>;
  nextUpsertKey: number;
  /** A fuse_iomap_cache_remove line was seen: the trace enables it, so removes (not notifies) say what was invalidated. */
  removeSeen: boolean;
  /** fuse-iomap inodes (`${fsDev}:${ino}`), shared with the iomap system. */
  readonly fuseIomapInodes: Set<string>;
}

/** The kernel fires fuse_iomap_ioend before it decides to upcall: sent iff its task next sends FUSE_IOMAP_IOEND. */
function ioendSent(held: IomapIoend, next: TraceEvent): void {
  held.sent = next.kind === 'fuse_send' && next.opcode === Opcode.IOMAP_IOEND;
}

/**
 * A lookup not completed by its _result (a miss so far): a write-fork lookup that the same task
 * follows with a read-fork lookup of the same inode found no write fork (an in-place server's
 * inode has none, §3.3), so it fell through — absent, neither a hit nor a miss.
 */
const lookupNext: Resolve<CacheLookup> = (held, next) => {
  if (held.fork === 'write' && !held.hit && next.kind === 'cache_lookup' && next.fork === 'read' && next.nodeId === held.nodeId) {
    held.forkAbsent = true;
  }
};

function dropReplied(s: FuseState): void {
  const m = s.opcodeByUnique;
  if (s.openRequests === 0) m.clear();
  else for (const [unique, opcode] of m) if (Number.isNaN(opcode)) m.delete(unique);
}

/** `ret 0x%zx`: a negative ssize_t prints as 0xffff…: → error, else bytes done. */
function retOf(c: Cursor): { processedBytes: number; error: number } {
  const v = c.u64('ret');
  if (v >= TWO_63) return { processedBytes: 0, error: Number(v - TWO_64) };
  return { processedBytes: Number(v), error: 0 };
}

/** The task left the cache work of its last trigger: removes no longer have a reason; an open upsert is settled as accepted. */
function settle(ts: TaskState, s: FuseState): void {
  if (ts.removeReason === null && ts.pendingUpsert === null) return; // the usual case: read only
  ts.removeReason = null;
  ts.notifiedForks = 0;
  const p = ts.pendingUpsert;
  if (p !== null) {
    ts.pendingUpsert = null;
    s.upserts.take(p.key);
  }
}

/** Notify codes: v7 names are v7's; the v4–v6 names are read with v6 numbering (v4/v5 used 10/11; the trace cannot tell). */
const NOTIFY_UPSERT = REVISIONS.v7.notifyUpsert!;
const NOTIFY_INVAL = REVISIONS.v7.notifyInval!;

function emitFsOp(
  ctx: TracepointContext, name: string, fsDev: number, nodeId: NodeId, ino: Ino, posBytes: number, lenBytes: number,
  processedBytes: number, error: number, mapAddr: bigint,
): void {
  ctx.emit({ kind: 'fs_op', tsNs: ctx.tsNs, task: ctx.task, name, nodeId, ino, fsDev, posBytes, lenBytes, processedBytes, error, mapAddr });
}

/** What a tracepoint's line tells about the kernel invalidation that may follow on its task (§3.2). */
const INVAL_CONTEXT: Record<string, InvalReason> = {
  fuse_iomap_ioend: 'ioend', fuse_iomap_end_ioend: 'ioend',
  fuse_iomap_setsize_finish: 'truncate', fuse_iomap_truncate_up: 'truncate', fuse_iomap_truncate_down: 'truncate',
  fuse_iomap_open_truncate: 'o_trunc', fuse_iomap_fallocate: 'fallocate', fuse_iomap_punch_range: 'fallocate',
  fuse_iomap_copied_file_range: 'copy_file_range', fuse_iomap_inline_write: 'inline_write',
};

/** Body after INODE [+ RANGE] that a file-op tracepoint has (§4.4). */
type Tail = 'none' | 'range' | 'ret' | 'error' | 'submit' | 'fiemap' | 'lseek';

/**
 * A file operation, writeback step or other kernel action on an inode → `fs_op` named by the
 * tracepoint without `fuse_`; it sets the task's invalidation context (INVAL_CONTEXT, else unknown).
 * `cacheInternal`: part of the cache work after a trigger (it does not end it).
 */
function fileOp(tp: string, tail: Tail, cacheInternal = false): TracepointHandler<FuseState> {
  const name = tp.slice('fuse_'.length);
  const reason: InvalReason = INVAL_CONTEXT[tp] ?? 'unknown';
  const endsStep = tp.endsWith('_end');
  return (ctx, c, s) => {
    const ts = ctx.taskState;
    if (!cacheInternal) {
      settle(ts, s);
      ts.invalReason = reason;
    }
    const { fsDev, nodeId, ino } = inode(c);
    let posBytes = 0, lenBytes = 0, processedBytes = 0, error = 0, mapAddr = NULL_ADDR;
    switch (tail) {
      case 'none': break;
      case 'fiemap': posBytes = c.num('fiemappos'); lenBytes = c.num('length'); break;
      case 'lseek': posBytes = c.num('offset'); break;
      default: {
        ({ posBytes, lenBytes } = range(c));
        if (tail === 'ret') ({ processedBytes, error } = retOf(c));
        else if (tail === 'error') error = c.num('error');
        else if (tail === 'submit') {
          // The series records the mapping's byte address shifted left by 9 (§4.4): addr is 512× the byte address.
          const addr = c.u64('addr');
          mapAddr = addr === NULL_ADDR ? addr : addr / 512n;
          error = c.num('error');
        }
      }
    }
    if (endsStep) {
      ts.beginNodeId = NO_NODE_ID;
      ts.beginIno = UNKNOWN_INO;
      ts.fuseStep = undefined;
    }
    emitFsOp(ctx, name, fsDev, nodeId, ino, posBytes, lenBytes, processedBytes, error, mapAddr);
  };
}

/** A B+tree or cache-add internal: INODE, then the mapping's offset/length if it prints one (its range). */
function cacheInternal(tp: string): TracepointHandler<FuseState> {
  const name = tp.slice('fuse_'.length);
  return (ctx, c) => {
    const { fsDev, nodeId, ino } = inode(c);
    const posBytes = c.num('offset'); // every one of them prints a MAP (§4.4)
    const lenBytes = c.num('length');
    emitFsOp(ctx, name, fsDev, nodeId, ino, posBytes, lenBytes, 0, 0, NULL_ADDR);
  };
}

/** A connection-wide event (`connection %u …`, no inode) → fs_op with fsDev only. */
function connOp(tp: string): TracepointHandler<FuseState> {
  const name = tp.slice('fuse_'.length);
  return (ctx, c, s) => {
    settle(ctx.taskState, s);
    const fsDev = c.num('connection');
    emitFsOp(ctx, name, fsDev, NO_NODE_ID, UNKNOWN_INO, 0, 0, 0, 0, NULL_ADDR);
  };
}

/** fuse_iomap_read_map / _write_map: one slot of a BEGIN reply. */
function iomapMap(ctx: TracepointContext, c: Cursor, s: FuseState): void {
  settle(ctx.taskState, s);
  const { nodeId, ino } = inode(c);
  const m = map(ctx, c, '');
  ctx.emit({
    kind: 'iomap_map', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, slot: ctx.name === 'fuse_iomap_read_map' ? 'read' : 'write',
    source: 'reply', ...m, cookie: 0,
  });
}

/**
 * fuse_iomap_upsert_mappings (v4–v6: fuse_iomap_upsert): the server's notify and one cache_upsert
 * per fork the kernel takes (NOCACHE forks are skipped, §1.5). Rejected when attr_ino is not the
 * inode's (§5.4: EINVAL), when a fork is RETRY_CACHE (§1.5), or when a fuse_iomap_bad_data follows
 * on the task before its next non-cache event (validation failed: EFSCORRUPTED).
 */
function upsert(ctx: TracepointContext, c: Cursor, s: FuseState): void {
  const ts = ctx.taskState;
  settle(ts, s);
  const { nodeId, ino } = inode(c);
  const attrIno = c.num('attr_ino');
  const read = map(ctx, c, 'read');
  const write = map(ctx, c, 'write');
  const { tsNs, task } = ctx;
  const refused = attrIno !== ino || read.mapType === MapType.RETRY_CACHE || write.mapType === MapType.RETRY_CACHE;
  const notify: FuseNotify = { kind: 'fuse_notify', tsNs, task, notifyCode: NOTIFY_UPSERT, nodeId, error: refused ? -Errno.EINVAL : 0 };
  const upserts: CacheUpsert[] = [];
  if (read.mapType !== MapType.NOCACHE) upserts.push({ kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'read', ...read, seq: 0, rejected: refused });
  if (write.mapType !== MapType.NOCACHE) upserts.push({ kind: 'cache_upsert', tsNs, task, nodeId, ino, fork: 'write', ...write, seq: 0, rejected: refused });
  if (refused) {
    ctx.emit(notify);
  } else {
    const key = s.nextUpsertKey++;
    s.upserts.push(key, notify);
    ts.pendingUpsert = { key, notify, upserts } satisfies PendingUpsert;
    ts.removeReason = 'upsert';
  }
  for (const u of upserts) ctx.emit(u);
}

/**
 * fuse_iomap_inval_mappings (v4–v6: fuse_iomap_inval) → fuse_notify. What it removed is said by the
 * fuse_iomap_cache_remove lines that follow (reason server); a trace that has shown no remove line
 * yet gets one cache_inval per fork with a non-zero length from the notify itself, and the removes
 * that then follow on the task for those forks are not counted again.
 */
function inval(ctx: TracepointContext, c: Cursor, s: FuseState): void {
  const ts = ctx.taskState;
  settle(ts, s);
  const { nodeId, ino } = inode(c);
  const attrIno = c.num('attr_ino');
  const r = range(c, 'readpos');
  const w = range(c, 'writepos');
  const { tsNs, task } = ctx;
  const refused = attrIno !== ino;
  ctx.emit({ kind: 'fuse_notify', tsNs, task, notifyCode: NOTIFY_INVAL, nodeId, error: refused ? -Errno.EINVAL : 0 });
  if (refused) return;
  ts.removeReason = 'server';
  if (s.removeSeen) return;
  if (r.lenBytes !== 0) {
    ts.notifiedForks |= 1;
    ctx.emit({ kind: 'cache_inval', tsNs, task, nodeId, ino, fork: 'read', ...r, reason: 'server', seq: 0 });
  }
  if (w.lenBytes !== 0) {
    ts.notifiedForks |= 2;
    ctx.emit({ kind: 'cache_inval', tsNs, task, nodeId, ino, fork: 'write', ...w, reason: 'server', seq: 0 });
  }
}

/** Both forks, in the order the kernel treats them. */
const FORKS = ['read', 'write'] as const;

const handlers: Record<string, TracepointHandler<FuseState>> = {
  fuse_request_send(ctx, c, s) {
    settle(ctx.taskState, s);
    const conn = c.num('connection');
    const unique = c.num('req');
    const opcode = c.num('opcode');
    const lenBytes = c.num('len');
    const ev = { kind: 'fuse_send' as const, tsNs: ctx.tsNs, task: ctx.task, unique, opcode, nodeId: NO_NODE_ID, lenBytes };
    if (unique === 0) {
      // 6.12–6.17 print `req 0` (§4.3): it takes the req of its connection's next unmatched
      // request_end, in order (approximate by design).
      s.zeroReqSends.push(conn, ev);
      return;
    }
    const prev = s.opcodeByUnique.get(unique);
    if (prev === undefined || Number.isNaN(prev)) s.openRequests++;
    s.opcodeByUnique.set(unique, opcode);
    ctx.emit(ev);
  },
  fuse_request_end(ctx, c, s) {
    settle(ctx.taskState, s);
    const conn = c.num('connection');
    const unique = c.num('req');
    const lenBytes = c.num('len');
    const error = c.num('error');
    let opcode = s.opcodeByUnique.get(unique);
    if (opcode === undefined || Number.isNaN(opcode)) {
      opcode = undefined;
      const send = s.zeroReqSends.take(conn);
      if (send) {
        send.unique = unique;
        opcode = send.opcode;
      }
    } else {
      s.opcodeByUnique.set(unique, NaN);
      s.openRequests--;
      if (s.opcodeByUnique.size > MAX_REPLIED_KEPT + 2 * s.openRequests) dropReplied(s);
    }
    ctx.emit({ kind: 'fuse_reply', tsNs: ctx.tsNs, task: ctx.task, unique, opcode: opcode ?? 0, error, lenBytes });
  },
  fuse_request_sent(ctx, c, s) {
    // Newest upstream: the server took the request (`connection %u req %llu opcode %u (%s)`).
    settle(ctx.taskState, s);
    c.num('connection');
    const unique = c.num('req');
    const opcode = c.num('opcode');
    ctx.emit({ kind: 'fuse_recv', tsNs: ctx.tsNs, task: ctx.task, unique, opcode, nodeId: NO_NODE_ID });
  },

  fuse_iomap_begin(ctx, c, s) {
    const ts = ctx.taskState;
    settle(ts, s);
    const { fsDev, nodeId, ino } = inode(c);
    const opflags = ctx.flags(c.paren('opflags'), opFlagStrings, 'opflag');
    const { posBytes, lenBytes } = range(c);
    s.fuseIomapInodes.add(inodeKey(fsDev, ino));
    ts.beginNodeId = nodeId;
    ts.beginIno = ino;
    ts.fuseStep = { fsDev, ino, nodeId, posBytes, lenBytes };
    ctx.emit({ kind: 'iomap_begin', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, opflags, posBytes, lenBytes, fsDev });
  },
  fuse_iomap_begin_error(ctx, c, s) {
    const ts = ctx.taskState;
    settle(ts, s);
    const { nodeId, ino } = inode(c);
    c.paren('opflags');
    const { posBytes, lenBytes } = range(c);
    const error = c.num('err');
    ts.beginNodeId = NO_NODE_ID; ts.beginIno = UNKNOWN_INO; ts.fuseStep = undefined;
    ctx.emit({ kind: 'iomap_iter_end', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, posBytes, lenBytes, processedBytes: 0, error });
  },
  fuse_iomap_read_map: iomapMap,
  fuse_iomap_write_map: iomapMap,
  fuse_iomap_end(ctx, c, s) {
    // `length` twice: the RANGE's, then the MAP's (positional).
    const ts = ctx.taskState;
    settle(ts, s);
    const { nodeId, ino } = inode(c);
    const opflags = ctx.flags(c.paren('opflags'), opFlagStrings, 'opflag');
    const { posBytes, lenBytes } = range(c);
    const writtenBytes = c.num('written');
    const m = map(ctx, c, '');
    ts.beginNodeId = NO_NODE_ID; ts.beginIno = UNKNOWN_INO; ts.fuseStep = undefined;
    ctx.emit({ kind: 'iomap_end', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, opflags, posBytes, lenBytes, writtenBytes, ...m });
  },
  fuse_iomap_end_error(ctx, c, s) {
    const ts = ctx.taskState;
    settle(ts, s);
    const { nodeId, ino } = inode(c);
    c.paren('opflags');
    const { posBytes, lenBytes } = range(c);
    const processedBytes = c.num('written');
    const error = c.num('error');
    ts.beginNodeId = NO_NODE_ID; ts.beginIno = UNKNOWN_INO; ts.fuseStep = undefined;
    ctx.emit({ kind: 'iomap_iter_end', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, posBytes, lenBytes, processedBytes, error });
  },
  fuse_iomap_ioend(ctx, c, s) {
    const ts = ctx.taskState;
    settle(ts, s);
    ts.invalReason = 'ioend';
    const { nodeId, ino, idisksize } = inode(c);
    const { posBytes, lenBytes: writtenBytes } = range(c);
    const ioendFlags = ctx.flags(c.paren('ioendflags'), ioendFlagStrings, 'ioend flag');
    const error = c.num('error');
    if (c.has('dev')) c.num('dev'); // v7 only
    const newAddr = c.u64('new_addr');
    // The tracepoint has no size after the ioend: an append ioend extends the on-disk size to
    // its end, any other leaves the kernel's idisksize (the kernel's own estimate, §1.5).
    const appends = (ioendFlags & 16) !== 0;
    const newSizeBytes = appends ? Math.max(idisksize, posBytes + writtenBytes) : idisksize;
    ctx.defer({
      kind: 'iomap_ioend' as const, tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, posBytes, writtenBytes, ioendFlags, error,
      newAddr, newSizeBytes, sent: false,
    }, ioendSent);
  },
  fuse_iomap_bad_data(ctx, c, s) {
    // No inode in the line: the task's open upsert (rejected by it) or its open begin says whose.
    const ts = ctx.taskState;
    let nodeId = ts.beginNodeId;
    let ino = ts.beginIno;
    const p = ts.pendingUpsert;
    if (p !== null) {
      ts.pendingUpsert = null;
      nodeId = p.notify.nodeId;
      ino = p.upserts[0]?.ino ?? UNKNOWN_INO;
      // Still held (not forced out by the hold limit): the kernel refused it.
      if (s.upserts.take(p.key) !== undefined) {
        p.notify.error = -EFSCORRUPTED;
        for (const u of p.upserts) u.rejected = true;
      }
    }
    ctx.emit({ kind: 'iomap_bad_data', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, message: c.text().trim(), error: -EFSCORRUPTED });
  },

  fuse_iomap_cache_lookup(ctx, c, s) {
    // A miss unless the same task's next event is its _result (below), which completes it; absent
    // if it is a write-fork lookup the task follows with a read-fork one (lookupNext).
    settle(ctx.taskState, s);
    const { nodeId, ino } = inode(c);
    const { posBytes, lenBytes } = range(c);
    const fork = iodir(c);
    ctx.defer<CacheLookup>({
      kind: 'cache_lookup', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, posBytes, lenBytes, hit: false,
      mapType: 0, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: NULL_ADDR, mapDev: 0, cookie: 0, rawType: '', forkAbsent: false,
    }, lookupNext);
  },
  fuse_iomap_cache_lookup_result(ctx, c, s) {
    // The `map…` mapping is the cached one trimmed to the request; `got…` the whole extent.
    settle(ctx.taskState, s);
    const { nodeId, ino } = inode(c);
    const { posBytes, lenBytes } = range(c);
    const fork = iodir(c);
    const m = map(ctx, c, 'map');
    map(ctx, c, 'got');
    const cookie = c.num('cookie');
    const pending = ctx.deferred();
    if (pending?.kind === 'cache_lookup' && pending.fork === fork && pending.nodeId === nodeId) {
      ctx.closeDeferred();
      Object.assign(pending, { hit: true, cookie, ...m });
    } else {
      ctx.emit({ kind: 'cache_lookup', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, posBytes, lenBytes, hit: true, ...m, cookie, forkAbsent: false });
    }
    // A hit is the mapping this iomap step uses, with no reply (§3.3): the step's mapping row, as
    // a BEGIN reply's read_map/write_map would be (fork read → read slot, write → write slot).
    ctx.emit({ kind: 'iomap_map', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, slot: fork, source: 'cache', ...m, cookie });
  },
  fuse_iomap_cache_invalidate_range(ctx, c, s) {
    // The kernel's own invalidation (§3.2); the removes that follow say what it removed.
    const ts = ctx.taskState;
    settle(ts, s);
    const { fsDev, nodeId, ino } = inode(c);
    const { posBytes, lenBytes } = range(c);
    ts.removeReason = ts.invalReason;
    emitFsOp(ctx, 'iomap_cache_invalidate_range', fsDev, nodeId, ino, posBytes, lenBytes, 0, 0, NULL_ADDR);
  },
  fuse_iomap_cache_remove(ctx, c, s) {
    // One fork's removal after a trigger on this task (kernel invalidation, upsert overlap purge,
    // server inval): cache_inval with that reason; with no trigger, reason unknown.
    const ts = ctx.taskState;
    s.removeSeen = true;
    const { fsDev, nodeId, ino } = inode(c);
    const { posBytes, lenBytes } = range(c);
    const fork = iodir(c);
    const bit = fork === 'read' ? 1 : 2;
    if ((ts.notifiedForks & bit) !== 0) {
      // Already counted from the server's notify (a trace whose first remove line follows it).
      ts.notifiedForks &= ~bit;
      emitFsOp(ctx, 'iomap_cache_remove', fsDev, nodeId, ino, posBytes, lenBytes, 0, 0, NULL_ADDR);
      return;
    }
    const reason = ts.removeReason ?? 'unknown';
    ctx.emit({ kind: 'cache_inval', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, posBytes, lenBytes, reason, seq: 0 });
  },
  fuse_iomap_cache_free(ctx, c, s) {
    settle(ctx.taskState, s);
    const { nodeId, ino } = inode(c);
    for (const fork of FORKS) ctx.emit({ kind: 'cache_drop', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, reason: 'evict' });
  },
  fuse_iomap_cache_cleanup(ctx, c) {
    // Format not verified: INODE, and the fork if the line names one (else both).
    const { nodeId, ino } = inode(c);
    const m = / iodir (read|write)(?: |$)/.exec(c.text());
    const forks = m ? [m[1] as 'read' | 'write'] : FORKS;
    for (const fork of forks) ctx.emit({ kind: 'cache_drop', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, fork, reason: 'overflow' });
  },
  fuse_iomap_upsert_mappings: upsert,
  fuse_iomap_upsert: upsert, // v4–v6 name
  fuse_iomap_inval_mappings: inval,
  fuse_iomap_inval: inval, // v4–v6 name
  fuse_iomap_invalid(ctx, c, s) {
    settle(ctx.taskState, s);
    const { nodeId, ino } = inode(c);
    const m = map(ctx, c, '');
    const oldCookie = c.num('old_cookie');
    const newCookie = c.num('new_cookie');
    ctx.emit({ kind: 'cache_stale', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, posBytes: m.mapOffsetBytes, oldCookie, newCookie, ...m });
  },

  fuse_iomap_init_inode(ctx, c, s) {
    settle(ctx.taskState, s);
    const { fsDev, nodeId, ino } = inode(c);
    const inodeFlags = ctx.flags(c.paren('state'), inodeStateStrings, 'inode state');
    if ((inodeFlags & InodeState.IOMAP) !== 0) s.fuseIomapInodes.add(inodeKey(fsDev, ino));
    ctx.emit({ kind: 'inode_iomap', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, inodeFlags });
  },
  fuse_iomap_evict_inode(ctx, c, s) {
    settle(ctx.taskState, s);
    const { nodeId, ino } = inode(c);
    ctx.emit({ kind: 'inode_evict', tsNs: ctx.tsNs, task: ctx.task, nodeId, ino });
  },

  fuse_iomap_config: connOp('fuse_iomap_config'),
  fuse_iomap_dev_add: connOp('fuse_iomap_dev_add'),
  fuse_iomap_dev_inval: connOp('fuse_iomap_dev_inval'),
  fuse_backing_open: connOp('fuse_backing_open'),
  fuse_backing_close: connOp('fuse_backing_close'),
};

const FILE_OPS: ReadonlyArray<readonly [Tail, readonly string[]]> = [
  ['range', [
    'direct_read', 'direct_write', 'buffered_read', 'buffered_write', 'write_zero_eof', 'read_folio', 'readahead',
    'page_mkwrite', 'writeback_range', 'writepages', 'discard_folio', 'setsize_finish', 'truncate_up', 'truncate_down',
    'punch_range', 'flush_unmap_range', 'fallocate', 'copied_file_range', 'inline_read', 'inline_write',
    'set_inline_iomap', 'set_inline_srcmap',
  ]],
  ['ret', ['direct_read_end', 'direct_write_end', 'buffered_read_end', 'buffered_write_end']],
  ['error', ['dio_write_end_io', 'end_ioend', 'ioend_error']],
  ['submit', ['writeback_submit']],
  ['none', ['open_truncate']],
  ['fiemap', ['fiemap']],
  ['lseek', ['lseek']],
];
for (const [tail, names] of FILE_OPS) for (const n of names) handlers[`fuse_iomap_${n}`] = fileOp(`fuse_iomap_${n}`, tail);
// Cache work that follows a trigger on the same task (it does not end the trigger's context).
handlers.fuse_iomap_cache_alloc = fileOp('fuse_iomap_cache_alloc', 'none', true);
for (const n of [
  'fuse_iomap_cache_add', 'fuse_iext_check_mapping', 'fuse_iext_insert', 'fuse_iext_remove', 'fuse_iext_pre_update',
  'fuse_iext_post_update', 'fuse_iext_del_mapping', 'fuse_iext_add_mapping', 'fuse_iext_del_mapping_got',
  'fuse_iext_add_mapping_left', 'fuse_iext_add_mapping_right',
]) handlers[n] = cacheInternal(n);

export const fuseSystem: TracepointSystem<FuseState> = {
  name: 'fuse',
  newState: (setup) => ({
    opcodeByUnique: new Map(), openRequests: 0, zeroReqSends: setup.waitQueue<FuseSend>(),
    upserts: setup.waitQueue<FuseNotify>(), nextUpsertKey: 1, removeSeen: false, fuseIomapInodes: setup.shared.fuseIomapInodes,
  }),
  handlers,
};
