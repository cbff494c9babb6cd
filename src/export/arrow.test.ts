// The Arrow IPC file read back: by apache-arrow's file reader (footer, dictionary deltas, validity
// bitmaps, every column type) and, since apache-arrow also writes it now, by a reader of another
// implementation: DuckDB-wasm, whose ingestion is Arrow C++'s IPC stream reader, on edge values
// worked out by hand. DuckDB also reads a CLI export in server/commands/commands.test.ts.
import { describe, expect, it } from 'vitest';
import { RecordBatchStreamReader, tableFromIPC, Type, type Table } from 'apache-arrow';
import { openDuck, streamPartOfArrowFile } from '../../server/testing/duckdb.ts';
import { TraceStore } from '../trace/store.ts';
import { FIELDS, FIELD_TYPES, KIND_FIELDS, type TraceEvent } from '../trace/schema.ts';
import { ev, oneOfEach } from '../trace/testing/events.ts';
import { ARROW_COLUMNS, toArrowFile } from './arrow.ts';

const storeOf = (events: TraceEvent[], originNs = 0n): TraceStore => {
  const s = new TraceStore(originNs);
  s.appendAll(events);
  return s;
};

/** Every cell of `table` equals the store: the field's value where the kind has it, null elsewhere. */
function expectSameAsStore(table: Table, store: TraceStore): void {
  expect(table.numRows).toBe(store.length);
  const cols = new Map(ARROW_COLUMNS.map((c) => [c.name, table.getChild(c.name)!]));
  for (let row = 0; row < store.length; row++) {
    const e = store.get(row) as unknown as Record<string, unknown>;
    expect(cols.get('kind')!.get(row)).toBe(e.kind);
    expect(cols.get('tsNs')!.get(row)).toBe(BigInt(e.tsNs as number));
    const has = new Set<string>(KIND_FIELDS[store.kindOf(row)]);
    for (const f of FIELDS) {
      const got = cols.get(f)!.get(row);
      expect([row, f, got]).toEqual([row, f, has.has(f) ? e[f] : null]);
    }
  }
}

describe('arrow export', () => {
  it('every kind, batches of 4 rows (dictionary deltas), reads back cell for cell', () => {
    const store = storeOf(oneOfEach(), 1_700_000_000_123_456_789n);
    const table = tableFromIPC(toArrowFile(store, { rowsPerBatch: 4, metadata: { source: 'test' } }));
    expect(table.batches).toHaveLength(Math.ceil(store.length / 4));
    expect(table.schema.metadata.get('originNs')).toBe('1700000000123456789');
    expect(table.schema.metadata.get('source')).toBe('test');
    expect(table.schema.fields.map((f) => f.name)).toEqual(['kind', 'tsNs', ...FIELDS]);
    expectSameAsStore(table, store);
  });

  it('column types follow the schema', () => {
    const table = tableFromIPC(toArrowFile(storeOf(oneOfEach())));
    const typeOf = (name: string): string => {
      const t = table.schema.fields.find((f) => f.name === name)!.type;
      return t.typeId === Type.Dictionary ? `dict<${t.indices.bitWidth},${Type[t.dictionary.typeId]}>` : String(t);
    };
    expect(typeOf('kind')).toBe('dict<8,Utf8>');
    expect(typeOf('tsNs')).toBe('Int64');
    const expected: Record<string, string> = {
      f64: 'Float64', i32: 'Int32', u32: 'Uint32', u16: 'Uint16', u8: 'Uint8', bool: 'Bool', u64: 'Uint64', str: 'dict<32,Utf8>',
    };
    for (const f of FIELDS) expect([f, typeOf(f)]).toEqual([f, expected[FIELD_TYPES[f]] ?? 'dict<8,Utf8>']);
    expect(table.schema.fields.find((f) => f.name === 'kind')!.nullable).toBe(false);
    expect(table.schema.fields.find((f) => f.name === 'nodeId')!.nullable).toBe(true);
  });

  it('edge values: u64 extremes, negatives, unicode, large and negative tsNs', () => {
    const events: TraceEvent[] = [
      ev('lock_contention', -5, 'kworker/0:1/9', { lockAddr: 0xffff_ffff_ffff_fffen, lockFlags: 0xffff_ffff, ret: -1 }),
      ev('iomap_ioend', 0, 'ß/1', { newAddr: 0n, error: -2147483648, sent: true, writtenBytes: 2 ** 53 - 1 }),
      ev('iomap_map', 2 ** 40 + 3, 'srv/2', { mapAddr: 1n << 63n, mapType: 255, mapFlags: 65535, slot: 'write', source: 'cache' }),
      ev('app_op_begin', 2 ** 52, '/日本/3', { path: '/dir/✓ file', fd: -1 }),
      ev('diag', 2 ** 52 + 1, '', { message: '', code: 'x', severity: 'error', file: 'a\0b', line: 7 }),
    ];
    const store = storeOf(events);
    expectSameAsStore(tableFromIPC(toArrowFile(store, { rowsPerBatch: 2 })), store);
  });

  it('Arrow C++ (DuckDB) reads the same edge values, through dictionary deltas', async () => {
    const events: TraceEvent[] = [
      ev('lock_contention', -5, 'kworker/0:1/9', { lockAddr: 0xffff_ffff_ffff_fffen, lockFlags: 0xffff_ffff, ret: -1 }),
      ev('iomap_ioend', 0, 'ß/1', { newAddr: 0n, error: -2147483648, sent: true, writtenBytes: 2 ** 53 - 1 }),
      ev('iomap_map', 2 ** 40 + 3, 'srv/2', { mapAddr: 1n << 63n, mapType: 255, slot: 'write' }),
      ev('app_op_begin', 2 ** 52, '/日本/3', { path: '/dir/✓ file', fd: -1 }),
    ];
    const duck = await openDuck();
    try {
      duck.insertArrowFile(toArrowFile(storeOf(events), { rowsPerBatch: 2 }), 'ev'); // 2 batches: task's dictionary grows
      const rows = duck.query(`SELECT kind, tsNs, task, lockAddr, lockFlags, ret, error, sent, writtenBytes, newAddr, mapAddr,
        mapType, slot, path, fd FROM ev ORDER BY tsNs`).map((r) => Object.values(r).map((v) => (typeof v === 'bigint' ? v.toString() : v)));
      const _ = null;
      expect(rows).toEqual([
        ['lock_contention', '-5', 'kworker/0:1/9', '18446744073709551614', 4294967295, -1, _, _, _, _, _, _, _, _, _],
        ['iomap_ioend', '0', 'ß/1', _, _, _, -2147483648, true, 9007199254740991, '0', _, _, _, _, _],
        ['iomap_map', '1099511627779', 'srv/2', _, _, _, _, _, _, _, '9223372036854775808', 255, 'write', _, _],
        ['app_op_begin', '4503599627370496', '/日本/3', _, _, _, _, _, _, _, _, _, _, '/dir/✓ file', -1],
      ]);
    } finally {
      duck.close();
    }
  });

  it('an empty store is a valid file with the full schema', () => {
    const table = tableFromIPC(toArrowFile(new TraceStore()));
    expect(table.numRows).toBe(0);
    expect(table.schema.fields).toHaveLength(2 + FIELDS.length);
  });

  it('file framing: magic at both ends, 8-aligned footer right after the EOS marker', () => {
    const bytes = toArrowFile(storeOf(oneOfEach()));
    const text = (a: number, b: number): string => String.fromCharCode(...bytes.subarray(a, b));
    expect(text(0, 6)).toBe('ARROW1');
    expect(text(bytes.length - 6, bytes.length)).toBe('ARROW1');
    const dv = new DataView(bytes.buffer);
    const footerAt = bytes.length - 10 - dv.getInt32(bytes.length - 10, true);
    expect(footerAt % 8).toBe(0);
    expect([dv.getUint32(footerAt - 8, true), dv.getUint32(footerAt - 4, true)]).toEqual([0xffff_ffff, 0]);
  });

  it('bytes 8..EOS are an IPC stream that opens with the schema message', () => {
    const store = storeOf(oneOfEach());
    const reader = RecordBatchStreamReader.from(streamPartOfArrowFile(toArrowFile(store, { rowsPerBatch: 4 })));
    reader.open();
    expect(reader.schema.fields.map((f) => f.name)).toEqual(['kind', 'tsNs', ...FIELDS]);
    expect([...reader].reduce((n, b) => n + b.numRows, 0)).toBe(store.length);
  });
});
