// The event table as an Apache Arrow IPC *file* (Arrow columnar format 1.0, metadata V5), for
// DuckDB, pandas/pyarrow, polars and the like. Written here, from the columnar store, with no
// Arrow library (the core imports only itself); `flatbuffers.ts` builds the metadata.
//
//   "ARROW1\0\0"
//   [schema message]
//   [dictionary batch]… [record batch]   ← per batch of rows: dictionaries first for new strings
//   …                                      (the first batch's are full, later ones are deltas)
//   [EOS: ffffffff 00000000]             ← so bytes 8..EOS are also a valid IPC *stream*
//   [footer: schema + blocks of every dictionary and record batch] [i32 footer bytes] "ARROW1"
//
//   message = [ffffffff] [i32 metadata bytes] [Message flatbuffer, padded to 8] [body]
//   body    = buffers, each padded to 8: per column, validity bitmap (omitted, length 0, when the
//             column has no nulls in the batch) then its data buffers
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
//            column uses, "" first (index 0, what null slots point at)
// Dictionary ids: the column's index in the schema. Multi-byte values are little-endian (the
// typed arrays' byte order on every platform fusescope runs on; the schema says Little).

import { ENUMS, FIELD_TYPES, FIELDS, KIND_FIELDS, KINDS, SCHEMA_VERSION, type EnumName, type FieldName } from '../schema.ts';
import type { StringTable } from '../strings.ts';
import type { Column, TraceStore } from '../store.ts';
import { buildFlatbuffer, fb, type FbTable } from './flatbuffers.ts';

export const ARROW_MAGIC = new Uint8Array([0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]); // "ARROW1"
/** Rows per record batch when exporting a whole store: big enough that per-batch metadata is noise. */
export const DEFAULT_ROWS_PER_BATCH = 65_536;

const METADATA_V5 = 4;
const enum MessageHeader { Schema = 1, DictionaryBatch = 2, RecordBatch = 3 }
const enum TypeId { Int = 2, FloatingPoint = 3, Utf8 = 5, Bool = 6 }
const PRECISION_DOUBLE = 2;
const CONTINUATION = 0xffff_ffff;

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

// ---------------------------------------------------------------------------------------------
// Metadata (Schema.fbs / Message.fbs / File.fbs field ids in comments)

const intType = (bitWidth: number, signed: boolean): FbTable => fb.table([fb.i32(bitWidth), fb.bool(signed)]); // Int { bitWidth, is_signed }

function typeOf(c: ArrowColumn): { id: TypeId; table: FbTable } {
  switch (c.type) {
    case 'kind': case 'enum': case 'str': return { id: TypeId.Utf8, table: fb.table([]) };
    case 'ts': return { id: TypeId.Int, table: intType(64, true) };
    case 'f64': return { id: TypeId.FloatingPoint, table: fb.table([fb.i16(PRECISION_DOUBLE)]) };
    case 'i32': return { id: TypeId.Int, table: intType(32, true) };
    case 'u32': return { id: TypeId.Int, table: intType(32, false) };
    case 'u16': return { id: TypeId.Int, table: intType(16, false) };
    case 'u8': return { id: TypeId.Int, table: intType(8, false) };
    case 'u64': return { id: TypeId.Int, table: intType(64, false) };
    case 'bool': return { id: TypeId.Bool, table: fb.table([]) };
  }
}

const indexBits = (c: ArrowColumn): number => (c.type === 'str' ? 32 : 8);
const isDictionary = (c: ArrowColumn): boolean => c.type === 'kind' || c.type === 'enum' || c.type === 'str';

function schemaTable(metadata: Record<string, string>): FbTable {
  const fields = ARROW_COLUMNS.map((c, idx) => {
    const { id, table } = typeOf(c);
    // DictionaryEncoding { id: long, indexType: Int, isOrdered: bool }
    const dictionary = isDictionary(c) ? fb.table([fb.i64(idx), intType(indexBits(c), true), fb.bool(false)]) : undefined;
    // Field { name, nullable, type_type, type, dictionary, children, custom_metadata }
    return fb.table([fb.string(c.name), fb.bool(c.type !== 'kind' && c.type !== 'ts'), fb.u8(id), table, dictionary, fb.vector([])]);
  });
  const kv = Object.entries(metadata).map(([k, v]) => fb.table([fb.string(k), fb.string(v)]));
  // Schema { endianness (0 = Little), fields, custom_metadata }
  return fb.table([fb.i16(0), fb.vector(fields), fb.vector(kv)]);
}

interface Body { nodes: { length: number; nullCount: number }[]; buffers: Uint8Array[] }

function recordBatchTable(length: number, body: Body): { table: FbTable; bodyBytes: number } {
  const nodes = new DataView(new ArrayBuffer(16 * body.nodes.length));
  body.nodes.forEach((n, i) => {
    nodes.setBigInt64(16 * i, BigInt(n.length), true);
    nodes.setBigInt64(16 * i + 8, BigInt(n.nullCount), true);
  });
  const bufs = new DataView(new ArrayBuffer(16 * body.buffers.length));
  let at = 0;
  body.buffers.forEach((b, i) => {
    bufs.setBigInt64(16 * i, BigInt(at), true);
    bufs.setBigInt64(16 * i + 8, BigInt(b.byteLength), true);
    at += pad8(b.byteLength);
  });
  // RecordBatch { length, nodes: [FieldNode], buffers: [Buffer] }
  const table = fb.table([fb.i64(length), fb.structs(body.nodes.length, new Uint8Array(nodes.buffer), 8),
    fb.structs(body.buffers.length, new Uint8Array(bufs.buffer), 8)]);
  return { table, bodyBytes: at };
}

const pad8 = (n: number): number => (n + 7) & ~7;
const ZEROS = new Uint8Array(8);

/** One encapsulated message: prefix, metadata, body buffers (each padded), as byte pieces. */
function message(headerType: MessageHeader, header: FbTable, bodyBytes: number, buffers: readonly Uint8Array[]): { pieces: Uint8Array[]; metaBytes: number; bodyBytes: number } {
  // Message { version, header_type, header, bodyLength, custom_metadata }
  const meta = buildFlatbuffer(fb.table([fb.i16(METADATA_V5), fb.u8(headerType), header, fb.i64(bodyBytes)]));
  const prefix = new DataView(new ArrayBuffer(8));
  prefix.setUint32(0, CONTINUATION, true);
  prefix.setInt32(4, meta.byteLength, true); // buildFlatbuffer pads to 8
  const pieces = [new Uint8Array(prefix.buffer), meta];
  for (const b of buffers) {
    pieces.push(b);
    if (b.byteLength % 8) pieces.push(ZEROS.subarray(0, 8 - (b.byteLength % 8)));
  }
  return { pieces, metaBytes: 8 + meta.byteLength, bodyBytes };
}

// ---------------------------------------------------------------------------------------------
// Buffers

const utf8 = new TextEncoder();

function utf8Buffers(values: readonly string[]): Uint8Array[] {
  const parts = values.map((v) => utf8.encode(v));
  const offsets = new Int32Array(values.length + 1);
  for (let i = 0; i < parts.length; i++) offsets[i + 1] = offsets[i]! + parts[i]!.byteLength;
  const data = new Uint8Array(offsets[values.length]!);
  parts.forEach((p, i) => data.set(p, offsets[i]!));
  return [new Uint8Array(0), new Uint8Array(offsets.buffer), data]; // validity omitted: no nulls
}

/** Rows [from, to) as the Arrow type's bytes (fieldValues gives the schema's type; any column type is converted). */
function bytesOf(col: Column, from: number, to: number, type: 'f64' | 'i32' | 'u32' | 'u16' | 'u8' | 'enum'): Uint8Array {
  const ctor = { f64: Float64Array, i32: Int32Array, u32: Uint32Array, u16: Uint16Array, u8: Uint8Array, enum: Uint8Array }[type];
  const out = new ctor(to - from);
  out.set(col.subarray(from, to) as never);
  return new Uint8Array(out.buffer);
}

/** Per string column: store string id → dictionary index, and the values not yet written. */
class StringDictionary {
  readonly byValue = new Map<string, number>([['', 0]]);
  values: string[] = [''];
  written = 0;
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
        idx = this.values.length;
        this.values.push(value);
        this.byValue.set(value, idx);
      }
      this.cache[id] = idx;
    }
    return idx;
  }
}

// ---------------------------------------------------------------------------------------------

export interface ArrowExportOptions {
  originNs: bigint;
  /** Extra schema metadata (e.g. `source`, `host`); `originNs` and `fusescope.schemaVersion` are always set. */
  metadata?: Record<string, string>;
}

interface Block { offsetBytes: number; metaBytes: number; bodyBytes: number }

/**
 * Incremental writer: `start()`, then `writeRows()` for each slice of rows (any stores, in order),
 * then `finish()`. Each call returns the bytes to append to the file. Strings are resolved through
 * each store's own table, so stores with different tables may be mixed.
 */
export class ArrowEventWriter {
  private offsetBytes = 0;
  private readonly dictBlocks: Block[] = [];
  private readonly batchBlocks: Block[] = [];
  private readonly schema: FbTable;
  private readonly strDicts = new Map<number, StringDictionary>();
  private fixedDictsWritten = false;
  rowsWritten = 0;

  constructor(opts: ArrowExportOptions) {
    this.schema = schemaTable({
      ...opts.metadata,
      originNs: opts.originNs.toString(),
      'fusescope.schemaVersion': String(SCHEMA_VERSION),
      'fusescope.tsNs': 'int64 ns since originNs',
    });
    ARROW_COLUMNS.forEach((c, idx) => { if (c.type === 'str') this.strDicts.set(idx, new StringDictionary()); });
  }

  private emit(pieces: Uint8Array[]): Uint8Array[] {
    for (const p of pieces) this.offsetBytes += p.byteLength;
    return pieces;
  }

  /** Magic and the schema message. */
  start(): Uint8Array[] {
    const head = new Uint8Array(8);
    head.set(ARROW_MAGIC);
    const m = message(MessageHeader.Schema, this.schema, 0, []);
    return this.emit([head, ...m.pieces]);
  }

  private dictionaryBatch(id: number, values: readonly string[], isDelta: boolean): Uint8Array[] {
    const buffers = utf8Buffers(values);
    const rb = recordBatchTable(values.length, { nodes: [{ length: values.length, nullCount: 0 }], buffers });
    // DictionaryBatch { id, data: RecordBatch, isDelta }
    const m = message(MessageHeader.DictionaryBatch, fb.table([fb.i64(id), rb.table, fb.bool(isDelta)]), rb.bodyBytes, buffers);
    this.dictBlocks.push({ offsetBytes: this.offsetBytes, metaBytes: m.metaBytes, bodyBytes: m.bodyBytes });
    return this.emit(m.pieces);
  }

  /** The kind and enum dictionaries (the schema's tables), once, before anything that uses them. */
  private fixedDictionaries(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.fixedDictsWritten) return out;
    ARROW_COLUMNS.forEach((c, idx) => {
      if (c.type === 'kind') out.push(...this.dictionaryBatch(idx, KINDS, false));
      if (c.type === 'enum') out.push(...this.dictionaryBatch(idx, c.values, false));
    });
    this.fixedDictsWritten = true;
    return out;
  }

  /** Rows [fromRow, toRow) of `store` as one record batch, preceded by the dictionary batches it needs. */
  writeRows(store: TraceStore, fromRow = 0, toRow = store.length): Uint8Array[] {
    const n = toRow - fromRow;
    const out = this.fixedDictionaries();
    if (n <= 0) return out;
    const kinds = store.kinds.subarray(fromRow, toRow);
    // Per field, rows [fromRow, toRow), 0 where a kind lacks it (store columns are shared slots).
    const values = (key: string): Column => store.fieldValues(key, fromRow, toRow);
    const body: Body = { nodes: [], buffers: [] };
    const validity = new Uint8Array((n + 7) >> 3);

    ARROW_COLUMNS.forEach((c, idx) => {
      if (c.type === 'kind') {
        body.nodes.push({ length: n, nullCount: 0 });
        body.buffers.push(new Uint8Array(0), kinds.slice()); // codes < 128: valid int8
        return;
      }
      if (c.type === 'ts') {
        body.nodes.push({ length: n, nullCount: 0 });
        body.buffers.push(new Uint8Array(0), int64OfF64(store.tsNs, fromRow, toRow));
        return;
      }
      // Validity from the kind: a field exists exactly in the kinds that list it.
      const has = HAS_FIELD.get(c.name)!;
      validity.fill(0);
      let nullCount = 0;
      for (let i = 0; i < n; i++) {
        if (has[kinds[i]!]) validity[i >> 3]! |= 1 << (i & 7);
        else nullCount++;
      }
      body.nodes.push({ length: n, nullCount });
      body.buffers.push(nullCount === 0 ? new Uint8Array(0) : validity.slice());
      switch (c.type) {
        case 'f64': case 'i32': case 'u32': case 'u16': case 'u8': case 'enum': {
          body.buffers.push(bytesOf(values(c.name), 0, n, c.type));
          break;
        }
        case 'bool': {
          const col = values(c.name);
          const bits = new Uint8Array((n + 7) >> 3);
          for (let i = 0; i < n; i++) if (col[i]) bits[i >> 3]! |= 1 << (i & 7);
          body.buffers.push(bits);
          break;
        }
        case 'u64': {
          const hi = values(`${c.name}Hi`);
          const lo = values(`${c.name}Lo`);
          const words = new Uint32Array(2 * n);
          for (let i = 0; i < n; i++) {
            words[2 * i] = lo[i]!;
            words[2 * i + 1] = hi[i]!;
          }
          body.buffers.push(new Uint8Array(words.buffer));
          break;
        }
        case 'str': {
          const col = values(c.name);
          const dict = this.strDicts.get(idx)!;
          const indexes = new Int32Array(n);
          for (let i = 0; i < n; i++) if (has[kinds[i]!]) indexes[i] = dict.indexOf(store.strings, col[i]!);
          body.buffers.push(new Uint8Array(indexes.buffer));
          break;
        }
      }
    });
    // Dictionaries before the batch that uses them: the full table first, deltas after.
    for (const [idx, dict] of this.strDicts) {
      if (dict.written === dict.values.length) continue;
      out.push(...this.dictionaryBatch(idx, dict.values.slice(dict.written), dict.written > 0));
      dict.written = dict.values.length;
    }
    const rb = recordBatchTable(n, body);
    const m = message(MessageHeader.RecordBatch, rb.table, rb.bodyBytes, body.buffers);
    this.batchBlocks.push({ offsetBytes: this.offsetBytes, metaBytes: m.metaBytes, bodyBytes: m.bodyBytes });
    out.push(...this.emit(m.pieces));
    this.rowsWritten += n;
    return out;
  }

  /** End-of-stream marker, footer, footer length and the closing magic. */
  finish(): Uint8Array[] {
    const out = this.fixedDictionaries(); // an empty export still has every dictionary
    const eos = new DataView(new ArrayBuffer(8));
    eos.setUint32(0, CONTINUATION, true);
    out.push(...this.emit([new Uint8Array(eos.buffer)]));
    const blocks = (list: Block[]): Uint8Array => {
      // Block { offset: long, metaDataLength: int, (pad), bodyLength: long }
      const dv = new DataView(new ArrayBuffer(24 * list.length));
      list.forEach((b, i) => {
        dv.setBigInt64(24 * i, BigInt(b.offsetBytes), true);
        dv.setInt32(24 * i + 8, b.metaBytes, true);
        dv.setBigInt64(24 * i + 16, BigInt(b.bodyBytes), true);
      });
      return new Uint8Array(dv.buffer);
    };
    // Footer { version, schema, dictionaries: [Block], recordBatches: [Block] }
    const footer = buildFlatbuffer(fb.table([fb.i16(METADATA_V5), this.schema,
      fb.structs(this.dictBlocks.length, blocks(this.dictBlocks), 8), fb.structs(this.batchBlocks.length, blocks(this.batchBlocks), 8)]));
    const tail = new Uint8Array(4 + ARROW_MAGIC.byteLength);
    new DataView(tail.buffer).setInt32(0, footer.byteLength, true);
    tail.set(ARROW_MAGIC, 4);
    out.push(...this.emit([footer, tail]));
    return out;
  }
}

/** tsNs (f64, integral ns) → int64 little-endian, exact for |tsNs| < 2^53. */
function int64OfF64(ts: Float64Array, from: number, to: number): Uint8Array {
  const words = new Int32Array(2 * (to - from));
  for (let i = 0; i < to - from; i++) {
    const v = Math.round(ts[from + i]!);
    const hi = Math.floor(v / 4294967296);
    words[2 * i] = (v - hi * 4294967296) | 0;
    words[2 * i + 1] = hi | 0;
  }
  return new Uint8Array(words.buffer);
}

/** The whole store as an Arrow IPC file, in pieces (write them in order). */
export function* arrowFileChunks(store: TraceStore, opts: Partial<ArrowExportOptions> & { rowsPerBatch?: number } = {}): Generator<Uint8Array> {
  const w = new ArrowEventWriter({ originNs: opts.originNs ?? store.originNs, metadata: opts.metadata });
  const step = opts.rowsPerBatch ?? DEFAULT_ROWS_PER_BATCH;
  yield* w.start();
  for (let from = 0; from < store.length; from += step) yield* w.writeRows(store, from, Math.min(store.length, from + step));
  yield* w.finish();
}

/** The whole store as one Arrow IPC file buffer (tests, small exports, the browser). */
export function toArrowFile(store: TraceStore, opts: Partial<ArrowExportOptions> & { rowsPerBatch?: number } = {}): Uint8Array {
  const pieces = [...arrowFileChunks(store, opts)];
  const out = new Uint8Array(pieces.reduce((s, p) => s + p.byteLength, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
