// unpaired (docs/checks.md): requests without their reply, and upcalls the kernel's rules say were
// due but are not in the trace (docs/domain.md §1.5, §1.9):
//   - a FUSE request unanswered for longer than the timeout while the trace goes on (or answered
//     later than that); one still open at the end of the trace within the timeout is unknown, not a finding;
//   - IOMAP_END due (a write-ish step, not inline, that did less than it mapped: written < count) but not sent;
//   - IOEND due (an error, or something written with UNWRITTEN, SHARED or APPEND) but not sent;
//   - an ioend for a range no write-ish iomap step through that nodeid covered earlier in the trace.
// After the server answers ENOSYS to IOMAP_END (or IOEND) the kernel stops sending it (§1.5), so
// nothing is due after that.
import { KIND_CODE } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { IoendFlag, MapType, OpFlag, Opcode, isWriteish, opcodeName } from '../fuse-proto.ts';
import type { Checker, CheckSettings, Finding, RuleInfo, Unknown } from './types.ts';
import { fmtNs, rowSet } from './text.ts';
import { UNTIMED_REASON, isUntimedRow, untimedReason, untimedTaskFlags } from '../untimed.ts';

const K = KIND_CODE;
const ENOSYS = -38;
/** Requests the kernel never expects an answer to. */
const NO_REPLY = new Set<number>([Opcode.FORGET, Opcode.BATCH_FORGET, Opcode.INTERRUPT, Opcode.NOTIFY_REPLY]);
const IOEND_NEEDS = IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.APPEND;

type What = 'no-reply' | 'late-reply' | 'iomap-end-missing' | 'ioend-missing' | 'ioend-without-write';

/** Rows are stream rows; what a later row needs of an earlier one is copied here (the store may be gone). */
interface Step { beginRow: number; beginNs: number; beginUntimed: boolean; nodeId: number; opflags: number; posBytes: number; lenBytes: number; mapRow: number; mapType: number; mapEndBytes: number; endRow: number }
/** untimed: sent on a pasted line without time (untimed.ts), so how long it waited is unknown. */
interface Open { row: number; tsNs: number; opcode: number; untimed: boolean }

class UnpairedChecker implements Checker {
  readonly rule = 'unpaired' as const;
  private readonly found: { what: What; rows: number[]; tsNs: number; durNs: number; figures: Finding['figures'] }[] = [];
  private readonly open = new Map<number, Open>();
  private readonly steps = new Map<number, Step>();
  /** Per nodeid: the lowest and highest byte a write-ish iomap step through it mapped (one lookup a step). */
  private readonly written = new Map<number, { lo: number; hi: number }>();
  private noEnd = false;
  private noIoend = false;
  /**
   * Nodeids whose kernel inode the trace saw come to be (inode_new, a first lookup, iomap set-up):
   * every write through them is in the trace, so an ioend outside those writes is a finding. For the
   * rest the write may predate the trace (a page that joined a live stream): counted as unknown.
   */
  private readonly bornInTrace = new Set<number>();
  private ioendsBeforeTrace = 0;
  private lastNs = 0;
  /** The trace's last row so far is untimed: how long open requests have waited is unknown. */
  private lastUntimed = false;
  /** Replies whose request or reply is untimed: whether they came late is unknown. */
  private untimedReplies = 0;
  /** Why the untimed events have no time (untimed.ts), said in the unknowns. */
  private reason = UNTIMED_REASON;

  constructor(private readonly timeoutNs: number) {}

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const unique = store.col('unique');
    const opcode = store.col('opcode');
    const error = store.col('error');
    const task = store.col('task');
    const nodeId = store.col('nodeId');
    const opflags = store.col('opflags');
    const pos = store.col('posBytes');
    const len = store.col('lenBytes');
    const slot = store.col('slot');
    const mapType = store.col('mapType');
    const mapOff = store.col('mapOffsetBytes');
    const mapLen = store.col('mapLenBytes');
    const processed = store.col('processedBytes');
    const nlookup = store.col('nlookup');
    const written = store.col('writtenBytes');
    const ioendFlags = store.col('ioendFlags');
    const sent = store.col('sent');
    const untimed = untimedTaskFlags(store);
    if (untimed !== null) this.reason = untimedReason(store);
    const isUntimed = (row: number): boolean => isUntimedRow(untimed, task, row);
    for (let row = from; row < to; row++) {
      const k = kinds[row]!;
      switch (k) {
        case K.fuse_send: {
          const u = unique[row]!;
          if (u !== 0 && !NO_REPLY.has(opcode[row]!)) this.open.set(u, { row: rowBase + row, tsNs: ts[row]!, opcode: opcode[row]!, untimed: isUntimed(row) });
          break;
        }
        case K.fuse_reply: {
          const u = unique[row]!;
          const send = this.open.get(u);
          if (send !== undefined) {
            this.open.delete(u);
            const waitNs = ts[row]! - send.tsNs;
            if (send.untimed || isUntimed(row)) this.untimedReplies++;
            else if (waitNs > this.timeoutNs) {
              this.found.push({ what: 'late-reply', rows: [send.row, rowBase + row], tsNs: send.tsNs, durNs: waitNs, figures: { opcode: opcodeName(send.opcode), unique: u, waitNs } });
            }
          }
          if (error[row] === ENOSYS) {
            if (opcode[row] === Opcode.IOMAP_END) this.noEnd = true;
            if (opcode[row] === Opcode.IOMAP_IOEND) this.noIoend = true;
          }
          break;
        }
        case K.iomap_begin: {
          const n = nodeId[row]!;
          if (n === 0) break;
          const t = task[row]!;
          const s = this.steps.get(t);
          const step: Step = s ?? { beginRow: 0, beginNs: 0, beginUntimed: false, nodeId: 0, opflags: 0, posBytes: 0, lenBytes: 0, mapRow: -1, mapType: 0, mapEndBytes: 0, endRow: -1 };
          step.beginRow = rowBase + row; step.beginNs = ts[row]!; step.beginUntimed = isUntimed(row); step.nodeId = n; step.opflags = opflags[row]!; step.posBytes = pos[row]!; step.lenBytes = len[row]!;
          step.mapRow = -1; step.endRow = -1;
          if (!s) this.steps.set(t, step);
          if (isWriteish(step.opflags)) {
            const w = this.written.get(n);
            if (w === undefined) this.written.set(n, { lo: step.posBytes, hi: step.posBytes + step.lenBytes });
            else {
              if (step.posBytes < w.lo) w.lo = step.posBytes;
              if (step.posBytes + step.lenBytes > w.hi) w.hi = step.posBytes + step.lenBytes;
            }
          }
          break;
        }
        case K.iomap_map: {
          const s = this.steps.get(task[row]!);
          if (!s || s.nodeId !== nodeId[row]) break;
          // The mapping iomap works on: the write slot for a write-ish op unless it is PURE_OVERWRITE (§1.5).
          // INLINE in either slot: never an END (§1.5).
          if (s.mapRow < 0 || (slot[row] === 1 && isWriteish(s.opflags) && mapType[row] !== MapType.PURE_OVERWRITE) || mapType[row] === MapType.INLINE) {
            s.mapRow = rowBase + row; s.mapType = mapType[row]!; s.mapEndBytes = mapOff[row]! + mapLen[row]!;
          }
          break;
        }
        case K.iomap_end: {
          const s = this.steps.get(task[row]!);
          if (s && s.nodeId === nodeId[row]) s.endRow = rowBase + row;
          break;
        }
        case K.iomap_bad_data: {
          const s = this.steps.get(task[row]!);
          if (s && s.nodeId === nodeId[row]) s.mapRow = -1; // a refused mapping: iomap_begin failed, no END
          break;
        }
        case K.iomap_iter_end: {
          const t = task[row]!;
          const s = this.steps.get(t);
          if (!s || s.nodeId !== nodeId[row] || s.mapRow < 0) break;
          const writeish = isWriteish(s.opflags) && s.opflags < OpFlag.WRITEBACK;
          if (writeish && error[row] === 0 && s.endRow < 0 && !this.noEnd && s.mapType !== MapType.INLINE) {
            const p = s.posBytes;
            const count = Math.min(len[row]!, s.mapEndBytes - p);
            const done = processed[row]!;
            if (count > 0 && done < count) {
              this.found.push({
                what: 'iomap-end-missing', rows: [s.beginRow, s.mapRow, rowBase + row], tsNs: s.beginNs,
                // Its length is unknown when either end is untimed (the finding needs no time).
                durNs: s.beginUntimed || isUntimed(row) ? 0 : ts[row]! - s.beginNs,
                figures: { nodeId: s.nodeId, posBytes: p, countBytes: count, writtenBytes: done },
              });
            }
          }
          s.mapRow = -1;
          break;
        }
        case K.inode_new: case K.inode_iomap:
          if (nodeId[row] !== 0) this.bornInTrace.add(nodeId[row]!);
          break;
        case K.inode_lookup:
          if (nodeId[row] !== 0 && nlookup[row] === 1) this.bornInTrace.add(nodeId[row]!);
          break;
        case K.iomap_ioend: {
          const n = nodeId[row]!;
          if (n === 0) break;
          const f = ioendFlags[row]!;
          const w = written[row]!;
          const err = error[row]!;
          const due = err !== 0 || (f & IoendFlag.SWAPOFF) !== 0 || (w > 0 && (f & IOEND_NEEDS) !== 0);
          if (due && !sent[row] && !this.noIoend) {
            this.found.push({ what: 'ioend-missing', rows: [rowBase + row], tsNs: ts[row]!, durNs: 0, figures: { nodeId: n, posBytes: pos[row]!, writtenBytes: w, ioendFlags: f, error: err } });
          }
          if (w > 0) {
            const range = this.written.get(n);
            const lo = range?.lo;
            const hi = range?.hi;
            const p = pos[row]!;
            if (!this.bornInTrace.has(n)) {
              if (lo === undefined || hi === undefined || p < lo || p + w > hi) this.ioendsBeforeTrace++;
            } else if (lo === undefined || hi === undefined || p < lo || p + w > hi) {
              this.found.push({ what: 'ioend-without-write', rows: [rowBase + row], tsNs: ts[row]!, durNs: 0, figures: { nodeId: n, posBytes: p, writtenBytes: w } });
            }
          }
          break;
        }
        default: break;
      }
    }
    if (to > from) { this.lastNs = ts[to - 1]!; this.lastUntimed = isUntimed(to - 1); }
  }

  findings(): Finding[] {
    const out: Finding[] = this.found.map((f) => ({
      rule: this.rule, severity: SEVERITY[f.what], explanation: explain(f.what, f.figures, this.timeoutNs), tsNs: f.tsNs, durNs: f.durNs,
      evidence: rowSet(f.rows), figures: { kind: f.what, ...f.figures },
    }));
    // Requests still open: past the timeout while the trace went on is a finding; the rest are unknown.
    for (const [u, send] of this.open) {
      if (send.untimed || this.lastUntimed) continue; // how long it waited is unknown (unknowns)
      const waitNs = this.lastNs - send.tsNs;
      if (waitNs < this.timeoutNs) continue;
      const figures = { kind: 'no-reply', opcode: opcodeName(send.opcode), unique: u, waitNs };
      out.push({ rule: this.rule, severity: SEVERITY['no-reply'], explanation: explain('no-reply', figures, this.timeoutNs), tsNs: send.tsNs, durNs: waitNs, evidence: [send.row], figures });
    }
    return out;
  }

  unknowns(): Unknown[] {
    let n = 0, untimedOpen = 0;
    for (const send of this.open.values()) {
      if (send.untimed || this.lastUntimed) untimedOpen++;
      else if (this.lastNs - send.tsNs < this.timeoutNs) n++;
    }
    const out: Unknown[] = [];
    const r = this.untimedReplies;
    if (r > 0) out.push({ rule: this.rule, count: r, what: `request${r === 1 ? '' : 's'} answered, with the request or its reply ${this.reason}: whether the reply came later than the ${fmtNs(this.timeoutNs)} timeout is unknown` });
    if (untimedOpen > 0) out.push({ rule: this.rule, count: untimedOpen, what: `request${untimedOpen === 1 ? '' : 's'} unanswered in the trace, with the request or the trace's end ${this.reason}: how long ${untimedOpen === 1 ? 'it' : 'they'} waited is unknown` });
    if (n > 0) out.push({ rule: this.rule, count: n, what: `request${n === 1 ? '' : 's'} still unanswered at the end of the trace, less than ${fmtNs(this.timeoutNs)} after being sent: whether a reply came is not in the trace` });
    const b = this.ioendsBeforeTrace;
    if (b > 0) out.push({ rule: this.rule, count: b, what: `ioend${b === 1 ? '' : 's'} outside every write the trace shows, on ${b === 1 ? 'a file' : 'files'} whose inode was set up before the trace began: the write may predate the trace` });
    return out;
  }
}

const SEVERITY: Record<What, Finding['severity']> = {
  'no-reply': 'warning', 'late-reply': 'warning', 'iomap-end-missing': 'warning', 'ioend-missing': 'warning', 'ioend-without-write': 'warning',
};

function explain(what: What, f: Finding['figures'], timeoutNs: number): string {
  const head = 'unpaired: ';
  switch (what) {
    case 'no-reply':
      return `${head}the kernel sent ${f.opcode} (unique ${f.unique}) and the trace goes on for ${fmtNs(f.waitNs as number)} without its reply, longer than the ${fmtNs(timeoutNs)} timeout setting. ` +
        'Every FUSE request except FORGET, BATCH_FORGET, NOTIFY_REPLY and an accepted INTERRUPT ends with one reply carrying its unique (docs/domain.md §1.1); the task that sent it waits until then.';
    case 'late-reply':
      return `${head}${f.opcode} (unique ${f.unique}) was answered ${fmtNs(f.waitNs as number)} after it was sent, longer than the ${fmtNs(timeoutNs)} timeout setting. ` +
        'The task that sent the request waited for the reply (a reply carries the request\'s unique, docs/domain.md §1.1).';
    case 'iomap-end-missing':
      return `${head}a write-ish iomap step on nodeid ${f.nodeId} mapped ${f.countBytes} bytes at ${f.posBytes} but did only ${f.writtenBytes}, and no FUSE_IOMAP_END followed. ` +
        'The kernel sends IOMAP_END after a write-ish operation that did less than it mapped, so the server can undo a speculative allocation (docs/domain.md §1.5); only inline mappings and a connection whose server answered ENOSYS are exempt.';
    case 'ioend-missing':
      return `${head}an ioend on nodeid ${f.nodeId} (${f.writtenBytes} bytes at ${f.posBytes}, flags 0x${(f.ioendFlags as number).toString(16)}, error ${f.error}) was not sent to the server. ` +
        'The kernel sends FUSE_IOMAP_IOEND when the IO failed, or when it wrote something to unwritten, shared or beyond-EOF (append) space the server must convert, remap or record (docs/domain.md §1.5, §1.9); without it the server never converts, remaps or records what was written.';
    case 'ioend-without-write':
      return `${head}an ioend on nodeid ${f.nodeId} covers ${f.writtenBytes} bytes at ${f.posBytes}, outside every range a write-ish iomap step through that nodeid mapped earlier in this trace. ` +
        'An ioend completes a write the kernel mapped through IOMAP_BEGIN (docs/domain.md §1.5, §2.5); if the trace starts after that write, this finding only says the write is not in the trace.';
  }
}

export const unpairedRule: RuleInfo = {
  id: 'unpaired',
  title: 'requests without replies; IOMAP_END or IOEND due but not sent; an ioend with no write before it',
  create: (s: CheckSettings) => new UnpairedChecker(s.unpaired.replyTimeoutNs),
};
