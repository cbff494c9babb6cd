import { describe, expect, it } from 'vitest';
import { BlockAllocator, ExtentMap } from './extents.ts';

describe('ExtentMap', () => {
  it('merges an insert with neighbours contiguous on disk and in state, not with others', () => {
    const m = new ExtentMap();
    m.insert({ fileBlock: 0, blocks: 4, diskBlock: 100, unwritten: false });
    m.insert({ fileBlock: 4, blocks: 2, diskBlock: 104, unwritten: false }); // contiguous: merges
    m.insert({ fileBlock: 6, blocks: 2, diskBlock: 200, unwritten: false }); // disk jump: separate
    m.insert({ fileBlock: 8, blocks: 2, diskBlock: 202, unwritten: true }); // state differs: separate
    expect(m.toArray()).toEqual([
      { fileBlock: 0, blocks: 6, diskBlock: 100, unwritten: false },
      { fileBlock: 6, blocks: 2, diskBlock: 200, unwritten: false },
      { fileBlock: 8, blocks: 2, diskBlock: 202, unwritten: true },
    ]);
    expect(() => m.insert({ fileBlock: 5, blocks: 2, diskBlock: 500, unwritten: false })).toThrow(/overlaps/);
  });

  it('reports holes, written and unwritten pieces with their disk blocks', () => {
    const m = new ExtentMap([
      { fileBlock: 2, blocks: 3, diskBlock: 50, unwritten: false },
      { fileBlock: 8, blocks: 4, diskBlock: 90, unwritten: true },
    ]);
    expect(m.pieces(0, 12)).toEqual([
      { kind: 'hole', fileBlock: 0, blocks: 2 },
      { kind: 'written', fileBlock: 2, blocks: 3, diskBlock: 50 },
      { kind: 'hole', fileBlock: 5, blocks: 3 },
      { kind: 'unwritten', fileBlock: 8, blocks: 4, diskBlock: 90 },
    ]);
    // A window starting inside an extent: the disk block moves with it.
    expect(m.pieces(3, 7)).toEqual([
      { kind: 'written', fileBlock: 3, blocks: 2, diskBlock: 51 },
      { kind: 'hole', fileBlock: 5, blocks: 3 },
      { kind: 'unwritten', fileBlock: 8, blocks: 2, diskBlock: 90 },
    ]);
  });

  it('converting the middle of an unwritten extent splits it in three; converting the rest merges back', () => {
    const m = new ExtentMap([{ fileBlock: 0, blocks: 10, diskBlock: 1000, unwritten: true }]);
    const seq0 = m.seq;
    expect(m.convert(4, 2)).toBe(2);
    expect(m.toArray()).toEqual([
      { fileBlock: 0, blocks: 4, diskBlock: 1000, unwritten: true },
      { fileBlock: 4, blocks: 2, diskBlock: 1004, unwritten: false },
      { fileBlock: 6, blocks: 4, diskBlock: 1006, unwritten: true },
    ]);
    expect(m.seq).toBeGreaterThan(seq0); // the cookie moved: mappings handed out before are stale
    expect(m.convert(0, 4)).toBe(4);
    expect(m.convert(6, 4)).toBe(4);
    expect(m.toArray()).toEqual([{ fileBlock: 0, blocks: 10, diskBlock: 1000, unwritten: false }]);
    const seq1 = m.seq;
    expect(m.convert(0, 10)).toBe(0); // nothing unwritten left: no change, no new cookie
    expect(m.seq).toBe(seq1);
  });

  it('remove (truncate/punch) splits at the edges and returns the disk runs freed', () => {
    const m = new ExtentMap([
      { fileBlock: 0, blocks: 4, diskBlock: 10, unwritten: false },
      { fileBlock: 6, blocks: 6, diskBlock: 40, unwritten: true },
    ]);
    expect(m.remove(2, 6)).toEqual([{ diskBlock: 12, blocks: 2 }, { diskBlock: 40, blocks: 2 }]);
    expect(m.toArray()).toEqual([
      { fileBlock: 0, blocks: 2, diskBlock: 10, unwritten: false },
      { fileBlock: 8, blocks: 4, diskBlock: 42, unwritten: true },
    ]);
    expect(m.remove(1, Infinity)).toEqual([{ diskBlock: 11, blocks: 1 }, { diskBlock: 42, blocks: 4 }]);
    expect(m.allocatedBlocks()).toBe(1);
  });
});

describe('BlockAllocator', () => {
  it('allocates first-fit from the goal, in runs around used blocks, and refuses more than is free', () => {
    const a = new BlockAllocator(16);
    a.reserve(0, 3); // metadata
    a.reserve(6, 1);
    expect(a.free).toBe(12);
    expect(a.allocate(5, 0)).toEqual([{ diskBlock: 3, blocks: 3 }, { diskBlock: 7, blocks: 2 }]);
    expect(a.free).toBe(7);
    expect(a.allocate(8)).toBeNull();
    expect(a.free).toBe(7);
    // Wraps past the end back to the start.
    a.release({ diskBlock: 3, blocks: 2 });
    expect(a.allocate(9, 12)).toEqual([{ diskBlock: 12, blocks: 4 }, { diskBlock: 3, blocks: 2 }, { diskBlock: 9, blocks: 3 }]);
    expect(a.free).toBe(0);
    expect(() => a.release({ diskBlock: 1, blocks: 1 })).not.toThrow();
    expect(() => a.release({ diskBlock: 1, blocks: 1 })).toThrow(/freed twice/);
  });

  it('finds a contiguous run only where one exists', () => {
    const a = new BlockAllocator(10);
    a.reserve(2, 1);
    a.reserve(6, 1);
    expect(a.allocateContiguous(4)).toBeNull(); // free runs are 2, 3 and 3 long
    expect(a.allocateContiguous(3)).toEqual({ diskBlock: 3, blocks: 3 });
  });
});
