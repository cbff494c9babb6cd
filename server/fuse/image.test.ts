import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLOCK_BYTES, Errno, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, ImageFs, ROOT_INO, S_IFDIR, S_IFREG } from './image.ts';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function freshImage(sizeBytes = 4 << 20): string {
  const d = mkdtempSync(join(tmpdir(), 'fusescope-image-'));
  dirs.push(d);
  const path = join(d, 'fs.img');
  ImageFs.mkfs(path, sizeBytes);
  return path;
}

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

describe('ImageFs', () => {
  it('keeps files, directories, hardlinks and data across a close and reopen', () => {
    const path = freshImage();
    let fs = ImageFs.open(path);
    const dir = fs.create(ROOT_INO, 'd1', S_IFDIR | 0o755, 0, 0);
    const file = fs.create(dir.ino, 'file', S_IFREG | 0o644, 0, 0);
    fs.write(file.ino, 100, Buffer.from('hello'));
    fs.link(file.ino, ROOT_INO, 'alias');
    fs.close();

    fs = ImageFs.open(path);
    expect(fs.lookup(ROOT_INO, 'd1')).toBe(dir.ino);
    expect(fs.lookup(ROOT_INO, 'alias')).toBe(file.ino);
    const again = fs.inode(file.ino);
    expect(again.nlink).toBe(2);
    expect(again.sizeBytes).toBe(105);
    expect(fs.inode(ROOT_INO).nlink).toBe(3); // ".", "..", and d1's ".."
    const r = fs.read(file.ino, 98, 10);
    expect(r.data.length).toBe(7); // short at EOF
    expect([...r.data]).toEqual([0, 0, ...Buffer.from('hello')]);
    fs.close();
  });

  it('fallocate allocates unwritten space that reads as zeros; a write converts only what it covers', () => {
    const path = freshImage();
    const fs = ImageFs.open(path);
    const f = fs.create(ROOT_INO, 'f', S_IFREG | 0o644, 0, 0);
    const freeBefore = fs.statfs().freeBlocks;
    fs.fallocate(f.ino, 0, 4 * BLOCK_BYTES, 0);
    expect(fs.inode(f.ino).sizeBytes).toBe(4 * BLOCK_BYTES);
    expect(fs.statfs().freeBlocks).toBe(freeBefore - 4);
    const before = fs.read(f.ino, 0, 4 * BLOCK_BYTES);
    expect(before.data.every((b) => b === 0)).toBe(true);
    expect(before.mapping.map((p) => p.kind)).toEqual(['unwritten']);

    // 100 bytes in the middle of block 1: block 1 becomes written (rest of it zeroed), 0/2-3 stay unwritten.
    const w = fs.write(f.ino, BLOCK_BYTES + 10, bytes(100, 7));
    expect(w.mapping.map((p) => [p.kind, p.fileBlock, p.blocks])).toEqual([['unwritten', 1, 1]]);
    expect(w.convertedBlocks).toBe(1);
    expect(fs.inode(f.ino).extents.toArray().map((e) => [e.fileBlock, e.blocks, e.unwritten])).toEqual([
      [0, 1, true], [1, 1, false], [2, 2, true],
    ]);
    const after = fs.read(f.ino, BLOCK_BYTES, BLOCK_BYTES).data;
    expect(after.subarray(0, 10).every((b) => b === 0)).toBe(true);
    expect(after.subarray(10, 110).every((b) => b === 7)).toBe(true);
    expect(after.subarray(110).every((b) => b === 0)).toBe(true);
    // KEEP_SIZE past EOF allocates without growing the file.
    fs.fallocate(f.ino, 4 * BLOCK_BYTES, BLOCK_BYTES, FALLOC_FL_KEEP_SIZE);
    expect(fs.inode(f.ino).sizeBytes).toBe(4 * BLOCK_BYTES);
    expect(fs.statfs().freeBlocks).toBe(freeBefore - 5);
    fs.close();
  });

  it('a write into a hole reports the mapping allocated for it as unwritten, then stores it written', () => {
    const fs = ImageFs.open(freshImage());
    const f = fs.create(ROOT_INO, 'f', S_IFREG | 0o644, 0, 0);
    const w = fs.write(f.ino, 0, bytes(2 * BLOCK_BYTES, 1));
    expect(w.mapping.map((p) => [p.kind, p.fileBlock, p.blocks])).toEqual([['unwritten', 0, 2]]);
    expect(w.convertedBlocks).toBe(2);
    expect(w.sizeBeforeBytes).toBe(0);
    expect(w.sizeAfterBytes).toBe(2 * BLOCK_BYTES);
    // Overwriting written blocks: the mapping is written, nothing converted, the cookie unchanged after.
    const seq = fs.inode(f.ino).extents.seq;
    const o = fs.write(f.ino, 5, bytes(10, 2));
    expect(o.mapping.map((p) => p.kind)).toEqual(['written']);
    expect(o.convertedBlocks).toBe(0);
    expect(o.cookie).toBe(seq);
    fs.close();
  });

  it('truncate frees blocks past the end and zeroes the tail so growing again reads zeros', () => {
    const fs = ImageFs.open(freshImage());
    const f = fs.create(ROOT_INO, 'f', S_IFREG | 0o644, 0, 0);
    fs.write(f.ino, 0, bytes(3 * BLOCK_BYTES, 9));
    const free = fs.statfs().freeBlocks;
    fs.truncate(f.ino, 100);
    expect(fs.statfs().freeBlocks).toBe(free + 2);
    fs.truncate(f.ino, 200);
    const d = fs.read(f.ino, 0, 1000).data;
    expect(d.length).toBe(200);
    expect(d.subarray(0, 100).every((b) => b === 9)).toBe(true);
    expect(d.subarray(100).every((b) => b === 0)).toBe(true);
    fs.close();
  });

  it('punches a hole: whole blocks freed, partial edges zeroed', () => {
    const fs = ImageFs.open(freshImage());
    const f = fs.create(ROOT_INO, 'f', S_IFREG | 0o644, 0, 0);
    fs.write(f.ino, 0, bytes(4 * BLOCK_BYTES, 5));
    const free = fs.statfs().freeBlocks;
    fs.fallocate(f.ino, BLOCK_BYTES - 10, 2 * BLOCK_BYTES + 20, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE);
    expect(fs.statfs().freeBlocks).toBe(free + 2); // blocks 1 and 2
    const d = fs.read(f.ino, 0, 4 * BLOCK_BYTES).data;
    expect(d[BLOCK_BYTES - 11]).toBe(5);
    expect(d.subarray(BLOCK_BYTES - 10, 3 * BLOCK_BYTES + 10).every((b) => b === 0)).toBe(true);
    expect(d[3 * BLOCK_BYTES + 10]).toBe(5);
    fs.close();
  });

  it('an unlinked file lives while the kernel holds a reference, and is freed after (or at the next open)', () => {
    const path = freshImage();
    let fs = ImageFs.open(path);
    // 4 MiB: 1024 blocks, 256 inode records, record 0 unused: 255 files of which the root is one.
    expect([fs.statfs().files, fs.statfs().freeFiles]).toEqual([255, 254]);
    const f = fs.create(ROOT_INO, 'f', S_IFREG | 0o644, 0, 0);
    expect(fs.statfs().freeFiles).toBe(253);
    fs.write(f.ino, 0, bytes(BLOCK_BYTES, 1));
    const free = fs.statfs().freeBlocks;
    fs.ref(f.ino);
    fs.unlink(ROOT_INO, 'f');
    expect(fs.read(f.ino, 0, 1).data[0]).toBe(1);
    expect(fs.statfs().freeBlocks).toBe(free);
    fs.unref(f.ino);
    expect(fs.statfs().freeBlocks).toBe(free + 1);
    expect(fs.statfs().freeFiles).toBe(254);
    expect(() => fs.inode(f.ino)).toThrow();

    // A server killed while holding an unlinked file: the next open frees it.
    const g = fs.create(ROOT_INO, 'g', S_IFREG | 0o644, 0, 0);
    fs.write(g.ino, 0, bytes(BLOCK_BYTES, 1));
    fs.ref(g.ino);
    fs.unlink(ROOT_INO, 'g');
    fs.close();
    fs = ImageFs.open(path);
    expect(fs.statfs().freeBlocks).toBe(free + 1);
    expect(fs.statfs().freeFiles).toBe(254);
    fs.close();
  });

  it('keeps more extents than fit in the inode record across a reopen', () => {
    const path = freshImage();
    let fs = ImageFs.open(path);
    const f = fs.create(ROOT_INO, 'f', S_IFREG | 0o644, 0, 0);
    // Every other block: 40 extents (file blocks not contiguous), each block its own fill.
    for (let k = 0; k < 40; k++) fs.write(f.ino, 2 * k * BLOCK_BYTES, bytes(BLOCK_BYTES, k + 1));
    fs.flush();
    expect(fs.inode(f.ino).extents.count).toBe(40);
    fs.close();
    fs = ImageFs.open(path);
    expect(fs.inode(f.ino).extents.count).toBe(40);
    for (const k of [0, 9, 10, 39]) expect(fs.read(f.ino, 2 * k * BLOCK_BYTES, 1).data[0]).toBe(k + 1);
    expect(fs.read(f.ino, BLOCK_BYTES, 1).data[0]).toBe(0);
    fs.close();
  });

  it('rename replaces a target, refuses a directory moving into itself and NOREPLACE over an existing name', () => {
    const fs = ImageFs.open(freshImage());
    const a = fs.create(ROOT_INO, 'a', S_IFREG | 0o644, 0, 0);
    const b = fs.create(ROOT_INO, 'b', S_IFREG | 0o644, 0, 0);
    const d = fs.create(ROOT_INO, 'd', S_IFDIR | 0o755, 0, 0);
    const sub = fs.create(d.ino, 'sub', S_IFDIR | 0o755, 0, 0);
    expect(() => fs.rename(ROOT_INO, 'a', ROOT_INO, 'b', 1)).toThrow(expect.objectContaining({ errno: Errno.EEXIST }));
    expect(fs.rename(ROOT_INO, 'a', ROOT_INO, 'b', 0)).toBe(b.ino);
    expect(fs.lookup(ROOT_INO, 'b')).toBe(a.ino);
    expect(fs.lookup(ROOT_INO, 'a')).toBeUndefined();
    expect(() => fs.rename(ROOT_INO, 'd', sub.ino, 'x', 0)).toThrow(expect.objectContaining({ errno: Errno.EINVAL }));
    fs.rename(d.ino, 'sub', ROOT_INO, 'sub', 0);
    expect(fs.inode(d.ino).nlink).toBe(2);
    expect(fs.inode(sub.ino).parent).toBe(ROOT_INO);
    expect(() => fs.rmdir(ROOT_INO, 'b')).toThrow(expect.objectContaining({ errno: Errno.ENOTDIR }));
    fs.close();
  });
});
