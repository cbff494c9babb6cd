// Import entry points: format detection by content and one incremental parser per file. The
// pipeline that runs them over several files (pipeline.ts) is what the CLI
// (server/sources/files.ts) and the browser's drop-import worker (src/app/import-run.ts) use.

import type { TraceEvent } from '../schema.ts';
import { DiagSink } from './diagnostics.ts';
import { NdjsonParser } from './ndjson.ts';
import { FtraceParser } from './ftrace.ts';
import { FuseLogParser } from './fuse-log.ts';
import { NO_CLOCK, PERF_CLOCK, PERF_LOCK_CLOCK, ftraceClock, ndjsonClock, type FileClock } from './clock.ts';
import { FileRows, ftraceNeedsPass, ndjsonNeedsPass } from './file-rows.ts';
import { isPerfScriptLine } from './ftrace/perf-header.ts';
import { PerfLockParser, isPerfLockHeader } from './perf-lock.ts';

export type ImportFormat = 'ftrace' | 'fuse-log' | 'ndjson' | 'perf-script' | 'perf-lock';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['ftrace', 'fuse-log', 'ndjson', 'perf-script', 'perf-lock'];

/** libfuse -d (2.6–3.18), go-fuse rx/tx, jacobsa `Op 0x…] <-`, fuse2fs/fuse4fs dbg_printf (fuse-log.ts). */
const FUSE_LOG_LINE = /^(?:(?:dev |cqe )?unique: \d+, opcode: |FUSE library version|(?:\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? )?(?:rx \d+: [A-Z]|\S*:? ?Op 0x[0-9a-f]{8} )|FUSE[24]FS \([^)]*\): tid=\d+ )/;
const FTRACE_LINE = /^\s*\S.*?-\d+\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[\d+\]\s/;

/** Guesses a format from a file's first bytes (≥ a few KB); null if nothing fits. */
export function detectFormat(head: string): ImportFormat | null {
  let seen = 0;
  for (const raw of head.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.startsWith('{')) return line.includes('"fusescope-ndjson"') || line.includes('"kind"') ? 'ndjson' : null;
    if (line.startsWith('# tracer:') || /^cpus=\d+/.test(line)) return 'ftrace';
    if (line.startsWith('#')) continue;
    if (FUSE_LOG_LINE.test(line)) return 'fuse-log';
    // perf before ftrace: perf's `system:event:` after `comm tid [cpu] secs.frac:` (perf-header.ts).
    if (isPerfLockHeader(line)) return 'perf-lock';
    if (isPerfScriptLine(line)) return 'perf-script';
    if (FTRACE_LINE.test(line)) return 'ftrace';
    if (++seen > 50) break;
  }
  return null;
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
  /** The fuse-log parser (join input), else null. */
  readonly log: FuseLogParser | null;
}

/**
 * A parser for one file. `stream`: the file is the whole trace, so its events may go straight into
 * a store while no pass needs them (file-rows.ts); a -d log's events are built at the end anyway.
 */
export function openImport(name: string, format: ImportFormat, stream = false): FileImport {
  const diags = new DiagSink();
  const rows = new FileRows(!stream ? null : format === 'ftrace' || format === 'perf-script' ? ftraceNeedsPass : format === 'ndjson' ? ndjsonNeedsPass : format === 'perf-lock' ? () => false : null);
  const sink = (ev: TraceEvent): void => rows.add(ev);
  switch (format) {
    case 'ftrace': {
      // Every parser frames text or UTF-8 bytes with the one framer (framing.ts).
      const p = new FtraceParser(name, sink, diags);
      return {
        name, format, diags, rows, get events() { return rows.events(); }, log: null, originNs: () => p.originNs ?? 0n, clock: () => ftraceClock(p.stampKind),
        push: (c) => p.push(c), end: () => p.end(),
      };
    }
    case 'perf-script': {
      // perf script prints the tracepoints' own body text: the ftrace parser with perf's header.
      const p = new FtraceParser(name, sink, diags, undefined, 'perf');
      return {
        name, format, diags, rows, get events() { return rows.events(); }, log: null, originNs: () => p.originNs ?? 0n, clock: () => PERF_CLOCK,
        push: (c) => p.push(c), end: () => p.end(),
      };
    }
    case 'perf-lock': {
      // Totals with no time: on no clock (tsNs 0), so they never move another file's axis.
      const p = new PerfLockParser(name, sink, diags);
      return {
        name, format, diags, rows, get events() { return rows.events(); }, log: null, originNs: () => 0n, clock: () => PERF_LOCK_CLOCK,
        push: (c) => p.push(c), end: () => p.end(),
      };
    }
    case 'fuse-log': {
      const p = new FuseLogParser(name, diags);
      return {
        name, format, diags, rows, get events() { return rows.events(); }, log: p, originNs: () => 0n, clock: () => NO_CLOCK,
        push: (c) => p.push(c), end: () => p.end(),
      };
    }
    case 'ndjson': {
      const p = new NdjsonParser(name, sink, diags);
      let originNs: bigint | null = null;
      const origin = (): bigint => {
        if (originNs !== null) return originNs;
        const raw: unknown = p.header?.originNs ?? '0';
        const ok = typeof raw === 'string' && /^-?\d+$/.test(raw);
        if (!ok) diags.add({ source: name, line: 1, code: 'bad_origin', message: `header originNs ${JSON.stringify(raw)} is not an integer string; taken as 0` });
        return (originNs = ok ? BigInt(raw) : 0n);
      };
      return {
        name, format, diags, rows, get events() { return rows.events(); }, log: null, originNs: origin, clock: () => ndjsonClock(p.header, name),
        push: (c) => p.push(c), end: () => p.end(),
      };
    }
  }
}
