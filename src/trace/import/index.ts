// Import entry points: format detection by content and one incremental parser per file. The
// pipeline that runs them over several files (pipeline.ts) is what the CLI
// (server/sources/files.ts) and the browser's drop-import worker (src/app/import-run.ts) use.

import type { TraceEvent } from '../schema.ts';
import { DiagSink } from './diagnostics.ts';
import { NdjsonParser } from './ndjson.ts';
import { FtraceParser } from './ftrace.ts';
import { FuseLogParser } from './fuse-log.ts';
import { NO_CLOCK, PERF_CLOCK, PERF_LOCK_CLOCK, UNTIMED_CLOCK, ftraceClock, ndjsonClock, type FileClock } from './clock.ts';
import { SYSTEMS } from './ftrace/systems/index.ts';
import { TRACE_DAT_MAGIC } from './tracedat/reader.ts';

/** The trace.dat magic as the text detection decodes it (its bytes are ASCII). */
const TRACE_DAT_TEXT = String.fromCharCode(...TRACE_DAT_MAGIC);
import { explainFormat, type FormatExplanation, type FormatSniffer } from './detect.ts';
import { FileRows, ftraceNeedsPass, ndjsonNeedsPass } from './file-rows.ts';
import { isPerfScriptLine } from './ftrace/perf-header.ts';
import { PerfLockParser, isPerfLockHeader } from './perf-lock.ts';
import { ChromeJsonParser } from './chrome-json.ts';

/** A format name: one of FORMATS (other importers add theirs there). */
export type ImportFormat = 'ftrace' | 'fuse-log' | 'ndjson' | 'perf-script' | 'perf-lock' | 'trace-dat' | 'chrome-json';


/** Kernel events (ftrace text, a trace.dat read as its report text, perf script): one kind of clock, joined with -d logs, lock attribution runs over them. */
export function isKernelText(f: ImportFormat): boolean {
  return f === 'ftrace' || f === 'trace-dat' || f === 'perf-script';
}

/** libfuse -d (2.6–3.18), go-fuse rx/tx, jacobsa `Op 0x…] <-`, fuse2fs/fuse4fs dbg_printf (fuse-log.ts). */
const FUSE_LOG_LINE = /^(?:(?:dev |cqe )?unique: \d+, opcode: |FUSE library version|(?:\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? )?(?:rx \d+: [A-Z]|\S*:? ?Op 0x[0-9a-f]{8} )|FUSE[24]FS \([^)]*\): tid=\d+ )/;
const FTRACE_LINE = /^\s*\S.*?-\d+\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[\d+\]\s/;
/** trace-cmd report -l: `comm-pid  0d..2  1061.462541: event: …` (cpu and latency flags in one column). */
const LATENCY_LINE = /^\s*\S.*?-\d+\s+\d+[.a-zA-Z0-9]{3,6}\s+\d+(?:\.\d+)?:\s/;
/** A pasted line reduced to `[system:]event: body` (the event name may be padded to a column). */
const UNTIMED_LINE = /^\s*(?:\w+:)?(\w+):(?:\s|$)/;

/** Tracepoints the ftrace parser turns into typed events: a bare `name: body` line names one of these. */
const KNOWN_TRACEPOINTS = new Set<string>(SYSTEMS.flatMap((s) => Object.keys(s.handlers)));

/** A line of a pasted trace that kept only `event: body`: the name must be a tracepoint we know. */
export function untimedTracepoint(line: string): string | null {
  const m = UNTIMED_LINE.exec(line);
  if (m === null) return null;
  const name = m[1]!;
  return KNOWN_TRACEPOINTS.has(name) || name.startsWith('sys_enter_') || name.startsWith('sys_exit_') ? name : null;
}

/** One format: how it is recognised (detect.ts) and opened. Add a format by adding an entry here. */
export interface FormatEntry extends FormatSniffer {
  readonly name: ImportFormat;
  readonly open: (name: string, diags: DiagSink, rows: FileRows, sink: (ev: TraceEvent) => void) => Omit<FileImport, 'name' | 'format' | 'diags' | 'rows' | 'events'>;
  /** Whether the file's rows may stream into the store until this says a cross-file pass needs them (file-rows.ts); null: never stream. */
  readonly needsPass: ((ev: TraceEvent) => boolean) | null;
}

/** Every format, in the order detection prefers them when one line shows several. */
export const FORMATS: readonly FormatEntry[] = [
  {
    name: 'trace-dat',
    looksFor: 'trace-cmd\'s binary magic `\\x17\\x08Dtracing` at byte 0',
    sniff: (line, lineNo) => (lineNo === 1 && line.startsWith(TRACE_DAT_TEXT) ? 'trace-cmd\'s trace.dat magic at byte 0' : null),
    needsPass: ftraceNeedsPass,
    // The trace.dat reader (tracedat/) hands each record to the ftrace parser with its header decoded
    // (FileImport.ftrace) and its body as `trace-cmd report -t` prints it: the tables read it as a line's.
    open: (name, diags, _rows, sink) => {
      const p = new FtraceParser(name, sink, diags);
      return { log: null, originNs: () => p.originNs ?? 0n, clock: () => ftraceClock(p.stampKind), push: (c) => p.push(c), end: () => p.end(), ftrace: p };
    },
  },
  // perf before ftrace: on one line perf's `comm tid [cpu] secs: system:event:` wins (perf-header.ts).
  {
    name: 'perf-lock',
    looksFor: 'a `perf lock contention` table header (`contended   total wait …`)',
    sniff: (line) => (isPerfLockHeader(line) ? 'a `perf lock contention` table header' : null),
    needsPass: () => false,
    open: (name, diags, _rows, sink) => {
      // Totals with no time: on no clock (tsNs 0), so they never move another file's axis.
      const p = new PerfLockParser(name, sink, diags);
      return { log: null, originNs: () => 0n, clock: () => PERF_LOCK_CLOCK, push: (c) => p.push(c), end: () => p.end() };
    },
  },
  {
    name: 'perf-script',
    looksFor: 'a `perf script` sample line `comm tid [cpu] secs.frac: system:event:`',
    sniff: (line) => (isPerfScriptLine(line) ? 'a `perf script` sample line (`comm tid [cpu] secs: system:event:`)' : null),
    needsPass: ftraceNeedsPass,
    open: (name, diags, _rows, sink) => {
      // perf script prints the tracepoints' own body text: the ftrace parser with perf's header.
      const p = new FtraceParser(name, sink, diags, undefined, 'perf');
      return { log: null, originNs: () => p.originNs ?? 0n, clock: () => PERF_CLOCK, push: (c) => p.push(c), end: () => p.end() };
    },
  },
  {
    name: 'ftrace',
    looksFor: '`# tracer:`, `cpus=N` or `version = N` headers, a `comm-pid [cpu] time: event:` line (or trace-cmd -l latency columns), or a pasted `event: body` line naming a known tracepoint',
    sniff: (line) => {
      if (line.startsWith('# tracer:')) return 'tracefs `trace` file header `# tracer:`';
      if (line.startsWith('#')) return null;
      if (/^cpus=\d+/.test(line)) return 'trace-cmd report header `cpus=N`';
      if (/^version = \d/.test(line)) return 'trace-cmd report header `version = N`';
      if (FTRACE_LINE.test(line)) return 'an event line with the `comm-pid [cpu] time:` prefix';
      if (LATENCY_LINE.test(line)) return 'an event line in trace-cmd report -l latency format (`comm-pid cpu+flags time:`)';
      const tp = untimedTracepoint(line);
      return tp === null ? null : `a \`${tp}:\` line without the \`comm-pid [cpu] time:\` prefix (pasted: its time and task are unknown)`;
    },
    needsPass: ftraceNeedsPass,
    open: (name, diags, _rows, sink) => {
      // Every parser frames text or UTF-8 bytes with the one framer (framing.ts).
      const p = new FtraceParser(name, sink, diags);
      return {
        log: null, originNs: () => p.originNs ?? 0n, clock: () => (p.stampKind === null && p.untimedEvents > 0 ? UNTIMED_CLOCK : ftraceClock(p.stampKind)),
        untimedEvents: () => p.untimedEvents, push: (c) => p.push(c), end: () => p.end(),
      };
    },
  },
  {
    name: 'fuse-log',
    looksFor: '`unique: N, opcode: …` (libfuse -d), `FUSE library version`, go-fuse `rx N: OP`, jacobsa `Op 0x…`, or fuse2fs/fuse4fs `FUSE4FS (dev): tid=N`',
    sniff: (line) => {
      if (/^(?:dev |cqe )?unique: \d+, opcode: /.test(line)) return 'a libfuse -d request line `unique: N, opcode: …`';
      if (line.startsWith('FUSE library version')) return 'libfuse\'s `FUSE library version` banner';
      if (FUSE_LOG_LINE.test(line)) return 'a fuse server debug line (go-fuse `rx N:`, jacobsa `Op 0x…`, or fuse2fs/fuse4fs `tid=N`)';
      return null;
    },
    needsPass: null,
    open: (name, diags) => {
      const p = new FuseLogParser(name, diags);
      return { log: p, originNs: () => 0n, clock: () => NO_CLOCK, push: (c) => p.push(c), end: () => p.end() };
    },
  },
  {
    // Before ndjson: the export's later lines are JSON objects whose args hold `"kind"`.
    name: 'chrome-json',
    looksFor: 'the first line of a `fusescope export --format chrome-json` file (`"generator":"fusescope"` in `otherData`)',
    sniff: (line) => (line.startsWith('{') && line.includes('"traceEvents"') && line.includes('"generator":"fusescope"')
      ? 'a fusescope Chrome JSON export (`"otherData":{"generator":"fusescope",…}`)' : null),
    needsPass: null,
    open: (name, diags, _rows, sink) => {
      const p = new ChromeJsonParser(name, sink, diags);
      // The export keeps the source's events and origin; which clock they were on it does not say.
      return { log: null, originNs: () => p.originNs(), clock: () => ndjsonClock(null, name), push: (c) => p.push(c), end: () => p.end() };
    },
  },
  {
    name: 'ndjson',
    looksFor: 'a JSON object line with `"fusescope-ndjson"` or `"kind"`',
    sniff: (line) => {
      if (!line.startsWith('{')) return null;
      if (line.includes('"fusescope-ndjson"')) return 'the fusescope NDJSON header `{"format":"fusescope-ndjson",…}`';
      return line.includes('"kind"') ? 'a JSON event line with `"kind"`' : null;
    },
    needsPass: ndjsonNeedsPass,
    open: (name, diags, _rows, sink) => {
      const p = new NdjsonParser(name, sink, diags);
      let originNs: bigint | null = null;
      const origin = (): bigint => {
        if (originNs !== null) return originNs;
        const raw: unknown = p.header?.originNs ?? '0';
        const ok = typeof raw === 'string' && /^-?\d+$/.test(raw);
        if (!ok) diags.add({ source: name, line: 1, code: 'bad_origin', message: `header originNs ${JSON.stringify(raw)} is not an integer string; taken as 0` });
        return (originNs = ok ? BigInt(raw) : 0n);
      };
      return { log: null, originNs: origin, clock: () => ndjsonClock(p.header, name), push: (c) => p.push(c), end: () => p.end() };
    },
  },
];

export const IMPORT_FORMATS: readonly ImportFormat[] = FORMATS.map((f) => f.name);

/** The format entry of a name (undefined: no such format). */
export function formatEntry(name: string): FormatEntry | undefined {
  return FORMATS.find((f) => f.name === name);
}

/** Detection with its evidence and the alternatives rejected (detect.ts). */
export function explainDetection(head: string): FormatExplanation {
  return explainFormat(head, FORMATS);
}

/** Guesses a format from a file's first bytes (≥ a few KB); null if nothing fits. */
export function detectFormat(head: string): ImportFormat | null {
  return explainDetection(head).format as ImportFormat | null;
}

/** One file being imported: push text or UTF-8 byte chunks, then end. */
export interface FileImport {
  readonly name: string;
  readonly format: ImportFormat;
  readonly diags: DiagSink;
  /** Where its events went: streamed into a store, or held (file-rows.ts). */
  readonly rows: FileRows;
  /** Its events as a list (a streamed file's rows become events again: it is then held). */
  readonly events: TraceEvent[];
  /** Absolute ns of the file's tsNs 0 ('0' for NDJSON from the simulator). */
  originNs(): bigint;
  /** Which clock the file's times are on (clock.ts); known once its first event is parsed. */
  clock(): FileClock;
  push(chunk: string | Uint8Array): void;
  end(): void;
  /** Events whose times are synthetic (pasted lines without times: the file's order); absent: none. */
  untimedEvents?(): number;
  /** trace.dat: the ftrace parser its records go to directly (tracedat/records.ts); absent for other formats. */
  readonly ftrace?: FtraceParser;
  /** The fuse-log parser (join input), else null. */
  readonly log: FuseLogParser | null;
}

/**
 * A parser for one file. `stream`: the file is the whole trace, so its events may go straight into
 * a store while no pass needs them (file-rows.ts); a -d log's events are built at the end anyway.
 */
export function openImport(name: string, format: ImportFormat, stream = false): FileImport {
  const entry = formatEntry(format);
  if (entry === undefined) throw new Error(`no import format ${format}`);
  const diags = new DiagSink();
  const rows = new FileRows(stream ? entry.needsPass : null, isKernelText(format));
  const parts = entry.open(name, diags, rows, (ev) => rows.add(ev));
  return { name, format, diags, rows, get events() { return rows.events(); }, ...parts };
}
