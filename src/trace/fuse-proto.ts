// FUSE + fuse-iomap protocol constants and byte-exact struct codecs.
//
// Every number here is a protocol value from docs/domain.md (§1) — the
// upstream FUSE framing plus Darrick Wong's fuse-iomap series (values as in v6/v7 unless a
// revision table says otherwise). The simulator's kernel and server halves talk to each other
// only through buffers built with these codecs, exactly as a real kernel and server would.

// ---------------------------------------------------------------------------------------------
// Opcodes (fuse_in_header.opcode)

export const Opcode = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  SYMLINK: 6,
  MKNOD: 8,
  MKDIR: 9,
  UNLINK: 10,
  RMDIR: 11,
  RENAME: 12,
  LINK: 13,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  SETXATTR: 21,
  GETXATTR: 22,
  LISTXATTR: 23,
  REMOVEXATTR: 24,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  GETLK: 31,
  SETLK: 32,
  SETLKW: 33,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  BMAP: 37,
  DESTROY: 38,
  IOCTL: 39,
  POLL: 40,
  NOTIFY_REPLY: 41,
  BATCH_FORGET: 42,
  FALLOCATE: 43,
  READDIRPLUS: 44,
  RENAME2: 45,
  LSEEK: 46,
  COPY_FILE_RANGE: 47,
  SETUPMAPPING: 48,
  REMOVEMAPPING: 49,
  SYNCFS: 50,
  TMPFILE: 51,
  STATX: 52,
  COPY_FILE_RANGE_64: 53,
  // fuse-iomap series (§1.2): chosen just below CUSE_INIT.
  FREEZE_FS: 4089,
  UNFREEZE_FS: 4090,
  SHUTDOWN_FS: 4091,
  IOMAP_CONFIG: 4092,
  IOMAP_IOEND: 4093,
  IOMAP_BEGIN: 4094,
  IOMAP_END: 4095,
  CUSE_INIT: 4096,
} as const;
export type OpcodeName = keyof typeof Opcode;

const opcodeNames = new Map<number, string>(
  Object.entries(Opcode).map(([name, value]) => [value, `FUSE_${name}`]),
);
opcodeNames.set(Opcode.CUSE_INIT, 'CUSE_INIT');

/** `FUSE_IOMAP_BEGIN` for 4094; unknown opcodes print as hex, like the kernel's __print_symbolic. */
export function opcodeName(opcode: number): string {
  return opcodeNames.get(opcode) ?? `0x${opcode.toString(16)}`;
}

// ---------------------------------------------------------------------------------------------
// Mapping types (fuse_iomap_io.type, §1.6) and their trace strings.

export const MapType = {
  HOLE: 0,
  DELALLOC: 1,
  MAPPED: 2,
  UNWRITTEN: 3,
  INLINE: 4,
  NOCACHE: 253,
  RETRY_CACHE: 254,
  PURE_OVERWRITE: 255,
} as const;
export type MapTypeValue = (typeof MapType)[keyof typeof MapType];
/**
 * Not a protocol value: fusescope's code for a type string it does not know (a newer revision's),
 * kept with the string itself in the event's `rawType`. Unused by every revision of the series.
 */
export const MAP_TYPE_UNKNOWN = 128;

const mapTypeTrace: Record<number, string> = {
  0: 'hole', 1: 'delalloc', 2: 'mapped', 3: 'unwritten', 4: 'inline',
  253: 'nocache', 254: 'retry', 255: 'overwrite',
};
export function mapTypeName(type: number): string {
  return mapTypeTrace[type] ?? `0x${type.toString(16)}`;
}
const mapTypeByName = new Map(Object.entries(mapTypeTrace).map(([value, str]) => [str, Number(value)]));
/** Inverse of mapTypeName for the named types (a map: the importers call it per mapping line). */
export function mapTypeFromName(name: string): number | undefined {
  return mapTypeByName.get(name);
}

// Mapping flags FUSE_IOMAP_F_* (v6/v7 values, §1.7).
export const MapFlag = {
  NEW: 1 << 0,
  DIRTY: 1 << 1,
  SHARED: 1 << 2,
  MERGED: 1 << 3,
  BOUNDARY: 1 << 4,
  ANON_WRITE: 1 << 5,
  ATOMIC_BIO: 1 << 6,
  WANT_IOMAP_END: 1 << 7,
  SIZE_CHANGED: 1 << 8, // kernel → server only
  STALE: 1 << 9, // kernel → server only
} as const;
/** Flags a server may set in a mapping it sends (§1.4: NEW…WANT_IOMAP_END). */
export const MAP_FLAGS_SERVER_MASK = (1 << 8) - 1;
export const mapFlagStrings: ReadonlyArray<readonly [number, string]> = [
  [MapFlag.NEW, 'new'], [MapFlag.DIRTY, 'dirty'], [MapFlag.SHARED, 'shared'],
  [MapFlag.MERGED, 'merged'], [MapFlag.BOUNDARY, 'boundary'], [MapFlag.ANON_WRITE, 'anon_write'],
  [MapFlag.ATOMIC_BIO, 'atomic'], [MapFlag.WANT_IOMAP_END, 'iomap_end'],
  [MapFlag.SIZE_CHANGED, 'append'], [MapFlag.STALE, 'stale'],
];

// Operation flags FUSE_IOMAP_OP_* (§1.8).
export const OpFlag = {
  WRITE: 1 << 0,
  ZERO: 1 << 1,
  REPORT: 1 << 2,
  FAULT: 1 << 3,
  DIRECT: 1 << 4,
  NOWAIT: 1 << 5,
  OVERWRITE_ONLY: 1 << 6,
  UNSHARE: 1 << 7,
  DAX: 1 << 8,
  ATOMIC: 1 << 9,
  DONTCACHE: 1 << 10,
  SWAPFILE: 1 << 30,
  WRITEBACK: 2 ** 31, // 1<<31 would be negative in JS int32 arithmetic
} as const;
export const opFlagStrings: ReadonlyArray<readonly [number, string]> = [
  [OpFlag.WRITE, 'write'], [OpFlag.ZERO, 'zero'], [OpFlag.REPORT, 'report'], [OpFlag.FAULT, 'fault'],
  [OpFlag.DIRECT, 'direct'], [OpFlag.NOWAIT, 'nowait'], [OpFlag.OVERWRITE_ONLY, 'overwrite'],
  [OpFlag.UNSHARE, 'unshare'], [OpFlag.DAX, 'fsdax'], [OpFlag.ATOMIC, 'atomic'],
  [OpFlag.DONTCACHE, 'dontcache'], [OpFlag.WRITEBACK, 'writeback'],
];
/** "Write-ish" ops (§1.8): the write mapping becomes the destination. */
export function isWriteish(opflags: number): boolean {
  return (opflags & (OpFlag.WRITE | OpFlag.ZERO | OpFlag.UNSHARE)) !== 0 || opflags >= OpFlag.WRITEBACK;
}

// IOEND flags FUSE_IOMAP_IOEND_* (§1.9).
export const IoendFlag = {
  SHARED: 1 << 0,
  UNWRITTEN: 1 << 1,
  BOUNDARY: 1 << 2,
  DIRECT: 1 << 3,
  APPEND: 1 << 4,
  WRITEBACK: 1 << 5,
  SWAPOFF: 1 << 6,
} as const;
/**
 * fusescope's bits for the fuse_inode state names `fuse_iomap_init_inode` / `_evict_inode` print
 * (the series' fuse_trace.h state strings). The kernel's own bit numbers are internal and not in
 * the trace, so these are ours; only the names come from the kernel.
 */
export const InodeState = {
  ADVISE_RDPLUS: 1 << 0, INIT_RDPLUS: 1 << 1, SIZE_UNSTABLE: 1 << 2, BAD: 1 << 3, BTIME: 1 << 4,
  CACHEIO: 1 << 5, EXCL: 1 << 6, IOMAP: 1 << 7, ATOMIC: 1 << 8, IOMAP_CACHE: 1 << 9,
} as const;
export const inodeStateStrings: ReadonlyArray<readonly [number, string]> = [
  [InodeState.ADVISE_RDPLUS, 'advise_rdplus'], [InodeState.INIT_RDPLUS, 'init_rdplus'],
  [InodeState.SIZE_UNSTABLE, 'size_unstable'], [InodeState.BAD, 'bad'], [InodeState.BTIME, 'btime'],
  [InodeState.CACHEIO, 'cacheio'], [InodeState.EXCL, 'excl'], [InodeState.IOMAP, 'iomap'],
  [InodeState.ATOMIC, 'atomic'], [InodeState.IOMAP_CACHE, 'iomap_cache'],
];

export const ioendFlagStrings: ReadonlyArray<readonly [number, string]> = [
  [IoendFlag.SHARED, 'shared'], [IoendFlag.UNWRITTEN, 'unwritten'], [IoendFlag.BOUNDARY, 'boundary'],
  [IoendFlag.DIRECT, 'direct'], [IoendFlag.APPEND, 'append'], [IoendFlag.WRITEBACK, 'writeback'],
];

/** Prints a flag word the way the kernel's __print_flags does: `a|b`, leftover bits as one hex value. */
export function formatFlags(value: number, table: ReadonlyArray<readonly [number, string]>): string {
  const parts: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of table) {
    if (bit >= 2 ** 31 ? rest >= bit : (rest & bit) !== 0) {
      parts.push(name);
      rest = bit >= 2 ** 31 ? rest - bit : rest & ~bit;
    }
  }
  if (rest !== 0) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

/** Parses `a|b|0x40` back into a number; unknown names are returned for the caller to report. */
export function parseFlags(
  text: string,
  table: ReadonlyArray<readonly [number, string]>,
): { value: number; unknown: string[] } {
  let value = 0;
  const unknown: string[] = [];
  for (const part of text.split('|')) {
    if (part === '') continue;
    const hit = table.find(([, name]) => name === part);
    if (hit) value += hit[0];
    else if (/^0x[0-9a-f]+$/i.test(part)) value += Number.parseInt(part, 16);
    else unknown.push(part);
  }
  return { value, unknown };
}

// ---------------------------------------------------------------------------------------------
// Protocol revisions. The series renumbered notify codes and resized structs between postings
// (§0, §1.3); the simulator takes the revision as a setting and decoders must pin one.

export type ProtocolRevision = 'rfc-v1' | 'v3' | 'v5' | 'v6' | 'v7';
export const PROTOCOL_REVISIONS: readonly ProtocolRevision[] = ['rfc-v1', 'v3', 'v5', 'v6', 'v7'];

export interface RevisionTraits {
  /** Kernel mapping cache + RETRY_CACHE replies exist (v3+). */
  hasMappingCache: boolean;
  /** iomap_valid revalidation through the cache sequence number (v3+; RFC v1 had none). */
  hasValidityCookies: boolean;
  notifyUpsert: number | null;
  notifyInval: number | null;
  notifyDevInval: number | null;
  /** Size of fuse_iomap_ioend_in (48 in v7, 40 before). */
  ioendInBytes: number;
  /** v7 replies to IOEND with fuse_iomap_ioend_out {u64 newsize}. */
  ioendHasReply: boolean;
  /**
   * fuse_attr.flags bits that must all be set for the kernel to put a regular file on the iomap
   * path when it instantiates the inode (§1.10); null = no per-inode switch (RFC v1: every regular
   * file of an iomap connection).
   */
  attrIomapBits: number | null;
  /**
   * libfuse's high-level (path) API refuses link() of an iomap file with EPERM and enables iomap
   * only for st_nlink < 2 (fuse_fs_can_enable_iomap; v6 patch "libfuse: don't allow hardlinking
   * of iomap files", §5.4).
   */
  pathApiSingleLinkIomap: boolean;
}

/**
 * fuse_attr.flags bits of the series (§1.10). The values moved: v3 had IOMAP_DIRECTIO 1<<2 and
 * IOMAP_FILEIO 1<<3; v4–v6 FUSE_ATTR_IOMAP 1<<2; v7 added FUSE_ATTR_EXCLUSIVE at 1<<2 and moved
 * FUSE_ATTR_IOMAP to 1<<3 (ignored unless EXCLUSIVE is also set).
 */
export const AttrFlag = {
  V3_IOMAP_DIRECTIO: 1 << 2,
  V3_IOMAP_FILEIO: 1 << 3,
  V4_IOMAP: 1 << 2,
  V7_EXCLUSIVE: 1 << 2,
  V7_IOMAP: 1 << 3,
} as const;

/** Does an entry/attr reply's fuse_attr.flags put a regular file on the iomap path at this revision? */
export function attrEnablesIomap(rev: RevisionTraits, attrFlags: number): boolean {
  return rev.attrIomapBits === null || (attrFlags & rev.attrIomapBits) === rev.attrIomapBits;
}

export const REVISIONS: Record<ProtocolRevision, RevisionTraits> = {
  'rfc-v1': {
    hasMappingCache: false, hasValidityCookies: false,
    notifyUpsert: null, notifyInval: null, notifyDevInval: null,
    ioendInBytes: 40, ioendHasReply: false,
    attrIomapBits: null, pathApiSingleLinkIomap: false,
  },
  v3: {
    hasMappingCache: true, hasValidityCookies: true,
    notifyUpsert: 9, notifyInval: 10, notifyDevInval: null,
    ioendInBytes: 40, ioendHasReply: false,
    // The sim treats a v3 file as iomap only with both bits (direct and file IO); one alone is not modelled.
    attrIomapBits: AttrFlag.V3_IOMAP_DIRECTIO | AttrFlag.V3_IOMAP_FILEIO, pathApiSingleLinkIomap: false,
  },
  // RFC v5 (as v4): notify codes 10/11 (DEV_INVAL 9), 40-byte ioend, per-inode FUSE_ATTR_IOMAP (§1.3, §1.10).
  v5: {
    hasMappingCache: true, hasValidityCookies: true,
    notifyUpsert: 10, notifyInval: 11, notifyDevInval: 9,
    ioendInBytes: 40, ioendHasReply: false,
    attrIomapBits: AttrFlag.V4_IOMAP, pathApiSingleLinkIomap: false,
  },
  v6: {
    hasMappingCache: true, hasValidityCookies: true,
    notifyUpsert: 100, notifyInval: 101, notifyDevInval: 99,
    ioendInBytes: 40, ioendHasReply: false,
    attrIomapBits: AttrFlag.V4_IOMAP, pathApiSingleLinkIomap: true,
  },
  v7: {
    hasMappingCache: true, hasValidityCookies: true,
    notifyUpsert: 100, notifyInval: 101, notifyDevInval: 99,
    ioendInBytes: 48, ioendHasReply: true,
    attrIomapBits: AttrFlag.V7_EXCLUSIVE | AttrFlag.V7_IOMAP, pathApiSingleLinkIomap: true,
  },
};

// ---------------------------------------------------------------------------------------------
// Misc constants

/** FUSE_IOMAP_NULL_ADDR: all-ones, "no storage" (§1.4). */
export const NULL_ADDR = 0xffff_ffff_ffff_ffffn;
/** FUSE_IOMAP_DEV_NULL (§1.4). */
export const DEV_NULL = 0;
/** FUSE_IOMAP_INVAL_TO_EOF (§1.5). */
export const INVAL_TO_EOF = 0xffff_ffff_ffff_ffffn;
/** EFSCORRUPTED == EUCLEAN on x86/arm (§1.4). */
export const EFSCORRUPTED = 117;
export const Errno = {
  EPERM: 1, ENOENT: 2, EIO: 5, EAGAIN: 11, ENOMEM: 12, EEXIST: 17, EINVAL: 22, ENOSPC: 28,
  ENOSYS: 38, ENODATA: 61, ESTALE: 116, EUCLEAN: 117,
} as const;
/** The kernel's per-connection unique counter steps by 2 (FUSE_REQ_ID_STEP, §1.1). */
export const FUSE_REQ_ID_STEP = 2;
/** Mapping cache limits (§3.1): per-fork cap counted as records × 32 B. */
export const CACHE_DEFAULT_MAX_BYTES = 256 * 1024;
export const CACHE_MAX_MAX_BYTES = 2 * 1024 * 1024;
export const CACHE_RECORD_BYTES = 32;
/** ic_seq value reserved for "always valid" (mappings straight from a BEGIN reply, §2.6). */
export const ALWAYS_VALID_COOKIE = 0;

// ---------------------------------------------------------------------------------------------
// Struct layouts (little-endian, as on x86/arm). Sizes from §1.1 and §1.5.

export const IN_HEADER_BYTES = 40;
export const OUT_HEADER_BYTES = 16;
export const IOMAP_IO_BYTES = 32;
export const IOMAP_BEGIN_IN_BYTES = 32;
export const IOMAP_BEGIN_OUT_BYTES = 64;
export const IOMAP_END_IN_BYTES = 72;
export const IOMAP_IOEND_OUT_BYTES = 8;
export const UPSERT_MAPPINGS_OUT_BYTES = 80;
export const INVAL_MAPPINGS_OUT_BYTES = 48;

export interface InHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: bigint;
  uid: number;
  gid: number;
  pid: number;
}
export interface OutHeader {
  len: number;
  /** 0 or -errno for replies; the notify code for notifications (unique = 0). */
  error: number;
  unique: bigint;
}
/** struct fuse_iomap_io. */
export interface IomapIo {
  offsetBytes: bigint;
  lenBytes: bigint;
  addr: bigint;
  type: number;
  flags: number;
  dev: number;
}
export interface IomapBeginIn {
  opflags: number;
  attrIno: bigint;
  posBytes: bigint;
  countBytes: bigint;
}
export interface IomapBeginOut {
  read: IomapIo;
  write: IomapIo;
}
export interface IomapEndIn {
  opflags: number;
  attrIno: bigint;
  posBytes: bigint;
  countBytes: bigint;
  writtenBytes: bigint;
  map: IomapIo;
}
export interface IomapIoendIn {
  flags: number;
  error: number;
  attrIno: bigint;
  posBytes: bigint;
  newAddr: bigint;
  writtenBytes: bigint;
  dev: number;
}
export interface UpsertMappingsOut {
  nodeid: bigint;
  attrIno: bigint;
  read: IomapIo;
  write: IomapIo;
}
export interface FuseRange {
  offsetBytes: bigint;
  lenBytes: bigint;
}
export interface InvalMappingsOut {
  nodeid: bigint;
  attrIno: bigint;
  read: FuseRange;
  write: FuseRange;
}

/** Thrown by decoders on a buffer of the wrong size; callers turn it into an errno reply or diag. */
export class FuseDecodeError extends Error {}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}
function need(buf: Uint8Array, at: number, bytes: number, what: string): void {
  if (buf.byteLength < at + bytes) {
    throw new FuseDecodeError(`${what}: need ${bytes} bytes at offset ${at}, have ${buf.byteLength - at}`);
  }
}

export function writeInHeader(dv: DataView, at: number, h: InHeader): void {
  dv.setUint32(at, h.len, true);
  dv.setUint32(at + 4, h.opcode, true);
  dv.setBigUint64(at + 8, h.unique, true);
  dv.setBigUint64(at + 16, h.nodeid, true);
  dv.setUint32(at + 24, h.uid, true);
  dv.setUint32(at + 28, h.gid, true);
  dv.setUint32(at + 32, h.pid, true);
  dv.setUint16(at + 36, 0, true); // total_extlen
  dv.setUint16(at + 38, 0, true); // padding
}
export function readInHeader(buf: Uint8Array): InHeader {
  need(buf, 0, IN_HEADER_BYTES, 'fuse_in_header');
  const dv = view(buf);
  return {
    len: dv.getUint32(0, true),
    opcode: dv.getUint32(4, true),
    unique: dv.getBigUint64(8, true),
    nodeid: dv.getBigUint64(16, true),
    uid: dv.getUint32(24, true),
    gid: dv.getUint32(28, true),
    pid: dv.getUint32(32, true),
  };
}
export function writeOutHeader(dv: DataView, at: number, h: OutHeader): void {
  dv.setUint32(at, h.len, true);
  dv.setInt32(at + 4, h.error, true);
  dv.setBigUint64(at + 8, h.unique, true);
}
export function readOutHeader(buf: Uint8Array): OutHeader {
  need(buf, 0, OUT_HEADER_BYTES, 'fuse_out_header');
  const dv = view(buf);
  return { len: dv.getUint32(0, true), error: dv.getInt32(4, true), unique: dv.getBigUint64(8, true) };
}

export function writeIomapIo(dv: DataView, at: number, io: IomapIo): void {
  dv.setBigUint64(at, io.offsetBytes, true);
  dv.setBigUint64(at + 8, io.lenBytes, true);
  dv.setBigUint64(at + 16, io.addr, true);
  dv.setUint16(at + 24, io.type, true);
  dv.setUint16(at + 26, io.flags, true);
  dv.setUint32(at + 28, io.dev, true);
}
export function readIomapIo(dv: DataView, at: number): IomapIo {
  return {
    offsetBytes: dv.getBigUint64(at, true),
    lenBytes: dv.getBigUint64(at + 8, true),
    addr: dv.getBigUint64(at + 16, true),
    type: dv.getUint16(at + 24, true),
    flags: dv.getUint16(at + 26, true),
    dev: dv.getUint32(at + 28, true),
  };
}

/** A whole request: in-header followed by `bodyBytes` of payload that `fill` writes. */
export function encodeRequest(
  h: Omit<InHeader, 'len'>,
  bodyBytes: number,
  fill?: (dv: DataView, at: number) => void,
): Uint8Array {
  // Written field by field (no spread, one DataView): the simulator encodes every message.
  const buf = new Uint8Array(IN_HEADER_BYTES + bodyBytes);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, buf.byteLength, true);
  dv.setUint32(4, h.opcode, true);
  dv.setBigUint64(8, h.unique, true);
  dv.setBigUint64(16, h.nodeid, true);
  dv.setUint32(24, h.uid, true);
  dv.setUint32(28, h.gid, true);
  dv.setUint32(32, h.pid, true);
  if (fill) fill(dv, IN_HEADER_BYTES);
  return buf;
}
/** A whole reply or notification: out-header followed by `bodyBytes` of payload. */
export function encodeReply(
  h: Omit<OutHeader, 'len'>,
  bodyBytes: number,
  fill?: (dv: DataView, at: number) => void,
): Uint8Array {
  const buf = new Uint8Array(OUT_HEADER_BYTES + bodyBytes);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, buf.byteLength, true);
  dv.setInt32(4, h.error, true);
  dv.setBigUint64(8, h.unique, true);
  if (fill) fill(dv, OUT_HEADER_BYTES);
  return buf;
}

export function writeIomapBeginIn(dv: DataView, at: number, b: IomapBeginIn): void {
  dv.setUint32(at, b.opflags >>> 0, true);
  dv.setUint32(at + 4, 0, true);
  dv.setBigUint64(at + 8, b.attrIno, true);
  dv.setBigUint64(at + 16, b.posBytes, true);
  dv.setBigUint64(at + 24, b.countBytes, true);
}
export function readIomapBeginIn(body: Uint8Array): IomapBeginIn {
  need(body, 0, IOMAP_BEGIN_IN_BYTES, 'fuse_iomap_begin_in');
  const dv = view(body);
  return {
    opflags: dv.getUint32(0, true),
    attrIno: dv.getBigUint64(8, true),
    posBytes: dv.getBigUint64(16, true),
    countBytes: dv.getBigUint64(24, true),
  };
}
export function writeIomapBeginOut(dv: DataView, at: number, o: IomapBeginOut): void {
  writeIomapIo(dv, at, o.read);
  writeIomapIo(dv, at + IOMAP_IO_BYTES, o.write);
}
export function readIomapBeginOut(body: Uint8Array): IomapBeginOut {
  // The kernel rejects a successful BEGIN reply of any other size (§1.2).
  if (body.byteLength !== IOMAP_BEGIN_OUT_BYTES) {
    throw new FuseDecodeError(`fuse_iomap_begin_out: expected ${IOMAP_BEGIN_OUT_BYTES} bytes, got ${body.byteLength}`);
  }
  const dv = view(body);
  return { read: readIomapIo(dv, 0), write: readIomapIo(dv, IOMAP_IO_BYTES) };
}
export function writeIomapEndIn(dv: DataView, at: number, e: IomapEndIn): void {
  dv.setUint32(at, e.opflags >>> 0, true);
  dv.setUint32(at + 4, 0, true);
  dv.setBigUint64(at + 8, e.attrIno, true);
  dv.setBigUint64(at + 16, e.posBytes, true);
  dv.setBigUint64(at + 24, e.countBytes, true);
  dv.setBigInt64(at + 32, e.writtenBytes, true);
  writeIomapIo(dv, at + 40, e.map);
}
export function readIomapEndIn(body: Uint8Array): IomapEndIn {
  need(body, 0, IOMAP_END_IN_BYTES, 'fuse_iomap_end_in');
  const dv = view(body);
  return {
    opflags: dv.getUint32(0, true),
    attrIno: dv.getBigUint64(8, true),
    posBytes: dv.getBigUint64(16, true),
    countBytes: dv.getBigUint64(24, true),
    writtenBytes: dv.getBigInt64(32, true),
    map: readIomapIo(dv, 40),
  };
}
/** fuse_iomap_ioend_in: 48 B in v7 (u64 written, u32 dev), 40 B before (u32 written, reserved). */
export function writeIomapIoendIn(dv: DataView, at: number, e: IomapIoendIn, sizeBytes: number): void {
  dv.setUint32(at, e.flags >>> 0, true);
  dv.setInt32(at + 4, e.error, true);
  dv.setBigUint64(at + 8, e.attrIno, true);
  dv.setBigUint64(at + 16, e.posBytes, true);
  dv.setBigUint64(at + 24, e.newAddr, true);
  if (sizeBytes >= 48) {
    dv.setBigUint64(at + 32, e.writtenBytes, true);
    dv.setUint32(at + 40, e.dev, true);
    dv.setUint32(at + 44, 0, true);
  } else {
    dv.setUint32(at + 32, Number(e.writtenBytes), true);
    dv.setUint32(at + 36, 0, true);
  }
}
export function readIomapIoendIn(body: Uint8Array): IomapIoendIn {
  need(body, 0, 40, 'fuse_iomap_ioend_in');
  const dv = view(body);
  const wide = body.byteLength >= 48;
  return {
    flags: dv.getUint32(0, true),
    error: dv.getInt32(4, true),
    attrIno: dv.getBigUint64(8, true),
    posBytes: dv.getBigUint64(16, true),
    newAddr: dv.getBigUint64(24, true),
    writtenBytes: wide ? dv.getBigUint64(32, true) : BigInt(dv.getUint32(32, true)),
    dev: wide ? dv.getUint32(40, true) : 0,
  };
}
export function writeUpsertMappingsOut(dv: DataView, at: number, u: UpsertMappingsOut): void {
  dv.setBigUint64(at, u.nodeid, true);
  dv.setBigUint64(at + 8, u.attrIno, true);
  writeIomapIo(dv, at + 16, u.read);
  writeIomapIo(dv, at + 48, u.write);
}
export function readUpsertMappingsOut(body: Uint8Array): UpsertMappingsOut {
  if (body.byteLength !== UPSERT_MAPPINGS_OUT_BYTES) {
    throw new FuseDecodeError(`fuse_iomap_upsert_mappings_out: expected ${UPSERT_MAPPINGS_OUT_BYTES} bytes, got ${body.byteLength}`);
  }
  const dv = view(body);
  return {
    nodeid: dv.getBigUint64(0, true),
    attrIno: dv.getBigUint64(8, true),
    read: readIomapIo(dv, 16),
    write: readIomapIo(dv, 48),
  };
}
export function writeInvalMappingsOut(dv: DataView, at: number, v: InvalMappingsOut): void {
  dv.setBigUint64(at, v.nodeid, true);
  dv.setBigUint64(at + 8, v.attrIno, true);
  dv.setBigUint64(at + 16, v.read.offsetBytes, true);
  dv.setBigUint64(at + 24, v.read.lenBytes, true);
  dv.setBigUint64(at + 32, v.write.offsetBytes, true);
  dv.setBigUint64(at + 40, v.write.lenBytes, true);
}
export function readInvalMappingsOut(body: Uint8Array): InvalMappingsOut {
  if (body.byteLength !== INVAL_MAPPINGS_OUT_BYTES) {
    throw new FuseDecodeError(`fuse_iomap_inval_mappings_out: expected ${INVAL_MAPPINGS_OUT_BYTES} bytes, got ${body.byteLength}`);
  }
  const dv = view(body);
  return {
    nodeid: dv.getBigUint64(0, true),
    attrIno: dv.getBigUint64(8, true),
    read: { offsetBytes: dv.getBigUint64(16, true), lenBytes: dv.getBigUint64(24, true) },
    write: { offsetBytes: dv.getBigUint64(32, true), lenBytes: dv.getBigUint64(40, true) },
  };
}
