// A minimal FlatBuffers *writer*, enough for Arrow IPC metadata (Schema, Message, Footer). The
// caller describes a table tree; `buildFlatbuffer` lays it out parent-first:
//
//   [u32 root offset] [vtable][table: soffset, fields…] [child table / string / vector] …
//
// Every uoffset points forward (children are written after their parent, breadth first), each
// table's vtable sits right before it (soffset = table - vtable > 0), and every scalar is aligned
// to its size from the buffer start, so a verifying reader (Arrow C++ runs the FlatBuffers
// Verifier with alignment checks) accepts it as long as the buffer itself starts 8-aligned.
// Only what Arrow's .fbs files need is here: scalars, tables, strings, vectors of offsets and
// vectors of (pre-encoded) structs. Spec: flatbuffers.dev "FlatBuffers internals".

export type FbScalarType = 'u8' | 'bool' | 'i16' | 'i32' | 'i64';
export interface FbScalar { kind: 'scalar'; type: FbScalarType; value: number | bigint }
export interface FbTable { kind: 'table'; fields: ReadonlyArray<FbField | undefined> }
export interface FbString { kind: 'string'; value: string }
export interface FbVector { kind: 'vector'; items: readonly FbRef[] }
/** A vector of structs whose bytes the caller encoded; `align` is the struct's alignment. */
export interface FbStructVector { kind: 'structs'; count: number; bytes: Uint8Array; align: 4 | 8 }
export type FbRef = FbTable | FbString | FbVector | FbStructVector;
export type FbField = FbScalar | FbRef;

export const fb = {
  u8: (value: number): FbScalar => ({ kind: 'scalar', type: 'u8', value }),
  bool: (value: boolean): FbScalar => ({ kind: 'scalar', type: 'bool', value: value ? 1 : 0 }),
  i16: (value: number): FbScalar => ({ kind: 'scalar', type: 'i16', value }),
  i32: (value: number): FbScalar => ({ kind: 'scalar', type: 'i32', value }),
  i64: (value: number | bigint): FbScalar => ({ kind: 'scalar', type: 'i64', value }),
  table: (fields: ReadonlyArray<FbField | undefined>): FbTable => ({ kind: 'table', fields }),
  string: (value: string): FbString => ({ kind: 'string', value }),
  vector: (items: readonly FbRef[]): FbVector => ({ kind: 'vector', items }),
  structs: (count: number, bytes: Uint8Array, align: 4 | 8): FbStructVector => ({ kind: 'structs', count, bytes, align }),
};

const SCALAR_BYTES: Record<FbScalarType, number> = { u8: 1, bool: 1, i16: 2, i32: 4, i64: 8 };
const utf8 = new TextEncoder();

class Bytes {
  buf = new Uint8Array(256);
  dv = new DataView(this.buf.buffer);
  pos = 0;
  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.byteLength) return;
    let cap = this.buf.byteLength * 2;
    while (cap < this.pos + extra) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf);
    this.buf = next;
    this.dv = new DataView(next.buffer);
  }
  /** Pads with zeros until (pos + ahead) is a multiple of `n`. */
  align(n: number, ahead = 0): void {
    const pad = (n - ((this.pos + ahead) % n)) % n;
    this.ensure(pad);
    this.pos += pad;
  }
}

function fieldBytes(f: FbField): number {
  return f.kind === 'scalar' ? SCALAR_BYTES[f.type] : 4;
}

/** Serializes `root`; the result's length is a multiple of 8. */
export function buildFlatbuffer(root: FbTable): Uint8Array {
  const w = new Bytes();
  w.ensure(4);
  w.pos = 4;
  const pending: { at: number; node: FbRef }[] = [{ at: 0, node: root }];
  for (let i = 0; i < pending.length; i++) {
    const { at, node } = pending[i]!;
    const where = writeNode(w, node, pending);
    w.dv.setUint32(at, where - at, true);
  }
  w.align(8);
  return w.buf.slice(0, w.pos);
}

function writeNode(w: Bytes, node: FbRef, pending: { at: number; node: FbRef }[]): number {
  switch (node.kind) {
    case 'string': {
      const bytes = utf8.encode(node.value);
      w.align(4);
      const at = w.pos;
      w.ensure(4 + bytes.byteLength + 1);
      w.dv.setUint32(at, bytes.byteLength, true);
      w.buf.set(bytes, at + 4);
      w.pos = at + 4 + bytes.byteLength + 1; // NUL terminator (already zero)
      return at;
    }
    case 'vector': {
      w.align(4);
      const at = w.pos;
      w.ensure(4 + 4 * node.items.length);
      w.dv.setUint32(at, node.items.length, true);
      node.items.forEach((item, i) => pending.push({ at: at + 4 + 4 * i, node: item }));
      w.pos = at + 4 + 4 * node.items.length;
      return at;
    }
    case 'structs': {
      w.align(node.align, 4); // elements start aligned, right after the u32 count
      const at = w.pos;
      w.ensure(4 + node.bytes.byteLength);
      w.dv.setUint32(at, node.count, true);
      w.buf.set(node.bytes, at + 4);
      w.pos = at + 4 + node.bytes.byteLength;
      return at;
    }
    case 'table': {
      let n = node.fields.length;
      while (n > 0 && node.fields[n - 1] === undefined) n--;
      const vtableBytes = 4 + 2 * n;
      w.align(4, vtableBytes); // the table right after the vtable starts 4-aligned
      const vtableAt = w.pos;
      const tableAt = vtableAt + vtableBytes;
      w.ensure(vtableBytes + 4);
      w.pos = tableAt + 4;
      // Widest fields first keeps padding small; each is aligned to its size from buffer start.
      const order = [...node.fields.keys()].slice(0, n).filter((i) => node.fields[i] !== undefined)
        .sort((a, b) => fieldBytes(node.fields[b]!) - fieldBytes(node.fields[a]!));
      for (const i of order) {
        const f = node.fields[i]!;
        const size = fieldBytes(f);
        w.align(size);
        w.ensure(size);
        const at = w.pos;
        w.dv.setUint16(vtableAt + 4 + 2 * i, at - tableAt, true);
        if (f.kind === 'scalar') {
          switch (f.type) {
            case 'u8': case 'bool': w.dv.setUint8(at, Number(f.value)); break;
            case 'i16': w.dv.setInt16(at, Number(f.value), true); break;
            case 'i32': w.dv.setInt32(at, Number(f.value), true); break;
            case 'i64': w.dv.setBigInt64(at, BigInt(f.value), true); break;
          }
        } else {
          pending.push({ at, node: f });
        }
        w.pos = at + size;
      }
      w.dv.setUint16(vtableAt, vtableBytes, true);
      w.dv.setUint16(vtableAt + 2, w.pos - tableAt, true);
      w.dv.setInt32(tableAt, tableAt - vtableAt, true);
      return tableAt;
    }
  }
}
