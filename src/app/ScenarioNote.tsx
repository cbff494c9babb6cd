// The live scenario's description, on the page (it used to live only in the picker's tooltip): what
// the run is and what to look for. Shown for a listed simulator scenario; a capture or an
// instrumented server's one-line description is its source label, shown the same way.

import type { AppStore } from './app-store.ts';
import { useStoreValue } from '../widgets/use-store.ts';

export function ScenarioNote({ store }: { store: AppStore }) {
  const scenario = useStoreValue(store, (s) => s.status.serverState?.scenario ?? '');
  const description = useStoreValue(store, (s) => s.status.scenarios.find((x) => x.name === scenario)?.description ?? '');
  if (!scenario || !description) return null;
  return (
    <p className="scenario-note" data-testid="scenario-description">
      <strong>{scenario}</strong>: {description}
    </p>
  );
}
