// Adapts the simulator to the live session and the CLI: scenario lookup by name or user file,
// and the pace (virtual ns per wall second) that makes a scenario watchable live.

import { SCENARIOS, DEFAULT_SCENARIO_NAME, Simulation, parseScenario, type ScenarioSpec } from './sim/index.ts';
import type { ScenarioInfo } from '../src/trace/wire.ts';
import type { PacedSource } from './hub/live-session.ts';

export const DEFAULT_SCENARIO = DEFAULT_SCENARIO_NAME;

/**
 * Virtual time streamed per wall second at speed 1. The simulated IO runs at µs scale, so real
 * time would be a blur: 2 ms of virtual time per second gives a few thousand events/s on screen,
 * enough to watch individual upcalls; the speed control scales it.
 */
const DEFAULT_PACE_NS_PER_SEC = 2_000_000;

export function listScenarios(user: ReadonlyMap<string, unknown>): ScenarioInfo[] {
  const builtin = Object.entries(SCENARIOS).map(([name, spec]) => ({ name, description: spec.description ?? '' }));
  const custom = [...user.keys()].map((name) => ({ name, description: `user scenario from ${name}` }));
  return [...builtin, ...custom];
}

function resolveSpec(name: string, user: ReadonlyMap<string, unknown>): ScenarioSpec {
  if (user.has(name)) return parseScenario(user.get(name));
  const spec = SCENARIOS[name];
  if (!spec) throw new Error(`unknown scenario '${name}' (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return spec;
}

export function makeSimulation(
  name: string,
  seed: number,
  user: ReadonlyMap<string, unknown>,
  policy?: 'per-path' | 'ino',
): { simulation: Simulation; source: PacedSource; paceNsPerSec: number; label: string } {
  const spec = resolveSpec(name, user);
  const simulation = new Simulation(spec, { seed, ...(policy ? { policy } : {}) });
  return {
    simulation,
    source: simulation,
    paceNsPerSec: DEFAULT_PACE_NS_PER_SEC,
    label: `sim:${name}:seed=${seed}${policy ? `:policy=${policy}` : ''}`,
  };
}
