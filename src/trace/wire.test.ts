import { describe, expect, it } from 'vitest';
import { TraceStore } from './store.ts';
import { applyBatch, decodeBatch, encodeBatch, parseClientMessage, parseServerMessage, WireError } from './wire.ts';
import { ev, oneOfEach } from './testing/events.ts';
import { NULL_ADDR } from './fuse-proto.ts';

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
});

describe('server messages', () => {
  const state = { paused: false, speed: 1, scenario: 's', paceNsPerSec: 1 };
  it('accepts well-formed messages', () => {
    expect(parseServerMessage(JSON.stringify({ type: 'state', state }))).toMatchObject({ ok: true });
    expect(parseServerMessage(JSON.stringify({ type: 'hello', wireVersion: 1, schemaVersion: 1, originNs: '0', source: 'x', scenarios: [], state }))).toMatchObject({ ok: true });
  });
  it('rejects malformed ones and a hello from another wire version', () => {
    expect(parseServerMessage('{"type":"state"}')).toMatchObject({ ok: false });
    expect(parseServerMessage(JSON.stringify({ type: 'hello', wireVersion: 2, originNs: '0', source: 'x', scenarios: [], state }))).toMatchObject({ ok: false, message: expect.stringContaining('wire version 2') });
    expect(parseServerMessage('{"type":"nope"}')).toMatchObject({ ok: false });
    expect(parseServerMessage('null')).toMatchObject({ ok: false });
  });
});
