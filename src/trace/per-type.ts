// One compiled copy of a small hot function per typed-array type.
//
// V8 keeps type feedback per function: a loop over `col[i]` called with the seven column array
// types (store.ts LADDERS) goes megamorphic, ~7 ns an element on these machines, where a copy
// that only ever sees one type runs at ~1 ns. `Function` compiles a copy per type; the type's
// name goes into each copy's source, or V8's compilation cache would hand every copy the same
// code and feedback. Bodies are fixed strings written here (never data). Where a content policy
// forbids `Function`, `perType` returns null and callers use their plain version.

export type TypedArrayCtor = Float64Array['constructor'] | Float32Array['constructor'] | Int32Array['constructor']
  | Int16Array['constructor'] | Int8Array['constructor'] | Uint32Array['constructor'] | Uint16Array['constructor'] | Uint8Array['constructor'];

export const TYPED_ARRAY_CTORS: readonly TypedArrayCtor[] = [
  Float64Array, Float32Array, Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array,
];

/** A copy of `function (params) { body }` per array type, or null if `Function` is unavailable. */
export function perType<F>(params: readonly string[], body: string): Map<TypedArrayCtor, F> | null {
  try {
    return new Map(TYPED_ARRAY_CTORS.map((t) => [t, new Function(...params, `/* ${t.name} */\n${body}`) as F]));
  } catch {
    return null;
  }
}

/** A string that makes compiled source unique (store.ts's per-kind writers use it the same way). */
export function feedbackTag(name: string): string {
  return `/* ${name.replace(/\*\//g, '')} */`;
}
