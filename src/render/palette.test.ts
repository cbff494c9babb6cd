import { describe, expect, it } from 'vitest';
import { CHROME_DARK, CHROME_LIGHT, DARK_PALETTE, LIGHT_PALETTE, PALETTE, paletteFor } from './palette.ts';

describe('palette per theme', () => {
  it('a theme change picks another palette and leaves the one a draw holds as it was', () => {
    const held = paletteFor('light');
    const dark = paletteFor('dark');
    expect(held.chrome.background).toBe('#ffffff');
    expect(dark.chrome.background).toBe('#1c232c');
    // Back and forth: the light palette a canvas still holds never turned dark.
    expect(paletteFor('light')).toBe(held);
    expect(held.chrome.background).toBe('#ffffff');
    expect(held.chrome.hatchBackground).toBe('#e6e6e6');
    expect(dark.chrome.hatchBackground).toBe('#3a4552');
  });

  it('is immutable: no code can rewrite a theme for every canvas', () => {
    for (const p of [LIGHT_PALETTE, DARK_PALETTE]) {
      expect(Object.isFrozen(p)).toBe(true);
      expect(Object.isFrozen(p.chrome)).toBe(true);
      expect(Object.isFrozen(p.colours)).toBe(true);
    }
    expect(Object.isFrozen(PALETTE)).toBe(true);
    expect(Object.isFrozen(PALETTE[0])).toBe(true);
    expect(() => { (CHROME_LIGHT as { background: string }).background = '#000000'; }).toThrow(TypeError);
    expect(CHROME_LIGHT.background).toBe('#ffffff');
  });

  it('data colours are the same in both themes; only chrome differs', () => {
    expect(DARK_PALETTE.colours).toEqual(LIGHT_PALETTE.colours);
    expect(LIGHT_PALETTE.colours[PALETTE.findIndex((p) => p.key === 'map.mapped')]).toBe('#0072B2');
    expect(DARK_PALETTE.chrome).toBe(CHROME_DARK);
  });
});
