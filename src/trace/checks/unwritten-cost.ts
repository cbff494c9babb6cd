// unwritten-cost (docs/checks.md): how much of what writes cost went to unwritten-extent conversion,
// per file (nodeid) and per workload. A write into an unwritten extent is finished only when the
// server converts it on FUSE_IOMAP_IOEND with the UNWRITTEN flag (docs/domain.md §2.5); the cover
// letters blame most of the random-write loss on these upcalls (§7).
//
// Write time: write syscalls (app_op write/pwrite, begin → end on one task), or where the trace has
// no syscalls, the series' fuse_iomap_{buffered,direct}_write → _end. Conversion time: each
// FUSE_IOMAP_IOEND whose fuse_iomap_ioend row says UNWRITTEN, from send to reply. An ioend sent
// inside a write (a direct write waits for it) is already in that write's time; one sent outside
// (writeback) is added to the write time, so the share is conversion / (writes + conversions
// outside writes) and never exceeds 1. What the trace cannot pair (a write or upcall cut by the
// end, an IOEND with no ioend row to name its flags) is counted as unknown, never guessed.
import { KIND_CODE, ENUMS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { IoendFlag, Opcode } from '../fuse-proto.ts';
import type { Checker, CheckSettings, Finding, RuleInfo, Unknown } from './types.ts';
import { fmtNs, rowSet } from './text.ts';

const K = KIND_CODE;
const OP_WRITE = ENUMS.op.indexOf('write');
const OP_PWRITE = ENUMS.op.indexOf('pwrite');
/** Key of the workload's totals (no nodeid is 0 on a fuse inode). */
const ALL = 0;

interface Totals {
  writes: number;
  writeNs: number;
  conversions: number;
  conversionNs: number;
  /** Conversion time of IOENDs sent outside any write (writeback): added to the write time. */
  outsideNs: number;
  /** The first conversion's rows (ioend, send, reply) and the first write's (begin, end). */
  firstConversion: number[];
  firstWrite: number[];
  firstNs: number;
  lastNs: number;
}
// Rows are stream rows; the times and fields later rows need are copied (the store may be gone).
interface OpenWrite { beginRow: number; beginNs: number; nodeId: number; fromFsOp: boolean }
interface OpenIoend { sendRow: number; sendNs: number; ioendRow: number; nodeId: number; unwritten: boolean | null; inside: boolean }

function totals(): Totals {
  return { writes: 0, writeNs: 0, conversions: 0, conversionNs: 0, outsideNs: 0, firstConversion: [], firstWrite: [], firstNs: Infinity, lastNs: -Infinity };
}

class UnwrittenCostChecker implements Checker {
  readonly rule = 'unwritten-cost' as const;
  private readonly byNode = new Map<number, Totals>([[ALL, totals()]]);
  private readonly writes = new Map<number, OpenWrite>();
  /** Per task: its last fuse_iomap_ioend row that said FUSE_IOMAP_IOEND goes out, until that send. */
  private readonly lastIoend = new Map<number, { row: number; nodeId: number; flags: number }>();
  private readonly ioends = new Map<number, OpenIoend>();
  private unknownFlags = 0;
  /** Whether write syscalls were seen: then the series' write tracepoints are not counted again. */
  private sawSyscalls = false;

  constructor(private readonly warnShare: number) {}

  private of(nodeId: number): Totals {
    let t = this.byNode.get(nodeId);
    if (!t) { t = totals(); this.byNode.set(nodeId, t); }
    return t;
  }

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const task = store.col('task');
    const op = store.col('op');
    const nodeId = store.col('nodeId');
    const opcode = store.col('opcode');
    const unique = store.col('unique');
    const name = store.col('name');
    const ioendFlags = store.col('ioendFlags');
    const sent = store.col('sent');
    for (let row = from; row < to; row++) {
      const k = kinds[row]!;
      if (k === K.app_op_begin) {
        const o = op[row]!;
        if (o !== OP_WRITE && o !== OP_PWRITE) continue;
        this.sawSyscalls = true;
        this.writes.set(task[row]!, { beginRow: rowBase + row, beginNs: ts[row]!, nodeId: 0, fromFsOp: false });
      } else if (k === K.app_op_end) {
        const w = this.writes.get(task[row]!);
        if (!w || w.fromFsOp) continue;
        this.writes.delete(task[row]!);
        this.endWrite(w, rowBase + row, ts[row]!);
      } else if (k === K.fs_op) {
        const n = store.strings.get(name[row]!) ?? '';
        const t = task[row]!;
        if (n.endsWith('buffered_write') || n.endsWith('direct_write')) {
          if (this.sawSyscalls) { const w = this.writes.get(t); if (w && w.nodeId === 0) w.nodeId = nodeId[row]!; continue; }
          this.writes.set(t, { beginRow: rowBase + row, beginNs: ts[row]!, nodeId: nodeId[row]!, fromFsOp: true });
        } else if (n.endsWith('buffered_write_end') || n.endsWith('direct_write_end')) {
          const w = this.writes.get(t);
          if (!w || !w.fromFsOp) continue;
          this.writes.delete(t);
          this.endWrite(w, rowBase + row, ts[row]!);
        }
      } else if (k === K.iomap_begin) {
        // The file a syscall writes: the nodeid of its first iomap step.
        if (this.writes.size === 0) continue;
        const w = this.writes.get(task[row]!);
        if (w && w.nodeId === 0) w.nodeId = nodeId[row]!;
      } else if (k === K.iomap_ioend) {
        if (sent[row]) this.lastIoend.set(task[row]!, { row: rowBase + row, nodeId: nodeId[row]!, flags: ioendFlags[row]! });
      } else if (k === K.fuse_send) {
        if (opcode[row] !== Opcode.IOMAP_IOEND) continue;
        const t = task[row]!;
        const n = nodeId[row]!;
        const io = this.lastIoend.get(t);
        this.lastIoend.delete(t);
        const named = io !== undefined && io.nodeId === n;
        const w = this.writes.get(t);
        this.ioends.set(unique[row]!, {
          sendRow: rowBase + row, sendNs: ts[row]!, ioendRow: named ? io.row : -1, nodeId: n,
          unwritten: named ? (io.flags & IoendFlag.UNWRITTEN) !== 0 : null,
          inside: w !== undefined && (w.nodeId === 0 || w.nodeId === n),
        });
      } else if (k === K.fuse_reply) {
        if (this.ioends.size === 0) continue; // most replies, with no IOEND upcall in flight
        const u = unique[row]!;
        const e = this.ioends.get(u);
        if (!e) continue;
        this.ioends.delete(u);
        if (e.unwritten === null) { this.unknownFlags++; continue; }
        if (!e.unwritten) continue;
        const durNs = ts[row]! - e.sendNs;
        for (const t of [this.byNode.get(ALL)!, this.of(e.nodeId)]) {
          t.conversions++;
          t.conversionNs += durNs;
          if (!e.inside) t.outsideNs += durNs;
          if (t.firstConversion.length === 0) t.firstConversion = rowSet([e.ioendRow, e.sendRow, rowBase + row]);
          t.firstNs = Math.min(t.firstNs, e.sendNs);
          t.lastNs = Math.max(t.lastNs, ts[row]!);
        }
      }
    }
  }

  private endWrite(w: OpenWrite, endRow: number, endNs: number): void {
    const durNs = endNs - w.beginNs;
    const targets = [this.byNode.get(ALL)!];
    if (w.nodeId !== 0) targets.push(this.of(w.nodeId));
    for (const t of targets) {
      t.writes++;
      t.writeNs += durNs;
      if (t.firstWrite.length === 0) t.firstWrite = [w.beginRow, endRow];
    }
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    const files = [...this.byNode.keys()].filter((n) => n !== ALL && this.byNode.get(n)!.conversions > 0).sort((a, b) => a - b);
    for (const n of files) out.push(this.finding(this.byNode.get(n)!, n));
    // The workload's figure, when it is more than one file's.
    const all = this.byNode.get(ALL)!;
    if (all.conversions > 0 && files.length !== 1) out.push(this.finding(all, null));
    return out;
  }

  private finding(t: Totals, nodeId: number | null): Finding {
    const denomNs = t.writeNs + t.outsideNs;
    // With no write time in the trace the share is unknown (null), not 100 %.
    const share = t.writes > 0 && denomNs > 0 ? t.conversionNs / denomNs : null;
    const high = share !== null && share > this.warnShare;
    const what = nodeId === null ? 'this workload' : `nodeid ${nodeId}`;
    const pct = (x: number) => `${+(x * 100).toPrecision(3)} %`;
    const seen = share === null
      ? `The trace shows ${t.conversions} conversion upcall${t.conversions === 1 ? '' : 's'} (${fmtNs(t.conversionNs)} waiting on the server) for ${what} but no write it can time (no write syscall or fuse_iomap_*_write → _end), so their share of the write time is unknown.`
      : `For ${what}, ${t.conversions} conversion upcall${t.conversions === 1 ? '' : 's'} took ${fmtNs(t.conversionNs)} against ${fmtNs(denomNs)} of write time ` +
        `(${t.writes} write${t.writes === 1 ? '' : 's'}${t.outsideNs > 0 ? `, plus ${fmtNs(t.outsideNs)} of conversions outside them, in writeback` : ''}): ${pct(share)}, ` +
        `${high ? 'above' : 'within'} the ${pct(this.warnShare)} threshold setting.`;
    return {
      rule: this.rule, severity: high ? 'warning' : 'info',
      explanation: 'unwritten-cost: a write into an unwritten extent is complete only when the server converts the extent to written, ' +
        'on a FUSE_IOMAP_IOEND upcall with the UNWRITTEN flag after the IO (docs/domain.md §2.5); the series\' cover letters blame ' +
        'most of the random-write loss on these upcalls (a 90 % hit on random buffered writes in RFC v1, about 90 % more overhead on ' +
        `random direct writes from RFC v3, §7). ${seen}`,
      tsNs: t.firstNs, durNs: t.lastNs - t.firstNs,
      evidence: rowSet([...t.firstWrite, ...t.firstConversion]),
      figures: {
        nodeId, share, conversions: t.conversions, conversionNs: t.conversionNs, writes: t.writes, writeNs: t.writeNs,
        outsideWritesNs: t.outsideNs, thresholdShare: this.warnShare,
      },
    };
  }

  unknowns(): Unknown[] {
    const out: Unknown[] = [];
    if (this.unknownFlags > 0) {
      out.push({ rule: this.rule, count: this.unknownFlags, what: `FUSE_IOMAP_IOEND upcall${this.unknownFlags === 1 ? '' : 's'} with no fuse_iomap_ioend row before ${this.unknownFlags === 1 ? 'it' : 'them'} on ${this.unknownFlags === 1 ? 'its' : 'their'} task: whether ${this.unknownFlags === 1 ? 'it was a conversion' : 'they were conversions'} (UNWRITTEN) is not in the trace` });
    }
    const cut = this.writes.size + this.ioends.size;
    if (cut > 0) out.push({ rule: this.rule, count: cut, what: `write${cut === 1 ? '' : 's'} or IOEND upcall${cut === 1 ? '' : 's'} still open at the end of the trace: not counted, their time is not in the trace` });
    return out;
  }
}

export const unwrittenCostRule: RuleInfo = {
  id: 'unwritten-cost',
  title: 'share of write time spent on unwritten-extent conversion (IOEND upcalls), per file and per workload',
  create: (s: CheckSettings) => new UnwrittenCostChecker(s['unwritten-cost'].warnShare),
};
