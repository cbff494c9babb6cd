// `fusescope sim … --out FILE`: the simulator's events as NDJSON, or (`--format ftrace`) as the text
// the v7 kernel's tracepoints would print (src/trace/export/ftrace-text.ts); `sim --list`: the
// built-in scenarios.
import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import { eventLine, headerLine } from '../../src/trace/import/ndjson.ts';
import { FtraceTextWriter } from '../../src/trace/export/ftrace-text.ts';
import { listScenarios, makeSimulation, DEFAULT_SCENARIO } from '../sources/sim.ts';
import { CLEAN_CUT_MAX_EXTRA_EVENTS, CleanCut } from '../sim/clean-cut.ts';
import { UsageError, type Command, type Flags } from './command.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

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
  const format = (flags.format as string | undefined) ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'ftrace') throw new UsageError(`--format must be ndjson or ftrace, not '${format}'`);
  const layout = (flags.layout as string | undefined) ?? 'report';
  if (layout !== 'report' && layout !== 'pipe') throw new UsageError(`--layout must be report or pipe, not '${layout}'`);
  if (flags.layout !== undefined && format !== 'ftrace') throw new UsageError('--layout goes with --format ftrace');
  const userScenarios = new Map<string, unknown>();
  if (existsSync(name)) userScenarios.set(name, JSON.parse(await readFile(name, 'utf8')));
  const { simulation, label } = makeSimulation(name, seed, userScenarios, policy);
  const stream = createWriteStream(out);
  let buffered: string[] = [];
  let emit: (ev: TraceEvent) => void;
  let ftrace: FtraceTextWriter | null = null;
  if (format === 'ftrace') {
    const w = new FtraceTextWriter({ layout, backend: simulation.spec.backend === 'kernel-ext4' ? 'kernel-ext4' : 'fuse' });
    ftrace = w;
    buffered.push(`# fusescope sim ${label}: the simulator's events as the fuse-iomap v7 kernel's tracepoints would print them (not captured; docs/simulator.md)`);
    buffered.push(...w.header());
    emit = (ev) => w.write(ev, buffered);
  } else {
    buffered.push(headerLine({ originNs: '0', source: label, clock: `sim:${label}` }));
    emit = (ev) => buffered.push(eventLine(ev));
  }
  let written = 0;
  const flush = async (): Promise<void> => {
    if (buffered.length > 0 && !stream.write(buffered.join('\n') + '\n')) await once(stream, 'drain');
    buffered = [];
  };
  // Past N, run on to a clean cut (server/sim/clean-cut.ts), so the ftrace text and the NDJSON
  // of the same run tell the same story about the last steps.
  const cut = new CleanCut();
  const emitSeen = (ev: TraceEvent): void => { cut.see(ev); emit(ev); };
  while (written < maxEvents && !simulation.done) {
    const n = simulation.runEvents(Math.min(10_000, maxEvents - written), emitSeen);
    if (n === 0) break;
    written += n;
    await flush();
  }
  for (let extra = 0; extra < CLEAN_CUT_MAX_EXTRA_EVENTS && !simulation.done && !cut.clean(); extra++) {
    written += simulation.runEvents(1, emitSeen);
  }
  ftrace?.end(buffered);
  await flush();
  stream.end();
  await once(stream, 'finish');
  process.stderr.write(`fusescope: wrote ${written} events to ${out}\n`);
  return 0;
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'write the simulator\'s events for a scenario to an NDJSON file, or as v7 ftrace text; --list lists the scenarios',
  usage: [
    '  sim      [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] [--format ndjson|ftrace] [--layout report|pipe] --out FILE',
    '  sim      --list',
  ].join('\n'),
  options: {
    scenario: { type: 'string' }, seed: { type: 'string' }, events: { type: 'string' }, out: { type: 'string' },
    policy: { type: 'string' }, list: { type: 'boolean' }, format: { type: 'string' }, layout: { type: 'string' },
  },
  numbers: ['seed', 'events'],
  positionals: false,
  run: cmdSim,
};
