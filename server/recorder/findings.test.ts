// The findings of a live session are in its recording (format 2 findings chunks), and they are the
// findings a file run of the same rows gives: a live session recorded to a real file, read back,
// checked again from its rows. Expected values by reasoning: the recorder's runner is fed the
// recording's own rows numbered as the recording numbers them, so its findings must equal
// runChecks over those rows read back — same rules, severities, tsNs and evidence rows.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LiveSession } from '../hub/live-session.ts';
import { listScenarios, makeSimulation, simSource, type SimSource } from '../sources/sim.ts';
import { SessionRecorder } from './session-recorder.ts';
import { Recorder, type RecorderOptions } from './recorder.ts';
import { openRecordingFile } from './file-source.ts';
import { CheckRunner, DEFAULT_SETTINGS, atLeast, runChecks } from '../../src/trace/checks/index.ts';
import { CHUNK_HEADER_BYTES, ChunkType, parseChunkHeader } from '../../src/trace/recording/format.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';
import { TraceStore } from '../../src/trace/store.ts';
import { RowCopier } from '../../src/trace/copy-rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'fusescope-findings-'));
/** Small chunks and an index every 4 of them, so a short run writes several findings chunks (one per 1024 rows). */
const SMALL: RecorderOptions = { maxRowsPerChunk: 256, indexEveryChunks: 4, autoFlush: false };

/** A live session on `scenario` (seed 1), stepped 200 × 50 µs of sim time (about 5 k events), recorded; returns the file and the events the sim emitted. */
function liveRecording(scenario: string): { path: string; emitted: number } {
  const sub = mkdtempSync(join(dir, `${scenario}-`));
  let sim: SimSource | null = null;
  const session = new LiveSession({
    scenarios: listScenarios(new Map()), scenario,
    makeSource: (name) => (sim = simSource(name, 1, new Map(), { tickMs: 0 })),
  });
  const rec = new SessionRecorder({ dir: sub, maxBytes: 1 << 30, recorder: SMALL });
  session.addListener(rec);
  session.start();
  // A client that gets nothing: its gap events are per-client and never in the recording.
  session.attach({ bufferedAmount: 1 << 30, send: () => {} });
  for (let t = 1; t <= 200; t++) sim!.advanceTo(t * 50_000);
  const path = rec.currentPath!;
  session.stop();
  rec.close();
  return { path, emitted: session.emittedEvents };
}

function simEvents(count: number): TraceEvent[] {
  const out: TraceEvent[] = [];
  makeSimulation('hardlink-alias-race', 1, new Map()).simulation.runEvents(count, (ev) => out.push(ev));
  return out;
}

/** The same value after a JSON round trip (what a findings chunk holds). */
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

async function readBack(path: string): Promise<{ store: TraceStore; stored: Awaited<ReturnType<Awaited<ReturnType<typeof openRecordingFile>>['reader']['storedFindings']>>; indexed: boolean }> {
  const { reader, close } = await openRecordingFile(path);
  try {
    const store = await reader.readAll();
    return { store, stored: await reader.storedFindings(), indexed: reader.indexed };
  } finally {
    await close();
  }
}

/** Offsets of the findings chunks, by hopping over chunk headers. */
function findingsChunks(bytes: Uint8Array, headerBytes: number): Array<{ offsetBytes: number; endBytes: number; rows: number }> {
  const out: Array<{ offsetBytes: number; endBytes: number; rows: number }> = [];
  for (let at = headerBytes; at + CHUNK_HEADER_BYTES <= bytes.length;) {
    const h = parseChunkHeader(bytes.subarray(at, at + CHUNK_HEADER_BYTES), at);
    if (!h) break;
    const end = at + CHUNK_HEADER_BYTES + h.stringsBytes + h.bodyBytes;
    if (h.type === ChunkType.findings) out.push({ offsetBytes: at, endBytes: end, rows: h.firstRow });
    at = end;
  }
  return out;
}

describe('findings stored in a live session\'s recording', () => {
  const race = liveRecording('hardlink-alias-race');

  it('hardlink-alias-race: the stored findings are runChecks over the recording\'s rows, with the alias-race error', async () => {
    const { store, stored, indexed } = await readBack(race.path);
    expect(indexed).toBe(true);
    // Every event the session emitted is a recording row (the starved client's gaps are not).
    expect(store.length).toBe(race.emitted);
    expect(stored.status).toBe('stored');
    if (stored.status !== 'stored') return;
    const s = stored.stored;
    expect(s.rows).toBe(store.length);
    expect(s.rules).toEqual(['alias-race', 'mapping-invalid', 'unpaired', 'unwritten-cost', 'uncached', 'stale-mapping', 'lock', 'cache']);
    expect(s.settings).toEqual(json(DEFAULT_SETTINGS));
    const again = runChecks(store);
    expect(s.findings).toEqual(json(again.findings));
    expect(s.unknowns).toEqual(json(again.unknowns));
    // The race itself: nodeids 4 and 5 are one inode (ino 12); their writers overlapped.
    const racing = s.findings.filter((f) => f.rule === 'alias-race' && f.severity === 'error');
    expect(racing).toHaveLength(1);
    expect(racing[0]!.figures).toMatchObject({ ino: 12, nodeIds: [4, 5] });
    // Evidence rows are recording rows: the overlapping activities' begin/end events through both nodeids.
    const kinds = new Set(racing[0]!.evidence.map((r) => store.kindOf(r)));
    expect([...kinds].some((k) => k === 'lock_acquire' || k === 'fuse_send')).toBe(true);
    const nodeIds = new Set(racing[0]!.evidence.map((r) => (store.get(r) as { nodeId?: number }).nodeId));
    expect(nodeIds.has(4) && nodeIds.has(5)).toBe(true);
  });

  it('hardlink-alias-fixed (one nodeid per inode): stored equals recomputed, and no alias-race, no warning or error', async () => {
    const clean = liveRecording('hardlink-alias-fixed');
    const { store, stored } = await readBack(clean.path);
    expect(stored.status).toBe('stored');
    if (stored.status !== 'stored') return;
    expect(stored.stored.rows).toBe(store.length);
    expect(stored.stored.findings).toEqual(json(runChecks(store).findings));
    expect(stored.stored.findings.filter((f) => f.rule === 'alias-race')).toEqual([]);
    expect(atLeast(stored.stored.findings, 'warning')).toEqual([]);
  });

  it('a recording cut anywhere opens with the last complete findings chunk, or says they are missing', async () => {
    const bytes = new Uint8Array(readFileSync(race.path));
    const { reader, close } = await openRecordingFile(race.path);
    const full = await reader.readAll();
    const headerBytes = reader.header.headerBytes;
    await close();
    const chunks = findingsChunks(bytes, headerBytes);
    // Chunks of at most 256 rows (a live batch may end one early), an index and findings chunk every 4
    // chunks, and one at close: at least 3 here.
    expect(chunks.length).toBeGreaterThanOrEqual(3);
    expect(chunks[0]!.rows).toBeLessThanOrEqual(1024);
    expect(chunks[0]!.rows).toBeGreaterThan(0);
    expect(chunks[chunks.length - 1]!.rows).toBe(full.length);
    /** What the checkers find over the first `rows` rows of the recording. */
    const prefix = (rows: number): CheckRunner => {
      const r = new CheckRunner();
      r.feed(full, 0, rows);
      return r;
    };
    const cases: Array<{ cut: number; expectRows: number | null }> = [
      { cut: chunks[0]!.offsetBytes + 10, expectRows: null }, // inside the first findings chunk: none complete
      { cut: chunks[0]!.endBytes, expectRows: chunks[0]!.rows }, // right after it (its index chunk cut off)
      { cut: chunks[1]!.offsetBytes + CHUNK_HEADER_BYTES + 3, expectRows: chunks[0]!.rows }, // the second one cut: the first
      { cut: bytes.length - 1, expectRows: full.length }, // the trailer cut: the one written at close
    ];
    for (const { cut, expectRows } of cases) {
      const p = join(dir, `cut-${cut}.fscope`);
      writeFileSync(p, bytes.subarray(0, cut));
      const { stored, indexed } = await readBack(p);
      expect(indexed, `cut ${cut}`).toBe(false);
      if (expectRows === null) {
        expect(stored, `cut ${cut}`).toMatchObject({ status: 'missing', reason: expect.stringMatching(/no complete findings chunk/) });
        continue;
      }
      expect(stored.status, `cut ${cut}`).toBe('stored');
      if (stored.status !== 'stored') continue;
      expect(stored.stored.rows).toBe(expectRows);
      const r = prefix(expectRows);
      expect(stored.stored.findings).toEqual(json(r.findings()));
      expect(stored.stored.unknowns).toEqual(json(r.unknowns()));
    }
  });

  it('a damaged findings chunk falls back to the one before it', async () => {
    const bytes = new Uint8Array(readFileSync(race.path));
    const { reader, close } = await openRecordingFile(race.path);
    const chunks = findingsChunks(bytes, reader.header.headerBytes);
    await close();
    const last = chunks[chunks.length - 1]!;
    const bad = bytes.slice();
    bad[last.endBytes - 1]! ^= 0xff; // a body byte: the chunk's header still checks out
    const p = join(dir, 'flipped.fscope');
    writeFileSync(p, bad);
    const { stored } = await readBack(p);
    expect(stored.status).toBe('stored');
    if (stored.status === 'stored') expect(stored.stored.rows).toBe(chunks[chunks.length - 2]!.rows);
  });

  it('an index chunk right before close (no data after it) keeps the indexed path', async () => {
    const events = simEvents(1024);
    const p = join(dir, 'exact.fscope');
    const rec = new Recorder(p, { ...SMALL, checks: {} });
    rec.appendEvents(events);
    rec.flush();
    rec.close();
    const { store, stored, indexed } = await readBack(p);
    expect([store.length, indexed]).toEqual([1024, true]);
    expect(stored).toMatchObject({ status: 'stored', stored: { rows: 1024 } });
  });

  it('a recording written without checkers says its findings are absent', async () => {
    const p = join(dir, 'nochecks.fscope');
    const rec = new Recorder(p, SMALL);
    rec.appendEvents(simEvents(10));
    rec.close();
    const { stored, indexed } = await readBack(p);
    expect(indexed).toBe(true);
    expect(stored).toMatchObject({ status: 'absent', reason: expect.stringMatching(/stored no findings/) });
  });

  it('a format-1 recording still opens and says it has no stored findings', async () => {
    const { reader, close } = await openRecordingFile(fileURLToPath(new URL('./fixtures/v1-hardlink-alias-race.fscope', import.meta.url)));
    try {
      expect([reader.header.formatVersion, reader.indexed, reader.damage]).toEqual([1, true, null]);
      expect((await reader.readAll()).length).toBe(600);
      expect(await reader.storedFindings()).toEqual({ status: 'absent', reason: 'recording format 1 predates stored findings' });
    } finally {
      await close();
    }
  });
});

describe('a live runner over the session\'s separate batch stores', () => {
  it('gives the findings runChecks gives over one store holding the same events', () => {
    let sim: SimSource | null = null;
    const session = new LiveSession({
      scenarios: listScenarios(new Map()), scenario: 'hardlink-alias-race',
      makeSource: (name) => (sim = simSource(name, 1, new Map(), { tickMs: 0 })),
    });
    const live = new CheckRunner();
    const whole = new TraceStore(0n);
    const copier = new RowCopier(whole);
    let batches = 0;
    let rowBase = 0;
    session.addListener({
      onBatch: (batch, fromRow, toRow) => {
        // Each batch is its own small store (row 0 = stream row rowBase), not kept after the call.
        live.feed(batch, fromRow, toRow, rowBase - fromRow);
        copier.copy(batch, fromRow, toRow);
        rowBase += toRow - fromRow;
        batches++;
      },
    });
    session.start();
    for (let t = 1; t <= 200; t++) sim!.advanceTo(t * 50_000);
    session.stop();
    expect(batches).toBeGreaterThan(50);
    expect(live.processedRows).toBe(whole.length);
    const once = runChecks(whole);
    expect(live.findings()).toEqual(once.findings);
    expect(live.unknowns()).toEqual(once.unknowns);
    expect(once.findings.some((f) => f.rule === 'alias-race' && f.severity === 'error')).toBe(true);
  });
});
