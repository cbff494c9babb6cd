// Recordings that pass every checksum but lie (issue #20 item 5): fixtures/recordings/, made by
// scripts/gen-recording-fixtures.ts. Each clean file has 3 data chunks of 4 rows; chunk 0
// introduces /a and /b, chunk 1 /c and /d (and uses /a), chunk 2 uses all four.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { nodeInflate } from './file-source.ts';
import { RecordingReader, memorySource } from '../../src/trace/recording/reader.ts';
import { FIXTURES } from '../../scripts/gen-recording-fixtures.ts';

const dir = new URL('../../fixtures/recordings/', import.meta.url);
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, dir)));
const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
// Header: 40 fixed bytes + meta {"source":"fixture"} (19 bytes, padded to 24) = 64; chunk 0 starts there.
const CHUNK0 = 64;
const chunk1Of = (b: Uint8Array): number => CHUNK0 + 72 + u32(b, CHUNK0 + 48) + u32(b, CHUNK0 + 56);

async function readWhole(name: string, inflate = nodeInflate) {
  const reader = await RecordingReader.open(memorySource(bytesOf(name)), inflate, name);
  const store = await reader.readAll();
  const paths = Array.from({ length: store.length }, (_, i) => (store.get(i) as { path: string }).path);
  return { reader, store, paths };
}

describe('recordings that lie', () => {
  it('the generator still makes files that read as the committed ones (rows and damage; bytes may differ with zlib)', async () => {
    for (const [name, make] of Object.entries(FIXTURES)) {
      const read = async (bytes: Uint8Array) => {
        const r = await RecordingReader.open(memorySource(bytes), nodeInflate, name);
        const store = await r.readAll();
        return { rows: store.length, bad: [...r.badChunks.keys()], damaged: r.damage !== null };
      };
      expect(await read(make()), name).toEqual(await read(bytesOf(name)));
    }
  });

  it('clean: 12 rows, no damage', async () => {
    const { reader, paths } = await readWhole('clean.fscope');
    expect(reader.damage).toBeNull();
    expect(paths).toEqual(['/a', '/b', '/a', '/b', '/c', '/d', '/c', '/a', '/a', '/b', '/c', '/d']);
  });

  it('broken compressed strings part: names file and offset, keeps chunk 0, drops the chunks that use the lost strings', async () => {
    const name = 'broken-strings-deflate.fscope';
    const { reader, paths } = await readWhole(name);
    const at = chunk1Of(bytesOf(name));
    expect(reader.damage?.offsetBytes).toBe(at);
    expect(reader.damage?.reason).toMatch(new RegExp(`^${name}: strings part does not inflate .*\\(at byte ${at}\\)$`));
    expect(paths).toEqual(['/a', '/b', '/a', '/b']);
    expect([...reader.badChunks.keys()]).toEqual([1, 2]);
    expect(reader.badChunks.get(2)).toMatch(`lost with the strings part of the chunk at byte ${at}`);
  });

  it('invalid UTF-8 in a string: says which string, keeps chunk 0', async () => {
    const name = 'invalid-utf8-strings.fscope';
    const { reader, paths } = await readWhole(name);
    expect(reader.damage?.reason).toBe(`${name}: strings part: string 1 of 2 is not valid UTF-8 (at byte ${chunk1Of(bytesOf(name))})`);
    expect(paths).toEqual(['/a', '/b', '/a', '/b']);
  });

  it('header string count disagreeing with the index: that chunk is dropped, the strings (as the index says) and chunk 2 kept', async () => {
    const name = 'header-string-count-mismatch.fscope';
    const { reader, paths } = await readWhole(name);
    expect(reader.damage?.offsetBytes).toBe(chunk1Of(bytesOf(name)));
    expect(reader.damage?.reason).toMatch('header declares strings 4+3');
    expect(paths).toEqual(['/a', '/b', '/a', '/b', '/a', '/b', '/c', '/d']);
  });

  it('decompression bomb: inflate is capped by what the header allows (2 strings: 2 × (4 + 1 MiB)), never the 64 MiB inside', async () => {
    const limits: number[] = [];
    let largestOut = 0;
    const spy = (b: Uint8Array, max?: number): Uint8Array => {
      limits.push(max ?? Infinity);
      const out = nodeInflate(b, max);
      largestOut = Math.max(largestOut, out.byteLength);
      return out;
    };
    const { reader, paths } = await readWhole('bomb-strings.fscope', spy);
    // Chunk 0 introduces 3 strings (cat/10, /a, /b): its bound, 3 × (4 + 1 MiB), is the largest; bodies of 4 rows allow far less.
    expect(Math.max(...limits)).toBe(3 * (4 + (1 << 20)));
    expect(largestOut).toBeLessThan(1 << 20);
    expect(reader.damage?.reason).toMatch(/strings part does not inflate \(limit 2097160 bytes\)/);
    expect(paths).toEqual(['/a', '/b', '/a', '/b']);
  });

  it('summary and export --format arrow exit 1 (something kept) with the file and offset on stderr', () => {
    const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
    // Two of each (a CLI start costs seconds on this machine): the reader tests above cover all four.
    for (const [cmd, name] of [['summary', 'bomb-strings.fscope'], ['summary', 'broken-strings-deflate.fscope'],
      ['export', 'header-string-count-mismatch.fscope'], ['export', 'invalid-utf8-strings.fscope']] as const) {
      const file = fileURLToPath(new URL(name, dir));
      const at = chunk1Of(bytesOf(name));
      const args = cmd === 'summary' ? ['summary', file] : ['export', '--format', 'arrow', '-o', '/dev/null', file];
      const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...args], { encoding: 'utf8' });
      expect(r.status, `${cmd} ${name}: ${r.stderr}`).toBe(1);
      expect(r.stdout + r.stderr).toContain(`${file}:0: damaged at byte ${at}: ${file}:`);
    }
  }, 60_000);
});
