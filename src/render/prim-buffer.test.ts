import { describe, expect, it } from 'vitest';
import { PrimBuffer } from './prim-buffer.ts';

describe('PrimBuffer', () => {
  it('keeps every primitive, in push order, when it grows past its capacity', () => {
    const b = new PrimBuffer(2);
    // Five bars 10 px apart, each 4 px wide, rows 0/1 alternating; span ids 100…104.
    for (let i = 0; i < 5; i++) expect(b.push(i * 10, 4, i % 2, 1, 7, 3, 100 + i, 1)).toBe(i);
    b.push(60, 0.5, 2, 0, 1, 0, -1, 9, 2);
    expect(b.count).toBe(6);
    expect(b.at(0)).toEqual({ xPx: 0, widthPx: 4, row: 0, subrow: 1, style: 7, kind: 3, spanId: 100, spanCount: 1, edge: 0 });
    expect(b.at(4)).toEqual({ xPx: 40, widthPx: 4, row: 0, subrow: 1, style: 7, kind: 3, spanId: 104, spanCount: 1, edge: 0 });
    // A merged run: no span id, its span count and edge bits as pushed; 0.5 px is exact in float32.
    expect(b.at(5)).toEqual({ xPx: 60, widthPx: 0.5, row: 2, subrow: 0, style: 1, kind: 0, spanId: -1, spanCount: 9, edge: 2 });
    expect(b.toArray().map((p) => p.spanId)).toEqual([100, 101, 102, 103, 104, -1]);
    expect(() => b.at(6)).toThrow(RangeError);
  });

  it('hit-tests the last drawn primitive on the row and sub-row, within the slop', () => {
    const b = new PrimBuffer();
    b.push(10, 20, 0, 0, 0, 0, 1, 1); // [10, 30] on row 0
    b.push(25, 10, 0, 0, 0, 0, 2, 1); // [25, 35] on row 0, drawn over the first
    b.push(10, 20, 0, 1, 0, 0, 3, 1); // same x, sub-row 1
    b.push(10, 20, 1, 0, 0, 0, 4, 1); // same x, row 1
    expect(b.hitTest(15, 0, 0)).toBe(0);
    expect(b.hitTest(28, 0, 0)).toBe(1); // both cover 28: the later one is on top
    expect(b.hitTest(15, 0, 1)).toBe(2);
    expect(b.hitTest(15, 1)).toBe(3);
    expect(b.hitTest(9, 0, 0)).toBe(0); // 1 px slop left of 10
    expect(b.hitTest(8.5, 0, 0)).toBe(-1);
    expect(b.hitTest(37, 0, 0, 2)).toBe(1); // a wider slop reaches 35 + 2
    expect(b.hitTest(15, 2)).toBe(-1); // no such row
  });
});
