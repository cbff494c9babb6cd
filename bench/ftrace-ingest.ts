// P1: ftrace text ingest on one core, and its ratio to a bare line split of the same bytes.
// Input: the committed fixtures' event lines repeated in memory to ~64 MB.
import { readFileSync } from 'node:fs';
import { FtraceParser } from '../src/trace/import/ftrace.ts';

// `ratio` (the P1r figure) divides by `split`, which scans `partial + chunk`: a cons string, on which
// V8 runs every indexOf through the runtime, so that split is ~25x slower than one that scans the
// chunk itself. `ratioToChunkSplit` is the same parse time over that faster split (informational).
export function ftraceIngestFigures(targetBytes = 64 << 20): {
  eventsPerSec: number; ratio: number; mbPerSec: number; events: number; ratioToChunkSplit: number;
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
  const split = (): number => {
    let n = 0;
    let partial = '';
    for (const c of chunks) {
      const text = partial + c;
      let start = 0;
      for (;;) {
        const nl = text.indexOf('\n', start);
        if (nl < 0) break;
        if (text.slice(start, nl).length > 0) n++;
        start = nl + 1;
      }
      partial = text.slice(start);
    }
    return n;
  };
  // The same lines, split on each chunk with only the line across a boundary joined.
  const chunkSplit = (): number => {
    let n = 0;
    let partial = '';
    for (const c of chunks) {
      let start = 0;
      if (partial !== '') {
        const nl = c.indexOf('\n');
        if (nl < 0) {
          partial += c;
          continue;
        }
        if ((partial + c.slice(0, nl)).length > 0) n++;
        start = nl + 1;
      }
      for (;;) {
        const nl = c.indexOf('\n', start);
        if (nl < 0) break;
        if (c.slice(start, nl).length > 0) n++;
        start = nl + 1;
      }
      partial = c.slice(start);
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
  const cs = time(chunkSplit);
  if (cs.n !== s.n) throw new Error(`chunk split counted ${cs.n} lines, split ${s.n}`);
  const p = time(parse);
  return { eventsPerSec: p.n / p.sec, ratio: p.sec / s.sec, mbPerSec: bytes / 1e6 / p.sec, events: p.n, ratioToChunkSplit: p.sec / cs.sec };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(ftraceIngestFigures());
