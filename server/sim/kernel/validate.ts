// Kernel validation of a mapping received in an IOMAP_BEGIN reply (docs/domain.md §1.4).
// Returns null when the mapping is acceptable, else the message the kernel's
// fuse_iomap_bad_data tracepoint would carry; the caller fails the IO with -EFSCORRUPTED.

import { MAP_FLAGS_SERVER_MASK, MapType, NULL_ADDR, type IomapIo } from '../../../src/trace/fuse-proto.ts';
import type { Slot } from '../../../src/trace/schema.ts';

export interface ValidateContext {
  posBytes: number;
  blockBytes: number;
  /** Superblock s_maxbytes. */
  maxBytes: number;
  /** The inode already has a mapping cache (RETRY_CACHE is only legal then). */
  hasCache: boolean;
  isDevRegistered: (dev: number) => boolean;
}

const U64_MAX = 0xffff_ffff_ffff_ffffn;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The range and address rules of validateMapping in numbers, for fields below 2^53 (every mapping
 * a sane server sends): the bigint path allocated a dozen BigInts per mapping, three mappings per
 * upcall. Same checks, same order, same messages; u64 overflow cannot happen below 2^53 + 2^53.
 */
function checkSafe(io: IomapIo, what: string, ctx: ValidateContext): string | null {
  const off = Number(io.offsetBytes), len = Number(io.lenBytes);
  if (off % ctx.blockBytes !== 0 || len % ctx.blockBytes !== 0) return `${what}: offset/length not aligned to ${ctx.blockBytes}`;
  if (off >= ctx.maxBytes) return `${what}: offset beyond s_maxbytes`;
  if (ctx.posBytes < off || ctx.posBytes >= off + len) return `${what}: does not contain pos ${ctx.posBytes}`;
  switch (io.type) {
    case MapType.MAPPED: case MapType.UNWRITTEN:
      if (io.dev === 0 || !ctx.isDevRegistered(io.dev)) return `${what}: device ${io.dev} is not a registered iomap device`;
      if (io.addr === NULL_ADDR) return `${what}: null address for a ${io.type === MapType.MAPPED ? 'mapped' : 'unwritten'} extent`;
      break;
    case MapType.HOLE: case MapType.DELALLOC: case MapType.INLINE:
      if (io.dev !== 0 || io.addr !== NULL_ADDR) return `${what}: hole/delalloc/inline must have null device and address`;
      break;
  }
  return null;
}

export function validateMapping(io: IomapIo, slot: Slot, ctx: ValidateContext): string | null {
  const what = slot === 'read' ? 'read mapping' : 'write mapping'; // constants: no string built per call
  switch (io.type) {
    case MapType.HOLE: case MapType.DELALLOC: case MapType.MAPPED: case MapType.UNWRITTEN: case MapType.INLINE:
      break;
    case MapType.PURE_OVERWRITE:
      if (slot !== 'write') return `${what}: pure overwrite is only allowed in the write slot`;
      break;
    case MapType.RETRY_CACHE:
      if (slot !== 'read') return `${what}: retry_cache is only allowed in the read slot`;
      if (!ctx.hasCache) return `${what}: retry_cache but the inode has no mapping cache`;
      break;
    case MapType.NOCACHE:
      return `${what}: nocache is not allowed in a begin reply`;
    default:
      return `${what}: unknown type ${io.type}`;
  }
  if ((io.flags & ~MAP_FLAGS_SERVER_MASK) !== 0) return `${what}: unknown or kernel-only flags 0x${io.flags.toString(16)}`;
  if (io.lenBytes === 0n) return `${what}: zero length`;
  if (io.offsetBytes <= MAX_SAFE && io.lenBytes <= MAX_SAFE && (io.addr === NULL_ADDR || io.addr <= MAX_SAFE)) {
    return checkSafe(io, what, ctx);
  }
  const block = BigInt(ctx.blockBytes);
  if (io.offsetBytes % block !== 0n || io.lenBytes % block !== 0n) return `${what}: offset/length not aligned to ${ctx.blockBytes}`;
  if (io.offsetBytes + io.lenBytes > U64_MAX) return `${what}: offset + length overflows`;
  if (io.offsetBytes >= BigInt(ctx.maxBytes)) return `${what}: offset beyond s_maxbytes`;
  const pos = BigInt(ctx.posBytes);
  if (pos < io.offsetBytes || pos >= io.offsetBytes + io.lenBytes) return `${what}: does not contain pos ${ctx.posBytes}`;
  switch (io.type) {
    case MapType.MAPPED: case MapType.UNWRITTEN:
      if (io.dev === 0 || !ctx.isDevRegistered(io.dev)) return `${what}: device ${io.dev} is not a registered iomap device`;
      if (io.addr === NULL_ADDR) return `${what}: null address for a ${io.type === MapType.MAPPED ? 'mapped' : 'unwritten'} extent`;
      if (io.addr + io.lenBytes > U64_MAX) return `${what}: addr + length overflows`;
      break;
    case MapType.HOLE: case MapType.DELALLOC: case MapType.INLINE:
      if (io.dev !== 0 || io.addr !== NULL_ADDR) return `${what}: hole/delalloc/inline must have null device and address`;
      break;
  }
  return null;
}
