// Glue: graph (SVG) and alias-group table side by side, a mini-timeline per group below.

import { useMemo } from 'react';
import { formatDurNs } from '../../render/time-scale.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import { sameFinding, type ViewHost } from '../host.ts';
import type { Finding } from '../../trace/checks/types.ts';
import { AliasGraph } from './AliasGraph.tsx';
import { MiniTimeline } from './MiniTimeline.tsx';
import { aliasGroupRows, buildAliasGraph, miniIoSource } from './model.ts';
import { inoText } from '../../trace/derive/inode-groups.ts';
import { asIno, UNKNOWN_INO, type Ino } from '../../trace/ids.ts';

/** An alias group's inode number as evidence gives it: the number, "unknown", or every number flagged. */
function InoCell({ inos }: { inos: Ino[] }) {
  if (inos.length === 0) return <span className="muted" title="no reply or tracepoint in the trace gives this inode's number">unknown</span>;
  if (inos.length === 1) return <>{inos[0]}</>;
  return <span className="bad" title="the evidence names more than one inode number for these nodeids">{inos.join(', ')} ⚠ evidence disagrees</span>;
}

/** The alias-race finding that names a group (its nodeids are the group's), or null. */
function findingOf(list: readonly Finding[], nodeIds: readonly number[]): Finding | null {
  return list.find((f) => {
    const ids = f.figures.nodeIds;
    return f.rule === 'alias-race' && Array.isArray(ids) && ids.length > 0 && ids.every((n) => nodeIds.includes(n as number));
  }) ?? null;
}

/** The graph's SVG width: three columns of 80 px nodes with room for curves. */
const GRAPH_WIDTH_PX = 430;

export function AliasesView({ host, inoFilter }: { host: ViewHost; inoFilter: number }) {
  const version = useStoreValue(host, (h) => `${h.traceGeneration}:${h.derivedVersion}`);
  const hoverIno = useStoreValue(host, (h) => h.hoverIno);
  const nodeCount = useStoreValue(host, (h) => h.aliases.nodes.size);
  // Only for the empty note; the table re-renders on `version` anyway.
  const events = useStoreValue(host, (h) => (h.aliases.nodes.size === 0 ? h.trace.length : -1));
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` stands for the mutable indexes
  const graph = useMemo(() => buildAliasGraph(host.aliases), [host, version]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const groups = useMemo(() => aliasGroupRows(host.aliases, host.locks, host.spans), [host, version]);
  const shown = groups.filter((g) => !inoFilter || g.inos.includes(asIno(inoFilter)));
  const ioSource = useMemo(() => miniIoSource(host.spans), [host, version]);
  // Findings: a badge on the group an alias-race finding names; the shown one is outlined.
  useStoreValue(host, (h) => h.findings?.version ?? 0);
  const shownFinding = useStoreValue(host, (h) => h.findings?.selected ?? null);
  const findingList = host.findings?.list ?? [];
  return (
    <div className="aliases-view" data-testid="view-aliases">
      <div className="aliases-top">
        <div className="alias-graph-box">
          {nodeCount === 0
            ? <p className="muted empty-note" data-testid="aliases-empty">{events === 0
              ? 'No events yet: lookups and iomap events name nodeids as the trace records them.'
              : `No nodeids in this trace's ${events.toLocaleString('en-US')} events: nothing in it names one (no lookup reply, `
                + 'inode event or iomap step of a FUSE inode), e.g. a trace of a kernel filesystem rather than FUSE.'}</p>
            : <AliasGraph host={host} graph={graph} widthPx={GRAPH_WIDTH_PX} hoverIno={hoverIno} />}
        </div>
        <div className="alias-table-box">
          <h3>Alias groups <span className="muted">(one inode, several nodeids: several i_rwsems)</span></h3>
          <table data-testid="alias-table">
            <thead><tr><th>ino</th><th>nodeids</th><th>paths</th><th>overlapping W holds</th></tr></thead>
            <tbody>
              {shown.length === 0 && (
                <tr data-testid="alias-none"><td colSpan={4} className="muted">
                  No alias groups: every inode is reached through one nodeid{nodeCount ? ` (${nodeCount} nodeids seen)` : ''}.
                </td></tr>
              )}
              {shown.map((g) => {
                const finding = findingOf(findingList, g.nodeIds);
                const cls = [g.conflict ? 'conflict' : '', finding ? 'finding-group' : '', finding && sameFinding(finding, shownFinding) ? 'selected' : ''].filter(Boolean).join(' ');
                return (
                <tr key={g.id} data-group={g.id} data-ino={g.ino || undefined} className={cls || undefined}
                  data-finding={finding ? `${finding.rule}:${finding.severity}` : undefined}
                  onMouseEnter={() => host.setHoverLink(-1, g.ino)} onMouseLeave={() => host.setHoverLink(-1, UNKNOWN_INO)}>
                  <td data-col="ino"><InoCell inos={g.inos} /></td>
                  <td data-col="nodeids">{g.nodeIds.join(', ')}</td>
                  <td>{g.pathsByNode.map((p, i) => <div key={g.nodeIds[i]}>{g.nodeIds[i]}: {p.join(', ') || '—'}</div>)}</td>
                  <td className={g.overlapCount ? 'bad' : ''} data-col="overlaps">{g.holdsSeen === 0
                    ? <span className="muted" title="a real kernel traces i_rwsem only when a task waits for it (lock:contention_*): holds without a wait are not in the trace">unknown: no i_rwsem hold traced</span>
                    : g.unendedHolds >= g.holdsSeen
                      ? <span className="muted" data-col-unknown="" title="a hold whose start or end the trace does not show cannot be compared in time">unknown: {g.unendedHolds} W hold{g.unendedHolds === 1 ? '' : 's'}, none with both ends traced</span>
                      : <>{g.overlapCount} · {formatDurNs(g.overlapTotalNs)}{g.unendedHolds ? ` (+${g.unendedHolds} W holds with an end not traced, not compared)` : ''}</>}
                    {finding && (
                      <button type="button" className={`sev-badge sev-${finding.severity} finding-badge`} data-testid="alias-finding-badge"
                        title={finding.explanation} onClick={() => host.findings?.select(finding)}>{finding.rule} {finding.severity}</button>
                    )}
                  </td>
                </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>
      {shown.map((g) => (
        <div className="alias-mini" key={g.id}>
          <h4 data-testid={`alias-mini-caption-${g.id}`}>{inoText(g.inos)}: IO through each nodeid (top: {ioSource === 'iomap' ? 'iomap steps' : 'FUSE READ/WRITE requests — no iomap steps in this trace'})
            {g.holdsSeen === 0
              ? <> and i_rwsem holds (bottom: none traced — a kernel traces a lock only when a task waits for it)</>
              : <> and i_rwsem holds (bottom); <span className="bad">red</span> = two “exclusive” holds at once</>}</h4>
          <MiniTimeline host={host} group={g} />
        </div>
      ))}
    </div>
  );
}
