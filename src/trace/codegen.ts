// The one module that generates code at runtime (`new Function`). Two hot paths use it:
//
// 1. perType(fn): one compiled copy of a small loop per typed-array type. V8 keeps type feedback
//    per function: a loop over `col[i]` that sees the seven column array types (store.ts TYPES)
//    goes megamorphic, where a copy that only ever sees one type stays monomorphic. Used by the
//    wire encoder's range scan (store.ts rangeOf) and Growable.push (growable.ts).
// 2. compileKindWriter(kind, plans): one store writer per event kind, reading `ev.<field>` with a
//    literal property name (one object shape per function: monomorphic inline caches) and
//    storing `c[row] = v` at a site per field (one array type per site), where the generic plan
//    loop reads `ev[plan.field]` and stores through one shared site for every kind and type.
// 3. compilePieceSequence(pieces): a trace.dat event's body writer (tracedat/printfmt.ts) as
//    straight-line code: each piece writer called from a site of its own (monomorphic: V8 may
//    inline it) and literal text stored as constant bytes, where a loop over the pieces calls every
//    writer of every event through one megamorphic site.
//
// What it buys, measured by `BENCH_ONLY=store npm run bench` (bench/codegen.ts: each variant in
// its own process, CPU time, best of 9; 2-core AMD EPYC VM with other jobs running, Node 20; seven
// runs, median and low–high):
//   store append, 300k simulator events (C1/C1p):  compiled writers 5.3 (3.5–6.3) M events/s,
//                                                  plan loop 3.3 (1.7–4.2) M events/s (~1.6×)
//   range scan over the 7 column array types (C2/C2p): per-type copies 1.13 (0.68–1.17) G elements/s,
//                                                  one shared function 0.16 G elements/s (~7×)
// docs/performance.md ("Runtime code generation") keeps these with the method.
//
// Each copy's source carries a unique comment (feedbackTag), else V8's compilation cache would
// hand every copy the same code and feedback. Generated source is built from schema field names
// (checked to be identifiers) and numbers only, never from trace data (a print fmt's literal text
// enters as its byte values). Where a content policy
// forbids `Function` (a CSP without 'unsafe-eval'), everything falls back: perType returns `fn`
// itself, compileKindWriter null (the store then takes its plan loop) and compilePieceSequence null
// (the body writer loops over its pieces), slower but the same.

export type TypedArrayCtor = Float64Array['constructor'] | Float32Array['constructor'] | Int32Array['constructor']
  | Int16Array['constructor'] | Int8Array['constructor'] | Uint32Array['constructor'] | Uint16Array['constructor'] | Uint8Array['constructor'];

export const TYPED_ARRAY_CTORS: readonly TypedArrayCtor[] = [
  Float64Array, Float32Array, Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array,
];

/** A source comment that makes compiled source unique. */
function feedbackTag(name: string): string {
  return `/* ${name.replace(/\*\//g, '')} */`;
}

/**
 * `fn` recompiled once per typed-array type (keyed by constructor); `fn` itself where that fails.
 * `fn` is recompiled from its own source, so it must use nothing from its scope but globals and `this`.
 */
export function perType<F extends (...args: never[]) => unknown>(fn: F): (ctor: TypedArrayCtor) => F {
  let copies: Map<TypedArrayCtor, F> | null;
  try {
    copies = new Map(TYPED_ARRAY_CTORS.map((t) => [t, new Function(`${feedbackTag(t.name)}\nreturn (${fn.toString()});`)() as F]));
  } catch {
    copies = null;
  }
  return (ctor) => copies?.get(ctor) ?? fn;
}

/** How a field is written (store.ts writeField has the general path of each). */
export const enum WriteTag { Num, Str, Bool, Enum, U64 }
/** How to write one field of a kind, computed once per kind (store.ts WRITE_PLANS). */
export interface FieldPlan {
  field: string;
  tag: WriteTag;
  /** Storage column of the field (for u64: of its Hi key). */
  column: number;
  /** u64 only: column of the Lo key. */
  loCol: number;
  enumCodes: Map<string, number> | null;
}

/** What a compiled writer touches of the store (TraceStore implements it). */
export interface WriterTarget {
  /** By column index; undefined until a row used the column. */
  readonly cols: ArrayLike<{ [row: number]: number } | undefined>;
  colAt(column: number): { [row: number]: number };
  readonly strings: { intern(s: string): number };
  /** General write of a number (widens the column when the value does not read back). */
  putNum(column: number, row: number, v: number): void;
  /** General write of a field by its plan (unknown enum values throw there; u64 beyond 2^53). */
  putPlanned(plan: FieldPlan, row: number, v: unknown): void;
}
export type KindWriter = (store: WriterTarget, row: number, ev: Record<string, unknown>) => void;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The writer of one kind's fields, compiled from their plans; null where `Function` is forbidden. */
export function compileKindWriter(kind: string, plans: readonly FieldPlan[]): KindWriter | null {
  // A value that does not read back from its column's array takes putNum(), which widens.
  const colOf = (column: number): string => `(s.cols[${column}] ?? s.colAt(${column}))`;
  const lines = plans.map((p, i) => {
    if (!IDENTIFIER.test(p.field)) throw new Error(`schema field ${p.field} is not an identifier`);
    const col = colOf(p.column);
    switch (p.tag) {
      case WriteTag.Num: return `v = ev.${p.field}; c = ${col}; c[row] = v; if (c[row] !== v) s.putNum(${p.column}, row, v);`;
      case WriteTag.Str: return `v = s.strings.intern(ev.${p.field}); c = ${col}; c[row] = v; if (c[row] !== v) s.putNum(${p.column}, row, v);`;
      case WriteTag.Bool: return `${col}[row] = ev.${p.field} ? 1 : 0;`;
      // An unknown enum value takes the general path, which throws naming it.
      case WriteTag.Enum: return `v = plans[${i}].enumCodes.get(ev.${p.field}); if (v === undefined) s.putPlanned(plans[${i}], row, ev.${p.field}); else ${col}[row] = v;`;
      // u64: a value exact as a Number (block addresses, mostly) split inline, all-ones (no address: most
      // fs_op rows) as its two all-ones words inline; others (≥ 2^53) the general path.
      default: {
        const word = (column: number, w: string): string => `c = ${colOf(column)}; c[row] = ${w}; if (c[row] !== ${w}) s.putNum(${column}, row, ${w});`;
        return `v = ev.${p.field}; if (v === 0xffffffffffffffffn) { ${word(p.column, '4294967295')} ${word(p.loCol, '4294967295')} } ` +
          `else { n = Number(v); if (n >= 0 && n <= ${Number.MAX_SAFE_INTEGER}) { ${word(p.column, 'Math.floor(n / 4294967296)')} ${word(p.loCol, 'n % 4294967296')} } else s.putPlanned(plans[${i}], row, v); }`;
      }
    }
  });
  try {
    // The kind's name in the source: two kinds with the same fields must not share feedback.
    return new Function('plans', `${feedbackTag(kind)}\nreturn function write(s, row, ev) {\nlet c, v, n;\n${lines.join('\n')}\n};`)(plans) as KindWriter;
  } catch {
    return null;
  }
}

/** A body piece: a writer of out[at…] returning the new end or a negative code, or literal bytes. */
export type SeqPiece<R> = ((r: R, out: Uint8Array, at: number) => number) | Uint8Array;
let sequences = 0;

/**
 * The pieces written one after the other into out from 0: the end, -1 when out is too small for a
 * literal, or the first negative code a piece writer returns. Null where `Function` is forbidden.
 */
export function compilePieceSequence<R>(pieces: ReadonlyArray<SeqPiece<R>>): ((r: R, out: Uint8Array) => number) | null {
  const lines = pieces.map((p, i) => {
    if (!(p instanceof Uint8Array)) return `at = w[${i}](r, out, at); if (at < 0) return at;`;
    const stores = Array.from(p, (b, k) => `out[at + ${k}] = ${Number(b)};`).join(' ');
    return `if (at + ${p.length} > out.length) return -1;\n${stores}\nat += ${p.length};`;
  });
  try {
    return new Function('w', `${feedbackTag(`piece sequence ${++sequences}`)}\nreturn function writeBody(r, out) {\nlet at = 0;\n${lines.join('\n')}\nreturn at;\n};`)(pieces) as (r: R, out: Uint8Array) => number;
  } catch {
    return null;
  }
}
