// Mail-wrapped trace lines (fixtures/paste/mail-wrapped.txt: real lines of the fuse2fs-hardlink
// capture cut by `fold -w 72` and `fold -s -w 72` + quote marks, see its header). Expected values
// are the capture's own lines, read by hand.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { importText } from '../testing.ts';
import type { TraceEvent } from '../../schema.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../../fixtures/${p}`, import.meta.url), 'utf8');
function parse(text: string, chunk = Infinity) {
  const r = importText([{ name: 'w.txt', text, format: 'ftrace' }], chunk);
  return { events: r.raw[0]!, diags: r.parseDiags };
}
const brief = (evs: readonly TraceEvent[]) => evs.map((e) => {
  const r = e as unknown as Record<string, unknown>;
  return [e.kind, e.tsNs, e.task, r.unique ?? r.name, r.opcode ?? null, r.lenBytes ?? null, r.error ?? null];
});

describe('mail-wrapped lines', () => {
  it('mail-wrapped.txt: cut event lines are joined into the events the whole lines give; each join is a diagnostic with its lines', () => {
    for (const chunk of [Infinity, 7]) {
      const { events: all, diags } = parse(fixture('paste/mail-wrapped.txt'), chunk);
      // Each task's `(tgid)` column, once, before its first event (the cut dd-17153 line's header is whole).
      expect(all.filter((e) => e.kind === 'task_process').map((e) => [e.task, (e as { tgid: number }).tgid]))
        .toEqual([['dd/17152', 17152], ['fuse2fs/17145', 17135], ['fuse2fs/17142', 17135], ['dd/17153', 17153]]);
      const events = all.filter((e) => e.kind !== 'task_process');
      // trace.txt lines 134/135/144/145/308: 1831.997981 is 0; the others are their distance from it in ns.
      expect(brief(events)).toEqual([
        ['fuse_send', 0, 'dd/17152', 288, 14, 48, null],
        ['fuse_reply', 1_297_000, 'fuse2fs/17145', 288, 14, 32, 0],
        ['fuse_send', 3_750_000, 'dd/17152', 290, 22, 68, null],
        ['fuse_reply', 3_914_000, 'fuse2fs/17142', 290, 22, 16, -61],
        // Cut inside `(flags=WRITE)` and followed by prose: not joinable, kept as it was.
        ['instant', 15_828_000, 'dd/17153', 'unparsed', null, null, null],
      ]);
      expect(diags).toEqual([
        'w.txt:10:1: an event line cut in 2 (mail-wrapped): joined with line 11 and read as one',
        'w.txt:12:1: an event line cut in 2 (mail-wrapped): joined with line 13 and read as one',
        'w.txt:14:1: not an ftrace event line: "Then the getxattr:"',
        'w.txt:15:1: an event line cut in 3 (mail-wrapped): joined with lines 16, 17 and read as one',
        'w.txt:18:1: an event line cut in 2 (mail-wrapped): joined with line 19 and read as one',
        "w.txt:20:62: expected '(flags=…)'",
        'w.txt:20:1: looks cut in 2 (its body ends early and line 21 is no event line), but no join of them parses: kept as they are',
        'w.txt:21:1: not an ftrace event line: "Thanks, that explains the write wait."',
      ]);
    }
  });

  it('joined events equal the unwrapped lines field for field', () => {
    const lines = fixture('real/fuse2fs-hardlink/trace.txt').split('\n');
    const whole = parse([134, 135, 144, 145].map((n) => lines[n - 1]).join('\n') + '\n').events;
    expect(whole.filter((e) => e.kind !== 'task_process')).toHaveLength(4);
    expect(parse(fixture('paste/mail-wrapped.txt')).events.slice(0, whole.length)).toEqual(whole);
  });

  it('not joined: a cut line followed by an event line of its own; a pasted event line after a cut body', () => {
    const cut = '  dd-1 [000] ..... 5.000100: fuse_request_end: connection 38 req 8 len 16 err';
    const next = '  dd-1 [000] ..... 5.000200: fuse_request_end: connection 38 req 9 len 16 error 0';
    const a = parse(`${cut}\n${next}\n`);
    expect(a.events.map((e) => e.kind)).toEqual(['instant', 'fuse_reply']);
    expect(a.diags).toHaveLength(1);
    expect(a.diags[0]).toMatch(/^w\.txt:1:\d+: /);
    expect(a.diags[0]).not.toMatch(/wrapped|joined/);
    // The rest of a cut line could be a pasted `event: body` line: that is an event, not a piece.
    const b = parse(`${cut}\nfuse_request_end: connection 38 req 9 len 16 error 0\n`);
    expect(b.events.map((e) => [e.kind, e.task])).toEqual([['instant', 'dd/1'], ['fuse_reply', 'task unknown']]);
    // The cut line at the end of the input is kept unparsed too.
    expect(parse(cut).events.map((e) => e.kind)).toEqual(['instant']);
  });
});
