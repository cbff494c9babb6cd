// The line being parsed, filled by the framer (framing.ts) and read by every parser after it.
// One object per parser, refilled per line: readers keep indexes, not it.
import { unitsToString, type Units } from './code-units.ts';

export class Line {
  /** The line is u[ls, le), without its terminator, with a 0 unit at le (the sentinel, code-units.ts). */
  u: Units = new Uint8Array(1);
  ls = 0;
  le = 0;
  /** If not null, holds the same text at the same indexes (str() slices it instead of decoding). */
  src: string | null = null;
  /** The line holds no line terminator ('\r' is the only one an ASCII line can hold): its chunk has none. */
  crFree = false;
  /** A DataView of u when u is bytes (the known-header cache compares 4 units per read), else null. */
  words: DataView | null = null;
  /** 1-based number of the line in the input (lines skipped as too long count too). */
  lineNo = 0;
  /** Offset of the line's first byte in the input's UTF-8 bytes (the file offset, for valid UTF-8). */
  byteOffset = 0;
  /** The input ended without a '\n' after this line: it may have been cut short. */
  unterminated = false;

  /** u[from, to) as a string (a slice of the source string when there is one). */
  str(from: number, to: number): string {
    return this.src !== null ? this.src.slice(from, to) : unitsToString(this.u, from, to);
  }

  /** The whole line as a string (for parsers that read text: NDJSON, libfuse logs). */
  text(): string {
    return this.str(this.ls, this.le);
  }
}
