// The tables `perf lock contention` prints (tools/perf/builtin-lock.c): a header naming the value
// columns (`contended`, `total wait`, `max wait`, `min wait`, `avg wait`: -F picks them, -k sorts)
// and two key columns for its mode, a blank line, then one row per key:
//
//    contended   total wait     max wait     avg wait         type   caller      (default: by caller)
//            2      8.63 ms      6.62 ms      4.32 ms      rwsem:W   vfs_write+0x29c
//                          0xffffffff8224d4b6  down_write+0x66                     (-v: the row's stack)
//    … pid   comm        (-t: by task)      … pid   owner   (-o: by lock owner, newer perf with -b)
//    … address   symbol  (-l / --lock-addr, newer perf: `%016llx   sym (type)`)
//
// Each row becomes one `lock_summary` event: perf's totals, no timeline (tsNs 0). A wait is
// printed as `%.2f` of its unit (h, m, s, ms, us) or integer ns: the value kept is the printed one.
// -v also prints perf's verbose chatter and an `=== output for debug===` section (bad sequences):
// a non-zero `bad:` count is a diagnostic (perf dropped those events from its figures); every
// other line no rule reads is kept as a counted diagnostic with its line.
import type { LockName, LockSummary, SummaryBy, TraceEvent } from '../schema.ts';
import { DiagSink } from './diagnostics.ts';
import { LineFramer, type LineSink } from './framing.ts';
import { Line } from './line.ts';
import { roleFromStack } from './lock-attribution.ts';
import { NO_TASK, asTaskId } from '../ids.ts';

const MAX_LINE_BYTES = 64 * 1024;
const VALUE_COLUMNS = ['contended', 'total wait', 'max wait', 'min wait', 'avg wait'] as const;
type ValueColumn = typeof VALUE_COLUMNS[number];
const KEYS: Record<string, SummaryBy> = { 'type caller': 'caller', 'pid comm': 'task', 'pid owner': 'owner', 'address symbol': 'addr' };
/** A table header: value columns, then one of the modes' key column pairs. */
const HEADER = /^\s*((?:(?:contended|total wait|max wait|min wait|avg wait)\s+)+)(type\s+caller|pid\s+comm|pid\s+owner|address\s+symbol)\s*$/;
const UNIT_NS: Record<string, number> = { h: 3600e9, m: 60e9, s: 1e9, ms: 1e6, us: 1e3, ns: 1 };
/** perf's lock_type_table: the `type` column → contention_begin flags (SPIN 1, READ 2, WRITE 4, RT 8, PERCPU 16, MUTEX 32). */
const TYPE_FLAGS: Record<string, number> = {
  spinlock: 1, 'rwlock:R': 3, 'rwlock:W': 5, 'rwsem:R': 2, 'rwsem:W': 4, rtmutex: 8, 'rt-mutex': 8,
  'rwlock-rt:R': 10, 'rwlock-rt:W': 12, 'pcpu-sem:R': 18, 'pcpu-sem:W': 20, mutex: 32,
};

/** Does a line look like a `perf lock contention` table header (detection, index.ts)? */
export function isPerfLockHeader(line: string): boolean {
  return HEADER.test(line);
}

export class PerfLockParser implements LineSink {
  readonly stats = { lines: 0, rows: 0 };
  private readonly line = new Line();
  private readonly framer: LineFramer;
  private columns: ValueColumn[] = [];
  private by: SummaryBy | null = null;
  /** The last row, open for its -v stack lines. */
  private row: LockSummary | null = null;
  private stack: string[] = [];
  private inDebug = false;

  constructor(private readonly sourceName: string, private readonly onEvent: (ev: TraceEvent) => void, readonly diags = new DiagSink()) {
    this.framer = new LineFramer(this.line, this, MAX_LINE_BYTES, this.stats);
  }

  push(chunk: string | Uint8Array): void {
    this.framer.push(chunk);
  }

  end(): void {
    this.framer.end();
    this.closeRow();
    if (this.stats.rows === 0) this.diag(0, 'empty', this.by === null ? 'no perf lock contention table in file' : 'the table has no rows');
  }

  lineTooLong(lineNo: number): void {
    this.diag(lineNo, 'line_too_long', `line longer than ${MAX_LINE_BYTES} bytes skipped`);
  }

  private diag(line: number, code: string, message: string): void {
    this.diags.add({ source: this.sourceName, line, code, message });
  }

  onLine(): void {
    const text = this.line.text();
    const lineNo = this.line.lineNo;
    const t = text.trim();
    if (t === '' || t.startsWith('#')) return;
    // -v: the row's call stack, `\t\t\t0xADDR  sym+off` (no symbol: the address only).
    const frame = /^\t+0x([0-9a-f]+)(?:\s+(\S+))?\s*$/.exec(text);
    if (frame && this.row) {
      const sym = frame[2];
      this.stack.push(sym ? sym.replace(/\+0x[0-9a-f]+$/, '') : `0x${frame[1]!}`);
      return;
    }
    this.closeRow();
    const header = HEADER.exec(text);
    if (header) {
      this.columns = header[1]!.trim().split(/\s{2,}|\s+(?=contended|total|max|min|avg)/).map((c) => c.replace(/\s+/g, ' ') as ValueColumn);
      this.by = KEYS[header[2]!.replace(/\s+/g, ' ')]!;
      this.inDebug = false;
      return;
    }
    if (t === '=== output for debug===') {
      this.inDebug = true;
      return;
    }
    if (this.inDebug) {
      const bad = /^bad: (\d+), total: (\d+)$/.exec(t);
      if (bad && Number(bad[1]) > 0) this.diag(lineNo, 'perf_bad_sequence', `perf left ${bad[1]} of ${bad[2]} lock events out of its figures (bad sequence)`);
      if (bad || /^(bad rate: |histogram of events caused bad sequence$|\w+: \d+$)/.test(t)) return;
      this.inDebug = false;
    }
    if (this.by !== null && this.parseRow(text, lineNo)) return;
    this.diag(lineNo, 'unparsable', `not a perf lock contention line: ${t.length > 80 ? `${t.slice(0, 80)}…` : t}`);
  }

  /** A table row under the header's columns; false if it does not fit them. */
  private parseRow(text: string, lineNo: number): boolean {
    let rest = text;
    const values: Partial<Record<ValueColumn, number>> = {};
    for (const col of this.columns) {
      const m = col === 'contended' ? /^\s*(\d+)(?=\s)/.exec(rest) : /^\s*(\d+(?:\.\d+)?) (h |m |s |ms|us|ns)(?=\s|$)/.exec(rest);
      if (!m) return false;
      values[col] = col === 'contended' ? Number(m[1]) : Math.round(Number(m[1]) * UNIT_NS[m[2]!.trim()]!);
      rest = rest.slice(m[0].length);
    }
    let name = '';
    let task = NO_TASK;
    let lockAddr = 0n;
    let lockFlags = 0;
    switch (this.by!) {
      case 'caller': {
        const m = /^\s+(\S+)\s+(\S.*?)\s*$/.exec(rest);
        if (!m) return false;
        lockFlags = TYPE_FLAGS[m[1]!] ?? 0;
        if (lockFlags === 0) this.diag(lineNo, 'unknown_lock_type', `lock type ${m[1]} is not one perf's table names: flags unknown`);
        name = m[2]!;
        break;
      }
      case 'task': case 'owner': {
        const m = /^\s+(-?\d+)\s+(\S.*?)\s*$/.exec(rest);
        if (!m) return false;
        name = m[2]!;
        task = asTaskId(`${name}/${m[1]}`);
        break;
      }
      case 'addr': {
        const m = /^\s+([0-9a-f]{1,16})(?:\s+(.*?))?\s*$/.exec(rest);
        if (!m) return false;
        lockAddr = BigInt(`0x${m[1]!}`);
        let sym = m[2] ?? '';
        const type = /^(.*?)\s*\(([\w:-]+)\)$/.exec(sym);
        if (type) {
          sym = type[1]!;
          lockFlags = TYPE_FLAGS[type[2]!] ?? 0;
        }
        name = sym;
        break;
      }
    }
    this.row = {
      kind: 'lock_summary', tsNs: 0, task, summaryBy: this.by!, name, text: '', lock: 'unknown', lockAddr, lockFlags,
      contended: values.contended ?? -1, waitTotalNs: values['total wait'] ?? -1, waitMaxNs: values['max wait'] ?? -1,
      waitMinNs: values['min wait'] ?? -1, waitAvgNs: values['avg wait'] ?? -1,
    };
    return true;
  }

  /** The open row is complete (its stack, if any, read): out it goes. */
  private closeRow(): void {
    const row = this.row;
    if (row === null) return;
    this.row = null;
    if (this.stack.length > 0) {
      row.text = this.stack.join('\n');
      const role = roleFromStack(row.text);
      row.lock = role === 'i_rwsem' || role === 'invalidate_lock' ? (role satisfies LockName) : 'unknown';
      this.stack = [];
    }
    this.stats.rows++;
    this.onEvent(row);
  }
}
