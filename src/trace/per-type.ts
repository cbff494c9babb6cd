// One compiled copy of a small hot function per typed-array type.
//
// V8 keeps type feedback per function: a loop over `col[i]` called with the seven column array
// types (store.ts LADDERS) goes megamorphic, ~7 ns an element on these machines, where a copy
// that only ever sees one type runs at ~1 ns. `perType` recompiles a function from its own source
// once per type, with the type's name in each copy's source (else V8's compilation cache would
// hand every copy the same code and feedback). So the function must use nothing from its scope
// but globals and `this`. Where a content policy forbids `Function`, every type gets `fn` itself.

export type TypedArrayCtor = Float64Array['constructor'] | Float32Array['constructor'] | Int32Array['constructor']
  | Int16Array['constructor'] | Int8Array['constructor'] | Uint32Array['constructor'] | Uint16Array['constructor'] | Uint8Array['constructor'];

export const TYPED_ARRAY_CTORS: readonly TypedArrayCtor[] = [
  Float64Array, Float32Array, Int32Array, Int16Array, Int8Array, Uint32Array, Uint16Array, Uint8Array,
];

/** A source comment that makes compiled source unique (store.ts's per-kind writers use it too). */
export function feedbackTag(name: string): string {
  return `/* ${name.replace(/\*\//g, '')} */`;
}

/** `fn` recompiled once per typed-array type (keyed by constructor); `fn` itself where that fails. */
export function perType<F extends (...args: never[]) => unknown>(fn: F): (ctor: TypedArrayCtor) => F {
  let copies: Map<TypedArrayCtor, F> | null;
  try {
    copies = new Map(TYPED_ARRAY_CTORS.map((t) => [t, new Function(`${feedbackTag(t.name)}\nreturn (${fn.toString()});`)() as F]));
  } catch {
    copies = null;
  }
  return (ctor) => copies?.get(ctor) ?? fn;
}
