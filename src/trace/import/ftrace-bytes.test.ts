// The byte-level parser against its definition: pushing UTF-8 bytes, or text in any chunking, gives
// what the same text gives as one string (events, diagnostics with their columns, stats).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FtraceParser } from './ftrace.ts';
import { formatDiag } from './diagnostics.ts';
import { Interner, parseLongAt, parseNumAt } from './code-units.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../../fixtures/${p}`, import.meta.url), 'utf8');
function run(chunks: ReadonlyArray<string | Uint8Array>): string {
  const events: unknown[] = [];
  const p = new FtraceParser('f', (e) => events.push(e));
  for (const c of chunks) p.push(c);
  p.end();
  const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? `${v}n` : v);
  return JSON.stringify([events, p.diags.first.map(formatDiag), p.diags.count, p.stats, String(p.originNs)], big);
}
function pieces<T extends string | Uint8Array>(whole: T, size: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < whole.length; i += size) out.push(whole.slice(i, i + size) as T);
  return out;
}
const REAL = fixture('real/fuse2fs-hardlink/trace.txt') + fixture('ftrace/series-v7.txt') + fixture('ftrace/trace-cmd-report.txt') +
  fixture('ftrace/odd-columns.txt') + fixture('real/kernel-fs/ext4-dio.txt');
// Lines with non-ASCII text: in the comm, a uprobe string, a marker, garbage; Unicode spaces the
// `\s` grammar accepts; a line terminator inside a syscall's arguments.
const ODD = [
  '  kworker/ü:1-12 [000] ..... 5.000001: tracing_mark_write: grüße',
  '  dd-7 [000] ..... 5.000002: open64: (0x401000) path="/mnt/é/f"',
  '  dd-7\u00a0[000]\u3000..... 5.000003: x: y',
  '  dd-7 [000] ..... 5.000004: sys_write(fd: 1,\u2028 count: 0x10)',
  '  dd-7 [000] ..... 5.000005: fuse_request_send: connection 1 req é opcode 1 (FUSE_LOOKUP) len 3',
  '%garbage \u00ff\u0000 ✓',
  '  dd-7 [000] ..... 5.000006: sys_write -> 0x10',
].join('\n');

describe('ftrace importer: bytes and chunking', () => {
  for (const [label, text] of [['fixtures', REAL], ['non-ASCII lines', `${ODD}\n${REAL}\n${ODD}`]] as const) {
    it(`${label}: UTF-8 bytes in any chunking parse as the whole string does`, () => {
      const expected = run([text]);
      const bytes = new TextEncoder().encode(text);
      for (const size of [1, 5, 97, 4096, bytes.length]) {
        expect(run(pieces(bytes, size))).toBe(expected);
        expect(run(pieces(text, size))).toBe(expected);
      }
    });
  }

  it('string and byte chunks may alternate', () => {
    const text = `${ODD}\n${REAL}`;
    const expected = run([text]);
    const mixed = pieces(text, 333).map((c, i) => (i % 2 ? new TextEncoder().encode(c) : c));
    expect(run(mixed)).toBe(expected);
  });

  it('diagnostic columns count UTF-16 units, as in the string', () => {
    const p = new FtraceParser('f', () => {});
    p.push(new TextEncoder().encode('  é-1 [000] ..... 1.000001: fuse_request_send: connection x\n'));
    p.end();
    expect(p.diags.first.map(formatDiag)).toEqual(['f:1:29: connection: \'x\' is not a number']);
  });
});

describe('units: numbers and interning', () => {
  const u = (s: string): Uint8Array => new TextEncoder().encode(s + '\0');
  it('numbers parse as their string counterparts do, past 2^53 too', () => {
    for (const t of ['0', '-5', '0x1f', '0XfF', '12345678901234567890', '0x123456789abcdef0', 'x1', '0x', '-', '']) {
      const want = /^0x[0-9a-f]+$/i.test(t) ? Number.parseInt(t, 16) : /^-?\d+$/.test(t) ? Number(t) : NaN;
      expect(parseNumAt(u(t), 0, t.length)).toBe(want);
    }
    expect(parseLongAt(u('0xfffffffffffffff2'), 0, 18)).toBe(-14);
    expect(parseLongAt(u('ffffffffffffff9c'), 0, 16)).toBe(-100);
    expect(parseLongAt(u('0x8000000000000000'), 0, 18)).toBe(Number(-(2n ** 63n)));
  });

  it('the interner returns what was stored for the same units, never for others', () => {
    const names = new Interner<string>(2);
    const text = u('abc abd abc');
    expect(names.get(text, 0, 3)).toBeUndefined();
    names.put('abc', 'ABC');
    expect(names.get(text, 8, 11)).toBe('ABC');
    expect(names.get(text, 4, 7)).toBeUndefined();
    names.put('abd', 'ABD');
    names.put('x', 'X'); // evicts the oldest (abc)
    expect(names.get(text, 0, 3)).toBeUndefined();
    expect(names.get(text, 4, 7)).toBe('ABD');
  });
});
