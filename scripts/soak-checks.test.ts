import { describe, expect, it } from 'vitest';
import { RowDigest, checkFlat, checkPage, checkRecording, slope } from './soak-checks.ts';

describe('soak verdicts', () => {
  it('the row digest depends on every row and their order', () => {
    const d = (kinds: number[], ts: number[]): string => {
      const x = new RowDigest();
      x.add(kinds, ts, 0, kinds.length);
      return x.hex;
    };
    const base = d([1, 2, 3], [10, 20, 30]);
    expect(d([1, 2, 3], [10, 20, 30])).toBe(base);
    expect(d([1, 3, 2], [10, 20, 30])).not.toBe(base);
    expect(d([1, 2, 3], [10, 20, 31])).not.toBe(base);
    expect(d([1, 2], [10, 20])).not.toBe(base);
    // In pieces: the same as at once.
    const x = new RowDigest();
    x.add([1, 2, 3], [10, 20, 30], 0, 1);
    x.add([1, 2, 3], [10, 20, 30], 1, 3);
    expect([x.hex, x.rows]).toEqual([base, 3]);
  });

  it('recording: exactly the events produced, or it fails saying how', () => {
    expect(checkRecording({ rows: 5, hex: 'aa' }, { files: 1, rows: 5, hex: 'aa', damage: null }).ok).toBe(true);
    expect(checkRecording({ rows: 5, hex: 'aa' }, { files: 1, rows: 4, hex: 'aa', damage: null })).toEqual({ ok: false, what: 'recording: 4 events read back, 5 produced (-1)' });
    expect(checkRecording({ rows: 5, hex: 'aa' }, { files: 1, rows: 5, hex: 'ab', damage: null }).ok).toBe(false);
    expect(checkRecording({ rows: 5, hex: 'aa' }, { files: 2, rows: 5, hex: 'aa', damage: null }).ok).toBe(false);
    expect(checkRecording({ rows: 5, hex: 'aa' }, { files: 1, rows: 5, hex: 'aa', damage: 'x' }).ok).toBe(false);
  });

  it('page: every event, or gaps that count exactly what is missing', () => {
    expect(checkPage(1000, { received: 1000, gaps: 0, missed: 0 })).toEqual({ ok: true, what: 'page: received every event (1000)' });
    // 2 gap rows among 902 received: 900 events + 100 missed = 1000.
    expect(checkPage(1000, { received: 902, gaps: 2, missed: 100 }).ok).toBe(true);
    expect(checkPage(1000, { received: 902, gaps: 2, missed: 99 }).ok).toBe(false);
    expect(checkPage(1000, { received: 999, gaps: 0, missed: 0 }).ok).toBe(false);
  });

  it('memory: a least-squares line over the second half, against max(16 MiB, 10 % of the mean)', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBe(2);
    const MiB = 2 ** 20;
    // 100 MiB mean (bound 16 MiB); run 100 s, second half 50..100 s.
    const flat = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100].map((t) => ({ elapsedS: t, bytes: (t < 50 ? 40 + t : 100 + (t % 20 === 0 ? 3 : -3)) * MiB }));
    const f = checkFlat('server RSS', flat, 100);
    expect(f.ok).toBe(true);
    expect(f.boundBytes).toBe(16 * MiB);
    // 0.4 MiB/s from 50 to 100 s: +20 MiB fitted > 16 MiB.
    const grows = [50, 60, 70, 80, 90, 100].map((t) => ({ elapsedS: t, bytes: 100 * MiB + (t - 50) * 0.4 * MiB }));
    const g = checkFlat('server RSS', grows, 100);
    expect(g.ok).toBe(false);
    expect(g.growthBytes / MiB).toBeCloseTo(20, 6);
    // 1 GiB mean: the bound is 10 % of it (~103 MiB); +20 MiB is flat there.
    expect(checkFlat('page', grows.map((s) => ({ ...s, bytes: s.bytes + 924 * MiB })), 100).ok).toBe(true);
    expect(checkFlat('x', grows.slice(0, 2), 100).ok).toBe(false);
  });
});
