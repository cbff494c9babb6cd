// A fuse-iomap step ends where the kernel's iomap loop makes its next call: iomap_iter (traced at
// the top of iomap_iter(), before ->iomap_end, fs/iomap/iter.c) — not at the syscall's later exit.
import { describe, expect, it } from 'vitest';
import { importText } from '../testing.ts';
import { TraceStore } from '../../store.ts';
import { summarize } from '../../summary.ts';

const L = (ts: string, name: string, body: string): string => `             fio-3001  [004] ..... ${ts}: ${(name + ':').padEnd(21)} ${body}`;
const I = 'connection 45 ino 12 nodeid 12 isize 0x100000 idisksize 0x100000';
const text = [
  'cpus=8',
  L('100.000000000', 'iomap_iter', 'dev 0:45 ino 0xc pos 0x1000 length 0x2000 status 0 flags DIRECT (0x10) ops fuse_iomap_ops caller __iomap_dio_rw'),
  L('100.000001000', 'fuse_iomap_begin', `${I} opflags (direct) pos 0x1000 length 0x2000`),
  L('100.000001000', 'fuse_iomap_read_map', `${I} offset 0x0 length 0x10000 type mapped dev 1 addr 0x20000000 mapflags ()`),
  L('100.000001000', 'fuse_iomap_write_map', `${I} offset 0x0 length 0x10000 type overwrite dev 0 addr 0xffffffffffffffff mapflags ()`),
  // The loop's next call at 61 µs (60 µs after the begin), at pos 0x3000: the step did 0x2000 bytes.
  L('100.000061000', 'iomap_iter', 'dev 0:45 ino 0xc pos 0x3000 length 0x0 status 0 flags DIRECT (0x10) ops fuse_iomap_ops caller __iomap_dio_rw'),
  L('100.000090000', 'fuse_iomap_direct_read_end', `${I} pos 0x1000 length 0x2000 ret 0x2000`),
].join('\n') + '\n';

describe('ftrace import: a fuse-iomap step ends at the loop\'s next iomap_iter', () => {
  it('emits iomap_iter_end at that line with processed = pos advance, and the step lasts 60 µs', () => {
    const r = importText([{ name: 't.txt', text, format: 'ftrace' }]);
    const ends = r.events.filter((e) => e.kind === 'iomap_iter_end');
    expect(ends).toEqual([expect.objectContaining({ tsNs: 61_000, nodeId: 12, ino: 12, posBytes: 0x1000, lenBytes: 0x2000, processedBytes: 0x2000, error: 0 })]);
    const s = new TraceStore();
    s.appendAll(r.events);
    // begin at 1 µs → next iomap_iter at 61 µs; before, the step ran to the _end exit at 90 µs (89 µs).
    expect(summarize(s).iomap).toMatchObject({ steps: 1, stepsUnended: 0, stepNsTotal: 60_000 });
  });
});
