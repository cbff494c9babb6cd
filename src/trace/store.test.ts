import { describe, expect, it } from 'vitest';
import { TraceStore, sharedAlloc } from './store.ts';
import { COLUMN_COUNT, COLUMN_LAYOUT, STORAGE_KEYS, checkedLayout, proposeLayout, columnOf } from './columns.ts';

/** Wire v3's table as schema 1 wrote it: recordings of that time name columns by their index in it. */
const SCHEMA1_LAYOUT = [
  ['posBytes', 'unique', 'ret', 'missedEvents'],
  ['lenBytes', 'ioendFlags', 'oldCookie', 'lockAddrHi', 'fromTsNs'],
  ['mapOffsetBytes', 'oflags', 'processedBytes', 'newAddrHi', 'lockAddrLo', 'toTsNs'],
  ['mapLenBytes', 'newAddrLo', 'lockFlags'],
  ['mapAddrHi', 'newSizeBytes'],
  ['mapAddrLo'],
  ['opflags', 'cookie', 'seq', 'newCookie'],
  ['writtenBytes'],
  ['task'],
  ['nodeId', 'line'],
  ['ino', 'opcode', 'notifyCode'],
  ['mapFlags'],
  ['path', 'message', 'name'],
  ['text', 'code'],
  ['file'],
  ['error', 'mapType', 'lock', 'op', 'reason', 'nlookup', 'phase', 'severity'],
  ['mapDev', 'mode', 'fd', 'sent'],
  ['fork', 'slot'],
  ['source', 'hit'],
];
import { ev, oneOfEach } from './testing/events.ts';

describe('TraceStore', () => {
  it('stores and materializes every kind exactly', () => {
    const s = new TraceStore();
    const events = oneOfEach();
    s.appendAll(events);
    expect(s.length).toBe(events.length);
    events.forEach((e, i) => expect(s.get(i)).toEqual(e));
  });

  it('clear: a reused store holds only the next batch, zero where that batch has no column, clamped after the rows it dropped', () => {
    const store = new TraceStore();
    const a = new TraceStore(0n, store.strings);
    a.append({ kind: 'fuse_send', tsNs: 100, task: 't/1', unique: 7, opcode: 1, nodeId: 9, lenBytes: 4096 } as never);
    a.append({ kind: 'fuse_send', tsNs: 200, task: 't/1', unique: 8, opcode: 1, nodeId: 9, lenBytes: 4096 } as never);
    store.appendColumns(a.length, a.kinds, a.tsNs, a.columns());
    store.clear();
    expect(store.length).toBe(0);
    // A batch whose rows have no lenBytes (all 0: the wire leaves such a column out), one row earlier than the last dropped.
    const b = new TraceStore(0n, store.strings);
    b.append({ kind: 'fuse_send', tsNs: 150, task: 't/1', unique: 9, opcode: 1, nodeId: 9, lenBytes: 0 } as never);
    const cols = b.columns();
    cols.delete(columnOf('lenBytes'));
    store.appendColumns(b.length, b.kinds, b.tsNs, cols);
    expect(store.length).toBe(1);
    expect(store.get(0)).toMatchObject({ kind: 'fuse_send', unique: 9, lenBytes: 0, tsNs: 200 });
    expect(store.clampedCount).toBe(1);
  });

  it('grows past its initial capacity and keeps earlier rows', () => {
    const s = new TraceStore();
    for (let i = 0; i < 5000; i++) s.append(ev('fuse_send', i, 't/1', { unique: 2 + 2 * i }));
    expect(s.length).toBe(5000);
    expect(s.get(0)).toMatchObject({ unique: 2 });
    expect(s.get(4999)).toMatchObject({ unique: 10000, tsNs: 4999 });
  });

  it('finds rows by time in O(log n) with lower and upper bounds', () => {
    const s = new TraceStore();
    [10, 20, 20, 30].forEach((t) => s.append(ev('instant', t, 't/1')));
    expect(s.lowerBound(20)).toBe(1);
    expect(s.upperBound(20)).toBe(3);
    expect(s.lowerBound(31)).toBe(4);
    expect(s.lowerBound(0)).toBe(0);
  });

  it('interns strings: one id per distinct string', () => {
    const s = new TraceStore();
    s.append(ev('inode_new', 1, 'k/1', { path: '/a' }));
    s.append(ev('inode_new', 2, 'k/1', { path: '/a' }));
    const size = s.strings.size;
    s.append(ev('inode_new', 3, 'k/1', { path: '/b' }));
    expect(s.strings.size).toBe(size + 1);
  });

  it('clamps a backwards timestamp and counts it', () => {
    const s = new TraceStore();
    s.append(ev('instant', 100, 't/1'));
    s.append(ev('instant', 50, 't/1'));
    expect(s.clampedCount).toBe(1);
    expect(s.tsNs[1]).toBe(100);
  });

  it('rejects an enum value the schema does not know, leaving nothing of the row behind', () => {
    const s = new TraceStore();
    // task and lock are written before mode fails; the next row's kind (instant) has nothing in lock's column.
    expect(() => s.append(ev('lock_wait', 1, 't/1', { lock: 'invalidate_lock', mode: 'X' as never }))).toThrow(/mode/);
    expect(s.length).toBe(0);
    s.append(ev('instant', 2, 't/1'));
    expect(s.col('lock')[0]).toBe(0);
  });

  it('stores a column as narrow as its values allow and widens it without losing a value', () => {
    const s = new TraceStore();
    for (let i = 0; i < 3000; i++) s.append(ev('app_op_begin', i, 'dd/1', { posBytes: i % 200, fd: 3 }));
    expect(s.col('posBytes')).toBeInstanceOf(Uint8Array);
    expect(s.col('fd')).toBeInstanceOf(Uint8Array);
    const before = s.bytesPerRow();
    s.append(ev('app_op_begin', 3000, 'dd/1', { posBytes: 70_000 }));
    expect(s.col('posBytes')).toBeInstanceOf(Uint32Array);
    s.append(ev('app_op_begin', 3001, 'dd/1', { posBytes: 2 ** 45 + 3 }));
    s.append(ev('app_op_end', 3002, 'dd/1', { ret: -5 }));
    expect(s.col('posBytes')).toBeInstanceOf(Float64Array);
    expect(s.bytesPerRow()).toBeGreaterThan(before);
    for (let i = 0; i < 3000; i++) expect(s.get(i)).toMatchObject({ posBytes: i % 200 });
    expect(s.get(3000)).toMatchObject({ posBytes: 70_000 });
    expect(s.get(3001)).toMatchObject({ posBytes: 2 ** 45 + 3 });
    expect(s.get(3002)).toMatchObject({ ret: -5 });
    // A NaN is kept, not turned into 0 by a narrow column.
    const nanStore = new TraceStore();
    nanStore.append(ev('app_op_begin', 1, 'dd/1', { posBytes: Number.NaN }));
    const got = nanStore.get(0);
    expect(got.kind === 'app_op_begin' && Number.isNaN(got.posBytes)).toBe(true);
    // The schema's own type for exporters, same values, 0 where the kind lacks the field.
    expect(Array.from(s.fieldValues('fd', 0, 3))).toEqual([3, 3, 3]);
    expect(s.fieldValues('fd')).toBeInstanceOf(Int32Array);
    expect(s.fieldValues('posBytes', 3002, 3003)[0]).toBe(0);
    // A negative in a column of unsigned values takes the narrowest signed type holding both.
    const signed = new TraceStore();
    signed.append(ev('app_op_begin', 1, 'dd/1', { fd: 200 }));
    signed.append(ev('app_op_begin', 2, 'dd/1', { fd: -1 }));
    expect(signed.col('fd')).toBeInstanceOf(Int16Array);
    expect([signed.get(0), signed.get(1)]).toMatchObject([{ fd: 200 }, { fd: -1 }]);
    // Chosen from the values held, not the type's range: 70 000 then -1 fits an i32 (a u32 and -1 would not).
    const wide = new TraceStore();
    wide.append(ev('app_op_begin', 1, 'dd/1', { fd: 70_000 }));
    expect(wide.col('fd')).toBeInstanceOf(Uint32Array);
    wide.append(ev('app_op_begin', 2, 'dd/1', { fd: -1 }));
    expect(wide.col('fd')).toBeInstanceOf(Int32Array);
    expect([wide.get(0), wide.get(1)]).toMatchObject([{ fd: 70_000 }, { fd: -1 }]);
  });

  it('keeps fields of different kinds in shared columns without mixing them up', () => {
    // Every column with several keys: one event per key, each with a distinct nonzero value.
    const s = new TraceStore();
    const events = [...oneOfEach(), ...oneOfEach().map((e, i) => ({ ...e, tsNs: 1e6 + i }))];
    s.appendAll(events);
    events.forEach((e, i) => expect(s.get(i)).toEqual(e));
    // A row pays for columns, not fields: every column is used, and there are fewer than keys.
    expect(s.columnsInUse().length).toBe(COLUMN_COUNT);
    expect(COLUMN_COUNT).toBeLessThan(STORAGE_KEYS.length);
  });

  it('keeps the column table that wire v3 and its recordings were written with, and refuses a bad one', () => {
    // Schema 1's keys sit where the colouring put them for schema 1 (the keys it had: proposeLayout
    // over today's schema may differ); later keys only joined existing columns.
    const schema2 = new Set(['aliasOf', 'inodeFlags', 'fsDev', 'forkAbsent', 'rawType', 'rejected',
      /* schema 3 */ 'summaryBy', 'contended', 'waitTotalNs', 'waitMaxNs', 'waitMinNs', 'waitAvgNs', /* schema 4 */ 'tgid']);
    expect(COLUMN_LAYOUT.map((keys) => keys.filter((k) => !schema2.has(k)))).toEqual(SCHEMA1_LAYOUT);
    expect(proposeLayout().flat().length).toBe(STORAGE_KEYS.length);
    const without = (key: string): string[][] => COLUMN_LAYOUT.map((keys) => keys.filter((k) => k !== key));
    expect(() => checkedLayout(without('mapDev'))).toThrow('no column for mapDev');
    expect(() => checkedLayout([...COLUMN_LAYOUT, ['mapDev']])).toThrow('mapDev unknown or twice');
    // posBytes and lenBytes are both in app_op_begin; task (a string id) beside fd (a number).
    expect(() => checkedLayout([...without('lenBytes').map((keys) => (keys.includes('posBytes') ? [...keys, 'lenBytes'] : keys))])).toThrow('app_op_begin has two keys in one column');
    expect(() => checkedLayout(without('fd').map((keys) => (keys.includes('task') ? [...keys, 'fd'] : keys)))).toThrow('mixes string ids and numbers');
  });

  it('writes the same columns through the compiled per-kind writers as through the plan loop', () => {
    // Every kind, then values that widen (a fraction, a negative, 2^45, NaN, an all-ones u64).
    const events = [...oneOfEach(), ...oneOfEach().map((e, i) => ({ ...e, tsNs: 1e6 + i }))];
    events.push(ev('app_op_begin', 2e6, 'dd/1', { posBytes: 2 ** 45 + 3, fd: -1, lenBytes: 0.5 }));
    events.push(ev('app_op_begin', 2e6 + 1, 'dd/1', { posBytes: Number.NaN }));
    events.push(ev('iomap_map', 2e6 + 2, 'dd/1', { mapAddr: 0xffff_ffff_ffff_ffffn }), ev('iomap_map', 2e6 + 3, 'dd/1', { mapAddr: 2n ** 60n + 5n }));
    const compiled = new TraceStore();
    const planned = new TraceStore();
    for (const e of events) { compiled.append(e); planned.appendByPlan(e); }
    expect(compiled.columnsInUse()).toEqual(planned.columnsInUse());
    for (const column of planned.columnsInUse()) {
      expect(compiled.colAt(column).constructor, `column ${column}`).toBe(planned.colAt(column).constructor);
      expect(Array.from(compiled.colAt(column).subarray(0, compiled.length)), `column ${column}`).toEqual(Array.from(planned.colAt(column).subarray(0, planned.length)));
    }
    events.forEach((e, i) => expect(compiled.get(i)).toEqual(planned.get(i)));
    expect(() => compiled.append(ev('lock_wait', 3e6, 't/1', { mode: 'X' as never }))).toThrow(/mode/);
  });

  it('reserves by growth steps, or exactly when asked (a live window\'s cap)', () => {
    const s = new TraceStore();
    s.append(ev('instant', 1, 't/1'));
    s.reserve(1100);
    expect(s.capacityRows).toBe(1536); // 1.5 × 1024: the step wins over the 1101 needed
    const t = new TraceStore();
    t.append(ev('instant', 1, 't/1'));
    t.reserve(1100, true);
    expect(t.capacityRows).toBe(1101);
  });

  it('appends raw columns of another width, widening where needed, and trims its slack', () => {
    const s = new TraceStore();
    s.appendAll([ev('app_op_begin', 1, 'dd/1', { lenBytes: 7 })]);
    const lens = new Float64Array([1.5, 4096, 2 ** 33]);
    s.appendColumns(3, new Uint8Array([0, 0, 0]), new Float64Array([2, 3, 4]), new Map([[columnOf('lenBytes'), lens]]));
    expect(Array.from(s.col('lenBytes').subarray(0, 4))).toEqual([7, 1.5, 4096, 2 ** 33]);
    expect(s.byteLength()).toBeGreaterThan(s.bytesPerRow() * s.length);
    s.trim();
    expect(s.byteLength()).toBe(s.bytesPerRow() * s.length);
    s.append(ev('app_op_begin', 9, 'dd/1', { lenBytes: 3 }));
    expect(s.get(4)).toMatchObject({ lenBytes: 3 });
  });
});

describe('TraceStore over shared columns (sharedView / adoptShared)', () => {
  // What the import worker and the page do: one store fills columns in SharedArrayBuffers, the
  // other reads the rows it is told of, in place; a message (structuredClone) carries the view.
  it('a reader sees every row the writer told it of, with the writer\'s arrays, across a widening and a growth', () => {
    const writer = new TraceStore(5n, undefined, sharedAlloc);
    writer.reserve(4000, true);
    const reader = new TraceStore(5n);
    const told = () => {
      for (const s of writer.strings.slice(reader.strings.size)) reader.strings.intern(s);
      reader.adoptShared(structuredClone(writer.sharedView()));
    };
    for (let i = 0; i < 3000; i++) writer.append(ev('app_op_begin', i, `dd/${i % 7}`, { posBytes: i % 200, fd: 3 }));
    told();
    const first = reader.col('posBytes');
    expect(first.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(reader.kinds.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(reader.length).toBe(3000);
    // Rows past what it was told are not the reader's, though they are in the same memory.
    writer.append(ev('app_op_begin', 3000, 'dd/1', { posBytes: 7 }));
    expect(reader.length).toBe(3000);
    // posBytes widens (a new array), then the store grows past its 4,000 rows (new arrays again).
    writer.append(ev('app_op_begin', 3001, 'dd/1', { posBytes: 2 ** 45 + 3 }));
    for (let i = 3002; i < 5000; i++) writer.append(ev('app_op_end', i, 'dd/2', { ret: -5 }));
    told();
    expect(reader.col('posBytes')).toBeInstanceOf(Float64Array);
    expect(reader.col('posBytes')).not.toBe(first);
    expect(reader.length).toBe(5000);
    for (let i = 0; i < 5000; i++) expect(reader.get(i)).toEqual(writer.get(i));
    expect(reader.sharedByteLength()).toBe(writer.byteLength());
  });

  it('refuses a view that is not shared, shrinks the store, or mixes capacities; the store stays as it was', () => {
    const writer = new TraceStore(0n, undefined, sharedAlloc);
    for (let i = 0; i < 100; i++) writer.append(ev('app_op_begin', i, 'dd/1', { posBytes: i }));
    const reader = new TraceStore();
    for (const str of writer.strings.slice(1)) reader.strings.intern(str);
    reader.adoptShared(writer.sharedView());
    const v = writer.sharedView();
    const plain = new TraceStore();
    plain.append(ev('app_op_begin', 0, 'dd/1'));
    expect(() => reader.adoptShared({ ...v, length: 50 })).toThrow(/do not extend/);
    expect(() => reader.adoptShared({ ...plain.sharedView() })).toThrow(RangeError);
    expect(() => reader.adoptShared({ ...v, tsNs: new Float64Array(new SharedArrayBuffer(8 * 10)) })).toThrow(/do not extend/);
    expect(() => reader.adoptShared({ ...v, columns: [[99, v.columns[0]![1]]] })).toThrow(/column 99/);
    expect(() => reader.adoptShared({ ...v, columns: [[0, new Uint8Array(v.kinds.length)]] })).toThrow(/column 0/);
    expect(reader.length).toBe(100);
    for (let i = 0; i < 100; i++) expect(reader.get(i)).toEqual(writer.get(i));
  });
});

describe('TraceStore.insertRows', () => {
  it('puts events between rows in place, as appending them in that order would', () => {
    const a = ev('instant', 10, 'a/1', { name: 'm', text: 'a' });
    const b = ev('fs_op', 20, 'b/2', { posBytes: 4096 });
    const c = ev('instant', 30, 'c/3', { name: 'm', text: 'c' });
    const x = ev('lock_wait', 10, 'a/1', { lock: 'i_rwsem', lockAddr: 0xc3n });
    const y = ev('instant', 20, 'b/2', { name: 'n', text: 'y' });
    const z = ev('lock_acquire', 30, 'c/3', { lock: 'invalidate_lock', lockAddr: 0xc4n });
    const s = new TraceStore();
    for (const e of [a, b, c]) s.append(e);
    // x after a (before row 1), y before b (also row 1, after x), z at the end.
    s.insertRows([1, 1, 3], [x, y, z]);
    const want = new TraceStore();
    for (const e of [a, x, y, b, c, z]) want.append(e);
    expect(s.length).toBe(6);
    const rows = (t: TraceStore): unknown[] => Array.from({ length: t.length }, (_, r) => t.get(r));
    expect(rows(s)).toEqual(rows(want));
    // The moved fs_op row keeps its own values.
    expect(s.get(3)).toEqual(b);
  });

  it('refuses an event whose time breaks the order, leaving the rows as they were', () => {
    const s = new TraceStore();
    s.append(ev('instant', 10, 'a/1'));
    s.append(ev('instant', 20, 'a/1'));
    expect(() => s.insertRows([1], [ev('instant', 25, 'a/1')])).toThrow(RangeError);
    expect(s.length).toBe(2);
    expect([s.get(0).tsNs, s.get(1).tsNs]).toEqual([10, 20]);
  });
});
