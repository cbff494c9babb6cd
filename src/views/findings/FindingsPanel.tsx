// The findings strip above the timeline: what the checkers found, most severe first. Collapsed it
// shows the top finding (its explanation and evidence) and the counts per severity and rule;
// expanded, every finding grouped by severity then rule. Clicking a finding shows it (zoom,
// evidence highlighted, its tab opened: host.findings.select); an evidence line selects its row.

import { useMemo, useState } from 'react';
import type { Finding } from '../../trace/checks/types.ts';
import { sameFinding, type PageFindings, type ViewHost } from '../host.ts';
import { useStoreValue } from '../../widgets/use-store.ts';
import { evidenceLine, groupFindings, timeText, topFinding } from './model.ts';

/** A rule's group shows this many cards until "show all" (stale-mapping can give hundreds). */
const CARDS_PER_RULE = 5;

export function FindingsPanel({ host }: { host: ViewHost }) {
  const findings = host.findings;
  const version = useStoreValue(host, (h) => h.findings?.version ?? 0);
  const selected = useStoreValue(host, (h) => h.findings?.selected ?? null);
  // A file shown while the import side's checkers finish: nothing is said of its rows until they answer.
  const checking = useStoreValue(host, (h) => h.findings?.checking === true);
  // Evidence lines read the store: redraw them when its rows were replaced (eviction, reset).
  const generation = useStoreValue(host, (h) => h.traceGeneration);
  const [expanded, setExpanded] = useState(false);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` stands for the mutable list
  const groups = useMemo(() => groupFindings(findings?.list ?? []), [findings, version]);
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const top = useMemo(() => topFinding(findings?.list ?? []), [findings, version]);
  if (!findings) return null;
  const total = findings.list.length;
  return (
    <section className={`findings-panel${expanded ? ' expanded' : ''}`} data-testid="findings-panel" data-count={total} data-generation={generation} data-checking={checking}>
      <div className="panel-head">
        <h2>Findings</h2>
        <span className="findings-counts" data-testid="findings-counts">
          {checking && <span className="muted" data-testid="findings-checking">checking the rows…</span>}
          {!checking && groups.length === 0 && <span className="muted">none</span>}
          {groups.map((g) => (
            <span key={g.severity} className={`sev-count sev-${g.severity}`} data-severity={g.severity}>
              <b>{g.count} {g.severity}</b>
              {' '}({g.rules.map((r) => `${r.rule} ${r.findings.length}`).join(', ')})
            </span>
          ))}
        </span>
        {total > 1 && (
          <button type="button" className="link-button" data-testid="findings-toggle" onClick={() => setExpanded(!expanded)}>
            {expanded ? 'show only the top finding ▴' : `show all ${total} findings ▾`}
          </button>
        )}
      </div>
      {findings.error && <div className="error-line" data-testid="findings-error">{findings.error}</div>}
      {total === 0 && !checking && <EmptyFindings findings={findings} />}
      {!expanded && top && <FindingCard host={host} f={top} selected={sameFinding(top, selected)} testId="finding-top" />}
      {expanded && (
        <div className="findings-list" data-testid="findings-list">
          {groups.map((g) => g.rules.map((r) => <RuleCards key={`${g.severity}:${r.rule}`} host={host} findings={r.findings} selected={selected} />))}
        </div>
      )}
    </section>
  );
}

function EmptyFindings({ findings }: { findings: PageFindings }) {
  return (
    <div className="findings-empty" data-testid="findings-empty">
      No findings in {findings.checkedEvents.toLocaleString('en-US')} events.
      {findings.unknowns.length > 0 && (
        <span className="muted" data-testid="findings-unknowns">
          {' '}Not judged: {findings.unknowns.map((u) => `${u.count} ${u.what} (${u.rule})`).join('; ')}.
        </span>
      )}
    </div>
  );
}

function RuleCards({ host, findings, selected }: { host: ViewHost; findings: Finding[]; selected: Finding | null }) {
  const [all, setAll] = useState(false);
  const shown = all ? findings : findings.slice(0, CARDS_PER_RULE);
  return (
    <>
      {shown.map((f, i) => <FindingCard key={i} host={host} f={f} selected={sameFinding(f, selected)} />)}
      {findings.length > shown.length && (
        <button type="button" className="link-button more" onClick={() => setAll(true)}>
          {findings.length - shown.length} more {findings[0]!.rule} {findings[0]!.severity}s…
        </button>
      )}
    </>
  );
}

function FindingCard({ host, f, selected, testId }: { host: ViewHost; f: Finding; selected: boolean; testId?: string }) {
  const findings = host.findings!;
  const rowBase = findings.rowBase;
  const trace = host.trace;
  return (
    <article className={`finding-card sev-${f.severity}${selected ? ' selected' : ''}`} data-testid={testId ?? 'finding-card'}
      data-rule={f.rule} data-severity={f.severity}>
      <button type="button" className="finding-head" onClick={() => findings.select(f)} title="show it: zoom the timeline to it and highlight its evidence">
        <span className={`sev-badge sev-${f.severity}`}>{f.severity}</span>
        <span className="finding-rule">{f.rule}</span>
        <span className="muted">{timeText(f)}</span>
        <span className="finding-show">show ›</span>
      </button>
      <p className="finding-explanation" data-testid="finding-explanation">{f.explanation}</p>
      <ul className="finding-evidence" data-testid="finding-evidence">
        {f.evidence.map((streamRow) => {
          const row = streamRow - rowBase;
          if (row < 0 || row >= trace.length) {
            return <li key={streamRow} className="muted" data-row={streamRow}>row {streamRow}: evicted from the page (the server's recording keeps it)</li>;
          }
          const line = evidenceLine(trace, row);
          return (
            <li key={streamRow} data-row={streamRow}>
              <button type="button" className="link-button" title={`${line} (row ${streamRow}): click to select it`} onClick={() => host.reveal(-1, row)}>{line}</button>
            </li>
          );
        })}
      </ul>
    </article>
  );
}
