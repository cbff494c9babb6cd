// Timeline model build cost in Node (no browser): buildTimelineModel over N events' spans, the view
// at full range and at 1/256 of it, 1250 px wide, and the bytes per span of the LOD levels. Explains
// P3: the model is rebuilt on every pan or zoom frame; zoomed out it walks the span index's LOD
// buckets (src/trace/span-lod.ts), zoomed in the spans in range.
//   node --import tsx bench/timeline-model.ts [events=10000000]
import { TraceStore } from '../src/trace/store.ts';
import { SpanIndex } from '../src/trace/spans.ts';
import type { TraceEvent } from '../src/trace/schema.ts';
import { buildTimelineModel } from '../src/views/timeline/model.ts';
import { makeSimulation, DEFAULT_SCENARIO } from '../server/sources/sim.ts';
import { shifted } from './recording.ts';

function timelineModelFigures(events: TraceEvent[], count: number): { fullMs: number; zoomMs: number; spans: number; prims: number; lodBytesPerSpan: number } {
  const base = new TraceStore();
  base.appendAll(events);
  const store = new TraceStore(0n, base.strings);
  for (let rep = 0; store.length < count; rep++) {
    const copy = shifted(base, rep * (base.endNs + 1000));
    const n = Math.min(copy.length, count - store.length);
    store.appendColumns(n, copy.kinds.subarray(0, n), copy.tsNs.subarray(0, n), copy.columns(0, n));
  }
  const spans = new SpanIndex();
  spans.update(store);
  const widthPx = 1250;
  const time = (from: number, to: number): { ms: number; prims: number } => {
    const runs: number[] = [];
    let prims = 0;
    for (let i = 0; i < 7; i++) {
      const t0 = performance.now();
      prims = buildTimelineModel(spans, store, from, to, widthPx).prims.count;
      runs.push(performance.now() - t0);
    }
    runs.sort((a, b) => a - b);
    return { ms: runs[3]!, prims };
  };
  const full = time(store.startNs, store.endNs);
  const mid = (store.startNs + store.endNs) / 2;
  const w = (store.endNs - store.startNs) / 256;
  const zoom = time(mid - w / 2, mid + w / 2);
  const lodBytes = spans.tracks.reduce((n, t) => n + t.lod.byteLength(), 0);
  return { fullMs: full.ms, zoomMs: zoom.ms, spans: spans.count, prims: full.prims, lodBytesPerSpan: lodBytes / spans.count };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { simulation } = makeSimulation(DEFAULT_SCENARIO, 1, new Map());
  const events: TraceEvent[] = [];
  simulation.runEvents(300_000, (ev) => events.push(ev));
  for (const n of [100_000, Number(process.argv[2] ?? 10_000_000)]) console.log(n, timelineModelFigures(events, n));
}
