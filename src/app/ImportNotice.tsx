import type { AppStore } from './app-store.ts';
import type { FileSession } from './file-session.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { loadProgress } from './source-status.ts';

const NO_LINES: readonly string[] = [];

/**
 * Under the header: a file being opened (its progress, while the page still shows the previous
 * trace), or why the last opened file is not shown — its error and the diagnostics that name the
 * file and line — with, when it read some rows before it stopped, the choice to view them.
 */
export function ImportNotice({ store, session }: { store: AppStore; session: FileSession }) {
  const loadingLabel = useStoreValue(store, (s) => s.loading?.status.file?.label ?? '');
  // The status object is replaced on every progress message (throttled by the worker): one re-render each.
  const status = useStoreValue(store, (s) => s.loading?.status.importStatus ?? null);
  const phase = status?.phase ?? 'idle';
  const problem = useStoreValue(store, (s) => s.status.importProblem);
  const lines = problem?.diagLines ?? NO_LINES;
  if (loadingLabel && status) {
    const p = loadProgress(status, performance.now());
    const pct = Math.floor(p.fraction * 100);
    const facts = [
      phase === 'joining' ? 'joining files…' : phase === 'checking' ? 'checking the rows…' : `${phase} ${pct}%`,
      p.totalRows !== null ? `${(p.doneRows ?? 0).toLocaleString('en-US')} of ${p.totalRows.toLocaleString('en-US')} rows` : '',
      p.mbPerSec !== null ? `${p.mbPerSec.toFixed(1)} MB/s` : '',
      p.secondsLeft !== null ? `about ${Math.ceil(p.secondsLeft)} s left` : '',
    ].filter((f) => f !== '');
    return (
      <div className="import-notice" data-testid="opening">
        <span>opening <strong title={loadingLabel}>{loadingLabel}</strong></span>
        <progress data-testid="opening-progress" data-phase={phase} max={100} value={pct} />
        <span className="muted" data-testid="opening-facts">{facts.join(' · ')} · the page shows what it showed until the file is in</span>
        <button type="button" data-testid="opening-cancel" onClick={() => session.cancel()}>Cancel</button>
      </div>
    );
  }
  if (!problem) return null;
  const kept = problem.keptEvents;
  return (
    <div className="import-problem" role="alert" data-testid="import-error">
      <div>
        <strong>{problem.label} {kept > 0 ? 'stopped part way' : 'was not opened'}</strong>: <span data-testid="import-error-message">{problem.message}</span>.{' '}
        {kept > 0
          ? <>{kept.toLocaleString('en-US')} events were read before that; the page still shows what it showed before.</>
          : <>The page still shows what it showed before.</>}
        {kept > 0 && (
          <button type="button" data-testid="import-view-kept" onClick={() => session.viewHeld()}>
            View the {kept.toLocaleString('en-US')} events
          </button>
        )}
        <button type="button" data-testid="import-dismiss" onClick={() => store.dismissImportProblem()}>Dismiss</button>
      </div>
      {lines.length > 0 && (
        <ul>
          {lines.map((l, i) => <li key={i} data-testid="import-error-diag">{l}</li>)}
          {problem.diagCount > lines.length && <li className="muted">… and {problem.diagCount - lines.length} more</li>}
        </ul>
      )}
    </div>
  );
}
