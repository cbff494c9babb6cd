// Starts the real `fusescope serve` (the CLI, as a user runs it) on a free port for a browser test.
import { spawn, type ChildProcess } from 'node:child_process';

export interface Served {
  url: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

export async function serve(args: string[] = []): Promise<Served> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'server/cli.ts', 'serve', '--port', '0', ...args], {
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
    proc.once('exit', (code) => fail(new Error(`fusescope serve exited with ${code}:\n${output}`)));
  });
  return {
    url,
    proc,
    stop: () =>
      new Promise((ok) => {
        if (proc.exitCode !== null) return ok();
        proc.once('exit', () => ok());
        proc.kill('SIGTERM');
      }),
  };
}
