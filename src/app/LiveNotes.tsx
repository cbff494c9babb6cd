import type { AppStore } from './app-store.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { Banner } from '../widgets/Banner.tsx';
import { formatDurNs } from '../render/time-scale.ts';

/**
 * What the page must say about its place in the live session: the run's history before some time
 * that the server no longer kept when this page joined (its hello's `history`), and a notice such
 * as a link for a scenario the shared session is not streaming. Live only.
 */
export function LiveNotes({ store }: { store: AppStore }) {
  const live = useStoreValue(store, (s) => s.status.sourceKind === 'live');
  const notKept = useStoreValue(store, (s) => s.status.historyNotKept);
  const notice = useStoreValue(store, (s) => s.status.notice);
  if (!live) return null;
  return (
    <>
      {notKept && (
        <Banner testId="history-banner">
          History before {formatDurNs(notKept.keptFromNs)} was not kept: the server keeps the newest
          {' '}{Math.round(notKept.maxBytes / (1024 * 1024))} MiB of the run for pages that join late
          (serve --history-mb), so the {notKept.events.toLocaleString('en-US')} earlier events are not in this page.
          The session recording has them all (Recordings ▾).
        </Banner>
      )}
      {notice && <Banner testId="live-notice">{notice}</Banner>}
    </>
  );
}
