// Lock attribution for imported traces. lock:contention_begin/end name only a lock address and
// flags (§4.6); this pass says whose lock it is, from evidence in the same trace, and adds derived
// `lock_wait` (at contention_begin) and `lock_acquire` (at contention_end, ret 0) events so the
// summary's `locks` and the lock views work on real traces. The raw lock_contention events stay.
//
// Which lock (the `lock` field):
//   - stack role: a stack_trace instant of the contending task between its begin and end with
//     down_write/down_read under a file write/read path (fuse_file_write_iter, fuse_iomap_*,
//     ext4_*_write_iter, xfs_ilock, …) → 'i_rwsem'; filemap_invalidate_lock → 'invalidate_lock';
//     percpu_down_*/sb_start_* (freeze protection), mutexes, spinlocks → 'unknown';
//   - else a READ/WRITE rwsem contention right after the task's fuse_iomap_{buffered,direct}_*
//     entry event (fired before i_rwsem is taken, §4.6) → 'i_rwsem'; a WRITE one after
//     write_zero_eof → 'invalidate_lock'; a READ one after page_mkwrite (no i_rwsem on that path,
//     §6) → 'invalidate_lock';
//   - else a WRITE contention inside write/pwrite (the write path's inode_lock) or fsync (fuse_fsync
//     takes inode_lock) → 'i_rwsem';
//   - a WRITE contention inside ftruncate, fallocate or an O_TRUNC open (no O_CREAT) is one of the
//     file's two exclusive locks (§6: i_rwsem, then invalidate_lock): the second of two in one call
//     on another address is invalidate_lock and the first i_rwsem; a lone one is whichever of the
//     two the same file's other address is not (from the rules above), else unknown;
//   - any other contention gives no evidence on the lock (it neither names nor contradicts it);
//     per-CPU freeze protection (flag PERCPU, or a freeze stack) contradicts every file lock.
// Whose (nodeId/ino/path), each rule adding evidence to the lock address:
//   1. that fuse_iomap entry event's nodeid/ino;
//   2. the task's in-flight syscall's fd → path (open + uprobe path), → nodeid by the longest
//      path suffix that an inode_lookup named;
//   3. the waiter, once it holds the lock (contention_end ret 0), is the holder: its next
//      inode-bearing event before its syscall returns (a fuse_send with a joined nodeid, an iomap
//      or cache event) names the inode — for every lock it acquired since its last such event
//      (truncate holds i_rwsem and invalidate_lock of one file).
// All evidence for one address must agree; disagreement or no evidence → lock 'unknown', nodeId
// null, reported in `attributions` with the reason. Nothing is guessed silently.
// Which on-disk inode (ino): the nodeid's alias group's number from evidence (inode-groups.ts: a
// reply probe's st_ino, the INODE prefix, a LINK to a nodeid that has one); none → null, several →
// null with all of them in `inoEvidence`. Never the nodeid.
//
// Output: derived lock_wait/lock_acquire carry the address (`lockAddr`); one `lock_attribution`
// instant per address (JSON of its LockAttribution, derive/lock-evidence.ts) goes right before the
// address's first derived event, so the decision and its evidence travel with the trace.

import type { LockName, TraceEvent } from '../schema.ts';
import { InodeGroups } from '../derive/inode-groups.ts';
import { LOCK_ATTRIBUTION_INSTANT, type LockAttribution as Attribution } from '../derive/lock-evidence.ts';
import { evidenceSourceOf } from './identity.ts';
import { asNodeId, asIno, NO_NODE_ID, UNKNOWN_INO, type NodeId, type Ino } from '../ids.ts';

export interface LockAttribution extends Attribution {
  /** Every inode number the evidence names for the lock's inode: [] none, two or more = they disagree. */
  inoEvidence: number[];
}

interface AttributionResult {
  events: TraceEvent[];
  attributions: LockAttribution[];
}

const RWSEM_FRAMES = /^(down_write|down_read|rwsem_down_\w+|down_write_killable|down_read_killable)\b/;
const FILE_LOCK_CALLERS = /^(fuse_file_write_iter|fuse_file_read_iter|fuse_cache_write_iter|fuse_direct_write_iter|fuse_direct_read_iter|fuse_perform_write|fuse_iomap_\w+|fuse_setattr|fuse_do_setattr|fuse_file_fallocate|ext4_\w*(write|read)_iter|ext4_setattr|ext4_fallocate|xfs_ilock\w*|xfs_file_\w+|inode_lock\w*|do_truncate|generic_file_write_iter)\b/;
const FREEZE_FRAMES = /^(percpu_down_read|percpu_down_write|__percpu_down_read|__sb_start_write|sb_start_\w+|file_start_write)\b/;
const IOMAP_ENTRY = /^fuse_iomap_(buffered|direct)_(read|write)$/;
/** Syscalls whose WRITE rwsem contention is the file's i_rwsem (no other rwsem is taken exclusive). */
const I_RWSEM_SYSCALLS = new Set(['write', 'pwrite', 'fsync']);
/** Syscalls that take both i_rwsem and invalidate_lock of the file exclusive, in that order (§6). */
const BOTH_LOCK_SYSCALLS = new Set(['truncate', 'fallocate']);
const O_TRUNC = 0o1000;
const O_CREAT = 0o100;
/** Which series entry event the task saw last in its syscall (or fault). */
type EntryKind = 'io' | 'zero_eof' | 'mkwrite';

/** `fsDev` ≠ 0 with nodeId 0: a kernel filesystem's inode (ext4, XFS: no nodeid), named by dev + ino. */
interface Evidence { nodeId: NodeId; ino: Ino; path: string; method: string; fsDev?: number }
interface AddrInfo {
  lockVotes: Map<LockName, number>;
  /** Contentions that were i_rwsem or invalidate_lock of the file, not telling which. */
  eitherVotes: number;
  /** Distinct evidence, first occurrence first (every use is a set or the first of a kind: repeats add nothing). */
  evidence: Evidence[];
  evidenceKeys: Set<string>;
  contended: number;
  mode: 'R' | 'W';
}
/** A wait: its contention events and their positions in the input (derived events go next to them). */
interface Open { begin: TraceEvent & { kind: 'lock_contention' }; beginAt: number; stack: string; end: (TraceEvent & { kind: 'lock_contention' }) | null; endAt: number }
/** A wait as the planner paired it (its end is filled in when it comes). */
export type LockWait = Readonly<Open>;

/** What attribution adds to a time-ordered input, by input position: nothing of the input changes. */
export interface LockPlan {
  attributions: LockAttribution[];
  /** Input index → the event that goes right before it (an address's lock_attribution instant). */
  before: Map<number, TraceEvent>;
  /** Input index → the event that goes right after it (the derived lock_wait / lock_acquire). */
  after: Map<number, TraceEvent>;
}

/** The lock a stack (bare symbols, innermost first) names by its frames, or null (also used for perf lock -v stacks). */
export function roleFromStack(stack: string): LockName | 'freeze' | null {
  const frames = stack.split('\n').map((f) => f.trim());
  if (frames.some((f) => /^filemap_invalidate_lock/.test(f))) return 'invalidate_lock';
  if (frames.some((f) => FREEZE_FRAMES.test(f))) return 'freeze';
  const rw = frames.findIndex((f) => RWSEM_FRAMES.test(f));
  if (rw >= 0 && frames.slice(rw + 1).some((f) => FILE_LOCK_CALLERS.test(f))) return 'i_rwsem';
  return null;
}

/** The series entry event a tracepoint name is (with its `fuse_` prefix), or null. */
function entryKind(name: string): EntryKind | null {
  if (IOMAP_ENTRY.test(name)) return 'io';
  if (name === 'fuse_iomap_write_zero_eof') return 'zero_eof';
  return name === 'fuse_iomap_page_mkwrite' ? 'mkwrite' : null;
}

function hintFromText(text: string): { nodeId: NodeId; ino: Ino } | null {
  const n = /\bnodeid (\d+)/.exec(text);
  const i = /\bino (\d+)/.exec(text);
  return n ? { nodeId: asNodeId(Number(n[1])), ino: asIno(i ? Number(i[1]) : 0) } : null;
}

function inodeOf(ev: TraceEvent): { nodeId: NodeId; ino: Ino; fsDev?: number } | null {
  switch (ev.kind) {
    // A kernel filesystem's iomap step or file op names its inode by dev + ino (no nodeid).
    case 'iomap_begin': case 'fs_op':
      if (ev.nodeId !== 0) return { nodeId: ev.nodeId, ino: ev.ino };
      return ev.fsDev !== 0 && ev.ino !== 0 ? { nodeId: NO_NODE_ID, ino: ev.ino, fsDev: ev.fsDev } : null;
    case 'fuse_send': return ev.nodeId > 1 ? { nodeId: ev.nodeId, ino: UNKNOWN_INO } : null;
    case 'iomap_map': case 'iomap_end': case 'iomap_ioend': case 'cache_lookup':
    case 'cache_upsert': case 'cache_inval': case 'cache_stale':
      return ev.nodeId !== 0 ? { nodeId: ev.nodeId, ino: ev.ino } : null;
    case 'instant': return ev.name.startsWith('fuse_iomap_') ? hintFromText(ev.text) : null;
    default: return null;
  }
}

export function attributeLocks(events: readonly TraceEvent[]): AttributionResult {
  const plan = planLocks(events.length, (i) => events[i]!);
  if (plan.before.size === 0 && plan.after.size === 0) return { events: events as TraceEvent[], attributions: plan.attributions };
  const out: TraceEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const n = plan.before.get(i);
    if (n) out.push(n);
    out.push(events[i]!);
    const d = plan.after.get(i);
    if (d) out.push(d);
  }
  return { events: out, attributions: plan.attributions };
}

/**
 * The pass itself over `count` events read one at a time by `at` (a list, or a store's rows: the
 * input is never held, only the contention events of each wait), returning what it adds where.
 */
export function planLocks(count: number, at: (index: number) => TraceEvent): LockPlan {
  const planner = lockPlanner();
  for (let index = 0; index < count; index++) planner.step(at(index), index);
  return planner.finish();
}

/** The pass fed one event at a time (`index`: its position, ascending), e.g. as a file streams. */
export interface LockPlanner {
  step(ev: TraceEvent, index: number): void;
  /** Ends the input: what the pass adds where. */
  finish(): LockPlan;
  /**
   * The attribution of every address from the evidence stepped so far, as finish() would give it if
   * the input ended here without the waits still open (the live pass, server/capture/live-locks.ts).
   */
  current(): Map<bigint, LockAttribution>;
  /** Every wait (contention_begin) stepped since the last forgetWaits(), in input order; an entry's `end` is set when it comes. */
  readonly waits: readonly LockWait[];
  /**
   * Empties `waits` (a live stream that took them keeps no list of every wait): finish()'s plan then
   * places only the waits stepped after; the decisions still count every wait.
   */
  forgetWaits(): void;
  /**
   * Whether evidence on `task`'s waits may still come: a wait not ended, a held lock whose holder
   * event has not come, or a both-locks call (truncate, fallocate) not returned yet.
   */
  awaiting(task: string): boolean;
  /** Bumped whenever something current() reads changed. */
  readonly version: number;
}

/** The derived events of one wait under its address's attribution (lock_acquire only for a successful end). */
export function derivedOf(w: LockWait, att: Pick<LockAttribution, 'lock' | 'nodeId' | 'ino'>): { wait: TraceEvent; acquire: TraceEvent | null } {
  const { begin, end } = w;
  const mode = (begin.lockFlags & 2) !== 0 && (begin.lockFlags & 4) === 0 ? 'R' : 'W';
  const fields = { lock: att.lock, mode, nodeId: asNodeId(att.nodeId ?? 0), ino: asIno(att.ino ?? 0), lockAddr: begin.lockAddr } as const;
  return {
    wait: { kind: 'lock_wait', tsNs: begin.tsNs, task: begin.task, ...fields },
    acquire: end !== null && end.ret === 0 ? { kind: 'lock_acquire', tsNs: end.tsNs, task: end.task, ...fields } : null,
  };
}

/** The `lock_attribution` instant of an address, at (and on the task of) one of its contention events. */
export function attributionInstant(at: Pick<TraceEvent, 'tsNs' | 'task'>, att: LockAttribution): TraceEvent {
  return { kind: 'instant', tsNs: at.tsNs, task: at.task, name: LOCK_ATTRIBUTION_INSTANT, text: JSON.stringify(att) };
}

export function lockPlanner(): LockPlanner {
  const addrs = new Map<bigint, AddrInfo>();
  const open = new Map<string, Open>();
  const iomapEntry = new Map<string, { nodeId: NodeId; ino: Ino; kind: EntryKind }>();
  /** The task's syscall in flight; undefined after its exit (kept, not deleted: a Map that empties on every delete shrinks each time). */
  const inFlight = new Map<string, { op: string; path: string; oflags: number; bothLocks: bigint[] } | undefined>();
  const holding = new Map<string, bigint[]>();
  const nodeIdByPath = new Map<string, NodeId>();
  const inodes = new InodeGroups();
  /** Where a (nodeId, ino) pair's evidence came from, for `methods`. */
  const inoSource = new Map<string, string>();
  let version = 0;
  const addIno = (nodeId: NodeId, ino: Ino, source: string): void => {
    if (nodeId === 0 || ino === 0) return;
    inodes.addIno(nodeId, ino);
    const key = `${nodeId}:${ino}`;
    if (!inoSource.has(key)) inoSource.set(key, source);
  };
  let prev: TraceEvent | null = null;
  const info = (addr: bigint): AddrInfo => {
    let a = addrs.get(addr);
    if (!a) addrs.set(addr, (a = { lockVotes: new Map(), eitherVotes: 0, evidence: [], evidenceKeys: new Set(), contended: 0, mode: 'W' }));
    return a;
  };
  const vote = (a: AddrInfo, lock: LockName): void => {
    a.lockVotes.set(lock, (a.lockVotes.get(lock) ?? 0) + 1);
    version++;
  };
  const addEvidence = (a: AddrInfo, e: Evidence): void => {
    const key = `${e.method}|${e.nodeId}|${e.ino}|${e.fsDev ?? ''}|${e.path}`;
    if (a.evidenceKeys.has(key)) return;
    a.evidenceKeys.add(key);
    a.evidence.push(e);
    version++;
  };

  const pending: Open[] = [];
  function step(ev: TraceEvent, index: number): void {

    const task = ev.task;
    // Holder rule (3): the first inode-bearing event after acquiring, within the syscall.
    const held = holding.get(task);
    // Without a holder waiting, only an inode with a nodeid is used: a kernel filesystem's (nodeid 0) is not made.
    const inode = held === undefined && (ev.kind === 'fs_op' || ev.kind === 'iomap_begin') && ev.nodeId === 0 ? null : inodeOf(ev);
    if (held !== undefined && inode) {
      for (const addr of held) addEvidence(info(addr), { ...inode, path: '', method: 'holder_next_event' });
      holding.delete(task);
    }
    if (inode && inode.nodeId !== 0) addIno(inode.nodeId, inode.ino, 'inode_tracepoint');
    const before = prev;
    prev = ev;
    switch (ev.kind) {
      case 'inode_new': case 'inode_lookup':
        if (ev.path !== '') nodeIdByPath.set(ev.path, ev.nodeId);
        inodes.add(ev.nodeId);
        if (ev.aliasOf !== 0 && ev.aliasOf !== ev.nodeId) inodes.union(ev.nodeId, ev.aliasOf);
        // Evidence events (identity.ts) follow the instant that showed them; one with no instant before
        // it is the server's own (its instrumentation, a -d log's entry reply, the simulator).
        addIno(ev.nodeId, ev.ino, before?.kind === 'instant' ? evidenceSourceOf(before) : 'server_reply');
        break;
      case 'app_op_begin':
        inFlight.set(task, { op: ev.op, path: ev.path, oflags: ev.oflags, bothLocks: [] });
        iomapEntry.delete(task);
        break;
      case 'app_op_end':
        settleBothLocks(task);
        inFlight.set(task, undefined);
        holding.delete(task);
        iomapEntry.delete(task);
        break;
      case 'fs_op':
        // The series' file-op entries, typed by the ftrace parser (name without `fuse_`).
        if (ev.nodeId !== 0) {
          const kind = entryKind('fuse_' + ev.name);
          if (kind !== null) iomapEntry.set(task, { nodeId: ev.nodeId, ino: ev.ino, kind });
        }
        break;
      case 'instant': {
        const kind = entryKind(ev.name);
        if (kind !== null) {
          const h = hintFromText(ev.text);
          if (h) iomapEntry.set(task, { ...h, kind });
        } else if (ev.name === 'stack_trace') {
          const o = open.get(task);
          if (o && o.stack === '') o.stack = ev.text;
        }
        break;
      }
      case 'lock_contention':
        if (ev.phase === 'begin') {
          const o: Open = { begin: ev, beginAt: index, stack: '', end: null, endAt: -1 };
          open.set(task, o);
          pending.push(o);
        } else {
          const o = open.get(task);
          open.delete(task);
          if (o && o.begin.lockAddr === ev.lockAddr) {
            o.end = ev;
            o.endAt = index;
            decide(o, task);
            if (ev.ret === 0) {
              const h = holding.get(task);
              if (h) h.push(ev.lockAddr);
              else holding.set(task, [ev.lockAddr]);
            }
          }
        }
        break;
      default:
        break;
    }
  }

  // Two contentions in one both-locks call on two addresses: the lock order (§6) names them.
  function settleBothLocks(task: string): void {
    const sys = inFlight.get(task);
    if (!sys || sys.bothLocks.length < 2) return;
    const [first, second] = sys.bothLocks;
    if (first === second) return;
    for (const [addr, lock] of [[first!, 'i_rwsem'], [second!, 'invalidate_lock']] as const) {
      const a = info(addr);
      a.eitherVotes--;
      vote(a, lock);
    }
    sys.bothLocks = [];
  }

  // Which lock, and evidence from rules 1–2, for one wait (called at its contention_end).
  function decide(o: Open, task: string): void {
    const a = info(o.begin.lockAddr);
    a.contended++;
    version++;
    const flags = o.begin.lockFlags;
    a.mode = (flags & 4) !== 0 ? 'W' : (flags & 2) !== 0 ? 'R' : 'W';
    const isRwsem = (flags & (2 | 4)) !== 0 && (flags & (1 | 16 | 32)) === 0;
    const entry = iomapEntry.get(task);
    const sys = inFlight.get(task);
    let role: LockName | 'freeze' | 'either' | null = o.stack !== '' ? roleFromStack(o.stack) : null;
    const write = (flags & 4) !== 0;
    if (role === null && isRwsem) {
      if (entry) {
        role = entry.kind === 'io' ? 'i_rwsem' : entry.kind === 'zero_eof' ? (write ? 'invalidate_lock' : null) : (write ? null : 'invalidate_lock');
      } else if (sys && write && I_RWSEM_SYSCALLS.has(sys.op)) role = 'i_rwsem';
      else if (sys && write && (BOTH_LOCK_SYSCALLS.has(sys.op) || (sys.op === 'open' && (sys.oflags & (O_TRUNC | O_CREAT)) === O_TRUNC))) {
        role = 'either';
        sys.bothLocks.push(o.begin.lockAddr);
      }
    }
    if ((flags & 16) !== 0) role = 'freeze';
    // A contention with no evidence on the lock abstains; freeze protection is evidence against a file lock.
    if (role === 'freeze') vote(a, 'unknown');
    else if (role === 'either') a.eitherVotes++; // (contended++ above bumped the version)
    else if (role !== null) vote(a, role);
    if (o.stack !== '' && roleFromStack(o.stack) !== null) addEvidence(a, { nodeId: NO_NODE_ID, ino: UNKNOWN_INO, path: '', method: 'stack' });
    if (role !== 'i_rwsem' && role !== 'invalidate_lock' && role !== 'either') return;
    if (entry) addEvidence(a, { nodeId: entry.nodeId, ino: entry.ino, path: '', method: 'iomap_entry' });
    if (sys && sys.path !== '') {
      const nodeId = nodeIdBySuffix(nodeIdByPath, sys.path);
      addEvidence(a, { nodeId, ino: UNKNOWN_INO, path: sys.path, method: 'syscall_fd' });
    }
  }

  function finish(): LockPlan {
    // Waits the trace never shows ending (the excerpt stopped while the task was blocked): a blocked
    // task traces nothing more, so its context is still the wait's. They are real evidence: decided
    // like the others, and their lock_wait is kept (the span pairing marks it unfinished).
    for (const [task, o] of open) decide(o, task);
    for (const task of inFlight.keys()) settleBothLocks(task);
    const { attributions, resolved } = resolveAll();

    // Derived events right after their contention events; the attribution before the first of them.
    const after = new Map<number, TraceEvent>();
    const before = new Map<number, TraceEvent>();
    const noted = new Set<bigint>();
    for (const o of pending) {
      const addr = o.begin.lockAddr;
      const att = resolved.get(addr);
      if (!att) continue;
      if (!noted.has(addr)) {
        noted.add(addr);
        before.set(o.beginAt, attributionInstant(o.begin, att));
      }
      const d = derivedOf(o, att);
      after.set(o.beginAt, d.wait);
      if (d.acquire !== null) after.set(o.endAt, d.acquire);
    }
    return { attributions, before, after };
  }

  /** Each address resolved from the evidence so far (finish() first decides the waits still open). */
  function resolveAll(): { attributions: LockAttribution[]; resolved: Map<bigint, LockAttribution> } {
    const attributions: LockAttribution[] = [];
    const resolved = new Map<bigint, LockAttribution>();
    const groupMembers = inodes.members();
    /** The file a lock's evidence names (a nodeid, or a kernel filesystem's dev:ino), '' none or several. */
    const fileKey = (a: AddrInfo): string => {
      const nodeIds = new Set(a.evidence.filter((e) => e.nodeId !== 0).map((e) => e.nodeId));
      const kernel = new Set(a.evidence.filter((e) => e.nodeId === 0 && e.fsDev !== undefined).map((e) => `${e.fsDev}:${e.ino}`));
      if (nodeIds.size === 1) return `n${[...nodeIds][0]}`;
      return nodeIds.size === 0 && kernel.size === 1 ? `k${[...kernel][0]}` : '';
    };
    // Locks the rules name firmly first; then a file's lock known only as "i_rwsem or
    // invalidate_lock" is the one of the two that the file's other address is not.
    const eitherOnly: Array<[bigint, AddrInfo]> = [];
    const firmByFile = new Map<string, Map<LockName, bigint>>();
    for (const [addr, a] of addrs) {
      const firm = [...a.lockVotes.keys()].length > 0;
      if (!firm && a.eitherVotes > 0) { eitherOnly.push([addr, a]); continue; }
      const att = resolveAddr(addr, a, null, '');
      const key = fileKey(a);
      if (att.lock !== 'unknown' && key !== '') {
        let m = firmByFile.get(key);
        if (!m) firmByFile.set(key, (m = new Map()));
        m.set(att.lock, m.has(att.lock) && m.get(att.lock) !== addr ? -1n : addr);
      }
    }
    for (const [addr, a] of eitherOnly) {
      const other = firmByFile.get(fileKey(a));
      const rw = other?.get('i_rwsem');
      const inval = other?.get('invalidate_lock');
      let lock: LockName | null = null;
      // -1: two addresses claim that lock of the file (a reused address?): tells nothing.
      if (rw === -1n || inval === -1n) lock = null;
      else if (rw !== undefined && rw !== addr && inval === undefined) lock = 'invalidate_lock';
      else if (inval !== undefined && inval !== addr && rw === undefined) lock = 'i_rwsem';
      resolveAddr(addr, a, lock, lock === null
        ? 'ftruncate/fallocate/O_TRUNC take both i_rwsem and invalidate_lock exclusive, and no other evidence tells which this is'
        : '');
    }

    function resolveAddr(addr: bigint, a: AddrInfo, forced: LockName | null, forcedReason: string): LockAttribution {
      const votes = [...a.lockVotes.entries()].filter(([l]) => l !== 'unknown');
      let lock: LockName = 'unknown';
      let reason = '';
      if (forced !== null) lock = forced;
      else if (forcedReason !== '') reason = forcedReason;
      else if (votes.length === 1 && !a.lockVotes.has('unknown')) lock = votes[0]![0];
      else if (votes.length === 0) reason = 'no stack, iomap entry or I/O syscall names the lock';
      else reason = `evidence disagrees on the lock: ${[...a.lockVotes.keys()].join(' vs ')}`;
      const nodeIds = new Set(a.evidence.filter((e) => e.nodeId !== 0).map((e) => e.nodeId));
      const paths = new Set(a.evidence.filter((e) => e.path !== '').map((e) => e.path));
      let nodeId = NO_NODE_ID;
      let path = '';
      if (lock !== 'unknown') {
        if (nodeIds.size > 1) {
          reason = `evidence names several nodeids: ${[...nodeIds].join(', ')}`;
          lock = 'unknown';
        } else if (paths.size > 1) {
          reason = `evidence names several paths: ${[...paths].join(', ')}`;
          lock = 'unknown';
        } else {
          nodeId = nodeIds.size === 1 ? [...nodeIds][0]! : NO_NODE_ID;
          path = paths.size === 1 ? [...paths][0]! : '';
          if (nodeId === 0 && path === '') reason = 'lock role known but no evidence names the inode';
        }
      }
      let ino: Ino | null = null;
      let inoEvidence: Ino[] = [];
      const methods = new Set(a.evidence.map((e) => e.method));
      // A kernel filesystem's lock: no nodeid anywhere, one dev + ino named by the evidence.
      const kernelInodes = new Set(a.evidence.filter((e) => e.nodeId === 0 && e.fsDev !== undefined).map((e) => `${e.fsDev}:${e.ino}`));
      if (lock !== 'unknown' && nodeIds.size === 0) {
        if (kernelInodes.size === 1) {
          ino = a.evidence.find((e) => e.fsDev !== undefined)!.ino;
          inoEvidence = [ino];
          if (path === '') reason = '';
        } else if (kernelInodes.size > 1) {
          reason = `evidence names several inodes: ${[...kernelInodes].join(', ')}`;
          lock = 'unknown';
        }
      }
      if (nodeId !== 0 && inodes.has(nodeId)) {
        const root = inodes.find(nodeId);
        const members = groupMembers.get(root) ?? [nodeId];
        inoEvidence = inodes.inosOfMembers(members);
        if (inoEvidence.length === 1) {
          const only = inoEvidence[0]!;
          ino = only;
          const own = inodes.ownInos(nodeId).includes(only);
          const from = own ? nodeId : members.find((m) => inodes.ownInos(m).includes(only))!;
          methods.add(inoSource.get(`${from}:${only}`) ?? 'inode_tracepoint');
          if (!own) methods.add('link');
        }
      }
      const att: LockAttribution = {
        lockAddr: `0x${addr.toString(16)}`, lock, nodeId: nodeId === 0 ? null : nodeId, ino, path,
        methods: [...methods].sort(), contended: a.contended, unknownReason: reason, inoEvidence,
      };
      attributions.push(att);
      resolved.set(addr, att);
      return att;
    }

    attributions.sort((x, y) => y.contended - x.contended || x.lockAddr.localeCompare(y.lockAddr));
    return { attributions, resolved };
  }

  function awaiting(task: string): boolean {
    return open.has(task) || holding.has(task) || (inFlight.get(task)?.bothLocks.length ?? 0) > 0;
  }
  return {
    step, finish, awaiting, waits: pending,
    forgetWaits: () => { pending.length = 0; },
    current: () => resolveAll().resolved,
    get version() { return version + inodes.version; },
  };
}

/** nodeid whose path is the longest suffix of an application path ('/mnt/x/d1/file' ↔ '/d1/file'). */
function nodeIdBySuffix(nodeIdByPath: Map<string, NodeId>, appPath: string): NodeId {
  let best = NO_NODE_ID;
  let bestLen = 0;
  for (const [p, id] of nodeIdByPath) {
    if (p.length > bestLen && p !== '/' && (appPath === p || appPath.endsWith(p))) {
      best = id;
      bestLen = p.length;
    }
  }
  return best;
}
