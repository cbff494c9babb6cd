// P1: ftrace text ingest on one core, and its ratio to a bare line split of the same bytes.
// Input: the committed fixtures' event lines repeated in memory to ~64 MB.
import { readFileSync } from 'node:fs';
import { FtraceParser } from '../src/trace/import/ftrace.ts';

// `ratio` (P1r) divides the parse time by a bare line split of the same 1 MiB string chunks the
// parser gets (the CLI and the browser both read files as UTF-8 text chunks): each chunk split
// into line strings with String.prototype.split, the line across a chunk boundary joined. Until
// 2026-12-01 the divisor scanned `partial + chunk`, a cons string on which V8 runs every indexOf
// through the runtime — ~4x slower than this split — which made the ratio look ~4x better than it
// is. `ratioToScan` divides by a newline scan that makes no strings at all (informational).
export function ftraceIngestFigures(targetBytes = 64 << 20): {
  eventsPerSec: number; ratio: number; mbPerSec: number; events: number; ratioToScan: number;
} {
  const sources = ['fixtures/real/fuse2fs-hardlink/trace.txt', 'fixtures/real/kernel-fs/ext4-dio.txt',
    'fixtures/real/kernel-fs/xfs-buffered.txt', 'fixtures/ftrace/series-v7.txt'];
  const unit = sources.map((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).join('\n') + '\n').join('');
  const chunks: string[] = [];
  const CHUNK = 1 << 20;
  let big = unit.repeat(Math.ceil(targetBytes / unit.length));
  for (let i = 0; i < big.length; i += CHUNK) chunks.push(big.slice(i, i + CHUNK));
  const bytes = big.length;
  big = '';
  // The bare line split: every line as a string, as any line-oriented reader makes them.
  const split = (): number => {
    let n = 0;
    let partial = '';
    for (const c of chunks) {
      const lines = c.split('\n');
      lines[0] = partial + lines[0]!;
      partial = lines.pop()!;
      for (const l of lines) if (l.length > 0) n++;
    }
    return n;
  };
  // Newline positions only: the line across a boundary is counted, no line is made a string.
  const scan = (): number => {
    let n = 0;
    let partialLen = 0;
    for (const c of chunks) {
      let start = 0;
      for (;;) {
        const nl = c.indexOf('\n', start);
        if (nl < 0) break;
        if (nl - start + partialLen > 0) n++;
        partialLen = 0;
        start = nl + 1;
      }
      partialLen += c.length - start;
    }
    return n;
  };
  const parse = (): number => {
    let n = 0;
    const p = new FtraceParser('bench', () => { n++; });
    for (const c of chunks) p.push(c);
    p.end();
    return n;
  };
  const time = (fn: () => number): { sec: number; n: number } => {
    let best = Infinity;
    let n = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      n = fn();
      best = Math.min(best, (performance.now() - t0) / 1000);
    }
    return { sec: best, n };
  };
  const s = time(split);
  const sc = time(scan);
  if (sc.n !== s.n) throw new Error(`newline scan counted ${sc.n} lines, split ${s.n}`);
  const p = time(parse);
  return { eventsPerSec: p.n / p.sec, ratio: p.sec / s.sec, mbPerSec: bytes / 1e6 / p.sec, events: p.n, ratioToScan: p.sec / sc.sec };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(ftraceIngestFigures());
