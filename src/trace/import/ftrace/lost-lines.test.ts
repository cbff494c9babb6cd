// Lost-events lines of the three tools that print them (hand-written, in each tool's wording):
// the kernel's `CPU:%d [LOST %lu EVENTS]` (kernel/trace/trace.c print_trace_line) and trace-cmd
// report's `CPU:%d [%lld EVENTS DROPPED]` / `CPU:%d [EVENTS DROPPED]` (tracecmd/trace-read.c
// show_data). Each becomes a gap with its count, or -1 (count unknown) — never a diagnostic.
import { describe, expect, it } from 'vitest';
import { importText } from '../testing.ts';

const EV1 = '          dd-2101  [001] d..1.  100.000100: fuse_request_send: connection 45 req 6 opcode 16 (FUSE_GETXATTR) len 60';
const EV2 = '          dd-2101  [001] d..1.  100.000300: fuse_request_end: connection 45 req 6 len 16 error 0';

function gapsOf(lost: string) {
  const r = importText([{ name: 'l.txt', text: `${EV1}\n${lost}\n${EV2}\n`, format: 'ftrace' }]);
  return { gaps: r.raw[0]!.filter((e) => e.kind === 'gap'), diags: r.parseDiags, kinds: r.raw[0]!.map((e) => e.kind) };
}

describe('lost-events lines', () => {
  it('trace_pipe / trace: `CPU:1 [LOST 17 EVENTS]` is a gap of 17 at the event before it', () => {
    const { gaps, diags } = gapsOf('CPU:1 [LOST 17 EVENTS]');
    expect(gaps).toEqual([{ kind: 'gap', tsNs: 0, task: '', missedEvents: 17, fromTsNs: 0, toTsNs: 0 }]);
    expect(diags).toEqual([]);
  });

  it('trace-cmd report: `CPU:3 [204600 EVENTS DROPPED]` is a gap of 204600', () => {
    const { gaps, diags, kinds } = gapsOf('CPU:3 [204600 EVENTS DROPPED]');
    expect(gaps.map((g) => g.kind === 'gap' && g.missedEvents)).toEqual([204600]);
    expect(kinds).toEqual(['fuse_send', 'gap', 'fuse_reply']);
    expect(diags).toEqual([]);
  });

  it('trace-cmd report: `CPU:0 [EVENTS DROPPED]` (no count) is a gap whose count is unknown (-1), not a made-up number', () => {
    const { gaps, diags } = gapsOf('CPU:0 [EVENTS DROPPED]');
    expect(gaps.map((g) => g.kind === 'gap' && g.missedEvents)).toEqual([-1]);
    expect(diags).toEqual([]);
  });

  it('a quoted mail line keeps its meaning; prose that merely mentions dropped events is not a gap', () => {
    expect(gapsOf('> CPU:2 [5 EVENTS DROPPED]').gaps.map((g) => g.kind === 'gap' && g.missedEvents)).toEqual([5]);
    const prose = gapsOf('I think some events dropped here');
    expect(prose.gaps).toEqual([]);
    expect(prose.diags[0]).toMatch(/^l\.txt:2:1: not an ftrace event line/);
  });
});
