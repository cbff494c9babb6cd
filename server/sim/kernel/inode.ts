// The kernel's per-nodeid state: one FuseInode per fuse_inode (iget5 compares nodeid, §5.1), so
// two nodeids for one attr ino (per-path policy + hardlinks) get separate i_rwsem, i_size,
// i_disk_size, page cache and mapping cache — the aliasing the default scenario shows.

import { DirtyRanges } from './dirty-ranges.ts';
import type { MappingCache } from './mapping-cache.ts';
import { RwSem } from './rwsem.ts';
import type { Ino, NodeId } from '../../../src/trace/ids.ts';

export interface FuseInode {
  nodeId: NodeId;
  /** attr.ino from the entry reply (fi->orig_ino). */
  ino: Ino;
  /** First path that resolved to this nodeid. */
  path: string;
  nlookup: number;
  isDir: boolean;
  /**
   * FUSE_I_IOMAP: decided once, when the inode is instantiated, from the entry reply's
   * fuse_attr.flags (§1.10); false = the classic FUSE_READ/FUSE_WRITE data path (classic-io.ts).
   */
  readonly iomap: boolean;
  /** In-memory size (i_size). */
  iSizeBytes: number;
  /** The kernel's idea of the on-disk size; decides APPEND on ioends (§1.5). */
  iDiskSizeBytes: number;
  readonly iRwsem: RwSem;
  /** mapping->invalidate_lock: faults shared, truncate/fallocate/EOF zeroing exclusive (§6). */
  readonly invalidateLock: RwSem;
  readonly dirty: DirtyRanges;
  /** Writeback ioends whose bio completed but which the completion worker has not finished (folios still under writeback). */
  wbPendingCount: number;
  /** The mapping cache, allocated by the first upsert (§3.1); null until then. */
  cache: MappingCache | null;
  /** FUSE_ATTR_ATOMIC was in the entry reply: RWF_ATOMIC writes are allowed (§1.10). */
  atomicWrites: boolean;
  /** fh of the latest writable open: classic writeback's FUSE_WRITE carries a writable file's fh (fuse_write_file_get); 0 = none. */
  writeFh: number;
}

export interface OpenFile {
  fd: number;
  /** The server's file handle from FUSE_OPEN (0 on the kernel-ext4 baseline). */
  fh: number;
  path: string;
  oflags: number;
  inode: FuseInode;
}

/** A fresh fuse_inode from an entry reply: clean, unlocked, no mapping cache yet. */
export function newFuseInode(nodeId: NodeId, ino: Ino, path: string, isDir: boolean, sizeBytes: number, iomap = true): FuseInode {
  return {
    nodeId, ino, path, nlookup: 0, isDir, iomap, iSizeBytes: sizeBytes, iDiskSizeBytes: sizeBytes,
    iRwsem: new RwSem(), invalidateLock: new RwSem(), dirty: new DirtyRanges(), wbPendingCount: 0, cache: null, atomicWrites: false, writeFh: 0,
  };
}
