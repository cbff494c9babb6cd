import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import { useStoreValue } from '../widgets/use-store.ts';

/** Speeds offered; the server accepts 0.01…1000 (wire.ts SPEED_MIN/MAX). */
const SPEEDS = [0.1, 0.5, 1, 2, 5, 10] as const;

const PASSIVE = 'Tick "drive" to change this for every viewer of the shared session';

/**
 * The live stream's controls. Pause is this page's own (its stream stops; others go on) unless
 * "drive" is ticked: then pause, speed, scenario and restart change the shared session for every
 * viewer. Speed, scenario and restart exist only for the shared session, so they need "drive".
 */
export function LiveControls({ store, client }: { store: AppStore; client: WsClient }) {
  const connection = useStoreValue(store, (s) => s.status.connection);
  const hasState = useStoreValue(store, (s) => s.status.serverState !== null);
  const driving = useStoreValue(store, (s) => s.status.driving);
  const paused = useStoreValue(store, (s) => s.status.pausedHere);
  const sharedPaused = useStoreValue(store, (s) => s.status.serverState?.paused ?? false);
  const speed = useStoreValue(store, (s) => s.status.serverState?.speed ?? 1);
  const scenario = useStoreValue(store, (s) => s.status.serverState?.scenario ?? '');
  const scenarios = useStoreValue(store, (s) => s.status.scenarios);
  const speeds: number[] = SPEEDS.includes(speed as (typeof SPEEDS)[number]) ? [...SPEEDS] : [...SPEEDS, speed].sort((a, b) => a - b);
  const disabled = connection !== 'open' || !hasState;
  // A page-started capture run streams under its own name, which the picker does not offer.
  const listed = scenarios.length === 0 || scenarios.some((s) => s.name === scenario);
  return (
    <>
      <button type="button" data-testid="pause" disabled={disabled} onClick={() => client.togglePause()}
        title={driving ? 'Pause or resume the shared session for every viewer (space)' : 'Pause or resume this page\'s stream; other viewers go on (space)'}>
        {paused ? 'Resume' : 'Pause'}
      </button>
      {!driving && sharedPaused && (
        <span className="shared-paused" data-testid="shared-paused" title="A viewer driving the shared session paused it: no new events for anyone until it resumes">shared paused</span>
      )}
      <label className="drive" title="Drive the shared session: pause, speed, scenario and restart then change what every viewer sees. Off: pause holds only this page.">
        <input type="checkbox" data-testid="drive" checked={driving} disabled={disabled}
          onChange={(e) => store.status.setDriving(e.target.checked)} />
        drive
      </label>
      <label title={driving ? 'The shared session\'s speed' : PASSIVE}>
        speed
        <select data-testid="speed" value={String(speed)} disabled={disabled || !driving}
          onChange={(e) => client.sendShared({ type: 'speed', value: Number(e.target.value) })}>
          {speeds.map((v) => <option key={v} value={String(v)}>{v}×</option>)}
        </select>
      </label>
      <label title={driving ? scenarios.find((s) => s.name === scenario)?.description : PASSIVE}>
        scenario
        <select data-testid="scenario" value={scenario} disabled={disabled || !driving || scenarios.length === 0}
          onChange={(e) => client.sendShared({ type: 'scenario', name: e.target.value })}>
          {!listed || scenarios.length === 0 ? <option value={scenario} disabled={scenarios.length > 0}>{scenario || '—'}</option> : null}
          {scenarios.map((s) => <option key={s.name} value={s.name} title={s.description}>{s.name}</option>)}
        </select>
      </label>
      <button type="button" data-testid="restart" disabled={disabled || !driving || !scenario || !listed}
        title={driving ? 'Restart the scenario from the beginning for every viewer (same seed: the same trace)' : PASSIVE}
        onClick={() => client.sendShared({ type: 'scenario', name: scenario })}>Restart</button>
    </>
  );
}
