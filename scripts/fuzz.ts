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
import { decompress as zstd } from 'fzstd';
import { FtraceParser } from '../src/trace/import/ftrace.ts';
import { FuseLogParser } from '../src/trace/import/fuse-log.ts';
import { NdjsonParser, headerLine, eventLine } from '../src/trace/import/ndjson.ts';
import { ChromeJsonParser } from '../src/trace/import/chrome-json.ts';
import { InstrumentDecoder } from '../src/trace/import/instrument.ts';
import { DiagSink, type ParseDiag } from '../src/trace/import/diagnostics.ts';
import { readTraceDat } from '../src/trace/import/tracedat/index.ts';
import { RecordingReader, memorySource } from '../src/trace/recording/reader.ts';
import { RecordingError } from '../src/trace/recording/format.ts';
import { decodeBatch, encodeBatch, parseClientMessage, WireError } from '../src/trace/wire.ts';
import { TraceStore } from '../src/trace/store.ts';
import { toChromeTrace, chromeTraceJsonChunks } from '../src/trace/export/chrome-json.ts';
import { nodeInflate } from '../server/recorder/file-source.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { rng } from '../src/trace/testing/series-trace.ts';

const SLOW_MS = 1000;
const CHUNK_SIZES = [1, 7, 100, 4096, 1 << 16, Infinity];
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
  seeds: Uint8Array[];
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

function targets(): Target[] {
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
  const diagsOf = (sink: DiagSink): ParseDiag[] => sink.first;
  return [
    {
      name: 'ftrace', seeds: ftraceSeeds,
      run(input, chunk, asText) {
        const p = new FtraceParser('fuzz', () => {});
        push(p, input, chunk, asText);
        return diagsOf(p.diags);
      },
    },
    {
      name: 'fuse-log', seeds: [...files('logs/', /\.log$/), ...files('real/', /\.log$/)],
      run(input, chunk, asText) {
        const p = new FuseLogParser('fuzz');
        push(p, input, chunk, asText);
        return diagsOf(p.diags);
      },
    },
    {
      name: 'ndjson', seeds: [ndjson],
      run(input, chunk, asText) {
        const p = new NdjsonParser('fuzz', () => {});
        push(p, input, chunk, asText);
        return diagsOf(p.diags);
      },
    },
    {
      name: 'chrome-json', seeds: [chrome],
      run(input, chunk, asText) {
        const sink = new DiagSink();
        push(new ChromeJsonParser('fuzz', () => {}, sink), input, chunk, asText);
        return diagsOf(sink);
      },
    },
    {
      name: 'instrument', seeds: [instrument],
      run(input) {
        // The socket frames lines (LineFramer, covered by the text targets); the decoder takes one line at a time.
        const d = new InstrumentDecoder(1, 0, () => {});
        const lines = utf8.decode(input).split('\n');
        lines.forEach((l, i) => d.line(l, 1000 * i, i === lines.length - 1));
        return [];
      },
    },
    {
      name: 'trace.dat', seeds: files('trace-dat/', /\.dat$/),
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
      async run(input) {
        let r: RecordingReader;
        try {
          r = await RecordingReader.open(memorySource(input), nodeInflate, 'fuzz');
        } catch (err) {
          if (err instanceof RecordingError) return [];
          throw err;
        }
        await r.readAll();
        await r.storedFindings();
        return r.damage ? [{ source: 'fuzz', line: 0, code: 'damage', message: `${r.damage.reason} (at byte ${r.damage.offsetBytes})` }] : [];
      },
    },
    {
      name: 'wire', seeds: [...wire, ...client],
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

/** One input from the seeds: a seed as it is, or with 1–8 mutations, or random bytes. */
function makeInput(r: () => number, seeds: Uint8Array[]): Uint8Array {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (r() < 0.03) return Uint8Array.from({ length: Math.floor(r() * 2048) }, () => Math.floor(r() * 256));
  let b: Uint8Array = pick(seeds).slice();
  if (r() < 0.5 && b.byteLength > 4096) {
    const from = Math.floor(r() * (b.byteLength - 4096));
    b = b.slice(from, from + 256 + Math.floor(r() * 8192));
  }
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
      const o = pick(seeds);
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
function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

interface Finding { target: string; kind: 'exception' | 'slow' | 'memory' | 'unplaced'; detail: string; file: string }

async function main(): Promise<number> {
  const seconds = Number(arg('seconds') ?? 10);
  const seed = Number(arg('seed') ?? Date.now() % 1e9);
  const only = arg('target');
  const outDir = arg('out') ?? 'test-results/fuzz';
  const maxRssBytes = Number(arg('max-rss-mb') ?? 1536) * 2 ** 20;
  const all = targets().filter((t) => !only || t.name === only);
  if (all.length === 0) throw new Error(`no target ${only}`);
  const replay = arg('replay');
  if (replay) {
    const input = new Uint8Array(readFileSync(replay));
    for (const chunk of CHUNK_SIZES) for (const asText of [false, true]) await all[0]!.run(input, chunk, asText);
    console.log(`${replay}: ran through ${all[0]!.name} at every chunk size without an exception`);
    return 0;
  }
  const findings: Finding[] = [];
  const unplacedSeen = new Set<string>();
  console.log(`fuzz: seed ${seed}, ${seconds} s over ${all.length} parsers`);
  const perTargetMs = (seconds * 1000) / all.length;
  for (const [ti, t] of all.entries()) {
    const r = rng(seed * 31 + ti);
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
    const start = performance.now();
    let n = 0;
    let bytes = 0;
    for (; performance.now() - start < perTargetMs; n++) {
      const input = makeInput(r, t.seeds);
      const chunk = CHUNK_SIZES[Math.floor(r() * CHUNK_SIZES.length)]!;
      const asText = r() < 0.5;
      bytes += input.byteLength;
      const save = (kind: Finding['kind'], detail: string): void => {
        // The first 10 of a parser are saved and printed; the rest only counted (one bug often fires on many inputs).
        if (findings.filter((f) => f.target === t.name).length >= 10) {
          findings.push({ target: t.name, kind, detail, file: '' });
          return;
        }
        mkdirSync(outDir, { recursive: true });
        const file = join(outDir, `${t.name}-seed${seed}-${n}.bin`);
        writeFileSync(file, input);
        findings.push({ target: t.name, kind, detail, file });
        console.log(`FINDING ${kind} in ${t.name} (seed ${seed}, input ${n}, chunk ${chunk}, ${asText ? 'text' : 'bytes'}): ${detail}\n  reproduce: npm run fuzz -- --target ${t.name} --replay ${file}`);
      };
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
        if (placed(d) || unplacedSeen.has(`${t.name}:${d.code}`)) continue;
        unplacedSeen.add(`${t.name}:${d.code}`);
        save('unplaced', `diag ${d.code} names no line or offset: ${d.message.slice(0, 160)}`);
      }
      if (n % 256 === 0 && process.memoryUsage().rss > maxRssBytes) save('memory', `RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    }
    const s = (performance.now() - start) / 1000;
    console.log(`  ${t.name.padEnd(12)} ${String(n).padStart(8)} inputs  ${(n / s).toFixed(0).padStart(6)} inputs/s  ${(bytes / s / 2 ** 20).toFixed(1)} MiB/s`);
  }
  console.log(`fuzz: ${findings.length} finding(s); peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  return findings.length > 0 ? 1 : 0;
}

process.exitCode = await main();
