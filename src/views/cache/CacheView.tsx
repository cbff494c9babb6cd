// Glue: inode picker, the offset × time canvas (CacheCanvasView), the contents-at-cursor table.
// Says plainly when the trace has no cache events (e.g. a scenario without the mapping cache).

import { useEffect, useState } from 'react';
import { cacheContentsAt } from '../../trace/derive/cache.ts';
import { mapTypeName } from '../../trace/fuse-proto.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { TraceSource, ViewHost } from '../host.ts';
import { CacheCanvasView } from './CacheCanvasView.tsx';
import { cacheInodes, formatBytes } from './model.ts';
import { MARKER_STYLE } from './draw.ts';
import { cacheNodeOfFinding } from './findings.ts';

export function CacheView({ host, source }: { host: ViewHost; source: TraceSource }) {
  useStoreValue(host, (h) => `${h.traceGeneration}:${h.derivedVersion}`);
  const cursorNs = useStoreValue(host, (h) => (Number.isNaN(h.cursorNs) ? -1 : Math.round(h.cursorNs / 1000) * 1000));
  const [picked, setPicked] = useState(0);
  // Keyed by identity, not object: the list is recomputed as rows come, the shown finding with it.
  const shownKey = useStoreValue(host, (h) => { const f = h.findings?.selected; return f ? `${f.rule}:${f.tsNs}:${f.evidence[0]}` : ''; });
  // A shown finding with cache evidence brings its inode up (the user can pick another after).
  useEffect(() => {
    const f = host.findings?.selected ?? null;
    const nodeId = f && host.findings ? cacheNodeOfFinding(f, host.trace, host.findings.rowBase) : null;
    if (nodeId !== null) setPicked(nodeId);
  }, [host, shownKey]);
  const inodes = cacheInodes(host.cache);
  if (host.cache.eventCount === 0) {
    return (
      <div className="cache-view" data-testid="view-cache">
        <p className="empty-note" data-testid="cache-empty">
          No mapping-cache events in this trace{source.name ? ` (${source.kind === 'file' ? 'file' : 'scenario'} ${source.name})` : ''}: the kernel cache
          (upsert, lookup hit/miss, invalidate, stale cookie) shows here once the source records it.
        </p>
      </div>
    );
  }
  const inode = inodes.find((c) => c.nodeId === picked) ?? inodes[0]!;
  const atNs = cursorNs >= 0 ? cursorNs : host.viewEndNs;
  const contents = cacheContentsAt(inode, atNs);
  const lookups = inode.hits + inode.misses;
  return (
    <div className="cache-view" data-testid="view-cache">
      <div className="cache-left">
        <div className="table-head">
          <label>inode
            <select data-testid="cache-inode" value={inode.nodeId} onChange={(e) => setPicked(Number(e.target.value))}>
              {inodes.map((c) => <option key={c.nodeId} value={c.nodeId}>nodeid {c.nodeId} (ino {c.ino})</option>)}
            </select>
          </label>
          <span data-testid="cache-stats">{inode.hits} hits · {inode.misses} misses{lookups ? ` · ${Math.round((100 * inode.hits) / lookups)}% hit rate` : ''}</span>
          <span className="cache-legend">{MARKER_STYLE.map((s) => <span key={s.label} style={{ color: s.colour }}>{s.glyph} {s.label} </span>)}
            <span className="muted" title="severity markers above the plot: click one to show its finding; the shown finding's cache events are ringed">▼ finding</span></span>
        </div>
        <CacheCanvasView host={host} nodeId={inode.nodeId} />
      </div>
      <div className="cache-contents">
        <h3>Cached at {formatDurNs(atNs)} <span className="muted">({cursorNs >= 0 ? 'cursor' : 'end of view'})</span></h3>
        <table data-testid="cache-contents">
          <thead><tr><th>fork</th><th>offset</th><th>length</th><th>type</th><th>since</th></tr></thead>
          <tbody>
            {contents.length === 0 && <tr><td colSpan={5} className="muted">empty</td></tr>}
            {contents.slice(0, 200).map((e) => (
              <tr key={`${e.fork}:${e.offsetBytes}:${e.fromNs}`} className="clickable" onClick={() => host.reveal(-1, e.upsertRow)}>
                <td>{e.fork}</td><td className="num">{formatBytes(e.offsetBytes)}</td><td className="num">{formatBytes(e.lenBytes)}</td>
                <td>{mapTypeName(e.mapType)}</td><td className="num">{formatDurNs(e.fromNs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
