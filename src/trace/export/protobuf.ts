// A minimal protobuf wire-format writer (proto2/proto3 encoding is the same on the wire):
// varint (0), fixed64 (1), length-delimited (2). Enough for Perfetto's TracePacket; no reflection.

export const WireType = { varint: 0, fixed64: 1, len: 2, fixed32: 5 } as const;

export class ProtoWriter {
  private buf = new Uint8Array(256);
  private at = 0;

  private ensure(n: number): void {
    if (this.at + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.at + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.at));
    this.buf = next;
  }

  private rawVarint(v: bigint | number): void {
    this.ensure(10);
    if (typeof v === 'number' && v >= 0 && v <= 0xffff_ffff && Number.isInteger(v)) {
      while (v > 0x7f) {
        this.buf[this.at++] = (v & 0x7f) | 0x80;
        v = Math.floor(v / 128);
      }
      this.buf[this.at++] = v;
      return;
    }
    // Negative int64 values are encoded as their 64-bit two's complement (10 bytes), per the spec.
    let b = BigInt.asUintN(64, BigInt(v));
    while (b > 0x7fn) {
      this.buf[this.at++] = Number(b & 0x7fn) | 0x80;
      b >>= 7n;
    }
    this.buf[this.at++] = Number(b);
  }

  private tag(field: number, wireType: number): void {
    this.rawVarint(field * 8 + wireType);
  }

  /** uint32/uint64/int32/int64/bool/enum. */
  varint(field: number, v: bigint | number | boolean): this {
    this.tag(field, WireType.varint);
    this.rawVarint(typeof v === 'boolean' ? (v ? 1 : 0) : v);
    return this;
  }
  fixed64(field: number, v: bigint): this {
    this.tag(field, WireType.fixed64);
    this.ensure(8);
    new DataView(this.buf.buffer).setBigUint64(this.at, BigInt.asUintN(64, v), true);
    this.at += 8;
    return this;
  }
  double(field: number, v: number): this {
    this.tag(field, WireType.fixed64);
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.at, v, true);
    this.at += 8;
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, WireType.len);
    this.rawVarint(b.byteLength);
    this.ensure(b.byteLength);
    this.buf.set(b, this.at);
    this.at += b.byteLength;
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, encoder.encode(s));
  }
  /** An embedded message written by `fill` into a fresh writer. */
  message(field: number, fill: (w: ProtoWriter) => void): this {
    const w = new ProtoWriter();
    fill(w);
    return this.bytes(field, w.finish());
  }
  get lengthBytes(): number { return this.at; }
  finish(): Uint8Array {
    return this.buf.slice(0, this.at);
  }
}

const encoder = new TextEncoder();
