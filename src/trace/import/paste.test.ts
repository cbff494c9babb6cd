// Pasted traces (fixtures/paste): what each shape gives, worked out by hand from the lines (each
// fixture's header says what it expects).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { importText } from './testing.ts';
import { explainDetection, openImport } from './index.ts';
import { OpFlag } from '../fuse-proto.ts';
import { UNTIMED_CLOCK } from './clock.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../fixtures/paste/${p}`, import.meta.url), 'utf8');
function parse(name: string, chunk = Infinity) {
  const r = importText([{ name, text: fixture(name), format: 'ftrace' }], chunk);
  return { events: r.raw[0]!, diags: r.parseDiags, r };
}
const brief = (evs: ReadonlyArray<{ kind: string; tsNs: number; task: string }>) => evs.map((e) => [e.kind, e.tsNs, e.task]);

describe('pasted ftrace lines', () => {
  it('untimed.txt: `event: body` lines in file order 1 µs apart on an unknown task; prose counted with its line; the file says its times are not real', () => {
    for (const chunk of [Infinity, 5]) {
      const { events, diags } = parse('untimed.txt', chunk);
      expect(brief(events)).toEqual([
        ['iomap_begin', 0, 'task unknown'], ['fuse_send', 1000, 'task unknown'], ['fuse_reply', 2000, 'task unknown'],
        ['iomap_map', 3000, 'task unknown'], ['iomap_begin', 4000, 'task unknown'],
      ]);
      expect(events[0]).toMatchObject({ nodeId: 12, ino: 12, fsDev: 45, opflags: OpFlag.WRITE, posBytes: 0, lenBytes: 0x100000 });
      expect(events[1]).toMatchObject({ unique: 88 });
      expect(events[3]).toMatchObject({ slot: 'read', mapAddr: 0x8400000n, mapDev: 1 });
      expect(events[4]).toMatchObject({ posBytes: 0x100000, lenBytes: 0x1000 });
      expect(diags).toHaveLength(2);
      expect(diags[0]).toMatch(/^untimed\.txt:12:1: not an ftrace event line: "Then the kernel asks again:"/);
      expect(diags[1]).toMatch(/^untimed\.txt:0: 5 of 5 events come from lines without the `comm-pid \[cpu\] time:` prefix .*not real/);
    }
    const imp = openImport('u', 'ftrace');
    imp.push(fixture('untimed.txt'));
    imp.end();
    expect(imp.clock()).toBe(UNTIMED_CLOCK);
    expect(imp.clock().id).toBeNull();
  });

  it('mail-quoted.txt: `> ` and `>> ` quote marks are taken off; prose lines are counted, never fatal', () => {
    const { events, diags } = parse('mail-quoted.txt');
    expect(brief(events)).toEqual([['iomap_begin', 0, 'dd/2817'], ['fuse_send', 7000, 'dd/2817'], ['fuse_reply', 150000, 'fuse4fs/1502']]);
    expect(diags.map((d) => d.split(':').slice(0, 2).join(':'))).toEqual(['mail-quoted.txt:6', 'mail-quoted.txt:7', 'mail-quoted.txt:13']);
  });

  it('latency.txt: trace-cmd report -l (cpu+flags column) with its version/cpus headers', () => {
    const { events, diags } = parse('latency.txt');
    expect(diags).toEqual([]);
    expect(brief(events.filter((e) => e.kind !== 'instant' && e.kind !== 'lock_wait' && e.kind !== 'lock_acquire'))).toEqual([
      ['lock_contention', 0, 'fio/3002'], ['fuse_send', 1000, 'fio/3002'], ['fuse_reply', 85000, 'fuse4fs/1502'], ['lock_contention', 86000, 'fio/3002'],
    ]);
  });

  for (const f of ['tracefs-old-header.txt', 'tracefs-new-header.txt', 'crlf.txt']) {
    it(`${f}: header comments skipped, two events of dd/2817 5 µs apart, no diagnostics`, () => {
      const { events, diags } = parse(f);
      expect(diags).toEqual([]);
      expect(brief(events)).toEqual([['iomap_begin', 0, 'dd/2817'], ['fuse_send', 5000, 'dd/2817']]);
    });
  }
});

describe('format detection with its evidence', () => {
  it('says which line decided, and why the others were not chosen', () => {
    const x = explainDetection(fixture('untimed.txt'));
    expect(x.format).toBe('ftrace');
    expect(x.evidence).toMatchObject({ line: 8, what: expect.stringContaining('`fuse_iomap_begin:` line without') });
    expect(x.alternatives.map((a) => a.format)).toEqual(['trace-dat', 'perf-lock', 'perf-script', 'fuse-log', 'chrome-json', 'ndjson']);
    expect(x.alternatives[3]!.reason).toMatch(/^no line matched: looks for `unique: N, opcode: …`/);
  });

  it('every pasted shape is detected as ftrace, at the line that shows it', () => {
    const at = (f: string) => { const x = explainDetection(fixture(f)); return [x.format, x.evidence?.line]; };
    expect(at('mail-quoted.txt')).toEqual(['ftrace', 8]);
    expect(at('latency.txt')).toEqual(['ftrace', 7]);
    expect(at('tracefs-old-header.txt')).toEqual(['ftrace', 3]);
    expect(at('crlf.txt')).toEqual(['ftrace', 3]);
  });

  it('prose naming no known tracepoint is not taken for a trace', () => {
    expect(explainDetection('Note: this is not a trace\nSubject: hello\n').format).toBeNull();
  });
});
