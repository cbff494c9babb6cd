// Opening a broken Chrome JSON file: the diagnostic names the line and column of the fault
// (positions counted by hand from the documents below), and nothing a document holds throws.
import { describe, expect, it } from 'vitest';
import { ChromeJsonParser } from './chrome-json.ts';
import { DiagSink, formatDiag } from './diagnostics.ts';
import type { TraceEvent } from '../schema.ts';

function open(doc: string, chunkBytes = 3): { events: TraceEvent[]; diags: string[]; sink: DiagSink } {
  const events: TraceEvent[] = [];
  const sink = new DiagSink();
  const p = new ChromeJsonParser('t.json', (e) => events.push(e), sink);
  const bytes = new TextEncoder().encode(doc);
  for (let i = 0; i < bytes.length; i += chunkBytes) p.push(bytes.subarray(i, i + chunkBytes));
  p.end();
  return { events, diags: sink.first.map(formatDiag), sink };
}

const GOOD = '{"ph":"i","s":"t","ts":1,"pid":1,"tid":1,"args":{"row":0,"event":{"kind":"task_process","tsNs":1000,"task":"dd/1","tgid":1}}}';

describe('chrome-json import: where a broken file is broken', () => {
  it('a syntax error: file, line and column in the diagnostic (multi-byte text split across chunks)', () => {
    const doc = `{"traceEvents":[\n${GOOD},\n  {"ph":"X","name":"é", "ts":1 "dur":2}\n]}`;
    // Line 3: two spaces, then {"ph":"X","name":"é", "ts":1 and a space — 31 characters — so the stray '"' is column 32.
    const { events, diags, sink } = open(doc);
    expect(events).toEqual([]);
    expect(sink.first[0]).toMatchObject({ line: 3, col: 32, code: 'chrome_json' });
    expect(diags).toEqual([`t.json:3:32: not JSON at line 3, column 32: '"' where ',' or '}' was expected in an object`]);
  });
  it('a file cut short says where it ends and what it ends inside', () => {
    const { diags } = open(`{"traceEvents":[\n${GOOD.slice(0, 20)}`);
    // Line 2 is {"ph":"i","s":"t","t (20 characters): the end is column 21, inside the key opened at column 19.
    expect(diags).toEqual(['t.json:2:21: not JSON at line 2, column 21: the text ends inside a string (in the string opened at line 2, column 19)']);
  });
  it('an entry whose event is malformed: its entry number, line and column', () => {
    const bad = '{"ph":"i","s":"t","ts":1,"pid":1,"tid":1,"args":{"row":1,"event":{"kind":"task_process","tsNs":"x","task":"dd/1","tgid":1}}}';
    const { events, diags } = open(`[\n${GOOD},\n\t${bad}\n]`);
    expect(events).toHaveLength(1);
    expect(diags).toEqual(['t.json:3:2: entry 1 at line 3, column 2: row 1: tsNs must be a finite number']);
  });
  it('documents that are JSON but no trace: placed, and never an exception', () => {
    expect(open('  null').diags).toEqual(['t.json:1:3: line 1, column 3: the document is neither an array nor an object with traceEvents']);
    expect(open('{"a":1,\n"traceEvents":{}}').diags).toEqual(['t.json:2:15: line 2, column 15: traceEvents is not an array']);
    // Entries and args of any JSON type: not fusescope's, counted as foreign.
    const odd = open('[5, "s", null, {"ph":"X","args":"s"}, {"ph":"i","args":7}, {"ph":"B","args":null}]');
    expect(odd.diags).toEqual(['t.json:0: 2 entries carry no fusescope event (not written by fusescope export): skipped']);
  });
});
