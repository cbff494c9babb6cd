import { describe, expect, it } from 'vitest';
import { LineSplitter } from './lines.ts';

function split(chunks: string[], max = 10): { lines: Array<[string, number, boolean]>; tooLong: number[] } {
  const lines: Array<[string, number, boolean]> = [];
  const tooLong: number[] = [];
  const s = new LineSplitter(max, { line: (t, n, last) => lines.push([t, n, last]), tooLong: (n) => tooLong.push(n) });
  for (const c of chunks) s.push(c);
  s.end();
  return { lines, tooLong };
}

describe('LineSplitter', () => {
  it('gives the same lines whatever the chunking, CR dropped, last line flagged', () => {
    const text = 'a\r\nbb\n\nccc';
    const whole = split([text]);
    expect(whole.lines).toEqual([['a', 1, false], ['bb', 2, false], ['', 3, false], ['ccc', 4, true]]);
    expect(split([...text])).toEqual(whole);
  });
  it('reports an over-long line once, skips it, and keeps the next line', () => {
    const r = split(['ok\n', 'x'.repeat(8), 'x'.repeat(8), 'xx\nnext\n']);
    expect(r.tooLong).toEqual([2]);
    expect(r.lines).toEqual([['ok', 1, false], ['next', 3, false]]);
  });
});
