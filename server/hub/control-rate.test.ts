// The control-message token bucket, with a stepped clock: what a flooding client gets.
import { describe, expect, it } from 'vitest';
import { ControlRateLimit, type ControlRateOptions } from './control-rate.ts';

const opts: ControlRateOptions = { perSecond: 50, burst: 100, cutOffAfterMs: 5000, cutOffAfterDropped: 1000 };
const takeN = (l: ControlRateLimit, n: number, nowMs: number) => Array.from({ length: n }, () => l.take(nowMs));

describe('ControlRateLimit', () => {
  it('takes a burst of 100 at once, then drops, telling the client once a second', () => {
    const l = new ControlRateLimit(opts, 0);
    expect(takeN(l, 100, 0).every((v) => v === 'accept')).toBe(true);
    expect(l.take(0)).toBe('drop_tell');
    expect(l.report()).toEqual({ droppedSinceTold: 1, droppedInEpisode: 1 });
    // 10 ms later: 0.5 token, still empty; no second error within the second.
    expect(takeN(l, 9, 10)).toEqual(Array(9).fill('drop'));
    expect(l.take(999)).toBe('accept'); // 999 ms × 50/s = 49.95 tokens refilled
    expect(takeN(l, 48, 999)).toEqual(Array(48).fill('accept')); // 0.95 left
    expect(l.take(1000)).toBe('accept'); // + 0.05 in 1 ms: exactly 1
    expect(l.take(1000)).toBe('drop_tell'); // empty, and 1 s after the last error: told again
    expect(l.report()).toEqual({ droppedSinceTold: 10, droppedInEpisode: 11 });
  });

  it('refills at 50 per second, never above the burst', () => {
    const l = new ControlRateLimit(opts, 0);
    takeN(l, 100, 0);
    const afterTwoSeconds = takeN(l, 101, 2000); // 100 refilled, capped at the burst
    expect(afterTwoSeconds.filter((v) => v === 'accept')).toHaveLength(100);
    const afterTenSeconds = takeN(l, 150, 12_000);
    expect(afterTenSeconds.filter((v) => v === 'accept')).toHaveLength(100);
  });

  it('cuts off a fast flood after 1000 drops in one episode', () => {
    const l = new ControlRateLimit(opts, 0);
    takeN(l, 100, 0);
    const verdicts = takeN(l, 1001, 1);
    expect(verdicts.slice(0, 1000).includes('cut_off')).toBe(false);
    expect(verdicts[1000]).toBe('cut_off'); // the 1001st drop
  });

  it('cuts off a client that stays just over the rate for 5 s, not one that stops in time', () => {
    // 60 messages/s: 10 over the refill each second, a drop every 100 ms once the burst is spent.
    const run = (seconds: number): string[] => {
      const l = new ControlRateLimit(opts, 0);
      takeN(l, 100, 0);
      const out: string[] = [];
      for (let t = 0; t <= seconds * 1000; t += 1000 / 60) out.push(l.take(t));
      return out;
    };
    expect(run(4).includes('cut_off')).toBe(false);
    expect(run(6).includes('cut_off')).toBe(true);
  });

  it('a quiet second ends an episode: a client that floods now and then is not cut off', () => {
    const l = new ControlRateLimit(opts, 0);
    const verdicts: string[] = [];
    // Every 3 s a burst of 300: 100 or so accepted, the rest dropped, then quiet.
    for (let k = 0; k < 10; k++) verdicts.push(...takeN(l, 300, k * 3000));
    expect(verdicts.includes('cut_off')).toBe(false);
    expect(verdicts.filter((v) => v === 'accept')).toHaveLength(1000); // 100 per burst: 3 s refill 150, capped at 100
  });
});
