// Search and filter over the store: a query is space-separated terms, each `field:value` or free
// text (all must match, case-insensitive):
//   opcode:IOMAP_BEGIN  nodeid:4  ino:12  path:/d1  task:writerA  off:0-65536  type:unwritten
//   kind:lock_wait  addr:0xffff8881  and free text matched against kind, task and path
// A term starting with `0x` (or `addr:`) matches lock events whose lock address (`lockAddr`) begins
// with that hex: `0xffff888112a4c3d8` or a prefix of it.
// `off:A-B` matches events whose [posBytes, posBytes+lenBytes) (or mapping range) meets [A, B).

import { KIND_CODE, KIND_FIELDS, KINDS, type EventKind } from '../schema.ts';
import { mapTypeFromName, mapTypeName, opcodeName } from '../fuse-proto.ts';
import type { TraceStore } from '../store.ts';

export interface ParsedQuery {
  opcode?: number | string;
  nodeId?: number;
  ino?: number;
  path?: string;
  task?: string;
  offFromBytes?: number;
  offToBytes?: number;
  mapType?: number;
  kind?: string;
  /** Lowercase hex digits a lock address starts with (no 0x). */
  lockAddrPrefix?: string;
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
      case 'path': out.path = value; break;
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

const HAS: Partial<Record<string, Set<number>>> = {};
function kindsWith(field: string): Set<number> {
  let s = HAS[field];
  if (!s) {
    s = new Set<number>();
    for (const k of KINDS) if ((KIND_FIELDS[k] as readonly string[]).includes(field)) s.add(KIND_CODE[k]);
    HAS[field] = s;
  }
  return s;
}

/** Does row match the query? Fields a kind does not have never match a term about them. */
export function rowMatches(store: TraceStore, row: number, p: ParsedQuery): boolean {
  const k = store.kinds[row]!;
  const kind: EventKind = KINDS[k]!;
  if (p.kind !== undefined && !kind.includes(p.kind)) return false;
  if (p.nodeId !== undefined && (!kindsWith('nodeId').has(k) || store.fieldCol('nodeId')[row] !== p.nodeId)) return false;
  if (p.ino !== undefined && (!kindsWith('ino').has(k) || store.fieldCol('ino')[row] !== p.ino)) return false;
  if (p.opcode !== undefined) {
    if (!kindsWith('opcode').has(k)) return false;
    const op = store.col('opcode')[row]!;
    if (typeof p.opcode === 'number' ? op !== p.opcode : !opcodeName(op).replace(/^FUSE_/, '').includes(p.opcode)) return false;
  }
  if (p.mapType !== undefined && (!kindsWith('mapType').has(k) || store.col('mapType')[row] !== p.mapType)) return false;
  if (p.lockAddrPrefix !== undefined) {
    if (!kindsWith('lockAddr').has(k)) return false;
    const addr = store.readField('lockAddr', row) as bigint;
    if (addr === 0n || !addr.toString(16).startsWith(p.lockAddrPrefix)) return false;
  }
  const task = p.task !== undefined || p.text.length ? store.strings.get(store.col('task')[row]!).toLowerCase() : '';
  if (p.task !== undefined && !task.includes(p.task)) return false;
  const hasPath = kindsWith('path').has(k);
  const path = hasPath ? store.strings.get(store.col('path')[row]!) : '';
  if (p.path !== undefined && (!hasPath || !path.includes(p.path))) return false;
  if (p.offFromBytes !== undefined) {
    const usesMap = !kindsWith('posBytes').has(k) && kindsWith('mapOffsetBytes').has(k);
    if (!usesMap && !kindsWith('posBytes').has(k)) return false;
    const pos = usesMap ? store.fieldCol('mapOffsetBytes')[row]! : store.fieldCol('posBytes')[row]!;
    const len = usesMap ? store.fieldCol('mapLenBytes')[row]! : kindsWith('lenBytes').has(k) ? store.fieldCol('lenBytes')[row]! : 1;
    if (pos >= p.offToBytes! || pos + Math.max(len, 1) <= p.offFromBytes) return false;
  }
  for (const t of p.text) if (!kind.includes(t) && !task.includes(t) && !path.toLowerCase().includes(t)) return false;
  return true;
}

/** Matching rows, at most `limit`, earliest first; `scanned` says how far it looked. */
export function searchRows(store: TraceStore, p: ParsedQuery, limit = 100): { rows: number[]; total: number } {
  const rows: number[] = [];
  let total = 0;
  if (isEmptyQuery(p)) return { rows, total };
  for (let r = 0; r < store.length; r++) {
    if (!rowMatches(store, r, p)) continue;
    if (rows.length < limit) rows.push(r);
    total++;
  }
  return { rows, total };
}

/** A one-line description of a row for the results list. */
export function describeRow(store: TraceStore, row: number): string {
  const ev = store.get(row) as unknown as Record<string, unknown>;
  const parts = [String(ev.kind), String(ev.task)];
  if (typeof ev.opcode === 'number') parts.push(opcodeName(ev.opcode));
  if (typeof ev.nodeId === 'number' && ev.nodeId) parts.push(`nodeid ${ev.nodeId}`);
  if (typeof ev.ino === 'number' && ev.ino) parts.push(`ino ${ev.ino}`);
  if (typeof ev.lockAddr === 'bigint' && ev.lockAddr) parts.push(`0x${ev.lockAddr.toString(16)}`);
  if (typeof ev.path === 'string' && ev.path) parts.push(ev.path);
  if (typeof ev.mapType === 'number') parts.push(mapTypeName(ev.mapType));
  if (typeof ev.posBytes === 'number') parts.push(`@${ev.posBytes}`);
  return parts.join(' ');
}
