import { describe, expect, it } from 'vitest';
import type { Finding } from '../trace/checks/types.ts';
import { TraceStore } from '../trace/store.ts';
import { ev } from '../trace/testing/events.ts';
import { findingFocus } from './finding-focus.ts';

const finding = (rule: string, tsNs: number, durNs: number, evidence: number[]): Finding =>
  ({ rule, severity: 'error', tsNs, durNs, explanation: '', evidence, figures: {} }) as unknown as Finding;

describe('what showing a finding zooms to', () => {
  const s = new TraceStore();
  const a = { lock: 'i_rwsem', mode: 'W', nodeId: 4, ino: 12 } as const;
  const b = { lock: 'i_rwsem', mode: 'W', nodeId: 5, ino: 12 } as const;
  s.append(ev('inode_iomap', 1_000, 'mount/1', { nodeId: 4, ino: 12, inodeFlags: 1 })); // 0: far before
  s.append(ev('lock_acquire', 50_000_000, 'wA/1', a)); // 1
  s.append(ev('lock_acquire', 50_001_000, 'wB/2', b)); // 2
  s.append(ev('lock_release', 50_003_000, 'wA/1', a)); // 3
  s.append(ev('lock_release', 50_004_000, 'wB/2', b)); // 4
  s.append(ev('cache_lookup', 50_300_000, 'wB/2', { nodeId: 5, ino: 12 })); // 5: a state row near by

  it('the overlap and the two activities whole, with a 15 % margin; a row far away, or a state row, is not zoomed to', () => {
    const z = findingFocus(finding('alias-race', 50_001_000, 2_000, [0, 1, 2, 3, 4, 5]), s, 0);
    // Near rows span 50 000 000 … 50 004 000 (4 µs); margin 600 ns each side.
    expect(z.fromNs).toBe(50_000_000 - 600);
    expect(z.toNs).toBe(50_004_000 + 600);
    expect(z.tasks).toEqual(['mount/1', 'wA/1', 'wB/2']);
    expect(z.row).toBe(1);
    // With the state rows first among the evidence, the first activity is still the one selected.
    expect(findingFocus(finding('alias-race', 50_001_000, 2_000, [5, 2, 4]), s, 0).row).toBe(2);
    expect(z.tab).toBe('aliases');
  });

  it('an instant finding gets 200 µs around it; rows before rowBase (evicted) are skipped', () => {
    // Stream row 14 is store row 4 (wB's release) with 10 rows evicted.
    const z = findingFocus(finding('unpaired', 50_004_000, 0, [14]), s, 10);
    expect(z.fromNs).toBe(50_004_000 - 100_000);
    expect(z.toNs).toBe(50_004_000 + 100_000);
    expect(z.tasks).toEqual(['wB/2']);
    expect(z.row).toBe(4);
    expect(z.tab).toBeNull();
    // With wA's release (stream row 13 → 3) too, both rows are shown: 50 003 000 … 50 004 000 plus 150 ns each side.
    const two = findingFocus(finding('unpaired', 50_004_000, 0, [13, 14]), s, 10);
    expect([two.fromNs, two.toNs, two.row]).toEqual([50_002_850, 50_004_150, 3]);
    expect(findingFocus(finding('unpaired', 5, 0, [2]), s, 10).row).toBe(-1);
  });
});
