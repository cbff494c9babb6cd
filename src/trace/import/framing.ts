// Chunks → lines, for every line format (ftrace text, libfuse -d logs, NDJSON). Chunks come as
// strings or UTF-8 bytes, of any size; a line may straddle chunks. Each line is handed on with its
// 1-based number and the offset of its first byte; a trailing '\r' is dropped; the last line is
// flagged when the input ended without its '\n' (it may have been cut short).
// A string chunk that is all ASCII (nearly every trace) is encoded into bytes at once and its lines
// are handed on in place; strings are never made per line. A chunk with other characters is split
// as a string and each line handed on as its bytes (if the line is ASCII) or its UTF-16 code
// units, so columns and the `\s` grammar are those of the string. Byte chunks that are not all
// ASCII go through a streaming UTF-8 decoder (a character may straddle chunks).
//
//   push(chunk) ──► asciiChunk ──► bytesLine ──┐
//              └──► stringChunk ─► stringLine ─┴─► line filled ──► sink.onLine()
//
// Lines over the framer's limit are dropped up to their end and reported once (sink.lineTooLong),
// so a hostile file cannot make a parser buffer without bound. Byte offsets count the UTF-8 bytes
// of the text (for byte input with invalid UTF-8, of its decoded text).
//
// Strict UTF-8 (`strictUtf8`, byte input only; the instrumentation socket): a byte chunk that is
// not all ASCII is split on its '\n' bytes (never part of a multi-byte character) and each such
// line is decoded on its own, fatally: a line that is not valid UTF-8 is reported with its number
// and byte offset (sink.notUtf8) instead of being handed on with U+FFFD in it. All-ASCII chunks
// take the same path as ever. Offsets are then always the input's byte offsets.
//
//   push(bytes) ──► asciiChunk ─────────────────► bytesLine ──┐
//              └──► strictChunk ─► strictLine ─┬─► bytesLine   ├─► sink.onLine()
//                                             ├─► textLine ───┘
//                                             └─► sink.notUtf8()
import { unitsToString, type Units } from './code-units.ts';
import type { Line } from './line.ts';

/** Who gets the lines. */
export interface LineSink {
  /** framer.line holds the next line (its lineNo counted). */
  onLine(): void;
  /** Line `lineNo` is longer than the framer's limit and was skipped. */
  lineTooLong(lineNo: number): void;
  /** Strict UTF-8 only: line `lineNo`, at `byteOffset`, is not valid UTF-8 and was skipped. */
  notUtf8?(lineNo: number, byteOffset: number): void;
}

export interface LineFramerOptions {
  /** Byte input is decoded line by line, fatally: lines that are not UTF-8 go to sink.notUtf8 (see above). */
  strictUtf8?: boolean;
}

/** TextEncoder.encodeInto and streaming TextDecoder (both hosts have them; core's globals.d.ts declares less). */
interface Utf8Encoder { encodeInto(s: string, into: Uint8Array): { read: number; written: number } }
interface Utf8StreamDecoder { decode(input?: Uint8Array, options?: { stream?: boolean }): string }
const encoder = new TextEncoder() as unknown as Utf8Encoder;
/** Decodes one whole line for strict framing; throws on anything that is not UTF-8. */
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

export class LineFramer {
  /** The current chunk as bytes (encoded string or copied bytes), with room for a sentinel after it. */
  private chunkBuf = new Uint8Array(1 << 16);
  /** The unfinished last line: ASCII bytes partialBuf[0, partialLen), or partialStr once it holds other characters. */
  private partialBuf = new Uint8Array(1 << 12);
  private partialLen = 0;
  private partialStr = '';
  /** A line of a string chunk that is not all ASCII: its bytes if the line is, else its UTF-16 units. */
  private lineBytes = new Uint8Array(256);
  private lineUnits = new Uint16Array(256);
  private skippingLongLine = false;
  /** Byte chunks that are not all ASCII are decoded (streaming: a character may straddle chunks). */
  private decoder: Utf8StreamDecoder | null = null;
  /** The decoder may hold the start of a character: the next chunk goes through it too. */
  private utf8Pending = false;
  /** The buffer line.words views. */
  private wordsOf: Uint8Array | null = null;

  /** UTF-8 bytes of all text framed before the current chunk. */
  private inBytes = 0;
  /** Byte offset of the unfinished last line's first byte. */
  private partialOffset = 0;
  /** Strict framing: partialBuf may hold bytes that are not ASCII (its line is checked when it completes). */
  private partialNonAscii = false;
  private readonly strictUtf8: boolean;
  /**
   * Bytes (or UTF-16 units) copied to keep unfinished lines across chunks, growth included: stays
   * within a small multiple of the input however small the chunks (a test pins it; a splitter that
   * re-copied the whole partial line per chunk would be quadratic).
   */
  bytesCopied = 0;

  /**
   * `maxLineBytes`: longer lines are reported and skipped. `counts.lines` counts every line,
   * parsed or skipped (a parser's public stats object may be passed).
   */
  constructor(
    readonly line: Line,
    private readonly sink: LineSink,
    readonly maxLineBytes: number,
    private readonly counts: { lines: number } = { lines: 0 },
    options: LineFramerOptions = {},
  ) {
    this.strictUtf8 = options.strictUtf8 ?? false;
    if (this.strictUtf8 && !sink.notUtf8) throw new Error('LineFramer: strictUtf8 needs a sink with notUtf8');
  }

  /** Text (a string) or UTF-8 bytes; a file may be pushed either way, in chunks of any size (strict framing: bytes only). */
  push(chunk: string | Uint8Array): void {
    if (typeof chunk === 'string') {
      // A string is text already; strict framing exists to check bytes.
      if (this.strictUtf8) throw new Error('LineFramer: strict UTF-8 framing takes bytes, not strings');
      const n = chunk.length;
      if (this.chunkBuf.length <= n) this.chunkBuf = new Uint8Array(Math.max(n + 1, this.chunkBuf.length * 2));
      // All ASCII iff every unit became one byte; encodeInto is native and ~20x faster than a JS check.
      const { read, written } = encoder.encodeInto(chunk, this.chunkBuf);
      if (read === n && written === n) this.asciiChunk(n, chunk);
      else this.stringChunk(chunk);
      return;
    }
    const n = chunk.length;
    if (!this.utf8Pending) {
      if (this.chunkBuf.length <= n) this.chunkBuf = new Uint8Array(Math.max(n + 1, this.chunkBuf.length * 2));
      this.chunkBuf.set(chunk);
      if (isAscii(this.chunkBuf, n)) {
        this.asciiChunk(n, null);
        return;
      }
      if (this.strictUtf8) {
        this.strictChunk(n);
        return;
      }
    }
    this.decoder ??= new TextDecoder() as unknown as Utf8StreamDecoder;
    // Only a chunk ending in a non-ASCII byte can end inside a character.
    if (n > 0) this.utf8Pending = chunk[n - 1]! >= 0x80;
    this.stringChunk(this.decoder.decode(chunk, { stream: true }));
  }

  /** The input ended: the unfinished last line (if any) is a line. */
  end(): void {
    if (this.utf8Pending) {
      this.utf8Pending = false;
      const tail = this.decoder!.decode();
      if (tail.length > 0) this.stringChunk(tail);
    }
    if (this.partialLen > 0) {
      const len = this.partialLen;
      this.partialLen = 0;
      this.line.unterminated = true;
      this.partialLine(len);
    } else if (this.partialStr.length > 0) {
      const last = this.partialStr;
      this.partialStr = '';
      this.line.unterminated = true;
      this.stringLine(last, this.partialOffset);
    }
  }

  /** chunkBuf[0, n) is ASCII (and equal to `src` if not null). */
  private asciiChunk(n: number, src: string | null): void {
    const buf = this.chunkBuf;
    const base = this.inBytes;
    this.inBytes += n;
    const view = src === null ? buf.subarray(0, n) : null;
    const crFree = (src !== null ? src.indexOf('\r') : view!.indexOf(13)) < 0;
    let from = 0;
    if (this.partialLen > 0 || this.partialStr.length > 0) {
      const nl = src !== null ? src.indexOf('\n') : view!.indexOf(10);
      if (nl < 0) {
        if (this.partialStr.length > 0) {
          this.bytesCopied += n; // a rope append: the chunk, not the line so far
          this.keepPartialStr(this.partialStr + (src ?? unitsToString(buf, 0, n)));
        }
        else if (this.partialLen + n > this.maxLineBytes) {
          this.partialLen = 0;
          this.tooLong();
        } else this.appendPartial(buf, 0, n);
        return;
      }
      // Only the line that straddles the boundary is joined.
      if (this.partialStr.length > 0) {
        const joined = this.partialStr + (src !== null ? src.slice(0, nl) : unitsToString(buf, 0, nl));
        this.partialStr = '';
        this.stringLine(joined, this.partialOffset);
      } else {
        this.appendPartial(buf, 0, nl);
        const len = this.partialLen;
        this.partialLen = 0;
        this.partialLine(len);
      }
      from = nl + 1;
    }
    const start = this.lines(buf, view, from, src, crFree, base);
    this.partialOffset = base + start;
    if (n - start > this.maxLineBytes) this.tooLong();
    else this.appendPartial(buf, start, n);
  }

  /** The joined line partialBuf[0, len) is complete (partialLen already cleared). */
  private partialLine(len: number): void {
    if (this.partialNonAscii) {
      this.partialNonAscii = false;
      this.strictLine(this.partialBuf, 0, len, this.partialOffset);
    } else this.bytesLine(this.partialBuf, 0, len, null, false, this.partialOffset);
  }

  /**
   * Strict framing, a byte chunk chunkBuf[0, n) that is not all ASCII: split on '\n' bytes, each
   * line checked on its own. The unfinished rest stays bytes (it may end inside a character).
   */
  private strictChunk(n: number): void {
    const buf = this.chunkBuf;
    const base = this.inBytes;
    this.inBytes += n;
    const view = buf.subarray(0, n);
    let from = 0;
    if (this.partialLen > 0) {
      const nl = view.indexOf(10);
      if (nl < 0) {
        if (this.partialLen + n > this.maxLineBytes) {
          this.partialLen = 0;
          this.tooLong();
        } else {
          this.appendPartial(buf, 0, n);
          this.partialNonAscii = true;
        }
        return;
      }
      this.appendPartial(buf, 0, nl);
      const len = this.partialLen;
      this.partialLen = 0;
      this.partialNonAscii = false;
      this.strictLine(this.partialBuf, 0, len, this.partialOffset); // checked whatever the flag: its end is this chunk's
      from = nl + 1;
    }
    for (;;) {
      const nl = view.indexOf(10, from);
      if (nl < 0) break;
      this.strictLine(buf, from, nl, base + from);
      from = nl + 1;
    }
    this.partialOffset = base + from;
    if (n - from > this.maxLineBytes) this.tooLong();
    else if (n > from) {
      this.appendPartial(buf, from, n);
      this.partialNonAscii = true;
    }
  }

  /** Strict framing, the line u[ls, end) of bytes (end: its '\n' or the end of input): ASCII as ever, else decoded fatally. */
  private strictLine(u: Uint8Array, ls: number, end: number, offset: number): void {
    if (isAsciiRange(u, ls, end)) {
      this.bytesLine(u, ls, end, null, false, offset);
      return;
    }
    if (!this.startLine()) return;
    const le = end > ls && u[end - 1] === 13 ? end - 1 : end;
    if (le - ls > this.maxLineBytes) {
      this.sink.lineTooLong(this.line.lineNo);
      return;
    }
    let text: string;
    try {
      text = strictDecoder.decode(u.subarray(ls, le));
    } catch {
      this.sink.notUtf8!(this.line.lineNo, offset);
      return;
    }
    this.textLine(text, offset);
  }

  private appendPartial(buf: Uint8Array, from: number, to: number): void {
    const len = this.partialLen + to - from;
    if (this.partialBuf.length <= len) {
      // Doubling: growth copies add up to at most twice the longest line.
      const grown = new Uint8Array(Math.max(len + 1, this.partialBuf.length * 2));
      grown.set(this.partialBuf.subarray(0, this.partialLen));
      this.bytesCopied += this.partialLen;
      this.partialBuf = grown;
    }
    this.bytesCopied += to - from;
    this.partialBuf.set(buf.subarray(from, to), this.partialLen);
    this.partialLen = len;
  }

  /** The unfinished line is too long to be a line: dropped up to its end (and reported once). */
  private tooLong(): void {
    this.partialNonAscii = false;
    if (!this.skippingLongLine) this.sink.lineTooLong(this.line.lineNo + 1);
    this.skippingLongLine = true;
  }

  private keepPartialStr(text: string): void {
    if (text.length > this.maxLineBytes) {
      this.tooLong();
      text = '';
    }
    this.partialStr = text;
  }

  /**
   * Hands on every complete line of an ASCII chunk from `start`; returns where the unfinished rest
   * starts. Newlines are found in the string if there is one (its indexOf is faster than a typed
   * array's). A loop of its own, with nothing after it: V8 reuses on-stack-replacement code across
   * calls, and code after a loop that the first OSR compile never saw deoptimized it on every chunk.
   */
  private lines(buf: Uint8Array, view: Uint8Array | null, start: number, src: string | null, crFree: boolean, base: number): number {
    for (;;) {
      const nl = src !== null ? src.indexOf('\n', start) : view!.indexOf(10, start);
      if (nl < 0) return start;
      this.bytesLine(buf, start, nl, src, crFree, base + start);
      start = nl + 1;
    }
  }

  /** A string chunk with non-ASCII characters (or decoded bytes): split here, each line handed on as its units. */
  private stringChunk(chunk: string): void {
    if (this.partialLen > 0) {
      this.partialStr = unitsToString(this.partialBuf, 0, this.partialLen);
      this.bytesCopied += this.partialLen;
      this.partialLen = 0;
    }
    let from = 0;
    let at = this.inBytes;
    if (this.partialStr.length > 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.bytesCopied += chunk.length; // a rope append: the chunk, not the line so far
        this.keepPartialStr(this.partialStr + chunk);
        this.inBytes += utf8Length(chunk, 0, chunk.length);
        return;
      }
      const joined = this.partialStr + chunk.slice(0, nl);
      this.partialStr = '';
      at = this.partialOffset + this.stringLine(joined, this.partialOffset) + 1;
      from = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      if (nl < 0) break;
      at += this.stringLine(chunk.slice(from, nl), at) + 1;
      from = nl + 1;
    }
    this.partialOffset = at;
    this.inBytes = at + utf8Length(chunk, from, chunk.length);
    this.keepPartialStr(from === 0 ? chunk : chunk.slice(from));
  }

  /** Counts a line; false if it is the rest of a line too long to parse. */
  private startLine(): boolean {
    this.line.lineNo++;
    this.counts.lines++;
    if (!this.skippingLongLine) return true;
    this.skippingLongLine = false;
    return false;
  }

  /** The ASCII line u[ls, end) (end: its '\n' or the end of input); `src` as in Line. */
  private bytesLine(u: Uint8Array, ls: number, end: number, src: string | null, crFree: boolean, offset: number): void {
    if (!this.startLine()) return;
    const line = this.line;
    const le = end > ls && u[end - 1] === 13 ? end - 1 : end;
    if (le - ls > this.maxLineBytes) {
      this.sink.lineTooLong(line.lineNo);
      return;
    }
    u[le] = 0; // the sentinel (code-units.ts): over the '\r' or '\n' just consumed, or the spare unit after the data
    line.u = u;
    line.ls = ls;
    line.le = le;
    line.src = src;
    line.crFree = crFree;
    line.byteOffset = offset;
    if (u !== this.wordsOf) {
      this.wordsOf = u;
      line.words = new DataView(u.buffer, u.byteOffset, u.byteLength);
    }
    this.sink.onLine();
  }

  /** A line as a string (from a chunk that is not all ASCII), terminator and all; returns the UTF-8 bytes of `raw` (for the offsets). */
  private stringLine(raw: string, offset: number): number {
    if (!this.startLine()) return utf8Length(raw, 0, raw.length);
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    if (text.length > this.maxLineBytes) {
      this.sink.lineTooLong(this.line.lineNo);
      return utf8Length(raw, 0, raw.length);
    }
    return this.textLine(text, offset) + raw.length - text.length;
  }

  /**
   * The counted line `text` (terminator dropped): handed on as its bytes if it is ASCII, else its
   * UTF-16 units. Returns its UTF-8 bytes.
   */
  private textLine(text: string, offset: number): number {
    const line = this.line;
    const n = text.length;
    if (this.lineBytes.length <= n) this.lineBytes = new Uint8Array(n * 2 + 1);
    const { read, written } = encoder.encodeInto(text, this.lineBytes);
    let u: Units = this.lineBytes;
    let textBytes = n; // ASCII: one byte per unit
    if (read !== n || written !== n) {
      textBytes = utf8Length(text, 0, n);
      if (this.lineUnits.length <= n) this.lineUnits = new Uint16Array(n * 2 + 1);
      u = this.lineUnits;
      for (let i = 0; i < n; i++) u[i] = text.charCodeAt(i);
    }
    u[n] = 0;
    line.u = u;
    line.ls = 0;
    line.le = n;
    line.src = text;
    line.crFree = false;
    line.byteOffset = offset;
    line.words = null;
    this.wordsOf = null;
    this.sink.onLine();
    return textBytes;
  }
}

/** Whether buf[0, n) is all ASCII; buf starts 4-byte aligned. Word at a time: this reads every byte of a chunk. */
function isAscii(buf: Uint8Array, n: number): boolean {
  const words = new Int32Array(buf.buffer, buf.byteOffset, n >> 2);
  const w = words.length;
  let a = 0;
  let b = 0;
  let i = 0;
  for (; i + 1 < w; i += 2) {
    a |= words[i]!;
    b |= words[i + 1]!;
  }
  if (i < w) a |= words[i]!;
  for (let k = w << 2; k < n; k++) a |= buf[k]!;
  return ((a | b) & 0x80808080) === 0;
}

/** Whether u[from, to) is all ASCII (strict framing, per line of a chunk that is not). */
function isAsciiRange(u: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (u[i]! >= 0x80) return false;
  return true;
}

/** UTF-8 bytes of s[from, to) (a surrogate pair is one 4-byte character; a lone surrogate 3, as U+FFFD). */
function utf8Length(s: string, from: number, to: number): number {
  let n = to - from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < to && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}
