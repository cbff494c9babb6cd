// Where a JSON document goes wrong. Node 20's JSON.parse says what it disliked but not where (its
// message quotes the first characters of the text and no position), so when a parse fails this
// scanner walks the text once more to find the first fault. It follows RFC 8259's grammar, the
// one JSON.parse accepts (whitespace is only space, tab, LF, CR; no BOM, no trailing commas, no
// comments; strings hold no raw control character; numbers have no leading zeros, `+`, bare `.`).
// It also records where each element of the trace's event list starts (the root array, or the
// root object's `traceEvents` array), so a bad entry can be named by its line too.
// One pass, an explicit stack (no recursion: a document nested a million deep is fine), O(n).

export interface JsonFault {
  /** UTF-16 index in the text where the fault is (text.length: the text ended too early). */
  index: number;
  message: string;
  /** Index of the `"`, `[` or `{` opening what the text ended inside (set only when it ended too early). */
  openedAt?: number;
}

export interface JsonScan {
  /** The first syntax fault, or null when the text is one valid JSON value. */
  fault: JsonFault | null;
  /** Index where the event list's value starts (root array, or root object's last `traceEvents`); -1: none. */
  listStart: number;
  /** Index where each element of that list starts (when it is an array). */
  entryStarts: number[];
}

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d, QUOTE = 0x22, BACKSLASH = 0x5c;
const COMMA = 0x2c, COLON = 0x3a, LBRACKET = 0x5b, RBRACKET = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d, MINUS = 0x2d;
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** How a character is shown in a message: quoted, or its code point when it would not print. */
function shown(text: string, i: number): string {
  if (i >= text.length) return 'the end of the text';
  const cp = text.codePointAt(i)!;
  return cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfeff || cp === 0xfffd
    ? `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`
    : `'${String.fromCodePoint(cp)}'`;
}

export function scanJson(text: string): JsonScan {
  const n = text.length;
  // Open containers: the index of each `[` / `{` (its kind is the character there).
  const stack: number[] = [];
  let i = 0;
  let listStart = -1;
  let entryStarts: number[] = [];
  /** Stack depth whose array is the event list (1: root array, 2: root.traceEvents); 0: none yet. */
  let listDepth = 0;
  /** The root object's key whose value is parsed next is `traceEvents`. */
  let traceEventsKey = false;
  const result = (fault: JsonFault | null): JsonScan => ({ fault, listStart, entryStarts });
  /** Set by string() and the container checks: the opener a fault message refers to. */
  let openedAt: number | undefined;
  const fail = (at: number, what: string): JsonScan => {
    // A text that ends too early: the innermost open container is what it ends inside.
    if (at >= n && openedAt === undefined && stack.length > 0) openedAt = stack[stack.length - 1]!;
    return result({ index: at, message: what, ...(openedAt !== undefined ? { openedAt } : {}) });
  };

  const skipSpace = (): void => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== SPACE && c !== LF && c !== CR && c !== TAB) return;
    }
  };
  /** Reads a string starting at i (a quote); returns an error message, or '' with i past its end. */
  const string = (): string => {
    const open = i++;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i++;
        return '';
      }
      if (c < 0x20) return `${shown(text, i)} inside a string (a control character must be escaped)`;
      if (c === BACKSLASH) {
        const e = text.charCodeAt(++i);
        if (e === 0x75 /* u */) {
          for (let k = 1; k <= 4; k++) {
            if (!isHex(text.charCodeAt(i + k))) {
              i += k;
              return i >= n ? 'the text ends inside a \\u escape' : `${shown(text, i)} in a \\u escape (4 hex digits expected)`;
            }
          }
          i += 4;
        } else if (!(e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) {
          return i >= n ? 'the text ends inside an escape' : `bad escape \\${text[i]} (one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX expected)`;
        }
      }
    }
    i = n;
    openedAt = open;
    return 'the text ends inside a string';
  };
  const number = (): string => {
    if (text.charCodeAt(i) === MINUS) i++;
    const c = text.charCodeAt(i);
    if (c === 0x30) {
      i++;
    } else if (isDigit(c)) {
      while (isDigit(text.charCodeAt(i))) i++;
    } else return i >= n ? 'the text ends inside a number' : `${shown(text, i)} in a number (a digit expected)`;
    if (text.charCodeAt(i) === 0x2e /* . */) {
      i++;
      if (!isDigit(text.charCodeAt(i))) return i >= n ? 'the text ends inside a number' : `${shown(text, i)} after a decimal point (a digit expected)`;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    const e = text.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = text.charCodeAt(i);
      if (s === 0x2b || s === MINUS) i++;
      if (!isDigit(text.charCodeAt(i))) return i >= n ? 'the text ends inside a number' : `${shown(text, i)} in an exponent (a digit expected)`;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    return '';
  };
  const literal = (word: string): string => {
    for (let k = 0; k < word.length; k++, i++) {
      if (text.charCodeAt(i) !== word.charCodeAt(k)) return i >= n ? `the text ends inside '${word}'` : `${shown(text, i)} (expected '${word}')`;
    }
    return '';
  };
  /** A root-object key, read by string(): is it `traceEvents` (escapes decoded as JSON.parse would)? */
  const isTraceEventsKey = (from: number, to: number): boolean => {
    const raw = text.slice(from, to);
    if (raw === '"traceEvents"') return true;
    return raw.includes('\\') && JSON.parse(raw) === 'traceEvents';
  };
  /** After `{` or `,` in an object: a key, a colon, then i at its value. */
  const key = (): string => {
    skipSpace();
    if (text.charCodeAt(i) !== QUOTE) return i >= n ? 'the text ends where a key was expected' : `${shown(text, i)} where a key (a string) was expected`;
    const from = i;
    const bad = string();
    if (bad) return bad;
    if (stack.length === 1) traceEventsKey = isTraceEventsKey(from, i);
    skipSpace();
    if (text.charCodeAt(i) !== COLON) return i >= n ? "the text ends where ':' was expected" : `${shown(text, i)} where ':' was expected after a key`;
    i++;
    return '';
  };

  skipSpace();
  for (;;) {
    // A value starts at i (after skipping space).
    skipSpace();
    if (listDepth > 0 && stack.length === listDepth) entryStarts.push(i);
    const atRootKey = stack.length === 1 && traceEventsKey;
    traceEventsKey = false;
    const c = text.charCodeAt(i);
    let bad = '';
    if (c === LBRACKET || c === LBRACE) {
      if (stack.length === 0 && c === LBRACKET) {
        listStart = i;
        listDepth = 1;
      } else if (atRootKey) {
        listStart = i;
        entryStarts = [];
        listDepth = c === LBRACKET ? 2 : 0;
      }
      stack.push(i++);
      skipSpace();
      const close = text.charCodeAt(i);
      if ((c === LBRACKET && close === RBRACKET) || (c === LBRACE && close === RBRACE)) {
        stack.pop();
        i++;
      } else if (c === LBRACE) {
        bad = key();
        if (bad) return fail(i, bad);
        continue;
      } else continue;
    } else {
      if (atRootKey) {
        listStart = i;
        entryStarts = [];
        listDepth = 0;
      }
      if (c === QUOTE) bad = string();
      else if (c === MINUS || isDigit(c)) bad = number();
      else if (c === 0x74) bad = literal('true');
      else if (c === 0x66) bad = literal('false');
      else if (c === 0x6e) bad = literal('null');
      else bad = i >= n ? 'the text ends where a value was expected' : `${shown(text, i)} where a value was expected`;
      if (bad) return fail(i, bad);
    }
    // After a value: a comma, the close of its container, or (at the root) the end.
    for (;;) {
      skipSpace();
      if (stack.length === 0) return i < n ? fail(i, `${shown(text, i)} after the end of the document`) : result(null);
      const open = stack[stack.length - 1]!;
      const inArray = text.charCodeAt(open) === LBRACKET;
      const d = text.charCodeAt(i);
      if (d === COMMA) {
        i++;
        if (!inArray) {
          bad = key();
          if (bad) return fail(i, bad);
        }
        break;
      }
      if (d === (inArray ? RBRACKET : RBRACE)) {
        if (stack.length === listDepth) listDepth = -listDepth; // the list is closed: later values are not its entries
        stack.pop();
        i++;
        continue;
      }
      const kind = inArray ? 'array' : 'object';
      return fail(i, i >= n
        ? `the text ends where ',' or '${inArray ? ']' : '}'}' was expected`
        : `${shown(text, i)} where ',' or '${inArray ? ']' : '}'}' was expected in an ${kind}`);
    }
  }
}

/**
 * Line (1-based) and column (1-based, in characters: a surrogate pair is one) of each index, in one
 * pass. `indexes` must be ascending.
 */
export function linesAndColumns(text: string, indexes: readonly number[]): { line: number; col: number }[] {
  const out: { line: number; col: number }[] = [];
  let line = 1;
  let col = 1;
  let at = 0;
  for (const target of indexes) {
    for (; at < target && at < text.length; at++) {
      const c = text.charCodeAt(at);
      if (c === LF) {
        line++;
        col = 1;
      } else if (!(c >= 0xdc00 && c <= 0xdfff && at > 0 && text.charCodeAt(at - 1) >= 0xd800 && text.charCodeAt(at - 1) <= 0xdbff)) col++;
    }
    out.push({ line, col });
  }
  return out;
}
