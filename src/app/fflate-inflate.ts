// Raw inflate in JavaScript (fflate's inflateSync) for the import worker: a DecompressionStream per
// chunk (a stream, its promises and its pieces) took ~1.4× fflate's time on a recording's chunks in a
// Chromium worker; fflate decodes straight into a buffer (docs/performance.md, "The inflate").
//
// The bomb cap (format.ts `Inflate`) holds on every path:
// - deflate turns one input byte into at most 1,032 output bytes (258-byte matches of 2-bit codes;
//   zlib's technical notes give the same 1032:1),
//   so an input of n bytes whose n × 1,032 is within the cap cannot pass it: fflate sizes the output;
// - else, with a cap up to SCRATCH_MAX_BYTES (a chunk body's bound is ~1 MiB), fflate decodes into a
//   reused scratch buffer of cap + 1 bytes, which it never grows: output that fills it passed the cap.
//   Past the end fflate keeps decoding without writing (V8 runs that slowly), so this path is taken
//   only while that waste is bounded (OVERRUN_BUDGET_BYTES);
// - anything else (a large cap, or an input that could overrun by more) goes to `fallback`, the
//   browser's DecompressionStream, which stops reading at the cap.
// The kept bytes are copied out of the scratch at their exact length: that copy is the fresh buffer
// the worker moves to the page (a buffer of the bound per chunk would make the page keep the bound).

import { inflateSync } from 'fflate';
import type { Inflate } from '../trace/recording/index.ts';

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

/** fflate's inflate, capped as above; `fallback` takes the parts it cannot bound cheaply. */
export function fflateInflate(fallback: Inflate): Inflate {
  return (bytes, maxOutputBytes = Infinity) => {
    // fflate returns an empty input's output buffer as it is; deflate has no empty stream.
    if (bytes.byteLength === 0) throw new Error('no deflate data');
    if (bytes.byteLength * MAX_RATIO <= maxOutputBytes) return inflateSync(bytes);
    const limit = Math.floor(maxOutputBytes) + 1;
    if (limit > SCRATCH_MAX_BYTES || bytes.byteLength * MAX_RATIO > limit + OVERRUN_BUDGET_BYTES) return fallback(bytes, maxOutputBytes);
    const buf = scratchOf(limit);
    let n: number;
    try {
      n = inflateSync(bytes, { out: buf }).byteLength;
    } catch (err) {
      // A stored (uncompressed) block that does not fit: fflate's copy into the buffer throws RangeError.
      if (!(err instanceof RangeError)) throw err;
      n = limit;
    }
    if (n >= limit) throw new Error(`inflates past ${maxOutputBytes} bytes`);
    return buf.slice(0, n);
  };
}
