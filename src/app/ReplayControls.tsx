import type { AppStore } from './app-store.ts';
import type { FileSession } from './file-session.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import { REPLAY_SPEEDS } from './playhead.ts';
import { formatDurNs } from '../render/time-scale.ts';
import { untimedShare } from '../trace/untimed.ts';

/** Replay of an opened file: play / pause, speed, loop the area selection, and back to live. */
export function ReplayControls({ store, session }: { store: AppStore; session: FileSession }) {
  const playing = useStoreValue(store, (s) => s.replay.playhead.playing);
  const speed = useStoreValue(store, (s) => s.replay.playhead.speed);
  const loop = useStoreValue(store, (s) => s.replay.loop);
  const hasArea = useStoreValue(store, (s) => !Number.isNaN(s.areaFromNs));
  const readoutNs = useStoreValue(store, (s) => s.replay.readoutNs - s.replay.playhead.startNs);
  const durNs = useStoreValue(store, (s) => s.replay.playhead.endNs - s.replay.playhead.startNs);
  // 'checking': every row is in (only the findings are still to come), so the file can play.
  const loading = useStoreValue(store, (s) => s.status.importStatus.phase !== 'done' && s.status.importStatus.phase !== 'checking');
  // Some events have no time (pasted lines without times): the file's length is not a time.
  const untimed = useStoreValue(store, (s) => untimedShare(s.trace) !== null);
  return (
    <>
      <button type="button" data-testid="back-to-live" onClick={() => session.backToLive()}
        title="Close the file and return to the server's live stream">Back to live</button>
      <button type="button" data-testid="replay-play" disabled={loading || durNs <= 0} onClick={() => store.replay.togglePlay()}
        title="Play or pause the replay (space)">{playing ? 'Pause' : 'Play'}</button>
      <label title="Replay speed; 1× shows 2 ms of trace per second, as the live view does">
        speed
        <select data-testid="replay-speed" value={String(speed)} onChange={(e) => store.replay.setSpeed(Number(e.target.value))}>
          {REPLAY_SPEEDS.map((v) => <option key={v} value={String(v)}>{v}×</option>)}
        </select>
      </label>
      <label title={hasArea ? 'Play the area selection over and over' : 'Shift-drag on the timeline to select an area to loop'}>
        <input type="checkbox" data-testid="replay-loop" checked={loop} onChange={(e) => store.replay.setLoop(e.target.checked)} />
        loop selection
      </label>
      {untimed
        ? <span className="replay-time" data-testid="replay-time" title="some events come from pasted lines without times: the axis is partly file order">length unknown (untimed lines)</span>
        : <span className="replay-time" data-testid="replay-time" title="playhead / length of the file">{formatDurNs(Math.max(0, readoutNs))} / {formatDurNs(durNs)}</span>}
    </>
  );
}
