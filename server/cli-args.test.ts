import { afterAll, describe, expect, it, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, parseCommandArgs } from './cli.ts';
import { COMMANDS, commandNamed } from './commands/index.ts';

// The argument layer in process (fast: usage errors stop before any command runs), with what a user
// sees: the exit code and what is written to stdout / stderr.
async function fusescope(...argv: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => { stdout += String(chunk); return true; });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => { stderr += String(chunk); return true; });
  try {
    const status = await main(argv);
    return { status, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const cmd = (name: string) => commandNamed(name)!;

// Per command: how many `  NAME ` lines its usage has and one flag it must mention (from the README table).
const HELP: Array<[string, number, string]> = [
  ['serve', 1, '[--instrument PATH|PORT]'],
  ['sim', 2, '--list'],
  ['summary', 1, '[--align-starts]'],
  ['import', 1, '[-o OUT.ndjson]'],
  ['record', 3, '[--duration-s N]'],
  ['export', 1, '--format chrome-json|perfetto|arrow -o OUT'],
  ['diff', 1, 'A B [--json]'],
  ['mount', 2, '--cleanup DIR'],
];

describe('fusescope CMD --help', () => {
  it.each(HELP)('%s answers --help, -h and help %s with its own usage only, exit 0', async (name, lines, flag) => {
    for (const argv of [[name, '--help'], [name, '-h'], ['help', name], [name, '--bogus', '--help']]) {
      const r = await fusescope(...argv);
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.stdout.startsWith(`usage: fusescope ${name} [options]\n`)).toBe(true);
      const commandLines = r.stdout.split('\n').filter((l) => /^ {2}[a-z]+ /.test(l));
      expect(commandLines).toHaveLength(lines);
      expect(commandLines.every((l) => l.startsWith(`  ${name} `))).toBe(true);
      expect(r.stdout).toContain(flag);
    }
  });

  it('every option a command accepts is named in its usage', () => {
    for (const c of COMMANDS) {
      for (const [option, config] of Object.entries(c.options)) {
        const named = c.usage.includes(`--${option}`) || (config.short !== undefined && c.usage.includes(`-${config.short} `));
        expect(named, `${c.name} --${option}`).toBe(true);
      }
    }
  });

  it('every numeric option is a string option of its command', () => {
    for (const c of COMMANDS) for (const n of c.numbers ?? []) expect(c.options[n]?.type, `${c.name} --${n}`).toBe('string');
  });

  it('help with no command lists every command with its summary, exit 0; no arguments at all: exit 2', async () => {
    const r = await fusescope('help');
    expect(r.status).toBe(0);
    const list = r.stdout.split('commands:\n')[1]!;
    for (const name of ['serve', 'sim', 'summary', 'import', 'record', 'export', 'diff']) {
      expect(list).toMatch(new RegExp(`^ {2}${name} +\\S`, 'm'));
    }
    expect((await fusescope()).status).toBe(2);
  });
});

describe('fusescope usage errors: the command\'s usage on stderr, exit 2, nothing run', () => {
  it.each(HELP.map(([name]) => name))('%s --bogus is an unknown option', async (name) => {
    const r = await fusescope(name, ...(cmd(name).positionals ? ['some-file'] : []), '--bogus');
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.startsWith(`fusescope ${name}: unknown option --bogus\nusage: fusescope ${name} [options]\n`)).toBe(true);
  });

  it('a short option nobody declared is unknown too (sim has no -o)', async () => {
    const r = await fusescope('sim', '-o', 'x.ndjson');
    expect([r.status, r.stderr.split('\n')[0]]).toEqual([2, 'fusescope sim: unknown option -o']);
  });

  it('a non-number for a numeric option names the flag and the value', async () => {
    const cases: Array<[string[], string]> = [
      [['sim', '--events', '12x', '--out', 'x.ndjson'], "fusescope sim: --events: '12x' is not a number"],
      [['serve', '--port', 'http'], "fusescope serve: --port: 'http' is not a number"],
      [['record', '--seed', 'seven', '-o', 'x.fscope'], "fusescope record: --seed: 'seven' is not a number"],
      [['record', '--source', 'instrument', '0', '--duration-s=', '-o', 'x.fscope'], "fusescope record: --duration-s: '' is not a number"],
    ];
    for (const [argv, line] of cases) {
      const r = await fusescope(...argv);
      expect([r.status, r.stderr.split('\n')[0]]).toEqual([2, line]);
    }
  });

  it('a missing value, a value on a switch, a positional where none belongs', async () => {
    const first = async (...argv: string[]) => { const r = await fusescope(...argv); return [r.status, r.stderr.split('\n')[0]]; };
    expect(await first('import', 'f.txt', '-o')).toEqual([2, 'fusescope import: -o needs a value']);
    expect(await first('export', 'f.txt', '--format')).toEqual([2, 'fusescope export: --format needs a value']);
    expect(await first('diff', 'a', 'b', '--json=yes')).toEqual([2, 'fusescope diff: --json takes no value']);
    expect(await first('serve', '8080')).toEqual([2, 'fusescope serve: takes no positional arguments (got 8080)']);
    expect(await first('sim', '--seed', '-3', '--out', 'x')).toEqual([2, "fusescope sim: --seed needs a value (one starting with '-' is written --seed=-3)"]);
    // A command's own checks read the same way: "import needs…" after the command's prefix.
    expect(await first('import')).toEqual([2, 'fusescope import: needs at least one FILE']);
  });

  it('an unknown command: the full usage, exit 2', async () => {
    const r = await fusescope('frobnicate', '--help');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("fusescope: unknown command 'frobnicate'\nusage: fusescope <command> [options]\n");
  });
});

describe('parseCommandArgs', () => {
  it('numbers become numbers (negative ones as --seed=-1), strings and switches stay, FILEs in order', () => {
    expect(parseCommandArgs(cmd('record'), ['a.txt', '--seed=-1', '--events', '2e3', '--source', 'files', 'b.txt', '--align-starts', '-o', 'r.fscope']))
      .toEqual({ flags: { seed: -1, events: 2000, source: 'files', 'align-starts': true, out: 'r.fscope' }, rest: ['a.txt', 'b.txt'] });
    // After `--` everything is a FILE, even what looks like an option.
    expect(parseCommandArgs(cmd('summary'), ['--', '--weird-name.txt'])).toEqual({ flags: {}, rest: ['--weird-name.txt'] });
    expect(parseCommandArgs(cmd('serve'), ['--no-record', '--port', '0'])).toEqual({ flags: { 'no-record': true, port: 0 }, rest: [] });
  });
});

describe('import -o is --out', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-args-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const log = 'fixtures/real/fuse2fs-hardlink/fuse2fs-d.log';

  it('-o OUT, -oOUT and --out=OUT write the same NDJSON; nothing on stdout', async () => {
    const outs = [join(dir, 'a.ndjson'), join(dir, 'b.ndjson'), join(dir, 'c.ndjson')];
    const runs = [
      await fusescope('import', log, '-o', outs[0]!),
      await fusescope('import', `-o${outs[1]!}`, log),
      await fusescope('import', log, `--out=${outs[2]!}`),
    ];
    for (const r of runs) expect([r.status, r.stdout]).toEqual([0, '']);
    const [a, b, c] = outs.map((f) => readFileSync(f, 'utf8'));
    expect(JSON.parse(a!.split('\n')[0]!)).toMatchObject({ format: 'fusescope-ndjson', source: `import:fuse-log:${log}` });
    expect(a!.split('\n').length).toBeGreaterThan(10);
    expect([b, c]).toEqual([a, a]);
  });
});

describe('bin/fusescope.mjs', () => {
  it('runs the same CLI: import --help, exit 0', () => {
    const r = spawnSync(process.execPath, ['bin/fusescope.mjs', 'import', '--help'], { encoding: 'utf8', timeout: 60_000 });
    expect([r.status, r.stdout]).toEqual([0, 'usage: fusescope import [options]\n  import   FILE… [-o OUT.ndjson] [--format auto|trace-dat|perf-lock|perf-script|ftrace|fuse-log|chrome-json|ndjson] [--align-starts] [--explain]\n']);
  });
});
