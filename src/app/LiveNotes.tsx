import type { AppStore } from './app-store.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { Banner } from '../widgets/Banner.tsx';
import { formatDurNs } from '../render/time-scale.ts';

/** `64 MiB`, `0.5 MiB`, `51 KiB`: the history's bound as the user set it (--history-mb). */
export function formatHistoryBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  if (mib >= 10) return `${Math.round(mib)} MiB`;
  if (mib >= 1) return `${Number(mib.toFixed(1))} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

/** Where the events the server did not keep are, as far as the server said. */
function whereNotKept(recorded: boolean | null): string {
  if (recorded === true) return 'The session recording has them all (Recordings ▾).';
  if (recorded === false) return 'This server does not record the session (--no-record): they are gone.';
  return 'Only a recording of the session (if the server makes one) has them.';
}

/**
 * What the page must say about its place in the live session: the run's history before some time
 * that the server no longer kept when this page joined (its hello's `history`), and a notice such
 * as a link for a scenario the shared session is not streaming (status.linkedScenario). Live only.
 */
export function LiveNotes({ store }: { store: AppStore }) {
  const live = useStoreValue(store, (s) => s.status.sourceKind === 'live');
  const notKept = useStoreValue(store, (s) => s.status.historyNotKept);
  const linked = useStoreValue(store, (s) => s.status.linkedScenario);
  const scenario = useStoreValue(store, (s) => s.status.serverState?.scenario ?? '');
  const recordingPaused = useStoreValue(store, (s) => s.status.recording?.state === 'paused' ? s.status.recording.reason ?? 'no reason given' : null);
  if (!live) return null;
  return (
    <>
      {recordingPaused !== null && (
        <Banner testId="recording-paused">
          Recording paused: {recordingPaused}. The live session goes on; the server tries a new recording file
          later (see its log).
        </Banner>
      )}
      {notKept && (
        <Banner testId="history-banner">
          History before {formatDurNs(notKept.keptFromNs)} was not kept: the server keeps the newest
          {' '}{formatHistoryBytes(notKept.maxBytes)} of the run for pages that join late (serve --history-mb), so this
          page lacks the run's first {notKept.events.toLocaleString('en-US')} events. {whereNotKept(notKept.recorded)}
        </Banner>
      )}
      {linked && scenario && linked !== scenario && (
        <Banner testId="live-notice">
          This link shows scenario '{linked}', but the shared session streams '{scenario}'. Opening a link never
          switches it for the other viewers: tick "drive" and pick the scenario to switch it for everyone.
        </Banner>
      )}
    </>
  );
}
