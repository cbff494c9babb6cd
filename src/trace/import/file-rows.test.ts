// A file that is the whole trace streams its rows into the store (file-rows.ts) and must end as
// the store the held path builds: same rows, same clamping, same diagnostics. Inputs are written
// here; the held path (no file count given) is the reference.
import { describe, expect, it } from 'vitest';
import { ImportPipeline, type ImportOutcome } from './pipeline.ts';
import { FileRows, ftraceNeedsPass } from './file-rows.ts';
import type { TraceStore } from '../store.ts';
import { ev } from '../testing/events.ts';

function run(files: Array<{ name: string; text: string }>, announced: number | undefined): ImportOutcome {
  const pipe = new ImportPipeline(announced === undefined ? {} : { files: announced });
  for (const f of files) {
    const feed = pipe.open(f.name);
    // Small chunks: lines straddle pushes, as in a real read.
    const bytes = new TextEncoder().encode(f.text);
    for (let at = 0; at < bytes.length; at += 64) feed.push(bytes.subarray(at, at + 64));
    feed.end();
  }
  return pipe.finish();
}

function rows(store: TraceStore): unknown[] {
  return Array.from({ length: store.length }, (_, row) => store.get(row));
}

const mark = (stamp: string, text: string): string => `  dd-7 [000] ..... ${stamp}: tracing_mark_write: ${text}`;
const contention = (stamp: string, phase: 'begin' | 'end'): string =>
  `  dd-7 [000] d..1. ${stamp}: contention_${phase}: ${phase === 'begin' ? '00000000c3b9e2a1 (flags=WRITE)' : '00000000c3b9e2a1 (ret=0)'}`;

describe('a single file streams its rows into the store (same store as holding them)', () => {
  const plain = [mark('100.000001', 'a'), mark('100.000002', 'b'), mark('100.000004', 'c')].join('\n') + '\n';

  it('ftrace with nothing for a pass: streamed, rows and origin as the held path gives', () => {
    const streamed = run([{ name: 't.txt', text: plain }], 1);
    const held = run([{ name: 't.txt', text: plain }], undefined);
    expect(streamed.result.store).not.toBeNull();
    expect(streamed.result.events).toEqual([]);
    expect(held.result.store).toBeNull();
    const store = streamed.toStore();
    // 100.000001 s is the origin; b and c are 1 µs and 3 µs after it.
    expect(store.originNs).toBe(100_000_001_000n);
    expect(rows(store).map((r) => (r as { tsNs: number }).tsNs)).toEqual([0, 1000, 3000]);
    expect(rows(store)).toEqual(rows(held.toStore()));
    expect(streamed.rowCount).toBe(3);
    expect(streamed.result.files[0]!.eventCount).toBe(3);
  });

  it('a lock contention part way: still streamed, and lock attribution on the rows adds what it adds to the held list', () => {
    const text = [mark('100.000001', 'a'), contention('100.000002', 'begin'), contention('100.000003', 'end'), mark('100.000004', 'b')].join('\n') + '\n';
    const streamed = run([{ name: 't.txt', text }], 1);
    const held = run([{ name: 't.txt', text }], undefined);
    expect(streamed.result.store).not.toBeNull();
    expect(streamed.result.attributions).toHaveLength(1);
    // Attribution added its decision instant and the derived wait/acquire: 4 raw events + 3.
    const want = rows(held.toStore());
    expect(want).toHaveLength(7);
    expect(rows(streamed.toStore())).toEqual(want);
    expect(streamed.result.attributions).toEqual(held.result.attributions);
  });

  it('time going back: held from there, so the store clamps as it always did', () => {
    const text = [mark('100.000003', 'a'), mark('100.000001', 'b'), mark('100.000004', 'c')].join('\n') + '\n';
    const streamed = run([{ name: 't.txt', text }], 1);
    const held = run([{ name: 't.txt', text }], undefined);
    const s = streamed.toStore();
    expect(rows(s)).toEqual(rows(held.toStore()));
    // b (2 µs before a) is clamped to a's time, once.
    expect(s.clampedCount).toBe(1);
  });

  it('more files than announced: the first is held again and the files merge as without the count', () => {
    // x has b's time: equal times keep the files' order.
    const other = { name: 'u.txt', text: mark('100.000002', 'x') + '\n' };
    const streamed = run([{ name: 't.txt', text: plain }, other], 1);
    const held = run([{ name: 't.txt', text: plain }, other], undefined);
    expect(rows(streamed.toStore())).toEqual(rows(held.toStore()));
    expect(rows(streamed.toStore()).map((r) => (r as { text: string }).text)).toEqual(['a', 'b', 'x', 'c']);
  });

  it('NDJSON: streamed, and batches for the wire carry the same rows', () => {
    const text = '{"format":"fusescope-ndjson","schemaVersion":1,"originNs":"5","source":"t"}\n' +
      '{"kind":"instant","tsNs":1,"task":"a/1","name":"n","text":"one"}\n{"kind":"instant","tsNs":2,"task":"b/2","name":"n","text":"two"}\n';
    const o = run([{ name: 't.ndjson', text }], 1);
    expect(o.result.store).not.toBeNull();
    const batched = [...o.batches(1, o.toStore().strings)].flatMap(rows);
    expect(batched).toEqual(rows(run([{ name: 't.ndjson', text }], undefined).toStore()));
    expect(batched.map((r) => (r as { text: string }).text)).toEqual(['one', 'two']);
  });
});

describe('FileRows', () => {
  it('turns streamed rows back into the events it was given, exactly', () => {
    const given = [ev('iomap_map', 1, 'a/1', { mapAddr: 0xffff_ffff_ffff_ffffn }), ev('fs_op', 2, 'b/2', { posBytes: 2 ** 40 }), ev('instant', 3, 'c/3', { text: 'plain mark' })];
    const r = new FileRows(ftraceNeedsPass);
    for (const e of given) r.add(e);
    expect(r.store?.length).toBe(3);
    expect(r.events()).toEqual(given);
    expect(r.store).toBeNull();
  });

  it('streams past an instant that names an ino but is no identity evidence (iomap_iter\'s "ino 0xc pos …")', () => {
    const r = new FileRows(ftraceNeedsPass, true);
    r.add(ev('instant', 1, 'dd/1', { name: 'iomap_iter', text: 'dev 7:0 ino 0xc pos 0x10000 length 0x0 status 0' }));
    r.add(ev('lock_contention', 2, 'dd/1', { phase: 'begin', lockAddr: 0xc3n, lockFlags: 4 }));
    expect(r.store?.length).toBe(2);
    // The wait (row 1) is attributed on the streamed rows: its decision instant before it, its lock_wait after.
    const plan = r.lockPlan()!;
    expect(plan.attributions.map((a) => a.lockAddr)).toEqual(['0xc3']);
    expect(plan.before.get(1)?.kind).toBe('instant');
    expect(plan.after.get(1)?.kind).toBe('lock_wait');
  });

  it('holds from the first event a pass acts on (an instant naming an ino)', () => {
    const r = new FileRows(ftraceNeedsPass);
    r.add(ev('instant', 1, 'a/1', { text: 'x' }));
    expect(r.store).not.toBeNull();
    r.add(ev('instant', 2, 'a/1', { name: 'fuse_reply_attr', text: 'unique=4 st_ino=14' }));
    expect(r.store).toBeNull();
    expect(r.events().map((e) => e.tsNs)).toEqual([1, 2]);
  });
});
