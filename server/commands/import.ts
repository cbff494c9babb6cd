// `fusescope import FILE… [-o OUT]`: real traces as one trace on one clock, written as NDJSON
// (docs/import.md). Exit codes: 0 ok, 1 input errors found (the rest was still imported),
// 2 unusable (no file readable/recognised, or no events at all) or a usage error.
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { reportDiags, writeNdjson } from '../sources/files.ts';
import { UsageError, type Command, type Flags } from './command.ts';
import { exitCodeOf, loadFiles, parseFormat } from './load.ts';

async function cmdImport(flags: Flags, rest: string[]): Promise<number> {
  if (rest.length === 0) throw new UsageError('import needs at least one FILE');
  for (const f of rest) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const format = parseFormat(flags.format);
  const r = await loadFiles(rest, format, flags['align-starts'] === true);
  reportDiags(r);
  const code = exitCodeOf(r, rest);
  if (code === 2) {
    process.stderr.write('fusescope: nothing usable to import\n');
    return 2;
  }
  const outPath = flags.out as string | undefined;
  const stream = outPath ? createWriteStream(outPath) : process.stdout;
  await writeNdjson(r, rest, stream);
  if (outPath) {
    (stream as ReturnType<typeof createWriteStream>).end();
    await once(stream, 'finish');
    process.stderr.write(`fusescope: wrote ${r.store.length} events to ${outPath}\n`);
  }
  return code;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'read real traces (ftrace, libfuse -d logs, NDJSON, .fscope) as one trace on one clock; write NDJSON',
  usage: '  import   FILE… [-o OUT.ndjson] [--format auto|ftrace|fuse-log|ndjson|trace-dat] [--align-starts]',
  options: { out: { type: 'string', short: 'o' }, format: { type: 'string' }, 'align-starts': { type: 'boolean' } },
  positionals: true,
  run: cmdImport,
};
