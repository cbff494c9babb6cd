// The columnar event store: `kind` and `tsNs` columns, plus one typed-array column per index of
// the storage column layout (columns.ts): fields that never occur in the same kind share a column, so a row pays for its
// own kind's fields, not for all 61 storage keys of the schema. Rows are append-only and in nondecreasing
// tsNs order, so a binary search on tsNs is the time index (O(log n)). Every append bumps
// `version` so views can memoize on it.
//
// Reading: `col(key)[row]` is the value of `key` where kind[row] has that field (KIND_HAS), and
// meaningless elsewhere (another kind's field may live in the same column); code that reads a
// column across kinds checks the kind first. `fieldValues(key)` gives a masked, schema-typed copy.
//
// Memory: a column starts as a Uint8Array and is widened the first time a value does not fit, to
// the narrowest exact type that holds the old type's range and the new values (TYPES below), so
// a column costs what its largest value needs. Readers never assume the array type. Capacity grows
// by 1.5× (less slack than doubling) and `trim()` drops the slack once a file is fully loaded.
//
//   row:     0      1      2      …  length-1
//   kind:  [u8 ] [u8 ] [u8 ]        kind code (schema KINDS index)
//   tsNs:  [f64] [f64] [f64]        ns since originNs, nondecreasing
//   col c: [   ] [   ] [   ]        COLUMN_KEYS[c]: each row's value of the key its kind keeps in c

import {
  ENUMS, FIELD_TYPES, KIND_CODE, KIND_FIELDS, KINDS,
  type ColumnType, type EnumName, type EventKind, type FieldName, type TraceEvent,
} from './schema.ts';
import { StringTable } from './strings.ts';
import { asIno, asNodeId, asTaskId, type Ino, type NodeId, type TaskId } from './ids.ts';
import { WriteTag as Tag, compileKindWriter, perType, type FieldPlan, type KindWriter, type TypedArrayCtor } from './codegen.ts';
import { searchSorted } from './sorted.ts';
import { KIND_HAS, KIND_COLUMN_KEY, COLUMN_COUNT, COLUMN_KEYS, columnKeys, columnTypeOfKey, columnOf } from './columns.ts';

export { columnKeys, columnTypeOfKey } from './columns.ts';

export type Column = Float64Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;
export type ColumnCtor = new (length: number) => Column;

const INITIAL_CAPACITY = 1024;
const U64_ALL_ONES = 0xffff_ffff_ffff_ffffn;
const GROWTH = 1.5;

/** Array types a column may be stored as, narrowest first, with the integers each holds exactly. */
const TYPES: readonly { ctor: ColumnCtor; min: number; max: number }[] = [
  { ctor: Uint8Array, min: 0, max: 0xff },
  { ctor: Int8Array, min: -0x80, max: 0x7f },
  { ctor: Uint16Array, min: 0, max: 0xffff },
  { ctor: Int16Array, min: -0x8000, max: 0x7fff },
  { ctor: Uint32Array, min: 0, max: 0xffff_ffff },
  { ctor: Int32Array, min: -0x8000_0000, max: 0x7fff_ffff },
  { ctor: Float64Array, min: -Infinity, max: Infinity },
];
/** The array types of the lattice (wire element types are checked against these). */
export const COLUMN_TYPES: readonly ColumnCtor[] = TYPES.map((t) => t.ctor);
/** Unsigned integer types only: what a string-id column may be stored as. */
export const ID_COLUMN_TYPES: readonly ColumnCtor[] = [Uint8Array, Uint16Array, Uint32Array];

function typeInfo(ctor: ColumnCtor): (typeof TYPES)[number] {
  const t = TYPES.find((x) => x.ctor === ctor);
  if (!t) throw new Error(`not a column type: ${ctor.name}`);
  return t;
}
/** The narrowest type holding every value in [min, max] (integral: all integers; else only Float64Array will do). */
export function narrowestType(min: number, max: number, integral: boolean): ColumnCtor {
  if (!integral) return Float64Array;
  for (const t of TYPES) if (t.min <= min && t.max >= max) return t.ctor;
  return Float64Array;
}

/** Range of rows [from, to) of `values` (min ≤ 0 ≤ max) and whether all are integers. */
export function scanRange(values: ArrayLike<number>, from: number, to: number): { min: number; max: number; integral: boolean } {
  let min = 0;
  let max = 0;
  let integral = true;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
    if (integral && !Number.isInteger(v)) integral = false;
  }
  return { min, max, integral };
}
// The wire encoder scans every column of every batch: one copy per array type (codegen.ts)
// keeps the loop monomorphic.
const scanRangeFor = perType(scanRange);
/** scanRange of a column, through the copy compiled for its array type. */
export function rangeOf(col: Column, from: number, to: number): { min: number; max: number; integral: boolean } {
  return scanRangeFor(col.constructor as TypedArrayCtor)(col, from, to);
}

function isEnum(type: ColumnType): type is EnumName {
  return Object.hasOwn(ENUMS, type);
}

/** The schema's storage type of a column type (what exporters write); u64 parts are u32. */
export function allocColumn(type: ColumnType, capacity: number): Column {
  switch (type) {
    case 'f64': return new Float64Array(capacity);
    case 'i32': return new Int32Array(capacity);
    case 'u32': case 'str': return new Uint32Array(capacity);
    case 'u16': return new Uint16Array(capacity);
    default: return new Uint8Array(capacity); // u8, bool, enums
  }
}

/** A new array of `capacity` elements holding rows [0, usedRows) of `col` (the rest are zeros). */
function resize(col: Column, capacity: number, usedRows: number, alloc: ColumnAlloc, ctor = col.constructor as ColumnCtor): Column {
  const next = alloc(ctor, capacity);
  next.set(col.subarray(0, Math.min(capacity, usedRows)) as never);
  return next;
}

/** Makes a store's arrays: ordinary memory, or memory another thread reads as it is written (sharedColumns). */
export type ColumnAlloc = <C extends ColumnCtor>(ctor: C, length: number) => InstanceType<C>;
const plainAlloc: ColumnAlloc = (ctor, length) => new ctor(length) as InstanceType<typeof ctor>;
/**
 * Arrays over SharedArrayBuffer: the import worker fills a file's columns and the page reads the
 * rows it was told of without a copy (TraceStore.adoptShared). Only where SharedArrayBuffer exists
 * (a cross-origin isolated page and its workers, Node).
 */
export const sharedAlloc: ColumnAlloc = (ctor, length) =>
  new (ctor as unknown as new (b: SharedArrayBuffer) => Column)(new SharedArrayBuffer(length * (ctor as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT)) as InstanceType<typeof ctor>;

/** Whether an array's memory is a SharedArrayBuffer. */
export function isShared(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

/**
 * The columns of a store that another thread fills (TraceStore.sharedView): every array over a
 * SharedArrayBuffer, all of `capacity` rows; rows [0, length) are final. Columns no row used are absent.
 */
export interface SharedRows {
  length: number;
  clampedCount: number;
  kinds: Uint8Array;
  tsNs: Float64Array;
  /** [column index, array] for every column in use. */
  columns: Array<[number, Column]>;
}

/**
 * Rows given as one column per storage key (wire v1/v2 batches, whose columns were per field,
 * zero where a kind lacks the field) as columns: each row takes the value of the key its
 * kind keeps in the column.
 */
export function columnsFromKeyColumns(rowCount: number, kinds: Uint8Array, byKey: ReadonlyMap<string, ArrayLike<number>>): Map<number, Column> {
  const out = new Map<number, Column>();
  for (let column = 0; column < COLUMN_COUNT; column++) {
    if (!COLUMN_KEYS[column]!.some((k) => byKey.has(k))) continue;
    let col: Float64Array | null = null;
    for (let row = 0; row < rowCount; row++) {
      const key = KIND_COLUMN_KEY[kinds[row]!]?.[column];
      const v = key ? byKey.get(key)?.[row] : undefined;
      if (v === undefined || v === 0) continue;
      (col ??= new Float64Array(rowCount))[row] = v;
    }
    if (col) out.set(column, narrowed(col, rowCount));
  }
  return out;
}
function narrowed(col: Float64Array, n: number): Column {
  const { min, max, integral } = rangeOf(col, 0, n);
  const ctor = narrowestType(min, max, integral);
  if (ctor === Float64Array) return col;
  const out = new ctor(n);
  out.set(col);
  return out;
}

/** Per kind code: how to write each of its fields, computed once so append does no lookups by name. */
const WRITE_PLANS: FieldPlan[][] = KINDS.map((kind) =>
  (KIND_FIELDS[kind] as readonly FieldName[]).map((field) => {
    const type = FIELD_TYPES[field];
    const tag = type === 'u64' ? Tag.U64 : type === 'str' ? Tag.Str : type === 'bool' ? Tag.Bool : isEnum(type) ? Tag.Enum : Tag.Num;
    const keys = columnKeys(field);
    return {
      field, tag,
      column: columnOf(keys[0]!),
      loCol: keys.length > 1 ? columnOf(keys[1]!) : -1,
      enumCodes: isEnum(type) ? new Map((ENUMS[type] as readonly string[]).map((v, i) => [v, i])) : null,
    };
  }),
);

// Per kind code, a writer compiled from its plan (codegen.ts: what it buys, measured): most of
// append's cost is reading `ev[plan.field]` and storing into seven array types at shared sites.
let compiledWriters: Array<KindWriter | null> | undefined;
function writers(): Array<KindWriter | null> {
  return (compiledWriters ??= WRITE_PLANS.map((plans, code) => compileKindWriter(KINDS[code]!, plans)));
}

export class TraceStore {
  /** Absolute time of tsNs = 0 (e.g. CLOCK_MONOTONIC ns of the first event, or 0 for the simulator). */
  originNs: bigint;
  readonly strings: StringTable;
  length = 0;
  /** Bumped on every change; memoize derived data on it. */
  version = 0;
  /** Events whose tsNs went backwards and were clamped to the previous row's time. */
  clampedCount = 0;
  /** The time a row may not be earlier than while the store is empty: the last row `clear` dropped. */
  private floorTsNs = -Infinity;

  private capacity = INITIAL_CAPACITY;
  private kindCol: Uint8Array;
  private tsCol: Float64Array;
  /** By column index; a column no row has used yet is undefined. Read by the compiled writers. */
  /** @internal */
  readonly cols: Array<Column | undefined> = new Array(COLUMN_COUNT);
  private readonly alloc: ColumnAlloc;

  /** `alloc`: sharedAlloc for a store another thread reads as it fills (sharedView / adoptShared). */
  constructor(originNs = 0n, strings = new StringTable(), alloc: ColumnAlloc = plainAlloc) {
    this.originNs = originNs;
    this.strings = strings;
    this.alloc = alloc;
    this.kindCol = alloc(Uint8Array, INITIAL_CAPACITY);
    this.tsCol = alloc(Float64Array, INITIAL_CAPACITY);
  }

  get kinds(): Uint8Array { return this.kindCol; }
  get tsNs(): Float64Array { return this.tsCol; }

  /**
   * The column holding storage key `key` (see columnKeys): its value at rows whose kind has the
   * key (columns.ts KIND_HAS). Its array type is the narrowest that holds every value so far, and
   * may change on a later append: take the column again after appending rather than keeping it.
   */
  col(key: string): Column {
    return this.colAt(columnOf(key));
  }

  /** Column `column`, zero-filled if no row used it yet. */
  colAt(column: number): Column {
    let c = this.cols[column];
    if (!c) {
      if (!(column >= 0 && column < COLUMN_COUNT)) throw new RangeError(`no column ${column}`);
      c = this.cols[column] = this.alloc(Uint8Array, this.capacity);
    }
    return c;
  }

  /** Columns some row has used (or that were read), ascending. */
  columnsInUse(): number[] {
    const out: number[] = [];
    for (let s = 0; s < COLUMN_COUNT; s++) if (this.cols[s]) out.push(s);
    return out;
  }

  /**
   * Rows [fromRow, toRow) of key `key` in the schema's storage type, 0 where the row's kind does
   * not have the key: a per-field column, for exporters and tests (not hot paths).
   */
  fieldValues(key: string, fromRow = 0, toRow = this.length): Column {
    const out = allocColumn(columnTypeOfKey(key), Math.max(0, toRow - fromRow));
    const has = KIND_HAS.get(key)!;
    const c = this.cols[columnOf(key)];
    if (!c) return out;
    for (let row = fromRow; row < toRow; row++) if (has[this.kindCol[row]!]) out[row - fromRow] = c[row]!;
    return out;
  }

  /** Replaces column `column` by the narrowest type that holds its rows' values and [min, max]. */
  private widen(column: number, min: number, max: number, integral: boolean): Column {
    const c = this.colAt(column);
    const cur = typeInfo(c.constructor as ColumnCtor);
    if (c instanceof Float64Array || (integral && min >= cur.min && max <= cur.max)) return c;
    // The rows' values, not the current type's range: u32-sized values and then a -1 fit an i32,
    // which the union of the u32 and i8 ranges would not. A column widens a few times at most.
    const have = rangeOf(c, 0, this.length);
    const ctor = narrowestType(Math.min(min, have.min), Math.max(max, have.max), integral && have.integral);
    if (ctor === c.constructor) return c;
    const wide = resize(c, this.capacity, this.length, this.alloc, ctor);
    this.cols[column] = wide;
    return wide;
  }

  /** Storage bytes per row of the columns as they are now (kind + tsNs + every column). */
  bytesPerRow(): number {
    let n = this.kindCol.BYTES_PER_ELEMENT + this.tsCol.BYTES_PER_ELEMENT;
    for (const c of this.cols) if (c) n += c.BYTES_PER_ELEMENT;
    return n;
  }
  /** Bytes of every column's array, capacity included. */
  byteLength(): number {
    let n = this.kindCol.byteLength + this.tsCol.byteLength;
    for (const c of this.cols) if (c) n += c.byteLength;
    return n;
  }
  /** Of byteLength, the bytes in SharedArrayBuffers (V8's heap figures leave them out: the bench adds them). */
  sharedByteLength(): number {
    let n = 0;
    for (const c of [this.kindCol, this.tsCol, ...this.cols]) if (c && isShared(c)) n += c.byteLength;
    return n;
  }
  /** Key `key` at `row` as stored (a string id, an enum code), or 0 where the row's kind lacks it. */
  numAt(key: string, row: number): number {
    return KIND_HAS.get(key)![this.kindCol[row]!] ? this.col(key)[row]! : 0;
  }

  /** A field's column (any typed-array type: a column widens to the narrowest type its values need; read only rows whose kind has the field). */
  fieldCol(field: FieldName): Column { return this.col(field); }

  // Id columns, read as branded ids (ids.ts): the same typed array as fieldCol, typed so a
  // nodeid read from the store cannot be passed where an inode number is expected. No copy, no cost.
  /** The nodeId column as NodeIds (rows whose kind has nodeId; 0 = unknown). */
  nodeIdCol(): ArrayLike<NodeId> { return this.col('nodeId') as unknown as ArrayLike<NodeId>; }
  /** The ino column as Inos (rows whose kind has ino; 0 = unknown). */
  inoCol(): ArrayLike<Ino> { return this.col('ino') as unknown as ArrayLike<Ino>; }
  /** The aliasOf column as NodeIds (inode_new / inode_lookup rows; 0 = none). */
  aliasOfCol(): ArrayLike<NodeId> { return this.col('aliasOf') as unknown as ArrayLike<NodeId>; }
  /** A row's nodeId, 0 where its kind has none. */
  nodeIdAt(row: number): NodeId { return asNodeId(this.numAt('nodeId', row)); }
  /** A row's inode number, 0 where its kind has none or it is unknown. */
  inoAt(row: number): Ino { return asIno(this.numAt('ino', row)); }
  /** A row's task. */
  taskAt(row: number): TaskId { return asTaskId(this.strings.get(this.col('task')[row]!)); }

  kindOf(row: number): EventKind {
    return KINDS[this.kindCol[row]!]!;
  }

  /** Rows the columns hold before the next growth. */
  get capacityRows(): number { return this.capacity; }

  /** Room for `extraRows` more rows; `exactly`: no more than that (a cap that must hold). */
  reserve(extraRows: number, exactly = false): void {
    const needed = this.length + extraRows;
    if (needed <= this.capacity) return;
    // Geometric growth for row-by-row appends; a large reservation (a file of known size) exactly.
    this.setCapacity(exactly ? needed : Math.max(needed, Math.ceil(this.capacity * GROWTH)));
  }

  /**
   * Drops every row but keeps the columns' room: one store reused for each batch of a stream (the
   * import worker's checkers). Rows past `length` are zero again, as appendColumns expects of a
   * column a batch leaves out; the next row is clamped to the last one dropped, as if it were there.
   */
  clear(): void {
    if (this.length === 0) return;
    this.floorTsNs = this.tsCol[this.length - 1]!;
    this.kindCol.fill(0, 0, this.length);
    this.tsCol.fill(0, 0, this.length);
    for (const c of this.cols) c?.fill(0, 0, this.length);
    this.length = 0;
    this.version++;
  }

  /** Drops the growth slack (e.g. when a file has been loaded completely). */
  trim(): void {
    if (this.capacity > this.length) this.setCapacity(Math.max(this.length, 1));
  }

  private setCapacity(cap: number): void {
    // A store that adopted another thread's columns copies into its own memory when it grows or trims.
    this.kindCol = resize(this.kindCol, cap, this.length, this.alloc) as Uint8Array;
    this.tsCol = resize(this.tsCol, cap, this.length, this.alloc) as Float64Array;
    for (let s = 0; s < COLUMN_COUNT; s++) {
      const c = this.cols[s];
      if (c) this.cols[s] = resize(c, cap, this.length, this.alloc);
    }
    this.capacity = cap;
  }

  /**
   * This store's columns for another thread (this store's alloc must be sharedAlloc): the other
   * side's adoptShared reads rows [0, length) of them as they are, and this store keeps appending
   * past them. A column widened or a store grown later is a new array: send the view again.
   */
  sharedView(): SharedRows {
    const columns: Array<[number, Column]> = [];
    for (let s = 0; s < COLUMN_COUNT; s++) {
      const c = this.cols[s];
      if (c) columns.push([s, c]);
    }
    return { length: this.length, clampedCount: this.clampedCount, kinds: this.kindCol, tsNs: this.tsCol, columns };
  }

  /**
   * Takes rows another thread appended to a store of its own whose arrays it shares (sharedView):
   * this store reads those arrays from now on, no copy. They must hold at least every row this
   * store has (the other store is this one, grown), with the same values: only rows past `length`
   * are new. Strings must be interned first. Throws RangeError on a view that cannot be that.
   */
  adoptShared(view: SharedRows): void {
    const cap = view.kinds.length;
    const ok = (a: ArrayBufferView & { length: number }): boolean => isShared(a) && a.length === cap;
    if (!(view.length >= this.length && view.length <= cap && ok(view.kinds) && ok(view.tsNs) && view.tsNs instanceof Float64Array)) {
      throw new RangeError(`shared rows: ${view.length} rows of ${cap} do not extend this store's ${this.length}`);
    }
    for (const [s, c] of view.columns) {
      if (!(Number.isInteger(s) && s >= 0 && s < COLUMN_COUNT && ok(c) && COLUMN_TYPES.includes(c.constructor as ColumnCtor))) {
        throw new RangeError(`shared rows: column ${String(s)} is not a shared column of ${cap} rows`);
      }
    }
    this.kindCol = view.kinds;
    this.tsCol = view.tsNs;
    // A column this store made itself (read before any row used it) holds only zeros: the sender's replaces it.
    for (const [s, c] of view.columns) this.cols[s] = c;
    for (let s = 0; s < COLUMN_COUNT; s++) {
      const c = this.cols[s];
      if (c && c.length !== cap) this.cols[s] = resize(c, cap, this.length, this.alloc);
    }
    this.capacity = cap;
    this.length = view.length;
    this.clampedCount = view.clampedCount;
    this.version++;
  }

  private nextTs(tsNs: number): number {
    const last = this.length > 0 ? this.tsCol[this.length - 1]! : this.floorTsNs;
    if (tsNs < last) {
      this.clampedCount++;
      return last;
    }
    return tsNs;
  }

  /** Appends one event; returns its row. */
  append(ev: TraceEvent): number {
    return this.appendWith(ev, writers()[KIND_CODE[ev.kind]] ?? null);
  }

  /** append() without the compiled writers (what runs where `Function` is forbidden): for tests. */
  appendByPlan(ev: TraceEvent): number {
    return this.appendWith(ev, null);
  }

  private appendWith(ev: TraceEvent, write: KindWriter | null): number {
    this.reserve(1);
    const row = this.length;
    this.writeRow(row, ev, this.nextTs(ev.tsNs), write);
    this.length++;
    this.version++;
    return row;
  }

  /**
   * Puts `events[j]` right before the row that is `beforeRow[j]` now (ascending; equal positions
   * keep the events' order; `length` = at the end), moving the later rows down: one move per
   * column per gap, no copy of the store. Each event's time must lie between its neighbours'
   * (RangeError, nothing changed). For events a store takes: check them with append on a scratch
   * store first (a refused one throws part way).
   */
  insertRows(beforeRow: readonly number[], events: readonly TraceEvent[]): void {
    const k = events.length;
    if (k === 0) return;
    const n = this.length;
    for (let j = 0; j < k; j++) {
      const at = beforeRow[j]!;
      const ts = events[j]!.tsNs;
      if (at < 0 || at > n || (j > 0 && at < beforeRow[j - 1]!)) throw new RangeError(`insert position ${at} out of order or range`);
      if ((at > 0 && ts < this.tsCol[at - 1]!) || (at < n && ts > this.tsCol[at]!)) throw new RangeError(`inserted ${events[j]!.kind} at ${ts} ns breaks the time order at row ${at}`);
    }
    this.reserve(k, true);
    let end = n;
    for (let j = k - 1; j >= 0; j--) {
      const from = beforeRow[j]!;
      if (end > from) {
        const to = from + j + 1;
        this.kindCol.copyWithin(to, from, end);
        this.tsCol.copyWithin(to, from, end);
        for (let s = 0; s < COLUMN_COUNT; s++) this.cols[s]?.copyWithin(to, from, end);
      }
      end = from;
    }
    for (let j = 0; j < k; j++) {
      const row = beforeRow[j]! + j;
      // The gap still holds a moved row's values: zero, as an appended row's unused columns are.
      for (let s = 0; s < COLUMN_COUNT; s++) { const c = this.cols[s]; if (c) c[row] = 0; }
      this.writeRow(row, events[j]!, events[j]!.tsNs, writers()[KIND_CODE[events[j]!.kind]] ?? null);
    }
    this.length = n + k;
    this.version++;
  }

  private writeRow(row: number, ev: TraceEvent, tsNs: number, write: KindWriter | null): void {
    this.kindCol[row] = KIND_CODE[ev.kind];
    this.tsCol[row] = tsNs;
    const rec = ev as unknown as Record<string, unknown>;
    try {
      if (write) write(this, row, rec);
      else {
        const plans = WRITE_PLANS[this.kindCol[row]!]!;
        for (let i = 0; i < plans.length; i++) this.writeField(plans[i]!, row, rec[plans[i]!.field]);
      }
    } catch (e) {
      // The row is not appended; what it wrote must not stay in columns the next row's kind leaves alone.
      for (const c of this.cols) if (c) c[row] = 0;
      throw e;
    }
  }

  appendAll(events: Iterable<TraceEvent>): void {
    for (const ev of events) this.append(ev);
  }

  // For the compiled writers (compileWriter): not part of the store's API.
  /** @internal */
  putNum(column: number, row: number, v: number): void { this.put(column, row, v); }
  /** @internal */
  putPlanned(plan: FieldPlan, row: number, v: unknown): void { this.writeField(plan, row, v); }

  /** Writes a number; a column too narrow for it is widened first (see TYPES). */
  private put(column: number, row: number, v: number): void {
    let c = this.colAt(column);
    c[row] = v;
    // NaN never reads back equal: it widens to Float64Array (which keeps it) once, then stays.
    if (c[row] !== v && !(Number.isNaN(v) && Number.isNaN(c[row]!))) {
      c = this.widen(column, Math.min(v, 0), Math.max(v, 0), Number.isInteger(v));
      c[row] = v;
    }
  }

  private writeField(plan: FieldPlan, row: number, value: unknown): void {
    switch (plan.tag) {
      case Tag.Num: this.put(plan.column, row, value as number); break;
      case Tag.Str: this.put(plan.column, row, this.strings.intern(value as string)); break;
      // A 1-byte column may be signed (it shares with an errno): 0/1 and enum codes < 128 fit either.
      case Tag.Bool: this.put(plan.column, row, value ? 1 : 0); break;
      case Tag.Enum: {
        const code = plan.enumCodes!.get(value as string);
        if (code === undefined) {
          throw new RangeError(`${plan.field}: '${String(value)}' is not one of ${[...plan.enumCodes!.keys()].join(', ')}`);
        }
        this.put(plan.column, row, code);
        break;
      }
      case Tag.U64: {
        // BigInt arithmetic is slow; most values (block addresses) are exact as a Number, and the
        // all-ones "no address" is common enough to test for directly.
        const big = value as bigint;
        const n = Number(big);
        if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
          this.put(plan.column, row, Math.floor(n / 0x1_0000_0000));
          this.put(plan.loCol, row, n % 0x1_0000_0000);
        } else if (big === U64_ALL_ONES) {
          this.put(plan.column, row, 0xffff_ffff);
          this.put(plan.loCol, row, 0xffff_ffff);
        } else {
          const v = BigInt.asUintN(64, big);
          this.put(plan.column, row, Number(v >> 32n));
          this.put(plan.loCol, row, Number(v & 0xffff_ffffn));
        }
        break;
      }
    }
  }

  readField(field: FieldName, row: number): unknown {
    const type = FIELD_TYPES[field];
    if (type === 'u64') {
      const hi = this.col(`${field}Hi`)[row]!;
      const lo = this.col(`${field}Lo`)[row]!;
      return (BigInt(hi) << 32n) | BigInt(lo);
    }
    const raw = this.col(field)[row]!;
    if (type === 'str') return this.strings.get(raw);
    if (type === 'bool') return raw !== 0;
    if (isEnum(type)) return ENUMS[type][raw];
    return raw;
  }

  /** Materializes a row as an event object (for the inspector, export, tests — not hot paths). */
  get(row: number): TraceEvent {
    if (row < 0 || row >= this.length) throw new RangeError(`row ${row} out of range 0..${this.length}`);
    const kind = this.kindOf(row);
    const ev: Record<string, unknown> = { kind, tsNs: this.tsCol[row] };
    for (const field of KIND_FIELDS[kind] as readonly FieldName[]) ev[field] = this.readField(field, row);
    return ev as unknown as TraceEvent;
  }

  /** First row with tsNs >= tsNs (length if none). */
  lowerBound(tsNs: number): number {
    return searchSorted(this.tsCol, this.length, tsNs);
  }
  /** First row with tsNs > tsNs. */
  upperBound(tsNs: number): number {
    return searchSorted(this.tsCol, this.length, tsNs, true);
  }

  get startNs(): number { return this.length > 0 ? this.tsCol[0]! : 0; }
  get endNs(): number { return this.length > 0 ? this.tsCol[this.length - 1]! : 0; }

  /**
   * Appends `rowCount` rows given as raw columns (wire batches, recordings, another store's
   * columns), of any array type. String-id columns must already hold ids valid in `this.strings`;
   * missing columns are zero for these rows.
   */
  appendColumns(rowCount: number, kinds: Uint8Array, tsNs: Float64Array, columns: ReadonlyMap<number, Column>): void {
    this.reserve(rowCount);
    const at = this.length;
    this.kindCol.set(kinds.subarray(0, rowCount), at);
    // Times in order from the store's last row on (every batch a sender made is): one bulk copy.
    // Otherwise row by row, a row earlier than the store's last row clamped to it (nextTs).
    let last = at > 0 ? this.tsCol[at - 1]! : this.floorTsNs;
    let ordered = true;
    for (let i = 0; i < rowCount; i++) {
      const t = tsNs[i]!;
      if (t < last) { ordered = false; break; }
      last = t;
    }
    if (ordered) this.tsCol.set(tsNs.subarray(0, rowCount), at);
    else for (let i = 0; i < rowCount; i++) this.tsCol[at + i] = this.nextTs(tsNs[i]!);
    for (const [column, values] of columns) {
      let c = this.colAt(column);
      if (c.constructor !== values.constructor) {
        // A type whose range lies inside the column's fits as is; anything else is checked value by value.
        const have = typeInfo(c.constructor as ColumnCtor);
        const got = typeInfo(values.constructor as ColumnCtor);
        if (got.min < have.min || got.max > have.max) {
          const { min, max, integral } = rangeOf(values, 0, rowCount);
          c = this.widen(column, min, max, integral);
        }
      }
      c.set(values.subarray(0, rowCount) as never, at);
    }
    this.length += rowCount;
    this.version++;
  }

  /** Rows [fromRow, toRow) as columns (views, not copies): for appendColumns elsewhere. */
  columns(fromRow = 0, toRow = this.length): Map<number, Column> {
    const out = new Map<number, Column>();
    for (let s = 0; s < COLUMN_COUNT; s++) {
      const c = this.cols[s];
      if (c) out.set(s, c.subarray(fromRow, toRow));
    }
    return out;
  }
}
