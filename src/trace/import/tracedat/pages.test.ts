// Ring-buffer pages made by hand from the kernel's layout (tracefs events/header_page and
// events/header_event on x86-64: u64 timestamp at 0, local_t commit at 8 (8 bytes), data at 16;
// record header u32 {type_len:5 low bits, time_delta:27}), every expected value worked out here.
import { describe, expect, it } from 'vitest';
import { PageCursor, pageLayoutOf } from './pages.ts';
import { HEADER_PAGE, hdr, page } from './pages-testing.ts';

const layout = pageLayoutOf(HEADER_PAGE, true, 8);

describe('ring-buffer pages by hand', () => {
  it('header_page gives the layout: commit at 8 (8 bytes), data at 16, pages of 16 + 4080 bytes', () => {
    expect(layout).toEqual({ little: true, longBytes: 8, commitOffset: 8, commitBytes: 8, dataOffset: 16, pageBytes: 4096 });
  });

  it('records: a small one, a time extend, a long one, a discarded one skipped, a padding end', () => {
    const words = [
      hdr(2, 100), 0x11111111, 0x22222222, // 8 bytes at 1 s + 100 ns
      hdr(30, 5), 1, //                       time extend: + 1 × 2^27 + 5 ns
      hdr(0, 7), 12 + 4, 0xa, 0xb, 0xc, //    type_len 0: length word (12 + 4), 12 bytes, + 7 ns
      hdr(29, 1), 8, 0xdead, //               discarded event (delta ≠ 0): its length word says 8 → skipped
      hdr(1, 3), 0x33333333, //               4 bytes, + 3 ns
      hdr(29, 0), //                          padding with delta 0: the rest of the page
      hdr(1, 1), 0x44444444, //               never reached
    ];
    const c = new PageCursor(layout, 0);
    expect(c.load(page(1_000_000_000, words), 0)).toBe(true);
    const got: Array<[number, number, number]> = [];
    while (c.step()) got.push([c.recTsNs, c.recLen, c.dv.getUint32(c.recAt, true)]);
    const afterExtend = 1_000_000_100 + 134_217_728 + 5;
    expect(got).toEqual([
      [1_000_000_100, 8, 0x11111111],
      [afterExtend + 7, 12, 0xa],
      [afterExtend + 7 + 3, 4, 0x33333333],
    ]);
    expect(c.lost).toBe(0);
  });

  it('an absolute time stamp (type 31) sets the time: 5 s = 37 × 2^27 + 33,944,064 ns', () => {
    const c = new PageCursor(layout, 0);
    c.load(page(1_000_000_000, [hdr(31, 33_944_064), 37, hdr(1, 10), 0]), 0);
    expect(c.step()).toBe(true);
    expect(c.recTsNs).toBe(5_000_000_010);
  });

  it('lost events: bit 31 with bit 30 and the count after the data; bit 31 alone: unknown (-1)', () => {
    const c = new PageCursor(layout, 1);
    c.load(page(2_000_000_000, [hdr(1, 0), 0], 0xc0000000, 1234), 0);
    expect(c.lost).toBe(1234);
    expect(c.step()).toBe(true);
    expect(c.recTsNs).toBe(2_000_000_000);
    const d = new PageCursor(layout, 1);
    d.load(page(2_000_000_000, [hdr(1, 0), 0], 0x80000000), 0);
    expect(d.lost).toBe(-1);
    const e = new PageCursor(layout, 1);
    e.load(page(2_000_000_000, [hdr(1, 0), 0]), 0);
    expect(e.lost).toBe(0);
  });

  it('a record running past the commit is an error naming the CPU and the byte', () => {
    const c = new PageCursor(layout, 3);
    c.load(page(0, [hdr(4, 0), 1]), 4096 * 5);
    expect(() => c.step()).toThrow(/CPU 3: event of 16 bytes runs past the page's data at page byte 16/);
  });
});
