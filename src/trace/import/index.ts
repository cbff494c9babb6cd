// Import entry points: format detection by content, one incremental parser per file, and the
// passes that need every file (join by unique, lock attribution). Used by the CLI
// (server/sources/files.ts) and by the browser's drop-import worker (src/app/import-worker.ts).

import type { TraceEvent } from '../schema.ts';
import { DiagSink, NdjsonParser, type ParseDiag } from '../ndjson.ts';
import { FtraceParser } from './ftrace.ts';
import { FuseLogParser, standaloneEvents } from './fuse-log.ts';
import { joinWithLog, joinWithRecv } from './join.ts';
import { attributeLocks, type LockAttribution } from './lock-attribution.ts';
import { resolveIdentity } from './identity.ts';

export type ImportFormat = 'ftrace' | 'fuse-log' | 'ndjson';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['ftrace', 'fuse-log', 'ndjson'];

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
    if (/^unique: \d+, opcode: /.test(line) || line.startsWith('FUSE library version')) return 'fuse-log';
    if (FTRACE_LINE.test(line)) return 'ftrace';
    if (++seen > 50) break;
  }
  return null;
}

/** One file being imported: push text chunks, then end. */
export interface FileImport {
  readonly name: string;
  readonly format: ImportFormat;
  readonly diags: DiagSink;
  readonly events: TraceEvent[];
  /** Absolute ns of the file's tsNs 0 ('0' for NDJSON from the simulator). */
  originNs(): bigint;
  push(chunk: string): void;
  end(): void;
  /** The fuse-log parser (join input), else null. */
  readonly log: FuseLogParser | null;
}

export function openImport(name: string, format: ImportFormat): FileImport {
  const diags = new DiagSink();
  const events: TraceEvent[] = [];
  const sink = (ev: TraceEvent): void => { events.push(ev); };
  switch (format) {
    case 'ftrace': {
      const p = new FtraceParser(name, sink, diags);
      return { name, format, diags, events, log: null, originNs: () => p.originNs ?? 0n, push: (c) => p.push(c), end: () => p.end() };
    }
    case 'fuse-log': {
      const p = new FuseLogParser(name, diags);
      return { name, format, diags, events, log: p, originNs: () => 0n, push: (c) => p.push(c), end: () => p.end() };
    }
    case 'ndjson': {
      const p = new NdjsonParser(name, sink, diags);
      return { name, format, diags, events, log: null, originNs: () => BigInt(p.header?.originNs ?? '0'), push: (c) => p.push(c), end: () => p.end() };
    }
  }
}

export interface ImportResult {
  /** One time-ordered list per kernel/NDJSON file, after joins and attribution. */
  files: Array<{ name: string; format: ImportFormat; originNs: bigint; events: TraceEvent[] }>;
  attributions: LockAttribution[];
  joins: Array<{ trace: string; log: string; matched: number; kernelOnly: number; logOnly: number }>;
  /** Diagnostics from the cross-file passes (join mismatches). */
  diags: ParseDiag[];
}

/**
 * Cross-file passes: each fuse log is joined with every ftrace file (by unique); a log without a
 * trace is replayed on its own (fuse_send/fuse_reply at line times); then inode identity evidence
 * (identity.ts) and lock attribution run on each trace.
 */
export function finishImport(imports: readonly FileImport[]): ImportResult {
  const traces = imports.filter((f) => f.format !== 'fuse-log');
  const logs = imports.filter((f) => f.log !== null);
  const result: ImportResult = { files: [], attributions: [], joins: [], diags: [] };
  const ftraces = traces.filter((f) => f.format === 'ftrace');
  const perFile = new Map<FileImport, TraceEvent[]>(traces.map((f) => [f, f.events]));
  for (const t of ftraces) joinWithRecv(perFile.get(t)!);
  for (const log of logs) {
    if (ftraces.length === 0) {
      result.files.push({ name: log.name, format: 'fuse-log', originNs: 0n, events: standaloneEvents(log.log!) });
      continue;
    }
    for (const t of ftraces) {
      const j = joinWithLog(perFile.get(t)!, log.log!, log.name);
      perFile.set(t, j.events);
      result.joins.push({ trace: t.name, log: log.name, matched: j.matched, kernelOnly: j.kernelOnly, logOnly: j.logOnly });
      result.diags.push(...j.diags);
    }
  }
  for (const t of ftraces) perFile.set(t, resolveIdentity(perFile.get(t)!, logs.map((l) => l.log!)).events);
  for (const t of traces) {
    let events = perFile.get(t)!;
    if (t.format === 'ftrace') {
      const a = attributeLocks(events);
      events = a.events;
      result.attributions.push(...a.attributions);
    }
    result.files.push({ name: t.name, format: t.format, originNs: t.originNs(), events });
  }
  return result;
}

