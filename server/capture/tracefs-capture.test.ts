// The tracefs capture against the real kernel (root with tracefs; elsewhere skipped, saying why).
// Every test here that changes tracefs is in this one file: vitest runs a file's tests one after
// another, and no other test file writes tracefs (the capture lock refuses a second capture anyway).
// The workload and --allow-capture cases (workloads.cases.ts, allow-capture.cases.ts) run here too, at the end.
//
// Workload: /usr/bin/dd copied as `fscwriter` (a comm nothing else on the machine has), two at a
// time on one file of the test's temporary folder (ext4 here): one buffered, one O_DIRECT, so there
// are write syscalls, iomap direct-IO steps, and the two contend for the file's i_rwsem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { TracefsCapture } from './tracefs-capture.ts';
import { DEFAULT_RUN_DIR, DEFAULT_TRACEFS, LOCK_FILE, STATE_FILE, TracefsError } from './tracefs.ts';
import { resolveEvents } from './events.ts';
import WebSocket from 'ws';
import { openRecordingFile } from '../recorder/file-source.ts';
import { workloadCases } from './workloads.cases.ts';
import { allowCaptureCases } from './allow-capture.cases.ts';
import { livePassesCases } from './live-passes.cases.ts';
import { fuse2fsWorkloadCases } from './fuse2fs-workloads.cases.ts';
import { attachCases } from './attach.cases.ts';
import { rawReaderCases } from './raw-reader.cases.ts';

const T = DEFAULT_TRACEFS;
const whyNot = process.getuid?.() !== 0 ? 'not root' : !existsSync(join(T, 'events/lock/contention_begin')) ? `no tracefs with lock events at ${T}` : null;
if (whyNot) console.warn(`\n*** SKIPPED server/capture/tracefs-capture.test.ts: ${whyNot} — the live tracefs capture is NOT tested here ***\n`);

const GROUP_SYSTEMS = ['fuse', 'lock', 'iomap', 'syscalls'];

/** Every file a capture could touch, and the derived ones that show its effect (set_event, system enables). */
function tracefsState(): Map<string, string> {
  const files = ['tracing_on', 'trace_clock', 'options/hash-ptr', 'options/record-tgid', 'buffer_size_kb', 'set_event', 'set_event_pid'];
  for (const cpu of readdirSync(join(T, 'per_cpu'))) files.push(`per_cpu/${cpu}/buffer_size_kb`);
  for (const sys of GROUP_SYSTEMS) {
    if (!existsSync(join(T, 'events', sys))) continue;
    files.push(`events/${sys}/enable`, `events/${sys}/filter`);
    for (const ev of readdirSync(join(T, 'events', sys), { withFileTypes: true })) {
      if (ev.isDirectory()) files.push(`events/${sys}/${ev.name}/enable`, `events/${sys}/${ev.name}/filter`, `events/${sys}/${ev.name}/trigger`);
    }
  }
  return new Map(files.map((f) => [f, readFileSync(join(T, f), 'utf8')]));
}

function expectSameState(before: Map<string, string>): void {
  const after = tracefsState();
  const changed = [...before].filter(([f, v]) => after.get(f) !== v).map(([f, v]) => `${f}: ${JSON.stringify(v)} → ${JSON.stringify(after.get(f))}`);
  expect(changed).toEqual([]);
}

const CLI = ['--import', 'tsx', 'server/cli.ts'];

function runCli(args: string[], asNobody = false): { code: number | null; stderr: string } {
  const cmd = asNobody ? 'setpriv' : process.execPath;
  const argv = asNobody ? ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...CLI, ...args] : [...CLI, ...args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stderr: r.stderr };
}

/** A CLI capture in the background; resolves once it says it is capturing (tracefs is set up). */
function startCli(args: string[]): Promise<{ child: ChildProcess; stderr: () => string; stdout: () => string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('SIGINT/SIGTERM stops')) resolve({ child, stderr: () => err, stdout: () => out, exited });
    });
    void exited.then((code) => reject(new Error(`capture exited (${code}) before it started: ${err}`)));
  });
}

describe.skipIf(whyNot !== null)('tracefs capture on this kernel', () => {
  let dir: string;
  let writer: string;
  let before: Map<string, string>;

  beforeAll(() => {
    expect(existsSync(join(DEFAULT_RUN_DIR, LOCK_FILE)), `a capture is running or was left: ${DEFAULT_RUN_DIR}/${LOCK_FILE}`).toBe(false);
    dir = mkdtempSync(join(tmpdir(), 'fusescope-capture-'));
    writer = join(dir, 'fscwriter');
    copyFileSync('/usr/bin/dd', writer);
    spawnSync('chmod', ['755', writer]);
    before = tracefsState();
    // The capture must change what it sets; a machine where these already hold would prove nothing.
    expect(before.get('trace_clock')).not.toMatch(/\[mono\]/);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Writers on one file at once, `pairs` × (one buffered, one O_DIRECT), 16 MiB each. Returns their pids.
   * More pairs than CPUs make a lock waiter sleep instead of spinning on a running owner (rwsem
   * optimistic spinning emits no contention_begin: on an idle 2-CPU machine one pair rarely contends).
   */
  async function writersRound(file: string, pairs = 1): Promise<number[]> {
    const common = ['if=/dev/zero', `of=${file}`, 'bs=64k', 'count=256', 'conv=notrunc', 'status=none'];
    const kids = Array.from({ length: pairs }, () => [spawn(writer, common), spawn(writer, [...common, 'oflag=direct'])]).flat();
    await Promise.all(kids.map((k) => new Promise((r) => k.once('exit', r))));
    return kids.map((k) => k.pid!);
  }

  it('captures a real workload live: its syscalls, iomap steps and lock contention with its stack, nothing of its own; tracefs back byte for byte', async () => {
    const capture = TracefsCapture.open({ comms: ['fscwriter'], pollMs: 20 });
    const touched = capture.touchedFiles;
    // While it runs: the settings the capture needs are in place.
    expect(readFileSync(join(T, 'trace_clock'), 'utf8')).toMatch(/\[mono\]/);
    expect(readFileSync(join(T, 'options/hash-ptr'), 'utf8')).toBe('0\n');
    expect(readFileSync(join(T, 'events/lock/contention_begin/trigger'), 'utf8')).toMatch(/^stacktrace:unlimited if \(comm == "fscwriter"\)/m);
    expect(existsSync(capture.statePath)).toBe(true); // a SIGKILL now would still be undone
    const events: TraceEvent[] = [];
    let batches = 0;
    let ended = false;
    const run = capture.source.start({ event: (e) => events.push(e), flush: () => { batches++; }, end: () => { ended = true; } }, new AbortController().signal);
    const pids: number[] = [];
    const file = join(dir, 'data');
    const contended = (): boolean => events.some((e) => e.kind === 'lock_contention' && e.task.startsWith('fscwriter/'));
    // Contention needs writers that overlap and a waiter that sleeps (one spinning on a running owner
    // emits no contention_begin): three pairs a round, up to 20 rounds, stopping at the first that contends.
    for (let round = 0; round < 20 && (round === 0 || !contended()); round++) {
      pids.push(...await writersRound(file, 3));
      await new Promise((r) => setTimeout(r, 100)); // a poll or more: the round's events are read
    }
    const result = capture.finish();
    await run;
    expect(ended).toBe(true);
    expect(batches).toBeGreaterThan(0);
    expect(result.restoreProblems).toEqual([]);

    const tasks = new Set(events.map((e) => e.task));
    const own = [...tasks].filter((t) => t.endsWith(`/${process.pid}`) || t.startsWith('node/'));
    expect(own).toEqual([]);
    // Every event is from a writer (or the capture's own diag): the comm filter held.
    const foreign = [...tasks].filter((t) => !t.startsWith('fscwriter/') && t !== 'fusescope/tracefs');
    expect(foreign).toEqual([]);
    const writes = events.filter((e) => e.kind === 'app_op_begin' && e.op === 'write');
    // 256 writes per writer per round, each one `write` syscall; the dd's own pids.
    const writesByPid = new Map<number, number>();
    for (const w of writes) {
      const pid = Number(w.task.split('/')[1]);
      writesByPid.set(pid, (writesByPid.get(pid) ?? 0) + 1);
    }
    for (const pid of pids) expect(writesByPid.get(pid), `writes of fscwriter/${pid}`).toBe(256);
    expect(events.filter((e) => e.kind === 'app_op_end' && e.op === 'write' && e.ret === 65536).length).toBe(256 * pids.length);
    // O_DIRECT on ext4 goes through iomap: a direct-IO step per write of the direct writer at least.
    expect(events.filter((e) => e.kind === 'iomap_begin').length).toBeGreaterThanOrEqual(256 * pids.length / 2);
    // Contention: begin/end pairs on the file's lock, and the stacktrace trigger's stack with it.
    const contention = events.filter((e) => e.kind === 'lock_contention');
    expect(contention.some((e) => e.kind === 'lock_contention' && e.phase === 'begin' && e.lockAddr > 0n)).toBe(true);
    expect(contention.some((e) => e.kind === 'lock_contention' && e.phase === 'end')).toBe(true);
    expect(events.some((e) => e.kind === 'instant' && e.name === 'stack_trace' && /down_(write|read)/.test(e.text))).toBe(true);
    // Times on the capture's axis: nondecreasing, from 0 (the start), within the capture.
    expect(events.findIndex((e, i) => i > 0 && e.tsNs < events[i - 1]!.tsNs)).toBe(-1);
    expect(events[0]!.tsNs).toBeGreaterThanOrEqual(0);
    // The overrun report is a diag event, and agrees with the result.
    const overrun = events.find((e) => e.kind === 'diag' && e.code === 'overrun');
    expect(overrun && overrun.kind === 'diag' && overrun.message).toContain(`${result.overrun} event(s) overwritten and ${result.droppedEvents} dropped`);

    // Every file it touched is one the state check reads, and all read as before.
    expect(touched.filter((f) => !before.has(f))).toEqual([]);
    expect(touched).toContain('events/lock/contention_begin/trigger');
    expectSameState(before);
    expect(existsSync(join(DEFAULT_RUN_DIR, STATE_FILE))).toBe(false);
    expect(existsSync(join(DEFAULT_RUN_DIR, LOCK_FILE))).toBe(false);
  }, 120_000);

  it('never traces itself: with no --comm/--pid, its own threads\' syscalls are filtered out, a writer\'s are not', async () => {
    const capture = TracefsCapture.open({ events: 'syscalls:sys_enter_write,syscalls:sys_exit_write', pollMs: 20 });
    const events: TraceEvent[] = [];
    const run = capture.source.start({ event: (e) => events.push(e), flush: () => {}, end: () => {} }, new AbortController().signal);
    // This process writes too (main thread and the libuv pool), while a writer runs.
    const own = join(dir, 'own');
    for (let i = 0; i < 50; i++) writeFileSync(own, 'x'.repeat(4096));
    await Promise.all(Array.from({ length: 8 }, () => writeFile(own, 'y')));
    const pids = await writersRound(join(dir, 'self.data'));
    await new Promise((r) => setTimeout(r, 100));
    capture.finish();
    await run;
    const ownTids = new Set(readdirSync('/proc/self/task'));
    const mine = events.filter((e) => ownTids.has(e.task.split('/')[1]!));
    expect(mine.length).toBe(0);
    // fd 1 is dd's of= file. (The forked child's own pipe write before exec shows under the new comm too:
    // trace_pipe prints the comm cached for the pid when it prints the line.)
    for (const pid of pids) expect(events.filter((e) => e.kind === 'app_op_begin' && e.task === `fscwriter/${pid}` && e.fd === 1).length).toBe(256);
    expectSameState(before);
  }, 60_000);

  it('--pid keeps that process only: of two writers running at once, the other one is not captured', async () => {
    // The shell becomes the writer (exec keeps the pid); it waits so the capture can start with its pid.
    const file = join(dir, 'pid.data');
    const args = `if=/dev/zero of=${file} bs=64k count=64 conv=notrunc status=none`;
    const wanted = spawn('sh', ['-c', `sleep 2; exec ${writer} ${args}`]);
    const capture = TracefsCapture.open({ events: 'syscalls:sys_enter_write,syscalls:sys_exit_write', pids: [wanted.pid!], pollMs: 20 });
    expect(capture.filter).toContain(`common_pid == ${wanted.pid}`);
    const events: TraceEvent[] = [];
    const run = capture.source.start({ event: (e) => events.push(e), flush: () => {}, end: () => {} }, new AbortController().signal);
    const other = spawn(writer, args.split(' '));
    await Promise.all([wanted, other].map((k) => new Promise((r) => k.once('exit', r))));
    await new Promise((r) => setTimeout(r, 100));
    capture.finish();
    await run;
    const tasks = new Set(events.filter((e) => e.kind !== 'diag').map((e) => e.task));
    expect([...tasks]).toEqual([`fscwriter/${wanted.pid}`]);
    expect(events.filter((e) => e.kind === 'app_op_begin' && e.fd === 1).length).toBe(64);
    expect(() => TracefsCapture.open({ pids: [2 ** 22 + 1] })).toThrow(/--pid 4194305: no such process/);
    expectSameState(before);
  }, 60_000);

  it('overruns are never hidden: with a small buffer and no reader, the lost events are gaps and the overrun report counts them', async () => {
    // trace_pipe's text (its [LOST n EVENTS] lines); raw-reader.cases.ts has the raw reader's overrun case.
    const capture = TracefsCapture.open({ events: 'syscalls:sys_enter_read,syscalls:sys_exit_read', comms: ['fscwriter'], bufferKb: 64, reader: 'text' });
    // No run yet: nothing reads the buffer while 20,000 one-byte reads (40,000 events) fill 64 KiB per CPU many times over.
    const dd = spawn(writer, ['if=/dev/zero', 'of=/dev/null', 'bs=1', 'count=20000', 'status=none']);
    await new Promise((r) => dd.once('exit', r));
    const events: TraceEvent[] = [];
    const run = capture.source.start({ event: (e) => events.push(e), flush: () => {}, end: () => {} }, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 100));
    const result = capture.finish();
    await run;
    expect(result.restoreProblems).toEqual([]);
    const reads = events.filter((e) => e.kind === 'app_op_begin' && e.op === 'read' && e.task === `fscwriter/${dd.pid}` && e.fd === 0);
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.length).toBeLessThan(20000);
    expect(result.overrun).toBeGreaterThan(0);
    // trace_pipe said where: gaps with their counts; the end report says how many in all.
    const gaps = events.filter((e) => e.kind === 'gap');
    expect(gaps.length).toBeGreaterThan(0);
    const missed = gaps.reduce((n, g) => n + (g.kind === 'gap' ? g.missedEvents : 0), 0);
    expect(missed).toBe(result.lostInGaps);
    expect(missed).toBeGreaterThan(0);
    const report = events.find((e) => e.kind === 'diag' && e.code === 'overrun');
    expect(report && report.kind === 'diag' && report.severity).toBe('warn');
    expect(report && report.kind === 'diag' && report.message).toContain(`${result.overrun} event(s) overwritten`);
    expect(report && report.kind === 'diag' && report.message).toContain(`${missed} reported in trace_pipe as [LOST n EVENTS] gaps`);
    expectSameState(before);
  }, 60_000);

  it('mounts tracefs where it is absent and unmounts it at the end; refuses where it cannot be mounted', () => {
    const mnt = mkdtempSync(join(tmpdir(), 'fusescope-tracefs-mnt-'));
    const mounted = (): boolean => readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === mnt);
    try {
      const logs: string[] = [];
      const c = TracefsCapture.open({ root: mnt, events: 'lock', log: (l) => logs.push(l) });
      expect(mounted()).toBe(true);
      expect(logs.join('\n')).toContain(`mounted tracefs at ${mnt}`);
      // One tracefs: the capture's settings show at the usual place too.
      expect(readFileSync(join(T, 'trace_clock'), 'utf8')).toMatch(/\[mono\]/);
      expect(c.finish().restoreProblems).toEqual([]);
      expect(mounted()).toBe(false);
      expectSameState(before);
    } finally {
      if (mounted()) spawnSync('umount', [mnt]);
      rmdirSync(mnt); // never a recursive rm: it may have been a tracefs
    }
    expect(() => TracefsCapture.open({ root: '/proc/fusescope-no-such-dir' })).toThrow(/not mounted at \/proc\/fusescope-no-such-dir and could not be mounted/);
    expect(existsSync(join(DEFAULT_RUN_DIR, LOCK_FILE))).toBe(false);
    expectSameState(before);
  }, 60_000);

  it('stops, saying which file, when another process changes tracefs under it; still restores what it found', async () => {
    const capture = TracefsCapture.open({ events: 'lock', pollMs: 20 });
    let endedWith: string | undefined;
    const events: TraceEvent[] = [];
    const run = capture.source.start({ event: (e) => events.push(e), flush: () => {}, end: (err) => { endedWith = err; } }, new AbortController().signal);
    // What a capture script's restore does: clears a filter (the capture's own-thread exclusion with it).
    writeFileSync(join(T, 'events/lock/contention_end/filter'), '0\n');
    await run; // ends by itself within the 1 s check
    expect(endedWith).toMatch(/tracefs was changed by another process during the capture: events\/lock\/contention_end\/filter reads "none"/);
    expect(events.some((e) => e.kind === 'diag' && e.severity === 'error' && e.code === 'capture_failed')).toBe(true);
    expect(capture.finish().restoreProblems).toEqual([]);
    expectSameState(before);
  }, 30_000);

  it('refuses a second capture while one runs, and an event this kernel does not have, naming it (tracefs untouched)', () => {
    const first = TracefsCapture.open({ events: 'lock' });
    try {
      expect(() => TracefsCapture.open({ events: 'lock' })).toThrow(new RegExp(`another capture is running \\(pid ${process.pid}`));
    } finally {
      expect(first.finish().restoreProblems).toEqual([]);
    }
    expect(() => TracefsCapture.open({ events: 'lock,nosuchsys:nosuch_event' })).toThrow(/not on this kernel.*nosuchsys:nosuch_event/);
    expectSameState(before);
    const r = runCli(['capture', '--tracefs', '--events', 'fuse,lock:no_such_event', '--no-serve', '-o', join(dir, 'x.fscope'), '--seconds', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('not on this kernel');
    expect(r.stderr).toContain('lock:no_such_event');
    expect(existsSync(join(dir, 'x.fscope'))).toBe(false);
    expectSameState(before);
  }, 60_000);

  it('refuses when not root: an injected uid, and the CLI run as nobody', () => {
    expect(() => TracefsCapture.open({ uid: 1000 })).toThrow(TracefsError);
    expect(() => TracefsCapture.open({ uid: 1000 })).toThrow(/needs root.*uid 1000/);
    const r = runCli(['capture', '--tracefs', '--no-serve', '-o', join(dir, 'nobody.fscope'), '--seconds', '1'], true);
    expect(r.stderr).toContain('needs root');
    expect(r.code).toBe(2);
    expectSameState(before);
  }, 60_000);

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`the CLI stopped with ${signal} restores tracefs and closes its recording`, async () => {
      const out = join(dir, `${signal}.fscope`);
      const cli = await startCli(['capture', '--tracefs', '--events', 'lock,syscalls', '--comm', 'fscwriter', '--no-serve', '-o', out, '--seconds', '120']);
      expect(readFileSync(join(T, 'trace_clock'), 'utf8')).toMatch(/\[mono\]/);
      expect(readFileSync(join(T, 'events/syscalls/sys_enter_write/enable'), 'utf8')).toBe('1\n');
      const pids = await writersRound(join(dir, `${signal}.data`));
      await new Promise((r) => setTimeout(r, 200));
      cli.child.kill(signal);
      const code = await cli.exited;
      expect(cli.stderr()).toContain('tracefs restored as found');
      expect(code).toBe(0);
      expectSameState(before);
      // The recording is complete: it opens, and holds the writers' write syscalls.
      const { reader, close } = await openRecordingFile(out);
      try {
        expect(reader.damage).toBeNull();
        expect(reader.header.meta.clock).toBe('mono');
        const store = await reader.readAll();
        let writesSeen = 0;
        for (let i = 0; i < store.length; i++) {
          const ev = store.get(i);
          if (ev.kind === 'app_op_begin' && ev.op === 'write' && pids.includes(Number(ev.task.split('/')[1]))) writesSeen++;
        }
        expect(writesSeen).toBe(256 * 2);
      } finally {
        await close();
      }
    }, 90_000);
  }

  it('the CLI serves the capture like serve: a websocket client gets the tracefs session and the events as they happen', async () => {
    const cli = await startCli(['capture', '--tracefs', '--events', 'syscalls', '--comm', 'fscwriter', '--port', '0', '--no-record', '--seconds', '120']);
    try {
      // stdout and stderr are two pipes: the URL line may come after the stderr line startCli waited for.
      for (let i = 0; i < 100 && !cli.stdout().includes('open http'); i++) await new Promise((r) => setTimeout(r, 50));
      const url = /open (http:\/\/127\.0\.0\.1:\d+)\//.exec(cli.stdout())?.[1];
      expect(url, cli.stdout()).toBeDefined();
      const ws = new WebSocket(`${url!.replace('http', 'ws')}/ws`, { origin: url });
      const frames: Array<string | Buffer> = [];
      ws.on('message', (d: Buffer, binary: boolean) => frames.push(binary ? d : d.toString()));
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      await writersRound(join(dir, 'serve.data'));
      // The writers' events reach the client within a few 50 ms reads.
      for (let i = 0; i < 100 && !frames.some((f) => typeof f !== 'string'); i++) await new Promise((r) => setTimeout(r, 50));
      ws.close();
      const hello = JSON.parse(frames.find((f): f is string => typeof f === 'string' && f.includes('"hello"'))!);
      expect(hello.source).toMatch(/^tracefs:\d+ events comm=fscwriter$/);
      expect(hello.scenarios.map((x: { name: string }) => x.name)).toEqual(['tracefs']);
      expect(frames.some((f) => typeof f !== 'string')).toBe(true);
    } finally {
      cli.child.kill('SIGTERM');
      await cli.exited;
    }
    expect(cli.stderr()).toContain('tracefs restored as found');
    expectSameState(before);
  }, 90_000);

  it('a capture killed with SIGKILL is undone by the next start, and by `capture --restore`', async () => {
    for (const undo of ['next start', '--restore'] as const) {
      const cli = await startCli(['capture', '--tracefs', '--events', 'lock', '--no-serve', '-o', join(dir, `kill-${undo}.fscope`), '--seconds', '120']);
      cli.child.kill('SIGKILL');
      await cli.exited;
      // Left behind: tracefs changed, the state file and the dead pid's lock.
      expect(readFileSync(join(T, 'trace_clock'), 'utf8')).toMatch(/\[mono\]/);
      expect(existsSync(join(DEFAULT_RUN_DIR, STATE_FILE))).toBe(true);
      expect(readFileSync(join(DEFAULT_RUN_DIR, LOCK_FILE), 'utf8').trim()).toBe(String(cli.child.pid));
      if (undo === 'next start') {
        const logs: string[] = [];
        const c = TracefsCapture.open({ events: 'lock', log: (l) => logs.push(l) });
        expect(c.recovered?.pid).toBe(cli.child.pid);
        expect(c.recovered?.problems).toEqual([]);
        expect(logs.join('\n')).toContain(`a capture (pid ${cli.child.pid}`);
        expect(c.finish().restoreProblems).toEqual([]);
      } else {
        const r = runCli(['capture', '--restore']);
        expect(r.stderr).toContain(`restored tracefs as the killed capture (pid ${cli.child.pid}`);
        expect(r.code).toBe(0);
        const again = runCli(['capture', '--restore']);
        expect(again.stderr).toContain('nothing to restore');
      }
      expectSameState(before);
      expect(existsSync(join(DEFAULT_RUN_DIR, STATE_FILE))).toBe(false);
      expect(existsSync(join(DEFAULT_RUN_DIR, LOCK_FILE))).toBe(false);
    }
  }, 120_000);
});

describe('--events names against a kernel\'s events folder', () => {
  it('takes groups, systems and system:event; skips group members the kernel lacks; refuses unknown names, naming them', () => {
    const root = mkdtempSync(join(tmpdir(), 'fusescope-events-'));
    try {
      for (const e of ['lock/contention_begin', 'lock/contention_end', 'fuse/fuse_request_send', 'fuse/fuse_request_end',
        'syscalls/sys_enter_write', 'syscalls/sys_exit_write', 'syscalls/sys_enter_read', 'ext4/ext4_da_write_begin']) {
        spawnSync('mkdir', ['-p', join(root, 'events', e)]);
      }
      const r = resolveEvents(root, 'fuse,lock,syscalls,ext4:ext4_da_write_begin');
      // read has no exit event here, so only write is taken (both halves or neither).
      expect(r.events.sort()).toEqual(['ext4/ext4_da_write_begin', 'fuse/fuse_request_end', 'fuse/fuse_request_send',
        'lock/contention_begin', 'lock/contention_end', 'syscalls/sys_enter_write', 'syscalls/sys_exit_write']);
      expect(r.skipped).toContain('syscalls:sys_{enter,exit}_read');
      expect(() => resolveEvents(root, 'iomap')).toThrow(/not on this kernel.*: iomap$/);
      expect(() => resolveEvents(root, 'lock,ext4:nope,../x')).toThrow(/ext4:nope, \.\.\/x/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

// Debian's fuse2fs (libfuse 2.9, path API) captured through uprobes on its libfuse: the hardlink
// workload of docs/capture.md. Lives in this file so that no two test files write tracefs at once.
const whyNotFuse2fs = whyNot ?? (!existsSync('/usr/bin/fuse2fs') ? 'no /usr/bin/fuse2fs (Debian package fuse2fs)'
  : !existsSync('/dev/fuse') ? 'no /dev/fuse' : !existsSync(join(T, 'uprobe_events')) ? `no ${T}/uprobe_events` : null);
if (whyNotFuse2fs) console.warn(`\n*** SKIPPED fuse2fs uprobe capture tests in server/capture/tracefs-capture.test.ts: ${whyNotFuse2fs} ***\n`);

describe.skipIf(whyNotFuse2fs !== null)('capture --fuse2fs: uprobes on its libfuse', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fusescope-fuse2fs-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function image(name: string): { img: string; mnt: string } {
    const img = join(dir, `${name}.img`);
    const mnt = join(dir, `${name}-mnt`);
    const r = spawnSync('mke2fs', ['-q', '-t', 'ext4', '-O', '^has_journal', '-F', img, '32M'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    spawnSync('mkdir', [mnt]);
    return { img, mnt };
  }

  /** startCli, retried while another capture (another tool on this machine) holds the lock. */
  async function startCapture(args: string[]): ReturnType<typeof startCli> {
    for (let i = 0; ; i++) {
      try {
        return await startCli(args);
      } catch (e) {
        if (!String(e).includes('another capture is running') || i > 120) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  const mountedAt = (mnt: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === mnt);

  it('every request has its nodeid; the hardlink\'s two names have two nodeids and the st_ino stat shows; the alias group names it; uprobes gone after', async () => {
    const { img, mnt } = image('hl');
    const uprobesBefore = readFileSync(join(T, 'uprobe_events'), 'utf8');
    const out = join(dir, 'hl.fscope');
    const cli = await startCapture(['capture', '--fuse2fs', img, '--mount', mnt, '--no-serve', '-o', out, '--seconds', '120']);
    let inoF: number;
    let inoL: number;
    try {
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toContain('fusescope/libfuse_recv');
      // The workload: create d1/f, ln d1/f d2/l, write through both names.
      spawnSync('mkdir', [join(mnt, 'd1'), join(mnt, 'd2')]);
      writeFileSync(join(mnt, 'd1/f'), 'first\n');
      expect(spawnSync('ln', [join(mnt, 'd1/f'), join(mnt, 'd2/l')]).status).toBe(0);
      await writeFile(join(mnt, 'd1/f'), 'through f\n', { flag: 'a' });
      await writeFile(join(mnt, 'd2/l'), 'through l\n', { flag: 'a' });
      // The kernel's side: what stat(2) says of each name.
      [inoF, inoL] = spawnSync('stat', ['-c', '%i', join(mnt, 'd1/f'), join(mnt, 'd2/l')], { encoding: 'utf8' }).stdout.trim().split('\n').map(Number) as [number, number];
      expect(inoF).toBe(inoL);
      expect(inoF).toBeGreaterThan(11); // ext4's first file inode is 11 (lost+found), then 12, 13 for d1, d2
    } finally {
      cli.child.kill('SIGINT');
    }
    expect(await cli.exited, cli.stderr()).toBe(0);
    expect(cli.stderr()).toContain('tracefs restored as found');
    expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toBe(uprobesBefore);
    expect(existsSync(join(T, 'events/fusescope'))).toBe(false);
    expect(mountedAt(mnt)).toBe(false);

    const { reader, close } = await openRecordingFile(out);
    let events: TraceEvent[];
    try {
      const store = await reader.readAll();
      events = Array.from({ length: store.length }, (_, i) => store.get(i));
    } finally {
      await close();
    }
    const sends = events.filter((e): e is TraceEvent & { kind: 'fuse_send' } => e.kind === 'fuse_send');
    expect(sends.length).toBeGreaterThan(15);
    // Every request of the mount, nodeid from its header (INIT and DESTROY name no node: not in this window).
    expect(sends.filter((s) => s.nodeId === 0).map((s) => `${s.unique}:${s.opcode}`)).toEqual([]);
    // The names: the -d log's entry replies (CREATE d1/f, LINK d2/l) give nodeid per path.
    const byPath = new Map(events.filter((e) => e.kind === 'inode_lookup' && e.path !== '').map((e) => [(e as { path: string }).path, (e as { nodeId: number }).nodeId]));
    const nf = byPath.get('/d1/f')!;
    const nl = byPath.get('/d2/l')!;
    expect(nf).toBeGreaterThan(1);
    expect(nl).toBeGreaterThan(1);
    expect(nf).not.toBe(nl);
    // Writes went through both names: FUSE_WRITE (16) with each nodeid.
    expect(new Set(sends.filter((s) => s.opcode === 16).map((s) => s.nodeId))).toEqual(new Set([nf, nl]));
    // The reply probes: both nodeids have the st_ino stat(2) showed.
    const identity = events.filter((e) => e.kind === 'inode_lookup' && e.path === '').map((e) => [(e as { nodeId: number }).nodeId, (e as { ino: number }).ino]);
    expect(identity).toContainEqual([nf, inoF!]);
    expect(identity).toContainEqual([nl, inoF!]);
    // The alias group, as `fusescope summary` reports it.
    const sum = spawnSync(process.execPath, [...CLI, 'summary', out], { encoding: 'utf8' });
    const groups = (JSON.parse(sum.stdout) as { aliasGroups: Array<{ ino: number; nodeids: number[]; paths: string[] }> }).aliasGroups;
    expect(groups).toContainEqual({ ino: inoF!, inoEvidence: [inoF!], nodeids: [nf, nl].sort((a, b) => a - b), paths: ['/d1/f', '/d2/l'] });
  }, 240_000);

  it('a --fuse2fs capture killed with SIGKILL leaves its uprobes, fuse2fs and mount to the next start, which removes them', async () => {
    const { img, mnt } = image('kill');
    const uprobesBefore = readFileSync(join(T, 'uprobe_events'), 'utf8');
    const cli = await startCapture(['capture', '--fuse2fs', img, '--mount', mnt, '--no-serve', '-o', join(dir, 'kill.fscope'), '--seconds', '120']);
    const fuse2fsPid = Number(/fuse2fs \(pid (\d+)\)/.exec(cli.stderr())![1]);
    cli.child.kill('SIGKILL');
    await cli.exited;
    try {
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toContain('fusescope/libfuse_recv');
      expect(mountedAt(mnt)).toBe(true);
      const logs: string[] = [];
      const c = TracefsCapture.open({ events: 'lock', log: (l) => logs.push(l) });
      // Read while it runs, asserted after it finished (a failed assertion must not leave a capture holding the lock).
      const atStart = readFileSync(join(T, 'uprobe_events'), 'utf8');
      const done = c.finish();
      expect(c.recovered?.pid).toBe(cli.child.pid);
      expect(c.recovered?.problems).toEqual([]);
      expect(atStart).toBe(uprobesBefore);
      expect(done.restoreProblems).toEqual([]);
      expect(readFileSync(join(T, 'uprobe_events'), 'utf8')).toBe(uprobesBefore);
      // The next start also ended what the killed capture started, and said so.
      expect(mountedAt(mnt)).toBe(false);
      expect(logs.join('\n')).toContain(`unmounted ${mnt} (its fuse2fs's mount; fusermount -u)`);
      expect(logs.join('\n')).toContain(`its fuse2fs (pid ${fuse2fsPid}) ended`);
      let state = 'gone';
      try { state = /^\S+ \(.*\) (\S)/s.exec(readFileSync(`/proc/${fuse2fsPid}/stat`, 'utf8'))![1]!; } catch { /* reaped */ }
      expect(['gone', 'Z']).toContain(state); // ended (a zombie until init reaps it: its parent was killed)
    } finally {
      // Should the clean-up above have failed: the killed capture's fuse2fs (started by this test, through it), ended by its pid.
      spawnSync('fusermount', ['-u', mnt]);
      try { process.kill(fuse2fsPid, 'SIGTERM'); } catch { /* already gone */ }
    }
    expect(mountedAt(mnt)).toBe(false);
  }, 240_000);
});

workloadCases();
allowCaptureCases();
livePassesCases();
fuse2fsWorkloadCases();
attachCases();
rawReaderCases();
