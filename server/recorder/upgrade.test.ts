// Old recordings keep opening. `fixtures/v1-*.fscope` were written by the version-1 writer,
// `fixtures/v2-*.fscope` by the wire-2 writer (per-field columns, before slots: commit aee03e1,
// 2000 events of hardlink-alias-race seed 1 in chunks of 512 rows); neither is ever regenerated.
// Newer wire versions decode older batches (v1 and v2 columns are converted to slots); when
// FORMAT_VERSION moves past 1 or SCHEMA_VERSION_MIN past their schema, the reader refuses these files
// (parseFileHeader: "has no upgrader") and this test fails until an upgrader exists — that is the point.
// Schema 2 only appended fields (ADDED_FIELDS): they read back as "not traced" and are compared apart. The expected values are pinned here, not recomputed
// from the simulator, so a simulator change cannot move them.
import { describe, expect, it } from 'vitest';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { openRecordingFile } from './file-source.ts';
import { ADDED_FIELDS, type TraceEvent } from '../../src/trace/schema.ts';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
type Reader = Awaited<ReturnType<typeof openRecordingFile>>['reader'];

/** The event as a schema-1 reader saw it; the fields schema 2 added must hold their "not traced" value. */
function schema1(ev: TraceEvent): TraceEvent {
  const added = (ADDED_FIELDS[ev.kind] ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = { ...ev };
  for (const [field, notTraced] of Object.entries(added)) {
    expect(out[field], `${ev.kind}.${field}`).toBe(notTraced);
    delete out[field];
  }
  return out as unknown as TraceEvent;
}

/** eventLine as the schema-1 writer wrote it (fields in schema order, u64 as hex). */
function schema1Line(ev: TraceEvent): string {
  return JSON.stringify(schema1(ev), (_, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}

/** Opens fixture `name` (checking it is still the `bytes` long file it was) for `check`. */
async function withFixture(name: string, bytes: number, check: (reader: Reader) => Promise<void>): Promise<void> {
  const path = fixture(name);
  expect(statSync(path).size).toBe(bytes);
  const { reader, close } = await openRecordingFile(path);
  try {
    await check(reader);
  } finally {
    await close();
  }
}

describe('version-1 recordings (fixtures/)', () => {
  it('v1-hardlink-alias-race.fscope: 600 events, as written by format 1 / wire 1 / schema 1', async () => {
    await withFixture('v1-hardlink-alias-race.fscope', 6135, async (reader) => {
      expect(reader.header).toMatchObject({ formatVersion: 1, wireVersion: 1, schemaVersion: 1, originNs: 0n });
      expect(reader.header.meta).toEqual({ tool: 'fusescope', source: 'sim:hardlink-alias-race:seed=1', scenario: 'hardlink-alias-race', seed: 1 });
      expect([reader.indexed, reader.damage]).toEqual([true, null]);
      const store = await reader.readAll();
      const counts: Record<string, number> = {};
      for (let row = 0; row < store.length; row++) counts[store.kindOf(row)] = (counts[store.kindOf(row)] ?? 0) + 1;
      expect(counts).toEqual({
        app_op_begin: 30, fuse_send: 48, fuse_recv: 48, fuse_reply: 48, inode_new: 4, inode_lookup: 6, app_op_end: 27,
        lock_acquire: 24, iomap_begin: 39, lock_wait: 12, fuse_notify: 32, cache_upsert: 32, iomap_map: 102,
        cache_lookup: 69, iomap_iter_end: 37, lock_release: 22, iomap_ioend: 10, cache_inval: 10,
      });
      expect(schema1(store.get(0))).toEqual({ kind: 'app_op_begin', tsNs: 1831, task: 'writerA/1001', op: 'open', path: '/d1/file', fd: 3, posBytes: 0, lenBytes: 0, oflags: 2 });
      expect(schema1(store.get(299))).toEqual({ kind: 'lock_acquire', tsNs: 672438, task: 'writerA/1001', lock: 'i_rwsem', mode: 'W', nodeId: 4, ino: 12 });
      expect(schema1(store.get(599))).toEqual({
        kind: 'cache_lookup', tsNs: 1230486, task: 'writerB/1002', nodeId: 5, ino: 12, fork: 'read', posBytes: 163840, lenBytes: 16384,
        hit: false, mapType: 0, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 0, mapAddr: 0xffff_ffff_ffff_ffffn, mapDev: 0, cookie: 0,
      });
    });
  });
});

describe('wire-2 recordings (fixtures/)', () => {
  it('v2-hardlink-alias-race.fscope: 2000 events in 4 chunks of per-field columns read back row for row', async () => {
    await withFixture('v2-hardlink-alias-race.fscope', 18297, async (reader) => {
      expect(reader.header).toMatchObject({ formatVersion: 1, wireVersion: 2, schemaVersion: 1, originNs: 0n });
      expect([reader.chunks.length, reader.indexed, reader.damage]).toEqual([4, true, null]);
      const store = await reader.readAll();
      expect(store.length).toBe(2000);
      expect(schema1Line(store.get(1000))).toBe('{"kind":"iomap_iter_end","tsNs":1957246,"task":"writerB/1002","nodeId":5,"ino":12,"posBytes":614400,"lenBytes":8192,"processedBytes":8192,"error":0}');
      expect(schema1Line(store.get(1999))).toBe('{"kind":"iomap_map","tsNs":3673777,"task":"writerB/1002","nodeId":5,"ino":12,"slot":"read","source":"cache","mapType":2,"mapFlags":0,"mapOffsetBytes":954368,"mapLenBytes":12288,"mapAddr":"0x142000","mapDev":1,"cookie":74}');
      // Every row as the wire-2 reader read it (its NDJSON lines' sha-256, taken with that reader).
      const h = createHash('sha256');
      for (let r = 0; r < store.length; r++) h.update(`${schema1Line(store.get(r))}\n`);
      expect(h.digest('hex')).toBe('04756579546f03ad8c68f185b6dc106a9e7d37f2212e059f7de24c6884ddcc45');
    });
  });
});
