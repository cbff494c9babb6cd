// A live capture from the kernel's tracefs: set up, read, put back.
//
//   open()   refuse unless root → the lock (one capture at a time; a killed capture's state file is
//            restored first) → mount tracefs if absent → resolve --events against this kernel →
//            snapshot every file it will write (saved to the state file) → set clock mono, real
//            pointers, tgid, buffer size, one filter per event (comm/pid, never this process's
//            threads), the stacktrace trigger on lock:contention_begin, the events on, tracing_on
//            → open trace_pipe O_NONBLOCK → per-CPU overrun counters read
//   source   a LiveSource: while a run goes, every pollMs it reads trace_pipe until EAGAIN (a
//            bounded amount per tick: the event loop never blocks), pushes the text to the ftrace
//            parser and hands the parsed events to the sink as one batch
//   finish() last read, the parser ended, the overrun counters read again and the difference
//            reported (a diag event and the result), the run ended (sink.end), tracefs restored
//            and re-read (every file as it was), the lock released
//   restore() the emergency path (signals, errors, exit): put tracefs back now, synchronously
//
// Times: trace_clock mono is CLOCK_MONOTONIC, the clock of process.hrtime; tsNs is ns since the
// capture started (startMonoNs), so events the buffer held from before the start (tsNs < 0) are
// dropped and counted, never shown as this capture's.
import { closeSync, constants, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { Diag, TraceEvent } from '../../src/trace/schema.ts';
import { FtraceParser } from '../../src/trace/import/ftrace.ts';
import { asTaskId } from '../../src/trace/ids.ts';
import type { LiveSink, LiveSource, LiveSourceInfo } from '../sources/live-source.ts';
import { CaptureLock, DEFAULT_RUN_DIR, DEFAULT_TRACEFS, Tracefs, TracefsError, type Recovery } from './tracefs.ts';
import { DEFAULT_EVENTS, buildFilter, resolveEvents, type EventPath } from './events.ts';
import { UPROBE_GROUP, type UprobeSpec } from './libfuse.ts';
import { cleanupLeftBehind } from './started.ts';
import { HOLD_SLACK_NS, RawReader, rawUnavailable } from './raw-reader.ts';
import { TaskNames } from './task-names.ts';

/**
 * Rewrites the parsed stream before it reaches the sink (the live libfuse join): push() takes
 * events in order and returns those ready to go out (it may hold some back), end() the rest.
 */
export interface EventTransform {
  push(ev: TraceEvent, out: TraceEvent[]): void;
  /** Called every read tick (events held for something outside the stream may be let go). */
  tick(out: TraceEvent[]): void;
  end(out: TraceEvent[]): void;
}

export interface CaptureOptions {
  /** tracefs mount point (default /sys/kernel/tracing). */
  root?: string;
  /** Where the lock and the state file live (default /run/fusescope). */
  runDir?: string;
  /** `--events` (default fuse,lock,iomap,syscalls). */
  events?: string;
  comms?: readonly string[];
  /** Processes: each becomes its threads as found at start. */
  pids?: readonly number[];
  /** Per-CPU ring buffer size in KiB to set for the capture; null: leave it as found. */
  bufferKb?: number | null;
  /** How often a run reads trace_pipe. */
  pollMs?: number;
  /**
   * `raw`: per-CPU trace_pipe_raw pages decoded by the events' format files (raw-reader.ts);
   * `text`: trace_pipe's text. Default DEFAULT_READER; raw falls back to text where tracefs has no raw files.
   */
  reader?: 'raw' | 'text';
  /** The uid that decides root (tests inject one). */
  uid?: number;
  /** Uprobes to create (uprobe_events, snapshotted and removed at the end) and enable with the events. */
  uprobes?: readonly UprobeSpec[];
  /**
   * Only this FUSE connection (kernel dev_t, MAJOR<<20|MINOR of the mount) in the events that have a
   * `connection` field (fuse_request_send/_end): another mount's uniques would collide with its own.
   */
  connection?: number;
  /** Applied to the parsed events before the sink (see EventTransform). */
  transform?: EventTransform;
  /** A run failed (reading trace_pipe): the owner should finish() the capture (the CLI stops). */
  onFailure?: (message: string) => void;
  log?: (line: string) => void;
}

export interface CaptureResult {
  /** Events handed to sinks (after dropping those from before the start). */
  events: number;
  /** Ring-buffer overruns and drops during the capture, from per_cpu/cpuN/stats (end − start). */
  overrun: number;
  droppedEvents: number;
  /** Events the `[LOST n EVENTS]` lines of trace_pipe reported (drawn as gaps). */
  lostInGaps: number;
  beforeStart: number;
  bytesRead: number;
  /** tracefs files that did not read back as found (empty: restored exactly). */
  restoreProblems: string[];
}

/**
 * The per-CPU raw pages: cheaper than trace_pipe's text (T1/T1r in docs/performance.md) and times in
 * ns. (It was held back while fuse2fs workload cases failed now and then with raw; the cause found
 * was the kernel's task tables' stale entries, task-names.ts, which the text path prints too.)
 */
export const DEFAULT_READER: 'raw' | 'text' = 'raw';
/** 8 MiB per CPU: a 50 ms read interval then holds ~100 k events per CPU before overrunning. */
export const DEFAULT_BUFFER_KB = 8192;
const DEFAULT_POLL_MS = 50;
/**
 * Read at most this much per tick (~45 k events, tens of ms of parsing), so a flood cannot hold the
 * event loop; a tick that reached it is followed at once (setImmediate) instead of after pollMs.
 */
const MAX_BYTES_PER_TICK = 4 << 20;
/** A record's time is taken when it is reserved and it is readable once committed, microseconds later. */
const RECORD_COMMIT_SLACK_NS = HOLD_SLACK_NS;
const READ_CHUNK = 1 << 20;
/** The last read at finish(): what the buffers can hold at the default size several times over. */
const MAX_BYTES_AT_END = 256 << 20;
const CAPTURE_TASK = asTaskId('fusescope/tracefs');
/** How often a run checks that tracefs still holds the capture's settings. */
const SETTINGS_CHECK_MS = 1000;
/** The stacktrace trigger names the lock's role (real-capture: `down_write ← fuse_file_write_iter`). */
const CONTENTION_BEGIN: EventPath = 'lock/contention_begin';

interface CpuStats { overrun: number; dropped: number }

/** Sums `overrun:` and `dropped events:` over per_cpu/cpuN/stats (ftrace.rst "per_cpu/cpuN/stats"). */
function readCpuStats(root: string): CpuStats {
  const total = { overrun: 0, dropped: 0 };
  const dir = join(root, 'per_cpu');
  for (const cpu of readdirSync(dir)) {
    let text: string;
    try {
      text = readFileSync(join(dir, cpu, 'stats'), 'utf8');
    } catch {
      continue; // an offline CPU
    }
    total.overrun += Number(/^overrun: (\d+)/m.exec(text)?.[1] ?? 0);
    total.dropped += Number(/^dropped events: (\d+)/m.exec(text)?.[1] ?? 0);
  }
  return total;
}

/** The threads of this process (the libuv pool included, once started): filtered out of every event. */
function ownTids(): number[] {
  return readdirSync('/proc/self/task').map(Number).filter((n) => Number.isInteger(n));
}

/** A process's threads as they are now; refuses a pid that does not exist. */
function threadsOf(pid: number): number[] {
  const dir = `/proc/${pid}/task`;
  if (!Number.isInteger(pid) || pid <= 0 || !existsSync(dir)) throw new TracefsError(`--pid ${pid}: no such process`);
  return readdirSync(dir).map(Number).filter((n) => Number.isInteger(n));
}

export class TracefsCapture {
  readonly info: LiveSourceInfo;
  /** What the lock found left by a killed capture (restored before this one started), or null. */
  readonly recovered: Recovery | null;
  readonly events: readonly EventPath[];
  readonly filter: string;
  /** CLOCK_MONOTONIC ns at the start: tsNs 0. */
  readonly startMonoNs: bigint;
  readonly startedAt: Date;
  readonly source: LiveSource;
  /** Capture-axis ns below which every event of the run has gone to the sink (see noteDelivered). */
  private deliveredNs = 0;
  private readonly tracefs: Tracefs;
  private readonly lock: CaptureLock;
  private readonly parser: FtraceParser;
  private pipeFd: number | null = null;
  private raw: RawReader | null = null;
  /** The text reader's check of trace_pipe's tgid column (task-names.ts: it prints the kernel's table, which may be stale). */
  private textTasks: TaskNames | null = null;
  /** Each task's process as last handed out (a corrected row that repeats it is dropped). */
  private readonly taskTgid = new Map<string, number>();
  /** The reader in use (`raw` may have fallen back to `text`). */
  readonly reader: 'raw' | 'text';
  private readonly startStats: CpuStats;
  private readonly buf = Buffer.allocUnsafe(READ_CHUNK);
  private readonly pollMs: number;
  private readonly log: (line: string) => void;
  private readonly onFailure: ((message: string) => void) | undefined;
  /** Parsed events not yet handed to a sink (the parser emits while text is pushed). */
  private pending: TraceEvent[] = [];
  /** Every file the capture set, as it read back after the set-up (settingsChanged). */
  private readonly settings: Array<[string, string]>;
  /** Per-event filters ANDed with the capture's (a uprobe's own condition). */
  private readonly extraFilters = new Map<EventPath, string>();
  private readonly transform: EventTransform | undefined;
  private lastSettingsCheckMs = 0;
  private offsetNs: number | null = null;
  private lastTsNs = 0;
  private diagsSent = 0;
  private sink: LiveSink | null = null;
  private endRun: (() => void) | null = null;
  private finished: CaptureResult | null = null;
  private readonly counts = { events: 0, lostInGaps: 0, beforeStart: 0, bytesRead: 0, clamped: 0, tgidsCorrected: 0 };

  private constructor(o: CaptureOptions) {
    const log = o.log ?? (() => {});
    this.log = log;
    this.onFailure = o.onFailure;
    this.transform = o.transform;
    this.pollMs = o.pollMs ?? DEFAULT_POLL_MS;
    const uid = o.uid ?? process.getuid?.() ?? -1;
    if (uid !== 0) throw new TracefsError(`capture --tracefs needs root (uid 0; this is uid ${uid}): tracefs settings are the kernel's, shared by every user`);
    const root = o.root ?? DEFAULT_TRACEFS;
    this.lock = new CaptureLock(o.runDir ?? DEFAULT_RUN_DIR);
    this.recovered = this.lock.acquire();
    if (this.recovered) log(`a capture (pid ${this.recovered.pid}, started ${this.recovered.startedAt}) was killed before it could restore tracefs; restored it as that capture found it`);
    // What a killed capture had started (a FUSE server and its mount, temp folders): ended and removed (started.ts).
    for (const line of cleanupLeftBehind(o.runDir ?? DEFAULT_RUN_DIR)) log(line);
    let tfs: Tracefs | undefined;
    this.parser = new FtraceParser('tracefs', (ev) => this.onEvent(ev));
    try {
      this.tracefs = tfs = Tracefs.open(root, this.lock.statePath);
      if (this.tracefs.snapshot.mounted) log(`mounted tracefs at ${root} (unmounted at the end)`);
      const resolved = resolveEvents(root, o.events ?? DEFAULT_EVENTS);
      const probes = o.uprobes ?? [];
      if (probes.length > 0) {
        tfs.remember(['uprobe_events']);
        for (const p of probes) {
          tfs.addUprobe(p.definition);
          const path = `${UPROBE_GROUP}/${p.event}`;
          if (p.filter) this.extraFilters.set(path, p.filter);
        }
      }
      this.events = [...resolved.events, ...probes.map((p) => `${UPROBE_GROUP}/${p.event}`)];
      if (o.connection !== undefined) {
        for (const e of resolved.events) {
          if (/\bfield:dev_t connection;/.test(tfs.read(`events/${e}/format`))) this.extraFilters.set(e, `connection == ${o.connection}`);
        }
      }
      if (resolved.skipped.length > 0) log(`not on this kernel, skipped: ${resolved.skipped.join(', ')}`);
      const tids = (o.pids ?? []).flatMap(threadsOf);
      this.filter = buildFilter({ comms: o.comms ?? [], tids, excludeTids: ownTids() });
      this.setUp(o.bufferKb === undefined ? DEFAULT_BUFFER_KB : o.bufferKb);
      this.startMonoNs = process.hrtime.bigint();
      this.startedAt = new Date();
      this.settings = this.tracefs.snapshot.files.map((f) => [f.path, this.tracefs.read(f.path)]);
      this.startStats = readCpuStats(root);
      const why = (o.reader ?? DEFAULT_READER) === 'raw' ? rawUnavailable(root) : null;
      if (why !== null) log(`--reader raw: ${why}; reading trace_pipe instead`);
      this.reader = (o.reader ?? DEFAULT_READER) === 'raw' && why === null ? 'raw' : 'text';
      if (this.reader === 'raw') {
        this.raw = new RawReader({ root, events: this.events, parser: this.parser, comms: o.comms, diag: (code, message) => { this.pending.push(this.diag('warn', code, message)); } });
      } else try {
        this.textTasks = new TaskNames({ root });
        this.pipeFd = openSync(join(root, 'trace_pipe'), constants.O_RDONLY | constants.O_NONBLOCK);
      } catch (e) {
        // trace_pipe has one reader at a time (EBUSY for a second).
        if ((e as NodeJS.ErrnoException).code === 'EBUSY') throw new TracefsError(`${root}/trace_pipe is busy: another process is reading it (only one reader at a time)`);
        throw e;
      }
    } catch (e) {
      this.raw?.close();
      const problems = tfs?.restore() ?? [];
      this.lock.release();
      if (problems.length > 0) log(`tracefs NOT fully restored: ${problems.join('; ')}`);
      throw e;
    }
    this.info = { label: `tracefs:${this.events.length} events${o.comms?.length ? ` comm=${o.comms.join('|')}` : ''}${o.pids?.length ? ` pid=${o.pids.join('|')}` : ''}`, paceNsPerSec: 1e9 };
    this.source = { info: this.info, start: (sink, signal) => this.run(sink, signal) };
    // A transform may hold events past the reader's progress: then only a fixed wait can merge it.
    if (this.transform === undefined) this.source.deliveredNs = () => this.deliveredNs;
  }

  /** Sets up tracefs (see the file comment); throws TracefsError (the caller restores). */
  static open(o: CaptureOptions = {}): TracefsCapture {
    return new TracefsCapture(o);
  }

  private setUp(bufferKb: number | null): void {
    const t = this.tracefs;
    const paths = ['tracing_on', 'trace_clock', 'options/hash-ptr', 'options/record-tgid'];
    if (bufferKb !== null) paths.push('buffer_size_kb');
    for (const e of this.events) paths.push(`events/${e}/enable`, `events/${e}/filter`);
    const trigger = this.events.includes(CONTENTION_BEGIN) ? `events/${CONTENTION_BEGIN}/trigger` : null;
    if (trigger) paths.push(trigger);
    // Every file read (and the state file saved) before the first write.
    t.remember(paths);
    t.write('tracing_on', '0');
    t.write('trace_clock', 'mono');
    t.write('options/hash-ptr', '0');
    t.write('options/record-tgid', '1');
    if (bufferKb !== null) t.write('buffer_size_kb', String(bufferKb));
    for (const e of this.events) {
      // An event's own filter is replaced while the capture runs (and put back after).
      const extra = this.extraFilters.get(e);
      const f = extra === undefined ? this.filter : this.filter === '' ? extra : `(${this.filter}) && ${extra}`;
      t.write(`events/${e}/filter`, f === '' ? '0' : f);
    }
    if (trigger) {
      const existing = t.read(trigger).split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
      if (existing.some((l) => l.startsWith('stacktrace'))) this.log(`${trigger} already has a stacktrace trigger; left as it is`);
      // The trigger carries the event's filter: without `if`, it would fire on every contention, filtered or not.
      else t.addTrigger(trigger, this.filter === '' ? 'stacktrace' : `stacktrace if ${this.filter}`);
    }
    for (const e of this.events) t.write(`events/${e}/enable`, '1');
    t.write('tracing_on', '1');
  }

  get running(): boolean { return this.endRun !== null; }
  /** Every tracefs file the capture wrote (relative to the mount), as snapshotted before. */
  get touchedFiles(): string[] { return this.tracefs.snapshot.files.map((f) => f.path); }
  get statePath(): string { return this.lock.statePath; }

  /** One run: reads every pollMs until finish() (which ends it with sink.end) or `signal` aborts. */
  private run(sink: LiveSink, signal: AbortSignal): Promise<void> {
    if (this.endRun) throw new Error('tracefs capture: already running');
    return new Promise<void>((resolve) => {
      if (signal.aborted || this.finished) {
        if (this.finished) sink.end();
        return resolve();
      }
      this.sink = sink;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stop = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', stop);
        this.sink = null;
        this.endRun = null;
        resolve();
      };
      const fail = (msg: string): void => {
        this.pending.push(this.diag('error', 'capture_failed', msg));
        this.handOut();
        sink.end(msg);
        stop();
        this.onFailure?.(msg);
      };
      const tick = (): void => {
        let more: boolean;
        try {
          const readStartNs = process.hrtime.bigint();
          more = this.readPipe();
          this.handOut();
          this.noteDelivered(readStartNs, more);
        } catch (e) {
          return fail(`reading trace_pipe failed: ${(e as Error).message}`);
        }
        const changed = this.settingsChanged();
        if (changed !== null) return fail(changed);
        timer = setTimeout(tick, more ? 0 : this.pollMs);
      };
      signal.addEventListener('abort', stop, { once: true });
      this.endRun = () => {
        this.handOut(true);
        sink.end();
        stop();
      };
      timer = setTimeout(tick, 0);
    });
  }

  /**
   * tracefs is one per machine: another tool (a capture script's restore, `trace-cmd reset`) can
   * change it under the capture. Checked once a second: every file the capture set still reads as
   * it set it; else a message saying which (the capture ends: without its filter it could be
   * reading its own syscalls, and its events would not be what it says they are).
   */
  private settingsChanged(): string | null {
    const now = performance.now();
    if (now - this.lastSettingsCheckMs < SETTINGS_CHECK_MS) return null;
    this.lastSettingsCheckMs = now;
    for (const [path, content] of this.settings) {
      let current: string;
      try {
        current = this.tracefs.read(path);
      } catch (e) {
        current = `(unreadable: ${(e as Error).message})`;
      }
      if (current !== content) {
        return `tracefs was changed by another process during the capture: ${path} reads ${JSON.stringify(current.trim())}, ` +
          `the capture set ${JSON.stringify(content.trim())}; capture stopped (run one tracing tool at a time)`;
      }
    }
    return null;
  }

  /**
   * After a tick: how far the sink has everything. The reader's progress — raw: its pass watermark;
   * text: the read's start less RECORD_COMMIT_SLACK_NS when read to EAGAIN (trace_pipe hands out
   * every committed record in time order), else the last line read — then no further than the
   * oldest event the parser still holds for a later line's decision.
   */
  private noteDelivered(readStartNs: bigint, cutByBound: boolean): void {
    const origin = this.parser.originNs;
    let readerNs: number;
    if (this.raw !== null) readerNs = this.raw.watermarkNs - Number(this.startMonoNs);
    else if (!cutByBound) readerNs = Number(readStartNs - this.startMonoNs) - RECORD_COMMIT_SLACK_NS;
    else readerNs = origin === null ? 0 : Number(origin - this.startMonoNs) + this.parser.lastLineTsNs;
    const pending = this.parser.oldestPendingNs();
    const pendingNs = pending === Infinity || this.offsetNs === null ? Infinity : pending + this.offsetNs;
    const ns = Math.min(readerNs, pendingNs);
    if (ns > this.deliveredNs) this.deliveredNs = ns;
  }

  /** Reads trace_pipe until EAGAIN (or the per-tick bound: returns true, there is more) into the parser. */
  private readPipe(bound = MAX_BYTES_PER_TICK, final = false): boolean {
    if (this.raw !== null) {
      const more = this.raw.read(bound, final);
      this.counts.bytesRead = this.raw.bytesRead;
      return more;
    }
    if (this.pipeFd === null) return false;
    this.textTasks?.newPass();
    let total = 0;
    while (total < bound) {
      let n: number;
      try {
        n = readSync(this.pipeFd, this.buf, 0, READ_CHUNK, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EAGAIN') break;
        throw e;
      }
      if (n <= 0) break;
      total += n;
      // The parser copies what it keeps (an unfinished line); the buffer is reused.
      this.parser.push(this.buf.subarray(0, n));
    }
    this.counts.bytesRead += total;
    return total >= bound;
  }

  /** A parsed event onto the capture's axis; those from before the start are counted, not kept. */
  private onEvent(ev: TraceEvent): void {
    if (this.offsetNs === null) this.offsetNs = Number((this.parser.originNs ?? this.startMonoNs) - this.startMonoNs);
    const off = this.offsetNs;
    ev.tsNs += off;
    if (ev.kind === 'gap') {
      ev.fromTsNs += off;
      ev.toTsNs += off;
      // -1: a raw page flagged a loss without room to store its count (the stats counters still count it).
      if (ev.missedEvents > 0) this.counts.lostInGaps += ev.missedEvents;
    }
    if (ev.tsNs < 0) {
      this.counts.beforeStart++;
      return;
    }
    if (ev.kind === 'task_process' && this.textTasks !== null) {
      // trace_pipe printed the kernel's pid → tgid entry, which may be an exited task's with this pid.
      const known = this.textTasks.tgidOf(Number(ev.task.slice(ev.task.lastIndexOf('/') + 1)));
      if (known > 0 && known !== ev.tgid) {
        ev.tgid = known;
        this.counts.tgidsCorrected++;
      }
      if (this.taskTgid.get(ev.task) === ev.tgid) return;
      this.taskTgid.set(ev.task, ev.tgid);
    }
    // trace_pipe merges the CPUs' buffers in time order; clamp anyway so the stream never goes back.
    if (ev.tsNs < this.lastTsNs) {
      ev.tsNs = this.lastTsNs;
      this.counts.clamped++;
    } else this.lastTsNs = ev.tsNs;
    this.pending.push(ev);
  }

  /** New parser diagnostics as diag events, then the pending events as one batch. */
  private handOut(final = false): void {
    const d = this.parser.diags;
    while (this.diagsSent < d.first.length) {
      const p = d.first[this.diagsSent++]!;
      this.pending.push(this.diag('warn', p.code, p.col ? `col ${p.col}: ${p.message}` : p.message, p.line));
    }
    const sink = this.sink;
    if (sink === null) return;
    let out = this.pending;
    this.pending = [];
    if (this.transform) {
      const t: TraceEvent[] = [];
      for (const ev of out) this.transform.push(ev, t);
      this.transform.tick(t);
      if (final) this.transform.end(t);
      out = t;
    }
    if (out.length === 0) return;
    for (const ev of out) sink.event(ev);
    this.counts.events += out.length;
    sink.flush();
  }

  private diag(severity: Diag['severity'], code: string, message: string, line = 0): Diag {
    return { kind: 'diag', tsNs: this.lastTsNs, task: CAPTURE_TASK, severity, code, message, file: 'tracefs', line };
  }

  /**
   * Ends the capture: the last of trace_pipe, the parser's held events, the overrun report, the
   * run ended; then tracefs restored and the lock released. Idempotent.
   */
  finish(): CaptureResult {
    if (this.finished) return this.finished;
    let readError: string | null = null;
    let unread = false;
    try {
      this.tracefs.write('tracing_on', '0'); // nothing new while the rest is read
      // Bounded even so: another tool may have turned tracing back on.
      unread = this.readPipe(MAX_BYTES_AT_END, true);
    } catch (e) {
      readError = (e as Error).message;
    }
    this.parser.end();
    const end = readCpuStats(this.tracefs.root);
    const overrun = end.overrun - this.startStats.overrun;
    const dropped = end.dropped - this.startStats.dropped;
    const lost = overrun + dropped;
    this.pending.push(this.diag(lost > 0 ? 'warn' : 'info', 'overrun',
      `ring buffer: ${overrun} event(s) overwritten and ${dropped} dropped during the capture (per_cpu/cpuN/stats, end − start); ` +
      `${this.counts.lostInGaps} reported in trace_pipe as [LOST n EVENTS] gaps`));
    if (this.counts.beforeStart > 0) {
      this.pending.push(this.diag('info', 'before_start', `${this.counts.beforeStart} event(s) in the buffer from before the capture started were not kept`));
    }
    if (this.parser.diags.count > this.parser.diags.first.length) {
      this.pending.push(this.diag('warn', 'diags_not_kept', `${this.parser.diags.count - this.parser.diags.first.length} more parse diagnostic(s) were counted but not kept`));
    }
    if (unread) this.pending.push(this.diag('warn', 'not_read', `trace_pipe still had events after ${MAX_BYTES_AT_END >> 20} MiB read at the end; the rest were not read`));
    if (readError) this.pending.push(this.diag('error', 'read_failed', `reading trace_pipe failed: ${readError}`));
    if (this.endRun) this.endRun();
    const restoreProblems = this.close();
    this.finished = {
      events: this.counts.events, overrun, droppedEvents: dropped, lostInGaps: this.counts.lostInGaps,
      beforeStart: this.counts.beforeStart, bytesRead: this.counts.bytesRead, restoreProblems,
    };
    return this.finished;
  }

  /** Puts tracefs back and releases the lock, now (any exit path); returns what did not read back. Idempotent. */
  restore(): string[] {
    return this.close();
  }

  private close(): string[] {
    if (this.raw !== null) this.log(`trace_pipe_raw: ${this.raw.tasks.fromProcCount} task(s) named from /proc, the tracefs task tables read ${this.raw.tasks.tableReads} time(s) for tasks already gone`);
    if (this.textTasks !== null && this.counts.tgidsCorrected > 0) this.log(`trace_pipe: ${this.counts.tgidsCorrected} task(s) printed with another task's process (the kernel's pid → tgid table keeps exited tasks' entries); their process taken from /proc or the table once theirs`);
    this.raw?.close();
    this.raw = null;
    if (this.pipeFd !== null) {
      closeSync(this.pipeFd);
      this.pipeFd = null;
    }
    const problems = this.tracefs.restore();
    if (problems.length === 0) this.lock.release();
    // With problems the state file stays, the lock too: the next start (or --restore) tries again.
    else this.log(`tracefs NOT fully restored (state kept in ${this.lock.statePath}): ${problems.join('; ')}`);
    return problems;
  }
}

/** `fusescope capture --restore`: undoes what a killed capture left; null when nothing was left. */
export function restoreLeftBehind(runDir = DEFAULT_RUN_DIR, uid = process.getuid?.() ?? -1): Recovery | null {
  if (uid !== 0) throw new TracefsError(`capture --restore needs root (this is uid ${uid})`);
  const lock = new CaptureLock(runDir);
  const r = lock.acquire();
  lock.release();
  return r;
}
