// The import pipeline's clock: several files on one axis, merged in time order; files on another
// clock said so and left alone unless starts are aligned. Expected times are worked out from the
// stamps in the text (comments show the arithmetic).
import { describe, expect, it } from 'vitest';
import { formatDiag } from './diagnostics.ts';
import { ImportPipeline, type ImportOutcome } from './pipeline.ts';
import { formatShift, placeFiles, FTRACE_NS_CLOCK, FTRACE_COUNTER_CLOCK } from './clock.ts';

type File = { name: string; text: string };

function run(files: File[], alignStarts = false, chunkBytes = Infinity): ImportOutcome {
  const pipe = new ImportPipeline({ alignStarts });
  const enc = new TextEncoder();
  for (const f of files) {
    const feed = pipe.open(f.name);
    const bytes = enc.encode(f.text);
    for (let at = 0; at < bytes.length; at += Math.min(chunkBytes, bytes.length)) feed.push(bytes.subarray(at, at + chunkBytes));
    feed.end();
  }
  return pipe.finish();
}

/** `name@tsNs` per row, for tracing_mark_write instants (their text is the mark). */
function marks(o: ImportOutcome): string[] {
  const store = o.toStore();
  return Array.from({ length: store.length }, (_, row) => store.get(row)).map((ev) => `${ev.kind === 'instant' ? ev.text : ev.kind}@${ev.tsNs}`);
}

const mark = (pid: number, stamp: string, text: string): string => `  dd-${pid} [000] ..... ${stamp}: tracing_mark_write: ${text}`;

describe('import pipeline: one clock across files', () => {
  // ns stamps (trace-cmd -t) near 1.7e9 s: absolute ns are ~1.7e18, where a float64 steps by 256 ns.
  const A = { name: 'a.txt', text: [mark(1, '1700000000.123456789', 'a1'), mark(1, '1700000000.123457000', 'a2')].join('\n') + '\n' };
  const B = { name: 'b.txt', text: [mark(2, '1700000000.123456790', 'b1'), mark(2, '1700000000.123457001', 'b2')].join('\n') + '\n' };

  it('places every file at its own stamps to the ns, merged in time order', () => {
    const o = run([A, B]);
    expect(o.result.originNs).toBe(1_700_000_000_123_456_789n);
    // a1 0; b1 .123456790 - .123456789 = 1 ns; a2 .123457000 - .123456789 = 211 ns; b2 212 ns.
    expect(marks(o)).toEqual(['a1@0', 'b1@1', 'a2@211', 'b2@212']);
    expect(o.diags).toEqual([]);
  });

  it('files given in reverse order: the earlier file sets the origin, rows are the same', () => {
    const o = run([B, A]);
    expect(o.result.originNs).toBe(1_700_000_000_123_456_789n);
    expect(marks(o)).toEqual(['a1@0', 'b1@1', 'a2@211', 'b2@212']);
    expect(o.toStore().clampedCount).toBe(0);
  });

  it('equal times keep file order', () => {
    const C = { name: 'c.txt', text: mark(3, '1700000000.123457000', 'c1') + '\n' };
    expect(marks(run([A, C]))).toEqual(['a1@0', 'a2@211', 'c1@211']);
    // c first: it is the first file, but a starts earlier (origin a1); at 211 ns c's mark comes first.
    expect(marks(run([C, A]))).toEqual(['a1@0', 'c1@211', 'a2@211']);
  });

  // A counter clock prints raw integers; the kernel's ns clocks print secs.usecs (§4.1).
  const SECS = { name: 's.txt', text: [mark(1, '5000.000100', 's1'), mark(1, '5000.000300', 's2')].join('\n') + '\n' };
  const COUNTER = { name: 'c.txt', text: [mark(2, '123456789', 'c1'), mark(2, '123457789', 'c2')].join('\n') + '\n' };

  it('a counter-clock file after a secs.usecs one: said to be on another clock, not shifted', () => {
    const o = run([SECS, COUNTER]);
    // Not shifted: c at its own stamps (123456789 taken as ns), which is earlier, so it is the origin;
    // s1 at 5000000100000 - 123456789 = 4999876643211 ns, s2 200000 ns later.
    expect(o.result.originNs).toBe(123_456_789n);
    expect(marks(o)).toEqual(['c1@0', 'c2@1000', 's1@4999876643211', 's2@4999876843211']);
    expect(o.diags.map(formatDiag)).toEqual([
      "c.txt:0: on a counter clock (raw integer stamps), not the kernel's ns trace clock (secs.usecs stamps) as s.txt is: " +
      "the two cannot be compared; placed by its own stamps, not shifted (align starts would put its first event at s.txt's first event)",
    ]);
    expect(o.diagCount).toBe(1);
  });

  it('align starts: the other clock\'s first event at the first file\'s first event, and by how much it moved', () => {
    const o = run([SECS, COUNTER], true);
    expect(o.result.originNs).toBe(5_000_000_100_000n);
    // c1 at s1 (0), c2 1000 ns after it; s2 200 µs after s1. Moved by 5000000100000 - 123456789 ns.
    expect(marks(o)).toEqual(['s1@0', 'c1@0', 'c2@1000', 's2@200000']);
    expect(o.diags.map(formatDiag)).toEqual([
      "c.txt:0: offset by +4999.876643211 s (4999876643211 ns) so that its first event is at s.txt's first event: " +
      "it is on a counter clock (raw integer stamps), not the kernel's ns trace clock (secs.usecs stamps) as s.txt is (align starts)",
    ]);
    expect(o.result.files.map((f) => [f.name, f.clock.id, f.aligned, f.shiftNs])).toEqual([
      ['s.txt', 'ftrace-ns', false, 0n], ['c.txt', 'ftrace-counter', true, 4_999_876_643_211n],
    ]);
  });

  it('align starts leaves files on the first file\'s clock at their stamps', () => {
    expect(marks(run([A, B], true))).toEqual(['a1@0', 'b1@1', 'a2@211', 'b2@212']);
  });

  it('NDJSON: the clock its header names; a simulator file is on its run\'s virtual clock', () => {
    const nd = (name: string, header: Record<string, unknown>, ts: number[]): File => ({
      name,
      text: [JSON.stringify({ format: 'fusescope-ndjson', schemaVersion: 1, ...header }),
        ...ts.map((t, i) => JSON.stringify({ kind: 'instant', tsNs: t, task: 't/1', name: 'tracing_mark_write', text: `${name}${i}` }))].join('\n') + '\n',
    });
    // Same named clock: placed by origin; 1000 + 50 - 1000 = 50, 1100 + 0 - 1000 = 100.
    const x = nd('x', { originNs: '1000', source: 'import:a', clock: 'ftrace-ns' }, [0, 50]);
    const y = nd('y', { originNs: '1100', source: 'import:b', clock: 'ftrace-ns' }, [0]);
    const same = run([x, y]);
    expect(marks(same)).toEqual(['x0@0', 'x1@50', 'y0@100']);
    expect(same.diags).toEqual([]);
    // An origin that is not an integer string: said so, taken as 0, the rest imports.
    const bad = run([nd('bad', { originNs: 'soon', source: 'x' }, [5])]);
    expect(bad.diags.map(formatDiag)).toEqual(['bad:1: header originNs "soon" is not an integer string; taken as 0']);
    expect(marks(bad)).toEqual(['bad0@5']);
    // A simulator run and an ftrace NDJSON: different clocks.
    const sim = nd('sim', { originNs: '0', source: 'sim:hardlink-alias-race:seed=1' }, [0]);
    expect(run([x, sim]).diags.map((d) => [d.source, d.code, d.message.split(':')[0]])).toEqual([
      ['sim', 'other_clock', "on the simulator's virtual clock of sim"],
    ]);
  });
});

describe('placeFiles', () => {
  it('offsets are bigint differences made exact numbers (origins past 2^63 - 1 ns apart from 0)', () => {
    const big = 9_000_000_000_000_000_001n; // ~9e18 ns: no float64 holds it to the ns
    const p = placeFiles([
      { name: 'a', clock: FTRACE_NS_CLOCK, originNs: big, firstTsNs: 0 },
      { name: 'b', clock: FTRACE_NS_CLOCK, originNs: big + 7n, firstTsNs: 0 },
      { name: 'c', clock: FTRACE_NS_CLOCK, originNs: big - 3n, firstTsNs: 0 },
    ], false);
    expect(p.originNs).toBe(big - 3n);
    expect(p.files.map((f) => f.offsetNs)).toEqual([3, 10, 0]);
  });

  it('a file with no events neither sets the origin nor is reported', () => {
    const p = placeFiles([
      { name: 'a', clock: FTRACE_NS_CLOCK, originNs: 500n, firstTsNs: 0 },
      { name: 'e', clock: FTRACE_COUNTER_CLOCK, originNs: 0n, firstTsNs: null },
    ], false);
    expect(p.originNs).toBe(500n);
    expect(p.diags).toEqual([]);
  });

  it('files on one other clock move together when aligned: their earliest first event at the first file\'s', () => {
    const p = placeFiles([
      { name: 's', clock: FTRACE_NS_CLOCK, originNs: 10_000n, firstTsNs: 0 },
      { name: 'c1', clock: FTRACE_COUNTER_CLOCK, originNs: 300n, firstTsNs: 0 },
      { name: 'c2', clock: FTRACE_COUNTER_CLOCK, originNs: 200n, firstTsNs: 0 },
    ], true);
    // c2 starts first (200): it lands at s (0 on the axis), c1 100 ns later; both moved by 9800.
    expect(p.files.map((f) => [f.offsetNs, f.shiftNs])).toEqual([[0, 0n], [100, 9800n], [0, 9800n]]);
  });

  it('formatShift is exact', () => {
    expect(formatShift(1_500_000_000n)).toBe('+1.500000000 s (1500000000 ns)');
    expect(formatShift(-42n)).toBe('-0.000000042 s (-42 ns)');
  });
});
