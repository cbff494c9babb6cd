// Import entry points: format detection by content and one incremental parser per file. The
// pipeline that runs them over several files (pipeline.ts) is what the CLI
// (server/sources/files.ts) and the browser's drop-import worker (src/app/import-run.ts) use.

import type { TraceEvent } from '../schema.ts';
import { DiagSink } from './diagnostics.ts';
import { NdjsonParser } from './ndjson.ts';
import { FtraceParser } from './ftrace.ts';
import { FuseLogParser } from './fuse-log.ts';
import { NO_CLOCK, ftraceClock, ndjsonClock, type FileClock } from './clock.ts';
import { FileRows, ftraceNeedsPass, ndjsonNeedsPass } from './file-rows.ts';

export type ImportFormat = 'ftrace' | 'fuse-log' | 'ndjson' | 'trace-dat';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['ftrace', 'fuse-log', 'ndjson', 'trace-dat'];

/** Ftrace events (text, or a trace.dat read as its report text): one clock kind, the same passes. */
export function isFtraceFormat(f: ImportFormat): boolean {
  return f === 'ftrace' || f === 'trace-dat';
}

const FTRACE_LINE = /^\s*\S.*?-\d+\s+(?:\(\s*(?:\d+|-+)\)\s+)?\[\d+\]\s/;

/** Guesses a format from a file's first bytes (≥ a few KB); null if nothing fits. */
export function detectFormat(head: string): ImportFormat | null {
  // trace-cmd's binary trace.dat (read through its random-access reader, tracedat/).
  if (head.startsWith('\x17\x08Dtracing')) return 'trace-dat';
  let seen = 0;
  for (const raw of head.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (line.startsWith('{')) return line.includes('"fusescope-ndjson"') || line.includes('"kind"') ? 'ndjson' : null;
    if (line.startsWith('# tracer:') || /^cpus=\d+/.test(line)) return 'ftrace';
    if (line.startsWith('#')) continue;
    if (/^unique: \d+, opcode: /.test(line) || line.startsWith('FUSE library version')) return 'fuse-log';
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
  const rows = new FileRows(!stream ? null : isFtraceFormat(format) ? ftraceNeedsPass : format === 'ndjson' ? ndjsonNeedsPass : null);
  const sink = (ev: TraceEvent): void => rows.add(ev);
  switch (format) {
    case 'ftrace':
    case 'trace-dat': {
      // A trace.dat arrives as the report text its reader prints (tracedat/records.ts).
      // Every parser frames text or UTF-8 bytes with the one framer (framing.ts).
      const p = new FtraceParser(name, sink, diags);
      return {
        name, format, diags, rows, get events() { return rows.events(); }, log: null, originNs: () => p.originNs ?? 0n, clock: () => ftraceClock(p.stampKind),
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
