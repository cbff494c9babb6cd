// `fusescope record --source sim [--scenario NAME|FILE] [--seed N] [--events N] [--policy per-path|ino] -o OUT.fscope`
// Runs a source flat out into a recording. Only the simulator source exists yet; file sources
// (ftrace, fuse-log) are recorded with `fusescope import` + this writer later.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Recorder } from '../recorder/recorder.ts';
import { makeSimulation, DEFAULT_SCENARIO } from '../sim-source.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

export interface RecordOptions {
  source: string;
  scenario?: string;
  seed?: number;
  events?: number;
  policy?: string;
  out: string;
}

export class RecordUsageError extends Error {}

export async function runRecord(o: RecordOptions, log: (line: string) => void = () => {}): Promise<{ events: number; bytes: number }> {
  if (o.source !== 'sim') throw new RecordUsageError(`--source must be 'sim' (other sources are not recordable yet), not '${o.source}'`);
  if (o.policy !== undefined && o.policy !== 'per-path' && o.policy !== 'ino') {
    throw new RecordUsageError(`--policy must be per-path or ino, not '${o.policy}'`);
  }
  const name = o.scenario ?? DEFAULT_SCENARIO;
  const seed = o.seed ?? 1;
  const maxEvents = o.events ?? 100_000;
  const user = new Map<string, unknown>();
  if (existsSync(name)) user.set(name, JSON.parse(await readFile(name, 'utf8')));
  const { simulation, label } = makeSimulation(name, seed, user, o.policy as 'per-path' | 'ino' | undefined);
  if (existsSync(o.out)) throw new RecordUsageError(`${o.out} exists; recordings are never overwritten`);
  const rec = new Recorder(o.out, { meta: { source: label, scenario: name, seed, ...(o.policy ? { policy: o.policy } : {}) } });
  let written = 0;
  const buf: TraceEvent[] = [];
  try {
    while (written < maxEvents && !simulation.done) {
      const n = simulation.runEvents(Math.min(16_384, maxEvents - written), (ev) => buf.push(ev));
      if (n === 0) break;
      rec.appendEvents(buf);
      buf.length = 0;
      written += n;
    }
  } finally {
    rec.close();
  }
  log(`wrote ${written} events to ${o.out} (${rec.bytesWritten} bytes, ${(rec.bytesWritten / Math.max(1, written)).toFixed(1)} B/event)`);
  return { events: written, bytes: rec.bytesWritten };
}
