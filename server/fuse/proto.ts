// The FUSE wire protocol as `fusescope mount` speaks it on /dev/fuse: request bodies and the
// structs of a real server's replies. Layouts and numbers are the kernel's
// include/uapi/linux/fuse.h (protocol 7.x; little-endian here). The headers and opcode numbers are
// the shared ones of src/trace/fuse-proto.ts (the simulator speaks them too). Pure: Buffers in and out.

import { FuseDecodeError, IN_HEADER_BYTES, OUT_HEADER_BYTES, readInHeader, writeOutHeader } from '../../src/trace/fuse-proto.ts';

export { IN_HEADER_BYTES, OUT_HEADER_BYTES };

/** The protocol version this server implements (fuse.h 7.38 on Debian 12; every struct used is ≤ 7.23). */
export const FUSE_KERNEL_VERSION = 7;
export const FUSE_KERNEL_MINOR_VERSION = 38;
/** Below this minor the structs we send (fuse_init_out's 64 bytes, fuse_entry_out's 128) differ. */
export const MIN_KERNEL_MINOR = 23;
export const FUSE_ROOT_ID = 1;

// fuse_init_in/out flags used.
export const FUSE_BIG_WRITES = 1 << 5;
export const FUSE_MAX_PAGES = 1 << 22;
export const FUSE_DO_READDIRPLUS = 1 << 13;
/** With DO_READDIRPLUS: the kernel picks READDIRPLUS for a listing's first batch, READDIR after (fs/fuse/readdir.c). */
export const FUSE_READDIRPLUS_AUTO = 1 << 14;

// fuse_setattr_in.valid bits.
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_ATIME_NOW = 1 << 7;
export const FATTR_MTIME_NOW = 1 << 8;
export const FATTR_CTIME = 1 << 10;

export const ENTRY_OUT_BYTES = 128;
export const ATTR_OUT_BYTES = 104;
export const OPEN_OUT_BYTES = 16;
export const INIT_OUT_BYTES = 64;
export const STATFS_OUT_BYTES = 80;
export const DIRENT_HEADER_BYTES = 24;

export interface InHeader {
  lenBytes: number;
  opcode: number;
  /** A u64 on the wire; kept as a bigint so the reply carries it back bit for bit (FUSE_INT_REQ_BIT included). */
  unique: bigint;
  nodeId: number;
  uid: number;
  gid: number;
  pid: number;
}

export class ProtoError extends Error {}

export function decodeHeader(buf: Buffer): InHeader {
  let h;
  try {
    h = readInHeader(buf);
  } catch (err) {
    if (err instanceof FuseDecodeError) throw new ProtoError(err.message);
    throw err;
  }
  if (h.len !== buf.length) throw new ProtoError(`fuse_in_header.len ${h.len} but ${buf.length} bytes read`);
  return { lenBytes: h.len, opcode: h.opcode, unique: h.unique, nodeId: Number(h.nodeid), uid: h.uid, gid: h.gid, pid: h.pid };
}

/** Reads a request body's fixed fields and NUL-terminated names. */
export class Body {
  private at: number;
  constructor(private readonly buf: Buffer, start = IN_HEADER_BYTES) {
    this.at = start;
  }
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new ProtoError(`request body too short (${this.buf.length} bytes)`);
  }
  u32(): number { this.need(4); const v = this.buf.readUInt32LE(this.at); this.at += 4; return v; }
  u64(): number { this.need(8); const v = Number(this.buf.readBigUInt64LE(this.at)); this.at += 8; return v; }
  skip(n: number): this { this.need(n); this.at += n; return this; }
  /** A NUL-terminated name. */
  name(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw new ProtoError('name without its NUL');
    const s = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return s;
  }
  /** The rest of the request (a WRITE's data). */
  rest(n: number): Buffer { this.need(n); const b = this.buf.subarray(this.at, this.at + n); this.at += n; return b; }
}

/** A reply: fuse_out_header + payload. `error` is 0 or -errno. */
export function reply(unique: bigint, error: number, payload?: Buffer): Buffer {
  const len = OUT_HEADER_BYTES + (error === 0 && payload ? payload.length : 0);
  const out = Buffer.alloc(len);
  writeOutHeader(new DataView(out.buffer, out.byteOffset, out.byteLength), 0, { len, error, unique });
  if (error === 0 && payload) payload.copy(out, OUT_HEADER_BYTES);
  return out;
}

export interface Attr {
  ino: number;
  sizeBytes: number;
  blocks512: number;
  atimeSec: number; atimeNsec: number;
  mtimeSec: number; mtimeNsec: number;
  ctimeSec: number; ctimeNsec: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  blksize: number;
}

/** struct fuse_attr (88 bytes) at `at`. */
function writeAttr(b: Buffer, at: number, a: Attr): void {
  b.writeBigUInt64LE(BigInt(a.ino), at);
  b.writeBigUInt64LE(BigInt(a.sizeBytes), at + 8);
  b.writeBigUInt64LE(BigInt(a.blocks512), at + 16);
  b.writeBigUInt64LE(BigInt(a.atimeSec), at + 24);
  b.writeBigUInt64LE(BigInt(a.mtimeSec), at + 32);
  b.writeBigUInt64LE(BigInt(a.ctimeSec), at + 40);
  b.writeUInt32LE(a.atimeNsec, at + 48);
  b.writeUInt32LE(a.mtimeNsec, at + 52);
  b.writeUInt32LE(a.ctimeNsec, at + 56);
  b.writeUInt32LE(a.mode, at + 60);
  b.writeUInt32LE(a.nlink, at + 64);
  b.writeUInt32LE(a.uid, at + 68);
  b.writeUInt32LE(a.gid, at + 72);
  b.writeUInt32LE(0, at + 76); // rdev
  b.writeUInt32LE(a.blksize, at + 80);
  b.writeUInt32LE(0, at + 84); // flags
}

/** Cache timeouts as (seconds, nanoseconds). */
export interface Timeout { sec: number; nsec: number }

/** struct fuse_entry_out: nodeid, generation, entry/attr timeouts, fuse_attr. */
export function entryOut(nodeId: number, generation: number, entry: Timeout, attrTimeout: Timeout, attr: Attr): Buffer {
  const b = Buffer.alloc(ENTRY_OUT_BYTES);
  b.writeBigUInt64LE(BigInt(nodeId), 0);
  b.writeBigUInt64LE(BigInt(generation), 8);
  b.writeBigUInt64LE(BigInt(entry.sec), 16);
  b.writeBigUInt64LE(BigInt(attrTimeout.sec), 24);
  b.writeUInt32LE(entry.nsec, 32);
  b.writeUInt32LE(attrTimeout.nsec, 36);
  writeAttr(b, 40, attr);
  return b;
}

/** struct fuse_attr_out. */
export function attrOut(attrTimeout: Timeout, attr: Attr): Buffer {
  const b = Buffer.alloc(ATTR_OUT_BYTES);
  b.writeBigUInt64LE(BigInt(attrTimeout.sec), 0);
  b.writeUInt32LE(attrTimeout.nsec, 8);
  writeAttr(b, 16, attr);
  return b;
}

/** struct fuse_open_out. */
export function openOut(fh: number, openFlags = 0): Buffer {
  const b = Buffer.alloc(OPEN_OUT_BYTES);
  b.writeBigUInt64LE(BigInt(fh), 0);
  b.writeUInt32LE(openFlags, 8);
  return b;
}

export interface InitIn { major: number; minor: number; maxReadaheadBytes: number; flags: number }

export function decodeInitIn(buf: Buffer): InitIn {
  const r = new Body(buf);
  return { major: r.u32(), minor: r.u32(), maxReadaheadBytes: r.u32(), flags: r.u32() };
}

export interface InitOut { minor: number; maxReadaheadBytes: number; flags: number; maxWriteBytes: number; maxPages: number }

/** struct fuse_init_out (64 bytes in 7.23+). */
export function initOut(o: InitOut): Buffer {
  const b = Buffer.alloc(INIT_OUT_BYTES);
  b.writeUInt32LE(FUSE_KERNEL_VERSION, 0);
  b.writeUInt32LE(o.minor, 4);
  b.writeUInt32LE(o.maxReadaheadBytes, 8);
  b.writeUInt32LE(o.flags, 12);
  b.writeUInt16LE(16, 16); // max_background (the kernel's default)
  b.writeUInt16LE(12, 18); // congestion_threshold (3/4 of it)
  b.writeUInt32LE(o.maxWriteBytes, 20);
  b.writeUInt32LE(1, 24); // time_gran: nanosecond timestamps
  b.writeUInt16LE(o.maxPages, 28);
  return b;
}

/** struct fuse_write_out. */
export function writeOut(sizeBytes: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32LE(sizeBytes, 0);
  return b;
}

/** struct fuse_statfs_out (fuse_kstatfs). */
export function statfsOut(s: { blocks: number; bfree: number; bavail: number; files: number; ffree: number; bsize: number; namelen: number; frsize: number }): Buffer {
  const b = Buffer.alloc(STATFS_OUT_BYTES);
  b.writeBigUInt64LE(BigInt(s.blocks), 0);
  b.writeBigUInt64LE(BigInt(s.bfree), 8);
  b.writeBigUInt64LE(BigInt(s.bavail), 16);
  b.writeBigUInt64LE(BigInt(s.files), 24);
  b.writeBigUInt64LE(BigInt(s.ffree), 32);
  b.writeUInt32LE(s.bsize, 40);
  b.writeUInt32LE(s.namelen, 44);
  b.writeUInt32LE(s.frsize, 48);
  return b;
}

/** Bytes of one fuse_dirent (or, with `plus`, fuse_direntplus) for a name of `nameBytes`, padded to 8. */
export function direntBytes(nameBytes: number, plus: boolean): number {
  return ((plus ? ENTRY_OUT_BYTES : 0) + DIRENT_HEADER_BYTES + nameBytes + 7) & ~7;
}

/** One struct fuse_dirent with its name, padded to 8 bytes; `off` is the offset of the entry after it. */
export function dirent(ino: number, off: number, type: number, name: string): Buffer {
  const nb = Buffer.from(name, 'utf8');
  const len = (DIRENT_HEADER_BYTES + nb.length + 7) & ~7;
  const b = Buffer.alloc(len);
  b.writeBigUInt64LE(BigInt(ino), 0);
  b.writeBigUInt64LE(BigInt(off), 8);
  b.writeUInt32LE(nb.length, 16);
  b.writeUInt32LE(type, 20);
  nb.copy(b, DIRENT_HEADER_BYTES);
  return b;
}
