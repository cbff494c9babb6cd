import { describe, expect, it, vi } from 'vitest';
import { parseSize } from './mount.ts';
import { main } from '../cli.ts';

describe('fusescope mount arguments', () => {
  it('reads --mkfs sizes in bytes, K/M/G with or without iB', () => {
    expect(parseSize('65536')).toBe(65536);
    expect(parseSize('64M')).toBe(64 * 1024 * 1024);
    expect(parseSize('1GiB')).toBe(1024 ** 3);
    expect(parseSize('512k')).toBe(512 * 1024);
    expect(() => parseSize('lots')).toThrow(/not a size/);
  });

  it('refuses a bad policy, a missing DIR and --cleanup without one DIR with exit 2 (nothing mounted)', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await main(['mount', '--policy', 'inode', 'img', '/tmp/x'])).toBe(2);
      expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/--policy must be per-path or ino/);
      expect(await main(['mount', 'img'])).toBe(2);
      expect(await main(['mount', '--cleanup'])).toBe(2);
    } finally {
      err.mockRestore();
    }
  });
});
