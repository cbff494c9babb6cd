// MergedSource (workloads.ts): the kernel's and the server's live streams as one, without a kernel.
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { asTaskId } from '../../src/trace/ids.ts';
import type { LiveSink, LiveSource } from '../sources/live-source.ts';
import { MergedSource } from './workloads.ts';

/** A source the test drives by hand: push events, flush, end. */
function manual(label: string): LiveSource & { sink: LiveSink | null } {
  const s: LiveSource & { sink: LiveSink | null } = {
    info: { label, paceNsPerSec: 1e9 },
    sink: null,
    start: (sink, signal) => new Promise<void>((ok) => {
      s.sink = sink;
      signal.addEventListener('abort', () => ok(), { once: true });
      const end = sink.end;
      sink.end = (e) => { end(e); ok(); };
    }),
  };
  return s;
}

const at = (tsNs: number, task: string): TraceEvent => ({ kind: 'instant', tsNs, task: asTaskId(task), name: 'x', text: '' });
const tick = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

describe('MergedSource', () => {
  it('hands out only what is older than the hold, merged by time across sources; the rest when both end', async () => {
    const k = manual('kernel');
    const s = manual('server');
    let nowNs = 1000;
    const m = new MergedSource([k, s], () => nowNs, 500, 5);
    const got: Array<[number, string]> = [];
    let ended: string | undefined | null = null;
    const run = m.start({ event: (ev) => got.push([ev.tsNs, ev.task]), flush: () => {}, end: (e) => { ended = e; } }, new AbortController().signal);
    // The server's events arrive before the kernel's older ones: still merged in time order.
    s.sink!.event(at(300, 'srv'));
    s.sink!.event(at(700, 'srv'));
    k.sink!.event(at(100, 'k'));
    k.sink!.event(at(450, 'k'));
    await tick(30);
    // now 1000, hold 500: up to 500 goes out, 700 is held.
    expect(got).toEqual([[100, 'k'], [300, 'srv'], [450, 'k']]);
    nowNs = 2000;
    // A kernel event older than what was already handed out comes late: moved up, counted.
    k.sink!.event(at(400, 'k'));
    await tick(30);
    expect(got.slice(3)).toEqual([[450, 'k'], [700, 'srv']]);
    expect(m.clamped).toBe(1);
    k.sink!.event(at(1900, 'k'));
    k.sink!.end();
    expect(ended).toBeNull(); // the server has not ended
    s.sink!.end('server gone');
    await run;
    expect(got.at(-1)).toEqual([1900, 'k']);
    expect(ended).toBe('server: server gone');
  });

  it('a source that says how far it has delivered (deliveredNs) is waited for past the hold: its late events keep their times', async () => {
    // The kernel's reader is behind (its event loop was busy): it has delivered up to 100 only.
    const k = manual('kernel');
    let kernelDeliveredNs = 100;
    k.deliveredNs = () => kernelDeliveredNs;
    const s = manual('server');
    const nowNs = 10_000; // far past the hold for every event below
    const m = new MergedSource([k, s], () => nowNs, 500, 5);
    const got: Array<[number, string]> = [];
    const run = m.start({ event: (ev) => got.push([ev.tsNs, ev.task]), flush: () => {}, end: () => {} }, new AbortController().signal);
    k.sink!.event(at(50, 'k'));
    s.sink!.event(at(150, 'srv')); // the server's reply to a request the kernel has not delivered yet
    await tick(30);
    // Only below the kernel's 100: under a hold alone 150 would be out, and the kernel's 120 below clamped to it.
    expect(got).toEqual([[50, 'k']]);
    k.sink!.event(at(120, 'k'));
    kernelDeliveredNs = 200;
    await tick(30);
    expect(got).toEqual([[50, 'k'], [120, 'k'], [150, 'srv']]);
    expect(m.clamped).toBe(0);
    k.sink!.end();
    s.sink!.end();
    await run;
  });

  it('an abort hands out everything held, then the run ends', async () => {
    const k = manual('kernel');
    const s = manual('server');
    const m = new MergedSource([k, s], () => 0, 1e9, 5);
    const got: number[] = [];
    const ac = new AbortController();
    const run = m.start({ event: (ev) => got.push(ev.tsNs), flush: () => {}, end: () => {} }, ac.signal);
    k.sink!.event(at(20, 'k'));
    s.sink!.event(at(10, 's'));
    await tick(20);
    expect(got).toEqual([]); // held: now 0, hold 1 s
    ac.abort();
    await run;
    expect(got).toEqual([10, 20]);
  });
});
