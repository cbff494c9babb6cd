import type { AppStore } from './app-store.ts';
import type { FileSession } from './file-session.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { OverviewStrip } from '../views/overview/OverviewStrip.tsx';

const NO_FORMATS: readonly string[] = [];

/** Under the header while a file is open: load progress, the overview strip, diagnostics. */
export function FilePanel({ store, session }: { store: AppStore; session: FileSession }) {
  const label = useStoreValue(store, (s) => s.status.file?.label ?? '');
  const kind = useStoreValue(store, (s) => s.status.file?.kind ?? 'import');
  const phase = useStoreValue(store, (s) => s.status.importStatus.phase);
  const done = useStoreValue(store, (s) => s.status.importStatus.doneBytes);
  const total = useStoreValue(store, (s) => s.status.importStatus.totalBytes);
  const events = useStoreValue(store, (s) => s.status.eventCount);
  const formats = useStoreValue(store, (s) => s.status.file?.formats ?? NO_FORMATS);
  const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : phase === 'done' ? 100 : 0;
  return (
    <section className="file-panel" data-testid="file-panel">
      <div className="file-status">
        <strong data-testid="file-label" title={label}>{label}</strong>
        <span className="muted">{kind === 'recording' ? 'recording' : 'imported'}</span>
        <progress data-testid="import-progress" data-pct={pct} data-phase={phase} max={100} value={pct} />
        <span className="muted" data-testid="import-phase">{phaseText(phase, pct)}</span>
        <span className="counters muted">{events.toLocaleString('en-US')} events</span>
        <ClockChoice store={store} session={session} />
      </div>
      {formats.length > 0 && (
        <ul className="file-formats muted" data-testid="file-formats" title="the format each file was read as, and the line that decided it">
          {formats.map((f, i) => <li key={i} data-testid="file-format">read as {f}</li>)}
        </ul>
      )}
      <OverviewStrip host={store} loop={() => store.replay.loopActive} onSeek={(ns) => store.replay.seek(ns)} />
      <Diagnostics store={store} />
    </section>
  );
}

function phaseText(phase: string, pct: number): string {
  switch (phase) {
    case 'reading': return `reading ${pct}%`;
    case 'joining': return 'joining files…';
    case 'checking': return 'checking the rows…';
    case 'loading': return `loading ${pct}%`;
    case 'done': return 'loaded';
    case 'failed': return 'failed';
    default: return '';
  }
}

/**
 * Shown when some opened files are on another clock than the first (their times cannot be
 * compared with it): re-opens them so they start with the first file, or back at their own stamps.
 * The diagnostics say which files, and by how much they were moved.
 */
function ClockChoice({ store, session }: { store: AppStore; session: FileSession }) {
  const others = useStoreValue(store, (s) => s.status.fileClocks.otherClockFiles);
  const aligned = useStoreValue(store, (s) => s.status.fileClocks.aligned);
  const phase = useStoreValue(store, (s) => s.status.importStatus.phase);
  if (others === 0 || phase !== 'done') return null;
  const files = `${others} file${others === 1 ? '' : 's'}`;
  return aligned
    ? <button type="button" data-testid="clock-own-stamps" onClick={() => session.reopen(false)}
      title={`${files} on another clock were moved to start with the first file; open them again at their own stamps`}>Own stamps</button>
    : <button type="button" data-testid="clock-align-starts" onClick={() => session.reopen(true)}
      title={`${files} on another clock than the first file (see the diagnostics): open again with each clock's first event at the first file's first event`}>Align starts</button>;
}

/** The first diagnostics as `file:line: message`, then how many more there were. */
function Diagnostics({ store }: { store: AppStore }) {
  const lines = useStoreValue(store, (s) => s.status.diagLines);
  const count = useStoreValue(store, (s) => s.status.diagCount);
  if (count === 0) return null;
  return (
    <details className="diagnostics" data-testid="diagnostics" open>
      <summary>{count} diagnostic{count === 1 ? '' : 's'}: lines skipped or kept as raw events, files on another clock; everything else was imported</summary>
      <ul>
        {lines.map((l, i) => <li key={i} data-testid="diagnostic">{l}</li>)}
        {count > lines.length && <li className="muted">… and {count - lines.length} more</li>}
      </ul>
    </details>
  );
}
