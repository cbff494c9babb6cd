// Print fmts evaluated as C's printf and libtraceevent print them, on values worked out by hand:
// signed and unsigned fields of each size, casts that keep or change a value, the MAJOR/MINOR
// shifts of a dev_t, flag and symbol tables with bits they do not name.
import { describe, expect, it } from 'vitest';
import { compilePrintFmt, OUT_FULL, USE_TEXT } from './printfmt.ts';
import { parseEventFormat } from './format.ts';

/**
 * An event with the given fields (after the 8 common bytes) and print fmt; `values` written at their
 * offsets. Its body as the printer prints it — and the writer (the bytes the parser reads) must
 * write that text's UTF-8, else USE_TEXT (left to the printer), whatever buffer it starts with.
 */
function print(fields: string, fmt: string, write: (dv: DataView) => void): string {
  const ev = parseEventFormat(`name: t\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n${fields}\nprint fmt: ${fmt}\n`, 's')!;
  const { print: p, write: w, error } = compilePrintFmt(ev, 8);
  expect(error).toBeNull();
  const dv = new DataView(new ArrayBuffer(64));
  write(dv);
  const r = { view: dv, base: 0, size: 64, little: true, longBytes: 8 };
  const text = p(r);
  if (w !== null) {
    let out = new Uint8Array(1);
    let len: number;
    while ((len = w(r, out)) === OUT_FULL) out = new Uint8Array(out.length * 2);
    if (len !== USE_TEXT) expect(Array.from(out.subarray(0, len))).toEqual(Array.from(new TextEncoder().encode(text)));
  }
  return text;
}

/** The writer's result on the same record: its bytes, or 'USE_TEXT'. */
function written(fields: string, fmt: string, write: (dv: DataView) => void): number[] | 'USE_TEXT' {
  const ev = parseEventFormat(`name: t\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n${fields}\nprint fmt: ${fmt}\n`, 's')!;
  const dv = new DataView(new ArrayBuffer(64));
  write(dv);
  const out = new Uint8Array(256);
  const len = compilePrintFmt(ev, 8).write!({ view: dv, base: 0, size: 64, little: true, longBytes: 8 }, out);
  return len === USE_TEXT ? 'USE_TEXT' : Array.from(out.subarray(0, len));
}

const F = (decl: string, off: number, size: number, signed: 0 | 1): string => `\tfield:${decl};\toffset:${off};\tsize:${size};\tsigned:${signed};\n`;

describe('print fmt: integers as printf prints them', () => {
  it('4-byte signed and unsigned fields in each conversion', () => {
    const fields = F('int a', 8, 4, 1) + F('unsigned int b', 12, 4, 0);
    const w = (dv: DataView): void => { dv.setInt32(8, -5, true); dv.setUint32(12, 0xfffffffe, true); };
    expect(print(fields, '"%d %u %x %X %08x", REC->a, REC->a, REC->a, REC->a, REC->a', w)).toBe('-5 4294967291 fffffffb FFFFFFFB fffffffb');
    expect(print(fields, '"%d %u %#x", REC->b, REC->b, REC->b', w)).toBe('-2 4294967294 0xfffffffe');
    // (unsigned int) of -5 is 2^32 - 5; (int) of 0xfffffffe is -2; (long) keeps -5; (unsigned long) of -5 is 2^64 - 5.
    expect(print(fields, '"%u %d %ld %lu", (unsigned int)REC->a, (int)REC->b, (long)REC->a, (unsigned long)REC->a', w)).toBe('4294967291 -2 -5 18446744073709551611');
  });

  it('8-byte fields: the bit pattern for unsigned and hex, the signed value for %lld, pointers', () => {
    const fields = F('long r', 8, 8, 1) + F('u64 big', 16, 8, 0) + F('void * p', 24, 8, 0);
    const w = (dv: DataView): void => { dv.setBigInt64(8, -3n, true); dv.setBigUint64(16, 1n << 60n, true); dv.setBigUint64(24, 0xffff888012345678n, true); };
    expect(print(fields, '"%ld %lx %lu", REC->r, REC->r, REC->r', w)).toBe('-3 fffffffffffffffd 18446744073709551613');
    expect(print(fields, '"%lld 0x%llx %p", REC->big, REC->big, REC->p', w)).toBe('1152921504606846976 0x1000000000000000 0xffff888012345678');
    // A syscall argument as the kernel formats it: an 8-byte field through (unsigned long), 0x%08lx.
    expect(print(fields, '"fd: 0x%08lx, r: 0x%08lx", ((unsigned long)(REC->big)), ((unsigned long)(REC->r))', w)).toBe('fd: 0x1000000000000000, r: 0xfffffffffffffffd');
  });

  it('MAJOR/MINOR of a dev_t (major << 20 | minor)', () => {
    const fields = F('dev_t dev', 8, 4, 0);
    const w = (dv: DataView): void => { dv.setUint32(8, (259 << 20) | 5, true); };
    expect(print(fields, '"dev %d:%d", ((unsigned int) ((REC->dev) >> 20)), ((unsigned int) ((REC->dev) & ((1U << 20) - 1)))', w)).toBe('dev 259:5');
  });

  it('flag and symbol tables: named bits in table order, the rest as hex; an unnamed value as hex', () => {
    const fields = F('unsigned int flags', 8, 4, 0) + F('u64 wide', 16, 8, 0);
    const w = (dv: DataView): void => { dv.setUint32(8, 0x80000015, true); dv.setBigUint64(16, 9n, true); };
    const table = '{ (1U << 0), "A" }, { (1U << 2), "C" }, { 0x80000000, "TOP" }';
    expect(print(fields, `"%s", __print_flags(REC->flags, "|", ${table})`, w)).toBe('A|C|TOP|0x10');
    expect(print(fields, `"%s", __print_flags(REC->wide, "|", ${table})`, w)).toBe('A|0x8');
    expect(print(fields, '"%s %s", __print_symbolic(REC->wide, { 9, "NINE" }), __print_symbolic(REC->flags, { 1, "ONE" })', w)).toBe('NINE 0x80000015');
  });
});

describe('print fmt: one compiled event, many records', () => {
  it('a flag set after another: each record prints its own names', () => {
    const ev = parseEventFormat(`name: t\nID: 1\nformat:\n${F('unsigned short common_type', 0, 2, 0)}${F('unsigned int flags', 8, 4, 0)}\nprint fmt: "%s", __print_flags(REC->flags, "|", { 1, "A" }, { 2, "B" })\n`, 's')!;
    const { print: p } = compilePrintFmt(ev, 8);
    const dv = new DataView(new ArrayBuffer(16));
    const r = { view: dv, base: 0, size: 16, little: true, longBytes: 8 };
    const texts = [1, 3, 3, 1, 0, 6].map((v) => { dv.setUint32(8, v, true); return p(r); });
    expect(texts).toEqual(['A', 'A|B', 'A|B', 'A', '', 'B|0x4']);
  });
});

describe('print fmt written as bytes: the text the printer prints', () => {
  it('widths: spaces before, after (-) or zeros after the sign (0); a value wider than its width is whole', () => {
    const fields = F('int a', 8, 4, 1) + F('unsigned int b', 12, 4, 0) + F('u64 c', 16, 8, 0);
    const w = (dv: DataView): void => { dv.setInt32(8, -42, true); dv.setUint32(12, 0xabc, true); dv.setBigUint64(16, 0x123456789n, true); };
    expect(print(fields, '"[%5d] [%-5d] [%05d] [%2d] [%-05d]", REC->a, REC->a, REC->a, REC->a, REC->a', w)).toBe('[  -42] [-42  ] [-0042] [-42] [-42  ]');
    expect(print(fields, '"[%6x] [%-6X] [%06x] [%#x]", REC->b, REC->b, REC->b, REC->b', w)).toBe('[   abc] [ABC   ] [000abc] [0xabc]');
    expect(print(fields, '"[%012llx] [%llu] [%p]", REC->c, REC->c, REC->c', w)).toBe('[000123456789] [4886718345] [0x123456789]');
  });

  it('strings: a char array up to its NUL, a __data_loc string, UTF-8 kept; a newline in one is left to the printer', () => {
    const fields = F('char comm[8]', 8, 8, 0) + F('__data_loc char[] name', 16, 4, 0);
    const put = (comm: number[], name: number[]) => (dv: DataView): void => {
      comm.forEach((b, i) => dv.setUint8(8 + i, b));
      dv.setUint32(16, (name.length << 16) | 24, true);
      name.forEach((b, i) => dv.setUint8(24 + i, b));
    };
    // "dd\0xx", "f\xc3\xa9\xff\0": é in UTF-8, then a byte no UTF-8 has (U+FFFD, as the decoder reads it).
    const w = put([100, 100, 0, 120, 120], [102, 0xc3, 0xa9, 0xff, 0]);
    expect(print(fields, '"comm=%s name=%s", REC->comm, __get_str(name)', w)).toBe('comm=dd name=f\u00e9\ufffd');
    // As bytes: é as c3 a9, the stray byte as U+FFFD's ef bf bd (never copied as it is).
    expect(written(fields, '"comm=%s name=%s", REC->comm, __get_str(name)', w)).toEqual([...Array.from('comm=dd name=f', (c) => c.charCodeAt(0)), 0xc3, 0xa9, 0xef, 0xbf, 0xbd]);
    const nl = put([97, 10, 98, 0], [0]);
    expect(print(fields, '"comm=%s", REC->comm', nl)).toBe('comm=a\nb');
    expect(written(fields, '"comm=%s", REC->comm', nl)).toBe('USE_TEXT');
  });
});

describe('print fmt: character literals, and damaged text', () => {
  const event = (fmt: string) => parseEventFormat(`name: t\nID: 1\nformat:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n${F('unsigned int flags', 8, 4, 0)}\nprint fmt: ${fmt}\n`, 's')!;

  it("'A', '\\'' and '\\n' are the codes of A, a quote and a newline", () => {
    expect(print(F('unsigned int flags', 8, 4, 0), `"%d %d %d", 'A', '\\'', '\\n'`, () => {})).toBe('65 39 10');
  });

  it('an unterminated character literal (a damaged file: REC->fla\'s) is an error and the fields fallback, not a loop', () => {
    // `"%u", REC->fla's`: the quote is at index 14. The tokenizer once searched for the closing quote,
    // found none, and started over from index 0, forever (the fuzzer's trace.dat run ran out of memory).
    const c = compilePrintFmt(event(`"%u", REC->fla's`), 8);
    expect(c.error).toBe('unterminated character literal at 14');
    const dv = new DataView(new ArrayBuffer(16));
    dv.setUint32(8, 5, true);
    expect(c.print({ view: dv, base: 0, size: 16, little: true, longBytes: 8 })).toBe('flags=0x5');
    expect(compilePrintFmt(event(`"%u", '`), 8).error).toBe('unterminated character literal at 6');
    expect(compilePrintFmt(event(`"%u", '\\`), 8).error).toBe('unterminated character literal at 6');
    // A format string cut after a backslash prints what it holds, nothing from past its end (once: "xundefined").
    expect(compilePrintFmt(event(`"x\\`), 8).print({ view: dv, base: 0, size: 16, little: true, longBytes: 8 })).toBe('x');
  });
});
