import { describe, expect, it } from 'vitest';
import { LineFramer, type LineFramerOptions } from './framing.ts';
import { Line } from './line.ts';

type Framed = {
  lines: Array<[text: string, lineNo: number, byteOffset: number, unterminated: boolean]>;
  tooLong: number[];
  notUtf8: Array<[lineNo: number, byteOffset: number]>;
};

function frame(chunks: Array<string | Uint8Array>, max = 10, options: LineFramerOptions = {}): Framed {
  const out: Framed = { lines: [], tooLong: [], notUtf8: [] };
  const line = new Line();
  const framer = new LineFramer(line, {
    onLine: () => out.lines.push([line.text(), line.lineNo, line.byteOffset, line.unterminated]),
    lineTooLong: (n) => out.tooLong.push(n),
    notUtf8: (n, at) => out.notUtf8.push([n, at]),
  }, max, undefined, options);
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

  describe('strict UTF-8 (byte input, the instrumentation socket)', () => {
    const strict = { strictUtf8: true };
    // 'ok\n' bytes 0-2; ff fe '\n' 3-5 (never UTF-8); 'é' c3 a9 '\n' 6-8; U+FFFD ef bf bd '\n' 9-12
    // (valid: the character itself, not a decoding error); 'a' c3 '\n' 13-15 (a character cut by the
    // newline); 'z' 16 with no newline after it.
    const input = new Uint8Array([0x6f, 0x6b, 0x0a, 0xff, 0xfe, 0x0a, 0xc3, 0xa9, 0x0a, 0xef, 0xbf, 0xbd, 0x0a, 0x61, 0xc3, 0x0a, 0x7a]);
    const chunked = (size: number): Uint8Array[] => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < input.length; i += size) out.push(input.subarray(i, i + size));
      return out;
    };

    it('reports each line that is not UTF-8 with its number and byte offset, and hands on the rest, whatever the chunking', () => {
      for (const size of [1, 2, 3, 4, 7, 100]) {
        const r = frame(chunked(size), 10, strict);
        expect(r.lines).toEqual([['ok', 1, 0, false], ['é', 3, 6, false], ['\ufffd', 4, 9, false], ['z', 6, 16, true]]);
        expect(r.notUtf8).toEqual([[2, 3], [5, 13]]);
        expect(r.tooLong).toEqual([]);
      }
    });

    it('without the option the same bytes are decoded leniently (U+FFFD in place of the bad bytes)', () => {
      const r = frame([input], 10);
      expect(r.notUtf8).toEqual([]);
      expect(r.lines.map((l) => l[0])).toEqual(['ok', '\ufffd\ufffd', 'é', '\ufffd', 'a\ufffd', 'z']);
    });

    it('a line cut by the end of input mid-character is not UTF-8; an over-long line is too long, not bad text', () => {
      expect(frame([new Uint8Array([0x61, 0x0a, 0x62, 0xe2, 0x86])], 10, strict).notUtf8).toEqual([[2, 2]]);
      // Line 1: 'é' × 6 = 12 bytes over the 10-byte limit, split across chunks; line 2 after it is kept.
      const e6 = new Uint8Array(12).map((_, i) => (i % 2 === 0 ? 0xc3 : 0xa9));
      const r = frame([e6.subarray(0, 5), e6.subarray(5), new Uint8Array([0x0a, 0x78, 0x0a])], 10, strict);
      expect(r.tooLong).toEqual([1]);
      expect(r.notUtf8).toEqual([]);
      expect(r.lines).toEqual([['x', 2, 13, false]]);
      // The same within one chunk, and with invalid bytes in it: still one report, as too long.
      const bad = frame([new Uint8Array([...new Array<number>(11).fill(0xff), 0x0a, 0x79, 0x0a])], 10, strict);
      expect([bad.tooLong, bad.notUtf8, bad.lines]).toEqual([[1], [], [['y', 2, 12, false]]]);
    });

    it('takes bytes only', () => {
      expect(() => frame(['text\n'], 10, strict)).toThrow(/takes bytes/);
    });
  });
});

describe('LineFramer is linear in its input (issue #20: a 1 MiB line in 100-byte chunks)', () => {
  // Counts copies, not time: a splitter that re-copied the unfinished line on every chunk would
  // copy ~1 MiB × 10,486 chunks / 2 ≈ 5.5 GB here.
  const LINE = 1 << 20;
  const cases: Array<[string, string | Uint8Array, boolean]> = [
    ['ASCII string chunks', 'a'.repeat(LINE) + '\n', false],
    ['ASCII byte chunks', new TextEncoder().encode('a'.repeat(LINE) + '\n'), false],
    ['non-ASCII string chunks', 'é'.repeat(LINE / 2) + '\n', false],
    ['non-ASCII byte chunks, strict UTF-8', new TextEncoder().encode('é'.repeat(LINE / 2) + '\n'), true],
  ];
  for (const [what, input, strictUtf8] of cases) {
    it(`${what}: at most 3 copies of the line's bytes, one line out`, () => {
      const line = new Line();
      let got = 0;
      const framer = new LineFramer(line, { onLine: () => { got = line.le - line.ls; }, lineTooLong: () => {}, notUtf8: () => {} }, 2 * LINE, undefined, { strictUtf8 });
      for (let i = 0; i < input.length; i += 100) framer.push(input.slice(i, i + 100));
      framer.end();
      // The line's length in its units: bytes for an ASCII line, UTF-16 units for a decoded one (LINE / 2 'é's).
      expect(got).toBe(what.startsWith('ASCII') ? LINE : LINE / 2);
      expect(framer.bytesCopied).toBeLessThanOrEqual(3 * LINE);
    });
  }
});
