import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { importChromeJson } from '../../src/trace/export/chrome-json.ts';
import { validateChrome } from '../../src/trace/testing/export-checks.ts';
import { decodeProto, type Msg } from '../../src/export/perfetto-wire.ts';
import { LiveSession } from '../hub/live-session.ts';
import { makeSimulation, listScenarios, simSource, type SimSource } from '../sources/sim.ts';
import { SessionRecorder } from '../recorder/session-recorder.ts';
import { openRecordingFile } from '../recorder/file-source.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { tableFromIPC } from 'apache-arrow';
import { openDuck } from '../testing/duckdb.ts';

function fusescope(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/cli.ts', ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('record / summary / export / diff', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fusescope-cmd-'));
  const a = join(dir, 'race.fscope');
  const b = join(dir, 'race-ino.fscope');

  it('record writes recordings that summary reads like any trace', () => {
    const r1 = fusescope('record', '--source', 'sim', '--scenario', 'hardlink-alias-race', '--seed', '7', '--events', '20000', '-o', a);
    expect(r1.status, r1.stderr).toBe(0);
    const r2 = fusescope('record', '--source', 'sim', '--scenario', 'hardlink-alias-race', '--seed', '7', '--events', '20000', '--policy', 'ino', '-o', b);
    expect(r2.status, r2.stderr).toBe(0);
    const sum = fusescope('summary', a);
    expect(sum.status, sum.stderr).toBe(0);
    const s = JSON.parse(sum.stdout);
    expect(s.events.total).toBe(20000);
    expect(s.aliasGroups).toHaveLength(1);
    expect(JSON.parse(fusescope('summary', b).stdout).aliasGroups).toEqual([]);
    expect(fusescope('record', '--source', 'ftrace', '-o', join(dir, 'x.fscope')).status).toBe(2);
    expect(fusescope('record', '--source', 'sim', '-o', a).status).toBe(2); // never overwrites
  });

  it('summary of a damaged recording keeps the good chunks, names the offset and exits 1', async () => {
    const bytes = readFileSync(a);
    const cut = join(dir, 'cut.fscope');
    // 20000 events = two 8192-row chunks and a 3616-row one; cut into the third (after it come the
    // findings chunk, the final index and the trailer).
    const { reader, close } = await openRecordingFile(a);
    const third = reader.chunks[2]!;
    await close();
    expect([reader.chunks.length, third.firstRow]).toEqual([3, 16384]);
    writeFileSync(cut, bytes.subarray(0, third.offsetBytes + 300));
    const sum = fusescope('summary', cut);
    expect(sum.status).toBe(1);
    const s = JSON.parse(sum.stdout);
    expect(s.events.total).toBe(16384);
    expect(sum.stderr).toMatch(/damaged at byte \d+/);
  });

  it('export chrome-json follows the format and re-imports to the recorded events', () => {
    const out = join(dir, 'race.json');
    const r = fusescope('export', a, '--format', 'chrome-json', '-o', out);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(validateChrome(JSON.parse(text).traceEvents)).toEqual([]);
    const back = importChromeJson(text);
    expect(back.errors).toEqual([]);
    expect(back.events).toHaveLength(20000);
  });

  it('export perfetto decodes with the published schema', () => {
    const out = join(dir, 'race.pftrace');
    const r = fusescope('export', a, '--format', 'perfetto', '-o', out);
    expect(r.status, r.stderr).toBe(0);
    const trace = decodeProto(new Uint8Array(readFileSync(out)), 'Trace');
    const packets = trace.packet as Msg[];
    expect(packets.filter((p) => p.track_descriptor).length).toBeGreaterThan(5);
    expect(packets.filter((p) => p.track_event).length).toBeGreaterThan(20000);
  });

  it('diff prints the A vs B table with per-opcode rows', () => {
    const r = fusescope('diff', a, b);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/FUSE_IOMAP_BEGIN p99/);
    expect(r.stdout).toMatch(/upcalls per MiB/);
    const j = JSON.parse(fusescope('diff', a, b, '--json').stdout);
    const row = (m: string): { a: number; b: number } => j.rows.find((x: { metric: string }) => x.metric === m);
    expect(row('events').a).toBe(20000);
    expect(row('FUSE_IOMAP_BEGIN count').a).toBeGreaterThan(0);
    expect(fusescope('diff', a).status).toBe(2);
  });

  it('diff random-dio vs its ext4 baseline: rates agree with summary, n/a where nothing was measured', () => {
    const dio = join(dir, 'dio.fscope');
    const ext4 = join(dir, 'dio-ext4.fscope');
    for (const [scenario, out] of [['random-dio', dio], ['random-dio-ext4', ext4]] as const) {
      const r = fusescope('record', '--source', 'sim', '--scenario', scenario, '--seed', '3', '--events', '30000', '-o', out);
      expect(r.status, r.stderr).toBe(0);
    }
    const r = fusescope('diff', dio, ext4, '--json');
    expect(r.status, r.stderr).toBe(0);
    type Row = { metric: string; a: number | null; b: number | null; ratio: number | null };
    const rows: Row[] = JSON.parse(r.stdout).rows;
    const row = (m: string): Row => rows.find((x) => x.metric === m)!;
    const acc = JSON.parse(fusescope('summary', dio).stdout).accounting;
    // One definition of bytes moved and upcalls per MiB for diff and summary.
    expect(row('app data moved').a).toBeCloseTo(acc.bytesMoved / 2 ** 20, 9);
    expect(row('iomap upcalls per MiB').a).toBeCloseTo(acc.iomapUpcallsPerMiB, 9);
    const requests = Object.values(acc.upcallsByOpcode as Record<string, number>).reduce((x, y) => x + y, 0);
    expect(row('upcalls per MiB').a).toBeCloseTo(requests / (acc.bytesMoved / 2 ** 20), 9);
    expect(row('lock waits').a).toBe(acc.lockWaits);
    expect(row('unwritten conversions').a).toBe(acc.unwrittenConversions);
    // The baseline: no FUSE at all, faster, less lock wait per MiB; FUSE-only figures are n/a, not 0.
    expect(row('FUSE requests').b).toBe(0);
    expect(row('upcalls per MiB').b).toBe(0);
    expect(row('throughput').ratio!).toBeGreaterThan(2);
    expect(row('lock wait per MiB').ratio!).toBeLessThan(1);
    expect(row('lock wait p99').a!).toBeGreaterThan(0);
    expect(row('lock wait p99').b!).toBeGreaterThan(0);
    expect(row('cache hit rate').a!).toBeGreaterThan(0);
    expect(row('cache hit rate')).toMatchObject({ b: null, ratio: null });
    expect(row('FUSE_IOMAP_BEGIN count')).toMatchObject({ b: 0, ratio: 0 });
    expect(row('FUSE_IOMAP_BEGIN p99')).toMatchObject({ b: null, ratio: null });
    expect(row('FUSE_IOMAP_BEGIN p99').a!).toBeGreaterThan(0);
    const text = fusescope('diff', dio, ext4).stdout;
    expect(text).toMatch(/note: the runs differ in length .* MiB moved\); compare rates/);
    expect(text).toMatch(/^throughput\s+MiB\/s\s+[\d,.]+\s+[\d,.]+\s+\d+\.\d\d×$/m);
    expect(text).toMatch(/^FUSE_IOMAP_BEGIN p99\s+µs\s+[\d,.]+\s+—\s+—$/m);
  });

  it('export arrow: DuckDB (Arrow C++ reader) and apache-arrow read the event table back', async () => {
    const out = join(dir, 'race.arrow');
    const r = fusescope('export', a, '--format', 'arrow', '-o', out);
    expect(r.status, r.stderr).toBe(0);
    const bytes = new Uint8Array(readFileSync(out));
    const { reader, close } = await openRecordingFile(a);
    const store = await reader.readAll();
    await close();
    const table = tableFromIPC(bytes); // the file reader: footer and blocks
    expect(table.numRows).toBe(store.length);
    expect(table.schema.metadata.get('originNs')).toBe(store.originNs.toString());

    const duck = await openDuck();
    try {
      duck.insertArrowFile(bytes, 'ev');
      const byKind = new Map<string, number>();
      for (let row = 0; row < store.length; row++) byKind.set(store.kindOf(row), (byKind.get(store.kindOf(row)) ?? 0) + 1);
      const got = duck.query('SELECT kind, count(*) AS n FROM ev GROUP BY kind ORDER BY kind');
      expect(got.map((x) => [x.kind, Number(x.n)])).toEqual([...byKind].sort((x, y) => (x[0] < y[0] ? -1 : 1)));
      // A filter on nodeId, strings and u64 through their dictionaries / uint64.
      const nodeId = store.fieldCol('nodeId');
      let onNode2 = 0;
      let nullAddr = 0;
      const tasks = new Set<string>();
      for (let row = 0; row < store.length; row++) {
        const e = store.get(row) as unknown as Record<string, unknown>;
        if (e.nodeId === 2 && nodeId[row] === 2) {
          onNode2++;
          tasks.add(e.task as string);
        }
        if (e.mapAddr === 0xffff_ffff_ffff_ffffn) nullAddr++;
      }
      const [n2] = duck.query('SELECT count(*) AS n, count(DISTINCT task) AS t FROM ev WHERE nodeId = 2');
      expect([Number(n2!.n), Number(n2!.t)]).toEqual([onNode2, tasks.size]);
      const [u] = duck.query('SELECT count(*) AS n FROM ev WHERE mapAddr = 18446744073709551615');
      expect(Number(u!.n)).toBe(nullAddr);
      let tsSum = 0n;
      for (let row = 0; row < store.length; row++) tsSum += BigInt(store.tsNs[row]!);
      const [t] = duck.query('SELECT sum(tsNs)::VARCHAR AS s, count(*) FILTER (WHERE path IS NOT NULL AND kind = \'fuse_send\') AS bad FROM ev');
      expect([t!.s, Number(t!.bad)]).toEqual([tsSum.toString(), 0]);
      // A fleet question on one host: inodes reached through more than one nodeid (alias groups).
      const aliases = duck.query(`SELECT ino, count(DISTINCT nodeId) AS nodes FROM ev WHERE kind IN ('inode_new', 'inode_lookup')
        GROUP BY ino HAVING count(DISTINCT nodeId) > 1`);
      expect(aliases).toHaveLength(JSON.parse(fusescope('summary', a).stdout).aliasGroups.length);
    } finally {
      duck.close();
    }
  });
});

describe('serve recording (LiveSession listener → SessionRecorder)', () => {
  it('records every event even when clients drop, one file per scenario, under a size cap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fusescope-sess-'));
    let sim: SimSource | null = null; // stepped by the test (tickMs 0: no timer)
    const session = new LiveSession({
      scenarios: listScenarios(new Map()), scenario: 'hardlink-alias-race',
      // A history of one frame: a client that never reads misses the rest (it would catch up otherwise).
      makeSource: (name) => (sim = simSource(name, 1, new Map(), { tickMs: 0 })), clientBudgetBytes: 1, historyMaxBytes: 1,
    });
    session.start();
    // A client that is always behind: it gets almost nothing.
    session.attach({ bufferedAmount: 10, send: () => {} });
    const rec = new SessionRecorder({ dir, maxBytes: 1 << 30 });
    session.addListener(rec);
    const seen: TraceEvent[] = [];
    const direct = makeSimulation('hardlink-alias-race', 1, new Map()).simulation;
    for (let t = 1; t <= 20; t++) sim!.advanceTo(t * 50_000);
    direct.runUntil(20 * 50_000, (ev) => seen.push(ev));
    const first = rec.currentPath!;
    expect(session.clientStats()[0]!.missedEvents).toBeGreaterThan(0);
    session.setScenario('streaming-dio');
    sim!.advanceTo(sim!.nowNs + 100_000);
    rec.close();
    expect(readdirSync(dir).filter((f) => f.endsWith('.fscope'))).toHaveLength(2);
    const { reader, close } = await openRecordingFile(first);
    expect(reader.indexed).toBe(true);
    const store = await reader.readAll();
    expect(store.length).toBe(seen.length);
    expect(store.get(store.length - 1)).toEqual(seen[seen.length - 1]);
    await close();
    // Cap: a new recorder with a tiny cap deletes the old files, never its own.
    const capped = new SessionRecorder({ dir, maxBytes: 1 });
    capped.onSourceChange('x', 'sim:x');
    capped.onBatch(store, 0, 10);
    expect(capped.deleted).toHaveLength(2);
    // Its own recording, and beside it while it is active the owner file that guards it from other servers' caps.
    expect(readdirSync(dir).sort()).toEqual([basename(capped.currentPath!), basename(capped.currentPath!) + '.owner']);
    capped.close();
    const closedPath = capped.written[0]!;
    expect(readdirSync(dir)).toEqual([basename(closedPath)]); // closed: its owner file is gone
  });
});
