import { describe, expect, it } from 'vitest';
import { LineFramer } from './framing.ts';
import { Line } from './line.ts';

type Framed = { lines: Array<[text: string, lineNo: number, byteOffset: number, unterminated: boolean]>; tooLong: number[] };

function frame(chunks: Array<string | Uint8Array>, max = 10): Framed {
  const out: Framed = { lines: [], tooLong: [] };
  const line = new Line();
  const framer = new LineFramer(line, {
    onLine: () => out.lines.push([line.text(), line.lineNo, line.byteOffset, line.unterminated]),
    lineTooLong: (n) => out.tooLong.push(n),
  }, max);
  for (const c of chunks) framer.push(c);
  framer.end();
  return out;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
/** Every chunking of `text` into pieces of `size`, as strings and as bytes (bytes may split a character). */
function pieces(text: string, size: number): { strs: string[]; byteChunks: Uint8Array[] } {
  const b = bytes(text);
  const byteChunks: Uint8Array[] = [];
  for (let i = 0; i < b.length; i += size) byteChunks.push(b.subarray(i, i + size));
  const strs: string[] = [];
  for (let i = 0; i < text.length; i += size) strs.push(text.slice(i, i + size));
  return { strs, byteChunks };
}

describe('LineFramer (one framer for ftrace, -d logs and NDJSON)', () => {
  it('gives lines, numbers and byte offsets whatever the chunking, CR dropped, the cut last line flagged', () => {
    // 'a\r\n' is bytes 0-2, 'bb\n' 3-5, '\n' 6, 'ccc' 7-9 with no newline after it.
    const text = 'a\r\nbb\n\nccc';
    const want = [['a', 1, 0, false], ['bb', 2, 3, false], ['', 3, 6, false], ['ccc', 4, 7, true]];
    for (const size of [1, 2, 3, 5, 100]) {
      const { strs, byteChunks } = pieces(text, size);
      expect(frame(strs).lines).toEqual(want);
      expect(frame(byteChunks).lines).toEqual(want);
    }
  });

  it('counts offsets in UTF-8 bytes when lines hold other characters, from strings or split bytes', () => {
    // 'é' is 2 bytes, '→' 3, '😀' (a surrogate pair) 4: line 2 starts at 1+2+1 = 4, line 3 at 4+1+3+1 = 9.
    const text = 'xé\ny→\n😀z\n';
    const want = [['xé', 1, 0, false], ['y→', 2, 4, false], ['😀z', 3, 9, false]];
    for (const size of [1, 2, 4, 100]) {
      const { strs, byteChunks } = pieces(text, size);
      expect(frame(strs).lines).toEqual(want);
      expect(frame(byteChunks).lines).toEqual(want);
    }
    // ASCII first, then a non-ASCII chunk: the offsets run on across the switch.
    expect(frame(['ab\nc', 'dé\nf\n']).lines).toEqual([['ab', 1, 0, false], ['cdé', 2, 3, false], ['f', 3, 8, false]]);
  });

  it('reports an over-long line once, skips it, and keeps the next line (with its own offset)', () => {
    const r = frame(['ok\n', 'x'.repeat(8), 'x'.repeat(8), 'xx\nnext\n']);
    expect(r.tooLong).toEqual([2]);
    // 'ok\n' is 3 bytes, the skipped line 18 + its '\n': 'next' starts at byte 22.
    expect(r.lines).toEqual([['ok', 1, 0, false], ['next', 3, 22, false]]);
    // Within one chunk too.
    const one = frame([`a\n${'y'.repeat(11)}\nb`]);
    expect(one.tooLong).toEqual([2]);
    expect(one.lines).toEqual([['a', 1, 0, false], ['b', 3, 14, true]]);
  });
});
