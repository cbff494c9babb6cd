// The event table as an Apache Arrow IPC *file*, for DuckDB, pandas/pyarrow, polars and the like,
// written by apache-arrow's RecordBatchFileWriter one record batch at a time: each call hands back
// the bytes of that batch (and of the dictionary batches it needs), so an export of any length
// holds one batch of rows, the dictionaries' distinct strings and the footer's block list.
//
//   "ARROW1\0\0" [schema message] [dictionary batch]… [record batch] … [EOS] [footer] [i32] "ARROW1"
//
// Bytes 8..EOS are also a valid IPC *stream* (Arrow C++'s stream reader, e.g. DuckDB's, reads
// them): apache-arrow's file writer puts the schema only in the footer, so EventFileWriter adds the
// schema message after the magic, where the format's file layout has it.
//
// Columns (the Arrow schema depends only on SCHEMA_VERSION, never on the data, so files from many
// hosts and days concatenate in a query engine; docs/scale.md):
//   kind               dictionary<int8, utf8>, dictionary = schema KINDS (index = stored code)
//   tsNs               int64, ns since originNs (schema metadata `originNs`, decimal string)
//   <field>            one per FIELD_TYPES entry, in canonical order; null where the row's kind
//                      does not have the field:
//     f64 → float64    i32 → int32    u32 → uint32    u16 → uint16    u8 → uint8
//     bool → bool      u64 → uint64 (from the Hi/Lo store columns)
//     enum → dictionary<int8, utf8>, dictionary = the schema's ENUMS table (index = stored code)
//     str  → dictionary<int32, utf8>, one dictionary per column holding only the strings that
//            column uses, "" first (index 0, what null slots point at); a batch that brings new
//            strings is preceded by a delta dictionary batch with only those
// Dictionary ids: the column's index in the schema.

import {
  AsyncByteQueue, Bool, Dictionary, Field, Float64, Int8, Int32, Int64, RecordBatch, RecordBatchFileWriter, RecordBatchWriter,
  Schema, Struct, Uint8, Uint16, Uint32, Uint64, Utf8, Vector, makeData, type Data, type DataType,
} from 'apache-arrow';
import { ENUMS, FIELD_TYPES, FIELDS, KIND_FIELDS, KINDS, SCHEMA_VERSION, type EnumName, type FieldName } from '../trace/schema.ts';
import type { StringTable } from '../trace/strings.ts';
import type { Column, TraceStore } from '../trace/store.ts';
import { concatBytes } from '../trace/bytes.ts';

/** Rows per record batch when exporting a whole store: big enough that per-batch metadata is noise. */
export const DEFAULT_ROWS_PER_BATCH = 65_536;

type ArrowColumn =
  | { name: 'kind'; type: 'kind' }
  | { name: 'tsNs'; type: 'ts' }
  | { name: FieldName; type: 'f64' | 'i32' | 'u32' | 'u16' | 'u8' | 'bool' | 'u64' }
  | { name: FieldName; type: 'enum'; values: readonly string[] }
  | { name: FieldName; type: 'str' };

function isEnumName(t: string): t is EnumName {
  return Object.hasOwn(ENUMS, t);
}

/** The column list: kind, tsNs, then every schema field in canonical order. */
export const ARROW_COLUMNS: readonly ArrowColumn[] = [
  { name: 'kind', type: 'kind' },
  { name: 'tsNs', type: 'ts' },
  ...FIELDS.map((name): ArrowColumn => {
    const t = FIELD_TYPES[name];
    if (isEnumName(t)) return { name, type: 'enum', values: ENUMS[t] };
    return { name, type: t } as ArrowColumn;
  }),
];

/** Per field: 1 for kind codes that have it. */
const HAS_FIELD = new Map<FieldName, Uint8Array>(FIELDS.map((f) => [f, Uint8Array.from(KINDS, (k) => ((KIND_FIELDS[k] as readonly string[]).includes(f) ? 1 : 0))]));

function arrowType(c: ArrowColumn, id: number): DataType {
  switch (c.type) {
    case 'kind': case 'enum': return new Dictionary(new Utf8(), new Int8(), id, false);
    case 'str': return new Dictionary(new Utf8(), new Int32(), id, false);
    case 'ts': return new Int64();
    case 'f64': return new Float64();
    case 'i32': return new Int32();
    case 'u32': return new Uint32();
    case 'u16': return new Uint16();
    case 'u8': return new Uint8();
    case 'u64': return new Uint64();
    case 'bool': return new Bool();
  }
}

const utf8 = new TextEncoder();

/** Strings as one utf8 Data (no nulls): a dictionary, or a delta of one. */
function utf8Data(values: readonly string[]): Data<Utf8> {
  const parts = values.map((v) => utf8.encode(v));
  const offsets = new Int32Array(values.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i]! + parts[i]!.byteLength;
  const bytes = new Uint8Array(offsets[values.length]!);
  parts.forEach((p, i) => bytes.set(p, offsets[i]!));
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets: offsets, data: bytes });
}

/** Rows [0, n) of a store column as a fresh array of the Arrow type (any column type is converted). */
function copyAs<T extends Float64ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Uint16ArrayConstructor | Uint8ArrayConstructor>(ctor: T, col: Column, n: number): InstanceType<T> {
  const out = new ctor(n) as InstanceType<T>;
  out.set(col.subarray(0, n) as never);
  return out;
}

/** tsNs (f64, integral ns) → int64, exact for |tsNs| < 2^53. */
function int64OfF64(ts: Float64Array, from: number, to: number): BigInt64Array {
  const words = new Int32Array(2 * (to - from));
  for (let i = 0; i < to - from; i++) {
    const v = Math.round(ts[from + i]!);
    const hi = Math.floor(v / 4294967296);
    words[2 * i] = (v - hi * 4294967296) | 0;
    words[2 * i + 1] = hi | 0;
  }
  return new BigInt64Array(words.buffer);
}

/** Per string column: store string id → dictionary index, and the chunks written so far. */
class StringDictionary {
  private readonly byValue = new Map<string, number>([['', 0]]);
  private values: string[] = [''];
  private inChunks = 0;
  private readonly chunks: Data<Utf8>[] = [];
  private cacheTable: StringTable | null = null;
  private cache = new Int32Array(0);

  indexOf(table: StringTable, id: number): number {
    if (table !== this.cacheTable) {
      this.cacheTable = table;
      this.cache = new Int32Array(0);
    }
    if (id >= this.cache.length) {
      const next = new Int32Array(Math.max(table.size, id + 1)).fill(-1);
      next.set(this.cache);
      this.cache = next;
    }
    let idx = this.cache[id]!;
    if (idx < 0) {
      const value = table.get(id);
      idx = this.byValue.get(value) ?? -1;
      if (idx < 0) {
        idx = this.inChunks + this.values.length;
        this.values.push(value);
        this.byValue.set(value, idx);
      }
      this.cache[id] = idx;
    }
    return idx;
  }

  /**
   * The dictionary for the batch being built: the same chunk objects as before plus one of the
   * strings new since, which the writer sees as a delta (it writes the chunks it has not written).
   */
  vector(): Vector<Utf8> {
    if (this.values.length > 0) {
      this.chunks.push(utf8Data(this.values));
      this.inChunks += this.values.length;
      this.values = [];
    }
    return new Vector(this.chunks);
  }
}

/** apache-arrow's file writer with the schema message after the magic too (see the file comment). */
class EventFileWriter extends RecordBatchFileWriter {
  protected override _writeSchema(schema: Schema): this {
    super._writeSchema(schema); // "ARROW1" and padding to 8
    return RecordBatchWriter.prototype['_writeSchema'].call(this, schema) as this; // the schema message
  }
}

/** The writer's byte sink: keeps what each call writes, for the caller to take. */
class Pieces extends AsyncByteQueue {
  private taken: Uint8Array[] = [];
  override write(value: Parameters<AsyncByteQueue['write']>[0]): void {
    this.taken.push(value as Uint8Array); // the writer passes Uint8Arrays it no longer touches
  }
  take(): Uint8Array[] {
    const out = this.taken;
    this.taken = [];
    return out;
  }
}

interface ArrowExportOptions {
  originNs: bigint;
  /** Extra schema metadata (e.g. `source`, `host`); `originNs` and `fusescope.schemaVersion` are always set. */
  metadata?: Record<string, string>;
}

/**
 * Incremental writer: `start()`, then `writeRows()` for each slice of rows (any stores, in order),
 * then `finish()`. Each call returns the bytes to append to the file. Strings are resolved through
 * each store's own table, so stores with different tables may be mixed.
 */
export class ArrowEventWriter {
  private readonly schema: Schema;
  private readonly writer = new EventFileWriter();
  private readonly sink = new Pieces();
  private readonly strDicts = new Map<number, StringDictionary>();
  private readonly fixedDicts = new Map<number, Vector<Utf8>>();
  rowsWritten = 0;

  constructor(opts: ArrowExportOptions) {
    const metadata = new Map(Object.entries({
      ...opts.metadata,
      originNs: opts.originNs.toString(),
      'fusescope.schemaVersion': String(SCHEMA_VERSION),
      'fusescope.tsNs': 'int64 ns since originNs',
    }));
    this.schema = new Schema(ARROW_COLUMNS.map((c, idx) => new Field(c.name, arrowType(c, idx), c.type !== 'kind' && c.type !== 'ts')), metadata);
    ARROW_COLUMNS.forEach((c, idx) => {
      if (c.type === 'str') this.strDicts.set(idx, new StringDictionary());
      // Kinds and enums: the schema's tables, one chunk shared by every batch (written once).
      if (c.type === 'kind') this.fixedDicts.set(idx, new Vector([utf8Data(KINDS)]));
      if (c.type === 'enum') this.fixedDicts.set(idx, new Vector([utf8Data(c.values)]));
    });
  }

  /** Magic and the schema message. */
  start(): Uint8Array[] {
    this.writer.reset(this.sink, this.schema);
    return this.sink.take();
  }

  /** Rows [fromRow, toRow) of `store` as one record batch, preceded by the dictionary batches it needs. */
  writeRows(store: TraceStore, fromRow = 0, toRow = store.length): Uint8Array[] {
    const n = toRow - fromRow;
    if (n <= 0) return [];
    const kinds = store.kinds.subarray(fromRow, toRow);
    // Per field, rows [fromRow, toRow), 0 where a kind lacks it (store columns are shared between kinds).
    const values = (key: string): Column => store.fieldValues(key, fromRow, toRow);
    const fields = this.schema.fields;
    const children = ARROW_COLUMNS.map((c, idx): Data => {
      const type = fields[idx]!.type;
      if (c.type === 'kind') return makeData({ type, length: n, nullCount: 0, data: kinds.slice(), dictionary: this.fixedDicts.get(idx)! }); // codes < 128: valid int8
      if (c.type === 'ts') return makeData({ type, length: n, nullCount: 0, data: int64OfF64(store.tsNs, fromRow, toRow) });
      // Validity from the kind: a field exists exactly in the kinds that list it.
      const has = HAS_FIELD.get(c.name)!;
      const validity = new Uint8Array((n + 7) >> 3);
      let nullCount = 0;
      for (let i = 0; i < n; i++) {
        if (has[kinds[i]!]) validity[i >> 3]! |= 1 << (i & 7);
        else nullCount++;
      }
      const nulls = { length: n, nullCount, nullBitmap: nullCount === 0 ? undefined : validity };
      switch (c.type) {
        case 'f64': return makeData({ type, ...nulls, data: copyAs(Float64Array, values(c.name), n) });
        case 'i32': return makeData({ type, ...nulls, data: copyAs(Int32Array, values(c.name), n) });
        case 'u32': return makeData({ type, ...nulls, data: copyAs(Uint32Array, values(c.name), n) });
        case 'u16': return makeData({ type, ...nulls, data: copyAs(Uint16Array, values(c.name), n) });
        case 'u8': return makeData({ type, ...nulls, data: copyAs(Uint8Array, values(c.name), n) });
        case 'enum': return makeData({ type, ...nulls, data: copyAs(Uint8Array, values(c.name), n), dictionary: this.fixedDicts.get(idx)! });
        case 'bool': {
          const col = values(c.name);
          const bits = new Uint8Array((n + 7) >> 3);
          for (let i = 0; i < n; i++) if (col[i]) bits[i >> 3]! |= 1 << (i & 7);
          return makeData({ type, ...nulls, data: bits });
        }
        case 'u64': {
          const hi = values(`${c.name}Hi`);
          const lo = values(`${c.name}Lo`);
          const words = new Uint32Array(2 * n);
          for (let i = 0; i < n; i++) {
            words[2 * i] = lo[i]!;
            words[2 * i + 1] = hi[i]!;
          }
          return makeData({ type, ...nulls, data: new BigUint64Array(words.buffer) });
        }
        case 'str': {
          const col = values(c.name);
          const dict = this.strDicts.get(idx)!;
          const indexes = new Int32Array(n);
          for (let i = 0; i < n; i++) if (has[kinds[i]!]) indexes[i] = dict.indexOf(store.strings, col[i]!);
          return makeData({ type, ...nulls, data: indexes, dictionary: dict.vector() });
        }
      }
    });
    this.writer.write(new RecordBatch(this.schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children })));
    this.rowsWritten += n;
    return this.sink.take();
  }

  /** End-of-stream marker, footer, footer length and the closing magic. */
  finish(): Uint8Array[] {
    this.writer.finish();
    return this.sink.take();
  }
}

/** The whole store as an Arrow IPC file, in pieces (write them in order). */
export function* arrowFileChunks(store: TraceStore, opts: Partial<ArrowExportOptions> & { rowsPerBatch?: number } = {}): Generator<Uint8Array> {
  const w = new ArrowEventWriter({ originNs: opts.originNs ?? store.originNs, metadata: opts.metadata });
  const step = opts.rowsPerBatch ?? DEFAULT_ROWS_PER_BATCH;
  yield* w.start();
  for (let from = 0; from < store.length; from += step) yield* w.writeRows(store, from, Math.min(store.length, from + step));
  yield* w.finish();
}

/** The whole store as one Arrow IPC file buffer (tests, small exports). */
export function toArrowFile(store: TraceStore, opts: Partial<ArrowExportOptions> & { rowsPerBatch?: number } = {}): Uint8Array {
  return concatBytes([...arrowFileChunks(store, opts)]);
}
