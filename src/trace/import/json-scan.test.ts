// The fault positions below were counted by hand from the documents (columns 1-based, in
// characters; a surrogate pair is one column).
import { describe, expect, it } from 'vitest';
import { linesAndColumns, scanJson } from './json-scan.ts';
import { rng } from '../testing/series-trace.ts';

const at = (text: string): { line: number; col: number; message: string; opened?: { line: number; col: number } } => {
  const { fault } = scanJson(text);
  if (!fault) throw new Error('no fault found');
  const [p] = linesAndColumns(text, [fault.index]);
  const opened = fault.openedAt === undefined ? {} : { opened: linesAndColumns(text, [fault.openedAt])[0]! };
  return { ...p!, message: fault.message, ...opened };
};

describe('scanJson: where a JSON document goes wrong', () => {
  it('a comma before a closing brace: the brace, where a key belongs', () => {
    const doc = '{"traceEvents":[\n{"ph":"X"},\n{"ph":"i",}\n]}';
    expect(at(doc)).toMatchObject({ line: 3, col: 11, message: "'}' where a key (a string) was expected" });
  });
  it('a document cut short: the end, and the object it ends inside', () => {
    expect(at('{"traceEvents":[\n{"ph":"X"')).toEqual({ line: 2, col: 10, message: "the text ends where ',' or '}' was expected", opened: { line: 2, col: 1 } });
  });
  it('a misspelt literal after non-ASCII text: columns count characters', () => {
    expect(at('["é", tru]')).toMatchObject({ line: 1, col: 10, message: "']' (expected 'true')" });
    expect(at('["😀", nul]')).toMatchObject({ line: 1, col: 10, message: "']' (expected 'null')" });
  });
  it('a raw tab inside a string', () => {
    expect(at('{"a":"x\ty"}')).toMatchObject({ line: 1, col: 8, message: 'U+0009 inside a string (a control character must be escaped)' });
  });
  it('a leading zero, a doubled comma after CRLF lines, text after the document, nothing at all', () => {
    expect(at('[01]')).toMatchObject({ line: 1, col: 3, message: "'1' where ',' or ']' was expected in an array" });
    expect(at('[\r\n1,\r\n2,,3]')).toMatchObject({ line: 3, col: 3, message: "',' where a value was expected" });
    expect(at('{}\n}')).toMatchObject({ line: 2, col: 1, message: "'}' after the end of the document" });
    expect(at('  ')).toMatchObject({ line: 1, col: 3, message: 'the text ends where a value was expected' });
    expect(at('["a\\x"]')).toMatchObject({ line: 1, col: 5 });
    expect(at('["\\u12G4"]')).toMatchObject({ line: 1, col: 7 });
    expect(at('[1.]')).toMatchObject({ line: 1, col: 4 });
    expect(at('[1e+]')).toMatchObject({ line: 1, col: 5 });
    expect(at('\ufeff[]')).toMatchObject({ line: 1, col: 1, message: 'U+FEFF where a value was expected' });
  });
  it('nesting 200 000 deep is walked without recursion', () => {
    const deep = '['.repeat(200_000);
    expect(at(deep)).toEqual({ line: 1, col: 200_001, message: 'the text ends where a value was expected', opened: { line: 1, col: 200_000 } });
    expect(scanJson(deep + ']'.repeat(200_000)).fault).toBeNull();
  });
  it('records where each entry of the event list starts (root array, or the last root traceEvents)', () => {
    const doc = '{"otherData":{"traceEvents":[9]},"traceEvents":[1],\n"trace\\u0045vents":[ {"a":[1,2]},\n  "x" ,3]}';
    const s = scanJson(doc);
    expect(s.fault).toBeNull();
    expect(linesAndColumns(doc, s.entryStarts)).toEqual([{ line: 2, col: 22 }, { line: 3, col: 3 }, { line: 3, col: 8 }]);
    expect(scanJson('[ 1, [2, 3], {"b": 4}]').entryStarts).toEqual([2, 5, 13]);
  });
  it('agrees with JSON.parse on which texts are JSON (mutated documents, seeded)', () => {
    const base = ['{"traceEvents":[{"ph":"X","ts":1.5e3,"args":{"s":"a\\"b\\u00e9\\n","n":-0.25,"t":true,"f":false,"z":null}},[]],"o":{}}', '[1,{"a":[2,{}]},"x"]'];
    const pieces = ['{', '}', '[', ']', ',', ':', '"', '\\', '0', '-', '.', 'e', '+', ' ', '\n', '\t', 'tru', 'nul', 'x', '\u0001', '\ud83d', '1e5'];
    const r = rng(20);
    let faults = 0;
    for (let k = 0; k < 5000; k++) {
      let s = base[k % 2]!;
      for (let m = 1 + Math.floor(r() * 3); m > 0; m--) {
        const i = Math.floor(r() * (s.length + 1));
        const op = Math.floor(r() * 3);
        const p = pieces[Math.floor(r() * pieces.length)]!;
        s = op === 0 ? s.slice(0, i) + p + s.slice(i) : op === 1 ? s.slice(0, i) + s.slice(i + 1 + Math.floor(r() * 4)) : s.slice(0, i) + p + s.slice(i + 1);
      }
      let parses = true;
      try {
        JSON.parse(s);
      } catch {
        parses = false;
      }
      const { fault } = scanJson(s);
      if (fault) faults++;
      if ((fault !== null) !== !parses) expect({ s, fault }).toEqual({ s, fault: parses ? null : 'a fault' });
    }
    expect(faults).toBeGreaterThan(1000);
  });
});
