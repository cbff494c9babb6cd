// Glue: inode picker, the offset × time canvas (CacheCanvasView), the contents-at-cursor table and
// the stale mappings used. When the trace has no cache events it says why (CacheEmpty): the run's
// cache is off, the trace has no fuse-iomap events at all (and what it has), or it has iomap steps
// but no cache events.

import { useEffect, useMemo, useState } from 'react';
import { cacheContentsAt, markerAt, CACHE_MARKER_KINDS, type InodeCache } from '../../trace/derive/cache.ts';
import { mapTypeName } from '../../trace/fuse-proto.ts';
import type { ScenarioInfo } from '../../trace/wire.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { paletteFor } from '../../render/palette.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import type { TraceSource, ViewHost } from '../host.ts';
import { CacheCanvasView } from './CacheCanvasView.tsx';
import { cacheInodes, formatBytes, hitRateText, traceInventory } from './model.ts';
import { MARKER_STYLE, markerColour } from './draw.ts';
import { cacheNodeOfFinding } from './findings.ts';

/** Stale uses listed at most (the plot and the count show them all). */
const STALE_USE_ROWS = 200;
const STALE_USE = CACHE_MARKER_KINDS.indexOf('stale_use');

export function CacheView({ host, scenario, scenarioInfo, source }: { host: ViewHost; scenario: string; scenarioInfo: ScenarioInfo | null; source: TraceSource }) {
  useStoreValue(host, (h) => `${h.traceGeneration}:${h.derivedVersion}`);
  const theme = useStoreValue(host, (h) => h.theme);
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
  if (host.cache.eventCount === 0 || inodes.length === 0) return <CacheEmpty host={host} scenario={scenario} scenarioInfo={scenarioInfo} source={source} />;
  const inode = inodes.find((c) => c.nodeId === picked) ?? inodes[0]!;
  const atNs = cursorNs >= 0 ? cursorNs : host.viewEndNs;
  const contents = cacheContentsAt(inode, atNs);
  const lookups = inode.hits + inode.misses;
  const palette = paletteFor(theme);
  return (
    <div className="cache-view" data-testid="view-cache">
      <div className="cache-left">
        <div className="table-head">
          <label>inode
            <select data-testid="cache-inode" value={inode.nodeId} onChange={(e) => setPicked(Number(e.target.value))}>
              {inodes.map((c) => <option key={c.nodeId} value={c.nodeId}>nodeid {c.nodeId} (ino {c.ino})</option>)}
            </select>
          </label>
          <span data-testid="cache-stats">{inode.hits} hits · {inode.misses} misses{lookups ? ` · ${hitRateText(inode.hits, lookups)} hit rate` : ''}
            {inode.staleUses > 0 && <> · <strong className="bad">{inode.staleUses} stale mapping{inode.staleUses === 1 ? '' : 's'} used</strong></>}</span>
          <span className="cache-legend" data-testid="cache-legend">{MARKER_STYLE.map((s, kind) => (
            // stale uses exist only in a simulator run with validation off: their entry shows only then.
            kind === STALE_USE && host.cache.staleUses === 0 ? null
              : kind === STALE_USE ? <span key={s.label} title={s.title}><span className="stale-use-badge" style={{ background: markerColour(kind, palette) }}>!</span> <span style={{ color: markerColour(kind, palette) }}>{s.label}</span> </span>
                : <span key={s.label} title={s.title} style={{ color: markerColour(kind, palette) }}>{s.glyph} {s.label} </span>))}
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
        {inode.staleUses > 0 && <StaleUses host={host} inode={inode} />}
      </div>
    </div>
  );
}

/** The inode's stale mappings used (the simulator's oracle, validation off), oldest first; a click selects one. */
function StaleUses({ host, inode }: { host: ViewHost; inode: InodeCache }) {
  const rows = [];
  const m = inode.markers;
  for (let i = 0; i < m.length && rows.length < STALE_USE_ROWS; i++) {
    if (m.kind.data[i] !== STALE_USE) continue;
    const mk = markerAt(host.trace, inode, i);
    rows.push(
      <tr key={mk.row} data-testid="stale-use-row" className="clickable" onClick={() => host.reveal(-1, mk.row)} title={mk.reason}>
        <td className="num">{formatDurNs(mk.tsNs)}</td><td className="num">{formatBytes(mk.posBytes)}</td><td>{host.trace.taskAt(mk.row)}</td>
      </tr>,
    );
  }
  return (
    <div data-testid="cache-stale-uses">
      <h3 className="bad" title="IO that went through a mapping the cache no longer held, with cookie validation off: nothing in the kernel caught it (server/sim oracle: instant stale_mapping_used)">
        <span className="stale-use-badge">!</span> Stale mappings used: {inode.staleUses}{inode.staleUses > STALE_USE_ROWS ? ` (first ${STALE_USE_ROWS} listed)` : ''}
      </h3>
      <p className="muted">cookie validation was off: no cache_stale caught these; the simulator's oracle saw each use a mapping the cache no longer held.</p>
      <table className="data">
        <thead><tr><th>time</th><th>folio pos</th><th>task</th></tr></thead>
        <tbody>{rows}</tbody>
      </table>
    </div>
  );
}

/** Why the cache view is empty, in the words of what the page knows about the source. */
function CacheEmpty({ host, scenario, scenarioInfo, source }: { host: ViewHost; scenario: string; scenarioInfo: ScenarioInfo | null; source: TraceSource }) {
  // The trace shown, by name: an opened file, or the live scenario (never the live one for a file).
  const named = source.name ? <> ({source.kind === 'file' ? 'file' : 'scenario'} <code>{source.name}</code>)</> : '';
  // One pass over the store, only while the tab shows an empty cache: recomputed as rows come.
  const version = useStoreValue(host, (h) => h.derivedVersion);
  const inv = useMemo(() => traceInventory(host.trace), [host, version]);
  let reason: string;
  let text: React.ReactNode;
  if (scenarioInfo?.noCacheWhy) {
    reason = 'disabled';
    text = <>The mapping cache is disabled in this run (scenario <code>{scenario}</code>): {scenarioInfo.noCacheWhy}. Run accounting counts the upcalls that take its place.</>;
  } else if (inv.events === 0) {
    reason = 'no-events';
    text = <>No events yet{named}: the kernel mapping cache (upsert, lookup hit/miss, invalidate, stale cookie) shows here once they arrive.</>;
  } else if (inv.fuseIomapEvents === 0) {
    reason = 'no-iomap';
    text = <>This trace{named} has no fuse-iomap events (no FUSE_IOMAP_* request, no iomap step of a FUSE inode, no ioend): the kernel that ran it
      has no fuse-iomap, or its tracepoints were not captured, so there is no mapping cache to show. It has {inv.kinds.slice(0, 8).map((k) => `${k.kind} ${k.count.toLocaleString('en-US')}`).join(', ')}
      {inv.kinds.length > 8 ? ` and ${inv.kinds.length - 8} more kinds` : ''}.</>;
  } else if (inv.derivedIomap) {
    reason = 'derived';
    text = <>No mapping-cache events: this trace's iomap steps were derived by fusescope's own FUSE server (fusescope-mount) from its extent map, on a kernel
      without fuse-iomap; the server models no mapping cache, so nothing here is a kernel's.</>;
  } else {
    reason = 'no-cache-events';
    text = <>No mapping-cache events in this trace{named}: it has {inv.fuseIomapEvents.toLocaleString('en-US')} fuse-iomap
      events but no cache_* event — the kernel or server ran without the mapping cache (RFC v1 has none; fuse4fs noiomap_cache turns it off), or the cache tracepoints were not captured.</>;
  }
  return (
    <div className="cache-view" data-testid="view-cache">
      <p className="empty-note" data-testid="cache-empty" data-reason={reason}>{text}</p>
    </div>
  );
}

