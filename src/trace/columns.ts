// Storage columns: the store keeps one typed-array column per *column index* of a fixed layout,
// not per field. (Named "column", not "slot": a slot is the domain's iomap read/write mapping
// slot, the `slot` field of iomap_map.) Each row has one kind, and a kind has at most 15 storage keys, so fields that never occur in the same kind
// can share a column, as the members of a C union share memory: row r of a column holds whichever
// of its fields kind[r] has. A wide store (a column per storage key: 55, 43 used by the simulator)
// paid every row for every field, ~100 B/row on the simulator's mix; columns pay each row for the
// widest kind's fields only (docs/performance.md, P4).
//
// The layout is a table (COLUMN_LAYOUT), part of the format: wire v3 names columns by their index here, so both
// ends of a websocket and every recording of a SCHEMA_VERSION must agree on it. proposeLayout()
// (a greedy colouring of the schema) made it; a new schema version may take a new table from it,
// and a decoder of an older version then needs the older table. A test checks the table is what
// proposeLayout gives for this schema, and the module checks the table is a valid layout.
//
// The rule for readers: `store.col(key)[row]` is `key`'s value only where kind[row] has `key`
// (KIND_HAS); elsewhere it may be another field's value. It is 0 for a row whose kind has no
// field in that column at all.

import { FIELD_TYPES, KIND_FIELDS, KINDS, type ColumnType, type FieldName } from './schema.ts';

/** Column key for storage: a u64 field has two (`<field>Hi`, `<field>Lo`). */
export function columnKeys(field: FieldName): string[] {
  return FIELD_TYPES[field] === 'u64' ? [`${field}Hi`, `${field}Lo`] : [field];
}

/** The field a storage key belongs to. */
function fieldOfKey(key: string): FieldName {
  if (Object.hasOwn(FIELD_TYPES, key)) return key as FieldName;
  const base = key.replace(/(Hi|Lo)$/, '');
  if (base !== key && FIELD_TYPES[base as FieldName] === 'u64') return base as FieldName;
  throw new Error(`unknown column ${key}`);
}

export function columnTypeOfKey(key: string): ColumnType {
  const field = fieldOfKey(key);
  return field === key ? FIELD_TYPES[field] : 'u32';
}

const FIELDS = Object.keys(FIELD_TYPES) as FieldName[];
/** Every storage key, in canonical field order. */
export const STORAGE_KEYS: readonly string[] = FIELDS.flatMap((f) => columnKeys(f));
/** Storage keys of each kind (by kind code). */
const KIND_KEYS: readonly (readonly string[])[] = KINDS.map((k) => (KIND_FIELDS[k] as readonly FieldName[]).flatMap((f) => columnKeys(f)));

/**
 * Numeric fields whose values are usually small whatever their type allows: counts and device
 * indexes (< 256), line numbers, nodeids and inode numbers (< 65536 on the file systems we trace).
 */
const USUALLY_NARROW: Readonly<Record<string, number>> = { mapDev: 1, nlookup: 1, line: 2, nodeId: 2, ino: 2 };

/**
 * Bytes a key's values usually need (the simulator and real traces): what the colouring groups
 * by, so a column's fields have similar widths and no narrow field is put where a wide one makes
 * every row pay 4 bytes. It shapes the proposed table (and so memory), not what a table means.
 */
function usualBytes(key: string): number {
  const narrow = USUALLY_NARROW[key];
  if (narrow !== undefined) return narrow;
  const type = columnTypeOfKey(key);
  switch (type) {
    case 'f64': case 'u32': return 4; // offsets, lengths, ids, cookies, flags, halves of u64s
    case 'u16': return 2;
    case 'str': return 2;
    default: return 1; // i32 (errnos, fds), u8, bool, enums
  }
}

/**
 * A column layout for the schema, the way COLUMN_LAYOUT was made. Greedy colouring: keys by usual width (widest first), then by how many kinds have them, then in
 * canonical order; each joins the first column of its width class holding no key of a kind it is
 * in, or opens a new one. String-id keys share columns only with each other, so a column is either
 * all string ids (remapped as a whole when rows move between string tables) or none.
 */
export function proposeLayout(): string[][] {
  const kindsOf = new Map<string, Set<number>>(STORAGE_KEYS.map((k) => [k, new Set()]));
  KIND_KEYS.forEach((keys, code) => { for (const k of keys) kindsOf.get(k)!.add(code); });
  const order = [...STORAGE_KEYS].sort((a, b) =>
    usualBytes(b) - usualBytes(a) || kindsOf.get(b)!.size - kindsOf.get(a)!.size || STORAGE_KEYS.indexOf(a) - STORAGE_KEYS.indexOf(b));
  const colKeys: string[][] = [];
  const colKinds: Set<number>[] = [];
  const colClass: string[] = [];
  for (const key of order) {
    const cls = `${usualBytes(key)}:${columnTypeOfKey(key) === 'str'}`;
    const kinds = kindsOf.get(key)!;
    let column = colKeys.findIndex((_, s) => colClass[s] === cls && ![...kinds].some((k) => colKinds[s]!.has(k)));
    if (column < 0) {
      column = colKeys.length;
      colKeys.push([]);
      colKinds.push(new Set());
      colClass.push(cls);
    }
    colKeys[column]!.push(key);
    for (const k of kinds) colKinds[column]!.add(k);
  }
  return colKeys;
}

/**
 * Wire v3: column → the storage keys it holds. Schema 1's keys are proposeLayout's table for schema 1;
 * since then the table is append-only: a later schema's keys join existing columns where
 * checkedLayout allows (marked below), so every schema-1 batch and recording keeps its meaning.
 */
export const COLUMN_LAYOUT: readonly (readonly string[])[] = [
  ['posBytes', 'unique', 'ret', 'missedEvents', /* schema 2 */ 'aliasOf', /* schema 3 */ 'contended', /* schema 4 */ 'tgid'],
  ['lenBytes', 'ioendFlags', 'oldCookie', 'lockAddrHi', 'fromTsNs', /* schema 2 */ 'inodeFlags'],
  ['mapOffsetBytes', 'oflags', 'processedBytes', 'newAddrHi', 'lockAddrLo', 'toTsNs'],
  ['mapLenBytes', 'newAddrLo', 'lockFlags', /* schema 2 */ 'fsDev'],
  ['mapAddrHi', 'newSizeBytes', /* schema 3 */ 'waitTotalNs'],
  ['mapAddrLo', /* schema 3 */ 'waitMaxNs'],
  ['opflags', 'cookie', 'seq', 'newCookie', /* schema 3 */ 'waitMinNs'],
  ['writtenBytes', /* schema 2 */ 'forkAbsent', /* schema 3 */ 'waitAvgNs'],
  ['task'],
  ['nodeId', 'line'],
  ['ino', 'opcode', 'notifyCode'],
  ['mapFlags'],
  ['path', 'message', 'name'],
  ['text', 'code', /* schema 2 */ 'rawType'],
  ['file'],
  ['error', 'mapType', 'lock', 'op', 'reason', 'nlookup', 'phase', 'severity'],
  ['mapDev', 'mode', 'fd', 'sent', /* schema 3 */ 'summaryBy'],
  ['fork', 'slot'],
  ['source', 'hit', /* schema 2 */ 'rejected'],
];

/** Every storage key in exactly one column, no kind with two keys in one, string ids only with string ids. */
export function checkedLayout(layout: readonly (readonly string[])[]): Map<string, number> {
  const columnOfKey = new Map<string, number>();
  layout.forEach((keys, column) => {
    for (const key of keys) {
      if (!STORAGE_KEYS.includes(key) || columnOfKey.has(key)) throw new Error(`column layout: ${key} unknown or twice`);
      if ((columnTypeOfKey(key) === 'str') !== (columnTypeOfKey(keys[0]!) === 'str')) throw new Error(`column layout: column ${column} mixes string ids and numbers`);
      columnOfKey.set(key, column);
    }
  });
  for (const key of STORAGE_KEYS) if (!columnOfKey.has(key)) throw new Error(`column layout: no column for ${key}`);
  KIND_KEYS.forEach((keys, code) => {
    if (new Set(keys.map((k) => columnOfKey.get(k))).size !== keys.length) throw new Error(`column layout: ${KINDS[code]} has two keys in one column`);
  });
  return columnOfKey;
}
const COLUMN_OF_KEY = checkedLayout(COLUMN_LAYOUT);

export const COLUMN_COUNT = COLUMN_LAYOUT.length;
/** Column → the storage keys it holds. */
export const COLUMN_KEYS: readonly (readonly string[])[] = COLUMN_LAYOUT;
/** Column → does it hold string ids (and only string ids)? */
export const COLUMN_IS_STR: readonly boolean[] = COLUMN_LAYOUT.map((keys) => columnTypeOfKey(keys[0]!) === 'str');

/** The column of a storage key; throws for an unknown key. */
export function columnOf(key: string): number {
  const s = COLUMN_OF_KEY.get(key);
  if (s === undefined) throw new Error(`unknown column ${key}`);
  return s;
}

/** KIND_HAS[key][kindCode] = 1 when that kind stores `key`. */
export const KIND_HAS: ReadonlyMap<string, Uint8Array> = new Map(STORAGE_KEYS.map((key) => {
  const has = new Uint8Array(KINDS.length);
  KIND_KEYS.forEach((keys, code) => { if (keys.includes(key)) has[code] = 1; });
  return [key, has];
}));

/** Per kind code and column: the key that kind keeps there, or null. */
export const KIND_COLUMN_KEY: readonly (readonly (string | null)[])[] = KIND_KEYS.map((keys) => {
  const row: (string | null)[] = new Array(COLUMN_COUNT).fill(null);
  for (const k of keys) row[columnOf(k)] = k;
  return row;
});
