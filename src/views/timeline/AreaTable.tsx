// The timeline's area selection (shift-drag) as a table: FUSE requests that started in it, by
// opcode and by inode — count, total / mean / p50 / p99 latency.

import { aggregateArea, type AggregateRow } from '../../trace/derive/aggregate.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { ViewHost } from '../host.ts';

function Rows({ title, rows }: { title: string; rows: AggregateRow[] }) {
  return (
    <tbody>
      <tr className="group"><th colSpan={6}>{title}</th></tr>
      {rows.map((r) => (
        <tr key={r.key} data-key={r.key}>
          <td>{r.label}</td><td className="num">{r.count}</td><td className="num">{formatDurNs(r.totalNs)}</td>
          <td className="num">{formatDurNs(r.meanNs)}</td><td className="num">{formatDurNs(r.p50Ns)}</td><td className="num">{formatDurNs(r.p99Ns)}</td>
        </tr>
      ))}
    </tbody>
  );
}

export function AreaTable({ host }: { host: ViewHost }) {
  const fromNs = useStoreValue(host, (h) => h.areaFromNs);
  const toNs = useStoreValue(host, (h) => h.areaToNs);
  useStoreValue(host, (h) => `${h.traceGeneration}:${h.derivedVersion}`);
  if (Number.isNaN(fromNs)) {
    return <p className="empty-note" data-testid="area-empty">Shift-drag across the timeline to select an area: its FUSE requests are aggregated here by opcode and by inode.</p>;
  }
  const a = aggregateArea(host.spans, host.trace, host.aliases, fromNs, toNs);
  return (
    <div className="area-view" data-testid="view-area">
      <div className="table-head">
        <h3>{formatDurNs(fromNs)} – {formatDurNs(toNs)} ({formatDurNs(toNs - fromNs)})</h3>
        <span data-testid="area-count">{a.requests - a.openRequests - a.begunBeforeRequests - a.untimedRequests} requests timed{a.openRequests ? ` (+${a.openRequests} ${host.spans.complete ? 'did not end' : 'still open'}, not timed)` : ''}{a.begunBeforeRequests ? ` (+${a.begunBeforeRequests} began before this trace, not timed)` : ''}{a.untimedRequests ? ` (+${a.untimedRequests} from pasted lines without times: latency unknown)` : ''}</span>
        <button type="button" onClick={() => host.setArea(Number.NaN, Number.NaN)}>clear</button>
      </div>
      <table className="data" data-testid="area-table">
        <thead><tr><th>group</th><th>count</th><th>total</th><th>mean</th><th>p50</th><th>p99</th></tr></thead>
        <Rows title="by opcode" rows={a.byOpcode} />
        <Rows title="by inode" rows={a.byInode} />
      </table>
    </div>
  );
}
