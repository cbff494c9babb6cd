// `fusescope record --source sim|files|instrument … -o OUT.fscope`
//   sim         runs the simulator (a LiveSource, flat out) into a recording (runRecord)
//   files       records what `fusescope import` loads: the imported store plus its diagnostics as
//               `diag` events (recordImport)
//   instrument  listens on the instrumentation socket until stopped (record-instrument.ts)
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Recorder } from '../recorder/recorder.ts';
import { simSource, DEFAULT_SCENARIO } from '../sources/sim.ts';
import type { LiveSink } from '../sources/live-source.ts';
import type { Diag, TraceEvent } from '../../src/trace/schema.ts';
import type { TraceStore } from '../../src/trace/store.ts';
import type { ParseDiag } from '../../src/trace/ndjson.ts';

export interface RecordOptions {
  source: string;
  scenario?: string;
  seed?: number;
  events?: number;
  policy?: string;
  out: string;
}

export class RecordUsageError extends Error {}

export async function runRecord(o: RecordOptions, log: (line: string) => void = () => {}): Promise<{ events: number; bytes: number }> {
  if (o.source !== 'sim') throw new RecordUsageError(`--source must be sim, files or instrument, not '${o.source}'`);
  if (o.policy !== undefined && o.policy !== 'per-path' && o.policy !== 'ino') {
    throw new RecordUsageError(`--policy must be per-path or ino, not '${o.policy}'`);
  }
  const name = o.scenario ?? DEFAULT_SCENARIO;
  const seed = o.seed ?? 1;
  const maxEvents = o.events ?? 100_000;
  const user = new Map<string, unknown>();
  if (existsSync(name)) user.set(name, JSON.parse(await readFile(name, 'utf8')));
  const sim = simSource(name, seed, user, { flatOutEvents: maxEvents, ...(o.policy ? { policy: o.policy as 'per-path' | 'ino' } : {}) });
  if (existsSync(o.out)) throw new RecordUsageError(`${o.out} exists; recordings are never overwritten`);
  const rec = new Recorder(o.out, { meta: { source: sim.info.label, scenario: name, seed, ...(o.policy ? { policy: o.policy } : {}) } });
  let written = 0;
  let failed: string | undefined;
  const buf: TraceEvent[] = [];
  const sink: LiveSink = {
    event: (ev) => { buf.push(ev); },
    flush: () => {
      rec.appendEvents(buf);
      written += buf.length;
      buf.length = 0;
    },
    end: (error) => { failed = error; },
  };
  try {
    await sim.start(sink, new AbortController().signal);
  } finally {
    rec.close();
  }
  if (failed !== undefined) throw new Error(failed);
  log(`wrote ${written} events to ${o.out} (${rec.bytesWritten} bytes, ${(rec.bytesWritten / Math.max(1, written)).toFixed(1)} B/event)`);
  return { events: written, bytes: rec.bytesWritten };
}

/** Task of the diag events that carry import diagnostics into a recording. */
export const IMPORT_DIAG_TASK = 'fusescope/import';

/** An import diagnostic as a `diag` event at `tsNs` (the column, if any, leads the message as in formatDiag). */
export function diagEventOf(d: ParseDiag, tsNs: number): Diag {
  return {
    kind: 'diag', tsNs, task: IMPORT_DIAG_TASK, severity: 'warn', code: d.code,
    message: d.col ? `col ${d.col}: ${d.message}` : d.message, file: d.source, line: d.line,
  };
}

/**
 * Writes an imported store to a new recording. The import's diagnostics come first, as `diag`
 * events at the first row's time (they have no time of their own): the kept ones, then one
 * `diags_not_kept` event with the count of the rest, so a recording says what its import said.
 */
export function recordImport(
  r: { store: TraceStore; diags: readonly ParseDiag[]; diagCount: number },
  out: string,
  meta: Record<string, unknown>,
): { events: number; bytes: number } {
  if (existsSync(out)) throw new RecordUsageError(`${out} exists; recordings are never overwritten`);
  const rec = new Recorder(out, { originNs: r.store.originNs, meta });
  try {
    const atNs = r.store.startNs;
    rec.appendEvents(r.diags.map((d) => diagEventOf(d, atNs)));
    if (r.diagCount > r.diags.length) {
      rec.appendEvent({
        kind: 'diag', tsNs: atNs, task: IMPORT_DIAG_TASK, severity: 'warn', code: 'diags_not_kept', file: '', line: 0,
        message: `${r.diagCount - r.diags.length} more diagnostic(s) were counted but not kept`,
      });
    }
    rec.appendRows(r.store);
  } finally {
    rec.close();
  }
  return { events: rec.rowsWritten, bytes: rec.bytesWritten };
}
