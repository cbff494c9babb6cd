// `perf lock contention` tables imported as lock_summary rows: perf's own totals per caller, lock
// address, task or owner. They carry no timeline (perf printed totals, no times), so the table says
// so and its rows reveal nothing; the figures are perf's, as rounded as perf printed them.

import { lockSummaryRows } from '../../trace/derive/locks.ts';
import { lockAddrText } from '../../trace/derive/locks.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { EventOf } from '../../trace/schema.ts';
import type { ViewHost } from '../host.ts';

const BY_LABEL = { caller: 'caller', addr: 'lock address', task: 'task', owner: 'lock owner' } as const;
/** contention_begin flag bits → perf's type name (perf's lock_type_table, inverted). */
const TYPE_NAMES: Record<number, string> = {
  1: 'spinlock', 3: 'rwlock:R', 5: 'rwlock:W', 2: 'rwsem:R', 4: 'rwsem:W', 8: 'rtmutex', 10: 'rwlock-rt:R', 12: 'rwlock-rt:W',
  18: 'pcpu-sem:R', 20: 'pcpu-sem:W', 32: 'mutex',
};

const wait = (ns: number): string => (ns < 0 ? '—' : formatDurNs(ns));

export function PerfSummaryTable({ host }: { host: ViewHost }) {
  useStoreValue(host, (h) => `${h.traceGeneration}:${h.trace.length}`);
  const rows = lockSummaryRows(host.trace).map((r) => host.trace.get(r) as EventOf<'lock_summary'>);
  if (rows.length === 0) return null;
  const modes = [...new Set(rows.map((r) => BY_LABEL[r.summaryBy]))].join(', ');
  const hasMin = rows.some((r) => r.waitMinNs >= 0);
  const hasAvg = rows.some((r) => r.waitAvgNs >= 0);
  return (
    <div className="locks-table" data-testid="locks-perf-summary">
      <div className="table-head"><h3>perf lock contention (by {modes})</h3></div>
      <p className="trace-note" data-testid="locks-perf-note">
        These are perf&apos;s own totals, as perf printed them (rounded to two decimals of their unit). They carry no
        timeline: perf printed no times, so no wait or hold of them is drawn in the lanes and no row leads to a moment.
      </p>
      <table>
        <thead>
          <tr><th>{modes}</th><th>type</th><th>contended</th><th>total wait</th><th>max</th>{hasMin && <th>min</th>}{hasAvg && <th>avg</th>}<th>lock</th></tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} title={r.text || undefined}>
              <td>{r.summaryBy === 'addr' ? `${lockAddrText(r.lockAddr)} ${r.name}` : r.summaryBy === 'caller' ? r.name : String(r.task)}</td>
              <td>{TYPE_NAMES[r.lockFlags] ?? 'unknown'}</td>
              <td className="num">{r.contended < 0 ? '—' : r.contended}</td>
              <td className="num">{wait(r.waitTotalNs)}</td>
              <td className="num">{wait(r.waitMaxNs)}</td>
              {hasMin && <td className="num">{wait(r.waitMinNs)}</td>}
              {hasAvg && <td className="num">{wait(r.waitAvgNs)}</td>}
              <td title={r.lock === 'unknown' ? 'no call stack names the lock (perf lock contention -v prints one)' : 'named by the call stack perf printed'}>{r.lock}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
