// An append-only typed column that grows by doubling; `data` may be longer than `length`.

type TypedArray = Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array | Int32Array;
type TypedArrayCtor<T extends TypedArray> = new (length: number) => T;

export class Growable<T extends TypedArray> {
  data: T;
  length = 0;
  constructor(private readonly ctor: TypedArrayCtor<T>, initialCapacity = 64) {
    this.data = new ctor(initialCapacity);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new this.ctor(this.data.length * 2);
      next.set(this.data as never);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  /** Drops the growth slack (when no more values are expected soon). */
  trim(): void {
    if (this.data.length > this.length) this.data = this.data.slice(0, Math.max(this.length, 1)) as T;
  }
  /** Bytes held, including growth slack (what memory accounting should count). */
  byteLength(): number {
    return this.data.byteLength;
  }
}
