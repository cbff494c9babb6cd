import type { AppStore } from './app-store.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { OverviewStrip } from '../views/overview/OverviewStrip.tsx';

/** Under the header while a file is open: load progress, the overview strip, diagnostics. */
export function FilePanel({ store }: { store: AppStore }) {
  const label = useStoreValue(store, (s) => s.file?.label ?? '');
  const kind = useStoreValue(store, (s) => s.file?.kind ?? 'import');
  const phase = useStoreValue(store, (s) => s.importStatus.phase);
  const done = useStoreValue(store, (s) => s.importStatus.doneBytes);
  const total = useStoreValue(store, (s) => s.importStatus.totalBytes);
  const events = useStoreValue(store, (s) => s.eventCount);
  const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : phase === 'done' ? 100 : 0;
  return (
    <section className="file-panel" data-testid="file-panel">
      <div className="file-status">
        <strong data-testid="file-label" title={label}>{label}</strong>
        <span className="muted">{kind === 'recording' ? 'recording' : 'imported'}</span>
        <progress data-testid="import-progress" data-pct={pct} data-phase={phase} max={100} value={pct} />
        <span className="muted" data-testid="import-phase">{phaseText(phase, pct)}</span>
        <span className="counters muted">{events.toLocaleString('en-US')} events</span>
      </div>
      <OverviewStrip host={store} loop={() => store.loopActive} onSeek={(ns) => store.seek(ns)} />
      <Diagnostics store={store} />
    </section>
  );
}

function phaseText(phase: string, pct: number): string {
  switch (phase) {
    case 'reading': return `reading ${pct}%`;
    case 'joining': return 'joining files…';
    case 'loading': return `loading ${pct}%`;
    case 'done': return 'loaded';
    case 'failed': return 'failed';
    default: return '';
  }
}

/** The first diagnostics as `file:line: message`, then how many more there were. */
function Diagnostics({ store }: { store: AppStore }) {
  const lines = useStoreValue(store, (s) => s.diagLines);
  const count = useStoreValue(store, (s) => s.diagCount);
  if (count === 0) return null;
  return (
    <details className="diagnostics" data-testid="diagnostics" open>
      <summary>{count} diagnostic{count === 1 ? '' : 's'}: these lines were skipped or kept as raw events; everything else was imported</summary>
      <ul>
        {lines.map((l, i) => <li key={i} data-testid="diagnostic">{l}</li>)}
        {count > lines.length && <li className="muted">… and {count - lines.length} more</li>}
      </ul>
    </details>
  );
}
