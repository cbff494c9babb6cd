// lock (docs/checks.md): what the file locks of docs/domain.md §6 cost and whether their order holds.
//   - waits over `waitNs`: lock_wait … lock_acquire of one task, lock and nodeid (the simulator), or
//     lock:contention_begin … _end of one task (a real kernel, §4.6; the importer's derived
//     lock_wait right after the begin names the lock). One finding per lock with counts, median and
//     worst; the worst wait's rows are the evidence. A wait whose end is not in the trace is unknown.
//   - i_rwsem held across a FUSE request whose round trip exceeds `holdAcrossUpcallNs`: the task
//     holds i_rwsem (lock_acquire … lock_release) when it sends the request and still holds it when
//     the reply comes. The series does this by design for writes (§6), so it is info with the figure.
//   - lock order: i_rwsem and invalidate_lock of one inode taken in opposite orders by two tasks
//     (§6: i_rwsem first, then invalidate_lock): an ABBA deadlock risk, error.
// Holds come only from acquire … release pairs: an acquire derived from a contention_end has no
// release in the trace, so it is counted as unknown, never treated as held.
// Streaming: everything is copied out of the store during onRows; rows kept are stream rows (rowBase + r).
import { ENUMS, KIND_CODE, type LockName } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { opcodeName } from '../fuse-proto.ts';
import type { Checker, CheckSettings, Finding, RuleInfo, Unknown } from './types.ts';
import { fmtNs, listText, rowSet } from './text.ts';
import { UNTIMED_REASON, untimedReason, untimedTaskFlags } from '../untimed.ts';

const K = KIND_CODE;
const PHASE_BEGIN = ENUMS.phase.indexOf('begin');
const I_RWSEM = ENUMS.lock.indexOf('i_rwsem');
const INVALIDATE = ENUMS.lock.indexOf('invalidate_lock');
/** lock:contention flags (§4.6). */
const FLAG_READ = 2;
const FLAG_WRITE = 4;
/** By kind code: 1 for the kinds this rule reads (a sixth of a typical trace's rows). */
const READS = new Uint8Array(256);
for (const k of [K.lock_wait, K.lock_acquire, K.lock_release, K.lock_contention, K.fuse_send, K.fuse_reply]) READS[k] = 1;
/** Evidence lists stay short: the worst case's rows only. */
const MAX_NAMES = 8;

/** Which lock, as the trace names it. nodeId / ino 0 = unknown; addr '' = not traced. */
interface LockId { lock: LockName; nodeId: number; ino: number; addr: string }

function lockKey(l: LockId): string {
  if (l.nodeId !== 0) return `${l.lock}:n${l.nodeId}`;
  return l.ino !== 0 ? `${l.lock}:i${l.ino}` : `${l.lock}:a${l.addr}`;
}

/** Who held a lock: an acquire … release of one task (stream rows; releaseRow -1 = not yet). */
interface Hold extends LockId {
  key: string; taskId: number; task: string; mode: string; acquireRow: number; acquireNs: number; releaseRow: number; releaseNs: number;
}

interface Wait extends LockId {
  task: string; mode: string; startNs: number; waitNs: number; rows: number[];
  /** The hold whose release let the waiter in (another task's release inside the wait), when the trace shows it. */
  holder: Hold | null;
  /** contention_end's ret (0 acquired, negative interrupted); 0 for the simulator's acquire. */
  ret: number;
}

interface WaitGroup extends LockId { waits: number; longNs: number[]; worst: Wait | null; waiters: Set<string>; holders: Set<string>; interrupted: number }

/** A FUSE request sent while its task held i_rwsem, answered while still held. */
interface Upcall { hold: Hold; opcode: string; unique: number; sendRow: number; replyRow: number; rttNs: number }
interface UpcallGroup extends LockId { long: number; rttNs: number[]; holds: Set<Hold>; opcodes: Map<string, number>; tasks: Set<string>; worst: Upcall | null }

/** One task taking the inode's second lock while holding its first. */
interface Edge { taskId: number; task: string; first: Hold; secondRow: number; secondNs: number; secondMode: string }
interface OrderGroup { nodeId: number; ino: number; forward: Map<number, Edge>; reverse: Map<number, Edge>; forwardCount: number; reverseCount: number; pair: [Edge, Edge] | null }

interface Contention { beginRow: number; startNs: number; addr: string; mode: string; named: LockId | null; waitRow: number; untimed: boolean }

class LockChecker implements Checker {
  readonly rule = 'lock' as const;
  private readonly taskNames = new Map<number, string>();
  /** Simulator waits open, by task id, then lock key. */
  private readonly openWaits = new Map<number, Map<string, { row: number; tsNs: number; mode: string; id: LockId; untimed: boolean }>>();
  /**
   * Lock keys of nodeid-named locks (almost every lock row), by lock code then nodeid: one string
   * per lock instead of one built (and hashed again as a Map key) per row.
   */
  private readonly nodeKeys: Map<number, string>[] = ENUMS.lock.map(() => new Map());
  /** Ended waits / upcalls under i_rwsem with an untimed end (untimed.ts): how long is unknown, so not judged. */
  private untimedWaits = 0;
  private untimedUpcalls = 0;
  /** Why the untimed events have no time (untimed.ts), said in the unknowns. */
  private reason = UNTIMED_REASON;
  /** lock:contention waits open, by task id (a task waits for one lock at a time). */
  private readonly openContention = new Map<number, Contention>();
  /** The last contention wait each task finished: its derived lock_acquire joins its evidence. */
  private readonly lastContention = new Map<number, Wait>();
  private unfinished = 0;
  private readonly waitGroups = new Map<string, WaitGroup>();
  /** Open holds by task id. */
  private readonly held = new Map<number, Hold[]>();
  /** The last release of each lock. */
  private readonly lastRelease = new Map<string, Hold>();
  /** Requests in flight sent under i_rwsem, by unique. */
  private readonly pending = new Map<number, { holds: Hold[]; opcode: number; sendRow: number; sendNs: number; untimed: boolean }>();
  private readonly upcallGroups = new Map<string, UpcallGroup>();
  private readonly orders = new Map<string, OrderGroup>();
  /** i_rwsem acquires derived from contention_end: their release is not traced. */
  private unendedRwsem = 0;

  constructor(private readonly s: CheckSettings['lock']) {}

  private taskName(store: TraceStore, id: number): string {
    let n = this.taskNames.get(id);
    if (n === undefined) { n = store.strings.get(id); this.taskNames.set(id, n); }
    return n;
  }

  /** lockKey of the lock at a row, without building a LockId. */
  private keyAt(lockCode: number, nodeId: number, ino: number, addr: string): string {
    if (nodeId === 0) return lockKey({ lock: ENUMS.lock[lockCode]!, nodeId, ino, addr });
    const byNode = this.nodeKeys[lockCode];
    if (byNode === undefined) return lockKey({ lock: ENUMS.lock[lockCode]!, nodeId, ino, addr });
    let key = byNode.get(nodeId);
    if (key === undefined) { key = lockKey({ lock: ENUMS.lock[lockCode]!, nodeId, ino, addr }); byNode.set(nodeId, key); }
    return key;
  }

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const task = store.col('task');
    const lock = store.col('lock');
    const mode = store.col('mode');
    const nodeId = store.nodeIdCol();
    const ino = store.inoCol();
    const addrHi = store.col('lockAddrHi');
    const addrLo = store.col('lockAddrLo');
    const phase = store.col('phase');
    const flags = store.col('lockFlags');
    const ret = store.col('ret');
    const unique = store.col('unique');
    const opcode = store.col('opcode');
    const addrOf = (r: number): string => {
      const hi = addrHi[r]!, lo = addrLo[r]!;
      return hi === 0 && lo === 0 ? '' : ((BigInt(hi) << 32n) | BigInt(lo)).toString(16);
    };
    const untimed = untimedTaskFlags(store);
    if (untimed !== null) this.reason = untimedReason(store);
    const idOf = (r: number): LockId => ({ lock: ENUMS.lock[lock[r]!]!, nodeId: nodeId[r]!, ino: ino[r]!, addr: addrOf(r) });
    for (let r = from; r < to; r++) {
      const k = kinds[r]!;
      if (READS[k] === 0) continue;
      const row = rowBase + r;
      const t = task[r]!;
      const tsNs = ts[r]!;
      const rowUntimed = untimed !== null && untimed[t] === 1;
      switch (k) {
        case K.lock_contention: {
          if (phase[r] === PHASE_BEGIN) {
            if (this.openContention.has(t)) this.unfinished++; // its end never came
            const f = flags[r]!;
            const m = (f & FLAG_WRITE) !== 0 ? 'W' : (f & FLAG_READ) !== 0 ? 'R' : 'W';
            this.openContention.set(t, { beginRow: row, startNs: tsNs, addr: addrOf(r), mode: m, named: null, waitRow: -1, untimed: rowUntimed });
            break;
          }
          const c = this.openContention.get(t);
          if (!c || c.addr !== addrOf(r)) break;
          this.openContention.delete(t);
          if (c.untimed || rowUntimed) { this.untimedWaits++; break; }
          const id = c.named;
          // Object literals, not spreads: a spread into a wider literal was 40 % of a run's time.
          const w: Wait = {
            lock: id ? id.lock : 'unknown', nodeId: id ? id.nodeId : 0, ino: id ? id.ino : 0, addr: c.addr,
            task: this.taskName(store, t), mode: c.mode, startNs: c.startNs, waitNs: tsNs - c.startNs,
            rows: [c.beginRow, c.waitRow, row], holder: null, ret: ret[r]!,
          };
          this.lastContention.set(t, w);
          this.addWait(w);
          break;
        }
        case K.lock_wait: {
          const id = idOf(r);
          if (id.addr !== '') {
            // Derived from the contention_begin just before it: it names that wait's lock.
            const c = this.openContention.get(t);
            if (c && c.addr === id.addr && c.waitRow < 0) { c.named = id; c.waitRow = row; }
            break;
          }
          const key = this.keyAt(lock[r]!, id.nodeId, id.ino, id.addr);
          let waits = this.openWaits.get(t);
          if (!waits) this.openWaits.set(t, (waits = new Map()));
          if (waits.has(key)) this.unfinished++;
          waits.set(key, { row, tsNs, mode: ENUMS.mode[mode[r]!]!, id, untimed: rowUntimed });
          break;
        }
        case K.lock_acquire: {
          const id = idOf(r);
          if (id.addr !== '') {
            const w = this.lastContention.get(t);
            if (w && w.addr === id.addr) { w.rows.push(row); this.lastContention.delete(t); }
            if (lock[r] === I_RWSEM) this.unendedRwsem++;
            break;
          }
          const lk = this.keyAt(lock[r]!, id.nodeId, id.ino, id.addr);
          const m = ENUMS.mode[mode[r]!]!;
          const name = this.taskName(store, t);
          const waits = this.openWaits.get(t);
          const open = waits?.get(lk);
          if (open && (open.untimed || rowUntimed)) {
            waits!.delete(lk);
            this.untimedWaits++;
          } else if (open) {
            waits!.delete(lk);
            const rel = this.lastRelease.get(lk);
            const holder = rel && rel.taskId !== t && rel.releaseNs > open.tsNs && rel.releaseNs <= tsNs ? rel : null;
            this.addWait({
              lock: id.lock, nodeId: id.nodeId, ino: id.ino, addr: id.addr, task: name, mode: open.mode, startNs: open.tsNs,
              waitNs: tsNs - open.tsNs, rows: [open.row, row], holder, ret: 0,
            });
          }
          const hold: Hold = {
            lock: id.lock, nodeId: id.nodeId, ino: id.ino, addr: id.addr, key: lk, taskId: t, task: name, mode: m,
            acquireRow: row, acquireNs: tsNs, releaseRow: -1, releaseNs: 0,
          };
          let list = this.held.get(t);
          if (!list) this.held.set(t, (list = []));
          const l = lock[r]!;
          if (l === I_RWSEM || l === INVALIDATE) {
            for (const h of list) {
              if (h.lock !== id.lock && (h.lock === 'i_rwsem' || h.lock === 'invalidate_lock') && sameInode(h, id)) {
                this.addEdge({ taskId: t, task: name, first: h, secondRow: row, secondNs: tsNs, secondMode: m });
              }
            }
          }
          list.push(hold);
          break;
        }
        case K.lock_release: {
          if (addrHi[r] !== 0 || addrLo[r] !== 0) break; // a real capture's release: no hold is kept for it
          const lk = this.keyAt(lock[r]!, nodeId[r]!, ino[r]!, '');
          const list = this.held.get(t);
          if (!list) break;
          let i = list.length - 1;
          while (i >= 0 && list[i]!.key !== lk) i--;
          if (i < 0) break; // taken before the trace began
          const h = list[i]!;
          if (i === list.length - 1) list.pop(); else list.splice(i, 1); // the newest hold, mostly: no array for splice's result
          h.releaseRow = row;
          h.releaseNs = tsNs;
          this.lastRelease.set(lk, h);
          break;
        }
        case K.fuse_send: {
          const list = this.held.get(t);
          const u = unique[r]!;
          if (!list || u === 0) break;
          // Most sends hold nothing: no array unless one is held.
          let holds: Hold[] | null = null;
          for (let i = 0; i < list.length; i++) if (list[i]!.lock === 'i_rwsem') (holds ??= []).push(list[i]!);
          if (holds !== null) this.pending.set(u, { holds, opcode: opcode[r]!, sendRow: row, sendNs: tsNs, untimed: rowUntimed });
          break;
        }
        case K.fuse_reply: {
          const u = unique[r]!;
          const p = this.pending.get(u);
          if (!p) break;
          this.pending.delete(u);
          if (p.untimed || rowUntimed) { if (p.holds.some((h) => h.releaseRow < 0)) this.untimedUpcalls++; break; }
          const rttNs = tsNs - p.sendNs;
          if (rttNs <= this.s.holdAcrossUpcallNs) break;
          const name = opcodeName(p.opcode); // named only for the slow ones
          for (const h of p.holds) {
            if (h.releaseRow >= 0) continue; // released before the reply: not held across it
            this.addUpcall({ hold: h, opcode: name, unique: u, sendRow: p.sendRow, replyRow: row, rttNs });
          }
          break;
        }
        default: break;
      }
    }
  }

  private addWait(w: Wait): void {
    const key = lockKey(w);
    let g = this.waitGroups.get(key);
    if (!g) this.waitGroups.set(key, (g = { lock: w.lock, nodeId: w.nodeId, ino: w.ino, addr: w.addr, waits: 0, longNs: [], worst: null, waiters: new Set(), holders: new Set(), interrupted: 0 }));
    g.waits++;
    if (w.waitNs <= this.s.waitNs) return;
    g.longNs.push(w.waitNs);
    g.waiters.add(w.task);
    if (w.holder) g.holders.add(w.holder.task);
    if (w.ret !== 0) g.interrupted++;
    if (!g.worst || w.waitNs > g.worst.waitNs) g.worst = w;
  }

  private addUpcall(u: Upcall): void {
    const h = u.hold;
    let g = this.upcallGroups.get(h.key);
    if (!g) this.upcallGroups.set(h.key, (g = { lock: h.lock, nodeId: h.nodeId, ino: h.ino, addr: h.addr, long: 0, rttNs: [], holds: new Set(), opcodes: new Map(), tasks: new Set(), worst: null }));
    g.long++;
    g.rttNs.push(u.rttNs);
    g.holds.add(h);
    g.opcodes.set(u.opcode, (g.opcodes.get(u.opcode) ?? 0) + 1);
    g.tasks.add(h.task);
    if (!g.worst || u.rttNs > g.worst.rttNs) g.worst = u;
  }

  private addEdge(e: Edge): void {
    const first = e.first;
    const key = first.nodeId !== 0 ? `n${first.nodeId}` : `i${first.ino}`;
    let g = this.orders.get(key);
    if (!g) this.orders.set(key, (g = { nodeId: first.nodeId, ino: first.ino, forward: new Map(), reverse: new Map(), forwardCount: 0, reverseCount: 0, pair: null }));
    const forward = first.lock === 'i_rwsem';
    if (forward) g.forwardCount++; else g.reverseCount++;
    const mine = forward ? g.forward : g.reverse;
    if (!mine.has(e.taskId)) mine.set(e.taskId, e);
    if (g.pair) return;
    // The earliest edge of the other order from another task (a Map keeps first-seen order).
    for (const o of (forward ? g.reverse : g.forward).values()) {
      if (o.taskId !== e.taskId) { g.pair = [o, e]; break; }
    }
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    for (const g of this.waitGroups.values()) if (g.worst) out.push(this.waitFinding(g, g.worst));
    for (const g of this.upcallGroups.values()) if (g.worst) out.push(this.upcallFinding(g, g.worst));
    for (const g of this.orders.values()) if (g.pair) out.push(this.orderFinding(g, g.pair));
    return out;
  }

  private waitFinding(g: WaitGroup, w: Wait): Finding {
    const sorted = [...g.longNs].sort((a, b) => a - b);
    const p50 = sorted[Math.ceil(sorted.length / 2) - 1]!;
    const warn = w.waitNs >= this.s.warnWaitNs;
    const holder = w.holder;
    const rows = [...w.rows];
    if (holder) rows.push(holder.acquireRow, holder.releaseRow);
    const explanation = `lock: ${g.longNs.length} of ${g.waits} waits for ${lockText(g)} lasted longer than the ${fmtNs(this.s.waitNs)} setting ` +
      `(median of those ${fmtNs(p50)}, longest ${fmtNs(w.waitNs)}: ${w.task} waiting for it ${w.mode === 'W' ? 'exclusive' : 'shared'}` +
      `${holder ? `, held by ${holder.task} (${holder.mode === 'W' ? 'exclusive' : 'shared'}) until it let go` : ', the holder is not in the trace'}` +
      `${w.ret !== 0 ? `; that wait was interrupted, ret ${w.ret}` : ''}). ` +
      'Every inode has its own i_rwsem (and invalidate_lock): writes and truncates take i_rwsem exclusive, reads shared; on a fuse-iomap ' +
      'inode a direct write keeps it across its IOMAP_BEGIN and IOEND upcalls, so server latency lengthens every other task\'s wait (docs/domain.md §6); ' +
      'a real kernel traces only waits that went to sleep (lock:contention_begin/end, §4.6).' +
      (warn ? ` A wait of ${fmtNs(w.waitNs)} reaches the ${fmtNs(this.s.warnWaitNs)} warning setting: a task stalled that long is a visible hang.` : '');
    return {
      rule: this.rule, severity: warn ? 'warning' : 'info', explanation, tsNs: w.startNs, durNs: w.waitNs, evidence: rowSet(rows),
      figures: {
        kind: 'wait', ...idFigures(g), mode: w.mode, waits: g.waits, longWaits: g.longNs.length, p50WaitNs: p50, maxWaitNs: w.waitNs,
        totalLongWaitNs: sorted.reduce((a, b) => a + b, 0), waiter: w.task, holder: holder ? holder.task : null,
        waiters: [...g.waiters].sort().slice(0, MAX_NAMES), holders: [...g.holders].sort().slice(0, MAX_NAMES), interrupted: g.interrupted,
      },
    };
  }

  private upcallFinding(g: UpcallGroup, u: Upcall): Finding {
    const h = u.hold;
    const holdNs = h.releaseRow >= 0 ? h.releaseNs - h.acquireNs : null;
    const sorted = [...g.rttNs].sort((a, b) => a - b);
    const p50 = sorted[Math.ceil(sorted.length / 2) - 1]!;
    const opcodes = [...g.opcodes.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const explanation = `lock: ${g.long} FUSE request${g.long === 1 ? '' : 's'} (${opcodes.map(([o, n]) => `${n} ${o}`).join(', ')}) ` +
      `took longer than the ${fmtNs(this.s.holdAcrossUpcallNs)} setting while ${listText([...g.tasks].sort().slice(0, MAX_NAMES))} held ` +
      `${lockText(g)} (median round trip ${fmtNs(p50)}). The longest: ${h.task} held it ${h.mode === 'W' ? 'exclusive' : 'shared'} ` +
      `during ${u.opcode} (unique ${u.unique}), which took ${fmtNs(u.rttNs)}; the lock was held ` +
      `${holdNs === null ? 'for a time the trace does not show (its release is not in it)' : `for ${fmtNs(holdNs)}`}. ` +
      'The series holds i_rwsem across the upcalls of a write by design: exclusive for buffered and direct writes, across the IOMAP_BEGIN ' +
      'upcall and, for a synchronous direct write, the IOEND upcall too (docs/domain.md §6), so every other reader and writer of the ' +
      'file waits for the server; this is the figure of that cost, not a protocol error.';
    return {
      rule: this.rule, severity: 'info', explanation, tsNs: h.acquireNs, durNs: holdNs ?? 0,
      evidence: rowSet([h.acquireRow, u.sendRow, u.replyRow, h.releaseRow]),
      figures: {
        kind: 'hold-across-upcall', ...idFigures(g), holder: h.task, mode: h.mode, opcode: u.opcode, unique: u.unique, rttNs: u.rttNs, holdNs,
        longUpcalls: g.long, holds: g.holds.size, p50RttNs: p50, maxRttNs: u.rttNs,
        opcodes: opcodes.map(([o]) => o), tasks: [...g.tasks].sort().slice(0, MAX_NAMES),
      },
    };
  }

  private orderFinding(g: OrderGroup, [a, b]: [Edge, Edge]): Finding {
    const inode = g.nodeId !== 0 ? `nodeid ${g.nodeId} (${g.ino !== 0 ? `ino ${g.ino}` : 'ino unknown'})` : `ino ${g.ino} (no fuse nodeid in the trace)`;
    const edgeText = (e: Edge) => `${e.task} held ${e.first.lock} (${e.first.mode}) and then took ${e.first.lock === 'i_rwsem' ? 'invalidate_lock' : 'i_rwsem'} (${e.secondMode})`;
    const explanation = `lock: ${inode}'s i_rwsem and invalidate_lock were taken in opposite orders by different tasks: ${edgeText(a)}; ` +
      `${edgeText(b)}. ${g.forwardCount} acquisition${g.forwardCount === 1 ? '' : 's'} took i_rwsem first and ${g.reverseCount} took invalidate_lock first. ` +
      'The kernel always takes a file\'s i_rwsem before its invalidate_lock (truncate, fallocate, EOF zeroing: docs/domain.md §6); ' +
      'two tasks taking them in opposite orders can each hold the lock the other waits for: an ABBA deadlock (even shared holds, ' +
      'since a queued writer makes new readers wait).';
    const startNs = Math.min(a.first.acquireNs, b.first.acquireNs);
    return {
      rule: this.rule, severity: 'error', explanation, tsNs: startNs, durNs: Math.max(a.secondNs, b.secondNs) - startNs,
      evidence: rowSet([a.first.acquireRow, a.secondRow, b.first.acquireRow, b.secondRow]),
      figures: {
        kind: 'order', nodeId: g.nodeId === 0 ? null : g.nodeId, ino: g.ino === 0 ? null : g.ino,
        rwsemFirst: g.forwardCount, invalidateFirst: g.reverseCount,
        rwsemFirstTasks: [...g.forward.values()].map((e) => e.task).sort().slice(0, MAX_NAMES),
        invalidateFirstTasks: [...g.reverse.values()].map((e) => e.task).sort().slice(0, MAX_NAMES),
        tasks: [a.task, b.task],
      },
    };
  }

  unknowns(): Unknown[] {
    const out: Unknown[] = [];
    let openWaits = 0;
    for (const waits of this.openWaits.values()) openWaits += waits.size;
    const open = this.unfinished + openWaits + this.openContention.size;
    if (open > 0) {
      out.push({ rule: this.rule, count: open, what: `lock wait${open === 1 ? '' : 's'} whose end is not in the trace: how long ${open === 1 ? 'it' : 'they'} lasted is unknown` });
    }
    if (this.untimedWaits > 0) {
      const n = this.untimedWaits;
      out.push({ rule: this.rule, count: n, what: `lock wait${n === 1 ? '' : 's'} ${this.reason}: how long ${n === 1 ? 'it' : 'they'} lasted is unknown, so ${n === 1 ? 'it is' : 'they are'} not compared with the ${fmtNs(this.s.waitNs)} setting` });
    }
    if (this.untimedUpcalls > 0) {
      const n = this.untimedUpcalls;
      out.push({ rule: this.rule, count: n, what: `FUSE request${n === 1 ? '' : 's'} sent under i_rwsem ${this.reason}: the round trip is unknown, so ${n === 1 ? 'it is' : 'they are'} not compared with the ${fmtNs(this.s.holdAcrossUpcallNs)} setting` });
    }
    if (this.unendedRwsem > 0) {
      const n = this.unendedRwsem;
      out.push({ rule: this.rule, count: n, what: `i_rwsem acquisition${n === 1 ? '' : 's'} seen only from lock:contention_end: the release is not traced, so whether ${n === 1 ? 'it was' : 'they were'} held across an upcall is unknown` });
    }
    return out;
  }
}

/** Same inode: by nodeid when both have one, else by a known ino. */
function sameInode(a: LockId, b: LockId): boolean {
  if (a.nodeId !== 0 || b.nodeId !== 0) return a.nodeId === b.nodeId;
  return a.ino !== 0 && a.ino === b.ino;
}

function lockText(l: LockId): string {
  // No nodeid but an ino: a kernel filesystem's inode (or a fuse one the trace could not name a nodeid for).
  const whose = l.nodeId !== 0 ? `nodeid ${l.nodeId} (${l.ino !== 0 ? `ino ${l.ino}` : 'ino unknown'})`
    : l.ino !== 0 ? `ino ${l.ino} (no fuse nodeid in the trace)` : 'an inode the trace does not name';
  return `${l.lock} of ${whose}${l.addr ? ` at 0x${l.addr}` : ''}`;
}

function idFigures(l: LockId): Finding['figures'] {
  return { lock: l.lock, nodeId: l.nodeId === 0 ? null : l.nodeId, ino: l.ino === 0 ? null : l.ino, lockAddr: l.addr ? `0x${l.addr}` : null };
}

export const lockRule: RuleInfo = {
  id: 'lock',
  title: 'lock waits over a threshold; i_rwsem held across slow upcalls; i_rwsem / invalidate_lock taken in opposite orders',
  create: (s: CheckSettings) => new LockChecker(s.lock),
};
