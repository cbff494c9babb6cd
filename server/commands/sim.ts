// `fusescope sim … --out FILE`: the simulator's events as NDJSON; `sim --list`: the built-in scenarios.
import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { eventLine, headerLine } from '../../src/trace/import/ndjson.ts';
import { listScenarios, makeSimulation, DEFAULT_SCENARIO } from '../sources/sim.ts';
import { UsageError, type Command, type Flags } from './command.ts';

async function cmdSim(flags: Flags): Promise<number> {
  if (flags.list) {
    for (const s of listScenarios(new Map())) process.stdout.write(`${s.name}\t${s.description}\n`);
    return 0;
  }
  const out = flags.out as string | undefined;
  if (!out) throw new UsageError('sim needs --out FILE');
  const name = (flags.scenario as string | undefined) ?? DEFAULT_SCENARIO;
  const seed = (flags.seed as number | undefined) ?? 1;
  const maxEvents = (flags.events as number | undefined) ?? 100_000;
  const policy = flags.policy as string | undefined;
  if (policy !== undefined && policy !== 'per-path' && policy !== 'ino') {
    throw new UsageError(`--policy must be per-path or ino, not '${policy}'`);
  }
  const userScenarios = new Map<string, unknown>();
  if (existsSync(name)) userScenarios.set(name, JSON.parse(await readFile(name, 'utf8')));
  const { simulation, label } = makeSimulation(name, seed, userScenarios, policy);
  const stream = createWriteStream(out);
  stream.write(headerLine({ originNs: '0', source: label, clock: `sim:${label}` }) + '\n');
  let buffered: string[] = [];
  let written = 0;
  while (written < maxEvents && !simulation.done) {
    const n = simulation.runEvents(Math.min(10_000, maxEvents - written), (ev) => buffered.push(eventLine(ev)));
    if (n === 0) break;
    written += n;
    if (!stream.write(buffered.join('\n') + '\n')) await once(stream, 'drain');
    buffered = [];
  }
  stream.end();
  await once(stream, 'finish');
  process.stderr.write(`fusescope: wrote ${written} events to ${out}\n`);
  return 0;
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'write the simulator\'s events for a scenario to an NDJSON file; --list lists the scenarios',
  usage: [
    '  sim      [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] --out FILE',
    '  sim      --list',
  ].join('\n'),
  options: {
    scenario: { type: 'string' }, seed: { type: 'string' }, events: { type: 'string' }, out: { type: 'string' },
    policy: { type: 'string' }, list: { type: 'boolean' },
  },
  numbers: ['seed', 'events'],
  positionals: false,
  run: cmdSim,
};
