// A fuse server's debug log has no clock: opened alone, its events sit at line number × 1 µs, which
// is order, not time. Every duration over them is unknown (the reason: "a log without times"); its
// events keep their threads. Joined with a timed kernel capture, the requests matched by unique have
// the kernel's real times. Expected values worked out by hand from the fixtures' lines.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TraceStore } from './store.ts';
import { StringTable } from './strings.ts';
import { summarize } from './summary.ts';
import { traceStats } from './compare.ts';
import { runChecks } from './checks/index.ts';
import { DEFAULT_SETTINGS } from './checks/types.ts';
import { SpanIndex, SpanKind } from './spans.ts';
import { AliasIndex } from './derive/aliases.ts';
import { aggregateArea } from './derive/aggregate.ts';
import { importText } from './import/testing.ts';
import { ImportPipeline } from './import/pipeline.ts';
import { NdjsonParser, headerLine, rowLines } from './import/ndjson.ts';
import type { TraceEvent } from './schema.ts';
import { LOG_UNTIMED_REASON, isUntimedTask, untimedReason, untimedShare } from './untimed.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../fixtures/${p}`, import.meta.url), 'utf8');
const FUSE4FS_LOG = { name: 'f.log', text: fixture('logs/fuse4fs-dbg.log'), format: 'fuse-log' as const };

function storeOf(events: readonly TraceEvent[]): TraceStore {
  const store = new TraceStore();
  store.appendAll(events);
  return store;
}
function spansOf(store: TraceStore): SpanIndex {
  const spans = new SpanIndex();
  spans.update(store);
  spans.markComplete();
  return spans;
}
const reqSpans = (spans: SpanIndex): number[] => [...Array(spans.count).keys()].filter((id) => spans.kind.data[id] === SpanKind.fuse_req);

describe('a fuse server log alone: no durations', () => {
  // fuse4fs-dbg.log: 4 requests (header lines 6, 10, 12, 14; replies 8, 11, 13, 15), no NODEID
  // line so no inode events, and 3 other lines (7: fuse4fs dbg, 9: unrelated, 16: fuse2fs dbg): 11 events.
  it('summary and compare: duration, throughput and every latency unknown, with the reason; counts kept', () => {
    const store = storeOf(importText([FUSE4FS_LOG]).events);
    expect(store.length).toBe(11);
    const sum = summarize(store);
    expect(sum.accounting.durationNs).toBeNull();
    expect(sum.accounting.throughputBytesPerSec).toBeNull();
    expect(sum.accounting.timesUnknown).toMatchObject({ untimedEvents: 11 });
    expect(sum.accounting.timesUnknown!.reason).toMatch(/from a log without times/);
    expect(untimedReason(store)).toBe(LOG_UNTIMED_REASON);
    expect(sum.requests.byOpcode).toMatchObject({ FUSE_IOMAP_BEGIN: 1, FUSE_GETATTR: 1, FUSE_LOOKUP: 1, FUSE_READ: 1 });
    // Before: IOMAP_BEGIN's header at line 6 and reply at line 8 read as a 2 µs round trip.
    const stats = traceStats(store);
    expect(stats.byOpcode.get('FUSE_IOMAP_BEGIN')!.count).toBe(1);
    expect(stats.byOpcode.get('FUSE_IOMAP_BEGIN')!.p50Ns).toBeNaN();
    expect(stats.durationNs).toBeNaN();
    expect(untimedShare(store)).toEqual({ untimed: 11, total: 11, source: 'a log without times' });
  });

  it('the events keep their threads (marked), and no request span has a duration', () => {
    const r = importText([FUSE4FS_LOG]);
    const tasks = (kind: string): string[] => r.events.filter((e) => e.kind === kind).map((e) => e.task);
    // pid 500 sent three requests; the READ header has no pid (pid 0).
    expect(tasks('fuse_send')).toEqual(['(no time) pid/500', '(no time) pid/500', '(no time) pid/500', '(no time) pid/0']);
    expect(r.events.find((e) => e.kind === 'instant' && e.name === 'fuse4fs:op_iomap_begin')!.task).toBe('(no time) fuse4fs/501');
    expect(r.events.every((e) => isUntimedTask(e.task))).toBe(true);
    const store = storeOf(r.events);
    const spans = spansOf(store);
    const reqs = reqSpans(spans);
    expect(reqs).toHaveLength(4);
    expect(reqs.map((id) => [spans.hasDuration(id), spans.isUntimed(id)])).toEqual(Array(4).fill([false, true]));
    expect(spans.unknownText(reqs[0]!)).toMatch(/^time unknown \(a log without times\): drawn in file order/);
    const aliases = new AliasIndex();
    aliases.update(store);
    const area = aggregateArea(spans, store, aliases, -Infinity, Infinity);
    expect(area).toMatchObject({ requests: 4, untimedRequests: 4 });
    expect(area.byOpcode).toEqual([]);
  });

  it('checks: no reply is judged late from line numbers; the four are counted as not judged, with the reason', () => {
    const store = storeOf(importText([FUSE4FS_LOG]).events);
    // 500 ns: every reply is 1 or 2 lines (1–2 µs of line time) after its request, which read as late before.
    const { findings, unknowns } = runChecks(store, { rules: ['unpaired'], settings: { ...DEFAULT_SETTINGS, unpaired: { replyTimeoutNs: 500 } } });
    expect(findings.filter((f) => f.figures.kind === 'late-reply')).toEqual([]);
    const u = unknowns.find((x) => /from a log without times/.test(x.what));
    expect(u?.count).toBe(4);
  });

  it('the mark survives NDJSON export and the worker\'s wire batches', () => {
    const pipe = new ImportPipeline({ format: 'fuse-log' });
    const feed = pipe.open('f.log');
    feed.push(FUSE4FS_LOG.text);
    feed.end();
    const outcome = pipe.finish();
    // Wire: batches of 4 rows sharing one string table, appended into the page's store.
    const page = new TraceStore(outcome.result.originNs, new StringTable());
    for (const b of outcome.batches(4, page.strings)) page.appendAll([...Array(b.length).keys()].map((i) => b.get(i)));
    expect(untimedShare(page)).toMatchObject({ untimed: 11, total: 11 });
    // NDJSON: written and read back.
    const store = outcome.toStore();
    const text = `${headerLine({ originNs: '0', source: 'test' })}\n${rowLines(store, 0, store.length)}`;
    const back: TraceEvent[] = [];
    const parser = new NdjsonParser('t.ndjson', (e) => back.push(e));
    parser.push(text);
    parser.end();
    const again = storeOf(back);
    expect(summarize(again).accounting.timesUnknown).toMatchObject({ untimedEvents: 11 });
    expect(traceStats(again).byOpcode.get('FUSE_IOMAP_BEGIN')!.p50Ns).toBeNaN();
  });
});

describe('a log joined with the kernel capture of the same run (real: fuse2fs-hardlink)', () => {
  const TRACE = { name: 'trace.txt', text: fixture('real/fuse2fs-hardlink/trace.txt'), format: 'ftrace' as const };
  const LOG = { name: 'fuse2fs-d.log', text: fixture('real/fuse2fs-hardlink/fuse2fs-d.log'), format: 'fuse-log' as const };

  it('the joined requests\' latencies are the kernel\'s, measured', () => {
    const r = importText([TRACE, LOG]);
    expect(r.joins[0]).toMatchObject({ matched: 136, kernelOnly: 0 });
    const store = storeOf(r.events);
    const spans = spansOf(store);
    const reqs = reqSpans(spans);
    expect(reqs).toHaveLength(136);
    expect(reqs.every((id) => spans.hasDuration(id) && !spans.isUntimed(id))).toBe(true);
    // unique 288 (log line 524: OPEN nodeid 4): send 1831.997981, fuse_request_end 1831.999278 → 1297 µs.
    const sendRow = r.events.findIndex((e) => e.kind === 'fuse_send' && e.unique === 288);
    const open = reqs.find((id) => spans.beginRow.data[id] === sendRow)!;
    expect(spans.endNs.data[open]! - spans.startNs.data[open]!).toBe(1_297_000);
    expect(r.events[sendRow]).toMatchObject({ task: 'dd/17152', nodeId: 4 });
    // No request of the join has an unknown latency: the per-opcode figures are all numbers.
    const stats = traceStats(store);
    for (const [op, s] of stats.byOpcode) expect([op, Number.isNaN(s.p50Ns)]).toEqual([op, false]);
  });

  it('what only the log has (requests before the capture, its other lines) is untimed, with the log\'s reason', () => {
    const r = importText([TRACE, LOG]);
    const untimed = r.events.filter((e) => isUntimedTask(e.task));
    // The setup before tracing: mkdir d1, d2, create d1/file, link d2/link → inode_new + inode_lookup
    // each (8); three libfuse lines outside any request's own lines (L565, L684, L782).
    expect(untimed.map((e) => e.kind).sort()).toEqual([...Array(4).fill('inode_lookup'), ...Array(4).fill('inode_new'), ...Array(3).fill('instant')].sort());
    expect(untimed.every((e) => e.task === '(no time) fuse-server/0')).toBe(true);
    // The join counts them for the log (summary's timesUnknown.files names the log by these): 11 of 11.
    expect(r.joins[0]).toMatchObject({ logEvents: 11, untimedEvents: 11 });
    const store = storeOf(r.events);
    expect(summarize(store).accounting.timesUnknown!.reason).toMatch(/^11 events are from a log without times/);
  });
});
