// `fusescope summary`: one JSON object per set of files. The top-level keys are a stable contract
// (later sources fill them from real traces); add keys, never rename or remove them.

import { KIND_FAMILY, KINDS, KIND_CODE, type EventOf, type Family } from './schema.ts';
import { lockSummaryRows } from './derive/locks.ts';
import { opcodeName } from './fuse-proto.ts';
import type { TraceStore } from './store.ts';
import { accountRun, type Accounting } from './accounting.ts';
import { lockCols, lockKeyAt, lockWaitPass } from './lock-waits.ts';
import { formatDiag, type ParseDiag } from './import/diagnostics.ts';
import { AliasIndex } from './derive/aliases.ts';
import { SpanIndex, SpanKind } from './spans.ts';
import { OpFlag } from './fuse-proto.ts';
import { countFindings, runChecks, type Finding } from './checks/index.ts';

export interface AliasGroup {
  /** On-disk inode number from evidence (a reply's st_ino, the INODE prefix); null when unknown or when the evidence disagrees. */
  ino: number | null;
  /** Every inode number the evidence names for the group: [] unknown, one, or several (they disagree). */
  inoEvidence: number[];
  nodeids: number[];
  paths: string[];
}
export interface LockSummary {
  /** `i_rwsem`, `invalidate_lock`, or `unknown`. */
  lock: string;
  ino: number | null;
  nodeid: number | null;
  /** Lock addresses the trace showed for it (lock_contention, derived lock events), hex; [] = not traced. */
  lockAddrs: string[];
  /** Times a task waited for the lock and the trace shows the wait end (the durations are theirs). */
  contended: number;
  /** Waits for the lock the trace does not show ending: no duration, counted apart. */
  unfinished: number;
  /** Sum and max of the ended waits; null when one of them has an untimed end (untimed.ts: its length is unknown). */
  waitNsTotal: number | null;
  waitNsMax: number | null;
  /** Ended waits whose length is unknown (an end from a pasted line without time). */
  untimedWaits: number;
}
export interface Summary {
  events: { total: number; byFamily: Partial<Record<Family, number>> };
  requests: { byOpcode: Record<string, number> };
  aliasGroups: AliasGroup[];
  locks: LockSummary[];
  /**
   * hits/misses: lookups that found or missed (absent: a fork that does not exist, neither);
   * upserts: accepted by the kernel (upsertsRejected: refused); invalidations: cache_inval +
   * cache_drop, also by reason (invalsByReason, dropsByReason).
   */
  cache: {
    hits: number; misses: number; upserts: number; invalidations: number;
    absent: number; upsertsRejected: number; invalsByReason: Record<string, number>; dropsByReason: Record<string, number>;
  };
  /**
   * iomap steps (iomap_begin → its end, spans.ts) and ioends. `stepNsTotal` sums the steps whose
   * both ends the trace shows (`stepsUnended`: the others, in no total); writeback steps (opflags WRITEBACK)
   * are counted apart because no tracepoint marks where a writeback mapping stops being used
   * (iomap_writepages keeps it in its context): their "duration" runs to the next closer.
   */
  iomap: {
    steps: number; stepsUnended: number; stepNsTotal: number | null;
    writebackSteps: number; writebackStepsUnended: number; writebackStepNsTotal: number | null;
    ioends: number; ioendsSent: number;
    /** Steps with an untimed end (pasted lines without times): counted, their totals null. */
    stepsUntimed: number; writebackStepsUntimed: number;
  };
  diagnostics: { count: number; first: string[] };
  /** Per-run accounting: upcalls per MiB, cache hit rate, unwritten conversions, lock waits, throughput. */
  accounting: Accounting;
  /** The checkers' findings (src/trace/checks, docs/checks.md): counts by rule and severity, the first few in time order. */
  findings: { count: number; byRule: ReturnType<typeof countFindings>; first: Finding[] };
  /** Rows of imported `perf lock contention` tables (perf's totals, no timeline; -1 = column not printed); absent when none. */
  perfLockContention?: Array<{
    by: string; name: string; task: string; lockAddr: string; lock: string; lockFlags: number; stack: string[];
    contended: number; waitTotalNs: number; waitMaxNs: number; waitMinNs: number; waitAvgNs: number;
  }>;
}

const FIRST_DIAGS = 20;
const FIRST_FINDINGS = 20;

/** `known`: findings already at hand for exactly these rows (a recording's stored ones), else computed. */
function summarizeFindings(store: TraceStore, known?: readonly Finding[]): Summary['findings'] {
  const findings = known ?? runChecks(store).findings;
  return { count: findings.length, byRule: countFindings(findings), first: findings.slice(0, FIRST_FINDINGS) };
}
/** Addresses listed per lock: an unknown lock can gather many. */
const MAX_LOCK_ADDRS = 16;

/** `findings`: the checkers' findings over exactly these rows when the caller has them (a recording's stored ones); computed otherwise. */
export function summarize(store: TraceStore, parseDiags: readonly ParseDiag[] = [], parseDiagCount = parseDiags.length, findings?: readonly Finding[]): Summary {
  const byFamily: Partial<Record<Family, number>> = {};
  const byOpcode: Record<string, number> = {};
  const locks = new Map<string, LockSummary>();
  const cache: Summary['cache'] = { hits: 0, misses: 0, upserts: 0, invalidations: 0, absent: 0, upsertsRejected: 0, invalsByReason: {}, dropsByReason: {} };
  const diagFirst: string[] = parseDiags.slice(0, FIRST_DIAGS).map(formatDiag);
  let diagCount = parseDiagCount;

  const kinds = store.kinds;
  const nodeId = store.fieldCol('nodeId');
  const ino = store.fieldCol('ino');
  const opcode = store.col('opcode');
  const hit = store.col('hit');
  const forkAbsent = store.col('forkAbsent');
  const rejected = store.col('rejected');
  const lockC = lockCols(store);
  const sent = store.col('sent');
  const iomap: Summary['iomap'] = {
    steps: 0, stepsUnended: 0, stepNsTotal: 0, writebackSteps: 0, writebackStepsUnended: 0, writebackStepNsTotal: 0, ioends: 0, ioendsSent: 0,
    stepsUntimed: 0, writebackStepsUntimed: 0,
  };
  const K = KIND_CODE;
  // task_process rows say which process a task is in: metadata the source knew, not events it traced.
  let processRows = 0;
  for (let row = 0; row < store.length; row++) {
    const k = kinds[row]!;
    if (k === K.task_process) { processRows++; continue; }
    const family = KIND_FAMILY[KINDS[k]!];
    byFamily[family] = (byFamily[family] ?? 0) + 1;
    switch (k) {
      case K.fuse_send: {
        const name = opcodeName(opcode[row]!);
        byOpcode[name] = (byOpcode[name] ?? 0) + 1;
        break;
      }
      case K.cache_lookup:
        if (forkAbsent[row]) cache.absent++;
        else if (hit[row]) cache.hits++;
        else cache.misses++;
        break;
      case K.cache_upsert:
        if (rejected[row]) cache.upsertsRejected++;
        else cache.upserts++;
        break;
      case K.cache_inval: case K.cache_drop: {
        cache.invalidations++;
        const by = k === K.cache_inval ? cache.invalsByReason : cache.dropsByReason;
        const reason = store.readField('reason', row) as string;
        by[reason] = (by[reason] ?? 0) + 1;
        break;
      }
      case K.lock_wait: {
        // Every wait makes the lock contended; below, each is counted as ended (with its
        // duration) or unfinished.
        const key = lockKeyAt(lockC, row);
        let s = locks.get(key);
        if (!s) {
          s = {
            lock: store.readField('lock', row) as string, ino: ino[row]! || null, nodeid: nodeId[row]! || null,
            lockAddrs: [], contended: 0, unfinished: 0, waitNsTotal: 0, waitNsMax: 0, untimedWaits: 0,
          };
          locks.set(key, s);
        }
        const addr = store.readField('lockAddr', row) as bigint;
        if (addr !== 0n && s.lockAddrs.length < MAX_LOCK_ADDRS) {
          const hex = `0x${addr.toString(16)}`;
          if (!s.lockAddrs.includes(hex)) s.lockAddrs.push(hex);
        }
        break;
      }
      case K.iomap_ioend:
        iomap.ioends++;
        if (sent[row]) iomap.ioendsSent++;
        break;
      case K.diag:
        diagCount++;
        if (diagFirst.length < FIRST_DIAGS) {
          const ev = store.get(row);
          if (ev.kind === 'diag') diagFirst.push(`${ev.file}:${ev.line}: ${ev.message}`);
        }
        break;
      default:
        break;
    }
  }

  const waits = lockWaitPass(store);
  for (let i = 0; i < waits.acquireRows.length; i++) {
    const s = locks.get(lockKeyAt(lockC, waits.acquireRows[i]!));
    if (!s) continue;
    const waitNs = waits.waitNs[i]!;
    s.contended++;
    if (Number.isNaN(waitNs)) { s.untimedWaits++; continue; }
    s.waitNsTotal! += waitNs;
    s.waitNsMax = Math.max(s.waitNsMax!, waitNs);
  }
  for (const s of locks.values()) if (s.untimedWaits > 0) { s.waitNsTotal = null; s.waitNsMax = null; }
  for (const waitRow of waits.unfinishedRows) {
    const s = locks.get(lockKeyAt(lockC, waitRow));
    if (s) s.unfinished++;
  }

  // Step durations: the spans' pairing (what the views draw), over a complete trace.
  const spans = new SpanIndex();
  spans.update(store);
  spans.markComplete();
  const opflags = store.fieldCol('opflags');
  for (let id = 0; id < spans.count; id++) {
    if (spans.kind.data[id] !== SpanKind.iomap) continue;
    const writeback = opflags[spans.beginRow.data[id]!]! >= OpFlag.WRITEBACK;
    const untimed = spans.isUntimed(id);
    const ended = spans.hasDuration(id);
    const durNs = ended ? spans.endNs.data[id]! - spans.startNs.data[id]! : 0;
    if (writeback) {
      iomap.writebackSteps++;
      iomap.writebackStepNsTotal! += durNs;
      if (untimed) iomap.writebackStepsUntimed++;
      else if (!ended) iomap.writebackStepsUnended++;
    } else {
      iomap.steps++;
      iomap.stepNsTotal! += durNs;
      if (untimed) iomap.stepsUntimed++;
      else if (!ended) iomap.stepsUnended++;
    }
  }
  // A total over a step of unknown length is unknown.
  if (iomap.stepsUntimed > 0) iomap.stepNsTotal = null;
  if (iomap.writebackStepsUntimed > 0) iomap.writebackStepNsTotal = null;

  // Alias groups: one on-disk inode reached through several nodeids (libfuse path API, §5.2), by
  // evidence only (derive/aliases.ts: the same real ino, or a LINK).
  const aliases = new AliasIndex();
  aliases.update(store);
  const aliasGroups: AliasGroup[] = aliases.groups().map((g) => ({
    ino: g.ino === 0 ? null : g.ino, inoEvidence: g.inos, nodeids: [...g.nodeIds].sort((a, b) => a - b), paths: g.paths,
  }));

  const perfRows = lockSummaryRows(store).map((row) => {
    const r = store.get(row) as EventOf<'lock_summary'>;
    return {
      by: r.summaryBy, name: r.name, task: r.task as string, lockAddr: r.lockAddr === 0n ? '' : `0x${r.lockAddr.toString(16)}`, lock: r.lock,
      lockFlags: r.lockFlags, stack: r.text === '' ? [] : r.text.split('\n'),
      contended: r.contended, waitTotalNs: r.waitTotalNs, waitMaxNs: r.waitMaxNs, waitMinNs: r.waitMinNs, waitAvgNs: r.waitAvgNs,
    };
  });

  return {
    events: { total: store.length - processRows, byFamily },
    requests: { byOpcode },
    aliasGroups,
    locks: [...locks.values()].filter((l) => l.contended + l.unfinished > 0).sort((a, b) => (b.waitNsTotal ?? -1) - (a.waitNsTotal ?? -1)),
    cache,
    iomap,
    diagnostics: { count: diagCount, first: diagFirst },
    accounting: accountRun(store, waits),
    findings: summarizeFindings(store, findings),
    ...(perfRows.length > 0 ? { perfLockContention: perfRows } : {}),
  };
}
