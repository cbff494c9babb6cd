// The page in its usual mode: one AppStore (live stream or an opened file), its timeline, the tabs
// under it and the inspector. A/B compare replaces it with ComparePage (App.tsx switches).

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import type { AppStore } from './app-store.ts';
import type { CompareSession } from './compare-session.ts';
import type { WsClient } from './ws-client.ts';
import type { FileSession } from './file-session.ts';
import { Header } from './Header.tsx';
import { FilePanel } from './FilePanel.tsx';
import { ImportNotice } from './ImportNotice.tsx';
import { CapturePanel } from './CapturePanel.tsx';
import { LiveWindowStatus } from './LiveWindowStatus.tsx';
import { LiveNotes } from './LiveNotes.tsx';
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
import { shortcutAction } from '../render/shortcuts.ts';
import { ShortcutsSheet } from './ShortcutsSheet.tsx';
import { useStoreValue } from '../widgets/use-store.ts';
import { Splitter } from '../widgets/Splitter.tsx';
import { loadPref, savePref } from '../widgets/prefs.ts';

/** The timeline panel is never squeezed below this (its head, axis and a lane), nor the tabs below theirs. */
const MIN_TIMELINE_PX = 140;
const MIN_TABS_PX = 90;
/**
 * Until the user moves the splitter the timeline is as tall as its lanes need, up to this share of
 * the room below the findings (the tabs keep the rest): at 1400×900 every lane of the default
 * scenario shows, and a 70-lane trace leaves the tabs usable.
 */
const FIT_SHARE = 0.75;
const isPx = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

export function MainPage({ store, client, session, compare }: { store: AppStore; client: WsClient; session: FileSession; compare: CompareSession }) {
  const missed = useStoreValue(store, (s) => s.data.missedEvents);
  const gapCount = useStoreValue(store, (s) => s.data.gaps.length);
  const uncounted = useStoreValue(store, (s) => s.data.gaps.filter((g) => g.missedEvents < 0).length);
  const error = useStoreValue(store, (s) => s.status.lastError);
  const tab = useStoreValue(store, (s) => s.view.tab);
  const query = useStoreValue(store, (s) => s.view.query);
  const theme = useStoreValue(store, (s) => s.view.theme);
  const isFile = useStoreValue(store, (s) => s.status.sourceKind === 'file');
  // What the views name as the trace's source: the live scenario, or the file shown (never the
  // scenario the server streams while a file is open).
  const scenario = useStoreValue(store, (s) => (s.status.sourceKind === 'live' ? s.status.serverState?.scenario ?? '' : ''));
  const fileLabel = useStoreValue(store, (s) => (s.status.sourceKind === 'file' ? s.status.file?.label ?? '' : ''));
  const scenarioInfo = useStoreValue(store, (s) => (scenario ? s.status.scenarios.find((x) => x.name === scenario) ?? null : null));
  const searchRef = useRef<HTMLInputElement>(null);
  const [helpOpen, setHelpOpen] = useState(false);
  useKeys(store, client, searchRef, setHelpOpen);
  const dragging = useFileDrop(useCallback((files: File[]) => session.openFiles(files.map((f) => ({ name: f.name, blob: f }))), [session]));
  const parsed = parseQuery(query);
  // The splitter's position (localStorage 'fusescope.timelineHeightPx'; null: the CSS default share).
  const [timelinePx, setTimelinePx] = useState<number | null>(() => loadPref<number | null>('timelineHeightPx', null, isPx));
  const timelineRef = useRef<HTMLElement>(null);
  const viewsRef = useRef<HTMLDivElement>(null);
  const setSplit = useCallback((px: number | null) => { setTimelinePx(px); savePref('timelineHeightPx', px ?? undefined); }, []);
  const [contentPx, setContentPx] = useState<number | null>(null);
  const fitPx = useFitTimeline(timelinePx === null ? contentPx : null, timelineRef, viewsRef);
  const splitPx = timelinePx ?? fitPx;
  useEffect(() => {
    store.view.setTimeMode(loadPref('timeMode', 'absolute', (v): v is 'absolute' | 'relative' => v === 'absolute' || v === 'relative'));
  }, [store]);

  return (
    <div className="app">
      <Header store={store} client={client} session={session} compare={compare} searchRef={searchRef} onHelp={() => setHelpOpen(true)} />
      {helpOpen && <ShortcutsSheet onClose={() => setHelpOpen(false)} />}
      <ImportNotice store={store} session={session} />
      {isFile ? <FilePanel store={store} session={session} /> : <CapturePanel store={store} client={client} />}
      {!isFile && <ScenarioNote store={store} />}
      {dragging && <div className="drop-hint" data-testid="drop-hint">Drop ftrace text, libfuse -d logs, NDJSON or a .fscope recording to open them here</div>}
      {!isFile && missed > 0 && (
        <Banner testId="gap-banner">
          {missed} events missed ({gapCount} gap{gapCount === 1 ? '' : 's'}): this page fell
          behind the stream, or stayed paused longer than the server keeps the run. Gaps are marked in red
          on the time axis; the recording itself is complete.
        </Banner>
      )}
      <LiveNotes store={store} />
      {isFile && gapCount > 0 && (
        <Banner testId="gap-banner">
          The trace says events were lost ({gapCount} gap{gapCount === 1 ? '' : 's'}
          {missed > 0 ? `, ${missed} events counted` : ''}{uncounted > 0 ? `, ${uncounted} with no count` : ''}): the
          tracer dropped them (ring buffer full). Gaps are marked in red on the time axis.
        </Banner>
      )}
      {error && <div className="error-line" data-testid="error">{error}</div>}
      <div className="workspace">
        <div className="views" ref={viewsRef}>
          <FindingsPanel host={store} />
          <section className="timeline-panel" ref={timelineRef} data-testid="timeline-panel"
            style={splitPx === null ? undefined : { flex: `0 0 ${splitPx}px` }}>
            <div className="panel-head">
              <h2>Timeline</h2>
              <span className="hint">wheel / W S zoom · drag / A D pan · click to inspect · shift-drag aggregates · click a lane label pins it, its ▾ collapses it, its lower edge drags its height, a group header folds the group · f focus selection · / search · space pauses</span>
              <LiveWindowStatus store={store} />
            </div>
            <TimelineView host={store} onContentHeightPx={setContentPx} />
            <Legend groups={LEGEND} hatchBackground={paletteFor(theme).chrome.hatchBackground} />
          </section>
          <Splitter testId="splitter" label="Resize the timeline" heightPx={timelinePx} minPx={MIN_TIMELINE_PX}
            measure={() => timelineRef.current?.getBoundingClientRect().height ?? MIN_TIMELINE_PX}
            maxPx={() => (viewsRef.current && timelineRef.current
              ? viewsRef.current.getBoundingClientRect().bottom - timelineRef.current.getBoundingClientRect().top - MIN_TABS_PX
              : MIN_TIMELINE_PX)}
            onChange={setSplit} />
          <section className="tabs-panel">
            <nav className="tabs" role="tablist">
              {VIEW_REGISTRY.map(({ id, title }) => (
                <button type="button" role="tab" key={id} data-testid={`tab-${id}`} aria-selected={id === tab}
                  className={id === tab ? 'active' : ''} onClick={() => store.view.setTab(id)}>{title}</button>
              ))}
              {query && <span className="hint">filtered by “{query}”</span>}
            </nav>
            <div className="tab-body">
              {viewTabEntry(tab).render({ host: store, query: parsed, scenario, scenarioInfo, source: isFile ? { kind: 'file', name: fileLabel } : { kind: 'live', name: scenario } })}
            </div>
          </section>
        </div>
        <Inspector host={store} />
      </div>
    </div>
  );
}

/**
 * The timeline panel's height that shows all `contentPx` of lanes (its head, axis and legend
 * measured, not assumed), at least MIN_TIMELINE_PX and at most FIT_SHARE of the room from its top
 * to the bottom of the views (never leaving the tabs under MIN_TABS_PX); refitted when the window,
 * the findings above it or the lanes change. Null: nothing to fit (no lanes yet, or the user's split).
 */
function useFitTimeline(contentPx: number | null, panelRef: React.RefObject<HTMLElement | null>, viewsRef: React.RefObject<HTMLDivElement | null>): number | null {
  const [fitPx, setFitPx] = useState<number | null>(null);
  useLayoutEffect(() => {
    const panel = panelRef.current;
    const views = viewsRef.current;
    if (contentPx === null || !panel || !views) { setFitPx(null); return undefined; }
    const fit = (): void => {
      const scroll = panel.querySelector('.timeline-scroll');
      if (!scroll) return;
      const panelBox = panel.getBoundingClientRect();
      const chromePx = panelBox.height - scroll.getBoundingClientRect().height;
      const roomPx = views.getBoundingClientRect().bottom - panelBox.top;
      const capPx = Math.max(MIN_TIMELINE_PX, Math.min(roomPx - MIN_TABS_PX, roomPx * FIT_SHARE));
      setFitPx(Math.round(Math.min(Math.max(contentPx + chromePx, MIN_TIMELINE_PX), capPx)));
    };
    fit();
    // The findings above the timeline grow and shrink as findings come: the room changes with them.
    const observer = new ResizeObserver(fit);
    observer.observe(views);
    if (views.firstElementChild && views.firstElementChild !== panel) observer.observe(views.firstElementChild);
    return () => observer.disconnect();
  }, [contentPx, panelRef, viewsRef]);
  return fitPx;
}

/** The page's keys, dispatched through render/shortcuts.ts (the table the `?` sheet lists): `/` search,
 *  `?` the sheet, `f` zoom to the selection, Escape clears it, space pauses. */
function useKeys(store: AppStore, client: WsClient, searchRef: React.RefObject<HTMLInputElement | null>, setHelpOpen: (f: (open: boolean) => boolean) => void): void {
  useEffect(() => {
    // preventDefault on both edges stops a focused button or checkbox from also activating.
    const onKeyDown = (e: KeyboardEvent): void => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      switch (shortcutAction('page', e.key)) {
        case 'search':
          e.preventDefault();
          searchRef.current?.focus();
          return;
        case 'help':
          e.preventDefault();
          setHelpOpen((open) => !open);
          return;
        case 'focus-selection':
          e.preventDefault();
          store.scheduler.scheduleAction(() => store.focusSelection());
          return;
        case 'clear-selection':
          store.select(-1);
          return;
        case 'pause':
          break;
        default:
          return;
      }
      e.preventDefault();
      if (e.repeat) return;
      if (store.status.sourceKind === 'file') {
        store.replay.togglePlay();
        return;
      }
      if (!store.status.serverState || store.status.connection !== 'open') return;
      client.togglePause();
    };
    const onKeyUp = (e: KeyboardEvent): void => {
      if (shortcutAction('page', e.key) === 'pause' && !isTypingTarget(e.target)) e.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    window.addEventListener('keyup', onKeyUp);
    return () => {
      window.removeEventListener('keydown', onKeyDown);
      window.removeEventListener('keyup', onKeyUp);
    };
  }, [store, client, searchRef, setHelpOpen]);
}
