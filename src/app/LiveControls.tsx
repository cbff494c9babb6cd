import type { AppStore } from './app-store.ts';
import type { WsClient } from './ws-client.ts';
import { useStoreValue } from '../widgets/use-store.ts';

/** Speeds offered; the server accepts 0.01…1000 (wire.ts SPEED_MIN/MAX). */
const SPEEDS = [0.1, 0.5, 1, 2, 5, 10] as const;

/** The live stream's controls: pause, speed, scenario, restart (they talk to the server). */
export function LiveControls({ store, client }: { store: AppStore; client: WsClient }) {
  const connection = useStoreValue(store, (s) => s.status.connection);
  const hasState = useStoreValue(store, (s) => s.status.serverState !== null);
  const paused = useStoreValue(store, (s) => s.status.serverState?.paused ?? false);
  const speed = useStoreValue(store, (s) => s.status.serverState?.speed ?? 1);
  const scenario = useStoreValue(store, (s) => s.status.serverState?.scenario ?? '');
  const scenarios = useStoreValue(store, (s) => s.status.scenarios);
  const speeds: number[] = SPEEDS.includes(speed as (typeof SPEEDS)[number]) ? [...SPEEDS] : [...SPEEDS, speed].sort((a, b) => a - b);
  const disabled = connection !== 'open' || !hasState;
  // A page-started capture run streams under its own name, which the picker does not offer.
  const listed = scenarios.length === 0 || scenarios.some((s) => s.name === scenario);
  return (
    <>
      <button type="button" data-testid="pause" disabled={disabled} onClick={() => client.setPaused(!paused)}
        title="Pause or resume the stream (space)">
        {paused ? 'Resume' : 'Pause'}
      </button>
      <label>
        speed
        <select data-testid="speed" value={String(speed)} disabled={disabled}
          onChange={(e) => client.send({ type: 'speed', value: Number(e.target.value) })}>
          {speeds.map((v) => <option key={v} value={String(v)}>{v}×</option>)}
        </select>
      </label>
      <label>
        scenario
        <select data-testid="scenario" value={scenario} disabled={disabled || scenarios.length === 0}
          onChange={(e) => client.send({ type: 'scenario', name: e.target.value })}
          title={scenarios.find((s) => s.name === scenario)?.description}>
          {!listed || scenarios.length === 0 ? <option value={scenario} disabled={scenarios.length > 0}>{scenario || '—'}</option> : null}
          {scenarios.map((s) => <option key={s.name} value={s.name} title={s.description}>{s.name}</option>)}
        </select>
      </label>
      <button type="button" data-testid="restart" disabled={disabled || !scenario || !listed} title="Restart the scenario from the beginning (same seed: the same trace)"
        onClick={() => client.send({ type: 'scenario', name: scenario })}>Restart</button>
    </>
  );
}
