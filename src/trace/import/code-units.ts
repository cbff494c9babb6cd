// Scanning text held as code units in a typed array: ASCII bytes (Uint8Array) or UTF-16 code units
// (Uint16Array). Either way `u[i]` is what `string.charCodeAt(i)` would give, so a parser written
// on units matches its string counterpart while building no per-line or per-token strings.
// Callers keep a sentinel unit 0 after each line: it fails every predicate here (as NaN past a
// string's end does), so scanners stop at the line end without a bounds check.

export type Units = Uint8Array | Uint16Array;

/** Longest decimal run whose digit-by-digit sum is exact (< 2^53). */
const MAX_EXACT_DEC_DIGITS = 15;
/** Longest hex run whose digit-by-digit sum is exact (< 2^52). */
const MAX_EXACT_HEX_DIGITS = 13;
/** Arguments per String.fromCharCode call (engines cap the argument count). */
const FROM_CHAR_CODE_BATCH = 4096;

const utf8 = new TextDecoder();
/** Up to this many bytes, unitsToString builds the string itself (~5x faster than the decoder for 3 bytes, even at ~14). */
const SHORT_UNITS = 12;

/** u[from, to) as a string. Bytes (always ASCII here) go through the native UTF-8 decoder: twice as fast as fromCharCode.apply. */
export function unitsToString(u: Units, from: number, to: number): string {
  if (to <= from) return '';
  if (u instanceof Uint8Array) {
    // A short token (a number, a name) is made faster unit by unit than by a decoder call and its subarray.
    if (to - from <= SHORT_UNITS) {
      let s = '';
      for (let i = from; i < to; i++) {
        const c = u[i]!;
        if (c > 127) return utf8.decode(u.subarray(from, to));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(u.subarray(from, to));
  }
  let s = '';
  for (let i = from; i < to; i += FROM_CHAR_CODE_BATCH) {
    s += String.fromCharCode.apply(null, u.subarray(i, Math.min(to, i + FROM_CHAR_CODE_BATCH)) as unknown as number[]);
  }
  return s;
}

/** u[at, at + lit.length) === lit. */
export function hasAt(u: Units, at: number, lit: string): boolean {
  for (let k = 0; k < lit.length; k++) if (u[at + k] !== lit.charCodeAt(k)) return false;
  return true;
}

/** JavaScript's `\s` (WhiteSpace and LineTerminator), which the line grammar was written in. */
export function isWs(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c >= 160 && (c === 160 || c === 5760 || (c >= 8192 && c <= 8202) ||
    c === 8232 || c === 8233 || c === 8239 || c === 8287 || c === 12288 || c === 65279));
}
/** What `.` does not match. */
export function isLineTerminator(c: number): boolean {
  return c === 10 || c === 13 || c === 8232 || c === 8233;
}
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
/** `\w`. */
export function isWord(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
/** The irq-info flag characters `[.a-zA-Z0-9]`. */
export function isFlagChar(c: number): boolean {
  return c === 46 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}
export function skipWs(u: Units, p: number): number {
  while (isWs(u[p]!)) p++;
  return p;
}

// Numbers on u[from, to). Each gives exactly what its regex + Number()/parseInt() counterpart on
// the string gives: runs short enough to be exact in a double are summed digit by digit, longer
// ones go through the library on a string.

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 32;
  return l >= 97 && l <= 102 ? l - 87 : -1;
}
function isHexRun(u: Units, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (hexDigit(u[i]!) < 0) return false;
  return true;
}
function hexValue(u: Units, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) v = v * 16 + hexDigit(u[i]!);
  return v;
}
/** `/^-?\d+$/` then Number(); NaN if it does not match. */
export function decAt(u: Units, from: number, to: number): number {
  const neg = u[from] === 45;
  const d0 = neg ? from + 1 : from;
  if (d0 >= to) return NaN;
  let v = 0;
  for (let i = d0; i < to; i++) {
    const c = u[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  if (to - d0 > MAX_EXACT_DEC_DIGITS) return Number(unitsToString(u, from, to));
  return neg ? -v : v;
}
/** `0x1f`, `31`, `-5` → number (NaN if none of these). Hex above 2^53 loses precision (lengths only). */
export function parseNumAt(u: Units, from: number, to: number): number {
  if (to - from > 2 && u[from] === 48 && (u[from + 1]! | 32) === 120) {
    if (!isHexRun(u, from + 2, to)) return NaN;
    return to - from - 2 <= MAX_EXACT_HEX_DIGITS ? hexValue(u, from + 2, to) : Number.parseInt(unitsToString(u, from, to), 16);
  }
  return decAt(u, from, to);
}
/** A 1-16 digit hex run as a signed 64-bit long, then a number (as BigInt.asIntN(64) would). */
function hexLongAt(u: Units, from: number, to: number): number {
  const digits = to - from;
  if (digits <= MAX_EXACT_HEX_DIGITS) return hexValue(u, from, to);
  if (digits === 16 && (u[from]! | 32) === 102 && (u[from + 1]! | 32) === 102 &&
    (u[from + 2]! | 32) === 102 && (u[from + 3]! | 32) === 102) {
    // -errno and other small negatives: x - 2^64 = -(~x + 1), and ~x < 2^48 is exact.
    let inv = 0;
    for (let i = from + 4; i < to; i++) inv = inv * 16 + (15 - hexDigit(u[i]!));
    return -(inv + 1);
  }
  return Number(BigInt.asIntN(64, BigInt('0x' + unitsToString(u, from, to))));
}
/** A syscall return/argument printed as hex of a long (`0xfffffffffffffff2` is -14); else decimal; else NaN. */
export function parseLongAt(u: Units, from: number, to: number): number {
  const len = to - from;
  if (len >= 3 && len <= 18 && u[from] === 48 && (u[from + 1]! | 32) === 120 && isHexRun(u, from + 2, to)) {
    return hexLongAt(u, from + 2, to);
  }
  if (len >= 9 && len <= 16 && isHexRun(u, from, to)) return hexLongAt(u, from, to);
  return decAt(u, from, to);
}

/**
 * Values by the units that spell their key, which is decoded once: the last `slots` keys, the
 * last hit first, then in order (a length and first-unit check rejects most). A trace repeats a
 * few task, tracepoint and syscall names; hashing each key cost more than this search.
 */
export class Interner<V> {
  private readonly keys: string[] = [];
  private readonly values: V[] = [];
  private next = 0;
  private last = 0;
  constructor(private readonly slots = 32) {}
  /** The value stored for key u[from, to), or undefined. */
  get(u: Units, from: number, to: number): V | undefined {
    const len = to - from;
    const first = u[from];
    const keys = this.keys;
    const last = keys[this.last];
    if (last !== undefined && last.length === len && last.charCodeAt(0) === first && hasAt(u, from, last)) return this.values[this.last];
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (k.length === len && k.charCodeAt(0) === first && hasAt(u, from, k)) {
        this.last = i;
        return this.values[i];
      }
    }
    return undefined;
  }
  /** Stores `value` for `key` (a string of its own: a slice would keep its whole source alive), replacing the oldest. */
  put(key: string, value: V): V {
    this.keys[this.next] = key;
    this.values[this.next] = value;
    this.last = this.next;
    this.next = (this.next + 1) % this.slots;
    return value;
  }
}
