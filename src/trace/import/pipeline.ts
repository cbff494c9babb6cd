// The import pipeline, one for the CLI (server/sources/files.ts) and the browser's drop-import
// worker (src/app/import-run.ts): they only read bytes, report progress and send the result.
//
//   open(name) → FileFeed.push(text | UTF-8 bytes)… → end()      per file, in the given order
//     detection: the first DETECT_BYTES (or the whole file if shorter) pick the format
//     parsing:   the format's incremental parser (index.ts openImport); nothing is read whole
//   finish()   → cross-file passes and one time axis:
//     1. clock placement (clock.ts): each trace file's offset onto the store's axis
//     2. the ftrace files of one clock are merged into one time-ordered list; on it run the
//        join with uprobe fuse_recv, the join with each libfuse -d log (by unique) and lock
//        attribution (a log with no kernel trace is replayed alone, at line times)
//     3. every list merged into one, in time order, stable (equal times keep file order)
//   → rows into a TraceStore (appendTo) or throwaway stores of N rows for the wire (batches)
//
// A file that is the whole trace (the caller says one file: `files: 1`) streams its rows straight
// into the store while no pass needs them held (file-rows.ts): an NDJSON file always, an ftrace
// file until a uprobe's fuse_recv, a lock contention or a possible inode-number instant arrives.

import type { TraceEvent } from '../schema.ts';
import { TraceStore } from '../store.ts';
import type { StringTable } from '../strings.ts';
import { StringIdMaps, columnsMapped } from '../copy-rows.ts';
import type { ParseDiag } from './diagnostics.ts';
import type { FtraceParser } from './ftrace.ts';
import { IMPORT_FORMATS, explainDetection, isKernelText, openImport, type FileImport, type ImportFormat } from './index.ts';
import type { FormatExplanation } from './detect.ts';
import { standaloneEvents } from './fuse-log.ts';
import { joinWithLog, joinWithRecv, mergeByTime } from './join.ts';
import { attributeLocks, type LockAttribution, type LockPlan } from './lock-attribution.ts';
import { resolveIdentity } from './identity.ts';
import { NO_CLOCK, placeFiles, type FileClock } from './clock.ts';

/** Format detection looks at this much of a file (detectFormat wants "a few KB")… */
const DETECT_BYTES = 16 * 1024;
/** …or more while all it has seen are comments (a long `#` header), up to this much. */
const MAX_DETECT_BYTES = 1 << 20;

interface PipelineOptions {
  /** 'auto' (default) detects each file's format from its content. */
  format?: ImportFormat | 'auto';
  /** Put each file that is not on the first file's clock so that it starts with the first file. */
  alignStarts?: boolean;
  /** How many files will be opened, when known: a single file may stream its rows (file comment). */
  files?: number;
}

/** Where one trace file (ftrace, NDJSON, or a -d log alone) landed on the store's axis. */
interface PlacedFile {
  name: string;
  format: ImportFormat;
  clock: FileClock;
  /** The file's own origin (absolute ns of its tsNs 0). */
  originNs: bigint;
  /** Added to its tsNs (exact integer ns). */
  offsetNs: number;
  sameClock: boolean;
  aligned: boolean;
  /** How far an aligned file was moved from its own stamps (0n otherwise). */
  shiftNs: bigint;
  /** Events it parsed into (before joins and attribution add theirs). */
  eventCount: number;
  /** Of those, events whose times are synthetic (pasted lines without times): not real times. */
  untimedEvents: number;
}

export interface ImportResult {
  /** The store's origin: absolute ns of tsNs 0. */
  originNs: bigint;
  /** The clock of the axis (the first file's); null if it has none (a -d log alone). */
  clock: FileClock | null;
  files: PlacedFile[];
  /** Every event on the store's axis, in time order, after joins and attribution (empty when `store` holds them). */
  events: TraceEvent[];
  /** A single file streamed whole: every row already in this store, on this result's origin. */
  store: TraceStore | null;
  attributions: LockAttribution[];
  /** Per log joined with a kernel trace: `untimedEvents` of its `logEvents` had no kernel reply to take a time from. */
  joins: Array<{ trace: string; log: string; matched: number; kernelOnly: number; logOnly: number; logEvents: number; untimedEvents: number }>;
  /** Diagnostics of the cross-file passes: clocks (first), then join mismatches. */
  diags: ParseDiag[];
}


/** Adds `offsetNs` to every time an event holds. */
function shiftTimes(events: TraceEvent[], offsetNs: number): void {
  if (offsetNs === 0) return;
  for (const ev of events) {
    ev.tsNs += offsetNs;
    if (ev.kind === 'gap') {
      ev.fromTsNs += offsetNs;
      ev.toTsNs += offsetNs;
    }
  }
}

/** Stable merge of time-ordered lists: on equal times the earlier list's event comes first. */
function mergeLists(lists: readonly TraceEvent[][]): TraceEvent[] {
  if (lists.length === 0) return [];
  let level = lists;
  // Adjacent pairs, level by level: each merge keeps the left list first, so ties keep list order.
  while (level.length > 1) {
    const next: TraceEvent[][] = [];
    for (let i = 0; i < level.length; i += 2) next.push(i + 1 < level.length ? mergeByTime(level[i]!, level[i + 1]!) : level[i]!);
    level = next;
  }
  return level[0]!;
}

/**
 * The plan's events put into `store` before/after the rows it names: the rows the held path builds
 * from the pass's event list (insertRows moves the rows in place). An event the schema refuses is
 * left out and counted, as appendTo does.
 */
function insertPlanned(store: TraceStore, plan: LockPlan, diags: ParseDiag[]): void {
  const rows = [...new Set([...plan.before.keys(), ...plan.after.keys()])].sort((x, y) => x - y);
  const scratch = new TraceStore(store.originNs, store.strings);
  const at: number[] = [];
  const events: TraceEvent[] = [];
  const put = (row: number, ev: TraceEvent): void => {
    try {
      scratch.append(ev);
      at.push(row);
      events.push(ev);
    } catch (err) {
      diags.push({ source: 'import', line: 0, code: 'bad_event', message: `${ev.kind} at ${ev.tsNs} ns: ${(err as Error).message}` });
    }
  };
  for (const row of rows) {
    const b = plan.before.get(row);
    if (b) put(row, b);
    const a = plan.after.get(row);
    if (a) put(row + 1, a);
  }
  store.insertRows(at, events);
}

/**
 * The cross-file passes over parsed files (see the file comment). Mutates the files' events
 * (times shifted onto the axis, nodeids filled by the joins).
 */
export function finishImport(imports: readonly FileImport[], alignStarts = false): ImportResult {
  const ftraceCount = imports.filter((f) => isKernelText(f.format)).length;
  const logs = imports.filter((f) => f.log !== null);
  // Trace files in input order; a log is one only when there is no kernel trace to join it with.
  const traceFiles = imports.filter((f) => f.log === null || ftraceCount === 0);
  // One file streamed whole, with no log to join: its store is the result (no pass would act on it).
  const only = traceFiles.length === 1 && logs.length === 0 && traceFiles[0]!.rows.store !== null ? traceFiles[0]! : null;
  if (only) {
    const clock = only.clock();
    const originNs = only.originNs();
    const placement = placeFiles([{ name: only.name, clock, originNs, firstTsNs: only.rows.firstTsNs }], alignStarts);
    const p = placement.files[0]!;
    if (p.offsetNs === 0) {
      const store = only.rows.store!;
      store.originNs = placement.originNs;
      const diags = [...placement.diags];
      let attributions: LockAttribution[] = [];
      // Lock attribution ran over the streamed rows (kernel traces only, as below): its events go in.
      const plan = only.rows.lockPlan();
      if (plan !== null) {
        attributions = plan.attributions;
        insertPlanned(store, plan, diags);
      }
      return {
        originNs: placement.originNs, clock: placement.clock, events: [], store, attributions, joins: [], diags,
        files: [{ name: only.name, format: only.format, clock, originNs, ...p, eventCount: only.rows.count, untimedEvents: only.untimedEvents?.() ?? 0 }],
      };
    }
  }
  const units = traceFiles.map((f) => ({
    imp: f,
    clock: f.log === null ? f.clock() : NO_CLOCK,
    originNs: f.originNs(),
    events: f.log === null ? f.events : standaloneEvents(f.log),
  }));
  const placement = placeFiles(units.map((u) => ({ name: u.imp.name, clock: u.clock, originNs: u.originNs, firstTsNs: u.events[0]?.tsNs ?? null })), alignStarts);
  const result: ImportResult = {
    originNs: placement.originNs, clock: placement.clock, files: [], events: [], store: null, attributions: [], joins: [], diags: [...placement.diags],
  };
  units.forEach((u, i) => {
    const p = placement.files[i]!;
    shiftTimes(u.events, p.offsetNs);
    result.files.push({ name: u.imp.name, format: u.imp.format, clock: u.clock, originNs: u.originNs, ...p, eventCount: u.events.length, untimedEvents: u.imp.log !== null ? u.events.length : u.imp.untimedEvents?.() ?? 0 });
  });
  // Ftrace files of one clock are one capture: their events are merged before the joins, so a
  // log's request is joined once, and a lock's evidence may come from either file.
  const lists: TraceEvent[][] = [];
  const groups = new Map<string, { names: string[]; lists: TraceEvent[][]; at: number }>();
  for (const u of units) {
    if (!isKernelText(u.imp.format)) {
      lists.push(u.events);
      continue;
    }
    const key = u.clock.id ?? u.imp.name;
    let g = groups.get(key);
    if (!g) {
      g = { names: [], lists: [], at: lists.length };
      groups.set(key, g);
      lists.push([]);
    }
    g.names.push(u.imp.name);
    g.lists.push(u.events);
  }
  for (const g of groups.values()) {
    let events = mergeLists(g.lists);
    joinWithRecv(events);
    const trace = g.names.join(' + ');
    for (const log of logs) {
      const j = joinWithLog(events, log.log!, log.name);
      events = j.events;
      result.joins.push({ trace, log: log.name, matched: j.matched, kernelOnly: j.kernelOnly, logOnly: j.logOnly, logEvents: j.logEvents, untimedEvents: j.untimedEvents });
      result.diags.push(...j.diags);
    }
    events = resolveIdentity(events, logs.map((l) => l.log!)).events;
    const a = attributeLocks(events);
    result.attributions.push(...a.attributions);
    lists[g.at] = a.events;
  }
  result.events = mergeLists(lists);
  return result;
}

/** One file of the pipeline: detection, then its parser. */
export class FileFeed {
  /** The file's parser once its format is known. */
  imp: FileImport | null = null;
  /** No format fits: stop reading it. */
  unknown = false;
  private head: Array<string | Uint8Array> = [];
  private headSize = 0;
  private seenBytes = false;
  private ended = false;

  constructor(
    readonly name: string, private readonly pipe: ImportPipeline, private readonly format: ImportFormat | null,
    /** How an adapter recognised the file itself (a trace.dat by its magic): said instead of "forced". */
    private readonly recognised: FormatExplanation | null = null,
  ) {}

  /** Feeds the next chunk (text, or UTF-8 bytes; one kind per file). False: unusable, stop reading. */
  push(chunk: string | Uint8Array): boolean {
    if (this.unknown) return false;
    if (!this.seenBytes && chunk.length > 0) {
      this.seenBytes = true;
      chunk = withoutBom(chunk);
    }
    if (this.imp) {
      this.imp.push(chunk);
      return true;
    }
    this.head.push(chunk);
    this.headSize += chunk.length;
    if (this.format !== null) this.forced(this.format);
    else if (this.headSize >= DETECT_BYTES) this.detect(this.headSize >= MAX_DETECT_BYTES);
    return !this.unknown;
  }

  /** The ftrace parser of a file opened with a format (a trace.dat's records go to it directly), or null. */
  ftraceParser(): FtraceParser | null {
    if (!this.imp && !this.unknown && this.format !== null) this.forced(this.format);
    return this.imp?.ftrace ?? null;
  }

  /** `share` of the file (0..1) is read: room for the rows the whole file will give at that rate, plus 1/16. */
  expectRows(share: number): void {
    const rows = this.imp?.rows;
    if (rows && share > 0) rows.expect(Math.ceil((rows.count / share) * (17 / 16)));
  }

  /** A diagnostic about the file as a whole (line 0), e.g. a trace.dat's byte offset. */
  diag(code: string, message: string): void {
    this.pipe.fileDiag({ source: this.name, line: 0, code, message });
  }

  /** The file could not be read (on, or part way): a diagnostic; what was read still counts. */
  readError(message: string): void {
    this.pipe.fileDiag({ source: this.name, line: 0, code: 'read_error', message });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (!this.imp && !this.unknown) {
      if (!this.seenBytes) {
        this.pipe.unusableFile({ source: this.name, line: 0, code: 'empty', message: 'file is empty' });
        return;
      }
      this.detect(true);
    }
    this.imp?.end();
  }

  /** Picks the format from the head; unless `final`, a head of only comments waits for more. */
  private detect(final: boolean): void {
    const head = this.head.map((c) => (typeof c === 'string' ? c : new TextDecoder('utf-8').decode(c))).join('');
    const x = explainDetection(head);
    const format = x.format as ImportFormat | null;
    if (format === 'trace-dat') {
      // Binary: its adapter must open it through importTraceDat (random access), not as a byte stream.
      this.unknown = true;
      this.head = [];
      this.pipe.explained(this.name, x);
      this.pipe.unusableFile({ source: this.name, line: 0, code: 'trace_dat_stream', message: 'a trace.dat cannot be read as a stream of bytes (open it through importTraceDat)' });
      return;
    }
    if (format === null && !final && /^(?:[ \t\r]*(?:#[^\n]*)?\n)*[^\n]*$/.test(head)) return;
    this.pipe.explained(this.name, x);
    if (format === null) {
      this.unknown = true;
      this.head = [];
      this.pipe.unusableFile({
        source: this.name, line: 1, code: 'unknown_format',
        message: `no known format (${IMPORT_FORMATS.join(', ')}, or a .fscope recording) fits its first ${x.linesScanned} lines; fusescope import --explain says what each looks for`,
      });
      return;
    }
    this.open(format);
  }

  /** --format: no detection; the explanation still says what detection would have picked. */
  private forced(format: ImportFormat): void {
    if (this.recognised !== null) {
      this.pipe.explained(this.name, this.recognised);
      this.open(format);
      return;
    }
    const head = this.head.map((c) => (typeof c === 'string' ? c : new TextDecoder('utf-8').decode(c))).join('');
    const x = explainDetection(head);
    const detected = x.format;
    this.pipe.explained(this.name, {
      ...x, format, forced: true, evidence: detected === format ? x.evidence : null,
      alternatives: detected !== null && detected !== format ? [{ format: detected, evidence: x.evidence, reason: `detection would have chosen it (line ${x.evidence!.line}: ${x.evidence!.what}); --format overrides` }] : [],
    });
    this.open(format);
  }

  private open(format: ImportFormat): void {
    const imp = openImport(this.name, format, this.pipe.streams(this));
    this.imp = imp;
    this.pipe.parsing(this, format);
    for (const c of this.head) imp.push(c);
    this.head = [];
  }
}

function withoutBom(chunk: string | Uint8Array): string | Uint8Array {
  if (typeof chunk === 'string') return chunk.charCodeAt(0) === 0xfeff ? chunk.slice(1) : chunk;
  return chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? chunk.subarray(3) : chunk;
}

/** Files in, one trace out. Open files in order; finish once every file has ended. */
export class ImportPipeline {
  private readonly feeds: FileFeed[] = [];
  private readonly fileDiags: ParseDiag[] = [];
  private readonly unusable: string[] = [];
  private readonly formats = new Map<string, ImportFormat>();
  private readonly explanations = new Map<string, FormatExplanation>();

  constructor(private readonly opts: PipelineOptions = {}) {}

  /** The next file of the trace (`format`: this file's, known by its adapter — a trace.dat). */
  open(name: string, format: ImportFormat | null = null, recognised: FormatExplanation | null = null): FileFeed {
    const forced = format ?? (this.opts.format && this.opts.format !== 'auto' ? this.opts.format : null);
    // More files than announced: the first one's streamed rows must be held for the passes after all.
    for (const f of this.feeds) f.imp?.rows.hold();
    const feed = new FileFeed(name, this, forced, recognised);
    this.feeds.push(feed);
    return feed;
  }

  /** @internal (FileFeed) Whether `feed` may stream its rows: it is the one file announced. */
  streams(feed: FileFeed): boolean {
    return this.opts.files === 1 && this.feeds.length === 1 && this.feeds[0] === feed;
  }

  /** A file that cannot be opened at all. */
  unreadable(name: string, message: string): void {
    this.unusableFile({ source: name, line: 0, code: 'unreadable', message });
  }

  /** @internal (FileFeed) */
  unusableFile(d: ParseDiag): void {
    this.unusable.push(d.source);
    this.fileDiag(d);
  }

  /** @internal (FileFeed) */
  fileDiag(d: ParseDiag): void {
    this.fileDiags.push(d);
  }

  /** @internal (FileFeed) How the file's format was decided. */
  explained(name: string, x: FormatExplanation): void {
    this.explanations.set(name, x);
  }

  /** @internal (FileFeed) */
  parsing(feed: FileFeed, format: ImportFormat): void {
    this.formats.set(feed.name, format);
  }

  /** Runs the cross-file passes; every feed must have ended. */
  finish(): ImportOutcome {
    const imports: FileImport[] = [];
    for (const f of this.feeds) {
      f.end();
      if (f.imp) imports.push(f.imp);
    }
    const result = finishImport(imports, this.opts.alignStarts === true);
    // Order: files that could not be used, clocks, each file's parse diagnostics, joins.
    const clockDiags = result.diags.filter((d) => d.code === 'other_clock' || d.code === 'clock_aligned');
    const joinDiags = result.diags.filter((d) => !clockDiags.includes(d));
    const diags = [...this.fileDiags, ...clockDiags];
    let diagCount = diags.length + joinDiags.length;
    for (const imp of imports) {
      diags.push(...imp.diags.first);
      diagCount += imp.diags.count;
    }
    diags.push(...joinDiags);
    return new ImportOutcome(result, diags, diagCount, this.unusable, this.formats, this.explanations);
  }
}

/** What a pipeline produced: the trace and its diagnostics, and ways to turn it into rows. */
export class ImportOutcome {
  constructor(
    readonly result: ImportResult,
    /** First diagnostics of every file and pass, in full (diagCount counts them all). */
    readonly diags: ParseDiag[],
    public diagCount: number,
    /** Files with no usable format, or that could not be read. */
    readonly unusable: string[],
    /** Each parsed file's format. */
    readonly formats: Map<string, ImportFormat>,
    /** How each file's format was decided (detect.ts): evidence and the alternatives rejected. */
    readonly explanations: Map<string, FormatExplanation> = new Map(),
  ) {}

  /** Rows of the trace. */
  get rowCount(): number {
    return this.result.store?.length ?? this.result.events.length;
  }

  /** Appends rows [from, to) of the merged events to `store` (on this outcome's origin). */
  appendTo(store: TraceStore, from = 0, to = this.rowCount): void {
    const streamed = this.result.store;
    if (streamed !== null) {
      copyRows(streamed, store, from, to, new StringIdMaps(store.strings));
      return;
    }
    const events = this.result.events;
    for (let i = from; i < to; i++) {
      const ev = events[i]!;
      try {
        store.append(ev);
      } catch (err) {
        // An event the schema refuses is a parser bug, not the user's file: counted, the rest goes on.
        this.diags.push({ source: 'import', line: 0, code: 'bad_event', message: `${ev.kind} at ${ev.tsNs} ns: ${(err as Error).message}` });
        this.diagCount++;
      }
    }
  }

  /** A new store holding every event (the CLI's); a streamed file's own store. */
  toStore(): TraceStore {
    if (this.result.store !== null) return this.result.store;
    const store = new TraceStore(this.result.originNs);
    // The row count is known: one allocation instead of ~30 geometric regrowths (each a copy of every column).
    store.reserve(this.result.events.length, true);
    this.appendTo(store);
    return store;
  }

  /** Throwaway stores of up to `rows` rows sharing `strings`, in order (wire batches). */
  *batches(rows: number, strings: StringTable): Generator<TraceStore> {
    const n = this.rowCount;
    const streamed = this.result.store;
    const maps = new StringIdMaps(strings);
    for (let at = 0; at < n; at += rows) {
      const store = new TraceStore(this.result.originNs, strings);
      if (streamed !== null) copyRows(streamed, store, at, Math.min(n, at + rows), maps);
      else this.appendTo(store, at, Math.min(n, at + rows));
      yield store;
    }
  }
}

/** Rows [from, to) of `src` appended to `dst`, string ids remapped into dst's table. */
function copyRows(src: TraceStore, dst: TraceStore, from: number, to: number, maps: StringIdMaps): void {
  if (to <= from) return;
  const ids = src.strings === dst.strings ? null : maps.of(src.strings);
  dst.appendColumns(to - from, src.kinds.subarray(from, to), src.tsNs.subarray(from, to), columnsMapped(src, from, to, ids));
}
