// Per-run accounting: the figures docs/domain.md §7 argues with (upcalls per MiB moved,
// cache hit rate, unwritten conversions, lock wait, throughput), computed from events alone so it
// works for simulator runs and imported traces alike. Plain JSON-serialisable; `fusescope
// summary` puts it under the `accounting` key.
//
//   bytes moved   = Σ ret of successful app read/write ops (pread, pwrite, read, write), the FUSE
//                   server's own left out: a thread whose comm is that of a thread that answers
//                   requests (fuse_reply: fuse_request_end runs in the replying thread) or reads them
//                   (fuse_recv) is the server — its /dev/fuse and image IO is not application data
//                   (counted apart: serverBytes)
//   upcalls/MiB   = fuse_send count per opcode name ÷ (bytes moved / 1 MiB)
//   cache hit     = cache_lookup with hit ÷ cache_lookup that found or missed (a lookup of an
//                   absent fork — no write fork on an in-place server — is neither, §3.3)
//   conversions   = iomap_ioend with sent && UNWRITTEN flag (each one is a server conversion upcall)
//   lock wait     = lock_wait → the same task's next lock_acquire of that lock and nodeid; a wait
//                   with no such acquire did not end in the trace: counted in lockWaitsUnfinished,
//                   in no total
//   throughput    = bytes moved ÷ virtual duration (first to last event)
// Where the figures come from, so a view can say it: cache events at all (else a stale-cookie 0
// checked nothing), the simulator's stale-use instants (validation off), ioend rows and iomap
// upcalls (else a conversion 0 is no kernel's), and fusescope's own server's `fusescope-mount`
// instant, whose presence means the iomap events were derived by that server, not traced.
// A trace with untimed events (untimed.ts: pasted lines, a log without times): the duration is the
// span of its timed events (null when none is timed); the throughput and any lock-wait figure over an
// untimed wait are null when untimed events enter them; `timesUnknown` counts those events and says
// why. Counts stay: they need no time.

import { IoendFlag, opcodeName } from './fuse-proto.ts';
import { ENUMS, KIND_CODE } from './schema.ts';
import type { TraceStore } from './store.ts';
import { lockWaitPass, type LockWaitPass } from './lock-waits.ts';
import { isUntimedRow, untimedReason, untimedTaskFlags } from './untimed.ts';

/** Why the applications' bytes, and every rate of them, are unknown when appDataOps is 0 (the views and `diff` say it). */
export const NO_APP_IO = 'no application read or write syscall is in the trace';

export interface Accounting {
  /** Virtual (trace) time from the first to the last event; null when some event has no time. */
  durationNs: number | null;
  /**
   * Application read/write syscalls that ended in the trace (any return). 0: none was traced (a
   * capture without syscall events, a kernel-only trace), so bytesMoved is not "nothing moved" but
   * unknown, and so are the throughput and the per-MiB figures: the page says so.
   */
  appDataOps: number;
  /** Bytes returned by successful data ops (reads + writes). */
  bytesMoved: number;
  bytesRead: number;
  bytesWritten: number;
  /** Bytes the FUSE server's own threads read and wrote (not in bytesMoved; see the file comment). */
  serverBytes: number;
  /** The comms taken as the server's (those of the threads that reply to or receive requests). */
  serverComms: string[];
  /** Requests sent, by opcode name (FUSE_IOMAP_BEGIN …). */
  upcallsByOpcode: Record<string, number>;
  /** upcallsByOpcode ÷ MiB moved; empty when nothing moved. */
  upcallsPerMiB: Record<string, number>;
  /** iomap upcalls (BEGIN + END + IOEND) per MiB moved; 0 when nothing moved. */
  iomapUpcallsPerMiB: number;
  /** Lookups that hit or missed (absent-fork lookups not included). */
  cacheLookups: number;
  cacheHits: number;
  /** Lookups of a fork that does not exist (forkAbsent): fell through to the read fork. */
  cacheAbsentForkLookups: number;
  /** hits ÷ lookups, null when there was no lookup (no cache, or rfc-v1). */
  cacheHitRate: number | null;
  /** Stale cookies detected (cache_stale). */
  staleMappings: number;
  /** Mapping-cache events (cache_*): without any, "stale cookies 0" checked nothing. */
  cacheEvents: number;
  /** Stale mappings used that nothing caught: the simulator's oracle instants (stale_mapping_used), seen with cookie validation off. */
  staleMappingsUsed: number;
  /** iomap_ioend rows (sent or not): with none and no iomap upcall, the trace shows no ioend path at all. */
  ioendEvents: number;
  /** FUSE_IOMAP_BEGIN/END/IOEND requests sent: the kernel's fuse-iomap upcalls. */
  iomapUpcalls: number;
  /**
   * Set when the iomap steps, mappings and ioends were derived by fusescope's own FUSE server
   * (its `fusescope-mount` instant; docs/fuse-server.md), not traced from a kernel: that instant's text.
   */
  derivedIomapNote: string | null;
  /** Sent IOEND upcalls carrying the UNWRITTEN flag. */
  unwrittenConversions: number;
  /** Sum and max of the lock waits that ended, over all locks; null when one of them has an untimed end. */
  lockWaitTotalNs: number | null;
  lockWaitMaxNs: number | null;
  /** Lock waits that ended in the trace. */
  lockWaits: number;
  /** Lock waits that did not end in the trace (no acquire followed): no duration, counted apart. */
  lockWaitsUnfinished: number;
  /** bytesMoved per virtual second (0 for a zero-length trace; null when the duration is unknown or no application IO was traced). */
  throughputBytesPerSec: number | null;
  /** Present when some events have no time: how many, and why the figures above are null. */
  /** untimedBytes: bytes moved by untimed reads/writes (then the throughput is unknown). */
  timesUnknown?: { untimedEvents: number; untimedLockWaits: number; untimedBytes: number; reason: string };
}

const BYTES_PER_MIB = 1024 * 1024;
/** The instant fusescope's own FUSE server sends first: its iomap events are derived (docs/fuse-server.md). */
const DERIVED_BY_INSTANT = 'fusescope-mount';
const IOMAP_OPCODES = new Set([4093, 4094, 4095]);

/** `waits`: the trace's lock waits, when the caller has paired them already (summary, traceStats). */
export function accountRun(store: TraceStore, waits: LockWaitPass = lockWaitPass(store)): Accounting {
  const K = KIND_CODE;
  const kinds = store.kinds;
  const opcode = store.col('opcode');
  const hit = store.col('hit');
  const forkAbsent = store.col('forkAbsent');
  const ioendFlags = store.col('ioendFlags');
  const sent = store.col('sent');
  const ret = store.fieldCol('ret');
  const opCol = store.col('op');
  // The store keeps an enum value as its index in ENUMS.op.
  const readOps = new Set<number>([ENUMS.op.indexOf('read'), ENUMS.op.indexOf('pread')]);
  const writeOps = new Set<number>([ENUMS.op.indexOf('write'), ENUMS.op.indexOf('pwrite')]);

  const upcallsByOpcode: Record<string, number> = {};
  let iomapUpcalls = 0;
  // Read/write bytes per task id, split into app and server once the server's threads are known.
  const readByTask = new Map<number, number>(), writtenByTask = new Map<number, number>();
  const dataOpsByTask = new Map<number, number>();
  const serverTasks = new Set<number>();
  const taskCol = store.col('task');
  let cacheLookups = 0, cacheHits = 0, cacheAbsentForkLookups = 0, staleMappings = 0, unwrittenConversions = 0;
  let cacheEvents = 0, staleMappingsUsed = 0, ioendEvents = 0, derivedRow = -1;
  const nameCol = store.col('name');
  // -1 when never interned: no row carries it.
  const staleUsedName = store.strings.find('stale_mapping_used');
  const mountName = store.strings.find(DERIVED_BY_INSTANT);
  for (let row = 0; row < store.length; row++) {
    switch (kinds[row]) {
      case K.fuse_send: {
        const name = opcodeName(opcode[row]!);
        upcallsByOpcode[name] = (upcallsByOpcode[name] ?? 0) + 1;
        if (IOMAP_OPCODES.has(opcode[row]!)) iomapUpcalls++;
        break;
      }
      case K.app_op_end: {
        const t = taskCol[row]!;
        if (readOps.has(opCol[row]!) || writeOps.has(opCol[row]!)) dataOpsByTask.set(t, (dataOpsByTask.get(t) ?? 0) + 1);
        const r = ret[row]!;
        if (r <= 0) break;
        if (readOps.has(opCol[row]!)) readByTask.set(t, (readByTask.get(t) ?? 0) + r);
        else if (writeOps.has(opCol[row]!)) writtenByTask.set(t, (writtenByTask.get(t) ?? 0) + r);
        break;
      }
      case K.fuse_reply: case K.fuse_recv:
        serverTasks.add(taskCol[row]!);
        break;
      case K.instant:
        if (nameCol[row] === staleUsedName) staleMappingsUsed++;
        else if (nameCol[row] === mountName && derivedRow < 0) derivedRow = row;
        break;
      case K.cache_upsert: case K.cache_inval: case K.cache_drop:
        cacheEvents++;
        break;
      case K.cache_lookup:
        cacheEvents++;
        if (forkAbsent[row]) { cacheAbsentForkLookups++; break; }
        cacheLookups++;
        if (hit[row]) cacheHits++;
        break;
      case K.cache_stale: staleMappings++; cacheEvents++; break;
      case K.iomap_ioend:
        ioendEvents++;
        if (sent[row] && (ioendFlags[row]! & IoendFlag.UNWRITTEN) !== 0) unwrittenConversions++;
        break;
      default:
        break;
    }
  }
  let lockWaitTotalNs = 0, lockWaitMaxNs = 0, untimedLockWaits = 0;
  for (const waitNs of waits.waitNs) {
    if (Number.isNaN(waitNs)) { untimedLockWaits++; continue; }
    lockWaitTotalNs += waitNs;
    if (waitNs > lockWaitMaxNs) lockWaitMaxNs = waitNs;
  }
  const lockWaits = waits.waitNs.length;
  const lockWaitsUnfinished = waits.unfinishedRows.length;
  const serverComms = new Set([...serverTasks].map((t) => commOf(store.strings.get(t))));
  const isServer = new Map<number, boolean>();
  const serverTask = (t: number): boolean => {
    let v = isServer.get(t);
    if (v === undefined) isServer.set(t, (v = serverComms.has(commOf(store.strings.get(t)))));
    return v;
  };
  let bytesRead = 0, bytesWritten = 0, serverBytes = 0;
  for (const [t, n] of readByTask) if (serverTask(t)) serverBytes += n; else bytesRead += n;
  for (const [t, n] of writtenByTask) if (serverTask(t)) serverBytes += n; else bytesWritten += n;
  let appDataOps = 0;
  for (const [t, n] of dataOpsByTask) if (!serverTask(t)) appDataOps += n;
  const bytesMoved = bytesRead + bytesWritten;
  const mib = bytesMoved / BYTES_PER_MIB;
  const upcallsPerMiB: Record<string, number> = {};
  if (mib > 0) for (const [name, n] of Object.entries(upcallsByOpcode)) upcallsPerMiB[name] = n / mib;
  // An untimed event's place in time is unknown: the duration is the span of the timed events (a
  // kernel capture joined with a log keeps its real span; a wholly untimed trace has none), and the
  // throughput is unknown when an untimed event moved bytes (they may lie outside that span).
  let durationNs: number | null = store.length > 0 ? store.endNs - store.startNs : 0;
  let untimedEvents = 0, untimedBytes = 0;
  const flags = untimedTaskFlags(store); // null: every event is timed (no scan)
  if (flags !== null) {
    const task = store.col('task');
    const ts = store.tsNs;
    let first = -1, last = -1;
    for (let row = 0; row < store.length; row++) {
      if (isUntimedRow(flags, task, row)) {
        untimedEvents++;
        if (kinds[row] === K.app_op_end && ret[row]! > 0 && (readOps.has(opCol[row]!) || writeOps.has(opCol[row]!)) && !serverTask(task[row]!)) untimedBytes += ret[row]!;
        continue;
      }
      if (first < 0) first = row;
      last = row;
    }
    if (untimedEvents > 0) durationNs = first < 0 ? null : ts[last]! - ts[first]!;
  }
  const waitsKnown = untimedLockWaits === 0;
  return {
    durationNs, appDataOps, bytesMoved, bytesRead, bytesWritten, serverBytes, serverComms: [...serverComms].sort(), upcallsByOpcode, upcallsPerMiB,
    iomapUpcallsPerMiB: mib > 0 ? iomapUpcalls / mib : 0,
    cacheLookups, cacheHits, cacheAbsentForkLookups, cacheHitRate: cacheLookups > 0 ? cacheHits / cacheLookups : null,
    staleMappings, unwrittenConversions, cacheEvents, staleMappingsUsed, ioendEvents, iomapUpcalls,
    derivedIomapNote: derivedRow < 0 ? null : store.strings.get(store.col('text')[derivedRow]!),
    lockWaitTotalNs: waitsKnown ? lockWaitTotalNs : null, lockWaitMaxNs: waitsKnown ? lockWaitMaxNs : null, lockWaits, lockWaitsUnfinished,
    throughputBytesPerSec: durationNs === null || untimedBytes > 0 || appDataOps === 0 ? null : durationNs > 0 ? bytesMoved / (durationNs / 1e9) : 0,
    ...(untimedEvents > 0 ? { timesUnknown: { untimedEvents, untimedLockWaits, untimedBytes, reason: `${untimedEvents} event${untimedEvents === 1 ? ' is' : 's are'} ${untimedReason(store)}: ` +
      `${durationNs === null ? 'the trace\'s duration is unknown' : 'the duration covers the timed events only'}${untimedBytes > 0 || durationNs === null ? ', the throughput is unknown' : ''}, and the lock waits that involve them are unknown` } } : {}),
  };
}

/** A task id's comm: `dd/4242` → `dd`; a task without a pid is its own comm. */
function commOf(task: string): string {
  const slash = task.lastIndexOf('/');
  return slash > 0 && /^\d+$/.test(task.slice(slash + 1)) ? task.slice(0, slash) : task;
}
