// The `fusescope` command line: finds the subcommand in server/commands/ (one module each: its
// options, usage and run), parses its arguments with node:util parseArgs and runs it. Parsing is
// strict: an unknown option, a missing value or a non-number where a number belongs is a usage
// error (the command's usage on stderr, exit 2), never silently ignored.
//
// Exit codes: 0 ok, 2 usage error or unusable input, 1 any other failure; import, summary, record
// and export also use 1 for "done, but the input had errors" (see their modules).

import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, commandNamed } from './commands/index.ts';
import { UsageError, toNumber, type Command, type Flags } from './commands/command.ts';

const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;

export const USAGE = `usage: fusescope <command> [options]
${COMMANDS.map((c) => c.usage).join('\n')}

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`).join('\n')}
fusescope CMD --help (or fusescope help CMD) prints one command's usage.
`;

/** One command's usage, for `CMD --help` and its usage errors. */
export function usageOf(cmd: Command): string {
  return `usage: fusescope ${cmd.name} [options]\n${cmd.usage}\n`;
}

/**
 * One command's arguments through parseArgs (strict); `numbers` become numbers. Parse errors become
 * UsageErrors in our words (unknown option --x, --x needs a value, …).
 */
export function parseCommandArgs(cmd: Command, argv: string[]): { flags: Flags; rest: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: cmd.options, allowPositionals: cmd.positionals, strict: true });
  } catch (err) {
    if (!String((err as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS_')) throw err;
    throw new UsageError(whyRefused(cmd, argv) ?? (err as Error).message);
  }
  const flags: Flags = {};
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string' && cmd.numbers?.includes(name)) flags[name] = toNumber(name, value);
    else if (typeof value === 'string' || typeof value === 'boolean') flags[name] = value;
    else if (Array.isArray(value)) flags[name] = value.join(','); // a repeatable option (`multiple`): its values, comma-joined
  }
  return { flags, rest: parsed.positionals };
}

/** The first argument strict parsing refused, found by reading the arguments again as tokens. */
function whyRefused(cmd: Command, argv: string[]): string | null {
  const { tokens } = parseArgs({ args: argv, options: cmd.options, allowPositionals: true, strict: false, tokens: true });
  for (const t of tokens) {
    if (t.kind === 'positional' && !cmd.positionals) return `takes no positional arguments (got ${t.value})`;
    if (t.kind !== 'option') continue;
    const type = Object.hasOwn(cmd.options, t.name) ? cmd.options[t.name]!.type : undefined;
    if (type === undefined) return `unknown option ${t.rawName}`;
    if (type === 'boolean' && t.value !== undefined) return `${t.rawName} takes no value`;
    if (type === 'string' && t.value === undefined) return `${t.rawName} needs a value`;
    // parseArgs takes `--seed -1` for a forgotten value; the value itself goes as --seed=-1.
    if (type === 'string' && !t.inlineValue && t.value?.startsWith('-')) {
      return `${t.rawName} needs a value (one starting with '-' is written --${t.name}=${t.value})`;
    }
  }
  return null;
}

/** "import needs a FILE" reads as "fusescope import: needs a FILE" after the command's prefix. */
const withoutName = (cmd: Command, message: string): string =>
  (message.startsWith(`${cmd.name} `) ? message.slice(cmd.name.length + 1) : message);

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  // `fusescope CMD --help` / `-h` and `fusescope help CMD`: that command's usage, exit 0.
  const helpFor = commandNamed(name === 'help' ? rest[0] : rest.includes('--help') || rest.includes('-h') ? name : undefined);
  if (helpFor) {
    process.stdout.write(usageOf(helpFor));
    return 0;
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const cmd = commandNamed(name);
  if (!cmd) {
    process.stderr.write(`fusescope: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    const { flags, rest: positionals } = parseCommandArgs(cmd, rest);
    return await cmd.run(flags, positionals);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`fusescope ${cmd.name}: ${withoutName(cmd, err.message)}\n${usageOf(cmd)}`);
      return 2;
    }
    process.stderr.write(`fusescope: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2));
  // serve keeps running (its server holds the event loop); others exit with their code.
  if (process.argv[2] !== 'serve' || code !== 0) process.exitCode = code;
}
