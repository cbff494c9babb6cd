import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { applyBatch, batchByteLength, decodeBatch, encodeBatch, parseClientMessage, parseServerMessage, WireError, WIRE_VERSION } from './wire.ts';
import { ev, oneOfEach } from './testing/events.ts';
import { NULL_ADDR } from './fuse-proto.ts';
import { FIELD_CODE, SCHEMA_VERSION } from './schema.ts';
import { STORAGE_KEYS, columnOf } from './columns.ts';

function storeOf(events = oneOfEach()): TraceStore {
  const s = new TraceStore();
  s.appendAll(events);
  return s;
}

describe('wire batch codec', () => {
  it('round-trips every kind and field, including u64 and strings', () => {
    const src = storeOf();
    const { frame, knownStrings } = encodeBatch(src, 0, src.length, 0);
    expect(knownStrings).toBe(src.strings.size);
    const dst = new TraceStore();
    applyBatch(dst, decodeBatch(frame));
    expect(dst.length).toBe(src.length);
    for (let i = 0; i < src.length; i++) expect(dst.get(i)).toEqual(src.get(i));
  });

  it('sends each column at the narrowest width its values in the batch need, and leaves out zero columns', () => {
    const src = new TraceStore();
    // Small values only: u8-sized ids and offsets; then one huge offset, one negative ret, one fraction.
    for (let i = 0; i < 100; i++) src.append(ev('app_op_begin', i * 10, 'dd/1', { posBytes: i, lenBytes: 200 }));
    const first = encodeBatch(src, 0, 100, 0);
    const small = decodeBatch(first.frame);
    expect(small.columns.get(columnOf('posBytes'))).toBeInstanceOf(Uint8Array);
    expect(small.columns.get(columnOf('lenBytes'))).toBeInstanceOf(Uint8Array);
    expect(small.columns.has(columnOf('mapAddrHi'))).toBe(false); // all zero: not sent
    src.append(ev('app_op_begin', 2000, 'dd/1', { posBytes: 2 ** 40 + 1, lenBytes: 0.5 }));
    src.append(ev('app_op_end', 2001, 'dd/1', { ret: -28 }));
    const wide = decodeBatch(encodeBatch(src, 100, 102, first.knownStrings).frame);
    expect(wide.columns.get(columnOf('posBytes'))).toBeInstanceOf(Float64Array);
    // A column's type is its values' in the batch: ret alone (-28) fits an i8.
    expect(decodeBatch(encodeBatch(src, 101, 102, src.strings.size).frame).columns.get(columnOf('ret'))).toBeInstanceOf(Int8Array);
    // The receiver's store widens its narrow columns when wider values arrive, losing nothing.
    const dst = new TraceStore();
    applyBatch(dst, small);
    applyBatch(dst, wide);
    for (let i = 0; i < src.length; i++) expect(dst.get(i)).toEqual(src.get(i));
    expect(dst.get(100)).toMatchObject({ posBytes: 2 ** 40 + 1, lenBytes: 0.5 });
    expect(dst.get(101)).toMatchObject({ ret: -28 });
  });

  it('still decodes version 1 frames (a full-width column per field, as older recordings hold them)', () => {
    // Two rows of every kind, so every column holds several kinds' fields and a per-field column
    // (zero where a kind lacks the field) must not overwrite another field's values in its column.
    const src = storeOf([...oneOfEach(), ...oneOfEach().map((e, i) => ({ ...e, tsNs: 1e6 + i }))]);
    const v3 = decodeBatch(encodeBatch(src, 0, src.length, 0).frame);
    // Build the v1 frame by hand: every field column at the schema's storage type, elementType byte 0.
    const v1 = encodeV1(src);
    const batch = decodeBatch(v1);
    expect(batch.rowCount).toBe(src.length);
    const dst = new TraceStore();
    applyBatch(dst, batch);
    for (let i = 0; i < src.length; i++) expect(dst.get(i)).toEqual(src.get(i));
    expect([...batch.columns.keys()].sort()).toEqual([...v3.columns.keys()].sort());
  });

  it('names columns by layout index, several kinds\' fields in one', () => {
    const src = storeOf([ev('app_op_end', 1, 'dd/1', { ret: 7 }), ev('fuse_send', 2, 'k/1', { unique: 9, nodeId: 3 })]);
    const { frame } = encodeBatch(src, 0, 2, 0);
    expect(new DataView(frame.buffer).getUint16(4, true)).toBe(3);
    const batch = decodeBatch(frame);
    // ret (app_op_end) and unique (fuse_send) never meet in one kind: the layout gives them one column.
    expect(columnOf('ret')).toBe(columnOf('unique'));
    expect(Array.from(batch.columns.get(columnOf('ret'))!)).toEqual([7, 9]);
    const dst = new TraceStore();
    applyBatch(dst, batch);
    expect(dst.get(0)).toMatchObject({ ret: 7 });
    expect(dst.get(1)).toMatchObject({ unique: 9, nodeId: 3 });
  });

  /** A one-row batch of one app_op_begin, and the byte offset of its `task` column's header (a u8 column). */
  function oneRowWithTaskHeader(): { frame: Uint8Array; task: number; at: number } {
    const frame = encodeBatch(storeOf([ev('app_op_begin', 1, 'dd/1')]), 0, 1, 0).frame;
    const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    const task = columnOf('task');
    for (let at = 24; at + 8 <= frame.byteLength; at += 8) {
      if (dv.getUint16(at, true) === task && dv.getUint8(at + 2) === 0 && dv.getUint8(at + 3) === 1 && dv.getUint32(at + 4, true) === 0) return { frame, task, at };
    }
    throw new Error('no task column header');
  }

  it('rejects an element type a column cannot have (a float string id)', () => {
    const { frame, task, at } = oneRowWithTaskHeader();
    new DataView(frame.buffer).setUint8(at + 3, 4); // f64
    expect(() => decodeBatch(frame)).toThrow(new RegExp(`bad element type 4 for column ${task}`));
  });

  it('rejects an unknown column and a column given twice', () => {
    const { frame, task, at: first } = oneRowWithTaskHeader();
    const unknown = frame.slice();
    new DataView(unknown.buffer).setUint16(first, 999, true);
    expect(() => decodeBatch(unknown)).toThrow(`unknown column 999 (at byte ${first})`);
    // The next column header (one row: 8 bytes of data after each header) claims the task column too.
    const twice = frame.slice();
    new DataView(twice.buffer).setUint16(first + 16, task, true);
    expect(() => decodeBatch(twice)).toThrow(`column ${task} given twice`);
  });

  it('sends only strings the receiver lacks, across several batches', () => {
    const src = new TraceStore();
    const dst = new TraceStore();
    let known = 1;
    for (let b = 0; b < 3; b++) {
      const from = src.length;
      src.append(ev('app_op_begin', b * 100, `writer-${b}/1`, { path: `/d${b}/file` }));
      src.append(ev('app_op_end', b * 100 + 50, `writer-${b}/1`));
      const { frame, knownStrings } = encodeBatch(src, from, src.length, known);
      const batch = decodeBatch(frame);
      expect(batch.firstStringId).toBe(known);
      expect(batch.strings).toEqual(src.strings.slice(known));
      known = knownStrings;
      applyBatch(dst, batch);
    }
    expect(dst.get(4)).toMatchObject({ kind: 'app_op_begin', task: 'writer-2/1', path: '/d2/file' });
  });

  it('keeps 64-bit addresses exact', () => {
    const src = storeOf([ev('iomap_map', 1, 't/1', { mapAddr: NULL_ADDR }), ev('iomap_map', 2, 't/1', { mapAddr: 0x1234_5678_9abc_def0n })]);
    const dst = new TraceStore();
    applyBatch(dst, decodeBatch(encodeBatch(src, 0, 2, 0).frame));
    expect(dst.get(0)).toMatchObject({ mapAddr: NULL_ADDR });
    expect(dst.get(1)).toMatchObject({ mapAddr: 0x1234_5678_9abc_def0n });
  });

  it('rejects malformed frames with the byte offset of the damage', () => {
    const src = storeOf();
    const { frame } = encodeBatch(src, 0, src.length, 0);
    expect(() => decodeBatch(frame.subarray(0, 10))).toThrow(/header/);
    const badMagic = frame.slice();
    badMagic[0] = 0;
    expect(() => decodeBatch(badMagic)).toThrow(/magic.*byte 0/);
    const truncated = frame.slice(0, frame.byteLength - 9);
    expect(() => decodeBatch(truncated)).toThrow(WireError);
    const badKind = frame.slice();
    const dv = new DataView(badKind.buffer);
    // Find the kinds section: after the strings; corrupt via a too-new schema version instead.
    dv.setUint16(6, 99, true);
    expect(() => decodeBatch(badKind)).toThrow(/schema version 99/);
  });

  it('refuses a batch whose string table is out of step', () => {
    const src = storeOf();
    const { frame } = encodeBatch(src, 1, 2, 3);
    expect(() => applyBatch(new TraceStore(), decodeBatch(frame))).toThrow(/out of step/);
  });
});

describe('batchByteLength (cutting one inflated stream of batches at their ends)', () => {
  it('is the whole frame once its column headers are in, null while they are not, for batches with and without strings', () => {
    const src = new TraceStore();
    src.appendAll(oneOfEach());
    for (const known of [0, src.strings.size]) {
      const { frame } = encodeBatch(src, 0, src.length, known);
      const dv = new DataView(frame.buffer, frame.byteOffset);
      expect(dv.getUint32(20, true)).toBeGreaterThan(1); // columns
      expect(batchByteLength(frame, frame.byteLength)).toBe(frame.byteLength);
      expect(batchByteLength(frame, 23)).toBeNull();
      expect(batchByteLength(frame, 24 + 4)).toBeNull();
      // With the frame followed by other bytes, the length is still the frame's.
      const longer = new Uint8Array(frame.byteLength + 40).fill(0xee);
      longer.set(frame);
      expect(batchByteLength(longer, longer.byteLength)).toBe(frame.byteLength);
    }
  });

  it('refuses what is not a batch, and wire 1 (whose widths depend on the schema)', () => {
    const src = new TraceStore();
    src.appendAll(oneOfEach());
    const { frame } = encodeBatch(src, 0, src.length, 0);
    const bad = frame.slice();
    bad[0] = 0;
    expect(() => batchByteLength(bad, bad.byteLength)).toThrow(WireError);
    const v1 = frame.slice();
    new DataView(v1.buffer).setUint16(4, 1, true);
    expect(() => batchByteLength(v1, v1.byteLength)).toThrow(/wire version 1/);
  });
});

describe('client messages', () => {
  it('accepts the control messages', () => {
    expect(parseClientMessage('{"type":"pause"}')).toEqual({ ok: true, value: { type: 'pause' } });
    expect(parseClientMessage('{"type":"speed","value":2.5}')).toEqual({ ok: true, value: { type: 'speed', value: 2.5 } });
    expect(parseClientMessage('{"type":"scenario","name":"x"}')).toMatchObject({ ok: true });
  });
  it('answers malformed and unknown messages with an error, never a throw', () => {
    expect(parseClientMessage('{nope')).toMatchObject({ ok: false, code: 'bad_json' });
    expect(parseClientMessage('[]')).toMatchObject({ ok: false, code: 'bad_message' });
    expect(parseClientMessage('{"type":"rm -rf"}')).toMatchObject({ ok: false, code: 'unknown_type' });
    expect(parseClientMessage('{"type":"speed","value":1e9}')).toMatchObject({ ok: false, code: 'bad_value' });
    expect(parseClientMessage('{"type":"speed","value":"fast"}')).toMatchObject({ ok: false, code: 'bad_value' });
    expect(parseClientMessage('x'.repeat(10_000))).toMatchObject({ ok: false, code: 'too_large' });
  });
  it('shared (drive the shared session) is kept when true, dropped when false, refused when not a boolean', () => {
    expect(parseClientMessage('{"type":"pause","shared":true}')).toEqual({ ok: true, value: { type: 'pause', shared: true } });
    expect(parseClientMessage('{"type":"resume","shared":false}')).toEqual({ ok: true, value: { type: 'resume' } });
    expect(parseClientMessage('{"type":"scenario","name":"x","shared":true}')).toEqual({ ok: true, value: { type: 'scenario', name: 'x', shared: true } });
    expect(parseClientMessage('{"type":"speed","value":2,"shared":"yes"}')).toMatchObject({ ok: false, code: 'bad_value' });
  });
  it('capture_start: exactly workload, policy, direct and seconds with their types; capture_stop: nothing else', () => {
    const ok = { type: 'capture_start', workload: 'hardlink-writers', policy: 'ino', direct: true, seconds: 2 };
    expect(parseClientMessage(JSON.stringify(ok))).toEqual({ ok: true, value: ok });
    expect(parseClientMessage('{"type":"capture_stop"}')).toEqual({ ok: true, value: { type: 'capture_stop' } });
    for (const bad of [
      { ...ok, argv: ['sh'] }, { ...ok, workload: 3 }, { ...ok, workload: '' }, { ...ok, policy: null },
      { ...ok, direct: 'yes' }, { ...ok, seconds: '2' }, { type: 'capture_start', workload: 'hardlink-writers' },
      { type: 'capture_stop', all: true },
    ]) expect(parseClientMessage(JSON.stringify(bad))).toMatchObject({ ok: false, code: 'bad_value' });
    // JSON has no Infinity: 1e999 parses to it, and is refused.
    expect(parseClientMessage('{"type":"capture_start","workload":"w","policy":"p","direct":false,"seconds":1e999}')).toMatchObject({ ok: false, code: 'bad_value' });
  });
});

describe('server messages', () => {
  const state = { paused: false, speed: 1, scenario: 's', paceNsPerSec: 1 };
  it('accepts well-formed messages', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'state', state }))).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ type: 'hello', wireVersion: WIRE_VERSION, schemaVersion: 1, originNs: '0', source: 'x', scenarios: [], state }))).toMatchObject({ ok: true });
  });
  it("accepts a hello's viewer and history and the viewer message; refuses malformed ones", () => {
    const hello = { type: 'hello', wireVersion: WIRE_VERSION, schemaVersion: 1, originNs: '0', source: 'x', scenarios: [], state };
    const history = { maxBytes: 64, notKeptEvents: 100, keptFromNs: 101_000 };
    expect(parseServerMessage(JSON.stringify({ ...hello, viewer: { paused: false }, history }))).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ type: 'viewer', viewer: { paused: true } }))).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ ...hello, history: { ...history, keptFromNs: 'then' } }))).toMatchObject({ ok: false });
    expect(parseServerMessage(JSON.stringify({ type: 'viewer', viewer: {} }))).toMatchObject({ ok: false });
  });
  it("accepts the recorder's status (hello and its own message); refuses malformed ones", () => {
    const hello = { type: 'hello', wireVersion: WIRE_VERSION, schemaVersion: 1, originNs: '0', source: 'x', scenarios: [], state };
    const paused = { state: 'paused', file: null, reason: 'ENOSPC: no space left on device' };
    expect(parseServerMessage(JSON.stringify({ type: 'recording', recording: paused }))).toMatchObject({ ok: true, value: { recording: paused } });
    expect(parseServerMessage(JSON.stringify({ ...hello, recording: { state: 'recording', file: 'a.fscope', reason: null } }))).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ type: 'recording', recording: { ...paused, state: 'stopped' } }))).toMatchObject({ ok: false });
    expect(parseServerMessage(JSON.stringify({ type: 'recording', recording: { state: 'paused', file: null } }))).toMatchObject({ ok: false });
    expect(parseServerMessage(JSON.stringify({ ...hello, recording: { state: 'paused', file: 3, reason: null } }))).toMatchObject({ ok: false });
  });
  it('rejects malformed ones and a hello from another wire version', () => {
    expect(parseServerMessage('{"type":"state"}')).toMatchObject({ ok: false });
    expect(parseServerMessage(JSON.stringify({ type: 'hello', wireVersion: WIRE_VERSION + 1, originNs: '0', source: 'x', scenarios: [], state }))).toMatchObject({ ok: false, message: expect.stringContaining(`wire version ${WIRE_VERSION + 1}`) });
    expect(parseServerMessage('{"type":"nope"}')).toMatchObject({ ok: false });
    expect(parseServerMessage('null')).toMatchObject({ ok: false });
  });
});

/** A wire v1 frame of all rows of `store`: the format before narrowed columns, written by hand. */
function encodeV1(store: TraceStore): Uint8Array {
  const keys = STORAGE_KEYS.filter((k) => store.fieldValues(k).some((v) => v !== 0));
  const n = store.length;
  const strings = store.strings.slice(1).map((x) => new TextEncoder().encode(x));
  const pad8 = (x: number): number => (x + 7) & ~7;
  let size = 24;
  for (const x of strings) size += 4 + x.byteLength;
  size = pad8(size) + pad8(n) + n * 8;
  const cols = keys.map((k) => store.fieldValues(k));
  for (const c of cols) size += 8 + pad8(n * c.BYTES_PER_ELEMENT);
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  dv.setUint32(0, 0x42435346, true);
  dv.setUint16(4, 1, true);
  dv.setUint16(6, SCHEMA_VERSION, true);
  dv.setUint32(8, n, true);
  dv.setUint32(12, 1, true);
  dv.setUint32(16, strings.length, true);
  dv.setUint32(20, keys.length, true);
  let at = 24;
  for (const x of strings) { dv.setUint32(at, x.byteLength, true); buf.set(x, at + 4); at += 4 + x.byteLength; }
  at = pad8(at);
  buf.set(store.kinds.subarray(0, n), at);
  at += pad8(n);
  new Float64Array(buf.buffer, at, n).set(store.tsNs.subarray(0, n));
  at += n * 8;
  keys.forEach((key, i) => {
    const part = key.endsWith('Hi') && !(key in FIELD_CODE) ? 1 : key.endsWith('Lo') && !(key in FIELD_CODE) ? 2 : 0;
    const field = part === 0 ? key : key.slice(0, -2);
    dv.setUint16(at, FIELD_CODE[field as keyof typeof FIELD_CODE], true);
    dv.setUint8(at + 2, part);
    at += 8;
    const c = cols[i]!;
    buf.set(new Uint8Array(c.buffer, c.byteOffset, n * c.BYTES_PER_ELEMENT), at);
    at += pad8(n * c.BYTES_PER_ELEMENT);
  });
  return buf;
}

describe('wire batches from a hostile peer', () => {
  it('flipped bytes and truncations: a WireError naming an offset, or rows that read back; never a crash or lost rows', () => {
    let seed = 7;
    const rand = (n: number): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) % n;
    const src = storeOf([...oneOfEach(), ...oneOfEach().map((e, i) => ({ ...e, tsNs: 1e6 + i }))]);
    const half = src.length >> 1;
    const first = encodeBatch(src, 0, half, 0);
    const second = encodeBatch(src, half, src.length, first.knownStrings).frame;
    let flipsRejected = 0;
    for (let round = 0; round < 600; round++) {
      const dst = new TraceStore();
      applyBatch(dst, decodeBatch(first.frame));
      const bad = round % 5 === 0 ? second.slice(0, rand(second.byteLength)) : second.slice();
      if (round % 5 !== 0) for (let k = 0, n = 1 + rand(3); k < n; k++) bad[rand(bad.byteLength)] = rand(256);
      try {
        applyBatch(dst, decodeBatch(bad));
      } catch (e) {
        expect(e, `round ${round}`).toBeInstanceOf(WireError);
        expect((e as Error).message).toMatch(/at byte \d+/);
        expect(dst.length).toBe(half); // the rows already accepted are all there
        for (let i = 0; i < half; i++) expect(dst.get(i)).toEqual(src.get(i));
        if (round % 5 !== 0) flipsRejected++;
        continue;
      }
      // Accepted (the flip hit a value, not the structure): all rows are there, the first batch's
      // unchanged, and every row reads back.
      expect(dst.length, `round ${round}`).toBe(src.length);
      for (let i = 0; i < half; i++) expect(dst.get(i)).toEqual(src.get(i));
      for (let i = half; i < dst.length; i++) dst.get(i);
    }
    expect(flipsRejected).toBeGreaterThan(50); // not only the truncations
  });
});
