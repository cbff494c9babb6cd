// The page in its usual mode: one AppStore (live stream or an opened file), its timeline, the tabs
// under it and the inspector. A/B compare replaces it with ComparePage (App.tsx switches).

import { useCallback, useEffect, useRef } from 'react';
import type { AppStore } from './app-store.ts';
import type { CompareSession } from './compare-session.ts';
import type { WsClient } from './ws-client.ts';
import type { FileSession } from './file-session.ts';
import { Header } from './Header.tsx';
import { FilePanel } from './FilePanel.tsx';
import { CapturePanel } from './CapturePanel.tsx';
import { LiveWindowStatus } from './LiveWindowStatus.tsx';
import { ScenarioNote } from './ScenarioNote.tsx';
import { useFileDrop } from './use-drop.ts';
import { TimelineView } from '../views/timeline/TimelineView.tsx';
import { Inspector } from '../views/timeline/Inspector.tsx';
import { FindingsPanel } from '../views/findings/FindingsPanel.tsx';
import { VIEW_REGISTRY, viewTabEntry } from '../views/registry.ts';
import { Legend } from '../widgets/Legend.tsx';
import { paletteFor } from '../render/palette.ts';
import { Banner } from '../widgets/Banner.tsx';
import { LEGEND } from './legend-groups.ts';
import { parseQuery } from '../trace/derive/search.ts';
import { isTypingTarget } from '../widgets/keys.ts';
import { useStoreValue } from '../widgets/use-store.ts';

export function MainPage({ store, client, session, compare }: { store: AppStore; client: WsClient; session: FileSession; compare: CompareSession }) {
  const missed = useStoreValue(store, (s) => s.data.missedEvents);
  const gapCount = useStoreValue(store, (s) => s.data.gaps.length);
  const uncounted = useStoreValue(store, (s) => s.data.gaps.filter((g) => g.missedEvents < 0).length);
  const error = useStoreValue(store, (s) => s.status.lastError);
  const tab = useStoreValue(store, (s) => s.view.tab);
  const query = useStoreValue(store, (s) => s.view.query);
  const theme = useStoreValue(store, (s) => s.view.theme);
  const isFile = useStoreValue(store, (s) => s.status.sourceKind === 'file');
  // An opened file is not the live scenario: its tabs must not name it.
  const scenario = useStoreValue(store, (s) => (s.status.sourceKind === 'file' ? '' : s.status.serverState?.scenario ?? ''));
  const scenarioInfo = useStoreValue(store, (s) => (scenario ? s.status.scenarios.find((x) => x.name === scenario) ?? null : null));
  const searchRef = useRef<HTMLInputElement>(null);
  useKeys(store, client, searchRef);
  const dragging = useFileDrop(useCallback((files: File[]) => session.openFiles(files.map((f) => ({ name: f.name, blob: f }))), [session]));
  const parsed = parseQuery(query);

  return (
    <div className="app">
      <Header store={store} client={client} session={session} compare={compare} searchRef={searchRef} />
      {isFile ? <FilePanel store={store} session={session} /> : <CapturePanel store={store} client={client} />}
      {!isFile && <ScenarioNote store={store} />}
      {dragging && <div className="drop-hint" data-testid="drop-hint">Drop ftrace text, libfuse -d logs, NDJSON or a .fscope recording to open them here</div>}
      {!isFile && missed > 0 && (
        <Banner testId="gap-banner">
          {missed} events missed ({gapCount} gap{gapCount === 1 ? '' : 's'}): the viewer fell
          behind the stream. Gaps are marked in red on the time axis; the recording itself is complete.
        </Banner>
      )}
      {isFile && gapCount > 0 && (
        <Banner testId="gap-banner">
          The trace says events were lost ({gapCount} gap{gapCount === 1 ? '' : 's'}
          {missed > 0 ? `, ${missed} events counted` : ''}{uncounted > 0 ? `, ${uncounted} with no count` : ''}): the
          tracer dropped them (ring buffer full). Gaps are marked in red on the time axis.
        </Banner>
      )}
      {error && <div className="error-line" data-testid="error">{error}</div>}
      <div className="workspace">
        <div className="views">
          <FindingsPanel host={store} />
          <section className="timeline-panel">
            <div className="panel-head">
              <h2>Timeline</h2>
              <span className="hint">wheel / W S zoom · drag / A D pan · click to inspect · shift-drag aggregates · click a lane label pins it · f focus selection · / search · space pauses</span>
              <LiveWindowStatus store={store} />
            </div>
            <TimelineView host={store} />
            <Legend groups={LEGEND} hatchBackground={paletteFor(theme).chrome.hatchBackground} />
          </section>
          <section className="tabs-panel">
            <nav className="tabs" role="tablist">
              {VIEW_REGISTRY.map(({ id, title }) => (
                <button type="button" role="tab" key={id} data-testid={`tab-${id}`} aria-selected={id === tab}
                  className={id === tab ? 'active' : ''} onClick={() => store.view.setTab(id)}>{title}</button>
              ))}
              {query && <span className="hint">filtered by “{query}”</span>}
            </nav>
            <div className="tab-body">
              {viewTabEntry(tab).render({ host: store, query: parsed, scenario, scenarioInfo })}
            </div>
          </section>
        </div>
        <Inspector host={store} />
      </div>
    </div>
  );
}

/** `space` pauses (the stream, or a file's replay), `/` focuses search, `f` zooms to the selection, Escape clears it. */
function useKeys(store: AppStore, client: WsClient, searchRef: React.RefObject<HTMLInputElement | null>): void {
  useEffect(() => {
    // preventDefault on both edges stops a focused button or checkbox from also activating.
    const onKeyDown = (e: KeyboardEvent): void => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      if (e.key === '/') {
        e.preventDefault();
        searchRef.current?.focus();
        return;
      }
      if (e.key === 'f') {
        e.preventDefault();
        store.scheduler.scheduleAction(() => store.focusSelection());
        return;
      }
      if (e.key === 'Escape') {
        store.select(-1);
        return;
      }
      if (e.key !== ' ') return;
      e.preventDefault();
      if (e.repeat) return;
      if (store.status.sourceKind === 'file') {
        store.replay.togglePlay();
        return;
      }
      const state = store.status.serverState;
      if (!state || store.status.connection !== 'open') return;
      client.setPaused(!state.paused);
    };
    const onKeyUp = (e: KeyboardEvent): void => {
      if (e.key === ' ' && !isTypingTarget(e.target)) e.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('keyup', onKeyUp);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('keyup', onKeyUp);
    };
  }, [store, client, searchRef]);
}
