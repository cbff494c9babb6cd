// fflate's inflate (the import worker's) against node's zlib on every part the reader inflates in the
// recording fixtures, and the bomb cap: never more than the cap, past it an error.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { RecordingReader, memorySource, type Inflate } from '../trace/recording/index.ts';
import { fflateInflate as withFallback, pooledInflate } from './fflate-inflate.ts';
import { FramePool } from './frame-pool.ts';

/** No part of the fixtures needs the fallback: it fails the test if called. */
let fallbacks = 0;
const fflateInflate = withFallback(() => {
  fallbacks++;
  throw new Error('fallback');
});

const FIXTURES = new URL('../../fixtures/recordings/', import.meta.url);
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, FIXTURES)));

/** Every (deflated bytes, cap) the reader asks to inflate while reading the whole file, inflated by zlib. */
async function partsOf(name: string): Promise<Array<{ bytes: Uint8Array; cap: number }>> {
  const parts: Array<{ bytes: Uint8Array; cap: number }> = [];
  const zlib: Inflate = (bytes, cap = Infinity) => {
    parts.push({ bytes: bytes.slice(), cap });
    return new Uint8Array(inflateRawSync(bytes));
  };
  const reader = await RecordingReader.open(memorySource(fixture(name)), zlib, name);
  for (let k = 0; k < reader.chunks.length; k++) await reader.readChunkOrSkip(k);
  await reader.storedFindings();
  return parts;
}

describe('fflate inflate', () => {
  for (const name of ['clean.fscope', 'invalid-utf8-strings.fscope', 'header-string-count-mismatch.fscope']) {
    it(`${name}: every part inflates to zlib's bytes, in a buffer of exactly that length`, async () => {
      const parts = await partsOf(name);
      expect(parts.length).toBeGreaterThan(1);
      const outs = parts.map(({ bytes, cap }) => fflateInflate(bytes, cap) as Uint8Array);
      // All compared after all were made: a result must not share the scratch buffer the next call reuses.
      outs.forEach((out, i) => {
        const want = new Uint8Array(inflateRawSync(parts[i]!.bytes));
        expect(out, `part ${i}`).toEqual(want);
        expect(out.byteOffset).toBe(0);
        expect(out.buffer.byteLength).toBe(want.byteLength);
      });
    });
  }

  it('bomb-strings.fscope: the 64 MiB strings part is refused at its cap', async () => {
    const parts = await partsOf('bomb-strings.fscope');
    const bomb = parts.find(({ bytes }) => inflateRawSync(bytes).byteLength === 64 << 20)!;
    expect(bomb).toBeDefined();
    // A strings part of 2 new strings may be 2 × (4 + 1 MiB) bytes at most.
    expect(bomb.cap).toBe(2 * (4 + (1 << 20)));
    expect(() => fflateInflate(bomb.bytes, bomb.cap)).toThrow(`inflates past ${bomb.cap} bytes`);
  });

  it('output of exactly the cap is kept, one byte more is refused; stored blocks too', () => {
    const data = new Uint8Array(100_000).map((_, i) => (i * 7919) >>> 3);
    for (const level of [0, 6]) {
      const z = deflateRawSync(data, { level });
      expect(fflateInflate(z, data.byteLength)).toEqual(data);
      expect(() => fflateInflate(z, data.byteLength - 1)).toThrow(`inflates past ${data.byteLength - 1} bytes`);
    }
    expect(fflateInflate(deflateRawSync(data))).toEqual(data); // no cap
    expect(fallbacks).toBe(0);
  });

  it('an input that could overrun the cap by more than 128 MiB, or a cap over 16 MiB, goes to the fallback', () => {
    const seen: number[] = [];
    const inflate = withFallback((_bytes, cap) => {
      seen.push(cap!);
      return new Uint8Array(0);
    });
    const big = deflateRawSync(new Uint8Array(300_000).map((_, i) => (i * 2654435761) >>> 24), { level: 0 }); // ~300 KB: × 1,032 is ~310 MB
    inflate(big, 1 << 20);
    inflate(deflateRawSync(new Uint8Array(1000)), 32 << 20); // 32 MiB cap, but 1,000 zeros deflate to a few bytes: cannot pass it, fflate
    inflate(big, 32 << 20);
    expect(seen).toEqual([1 << 20, 32 << 20]);
  });

  it('a cut stream is an error, not a short result', () => {
    const z = deflateRawSync(new Uint8Array(100_000).map((_, i) => i % 251));
    expect(() => fflateInflate(z.subarray(0, z.byteLength >> 1), 1 << 20)).toThrow();
    expect(() => fflateInflate(new Uint8Array(0), 1 << 20)).toThrow();
  });

  describe('into pooled buffers (chunk bodies)', () => {
    const noFallback: Inflate = () => { throw new Error('fallback'); };

    it('clean.fscope: every body part inflates to zlib\'s bytes, a view at offset 0 of a pooled buffer; returned buffers are lent again', async () => {
      const bodies = (await partsOf('clean.fscope')).filter(({ cap }) => cap > 1 << 20);
      expect(bodies.length).toBeGreaterThan(1);
      const pool = new FramePool();
      const inflate = pooledInflate(pool, noFallback);
      for (const { bytes, cap } of bodies) {
        const out = await inflate(bytes, cap);
        expect(out).toEqual(new Uint8Array(inflateRawSync(bytes)));
        expect(out.byteOffset).toBe(0);
        pool.posted();
        pool.give(out.buffer as ArrayBuffer); // the page hands it back
      }
      expect(pool.allocated).toBe(1);
      expect(pool.reused).toBe(bodies.length - 1);
    });

    it('output of exactly the cap is kept, one byte more is refused (the buffer back in the pool); stored blocks too', async () => {
      const data = new Uint8Array(100_000).map((_, i) => (i * 7919) >>> 3);
      const pool = new FramePool();
      const inflate = pooledInflate(pool, noFallback);
      for (const level of [0, 6]) {
        const z = deflateRawSync(data, { level });
        const out = await inflate(z, data.byteLength);
        expect(out).toEqual(data);
        pool.posted();
        pool.give(out.buffer as ArrayBuffer);
        await expect(inflate(z, data.byteLength - 1)).rejects.toThrow(`inflates past ${data.byteLength - 1} bytes`);
        expect(pool.freeCount).toBe(pool.allocated); // nothing lent out by the refusal
      }
    });

    it('bomb-strings.fscope\'s 64 MiB part is refused at its cap, and the buffer goes back to the pool', async () => {
      const bomb = (await partsOf('bomb-strings.fscope')).find(({ bytes }) => inflateRawSync(bytes).byteLength === 64 << 20)!;
      const pool = new FramePool();
      await expect(pooledInflate(pool, noFallback)(bomb.bytes, bomb.cap)).rejects.toThrow(`inflates past ${bomb.cap} bytes`);
      expect(pool.freeCount).toBe(pool.allocated);
    });
  });
});
