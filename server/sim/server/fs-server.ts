// The server model: a fuse2fs/fuse4fs-like FUSE server (docs/domain.md §5.5). It owns the
// "on-disk" state — inode table, directories, link counts, extent maps, a block allocator — and
// answers requests that arrive as bytes from /dev/fuse on N server threads.
//
// Handling is atomic at receive time (as if under fuse2fs's single filesystem lock); the service
// time from the cost model is then spent before the reply is written.
//
// Nodeid policy (§5.1/§5.2):
//   per-path  libfuse high-level API: each distinct (parent nodeid, name) gets the next nodeid
//             from a counter starting at 2 (root = 1); attr.ino is the real inode number
//             (use_ino), so two hardlinks = two nodeids with one ino.
//   ino       low-level API as fuse4fs: nodeid = inode number, root_nodeid=2.

import {
  AttrFlag, Errno, FuseDecodeError, IOMAP_BEGIN_OUT_BYTES, IOMAP_IOEND_OUT_BYTES, IoendFlag, MapFlag, MapType,
  NULL_ADDR, OpFlag, Opcode, REVISIONS, UPSERT_MAPPINGS_OUT_BYTES, isWriteish, readIomapBeginIn, readIomapEndIn,
  readIomapIoendIn, writeIomapBeginOut, writeUpsertMappingsOut, type IomapIo, type ProtocolRevision,
} from '../../../src/trace/fuse-proto.ts';
import type { Prng } from '../prng.ts';
import {
  ATTR_OUT_BYTES, ENTRY_OUT_BYTES, FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, FATTR_SIZE, S_IFDIR, S_IFREG, WRITE_OUT_BYTES,
  FUSE_INIT_EXT, FUSE_IOMAP_FLAGS2, FUSE_MAJOR, FUSE_MINOR_IOMAP, INIT_OUT_BYTES, IOMAP_CONFIG_OUT_BYTES_V6, IOMAP_CONFIG_OUT_BYTES_V7,
  ATTR_ATOMIC, IomapConfig, OPEN_OUT_BYTES, READ_WRITE_IN_BYTES, WRITE_IN_BYTES, encodeReplyInto, readCopyRangeIn, readFallocateIn, readInitIn,
  readIomapConfigIn, readLinkIn, readLookupName, readOpenIn, readReleaseIn, readRwIn, readSetattrIn, writeEntryOut, writeInitOut,
  writeIomapConfigOut, writeOpenOut,
  type SimInHeader as InHeader, type TaskBufs,
} from '../proto.ts';
import type { CostModel, FaultSpec, FileSpec, NodeIdPolicy, ServerWrites } from '../scenarios/index.ts';
import { ExtentMap } from './extent-map.ts';
import { asIno, asNodeId } from '../../../src/trace/ids.ts';

const SERVER_BLOCK_BYTES = 4096;
/** Backing device id from FUSE_DEV_IOC_BACKING_OPEN (§1.11): the sim registers one device. */
export const SERVER_DEV_ID = 1;
const EXT4_ROOT_INO = 2;
/** ext4 reserves inodes 1..11; the first regular inode is 12. */
const EXT4_FIRST_INO = 12;
/** First data block the allocator hands out (below: "metadata"). */
const FIRST_DATA_BLK = 256;
/** 1 TiB device (byte addresses < 2^40, exact as numbers). */
const DEVICE_BLOCKS = 2 ** 28;
/** Largest extent one IOMAP_BEGIN allocates (fuse2fs allocates per request, bounded). */
const MAX_ALLOC_BLOCKS = 256;
/** A device id the server never registered (wrong-mapping fault injection). */
const UNREGISTERED_DEV_ID = 9;
/** max_write in the INIT reply: the largest FUSE_WRITE payload the server takes (classic data path). */
const SERVER_MAX_WRITE_BYTES = 128 * 1024;

interface SrvInode {
  ino: number;
  isDir: boolean;
  sizeBytes: number;
  nlink: number;
  extents: ExtentMap;
  /** Out-of-place server: staging blocks written but not yet remapped (a COW fork), else null. */
  staging: ExtentMap | null;
  /** Data kept inline in the inode (prealloc 'inline'): every mapping is INLINE. */
  isInline: boolean;
  /** name → ino, directories only. */
  entries: Map<string, number> | null;
}

/** What a request cost the server, by kind of work (the kernel-ext4 baseline re-prices these). */
type CostKind = 'lookup' | 'map' | 'alloc' | 'end' | 'ioend' | 'convert' | 'meta' | 'copy' | 'rw';

interface HandleResult {
  /** In the handling thread's `send` buffer: valid until that thread handles its next request. */
  reply: Uint8Array;
  costNs: number;
  costKind: CostKind;
  /**
   * A notification (upsert, in the thread's `notify` buffer) written to /dev/fuse at once, before
   * the service time and the reply (§3.2 RETRY_CACHE pattern): it says what the extent map held
   * when it was read, so it must land before another request can change that map.
   */
  notify: Uint8Array | null;
  /**
   * A notification built and written after the reply (fuse4fs's upsert at open, §5.5): built
   * then, from the extent map as it is then, for the same reason.
   */
  notifyAfterReply?: () => Uint8Array | null;
}

interface FsServerConfig {
  policy: NodeIdPolicy;
  revision: ProtocolRevision;
  costs: CostModel;
  faults: FaultSpec;
  /** fuse4fs `iomap_cache`: upsert the read mapping and reply RETRY_CACHE (only if the revision has a cache). */
  useCache: boolean;
  /** Per-fork mapping cache size the server asks for in its IOMAP_CONFIG reply (v7, §1.5). */
  cacheMaxBytes: number;
  /** s_maxbytes the server reports in IOMAP_CONFIG. */
  maxBytes: number;
  /** 'out-of-place': write-ish BEGINs get a SHARED write mapping onto staging blocks (iomap_ow_ll). */
  serverWrites: ServerWrites;
  /** FUSE_ATTR_ATOMIC on regular files (where the revision has the bit). */
  atomicWrites: boolean;
}

export class FsServer {
  readonly rootNodeId: number;
  private readonly inodes = new Map<number, SrvInode>();
  private readonly nodeToIno = new Map<number, number>();
  /** per-path policy: `${parentNodeId}/${name}` → nodeid. */
  private readonly pathNodes = new Map<string, number>();
  private nextNodeId = 2;
  private nextIno = EXT4_FIRST_INO;
  private nextFreeBlk = FIRST_DATA_BLK;
  private beginCount = 0;
  /** File handles handed out by OPEN (libfuse passes fuse4fs's fh through; any unique value does). */
  private nextFh = 1;
  private readonly openFhs = new Set<number>();
  private readonly useCache: boolean;
  /** v7 fuse4fs upserts a file's first mapping when it is opened (§3.2, §5.5). */
  private readonly upsertAtOpen: boolean;
  private readonly notifyUpsert: number;
  /** The memory of the thread whose request is being handled (handling is synchronous). */
  private bufs: TaskBufs | null = null;
  /** Unwritten blocks converted at IOEND so far (a per-run figure for the UI). */
  convertedBlkTotal = 0;

  constructor(private readonly cfg: FsServerConfig, files: readonly FileSpec[], private readonly prng: Prng) {
    const rev = REVISIONS[cfg.revision];
    this.useCache = cfg.useCache && rev.hasMappingCache && rev.notifyUpsert !== null;
    this.notifyUpsert = rev.notifyUpsert ?? 0;
    // fuse4fs (in-place writes) does this; an out-of-place server keeps writes off the read fork's blocks.
    this.upsertAtOpen = this.useCache && cfg.revision === 'v7' && cfg.serverWrites === 'in-place';
    this.rootNodeId = cfg.policy === 'ino' ? EXT4_ROOT_INO : 1;
    this.inodes.set(EXT4_ROOT_INO, this.newInode(EXT4_ROOT_INO, true));
    this.nodeToIno.set(this.rootNodeId, EXT4_ROOT_INO);
    for (const f of files) this.mkfile(f);
  }

  /** Server-side view of an inode, for tests and the UI's "server state" panel. */
  inodeInfo(ino: number): { sizeBytes: number; nlink: number; extentCount: number } | undefined {
    const i = this.inodes.get(ino);
    return i && { sizeBytes: i.sizeBytes, nlink: i.nlink, extentCount: i.extents.count };
  }

  /** Handles one request; `bufs` is the handling thread's memory, where the reply and notification are encoded. */
  handle(h: InHeader, body: Uint8Array, bufs: TaskBufs): HandleResult {
    this.bufs = bufs;
    try {
      switch (h.opcode) {
        case Opcode.INIT: return this.init(h, body);
        case Opcode.IOMAP_CONFIG: return this.iomapConfig(h, body);
        case Opcode.LOOKUP: return this.lookup(h, body);
        case Opcode.LINK: return this.linkReq(h, body);
        // An inline iomap file's bytes move by FUSE_READ/WRITE too (no file handle, §2.3).
        case Opcode.READ: return this.isInlineNode(h) ? this.inlineRead(h, body) : this.read(h, body);
        case Opcode.WRITE: return this.isInlineNode(h) ? this.inlineWrite(h, body) : this.write(h, body);
        case Opcode.OPEN: case Opcode.OPENDIR: return this.open(h, body);
        case Opcode.RELEASE: case Opcode.RELEASEDIR: return this.release(h, body);
        case Opcode.IOMAP_BEGIN: return this.iomapBegin(h, body);
        case Opcode.IOMAP_END: return this.iomapEnd(h, body);
        case Opcode.IOMAP_IOEND: return this.iomapIoend(h, body);
        case Opcode.SETATTR: return this.setattr(h, body);
        case Opcode.FALLOCATE: return this.fallocate(h, body);
        case Opcode.FSYNC: return this.ok(h, this.cfg.costs.serverFsyncNs, 'meta');
        case Opcode.COPY_FILE_RANGE: return this.copyFileRange(h, body);
        default: return this.error(h, Errno.ENOSYS, this.cfg.costs.serverEndNs);
      }
    } catch (e) {
      // A malformed request gets EINVAL, as libfuse does for short bodies; anything else is a sim bug.
      if (e instanceof FuseDecodeError) return this.error(h, Errno.EINVAL, this.cfg.costs.serverEndNs);
      throw e;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Setup

  private newInode(ino: number, isDir: boolean): SrvInode {
    return {
      ino, isDir, sizeBytes: isDir ? SERVER_BLOCK_BYTES : 0, nlink: isDir ? 2 : 0, extents: new ExtentMap(),
      staging: !isDir && this.cfg.serverWrites === 'out-of-place' ? new ExtentMap() : null, isInline: false, entries: isDir ? new Map() : null,
    };
  }

  private mkdirs(path: string): SrvInode {
    let dir = this.inodes.get(EXT4_ROOT_INO)!;
    for (const name of path.split('/').filter(Boolean)) {
      let ino = dir.entries!.get(name);
      if (ino === undefined) {
        ino = this.nextIno++;
        this.inodes.set(ino, this.newInode(ino, true));
        dir.entries!.set(name, ino);
        dir.nlink++;
      }
      dir = this.inodes.get(ino)!;
      if (!dir.isDir) throw new Error(`sim server: ${path} crosses a regular file`);
    }
    return dir;
  }

  private link(ino: number, path: string): void {
    const cut = path.lastIndexOf('/');
    const dir = this.mkdirs(path.slice(0, cut));
    dir.entries!.set(path.slice(cut + 1), ino);
    this.inodes.get(ino)!.nlink++;
  }

  private mkfile(f: FileSpec): void {
    const ino = this.nextIno++;
    const inode = this.newInode(ino, false);
    this.inodes.set(ino, inode);
    inode.sizeBytes = f.sizeBytes;
    inode.isInline = f.prealloc === 'inline';
    const blocks = Math.ceil(f.sizeBytes / SERVER_BLOCK_BYTES);
    if ((f.prealloc === 'unwritten' || f.prealloc === 'written') && blocks > 0) {
      const physBlk = this.allocBlocks(blocks);
      if (physBlk < 0) throw new Error(`sim server: device too small to preallocate ${f.path}`);
      inode.extents.insert({ fileBlk: 0, lenBlk: blocks, physBlk, isUnwritten: f.prealloc === 'unwritten' });
    }
    for (const p of [f.path, ...f.links]) this.link(ino, p);
  }

  /** Bump allocator; -1 = ENOSPC. (Frees arrive with truncate/punch in a later change.) */
  private allocBlocks(countBlk: number): number {
    if (this.nextFreeBlk + countBlk > DEVICE_BLOCKS) return -1;
    const blk = this.nextFreeBlk;
    this.nextFreeBlk += countBlk;
    return blk;
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  private costNs(baseNs: number): number {
    return this.prng.jitterNs(baseNs, this.cfg.costs.jitterPct);
  }

  private error(h: InHeader, errno: number, baseNs: number): HandleResult {
    return { reply: encodeReplyInto(this.bufs!.send, -errno, h.unique, 0), costNs: this.costNs(baseNs), costKind: 'meta', notify: null };
  }
  private ok(h: InHeader, baseNs: number, costKind: CostKind): HandleResult {
    return { reply: encodeReplyInto(this.bufs!.send, 0, h.unique, 0), costNs: this.costNs(baseNs), costKind, notify: null };
  }

  /** FUSE_INIT: accept the kernel's version and turn iomap on if the kernel offers it (§1.10). */
  private init(h: InHeader, body: Uint8Array): HandleResult {
    const req = readInitIn(body);
    const iomap = (req.flags & FUSE_INIT_EXT) !== 0 ? req.flags2 & FUSE_IOMAP_FLAGS2 : 0;
    const out = {
      major: FUSE_MAJOR, minor: Math.min(req.minor, FUSE_MINOR_IOMAP), flags: req.flags & FUSE_INIT_EXT, flags2: iomap,
      maxWriteBytes: SERVER_MAX_WRITE_BYTES,
    };
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, INIT_OUT_BYTES, (dv, at) => writeInitOut(dv, at, out));
    return { reply, costNs: this.costNs(this.cfg.costs.serverEndNs), costKind: 'meta', notify: null };
  }

  /**
   * FUSE_IOMAP_CONFIG (§1.5): block size and s_maxbytes; at v7 also the mapping cache size
   * (fuse4fs's cache limit), in the 104-byte reply (96 bytes before v7, no cache field).
   */
  private iomapConfig(h: InHeader, body: Uint8Array): HandleResult {
    readIomapConfigIn(body);
    const v7 = this.cfg.revision === 'v7';
    const sizeBytes = v7 ? IOMAP_CONFIG_OUT_BYTES_V7 : IOMAP_CONFIG_OUT_BYTES_V6;
    const out = {
      flags: IomapConfig.BLOCKSIZE | IomapConfig.MAXBYTES | (v7 ? IomapConfig.CACHE_MAXBYTES : 0),
      blockBytes: SERVER_BLOCK_BYTES, maxBytes: this.cfg.maxBytes, cacheMaxBytes: v7 ? this.cfg.cacheMaxBytes : 0,
    };
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, sizeBytes, (dv, at) => writeIomapConfigOut(dv, at, out, sizeBytes));
    return { reply, costNs: this.costNs(this.cfg.costs.serverEndNs), costKind: 'meta', notify: null };
  }

  /** Resolves the request's nodeid and cross-checks attr_ino the way fuse4fs does. */
  private inodeOf(h: InHeader, attrIno?: bigint): SrvInode | number {
    const ino = this.nodeToIno.get(h.nodeId);
    if (ino === undefined) return Errno.ESTALE;
    if (attrIno !== undefined && BigInt(ino) !== attrIno) return Errno.EINVAL;
    return this.inodes.get(ino)!;
  }

  private lookup(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const dir = this.inodeOf(h);
    if (typeof dir === 'number') return this.error(h, dir, c.serverLookupNs);
    if (!dir.isDir) return this.error(h, 20 /* ENOTDIR */, c.serverLookupNs);
    const name = readLookupName(body);
    const childIno = dir.entries!.get(name);
    if (childIno === undefined) return this.error(h, Errno.ENOENT, c.serverLookupNs);
    return this.entryReply(h, name, childIno, c.serverLookupNs, 'lookup');
  }

  /** fuse_entry_out for `name` in the request's directory: the policy's nodeid, the inode's attrs and iomap bits. */
  private entryReply(h: InHeader, name: string, childIno: number, baseNs: number, costKind: CostKind): HandleResult {
    const child = this.inodes.get(childIno)!;
    let nodeId: number;
    if (this.cfg.policy === 'ino') {
      nodeId = childIno;
    } else {
      const key = `${h.nodeId}/${name}`;
      nodeId = this.pathNodes.get(key) ?? 0;
      if (nodeId === 0) {
        nodeId = this.nextNodeId++;
        this.pathNodes.set(key, nodeId);
      }
    }
    this.nodeToIno.set(nodeId, childIno);
    const entry = {
      // The server's own numbers become ids on the wire (in the 'ino' policy the nodeid is the ino).
      nodeId: asNodeId(nodeId), ino: asIno(childIno), sizeBytes: child.sizeBytes, nlink: child.nlink,
      mode: child.isDir ? S_IFDIR | 0o755 : S_IFREG | 0o644,
      attrFlags: this.attrFlagsOf(child),
    };
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, ENTRY_OUT_BYTES, (dv, at) => writeEntryOut(dv, at, entry));
    return { reply, costNs: this.costNs(baseNs), costKind, notify: null };
  }

  /**
   * fuse_attr.flags for an inode (§1.10): the revision's iomap bits for a regular file, except
   * that from v6 a path-API (per-path) server enables iomap only for st_nlink < 2
   * (fuse_fs_can_enable_iomap, §5.4). RFC v1 has no per-inode bits (0: iomap is per connection).
   */
  private attrFlagsOf(inode: SrvInode): number {
    const rev = REVISIONS[this.cfg.revision];
    if (inode.isDir || rev.attrIomapBits === null) return 0;
    if (this.cfg.policy === 'per-path' && rev.pathApiSingleLinkIomap && inode.nlink >= 2) return 0;
    // Fault: a v6-style FUSE_ATTR_IOMAP at v7 without FUSE_ATTR_EXCLUSIVE, which the v7 kernel ignores.
    if (this.cfg.faults.iomapWithoutExclusive === true && this.cfg.revision === 'v7') return AttrFlag.V7_IOMAP;
    return rev.attrIomapBits | (this.cfg.atomicWrites ? ATTR_ATOMIC[this.cfg.revision] : 0);
  }

  private isInlineNode(h: InHeader): boolean {
    const inode = this.inodeOf(h);
    return typeof inode !== 'number' && inode.isInline;
  }

  /** Would this inode run on iomap (the bits the kernel needs are all set)? */
  private isIomapFile(inode: SrvInode): boolean {
    const bits = REVISIONS[this.cfg.revision].attrIomapBits;
    return !inode.isDir && bits !== null && (this.attrFlagsOf(inode) & bits) === bits;
  }

  /**
   * FUSE_LINK (fuse_link_in + name, nodeid = new parent). From v6 the path API refuses to
   * hardlink an iomap file (EPERM, libfuse "don't allow hardlinking of iomap files", §5.4); the
   * low-level fuse4fs (ino policy) links it and keeps iomap (one nodeid per inode).
   */
  private linkReq(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const dir = this.inodeOf(h);
    if (typeof dir === 'number') return this.error(h, dir, c.serverLookupNs);
    if (!dir.isDir) return this.error(h, 20 /* ENOTDIR */, c.serverLookupNs);
    const req = readLinkIn(body);
    const srcIno = this.nodeToIno.get(req.oldNodeId);
    if (srcIno === undefined) return this.error(h, Errno.ESTALE, c.serverLookupNs);
    const src = this.inodes.get(srcIno)!;
    if (src.isDir) return this.error(h, Errno.EPERM, c.serverLookupNs);
    if (dir.entries!.has(req.name)) return this.error(h, Errno.EEXIST, c.serverLookupNs);
    if (this.cfg.policy === 'per-path' && REVISIONS[this.cfg.revision].pathApiSingleLinkIomap && this.isIomapFile(src)) {
      return this.error(h, Errno.EPERM, c.serverLookupNs);
    }
    dir.entries!.set(req.name, srcIno);
    src.nlink++;
    // libfuse's high-level link answers with a lookup of the new name: a new path, a new nodeid.
    return this.entryReply(h, req.name, srcIno, c.serverSetattrNs, 'meta');
  }

  /**
   * FUSE_READ (classic path): fuse2fs reads the file through its own block IO and answers with
   * the data, short at EOF. Service time: a fixed part, per-KiB work and the device read.
   */
  private read(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readRwIn(body, 'fuse_read_in');
    const inode = this.inodeOf(h);
    if (typeof inode === 'number') return this.error(h, inode, c.serverClassicIoNs);
    if (inode.isDir) return this.error(h, 21 /* EISDIR */, c.serverClassicIoNs);
    const n = Math.max(0, Math.min(req.sizeBytes, inode.sizeBytes - req.posBytes));
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, n); // the data: zeros in the sim
    return { reply, costNs: this.costNs(this.classicIoNs(false, n)), costKind: 'rw', notify: null };
  }

  /**
   * FUSE_WRITE (classic path): fuse2fs writes the data itself — holes get newly allocated written
   * blocks, unwritten blocks in the range become written — and extends the size; the reply is
   * fuse_write_out {size}.
   */
  private write(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readRwIn(body, 'fuse_write_in');
    const inode = this.inodeOf(h);
    if (typeof inode === 'number') return this.error(h, inode, c.serverClassicIoNs);
    if (inode.isDir) return this.error(h, 21 /* EISDIR */, c.serverClassicIoNs);
    if (body.byteLength < WRITE_IN_BYTES + req.sizeBytes) return this.error(h, Errno.EINVAL, c.serverClassicIoNs);
    const B = SERVER_BLOCK_BYTES;
    const startBlk = Math.floor(req.posBytes / B), endBlk = Math.ceil((req.posBytes + req.sizeBytes) / B);
    let allocated = false;
    for (let blk = startBlk; blk < endBlk;) {
      const hit = inode.extents.lookup(blk);
      if (hit.kind === 'extent') { blk = hit.ext.fileBlk + hit.ext.lenBlk; continue; }
      const lenBlk = Math.min(hit.endBlk, endBlk) - blk;
      const physBlk = this.allocBlocks(lenBlk);
      if (physBlk < 0) return this.error(h, Errno.ENOSPC, c.serverClassicIoNs);
      inode.extents.insert({ fileBlk: blk, lenBlk, physBlk, isUnwritten: false });
      allocated = true;
      blk += lenBlk;
    }
    inode.extents.convert(startBlk, endBlk);
    inode.sizeBytes = Math.max(inode.sizeBytes, req.posBytes + req.sizeBytes);
    const size = req.sizeBytes;
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, WRITE_OUT_BYTES, (dv, at) => dv.setUint32(at, size, true));
    // An allocation costs what it costs in IOMAP_BEGIN.
    const costNs = this.classicIoNs(true, size) + (allocated ? c.serverBeginAllocNs : 0);
    return { reply, costNs: this.costNs(costNs), costKind: 'rw', notify: null };
  }

  private classicIoNs(isWrite: boolean, bytes: number): number {
    const c = this.cfg.costs;
    const kib = bytes / 1024;
    const devNs = bytes === 0 ? 0 : (isWrite ? c.devWriteLatencyNs : c.devReadLatencyNs) + Math.round(kib * c.devNsPerKiB);
    return c.serverClassicIoNs + Math.round(kib * c.serverClassicNsPerKiB) + devNs;
  }

  /**
   * FUSE_OPEN / OPENDIR: a new file handle in the 16-byte fuse_open_out (no FOPEN_* flags). At v7
   * with the cache on, fuse4fs then upserts the file's first extent into the read fork (write fork
   * NOCACHE), after the reply: the kernel's inode exists since the lookup, so the first read
   * there can hit without an upcall (§3.2, §5.5). Holes and empty files upsert nothing.
   */
  private open(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    readOpenIn(body);
    const inode = this.inodeOf(h);
    if (typeof inode === 'number') return this.error(h, inode, c.serverEndNs);
    if ((h.opcode === Opcode.OPENDIR) !== inode.isDir) return this.error(h, inode.isDir ? 21 /* EISDIR */ : 20 /* ENOTDIR */, c.serverEndNs);
    const fh = this.nextFh++;
    this.openFhs.add(fh);
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, OPEN_OUT_BYTES, (dv, at) => writeOpenOut(dv, at, fh));
    // Only for a file the server put on iomap: a classic file has no mapping cache to fill.
    if (!this.upsertAtOpen || !this.isIomapFile(inode)) return { reply, costNs: this.costNs(c.serverEndNs), costKind: 'meta', notify: null };
    const bufs = this.bufs!, nodeId = h.nodeId;
    const upsertLater = (): Uint8Array | null => {
      const first = this.firstExtent(inode);
      if (first === null) return null;
      const nocache: IomapIo = { offsetBytes: 0n, lenBytes: 0n, addr: NULL_ADDR, type: MapType.NOCACHE, flags: 0, dev: 0 };
      return encodeReplyInto(bufs.notify, this.notifyUpsert, 0, UPSERT_MAPPINGS_OUT_BYTES,
        (dv, at) => writeUpsertMappingsOut(dv, at, { nodeid: BigInt(nodeId), attrIno: BigInt(inode.ino), read: first, write: nocache }));
    };
    return { reply, costNs: this.costNs(c.serverEndNs), costKind: 'meta', notify: null, notifyAfterReply: upsertLater };
  }

  /** The file's lowest extent as a read mapping, or null when it has none. */
  private firstExtent(inode: SrvInode): IomapIo | null {
    let hit = inode.extents.lookup(0);
    if (hit.kind === 'hole') {
      if (hit.endBlk === Infinity) return null;
      hit = inode.extents.lookup(hit.endBlk);
      if (hit.kind === 'hole') return null;
    }
    const e = hit.ext, B = SERVER_BLOCK_BYTES;
    return {
      offsetBytes: BigInt(e.fileBlk * B), lenBytes: BigInt(e.lenBlk * B), addr: BigInt(e.physBlk * B),
      type: e.isUnwritten ? MapType.UNWRITTEN : MapType.MAPPED, flags: 0, dev: SERVER_DEV_ID,
    };
  }

  /** FUSE_RELEASE / RELEASEDIR: forget the file handle; the reply is the header alone. */
  private release(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readReleaseIn(body);
    if (!this.openFhs.delete(req.fh)) return this.error(h, Errno.EINVAL, c.serverEndNs);
    return this.ok(h, c.serverEndNs, 'meta');
  }

  private iomapBegin(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readIomapBeginIn(body);
    const inode = this.inodeOf(h, req.attrIno);
    if (typeof inode === 'number') return this.error(h, inode, c.serverBeginNs);
    if (inode.isDir) return this.error(h, 21 /* EISDIR */, c.serverBeginNs);
    const posBytes = Number(req.posBytes);
    const countBytes = Number(req.countBytes);
    const B = SERVER_BLOCK_BYTES;
    const posBlk = Math.floor(posBytes / B);
    if (inode.isInline) return this.inlineBegin(h, posBytes);
    // ZERO/UNSHARE skip holes (§2.3); every other write-ish op needs real blocks — in place, or
    // (out-of-place server) as staging blocks in the write slot while the read slot keeps the old ones.
    const needsBlocks = isWriteish(req.opflags) && (req.opflags & (OpFlag.ZERO | OpFlag.UNSHARE)) === 0;
    const outOfPlace = needsBlocks && inode.staging !== null;
    const mustAllocate = needsBlocks && !outOfPlace;
    let read: IomapIo;
    let didAllocate = false;
    const hit = inode.extents.lookup(posBlk);
    if (hit.kind === 'extent') {
      const e = hit.ext;
      read = {
        offsetBytes: BigInt(e.fileBlk * B), lenBytes: BigInt(e.lenBlk * B), addr: BigInt(e.physBlk * B),
        type: e.isUnwritten ? MapType.UNWRITTEN : MapType.MAPPED, flags: 0, dev: SERVER_DEV_ID,
      };
    } else {
      const wantEndBlk = Math.max(posBlk + 1, Math.ceil((posBytes + countBytes) / B));
      if (mustAllocate) {
        const lenBlk = Math.min(hit.endBlk, wantEndBlk, posBlk + MAX_ALLOC_BLOCKS) - posBlk;
        const physBlk = this.allocBlocks(lenBlk);
        if (physBlk < 0) return this.error(h, Errno.ENOSPC, c.serverBeginAllocNs);
        inode.extents.insert({ fileBlk: posBlk, lenBlk, physBlk, isUnwritten: true });
        didAllocate = true;
        // fuse2fs: a forced-uninit fallocate, returned as UNWRITTEN + DIRTY (metadata not yet on disk).
        read = {
          offsetBytes: BigInt(posBlk * B), lenBytes: BigInt(lenBlk * B), addr: BigInt(physBlk * B),
          type: MapType.UNWRITTEN, flags: MapFlag.DIRTY, dev: SERVER_DEV_ID,
        };
      } else {
        const endBlk = Math.min(hit.endBlk, wantEndBlk);
        read = {
          offsetBytes: BigInt(hit.startBlk * B), lenBytes: BigInt((endBlk - hit.startBlk) * B), addr: NULL_ADDR,
          type: MapType.HOLE, flags: 0, dev: 0,
        };
      }
    }
    // libfuse's reply helper with a NULL write mapping: PURE_OVERWRITE over the same range.
    const overwrite: IomapIo = { offsetBytes: read.offsetBytes, lenBytes: read.lenBytes, addr: NULL_ADDR, type: MapType.PURE_OVERWRITE, flags: 0, dev: 0 };
    let write = overwrite;
    if (outOfPlace) {
      const staged = this.stagingMapping(inode, posBlk, read);
      if (staged === null) return this.error(h, Errno.ENOSPC, c.serverBeginAllocNs);
      write = staged.io;
      didAllocate = staged.allocated;
    }
    // fuse4fs sets ATOMIC_BIO on the mapping of an RWF_ATOMIC write (§5.5).
    if ((req.opflags & OpFlag.ATOMIC) !== 0) {
      if (write.type === MapType.PURE_OVERWRITE) read.flags |= MapFlag.ATOMIC_BIO;
      else write.flags |= MapFlag.ATOMIC_BIO;
    }
    this.beginCount++;
    const every = this.cfg.faults.badMappingEvery;
    const isBad = every !== undefined && this.beginCount % every === 0;
    if (isBad) this.corrupt(read, posBytes);
    const costNs = this.costNs(didAllocate ? c.serverBeginAllocNs : c.serverBeginNs);
    const costKind: CostKind = didAllocate ? 'alloc' : 'map';
    // fuse4fs iomap_cache (§3.2, §5.5): upsert the read mapping (write fork NOCACHE), then reply
    // RETRY_CACHE with the real offset/length (the reply's range must still contain pos, §1.4).
    // ATOMIC/SWAPFILE bypass the kernel cache, so those get a plain reply. A corrupted mapping is
    // sent as a plain reply too, so that the BEGIN-reply validation is what catches it.
    // An out-of-place server upserts its staging mapping into the write fork too (§3.1: the write
    // fork exists for such servers), so later writes there hit the cache.
    if (this.useCache && !isBad && (req.opflags & (OpFlag.ATOMIC | OpFlag.SWAPFILE)) === 0) {
      const nocache: IomapIo = { offsetBytes: 0n, lenBytes: 0n, addr: NULL_ADDR, type: MapType.NOCACHE, flags: 0, dev: 0 };
      const upsertWrite = write.type === MapType.PURE_OVERWRITE ? nocache : write;
      const upsert = encodeReplyInto(this.bufs!.notify, this.notifyUpsert, 0, UPSERT_MAPPINGS_OUT_BYTES,
        (dv, at) => writeUpsertMappingsOut(dv, at, { nodeid: BigInt(h.nodeId), attrIno: req.attrIno, read, write: upsertWrite }));
      const retry: IomapIo = { ...read, addr: NULL_ADDR, type: MapType.RETRY_CACHE, flags: 0, dev: 0 };
      const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, IOMAP_BEGIN_OUT_BYTES, (dv, at) => writeIomapBeginOut(dv, at, { read: retry, write: overwrite }));
      return { reply, costNs, costKind, notify: upsert };
    }
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, IOMAP_BEGIN_OUT_BYTES, (dv, at) => writeIomapBeginOut(dv, at, { read, write }));
    return { reply, costNs, costKind, notify: null };
  }

  /**
   * Out-of-place server (iomap_ow_ll): the write mapping of a write-ish BEGIN is the staging extent
   * at posBlk — allocated now if there is none — trimmed to the read mapping's range (the kernel
   * uses the read mapping as the srcmap of the same iteration), MAPPED and flagged SHARED: the data
   * goes to new blocks, and IOEND(SHARED) moves them into the file (§1.7, §1.9). null = ENOSPC.
   */
  private stagingMapping(inode: SrvInode, posBlk: number, read: IomapIo): { io: IomapIo; allocated: boolean } | null {
    const B = SERVER_BLOCK_BYTES;
    const readStartBlk = Number(read.offsetBytes) / B, readEndBlk = readStartBlk + Number(read.lenBytes) / B;
    const staging = inode.staging!;
    const hit = staging.lookup(posBlk);
    let startBlk: number, endBlk: number, physAtStart: number, allocated = false;
    if (hit.kind === 'extent') {
      startBlk = Math.max(hit.ext.fileBlk, readStartBlk);
      endBlk = Math.min(hit.ext.fileBlk + hit.ext.lenBlk, readEndBlk);
      physAtStart = hit.ext.physBlk + (startBlk - hit.ext.fileBlk);
    } else {
      startBlk = posBlk;
      endBlk = Math.min(hit.endBlk, readEndBlk, posBlk + MAX_ALLOC_BLOCKS);
      physAtStart = this.allocBlocks(endBlk - startBlk);
      if (physAtStart < 0) return null;
      staging.insert({ fileBlk: startBlk, lenBlk: endBlk - startBlk, physBlk: physAtStart, isUnwritten: false });
      allocated = true;
    }
    return {
      io: {
        offsetBytes: BigInt(startBlk * B), lenBytes: BigInt((endBlk - startBlk) * B), addr: BigInt(physAtStart * B),
        type: MapType.MAPPED, flags: MapFlag.SHARED, dev: SERVER_DEV_ID,
      },
      allocated,
    };
  }

  /**
   * An inline file (§2.3 INLINE row): one INLINE mapping at offset 0, one block long, null device
   * and address, in a plain reply (the sim's server does not put inline mappings in the kernel
   * cache); the kernel then fetches the bytes with FUSE_READ and pushes writes with FUSE_WRITE.
   */
  private inlineBegin(h: InHeader, posBytes: number): HandleResult {
    const c = this.cfg.costs;
    const read: IomapIo = { offsetBytes: 0n, lenBytes: BigInt(SERVER_BLOCK_BYTES), addr: NULL_ADDR, type: MapType.INLINE, flags: 0, dev: 0 };
    const write: IomapIo = { ...read, type: MapType.PURE_OVERWRITE };
    this.beginCount++;
    const every = this.cfg.faults.badMappingEvery;
    if (every !== undefined && this.beginCount % every === 0) this.corrupt(read, posBytes);
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, IOMAP_BEGIN_OUT_BYTES, (dv, at) => writeIomapBeginOut(dv, at, { read, write }));
    return { reply, costNs: this.costNs(c.serverBeginNs), costKind: 'map', notify: null };
  }

  /** Fault injection: one of the mistakes kernel validation must catch (§1.4). */
  private corrupt(read: IomapIo, posBytes: number): void {
    switch (this.prng.int(0, 6)) {
      case 0: read.offsetBytes += 512n; break; // misaligned
      case 1: read.lenBytes = 0n; break;
      case 2: read.type = MapType.MAPPED; read.dev = 0; break; // no backing device
      case 3: read.type = MapType.MAPPED; read.dev = UNREGISTERED_DEV_ID; if (read.addr === NULL_ADDR) read.addr = 0n; break;
      case 4: read.type = MapType.PURE_OVERWRITE; read.addr = NULL_ADDR; read.dev = 0; break; // only legal in the write slot
      default: // does not contain pos
        read.offsetBytes = BigInt((Math.floor(posBytes / SERVER_BLOCK_BYTES) + 1) * SERVER_BLOCK_BYTES);
        break;
    }
  }

  private iomapEnd(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readIomapEndIn(body);
    const inode = this.inodeOf(h, req.attrIno);
    if (typeof inode === 'number') return this.error(h, inode, c.serverEndNs);
    // fuse2fs: IOMAP_END with SIZE_CHANGED is how buffered appends reach i_size (§5.5). A short
    // write would free the speculative allocation here; the sim never writes short.
    if ((req.map.flags & MapFlag.SIZE_CHANGED) !== 0 && req.writtenBytes > 0n) {
      inode.sizeBytes = Math.max(inode.sizeBytes, Number(req.posBytes + req.writtenBytes));
    }
    return this.ok(h, c.serverEndNs, 'end');
  }

  private iomapIoend(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readIomapIoendIn(body);
    const inode = this.inodeOf(h, req.attrIno);
    if (typeof inode === 'number') return this.error(h, inode, c.serverIoendNs);
    let convertedBlk = 0;
    if (req.error === 0 && req.writtenBytes > 0n) {
      const posBytes = Number(req.posBytes), endBytes = posBytes + Number(req.writtenBytes);
      if ((req.flags & IoendFlag.UNWRITTEN) !== 0) {
        convertedBlk = inode.extents.convert(Math.floor(posBytes / SERVER_BLOCK_BYTES), Math.ceil(endBytes / SERVER_BLOCK_BYTES));
      }
      if ((req.flags & IoendFlag.SHARED) !== 0) this.remapStaged(inode, Math.floor(posBytes / SERVER_BLOCK_BYTES), Math.ceil(endBytes / SERVER_BLOCK_BYTES));
      if ((req.flags & IoendFlag.APPEND) !== 0) inode.sizeBytes = Math.max(inode.sizeBytes, endBytes);
    }
    if (convertedBlk > 0) this.convertedBlkTotal += convertedBlk;
    const costNs = this.costNs(convertedBlk > 0 ? c.serverConvertNs : c.serverIoendNs);
    const costKind: CostKind = convertedBlk > 0 ? 'convert' : 'ioend';
    if (!REVISIONS[this.cfg.revision].ioendHasReply) return { reply: encodeReplyInto(this.bufs!.send, 0, h.unique, 0), costNs, costKind, notify: null };
    // v7: fuse_iomap_ioend_out.newsize — always the true on-disk size, never 0 (§1.5).
    const sizeBytes = inode.sizeBytes;
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, IOMAP_IOEND_OUT_BYTES, (dv, at) => dv.setBigUint64(at, BigInt(sizeBytes), true));
    return { reply, costNs, costKind, notify: null };
  }

  /**
   * IOEND(SHARED) on an out-of-place server: the staging blocks of [startBlk, endBlk) replace the
   * file's blocks there (written data, so not unwritten); the old blocks are dropped (the bump
   * allocator never reuses them). new_addr says where the bio went; the staging map is what the
   * server trusts, as direct-write ioends carry no address.
   */
  private remapStaged(inode: SrvInode, startBlk: number, endBlk: number): void {
    if (inode.staging === null) return;
    for (const e of inode.staging.overlapping(startBlk, endBlk)) {
      const s = Math.max(e.fileBlk, startBlk), t = Math.min(e.fileBlk + e.lenBlk, endBlk);
      inode.extents.removeRange(s, t);
      inode.extents.insert({ fileBlk: s, lenBlk: t - s, physBlk: e.physBlk + (s - e.fileBlk), isUnwritten: false });
    }
    inode.staging.removeRange(startBlk, endBlk);
  }

  /**
   * FUSE_READ without a file handle: the kernel fetching an inline file's bytes during
   * iomap_begin (§2.3). The sim keeps no file data, so the reply is zeros up to EOF.
   */
  private inlineRead(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    if (body.byteLength < READ_WRITE_IN_BYTES) throw new FuseDecodeError(`fuse_read_in: expected ${READ_WRITE_IN_BYTES} bytes, got ${body.byteLength}`);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const offsetBytes = Number(dv.getBigUint64(8, true)), sizeBytes = dv.getUint32(16, true);
    const inode = this.inodeOf(h);
    if (typeof inode === 'number') return this.error(h, inode, c.serverEndNs);
    const n = Math.max(0, Math.min(sizeBytes, inode.sizeBytes - offsetBytes));
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, n, (rdv, at) => new Uint8Array(rdv.buffer, rdv.byteOffset + at, n).fill(0));
    return { reply, costNs: this.costNs(c.serverEndNs + Math.round((n / 1024) * c.memcpyNsPerKiB)), costKind: 'meta', notify: null };
  }

  /** FUSE_WRITE without a file handle: the kernel pushing an inline write's bytes back (§2.3); may extend the file. */
  private inlineWrite(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    if (body.byteLength < READ_WRITE_IN_BYTES) throw new FuseDecodeError(`fuse_write_in: expected ${READ_WRITE_IN_BYTES} bytes, got ${body.byteLength}`);
    const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const offsetBytes = Number(dv.getBigUint64(8, true)), sizeBytes = dv.getUint32(16, true);
    if (body.byteLength < READ_WRITE_IN_BYTES + sizeBytes) return this.error(h, Errno.EINVAL, c.serverEndNs);
    const inode = this.inodeOf(h);
    if (typeof inode === 'number') return this.error(h, inode, c.serverEndNs);
    inode.sizeBytes = Math.max(inode.sizeBytes, offsetBytes + sizeBytes);
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, WRITE_OUT_BYTES, (rdv, at) => rdv.setUint32(at, sizeBytes, true));
    return { reply, costNs: this.costNs(c.serverEndNs + Math.round((sizeBytes / 1024) * c.memcpyNsPerKiB)), costKind: 'meta', notify: null };
  }

  /** FUSE_SETATTR with FATTR_SIZE: truncate frees the blocks past the new EOF (partial block kept). */
  private setattr(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readSetattrIn(body);
    const inode = this.inodeOf(h);
    if (typeof inode === 'number') return this.error(h, inode, c.serverSetattrNs);
    if ((req.valid & FATTR_SIZE) !== 0) {
      if (req.sizeBytes < inode.sizeBytes) {
        inode.extents.removeRange(Math.ceil(req.sizeBytes / SERVER_BLOCK_BYTES), Infinity);
        inode.staging?.removeRange(Math.ceil(req.sizeBytes / SERVER_BLOCK_BYTES), Infinity);
      }
      inode.sizeBytes = req.sizeBytes;
    }
    const sizeBytes = inode.sizeBytes;
    const attrFlags = this.attrFlagsOf(inode);
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, ATTR_OUT_BYTES, (dv, at) => {
      dv.setBigUint64(at + 16, BigInt(inode.ino), true);
      dv.setBigUint64(at + 24, BigInt(sizeBytes), true);
      dv.setUint32(at + 16 + 84, attrFlags, true); // fuse_attr.flags
    });
    return { reply, costNs: this.costNs(c.serverSetattrNs), costKind: 'meta', notify: null };
  }

  /** FUSE_FALLOCATE: mode 0/KEEP_SIZE allocates uninitialised extents over holes; PUNCH_HOLE frees whole blocks. */
  private fallocate(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readFallocateIn(body);
    const inode = this.inodeOf(h);
    if (typeof inode === 'number') return this.error(h, inode, c.serverFallocNs);
    const B = SERVER_BLOCK_BYTES;
    const endBytes = req.posBytes + req.lenBytes;
    if ((req.mode & FALLOC_FL_PUNCH_HOLE) !== 0) {
      if ((req.mode & FALLOC_FL_KEEP_SIZE) === 0) return this.error(h, Errno.EINVAL, c.serverFallocNs);
      inode.extents.removeRange(Math.ceil(req.posBytes / B), Math.floor(endBytes / B));
      inode.staging?.removeRange(Math.ceil(req.posBytes / B), Math.floor(endBytes / B));
      return this.ok(h, c.serverFallocNs, 'alloc');
    }
    if ((req.mode & ~FALLOC_FL_KEEP_SIZE) !== 0) return this.error(h, Errno.EINVAL /* EOPNOTSUPP in spirit */, c.serverFallocNs);
    let blk = Math.floor(req.posBytes / B);
    const endBlk = Math.ceil(endBytes / B);
    while (blk < endBlk) {
      const hit = inode.extents.lookup(blk);
      if (hit.kind === 'extent') { blk = hit.ext.fileBlk + hit.ext.lenBlk; continue; }
      const lenBlk = Math.min(hit.endBlk, endBlk) - blk;
      const physBlk = this.allocBlocks(lenBlk);
      if (physBlk < 0) return this.error(h, Errno.ENOSPC, c.serverFallocNs);
      inode.extents.insert({ fileBlk: blk, lenBlk, physBlk, isUnwritten: true });
      blk += lenBlk;
    }
    if ((req.mode & FALLOC_FL_KEEP_SIZE) === 0 && endBytes > inode.sizeBytes) inode.sizeBytes = endBytes;
    return this.ok(h, c.serverFallocNs, 'alloc');
  }

  /** FUSE_COPY_FILE_RANGE: ext4 cannot share blocks, so the target range gets fresh written blocks. */
  private copyFileRange(h: InHeader, body: Uint8Array): HandleResult {
    const c = this.cfg.costs;
    const req = readCopyRangeIn(body);
    const src = this.inodeOf(h);
    if (typeof src === 'number') return this.error(h, src, c.serverFallocNs);
    const dstIno = this.nodeToIno.get(req.nodeIdOut);
    if (dstIno === undefined) return this.error(h, Errno.ESTALE, c.serverFallocNs);
    const dst = this.inodes.get(dstIno)!;
    const B = SERVER_BLOCK_BYTES;
    const lenBytes = Math.max(0, Math.min(req.lenBytes, src.sizeBytes - req.offInBytes));
    if (lenBytes > 0) {
      // Whole target blocks only (scenario ops are block aligned); partial blocks would need RMW.
      const startBlk = Math.floor(req.offOutBytes / B), endBlk = Math.ceil((req.offOutBytes + lenBytes) / B);
      dst.extents.removeRange(startBlk, endBlk);
      const physBlk = this.allocBlocks(endBlk - startBlk);
      if (physBlk < 0) return this.error(h, Errno.ENOSPC, c.serverFallocNs);
      dst.extents.insert({ fileBlk: startBlk, lenBlk: endBlk - startBlk, physBlk, isUnwritten: false });
      dst.sizeBytes = Math.max(dst.sizeBytes, req.offOutBytes + lenBytes);
    }
    const reply = encodeReplyInto(this.bufs!.send, 0, h.unique, WRITE_OUT_BYTES, (dv, at) => dv.setUint32(at, lenBytes, true));
    const costNs = this.costNs(c.serverFallocNs + Math.round((lenBytes / 1024) * c.serverCopyNsPerKiB));
    return { reply, costNs, costKind: 'copy', notify: null };
  }

  /** [pos, pos+len) is entirely written (initialised) blocks: ext4's overwrite test for shared-lock DIO. */
  isWrittenRange(ino: number, posBytes: number, lenBytes: number): boolean {
    const inode = this.inodes.get(ino);
    if (!inode) return false;
    const B = SERVER_BLOCK_BYTES;
    let blk = Math.floor(posBytes / B);
    const end = Math.ceil((posBytes + lenBytes) / B);
    for (const e of inode.extents.overlapping(blk, end)) {
      if (e.fileBlk > blk || e.isUnwritten) return false;
      blk = e.fileBlk + e.lenBlk;
    }
    return blk >= end;
  }

  /**
   * Test oracle: does `io` (a mapping the kernel is about to use for inode `ino`) agree with the
   * extent map right now? Returns null when it does, else why not. HOLE must cover no extent;
   * MAPPED/UNWRITTEN must be one run of written/unwritten blocks at the same disk addresses.
   */
  checkMapping(ino: number, io: IomapIo): string | null {
    const inode = this.inodes.get(ino);
    if (!inode) return `ino ${ino} unknown`;
    const B = SERVER_BLOCK_BYTES;
    const start = Number(io.offsetBytes) / B, end = start + Number(io.lenBytes) / B;
    if (io.type === MapType.INLINE) return inode.isInline ? null : `inline mapping for a file whose data is in blocks`;
    // A SHARED mapping from an out-of-place server points at staging blocks, not at the file's.
    const shared = (io.flags & MapFlag.SHARED) !== 0 && inode.staging !== null;
    const exts = (shared ? inode.staging! : inode.extents).overlapping(start, end);
    switch (io.type) {
      case MapType.HOLE:
        return exts.length === 0 ? null : `hole [${start}, ${end}) covers extent at block ${exts[0]!.fileBlk}`;
      case MapType.MAPPED: case MapType.UNWRITTEN: {
        let blk = start;
        const wantUnwritten = io.type === MapType.UNWRITTEN;
        for (const e of exts) {
          if (e.fileBlk > blk) return `gap at block ${blk}`;
          if (e.isUnwritten !== wantUnwritten) return `block ${Math.max(blk, e.fileBlk)} is ${e.isUnwritten ? 'unwritten' : 'written'}`;
          const physWant = Number(io.addr) / B + (Math.max(blk, e.fileBlk) - start);
          if (e.physBlk + (Math.max(blk, e.fileBlk) - e.fileBlk) !== physWant) return `block ${blk} at another disk address`;
          blk = e.fileBlk + e.lenBlk;
        }
        return blk >= end ? null : `gap at block ${blk}`;
      }
      default:
        return null;
    }
  }
}

