import { describe, expect, it } from 'vitest';
import { decodeViewState, encodeViewState, windowEventsFromUrl } from './url-state.ts';

describe('url state', () => {
  it('round-trips every field', () => {
    const s = { scenario: 'hardlink-alias-race', tab: 'aliases' as const, startNs: 1000, endNs: 250000, selectedRow: 42, query: 'ino:12 task:writer', theme: 'dark' as const, pins: ['fuse2fs/501', 'writerA/1001'], areaFromNs: 100, areaToNs: 900, windowEvents: 500_000 };
    expect(decodeViewState(`#${encodeViewState(s)}`)).toEqual(s);
  });
  it('drops what it does not understand', () => {
    expect(decodeViewState('#tab=nope&t0=5&t1=2&sel=-3&theme=blue')).toEqual({});
  });
  it('accepts exactly the tabs of the views registry', () => {
    for (const id of ['locks', 'aliases', 'cache', 'area', 'accounting']) expect(decodeViewState(`#tab=${id}`)).toEqual({ tab: id });
    expect(decodeViewState('#tab=timeline')).toEqual({});
    expect(decodeViewState('#tab=registry')).toEqual({});
  });
  it('writes no range while following live', () => {
    expect(encodeViewState({ tab: 'locks' })).toBe('tab=locks');
  });
});

describe('url state: live window', () => {
  it('reads window= from the hash, else the query string, clamped; writes it only when not the default', () => {
    expect(windowEventsFromUrl('?window=500000', '')).toBe(500_000);
    expect(windowEventsFromUrl('?token=x&window=20000', '#tab=locks')).toBe(20_000);
    expect(windowEventsFromUrl('?window=500000', '#window=300000')).toBe(300_000);
    expect(windowEventsFromUrl('?window=5', '')).toBe(1000); // the minimum
    expect(windowEventsFromUrl('?window=-3', '#window=abc')).toBeUndefined();
    expect(windowEventsFromUrl('', '')).toBeUndefined();
    expect(encodeViewState({ tab: 'locks', windowEvents: 2_000_000 })).toBe('tab=locks');
    expect(encodeViewState({ tab: 'locks', windowEvents: 20_000 })).toBe('tab=locks&window=20000');
  });
});

describe('url state: compare', () => {
  it('cmp=<A>,<B> round-trips, a comma inside a name does not split it, and it keeps the theme', () => {
    const hash = encodeViewState({ compare: ['a.fscope', 'b,c.fscope'], theme: 'dark', tab: 'cache' });
    expect(hash).toBe('cmp=a.fscope,b%2Cc.fscope&theme=dark');
    expect(decodeViewState(`#${hash}`)).toMatchObject({ compare: ['a.fscope', 'b,c.fscope'], theme: 'dark' });
    expect(decodeViewState('#cmp=only-one.fscope').compare).toBeUndefined();
    expect(decodeViewState('#cmp=%E0%A4%A,b').compare).toBeUndefined();
  });
});
