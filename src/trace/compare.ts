// A vs B: the figures `fusescope diff` prints and the compare view will show. Pure functions of
// two stores; nothing here knows where the stores came from.
//
// Run totals come from accountRun (accounting.ts), so `diff` and `summary`'s accounting agree on
// what "bytes moved", "upcalls per MiB" and "lock wait" mean. Two runs rarely cover the same
// virtual time or move the same bytes (a fixed event budget buys the ext4 baseline twice the
// data), so the table leads with rates: throughput, upcalls per MiB, lock wait per MiB moved.
// Added here: per opcode, request count and upcall latency percentiles (fuse_send → fuse_reply
// by unique); lock wait p99. A figure with nothing to measure (no cache lookups, an opcode one
// side never sent) is NaN, printed "—", never 0; so is one that involves an untimed event
// (untimed.ts: pasted lines, or a log, without times): an opcode with such a request has no latency figures.
// A figure that cannot be known is NaN too, with the reason on its row (`DiffRow.unknown`), printed
// "unknown": a trace with no application read or write syscall (a capture without syscall events)
// says nothing of the bytes the applications moved, nor of any rate per MiB or per second of them.

import { NO_APP_IO, accountRun } from './accounting.ts';
import { KIND_CODE } from './schema.ts';
import { opcodeName } from './fuse-proto.ts';
import type { TraceStore } from './store.ts';
import { lockWaitPass } from './lock-waits.ts';
import { isUntimedRow, untimedTaskFlags } from './untimed.ts';

interface OpcodeStats { count: number; p50Ns: number; p90Ns: number; p99Ns: number; maxNs: number }
interface TraceStats {
  events: number;
  /** NaN when some event has no time (untimed.ts). */
  durationNs: number;
  requests: number;
  byOpcode: Map<string, OpcodeStats>;
  /** Bytes moved by successful app reads and writes (accounting.ts); NaN when the trace has none of those syscalls. */
  appBytes: number;
  /** Why appBytes and the figures per MiB and per second of it are unknown; null when known. */
  appIoUnknown: string | null;
  /** appBytes per virtual second, in MiB/s; NaN for a zero-length trace. */
  throughputMiBPerSec: number;
  /** All FUSE requests per MiB moved; NaN when nothing moved. */
  upcallsPerMiB: number;
  /** FUSE_IOMAP_BEGIN + END + IOEND per MiB moved; NaN when nothing moved. */
  iomapUpcallsPerMiB: number;
  /** Sent IOENDs carrying UNWRITTEN: one server conversion each. */
  unwrittenConversions: number;
  cacheLookups: number;
  /** NaN when there was no lookup (no cache, or the ext4 baseline). */
  cacheHitRate: number;
  /** Completed waits (lock_wait followed by that task's lock_acquire). */
  lockWaits: number;
  lockWaitTotalNs: number;
  /** lockWaitTotalNs per MiB moved; NaN when nothing moved. */
  lockWaitNsPerMiB: number;
  lockWaitP99Ns: number;
  lockWaitMaxNs: number;
}

const MIB = 1024 * 1024;

/** The rows that are figures of the applications' bytes. */
const APP_IO_METRICS = new Set(['app data moved', 'throughput', 'upcalls per MiB', 'iomap upcalls per MiB', 'lock wait per MiB']);

/** Nearest-rank percentile of sorted values (NaN if empty). */
function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function traceStats(store: TraceStore): TraceStats {
  const waits = lockWaitPass(store);
  const acc = accountRun(store, waits);
  const kinds = store.kinds;
  const ts = store.tsNs;
  const unique = store.fieldCol('unique');
  const opcode = store.col('opcode');
  const task = store.col('task');
  const untimed = untimedTaskFlags(store);
  const sent = new Map<number, { tsNs: number; opcode: number; untimed: boolean }>();
  /** Opcodes with a request whose send or reply is untimed: their latencies are unknown. */
  const latUnknown = new Set<number>();
  const lat = new Map<number, number[]>();
  const counts = new Map<number, number>();
  const waitsNs = waits.waitNs;
  let requests = 0;
  // task_process rows say which process a task is in: metadata, not traced events (summary and the page count them out too).
  let processRows = 0;
  for (let row = 0; row < store.length; row++) {
    switch (kinds[row]) {
      case KIND_CODE.task_process:
        processRows++;
        break;
      case KIND_CODE.fuse_send:
        requests++;
        counts.set(opcode[row]!, (counts.get(opcode[row]!) ?? 0) + 1);
        sent.set(unique[row]!, { tsNs: ts[row]!, opcode: opcode[row]!, untimed: isUntimedRow(untimed, task, row) });
        break;
      case KIND_CODE.fuse_reply: {
        const s = sent.get(unique[row]!);
        if (!s) break;
        sent.delete(unique[row]!);
        if (s.untimed || isUntimedRow(untimed, task, row)) { latUnknown.add(s.opcode); break; }
        let list = lat.get(s.opcode);
        if (!list) lat.set(s.opcode, (list = []));
        list.push(ts[row]! - s.tsNs);
        break;
      }
      default:
        break;
    }
  }
  const byOpcode = new Map<string, OpcodeStats>();
  for (const [code, count] of [...counts].sort((a, b) => b[1] - a[1])) {
    const sorted = latUnknown.has(code) ? new Float64Array(0) : Float64Array.from(lat.get(code) ?? []).sort();
    byOpcode.set(opcodeName(code), {
      count, p50Ns: percentile(sorted, 50), p90Ns: percentile(sorted, 90), p99Ns: percentile(sorted, 99),
      maxNs: sorted.length ? sorted[sorted.length - 1]! : Number.NaN,
    });
  }
  const appIoUnknown = acc.appDataOps === 0 ? NO_APP_IO : null;
  const mib = appIoUnknown ? Number.NaN : acc.bytesMoved / MIB;
  const perMiB = (n: number): number => (mib > 0 ? n / mib : Number.NaN);
  const iomapUpcalls = ['FUSE_IOMAP_BEGIN', 'FUSE_IOMAP_END', 'FUSE_IOMAP_IOEND']
    .reduce((sum, name) => sum + (acc.upcallsByOpcode[name] ?? 0), 0);
  const durationNs = acc.durationNs ?? Number.NaN;
  const waitsKnown = acc.lockWaitTotalNs !== null;
  return {
    events: store.length - processRows, durationNs, requests, byOpcode, appBytes: appIoUnknown ? Number.NaN : acc.bytesMoved, appIoUnknown,
    // accountRun's: unknown without app IO, or when an untimed event moved bytes (untimed.ts).
    throughputMiBPerSec: acc.throughputBytesPerSec === null ? Number.NaN : acc.throughputBytesPerSec / MIB,
    upcallsPerMiB: perMiB(requests), iomapUpcallsPerMiB: perMiB(iomapUpcalls),
    unwrittenConversions: acc.unwrittenConversions,
    cacheLookups: acc.cacheLookups, cacheHitRate: acc.cacheHitRate ?? Number.NaN,
    lockWaits: acc.lockWaits, lockWaitTotalNs: acc.lockWaitTotalNs ?? Number.NaN, lockWaitNsPerMiB: perMiB(acc.lockWaitTotalNs ?? Number.NaN),
    lockWaitP99Ns: waitsKnown ? percentile(Float64Array.from(waitsNs).sort(), 99) : Number.NaN,
    lockWaitMaxNs: waitsNs.length > 0 && acc.lockWaitMaxNs !== null ? acc.lockWaitMaxNs : Number.NaN,
  };
}

export interface DiffRow {
  metric: string;
  unit: string;
  a: number;
  b: number;
  /** b / a; NaN when a is 0 or either side is NaN (printed "—", or "new" when only B has it). */
  ratio: number;
  /** A side whose figure cannot be known, with why (its value is NaN): printed "unknown". */
  unknown?: { a?: string; b?: string };
}

export function diffStats(a: TraceStats, b: TraceStats): DiffRow[] {
  const rows: DiffRow[] = [];
  const add = (metric: string, unit: string, va: number, vb: number): void => {
    const row: DiffRow = { metric, unit, a: va, b: vb, ratio: va !== 0 && Number.isFinite(va) && Number.isFinite(vb) ? vb / va : Number.NaN };
    if (APP_IO_METRICS.has(metric) && (a.appIoUnknown || b.appIoUnknown)) {
      row.unknown = { ...(a.appIoUnknown ? { a: a.appIoUnknown } : {}), ...(b.appIoUnknown ? { b: b.appIoUnknown } : {}) };
    }
    rows.push(row);
  };
  add('events', 'events', a.events, b.events);
  add('duration', 'ms', a.durationNs / 1e6, b.durationNs / 1e6);
  add('app data moved', 'MiB', a.appBytes / MIB, b.appBytes / MIB);
  add('throughput', 'MiB/s', a.throughputMiBPerSec, b.throughputMiBPerSec);
  add('FUSE requests', 'requests', a.requests, b.requests);
  add('upcalls per MiB', 'req/MiB', a.upcallsPerMiB, b.upcallsPerMiB);
  add('iomap upcalls per MiB', 'req/MiB', a.iomapUpcallsPerMiB, b.iomapUpcallsPerMiB);
  add('unwritten conversions', 'ioends', a.unwrittenConversions, b.unwrittenConversions);
  add('cache hit rate', '%', a.cacheHitRate * 100, b.cacheHitRate * 100);
  add('lock waits', 'waits', a.lockWaits, b.lockWaits);
  add('lock wait total', 'µs', a.lockWaitTotalNs / 1e3, b.lockWaitTotalNs / 1e3);
  add('lock wait per MiB', 'µs/MiB', a.lockWaitNsPerMiB / 1e3, b.lockWaitNsPerMiB / 1e3);
  add('lock wait p99', 'µs', a.lockWaitP99Ns / 1e3, b.lockWaitP99Ns / 1e3);
  add('lock wait max', 'µs', a.lockWaitMaxNs / 1e3, b.lockWaitMaxNs / 1e3);
  const names = [...new Set([...a.byOpcode.keys(), ...b.byOpcode.keys()])];
  const none: OpcodeStats = { count: 0, p50Ns: Number.NaN, p90Ns: Number.NaN, p99Ns: Number.NaN, maxNs: Number.NaN };
  for (const name of names) {
    const x = a.byOpcode.get(name) ?? none;
    const y = b.byOpcode.get(name) ?? none;
    add(`${name} count`, 'requests', x.count, y.count);
    add(`${name} p50`, 'µs', x.p50Ns / 1e3, y.p50Ns / 1e3);
    add(`${name} p90`, 'µs', x.p90Ns / 1e3, y.p90Ns / 1e3);
    add(`${name} p99`, 'µs', x.p99Ns / 1e3, y.p99Ns / 1e3);
    add(`${name} max`, 'µs', x.maxNs / 1e3, y.maxNs / 1e3);
  }
  return rows;
}

/** Thousands separators; 1 decimal from 100 up, 3 below; "—" for NaN (nothing to measure). */
const num = (v: number): string => {
  if (Number.isNaN(v)) return '—';
  const digits = Number.isInteger(v) ? 0 : Math.abs(v) >= 100 ? 1 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};

/** One side's figure as printed (here and in the compare view): "unknown" when it has a reason, else the number. */
export function figureText(r: DiffRow, side: 'a' | 'b'): string {
  return r.unknown?.[side] ? 'unknown' : num(r[side]);
}

/** B/A as printed: `1.23×`; "new" when only B has it; "—" when there is nothing to divide or a side is unknown. */
export function ratioText(r: DiffRow): string {
  if (r.unknown) return '—';
  if (!Number.isNaN(r.ratio)) return `${r.ratio.toFixed(2)}×`;
  return (r.a === 0 || Number.isNaN(r.a)) && r.b > 0 ? 'new' : '—';
}

/** Why figures of a side are unknown, one line per side and reason: `unknown in A (app data moved, throughput): …`. */
export function unknownNotes(rows: readonly DiffRow[], labelA = 'A', labelB = 'B'): string[] {
  const notes: string[] = [];
  for (const [side, label] of [['a', labelA], ['b', labelB]] as const) {
    const byWhy = new Map<string, string[]>();
    for (const r of rows) {
      const why = r.unknown?.[side];
      if (why) byWhy.set(why, [...(byWhy.get(why) ?? []), r.metric]);
    }
    for (const [why, metrics] of byWhy) notes.push(`unknown in ${label} (${metrics.join(', ')}): ${why}`);
  }
  return notes;
}

/** Plain-text table: metric, unit, A, B, B/A; then why any figure is unknown. */
export function formatDiff(rows: readonly DiffRow[], labelA = 'A', labelB = 'B'): string {
  const cells = rows.map((r) => [r.metric, r.unit, figureText(r, 'a'), figureText(r, 'b'), ratioText(r)]);
  const head = ['metric', 'unit', labelA, labelB, 'B/A'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]): string => c.map((v, i) => (i >= 2 ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const notes = unknownNotes(rows, labelA, labelB);
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line), ...(notes.length ? ['', ...notes] : [])].join('\n') + '\n';
}
