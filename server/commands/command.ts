// What every subcommand module exports, and the helpers they share. cli.ts parses a command's
// arguments with node:util parseArgs from its `options`, converts its `numbers`, and calls `run`.
import type { ParseArgsConfig } from 'node:util';

/** A wrong invocation: cli.ts prints it with the command's usage and exits 2. */
export class UsageError extends Error {}

/** Parsed option values: strings, booleans, and numbers for the options a command lists in `numbers`. */
export type Flags = Record<string, string | number | boolean>;

export interface Command {
  name: string;
  /** One line: what the command does (the command list of `fusescope help`). */
  summary: string;
  /** Its lines of the usage text, each command line starting `  NAME ` (printed by `NAME --help`). */
  usage: string;
  /** node:util parseArgs options: `type` string or boolean, `short` for a one-letter alias. */
  options: NonNullable<ParseArgsConfig['options']>;
  /** String options whose values must be numbers (parseArgs gives strings); converted before `run`. */
  numbers?: readonly string[];
  /** Whether FILE… style arguments are accepted; false makes any positional a usage error. */
  positionals: boolean;
  /** Exit code: 0 ok; commands document their 1 and 2. A usage problem throws UsageError. */
  run(flags: Flags, rest: string[]): Promise<number>;
}

/** `name`'s value as a number; blank or non-numeric is a usage error naming the flag. */
export function toNumber(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name}: '${raw}' is not a number`);
  return n;
}

export const log = (line: string): void => { process.stderr.write(`fusescope: ${line}\n`); };
