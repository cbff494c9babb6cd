// The `print fmt` of an event format, compiled once per event and run per record: the body text
// `trace-cmd report` prints for it. The kernel expands its macros before writing the format, so the
// arguments are C expressions over `REC->field`: integer arithmetic, casts, ternaries, and the
// helpers __get_str, __print_flags, __print_symbolic, __get_bitmask (as hex) … (the subset event
// formats use; an expression we cannot compile falls back to `field=value` pairs, never a guess).
// Values are BigInt (a u64 field must print exactly).
import { type EventFormat, type FieldFormat, locRange } from './format.ts';
import { compilePieceSequence, type SeqPiece } from '../../codegen.ts';

type Value = bigint | string;
export interface RecordView {
  readonly view: DataView;
  /** Byte offset of the record's first byte (common_type) in view. */
  readonly base: number;
  readonly size: number;
  readonly little: boolean;
  /** Long size of the traced kernel (4 or 8): `%ld`, `unsigned long`, pointers. */
  readonly longBytes: number;
}
type Eval = (r: RecordView) => Value;

const latin1 = new TextDecoder('latin1');
const utf8 = new TextDecoder('utf-8');

/** A field's value: integers as BigInt (signed by its format), char arrays and __data_loc strings as text. */
export function fieldValue(r: RecordView, f: FieldFormat): Value {
  if (f.loc !== null) {
    const [s, e] = locRange(r.view, r.base, f, r.little);
    const bytes = new Uint8Array(r.view.buffer, r.view.byteOffset + r.base + s, Math.max(0, Math.min(e, r.size) - s));
    return cString(bytes);
  }
  if (f.isString) return cString(new Uint8Array(r.view.buffer, r.view.byteOffset + r.base + f.offset, f.size));
  return readInt(r, r.base + f.offset, f.size, f.signed);
}

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  const b = nul >= 0 ? bytes.subarray(0, nul) : bytes;
  try {
    return utf8.decode(b);
  } catch {
    return latin1.decode(b);
  }
}

export function readInt(r: RecordView, at: number, size: number, signed: boolean): bigint {
  const v = r.view;
  switch (size) {
    case 1: return BigInt(signed ? v.getInt8(at) : v.getUint8(at));
    case 2: return BigInt(signed ? v.getInt16(at, r.little) : v.getUint16(at, r.little));
    case 4: return BigInt(signed ? v.getInt32(at, r.little) : v.getUint32(at, r.little));
    case 8: return signed ? v.getBigInt64(at, r.little) : v.getBigUint64(at, r.little);
    default: return 0n;
  }
}

// ---- tokenizer ----
type Tok = { t: 'num'; v: bigint } | { t: 'str'; v: string } | { t: 'id'; v: string } | { t: 'op'; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"') {
      let v = '';
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === '\\') {
          if (i + 1 >= s.length) break; // a backslash that ends the text: the string is unterminated anyway
          const n = s[i + 1]!;
          v += n === 'n' ? '\n' : n === 't' ? '\t' : n;
          i += 2;
        } else v += s[i++];
      }
      i++;
      // Adjacent string literals concatenate.
      const last = out[out.length - 1];
      if (last && last.t === 'str') last.v += v;
      else out.push({ t: 'str', v });
      continue;
    }
    if (c === "'") {
      // A character literal: 'x' or '\x'. Unterminated, it is an error (searching on from the start
      // again, as a missing quote once did, looped forever on a damaged print fmt).
      const escaped = s[i + 1] === '\\';
      const close = i + (escaped ? 3 : 2);
      if (close >= s.length || s[close] !== "'") throw new Error(`unterminated character literal at ${i}`);
      const ch = s[close - 1]!;
      const v = escaped ? ({ n: 10, t: 9, r: 13, '0': 0 } as Record<string, number>)[ch] ?? ch.charCodeAt(0) : ch.charCodeAt(0);
      out.push({ t: 'num', v: BigInt(v) });
      i = close + 1;
      continue;
    }
    const num = /^(0[xX][0-9a-fA-F]+|\d+)[uUlL]*/.exec(s.slice(i, i + 40));
    if (num) {
      out.push({ t: 'num', v: BigInt(num[1]!) });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_]\w*/.exec(s.slice(i, i + 200));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = /^(->|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^~!<>?:(),{}.[\]])/.exec(s.slice(i, i + 2));
    if (!op) throw new Error(`unexpected '${c}'`);
    out.push({ t: 'op', v: op[0] });
    i += op[0].length;
  }
  return out;
}

const TYPE_WORDS = new Set(['unsigned', 'signed', 'int', 'long', 'short', 'char', 'void', 'const', 'bool', '_Bool', 'struct', 'u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', '__u8', '__u16', '__u32', '__u64', '__s8', '__s16', '__s32', '__s64', 'size_t', 'ssize_t', 'loff_t', 'pid_t', 'dev_t', 'gfp_t', 'umode_t', 'uint32_t', 'uint64_t', 'int32_t', 'int64_t']);

/** A cast to a C integer type: width and signedness (null: a type we do not narrow, e.g. a typedef). */
function castOf(words: string[], stars: number, longBytes: number): { bits: number; signed: boolean } | null {
  if (stars > 0) return { bits: longBytes * 8, signed: false };
  const w = words.filter((x) => x !== 'const' && x !== 'volatile');
  const unsigned = w.includes('unsigned') || /^(?:__)?u\d+$|^uint\d+_t$|^size_t$|^dev_t$|^gfp_t$|^umode_t$/.test(w[w.length - 1] ?? '');
  const last = w[w.length - 1] ?? 'int';
  const m = /(\d+)/.exec(last);
  if (/^(?:__)?[us]\d+$|^u?int\d+_t$/.test(last) && m) return { bits: Number(m[1]), signed: !unsigned };
  if (last === 'char') return { bits: 8, signed: !unsigned };
  if (last === 'short') return { bits: 16, signed: !unsigned };
  if (last === 'long' || w.includes('long')) return { bits: w.filter((x) => x === 'long').length >= 2 ? 64 : longBytes * 8, signed: !unsigned };
  if (last === 'size_t' || last === 'ssize_t' || last === 'loff_t') return { bits: 64, signed: last !== 'size_t' };
  if (last === 'int' || last === 'unsigned' || last === 'signed' || last === 'pid_t') return { bits: 32, signed: !unsigned };
  if (last === 'bool' || last === '_Bool') return { bits: 1, signed: false };
  if (last === 'dev_t' || last === 'gfp_t' || last === 'umode_t') return { bits: last === 'umode_t' ? 16 : 32, signed: false };
  return null;
}

function truncate(v: Value, bits: number, signed: boolean): Value {
  if (typeof v === 'string') return v;
  if (bits === 1) return v !== 0n ? 1n : 0n;
  return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
}

const num = (v: Value): bigint => (typeof v === 'string' ? 0n : v);

/** An argument that is a plain integer field (`REC->x`, or a cast that keeps its value): printed without BigInt when it allows (fastPiece). */
const directField = new WeakMap<Eval, FieldFormat>();
/** An argument that is a string field (char array, `__data_loc char[]`): its bytes copied as they are when ASCII (fieldWriter). */
const stringField = new WeakMap<Eval, FieldFormat>();
function stringRef(f: FieldFormat): Eval {
  const e: Eval = (r) => fieldValue(r, f);
  if (f.loc !== null || f.isString) stringField.set(e, f);
  return e;
}
/** Subexpressions without a field in them, folded when compiled. */
const constant = new WeakMap<Eval, bigint>();
/**
 * Subexpressions whose value is always an integer a number holds exactly within 32 bits ([-2^31,
 * 2^32)): the same value as a number (`nonNeg`: never negative), so fields of up to 4 bytes, the
 * MAJOR/MINOR shifts and masks and the flag tables print without a BigInt per record.
 */
interface Small { get: (r: RecordView) => number; nonNeg: boolean }
const small = new WeakMap<Eval, Small>();
/** A folding-only record (constants read no field). */
const NO_RECORD: RecordView = { view: new DataView(new ArrayBuffer(8)), base: 0, size: 0, little: true, longBytes: 8 };

/** `e` as a constant if every input is one (folded), with its small form when it fits. */
function folded(e: Eval, inputs: Eval[]): Eval {
  if (!inputs.every((x) => constant.has(x))) return e;
  const v = e(NO_RECORD);
  if (typeof v !== 'bigint') return e;
  const c: Eval = () => v;
  constant.set(c, v);
  if (v >= -(2n ** 31n) && v < 2n ** 32n) { const n = Number(v); small.set(c, { get: () => n, nonNeg: n >= 0 }); }
  return c;
}

/** A compiled argument list, and what it needs from the field table. */
class Compiler {
  private i = 0;
  constructor(private readonly toks: Tok[], private readonly ev: EventFormat, private readonly longBytes: number) {}
  private peek(): Tok | undefined { return this.toks[this.i]; }
  private isOp(v: string): boolean { const t = this.toks[this.i]; return t !== undefined && t.t === 'op' && t.v === v; }
  private expect(v: string): void {
    if (!this.isOp(v)) throw new Error(`expected '${v}'`);
    this.i++;
  }
  done(): boolean { return this.i >= this.toks.length; }

  args(): Eval[] {
    const out: Eval[] = [];
    while (!this.done()) {
      this.expect(',');
      out.push(this.ternary());
    }
    return out;
  }

  ternary(): Eval {
    const c = this.binary(0);
    if (!this.isOp('?')) return c;
    this.i++;
    const a = this.ternary();
    this.expect(':');
    const b = this.ternary();
    return (r) => (truthy(c(r)) ? a(r) : b(r));
  }

  private static readonly PREC: Record<string, number> = {
    '||': 1, '&&': 2, '|': 3, '^': 4, '&': 5, '==': 6, '!=': 6, '<': 7, '>': 7, '<=': 7, '>=': 7, '<<': 8, '>>': 8, '+': 9, '-': 9, '*': 10, '/': 10, '%': 10,
  };

  binary(min: number): Eval {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (!t || t.t !== 'op') return left;
      const p = Compiler.PREC[t.v];
      if (p === undefined || p <= min) return left;
      this.i++;
      const right = this.binary(p);
      left = binop(t.v, left, right);
    }
  }

  unary(): Eval {
    const t = this.peek();
    if (t?.t === 'op') {
      if (t.v === '-') { this.i++; const e = this.unary(); return folded((r) => -num(e(r)), [e]); }
      if (t.v === '~') { this.i++; const e = this.unary(); return folded((r) => ~num(e(r)), [e]); }
      if (t.v === '!') { this.i++; const e = this.unary(); return folded((r) => (truthy(e(r)) ? 0n : 1n), [e]); }
      if (t.v === '&') { this.i++; return this.unary(); }
      if (t.v === '*') { this.i++; return this.unary(); }
      if (t.v === '(') {
        // A cast `(type words *)` or a parenthesised expression.
        const save = this.i;
        this.i++;
        const words: string[] = [];
        let stars = 0;
        for (let t = this.peek(); t?.t === 'id' && (TYPE_WORDS.has(t.v) || /_t$/.test(t.v) || words[words.length - 1] === 'struct'); t = this.peek()) {
          words.push(t.v);
          this.i++;
        }
        while (this.isOp('*')) { stars++; this.i++; }
        if (words.length > 0 && this.isOp(')')) {
          this.i++;
          const e = this.unary();
          const c = castOf(words, stars, this.longBytes);
          return c === null ? e : castEval(e, c.bits, c.signed);
        }
        this.i = save + 1;
        const e = this.ternary();
        this.expect(')');
        return this.postfix(e);
      }
    }
    return this.postfix(this.primary());
  }

  private postfix(e: Eval): Eval {
    // `x[i]` on an array field is not needed by the formats we read: refused rather than guessed.
    if (this.isOp('[')) throw new Error('array indexing');
    return e;
  }

  primary(): Eval {
    const t = this.toks[this.i++];
    if (!t) throw new Error('unexpected end');
    if (t.t === 'num') { const v = t.v; return folded(() => v, []); }
    if (t.t === 'str') { const v = t.v; return () => v; }
    if (t.t !== 'id') throw new Error(`unexpected '${t.v}'`);
    if (t.v === 'REC') {
      this.expect('->');
      return this.fieldRef(this.ident());
    }
    if (t.v === 'sizeof') throw new Error('sizeof');
    if (this.isOp('(')) return this.call(t.v);
    throw new Error(`unknown name ${t.v}`);
  }

  private ident(): string {
    const t = this.toks[this.i++];
    if (!t || t.t !== 'id') throw new Error('expected a name');
    return t.v;
  }

  private field(name: string): FieldFormat {
    const f = this.ev.fields.find((x) => x.name === name);
    if (!f) throw new Error(`no field ${name}`);
    return f;
  }

  private fieldRef(name: string): Eval {
    const f = this.field(name);
    if (f.loc === null && !f.isString && f.arrayCount === 0 && f.size <= 8) {
      const off = f.offset;
      const size = f.size;
      const signed = f.signed;
      const e: Eval = (r) => readInt(r, r.base + off, size, signed);
      directField.set(e, f);
      if (size === 4) small.set(e, { get: signed ? (r) => r.view.getInt32(r.base + off, r.little) : (r) => r.view.getUint32(r.base + off, r.little), nonNeg: !signed });
      else if (size === 2) small.set(e, { get: signed ? (r) => r.view.getInt16(r.base + off, r.little) : (r) => r.view.getUint16(r.base + off, r.little), nonNeg: !signed });
      else if (size === 1) small.set(e, { get: signed ? (r) => r.view.getInt8(r.base + off) : (r) => r.view.getUint8(r.base + off), nonNeg: !signed });
      return e;
    }
    if (f.loc === null && !f.isString) throw new Error(`array field ${name}`);
    return stringRef(f);
  }

  private call(fn: string): Eval {
    this.expect('(');
    switch (fn) {
      case '__get_str':
      case '__get_rel_str': {
        const f = this.field(this.ident());
        this.expect(')');
        return stringRef(f);
      }
      case '__print_flags':
      case '__print_symbolic':
      case '__print_flags_u64':
      case '__print_symbolic_u64': {
        const v = this.ternary();
        let delim = '';
        if (fn.startsWith('__print_flags')) {
          this.expect(',');
          const d = this.toks[this.i++];
          if (d?.t !== 'str') throw new Error('flag delimiter');
          delim = d.v;
        }
        const table: Array<[bigint, string]> = [];
        while (this.isOp(',')) {
          this.i++;
          this.expect('{');
          const k = this.ternary();
          this.expect(',');
          const s = this.toks[this.i++];
          if (s?.t !== 'str') throw new Error('flag name');
          this.expect('}');
          table.push([num(k({ view: new DataView(new ArrayBuffer(8)), base: 0, size: 0, little: true, longBytes: this.longBytes })), s.v]);
        }
        this.expect(')');
        const flags = fn.startsWith('__print_flags');
        const big: Eval = flags ? (r) => printFlags(num(v(r)), delim, table) : (r) => printSymbolic(num(v(r)), table);
        // A small value and table: the same text from numbers (a negative value takes the BigInt way).
        const sv = small.get(v);
        if (sv === undefined || !table.every(([k]) => k >= 0n && k < 2n ** 32n)) return big;
        const keys = table.map(([k]) => Number(k));
        const names = table.map(([, n]) => n);
        const get = sv.get;
        // Flag sets repeat from record to record: the last value's text is kept (one per argument).
        let lastN = -1;
        let lastText = '';
        return flags
          ? (r) => {
            const n = get(r);
            if (n === lastN) return lastText;
            if (n < 0) return big(r);
            lastText = printFlagsSmall(n, delim, keys, names);
            lastN = n;
            return lastText;
          }
          : (r) => { const n = get(r); return n < 0 ? big(r) : printSymbolicSmall(n, keys, names); };
      }
      default:
        throw new Error(`helper ${fn}`);
    }
  }
}

function truthy(v: Value): boolean {
  return typeof v === 'string' ? v.length > 0 : v !== 0n;
}

function binop(op: string, a: Eval, b: Eval): Eval {
  const e = folded(bigBinop(op, a, b), [a, b]);
  if (constant.has(e)) return e;
  const sa = small.get(a);
  const sb = small.get(b);
  if (sa === undefined || sb === undefined || !sa.nonNeg || !sb.nonNeg) return e;
  const ga = sa.get;
  const gb = sb.get;
  // Both in [0, 2^32): these stay there, and >>> 0 reads the 32-bit result as unsigned.
  if (op === '&') small.set(e, { get: (r) => (ga(r) & gb(r)) >>> 0, nonNeg: true });
  else if (op === '|') small.set(e, { get: (r) => (ga(r) | gb(r)) >>> 0, nonNeg: true });
  else if (op === '>>' && constant.has(b) && constant.get(b)! < 32n) small.set(e, { get: (r) => ga(r) >>> gb(r), nonNeg: true });
  return e;
}

/** A cast: the value truncated to its type; a field or small value the cast cannot change keeps its fast forms. */
function castEval(e: Eval, bits: number, signed: boolean): Eval {
  const c = folded((r) => truncate(e(r), bits, signed), [e]);
  if (constant.has(c)) return c;
  const f = directField.get(e);
  // Unchanged: an unsigned value into a wider type (or as wide and unsigned), a signed one into a signed type at least as wide.
  const keeps = (fieldBits: number, fieldSigned: boolean): boolean => bits > 1 && (fieldSigned ? signed && bits >= fieldBits : bits > fieldBits || (bits === fieldBits && !signed));
  if (f !== undefined && keeps(f.size * 8, f.signed)) {
    const same: Eval = (r) => e(r);
    directField.set(same, f);
    const sv = small.get(e);
    if (sv !== undefined) small.set(same, sv);
    return same;
  }
  const sv = small.get(e);
  if (sv !== undefined && keeps(32, !sv.nonNeg)) small.set(c, sv);
  return c;
}

function bigBinop(op: string, a: Eval, b: Eval): Eval {
  switch (op) {
    case '+': return (r) => num(a(r)) + num(b(r));
    case '-': return (r) => num(a(r)) - num(b(r));
    case '*': return (r) => num(a(r)) * num(b(r));
    case '/': return (r) => { const d = num(b(r)); return d === 0n ? 0n : num(a(r)) / d; };
    case '%': return (r) => { const d = num(b(r)); return d === 0n ? 0n : num(a(r)) % d; };
    case '<<': return (r) => num(a(r)) << num(b(r));
    case '>>': return (r) => num(a(r)) >> num(b(r));
    case '&': return (r) => num(a(r)) & num(b(r));
    case '|': return (r) => num(a(r)) | num(b(r));
    case '^': return (r) => num(a(r)) ^ num(b(r));
    case '==': return (r) => (a(r) === b(r) ? 1n : 0n);
    case '!=': return (r) => (a(r) !== b(r) ? 1n : 0n);
    case '<': return (r) => (num(a(r)) < num(b(r)) ? 1n : 0n);
    case '>': return (r) => (num(a(r)) > num(b(r)) ? 1n : 0n);
    case '<=': return (r) => (num(a(r)) <= num(b(r)) ? 1n : 0n);
    case '>=': return (r) => (num(a(r)) >= num(b(r)) ? 1n : 0n);
    case '&&': return (r) => (truthy(a(r)) && truthy(b(r)) ? 1n : 0n);
    case '||': return (r) => (truthy(a(r)) || truthy(b(r)) ? 1n : 0n);
  }
  throw new Error(`operator ${op}`);
}

/** As libtraceevent prints __print_flags: names of the set bits in table order, the rest as hex. */
function printFlags(v: bigint, delim: string, table: ReadonlyArray<[bigint, string]>): string {
  let out = '';
  let rest = v;
  for (const [bit, name] of table) {
    if (bit === 0n ? v === 0n : (rest & bit) === bit) {
      if (out !== '') out += delim;
      out += name;
      rest &= ~bit;
    }
  }
  if (rest !== 0n && v !== 0n) {
    if (out !== '') out += delim;
    out += `0x${rest.toString(16)}`;
  }
  return out;
}

/** printFlags for a value and bits in [0, 2^32). */
function printFlagsSmall(v: number, delim: string, keys: readonly number[], names: readonly string[]): string {
  let out = '';
  let rest = v;
  for (let i = 0; i < keys.length; i++) {
    const bit = keys[i]!;
    if (bit === 0 ? v === 0 : ((rest & bit) >>> 0) === bit) {
      if (out !== '') out += delim;
      out += names[i]!;
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0 && v !== 0) {
    if (out !== '') out += delim;
    out += `0x${rest.toString(16)}`;
  }
  return out;
}

function printSymbolicSmall(v: number, keys: readonly number[], names: readonly string[]): string {
  for (let i = 0; i < keys.length; i++) if (keys[i] === v) return names[i]!;
  return `0x${v.toString(16)}`;
}

function printSymbolic(v: bigint, table: ReadonlyArray<[bigint, string]>): string {
  for (const [k, name] of table) if (k === v) return name;
  return `0x${v.toString(16)}`;
}

// ---- printf ----
type Piece = string | { conv: string; flags: string; width: number; prec: number; len: string; ptr: string };

function parseFormatString(fmt: string): Piece[] {
  const out: Piece[] = [];
  let lit = '';
  const re = /%([-#0 +]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|z|L|j|t)?([diouxXcsp%])([sSfFbBrRmMIiUhKk]*)?/y;
  for (let i = 0; i < fmt.length;) {
    if (fmt[i] !== '%') { lit += fmt[i++]; continue; }
    re.lastIndex = i;
    const m = re.exec(fmt);
    if (!m) { lit += fmt[i++]; continue; }
    i = re.lastIndex;
    if (m[5] === '%') { lit += '%'; continue; }
    let ptr = '';
    if (m[5] === 'p') ptr = m[6] ?? '';
    else if (m[6]) { i -= m[6].length; } // letters after a non-%p conversion are literal text
    if (lit) { out.push(lit); lit = ''; }
    out.push({ conv: m[5]!, flags: m[1]!, width: m[2] ? Number(m[2]) : -1, prec: m[3] !== undefined ? Number(m[3]) : -1, len: m[4] ?? '', ptr });
  }
  if (lit) out.push(lit);
  return out;
}

function pad(s: string, width: number, flags: string): string {
  if (width <= s.length) return s;
  if (flags.includes('-')) return s.padEnd(width);
  if (flags.includes('0')) {
    const neg = s.startsWith('-');
    const pre = neg ? '-' : s.startsWith('0x') ? '0x' : '';
    return pre + s.slice(pre.length).padStart(width - pre.length, '0');
  }
  return s.padStart(width);
}

function convert(p: Exclude<Piece, string>, v: Value, longBytes: number): string {
  if (p.conv === 's') {
    const s = typeof v === 'string' ? v : String(v);
    return pad(p.prec >= 0 ? s.slice(0, p.prec) : s, p.width, p.flags);
  }
  const n = num(v);
  if (p.conv === 'c') return pad(String.fromCharCode(Number(n & 0xffn)), p.width, p.flags);
  if (p.conv === 'p') return pad(`0x${BigInt.asUintN(longBytes * 8, n).toString(16)}`, p.width, p.flags);
  const bits = p.len === 'll' || p.len === 'j' || p.len === 'L' ? 64 : p.len === 'l' || p.len === 'z' || p.len === 't' ? longBytes * 8 : p.len === 'h' ? 16 : p.len === 'hh' ? 8 : 32;
  let s: string;
  if (p.conv === 'd' || p.conv === 'i') s = BigInt.asIntN(bits, n).toString();
  else {
    const u = BigInt.asUintN(bits, n);
    s = p.conv === 'u' ? u.toString() : p.conv === 'o' ? u.toString(8) : p.conv === 'X' ? u.toString(16).toUpperCase() : u.toString(16);
    if (p.flags.includes('#') && u !== 0n && (p.conv === 'x' || p.conv === 'X')) s = (p.conv === 'X' ? '0X' : '0x') + s;
  }
  if (p.prec >= 0) s = s.startsWith('-') ? '-' + s.slice(1).padStart(p.prec, '0') : s.padStart(p.prec, '0');
  return pad(s, p.width, p.flags);
}

export type BodyPrinter = (r: RecordView) => string;

function finish(s: string, p: Exclude<Piece, string>, nonZero: boolean): string {
  if (p.flags.includes('#') && nonZero && (p.conv === 'x' || p.conv === 'X')) s = (p.conv === 'X' ? '0X' : '0x') + s;
  if (p.prec >= 0) s = s.startsWith('-') ? '-' + s.slice(1).padStart(p.prec, '0') : s.padStart(p.prec, '0');
  return p.width >= 0 ? pad(s, p.width, p.flags) : s;
}

/**
 * An integer conversion (or `%p`) without a BigInt per record where the value allows: an 8-byte
 * field read as two 32-bit words (its bit pattern is the value of an unsigned 64-bit conversion;
 * a signed one while it is within ±2^53), or a Small value (fields of up to 4 bytes, shifts and
 * masks of them). The same text as convert(). null: use convert().
 */
function fastPiece(p: Exclude<Piece, string>, f: FieldFormat | undefined, sv: Small | undefined, longBytes: number): ((r: RecordView) => string) | null {
  const ptr = p.conv === 'p';
  if (!ptr && !'diuxX'.includes(p.conv)) return null;
  if (ptr && p.prec >= 0) return null;
  const bits = ptr ? longBytes * 8 : p.len === 'll' || p.len === 'j' || p.len === 'L' ? 64 : p.len === 'l' || p.len === 'z' || p.len === 't' ? longBytes * 8 : p.len === 'h' ? 16 : p.len === 'hh' ? 8 : 32;
  const signedConv = p.conv === 'd' || p.conv === 'i';
  if (f !== undefined && f.size === 8 && bits === 64) {
    const off = f.offset;
    const hex = ptr || p.conv === 'x' || p.conv === 'X';
    const upper = p.conv === 'X';
    return (r) => {
      const lo = r.view.getUint32(r.base + off + (r.little ? 0 : 4), r.little);
      const hi = r.view.getUint32(r.base + off + (r.little ? 4 : 0), r.little);
      let s: string;
      if (hex) {
        s = hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
        if (upper) s = s.toUpperCase();
        if (ptr) return pad(`0x${s}`, p.width, p.flags);
      } else if (signedConv) {
        const h = hi | 0;
        s = h >= -0x200000 && h < 0x200000 ? String(h * 4294967296 + lo) : BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
      } else s = hi < 0x200000 ? String(hi * 4294967296 + lo) : BigInt.asUintN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
      return finish(s, p, hi !== 0 || lo !== 0);
    };
  }
  if (sv === undefined) return null;
  // A negative value printed unsigned in 64 bits (or as a 64-bit pointer) needs its two's complement: left to convert().
  if (!sv.nonNeg && !signedConv && bits === 64) return null;
  const get = sv.get;
  const conv = p.conv;
  return (r) => {
    let n = get(r);
    if (ptr) return pad(`0x${(bits === 32 ? n >>> 0 : n).toString(16)}`, p.width, p.flags);
    if (signedConv) {
      if (bits === 32) n |= 0;
      else if (bits < 32) n = (n << (32 - bits)) >> (32 - bits);
    } else if (bits === 32) n >>>= 0;
    else if (bits < 32) n &= (1 << bits) - 1;
    const s = conv === 'x' ? n.toString(16) : conv === 'X' ? n.toString(16).toUpperCase() : String(n);
    return finish(s, p, n !== 0);
  };
}

/**
 * The event's body printer, and its writer (null when the print fmt did not compile or prints a line
 * terminator itself). If the print fmt does not compile (a helper or construct we do not read), the
 * body is every non-common field as `name=value`, as libtraceevent falls back to.
 */
export function compilePrintFmt(ev: EventFormat, longBytes: number): { print: BodyPrinter; write: BodyWriter | null; error: string | null } {
  try {
    const toks = tokenize(ev.printFmt);
    const first = toks[0];
    if (first?.t !== 'str') throw new Error('no format string');
    const c = new Compiler(toks.slice(1), ev, longBytes);
    const args = c.args();
    const pieces = parseFormatString(first.v);
    const convs = pieces.filter((p) => typeof p !== 'string').length;
    if (convs !== args.length) throw new Error(`${convs} conversions for ${args.length} arguments`);
    // Each piece as a closure: literal text, a fast integer field, or the general conversion.
    let a = 0;
    const parts = pieces.map((p): string | ((r: RecordView) => string) => {
      if (typeof p === 'string') return p;
      const arg = args[a++]!;
      const fast = fastPiece(p, directField.get(arg), small.get(arg), longBytes);
      return fast ?? ((r) => convert(p, arg(r), r.longBytes));
    });
    // The same pieces writing bytes: integers as digits, ASCII strings copied from the record,
    // literal text as its bytes; compiled into straight-line code where the runtime allows.
    a = 0;
    const seq = pieces.map((p, i): SeqPiece<RecordView> => {
      const part = parts[i]!;
      if (typeof p === 'string') return new TextEncoder().encode(p);
      const arg = args[a++]!;
      return fastWriter(p, directField.get(arg), small.get(arg), stringField.get(arg), longBytes) ?? textWriter(part as (r: RecordView) => string);
    });
    const writers = seq.map((w) => (w instanceof Uint8Array ? literalWriter(w) : w));
    const hasTerminator = pieces.some((p) => typeof p === 'string' && (p.includes('\n') || p.includes('\r')));
    return {
      error: null,
      print: (r) => {
        let out = '';
        for (let i = 0; i < parts.length; i++) {
          const p = parts[i]!;
          out += typeof p === 'string' ? p : p(r);
        }
        return out;
      },
      write: hasTerminator ? null : compilePieceSequence(seq) ?? ((r, out) => {
        let at = 0;
        for (let i = 0; i < writers.length && at >= 0; i++) at = writers[i]!(r, out, at);
        return at;
      }),
    };
  } catch (e) {
    const fields = ev.fields.filter((f) => !f.name.startsWith('common_'));
    return {
      error: (e as Error).message,
      print: (r) => fields.map((f) => {
        const v = f.loc === null && !f.isString && f.arrayCount > 0 ? 'ARRAY' : fieldValue(r, f);
        return `${f.name}=${typeof v === 'string' ? v : f.signed ? v.toString() : `0x${v.toString(16)}`}`;
      }).join(' '),
      write: null,
    };
  }
}

// ---- bytes ----
// The writer's contract: a body as UTF-8 bytes, byte for byte the printer's text encoded, written
// into `out` from 0; the result is its length, or OUT_FULL (retry with a larger buffer) or
// USE_TEXT (a case the writer leaves to the printer: a line terminator in a string, bytes outside
// the record's page; the printer's text, or its exception, is then what the record gets).

/** Writes one record's body into out[0…]; returns its length, OUT_FULL or USE_TEXT. */
export type BodyWriter = (r: RecordView, out: Uint8Array) => number;
/** One piece at out[at…]: the end, or a negative code. */
type PieceWriter = (r: RecordView, out: Uint8Array, at: number) => number;
export const OUT_FULL = -1;
export const USE_TEXT = -2;

interface Utf8Encoder { encodeInto(s: string, into: Uint8Array): { read: number; written: number } }
const encoder = new TextEncoder() as unknown as Utf8Encoder;

/** A view's bytes as a Uint8Array (one per view: a page's records share it). */
let lastView: DataView | null = null;
let lastBytes: Uint8Array = new Uint8Array(0);
function bytesOf(v: DataView): Uint8Array {
  if (v !== lastView) {
    lastView = v;
    lastBytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }
  return lastBytes;
}

/** s at out[at…] as UTF-8; USE_TEXT when it holds a line terminator. */
function putText(s: string, out: Uint8Array, at: number): number {
  const n = s.length;
  if (at + n * 3 > out.length) return OUT_FULL;
  for (let i = 0; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 10 || ch === 13) return USE_TEXT;
    if (ch > 127) {
      if (s.includes('\n', i) || s.includes('\r', i)) return USE_TEXT;
      return at + i + encoder.encodeInto(s.slice(i), out.subarray(at + i)).written;
    }
    out[at + i] = ch;
  }
  return at + n;
}

function literalWriter(bytes: Uint8Array): PieceWriter {
  const n = bytes.length;
  return (_r, out, at) => {
    if (at + n > out.length) return OUT_FULL;
    for (let i = 0; i < n; i++) out[at + i] = bytes[i]!;
    return at + n;
  };
}

function textWriter(part: (r: RecordView) => string): PieceWriter {
  return (r, out, at) => putText(part(r), out, at);
}

/** Digits of the current number, last digit first (DIGITS[0] is the lowest). */
const DIGITS = new Uint8Array(24);
const HEX_L = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
const HEX_U = Uint8Array.from('0123456789ABCDEF', (c) => c.charCodeAt(0));

/** A non-negative integer below 2^53 into DIGITS; returns their count. */
function decDigits(n: number): number {
  let k = 0;
  do {
    const d = n % 10;
    DIGITS[k++] = 48 + d;
    n = (n - d) / 10;
  } while (n > 0);
  return k;
}
/**
 * hi:lo (two unsigned 32-bit words) in hex at out[at…], padded as putDigits pads: its digits counted
 * first (from the words' leading zero bits), then written from the last one back.
 */
function putHex(out: Uint8Array, at: number, lo: number, hi: number, table: Uint8Array, width: number, left: boolean, zero: boolean): number {
  const k = hi !== 0 ? 8 + ((35 - Math.clz32(hi)) >> 2) : lo === 0 ? 1 : (35 - Math.clz32(lo)) >> 2;
  const fill = width > k ? width - k : 0;
  if (at + k + fill > out.length) return OUT_FULL;
  if (fill > 0 && !left) {
    const c = zero ? 48 : 32;
    for (let i = 0; i < fill; i++) out[at++] = c;
  }
  const end = at + k;
  let p = end;
  for (let i = hi !== 0 ? 8 : k; i > 0; i--) {
    out[--p] = table[lo & 15]!;
    lo >>>= 4;
  }
  while (p > at) {
    out[--p] = table[hi & 15]!;
    hi >>>= 4;
  }
  at = end;
  if (fill > 0 && left) for (let i = 0; i < fill; i++) out[at++] = 32;
  return at;
}

/**
 * A sign and the k digits in DIGITS at out[at…], padded as pad() pads them: to `width` with spaces
 * before ('-' flag: after), or with zeros after the sign ('0' flag). (No precision and no '#':
 * fastWriter leaves those to the printer.)
 */
function putDigits(out: Uint8Array, at: number, neg: boolean, k: number, width: number, left: boolean, zero: boolean): number {
  const len = k + (neg ? 1 : 0);
  const fill = width > len ? width - len : 0;
  if (at + len + fill > out.length) return OUT_FULL;
  if (fill > 0 && !left && !zero) for (let i = 0; i < fill; i++) out[at++] = 32;
  if (neg) out[at++] = 45;
  if (fill > 0 && zero && !left) for (let i = 0; i < fill; i++) out[at++] = 48;
  while (k > 0) out[at++] = DIGITS[--k]!;
  if (fill > 0 && left) for (let i = 0; i < fill; i++) out[at++] = 32;
  return at;
}

/**
 * fastPiece's cases written as bytes (integers without a precision or '#', `%p` without a width,
 * and `%s` of a string field without width or precision), or null: the piece's text is copied.
 */
function fastWriter(p: Exclude<Piece, string>, f: FieldFormat | undefined, sv: Small | undefined, sf: FieldFormat | undefined, longBytes: number): PieceWriter | null {
  if (p.conv === 's') return sf !== undefined && p.width < 0 && p.prec < 0 ? stringWriter(sf) : null;
  const ptr = p.conv === 'p';
  if (!ptr && !'diuxX'.includes(p.conv)) return null;
  if (p.prec >= 0 || p.flags.includes('#') || (ptr && p.width >= 0)) return null;
  const bits = ptr ? longBytes * 8 : p.len === 'll' || p.len === 'j' || p.len === 'L' ? 64 : p.len === 'l' || p.len === 'z' || p.len === 't' ? longBytes * 8 : p.len === 'h' ? 16 : p.len === 'hh' ? 8 : 32;
  const signedConv = p.conv === 'd' || p.conv === 'i';
  const hex = ptr || p.conv === 'x' || p.conv === 'X';
  const table = p.conv === 'X' ? HEX_U : HEX_L;
  const width = p.width;
  const left = p.flags.includes('-');
  const zero = p.flags.includes('0');
  const prefix = (out: Uint8Array, at: number): number => {
    if (at + 2 > out.length) return OUT_FULL;
    out[at] = 48;
    out[at + 1] = 120;
    return at + 2;
  };
  if (f !== undefined && f.size === 8 && bits === 64) {
    const off = f.offset;
    return (r, out, at) => {
      const v = r.view;
      const lo = v.getUint32(r.base + off + (r.little ? 0 : 4), r.little);
      const hi = v.getUint32(r.base + off + (r.little ? 4 : 0), r.little);
      if (hex) {
        if (ptr && (at = prefix(out, at)) < 0) return at;
        return putHex(out, at, lo, hi, table, width, left, zero);
      }
      if (signedConv) {
        const h = hi | 0;
        if (h < -0x200000 || h >= 0x200000) return USE_TEXT;
        const n = h * 4294967296 + lo;
        return putDigits(out, at, n < 0, decDigits(n < 0 ? -n : n), width, left, zero);
      }
      if (hi >= 0x200000) return USE_TEXT;
      return putDigits(out, at, false, decDigits(hi * 4294967296 + lo), width, left, zero);
    };
  }
  if (sv === undefined) return null;
  if (!sv.nonNeg && !signedConv && bits === 64) return null;
  const get = sv.get;
  return (r, out, at) => {
    let n = get(r);
    if (ptr) {
      if ((at = prefix(out, at)) < 0) return at;
      return putHex(out, at, n >>> 0, 0, table, width, left, zero); // a Small value is below 2^32 (and not negative here: see above)
    }
    if (signedConv) {
      if (bits === 32) n |= 0;
      else if (bits < 32) n = (n << (32 - bits)) >> (32 - bits);
    } else if (bits === 32) n >>>= 0;
    else if (bits < 32) n &= (1 << bits) - 1;
    if (hex) return putHex(out, at, n >>> 0, 0, table, width, left, zero);
    return putDigits(out, at, n < 0, decDigits(n < 0 ? -n : n), width, left, zero);
  };
}

/** `%s` of a string field: its bytes up to the first NUL, copied when they are ASCII without a line terminator. */
function stringWriter(f: FieldFormat): PieceWriter {
  return (r, out, at) => {
    const v = r.view;
    let s: number;
    let e: number;
    if (f.loc !== null) {
      [s, e] = locRange(v, r.base, f, r.little);
      e = Math.min(e, r.size);
    } else {
      s = f.offset;
      e = s + f.size;
    }
    if (r.base + s > v.byteLength || r.base + e > v.byteLength) return USE_TEXT; // the printer says what is wrong
    const bytes = bytesOf(v);
    const from = v.byteOffset - bytes.byteOffset + r.base + s;
    const to = from + Math.max(0, e - s);
    if (at + (to - from) > out.length) return OUT_FULL;
    let i = from;
    for (; i < to; i++) {
      const b = bytes[i]!;
      if (b === 0) break;
      if (b > 127 || b === 10 || b === 13) return putText(fieldValue(r, f) as string, out, at);
      out[at + i - from] = b;
    }
    return at + i - from;
  };
}
