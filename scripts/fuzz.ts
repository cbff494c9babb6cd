// `npm run fuzz -- --seconds N [--seed S] [--target NAME] [--replay FILE]`: drives every parser with
// inputs made from the fixtures (as they are, mutated, spliced, truncated, random), pushed in
// chunks of several sizes, and reports what must never happen (issue #20 item 6):
//   exception — anything escaping a parser other than its own documented refusal (a bug);
//   slow      — one input taking over 1 s, twice in a row (after an untimed warm-up over the seeds);
//   memory    — RSS over --max-rss-mb (default 1536) after any input;
//   unplaced  — a diagnostic that names neither a line nor a byte offset.
// Each finding prints the target, seed and iteration, and saves the input under --out
// (default test-results/fuzz/) so `--replay FILE --target NAME` reproduces it. Exit 1 on any finding.
// Deterministic for a given --seed and input count; --seconds only bounds how many inputs run.
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { decompress as zstd } from 'fzstd';
import { FtraceParser } from '../src/trace/import/ftrace.ts';
import { FuseLogParser } from '../src/trace/import/fuse-log.ts';
import { NdjsonParser, headerLine, eventLine } from '../src/trace/import/ndjson.ts';
import { ChromeJsonParser } from '../src/trace/import/chrome-json.ts';
import { InstrumentDecoder } from '../src/trace/import/instrument.ts';
import { DiagSink, type ParseDiag } from '../src/trace/import/diagnostics.ts';
import { readTraceDat } from '../src/trace/import/tracedat/index.ts';
import { TraceDat } from '../src/trace/import/tracedat/reader.ts';
import { RecordingEncoder } from '../src/trace/recording/encoder.ts';
import { concatBytes } from '../src/trace/bytes.ts';
import { joinableDeflateRaw } from '../server/recorder/recorder.ts';
import { decompressionStream, hostAfter } from '../src/app/inflate-stream.ts';
import { RecordingReader, memorySource } from '../src/trace/recording/reader.ts';
import { RecordingError } from '../src/trace/recording/format.ts';
import { decodeBatch, encodeBatch, parseClientMessage, WireError } from '../src/trace/wire.ts';
import { TraceStore } from '../src/trace/store.ts';
import { toChromeTrace, chromeTraceJsonChunks } from '../src/trace/export/chrome-json.ts';
import { nodeInflate } from '../server/recorder/file-source.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { rng } from '../src/trace/testing/series-trace.ts';

const SLOW_MS = 1000;
const CHUNK_SIZES = [100, 4096, 1 << 16, Infinity];
const SMALL_CHUNK_SIZES = [1, 7, 100, 4096, Infinity];
const MAX_SEED_BYTES = 64 << 10;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const root = new URL('../fixtures/', import.meta.url);
function files(dir: string, ext: RegExp): Uint8Array[] {
  const out: Uint8Array[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (ext.test(name)) out.push(new Uint8Array(readFileSync(p)));
    }
  };
  walk(new URL(dir, root).pathname);
  return out;
}
const text = new TextEncoder();
const utf8 = new TextDecoder();

/** Diagnostics about the whole file (its place is the file): nothing empty, a count over all lines. */
const WHOLE_FILE_CODES = new Set(['empty', 'time_unknown', 'foreign_entries']);
/** Every diag must say where: a line number, or a byte/position/offset in its message. */
const placed = (d: { line: number; code: string; message: string }): boolean =>
  d.line > 0 || WHOLE_FILE_CODES.has(d.code) || /\b(byte|bytes|offset|position|line)\b \d/.test(d.message);

function push(p: { push(c: string | Uint8Array): void; end(): void }, input: Uint8Array, chunk: number, asText: boolean): void {
  const step = Number.isFinite(chunk) ? chunk : input.byteLength || 1;
  if (asText) {
    const s = utf8.decode(input);
    for (let i = 0; i < s.length; i += step) p.push(s.slice(i, i + step));
  } else for (let i = 0; i < input.byteLength; i += step) p.push(input.subarray(i, i + step));
  p.end();
}

interface Target {
  name: string;
  /** Whole seeds: the fixtures (or files made from them), as they are. */
  seeds: Uint8Array[];
  /** A small input in the target's format, cut from or made from a seed (a few lines, one chunk, a header and a page). */
  small(r: () => number): Uint8Array;
  /** Parses one input; returns its diagnostics (for the "unplaced" check). Throws only on a bug. */
  run(input: Uint8Array, chunk: number, asText: boolean): Promise<ParseDiag[]> | ParseDiag[];
}

function eventsOf(bytes: Uint8Array): TraceEvent[] {
  const out: TraceEvent[] = [];
  const p = new FtraceParser('seed', (e) => out.push(e));
  p.push(bytes);
  p.end();
  return out;
}

const pickOf = <T,>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** Where each line of a seed starts (cached: the seeds are fixed). */
const lineStartsCache = new WeakMap<Uint8Array, Uint32Array>();
function lineStarts(b: Uint8Array): Uint32Array {
  let ls = lineStartsCache.get(b);
  if (!ls) {
    const out = [0];
    for (let i = 0; i < b.byteLength - 1; i++) if (b[i] === 10) out.push(i + 1);
    lineStartsCache.set(b, (ls = Uint32Array.from(out)));
  }
  return ls;
}
/**
 * A window of 1–maxLines whole lines of a seed; with probability `headShare` the seed's first
 * 1–`headLines` lines go before it (a header, an NDJSON header line, a hello), as a parser meets them.
 */
function lineWindow(r: () => number, b: Uint8Array, maxLines = 50, headShare = 0.3, headLines = 5): Uint8Array {
  const ls = lineStarts(b);
  const from = Math.floor(r() * ls.length);
  const to = from + 1 + Math.floor(r() * maxLines);
  const body = b.subarray(ls[from]!, to < ls.length ? ls[to]! : b.byteLength);
  if (from === 0 || r() >= headShare) return body;
  const h = Math.min(from, 1 + Math.floor(r() * headLines));
  return concat(b.subarray(0, ls[h]!), body);
}

async function targets(): Promise<Target[]> {
  const ftraceSeeds = [...files('ftrace/', /\.txt$/), ...files('real/', /\.txt$/), ...files('paste/', /\.txt$/)].map((b) => b.subarray(0, MAX_SEED_BYTES));
  const events = eventsOf(files('real/fuse2fs-hardlink/', /^trace\.txt$/)[0]!).slice(0, 400);
  const store = new TraceStore();
  store.appendAll(events);
  const ndjson = text.encode([headerLine({ source: 'fuzz' } as never), ...events.map(eventLine)].join('\n') + '\n');
  const chrome = text.encode([...chromeTraceJsonChunks(toChromeTrace(store))].join(''));
  const instrument = text.encode([
    JSON.stringify({ hello: 1, server: 'fuzz', pid: 7, clock: 'monotonic' }),
    ...events.slice(0, 50).map((e) => JSON.stringify({ t: e.tsNs, ev: 'op', op: 'read', ino: 1, off: 0, len: 4096 })),
  ].join('\n') + '\n');
  const wire = [encodeBatch(store, 0, store.length, 0).frame, encodeBatch(store, 10, 60, 0).frame];
  const client = ['{"type":"hello"}', '{"type":"pause","paused":true}', '{"type":"speed","speed":2}'].map((s) => text.encode(s));
  // Small seeds made once: batches of 1–50 rows; recordings of 1–50 rows in 1–3 chunks, deflated or
  // stored, closed (index and trailer) or cut as a killed writer leaves them.
  const r0 = rng(20);
  const window = (): [number, number] => {
    const from = Math.floor(r0() * (store.length - 1));
    return [from, Math.min(store.length, from + 1 + Math.floor(r0() * 50))];
  };
  const smallWire = Array.from({ length: 64 }, () => encodeBatch(store, ...window(), 0).frame);
  const smallRecordings = Array.from({ length: 64 }, () => {
    const [from, to] = window();
    const part = new TraceStore();
    part.appendAll(events.slice(from, to));
    // Stored, ordinary deflate, or joinable deflate (read both alone and as one stream below).
    const codec = r0();
    const enc = new RecordingEncoder({
      ...(codec < 0.33 ? { deflate: (b: Uint8Array) => deflateRawSync(b) } : codec < 0.66 ? { deflate: (b: Uint8Array) => joinableDeflateRaw(b, 6), joinable: true } : {}),
      indexEveryChunks: 2, meta: { source: 'fuzz' },
    });
    const parts = [enc.header()];
    const chunks = 1 + Math.floor(r0() * 3);
    for (let k = 0; k < chunks; k++) parts.push(enc.dataChunk(part, Math.floor((k * part.length) / chunks), Math.floor(((k + 1) * part.length) / chunks)));
    if (r0() < 0.8) parts.push(enc.finish());
    return concat(...parts);
  });
  // trace.dat: where each seed's ring-buffer data starts (the lowest CPU data offset), so a small
  // input is the header and metadata plus its first 1–3 pages (or compressed chunks' first bytes).
  const datSeeds = files('trace-dat/', /\.dat$/);
  const datCuts = await Promise.all(datSeeds.map(async (b) => {
    const dat = await TraceDat.open(memorySource(b), { inflate: nodeInflate, zstd: (x) => zstd(x) });
    const all = [dat.info.cpuData, ...dat.info.instances.map((i) => i.cpuData)].flat().filter((c) => c.sizeBytes > 0);
    return { dataAt: Math.min(b.byteLength, ...all.map((c) => c.offsetBytes)), pageBytes: dat.info.pageBytes, compressed: dat.info.compression !== 'none' };
  }));
  const chromeLines = lineStarts(chrome);
  const chromeHead = chrome.subarray(0, chromeLines[1]!);
  const chromeEntries = chrome.subarray(chromeLines[1]!, chromeLines[chromeLines.length - 1]!);
  const CHROME_CLOSE = text.encode(']}\n');
  const diagsOf = (sink: DiagSink): ParseDiag[] => sink.first;
  return [
    {
      name: 'ftrace', seeds: ftraceSeeds,
      small: (r) => lineWindow(r, pickOf(r, ftraceSeeds)),
      run(input, chunk, asText) {
        const p = new FtraceParser('fuzz', () => {});
        push(p, input, chunk, asText);
        return diagsOf(p.diags);
      },
    },
    ((seeds) => ({
      name: 'fuse-log', seeds,
      small: (r: () => number) => lineWindow(r, pickOf(r, seeds)),
      run(input: Uint8Array, chunk: number, asText: boolean) {
        const p = new FuseLogParser('fuzz');
        push(p, input, chunk, asText);
        return diagsOf(p.diags);
      },
    }))([...files('logs/', /\.log$/), ...files('real/', /\.log$/)]),
    {
      name: 'ndjson', seeds: [ndjson],
      small: (r) => lineWindow(r, ndjson, 50, 0.8, 1),
      run(input, chunk, asText) {
        const p = new NdjsonParser('fuzz', () => {});
        push(p, input, chunk, asText);
        return diagsOf(p.diags);
      },
    },
    {
      name: 'chrome-json', seeds: [chrome],
      small: (r) => {
        // The export's first line (the document's head), a window of its entry lines, the close.
        const body = utf8.decode(lineWindow(r, chromeEntries, 50, 0)).replace(/,\n$/, '\n');
        return concat(chromeHead, text.encode(body), CHROME_CLOSE);
      },
      run(input, chunk, asText) {
        const sink = new DiagSink();
        push(new ChromeJsonParser('fuzz', () => {}, sink), input, chunk, asText);
        return diagsOf(sink);
      },
    },
    {
      name: 'instrument', seeds: [instrument],
      small: (r) => lineWindow(r, instrument, 50, 0.8, 1),
      run(input) {
        // The socket frames lines (LineFramer, covered by the text targets); the decoder takes one line at a time.
        const d = new InstrumentDecoder(1, 0, () => {});
        const lines = utf8.decode(input).split('\n');
        lines.forEach((l, i) => d.line(l, 1000 * i, i === lines.length - 1));
        return [];
      },
    },
    {
      name: 'trace.dat', seeds: datSeeds,
      small: (r) => {
        const k = Math.floor(r() * datSeeds.length);
        const b = datSeeds[k]!;
        const { dataAt, pageBytes, compressed } = datCuts[k]!;
        const end = compressed ? dataAt + Math.floor(r() * (b.byteLength - dataAt + 1)) : dataAt + pageBytes * (1 + Math.floor(r() * 3));
        return b.subarray(0, end);
      },
      async run(input) {
        const diags: ParseDiag[] = [];
        const p = new FtraceParser('fuzz', () => {});
        await readTraceDat(memorySource(input), { inflate: nodeInflate, zstd: (b) => zstd(b) }, {
          push: (t) => p.push(t),
          diag: (d) => diags.push({ source: 'fuzz', line: 0, code: d.code, message: `${d.message} (at byte ${d.offsetBytes})` }),
        });
        p.end();
        return [...diags, ...diagsOf(p.diags)];
      },
    },
    {
      name: 'recording', seeds: [...files('recordings/', /^clean\.fscope$/), ...files('real/', /\.fscope$/)],
      small: (r) => pickOf(r, smallRecordings),
      async run(input) {
        let r: RecordingReader;
        try {
          r = await RecordingReader.open(memorySource(input), nodeInflate, 'fuzz');
        } catch (err) {
          if (err instanceof RecordingError) return [];
          throw err;
        }
        const rows = rowsText(await r.readAll());
        await r.storedFindings();
        // The same file read with joinable bodies inflated as one stream (recording/joined.ts) must give
        // the same rows and the same bad chunks as reading each body alone.
        const j = await RecordingReader.open(memorySource(input), nodeInflate, 'fuzz', nodeInflate, { open: decompressionStream, after: hostAfter });
        const joinedRows = rowsText(await j.readAll());
        if (joinedRows !== rows || [...j.badChunks.keys()].join() !== [...r.badChunks.keys()].join()) {
          throw new Error(`joined read differs: ${j.stats.joinedBodies} bodies joined, bad chunks ${[...j.badChunks.keys()].join()} vs ${[...r.badChunks.keys()].join()}`);
        }
        return r.damage ? [{ source: 'fuzz', line: 0, code: 'damage', message: `${r.damage.reason} (at byte ${r.damage.offsetBytes})` }] : [];
      },
    },
    {
      name: 'wire', seeds: [...wire, ...client],
      small: (r) => (r() < 0.2 ? pickOf(r, client) : pickOf(r, smallWire)),
      run(input) {
        try {
          decodeBatch(input);
        } catch (err) {
          if (!(err instanceof WireError)) throw err;
        }
        parseClientMessage(utf8.decode(input));
        return [];
      },
    },
  ];
}

const INTERESTING = ['\n', '\r\n', '\0', '\u00e9', '\ufffd', '{', '}', '"', ':', ' ', '-1', '4294967296', '1e309', '[', ']', '=>', '0x'].map((s) => text.encode(s));

/**
 * One input: mostly a small piece of a seed (`Target.small`), sometimes a whole seed (6 %), or
 * random bytes (3 %); then, 9 times in 10, 1–8 mutations.
 */
function makeInput(r: () => number, t: Target): Uint8Array {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const x = r();
  if (x < 0.03) return Uint8Array.from({ length: Math.floor(r() * 512) }, () => Math.floor(r() * 256));
  let b: Uint8Array = (x < 0.09 ? pick(t.seeds) : t.small(r)).slice();
  if (r() < 0.1) return b;
  const n = 1 + Math.floor(r() * 8);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (b.byteLength + 1));
    const m = Math.floor(r() * 8);
    if (m === 0 && b.byteLength > 0) b[Math.min(at, b.byteLength - 1)]! ^= 1 << Math.floor(r() * 8);
    else if (m === 1 && b.byteLength > 0) b[Math.min(at, b.byteLength - 1)] = pick([0, 0xff, 0x7f, 0x80, 10, 13, 0x22, 0x30]);
    else if (m === 2) b = b.slice(0, at); // truncate
    else if (m === 3) { // delete a range
      const len = Math.floor(r() * 64);
      b = concat(b.subarray(0, at), b.subarray(Math.min(b.byteLength, at + len)));
    } else if (m === 4) b = concat(b.subarray(0, at), pick(INTERESTING), b.subarray(at));
    else if (m === 5) { // duplicate a range (repeats lines, chunks, pages)
      const len = Math.floor(r() * 512);
      b = concat(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
    } else if (m === 6) { // splice in a piece of another seed
      const o = pick(t.seeds);
      const from = Math.floor(r() * o.byteLength);
      b = concat(b.subarray(0, at), o.subarray(from, from + Math.floor(r() * 256)), b.subarray(at));
    } else { // overwrite 4 bytes with an extreme u32/f64 part
      const v = pick([0, 0xffffffff, 0x7fffffff, 0x80000000, 1, 8, 72, 0x10000]);
      const w = new Uint8Array(4);
      new DataView(w.buffer).setUint32(0, v, true);
      b = concat(b.subarray(0, at), w, b.subarray(Math.min(b.byteLength, at + 4)));
    }
  }
  return b;
}
const concat = (...parts: Uint8Array[]): Uint8Array => concatBytes(parts);

/** A store's rows as one string (kinds, times, every column), to compare two reads of a file. */
function rowsText(s: TraceStore): string {
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) out.push(JSON.stringify(s.get(i), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  return out.join('\n');
}

interface Finding { target: string; kind: 'exception' | 'slow' | 'memory' | 'unplaced'; detail: string; file: string }

/** One parser's run, as a child process reports it to the parent (`--jobs`). */
interface TargetResult { target: string; inputs: number; bytes: number; seconds: number; findings: Finding[]; peakRssMiB: number }

/** Drives one parser: `limit.inputs` inputs, or until `limit.ms` has passed, whichever comes first. */
async function fuzzTarget(t: Target, index: number, seed: number, limit: { inputs: number; ms: number; skip: number }, outDir: string, maxRssBytes: number): Promise<TargetResult> {
  const findings: Finding[] = [];
  const unplacedSeen = new Set<string>();
  const r = rng(seed * 31 + index);
  // Warm-up, untimed: each seed once (the first input through a parser pays for compiling it: a
  // trace.dat's first read took ~490 ms, the same input again 50–120 ms).
  for (const s of t.seeds) {
    try {
      await t.run(s, Infinity, false);
    } catch (err) {
      console.log(`FINDING exception in ${t.name} on an unmutated fixture: ${(err as Error).message}`);
      findings.push({ target: t.name, kind: 'exception', detail: (err as Error).message, file: '' });
    }
  }
  const inflight = process.argv.includes('--child') ? inflightPath(outDir, t.name, seed) : null;
  if (inflight) mkdirSync(outDir, { recursive: true });
  const start = performance.now();
  let lastReport = start;
  let n = 0;
  let bytes = 0;
  for (; n < limit.inputs && performance.now() - start < limit.ms; n++) {
    const input = makeInput(r, t);
    if (n < limit.skip) { // --skip N: the same inputs made and not run, to reach input N of a long run fast
      r(); // its chunk size
      r(); // string or bytes
      continue;
    }
    // Byte-at-a-time (and 7-byte) pushes only for small inputs: each push is a call, and a 64 KiB seed
    // in 7-byte pushes (~17 ms) would cost more than a hundred small inputs.
    const sizes = input.byteLength <= 4096 ? SMALL_CHUNK_SIZES : CHUNK_SIZES;
    const chunk = sizes[Math.floor(r() * sizes.length)]!;
    const asText = r() < 0.5;
    bytes += input.byteLength;
    const save = (kind: Finding['kind'], detail: string): void => {
      // The first 10 of a parser are saved and printed; the rest only counted (one bug often fires on many inputs).
      if (findings.length >= 10) {
        findings.push({ target: t.name, kind, detail, file: '' });
        return;
      }
      mkdirSync(outDir, { recursive: true });
      const file = join(outDir, `${t.name}-seed${seed}-${n}.bin`);
      writeFileSync(file, input);
      findings.push({ target: t.name, kind, detail, file });
      console.log(`FINDING ${kind} in ${t.name} (seed ${seed}, input ${n}, chunk ${chunk}, ${asText ? 'text' : 'bytes'}): ${detail}\n  reproduce: npm run fuzz -- --target ${t.name} --replay ${file}`);
    };
    // A child writes each input before running it: if the parser takes the process down (out of
    // memory is fatal, no handler runs), the parent names this file as the finding's input.
    if (inflight) writeFileSync(inflight, input);
    const t0 = performance.now();
    let diags: ParseDiag[] = [];
    try {
      diags = await t.run(input, chunk, asText);
    } catch (err) {
      save('exception', (err as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(err));
      continue;
    }
    const ms = performance.now() - t0;
    if (ms > SLOW_MS) {
      // Timed again before it counts: on a shared machine one run can stall for reasons of its own.
      const t1 = performance.now();
      await t.run(input, chunk, asText);
      const again = performance.now() - t1;
      if (again > SLOW_MS) save('slow', `${ms.toFixed(0)} ms, then ${again.toFixed(0)} ms, for ${input.byteLength} bytes`);
    }
    for (const d of diags) {
      if (placed(d) || unplacedSeen.has(d.code)) continue;
      unplacedSeen.add(d.code);
      save('unplaced', `diag ${d.code} names no line or offset: ${d.message.slice(0, 160)}`);
    }
    if (n % 256 === 0) {
      if (process.memoryUsage().rss > maxRssBytes) save('memory', `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
      const now = performance.now();
      if (now - lastReport > 60_000) {
        lastReport = now;
        console.log(`  … ${t.name}: ${n} inputs in ${((now - start) / 1000).toFixed(0)} s`);
      }
    }
  }
  const seconds = (performance.now() - start) / 1000;
  return { target: t.name, inputs: n, bytes, seconds, findings, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
}

const RESULT_TAG = 'FUZZ-RESULT ';
const inflightPath = (outDir: string, target: string, seed: number): string => join(outDir, `${target}-seed${seed}-inflight.bin`);

/** Runs each target in a child process of its own, `jobs` at a time; their output passes through. */
async function runJobs(names: string[], jobs: number, childArgs: string[]): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  const queue = [...names];
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', '--target', name, ...childArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
      let pending = '';
      let result: TargetResult | null = null;
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (s: string) => {
        pending += s;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.startsWith(RESULT_TAG)) result = JSON.parse(line.slice(RESULT_TAG.length)) as TargetResult;
          else console.log(line);
        }
      });
      const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? 1)));
      if (!result) {
        const file = inflightPath(childArgs[childArgs.indexOf('--out') + 1]!, name, Number(childArgs[childArgs.indexOf('--seed') + 1]));
        const detail = `the child process for ${name} ended with code ${code} and no result (out of memory ends it so); the input it was running: ${file}`;
        console.log(`FINDING exception in ${name}: ${detail}\n  reproduce: npm run fuzz -- --target ${name} --replay ${file}`);
        result = { target: name, inputs: 0, bytes: 0, seconds: 0, findings: [{ target: name, kind: 'exception', detail, file }], peakRssMiB: 0 };
      }
      results.push(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, names.length) }, worker));
  return names.map((n) => results.find((r) => r.target === n)!);
}

async function main(): Promise<number> {
  const seconds = arg('seconds') === undefined ? undefined : Number(arg('seconds'));
  const inputs = arg('inputs') === undefined ? Infinity : Number(arg('inputs'));
  const seed = Number(arg('seed') ?? Date.now() % 1e9);
  const only = arg('target');
  const jobs = Math.max(1, Number(arg('jobs') ?? 1));
  const outDir = arg('out') ?? 'test-results/fuzz';
  const maxRssMb = Number(arg('max-rss-mb') ?? 1536);
  const everything = await targets();
  const all = everything.filter((t) => !only || t.name === only);
  if (all.length === 0) throw new Error(`no target ${only}`);
  const replay = arg('replay');
  if (replay) {
    const input = new Uint8Array(readFileSync(replay));
    for (const chunk of [1, ...CHUNK_SIZES]) for (const asText of [false, true]) await all[0]!.run(input, chunk, asText);
    console.log(`${replay}: ran through ${all[0]!.name} at every chunk size without an exception`);
    return 0;
  }
  // --seconds bounds the whole run: each parser gets its share of it (parsers run `jobs` at a time).
  const perTargetMs = arg('target-ms') !== undefined ? Number(arg('target-ms'))
    : seconds === undefined ? (inputs === Infinity ? 10_000 / all.length : Infinity) : (seconds * 1000) / Math.ceil(all.length / jobs);
  const limit = { inputs, ms: perTargetMs, skip: Number(arg('skip') ?? 0) };
  if (process.argv.includes('--child')) {
    const t = all[0]!;
    const res = await fuzzTarget(t, everything.indexOf(t), seed, limit, outDir, maxRssMb * 2 ** 20);
    console.log(RESULT_TAG + JSON.stringify(res));
    return 0;
  }
  const what = [inputs !== Infinity ? `${inputs} inputs per parser` : '', seconds !== undefined ? `${seconds} s` : ''].filter(Boolean).join(', at most ');
  console.log(`fuzz: seed ${seed}, ${what || '10 s'} over ${all.length} parsers${jobs > 1 ? `, ${jobs} jobs` : ''}`);
  const wallStart = performance.now();
  let results: TargetResult[];
  if (jobs > 1) {
    const pass = ['--seed', String(seed), '--out', outDir, '--max-rss-mb', String(maxRssMb)];
    if (inputs !== Infinity) pass.push('--inputs', String(inputs));
    if (Number.isFinite(perTargetMs)) pass.push('--target-ms', String(perTargetMs));
    results = await runJobs(all.map((t) => t.name), jobs, pass);
  } else {
    results = [];
    for (const t of all) {
      const res = await fuzzTarget(t, everything.indexOf(t), seed, limit, outDir, maxRssMb * 2 ** 20);
      console.log(`  ${t.name.padEnd(12)} ${String(res.inputs).padStart(8)} inputs  ${(res.inputs / res.seconds).toFixed(0).padStart(6)} inputs/s  ${(res.bytes / res.seconds / 2 ** 20).toFixed(1)} MiB/s`);
      results.push(res);
    }
  }
  const wallS = (performance.now() - wallStart) / 1000;
  const findings = results.flatMap((x) => x.findings);
  const peak = Math.max(process.resourceUsage().maxRSS / 1024, ...results.map((x) => x.peakRssMiB));
  console.log(`\n| parser | inputs | seconds | inputs/s | MiB/s | findings | peak RSS MiB |\n|---|---|---|---|---|---|---|`);
  for (const x of results) {
    console.log(`| ${x.target} | ${x.inputs.toLocaleString('en-US')} | ${x.seconds.toFixed(0)} | ${(x.inputs / x.seconds).toFixed(0)} | ${(x.bytes / x.seconds / 2 ** 20).toFixed(2)} | ${x.findings.length} | ${x.peakRssMiB.toFixed(0)} |`);
  }
  console.log(`fuzz: ${findings.length} finding(s); wall ${wallS.toFixed(0)} s; peak RSS ${peak.toFixed(0)} MiB`);
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify({ seed, inputs, seconds, jobs, wallS, peakRssMiB: peak, results }, null, 2));
  return findings.length > 0 ? 1 : 0;
}

process.exitCode = await main();
