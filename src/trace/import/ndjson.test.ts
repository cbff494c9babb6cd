import { describe, expect, it } from 'vitest';
import { NdjsonParser, eventLine, headerLine, rowLine, rowLines } from './ndjson.ts';
import { ev, oneOfEach } from '../testing/events.ts';
import type { TraceEvent } from '../schema.ts';
import { TraceStore } from '../store.ts';

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

  it('writes a store row from its columns: u64 hex, bools, enums, escaped strings, as the format says', () => {
    const store = new TraceStore();
    store.append(ev('lock_contention', 5, 'dd/7', { phase: 'end', lockAddr: 0xffff888112a4c3d8n, lockFlags: 4, ret: -4 }));
    store.append(ev('iomap_ioend', 6, 'kworker/1:2', { newAddr: 0x1_0000_2000n, sent: true, writtenBytes: 8192 }));
    store.append(ev('instant', 7, 'a "q"/1', { name: 'mark', text: 'tab\there' }));
    store.append(ev('iomap_map', 8, 't/1', { mapAddr: 0xffff_ffff_ffff_ffffn, mapOffsetBytes: 4096 }));
    // Fields in the schema's order, each value worked out from the event above.
    expect(rowLine(store, 0)).toBe('{"kind":"lock_contention","tsNs":5,"task":"dd/7","phase":"end","lockAddr":"0xffff888112a4c3d8","lockFlags":4,"ret":-4}');
    expect(rowLine(store, 1)).toContain('"newAddr":"0x100002000"');
    expect(rowLine(store, 1)).toContain('"sent":true');
    expect(rowLine(store, 2)).toBe('{"kind":"instant","tsNs":7,"task":"a \\"q\\"/1","name":"mark","text":"tab\\there"}');
    expect(rowLine(store, 3)).toContain('"mapAddr":"0xffffffffffffffff","mapDev":0');
  });

  it('writes every kind from the columns as eventLine writes the event, and parses back to the same rows', () => {
    const store = new TraceStore();
    for (const e of events) store.append(e);
    for (let row = 0; row < store.length; row++) expect(rowLine(store, row)).toBe(eventLine(store.get(row)));
    const { events: back, parser } = parse(headerLine({ originNs: '0', source: 'test' }) + '\n' + rowLines(store, 0, store.length));
    expect(parser.diags.count).toBe(0);
    expect(back).toEqual(events);
  });
});

