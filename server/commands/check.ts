// `fusescope check FILE…`: the protocol checkers (src/trace/checks) over anything `import` reads,
// for a fuse server's CI. Exit 1 when a finding reaches --fail-on (default error), 0 otherwise,
// 2 when the input is unusable or the invocation is wrong.
import { existsSync } from 'node:fs';
import { IMPORT_FORMATS } from '../../src/trace/import/index.ts';
import { DEFAULT_SETTINGS, RULE_IDS, SEVERITIES, atLeast, isRuleId, runChecks, type Finding, type FindingSeverity, type RuleId } from '../../src/trace/checks/index.ts';
import { reportDiags } from '../sources/files.ts';
import { UsageError, log, type Command, type Flags } from './command.ts';
import { loadFiles, parseFormat } from './load.ts';
import { readStoredFindings, splitRecordings } from './recording-files.ts';

function parseRules(v: unknown): RuleId[] | undefined {
  if (v === undefined) return undefined;
  const ids = String(v).split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const id of ids) if (!isRuleId(id)) throw new UsageError(`--rule: unknown rule '${id}' (rules: ${RULE_IDS.join(', ')})`);
  return ids as RuleId[];
}

function parseLevel(v: unknown): FindingSeverity {
  const s = (v as string | undefined) ?? 'error';
  if (!(SEVERITIES as readonly string[]).includes(s)) throw new UsageError(`--fail-on must be ${SEVERITIES.join(', ')}; not '${s}'`);
  return s as FindingSeverity;
}

/** `12.345678 ms` on the trace's axis. */
const at = (ns: number): string => `${(ns / 1e6).toFixed(6)} ms`;

function human(findings: readonly Finding[]): string {
  const lines: string[] = [];
  for (const sev of [...SEVERITIES].reverse()) {
    const of = findings.filter((f) => f.severity === sev);
    if (of.length === 0) continue;
    lines.push(`${sev}: ${of.length}`);
    for (const f of of) {
      lines.push(`  [${f.rule}] at ${at(f.tsNs)}${f.durNs > 0 ? ` for ${at(f.durNs)}` : ''}, rows ${f.evidence.join(', ')}`);
      lines.push(`    ${f.explanation}`);
    }
  }
  if (lines.length === 0) lines.push('no findings');
  return lines.join('\n') + '\n';
}

/**
 * The recording's stored findings against the ones just recomputed over the same rows (the rules
 * both ran, when the writer ran the default settings `check` uses): a difference is a fusescope bug,
 * said on stderr. Null when they agree or cannot be compared.
 */
async function compareStored(file: string, rows: number, findings: readonly Finding[], rules: readonly RuleId[] | undefined): Promise<string | null> {
  const stored = await readStoredFindings(file);
  if (stored.status !== 'stored' || stored.stored.rows !== rows) return null;
  const s = stored.stored;
  const defaults = Object.fromEntries(Object.entries(DEFAULT_SETTINGS).map(([k, v]) => [k, { ...v }]));
  if (JSON.stringify(s.settings) !== JSON.stringify(defaults)) return null;
  const both = (rules ?? RULE_IDS).filter((id) => s.rules.includes(id));
  const norm = (fs: readonly Finding[]): string[] => fs.filter((f) => both.includes(f.rule)).map((f) => JSON.stringify(f));
  const a = norm(s.findings);
  const b = norm(findings);
  if (a.length === b.length && a.every((line, i) => line === b[i])) return null;
  const i = a.findIndex((line, k) => line !== b[k]);
  const at = i < 0 ? Math.min(a.length, b.length) : i;
  return `${file}: the findings stored in the recording differ from the ones recomputed over the same ${rows} rows ` +
    `(rules ${both.join(', ')}): stored ${a.length}, recomputed ${b.length}; first difference at finding ${at}: ` +
    `stored ${a[at] ?? 'none'}, recomputed ${b[at] ?? 'none'}. This is a fusescope bug; the recomputed findings are printed`;
}

async function cmdCheck(flags: Flags, rest: string[]): Promise<number> {
  if (rest.length === 0) throw new UsageError('check needs at least one FILE');
  for (const f of rest) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  const rules = parseRules(flags.rule);
  const level = parseLevel(flags['fail-on']);
  const format = parseFormat(flags.format);
  const r = await loadFiles(rest, format, flags['align-starts'] === true);
  reportDiags(r);
  if (r.unusable.length === rest.length || r.store.length === 0) {
    log(`${rest.join(', ')}: nothing usable to check`);
    return 2;
  }
  const { findings, unknowns } = runChecks(r.store, { rules });
  if (rest.length === 1 && (await splitRecordings(rest)).recordings.length === 1) {
    const note = await compareStored(rest[0]!, r.store.length, findings, rules);
    if (note) log(note);
  }
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ findings }, null, 2) + '\n');
  } else {
    process.stdout.write(human(findings));
  }
  for (const u of unknowns) log(`${u.rule}: ${u.count} ${u.what}`);
  return atLeast(findings, level).length > 0 ? 1 : 0;
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'run the protocol checkers (alias-race, mapping-invalid, unpaired, unwritten-cost, uncached, stale-mapping) over any trace; exit 1 when findings reach --fail-on',
  usage: `  check    FILE… [--json] [--fail-on info|warning|error] [--rule ID…] [--format auto|${IMPORT_FORMATS.join('|')}] [--align-starts]\n` +
    `           rules: ${RULE_IDS.join(', ')} (--rule may repeat or take a comma list)`,
  options: {
    json: { type: 'boolean' }, 'fail-on': { type: 'string' }, rule: { type: 'string', multiple: true },
    format: { type: 'string' }, 'align-starts': { type: 'boolean' },
  },
  positionals: true,
  run: cmdCheck,
};
