// A/B compare: two recordings' timelines stacked (A above B) on one aligned time axis, with
// synchronised zoom / pan and a shared cursor (ComparePair), and the A-vs-B table below
// (the figures of `fusescope diff`). Each timeline is an ordinary TimelineView on a side store.

import { useEffect } from 'react';
import type { AppStore } from './app-store.ts';
import type { CompareSession } from './compare-session.ts';
import type { ComparePair, CompareSide } from './compare-store.ts';
import { TimelineView } from '../views/timeline/TimelineView.tsx';
import { DiffTable } from '../views/compare/DiffTable.tsx';
import { ConversionCompare } from '../views/compare/ConversionCompare.tsx';
import { Legend } from '../widgets/Legend.tsx';
import { paletteFor } from '../render/palette.ts';
import { LEGEND } from './legend-groups.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { isTypingTarget } from '../widgets/keys.ts';
import { formatDurNs } from '../render/time-scale.ts';

export function ComparePage({ store, compare, pair }: { store: AppStore; compare: CompareSession; pair: ComparePair }) {
  const rows = useStoreValue(pair, (p) => p.rows);
  const labelA = useStoreValue(pair.a, (s) => s.status.file?.label ?? '');
  const labelB = useStoreValue(pair.b, (s) => s.status.file?.label ?? '');
  const theme = useStoreValue(pair.a, (s) => s.view.theme);
  useEffect(() => {
    const onKeyDown = (e: KeyboardEvent): void => {
      if (e.key !== 'Escape' || isTypingTarget(e.target)) return;
      pair.a.select(-1);
      pair.b.select(-1);
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [pair]);
  return (
    <div className="app compare-page" data-testid="compare-page">
      <CompareHeader store={store} compare={compare} pair={pair} />
      <div className="compare-workspace">
        <SidePanel side={pair.a} title="A" keyboard />
        <SidePanel side={pair.b} title="B" keyboard={false} />
        <Legend groups={LEGEND} hatchBackground={paletteFor(theme).chrome.hatchBackground} />
        <section className="compare-table-panel">
          <div className="panel-head">
            <h2>A vs B</h2>
            <span className="hint">the figures of <code>fusescope diff A B</code>; rates first (runs rarely move the same bytes); B/A in green where B is better, red where worse</span>
          </div>
          <div className="compare-table-body">
            {rows && <ConversionCompare a={pair.a.trace} b={pair.b.trace} labelA={labelA} labelB={labelB} rows={rows} />}
            {rows ? <DiffTable rows={rows} labelA={labelA} labelB={labelB} /> : <p className="empty-note" data-testid="diff-loading">the table appears once both sides have loaded…</p>}
          </div>
        </section>
      </div>
    </div>
  );
}

function CompareHeader({ store, compare, pair }: { store: AppStore; compare: CompareSession; pair: ComparePair }) {
  const theme = useStoreValue(store, (s) => s.view.theme);
  const mode = useStoreValue(pair, (p) => p.mode);
  const alignError = useStoreValue(pair, (p) => p.alignError);
  return (
    <>
      <header className="header">
        <h1>fusescope</h1>
        <button type="button" data-testid="compare-back" onClick={() => compare.back()}
          title="Leave compare and return to what the page showed before">Back</button>
        <span className="compare-title">Compare</span>
        <span className="align-group" role="group" aria-label="align time">
          align
          <button type="button" data-testid="align-start" aria-pressed={mode === 'start'} onClick={() => pair.alignFromStart()}
            title="Both timelines start at 0: time since each recording's first event">from start</button>
          <button type="button" data-testid="align-selection" aria-pressed={mode === 'marker'} onClick={() => pair.alignOnSelection()}
            title="Click an event in A and one in B, then put both at time 0 (the dashed marker)">on selection</button>
        </span>
        <button type="button" data-testid="compare-fit" onClick={() => pair.fitAll()} title="Show both recordings whole">Fit</button>
        <span className="spacer" />
        <span className="hint-dark">wheel / W S zoom both · drag / A D pan both · the cursor line follows the pointer on both</span>
        <span className="status status-file" data-testid="connection" title="Comparing two recordings; the live stream is detached from this page">compare</span>
        <button type="button" data-testid="theme" className="theme-toggle" title="Light / dark theme"
          onClick={() => store.view.setTheme(theme === 'dark' ? 'light' : 'dark')}>{theme === 'dark' ? '☀' : '☾'}</button>
      </header>
      {alignError && <div className="error-line" data-testid="align-error">{alignError}</div>}
    </>
  );
}

function SidePanel({ side, title, keyboard }: { side: CompareSide; title: 'A' | 'B'; keyboard: boolean }) {
  const label = useStoreValue(side, (s) => s.status.file?.label ?? '');
  const phase = useStoreValue(side, (s) => s.status.importStatus.phase);
  const events = useStoreValue(side, (s) => s.status.eventCount);
  const durNs = useStoreValue(side, (s) => s.trace.endNs - s.trace.startNs);
  const diags = useStoreValue(side, (s) => s.status.diagCount);
  const error = useStoreValue(side, (s) => s.status.lastError);
  const markerNs = useStoreValue(side, (s) => s.markerNs - s.trace.startNs);
  return (
    <section className={`timeline-panel compare-side side-${title.toLowerCase()}`} data-testid={`compare-side-${title.toLowerCase()}`}>
      <div className="panel-head">
        <span className={`side-badge side-badge-${title.toLowerCase()}`}>{title}</span>
        <strong className="side-label" data-testid={`compare-label-${title.toLowerCase()}`} title={label}>{label}</strong>
        <span className="muted">{phase === 'done' ? `${events.toLocaleString('en-US')} events · ${formatDurNs(durNs)}` : phase === 'failed' ? 'failed' : `${phase}…`}</span>
        {diags > 0 && <span className="bad">{diags} diagnostics</span>}
        {Number.isFinite(markerNs) && <span className="hint">marker at {formatDurNs(markerNs)} from its start</span>}
        {error && <span className="bad">{error}</span>}
      </div>
      <TimelineView host={side} keyboard={keyboard} />
    </section>
  );
}
