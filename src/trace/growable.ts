// An append-only typed column that grows by doubling; `data` may be longer than `length`.

import { perType, type TypedArrayCtor } from './codegen.ts';

export type TypedArray = Float64Array | Float32Array | Uint32Array | Uint16Array | Uint8Array | Int32Array;
/** The constructor of arrays of type T. */
type CtorOf<T extends TypedArray> = new (length: number) => T;

/** A copy of `a` with `length` elements (zero-filled past `a`, truncated before its end). */
export function resized<T extends TypedArray>(a: T, length: number): T {
  const next = new (a.constructor as CtorOf<T>)(length);
  next.set(a.subarray(0, Math.min(length, a.length)) as never);
  return next;
}

/**
 * How far over its rate so far an index sizes itself for a file of known row count (reserveForRows
 * of the span, lock and cache indexes): a file's mix of events over its first rows is about its
 * mix throughout, and falling short costs a doubling copy.
 */
export const LOAD_MARGIN = 0.03;

/** Growable.push; compiled per array type (codegen.ts), so it uses only `this`. */
function push(this: Growable<TypedArray>, v: number): void {
  if (this.length === this.data.length) this.data = this.grownData();
  this.data[this.length++] = v;
}
// A shared push stores into six array types and goes megamorphic: it was a quarter of the page's
// time opening a 3 M-event recording.
const pushFor = perType(push);

/**
 * The next slot of columns that hold one value per item and share one length and capacity (an
 * index's per-item columns, created, reserved, grown and trimmed together): one room check for all,
 * every length advanced. The caller writes the slot's values. `cols` is the owner's list, made once:
 * an array made per call would cost more than the check saves.
 */
export function claimSlot(cols: readonly Growable<TypedArray>[]): number {
  const first = cols[0]!;
  const at = first.length;
  if (at === first.data.length) for (const g of cols) g.data = g.grownData();
  for (const g of cols) g.length = at + 1;
  return at;
}

export class Growable<T extends TypedArray> {
  data: T;
  length = 0;
  /** Appends a value (growing by doubling): an own property, so each column's call sites see one function. */
  readonly push: (v: number) => void;
  constructor(ctor: CtorOf<T>, initialCapacity = 64) {
    this.data = new ctor(initialCapacity);
    this.push = pushFor(ctor as unknown as TypedArrayCtor) as (v: number) => void;
  }
  /** @internal For the compiled push: `data` doubled. */
  grownData(): T {
    return resized(this.data, this.data.length * 2);
  }
  /** Makes room for `capacity` values in all (one copy now instead of doublings later). */
  reserve(capacity: number): void {
    if (this.data.length < capacity) this.data = resized(this.data, capacity);
  }
  /** Drops the growth slack (when no more values are expected soon). */
  trim(): void {
    if (this.data.length > this.length) this.data = resized(this.data, Math.max(this.length, 1));
  }
  /**
   * Drops growth slack, unless it is within LOAD_MARGIN × 2 of the length: an index sized from a
   * file's row count (reserveForRows) is then kept as it is — trimming it would copy it all into
   * fresh memory to give back a few percent of it.
   */
  trimLoose(): void {
    if (this.data.length - this.length > this.length * LOAD_MARGIN * 2) this.trim();
  }
  /** Bytes held, including growth slack (what memory accounting should count). */
  byteLength(): number {
    return this.data.byteLength;
  }
}
