import { describe, expect, it } from 'vitest';
import { LaneGeometry, NO_PREFS, type LaneRowKey } from './layout.ts';

// Hand-worked: 4 px top pad; a lane is 4 sub-rows × 11 px + a 6 px gap = 50 px; a pinned block ends
// with a 3 px rule; a group of more than one lane gets an 18 px header row; 4 px pad at the end.
const ROWS: LaneRowKey[] = [
  { task: 'A', pinned: true, group: '' },
  { task: 'B', pinned: false, group: 'g1' },
  { task: 'C', pinned: false, group: 'g1' },
  { task: 'D', pinned: false, group: 'g2' },
];
const tops = (g: LaneGeometry): number[] => ROWS.map((_, r) => g.laneTop(r));

describe('LaneGeometry', () => {
  it('stacks the pinned block, a header over a group of two, and a lone lane without one', () => {
    const g = LaneGeometry.build(ROWS, NO_PREFS);
    // A 4..48 (+6 gap) → pinned block 57 (54 + 3); header 57..75; B 75; C 125; D 175; content 225 + 4.
    expect(tops(g)).toEqual([4, 75, 125, 175]);
    expect(g.pinnedHeightPx).toBe(57);
    expect(g.headers).toEqual([{ key: 'g1', firstRow: 1, laneCount: 2, topPx: 57, collapsed: false }]);
    expect(g.contentHeightPx).toBe(229);
    expect(g.hit(10)).toEqual({ type: 'lane', laneRow: 0, subrow: 0 });
    expect(g.hit(60)).toEqual({ type: 'header', header: g.headers[0] });
    expect(g.hit(80)).toEqual({ type: 'lane', laneRow: 1, subrow: 0 });
    expect(g.hit(75 + 44 + 2)).toEqual({ type: 'edge', laneRow: 1 }); // the gap under B resizes B
    expect(g.hit(175 + 3 * 11 + 1)).toEqual({ type: 'lane', laneRow: 3, subrow: 3 });
  });

  it('keeps pinned lanes at the top of the scrolled view, over the lanes scrolling under them', () => {
    const g = LaneGeometry.build(ROWS, NO_PREFS);
    g.scrollTopPx = 100;
    expect(g.laneTop(0)).toBe(104);
    // y 140 is 40 px into the view: inside the pinned block, A's sub-row 3 (104 + 33 ≤ 140 < 148), not C (125..169).
    expect(g.hit(140)).toEqual({ type: 'lane', laneRow: 0, subrow: 3 });
    expect(g.hit(165)).toEqual({ type: 'lane', laneRow: 2, subrow: 3 });
    // B (75..119) is wholly under the pinned block (100..157): not visible; C partly below it is.
    expect(g.laneVisible(1, 100, 400)).toBe(false);
    expect(g.laneVisible(2, 100, 400)).toBe(true);
    expect(g.laneVisible(0, 100, 400)).toBe(true);
  });

  it('a collapsed lane is four 3 px strips; a folded group hides its lanes; a resized lane has its own sub-row height', () => {
    const collapsed = LaneGeometry.build(ROWS, { ...NO_PREFS, collapsed: new Set(['B']) });
    // B 75 + 12 + 6 → C at 93.
    expect(tops(collapsed)).toEqual([4, 75, 93, 143]);
    expect(collapsed.bodyHeight(1)).toBe(12);
    expect([...collapsed.collapsed]).toEqual([0, 1, 0, 0]);
    const folded = LaneGeometry.build(ROWS, { ...NO_PREFS, collapsedGroups: new Set(['g1']) });
    expect([folded.isHidden(1), folded.isHidden(2), folded.isHidden(3)]).toEqual([true, true, false]);
    expect(folded.laneTop(3)).toBe(75); // right under the folded header
    expect(folded.headers[0]!.collapsed).toBe(true);
    expect(folded.hit(80)).toEqual({ type: 'lane', laneRow: 3, subrow: 0 });
    expect(folded.contentHeightPx).toBe(75 + 50 + 4);
    const resized = LaneGeometry.build(ROWS, { ...NO_PREFS, subrowPx: new Map([['D', 20]]) });
    expect(resized.bodyHeight(3)).toBe(80);
    expect(resized.subrowTop(3, 2)).toBe(175 + 40);
    expect(resized.contentHeightPx).toBe(175 + 86 + 4);
  });
});
