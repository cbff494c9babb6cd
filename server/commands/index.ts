// The table of subcommands, in the order `fusescope help` lists them. A new command: a module here
// exporting a Command (command.ts) and one entry below.
import type { Command } from './command.ts';
import { serveCommand } from './serve.ts';
import { simCommand } from './sim.ts';
import { summaryCommand } from './summary.ts';
import { importCommand } from './import.ts';
import { recordCommand } from './record.ts';
import { exportCommand } from './export.ts';
import { diffCommand } from './diff.ts';
import { checkCommand } from './check.ts';
import { mountCommand } from './mount.ts';
import { captureCommand } from './capture.ts';

export const COMMANDS: readonly Command[] = [serveCommand, simCommand, summaryCommand, importCommand, recordCommand, exportCommand, diffCommand, checkCommand, captureCommand, mountCommand];

export function commandNamed(name: string | undefined): Command | undefined {
  return COMMANDS.find((c) => c.name === name);
}
