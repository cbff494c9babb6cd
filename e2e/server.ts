// Starts the real `fusescope serve` (or another serving command, e.g. `capture --tracefs`: the CLI,
// as a user runs it) on a free port for a browser test.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Served {
  url: string;
  proc: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(): Promise<void>;
}

export function serve(args: string[] = []): Promise<Served> {
  return startCommand('serve', args);
}

/** `fusescope COMMAND --port 0 ARGS…` until it prints its URL; stop() sends SIGTERM and waits for the exit. */
export async function startCommand(command: string, args: string[] = []): Promise<Served> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', command, '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TZ: 'UTC' },
  });
  let output = '';
  const url = await new Promise<string>((ok, fail) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const m = /open (http:\/\/\S+)/.exec(output);
      if (m) ok(m[1]!);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    proc.once('exit', (code) => fail(new Error(`fusescope ${command} exited with ${code}:\n${output}`)));
  });
  return {
    url,
    proc,
    output: () => output,
    stop: () =>
      new Promise((ok) => {
        if (proc.exitCode !== null) return ok();
        proc.once('exit', () => ok());
        proc.kill('SIGTERM');
      }),
  };
}
