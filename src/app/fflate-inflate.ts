// Raw inflate in JavaScript (fflate's inflateSync) for the import worker: a DecompressionStream per
// chunk (a stream, its promises and its pieces) took ~1.4× fflate's time on a recording's chunks in a
// Chromium worker; fflate decodes straight into a buffer (docs/performance.md, "The inflate").
//
// The bomb cap (format.ts `Inflate`) holds on every path:
// - deflate turns one input byte into at most 1,032 output bytes (258-byte matches of 2-bit codes;
//   zlib's technical notes give the same 1032:1),
//   so an input of n bytes whose n × 1,032 is within the cap cannot pass it: fflate sizes the output;
// - else, with a cap up to SCRATCH_MAX_BYTES (an 8,192-row chunk body's bound is ~12 MiB), fflate decodes into a
//   reused scratch buffer of cap + 1 bytes, which it never grows: output that fills it passed the cap.
//   Past the end fflate keeps decoding without writing (V8 runs that slowly), so this path is taken
//   only while that waste is bounded (OVERRUN_BUDGET_BYTES);
// - anything else (a large cap, or an input that could overrun by more) goes to `fallback`, the
//   browser's DecompressionStream, which stops reading at the cap.
// fflateInflate copies the kept bytes out of the scratch at their exact length (strings parts,
// findings, trace.dat blocks: what the caller keeps). Chunk bodies go through pooledInflate instead:
// into buffers the page hands back once it has copied the rows (frame-pool.ts), no copy, no fresh
// memory per chunk.

import { inflateSync } from 'fflate';
import type { Inflate } from '../trace/recording/index.ts';
import type { FramePool } from './frame-pool.ts';

/** Deflate's largest expansion: output bytes per input byte. */
const MAX_RATIO = 1032;
const SCRATCH_MAX_BYTES = 16 << 20;
/** Output a bomb may make fflate decode past the scratch's end before we see it (CPU, not memory). */
const OVERRUN_BUDGET_BYTES = 128 << 20;

let scratch: Uint8Array | null = null;

function scratchOf(bytes: number): Uint8Array {
  if (!scratch || scratch.byteLength < bytes) scratch = new Uint8Array(bytes);
  return scratch.subarray(0, bytes);
}

/** Whether fflate takes this part (else the fallback): its cap is cheap to hold (above). */
function fflateCanCap(inBytes: number, maxOutputBytes: number): boolean {
  if (inBytes * MAX_RATIO <= maxOutputBytes) return true;
  const limit = Math.floor(maxOutputBytes) + 1;
  return limit <= SCRATCH_MAX_BYTES && inBytes * MAX_RATIO <= limit + OVERRUN_BUDGET_BYTES;
}

/** Inflates into `out` (never grown); returns the bytes written, `out.length` when they did not fit. */
function inflateInto(bytes: Uint8Array, out: Uint8Array): number {
  try {
    return inflateSync(bytes, { out }).byteLength;
  } catch (err) {
    // A stored (uncompressed) block that does not fit: fflate's copy into the buffer throws RangeError.
    if (!(err instanceof RangeError)) throw err;
    return out.length;
  }
}

/** fflate's inflate, capped as above; `fallback` takes the parts it cannot bound cheaply. */
export function fflateInflate(fallback: Inflate): Inflate {
  return (bytes, maxOutputBytes = Infinity) => {
    // fflate returns an empty input's output buffer as it is; deflate has no empty stream.
    if (bytes.byteLength === 0) throw new Error('no deflate data');
    if (bytes.byteLength * MAX_RATIO <= maxOutputBytes) return inflateSync(bytes);
    if (!fflateCanCap(bytes.byteLength, maxOutputBytes)) return fallback(bytes, maxOutputBytes);
    const limit = Math.floor(maxOutputBytes) + 1;
    const buf = scratchOf(limit);
    const n = inflateInto(bytes, buf);
    if (n >= limit) throw new Error(`inflates past ${maxOutputBytes} bytes`);
    return buf.slice(0, n);
  };
}

/**
 * fflate's inflate for chunk bodies, into buffers of `pool` (the page hands each back once it has
 * the rows): the result is a view at offset 0 of a pooled buffer, its length the body's. The cap
 * holds as in fflateInflate: a buffer of the cap + 1 that fills is past it. The buffer is that
 * large (~12 MiB for 8,192 rows) though a body is ~0.4 MB: only the pages written are touched, and
 * a smaller buffer that a body overran would cost far more (fflate goes on decoding past a buffer's
 * end without writing, which V8 runs ~100× slower: 3 MB past 1 MiB took seconds in vitest). Parts
 * fflate cannot cap cheaply go to `fallback` (a fresh buffer).
 */
export function pooledInflate(pool: FramePool, fallback: Inflate): Inflate {
  return async (bytes, maxOutputBytes = Infinity) => {
    if (bytes.byteLength === 0) throw new Error('no deflate data');
    if (!Number.isFinite(maxOutputBytes)) return inflateSync(bytes);
    if (!fflateCanCap(bytes.byteLength, maxOutputBytes)) return fallback(bytes, maxOutputBytes);
    const limit = Math.floor(maxOutputBytes) + 1;
    const buf = await pool.take(limit);
    let n: number;
    try {
      n = inflateInto(bytes, new Uint8Array(buf, 0, limit));
    } catch (err) {
      pool.putBack(buf);
      throw err;
    }
    if (n < limit) return new Uint8Array(buf, 0, n);
    pool.putBack(buf);
    throw new Error(`inflates past ${maxOutputBytes} bytes`);
  };
}
