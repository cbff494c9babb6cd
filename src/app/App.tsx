import { useEffect } from 'react';
import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import { Header } from './Header.tsx';
import { TimelineView } from '../views/timeline/TimelineView.tsx';
import { Inspector } from '../views/timeline/Inspector.tsx';
import { Legend, type LegendGroup } from '../widgets/Legend.tsx';
import { Placeholder } from '../widgets/Placeholder.tsx';
import { Banner } from '../widgets/Banner.tsx';
import { PALETTE } from '../render/palette.ts';
import { isTypingTarget } from '../widgets/keys.ts';
import { useStoreValue } from '../widgets/use-store.ts';

const LEGEND: readonly LegendGroup[] = [
  { title: 'mapping type', items: PALETTE.filter((p) => p.group === 'mapping') },
  { title: 'syscall', items: PALETTE.filter((p) => p.group === 'app') },
  { title: 'fuse request', items: PALETTE.filter((p) => p.group === 'fuse') },
  { title: 'lock', items: PALETTE.filter((p) => p.group === 'lock') },
];

const VIEWS_ISSUE_NOTE = 'Arrives with the views issue (#4). Nothing is shown here until then.';

export function App({ store, client }: { store: AppStore; client: WsClient }) {
  const missed = useStoreValue(store, (s) => s.missedEvents);
  const gapCount = useStoreValue(store, (s) => s.gaps.length);
  const error = useStoreValue(store, (s) => s.lastError);
  usePauseKey(store, client);

  return (
    <div className="app">
      <Header store={store} client={client} />
      {missed > 0 && (
        <Banner testId="gap-banner">
          {missed} events missed ({gapCount} gap{gapCount === 1 ? '' : 's'}): the viewer fell
          behind the stream. Gaps are marked in red on the time axis; the recording itself is complete.
        </Banner>
      )}
      {error && <div className="error-line" data-testid="error">{error}</div>}
      <main className="main">
        <section className="timeline-panel">
          <div className="panel-head">
            <h2>Timeline</h2>
            <span className="hint">wheel / W S zoom · drag / A D pan · wheel over labels scrolls lanes · click a span to inspect · space pauses</span>
          </div>
          <TimelineView host={store} />
          <Legend groups={LEGEND} />
        </section>
        <Inspector host={store} />
      </main>
      <section className="other-views">
        <Placeholder title="Mapping cache" note={VIEWS_ISSUE_NOTE} />
        <Placeholder title="nodeid → inode aliasing" note={VIEWS_ISSUE_NOTE} />
        <Placeholder title="i_rwsem contention" note={VIEWS_ISSUE_NOTE} />
      </section>
    </div>
  );
}

/** `space` toggles pause anywhere except in text fields and menus. */
function usePauseKey(store: AppStore, client: WsClient): void {
  useEffect(() => {
    // preventDefault on both edges stops a focused button or checkbox from also activating.
    const onKeyDown = (e: KeyboardEvent): void => {
      if (e.key !== ' ' || e.ctrlKey || e.metaKey || e.altKey || isTypingTarget(e.target)) return;
      e.preventDefault();
      if (e.repeat || !store.serverState || store.connection !== 'open') return;
      client.setPaused(!store.serverState.paused);
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
  }, [store, client]);
}
