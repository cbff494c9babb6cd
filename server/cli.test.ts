import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingEncoder } from '../src/trace/recording/encoder.ts';
import { TraceStore } from '../src/trace/store.ts';
import { DEFAULT_SETTINGS, RULE_IDS } from '../src/trace/checks/index.ts';
import { makeSimulation } from './sources/sim.ts';

// Runs the real CLI as a user would (node + tsx), on real files.
function fusescope(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('fusescope CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-cli-'));

  it('each command answers --help / -h / help CMD with its own usage, exit 0', () => {
    const imp = fusescope('import', '--help');
    expect(imp.status).toBe(0);
    expect(imp.stdout).toBe('usage: fusescope import [options]\n  import   FILE… [-o OUT.ndjson] [--format auto|trace-dat|perf-lock|perf-script|ftrace|fuse-log|chrome-json|ndjson] [--align-starts] [--explain]\n');
    const rec = fusescope('record', '-h');
    expect(rec.status).toBe(0);
    expect(rec.stdout.split('\n').filter((l) => l.startsWith('  record'))).toHaveLength(3);
    expect(rec.stdout).not.toContain('  import ');
    expect(fusescope('help', 'serve').stdout).toContain('--record-dir DIR');
  });

  it('sim writes NDJSON and summary reports the default scenario\'s alias group', () => {
    const out = join(dir, 'default.ndjson');
    const sim = fusescope('sim', '--seed', '7', '--events', '20000', '--out', out);
    expect(sim.status, sim.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toContain('"format":"fusescope-ndjson"');
    const sum = fusescope('summary', out);
    expect(sum.status, sum.stderr).toBe(0);
    const summary = JSON.parse(sum.stdout);
    expect(summary.events.total).toBe(20000);
    expect(summary.aliasGroups).toHaveLength(1);
    const group = summary.aliasGroups[0];
    expect(group.nodeids).toHaveLength(2);
    expect(group.paths).toEqual(expect.arrayContaining(['/d1/file', '/d2/link']));
    expect(summary.requests.byOpcode.FUSE_IOMAP_BEGIN).toBeGreaterThan(0);
    expect(summary.locks.length).toBeGreaterThan(0);
  });

  it('sim --format ftrace: summary of the text equals summary of sim --format ndjson on the round-trip figures', () => {
    // `sim --events` runs on to a clean cut (server/sim/clean-cut.ts: no lookup or ioend cut in
    // half); random-dio has no writeback (whose step ends the kernel does not trace).
    const args = ['sim', '--scenario', 'random-dio', '--seed', '3', '--events', '2000'];
    const nd = join(dir, 'rd.ndjson');
    const ft = join(dir, 'rd.ftrace.txt');
    expect(fusescope(...args, '--out', nd).status).toBe(0);
    const simFt = fusescope(...args, '--format', 'ftrace', '--out', ft);
    expect(simFt.status, simFt.stderr).toBe(0);
    expect(readFileSync(ft, 'utf8')).toMatch(/fuse_iomap_begin: +connection 45 ino \d+ nodeid \d+ isize 0x/);
    const a = fusescope('summary', nd);
    const b = fusescope('summary', ft);
    expect(b.status, b.stderr).toBe(0);
    const pick = (s: { requests: unknown; cache: unknown; iomap: unknown; accounting: { lockWaits: number; lockWaitTotalNs: number } }) =>
      ({ requests: s.requests, cache: s.cache, iomap: s.iomap, waits: s.accounting.lockWaits, waitNs: s.accounting.lockWaitTotalNs });
    const fromNd = pick(JSON.parse(a.stdout));
    expect(pick(JSON.parse(b.stdout))).toEqual(fromNd);
    expect(fromNd.waits).toBeGreaterThan(0);
    expect(fusescope('sim', '--format', 'json', '--out', ft).status).toBe(2);
  });

  it('under the ino policy the same scenario has no alias group', () => {
    const out = join(dir, 'ino.ndjson');
    expect(fusescope('sim', '--seed', '7', '--events', '5000', '--policy', 'ino', '--out', out).status).toBe(0);
    expect(JSON.parse(fusescope('summary', out).stdout).aliasGroups).toEqual([]);
  });

  it('summary names file:line of bad input, keeps the good lines and exits 1', () => {
    const bad = join(dir, 'bad.ndjson');
    const good = join(dir, 'good.ndjson');
    expect(fusescope('sim', '--events', '100', '--out', good).status).toBe(0);
    const lines = readFileSync(good, 'utf8').trimEnd().split('\n');
    lines.splice(5, 0, '{"kind":"fuse_send"');
    writeFileSync(bad, lines.join('\n') + '\n');
    const sum = fusescope('summary', bad);
    expect(sum.status).toBe(1);
    const summary = JSON.parse(sum.stdout);
    expect(summary.events.total).toBe(100);
    expect(summary.diagnostics.count).toBe(1);
    expect(summary.diagnostics.first[0]).toMatch(/bad\.ndjson:6: malformed JSON/);
  });

  it('runs a user scenario file, and names the bad field of a broken one', () => {
    const file = join(dir, 'mine.json');
    writeFileSync(file, JSON.stringify({
      name: 'mine', description: 'two writers through hardlinks',
      files: [{ path: '/a/f', sizeBytes: 1048576, prealloc: 'none', links: ['/b/g'] }],
      threads: [
        { name: 'w1', path: '/a/f', ops: [{ kind: 'write', direct: true, pattern: 'random', lenBytes: 8192, weight: 1 }] },
        { name: 'w2', path: '/b/g', ops: [{ kind: 'write', direct: false, pattern: 'random', lenBytes: 8192, weight: 1 }] },
      ],
      policy: 'per-path',
    }));
    const out = join(dir, 'mine.ndjson');
    const sim = fusescope('sim', '--scenario', file, '--events', '3000', '--out', out);
    expect(sim.status, sim.stderr).toBe(0);
    const summary = JSON.parse(fusescope('summary', out).stdout);
    expect(summary.aliasGroups[0].paths).toEqual(['/a/f', '/b/g']);
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, JSON.stringify({ name: 'b', files: [], threads: [{ name: 't', path: '/x', ops: [{ kind: 'write', direct: true, lenBytes: 1000 }] }] }));
    const bad = fusescope('sim', '--scenario', broken, '--out', join(dir, 'b.ndjson'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/scenario\./);
  });

  it('rejects unknown options and commands with usage and exit code 2', () => {
    expect(fusescope('sim', '--bogus').status).toBe(2);
    const r = fusescope('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
  });
});

describe('fusescope import / summary on real traces', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-import-'));
  const trace = 'fixtures/real/fuse2fs-hardlink/trace.txt';
  const log = 'fixtures/real/fuse2fs-hardlink/fuse2fs-d.log';

  it('summary auto-detects ftrace + fuse log: alias group, attributed locks, exit 0', () => {
    const r = fusescope('summary', trace, log);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    // The capture has no st_ino evidence: one group (the LINK), its inode number unknown (null).
    expect(s.aliasGroups).toEqual([{ ino: null, inoEvidence: [], nodeids: [4, 5], paths: ['/d1/file', '/d2/link'] }]);
    expect(s.locks.map((l: { nodeid: number }) => l.nodeid).sort()).toEqual([4, 5]);
    expect(s.locks.every((l: { ino: number | null }) => l.ino === null)).toBe(true);
    expect(s.lockAttribution).toHaveLength(2);
    expect(s.joins[0].matched).toBe(136);
  });

  it('import -o writes NDJSON that summary reads back to the same alias group', () => {
    const out = join(dir, 'joined.ndjson');
    const r = fusescope('import', trace, log, '-o', out);
    expect(r.status, r.stderr).toBe(0);
    const s = JSON.parse(fusescope('summary', out).stdout);
    expect(s.aliasGroups[0].nodeids).toEqual([4, 5]);
  });

  it('exit 1 with file:line:col on stderr for bad lines (still imported); exit 2 when unusable', () => {
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, readFileSync(trace, 'utf8').replace(/\n(\s+dd-\d+ .*sys_write\(fd: 1.*)\n/, '\n$1\n%%% garbage %%%\n'));
    const r = fusescope('import', bad, '-o', join(dir, 'bad.ndjson'));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.txt:\d+:1: not an ftrace event line/);
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from([0, 1, 2, 255, 10, 7]));
    expect(fusescope('import', junk).status).toBe(2);
    expect(fusescope('import', trace, '--format', 'xml').status).toBe(2);
  });

  it('import --explain: per file the format, the line that decided it, and why each other format was not chosen; --format is said to force it', () => {
    const pasted = 'fixtures/paste/untimed.txt';
    const log = join(dir, 'd.log');
    writeFileSync(log, '# a libfuse -d log\nFUSE library version: 2.9.9\nunique: 2, opcode: LOOKUP (1), nodeid: 1, insize: 46, pid: 7\n');
    const junk = join(dir, 'prose.txt');
    writeFileSync(junk, 'Hello,\nplease look at this.\n');
    const r = fusescope('import', '--explain', pasted, log, junk);
    expect(r.status).toBe(1); // prose.txt is unusable, the others imported; the pasted file has diagnostics
    expect(r.stdout.split('\n')).toEqual([
      `${pasted}: ftrace`,
      '  evidence: line 8 (byte 637): a `fuse_iomap_begin:` line without the `comm-pid [cpu] time:` prefix (pasted: its time and task are unknown)',
      `    ${JSON.stringify(`${'fuse_iomap_begin:     connection 45 ino 12 nodeid 12 isize 0x0 idisksize 0x0 opflags (write) pos 0x0 length 0x100000'.slice(0, 97)}…`)}`,
      expect.stringMatching(/^ {2}not trace-dat: no line matched/),
      expect.stringMatching(/^ {2}not perf-lock: no line matched: looks for a `perf lock contention` table header/),
      expect.stringMatching(/^ {2}not perf-script: no line matched/),
      expect.stringMatching(/^ {2}not fuse-log: no line matched: looks for `unique: N, opcode: …`/),
      expect.stringMatching(/^ {2}not chrome-json: no line matched/),
      expect.stringMatching(/^ {2}not ndjson: no line matched/),
      `${log}: fuse-log`,
      "  evidence: line 2 (byte 19): libfuse's `FUSE library version` banner",
      '    "FUSE library version: 2.9.9"',
      expect.stringMatching(/^ {2}not trace-dat: no line matched/),
      expect.stringMatching(/^ {2}not perf-lock: no line matched/),
      expect.stringMatching(/^ {2}not perf-script: no line matched/),
      expect.stringMatching(/^ {2}not ftrace: no line matched/),
      expect.stringMatching(/^ {2}not chrome-json: no line matched/),
      expect.stringMatching(/^ {2}not ndjson: no line matched/),
      `${junk}: no format recognised (looked at 2 lines, 28 bytes)`,
      expect.stringMatching(/^ {2}not trace-dat: no line matched/),
      expect.stringMatching(/^ {2}not perf-lock: no line matched/),
      expect.stringMatching(/^ {2}not perf-script: no line matched/),
      expect.stringMatching(/^ {2}not ftrace: no line matched/),
      expect.stringMatching(/^ {2}not fuse-log: no line matched/),
      expect.stringMatching(/^ {2}not chrome-json: no line matched/),
      expect.stringMatching(/^ {2}not ndjson: no line matched/),
      '',
    ]);
    expect(r.stderr).toContain(`${pasted}:0: 5 of 5 events come from lines without`);
    // summary says plainly which events have no real time (5 pasted lines, counted by hand).
    const sum = fusescope('summary', pasted);
    expect(JSON.parse(sum.stdout).timesUnknown.files).toEqual([{ file: pasted, events: 5, untimedEvents: 5 }]);
    // A log joined with its kernel trace is named too: fuse2fs-hardlink's 8 inode events of the setup
    // before tracing and 3 libfuse lines have no time (src/trace/untimed-log.test.ts counts them).
    const real = ['fixtures/real/fuse2fs-hardlink/trace.txt', 'fixtures/real/fuse2fs-hardlink/fuse2fs-d.log'];
    expect(JSON.parse(fusescope('summary', ...real).stdout).timesUnknown.files).toEqual([{ file: real[1], events: 11, untimedEvents: 11 }]);
    // …and prints no figure computed from their synthetic times: the two iomap steps have no total.
    expect(JSON.parse(sum.stdout).iomap).toMatchObject({ steps: 2, stepsUntimed: 2, stepNsTotal: null });
    expect(JSON.parse(sum.stdout).accounting).toMatchObject({ durationNs: null, throughputBytesPerSec: null });
    // check: the untimed lock wait of the mixed paste is not judged and says why (JSON and stderr).
    const mixed = 'fixtures/paste/mixed-untimed.txt';
    const chk = fusescope('check', '--json', mixed);
    expect(chk.status).toBe(0);
    expect(JSON.parse(chk.stdout).findings).toEqual([]);
    expect(chk.stderr).toMatch(/^fusescope: lock: 1 lock wait from pasted lines without times: only their order is known: how long it lasted is unknown/m);
    expect(chk.stderr).toMatch(/^fusescope: unpaired: 1 request answered, with the request or its reply from pasted lines without times/m);
    const forced = fusescope('import', '--explain', '--format', 'ftrace', log);
    expect(forced.stdout.split('\n').slice(0, 2)).toEqual([
      `${log}: ftrace (forced by --format)`,
      "  not fuse-log: detection would have chosen it (line 2: libfuse's `FUSE library version` banner); --format overrides",
    ]);
  });
});

// Two excerpts of one capture, and files on two clocks (docs/import.md "One clock"). Times are
// worked out from the stamps in the text: the fixture's first event is at 1831.993578 s.
describe('fusescope import: one clock across files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-clock-'));
  const lines = readFileSync('fixtures/real/fuse2fs-hardlink/trace.txt', 'utf8').split('\n');
  // Line 558 (1-based) is `fuse_request_end: connection 38 req 376` at 1832.019593: the second part starts there.
  const first = join(dir, 'first.txt');
  const second = join(dir, 'second.txt');
  writeFileSync(first, lines.slice(0, 557).join('\n') + '\n');
  writeFileSync(second, lines.slice(557).join('\n'));
  const rows = (ndjson: string): Array<Record<string, unknown>> => ndjson.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('excerpts given in reverse order land on the whole file\'s axis, in time order, exit 0', () => {
    const out = join(dir, 'halves.ndjson');
    const r = fusescope('import', second, first, '-o', out);
    expect(r.status, r.stderr).toBe(0);
    const [header, ...events] = rows(readFileSync(out, 'utf8'));
    expect(header).toMatchObject({ originNs: '1831993578000', clock: 'ftrace-ns' });
    const reply = (unique: number) => events.find((e) => e.kind === 'fuse_reply' && e.unique === unique)?.tsNs;
    expect(reply(376)).toBe(26_015_000); // 1832.019593 - 1831.993578 s, from the second file
    expect(reply(378)).toBe(26_074_000); // 1832.019652 - 1831.993578 s: req 378's end, also in the second file
    expect(events.find((e) => e.kind === 'fuse_send' && e.unique === 378)?.tsNs).toBe(25_808_000); // 1832.019386, first file
    expect(events.at(-1)).toMatchObject({ kind: 'fuse_reply', unique: 558, tsNs: 49_710_000 }); // 1832.043288
    const ts = events.map((e) => e.tsNs as number);
    expect(ts.every((t, i) => i === 0 || t >= ts[i - 1]!)).toBe(true);
  });

  it('a counter-clock file is said to be on another clock and kept at its stamps; --align-starts moves it and says by how much', () => {
    const secs = join(dir, 'secs.txt');
    const counter = join(dir, 'counter.txt');
    writeFileSync(secs, '  dd-1 [000] ..... 5000.000100: tracing_mark_write: s1\n  dd-1 [000] ..... 5000.000300: tracing_mark_write: s2\n');
    writeFileSync(counter, '  dd-2 [001] ..... 123456789: tracing_mark_write: c1\n  dd-2 [001] ..... 123457789: tracing_mark_write: c2\n');
    const asIs = fusescope('import', secs, counter, '-o', join(dir, 'as-is.ndjson'));
    expect(asIs.status).toBe(1);
    expect(asIs.stderr).toContain(`${counter}:0: on a counter clock (raw integer stamps), not the kernel's ns trace clock (secs.usecs stamps) as ${secs} is`);
    const t = (file: string): string[] => rows(readFileSync(file, 'utf8')).slice(1).map((e) => `${e.text}@${e.tsNs}`);
    // Not shifted: the counter's 123456789 (as ns) is the earliest stamp, so the origin; s1 at 5000000100000 - 123456789.
    expect(t(join(dir, 'as-is.ndjson'))).toEqual(['c1@0', 'c2@1000', 's1@4999876643211', 's2@4999876843211']);
    const aligned = fusescope('import', secs, counter, '--align-starts', '-o', join(dir, 'aligned.ndjson'));
    expect(aligned.status).toBe(1);
    expect(aligned.stderr).toContain(`${counter}:0: offset by +4999.876643211 s (4999876643211 ns) so that its first event is at ${secs}'s first event`);
    expect(t(join(dir, 'aligned.ndjson'))).toEqual(['s1@0', 'c1@0', 'c2@1000', 's2@200000']);
    // summary says where each file landed: c moved by 5000000100000 - 123456789 ns, its first event at 0 like s's.
    const sum = fusescope('summary', secs, counter, '--align-starts');
    expect(JSON.parse(sum.stdout).clocks).toEqual([
      { file: secs, format: 'ftrace', clock: 'ftrace-ns', sameClockAsFirst: true, originNs: '5000000100000', offsetNs: 0, aligned: false, shiftNs: '0' },
      { file: counter, format: 'ftrace', clock: 'ftrace-counter', sameClockAsFirst: false, originNs: '123456789', offsetNs: 0, aligned: true, shiftNs: '4999876643211' },
    ]);
  });
});

// `fusescope check` (docs/checks.md): findings by severity, --json, --fail-on, --rule, exit 1/0/2.
describe('fusescope check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-check-'));
  const race = join(dir, 'race.ndjson');
  const wrong = join(dir, 'wrong.ndjson');

  it('the default scenario: one alias-race error, exit 1; its JSON has the issue\'s keys (and the rule\'s figures)', () => {
    expect(fusescope('sim', '--scenario', 'hardlink-alias-race', '--seed', '1', '--events', '5000', '--out', race).status).toBe(0);
    const human = fusescope('check', race);
    expect(human.status, human.stderr).toBe(1);
    expect(human.stdout).toMatch(/^error: 1\n {2}\[alias-race\] at [\d.]+ ms for [\d.]+ ms, rows [\d, ]+\n {4}alias-race: ino 12 \(\/d1\/file and \/d2\/link\) is reached through nodeids 4 and 5\./);
    const json = fusescope('check', race, '--json');
    expect(json.status).toBe(1);
    const out = JSON.parse(json.stdout) as { findings: Array<Record<string, unknown>> };
    expect(Object.keys(out)).toEqual(['findings']);
    // One error, the race; beside it only unwritten-cost's info figures (its writes convert unwritten extents).
    const aboveInfo = out.findings.filter((f) => f.severity !== 'info');
    expect(aboveInfo).toHaveLength(1);
    expect(new Set(out.findings.filter((f) => f.severity === 'info').map((f) => f.rule))).toEqual(new Set(['unwritten-cost']));
    expect(Object.keys(aboveInfo[0]!)).toEqual(['rule', 'severity', 'explanation', 'tsNs', 'durNs', 'evidence', 'figures']);
    expect(aboveInfo[0]).toMatchObject({ rule: 'alias-race', severity: 'error' });
    // The summary carries the same findings.
    const sum = JSON.parse(fusescope('summary', race).stdout) as { findings: { count: number; byRule: Record<string, unknown> } };
    expect(sum.findings).toMatchObject({ count: out.findings.length, byRule: { 'alias-race': { error: 1 } } });
    expect(Object.keys(sum.findings.byRule).sort()).toEqual(['alias-race', 'unwritten-cost']);
  });

  it('--rule picks rules (repeated or a comma list); --fail-on sets the level; a clean capture exits 0', () => {
    expect(fusescope('sim', '--scenario', 'wrong-mappings', '--seed', '1', '--events', '2000', '--out', wrong).status).toBe(0);
    const only = fusescope('check', wrong, '--rule', 'alias-race', '--rule', 'unpaired');
    expect([only.status, only.stdout]).toEqual([0, 'no findings\n']);
    const invalid = fusescope('check', wrong, '--json', '--rule', 'mapping-invalid,unpaired');
    expect(invalid.status).toBe(1);
    const rules = (JSON.parse(invalid.stdout) as { findings: Array<{ rule: string }> }).findings.map((f) => f.rule);
    expect(rules.length).toBeGreaterThan(0);
    expect(new Set(rules)).toEqual(new Set(['mapping-invalid']));
    const ext4 = fusescope('check', 'fixtures/real/kernel-fs/ext4-dio.txt', '--fail-on', 'info');
    expect([ext4.status, ext4.stdout]).toEqual([0, 'no findings\n']);
  });

  it('a recording: summary gives the findings its writer stored, check recomputes and says when they differ', () => {
    const rec = join(dir, 'race.fscope');
    expect(fusescope('record', '--source', 'sim', '--scenario', 'hardlink-alias-race', '--seed', '1', '--events', '5000', '-o', rec).status).toBe(0);
    const check = fusescope('check', rec, '--json');
    expect(check.status).toBe(1);
    expect(check.stderr).not.toMatch(/differ/);
    const recomputed = (JSON.parse(check.stdout) as { findings: unknown[] }).findings;
    const sum = JSON.parse(fusescope('summary', rec).stdout) as { findings: { count: number; byRule: unknown; stored: unknown } };
    expect(sum.findings).toMatchObject({ count: recomputed.length, byRule: { 'alias-race': { error: 1 } }, stored: { rows: 5000, rules: RULE_IDS } });

    // A recording whose stored findings (none) cannot be right for its rows: written by hand with the encoder.
    const store = new TraceStore();
    makeSimulation('hardlink-alias-race', 1, new Map()).simulation.runEvents(5000, (ev) => store.append(ev));
    const enc = new RecordingEncoder({ meta: { tool: 'test' } });
    const lie = { rows: 5000, rules: [...RULE_IDS], settings: Object.fromEntries(Object.entries(DEFAULT_SETTINGS)), findings: [], unknowns: [] };
    const bytes = [enc.header(), enc.dataChunk(store, 0, store.length), enc.finish(lie)];
    const tampered = join(dir, 'tampered.fscope');
    writeFileSync(tampered, Buffer.concat(bytes));
    const bad = fusescope('check', tampered);
    expect(bad.status).toBe(1); // the recomputed alias-race error decides the exit code
    expect(bad.stderr).toMatch(/findings stored in the recording differ from the ones recomputed over the same 5000 rows .*stored 0, recomputed [1-9]\d*.*fusescope bug/);
    // summary trusts what is stored, and says so.
    expect(JSON.parse(fusescope('summary', tampered).stdout).findings).toMatchObject({ count: 0, stored: { rows: 5000 } });
    // The trailer cut off: the findings chunk written at close still counts.
    const cut = join(dir, 'cut.fscope');
    writeFileSync(cut, readFileSync(rec).subarray(0, readFileSync(rec).length - 1));
    expect(JSON.parse(fusescope('summary', cut).stdout).findings).toMatchObject({ count: recomputed.length, stored: { rows: 5000 } });
  });

  it('exit 2: an unusable file, an unknown rule, a bad --fail-on', () => {
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, Buffer.from([0, 1, 2, 255, 10, 7]));
    expect(fusescope('check', junk).status).toBe(2);
    const rule = fusescope('check', race, '--rule', 'nope');
    expect(rule.status).toBe(2);
    expect(rule.stderr).toContain("unknown rule 'nope'");
    expect(fusescope('check', race, '--fail-on', 'fatal').status).toBe(2);
  });
});
