// Messages between the page and the import worker (import-worker.ts). Both directions are plain
// structured-clone objects; batches carry their wire frame as a transferred ArrayBuffer (no copy).
//
//   page → worker   open {id, files: Blob+name[], alignStarts?, checks?, shared?}   (one drop / pick = one trace;
//                                                         alignStarts: files on another clock than
//                                                         the first start with it; checks: run the
//                                                         protocol checkers here, over the rows sent;
//                                                         shared: the page can read SharedArrayBuffers
//                                                         — send `rows`, not batches)
//                   frames {id, frames}                   batch buffers the page has ingested, handed
//                                                         back (transferred) for the next chunks
//   worker → page   progress {doneBytes, totalBytes, phase}   at most every PROGRESS_PERIOD_MS
//                   start {originNs, kind, label, meta, expectedEvents?, storedFindings?, workerChecks?}   before
//                                                         the first batch: reset the trace (and reserve
//                                                         rows, if known); storedFindings: the recording
//                                                         holds the page's checkers' findings over every
//                                                         row; workerChecks: the worker runs the checkers
//                                                         over the rows it sends — either way the page
//                                                         does not feed them (done brings the findings)
//                   batch {frame, frameBytes?, strings?}  a wire batch (text imports: encodeBatch; a
//                                                         recording: a chunk's inflated body as stored)
//                                                         and the strings the page has not seen, which
//                                                         it interns before the frame's (if any);
//                                                         frameBytes: the batch is that many first bytes
//                                                         of a pooled buffer, to hand back (frames)
//                   rows {length, clampedCount, kinds, tsNs, columns, strings?}   (instead of batches, when the
//                                                         open said shared) the worker's store, whose
//                                                         arrays are SharedArrayBuffers it fills: rows
//                                                         [0, length) are final; the page reads them
//                                                         where they are (TraceStore.adoptShared)
//                   sent {events, diags, diagCount, damage, otherClockFiles?, aligned?}   every row is
//                                                         sent (done's summary, no findings yet): the
//                                                         page completes its indexes and may show the
//                                                         file while the checkers finish; done follows
//                   done {events, diags (first N), diagCount, damage, otherClockFiles?, aligned?, phasesMs?, findings?}
//                                                         (files not on the first file's clock; the
//                                                         worker's time per phase, for the bench; the
//                                                         findings over the rows sent: the recording's
//                                                         stored ones, or the worker's checkers' with
//                                                         the rows they saw and why they stopped, if a
//                                                         checker threw — else the page runs them)
//                   error {message, diags?, diagCount?}   nothing usable (the page shows it, with the
//                                                         diagnostics that say which file and line)
// Every message carries the `id` of its open request, so a late message of a cancelled import
// (the user dropped another file) is ignored. A message that does not parse is a bug: the page
// reports it as an error line, it never throws.

import type { Finding, Unknown } from '../trace/checks/types.ts';
import type { SharedRows } from '../trace/store.ts';

export type ImportPhase = 'reading' | 'joining' | 'loading' | 'checking' | 'done' | 'failed';
export type FileKind = 'import' | 'recording';

export type OpenFile = { name: string; blob: Blob } | { name: string; url: string };

export interface OpenRequest {
  type: 'open';
  id: number;
  /** Picked / dropped files as Blobs; a server recording by its URL (same origin), which the worker downloads itself. */
  files: Array<OpenFile>;
  alignStarts?: boolean;
  /** Run the protocol checkers in the worker over the rows sent (the page has a findings panel). */
  checks?: boolean;
  /** The page can read SharedArrayBuffers (it is cross-origin isolated): rows come as `rows`, not batches. */
  shared?: boolean;
}

/** Batch buffers the page has ingested, back to the worker that lent them (transferred). */
export interface FramesReturn {
  type: 'frames';
  id: number;
  frames: ArrayBuffer[];
}

/** Findings over the first `rows` rows sent (all of them when absent); `error`: a checker threw, checking stopped there. */
export interface WorkerFindings {
  list: Finding[];
  unknowns: Unknown[];
  rows?: number;
  error?: string;
}

export type WorkerMessage =
  | {
    type: 'progress'; id: number; doneBytes: number; totalBytes: number; phase: ImportPhase;
    /** Rows sent so far, of how many (when the file says: a recording's index, a parsed text import). */
    doneRows?: number; totalRows?: number;
  }
  | {
    type: 'start'; id: number; originNs: string; kind: FileKind; label: string; meta: Record<string, unknown>; expectedEvents?: number;
    storedFindings?: boolean; workerChecks?: boolean;
  }
  | { type: 'batch'; id: number; frame: ArrayBuffer; frameBytes?: number; strings?: string[] }
  | ({ type: 'rows'; id: number; strings?: string[] } & SharedRows)
  /** Every row has been sent; done follows once the checkers' findings are in (with the same summary). */
  | ({ type: 'sent'; id: number } & SentSummary)
  | {
    type: 'done'; id: number; events: number; diags: string[]; diagCount: number; damage: string;
    /** Text imports: how many files are not on the first file's clock, and whether they were aligned. */
    otherClockFiles?: number; aligned?: boolean;
    bodies?: RecordingBodies;
    /** Wall ms of the worker's phases (read, inflate, worker): what the bench breaks the load into. */
    phasesMs?: Record<string, number>;
    /** A recording's stored findings over exactly the rows sent (start said storedFindings), or the worker's checkers' (workerChecks). */
    findings?: WorkerFindings;
  }
  | { type: 'error'; id: number; message: string; diags?: string[]; diagCount?: number };

/** What a load's end says but its findings: the page may show the file on it while the checkers finish. */
export interface SentSummary {
  events: number;
  diags: string[];
  diagCount: number;
  damage: string;
  otherClockFiles?: number;
  aligned?: boolean;
  /** A recording: how its chunk bodies were inflated (each alone, or given out by joined runs, and how many runs). */
  bodies?: RecordingBodies;
}

export interface RecordingBodies {
  alone: number;
  joined: number;
  runs: number;
}

/** Diagnostics sent in full; the rest are only counted (a file of garbage cannot flood the page). */
export const MAX_DIAGS_SENT = 50;
/** Progress messages are throttled to this period; the last one of a phase is always sent. */
export const PROGRESS_PERIOD_MS = 50;

/** The message and what to transfer with it (a batch's buffer moves instead of being copied). */
export function encodeWorkerMessage(msg: WorkerMessage): [WorkerMessage, Transferable[]] {
  return [msg, msg.type === 'batch' ? [msg.frame] : []];
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const PHASES: readonly string[] = ['reading', 'joining', 'loading', 'checking', 'done', 'failed'];

function isFindings(v: unknown): boolean {
  const f = v as { list?: unknown; unknowns?: unknown; rows?: unknown; error?: unknown } | null;
  return typeof f === 'object' && f !== null && Array.isArray(f.list) && Array.isArray(f.unknowns)
    && (f.rows === undefined || (isNum(f.rows) && f.rows >= 0)) && (f.error === undefined || isStr(f.error))
    && f.list.every((x: unknown) => typeof x === 'object' && x !== null && Array.isArray((x as Finding).evidence) && isStr((x as Finding).rule))
    && f.unknowns.every((x: unknown) => typeof x === 'object' && x !== null && isStr((x as Unknown).rule) && isNum((x as Unknown).count));
}

const isBodies = (b: unknown): boolean => {
  const o = b as Partial<RecordingBodies> | null;
  return typeof o === 'object' && o !== null && isNum(o.alone) && isNum(o.joined) && isNum(o.runs);
};

/** Validates a message from the worker by shape; null if it is not one. */
export function decodeWorkerMessage(data: unknown): WorkerMessage | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  if (!isNum(m.id)) return null;
  switch (m.type) {
    case 'progress':
      return isNum(m.doneBytes) && isNum(m.totalBytes) && isStr(m.phase) && PHASES.includes(m.phase)
        && (m.doneRows === undefined || isNum(m.doneRows)) && (m.totalRows === undefined || isNum(m.totalRows)) ? (m as WorkerMessage) : null;
    case 'start':
      return isStr(m.originNs) && /^-?\d+$/.test(m.originNs) && (m.kind === 'import' || m.kind === 'recording') && isStr(m.label)
        && typeof m.meta === 'object' && m.meta !== null
        && (m.expectedEvents === undefined || (isNum(m.expectedEvents) && m.expectedEvents >= 0))
        && (m.storedFindings === undefined || typeof m.storedFindings === 'boolean')
        && (m.workerChecks === undefined || typeof m.workerChecks === 'boolean') ? (m as WorkerMessage) : null;
    case 'batch':
      return m.frame instanceof ArrayBuffer && (m.frameBytes === undefined || (Number.isInteger(m.frameBytes) && (m.frameBytes as number) >= 0 && (m.frameBytes as number) <= m.frame.byteLength))
        && (m.strings === undefined || (Array.isArray(m.strings) && m.strings.every(isStr))) ? (m as WorkerMessage) : null;
    case 'rows':
      // Shape only; TraceStore.adoptShared checks that the arrays are shared, of one capacity, and extend the store.
      return isNum(m.length) && isNum(m.clampedCount) && m.kinds instanceof Uint8Array && m.tsNs instanceof Float64Array
        && Array.isArray(m.columns) && m.columns.every((c: unknown) => Array.isArray(c) && c.length === 2 && isNum(c[0]) && ArrayBuffer.isView(c[1]))
        && (m.strings === undefined || (Array.isArray(m.strings) && m.strings.every(isStr))) ? (m as WorkerMessage) : null;
    case 'sent':
    case 'done':
      return isNum(m.events) && Array.isArray(m.diags) && m.diags.every(isStr) && isNum(m.diagCount) && isStr(m.damage)
        && (m.otherClockFiles === undefined || (isNum(m.otherClockFiles) && m.otherClockFiles >= 0))
        && (m.aligned === undefined || typeof m.aligned === 'boolean')
        && (m.bodies === undefined || isBodies(m.bodies))
        && (m.phasesMs === undefined || (typeof m.phasesMs === 'object' && m.phasesMs !== null && Object.values(m.phasesMs).every(isNum)))
        && (m.findings === undefined || isFindings(m.findings)) ? (m as WorkerMessage) : null;
    case 'error':
      return isStr(m.message) && (m.diags === undefined || (Array.isArray(m.diags) && m.diags.every(isStr)))
        && (m.diagCount === undefined || isNum(m.diagCount)) ? (m as WorkerMessage) : null;
    default:
      return null;
  }
}

/** Validates a request from the page (the worker's side of the same contract). */
export function decodeOpenRequest(data: unknown): OpenRequest | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  if (m.type !== 'open' || !isNum(m.id) || !Array.isArray(m.files) || m.files.length === 0) return null;
  if (m.alignStarts !== undefined && typeof m.alignStarts !== 'boolean') return null;
  if (m.checks !== undefined && typeof m.checks !== 'boolean') return null;
  if (m.shared !== undefined && typeof m.shared !== 'boolean') return null;
  const ok = m.files.every((f: unknown) => {
    const e = f as { name?: unknown; blob?: unknown; url?: unknown };
    return typeof f === 'object' && f !== null && isStr(e.name) && (e.blob instanceof Blob || (isStr(e.url) && e.url.length > 0));
  });
  return ok ? (m as unknown as OpenRequest) : null;
}

/** Validates a frames return from the page; null if it is not one. */
export function decodeFramesReturn(data: unknown): FramesReturn | null {
  if (typeof data !== 'object' || data === null) return null;
  const m = data as Record<string, unknown>;
  return m.type === 'frames' && isNum(m.id) && Array.isArray(m.frames) && m.frames.every((f) => f instanceof ArrayBuffer) ? (m as unknown as FramesReturn) : null;
}
