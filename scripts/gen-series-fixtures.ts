// Writes fixtures/ftrace/series-run-v7.txt (trace_pipe layout) and series-run-v6.txt (trace-cmd
// report layout) from src/trace/testing/series-trace.ts; prints the figures the scenario implies.
// Run: node --import tsx scripts/gen-series-fixtures.ts
import { writeFileSync } from 'node:fs';
import { seriesTrace } from '../src/trace/testing/series-trace.ts';

for (const [version, layout] of [['v7', 'pipe'], ['v6', 'report']] as const) {
  const { text, expect } = seriesTrace({ version, layout });
  const file = `fixtures/ftrace/series-run-${version}.txt`;
  writeFileSync(file, text);
  console.log(file, JSON.stringify(expect));
}
