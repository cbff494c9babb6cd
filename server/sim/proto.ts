// FUSE pieces the simulator needs that src/trace/fuse-proto.ts does not carry: FUSE_LOOKUP's
// body (a NUL-terminated name) and its fuse_entry_out reply, plus small helpers shared by both
// halves. Layouts are upstream include/uapi/linux/fuse.h (fuse_entry_out = 40 B + fuse_attr 88 B).

import { FuseDecodeError, type IomapIo } from '../../src/trace/fuse-proto.ts';
import type { MapFields } from '../../src/trace/schema.ts';

export const ENTRY_OUT_BYTES = 128;
const ATTR_AT = 40;

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const O_RDONLY = 0;
export const O_RDWR = 2;
/** x86/arm value. */
export const O_DIRECT = 0o40000;

export interface EntryOut {
  nodeId: number;
  ino: number;
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
    nodeId: Number(dv.getBigUint64(0, true)),
    ino: Number(dv.getBigUint64(a, true)),
    sizeBytes: Number(dv.getBigUint64(a + 8, true)),
    mode: dv.getUint32(a + 60, true),
    nlink: dv.getUint32(a + 64, true),
    attrFlags: dv.getUint32(a + 84, true),
  };
}

/** Flattens a mapping for events (schema MapFields); addr stays bigint. */
export function mapFields(io: IomapIo): MapFields {
  return {
    mapType: io.type,
    mapFlags: io.flags,
    mapOffsetBytes: Number(io.offsetBytes),
    mapLenBytes: Number(io.lenBytes),
    mapAddr: io.addr,
    mapDev: io.dev,
  };
}
