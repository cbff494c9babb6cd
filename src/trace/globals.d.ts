// The few host globals the isomorphic core uses. Both browsers and Node provide them; declaring
// them here (instead of pulling in lib.dom or @types/node) keeps every other host API out of core.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: Uint8Array, options?: { stream?: boolean }): string;
}
