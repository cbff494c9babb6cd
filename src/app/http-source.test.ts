// The worker's download source (http-source.ts) over a fake server: the file comes in pieces the
// test releases, range requests are answered from the same bytes. The reader opens the recording
// from its end (range requests, not a wait for the whole file), reads its chunks as they arrive,
// and gets the rows a whole-file read gets; a cut or overlong download is an error naming the bytes.
import { describe, expect, it } from 'vitest';
import { httpSource } from './http-source.ts';
import { RecordingReader, memorySource } from '../trace/recording/reader.ts';
import { Recorder } from '../../server/recorder/recorder.ts';
import { nodeInflate } from '../../server/recorder/file-source.ts';
import { makeSimulation } from '../../server/sources/sim.ts';
import type { TraceEvent } from '../trace/schema.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function recording(rows: number): Uint8Array {
  const { simulation } = makeSimulation('hardlink-alias-race', 4, new Map());
  const events: TraceEvent[] = [];
  simulation.runEvents(rows, (ev) => events.push(ev));
  const path = join(mkdtempSync(join(tmpdir(), 'fusescope-http-')), 'r.fscope');
  const rec = new Recorder(path, { maxRowsPerChunk: 2_000, indexEveryChunks: 256 }); // one index chunk, at the end
  rec.appendEvents(events);
  rec.close();
  return new Uint8Array(readFileSync(path));
}
const bytes = recording(60_000); // 30 chunks, ~390 KB
/** Reads this far past the download are range requests (1 MiB in the worker; the file here is small). */
const AHEAD = 32 << 10;

/**
 * A server for `file`: GET streams it in pieces of `pieceBytes`, each only once `release` lets
 * one more through (or all when `auto`); a Range GET is answered at once. `cutAt` ends the stream early.
 */
function fakeServer(file: Uint8Array, o: { pieceBytes?: number; cutAt?: number; announce?: number } = {}) {
  const piece = o.pieceBytes ?? 16 << 10;
  let allowed = 0;
  let auto = false;
  let wake: (() => void) | null = null;
  const ranges: string[] = [];
  const release = (n = 1): void => {
    allowed += n;
    wake?.();
  };
  const fetchFn = async (_url: string, init?: { headers?: Record<string, string> }): Promise<Response> => {
    const range = init?.headers?.range;
    if (range) {
      ranges.push(range);
      const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(range)!;
      return new Response(file.slice(Number(a), Number(b) + 1), { status: 206 });
    }
    const end = o.cutAt ?? file.byteLength;
    let at = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(ctl) {
        while (!auto && allowed === 0) await new Promise<void>((w) => { wake = w; });
        if (!auto) allowed--;
        if (at >= end) {
          ctl.close();
          return;
        }
        ctl.enqueue(file.slice(at, Math.min(end, at + piece)));
        at += piece;
      },
    });
    return new Response(body, { headers: { 'content-length': String(o.announce ?? file.byteLength), 'accept-ranges': 'bytes' } });
  };
  return { fetchFn, release, ranges, all: () => { auto = true; wake?.(); } };
}

const rowsOf = async (reader: RecordingReader): Promise<number[]> => {
  const s = await reader.readAll();
  return Array.from(s.tsNs.subarray(0, s.length));
};

describe('httpSource: a recording read while it downloads', () => {
  it('opens from the end by range requests before the download has got there, then reads the chunks as they come', async () => {
    const server = fakeServer(bytes);
    server.release(1); // the first 16 KiB only: the header is in, the trailer and index are not
    const src = await httpSource('r.fscope', 'http://x/api/recordings/r.fscope', server.fetchFn, AHEAD);
    expect(src.sizeBytes).toBe(bytes.byteLength);
    const reader = await RecordingReader.open(src, nodeInflate, 'r.fscope');
    // Opened with the download still at its first piece: the trailer and index chunks came as ranges.
    expect(reader.indexed).toBe(true);
    expect(reader.chunks.length).toBe(30);
    expect(server.ranges.length).toBeGreaterThanOrEqual(2);
    const rangeBytes = server.ranges.reduce((n, r) => { const [, a, b] = /^bytes=(\d+)-(\d+)$/.exec(r)!; return n + Number(b) - Number(a) + 1; }, 0);
    expect(rangeBytes).toBeLessThan(bytes.byteLength / 10);
    server.all();
    const whole = await RecordingReader.open(memorySource(bytes), nodeInflate);
    expect(await rowsOf(reader)).toEqual(await rowsOf(whole));
    expect(src.downloadMs!()).toBeGreaterThanOrEqual(0);
  });

  it('a download cut short: the reads past the cut fail, naming where it ended; the bytes before it still read', async () => {
    const server = fakeServer(bytes, { cutAt: 200_000 });
    server.all();
    const src = await httpSource('r.fscope', 'http://x/api/recordings/r.fscope', server.fetchFn, AHEAD);
    await new Promise((r) => setTimeout(r, 50)); // the download has stopped at the cut
    await expect(src.read(300_000, 1_000)).rejects.toThrow(/r\.fscope: the download ended at byte 200000 of \d+/);
    expect((await src.read(0, 8)).byteLength).toBe(8);
  });

  it('more bytes than the server announced: an error, not a write past the buffer', async () => {
    const server = fakeServer(bytes, { announce: 100_000 });
    server.all();
    const src = await httpSource('r.fscope', 'http://x/api/recordings/r.fscope', server.fetchFn, AHEAD);
    await new Promise((r) => setTimeout(r, 50)); // the download has stopped at the piece that overran
    await expect(src.read(99_000, 2_000)).rejects.toThrow(/more than the 100000 bytes the server announced/);
  });

  it('a recording over 1 GiB is not held whole: its bytes are read by slices of a Blob, as a picked file is', async () => {
    const server = fakeServer(bytes, { announce: 2 ** 31 });
    server.all();
    const src = await httpSource('big.fscope', 'http://x/api/recordings/big.fscope', server.fetchFn, AHEAD);
    expect(src.sizeBytes).toBe(bytes.byteLength); // the Blob's own size, not the announced one
    expect(src.downloadMs).toBeUndefined(); // not read as it downloads
    const reader = await RecordingReader.open(src, nodeInflate, 'big.fscope');
    const whole = await RecordingReader.open(memorySource(bytes), nodeInflate);
    expect(await rowsOf(reader)).toEqual(await rowsOf(whole));
  });

  it('an HTTP error is the open\'s error, with the server\'s words', async () => {
    const fetchFn = async (): Promise<Response> => new Response('no such recording\n', { status: 404 });
    await expect(httpSource('gone.fscope', 'http://x/api/recordings/gone.fscope', fetchFn)).rejects.toThrow('gone.fscope: HTTP 404 no such recording');
  });
});
