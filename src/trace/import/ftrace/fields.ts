// Field readers shared by the tracepoint tables: the series' building blocks (docs/domain.md
// §4.4, from the series' fs/fuse/fuse_trace.h), each read positionally from a body cursor:
//   INODE  connection %u ino %llu nodeid %llu isize 0x%llx [idisksize 0x%llx]   (idisksize: v7)
//   RANGE  <prefix>pos 0x%llx length 0x%llx
//   MAP    <prefix>offset 0x%llx length 0x%llx type %s dev %u addr 0x%llx mapflags (%s)
//   IODIR  iodir read|write
// Flag sets (`__print_flags`: `a|b`, unknown bits as one hex value) go through ctx.flags.
import type { Fork } from '../../schema.ts';
import { MAP_TYPE_UNKNOWN, mapFlagStrings, mapTypeFromName } from '../../fuse-proto.ts';
import type { TracepointContext } from './context.ts';
import { BodyError, parseNum, type Cursor } from './cursor.ts';
import { asNodeId, asIno, type NodeId, type Ino } from '../../ids.ts';

/** INODE prefix: v7 has idisksize, v6 and earlier do not (then 0). fsDev: the connection (a 32-bit dev_t). */
export function inode(c: Cursor): { fsDev: number; nodeId: NodeId; ino: Ino; isize: number; idisksize: number } {
  const fsDev = c.num('connection');
  const ino = asIno(c.num('ino'));
  const nodeId = asNodeId(c.num('nodeid'));
  const isize = c.num('isize');
  const idisksize = c.has('idisksize') ? c.num('idisksize') : 0;
  return { fsDev, nodeId, ino, isize, idisksize };
}

/** RANGE: `pos` and `length` (posKey: `pos`, or a prefixed `readpos`/`writepos`). */
export function range(c: Cursor, posKey = 'pos'): { posBytes: number; lenBytes: number } {
  const posBytes = c.num(posKey);
  const lenBytes = c.num('length');
  return { posBytes, lenBytes };
}

interface MapFields {
  mapOffsetBytes: number; mapLenBytes: number; mapType: number; mapDev: number; mapAddr: bigint; mapFlags: number;
  /** The type as printed when it is not one fusescope knows (mapType is then MAP_TYPE_UNKNOWN), else ''. */
  rawType: string;
}

/**
 * MAP with its field prefix ('' or `read`, `write`, `map`, `got`); the type by name, or a hex
 * number (a value missing from the kernel's table), or else an unknown name kept in rawType.
 */
export function map(ctx: TracepointContext, c: Cursor, prefix: string): MapFields {
  const mapOffsetBytes = c.num(prefix + 'offset');
  const mapLenBytes = c.num('length');
  const { mapType, rawType } = mapTypeOf(c.token('type'));
  const mapDev = c.num('dev');
  const mapAddr = c.u64('addr');
  const mapFlags = ctx.flags(c.paren('mapflags'), mapFlagStrings, 'mapping flag');
  return { mapOffsetBytes, mapLenBytes, mapType, mapDev, mapAddr, mapFlags, rawType };
}

/**
 * A printed mapping type: a known name (`lookupName`, the series' lower-case strings), a number (a
 * value missing from the kernel's table), or else MAP_TYPE_UNKNOWN with the printed string kept.
 */
export function mapTypeOf(lookupName: string, printed = lookupName): { mapType: number; rawType: string } {
  const mapType = mapTypeFromName(lookupName) ?? parseNum(printed);
  return Number.isNaN(mapType) ? { mapType: MAP_TYPE_UNKNOWN, rawType: printed } : { mapType, rawType: '' };
}

export function iodir(c: Cursor): Fork {
  const d = c.token('iodir');
  if (d !== 'read' && d !== 'write') throw new BodyError(c.p, `iodir must be read or write, not '${d}'`);
  return d;
}

/** `8:16` → dev_t as the kernel encodes it in 32 bits (major << 20 | minor). */
export function devT(text: string): number {
  const colon = text.indexOf(':');
  if (colon < 0) return Number(text) || 0;
  return ((Number(text.slice(0, colon)) << 20) | Number(text.slice(colon + 1))) >>> 0;
}
