// Scenarios: spec types (spec.ts), the built-in catalogue (catalogue.ts), the JSON validator (validate.ts).
export * from './spec.ts';
export { DEFAULT_SCENARIO_NAME, SCENARIOS } from './catalogue.ts';
export { parseScenario } from './validate.ts';
