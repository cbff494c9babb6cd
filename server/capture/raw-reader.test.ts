// The raw reader on a hand-made tracefs (a folder: header_page, one event's format, saved_cmdlines,
// per_cpu/cpuN/trace_pipe_raw as plain files of hand-made pages): merged by time across CPUs, ties
// to the lower CPU, lost events as a gap with its count before the page's first record, comms from
// saved_cmdlines, a record above the watermark held until the final pass. No root, no kernel.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { FtraceParser } from '../../src/trace/import/ftrace.ts';
import { HEADER_PAGE, hdr, page } from '../../src/trace/import/tracedat/pages-testing.ts';
import { RawReader, rawUnavailable } from './raw-reader.ts';

const FORMAT = `name: tick
ID: 7
format:
\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;
\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;
\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;
\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;

\tfield:int value;\toffset:8;\tsize:4;\tsigned:1;

print fmt: "value=%d", REC->value
`;

/** A `test:tick` record: 12 bytes (type_len 3) — common_type 7, pid, value — after `delta` ns. */
const tick = (delta: number, pid: number, value: number): number[] => [hdr(3, delta), 7, pid, value];

let dir = '';
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

function fakeTracefs(cpus: Uint8Array[][]): string {
  dir = mkdtempSync(join(tmpdir(), 'fusescope-rawfs-'));
  mkdirSync(join(dir, 'events/test/tick'), { recursive: true });
  writeFileSync(join(dir, 'events/header_page'), HEADER_PAGE);
  writeFileSync(join(dir, 'events/test/tick/format'), FORMAT);
  writeFileSync(join(dir, 'saved_cmdlines'), '100 alpha\n200 beta\n');
  writeFileSync(join(dir, 'saved_tgids'), '100 100\n200 150\n');
  cpus.forEach((pages, i) => {
    mkdirSync(join(dir, `per_cpu/cpu${i}`), { recursive: true });
    writeFileSync(join(dir, `per_cpu/cpu${i}/trace_pipe_raw`), Buffer.concat(pages));
  });
  return dir;
}

/** Writes a task into a hand-made procfs folder (comm, and status with its Tgid and PPid). */
const procTask = (proc: string) => (pid: number, comm: string, tgid: number, ppid = 1): void => {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'comm'), `${comm}\n`);
  writeFileSync(join(proc, String(pid), 'status'), `Name:\t${comm}\nTgid:\t${tgid}\nPid:\t${pid}\nPPid:\t${ppid}\n`);
};

describe('raw reader on hand-made pages', () => {
  it('merges two CPUs by time (a tie: CPU 0 first), a lost count becomes a gap before its page\'s first record, comms from saved_cmdlines', () => {
    const S = 1_000_000_000;
    const root = fakeTracefs([
      [page(S, [...tick(0, 100, 1), ...tick(2000, 100, 3)])], //                 CPU 0: 1 s + 0, + 2000 ns
      [page(S + 1000, [...tick(0, 200, 2), ...tick(1000, 200, 4)], 0xc0000000, 5)], // CPU 1: 5 lost, then 1 s + 1000, + 2000 ns
    ]);
    expect(rawUnavailable(root)).toBe(null);
    const events: TraceEvent[] = [];
    // (Not the task → process rows the decoder adds for tasks saved_tgids knows: the reader's records are what is tested.)
    const parser = new FtraceParser('raw', (e) => { if (e.kind !== 'task_process') events.push(e); });
    const r = new RawReader({ root, procRoot: join(root, 'proc'), events: ['test/tick'], parser, diag: (c, m) => { throw new Error(`${c}: ${m}`); } });
    expect(r.pageBytes).toBe(4096);
    r.read(1 << 20);
    r.close();
    parser.end();
    expect(parser.originNs).toBe(1_000_000_000n);
    const seen = events.map((e) => e.kind === 'gap' ? `gap ${e.missedEvents}` : e.kind === 'instant' ? `${e.tsNs} ${e.task} ${e.name}: ${e.text}` : e.kind);
    expect(seen).toEqual([
      '0 alpha/100 tick: value=1',
      'gap 5',
      '1000 beta/200 tick: value=2',
      '2000 alpha/100 tick: value=3',
      '2000 beta/200 tick: value=4',
    ]);
    expect(r.bytesRead).toBe(2 * 4096);
  });

  it('with a comm filter, a task named outside it in saved_cmdlines (stale: seen before its exec) takes the filter\'s comm, or <...> among several', () => {
    const S = 1_000_000_000;
    const names = (comms: string[]): string[] => {
      const root = fakeTracefs([[page(S, [...tick(0, 100, 1), ...tick(1000, 200, 2)])]]);
      const events: TraceEvent[] = [];
      const parser = new FtraceParser('raw', (e) => { if (e.kind !== 'task_process') events.push(e); });
      const r = new RawReader({ root, procRoot: join(root, 'proc'), events: ['test/tick'], parser, comms, diag: () => {} });
      r.read(1 << 20, true);
      r.close();
      parser.end();
      rmSync(root, { recursive: true, force: true });
      return events.map((e) => e.task);
    };
    // saved_cmdlines: 100 alpha, 200 beta. Records passed the filter, so beta (not in it) is stale for 200.
    expect(names(['alpha', 'gamma'])).toEqual(['alpha/100', '<...>/200']);
    expect(names(['alpha'])).toEqual(['alpha/100', 'alpha/200']);
    expect(names([])).toEqual(['alpha/100', 'beta/200']); // no filter: the table's comm
  });

  it('a live task\'s comm and tgid come from /proc (as trace_pipe prints the comm of the moment), the tables\' for a task gone', () => {
    const root = fakeTracefs([[page(1_000_000_000, [...tick(0, 100, 1), ...tick(1000, 200, 2), ...tick(2000, 300, 3)])]]);
    // procfs of the initial pid namespace (pid 2 is kthreadd, parent 0): 200 exec'd since the tables saw it as
    // beta, 300 is a thread of 290 the tables never saw; 100 is gone (the tables' alpha stands).
    const proc = join(root, 'proc');
    const task = procTask(proc);
    task(2, 'kthreadd', 2, 0);
    task(200, 'gamma', 150);
    task(300, 'delta', 290);
    const events: TraceEvent[] = [];
    const parser = new FtraceParser('raw', (e) => { if (e.kind !== 'task_process') events.push(e); });
    const r = new RawReader({ root, procRoot: proc, events: ['test/tick'], parser, diag: () => {} });
    r.read(1 << 20, true);
    r.close();
    parser.end();
    expect(events.map((e) => e.task)).toEqual(['alpha/100', 'gamma/200', 'delta/300']);
    expect(r.tasks.fromProcCount).toBe(2); // 200 and 300 live; 100 from the tables
  });

  it('never takes a task\'s tgid from tables read before its records: an exited task with the same pid left its entry there', () => {
    // Pages: 300 (a thread of 290, still running) and 400 (a process gone by the time it is read).
    const root = fakeTracefs([[page(1_000_000_000, [...tick(0, 300, 1), ...tick(1000, 400, 2)])]]);
    const proc = join(root, 'proc');
    const task = procTask(proc);
    task(2, 'kthreadd', 2, 0);
    task(300, 'worker', 290);
    // When the capture starts, the tables still hold the older tasks 300 and 400 (each its own process).
    writeFileSync(join(root, 'saved_cmdlines'), '300 old\n400 old\n');
    writeFileSync(join(root, 'saved_tgids'), '300 300\n400 400\n');
    const rows: TraceEvent[] = [];
    const parser = new FtraceParser('raw', (e) => rows.push(e));
    const r = new RawReader({ root, procRoot: proc, events: ['test/tick'], parser, diag: () => {} });
    // While it runs, the kernel saves the new 400's comm and tgid (a thread of 390) at its context switches.
    writeFileSync(join(root, 'saved_cmdlines'), '300 old\n400 fresh\n');
    writeFileSync(join(root, 'saved_tgids'), '300 300\n400 390\n');
    r.read(1 << 20, true);
    r.close();
    parser.end();
    const processes = rows.filter((e) => e.kind === 'task_process').map((e) => `${e.task} in ${(e as { tgid: number }).tgid}`);
    expect(processes).toEqual(['worker/300 in 290', 'fresh/400 in 390']);
  });

  it('holds a record whose time is above the watermark (a CPU may still hand out an earlier one) until the final pass', () => {
    const now = Number(process.hrtime.bigint());
    const root = fakeTracefs([[page(1_000_000_000, tick(0, 100, 1)), page(now + 3600e9, tick(0, 100, 2))]]);
    const events: TraceEvent[] = [];
    const parser = new FtraceParser('raw', (e) => { if (e.kind !== 'task_process') events.push(e); });
    const r = new RawReader({ root, procRoot: join(root, 'proc'), events: ['test/tick'], parser, diag: () => {} });
    const texts = (): string[] => events.map((e) => (e.kind === 'instant' ? e.text : e.kind));
    r.read(1 << 20);
    parser.end(); // (the parser holds nothing of these: what it has, it has emitted)
    expect(texts()).toEqual(['value=1']);
    r.read(1 << 20, true);
    expect(texts()).toEqual(['value=1', 'value=2']);
    r.close();
  });

  it('says why raw reading is not possible where tracefs has no header_page or no trace_pipe_raw', () => {
    const root = fakeTracefs([[page(0, [])]]);
    rmSync(join(root, 'per_cpu/cpu0/trace_pipe_raw'));
    expect(rawUnavailable(root)).toMatch(/no .*per_cpu\/cpuN\/trace_pipe_raw/);
    rmSync(join(root, 'events/header_page'));
    expect(rawUnavailable(root)).toMatch(/no .*events\/header_page/);
  });
});
