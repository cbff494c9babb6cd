// Chunks → lines. Chunks come as strings or UTF-8 bytes, of any size; a line may straddle chunks.
// A string chunk that is all ASCII (nearly every trace) is encoded into bytes at once and its lines
// are handed on in place; strings are never made per line. A chunk with other characters is split
// as a string and each line handed on as its bytes (if the line is ASCII) or its UTF-16 code
// units, so columns and the `\s` grammar are those of the string. Byte chunks that are not all
// ASCII go through a streaming UTF-8 decoder (a character may straddle chunks).
//
//   push(chunk) ──► asciiChunk ──► bytesLine ──┐
//              └──► stringChunk ─► stringLine ─┴─► line filled ──► sink.onLine()
//
// Lines over MAX_FTRACE_LINE_BYTES are dropped up to their end and reported (sink.lineTooLong).
import { unitsToString, type Units } from '../code-units.ts';
import type { Line } from './line.ts';

/** ftrace lines are bounded by the kernel's trace_seq (a page); anything far longer is garbage. */
export const MAX_FTRACE_LINE_BYTES = 64 * 1024;

/** Who gets the lines. */
export interface LineSink {
  /** framer.line holds the next line (its lineNo counted). */
  onLine(): void;
  /** Line `lineNo` is longer than MAX_FTRACE_LINE_BYTES and was skipped. */
  lineTooLong(lineNo: number): void;
}

/** TextEncoder.encodeInto and streaming TextDecoder (both hosts have them; core's globals.d.ts declares less). */
interface Utf8Encoder { encodeInto(s: string, into: Uint8Array): { read: number; written: number } }
interface Utf8StreamDecoder { decode(input?: Uint8Array, options?: { stream?: boolean }): string }
const encoder = new TextEncoder() as unknown as Utf8Encoder;

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

  /** `counts.lines` counts every line, parsed or skipped (it is the parser's public stats object). */
  constructor(readonly line: Line, private readonly sink: LineSink, private readonly counts: { lines: number }) {}

  /** Text (a string) or UTF-8 bytes; a file may be pushed either way, in chunks of any size. */
  push(chunk: string | Uint8Array): void {
    if (typeof chunk === 'string') {
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
      this.bytesLine(this.partialBuf, 0, len, null, false);
    } else if (this.partialStr.length > 0) {
      const last = this.partialStr;
      this.partialStr = '';
      this.stringLine(last);
    }
  }

  /** chunkBuf[0, n) is ASCII (and equal to `src` if not null). */
  private asciiChunk(n: number, src: string | null): void {
    const buf = this.chunkBuf;
    const view = src === null ? buf.subarray(0, n) : null;
    const crFree = (src !== null ? src.indexOf('\r') : view!.indexOf(13)) < 0;
    let from = 0;
    if (this.partialLen > 0 || this.partialStr.length > 0) {
      const nl = src !== null ? src.indexOf('\n') : view!.indexOf(10);
      if (nl < 0) {
        if (this.partialStr.length > 0) this.keepPartialStr(this.partialStr + (src ?? unitsToString(buf, 0, n)));
        else if (this.partialLen + n > MAX_FTRACE_LINE_BYTES) {
          this.partialLen = 0;
          this.tooLong();
        } else this.appendPartial(buf, 0, n);
        return;
      }
      // Only the line that straddles the boundary is joined.
      if (this.partialStr.length > 0) {
        const joined = this.partialStr + (src !== null ? src.slice(0, nl) : unitsToString(buf, 0, nl));
        this.partialStr = '';
        this.stringLine(joined);
      } else {
        this.appendPartial(buf, 0, nl);
        const len = this.partialLen;
        this.partialLen = 0;
        this.bytesLine(this.partialBuf, 0, len, null, false);
      }
      from = nl + 1;
    }
    const start = this.lines(buf, view, from, src, crFree);
    if (n - start > MAX_FTRACE_LINE_BYTES) this.tooLong();
    else this.appendPartial(buf, start, n);
  }

  private appendPartial(buf: Uint8Array, from: number, to: number): void {
    const len = this.partialLen + to - from;
    if (this.partialBuf.length <= len) {
      const grown = new Uint8Array(Math.max(len + 1, this.partialBuf.length * 2));
      grown.set(this.partialBuf.subarray(0, this.partialLen));
      this.partialBuf = grown;
    }
    this.partialBuf.set(buf.subarray(from, to), this.partialLen);
    this.partialLen = len;
  }

  /** The unfinished line is too long to be a line: dropped up to its end (and reported once). */
  private tooLong(): void {
    if (!this.skippingLongLine) this.sink.lineTooLong(this.line.lineNo + 1);
    this.skippingLongLine = true;
  }

  private keepPartialStr(text: string): void {
    if (text.length > MAX_FTRACE_LINE_BYTES) {
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
  private lines(buf: Uint8Array, view: Uint8Array | null, start: number, src: string | null, crFree: boolean): number {
    for (;;) {
      const nl = src !== null ? src.indexOf('\n', start) : view!.indexOf(10, start);
      if (nl < 0) return start;
      this.bytesLine(buf, start, nl, src, crFree);
      start = nl + 1;
    }
  }

  /** A string chunk with non-ASCII characters (or decoded bytes): split here, each line handed on as its units. */
  private stringChunk(chunk: string): void {
    if (this.partialLen > 0) {
      this.partialStr = unitsToString(this.partialBuf, 0, this.partialLen);
      this.partialLen = 0;
    }
    let from = 0;
    if (this.partialStr.length > 0) {
      const nl = chunk.indexOf('\n');
      if (nl < 0) {
        this.keepPartialStr(this.partialStr + chunk);
        return;
      }
      const joined = this.partialStr + chunk.slice(0, nl);
      this.partialStr = '';
      this.stringLine(joined);
      from = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      if (nl < 0) break;
      this.stringLine(chunk.slice(from, nl));
      from = nl + 1;
    }
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
  private bytesLine(u: Uint8Array, ls: number, end: number, src: string | null, crFree: boolean): void {
    if (!this.startLine()) return;
    const line = this.line;
    const le = end > ls && u[end - 1] === 13 ? end - 1 : end;
    if (le - ls > MAX_FTRACE_LINE_BYTES) {
      this.sink.lineTooLong(line.lineNo);
      return;
    }
    u[le] = 0; // the sentinel (code-units.ts): over the '\r' or '\n' just consumed, or the spare unit after the data
    line.u = u;
    line.ls = ls;
    line.le = le;
    line.src = src;
    line.crFree = crFree;
    if (u !== this.wordsOf) {
      this.wordsOf = u;
      line.words = new DataView(u.buffer, u.byteOffset, u.byteLength);
    }
    this.sink.onLine();
  }

  /** A line as a string (from a chunk that is not all ASCII): handed on as its bytes if it is ASCII, else its UTF-16 units. */
  private stringLine(raw: string): void {
    if (!this.startLine()) return;
    const line = this.line;
    const text = raw.charCodeAt(raw.length - 1) === 13 ? raw.slice(0, -1) : raw;
    const n = text.length;
    if (n > MAX_FTRACE_LINE_BYTES) {
      this.sink.lineTooLong(line.lineNo);
      return;
    }
    if (this.lineBytes.length <= n) this.lineBytes = new Uint8Array(n * 2 + 1);
    const { read, written } = encoder.encodeInto(text, this.lineBytes);
    let u: Units = this.lineBytes;
    if (read !== n || written !== n) {
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
    line.words = null;
    this.wordsOf = null;
    this.sink.onLine();
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
