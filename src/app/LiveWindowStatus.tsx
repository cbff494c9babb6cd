import type { AppStore } from './app-store.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { WINDOW_CHOICES, formatWindow } from './live-window.ts';

/**
 * The live window (src/app/live-window.ts) at the right end of the timeline's head, live only:
 * how many of the newest events the page keeps (settable; `?window=N` in the URL) and, once it
 * evicted some, how many and where they still are — the server's session recording, listed
 * under Recordings ▾ (docs/replay.md). Not in the header: it is full at 1400 px.
 */
export function LiveWindowStatus({ store }: { store: AppStore }) {
  const live = useStoreValue(store, (s) => s.status.sourceKind === 'live');
  const windowEvents = useStoreValue(store, (s) => s.data.windowEvents);
  // Events the server did not keep before this page joined are not the page's evictions (LiveNotes says them).
  const evicted = useStoreValue(store, (s) => s.data.evictedEvents - s.data.notKeptEvents);
  if (!live) return null;
  const n = (v: number): string => v.toLocaleString('en-US');
  const choices: number[] = WINDOW_CHOICES.includes(windowEvents as (typeof WINDOW_CHOICES)[number])
    ? [...WINDOW_CHOICES] : [...WINDOW_CHOICES, windowEvents].sort((a, b) => a - b);
  return (
    <span className="live-window">
      <label title="The page keeps this many of the newest live events (older ones are evicted from it; the server's session recording keeps them all). ?window=N in the URL sets it.">
        window
        <select data-testid="live-window" value={String(windowEvents)} onChange={(e) => store.setWindowEvents(Number(e.target.value))}>
          {choices.map((v) => <option key={v} value={String(v)}>{formatWindow(v)}</option>)}
        </select>
      </label>
      {evicted > 0 && (
        <span className="live-window-status" data-testid="live-window-status" data-evicted={evicted}
          title={`This page keeps the newest ${n(windowEvents)} events; ${n(evicted)} older ones were evicted from it. The server's session recording has them all: open it from Recordings ▾.`}>
          last {n(windowEvents)} events · {n(evicted)} evicted · full history in the session recording (Recordings ▾)
        </span>
      )}
    </span>
  );
}
