import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import type { FileSession } from './file-session.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { SearchBox } from './SearchBox.tsx';
import { LiveControls } from './LiveControls.tsx';
import { ReplayControls } from './ReplayControls.tsx';
import { FileMenu } from './FileMenu.tsx';
import { ExportMenu } from './ExportMenu.tsx';
import { CompareMenu } from './CompareMenu.tsx';
import type { CompareSession } from './compare-session.ts';
import { savePref } from '../widgets/prefs.ts';

export function Header({ store, client, session, compare, searchRef, onHelp }: { store: AppStore; client: WsClient; session: FileSession; compare: CompareSession; searchRef: React.RefObject<HTMLInputElement | null>; onHelp: () => void }) {
  const theme = useStoreValue(store, (s) => s.view.theme);
  const connection = useStoreValue(store, (s) => s.status.connection);
  const isFile = useStoreValue(store, (s) => s.status.sourceKind === 'file');
  const followLive = useStoreValue(store, (s) => s.followLive);
  const events = useStoreValue(store, (s) => s.status.eventCount);
  const spans = useStoreValue(store, (s) => s.status.spanCount);
  const rate = useStoreValue(store, (s) => s.status.eventsPerSec);
  const source = useStoreValue(store, (s) => s.status.source);
  const timeMode = useStoreValue(store, (s) => s.view.timeMode);

  return (
    <header className="header">
      <h1>fusescope</h1>
      {isFile ? <ReplayControls store={store} session={session} /> : <LiveControls store={store} client={client} />}
      <label title={isFile ? 'Keep the playhead in view; zooming or panning turns this off' : 'Keep the newest data in view; zooming or panning turns this off'}>
        <input type="checkbox" data-testid="follow-live" checked={followLive}
          onChange={(e) => store.view.setFollowLive(e.target.checked)} />
        {isFile ? 'follow playhead' : 'follow live'}
      </label>
      <FileMenu session={session} />
      <ExportMenu store={store} />
      <CompareMenu session={session} compare={compare} />
      <SearchBox store={store} inputRef={searchRef} />
      <button type="button" data-testid="time-mode" className="time-mode" aria-pressed={timeMode === 'relative'}
        title={timeMode === 'relative' ? 'Axes show time since the trace\'s first event; click for the trace\'s own clock' : 'Axes show the trace\'s own clock; click for time since its first event'}
        onClick={() => { const m = timeMode === 'relative' ? 'absolute' : 'relative'; store.view.setTimeMode(m); savePref('timeMode', m); }}>
        {timeMode === 'relative' ? 't − first event' : 'clock time'}
      </button>
      <span className="spacer" />
      <span className="counters" data-testid="counters">
        {events.toLocaleString('en-US')} events · {spans.toLocaleString('en-US')} spans{isFile ? '' : ` · ${rate.toLocaleString('en-US')} ev/s`}
      </span>
      {isFile
        ? <span className="status status-file" data-testid="connection" title="A file is open; the live stream is detached from this page">file</span>
        : <span className={`status status-${connection}`} data-testid="connection" title={source}>{connection === 'open' ? 'live' : connection}</span>}
      <button type="button" data-testid="shortcuts" className="help-button" title="Keyboard shortcuts (?)" aria-label="keyboard shortcuts" onClick={onHelp}>?</button>
      <button type="button" data-testid="theme" className="theme-toggle" title="Light / dark theme"
        onClick={() => store.view.setTheme(theme === 'dark' ? 'light' : 'dark')}>{theme === 'dark' ? '☀' : '☾'}</button>
    </header>
  );
}
