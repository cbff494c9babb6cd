// P1i: `fusescope import` end to end on one core: files on disk → the import pipeline (detection,
// parsing, joins, lock attribution, clock placement) → one TraceStore. Input: the committed
// fixtures' event lines repeated to ~32 MB in a temp file, read whole (one file) and cut in two
// halves (two files of one capture, merged on one clock). Best of 3 runs each, after a warm-up.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadFiles } from '../server/sources/files.ts';

export async function importFilesFigures(targetBytes = 32 << 20): Promise<{ oneFile: number; twoHalves: number; events: number }> {
  const sources = ['fixtures/real/fuse2fs-hardlink/trace.txt', 'fixtures/real/kernel-fs/ext4-dio.txt',
    'fixtures/real/kernel-fs/xfs-buffered.txt', 'fixtures/ftrace/series-v7.txt'];
  const unit = sources.map((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#')).join('\n') + '\n').join('');
  const lines = unit.repeat(Math.ceil(targetBytes / unit.length)).split('\n');
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-bench-import-'));
  try {
    const whole = join(dir, 'whole.txt');
    const first = join(dir, 'first.txt');
    const second = join(dir, 'second.txt');
    const half = Math.floor(lines.length / 2);
    writeFileSync(whole, lines.join('\n'));
    writeFileSync(first, lines.slice(0, half).join('\n') + '\n');
    writeFileSync(second, lines.slice(half).join('\n'));
    const rate = async (files: string[]): Promise<{ perSec: number; events: number }> => {
      let bestSec = Infinity;
      let events = 0;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        const r = await loadFiles(files);
        bestSec = Math.min(bestSec, (performance.now() - t0) / 1000);
        events = r.store.length;
      }
      return { perSec: events / bestSec, events };
    };
    await loadFiles(sources.slice(0, 1)); // warm-up: the first run in a process pays for the JIT
    const one = await rate([whole]);
    const two = await rate([first, second]);
    return { oneFile: one.perSec, twoHalves: two.perSec, events: one.events };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await importFilesFigures());
