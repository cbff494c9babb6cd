import { describe, expect, it } from 'vitest';
import { MAX_FRAME_GAP_MS, REPLAY_PACE_NS_PER_SEC, advance, clampSpeed, effectiveLoop, playFrom, type PlayheadState } from './playhead.ts';

const s0: PlayheadState = { startNs: 1000, endNs: 101_000, playheadNs: 1000, playing: true, speed: 1 };
const nsPerMs = REPLAY_PACE_NS_PER_SEC / 1000;

describe('playhead', () => {
  it('advances speed × pace × wall time', () => {
    expect(advance(s0, 10, null).playheadNs).toBe(1000 + 10 * nsPerMs);
    expect(advance({ ...s0, speed: 2.5 }, 10, null).playheadNs).toBe(1000 + 25 * nsPerMs);
    expect(advance({ ...s0, playing: false }, 10, null)).toEqual({ ...s0, playing: false });
  });

  it('caps a long frame gap so a background tab does not jump', () => {
    expect(advance({ ...s0, endNs: 1e12 }, 10_000, null).playheadNs).toBe(1000 + MAX_FRAME_GAP_MS * nsPerMs);
  });

  it('stops at the end', () => {
    const s = advance({ ...s0, speed: 100 }, 100, null);
    expect(s).toMatchObject({ playheadNs: 101_000, playing: false });
  });

  it('wraps inside a loop and enters it from outside', () => {
    const loop = { fromNs: 10_000, toNs: 20_000 };
    // From outside the loop: jumps in at its start.
    expect(advance(s0, 1, loop).playheadNs).toBe(10_000);
    // 1 ms at 1× = 2000 ns: 19_000 → 21_000 wraps to 11_000.
    expect(advance({ ...s0, playheadNs: 19_000 }, 1, loop).playheadNs).toBe(11_000);
    expect(advance({ ...s0, playheadNs: 19_000 }, 1, loop).playing).toBe(true);
    expect(advance({ ...s0, playheadNs: 12_000 }, 1, loop).playheadNs).toBe(14_000);
  });

  it('clips a loop to the file and ignores an empty one', () => {
    expect(effectiveLoop(s0, { fromNs: 0, toNs: 5000 })).toEqual({ fromNs: 1000, toNs: 5000 });
    expect(effectiveLoop(s0, { fromNs: 5000, toNs: 5000 })).toBeNull();
    expect(effectiveLoop(s0, { fromNs: 200_000, toNs: 300_000 })).toBeNull();
    expect(effectiveLoop(s0, null)).toBeNull();
  });

  it('play restarts after the end, and starts a loop at its start', () => {
    expect(playFrom({ ...s0, playheadNs: 101_000 }, null)).toBe(1000);
    expect(playFrom({ ...s0, playheadNs: 5000 }, null)).toBe(5000);
    expect(playFrom({ ...s0, playheadNs: 5000 }, { fromNs: 10_000, toNs: 20_000 })).toBe(10_000);
    expect(playFrom({ ...s0, playheadNs: 15_000 }, { fromNs: 10_000, toNs: 20_000 })).toBe(15_000);
  });

  it('clamps speed to 0.1×–100×', () => {
    expect(clampSpeed(0.01)).toBe(0.1);
    expect(clampSpeed(1000)).toBe(100);
    expect(clampSpeed(Number.NaN)).toBe(1);
    expect(clampSpeed(5)).toBe(5);
  });
});
