import { describe, expect, it } from 'vitest';
import { TraceStore } from '../store.ts';
import type { TraceEvent } from '../schema.ts';
import { ev } from '../testing/events.ts';
import { importChromeJson, toChromeTrace, chromeTraceJsonChunks } from './chrome-json.ts';
import { buildExportModel } from './tracks.ts';
import { exportSample as sample, validateChrome } from '../testing/export-checks.ts';

const storeOf = (events: TraceEvent[]): TraceStore => {
  const s = new TraceStore();
  s.appendAll(events);
  return s;
};

describe('chrome-json export', () => {
  it('follows the format rules and re-imports to the same events', () => {
    const events = sample();
    const trace = toChromeTrace(storeOf(events), 'test');
    expect(validateChrome(trace.traceEvents)).toEqual([]);
    const phases = new Set(trace.traceEvents.map((e) => e.ph));
    for (const p of ['M', 'X', 'i', 's', 'f', 'C']) expect(phases).toContain(p);
    const text = [...chromeTraceJsonChunks(trace)].join('');
    const back = importChromeJson(text);
    expect(back.errors).toEqual([]);
    expect(back.events).toEqual(events);
  });

  it('packs overlapping lock spans of one task onto separate tracks', () => {
    const m = buildExportModel(storeOf(sample()));
    const lockTracks = m.tracks.filter((t) => t.task === 'dd/1' && t.category === 'locks');
    expect(lockTracks.map((t) => t.name)).toEqual(['dd/1 locks', 'dd/1 locks #2']);
    expect(m.spans.find((s) => s.open)?.name).toBe('fsync');
    expect(m.flows).toHaveLength(1);
  });
});

describe('exports of spans the trace does not show ending or starting', () => {
  it('a syscall cut off by the end is a B with no E (did_not_end); one begun before is an X from the start', () => {
    const events: TraceEvent[] = [
      ev('app_op_begin', 100, 'dd/1', { op: 'fsync' }),
      ev('app_op_end', 150, 'dd/2', { op: 'pwrite' }), // began before the trace (starts at 100)
      ev('app_op_end', 200, 'dd/1', { op: 'fsync' }),
      ev('app_op_begin', 300, 'dd/1', { op: 'pwrite' }), // never ends
      ev('instant', 400, 'dd/1'),
    ];
    const trace = toChromeTrace(storeOf(events), 'test');
    expect(validateChrome(trace.traceEvents)).toEqual([]);
    const slices = trace.traceEvents.filter((e) => e.ph === 'X' || e.ph === 'B');
    expect(slices.map((e) => [e.ph, e.name, e.ts, e.dur === undefined ? undefined : Math.round(e.dur * 1000), e.args?.did_not_end, e.args?.began_before_trace])).toEqual([
      ['X', 'fsync', 0.1, 100, undefined, undefined],
      ['X', 'pwrite', 0.1, 50, undefined, true],
      ['B', 'pwrite', 0.3, undefined, true, undefined],
    ]);
    expect(trace.traceEvents.some((e) => (e.ph as string) === 'E')).toBe(false);
    expect(importChromeJson([...chromeTraceJsonChunks(trace)].join('')).events).toEqual(events);
  });
});

