import { describe, expect, it } from 'vitest';
import { decodeFramesReturn, decodeOpenRequest, decodeWorkerMessage, encodeWorkerMessage, type WorkerMessage } from './import-protocol.ts';

describe('import worker protocol', () => {
  it('round-trips every message through structured clone, transferring only batch buffers', () => {
    const frame = new Uint8Array([1, 2, 3, 4]).buffer;
    const msgs: WorkerMessage[] = [
      { type: 'progress', id: 1, doneBytes: 10, totalBytes: 20, phase: 'reading' },
      { type: 'start', id: 1, originNs: '1732000000123456789', kind: 'import', label: 'trace.txt + fuse2fs-d.log', meta: { formats: ['a'] } },
      { type: 'batch', id: 1, frame },
      { type: 'done', id: 1, events: 5, diags: ['t.txt:3: unparsable line'], diagCount: 7, damage: '' },
      { type: 'sent', id: 1, events: 5, diags: [], diagCount: 0, damage: '', bodies: { alone: 1, joined: 11, runs: 2 } },
      { type: 'error', id: 1, message: 'nothing to import' },
    ];
    for (const m of msgs) {
      const [msg, transfer] = encodeWorkerMessage(m);
      expect(transfer).toEqual(m.type === 'batch' ? [frame] : []);
      const cloned = structuredClone(msg);
      expect(decodeWorkerMessage(cloned)).toEqual(m);
    }
  });

  it('refuses malformed messages instead of throwing', () => {
    for (const bad of [null, 3, 'x', {}, { type: 'progress', id: 1 }, { type: 'progress', id: 1, doneBytes: 1, totalBytes: 2, phase: 'dancing' },
      { type: 'start', id: 1, originNs: '1.5', kind: 'import', label: '', meta: {} }, { type: 'batch', id: 1, frame: [1, 2] },
      { type: 'done', id: 1, events: 1, diags: [1], diagCount: 1, damage: '' }, { type: 'nope', id: 1 }, { type: 'error', message: 'no id' },
      { type: 'done', id: 1, events: 1, diags: [], diagCount: 0, damage: '', bodies: { alone: 1, joined: '11', runs: 2 } },
      { type: 'sent', id: 1, events: 1, diags: [], diagCount: 0, damage: '', bodies: null }]) {
      expect(decodeWorkerMessage(bad)).toBeNull();
    }
  });

  it('accepts a start with a known row count and refuses a nonsense one', () => {
    const start = { type: 'start', id: 1, originNs: '0', kind: 'recording', label: 'a.fscope', meta: {} };
    expect(decodeWorkerMessage({ ...start, expectedEvents: 10_000_000 })).toMatchObject({ expectedEvents: 10_000_000 });
    expect(decodeWorkerMessage(start)).not.toBeNull();
    expect(decodeWorkerMessage({ ...start, expectedEvents: -1 })).toBeNull();
    expect(decodeWorkerMessage({ ...start, expectedEvents: 'many' })).toBeNull();
  });

  it('a pooled batch says how many bytes of its buffer are the frame (never more than the buffer); the page hands buffers back', () => {
    const frame = new ArrayBuffer(64);
    expect(decodeWorkerMessage({ type: 'batch', id: 1, frame, frameBytes: 40 })).toMatchObject({ frameBytes: 40 });
    expect(decodeWorkerMessage({ type: 'batch', id: 1, frame, frameBytes: 65 })).toBeNull();
    expect(decodeWorkerMessage({ type: 'batch', id: 1, frame, frameBytes: 1.5 })).toBeNull();
    expect(decodeFramesReturn({ type: 'frames', id: 3, frames: [frame] })).toEqual({ type: 'frames', id: 3, frames: [frame] });
    expect(decodeFramesReturn({ type: 'frames', id: 3, frames: [new Uint8Array(4)] })).toBeNull();
    expect(decodeFramesReturn({ type: 'open', id: 3, files: [] })).toBeNull();
  });

  it('a done carries the worker checkers\' findings with the rows they saw and why they stopped', () => {
    const done = { type: 'done', id: 1, events: 9, diags: [], diagCount: 0, damage: '' };
    const findings = { list: [], unknowns: [{ rule: 'lock', count: 2, what: 'waits' }], rows: 4000, error: 'checking stopped at stream row 4000: boom' };
    expect(decodeWorkerMessage({ ...done, findings })).toMatchObject({ findings });
    expect(decodeWorkerMessage({ ...done, findings: { ...findings, rows: -1 } })).toBeNull();
    expect(decodeWorkerMessage({ ...done, findings: { ...findings, error: 3 } })).toBeNull();
  });

  it('validates open requests', () => {
    const blob = new Blob(['x']);
    expect(decodeOpenRequest({ type: 'open', id: 2, files: [{ name: 'a.txt', blob }] })).not.toBeNull();
    expect(decodeOpenRequest({ type: 'open', id: 2, files: [] })).toBeNull();
    expect(decodeOpenRequest({ type: 'open', id: 2, files: [{ name: 'a.txt', blob: 'x' }] })).toBeNull();
    expect(decodeOpenRequest({ type: 'open', files: [{ name: 'a.txt', blob }] })).toBeNull();
  });
});
