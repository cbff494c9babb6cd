// perf output: `perf script` of tracepoints (fixtures/real/perf/script*.txt) and `perf lock
// contention` tables (contention*.txt; *.hand.txt written by hand from perf's layout). Expected
// values are read off the fixtures' text by hand (line numbers of the files, hex → decimal).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FtraceParser } from './ftrace.ts';
import { PerfLockParser } from './perf-lock.ts';
import { detectFormat } from './index.ts';
import { ImportPipeline } from './pipeline.ts';
import type { EventOf, TraceEvent } from '../schema.ts';
import { TraceStore } from '../store.ts';
import { summarize } from '../summary.ts';

const DIR = 'fixtures/real/perf/';
const read = (f: string): string => readFileSync(DIR + f, 'utf8');

function perfScript(text: string, name = 'p.txt') {
  const events: TraceEvent[] = [];
  const p = new FtraceParser(name, (e) => events.push(e), undefined, undefined, 'perf');
  p.push(text);
  p.end();
  return { events, diags: p.diags };
}
function perfLock(text: string, name = 'l.txt') {
  const rows: EventOf<'lock_summary'>[] = [];
  const p = new PerfLockParser(name, (e) => rows.push(e as EventOf<'lock_summary'>));
  p.push(text);
  p.end();
  return { rows, diags: p.diags };
}
const count = (evs: TraceEvent[], kind: string) => evs.filter((e) => e.kind === kind).length;

describe('perf script', () => {
  it('reads the default layout (comm tid [cpu] secs.usecs: system:event: body) with call chains', () => {
    const { events, diags } = perfScript(read('script.txt'));
    expect(diags.count).toBe(0);
    // 7 contention_begin + 7 contention_end, 20 sys_enter_write/sys_exit_write pairs (grep of the file).
    expect(count(events, 'lock_contention')).toBe(14);
    expect(count(events, 'app_op_begin')).toBe(20);
    expect(count(events, 'app_op_end')).toBe(20);
    // Line 15: `dd 31847 [000] 32200.527214: syscalls:sys_enter_write: fd: 0x00000001, …, count: 0x00010000`
    expect(events[0]).toMatchObject({ kind: 'app_op_begin', tsNs: 0, task: 'dd/31847', op: 'write', fd: 1, lenBytes: 0x10000 });
    // Line 16: its one-frame user call chain → a stack_trace instant of the same task and time.
    expect(events[1]).toEqual({ kind: 'instant', tsNs: 0, task: 'dd/31847', name: 'stack_trace', text: '__GI___libc_write' });
    // Line 253: `dd 31849 [000] 32200.560095: lock:contention_begin: 0xffff8882475641a8 (flags=WRITE)`,
    // 32200.560095 − 32200.527214 s = 32 881 µs after the first event.
    const i = events.findIndex((e) => e.kind === 'lock_contention');
    expect(events[i]).toEqual({ kind: 'lock_contention', tsNs: 32_881_000, task: 'dd/31849', phase: 'begin', lockAddr: 0xffff8882475641a8n, lockFlags: 4, ret: 0 });
    const stack = events[i + 1] as EventOf<'instant'>;
    expect(stack).toMatchObject({ name: 'stack_trace', tsNs: 32_881_000, task: 'dd/31849' });
    expect(stack.text.split('\n').slice(0, 3)).toEqual(['rwsem_down_write_slowpath', 'down_write', 'ext4_buffered_write_iter']);
  });

  it('reads -F comm,pid,tid,… --ns (pid/tid, ns stamps) and -F tid,time,… (no comm, no cpu)', () => {
    const a0 = perfScript(read('script-pidtid.txt'));
    expect(a0.diags.count).toBe(0);
    // pid/tid: the pid is the process (dd 31847/31847), said once per task.
    expect(a0.events.filter((e) => e.kind === 'task_process').map((e) => [e.task, (e as { tgid: number }).tgid])).toContainEqual(['dd/31847', 31847]);
    const a = { ...a0, events: a0.events.filter((e) => e.kind !== 'task_process') };
    expect(count(a.events, 'instant')).toBe(12); // the iomap_iter lines that end no step; no stacks (-G)
    // `dd 31847/31847 [000] 32200.527233875: iomap:iomap_dio_rw_begin: dev 7:0 ino 0xc size 0x0 offset 0x0 length 0x10000`
    expect(a.events[1]).toMatchObject({ kind: 'fs_op', name: 'iomap_dio_rw_begin', tsNs: 19_717, task: 'dd/31847', ino: 12, fsDev: 7 << 20, posBytes: 0, lenBytes: 0x10000 });
    const b = perfScript(read('script-nocpu.txt'));
    expect(b.diags.count).toBe(0);
    // One number (a tid or a pid: perf does not say which): no process.
    expect(b.events.some((e) => e.kind === 'task_process')).toBe(false);
    // `31847 32200.527233: iomap:iomap_dio_rw_begin: …` (µs stamps: 19 µs)
    expect(b.events[1]).toMatchObject({ kind: 'fs_op', name: 'iomap_dio_rw_begin', tsNs: 19_000, task: '<...>/31847' });
    expect(count(b.events, 'lock_contention')).toBe(14);
  });

  it('keeps and counts a line it cannot read, with its file and line, and goes on', () => {
    const text = [
      '              dd  4242 [001]  100.000001: lock:contention_begin: 0xffff888100000008 (flags=READ)',
      'perf: some warning',
      '\tffffffff81000000 down_read+0x10 ([kernel.kallsyms])',
      '              dd  4242 [001]  100.000011: lock:contention_end: 0xffff888100000008 (ret=0)',
      '\tffffffff81000000 rwsem_down_read_slowpath+0x10 ([kernel.kallsyms])',
    ].join('\n');
    const { events, diags } = perfScript(text, 'x.txt');
    expect(diags.first.map((d) => `${d.source}:${d.line}:${d.code}`)).toEqual(['x.txt:2:unparsable', 'x.txt:3:orphan_frame']);
    expect(events.map((e) => e.kind)).toEqual(['lock_contention', 'lock_contention', 'instant']);
    expect(events[1]).toMatchObject({ phase: 'end', tsNs: 10_000, task: 'dd/4242', lockAddr: 0xffff888100000008n });
  });

  it('is detected, and ftrace text still is ftrace', () => {
    expect(detectFormat(read('script.txt').slice(0, 16384))).toBe('perf-script');
    expect(detectFormat(read('script-pidtid.txt').slice(0, 16384))).toBe('perf-script');
    expect(detectFormat(read('script-nocpu.txt').slice(0, 16384))).toBe('perf-script');
    expect(detectFormat('            dd-31847   [000] ..... 32200.527214: sys_enter_write: fd: 0x00000001\n')).toBe('ftrace');
    expect(detectFormat('dd-31847 [000] 32200.527214: contention_begin: 0xffff888100000008 (flags=READ)\n')).toBe('ftrace');
  });

  it('runs lock attribution over it like ftrace: the call chain names the lock i_rwsem', () => {
    const pipe = new ImportPipeline({ files: 1 });
    const f = pipe.open('script.txt');
    f.push(read('script.txt'));
    f.end();
    const r = pipe.finish().result;
    expect(r.attributions).toHaveLength(1);
    expect(r.attributions[0]).toMatchObject({ lockAddr: '0xffff8882475641a8', lock: 'i_rwsem', contended: 7 });
  });
});

describe('perf lock contention', () => {
  it('default (caller) mode: one row per stack with perf\'s printed figures', () => {
    const { rows, diags } = perfLock(read('contention.txt'));
    expect(diags.count).toBe(0);
    expect(rows).toHaveLength(4);
    // `2      8.63 ms      6.62 ms      4.32 ms      rwsem:W   vfs_write+0x29c`
    expect(rows[0]).toEqual({
      kind: 'lock_summary', tsNs: 0, task: '', summaryBy: 'caller', name: 'vfs_write+0x29c', text: '', lock: 'unknown', lockAddr: 0n,
      lockFlags: 4, contended: 2, waitTotalNs: 8_630_000, waitMaxNs: 6_620_000, waitMinNs: -1, waitAvgNs: 4_320_000,
    });
    expect(rows.map((r) => r.contended)).toEqual([2, 2, 2, 1]);
    expect(perfLock(read('contention-E1.txt')).rows).toHaveLength(1);
  });

  it('-F/-k: the columns the header names (min wait, no avg wait)', () => {
    const { rows } = perfLock(read('contention-fields.txt'));
    expect(rows.map((r) => [r.contended, r.waitTotalNs, r.waitMaxNs, r.waitMinNs, r.waitAvgNs])).toEqual([
      [2, 8_630_000, 6_620_000, 2_020_000, -1], [2, 7_450_000, 4_150_000, 3_300_000, -1],
      [1, 3_820_000, 3_820_000, 3_820_000, -1], [2, 6_210_000, 3_170_000, 3_030_000, -1],
    ]);
  });

  it('-t: rows by task (pid, comm)', () => {
    const { rows } = perfLock(read('contention-t.txt'));
    expect(rows.map((r) => [r.summaryBy, r.task, r.name, r.contended, r.waitTotalNs])).toEqual([
      ['task', 'dd/31851', 'dd', 2, 8_630_000], ['task', 'dd/31850', 'dd', 2, 7_450_000],
      ['task', 'dd/31849', 'dd', 2, 6_210_000], ['task', 'dd/31848', 'dd', 1, 3_820_000],
    ]);
  });

  it('-v: each row\'s call stack; the stack names i_rwsem; perf\'s chatter is counted by line', () => {
    const { rows, diags } = perfLock(read('contention-v.txt'), 'v.txt');
    expect(rows).toHaveLength(4);
    expect(rows[0]!.text.split('\n')).toEqual([
      'rwsem_down_write_slowpath', 'down_write', 'ext4_file_write_iter', 'vfs_write', 'ksys_write', 'do_syscall_64',
      'entry_SYSCALL_64_after_hwframe', rows[0]!.text.split('\n')[7],
    ]);
    expect(rows[0]!.text.split('\n')[7]).toMatch(/^0x7f[0-9a-f]+$/); // a user frame with no symbol: its address
    expect(rows.every((r) => r.lock === 'i_rwsem')).toBe(true);
    // Lines 15–22: build-id / symbol-loading messages; the debug section (bad: 0) is not a diagnostic.
    expect(diags.count).toBe(8);
    expect(diags.first.map((d) => d.line)).toEqual([15, 16, 17, 18, 19, 20, 21, 22]);
    expect(new Set(diags.first.map((d) => d.code))).toEqual(new Set(['unparsable']));
  });

  it('lock-address mode (hand-written from perf\'s layout): address, symbol, type; every unit', () => {
    const { rows, diags } = perfLock(read('contention-addr.hand.txt'));
    expect(diags.count).toBe(0);
    expect(rows.map((r) => [r.summaryBy, r.lockAddr, r.name, r.lockFlags, r.contended, r.waitTotalNs, r.waitMaxNs, r.waitAvgNs])).toEqual([
      ['addr', 0xffff8882475641a8n, '', 0, 7, 26_110_000, 6_620_000, 3_730_000], // rwsem: R or W not said
      ['addr', 0xffffffff83a0c040n, 'jiffies_lock', 1, 3, 1_500_000_000, 1_200_000_000, 500_000_000],
      ['addr', 0xffff888100a2b3c0n, 'rcu_state', 32, 1, 812, 812, 812],
    ]);
  });

  it('owner mode (hand-written): the owner as the task; a bad-sequence count is a diagnostic', () => {
    const { rows, diags } = perfLock(read('contention-owner.hand.txt'), 'o.txt');
    expect(rows.map((r) => [r.summaryBy, r.task, r.contended, r.waitTotalNs, r.waitMaxNs, r.waitAvgNs])).toEqual([
      ['owner', 'dd/31850', 3, 1_210_000, 600_000, 403_330], ['owner', 'Unknown/-1', 1, 15_000, 15_000, 15_000],
    ]);
    expect(diags.count).toBe(1);
    expect(diags.first[0]).toMatchObject({ source: 'o.txt', line: 13, code: 'perf_bad_sequence' });
    expect(diags.first[0]!.message).toContain('2 of 6');
  });

  it('is detected; a file with no table is said so', () => {
    for (const f of ['contention.txt', 'contention-v.txt', 'contention-t.txt', 'contention-addr.hand.txt', 'contention-owner.hand.txt', 'contention-fields.txt']) {
      expect(detectFormat(read(f)), f).toBe('perf-lock');
    }
    const { rows, diags } = perfLock('nothing here\n', 'e.txt');
    expect(rows).toHaveLength(0);
    expect(diags.first.map((d) => d.code)).toEqual(['unparsable', 'empty']);
  });

  it('reaches summary as perfLockContention rows (and a trace without them has no such key)', () => {
    const store = new TraceStore();
    store.appendAll(perfLock(read('contention-t.txt')).rows);
    const rows = summarize(store).perfLockContention!;
    expect(rows.map((r) => [r.by, r.task, r.contended, r.waitAvgNs])).toEqual([
      ['task', 'dd/31851', 2, 4_320_000], ['task', 'dd/31850', 2, 3_720_000], ['task', 'dd/31849', 2, 3_100_000], ['task', 'dd/31848', 1, 3_820_000],
    ]);
    const other = new TraceStore();
    other.appendAll(perfScript(read('script-nocpu.txt')).events);
    expect(summarize(other).perfLockContention).toBeUndefined();
  });
});
