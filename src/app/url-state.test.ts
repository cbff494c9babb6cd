import { describe, expect, it } from 'vitest';
import { decodeViewState, encodeViewState } from './url-state.ts';

describe('url state', () => {
  it('round-trips every field', () => {
    const s = { scenario: 'hardlink-alias-race', tab: 'aliases' as const, startNs: 1000, endNs: 250000, selectedRow: 42, query: 'ino:12 task:writer', theme: 'dark' as const, pins: ['fuse2fs/501', 'writerA/1001'], areaFromNs: 100, areaToNs: 900 };
    expect(decodeViewState(`#${encodeViewState(s)}`)).toEqual(s);
  });
  it('drops what it does not understand', () => {
    expect(decodeViewState('#tab=nope&t0=5&t1=2&sel=-3&theme=blue')).toEqual({});
  });
  it('writes no range while following live', () => {
    expect(encodeViewState({ tab: 'locks' })).toBe('tab=locks');
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
