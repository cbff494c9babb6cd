// The columnar event store: one typed-array column per schema field, shared by all kinds, plus
// `kind` and `tsNs`. Rows are append-only and in nondecreasing tsNs order, so a binary search on
// tsNs is the time index (O(log n)). A column a kind does not use holds zeros for that row. Every
// append bumps `version` so views can memoize on it.
//
// Memory: a column starts as the narrowest typed array of its ladder (Uint8Array for most) and is
// widened the first time a value does not fit (an f64 field goes u8 → u16 → i32 → f64), so a
// column costs what its largest value needs, not what the schema allows. Readers index columns
// (`col(key)[row]`) and never assume the array type; `schemaCol` gives the schema's storage type.
// Capacity grows by 1.5× (less slack than doubling) and `trim()` drops the slack once a file is
// fully loaded.
//
//   row:     0      1      2      …  length-1
//   kind:  [u8 ] [u8 ] [u8 ]        kind code (schema KINDS index)
//   tsNs:  [f64] [f64] [f64]        ns since originNs, nondecreasing
//   <field>[…]                      one column per FIELD_TYPES entry, allocated on first use

import {
  ENUMS, FIELD_TYPES, KIND_CODE, KIND_FIELDS, KINDS,
  type ColumnType, type EnumName, type EventKind, type FieldName, type TraceEvent,
} from './schema.ts';
import { StringTable } from './strings.ts';
import { feedbackTag } from './per-type.ts';
import { searchSorted } from './sorted.ts';

export type Column = Float64Array | Int32Array | Int16Array | Int8Array | Uint32Array | Uint16Array | Uint8Array;
export type ColumnCtor = new (length: number) => Column;

const INITIAL_CAPACITY = 1024;
const U64_ALL_ONES = 0xffff_ffff_ffff_ffffn;
const GROWTH = 1.5;

/** Narrowest-first array types a column may be stored as, by schema storage type. */
const LADDERS: Record<'u8' | 'u16' | 'u32' | 'i32' | 'f64', readonly ColumnCtor[]> = {
  u8: [Uint8Array],
  u16: [Uint8Array, Uint16Array],
  u32: [Uint8Array, Uint16Array, Uint32Array],
  i32: [Int8Array, Int16Array, Int32Array],
  // Numbers: small counts and sizes, then negative returns/errnos, then anything (offsets ≥ 2^31).
  f64: [Uint8Array, Uint16Array, Int32Array, Float64Array],
};
export function ladderOf(type: ColumnType): readonly ColumnCtor[] {
  switch (type) {
    case 'f64': return LADDERS.f64;
    case 'i32': return LADDERS.i32;
    case 'u32': case 'str': case 'u64': return LADDERS.u32; // u64: each Hi/Lo part
    case 'u16': return LADDERS.u16;
    default: return LADDERS.u8;
  }
}
/** Can every value of `values` (rows [0, n)) be stored in arrays of `ctor` exactly? */
function allFit(ctor: ColumnCtor, values: ArrayLike<number>, n: number): boolean {
  if (ctor === Float64Array) return true;
  const probe = new ctor(1);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    probe[0] = v;
    if (probe[0] !== v) return false;
  }
  return true;
}

function isEnum(type: ColumnType): type is EnumName {
  return Object.hasOwn(ENUMS, type);
}

/** Storage class of a column type; u64 values are split into `<field>Hi` / `<field>Lo` u32 columns. */
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
function resize(col: Column, capacity: number, usedRows: number, ctor = col.constructor as ColumnCtor): Column {
  const next = new ctor(capacity);
  next.set(col.subarray(0, Math.min(capacity, usedRows)) as never);
  return next;
}

/** Column key for storage: a u64 field has two. */
export function columnKeys(field: FieldName): string[] {
  return FIELD_TYPES[field] === 'u64' ? [`${field}Hi`, `${field}Lo`] : [field];
}
export function columnTypeOfKey(key: string): ColumnType {
  if (Object.hasOwn(FIELD_TYPES, key)) return FIELD_TYPES[key as FieldName];
  const base = key.replace(/(Hi|Lo)$/, '');
  if (base !== key && FIELD_TYPES[base as FieldName] === 'u64') return 'u32';
  throw new Error(`unknown column ${key}`);
}

/** Every storage key (a u64 field has two), in a fixed order: the index into a store's columns. */
const STORAGE_KEYS: string[] = FIELDS_LIST().flatMap((f) => columnKeys(f));
const KEY_INDEX = new Map(STORAGE_KEYS.map((k, i) => [k, i]));
function FIELDS_LIST(): FieldName[] {
  return Object.keys(FIELD_TYPES) as FieldName[];
}

const enum Tag { Num, Str, Bool, Enum, U64 }
interface FieldPlan {
  field: FieldName;
  tag: Tag;
  /** Storage key index (for u64: the Hi key; Lo is keyIdx + 1). */
  keyIdx: number;
  enumCodes: Map<string, number> | null;
}
/** Per kind code: how to write each of its fields, computed once so append does no lookups by name. */
const WRITE_PLANS: FieldPlan[][] = KINDS.map((kind) =>
  (KIND_FIELDS[kind] as readonly FieldName[]).map((field) => {
    const type = FIELD_TYPES[field];
    const tag = type === 'u64' ? Tag.U64 : type === 'str' ? Tag.Str : type === 'bool' ? Tag.Bool : isEnum(type) ? Tag.Enum : Tag.Num;
    return {
      field, tag,
      keyIdx: KEY_INDEX.get(columnKeys(field)[0]!)!,
      enumCodes: isEnum(type) ? new Map((ENUMS[type] as readonly string[]).map((v, i) => [v, i])) : null,
    };
  }),
);

/**
 * Per kind code, a writer compiled from its plan: `ev.<field>` written with a literal property
 * name. One function per kind sees one object shape, so each property read is a monomorphic
 * inline cache; a loop over plans reads `ev[plan.field]` at one site for every kind's shape
 * (megamorphic), and so does a shared `c[row] = v` over seven array types: together most of
 * append's cost (S1 in `npm run bench`: 1.3 → ~3 M events/s). Built with `Function` from schema
 * field names only (checked to be identifiers); where a content policy forbids that, null, and
 * append takes the plan loop (per-type.ts says more).
 */
type KindWriter = (store: TraceStore, row: number, ev: Record<string, unknown>) => void;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
function compileWriter(plans: readonly FieldPlan[], kindCode: number): KindWriter | null {
  // Each field's store `c[row] = v` is its own site too: it sees the one array type its column
  // has (a shared put() sees all seven). A value that does not read back takes put(), which widens.
  const lines = plans.map((p, i) => {
    if (!IDENTIFIER.test(p.field)) throw new Error(`schema field ${p.field} is not an identifier`);
    const col = `(s.colByIdx[${p.keyIdx}] ?? s.column(${p.keyIdx}))`;
    switch (p.tag) {
      case Tag.Num: return `v = ev.${p.field}; c = ${col}; c[row] = v; if (c[row] !== v) s.putNum(${p.keyIdx}, row, v);`;
      case Tag.Str: return `v = s.strings.intern(ev.${p.field}); c = ${col}; c[row] = v; if (c[row] !== v) s.putNum(${p.keyIdx}, row, v);`;
      case Tag.Bool: return `${col}[row] = ev.${p.field} ? 1 : 0;`;
      // An unknown enum value takes the general path, which throws naming it.
      case Tag.Enum: return `v = plans[${i}].enumCodes.get(ev.${p.field}); if (v === undefined) s.putPlanned(plans[${i}], row, ev.${p.field}); else ${col}[row] = v;`;
      // u64: a value exact as a Number (block addresses, mostly) split inline; others (all-ones, ≥ 2^53) the general path.
      default: return `v = ev.${p.field}; n = Number(v); if (n >= 0 && n <= ${Number.MAX_SAFE_INTEGER}) { s.putNum(${p.keyIdx}, row, Math.floor(n / 4294967296)); s.putNum(${p.keyIdx + 1}, row, n % 4294967296); } else s.putPlanned(plans[${i}], row, v);`;
    }
  });
  try {
    // The kind's name in the source: two kinds with the same fields must not share feedback (per-type.ts).
    return new Function('plans', `${feedbackTag(KINDS[kindCode]!)}\nreturn function write(s, row, ev) {\nlet c, v, n;\n${lines.join('\n')}\n};`)(plans) as KindWriter;
  } catch {
    return null;
  }
}
let compiledWriters: Array<KindWriter | null> | undefined;
function writers(): Array<KindWriter | null> {
  return (compiledWriters ??= WRITE_PLANS.map((plans, code) => compileWriter(plans, code)));
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

  private capacity = INITIAL_CAPACITY;
  private kindCol = new Uint8Array(INITIAL_CAPACITY);
  private tsCol = new Float64Array(INITIAL_CAPACITY);
  private readonly cols = new Map<string, Column>();
  /** Same columns as `cols`, by storage key index, for the append hot path (and its compiled writers). */
  /** @internal */
  colByIdx: Array<Column | undefined> = new Array(STORAGE_KEYS.length);

  constructor(originNs = 0n, strings = new StringTable()) {
    this.originNs = originNs;
    this.strings = strings;
  }

  get kinds(): Uint8Array { return this.kindCol; }
  get tsNs(): Float64Array { return this.tsCol; }

  /**
   * The column for a storage key (see columnKeys); zero-filled if no row used it yet. Its array
   * type is the narrowest that holds every value so far, and may change on a later append: take
   * the column again after appending rather than keeping it.
   */
  col(key: string): Column {
    let c = this.cols.get(key);
    if (!c) {
      c = new (ladderOf(columnTypeOfKey(key))[0]!)(this.capacity);
      this.setCol(key, c);
    }
    return c;
  }

  /** The column as the schema's storage type (allocated when it is stored narrower): for exporters. */
  schemaCol(key: string): Column {
    const c = this.col(key);
    const ctor = allocColumn(columnTypeOfKey(key), 0).constructor as ColumnCtor;
    return c.constructor === ctor ? c : resize(c, c.length, this.length, ctor);
  }

  private setCol(key: string, c: Column): void {
    this.cols.set(key, c);
    const idx = KEY_INDEX.get(key);
    if (idx !== undefined) this.colByIdx[idx] = c;
  }

  /** Replaces column `key` by the narrowest array of its ladder that also holds `values` [0, n). */
  private widen(key: string, values: ArrayLike<number>, n: number): Column {
    const c = this.col(key);
    const ladder = ladderOf(columnTypeOfKey(key));
    let step = ladder.indexOf(c.constructor as ColumnCtor);
    while (step < ladder.length - 1 && !allFit(ladder[step]!, values, n)) step++;
    if (ladder[step] === c.constructor) return c;
    const wide = resize(c, this.capacity, this.length, ladder[step]!);
    this.setCol(key, wide);
    return wide;
  }

  /** Storage bytes per row of the columns as they are now (kind + tsNs + every column). */
  bytesPerRow(): number {
    let n = this.kindCol.BYTES_PER_ELEMENT + this.tsCol.BYTES_PER_ELEMENT;
    for (const c of this.cols.values()) n += c.BYTES_PER_ELEMENT;
    return n;
  }
  /** Bytes of every column's array, capacity included. */
  byteLength(): number {
    let n = this.kindCol.byteLength + this.tsCol.byteLength;
    for (const c of this.cols.values()) n += c.byteLength;
    return n;
  }
  /** A numeric field's column (any array type: see col). */
  f64(field: FieldName): Column { return this.col(field); }
  /** Column keys that exist (have been written or read). */
  columnKeysInUse(): string[] { return [...this.cols.keys()]; }

  kindOf(row: number): EventKind {
    return KINDS[this.kindCol[row]!]!;
  }

  /** Rows the columns hold before the next growth. */
  get capacityRows(): number { return this.capacity; }

  reserve(extraRows: number): void {
    const needed = this.length + extraRows;
    if (needed <= this.capacity) return;
    // Geometric growth for row-by-row appends; a large reservation (a file of known size) exactly.
    this.setCapacity(Math.max(needed, Math.ceil(this.capacity * GROWTH)));
  }

  /** Drops the growth slack (e.g. when a file has been loaded completely). */
  trim(): void {
    if (this.capacity > this.length) this.setCapacity(Math.max(this.length, 1));
  }

  private setCapacity(cap: number): void {
    const kinds = new Uint8Array(cap);
    kinds.set(this.kindCol.subarray(0, Math.min(cap, this.length)));
    this.kindCol = kinds;
    const ts = new Float64Array(cap);
    ts.set(this.tsCol.subarray(0, Math.min(cap, this.length)));
    this.tsCol = ts;
    for (const [key, c] of this.cols) this.setCol(key, resize(c, cap, this.length));
    this.capacity = cap;
  }

  private nextTs(tsNs: number): number {
    const last = this.length > 0 ? this.tsCol[this.length - 1]! : -Infinity;
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
    this.kindCol[row] = KIND_CODE[ev.kind];
    this.tsCol[row] = this.nextTs(ev.tsNs);
    const rec = ev as unknown as Record<string, unknown>;
    if (write) write(this, row, rec);
    else {
      const plans = WRITE_PLANS[this.kindCol[row]!]!;
      for (let i = 0; i < plans.length; i++) this.writeField(plans[i]!, row, rec[plans[i]!.field]);
    }
    this.length++;
    this.version++;
    return row;
  }

  appendAll(events: Iterable<TraceEvent>): void {
    for (const ev of events) this.append(ev);
  }

  /** @internal */
  column(idx: number): Column {
    return this.colByIdx[idx] ?? this.col(STORAGE_KEYS[idx]!);
  }

  // For the compiled writers (compileWriter): not part of the store's API.
  /** @internal */
  putNum(keyIdx: number, row: number, v: number): void { this.put(keyIdx, row, v); }
  /** @internal */
  putPlanned(plan: FieldPlan, row: number, v: unknown): void { this.writeField(plan, row, v); }

  /** Writes a number; a column too narrow for it is widened first (see LADDERS). */
  private put(keyIdx: number, row: number, v: number): void {
    let c = this.column(keyIdx);
    c[row] = v;
    // NaN never reads back equal: it widens to the top of the ladder (f64 keeps it) once, then stays.
    if (c[row] !== v && !(Number.isNaN(v) && Number.isNaN(c[row]!))) {
      c = this.widen(STORAGE_KEYS[keyIdx]!, [v], 1);
      c[row] = v;
    }
  }

  private writeField(plan: FieldPlan, row: number, value: unknown): void {
    switch (plan.tag) {
      case Tag.Num: this.put(plan.keyIdx, row, value as number); break;
      case Tag.Str: this.put(plan.keyIdx, row, this.strings.intern(value as string)); break;
      case Tag.Bool: this.column(plan.keyIdx)[row] = value ? 1 : 0; break;
      case Tag.Enum: {
        const code = plan.enumCodes!.get(value as string);
        if (code === undefined) {
          throw new RangeError(`${plan.field}: '${String(value)}' is not one of ${[...plan.enumCodes!.keys()].join(', ')}`);
        }
        this.column(plan.keyIdx)[row] = code;
        break;
      }
      case Tag.U64: {
        // BigInt arithmetic is slow; most values (block addresses) are exact as a Number, and the
        // all-ones "no address" is common enough to test for directly.
        const big = value as bigint;
        const n = Number(big);
        if (n >= 0 && n <= Number.MAX_SAFE_INTEGER) {
          this.put(plan.keyIdx, row, Math.floor(n / 0x1_0000_0000));
          this.put(plan.keyIdx + 1, row, n % 0x1_0000_0000);
        } else if (big === U64_ALL_ONES) {
          this.put(plan.keyIdx, row, 0xffff_ffff);
          this.put(plan.keyIdx + 1, row, 0xffff_ffff);
        } else {
          const v = BigInt.asUintN(64, big);
          this.put(plan.keyIdx, row, Number(v >> 32n));
          this.put(plan.keyIdx + 1, row, Number(v & 0xffff_ffffn));
        }
        break;
      }
    }
  }

  readField(field: FieldName, row: number): unknown {
    const type = FIELD_TYPES[field];
    if (type === 'u64') {
      const hi = (this.col(`${field}Hi`) as Uint32Array)[row]!;
      const lo = (this.col(`${field}Lo`) as Uint32Array)[row]!;
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
   * Appends `rowCount` rows given as raw columns (wire batches, recordings), of any array type
   * whose values the field allows. String columns must already hold ids valid in `this.strings`;
   * missing columns are zero for these rows.
   */
  appendColumns(rowCount: number, kinds: Uint8Array, tsNs: Float64Array, columns: ReadonlyMap<string, Column>): void {
    this.reserve(rowCount);
    const at = this.length;
    this.kindCol.set(kinds.subarray(0, rowCount), at);
    for (let i = 0; i < rowCount; i++) this.tsCol[at + i] = this.nextTs(tsNs[i]!);
    for (const [key, values] of columns) {
      let c = this.col(key);
      if (c.constructor !== values.constructor) {
        // A lower rung of the same ladder always fits; anything else is checked value by value.
        const ladder = ladderOf(columnTypeOfKey(key));
        const from = ladder.indexOf(values.constructor as ColumnCtor);
        const fits = from >= 0 && from <= ladder.indexOf(c.constructor as ColumnCtor);
        if (!fits && !allFit(c.constructor as ColumnCtor, values, rowCount)) c = this.widen(key, values, rowCount);
      }
      c.set(values.subarray(0, rowCount) as never, at);
    }
    this.length += rowCount;
    this.version++;
  }
}
