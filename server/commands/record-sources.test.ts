// `record --source files|instrument` and streaming Arrow export, through the real CLI process
// (and a real unix socket for the instrumentation source).
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { openRecordingFile } from '../recorder/file-source.ts';
import { loadRecordings } from './recording-files.ts';
import { exportRecordingArrow, runExport } from './export.ts';
import type { Diag } from '../../src/trace/schema.ts';

const CLI = ['--import', 'tsx', 'server/cli.ts'];
function fusescope(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [...CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const TRACE = 'fixtures/real/fuse2fs-hardlink/trace.txt';
const LOG = 'fixtures/real/fuse2fs-hardlink/fuse2fs-d.log';
const dir = mkdtempSync(join(tmpdir(), 'fusescope-recsrc-'));

async function readRecording(path: string): Promise<{ indexed: boolean; damage: unknown; kinds: string[]; diags: Diag[] }> {
  const { reader, close } = await openRecordingFile(path);
  try {
    const store = await reader.readAll();
    const kinds: string[] = [];
    const diags: Diag[] = [];
    for (let row = 0; row < store.length; row++) {
      const ev = store.get(row);
      kinds.push(ev.kind);
      if (ev.kind === 'diag') diags.push(ev);
    }
    return { indexed: reader.indexed, damage: reader.damage, kinds, diags };
  } finally {
    await close();
  }
}

describe('record --source files', () => {
  it('a real ftrace + fuse2fs -d log: the recording summarises as the text files do (alias group, joins by unique)', () => {
    const out = join(dir, 'hardlink.fscope');
    const r = fusescope('record', '--source', 'files', TRACE, LOG, '-o', out);
    expect(r.status, r.stderr).toBe(0);
    const fromText = fusescope('summary', TRACE, LOG);
    const fromRec = fusescope('summary', out);
    expect(fromRec.status, fromRec.stderr).toBe(0);
    const t = JSON.parse(fromText.stdout);
    const s = JSON.parse(fromRec.stdout);
    expect(t.aliasGroups).toEqual([{ ino: null, inoEvidence: [], nodeids: [4, 5], paths: ['/d1/file', '/d2/link'] }]);
    expect(s.aliasGroups).toEqual(t.aliasGroups);
    // The log's replies joined into the trace (by unique) are in the recording: same requests, locks, accounting.
    for (const key of ['events', 'requests', 'locks', 'accounting']) expect(s[key], key).toEqual(t[key]);
    expect(t.joins[0].matched).toBeGreaterThan(0);
    expect(fusescope('record', '--source', 'files', TRACE, '-o', out).status).toBe(2); // never overwrites
  });

  it('--align-starts: a counter-clock file is recorded moved to the first file\'s start, the move recorded as a diag', async () => {
    const secs = join(dir, 'rec-secs.txt');
    const counter = join(dir, 'rec-counter.txt');
    writeFileSync(secs, '  dd-1 [000] ..... 5000.000100: tracing_mark_write: s1\n  dd-1 [000] ..... 5000.000300: tracing_mark_write: s2\n');
    writeFileSync(counter, '  dd-2 [001] ..... 123456789: tracing_mark_write: c1\n  dd-2 [001] ..... 123457789: tracing_mark_write: c2\n');
    const out = join(dir, 'aligned.fscope');
    const r = fusescope('record', '--source', 'files', secs, counter, '--align-starts', '-o', out);
    expect(r.status, r.stderr).toBe(1);
    const { reader, close } = await openRecordingFile(out);
    try {
      expect(reader.header.originNs).toBe(5_000_000_100_000n);
      expect(reader.header.meta).toMatchObject({ clock: 'ftrace-ns' });
      const store = await reader.readAll();
      const rows = Array.from({ length: store.length }, (_, i) => store.get(i));
      // c1 at s1 (0), c2 1000 ns later, s2 200 µs after s1; the move (5000000100000 - 123456789 ns) is a diag.
      expect(rows.filter((e) => e.kind === 'instant').map((e) => `${e.kind === 'instant' ? e.text : ''}@${e.tsNs}`)).toEqual(['s1@0', 'c1@0', 'c2@1000', 's2@200000']);
      expect(rows.find((e) => e.kind === 'diag')).toMatchObject({ code: 'clock_aligned', file: counter, message: expect.stringContaining('offset by +4999.876643211 s') });
    } finally {
      await close();
    }
  });

  it('import diagnostics: on stderr as import prints them, recorded as diag events, exit 1; nothing usable: exit 2, no file', async () => {
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'hello\nthis is not a trace\n');
    const out = join(dir, 'with-junk.fscope');
    const imp = fusescope('import', TRACE, junk, '-o', join(dir, 'with-junk.ndjson'));
    const r = fusescope('record', '--source', 'files', TRACE, junk, '-o', out);
    expect([r.status, imp.status]).toEqual([1, 1]);
    expect(r.stderr).toContain(`${junk}:1: no known format (trace-dat, perf-lock, perf-script, ftrace, fuse-log, chrome-json, ndjson, or a .fscope recording) fits its first`);
    expect(r.stderr.split('\n').filter((l) => l.includes(junk))).toEqual(imp.stderr.split('\n').filter((l) => l.includes(junk)));
    const rec = await readRecording(out);
    expect(rec.indexed).toBe(true);
    expect(rec.diags.map((d) => [d.code, d.file, d.line, d.task])).toEqual([['unknown_format', junk, 1, 'fusescope/import']]);
    expect(rec.kinds[0]).toBe('diag');
    expect(JSON.parse(fusescope('summary', out).stdout).diagnostics.count).toBe(1);

    const none = join(dir, 'none.fscope');
    const bad = fusescope('record', '--source', 'files', junk, '-o', none);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/nothing usable to record/);
    expect(existsSync(none)).toBe(false);
    expect(fusescope('record', '--source', 'files', TRACE, '--format', 'pcap', '-o', none).status).toBe(2);
    expect(fusescope('record', '--source', 'files', TRACE, '--seed', '3', '-o', none).status).toBe(2);
    expect(fusescope('record', '--source', 'files', '-o', none).status).toBe(2);
    // --format forces a parser, as for import.
    const forced = fusescope('record', '--source', 'files', LOG, '--format', 'fuse-log', '-o', join(dir, 'log.fscope'));
    expect(forced.status, forced.stderr).toBe(0);
  });
});

/** Starts `record --source instrument` and resolves once it listens. */
function startRecording(target: string, out: string, ...extra: string[]): Promise<{ child: ReturnType<typeof spawn>; stderr: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [...CLI, 'record', '--source', 'instrument', target, '-o', out, ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exit = new Promise<number | null>((ok) => child.on('close', ok));
  return new Promise((ok, fail) => {
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('(SIGINT/SIGTERM stops)')) ok({ child, stderr: () => stderr, exit });
    });
    void exit.then((code) => fail(new Error(`record exited ${code} before listening: ${stderr}`)));
  });
}

describe('record --source instrument', () => {
  it('unix socket: a client\'s events reach the file within the flush interval; SIGTERM closes it complete', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'fusescope-rec-')), 'i.sock');
    const out = join(dir, 'instrument.fscope');
    const rec = await startRecording(sock, out);
    // The example client: a lookup and 3 writes, then it disconnects.
    const client = spawn(process.execPath, ['scripts/instrument-example.mjs', sock, '--count', '3'], { stdio: 'pipe' });
    expect(await new Promise((ok) => client.on('close', ok))).toBe(0);
    // While still recording, the file (no trailer yet) already holds them: flushed within ~1 s.
    let seen: Awaited<ReturnType<typeof readRecording>> | null = null;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      seen = await readRecording(out);
      if (seen.diags.some((d) => d.code === 'disconnected')) break;
    }
    expect(seen!.indexed).toBe(false);
    expect(seen!.diags.map((d) => d.code)).toEqual(['connected', 'disconnected']);
    // A second client still connected when the recorder is stopped.
    const held = createConnection(sock);
    await new Promise((ok) => held.once('connect', ok));
    held.write(`${JSON.stringify({ fusescope: 'instrument', version: 1, server: 'held', pid: 9 })}\n`);
    held.write(`${JSON.stringify({ kind: 'fuse_recv', tsNs: 5, unique: 2, opcode: 4094, nodeId: 7 })}\n`);
    const heldClosed = new Promise((ok) => held.once('close', ok));
    held.on('error', () => {}); // the recorder resets it at shutdown; 'close' is what the test waits for
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      if ((await readRecording(out)).diags.filter((d) => d.code === 'connected').length === 2) break;
    }
    rec.child.kill('SIGTERM');
    expect(await rec.exit).toBe(0);
    await heldClosed;
    const done = await readRecording(out);
    expect(done.indexed).toBe(true);
    expect(done.damage).toBeNull();
    expect(done.diags.filter((d) => d.code === 'disconnected').map((d) => d.file).sort()).toEqual([expect.stringMatching(/^example-fs\[\d+\]#1$/), 'held[9]#2']);
    expect(done.kinds.filter((k) => k === 'fuse_recv')).toHaveLength(1 + 3 * 3 + 1);
    expect(done.kinds.length).toBeGreaterThan(seen!.kinds.length);
    expect(rec.stderr()).toMatch(/wrote \d+ events from 2 connection\(s\)/);
    expect(existsSync(sock)).toBe(false);
  }, 30_000);

  it('--duration-s stops by itself, SIGINT too; no client: exit 2 with a complete, empty recording; bad target: usage', async () => {
    const out = join(dir, 'empty.fscope');
    const rec = await startRecording('0', out, '--duration-s', '0.3');
    expect(await rec.exit).toBe(2);
    expect(rec.stderr()).toMatch(/no client connected/);
    const r = await readRecording(out);
    expect([r.indexed, r.kinds.length]).toEqual([true, 0]);
    const byInt = join(dir, 'sigint.fscope');
    const rec2 = await startRecording('0', byInt);
    rec2.child.kill('SIGINT');
    expect(await rec2.exit).toBe(2);
    expect((await readRecording(byInt)).indexed).toBe(true);
    expect(fusescope('record', '--source', 'instrument', '99999', '-o', join(dir, 'x.fscope')).status).toBe(2);
    expect(fusescope('record', '--source', 'instrument', '-o', join(dir, 'x.fscope')).status).toBe(2);
    expect(fusescope('record', '--source', 'instrument', '0', '--events', '5', '-o', join(dir, 'x.fscope')).status).toBe(2);
  }, 30_000);
});

describe('streaming arrow export of a recording', () => {
  const rec = join(dir, 'big.fscope');

  it('chunk by chunk equals the whole-store export byte for byte', async () => {
    // 150,000 events: 10 recording chunks (16,384 rows), 3 Arrow batches (65,536 rows) spanning chunk edges.
    expect(fusescope('record', '--source', 'sim', '--scenario', 'hardlink-alias-race', '--seed', '5', '--events', '150000', '-o', rec).status).toBe(0);
    const streamed = join(dir, 'streamed.arrow');
    const r = fusescope('export', rec, '--format', 'arrow', '-o', streamed);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/streamed, at most \d+ rows held/);
    const whole = join(dir, 'whole.arrow');
    const loaded = await loadRecordings([rec]);
    expect(loaded.store.length).toBe(150_000);
    await runExport(loaded.store, 'arrow', whole, rec);
    expect(Buffer.compare(readFileSync(streamed), readFileSync(whole))).toBe(0);
    expect(tableFromIPC(new Uint8Array(readFileSync(streamed))).numRows).toBe(150_000);
  }, 60_000);

  it('holds at most one batch plus one chunk of rows; other batch sizes give the same rows', async () => {
    const { reader, close } = await openRecordingFile(rec);
    const out = join(dir, 'small-batches.arrow');
    try {
      expect(reader.chunks.length).toBeGreaterThan(5);
      const r = await exportRecordingArrow(reader, out, rec, { rowsPerBatch: 10_000 });
      expect(r).toMatchObject({ rows: 150_000, damage: null });
      expect(r.maxRowsHeld).toBeLessThan(10_000 + 16_384);
    } finally {
      await close();
    }
    const a = tableFromIPC(new Uint8Array(readFileSync(out)));
    const b = tableFromIPC(new Uint8Array(readFileSync(join(dir, 'streamed.arrow'))));
    expect(a.batches.length).toBe(15);
    for (const row of [0, 9_999, 10_000, 16_383, 16_384, 65_536, 149_999]) expect(a.get(row)!.toJSON()).toEqual(b.get(row)!.toJSON());
  }, 60_000);

  it('a damaged recording: the good chunks are exported, the damage reported as summary does, exit 1', () => {
    const cut = join(dir, 'big-cut.fscope');
    const bytes = readFileSync(rec);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.55)));
    const out = join(dir, 'cut.arrow');
    const r = fusescope('export', cut, '--format', 'arrow', '-o', out);
    const s = fusescope('summary', cut);
    expect([r.status, s.status]).toEqual([1, 1]);
    const damage = (text: string): string => text.split('\n').find((l) => l.includes('damaged at byte'))!;
    expect(damage(r.stderr)).toBe(damage(s.stderr));
    expect(tableFromIPC(new Uint8Array(readFileSync(out))).numRows).toBe(JSON.parse(s.stdout).events.total);
  }, 60_000);
});
