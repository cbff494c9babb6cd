// An append-only typed column that grows by doubling; `data` may be longer than `length`.

export type TypedArray = Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array | Int32Array;
type TypedArrayCtor<T extends TypedArray> = new (length: number) => T;

/** A copy of `a` with `length` elements (zero-filled past `a`, truncated before its end). */
export function resized<T extends TypedArray>(a: T, length: number): T {
  const next = new (a.constructor as TypedArrayCtor<T>)(length);
  next.set(a.subarray(0, Math.min(length, a.length)) as never);
  return next;
}

export class Growable<T extends TypedArray> {
  data: T;
  length = 0;
  constructor(ctor: TypedArrayCtor<T>, initialCapacity = 64) {
    this.data = new ctor(initialCapacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) this.data = resized(this.data, this.data.length * 2);
    this.data[this.length++] = v;
  }
  /** Makes room for `capacity` values in all (one copy now instead of doublings later). */
  reserve(capacity: number): void {
    if (this.data.length < capacity) this.data = resized(this.data, capacity);
  }
  /** Drops the growth slack (when no more values are expected soon). */
  trim(): void {
    if (this.data.length > this.length) this.data = resized(this.data, Math.max(this.length, 1));
  }
  /** Bytes held, including growth slack (what memory accounting should count). */
  byteLength(): number {
    return this.data.byteLength;
  }
}
