// FUSE pieces the simulator needs that src/trace/fuse-proto.ts does not carry: FUSE_LOOKUP's
// body (a NUL-terminated name) and its fuse_entry_out reply, plus small helpers shared by both
// halves. Layouts are upstream include/uapi/linux/fuse.h (fuse_entry_out = 40 B + fuse_attr 88 B).

import { FuseDecodeError, IN_HEADER_BYTES, OUT_HEADER_BYTES, type ProtocolRevision } from '../../src/trace/fuse-proto.ts';
import { asIno, asNodeId, type Ino, type NodeId } from '../../src/trace/ids.ts';

export const ENTRY_OUT_BYTES = 128;
/** FUSE_ATTR_ATOMIC per revision (§1.10): 1<<3 in v4–v6, 1<<4 in v7; RFC v1 and v3 had none. */
export const ATTR_ATOMIC: Record<ProtocolRevision, number> = { 'rfc-v1': 0, v3: 0, v5: 1 << 3, v6: 1 << 3, v7: 1 << 4 };
/** fuse_read_in / fuse_write_in: fh u64, offset u64, size u32, flags u32, lock_owner u64, flags u32, padding u32. */
export const READ_WRITE_IN_BYTES = 40;
const ATTR_AT = 40;

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const O_RDONLY = 0;
export const O_RDWR = 2;
/** x86/arm value. */
export const O_DIRECT = 0o40000;

interface EntryOut {
  nodeId: NodeId;
  ino: Ino;
  sizeBytes: number;
  mode: number;
  nlink: number;
  /** fuse_attr.flags (FUSE_ATTR_IOMAP etc., §1.10). */
  attrFlags: number;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

export function lookupBodyBytes(name: string): Uint8Array {
  const raw = utf8Encoder.encode(name);
  const body = new Uint8Array(raw.byteLength + 1);
  body.set(raw);
  return body;
}

export function readLookupName(body: Uint8Array): string {
  const nul = body.indexOf(0);
  if (nul < 0) throw new FuseDecodeError('FUSE_LOOKUP: name is not NUL-terminated');
  return utf8Decoder.decode(body.subarray(0, nul));
}

export function writeEntryOut(dv: DataView, at: number, e: EntryOut): void {
  dv.setBigUint64(at, BigInt(e.nodeId), true);
  dv.setBigUint64(at + 8, 0n, true); // generation
  // entry_valid / attr_valid: "forever" — the sim has no revalidation yet, so the dcache never expires.
  dv.setBigUint64(at + 16, 0xffff_ffffn, true);
  dv.setBigUint64(at + 24, 0xffff_ffffn, true);
  const a = at + ATTR_AT;
  dv.setBigUint64(a, BigInt(e.ino), true);
  dv.setBigUint64(a + 8, BigInt(e.sizeBytes), true);
  dv.setBigUint64(a + 16, BigInt(Math.ceil(e.sizeBytes / 512)), true); // blocks (512 B units)
  dv.setUint32(a + 60, e.mode, true);
  dv.setUint32(a + 64, e.nlink, true);
  dv.setUint32(a + 80, 4096, true); // blksize
  dv.setUint32(a + 84, e.attrFlags, true);
}

export function readEntryOut(body: Uint8Array): EntryOut {
  if (body.byteLength < ENTRY_OUT_BYTES) {
    throw new FuseDecodeError(`fuse_entry_out: expected ${ENTRY_OUT_BYTES} bytes, got ${body.byteLength}`);
  }
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const a = ATTR_AT;
  return {
    nodeId: asNodeId(Number(dv.getBigUint64(0, true))),
    ino: asIno(Number(dv.getBigUint64(a, true))),
    sizeBytes: Number(dv.getBigUint64(a + 8, true)),
    mode: dv.getUint32(a + 60, true),
    nlink: dv.getUint32(a + 64, true),
    attrFlags: dv.getUint32(a + 84, true),
  };
}

// ---------------------------------------------------------------------------------------------
// Bodies of the size-changing requests the kernel model sends (upstream include/uapi/linux/fuse.h).

/** O_TRUNC (x86/arm). */
export const O_TRUNC = 0o1000;
/** fuse_setattr_in.valid bit for a size change. */
export const FATTR_SIZE = 1 << 3;
/** fuse_setattr_in: valid u32, padding u32, fh u64, size u64, lock_owner u64, 3 × (u64 time), … = 88 B. */
export const SETATTR_IN_BYTES = 88;
/** fuse_attr_out: attr_valid u64, attr_valid_nsec u32, dummy u32, fuse_attr (88 B). */
export const ATTR_OUT_BYTES = 104;
/** fuse_fallocate_in: fh u64, offset u64, length u64, mode u32, padding u32. */
export const FALLOCATE_IN_BYTES = 32;
/** fuse_fsync_in: fh u64, fsync_flags u32, padding u32. */
export const FSYNC_IN_BYTES = 16;
/** fuse_copy_file_range_in: fh_in, off_in, nodeid_out, fh_out, off_out, len, flags (all u64). */
export const COPY_FILE_RANGE_IN_BYTES = 56;
/** fuse_write_out: size u32, padding u32. */
export const WRITE_OUT_BYTES = 8;
/** fallocate(2) modes the sim models. */
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;

export function writeSetattrSize(dv: DataView, at: number, sizeBytes: number): void {
  dv.setUint32(at, FATTR_SIZE, true);
  dv.setBigUint64(at + 16, BigInt(sizeBytes), true);
}
export function readSetattrIn(body: Uint8Array): { valid: number; sizeBytes: number } {
  if (body.byteLength < SETATTR_IN_BYTES) throw new FuseDecodeError(`fuse_setattr_in: expected ${SETATTR_IN_BYTES} bytes, got ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { valid: dv.getUint32(0, true), sizeBytes: Number(dv.getBigUint64(16, true)) };
}
export function writeFallocateIn(dv: DataView, at: number, posBytes: number, lenBytes: number, mode: number): void {
  dv.setBigUint64(at + 8, BigInt(posBytes), true);
  dv.setBigUint64(at + 16, BigInt(lenBytes), true);
  dv.setUint32(at + 24, mode, true);
}
export function readFallocateIn(body: Uint8Array): { posBytes: number; lenBytes: number; mode: number } {
  if (body.byteLength < FALLOCATE_IN_BYTES) throw new FuseDecodeError(`fuse_fallocate_in: expected ${FALLOCATE_IN_BYTES} bytes, got ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { posBytes: Number(dv.getBigUint64(8, true)), lenBytes: Number(dv.getBigUint64(16, true)), mode: dv.getUint32(24, true) };
}
interface CopyRangeIn { offInBytes: number; nodeIdOut: number; offOutBytes: number; lenBytes: number }
export function writeCopyRangeIn(dv: DataView, at: number, c: CopyRangeIn): void {
  dv.setBigUint64(at + 8, BigInt(c.offInBytes), true);
  dv.setBigUint64(at + 16, BigInt(c.nodeIdOut), true);
  dv.setBigUint64(at + 32, BigInt(c.offOutBytes), true);
  dv.setBigUint64(at + 40, BigInt(c.lenBytes), true);
}
export function readCopyRangeIn(body: Uint8Array): CopyRangeIn {
  if (body.byteLength < COPY_FILE_RANGE_IN_BYTES) throw new FuseDecodeError(`fuse_copy_file_range_in: expected ${COPY_FILE_RANGE_IN_BYTES} bytes, got ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    offInBytes: Number(dv.getBigUint64(8, true)), nodeIdOut: Number(dv.getBigUint64(16, true)),
    offOutBytes: Number(dv.getBigUint64(32, true)), lenBytes: Number(dv.getBigUint64(40, true)),
  };
}

// ---------------------------------------------------------------------------------------------
// Message memory and headers without per-message allocation. Every upcall used to get a fresh
// ArrayBuffer + DataView and BigInt header fields; at ~5 messages per 10 events that was most of
// the simulator's GC time. Each task now owns its buffers, like the kernel's fuse_req and
// libfuse's per-thread buffer; header layouts are fuse_in_header / fuse_out_header, same bytes as
// fuse-proto's writeInHeader / writeOutHeader (uniques and nodeids stay below 2^53 in the sim).

const TWO_POW_32 = 2 ** 32;

/**
 * A growable message buffer; `take` hands out a zeroed view, as a fresh allocation would be.
 * Views are cached per length (messages come in a few sizes; subarray was ~4% of a run).
 */
export class MsgBuf {
  bytes = new Uint8Array(256);
  dv = new DataView(this.bytes.buffer);
  /** Cached views [0, len) and [OUT_HEADER_BYTES, len), by len. */
  private whole: Uint8Array[] = [];
  private afterOutHeader: Uint8Array[] = [];

  take(lenBytes: number): Uint8Array {
    if (lenBytes > this.bytes.length) {
      this.bytes = new Uint8Array(Math.max(lenBytes, this.bytes.length * 2));
      this.dv = new DataView(this.bytes.buffer);
      this.whole = [];
      this.afterOutHeader = [];
    } else {
      this.bytes.fill(0, 0, lenBytes);
    }
    return (this.whole[lenBytes] ??= this.bytes.subarray(0, lenBytes));
  }

  /** The body of the reply of `lenBytes` in this buffer (after fuse_out_header). */
  replyBody(lenBytes: number): Uint8Array {
    return (this.afterOutHeader[lenBytes] ??= this.bytes.subarray(OUT_HEADER_BYTES, lenBytes));
  }
}

/** A task's message memory: what it sends, what it receives, and (server threads) its notifications. */
export class TaskBufs {
  readonly send = new MsgBuf();
  readonly recv = new MsgBuf();
  readonly notify = new MsgBuf();
}

/** Little-endian u32 / i32 / u64 (< 2^53) straight from bytes. */
function u32At(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}
function i32At(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}
function u64At(b: Uint8Array, at: number): number {
  return u32At(b, at) + u32At(b, at + 4) * TWO_POW_32;
}
function setU64(dv: DataView, at: number, v: number): void {
  dv.setUint32(at, v >>> 0, true);
  dv.setUint32(at + 4, Math.floor(v / TWO_POW_32), true);
}

/** fuse_in_header fields the sim reads, as numbers; one reused instance per reader. */
export interface SimInHeader {
  len: number;
  opcode: number;
  unique: number;
  nodeId: NodeId;
  pid: number;
}

/** Writes fuse_in_header (uid = gid = 0) for a request of `bodyBytes`; returns the zeroed message view. */
export function startRequest(m: MsgBuf, opcode: number, unique: number, nodeId: NodeId, pid: number, bodyBytes: number): Uint8Array {
  const len = IN_HEADER_BYTES + bodyBytes;
  const msg = m.take(len);
  const dv = m.dv;
  dv.setUint32(0, len, true);
  dv.setUint32(4, opcode, true);
  setU64(dv, 8, unique);
  setU64(dv, 16, nodeId);
  dv.setUint32(32, pid, true);
  return msg;
}
export function readInHeaderInto(b: Uint8Array, h: SimInHeader): void {
  if (b.byteLength < IN_HEADER_BYTES) throw new FuseDecodeError(`fuse_in_header: need ${IN_HEADER_BYTES} bytes, have ${b.byteLength}`);
  h.len = u32At(b, 0);
  h.opcode = u32At(b, 4);
  h.unique = u64At(b, 8);
  h.nodeId = asNodeId(u64At(b, 16));
  h.pid = u32At(b, 32);
}

/** Writes fuse_out_header (error = notify code when unique is 0); returns the zeroed message view. */
function startReply(m: MsgBuf, error: number, unique: number, bodyBytes: number): Uint8Array {
  const len = OUT_HEADER_BYTES + bodyBytes;
  const msg = m.take(len);
  m.dv.setUint32(0, len, true);
  m.dv.setInt32(4, error, true);
  setU64(m.dv, 8, unique);
  return msg;
}
export function outLen(b: Uint8Array): number {
  return u32At(b, 0);
}
export function outError(b: Uint8Array): number {
  return i32At(b, 4);
}
export function outUnique(b: Uint8Array): number {
  return u64At(b, 8);
}
/** A whole reply or notification in `m`: out-header, then `bodyBytes` that `fill` writes (fuse-proto's encodeReply, reused memory). */
export function encodeReplyInto(m: MsgBuf, error: number, unique: number, bodyBytes: number, fill?: (dv: DataView, at: number) => void): Uint8Array {
  const msg = startReply(m, error, unique, bodyBytes);
  if (fill) fill(m.dv, OUT_HEADER_BYTES);
  return msg;
}

// ---------------------------------------------------------------------------------------------
// Mount: FUSE_INIT (upstream fuse.h: fuse_init_in / fuse_init_out, 64 B each with INIT_EXT) and
// the series' FUSE_IOMAP_CONFIG (docs/domain.md §1.5, §1.10).

export const INIT_IN_BYTES = 64;
export const INIT_OUT_BYTES = 64;
/** FUSE_KERNEL_VERSION 7; the series' placeholder minor 99 (§1.10). */
export const FUSE_MAJOR = 7;
export const FUSE_MINOR_IOMAP = 99;
/** FUSE_INIT_EXT (1 << 30 in `flags`): the 64-bit flags continue in `flags2`. */
export const FUSE_INIT_EXT = 1 << 30;
/** FUSE_IOMAP = 1ULL << 43, i.e. bit 11 of `flags2` (§1.10). */
export const FUSE_IOMAP_FLAGS2 = 1 << 11;

export interface InitMsg {
  major: number;
  minor: number;
  flags: number;
  flags2: number;
  /** fuse_init_out.max_write (u32 @20; replies only): the largest FUSE_WRITE payload the server takes. */
  maxWriteBytes?: number;
}
/** fuse_init_in: major @0, minor @4, max_readahead @8, flags @12, flags2 @16, unused[11]. */
export function writeInitIn(dv: DataView, at: number, m: InitMsg): void {
  for (let i = 0; i < INIT_IN_BYTES; i += 4) dv.setUint32(at + i, 0, true);
  dv.setUint32(at, m.major, true);
  dv.setUint32(at + 4, m.minor, true);
  dv.setUint32(at + 12, m.flags, true);
  dv.setUint32(at + 16, m.flags2, true);
}
export function readInitIn(body: Uint8Array): InitMsg {
  if (body.byteLength < INIT_IN_BYTES) throw new FuseDecodeError(`FUSE_INIT: need ${INIT_IN_BYTES} bytes, have ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { major: dv.getUint32(0, true), minor: dv.getUint32(4, true), flags: dv.getUint32(12, true), flags2: dv.getUint32(16, true) };
}
/** fuse_init_out: major @0, minor @4, max_readahead @8, flags @12, …, max_pages/map_alignment @28, flags2 @32. */
export function writeInitOut(dv: DataView, at: number, m: InitMsg): void {
  for (let i = 0; i < INIT_OUT_BYTES; i += 4) dv.setUint32(at + i, 0, true);
  dv.setUint32(at, m.major, true);
  dv.setUint32(at + 4, m.minor, true);
  dv.setUint32(at + 12, m.flags, true);
  dv.setUint32(at + 20, m.maxWriteBytes ?? 0, true);
  dv.setUint32(at + 32, m.flags2, true);
}
export function readInitOut(body: Uint8Array): InitMsg {
  if (body.byteLength < INIT_OUT_BYTES) throw new FuseDecodeError(`FUSE_INIT reply: need ${INIT_OUT_BYTES} bytes, have ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    major: dv.getUint32(0, true), minor: dv.getUint32(4, true), flags: dv.getUint32(12, true), flags2: dv.getUint32(32, true),
    maxWriteBytes: dv.getUint32(20, true),
  };
}

/** FUSE_IOMAP_CONFIG_* bits (§1.5): which config_out fields are valid. */
export const IomapConfig = { SID: 1, UUID: 2, BLOCKSIZE: 4, MAX_LINKS: 8, TIME: 16, MAXBYTES: 32, CACHE_MAXBYTES: 64 } as const;
/** fuse_iomap_config_in: 64 B in v4–v7 (cache_maxbytes only in v7). */
export const IOMAP_CONFIG_IN_BYTES = 64;
/** fuse_iomap_config_out: 104 B in v7 (cache_maxbytes @96), 96 B before. */
export const IOMAP_CONFIG_OUT_BYTES_V7 = 104;
export const IOMAP_CONFIG_OUT_BYTES_V6 = 96;

export interface IomapConfigIn {
  flags: number;
  maxBytes: number;
  /** v7: the kernel's default per-fork cache size. */
  cacheMaxBytes: number;
}
/** flags u64 @0, maxbytes s64 @8, cache_maxbytes u32 @16 (v7; zero before), zero/padding after. */
export function writeIomapConfigIn(dv: DataView, at: number, c: IomapConfigIn): void {
  for (let i = 0; i < IOMAP_CONFIG_IN_BYTES; i += 4) dv.setUint32(at + i, 0, true);
  dv.setBigUint64(at, BigInt(c.flags), true);
  dv.setBigInt64(at + 8, BigInt(c.maxBytes), true);
  dv.setUint32(at + 16, c.cacheMaxBytes, true);
}
export function readIomapConfigIn(body: Uint8Array): IomapConfigIn {
  if (body.byteLength !== IOMAP_CONFIG_IN_BYTES) throw new FuseDecodeError(`FUSE_IOMAP_CONFIG: need ${IOMAP_CONFIG_IN_BYTES} bytes, have ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { flags: Number(dv.getBigUint64(0, true)), maxBytes: Number(dv.getBigInt64(8, true)), cacheMaxBytes: dv.getUint32(16, true) };
}

export interface IomapConfigOut {
  flags: number;
  blockBytes: number;
  maxBytes: number;
  /** Valid only with IomapConfig.CACHE_MAXBYTES (v7); 0 = keep the kernel default. */
  cacheMaxBytes: number;
}
/** flags u64 @0, s_blocksize u32 @60, s_maxbytes s64 @88, cache_maxbytes u32 @96 (v7); other fields zero. */
export function writeIomapConfigOut(dv: DataView, at: number, c: IomapConfigOut, sizeBytes: number): void {
  for (let i = 0; i < sizeBytes; i += 4) dv.setUint32(at + i, 0, true);
  dv.setBigUint64(at, BigInt(c.flags), true);
  dv.setUint32(at + 60, c.blockBytes, true);
  dv.setBigInt64(at + 88, BigInt(c.maxBytes), true);
  if (sizeBytes >= IOMAP_CONFIG_OUT_BYTES_V7) dv.setUint32(at + 96, c.cacheMaxBytes, true);
}
/** A shorter (pre-v7, 96 B) reply is accepted: cache_maxbytes then reads as 0 (keep the default). */
export function readIomapConfigOut(body: Uint8Array): IomapConfigOut {
  if (body.byteLength < IOMAP_CONFIG_OUT_BYTES_V6) throw new FuseDecodeError(`FUSE_IOMAP_CONFIG reply: need ${IOMAP_CONFIG_OUT_BYTES_V6} bytes, have ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return {
    flags: Number(dv.getBigUint64(0, true)), blockBytes: dv.getUint32(60, true), maxBytes: Number(dv.getBigInt64(88, true)),
    cacheMaxBytes: body.byteLength >= IOMAP_CONFIG_OUT_BYTES_V7 ? dv.getUint32(96, true) : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// The classic (non-iomap) data path and link(2): upstream include/uapi/linux/fuse.h layouts.

/** fuse_read_in: fh u64 @0, offset u64 @8, size u32 @16, read_flags u32 @20, lock_owner u64 @24, flags u32 @32, padding u32 @36. */
export const READ_IN_BYTES = 40;
/** fuse_write_in: fh u64 @0, offset u64 @8, size u32 @16, write_flags u32 @20, lock_owner u64 @24, flags u32 @32, padding u32 @36; the data follows. */
export const WRITE_IN_BYTES = 40;
/** fuse_write_in.write_flags: the write comes from the page cache (buffered), not O_DIRECT. */
export const FUSE_WRITE_CACHE = 1 << 0;
/** fuse_link_in: oldnodeid u64; the new name (NUL-terminated) follows. Sent with nodeid = the new parent directory. */
export const LINK_IN_BYTES = 8;
/** FUSE_DEFAULT_MAX_PAGES_PER_REQ: without FUSE_MAX_PAGES in INIT (the sim does not offer it) a request carries at most 32 pages. */
export const FUSE_DEFAULT_MAX_PAGES = 32;
/** The kernel never uses a max_write below 4096 (fuse_init's max_t). */
export const FUSE_MIN_MAX_WRITE = 4096;

interface RwIn { posBytes: number; sizeBytes: number; flags: number }
/** fuse_read_in / fuse_write_in share fh @0, offset @8, size @16 and read_flags/write_flags @20. */
export function writeRwIn(dv: DataView, at: number, fh: number, posBytes: number, sizeBytes: number, flags: number): void {
  dv.setBigUint64(at, BigInt(fh), true);
  dv.setBigUint64(at + 8, BigInt(posBytes), true);
  dv.setUint32(at + 16, sizeBytes, true);
  dv.setUint32(at + 20, flags, true);
}
export function readRwIn(body: Uint8Array, what: 'fuse_read_in' | 'fuse_write_in'): RwIn {
  if (body.byteLength < READ_IN_BYTES) throw new FuseDecodeError(`${what}: expected ${READ_IN_BYTES} bytes, got ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { posBytes: Number(dv.getBigUint64(8, true)), sizeBytes: dv.getUint32(16, true), flags: dv.getUint32(20, true) };
}
export function readLinkIn(body: Uint8Array): { oldNodeId: NodeId; name: string } {
  if (body.byteLength < LINK_IN_BYTES + 1) throw new FuseDecodeError(`fuse_link_in: expected ${LINK_IN_BYTES} bytes and a name, got ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { oldNodeId: asNodeId(Number(dv.getBigUint64(0, true))), name: readLookupName(body.subarray(LINK_IN_BYTES)) };
}

// Open and close (upstream include/uapi/linux/fuse.h; unchanged by the iomap series, §1.5).

/** fuse_open_in: flags u32 (the file's f_flags), open_flags u32 (FUSE_OPEN_KILL_SUIDGID, …). */
export const OPEN_IN_BYTES = 8;
/** fuse_open_out: fh u64, open_flags u32 (FOPEN_*), backing_id s32 (padding before passthrough). */
export const OPEN_OUT_BYTES = 16;
/** fuse_release_in: fh u64, flags u32, release_flags u32, lock_owner u64. No reply body. */
export const RELEASE_IN_BYTES = 24;

export function writeOpenIn(dv: DataView, at: number, flags: number): void {
  dv.setUint32(at, flags, true);
  dv.setUint32(at + 4, 0, true);
}
export function readOpenIn(body: Uint8Array): { flags: number } {
  if (body.byteLength < OPEN_IN_BYTES) throw new FuseDecodeError(`fuse_open_in: expected ${OPEN_IN_BYTES} bytes, got ${body.byteLength}`);
  return { flags: new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0, true) };
}
export function writeOpenOut(dv: DataView, at: number, fh: number): void {
  dv.setBigUint64(at, BigInt(fh), true);
  dv.setUint32(at + 8, 0, true);
  dv.setInt32(at + 12, 0, true);
}
export function readOpenOut(body: Uint8Array): { fh: number; openFlags: number } {
  if (body.byteLength < OPEN_OUT_BYTES) throw new FuseDecodeError(`fuse_open_out: expected ${OPEN_OUT_BYTES} bytes, got ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { fh: Number(dv.getBigUint64(0, true)), openFlags: dv.getUint32(8, true) };
}
export function writeReleaseIn(dv: DataView, at: number, fh: number, flags: number): void {
  dv.setBigUint64(at, BigInt(fh), true);
  dv.setUint32(at + 8, flags, true);
  dv.setUint32(at + 12, 0, true); // release_flags: no FLUSH / FLOCK_UNLOCK in the sim
  dv.setBigUint64(at + 16, 0n, true); // lock_owner: only with FUSE_RELEASE_FLOCK_UNLOCK
}
export function readReleaseIn(body: Uint8Array): { fh: number; flags: number } {
  if (body.byteLength < RELEASE_IN_BYTES) throw new FuseDecodeError(`fuse_release_in: expected ${RELEASE_IN_BYTES} bytes, got ${body.byteLength}`);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  return { fh: Number(dv.getBigUint64(0, true)), flags: dv.getUint32(8, true) };
}
