// Search and filter over the store: a query is space-separated terms, each `field:value` or free
// text; every term must match, and every comparison ignores case:
//   opcode:IOMAP_BEGIN  nodeid:4  ino:12  path:/d1  task:writerA  off:0-65536  type:unwritten
//   kind:lock_wait  addr:0xffff8881
// Free text matches any field the row's kind stores: its kind name, every string (task, path, an
// instant's name and text, a diagnostic's message, …), every enum (op, lock, reason, mode, …), the
// opcode's and mapping type's names, a decimal number equal to its nodeid, inode number, unique
// or alias nodeid, and hex (with or without 0x) that a lock address begins with.
// A term starting with `0x` (or `addr:`) only matches lock events whose lock address (`lockAddr`)
// begins with that hex: `0xffff888112a4c3d8` or a prefix of it.
// `off:A-B` matches events whose [posBytes, posBytes+lenBytes) (or mapping range) meets [A, B).
//
// Speed: compileQuery resolves the columns once and matches each string of the store's string table
// once per term (cached per table and term, extended as the table grows); the per-row test then
// reads typed arrays and byte tables only.

import { ENUMS, FIELD_TYPES, KIND_CODE, KIND_FIELDS, KINDS, type EnumName, type FieldName } from '../schema.ts';
import { mapTypeFromName, mapTypeName, opcodeName } from '../fuse-proto.ts';
import type { TraceStore } from '../store.ts';
import type { StringTable } from '../strings.ts';

export interface ParsedQuery {
  opcode?: number | string;
  nodeId?: number;
  ino?: number;
  /** Lowercase text the path contains. */
  path?: string;
  /** Lowercase text the task (`comm/tid`) contains. */
  task?: string;
  offFromBytes?: number;
  offToBytes?: number;
  mapType?: number;
  kind?: string;
  /** Lowercase hex digits a lock address starts with (no 0x). */
  lockAddrPrefix?: string;
  /** Lowercase free-text terms. */
  text: string[];
  /** Terms that could not be understood, reported to the user. */
  errors: string[];
}

function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmg]i?b?)?$/i.exec(s.trim());
  if (!m) return Number.NaN;
  const unit = (m[2] ?? '').toLowerCase()[0];
  const mul = unit === 'k' ? 1024 : unit === 'm' ? 2 ** 20 : unit === 'g' ? 2 ** 30 : 1;
  return Number(m[1]) * mul;
}

export function parseQuery(q: string): ParsedQuery {
  const out: ParsedQuery = { text: [], errors: [] };
  for (const term of q.trim().split(/\s+/).filter(Boolean)) {
    const colon = term.indexOf(':');
    if (colon <= 0) {
      if (/^0x[0-9a-f]+$/i.test(term)) out.lockAddrPrefix = term.slice(2).toLowerCase();
      else out.text.push(term.toLowerCase());
      continue;
    }
    const key = term.slice(0, colon).toLowerCase();
    const value = term.slice(colon + 1);
    switch (key) {
      case 'opcode': out.opcode = /^\d+$/.test(value) ? Number(value) : value.toUpperCase().replace(/^FUSE_/, ''); break;
      case 'nodeid': case 'node': out.nodeId = Number(value); break;
      case 'ino': case 'inode': out.ino = Number(value); break;
      case 'path': out.path = value.toLowerCase(); break;
      case 'task': out.task = value.toLowerCase(); break;
      case 'type': {
        const t = mapTypeFromName(value.toLowerCase()) ?? mapTypeFromName(value.toUpperCase());
        if (t === undefined) out.errors.push(`unknown mapping type '${value}'`); else out.mapType = t;
        break;
      }
      case 'kind': out.kind = value.toLowerCase(); break;
      case 'addr': case 'lockaddr': {
        const hex = value.toLowerCase().replace(/^0x/, '');
        if (/^[0-9a-f]+$/.test(hex)) out.lockAddrPrefix = hex; else out.errors.push(`bad lock address '${value}'`);
        break;
      }
      case 'off': case 'offset': {
        const [a, b] = value.split('-');
        const from = parseSize(a ?? '');
        const to = b === undefined || b === '' ? from + 1 : parseSize(b);
        if (Number.isNaN(from) || Number.isNaN(to)) out.errors.push(`bad offset range '${value}'`);
        else { out.offFromBytes = from; out.offToBytes = to; }
        break;
      }
      default: out.text.push(term.toLowerCase());
    }
    if ((key === 'nodeid' || key === 'node' || key === 'ino' || key === 'inode') && !Number.isFinite(Number(value))) out.errors.push(`'${term}' needs a number`);
  }
  return out;
}

export function isEmptyQuery(p: ParsedQuery): boolean {
  return p.opcode === undefined && p.nodeId === undefined && p.ino === undefined && p.path === undefined && p.task === undefined
    && p.offFromBytes === undefined && p.mapType === undefined && p.kind === undefined && p.lockAddrPrefix === undefined && p.text.length === 0;
}

/** Does `task` contain the filter text, ignoring case (the `task:` term, as every view applies it)? */
export function taskMatches(task: string, filter: string): boolean {
  return filter === '' || task.toLowerCase().includes(filter.toLowerCase());
}

// --- per-kind tables (built once) ---------------------------------------------------------------

const KIND_COUNT = KINDS.length;
function kindsWith(field: FieldName): Uint8Array {
  const has = new Uint8Array(KIND_COUNT);
  for (const k of KINDS) if ((KIND_FIELDS[k] as readonly string[]).includes(field)) has[KIND_CODE[k]] = 1;
  return has;
}
const HAS = {
  nodeId: kindsWith('nodeId'), ino: kindsWith('ino'), opcode: kindsWith('opcode'), mapType: kindsWith('mapType'),
  lockAddr: kindsWith('lockAddr'), path: kindsWith('path'), posBytes: kindsWith('posBytes'),
  lenBytes: kindsWith('lenBytes'), mapOffsetBytes: kindsWith('mapOffsetBytes'),
};
/** Numeric fields a decimal free-text term is compared with (ids a user reads off other tools). */
const ID_FIELDS: readonly FieldName[] = ['nodeId', 'ino', 'unique', 'aliasOf'];
/** Per kind code: its string fields, enum fields and id fields. */
const KIND_STR: readonly FieldName[][] = KINDS.map((k) => (KIND_FIELDS[k] as readonly FieldName[]).filter((f) => FIELD_TYPES[f] === 'str'));
const KIND_ENUM: readonly FieldName[][] = KINDS.map((k) => (KIND_FIELDS[k] as readonly FieldName[]).filter((f) => FIELD_TYPES[f] in ENUMS));
const KIND_IDS: readonly FieldName[][] = KINDS.map((k) => (KIND_FIELDS[k] as readonly FieldName[]).filter((f) => ID_FIELDS.includes(f)));

// --- the string table, matched once per term -------------------------------------------------------

interface StringHits { hits: Uint8Array; done: number }
/** Per string table and lowercase term: which string ids contain the term. Bounded: typing makes a term per key. */
const STRING_HITS = new WeakMap<StringTable, Map<string, StringHits>>();
const MAX_CACHED_TERMS = 32;

/** hits[id] = 1 when string `id` contains `termLower` (any case); covers the whole table as it is now. */
export function stringHits(strings: StringTable, termLower: string): Uint8Array {
  let byTerm = STRING_HITS.get(strings);
  if (!byTerm) STRING_HITS.set(strings, byTerm = new Map());
  let h = byTerm.get(termLower);
  if (!h) {
    if (byTerm.size >= MAX_CACHED_TERMS) byTerm.delete(byTerm.keys().next().value!);
    h = { hits: new Uint8Array(Math.max(16, strings.size)), done: 0 };
    byTerm.set(termLower, h);
  }
  const size = strings.size;
  if (h.done < size) {
    if (h.hits.length < size) {
      const grown = new Uint8Array(Math.max(size, h.hits.length * 2));
      grown.set(h.hits);
      h.hits = grown;
    }
    for (let id = h.done; id < size; id++) if (strings.get(id).toLowerCase().includes(termLower)) h.hits[id] = 1;
    h.done = size;
  }
  return h.hits;
}

// --- compiled queries -------------------------------------------------------------------------------

export type RowMatcher = (row: number) => boolean;

/** A lock address as lowercase hex without 0x, from its two u32 halves. */
function addrHex(hi: number, lo: number): string {
  return hi === 0 ? lo.toString(16) : hi.toString(16) + lo.toString(16).padStart(8, '0');
}

/** Does a lock address (two u32 halves; 0 = not traced) start with `prefix`? Memoized per address: a trace has few locks. */
function addrPrefixTest(prefix: string): (hi: number, lo: number) => boolean {
  const byHi = new Map<number, Map<number, boolean>>();
  return (hi, lo) => {
    if (hi === 0 && lo === 0) return false;
    let byLo = byHi.get(hi);
    if (!byLo) byHi.set(hi, byLo = new Map());
    let hit = byLo.get(lo);
    if (hit === undefined) byLo.set(lo, hit = addrHex(hi, lo).startsWith(prefix));
    return hit;
  };
}

/** Names of an enum whose text contains the term, as a byte table by code. */
function enumHits(name: EnumName, termLower: string): Uint8Array {
  const values = ENUMS[name] as readonly string[];
  return Uint8Array.from(values, (v) => (v.toLowerCase().includes(termLower) ? 1 : 0));
}

/** A free-text term against every field of a row's kind. */
function compileText(store: TraceStore, t: string): RowMatcher {
  const strHits = stringHits(store.strings, t);
  const kindHit = Uint8Array.from(KINDS, (k) => (k.includes(t) ? 1 : 0));
  const kinds = store.kinds;
  const num = /^\d+$/.test(t) ? Number(t) : Number.NaN;
  const hex = /^(0x)?[0-9a-f]+$/.test(t) ? t.replace(/^0x/, '') : '';
  // Opcode and mapping-type names, memoized by code (few distinct values).
  const opHit = new Map<number, boolean>();
  const mapHit = new Map<number, boolean>();
  const opcodeCol = store.col('opcode');
  const mapTypeCol = store.col('mapType');
  const addrHi = store.col('lockAddrHi');
  const addrLo = store.col('lockAddrLo');
  const addrHit = addrPrefixTest(hex);
  const perKind = KINDS.map((_k, code) => ({
    str: KIND_STR[code]!.map((f) => store.col(f)),
    enums: KIND_ENUM[code]!.map((f) => ({ col: store.col(f), hits: enumHits(FIELD_TYPES[f] as EnumName, t) })).filter((e) => e.hits.includes(1)),
    ids: Number.isNaN(num) ? [] : KIND_IDS[code]!.map((f) => store.col(f)),
    opcode: HAS.opcode[code] === 1,
    mapType: HAS.mapType[code] === 1,
    lockAddr: hex !== '' && HAS.lockAddr[code] === 1,
  }));
  return (row) => {
    const k = kinds[row]!;
    if (kindHit[k]) return true;
    const pk = perKind[k]!;
    for (const c of pk.str) if (strHits[c[row]!]) return true;
    for (const e of pk.enums) if (e.hits[e.col[row]!]) return true;
    for (const c of pk.ids) if (c[row] === num) return true;
    if (pk.opcode) {
      const op = opcodeCol[row]!;
      let hit = opHit.get(op);
      if (hit === undefined) opHit.set(op, hit = opcodeName(op).toLowerCase().includes(t));
      if (hit) return true;
    }
    if (pk.mapType) {
      const mt = mapTypeCol[row]!;
      let hit = mapHit.get(mt);
      if (hit === undefined) mapHit.set(mt, hit = mapTypeName(mt).includes(t));
      if (hit) return true;
    }
    if (pk.lockAddr && addrHit(addrHi[row]!, addrLo[row]!)) return true;
    return false;
  };
}

/**
 * The query as a row test over the store as it is now (take a new one after the store grows: a
 * column may be replaced by a wider one). Null for an empty query. Fields a kind does not have
 * never match a term about them.
 */
export function compileQuery(store: TraceStore, p: ParsedQuery): RowMatcher | null {
  if (isEmptyQuery(p)) return null;
  const kinds = store.kinds;
  const tests: RowMatcher[] = [];
  if (p.kind !== undefined) {
    const want = p.kind;
    const hit = Uint8Array.from(KINDS, (k) => (k.includes(want) ? 1 : 0));
    tests.push((row) => hit[kinds[row]!] === 1);
  }
  if (p.nodeId !== undefined) {
    const col = store.col('nodeId');
    const v = p.nodeId;
    tests.push((row) => HAS.nodeId[kinds[row]!] === 1 && col[row] === v);
  }
  if (p.ino !== undefined) {
    const col = store.col('ino');
    const v = p.ino;
    tests.push((row) => HAS.ino[kinds[row]!] === 1 && col[row] === v);
  }
  if (p.opcode !== undefined) {
    const col = store.col('opcode');
    const want = p.opcode;
    const memo = new Map<number, boolean>();
    tests.push((row) => {
      if (HAS.opcode[kinds[row]!] !== 1) return false;
      const op = col[row]!;
      if (typeof want === 'number') return op === want;
      let hit = memo.get(op);
      if (hit === undefined) memo.set(op, hit = opcodeName(op).replace(/^FUSE_/, '').includes(want));
      return hit;
    });
  }
  if (p.mapType !== undefined) {
    const col = store.col('mapType');
    const v = p.mapType;
    tests.push((row) => HAS.mapType[kinds[row]!] === 1 && col[row] === v);
  }
  if (p.lockAddrPrefix !== undefined) {
    const hi = store.col('lockAddrHi');
    const lo = store.col('lockAddrLo');
    const addrHit = addrPrefixTest(p.lockAddrPrefix);
    tests.push((row) => HAS.lockAddr[kinds[row]!] === 1 && addrHit(hi[row]!, lo[row]!));
  }
  if (p.task !== undefined) {
    const hits = stringHits(store.strings, p.task);
    const col = store.col('task');
    tests.push((row) => hits[col[row]!] === 1);
  }
  if (p.path !== undefined) {
    const hits = stringHits(store.strings, p.path);
    const col = store.col('path');
    tests.push((row) => HAS.path[kinds[row]!] === 1 && hits[col[row]!] === 1);
  }
  if (p.offFromBytes !== undefined) {
    const from = p.offFromBytes;
    const to = p.offToBytes!;
    const pos = store.col('posBytes');
    const len = store.col('lenBytes');
    const mapOff = store.col('mapOffsetBytes');
    const mapLen = store.col('mapLenBytes');
    tests.push((row) => {
      const k = kinds[row]!;
      let start: number;
      let n: number;
      if (HAS.posBytes[k]) { start = pos[row]!; n = HAS.lenBytes[k] ? len[row]! : 1; }
      else if (HAS.mapOffsetBytes[k]) { start = mapOff[row]!; n = mapLen[row]!; }
      else return false;
      return start < to && start + Math.max(n, 1) > from;
    });
  }
  for (const t of p.text) tests.push(compileText(store, t));
  if (tests.length === 1) return tests[0]!;
  return (row) => {
    for (const test of tests) if (!test(row)) return false;
    return true;
  };
}

/** Does row match the query? One row only: compile once (compileQuery) to test many. */
export function rowMatches(store: TraceStore, row: number, p: ParsedQuery): boolean {
  return compileQuery(store, p)?.(row) ?? false;
}

/** Matching rows, at most `limit`, earliest first, and how many matched in all. */
export function searchRows(store: TraceStore, p: ParsedQuery, limit = 100): { rows: number[]; total: number } {
  const rows: number[] = [];
  let total = 0;
  const match = compileQuery(store, p);
  if (!match) return { rows, total };
  for (let r = 0; r < store.length; r++) {
    if (!match(r)) continue;
    if (rows.length < limit) rows.push(r);
    total++;
  }
  return { rows, total };
}

/** Text longer than this is cut in a result line (an instant's whole trace line can be long). */
const DESCRIBE_TEXT_CHARS = 80;

/** A one-line description of a row for the results list. */
export function describeRow(store: TraceStore, row: number): string {
  const ev = store.get(row) as unknown as Record<string, unknown>;
  const parts = [String(ev.kind), String(ev.task)];
  if (typeof ev.name === 'string' && ev.name) parts.push(ev.name);
  if (typeof ev.op === 'string') parts.push(ev.op);
  if (typeof ev.opcode === 'number') parts.push(opcodeName(ev.opcode));
  if (typeof ev.unique === 'number' && ev.unique) parts.push(`unique ${ev.unique}`);
  if (typeof ev.nodeId === 'number' && ev.nodeId) parts.push(`nodeid ${ev.nodeId}`);
  if (typeof ev.ino === 'number' && ev.ino) parts.push(`ino ${ev.ino}`);
  if (typeof ev.lock === 'string') parts.push(ev.lock);
  if (typeof ev.lockAddr === 'bigint' && ev.lockAddr) parts.push(`0x${ev.lockAddr.toString(16)}`);
  if (typeof ev.path === 'string' && ev.path) parts.push(ev.path);
  if (typeof ev.mapType === 'number') parts.push(mapTypeName(ev.mapType));
  if (typeof ev.posBytes === 'number') parts.push(`@${ev.posBytes}`);
  for (const f of ['text', 'message'] as const) {
    const s = ev[f];
    if (typeof s === 'string' && s) parts.push(s.length > DESCRIBE_TEXT_CHARS ? `${s.slice(0, DESCRIBE_TEXT_CHARS - 1)}…` : s);
  }
  return parts.join(' ');
}
