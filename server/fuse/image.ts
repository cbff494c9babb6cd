// The filesystem `fusescope mount` serves, stored in one image file (layout: docs/fuse-server.md):
//
//   block 0            superblock
//   bitmapStart…       block bitmap, one bit per block of the image (BlockAllocator)
//   inodeTableStart…   inode table: inodeCount records of 256 bytes; inode number i is record i
//                      (0 unused, 1 the root directory)
//   the rest           data: file extents, directory contents, extent-overflow runs
//
// Files keep extents (ExtentMap) that are written or *unwritten*: fallocate allocates unwritten
// space, reads of it return zeros, and a write allocates unwritten, writes the data and converts
// the range written — the order a fuse-iomap server's IOMAP_BEGIN / IOEND pair would drive.
// Metadata changes are collected in memory and written back by flush() (the session calls it after
// every request), so a remount sees the same files. Synchronous I/O on the image fd: the session
// answers one request at a time.

import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { BlockAllocator, ExtentMap, type DiskRun, type Extent, type Piece } from './extents.ts';

export const BLOCK_BYTES = 4096;
export const ROOT_INO = 1;
const MAGIC = 'FSCOPEFS';
const LAYOUT_VERSION = 1;
const INODE_BYTES = 256;
const EXTENT_BYTES = 16;
const INLINE_EXTENTS = 10;
const EXTENTS_AT = 96;
const MAX_NAME_BYTES = 255;
/** Extents index file blocks with u32. */
const MAX_FILE_BLOCKS = 2 ** 32 - 1;

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;

/** errno values (Linux x86/arm), the ones this filesystem answers. */
export const Errno = {
  EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EEXIST: 17, EXDEV: 18, ENOTDIR: 20, EISDIR: 21, EINVAL: 22,
  EFBIG: 27, ENOSPC: 28, EMLINK: 31, ENAMETOOLONG: 36, ENOSYS: 38, ENOTEMPTY: 39, EOPNOTSUPP: 95, EPROTO: 71,
} as const;

export class FsError extends Error {
  constructor(readonly errno: number, message: string) {
    super(message);
  }
}

/** fallocate(2) modes. */
export const FALLOC_FL_KEEP_SIZE = 1;
export const FALLOC_FL_PUNCH_HOLE = 2;

export interface Inode {
  readonly ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  sizeBytes: number;
  atimeSec: number; atimeNsec: number;
  mtimeSec: number; mtimeNsec: number;
  ctimeSec: number; ctimeNsec: number;
  generation: number;
  /** A directory's parent inode (for ".."); 0 for files. */
  parent: number;
  extents: ExtentMap;
  /** Where extents past the inline ten are stored. */
  overflow: DiskRun | null;
}

/** The write-side mapping of one WRITE: what a fuse-iomap server would answer to IOMAP_BEGIN(write). */
export interface WriteResult {
  /** Pieces of [first block, last block] after allocation, before conversion (no holes). */
  mapping: Piece[];
  /** The extent map's sequence when the mapping was taken (the validity cookie). */
  cookie: number;
  /** Unwritten blocks the write converted to written. */
  convertedBlocks: number;
  sizeBeforeBytes: number;
  sizeAfterBytes: number;
}

/**
 * Called around each piece of a read or write, in file order: `before` with the extent map's
 * sequence (the cookie), `after` once that piece's bytes are done (`bytes` of the request it covered).
 */
export interface PieceHooks {
  before(p: Piece, cookie: number): void;
  after(p: Piece, bytes: number): void;
}

export interface ReadResult {
  data: Buffer;
  /** Pieces of the blocks the read covered (the read mapping), empty at or past EOF. */
  mapping: Piece[];
  cookie: number;
}

export interface StatFs {
  blocks: number;
  freeBlocks: number;
  files: number;
  freeFiles: number;
  blockBytes: number;
  nameMaxBytes: number;
}

const isDir = (mode: number): boolean => (mode & S_IFMT) === S_IFDIR;

function nowTime(): { sec: number; nsec: number } {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

interface Superblock {
  totalBlocks: number;
  inodeCount: number;
  bitmapStart: number;
  bitmapBlocks: number;
  inodeTableStart: number;
  inodeTableBlocks: number;
  nextGeneration: number;
}

function writeSuper(sb: Superblock): Buffer {
  const b = Buffer.alloc(BLOCK_BYTES);
  b.write(MAGIC, 0, 'latin1');
  b.writeUInt32LE(LAYOUT_VERSION, 8);
  b.writeUInt32LE(BLOCK_BYTES, 12);
  b.writeUInt32LE(sb.totalBlocks, 16);
  b.writeUInt32LE(sb.inodeCount, 20);
  b.writeUInt32LE(sb.bitmapStart, 24);
  b.writeUInt32LE(sb.bitmapBlocks, 28);
  b.writeUInt32LE(sb.inodeTableStart, 32);
  b.writeUInt32LE(sb.inodeTableBlocks, 36);
  b.writeUInt32LE(sb.nextGeneration, 40);
  b.writeUInt32LE(ROOT_INO, 44);
  return b;
}

function readSuper(b: Buffer, path: string): Superblock {
  if (b.toString('latin1', 0, 8) !== MAGIC) throw new Error(`${path} is not a fusescope image (no ${MAGIC} magic); make one with --mkfs SIZE`);
  const version = b.readUInt32LE(8);
  if (version !== LAYOUT_VERSION) throw new Error(`${path}: image layout version ${version}, this fusescope reads ${LAYOUT_VERSION}`);
  if (b.readUInt32LE(12) !== BLOCK_BYTES) throw new Error(`${path}: block size ${b.readUInt32LE(12)}, expected ${BLOCK_BYTES}`);
  return {
    totalBlocks: b.readUInt32LE(16),
    inodeCount: b.readUInt32LE(20),
    bitmapStart: b.readUInt32LE(24),
    bitmapBlocks: b.readUInt32LE(28),
    inodeTableStart: b.readUInt32LE(32),
    inodeTableBlocks: b.readUInt32LE(36),
    nextGeneration: b.readUInt32LE(40),
  };
}

export class ImageFs {
  private readonly fd: number;
  private readonly sb: Superblock;
  readonly alloc: BlockAllocator;
  /** The whole inode table, in memory; dirty records are written back by flush(). */
  private readonly table: Buffer;
  private readonly inodes = new Map<number, Inode>();
  private readonly dirtyInodes = new Set<number>();
  /** Records zeroed in `table` (freed inodes) that still have to reach the image. */
  private readonly freedRecords = new Set<number>();
  private readonly dirs = new Map<number, Map<string, number>>();
  private readonly dirtyDirs = new Set<number>();
  /** Kernel references (lookup counts, open handles) per inode: an unlinked inode lives until 0. */
  private readonly refs = new Map<number, number>();
  private superDirty = false;
  /** Inodes in use (the root included), for statfs. */
  private usedInodes = 0;
  private nextInoHint = ROOT_INO + 1;

  /** Creates a fresh image of `sizeBytes` (rounded down to blocks) at `path`, replacing its contents. */
  static mkfs(path: string, sizeBytes: number): void {
    const totalBlocks = Math.floor(sizeBytes / BLOCK_BYTES);
    if (totalBlocks < 64) throw new Error(`--mkfs: ${sizeBytes} bytes is too small (at least ${64 * BLOCK_BYTES})`);
    if (totalBlocks > 2 ** 32 - 1) throw new Error('--mkfs: at most 16 TiB');
    const bitmapBlocks = Math.ceil(totalBlocks / 8 / BLOCK_BYTES);
    // One inode per 4 data blocks, at most 2^20: 256 B per 16 KiB of image.
    const inodeCount = Math.min(2 ** 20, Math.max(64, Math.floor(totalBlocks / 4)));
    const inodeTableBlocks = Math.ceil((inodeCount * INODE_BYTES) / BLOCK_BYTES);
    const sb: Superblock = { totalBlocks, inodeCount, bitmapStart: 1, bitmapBlocks, inodeTableStart: 1 + bitmapBlocks, inodeTableBlocks, nextGeneration: 1 };
    const fd = openSync(path, 'w+');
    try {
      ftruncateSync(fd, totalBlocks * BLOCK_BYTES);
      const alloc = new BlockAllocator(totalBlocks);
      alloc.reserve(0, 1 + bitmapBlocks + inodeTableBlocks);
      writeSync(fd, writeSuper(sb), 0, BLOCK_BYTES, 0);
      writeSync(fd, alloc.bits, 0, alloc.bits.length, BLOCK_BYTES * sb.bitmapStart);
      // The inode table is zero (all free) from ftruncate; then the root directory.
      const fs = new ImageFs(fd, sb, alloc, Buffer.alloc(inodeTableBlocks * BLOCK_BYTES));
      const t = nowTime();
      const root: Inode = {
        ino: ROOT_INO, mode: S_IFDIR | 0o755, nlink: 2, uid: 0, gid: 0, sizeBytes: 0,
        atimeSec: t.sec, atimeNsec: t.nsec, mtimeSec: t.sec, mtimeNsec: t.nsec, ctimeSec: t.sec, ctimeNsec: t.nsec,
        generation: fs.sb.nextGeneration++, parent: ROOT_INO, extents: new ExtentMap(), overflow: null,
      };
      fs.inodes.set(ROOT_INO, root);
      fs.dirs.set(ROOT_INO, new Map());
      fs.dirtyInodes.add(ROOT_INO);
      fs.dirtyDirs.add(ROOT_INO);
      fs.superDirty = true;
      fs.flush();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Opens an image made by mkfs; unlinked inodes a killed server left behind are freed. */
  static open(path: string): ImageFs {
    const fd = openSync(path, 'r+');
    try {
      const head = Buffer.alloc(BLOCK_BYTES);
      readSync(fd, head, 0, BLOCK_BYTES, 0);
      const sb = readSuper(head, path);
      if (fstatSync(fd).size < sb.totalBlocks * BLOCK_BYTES) throw new Error(`${path}: shorter than its superblock says`);
      const bits = Buffer.alloc(Math.ceil(sb.totalBlocks / 8));
      readSync(fd, bits, 0, bits.length, sb.bitmapStart * BLOCK_BYTES);
      const table = Buffer.alloc(sb.inodeTableBlocks * BLOCK_BYTES);
      readSync(fd, table, 0, table.length, sb.inodeTableStart * BLOCK_BYTES);
      const fs = new ImageFs(fd, sb, new BlockAllocator(sb.totalBlocks, bits), table);
      for (let ino = ROOT_INO; ino < sb.inodeCount; ino++) if (table.readUInt32LE(ino * INODE_BYTES) !== 0) fs.usedInodes++;
      fs.freeOrphans();
      fs.flush();
      return fs;
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private constructor(fd: number, sb: Superblock, alloc: BlockAllocator, table: Buffer) {
    this.fd = fd;
    this.sb = sb;
    this.alloc = alloc;
    this.table = table;
  }

  // ---- inodes ----------------------------------------------------------------------------------

  private recordAt(ino: number): number {
    return ino * INODE_BYTES;
  }

  /** The inode, or ENOENT when the number is free or out of range. */
  inode(ino: number): Inode {
    const cached = this.inodes.get(ino);
    if (cached) return cached;
    if (ino < ROOT_INO || ino >= this.sb.inodeCount) throw new FsError(Errno.ENOENT, `inode ${ino} out of range`);
    const at = this.recordAt(ino);
    const t = this.table;
    const mode = t.readUInt32LE(at);
    if (mode === 0) throw new FsError(Errno.ENOENT, `inode ${ino} is free`);
    const count = t.readUInt32LE(at + 68);
    const overflowBlock = t.readUInt32LE(at + 72), overflowBlocks = t.readUInt32LE(at + 76);
    const exts: Extent[] = [];
    const readExt = (b: Buffer, off: number): void => {
      exts.push({ fileBlock: b.readUInt32LE(off), blocks: b.readUInt32LE(off + 4), diskBlock: b.readUInt32LE(off + 8), unwritten: (b.readUInt32LE(off + 12) & 1) !== 0 });
    };
    for (let k = 0; k < Math.min(count, INLINE_EXTENTS); k++) readExt(t, at + EXTENTS_AT + k * EXTENT_BYTES);
    if (count > INLINE_EXTENTS) {
      const more = Buffer.alloc(overflowBlocks * BLOCK_BYTES);
      readSync(this.fd, more, 0, more.length, overflowBlock * BLOCK_BYTES);
      for (let k = 0; k < count - INLINE_EXTENTS; k++) readExt(more, k * EXTENT_BYTES);
    }
    const inode: Inode = {
      ino, mode,
      nlink: t.readUInt32LE(at + 4), uid: t.readUInt32LE(at + 8), gid: t.readUInt32LE(at + 12),
      sizeBytes: Number(t.readBigUInt64LE(at + 16)),
      atimeSec: Number(t.readBigUInt64LE(at + 24)), mtimeSec: Number(t.readBigUInt64LE(at + 32)), ctimeSec: Number(t.readBigUInt64LE(at + 40)),
      atimeNsec: t.readUInt32LE(at + 48), mtimeNsec: t.readUInt32LE(at + 52), ctimeNsec: t.readUInt32LE(at + 56),
      generation: t.readUInt32LE(at + 60), parent: t.readUInt32LE(at + 64),
      extents: new ExtentMap(exts),
      overflow: count > INLINE_EXTENTS ? { diskBlock: overflowBlock, blocks: overflowBlocks } : null,
    };
    this.inodes.set(ino, inode);
    return inode;
  }

  private storeInode(inode: Inode): void {
    const at = this.recordAt(inode.ino);
    const t = this.table;
    t.fill(0, at, at + INODE_BYTES);
    if (inode.mode === 0) return;
    const exts = inode.extents.toArray();
    // Extents past the inline ten go to a contiguous overflow run, re-allocated on each store.
    if (inode.overflow) { this.alloc.release(inode.overflow); inode.overflow = null; }
    if (exts.length > INLINE_EXTENTS) {
      const blocks = Math.ceil(((exts.length - INLINE_EXTENTS) * EXTENT_BYTES) / BLOCK_BYTES);
      const run = this.alloc.allocateContiguous(blocks);
      if (!run) throw new FsError(Errno.ENOSPC, `no room for inode ${inode.ino}'s ${exts.length} extents`);
      inode.overflow = run;
      const more = Buffer.alloc(blocks * BLOCK_BYTES);
      exts.slice(INLINE_EXTENTS).forEach((e, k) => writeExt(more, k * EXTENT_BYTES, e));
      writeSync(this.fd, more, 0, more.length, run.diskBlock * BLOCK_BYTES);
    }
    t.writeUInt32LE(inode.mode, at);
    t.writeUInt32LE(inode.nlink, at + 4);
    t.writeUInt32LE(inode.uid, at + 8);
    t.writeUInt32LE(inode.gid, at + 12);
    t.writeBigUInt64LE(BigInt(inode.sizeBytes), at + 16);
    t.writeBigUInt64LE(BigInt(inode.atimeSec), at + 24);
    t.writeBigUInt64LE(BigInt(inode.mtimeSec), at + 32);
    t.writeBigUInt64LE(BigInt(inode.ctimeSec), at + 40);
    t.writeUInt32LE(inode.atimeNsec, at + 48);
    t.writeUInt32LE(inode.mtimeNsec, at + 52);
    t.writeUInt32LE(inode.ctimeNsec, at + 56);
    t.writeUInt32LE(inode.generation, at + 60);
    t.writeUInt32LE(inode.parent, at + 64);
    t.writeUInt32LE(exts.length, at + 68);
    t.writeUInt32LE(inode.overflow?.diskBlock ?? 0, at + 72);
    t.writeUInt32LE(inode.overflow?.blocks ?? 0, at + 76);
    exts.slice(0, INLINE_EXTENTS).forEach((e, k) => writeExt(t, at + EXTENTS_AT + k * EXTENT_BYTES, e));
  }

  private touch(inode: Inode, what: { m?: boolean; c?: boolean; a?: boolean }): void {
    const t = nowTime();
    if (what.m) { inode.mtimeSec = t.sec; inode.mtimeNsec = t.nsec; }
    if (what.c) { inode.ctimeSec = t.sec; inode.ctimeNsec = t.nsec; }
    if (what.a) { inode.atimeSec = t.sec; inode.atimeNsec = t.nsec; }
    this.dirtyInodes.add(inode.ino);
  }

  private allocInode(mode: number, uid: number, gid: number, parent: number): Inode {
    for (let k = 0; k < this.sb.inodeCount; k++) {
      const ino = ROOT_INO + 1 + ((this.nextInoHint - ROOT_INO - 1 + k) % (this.sb.inodeCount - ROOT_INO - 1));
      if (this.table.readUInt32LE(this.recordAt(ino)) !== 0 || this.inodes.has(ino)) continue;
      this.nextInoHint = ino + 1;
      const t = nowTime();
      const inode: Inode = {
        ino, mode, nlink: isDir(mode) ? 2 : 1, uid, gid, sizeBytes: 0,
        atimeSec: t.sec, atimeNsec: t.nsec, mtimeSec: t.sec, mtimeNsec: t.nsec, ctimeSec: t.sec, ctimeNsec: t.nsec,
        generation: this.sb.nextGeneration++, parent: isDir(mode) ? parent : 0, extents: new ExtentMap(), overflow: null,
      };
      this.superDirty = true;
      this.usedInodes++;
      this.inodes.set(ino, inode);
      this.dirtyInodes.add(ino);
      if (isDir(mode)) { this.dirs.set(ino, new Map()); this.dirtyDirs.add(ino); }
      return inode;
    }
    throw new FsError(Errno.ENOSPC, 'no free inode');
  }

  /** Frees an inode with no links and no kernel references: its blocks and its record. */
  private maybeFree(inode: Inode): void {
    if (inode.nlink > 0 || (this.refs.get(inode.ino) ?? 0) > 0) return;
    for (const run of inode.extents.remove(0, MAX_FILE_BLOCKS)) this.alloc.release(run);
    if (inode.overflow) { this.alloc.release(inode.overflow); inode.overflow = null; }
    inode.mode = 0;
    this.usedInodes--;
    this.dirs.delete(inode.ino);
    this.dirtyDirs.delete(inode.ino);
    this.storeInode(inode);
    this.dirtyInodes.delete(inode.ino);
    this.freedRecords.add(inode.ino);
    this.inodes.delete(inode.ino);
  }

  private freeOrphans(): void {
    for (let ino = ROOT_INO + 1; ino < this.sb.inodeCount; ino++) {
      const at = this.recordAt(ino);
      if (this.table.readUInt32LE(at) !== 0 && this.table.readUInt32LE(at + 4) === 0) this.maybeFree(this.inode(ino));
    }
  }

  /** A kernel reference (a lookup count or an open handle) keeps an unlinked inode alive. */
  ref(ino: number): void {
    this.refs.set(ino, (this.refs.get(ino) ?? 0) + 1);
  }

  unref(ino: number): void {
    const n = (this.refs.get(ino) ?? 0) - 1;
    if (n > 0) { this.refs.set(ino, n); return; }
    this.refs.delete(ino);
    const inode = this.inodes.get(ino);
    if (inode) this.maybeFree(inode);
  }

  // ---- directories -----------------------------------------------------------------------------

  private dir(ino: number): Map<string, number> {
    const inode = this.inode(ino);
    if (!isDir(inode.mode)) throw new FsError(Errno.ENOTDIR, `inode ${ino} is not a directory`);
    let d = this.dirs.get(ino);
    if (d) return d;
    d = new Map();
    const raw = this.readRaw(inode, 0, inode.sizeBytes);
    for (let off = 0; off + 6 <= raw.length;) {
      const child = raw.readUInt32LE(off), len = raw.readUInt16LE(off + 4);
      d.set(raw.toString('utf8', off + 6, off + 6 + len), child);
      off += 6 + len;
    }
    this.dirs.set(ino, d);
    return d;
  }

  private storeDir(ino: number): void {
    const d = this.dirs.get(ino);
    if (!d) return;
    const parts: Buffer[] = [];
    for (const [name, child] of d) {
      const nb = Buffer.from(name, 'utf8');
      const head = Buffer.alloc(6);
      head.writeUInt32LE(child, 0);
      head.writeUInt16LE(nb.length, 4);
      parts.push(head, nb);
    }
    const bytes = Buffer.concat(parts);
    const inode = this.inode(ino);
    this.writeRaw(inode, 0, bytes);
    this.truncate(ino, bytes.length);
  }

  lookup(dirIno: number, name: string): number | undefined {
    return this.dir(dirIno).get(name);
  }

  /** The directory's entries (without "." and ".."), in insertion order. */
  entries(dirIno: number): Array<[string, number]> {
    return [...this.dir(dirIno)];
  }

  private checkName(name: string): void {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new FsError(Errno.EINVAL, `bad name '${name}'`);
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new FsError(Errno.ENAMETOOLONG, 'name too long');
  }

  private addEntry(dirIno: number, name: string, ino: number): void {
    const d = this.dir(dirIno);
    if (d.has(name)) throw new FsError(Errno.EEXIST, `${name} exists`);
    d.set(name, ino);
    this.dirtyDirs.add(dirIno);
    this.touch(this.inode(dirIno), { m: true, c: true });
  }

  private removeEntry(dirIno: number, name: string): void {
    this.dir(dirIno).delete(name);
    this.dirtyDirs.add(dirIno);
    this.touch(this.inode(dirIno), { m: true, c: true });
  }

  /** Creates a file or directory `name` in `dirIno`. */
  create(dirIno: number, name: string, mode: number, uid: number, gid: number): Inode {
    this.checkName(name);
    if (this.dir(dirIno).has(name)) throw new FsError(Errno.EEXIST, `${name} exists`);
    const type = mode & S_IFMT;
    if (type !== S_IFREG && type !== S_IFDIR) throw new FsError(Errno.EPERM, 'only regular files and directories');
    const inode = this.allocInode(mode, uid, gid, dirIno);
    this.addEntry(dirIno, name, inode.ino);
    if (isDir(mode)) { this.inode(dirIno).nlink++; }
    return inode;
  }

  link(ino: number, dirIno: number, name: string): Inode {
    this.checkName(name);
    const inode = this.inode(ino);
    if (isDir(inode.mode)) throw new FsError(Errno.EPERM, 'hard link to a directory');
    if (inode.nlink >= 65000) throw new FsError(Errno.EMLINK, 'too many links');
    this.addEntry(dirIno, name, ino);
    inode.nlink++;
    this.touch(inode, { c: true });
    return inode;
  }

  /** Removes a file's name; returns its inode number. */
  unlink(dirIno: number, name: string): number {
    const ino = this.lookup(dirIno, name);
    if (ino === undefined) throw new FsError(Errno.ENOENT, `${name} not found`);
    const inode = this.inode(ino);
    if (isDir(inode.mode)) throw new FsError(Errno.EISDIR, `${name} is a directory`);
    this.removeEntry(dirIno, name);
    inode.nlink--;
    this.touch(inode, { c: true });
    this.maybeFree(inode);
    return ino;
  }

  rmdir(dirIno: number, name: string): number {
    const ino = this.lookup(dirIno, name);
    if (ino === undefined) throw new FsError(Errno.ENOENT, `${name} not found`);
    const inode = this.inode(ino);
    if (!isDir(inode.mode)) throw new FsError(Errno.ENOTDIR, `${name} is not a directory`);
    if (this.dir(ino).size > 0) throw new FsError(Errno.ENOTEMPTY, `${name} is not empty`);
    this.removeEntry(dirIno, name);
    inode.nlink = 0;
    this.inode(dirIno).nlink--;
    this.maybeFree(inode);
    return ino;
  }

  /** rename(2) with RENAME_NOREPLACE (1); a replaced target loses a link. Returns the replaced inode, if any. */
  rename(oldDir: number, oldName: string, newDir: number, newName: string, flags: number): number | undefined {
    this.checkName(newName);
    if (flags & ~1) throw new FsError(Errno.EINVAL, `rename flags 0x${flags.toString(16)} not supported`);
    const ino = this.lookup(oldDir, oldName);
    if (ino === undefined) throw new FsError(Errno.ENOENT, `${oldName} not found`);
    const inode = this.inode(ino);
    const target = this.lookup(newDir, newName);
    if (target === ino) return undefined; // two names of one inode: nothing to do (POSIX)
    if (target !== undefined && flags & 1) throw new FsError(Errno.EEXIST, `${newName} exists`);
    if (isDir(inode.mode)) {
      // A directory may not move below itself.
      for (let p = newDir; ; p = this.inode(p).parent) {
        if (p === ino) throw new FsError(Errno.EINVAL, 'a directory cannot move into itself');
        if (p === ROOT_INO) break;
      }
    }
    if (target !== undefined) {
      const t = this.inode(target);
      if (isDir(t.mode)) {
        if (!isDir(inode.mode)) throw new FsError(Errno.EISDIR, `${newName} is a directory`);
        if (this.dir(target).size > 0) throw new FsError(Errno.ENOTEMPTY, `${newName} is not empty`);
        this.removeEntry(newDir, newName);
        t.nlink = 0;
        this.inode(newDir).nlink--;
      } else {
        if (isDir(inode.mode)) throw new FsError(Errno.ENOTDIR, `${newName} is not a directory`);
        this.removeEntry(newDir, newName);
        t.nlink--;
        this.touch(t, { c: true });
      }
      this.maybeFree(t);
    }
    this.removeEntry(oldDir, oldName);
    this.addEntry(newDir, newName, ino);
    if (isDir(inode.mode) && oldDir !== newDir) {
      inode.parent = newDir;
      this.inode(oldDir).nlink--;
      this.inode(newDir).nlink++;
    }
    this.touch(inode, { c: true });
    return target;
  }

  // ---- data ------------------------------------------------------------------------------------

  private pread(buf: Buffer, off: number, len: number, diskByte: number): void {
    let done = 0;
    while (done < len) {
      const n = readSync(this.fd, buf, off + done, len - done, diskByte + done);
      if (n === 0) throw new FsError(Errno.EIO, 'image shorter than expected');
      done += n;
    }
  }

  private pwrite(buf: Uint8Array, off: number, len: number, diskByte: number): void {
    let done = 0;
    while (done < len) done += writeSync(this.fd, buf, off + done, len - done, diskByte + done);
  }

  /** Fills the holes of [fileBlock, +blocks) with new extents in the given state. */
  private allocateRange(inode: Inode, fileBlock: number, blocks: number, unwritten: boolean): void {
    if (fileBlock + blocks > MAX_FILE_BLOCKS) throw new FsError(Errno.EFBIG, 'file too large');
    const holes = inode.extents.pieces(fileBlock, blocks).filter((p) => p.kind === 'hole');
    const need = holes.reduce((n, h) => n + h.blocks, 0);
    if (need === 0) return;
    // Goal: right after the block before the first hole, so a file grows contiguously.
    const before = holes[0]!.fileBlock > 0 ? inode.extents.pieces(holes[0]!.fileBlock - 1, 1)[0] : undefined;
    const goal = before && before.kind !== 'hole' ? before.diskBlock + 1 : this.sb.inodeTableStart + this.sb.inodeTableBlocks;
    const runs = this.alloc.allocate(need, goal);
    if (!runs) throw new FsError(Errno.ENOSPC, 'no space left');
    let r = 0, usedOfRun = 0;
    for (const h of holes) {
      let at = h.fileBlock, left = h.blocks;
      while (left > 0) {
        const run = runs[r]!;
        const take = Math.min(left, run.blocks - usedOfRun);
        inode.extents.insert({ fileBlock: at, blocks: take, diskBlock: run.diskBlock + usedOfRun, unwritten });
        at += take; left -= take; usedOfRun += take;
        if (usedOfRun === run.blocks) { r++; usedOfRun = 0; }
      }
    }
    this.dirtyInodes.add(inode.ino);
  }

  /** Bytes [offset, offset+len) of the file's blocks; holes and unwritten extents read as zeros. */
  private readRaw(inode: Inode, offset: number, len: number, hooks?: PieceHooks): Buffer {
    const out = Buffer.alloc(len);
    if (len === 0) return out;
    const first = Math.floor(offset / BLOCK_BYTES), last = Math.floor((offset + len - 1) / BLOCK_BYTES);
    for (const p of inode.extents.pieces(first, last - first + 1)) {
      const lo = Math.max(offset, p.fileBlock * BLOCK_BYTES), hi = Math.min(offset + len, (p.fileBlock + p.blocks) * BLOCK_BYTES);
      hooks?.before(p, inode.extents.seq);
      if (p.kind === 'written') this.pread(out, lo - offset, hi - lo, p.diskBlock * BLOCK_BYTES + (lo - p.fileBlock * BLOCK_BYTES));
      hooks?.after(p, hi - lo);
    }
    return out;
  }

  /**
   * Writes `data` at `offset` through the extent map: holes are allocated unwritten, the bytes go
   * to disk (an unwritten block's unwritten parts are zeroed first, as it reads as zeros), then the
   * blocks written are converted. Returns the mapping as it was between allocation and conversion.
   */
  private writeRaw(inode: Inode, offset: number, data: Uint8Array, hooks?: PieceHooks): WriteResult {
    const sizeBeforeBytes = inode.sizeBytes;
    if (data.length === 0) return { mapping: [], cookie: inode.extents.seq, convertedBlocks: 0, sizeBeforeBytes, sizeAfterBytes: sizeBeforeBytes };
    const end = offset + data.length;
    const first = Math.floor(offset / BLOCK_BYTES), last = Math.floor((end - 1) / BLOCK_BYTES);
    const blocks = last - first + 1;
    this.allocateRange(inode, first, blocks, true);
    const mapping = inode.extents.pieces(first, blocks);
    const cookie = inode.extents.seq;
    const zeros = Buffer.alloc(BLOCK_BYTES);
    for (const p of mapping) {
      if (p.kind === 'hole') continue; // allocateRange filled every hole
      const pStart = p.fileBlock * BLOCK_BYTES, pEnd = (p.fileBlock + p.blocks) * BLOCK_BYTES;
      const lo = Math.max(offset, pStart), hi = Math.min(end, pEnd);
      const disk = (fileByte: number): number => p.diskBlock * BLOCK_BYTES + (fileByte - pStart);
      hooks?.before(p, cookie);
      if (p.kind === 'unwritten') {
        const headStart = Math.floor(lo / BLOCK_BYTES) * BLOCK_BYTES;
        if (lo > headStart) this.pwrite(zeros, 0, lo - headStart, disk(headStart));
        const tailEnd = Math.min(pEnd, Math.ceil(hi / BLOCK_BYTES) * BLOCK_BYTES);
        if (hi < tailEnd) this.pwrite(zeros, 0, tailEnd - hi, disk(hi));
      }
      this.pwrite(data, lo - offset, hi - lo, disk(lo));
      hooks?.after(p, hi - lo);
    }
    const convertedBlocks = inode.extents.convert(first, blocks);
    if (end > inode.sizeBytes) inode.sizeBytes = end;
    this.dirtyInodes.add(inode.ino);
    return { mapping, cookie, convertedBlocks, sizeBeforeBytes, sizeAfterBytes: inode.sizeBytes };
  }

  read(ino: number, offset: number, len: number, hooks?: PieceHooks): ReadResult {
    const inode = this.inode(ino);
    if (isDir(inode.mode)) throw new FsError(Errno.EISDIR, 'read of a directory');
    const n = Math.max(0, Math.min(len, inode.sizeBytes - offset));
    const first = Math.floor(offset / BLOCK_BYTES);
    const mapping = n > 0 ? inode.extents.pieces(first, Math.floor((offset + n - 1) / BLOCK_BYTES) - first + 1) : [];
    return { data: this.readRaw(inode, offset, n, hooks), mapping, cookie: inode.extents.seq };
  }

  write(ino: number, offset: number, data: Uint8Array, hooks?: PieceHooks): WriteResult {
    const inode = this.inode(ino);
    if (isDir(inode.mode)) throw new FsError(Errno.EISDIR, 'write to a directory');
    const r = this.writeRaw(inode, offset, data, hooks);
    this.touch(inode, { m: true, c: true });
    return r;
  }

  /** truncate(2): blocks past the new end are freed and the last block's tail is zeroed. */
  truncate(ino: number, sizeBytes: number): void {
    const inode = this.inode(ino);
    if (sizeBytes > MAX_FILE_BLOCKS * BLOCK_BYTES) throw new FsError(Errno.EFBIG, 'file too large');
    if (sizeBytes < inode.sizeBytes) {
      const keepBlocks = Math.ceil(sizeBytes / BLOCK_BYTES);
      for (const run of inode.extents.remove(keepBlocks, MAX_FILE_BLOCKS)) this.alloc.release(run);
      this.zeroTail(inode, sizeBytes);
    }
    if (sizeBytes !== inode.sizeBytes) {
      inode.sizeBytes = sizeBytes;
      this.touch(inode, { m: true, c: true });
    }
  }

  /** Zeroes a written block from `fileByte` to its end, so growing the file later reads zeros there. */
  private zeroTail(inode: Inode, fileByte: number): void {
    const inBlock = fileByte % BLOCK_BYTES;
    if (inBlock === 0) return;
    const p = inode.extents.pieces(Math.floor(fileByte / BLOCK_BYTES), 1)[0]!;
    if (p.kind !== 'written') return;
    this.pwrite(Buffer.alloc(BLOCK_BYTES - inBlock), 0, BLOCK_BYTES - inBlock, p.diskBlock * BLOCK_BYTES + inBlock);
  }

  /** fallocate(2): mode 0 / KEEP_SIZE allocate unwritten extents; PUNCH_HOLE|KEEP_SIZE frees. */
  fallocate(ino: number, offset: number, len: number, mode: number): void {
    const inode = this.inode(ino);
    if (isDir(inode.mode)) throw new FsError(Errno.EISDIR, 'fallocate of a directory');
    if (len <= 0 || offset < 0) throw new FsError(Errno.EINVAL, 'bad range');
    const end = offset + len;
    if (mode === 0 || mode === FALLOC_FL_KEEP_SIZE) {
      const first = Math.floor(offset / BLOCK_BYTES);
      this.allocateRange(inode, first, Math.ceil(end / BLOCK_BYTES) - first, true);
      if (mode === 0 && end > inode.sizeBytes) inode.sizeBytes = end;
      this.touch(inode, { c: true, m: mode === 0 });
      return;
    }
    if (mode === (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)) {
      // Whole blocks inside the range are freed; the partial edges are zeroed in place.
      const firstWhole = Math.ceil(offset / BLOCK_BYTES), endWhole = Math.floor(end / BLOCK_BYTES);
      if (endWhole > firstWhole) for (const run of inode.extents.remove(firstWhole, endWhole - firstWhole)) this.alloc.release(run);
      const zeroEdge = (lo: number, hi: number): void => {
        if (hi <= lo) return;
        const p = inode.extents.pieces(Math.floor(lo / BLOCK_BYTES), 1)[0]!;
        if (p.kind === 'written') this.pwrite(Buffer.alloc(hi - lo), 0, hi - lo, p.diskBlock * BLOCK_BYTES + (lo % BLOCK_BYTES));
      };
      if (endWhole < firstWhole) zeroEdge(offset, end); // inside one block
      else {
        zeroEdge(offset, Math.min(end, firstWhole * BLOCK_BYTES));
        zeroEdge(Math.max(offset, endWhole * BLOCK_BYTES), end);
      }
      this.touch(inode, { m: true, c: true });
      return;
    }
    throw new FsError(Errno.EOPNOTSUPP, `fallocate mode 0x${mode.toString(16)} not supported`);
  }

  /** chmod / chown / utimens, applied from a SETATTR. */
  setattr(ino: number, set: { mode?: number; uid?: number; gid?: number; atime?: [number, number]; mtime?: [number, number]; ctime?: [number, number] }): void {
    const inode = this.inode(ino);
    if (set.mode !== undefined) inode.mode = (inode.mode & S_IFMT) | (set.mode & 0o7777);
    if (set.uid !== undefined) inode.uid = set.uid;
    if (set.gid !== undefined) inode.gid = set.gid;
    if (set.atime) [inode.atimeSec, inode.atimeNsec] = set.atime;
    if (set.mtime) [inode.mtimeSec, inode.mtimeNsec] = set.mtime;
    this.touch(inode, { c: true });
    if (set.ctime) [inode.ctimeSec, inode.ctimeNsec] = set.ctime;
  }

  statfs(): StatFs {
    return {
      blocks: this.sb.totalBlocks, freeBlocks: this.alloc.free, files: this.sb.inodeCount - 1, freeFiles: this.sb.inodeCount - 1 - this.usedInodes,
      blockBytes: BLOCK_BYTES, nameMaxBytes: MAX_NAME_BYTES,
    };
  }

  /** Writes back what changed: directories (their data), inode records, the bitmap, the superblock. */
  flush(): void {
    for (const ino of this.dirtyDirs) this.storeDir(ino);
    this.dirtyDirs.clear();
    if (this.dirtyInodes.size > 0 || this.freedRecords.size > 0) {
      for (const ino of this.dirtyInodes) {
        const inode = this.inodes.get(ino);
        if (inode) this.storeInode(inode);
      }
      // One write per dirty table block.
      const blocks = new Set([...this.dirtyInodes, ...this.freedRecords].map((ino) => Math.floor(this.recordAt(ino) / BLOCK_BYTES)));
      for (const b of blocks) this.pwrite(this.table, b * BLOCK_BYTES, BLOCK_BYTES, (this.sb.inodeTableStart + b) * BLOCK_BYTES);
      this.dirtyInodes.clear();
      this.freedRecords.clear();
    }
    if (this.alloc.dirty) {
      const a = this.alloc;
      if (a.dirtyTo > a.dirtyFrom) this.pwrite(a.bits, a.dirtyFrom, a.dirtyTo - a.dirtyFrom, this.sb.bitmapStart * BLOCK_BYTES + a.dirtyFrom);
      a.clean();
    }
    if (this.superDirty) {
      this.pwrite(writeSuper(this.sb), 0, BLOCK_BYTES, 0);
      this.superDirty = false;
    }
  }

  /** flush() and fsync the image. */
  sync(): void {
    this.flush();
    fsyncSync(this.fd);
  }

  close(): void {
    this.sync();
    closeSync(this.fd);
  }
}

function writeExt(b: Buffer, off: number, e: Extent): void {
  b.writeUInt32LE(e.fileBlock, off);
  b.writeUInt32LE(e.blocks, off + 4);
  b.writeUInt32LE(e.diskBlock, off + 8);
  b.writeUInt32LE(e.unwritten ? 1 : 0, off + 12);
}
