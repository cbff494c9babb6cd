// Syscalls as app ops, in either text form (real-capture: syscall tracepoints):
//   sys_pwrite64(fd: 3, buf: …, count: 1000, pos: 0)      syscalls:sys_enter_* in tracefs text
//   sys_pwrite64 -> 0x1000                                 syscalls:sys_exit_*
//   sys_enter_pwrite64: fd: 0x00000003, buf: …             trace-cmd report
//   sys_exit_pwrite64: 0x1000
// Arguments are decimal or hex; `0xffff…f2` returns are -errno. fds → paths per process: `open`
// takes its path from a preceding uprobe string argument of the same task (`path=`, `filename=`…),
// `dup/dup2/dup3` copy it, `close` drops it.
import type { AppOp } from '../../schema.ts';
import { Interner, hasAt, isLineTerminator, isWord, isWs, parseLongAt, unitsToString } from '../code-units.ts';
import type { EventOutput } from './deferral.ts';
import type { EventHeader } from './header.ts';
import { BodyError, parseNum } from './cursor.ts';
import type { Line } from '../line.ts';
import { asNodeId } from '../../ids.ts';

/** Syscalls that become app ops, by name without `sys_` (arguments named as in the syscall tables). */
const SYSCALL_OPS: Record<string, AppOp> = {
  open: 'open', openat: 'open', openat2: 'open', creat: 'open', read: 'read', write: 'write',
  pread64: 'pread', pwrite64: 'pwrite', fsync: 'fsync', fdatasync: 'fsync', ftruncate: 'truncate',
  fallocate: 'fallocate', close: 'close', copy_file_range: 'copy_file_range',
};

interface OpenFile { path: string; oflags: number }

export class Syscalls {
  /** Syscall names (without `sys_`) → the name and SYSCALL_OPS of it. */
  private readonly names = new Interner<{ name: string; op: AppOp | undefined }>();
  /** trace-cmd's `sys_enter_x`/`sys_exit_x` tracepoint names → the call (`x`), its op, and which. */
  private readonly traceCmdNames = new Map<string, { enter: boolean; sys: string; op: AppOp | undefined }>();
  // Syscall arguments of the current line (args()): 4 indexes per argument into u.
  private argBounds = new Int32Array(64);
  private argCount = 0;
  /** Open files by process, then fd. */
  private readonly fds = new Map<number, Map<number, OpenFile>>();

  /** `header` holds the current line's task and time; events go to `out`. */
  constructor(private readonly line: Line, private readonly header: EventHeader, private readonly out: EventOutput) {}

  /**
   * `sys_NAME(args)` or `sys_NAME -> ret` at `b` (b starts `sys_`); false if neither matches:
   *   sys enter  ^(sys_\w+)\((.*)\)\s*$
   *   sys exit   ^(sys_\w+) -> (\S+)\s*$
   */
  tryLine(b: number): boolean {
    const line = this.line;
    const u = line.u;
    let p = b + 4;
    while (isWord(u[p]!)) p++;
    if (p === b + 4) return false;
    const nameEnd = p;
    const end = line.le;
    // Enter and exit lines of one call are adjacent, and a trace uses a handful of calls: reuse the
    // name string and its table lookup.
    let call = this.names.get(u, b + 4, nameEnd);
    if (call === undefined) {
      const name = unitsToString(u, b + 4, nameEnd);
      call = this.names.put(name, { name, op: SYSCALL_OPS[name] });
    }
    const sys = call.name;
    const op = call.op;
    if (u[p] === 40) {
      let close = end;
      while (close > p + 1 && isWs(u[close - 1]!)) close--;
      close--;
      if (close <= p || u[close] !== 41) return false;
      if (!line.crFree) for (let k = p + 1; k < close; k++) if (isLineTerminator(u[k]!)) return false;
      this.enter(sys, op, p + 1, close);
      return true;
    }
    if (!hasAt(u, p, ' -> ')) return false;
    const retStart = p + 4;
    let retEnd = retStart;
    while (retEnd < end && !isWs(u[retEnd]!)) retEnd++;
    if (retEnd === retStart) return false;
    for (let k = retEnd; k < end; k++) if (!isWs(u[k]!)) return false;
    this.exit(sys, op, retStart, retEnd);
    return true;
  }

  /** trace-cmd's `sys_enter_NAME: args` / `sys_exit_NAME: ret`; the body is u[b, le). */
  traceCmd(name: string, b: number): void {
    // The tracepoint's name → the call's name and op, once per name (not a slice and a lookup per line).
    let call = this.traceCmdNames.get(name);
    if (call === undefined) {
      const enter = name.startsWith('sys_enter_');
      const sys = name.slice(enter ? 10 : 9);
      this.traceCmdNames.set(name, (call = { enter, sys, op: SYSCALL_OPS[sys] }));
    }
    const { sys, op } = call;
    if (call.enter) return this.enter(sys, op, b, this.line.le);
    // The return value is the body trimmed.
    const u = this.line.u;
    let rs = b;
    let re = this.line.le;
    while (rs < re && isWs(u[rs]!)) rs++;
    while (re > rs && isWs(u[re - 1]!)) re--;
    return this.exit(sys, op, rs, re);
  }

  /**
   * A uprobe/uretprobe line: `(0xIP) name=value …`. Kept as an instant with its body. A string
   * argument named path/pathname/filename/file is remembered as this task's next open's path; a
   * probe that reads a fuse_in_header (unique=, opcode=, nodeid=) also yields a fuse_recv.
   */
  uprobe(name: string, body: string): void {
    const h = this.header;
    const tsNs = h.tsNs;
    const task = h.task;
    const args = new Map<string, string>();
    for (const m of body.matchAll(/(\w+)=("(?:[^"\\]|\\.)*"|\S+)/g)) args.set(m[1]!, m[2]!);
    for (const k of ['path', 'pathname', 'filename', 'file']) {
      const v = args.get(k);
      if (v !== undefined && v.startsWith('"')) {
        h.taskState.uprobePath = v.slice(1, -1);
        break;
      }
    }
    const unique = args.has('unique') ? parseNum(args.get('unique')!) : NaN;
    const opcode = args.has('opcode') ? parseNum(args.get('opcode')!) : NaN;
    const nodeId = asNodeId(args.has('nodeid') ? parseNum(args.get('nodeid')!) : NaN);
    this.out.emit({ kind: 'instant', tsNs, task, name, text: body });
    if (!Number.isNaN(unique) && !Number.isNaN(opcode) && !Number.isNaN(nodeId)) {
      this.out.emit({ kind: 'fuse_recv', tsNs, task, unique, opcode, nodeId });
    }
  }

  /**
   * Splits syscall arguments `name: value, …` (decimal or hex, §real-capture) in u[from, to)
   * into trimmed key/value index ranges (parts split on ', ', key before the first ': '), without
   * building strings; read with argIdx/argLong.
   */
  private args(from: number, to: number): void {
    const u = this.line.u;
    let n = 0;
    let s = from;
    for (;;) {
      // One pass: the part ends at the first ', ' wholly inside [s, to) (else at `to`); its key
      // ends at the part's first ': ' (none ends in the part unless it is wholly inside).
      let e = s;
      let colon = -1;
      for (; e + 1 < to; e++) {
        const c = u[e];
        if (u[e + 1] !== 32) continue;
        if (c === 44) break;
        if (c === 58 && colon < 0) colon = e;
      }
      if (e + 1 >= to) e = to;
      if (colon > s) {
        if (4 * (n + 1) > this.argBounds.length) {
          const grown = new Int32Array(this.argBounds.length * 2);
          grown.set(this.argBounds);
          this.argBounds = grown;
        }
        const b = this.argBounds;
        let ks = s;
        let ke = colon;
        while (ks < ke && isWs(u[ks]!)) ks++;
        while (ke > ks && isWs(u[ke - 1]!)) ke--;
        let vs = colon + 2;
        let ve = e;
        while (vs < ve && isWs(u[vs]!)) vs++;
        while (ve > vs && isWs(u[ve - 1]!)) ve--;
        b[4 * n] = ks;
        b[4 * n + 1] = ke;
        b[4 * n + 2] = vs;
        b[4 * n + 3] = ve;
        n++;
      }
      if (e === to) break;
      s = e + 2;
    }
    this.argCount = n;
  }

  /** Index of the last argument named `key` (a repeated name: the last one wins), or -1. */
  private argIdx(key: string): number {
    const b = this.argBounds;
    const u = this.line.u;
    for (let i = this.argCount - 1; i >= 0; i--) {
      if (b[4 * i + 1]! - b[4 * i]! === key.length && hasAt(u, b[4 * i]!, key)) return i;
    }
    return -1;
  }

  private argLong(idx: number): number {
    return idx < 0 ? NaN : parseLongAt(this.line.u, this.argBounds[4 * idx + 2]!, this.argBounds[4 * idx + 3]!);
  }

  private argNum(sys: string, key: string): number {
    const n = this.argLong(this.argIdx(key));
    if (Number.isNaN(n)) throw new BodyError(0, `sys_${sys}: argument ${key} missing or not a number`);
    return n;
  }

  /** Arguments are u[from, to); `op` is SYSCALL_OPS[sys]. */
  private enter(sys: string, op: AppOp | undefined, from: number, to: number): void {
    const h = this.header;
    const tsNs = h.tsNs;
    const task = h.task;
    const state = h.taskState;
    if (sys === 'dup' || sys === 'dup2' || sys === 'dup3') {
      // Only tracked so fds keep their paths (dd opens its output as 3 and dup2s it to 1).
      this.args(from, to);
      const fildes = this.argIdx('fildes');
      state.dupFrom = this.argLong(fildes >= 0 ? fildes : this.argIdx('oldfd'));
    }
    if (op === undefined) {
      this.out.emit({ kind: 'instant', tsNs, task, name: `sys_enter_${sys}`, text: this.line.str(from, to) });
      return;
    }
    this.args(from, to);
    let fd = -1;
    let posBytes = -1;
    let lenBytes = 0;
    let oflags = 0;
    let path = '';
    if (op === 'open') {
      oflags = this.argIdx('flags') >= 0 ? this.argNum(sys, 'flags') : 0;
      path = state.uprobePath ?? '';
      state.uprobePath = undefined;
    } else if (op === 'copy_file_range') {
      fd = this.argNum(sys, 'fd_out');
      lenBytes = this.argNum(sys, 'len');
    } else {
      fd = this.argNum(sys, 'fd');
      if (op === 'pread' || op === 'pwrite') posBytes = this.argNum(sys, 'pos');
      if (op === 'read' || op === 'write' || op === 'pread' || op === 'pwrite') lenBytes = this.argNum(sys, 'count');
      if (op === 'truncate') lenBytes = this.argNum(sys, 'length');
      if (op === 'fallocate') {
        posBytes = this.argNum(sys, 'offset');
        lenBytes = this.argNum(sys, 'len');
      }
      const file = this.fds.get(h.proc)?.get(fd);
      if (file) {
        path = file.path;
        oflags = file.oflags;
      }
    }
    state.inFlight = { op, fd, path, oflags };
    this.out.emit({ kind: 'app_op_begin', tsNs, task, op, path, fd, posBytes, lenBytes, oflags });
  }

  /** The return value is u[retStart, retEnd); `op` is SYSCALL_OPS[sys]. */
  private exit(sys: string, op: AppOp | undefined, retStart: number, retEnd: number): void {
    const h = this.header;
    const state = h.taskState;
    const proc = h.proc;
    const u = this.line.u;
    if (sys === 'dup' || sys === 'dup2' || sys === 'dup3') {
      const from = state.dupFrom;
      state.dupFrom = undefined;
      const ret = parseLongAt(u, retStart, retEnd);
      const file = from === undefined ? undefined : this.fds.get(proc)?.get(from);
      if (file && ret >= 0) this.fds.get(proc)!.set(ret, file);
    }
    if (op === undefined) {
      return;
    }
    const ret = parseLongAt(u, retStart, retEnd);
    if (Number.isNaN(ret)) throw new BodyError(0, `sys_${sys}: return value '${this.line.str(retStart, retEnd)}' is not a number`);
    const fl = state.inFlight;
    state.inFlight = undefined;
    // The syscall's iomap loop is over (its last step ends here: spans close it at app_op_end).
    state.iomapIter = undefined;
    state.iomapStep = undefined;
    state.iomapDio = undefined;
    let fd = fl?.op === op ? fl.fd : -1;
    if (op === 'open' && ret >= 0) {
      let table = this.fds.get(proc);
      if (!table) this.fds.set(proc, (table = new Map()));
      table.set(ret, { path: fl?.path ?? '', oflags: fl?.oflags ?? 0 });
      fd = ret;
    } else if (op === 'close' && ret === 0 && fd >= 0) {
      this.fds.get(proc)?.delete(fd);
    }
    this.out.emit({ kind: 'app_op_end', tsNs: h.tsNs, task: h.task, op, fd, ret });
  }
}
