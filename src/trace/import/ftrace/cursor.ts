// Positional reading of a tracepoint body, and the number parsers the readers share. Series
// formats repeat key names inside one line (`length` in the RANGE and again in the MAP part of
// fuse_iomap_end, docs/domain.md §4.4), so fields are read in order from a cursor, never
// into a key→value map.
import { hasAt, parseNumAt, type Units } from '../code-units.ts';
import type { Line } from '../line.ts';

/** Thrown by body readers and handlers only; the parser turns it into a `bad_body` diag and an `unparsed` instant. */
export class BodyError extends Error {
  constructor(readonly col: number, message: string) { super(message); }
}

/** Positional reader over a tracepoint body u[start, end): keys repeat, so each read searches from the cursor. */
export class Cursor {
  u: Units = new Uint8Array(1);
  start = 0;
  end = 0;
  p = 0;
  constructor(private readonly line: Line) {}
  reset(start: number, end: number): this {
    this.u = this.line.u;
    this.start = start;
    this.end = end;
    this.p = start;
    return this;
  }
  /** The body as a string. */
  text(): string {
    return this.line.str(this.start, this.end);
  }
  /** u[from, to) of the line as a string. */
  str(from: number, to: number): string {
    return this.line.str(from, to);
  }
  /** Index of the value after `key ` found at a token boundary at or after the cursor. */
  private find(key: string): number {
    const u = this.u;
    const k0 = key.charCodeAt(0);
    const last = this.end - key.length;
    let i = this.p;
    for (;;) {
      while (i <= last && (u[i] !== k0 || !hasAt(u, i, key))) i++;
      if (i > last) throw new BodyError(this.p - this.start, `expected '${key}'`);
      const after = i + key.length;
      if ((i === this.start || u[i - 1] === 32) && (u[after] === 32 || u[after] === 61)) return after + 1;
      i = after;
    }
  }
  /** True if the next token is `key` (optional fields that newer formats added). */
  has(key: string): boolean {
    const u = this.u;
    let i = this.p;
    while (u[i] === 32) i++;
    if (!hasAt(u, i, key)) return false;
    const after = u[i + key.length];
    return after === 32 || after === 61;
  }
  /** End of the token at `v`: the next space, else the body's end. */
  private tokenEnd(v: number): number {
    const u = this.u;
    const end = this.end;
    let e = v;
    while (e < end && u[e] !== 32) e++;
    return e;
  }
  token(key: string): string {
    const v = this.find(key);
    const e = this.tokenEnd(v);
    this.p = e;
    return this.line.str(v, e);
  }
  num(key: string): number {
    const start = this.p;
    const v = this.find(key);
    const e = this.tokenEnd(v);
    this.p = e;
    const n = parseNumAt(this.u, v, e);
    if (Number.isNaN(n)) throw new BodyError(start - this.start, `${key}: '${this.line.str(v, e)}' is not a number`);
    return n;
  }
  u64(key: string): bigint {
    const start = this.p;
    const t = this.token(key);
    const v = parseU64(t);
    if (v === null) throw new BodyError(start - this.start, `${key}: '${t}' is not a 64-bit value`);
    return v;
  }
  /** `key (a|b)` → `a|b`. */
  paren(key: string): string {
    const v = this.find(key);
    const u = this.u;
    if (u[v] !== 40) throw new BodyError(v - this.start, `${key}: expected '('`);
    let e = v + 1;
    while (e < this.end && u[e] !== 41) e++;
    if (e >= this.end) throw new BodyError(v - this.start, `${key}: unclosed '('`);
    this.p = e + 1;
    return this.line.str(v + 1, e);
  }
}

/** `0x1f`, `31`, `-5` → number (NaN if none of these). Hex above 2^53 loses precision (lengths only). */
export function parseNum(t: string): number {
  const u = new Uint8Array(t.length + 1);
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c > 127) return NaN; // only ASCII digits, '-', 'x' and a-f spell a number
    u[i] = c;
  }
  return parseNumAt(u, 0, t.length);
}

/** Hex (with or without 0x, as `%p` prints) or decimal → u64 bigint, or null. */
export function parseU64(t: string): bigint | null {
  if (/^0x[0-9a-f]{1,16}$/i.test(t)) return BigInt(t);
  if (/^[0-9a-f]{16}$/i.test(t)) return BigInt('0x' + t);
  if (/^\d{1,20}$/.test(t)) return BigInt.asUintN(64, BigInt(t));
  return null;
}

/** A text quoted for a message, cut at 80 characters. */
export function excerpt(text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
}
