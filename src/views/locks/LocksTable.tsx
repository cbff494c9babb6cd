// The contention table, after `perf lock contention`: contended count, total / max / mean wait,
// read and write apart, grouped by inode, nodeid, task or lock. Rows refresh at the counter rate;
// a click reveals the group's longest wait; hovering a row highlights its inode everywhere.

import { useMemo, useState } from 'react';
import { contentionTable, type ContentionGroupBy } from '../../trace/derive/locks.ts';
import { countWithUnfinished } from '../../trace/lock-waits.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { ViewHost } from '../host.ts';
import type { LocksFilter } from './model.ts';
import { asIno, UNKNOWN_INO } from '../../trace/ids.ts';
import { untimedReason } from '../../trace/untimed.ts';

const GROUPS: ContentionGroupBy[] = ['ino', 'nodeId', 'task', 'lock', 'caller'];

/** null: a wait of the group has no time (pasted lines, or a log, without times): its length, and any total over it, is unknown. */
const dur = (ns: number | null): string => (ns === null ? 'unknown' : formatDurNs(ns));
const untimedTitle = (n: number, reason: string): string => `${n} wait${n === 1 ? '' : 's'} ${reason}: how long ${n === 1 ? 'it' : 'they'} lasted is unknown`;

export function LocksTable({ host, filter }: { host: ViewHost; filter: LocksFilter }) {
  const [groupBy, setGroupBy] = useState<ContentionGroupBy>('ino');
  // Waits change only when the lock index takes spans (derivedVersion) or the trace is replaced;
  // the parents re-render on hover and other UI changes, which must not re-aggregate every wait.
  const version = useStoreValue(host, (h) => `${h.traceGeneration}:${h.derivedVersion}:${h.spans.complete}`);
  // The search's ino: and task: pick the waits counted, so every grouping shows only theirs.
  const rows = useMemo(
    () => contentionTable(host.locks, host.spans, groupBy, host.trace.endNs, -Infinity, Infinity, host.trace, filter),
    // `version` stands for the indexes' contents; the filter by its fields (a new object per render).
    [host, version, groupBy, filter.ino, filter.task],
  );
  return (
    <div className="locks-table">
      <div className="table-head">
        <h3>Contention</h3>
        <label>
          group by
          <select data-testid="locks-groupby" value={groupBy} onChange={(e) => setGroupBy(e.target.value as ContentionGroupBy)}>
            {GROUPS.map((g) => <option key={g} value={g}>{g}</option>)}
          </select>
        </label>
      </div>
      <table data-testid="locks-table">
        <thead>
          <tr><th>{groupBy}</th><th title="waits that ended; waits the trace does not show ending are counted apart and in no time">contended</th><th>total wait</th><th>max</th><th>mean</th><th>R waits</th><th>W waits</th></tr>
        </thead>
        <tbody>
          {rows.length === 0 && <tr><td colSpan={7} className="muted">{filter.ino || filter.task ? 'no contended lock matches the search' : 'no contended lock yet'}</td></tr>}
          {rows.map((r) => (
            <tr key={r.key} data-key={r.key} className="clickable"
              onClick={() => host.reveal(r.maxWaitSpanId, -1)}
              onMouseEnter={() => r.key.startsWith('ino:') && host.setHoverLink(-1, asIno(Number(r.key.slice(4))))}
              onMouseLeave={() => host.setHoverLink(-1, UNKNOWN_INO)}>
              <td>{r.label}</td>
              <td className="num" data-col="contended">{countWithUnfinished(r.contended, r.unfinished, host.spans.complete)}</td>
              <td className="num" data-col="total" title={r.untimed > 0 ? untimedTitle(r.untimed, untimedReason(host.trace)) : undefined}>{dur(r.totalWaitNs)}</td>
              <td className="num" data-col="max">{dur(r.maxWaitNs)}</td>
              <td className="num" data-col="mean">{dur(r.meanWaitNs)}</td>
              <td className="num">{r.readCount} · {dur(r.readWaitNs)}</td>
              <td className="num">{r.writeCount} · {dur(r.writeWaitNs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
