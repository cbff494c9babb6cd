// The request handler of `fusescope mount`: one FUSE request (the bytes read from /dev/fuse) in,
// its reply out, against the image filesystem (image.ts) and the nodeid policy (nodes.ts). It also
// produces the instrumentation events (docs/instrumentation.md) for each request: fuse_recv and
// fuse_reply; inode_lookup / inode_forget for entry replies and FORGETs; and for READ and WRITE the
// iomap iteration a fuse-iomap kernel would have run against this extent map (iomap_begin, the
// mapping the server would have answered: iomap_map, iomap_iter_end) and, for WRITE, the ioend it
// would have been sent (iomap_ioend). No I/O on /dev/fuse here (session.ts does that).

import { IoendFlag, MapType, NULL_ADDR, Opcode, OpFlag } from '../../src/trace/fuse-proto.ts';
import { asIno, asNodeId, asTaskId } from '../../src/trace/ids.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { BLOCK_BYTES, Errno, FsError, ImageFs, ROOT_INO, S_IFDIR, S_IFMT, type Inode, type PieceHooks } from './image.ts';
import { NodeTable, type Node, type NodePolicy } from './nodes.ts';
import {
  attrOut, Body, decodeHeader, decodeInitIn, dirent, entryOut, FATTR_ATIME, FATTR_ATIME_NOW, FATTR_CTIME, FATTR_GID, FATTR_MODE,
  FATTR_MTIME, FATTR_MTIME_NOW, FATTR_SIZE, FATTR_UID, FUSE_BIG_WRITES, FUSE_KERNEL_MINOR_VERSION, FUSE_KERNEL_VERSION, FUSE_MAX_PAGES,
  FUSE_DO_READDIRPLUS, FUSE_READDIRPLUS_AUTO, direntBytes,
  ENTRY_OUT_BYTES, initOut, MIN_KERNEL_MINOR, openOut, ProtoError, reply, statfsOut, writeOut, type Attr, type InHeader, type Timeout,
} from './proto.ts';

/** Largest WRITE the kernel may send (negotiated in INIT); the reader's buffer must hold it plus headers. */
export const MAX_WRITE_BYTES = 128 * 1024;
export const MAX_PAGES = MAX_WRITE_BYTES / 4096;
/** libfuse's default entry and attribute timeouts (1 s). */
const ENTRY_TIMEOUT: Timeout = { sec: 1, nsec: 0 };
const ATTR_TIMEOUT: Timeout = { sec: 1, nsec: 0 };
/** open(2) O_DIRECT (x86/arm). */
const O_DIRECT = 0o40000;
/**
 * The backing device id in derived mappings: the first id FUSE_DEV_IOC_BACKING_OPEN hands out
 * (1..1024, §1.11), which a fuse-iomap server would have registered for its one image.
 */
export const DERIVED_MAP_DEV = 1;

interface FileHandle { ino: number; flags: number }
interface DirHandle { entries: Array<{ name: string; ino: number; type: number }> }

export interface OpsOptions {
  policy: NodePolicy;
  /** Receives the instrumentation events; omitted = none built. */
  emit?: (ev: TraceEvent) => void;
  /** The `task` of the events: comm/tid of the thread answering. */
  task: string;
  /** Monotonic ns for tsNs. */
  nowNs?: () => number;
}

export class FuseOps {
  readonly nodes: NodeTable;
  private readonly files = new Map<number, FileHandle>();
  private readonly dirHandles = new Map<number, DirHandle>();
  private nextFh = 1;
  private readonly emit: ((ev: TraceEvent) => void) | undefined;
  private readonly task;
  private readonly nowNs: () => number;
  /** Set by INIT: the kernel's protocol minor we answered with. */
  minor = 0;
  /** The connection's device (major << 20 | minor) once the mount exists (session.ts); 0 = not known. */
  fsDev = 0;
  /** Requests answered, by opcode (for the exit summary). */
  readonly counts = new Map<number, number>();

  constructor(private readonly fs: ImageFs, opts: OpsOptions) {
    this.nodes = new NodeTable(opts.policy, fs);
    this.emit = opts.emit;
    this.task = asTaskId(opts.task);
    this.nowNs = opts.nowNs ?? (() => Number(process.hrtime.bigint()));
  }

  /** Handles one request; returns the reply to write, or null for requests without one (FORGET). */
  handle(req: Buffer): Buffer | null {
    const h = decodeHeader(req);
    this.counts.set(h.opcode, (this.counts.get(h.opcode) ?? 0) + 1);
    const unique = Number(h.unique);
    this.emit?.({ kind: 'fuse_recv', tsNs: this.nowNs(), task: this.task, unique, opcode: h.opcode, nodeId: asNodeId(h.nodeId) });
    let out: Buffer | null;
    try {
      out = this.dispatch(h, req);
    } catch (err) {
      out = reply(h.unique, -errnoOf(err));
      if (!(err instanceof FsError)) process.stderr.write(`fusescope mount: opcode ${h.opcode} unique ${unique}: ${(err as Error).message}\n`);
    }
    this.fs.flush();
    if (out) this.emit?.({ kind: 'fuse_reply', tsNs: this.nowNs(), task: this.task, unique, opcode: h.opcode, error: out.readInt32LE(4), lenBytes: out.length });
    return out;
  }

  private ino(nodeId: number): number {
    const node = this.nodes.node(nodeId);
    if (!node) throw new FsError(Errno.ENOENT, `unknown nodeid ${nodeId}`);
    return node.ino;
  }

  private attr(inode: Inode): Attr {
    return {
      ino: inode.ino, sizeBytes: inode.sizeBytes, blocks512: inode.extents.allocatedBlocks() * (BLOCK_BYTES / 512),
      atimeSec: inode.atimeSec, atimeNsec: inode.atimeNsec, mtimeSec: inode.mtimeSec, mtimeNsec: inode.mtimeNsec,
      ctimeSec: inode.ctimeSec, ctimeNsec: inode.ctimeNsec, mode: inode.mode, nlink: inode.nlink, uid: inode.uid, gid: inode.gid,
      blksize: BLOCK_BYTES,
    };
  }

  /** The path of directory inode `dirIno` from the mount root ('' for the root), from the image's parent links. */
  private dirPath(dirIno: number): string {
    const parts: string[] = [];
    for (let ino = dirIno, guard = 0; ino !== ROOT_INO && guard < 4096; guard++) {
      const parent = this.fs.inode(ino).parent;
      const name = this.fs.entries(parent).find(([, child]) => child === ino)?.[0] ?? `?${ino}`;
      parts.unshift(name);
      ino = parent;
    }
    return parts.map((p) => `/${p}`).join('');
  }

  /** An entry reply for `name` in `parentNodeId` naming `inode`: binds a node (lookup +1) and says so. */
  private entry(h: InHeader, parentIno: number, name: string, inode: Inode): { node: Node; out: Buffer } {
    const node = this.nodes.bind(h.nodeId, name, inode.ino);
    this.emit?.({
      kind: 'inode_lookup', tsNs: this.nowNs(), task: this.task, nodeId: asNodeId(node.nodeId), ino: asIno(inode.ino),
      path: `${this.dirPath(parentIno)}/${name}`, nlookup: node.nlookup, aliasOf: asNodeId(this.nodes.aliasOf(node)),
    });
    return { node, out: entryOut(node.nodeId, inode.generation, ENTRY_TIMEOUT, ATTR_TIMEOUT, this.attr(inode)) };
  }

  private forgetOne(nodeId: number, nlookup: number): void {
    const node = this.nodes.forget(nodeId, nlookup);
    if (node) this.emit?.({ kind: 'inode_forget', tsNs: this.nowNs(), task: this.task, nodeId: asNodeId(nodeId), ino: asIno(node.ino), nlookup });
  }

  private dispatch(h: InHeader, req: Buffer): Buffer | null {
    const b = new Body(req);
    const ok = (payload?: Buffer): Buffer => reply(h.unique, 0, payload);
    switch (h.opcode) {
      case Opcode.INIT: {
        const init = decodeInitIn(req);
        if (init.major !== FUSE_KERNEL_VERSION || init.minor < MIN_KERNEL_MINOR) {
          process.stderr.write(`fusescope mount: kernel FUSE protocol ${init.major}.${init.minor} unsupported (need 7.${MIN_KERNEL_MINOR}+)\n`);
          return reply(h.unique, -Errno.EPROTO);
        }
        this.minor = Math.min(init.minor, FUSE_KERNEL_MINOR_VERSION);
        return ok(initOut({
          minor: this.minor, maxReadaheadBytes: Math.min(init.maxReadaheadBytes, MAX_WRITE_BYTES),
          flags: init.flags & (FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS | FUSE_READDIRPLUS_AUTO), maxWriteBytes: MAX_WRITE_BYTES, maxPages: MAX_PAGES,
        }));
      }
      case Opcode.DESTROY:
        return ok();
      case Opcode.LOOKUP: {
        const name = b.name();
        const parent = this.ino(h.nodeId);
        const ino = this.fs.lookup(parent, name);
        if (ino === undefined) throw new FsError(Errno.ENOENT, `${name} not found`);
        return ok(this.entry(h, parent, name, this.fs.inode(ino)).out);
      }
      case Opcode.FORGET:
        this.forgetOne(h.nodeId, b.u64());
        return null;
      case Opcode.BATCH_FORGET: {
        const count = b.u32();
        b.u32();
        for (let k = 0; k < count; k++) this.forgetOne(b.u64(), b.u64());
        return null;
      }
      case Opcode.GETATTR:
        return ok(attrOut(ATTR_TIMEOUT, this.attr(this.fs.inode(this.ino(h.nodeId)))));
      case Opcode.SETATTR: {
        const valid = b.u32();
        b.u32(); b.u64(); // padding, fh
        const size = b.u64();
        b.u64(); // lock_owner
        const atime = b.u64(), mtime = b.u64(), ctime = b.u64();
        const atimensec = b.u32(), mtimensec = b.u32(), ctimensec = b.u32();
        const mode = b.u32();
        b.u32();
        const uid = b.u32(), gid = b.u32();
        const ino = this.ino(h.nodeId);
        if (valid & FATTR_SIZE) this.fs.truncate(ino, size);
        const now = (): [number, number] => { const ms = Date.now(); return [Math.floor(ms / 1000), (ms % 1000) * 1e6]; };
        this.fs.setattr(ino, {
          mode: valid & FATTR_MODE ? mode : undefined,
          uid: valid & FATTR_UID ? uid : undefined,
          gid: valid & FATTR_GID ? gid : undefined,
          atime: valid & FATTR_ATIME_NOW ? now() : valid & FATTR_ATIME ? [atime, atimensec] : undefined,
          mtime: valid & FATTR_MTIME_NOW ? now() : valid & FATTR_MTIME ? [mtime, mtimensec] : undefined,
          ctime: valid & FATTR_CTIME ? [ctime, ctimensec] : undefined,
        });
        return ok(attrOut(ATTR_TIMEOUT, this.attr(this.fs.inode(ino))));
      }
      case Opcode.MKDIR: {
        const mode = b.u32();
        b.u32(); // umask (the kernel applied it already: no FUSE_DONT_MASK)
        const name = b.name();
        const parent = this.ino(h.nodeId);
        const inode = this.fs.create(parent, name, S_IFDIR | (mode & 0o7777), h.uid, h.gid);
        return ok(this.entry(h, parent, name, inode).out);
      }
      case Opcode.CREATE: {
        const flags = b.u32(), mode = b.u32();
        b.u32(); b.u32(); // umask, open_flags
        const name = b.name();
        const parent = this.ino(h.nodeId);
        const inode = this.fs.create(parent, name, mode, h.uid, h.gid);
        const { out } = this.entry(h, parent, name, inode);
        return ok(Buffer.concat([out, openOut(this.openFile(inode.ino, flags))]));
      }
      case Opcode.OPEN: {
        const flags = b.u32();
        const ino = this.ino(h.nodeId);
        if ((this.fs.inode(ino).mode & S_IFMT) === S_IFDIR) throw new FsError(Errno.EISDIR, 'open of a directory');
        return ok(openOut(this.openFile(ino, flags)));
      }
      case Opcode.RELEASE: {
        const fh = b.u64();
        const f = this.files.get(fh);
        if (f) { this.files.delete(fh); this.fs.unref(f.ino); }
        return ok();
      }
      case Opcode.FLUSH:
        return ok();
      case Opcode.FSYNC:
      case Opcode.FSYNCDIR:
        this.fs.sync();
        return ok();
      case Opcode.READ: {
        const fh = b.u64(), offset = b.u64(), size = b.u32();
        b.u32(); b.u64();
        const flags = b.u32();
        const ino = this.fileIno(fh, h.nodeId);
        const direct = ((flags | (this.files.get(fh)?.flags ?? 0)) & O_DIRECT) !== 0;
        const end = Math.min(offset + size, this.fs.inode(ino).sizeBytes);
        const r = this.fs.read(ino, offset, size, this.iomapSteps(h.nodeId, ino, 'read', direct ? OpFlag.DIRECT : 0, offset, end));
        return ok(r.data);
      }
      case Opcode.WRITE: {
        const fh = b.u64(), offset = b.u64(), size = b.u32();
        b.u32(); b.u64();
        const flags = b.u32();
        b.u32();
        const data = b.rest(size);
        const ino = this.fileIno(fh, h.nodeId);
        const direct = ((flags | (this.files.get(fh)?.flags ?? 0)) & O_DIRECT) !== 0;
        const opflags = OpFlag.WRITE | (direct ? OpFlag.DIRECT : 0);
        const w = this.fs.write(ino, offset, data, this.iomapSteps(h.nodeId, ino, 'write', opflags, offset, offset + data.length));
        if (this.emit) {
          const ioendFlags = (direct ? IoendFlag.DIRECT : IoendFlag.WRITEBACK) | (w.convertedBlocks > 0 ? IoendFlag.UNWRITTEN : 0)
            | (w.sizeAfterBytes > w.sizeBeforeBytes ? IoendFlag.APPEND : 0);
          // new_addr as the series sends it: all-ones for direct writes, the start sector for writeback (§1.9).
          const first = w.mapping[0];
          const newAddr = direct || !first || first.kind === 'hole' ? NULL_ADDR
            : BigInt(Math.floor((first.diskBlock * BLOCK_BYTES + (offset - first.fileBlock * BLOCK_BYTES)) / 512));
          this.emit({
            kind: 'iomap_ioend', tsNs: this.nowNs(), task: this.task, nodeId: asNodeId(h.nodeId), ino: asIno(ino), posBytes: offset,
            writtenBytes: data.length, ioendFlags, error: 0, newAddr, newSizeBytes: w.sizeAfterBytes,
            sent: (ioendFlags & (IoendFlag.SHARED | IoendFlag.UNWRITTEN | IoendFlag.APPEND)) !== 0,
          });
        }
        return ok(writeOut(data.length));
      }
      case Opcode.FALLOCATE: {
        const fh = b.u64(), offset = b.u64(), length = b.u64(), mode = b.u32();
        this.fs.fallocate(this.fileIno(fh, h.nodeId), offset, length, mode);
        return ok();
      }
      case Opcode.STATFS: {
        const s = this.fs.statfs();
        return ok(statfsOut({ blocks: s.blocks, bfree: s.freeBlocks, bavail: s.freeBlocks, files: s.files, ffree: s.freeFiles, bsize: s.blockBytes, namelen: s.nameMaxBytes, frsize: s.blockBytes }));
      }
      case Opcode.OPENDIR: {
        const dirIno = this.ino(h.nodeId);
        const dirInode = this.fs.inode(dirIno);
        if ((dirInode.mode & S_IFMT) !== S_IFDIR) throw new FsError(Errno.ENOTDIR, 'not a directory');
        // A snapshot: READDIR offsets index it, so entries added meanwhile never shift them.
        const entries = [
          { name: '.', ino: dirIno, type: S_IFDIR >> 12 },
          { name: '..', ino: dirInode.parent, type: S_IFDIR >> 12 },
          ...this.fs.entries(dirIno).map(([name, ino]) => ({ name, ino, type: (this.fs.inode(ino).mode & S_IFMT) >> 12 })),
        ];
        const fh = this.nextFh++;
        this.dirHandles.set(fh, { entries });
        return ok(openOut(fh));
      }
      case Opcode.READDIR:
      case Opcode.READDIRPLUS: {
        const fh = b.u64(), offset = b.u64(), size = b.u32();
        const d = this.dirHandles.get(fh);
        if (!d) throw new FsError(Errno.EBADF, `no directory handle ${fh}`);
        const plus = h.opcode === Opcode.READDIRPLUS;
        const dirIno = this.ino(h.nodeId);
        const parts: Buffer[] = [];
        let used = 0;
        for (let k = offset; k < d.entries.length; k++) {
          const e = d.entries[k]!;
          // Fit first: a READDIRPLUS entry counts a lookup, so one that does not fit must not be bound.
          const len = direntBytes(Buffer.byteLength(e.name), plus);
          if (used + len > size) break;
          const ent = dirent(e.ino, k + 1, e.type, e.name);
          if (plus) {
            // "." and "..": nodeid 0, the kernel links nothing for them (fs/fuse/readdir.c).
            const dot = e.name === '.' || e.name === '..';
            let inode: Inode | undefined;
            try { inode = dot ? undefined : this.fs.inode(e.ino); } catch { inode = undefined; } // removed since OPENDIR
            parts.push(inode ? this.entry(h, dirIno, e.name, inode).out : Buffer.alloc(ENTRY_OUT_BYTES));
          }
          parts.push(ent);
          used += len;
        }
        return ok(Buffer.concat(parts));
      }
      case Opcode.RELEASEDIR:
        this.dirHandles.delete(b.u64());
        return ok();
      case Opcode.LINK: {
        const oldNodeId = b.u64();
        const name = b.name();
        const parent = this.ino(h.nodeId);
        const inode = this.fs.link(this.ino(oldNodeId), parent, name);
        return ok(this.entry(h, parent, name, inode).out);
      }
      case Opcode.UNLINK:
      case Opcode.RMDIR: {
        const name = b.name();
        const parent = this.ino(h.nodeId);
        if (h.opcode === Opcode.UNLINK) this.fs.unlink(parent, name);
        else this.fs.rmdir(parent, name);
        this.nodes.unbind(h.nodeId, name);
        return ok();
      }
      case Opcode.RENAME:
      case Opcode.RENAME2: {
        const newDirNodeId = b.u64();
        const flags = h.opcode === Opcode.RENAME2 ? b.u32() : 0;
        if (h.opcode === Opcode.RENAME2) b.u32();
        const oldName = b.name(), newName = b.name();
        this.fs.rename(this.ino(h.nodeId), oldName, this.ino(newDirNodeId), newName, flags);
        this.nodes.rename(h.nodeId, oldName, newDirNodeId, newName);
        return ok();
      }
      case Opcode.ACCESS:
        // Mounted with default_permissions: the kernel checks modes itself.
        this.ino(h.nodeId);
        return ok();
      default:
        return reply(h.unique, -Errno.ENOSYS);
    }
  }

  private openFile(ino: number, flags: number): number {
    const fh = this.nextFh++;
    this.files.set(fh, { ino, flags });
    this.fs.ref(ino);
    return fh;
  }

  /** The inode of an open handle; READ/WRITE on a handle this server never gave is EBADF. */
  private fileIno(fh: number, nodeId: number): number {
    const f = this.files.get(fh);
    if (f) return f.ino;
    // The kernel may send I/O without a handle for some paths (e.g. writepage with no open file): use the nodeid.
    if (fh === 0) return this.ino(nodeId);
    throw new FsError(Errno.EBADF, `no file handle ${fh}`);
  }

  /**
   * The iomap iteration a fuse-iomap kernel would have run over [pos, end) against this extent map,
   * one step per piece as iomap_iter does (fs/iomap/iter.c): iomap_begin for what is left of the
   * range, the mapping the server answers (iomap_map), and once the piece's bytes are done,
   * iomap_iter_end with what it processed. Undefined (no hooks) without instrumentation.
   */
  private iomapSteps(nodeId: number, ino: number, slot: 'read' | 'write', opflags: number, pos: number, end: number): PieceHooks | undefined {
    const emit = this.emit;
    if (!emit) return undefined;
    const task = this.task;
    const node = asNodeId(nodeId), inode = asIno(ino);
    let at = pos;
    return {
      before: (p, cookie) => {
        const hole = p.kind === 'hole';
        emit({ kind: 'iomap_begin', tsNs: this.nowNs(), task, nodeId: node, ino: inode, fsDev: this.fsDev, opflags, posBytes: at, lenBytes: end - at });
        emit({
          kind: 'iomap_map', tsNs: this.nowNs(), task, nodeId: node, ino: inode, slot, source: 'reply',
          mapType: hole ? MapType.HOLE : p.kind === 'unwritten' ? MapType.UNWRITTEN : MapType.MAPPED, mapFlags: 0,
          mapOffsetBytes: p.fileBlock * BLOCK_BYTES, mapLenBytes: p.blocks * BLOCK_BYTES,
          mapAddr: hole ? NULL_ADDR : BigInt(p.diskBlock * BLOCK_BYTES), mapDev: hole ? 0 : DERIVED_MAP_DEV, cookie, rawType: '',
        });
      },
      after: (_p, bytes) => {
        emit({ kind: 'iomap_iter_end', tsNs: this.nowNs(), task, nodeId: node, ino: inode, posBytes: at, lenBytes: end - at, processedBytes: bytes, error: 0 });
        at += bytes;
      },
    };
  }
}

function errnoOf(err: unknown): number {
  if (err instanceof FsError) return err.errno;
  if (err instanceof ProtoError) return Errno.EINVAL;
  return Errno.EIO;
}

