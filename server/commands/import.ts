// `fusescope import FILE… [-o OUT]`: real traces as one trace on one clock, written as NDJSON
// (docs/import.md). Exit codes: 0 ok, 1 input errors found (the rest was still imported),
// 2 unusable (no file readable/recognised, or no events at all) or a usage error.
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { eventLine, headerLine } from '../../src/trace/ndjson.ts';
import { reportDiags } from '../sources/files.ts';
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
  const source = `import:${rest.map((f) => `${r.formats.get(f) ?? '?'}:${f}`).join(',')}`;
  // The clock of the axis (the first file's), so a later import of this file compares clocks.
  const clock = r.result.clock?.id;
  stream.write(headerLine({ originNs: r.store.originNs.toString(), source, ...(clock ? { clock } : {}) }) + '\n');
  let lines: string[] = [];
  for (let row = 0; row < r.store.length; row++) {
    lines.push(eventLine(r.store.get(row)));
    if (lines.length === 10_000) {
      if (!stream.write(lines.join('\n') + '\n')) await once(stream, 'drain');
      lines = [];
    }
  }
  if (lines.length > 0) stream.write(lines.join('\n') + '\n');
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
  usage: '  import   FILE… [-o OUT.ndjson] [--format auto|ftrace|fuse-log|ndjson] [--align-starts]',
  options: { out: { type: 'string', short: 'o' }, format: { type: 'string' }, 'align-starts': { type: 'boolean' } },
  positionals: true,
  run: cmdImport,
};
