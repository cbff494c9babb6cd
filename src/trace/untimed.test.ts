// Untimed events (pasted lines without `comm-pid [cpu] flags time:`): every duration, wait, latency
// and rate that involves one is unknown (null / NaN), the figures of timed events in the same file
// are kept. Expected values worked out by hand from the fixtures' lines (see their headers).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TraceStore } from './store.ts';
import { summarize } from './summary.ts';
import { accountRun } from './accounting.ts';
import { traceStats } from './compare.ts';
import { runChecks } from './checks/index.ts';
import { DEFAULT_SETTINGS } from './checks/types.ts';
import { SpanIndex, SpanKind } from './spans.ts';
import { importText } from './import/testing.ts';
import { LockIndex, contentionTable } from './derive/locks.ts';
import { aggregateArea } from './derive/aggregate.ts';
import { AliasIndex } from './derive/aliases.ts';

const fixture = (p: string): string => readFileSync(new URL(`../../fixtures/paste/${p}`, import.meta.url), 'utf8');
function storeOf(name: string): TraceStore {
  const r = importText([{ name, text: fixture(name), format: 'ftrace' }]);
  if (r.store) return r.store;
  const store = new TraceStore(r.originNs);
  store.appendAll(r.events);
  return store;
}
function spansOf(store: TraceStore): SpanIndex {
  const spans = new SpanIndex();
  spans.update(store);
  spans.markComplete();
  return spans;
}

describe('untimed events: figures involving them are unknown', () => {
  it('mixed-untimed.txt: the timed wait and round trip are measured, the untimed ones are not, and totals over both are null', () => {
    const store = storeOf('mixed-untimed.txt');
    const sum = summarize(store);
    // One lock (by address, unattributed), two waits that ended: one of 312 µs, one untimed.
    expect(sum.locks).toEqual([{
      lock: 'unknown', ino: null, nodeid: null, lockAddrs: ['0xffff888112a4c3d8'], contended: 2, unfinished: 0,
      waitNsTotal: null, waitNsMax: null, untimedWaits: 1,
    }]);
    const acc = sum.accounting;
    // The duration is the timed events' span: 600.000103 → 600.000500 s. No application read or write is
    // in the file, so the throughput is unknown (null), not 0 B/s.
    expect(acc.durationNs).toBe(397_000);
    expect(acc.appDataOps).toBe(0);
    expect(acc.throughputBytesPerSec).toBeNull();
    expect(acc.lockWaits).toBe(2);
    expect(acc.lockWaitTotalNs).toBeNull();
    expect(acc.lockWaitMaxNs).toBeNull();
    // Untimed rows: 2 contention lines + their derived lock_wait/lock_acquire + send + reply.
    expect(acc.timesUnknown).toMatchObject({ untimedEvents: 6, untimedLockWaits: 1 });
    expect(acc.timesUnknown!.reason).toMatch(/pasted lines without times/);
    expect(acc.timesUnknown!.reason).toMatch(/the duration covers the timed events only/);
    // Counts need no time and stay.
    expect(sum.requests.byOpcode).toEqual({ FUSE_LOOKUP: 1, FUSE_WRITE: 1 });

    // Upcall latency: the timed FUSE_LOOKUP's 84 µs is kept; the untimed FUSE_WRITE's is unknown (NaN).
    const stats = traceStats(store);
    expect(stats.byOpcode.get('FUSE_LOOKUP')).toMatchObject({ count: 1, p50Ns: 84_000, maxNs: 84_000 });
    expect(stats.byOpcode.get('FUSE_WRITE')!.count).toBe(1);
    expect(stats.byOpcode.get('FUSE_WRITE')!.p50Ns).toBeNaN();
    expect(stats.durationNs).toBe(397_000); // the timed events' span, as in accounting
    expect(stats.lockWaitP99Ns).toBeNaN();

    // Spans: the timed request has its duration, the untimed one none and says why.
    const spans = spansOf(store);
    const reqs = [...Array(spans.count).keys()].filter((id) => spans.kind.data[id] === SpanKind.fuse_req);
    expect(reqs.map((id) => spans.hasDuration(id))).toEqual([true, false]);
    expect(spans.endNs.data[reqs[0]!]! - spans.startNs.data[reqs[0]!]!).toBe(84_000);
    expect(spans.isUntimed(reqs[1]!)).toBe(true);
    expect(spans.unknownText(reqs[1]!)).toMatch(/time unknown .*not a duration/);
  });

  it('locks table and area latencies: the untimed wait makes the group\'s wait figures unknown; the untimed request is counted apart', () => {
    const store = storeOf('mixed-untimed.txt');
    const spans = spansOf(store);
    const locks = new LockIndex();
    locks.update(spans, store);
    const [row, ...more] = contentionTable(locks, spans, 'lock', store.endNs, -Infinity, Infinity, store);
    expect(more).toEqual([]);
    expect(row).toMatchObject({ contended: 2, unfinished: 0, untimed: 1, writeCount: 2, totalWaitNs: null, maxWaitNs: null, meanWaitNs: null, writeWaitNs: null });
    // Grouped by task, the timed waiter's group keeps its 312 µs; the pasted lines' group is unknown.
    const byTask = contentionTable(locks, spans, 'task', store.endNs, -Infinity, Infinity, store);
    expect(byTask.map((r) => [r.label, r.contended, r.totalWaitNs])).toEqual([['fio/3002', 1, 312_000], ['task unknown', 1, null]]);
    const aliases = new AliasIndex();
    aliases.update(store);
    const area = aggregateArea(spans, store, aliases, -Infinity, Infinity);
    expect(area).toMatchObject({ requests: 2, untimedRequests: 1, openRequests: 0, begunBeforeRequests: 0 });
    expect(area.byOpcode.map((r) => [r.label, r.count, r.p50Ns])).toEqual([['FUSE_LOOKUP', 1, 84_000]]);
  });

  it('checks: a wait over the setting fires only when timed; the untimed one is counted as not judged, never a finding', () => {
    const store = storeOf('mixed-untimed.txt');
    // 100 µs: the timed 312 µs wait is over it; the untimed one cannot be compared.
    const settings = { ...DEFAULT_SETTINGS, lock: { ...DEFAULT_SETTINGS.lock, waitNs: 100_000 } };
    const { findings, unknowns } = runChecks(store, { rules: ['lock', 'unpaired'], settings });
    const waits = findings.filter((f) => f.rule === 'lock' && f.figures.kind === 'wait');
    expect(waits).toHaveLength(1);
    expect(waits[0]!.figures).toMatchObject({ waits: 1, longWaits: 1, maxWaitNs: 312_000, waiter: 'fio/3002' });
    expect(unknowns.find((u) => u.rule === 'lock' && /pasted lines without times/.test(u.what))?.count).toBe(1);
    // A reply timeout of 50 µs: the timed FUSE_LOOKUP (84 µs) is late; the untimed FUSE_WRITE is not judged.
    const late = runChecks(store, { rules: ['unpaired'], settings: { ...DEFAULT_SETTINGS, unpaired: { replyTimeoutNs: 50_000 } } });
    expect(late.findings.map((f) => [f.figures.kind, f.figures.opcode, f.figures.waitNs])).toEqual([['late-reply', 'FUSE_LOOKUP', 84_000]]);
    expect(late.unknowns.find((u) => /pasted lines without times/.test(u.what))?.count).toBe(1);
  });

  it('a finding whose evidence is untimed keeps its verdict but says its times are unknown (durNs 0, timesUnknown)', () => {
    // An ioend on unwritten space that wrote bytes and was not sent to the server: unpaired's ioend-missing needs no time.
    const body = 'fuse_iomap_ioend: connection 45 ino 12 nodeid 12 isize 0x100000 idisksize 0x0 pos 0x0 length 0x100000 ioendflags (unwritten|append|writeback) error 0 dev 1 new_addr 0x42000';
    const findingsOf = (text: string) => {
      const r = importText([{ name: 'p.txt', text, format: 'ftrace' }]);
      const store = r.store ?? new TraceStore(r.originNs);
      if (!r.store) store.appendAll(r.events);
      return runChecks(store, { rules: ['unpaired'] }).findings;
    };
    const pasted = findingsOf(`${body}\n`);
    expect(pasted.map((f) => [f.figures.kind, f.durNs, f.figures.timesUnknown])).toEqual([['ioend-missing', 0, 1]]);
    expect(pasted[0]!.explanation).toMatch(/Times unknown: 1 of its evidence events is from pasted lines without times/);
    const timed = findingsOf(`   kworker/u33:2-211     [006] .....   515.220003: ${body}\n`);
    expect(timed.map((f) => [f.figures.kind, f.figures.timesUnknown])).toEqual([['ioend-missing', undefined]]);
  });

  it('untimed.txt (no timed line): iomap step totals are null, the steps counted as untimed, not as unended', () => {
    const store = storeOf('untimed.txt');
    const sum = summarize(store);
    // Two iomap_begin lines: the first step closes at the second begin (both untimed); the second never closes.
    expect(sum.iomap).toMatchObject({ steps: 2, stepsUntimed: 2, stepsUnended: 0, stepNsTotal: null });
    expect(accountRun(store).durationNs).toBeNull();
  });

  it('a trace with real times has no timesUnknown and keeps its totals', () => {
    const store = storeOf('crlf.txt');
    const acc = accountRun(store);
    expect(acc.timesUnknown).toBeUndefined();
    expect(acc.durationNs).not.toBeNull();
  });
});
