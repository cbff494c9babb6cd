// Export to the Chrome Trace Event Format (JSON object form), which chrome://tracing, Perfetto
// and speedscope open, and re-import of our own exports.
//
// Mapping (see tracks.ts for the layout):
//   one process (pid 1) named after the source; each export track is a thread (tid = track id),
//   named by an "M" thread_name event and ordered by thread_sort_index;
//   span  → "X" complete event: ts, dur in µs (fractional: ns precision is kept); a span whose
//           end the trace does not show → a "B" event with no "E" (args.did_not_end); one that
//           began before the trace → "X" from the trace's start (args.began_before_trace);
//   other → "i" instant, thread scope;
//   fuse request → server handling: flow "s" (on the fuse_req slice) / "f" with bp "e" (on fuse_serve);
//   counters → "C" events on the process.
// Every row of the store appears in the args of at least one entry as `{row, event}` (an
// NDJSON-shaped event, u64 as hex), so `importChromeJson` rebuilds the exact event list.

import { eventLine, toEvent } from '../import/ndjson.ts';
import { linesAndColumns, scanJson } from '../import/json-scan.ts';
import type { TraceEvent } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { buildExportModel } from './tracks.ts';

export interface ChromeEvent {
  name: string;
  ph: 'X' | 'B' | 'i' | 'M' | 'C' | 's' | 'f';
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  cat?: string;
  s?: 't' | 'p' | 'g';
  id?: number;
  bp?: 'e';
  args?: Record<string, unknown>;
}
interface ChromeTrace {
  traceEvents: ChromeEvent[];
  displayTimeUnit: 'ns';
  otherData: Record<string, string>;
}

const PID = 1;
const nsToUs = (ns: number): number => ns / 1000;
const rowEvent = (store: TraceStore, row: number): unknown => JSON.parse(eventLine(store.get(row)));

export function toChromeTrace(store: TraceStore, source = 'fusescope'): ChromeTrace {
  const m = buildExportModel(store);
  const meta: ChromeEvent[] = [
    { name: 'process_name', ph: 'M', pid: PID, args: { name: source } },
    ...m.tracks.flatMap((t): ChromeEvent[] => [
      { name: 'thread_name', ph: 'M', pid: PID, tid: t.id, args: { name: t.name } },
      { name: 'thread_sort_index', ph: 'M', pid: PID, tid: t.id, args: { sort_index: t.sortIndex } },
    ]),
  ];
  const timed: ChromeEvent[] = [];
  for (const s of m.spans) {
    const args: Record<string, unknown> = { beginRow: s.beginRow, begin: rowEvent(store, s.beginRow) };
    if (s.begunBefore) args.began_before_trace = true;
    if (s.inferredHold) args.end_not_traced = true;
    if (s.open) {
      args.open = true;
      args.did_not_end = true;
      timed.push({ name: s.name, cat: s.kind, ph: 'B', ts: nsToUs(s.startNs), pid: PID, tid: s.trackId, args });
      continue;
    }
    args.endRow = s.endRow;
    args.end = rowEvent(store, s.endRow);
    timed.push({ name: s.name, cat: s.kind, ph: 'X', ts: nsToUs(s.startNs), dur: nsToUs(s.endNs) - nsToUs(s.startNs), pid: PID, tid: s.trackId, args });
  }
  for (const i of m.instants) {
    timed.push({ name: i.name, cat: 'event', ph: 'i', s: 't', ts: nsToUs(i.tsNs), pid: PID, tid: i.trackId, args: { row: i.row, event: rowEvent(store, i.row) } });
  }
  const byId = new Map(m.spans.map((s) => [s.spanId, s]));
  for (const f of m.flows) {
    const from = byId.get(f.fromSpan)!;
    const to = byId.get(f.toSpan)!;
    timed.push({ name: 'request', cat: 'fuse', ph: 's', id: f.id, ts: nsToUs(from.startNs), pid: PID, tid: from.trackId });
    timed.push({ name: 'request', cat: 'fuse', ph: 'f', bp: 'e', id: f.id, ts: nsToUs(to.startNs), pid: PID, tid: to.trackId });
  }
  for (const c of m.counters) {
    for (const s of c.samples) timed.push({ name: c.name, ph: 'C', ts: nsToUs(s.tsNs), pid: PID, args: { value: s.value } });
  }
  // Stable sort by time: per track, events come in timestamp order.
  timed.sort((a, b) => a.ts! - b.ts!);
  return {
    traceEvents: [...meta, ...timed],
    displayTimeUnit: 'ns',
    otherData: { generator: 'fusescope', source, originNs: store.originNs.toString() },
  };
}

/** Serializes in pieces so a large trace never needs one giant intermediate string per event list. */
export function* chromeTraceJsonChunks(trace: ChromeTrace): Generator<string> {
  yield `{"displayTimeUnit":"ns","otherData":${JSON.stringify(trace.otherData)},"traceEvents":[\n`;
  const evs = trace.traceEvents;
  for (let i = 0; i < evs.length; i += 10_000) {
    yield evs.slice(i, i + 10_000).map((e) => JSON.stringify(e)).join(',\n') + (i + 10_000 < evs.length ? ',\n' : '\n');
  }
  yield ']}\n';
}

/** What is wrong with a document or one of its entries, and where (1-based; line 0: nowhere to point). */
export interface ChromeImportError {
  message: string;
  line: number;
  col: number;
}

/**
 * Rebuilds the events of a fusescope Chrome JSON export (the `{row, event}` args). Entries from
 * other producers are ignored and counted in `foreign`; malformed events become `errors`, each
 * with the line and column of its entry (or of the syntax fault, for text that is not JSON).
 */
export function importChromeJson(text: string): { events: TraceEvent[]; foreign: number; errors: ChromeImportError[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    // JSON.parse names no position on Node 20: the scanner walks the text again to find it.
    const { fault } = scanJson(text);
    if (!fault) return { events: [], foreign: 0, errors: [{ message: `could not be read as JSON: ${(e as Error).message}`, line: 0, col: 0 }] };
    const [at, open] = linesAndColumns(text, fault.openedAt === undefined ? [fault.index] : [fault.index, fault.openedAt].sort((a, b) => a - b));
    const [faultAt, openAt] = fault.openedAt !== undefined && fault.openedAt < fault.index ? [open!, at!] : [at!, open];
    const kind = fault.openedAt === undefined ? '' : ({ '"': 'string', '[': 'array', '{': 'object' } as Record<string, string>)[text[fault.openedAt]!];
    const opened = openAt ? ` (in the ${kind} opened at line ${openAt.line}, column ${openAt.col})` : '';
    return { events: [], foreign: 0, errors: [{ message: `not JSON at line ${faultAt.line}, column ${faultAt.col}: ${fault.message}${opened}`, line: faultAt.line, col: faultAt.col }] };
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { traceEvents?: unknown } | null)?.traceEvents;
  if (!Array.isArray(list)) {
    const { listStart } = scanJson(text);
    const rootStart = text.length - text.trimStart().length;
    const [at] = linesAndColumns(text, [listStart >= 0 ? listStart : rootStart]);
    const what = listStart >= 0 ? 'traceEvents is not an array' : 'the document is neither an array nor an object with traceEvents';
    return { events: [], foreign: 0, errors: [{ message: `line ${at!.line}, column ${at!.col}: ${what}`, line: at!.line, col: at!.col }] };
  }
  const byRow = new Map<number, TraceEvent>();
  const bad: { entry: number; message: string }[] = [];
  let foreign = 0;
  const take = (entry: number, row: unknown, ev: unknown): void => {
    if (typeof row !== 'number' || byRow.has(row)) return;
    const r = toEvent(ev);
    if (typeof r === 'string') bad.push({ entry, message: `row ${row}: ${r}` });
    else byRow.set(row, r);
  };
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as ChromeEvent | null;
    // Anything may stand where an entry or its args should be (a number, a string): only objects are looked into.
    const a = e !== null && typeof e === 'object' && e.args !== null && typeof e.args === 'object' ? e.args : undefined;
    if ((e?.ph === 'X' || e?.ph === 'B') && a && 'begin' in a) {
      take(i, a.beginRow, a.begin);
      if ('end' in a) take(i, a.endRow, a.end);
    } else if (e?.ph === 'i' && a && 'event' in a) take(i, a.row, a.event);
    else if (e?.ph === 'X' || e?.ph === 'i') foreign++;
  }
  const events = [...byRow.entries()].sort((a, b) => a[0] - b[0]).map(([, ev]) => ev);
  if (bad.length === 0) return { events, foreign, errors: [] };
  // Only now is the text walked again, for where each bad entry starts.
  const { entryStarts } = scanJson(text);
  const places = linesAndColumns(text, bad.map((b) => entryStarts[b.entry] ?? 0));
  const errors = bad.map((b, k) => ({ message: `entry ${b.entry} at line ${places[k]!.line}, column ${places[k]!.col}: ${b.message}`, line: places[k]!.line, col: places[k]!.col }));
  return { events, foreign, errors };
}
