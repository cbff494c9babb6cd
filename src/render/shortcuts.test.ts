import { describe, expect, it } from 'vitest';
import { SHORTCUTS, shortcutAction } from './shortcuts.ts';

describe('shortcuts table', () => {
  it('maps keys to actions by scope, letters in either case', () => {
    expect(shortcutAction('timeline', 'W')).toBe('zoom-in');
    expect(shortcutAction('timeline', 'd')).toBe('pan-later');
    expect(shortcutAction('page', '?')).toBe('help');
    expect(shortcutAction('page', ' ')).toBe('pause');
    expect(shortcutAction('search', 'f')).toBe('result-choose');
    expect(shortcutAction('search', 'Enter')).toBe('result-choose');
    expect(shortcutAction('page', 'w')).toBeNull(); // the timeline's, not the page's
    expect(shortcutAction('page', 'Enter')).toBeNull();
  });
  it('binds a key to one action per scope, so the sheet is unambiguous', () => {
    const seen = new Set<string>();
    for (const s of SHORTCUTS) for (const k of s.keys) {
      const key = `${s.scope}:${k}`;
      expect(seen.has(key), key).toBe(false);
      seen.add(key);
    }
  });
});
