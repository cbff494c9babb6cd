import { describe, expect, it } from 'vitest';
import { NdjsonParser, eventLine, headerLine } from './ndjson.ts';
import { oneOfEach } from '../testing/events.ts';
import type { TraceEvent } from '../schema.ts';

function parse(text: string, chunk = text.length): { events: TraceEvent[]; parser: NdjsonParser } {
  const events: TraceEvent[] = [];
  const parser = new NdjsonParser('t.ndjson', (e) => events.push(e));
  for (let i = 0; i < text.length; i += chunk) parser.push(text.slice(i, i + chunk));
  parser.end();
  return { events, parser };
}

describe('NDJSON', () => {
  const events = oneOfEach();
  const text = [headerLine({ originNs: '0', source: 'test' }), ...events.map(eventLine)].join('\n') + '\n';

  it('round-trips every kind, in any chunking', () => {
    for (const chunk of [text.length, 7, 1]) {
      const { events: out, parser } = parse(text, chunk);
      expect(parser.diags.count).toBe(0);
      expect(out).toEqual(events);
    }
  });

  it('reports bad lines by file:line and keeps the good ones around them', () => {
    const lines = text.trimEnd().split('\n');
    lines.splice(3, 0, '{"kind":"fuse_send","tsNs":1}', 'garbage', '{"kind":"nope","tsNs":1}');
    const { events: out, parser } = parse(lines.join('\n') + '\n{"kind":"inst');
    expect(out).toEqual(events);
    expect(parser.diags.count).toBe(4);
    expect(parser.diags.first.map((d) => d.line)).toEqual([4, 5, 6, lines.length + 1]);
    expect(parser.diags.first[0]!.message).toMatch(/missing field task/);
    expect(parser.diags.first[3]!.message).toMatch(/truncated/);
  });

  it('writes u64 as exact hex strings', () => {
    const line = eventLine(events.find((e) => e.kind === 'iomap_map')!);
    expect(line).toContain('"mapAddr":"0xffffffffffffffff"');
  });
});
