// `fusescope summary`: one JSON object per set of files. The top-level keys are a stable contract
// (later sources fill them from real traces); add keys, never rename or remove them.

import { KIND_FAMILY, KINDS, KIND_CODE, type Family } from './schema.ts';
import { opcodeName } from './fuse-proto.ts';
import type { TraceStore } from './store.ts';
import { accountRun, type Accounting } from './accounting.ts';
import { forEachLockWait } from './lock-waits.ts';
import { formatDiag, type ParseDiag } from './ndjson.ts';

export interface AliasGroup {
  /** On-disk inode number (attr ino); null when a source cannot tell. */
  ino: number | null;
  nodeids: number[];
  paths: string[];
}
export interface LockSummary {
  /** `i_rwsem`, `invalidate_lock`, or `unknown`. */
  lock: string;
  ino: number | null;
  nodeid: number | null;
  /** Times a task waited for the lock and the trace shows the wait end (the durations are theirs). */
  contended: number;
  /** Waits for the lock the trace does not show ending: no duration, counted apart. */
  unfinished: number;
  waitNsTotal: number;
  waitNsMax: number;
}
export interface Summary {
  events: { total: number; byFamily: Partial<Record<Family, number>> };
  requests: { byOpcode: Record<string, number> };
  aliasGroups: AliasGroup[];
  locks: LockSummary[];
  cache: { hits: number; misses: number; upserts: number; invalidations: number };
  diagnostics: { count: number; first: string[] };
  /** Per-run accounting: upcalls per MiB, cache hit rate, unwritten conversions, lock waits, throughput. */
  accounting: Accounting;
}

const FIRST_DIAGS = 20;

export function summarize(store: TraceStore, parseDiags: readonly ParseDiag[] = [], parseDiagCount = parseDiags.length): Summary {
  const byFamily: Partial<Record<Family, number>> = {};
  const byOpcode: Record<string, number> = {};
  const pathsByNodeId = new Map<number, Set<string>>();
  const inoByNodeId = new Map<number, number>();
  const locks = new Map<string, LockSummary>();
  const cache = { hits: 0, misses: 0, upserts: 0, invalidations: 0 };
  const diagFirst: string[] = parseDiags.slice(0, FIRST_DIAGS).map(formatDiag);
  let diagCount = parseDiagCount;

  const kinds = store.kinds;
  const nodeId = store.f64('nodeId');
  const ino = store.f64('ino');
  const opcode = store.col('opcode');
  const hit = store.col('hit');
  const path = store.col('path');
  const lock = store.col('lock');
  const K = KIND_CODE;
  for (let row = 0; row < store.length; row++) {
    const k = kinds[row]!;
    const family = KIND_FAMILY[KINDS[k]!];
    byFamily[family] = (byFamily[family] ?? 0) + 1;
    switch (k) {
      case K.fuse_send: {
        const name = opcodeName(opcode[row]!);
        byOpcode[name] = (byOpcode[name] ?? 0) + 1;
        break;
      }
      case K.inode_new:
      case K.inode_lookup: {
        const id = nodeId[row]!;
        inoByNodeId.set(id, ino[row]!);
        let set = pathsByNodeId.get(id);
        if (!set) pathsByNodeId.set(id, (set = new Set()));
        const p = store.strings.get(path[row]!);
        if (p !== '') set.add(p);
        break;
      }
      case K.cache_lookup:
        if (hit[row]) cache.hits++;
        else cache.misses++;
        break;
      case K.cache_upsert: cache.upserts++; break;
      case K.cache_inval: case K.cache_drop: cache.invalidations++; break;
      case K.lock_wait: {
        // Every wait makes the lock contended; below, each is counted as ended (with its
        // duration) or unfinished.
        const key = `${lock[row]}:${nodeId[row]}`;
        let s = locks.get(key);
        if (!s) {
          s = {
            lock: store.readField('lock', row) as string, ino: ino[row]! || null, nodeid: nodeId[row]! || null,
            contended: 0, unfinished: 0, waitNsTotal: 0, waitNsMax: 0,
          };
          locks.set(key, s);
        }
        break;
      }
      case K.diag:
        diagCount++;
        if (diagFirst.length < FIRST_DIAGS) {
          const ev = store.get(row);
          if (ev.kind === 'diag') diagFirst.push(`${ev.file}:${ev.line}: ${ev.message}`);
        }
        break;
      default:
        break;
    }
  }

  forEachLockWait(store, (acquireRow, waitNs) => {
    const s = locks.get(`${lock[acquireRow]}:${nodeId[acquireRow]}`);
    if (!s) return;
    s.contended++;
    s.waitNsTotal += waitNs;
    s.waitNsMax = Math.max(s.waitNsMax, waitNs);
  }, (waitRow) => {
    const s = locks.get(`${lock[waitRow]}:${nodeId[waitRow]}`);
    if (s) s.unfinished++;
  });

  // Alias groups: one on-disk inode reached through several nodeids (libfuse path API, §5.2).
  const nodeIdsByIno = new Map<number, number[]>();
  for (const [id, i] of inoByNodeId) {
    const list = nodeIdsByIno.get(i) ?? [];
    list.push(id);
    nodeIdsByIno.set(i, list);
  }
  const aliasGroups: AliasGroup[] = [];
  for (const [i, ids] of [...nodeIdsByIno].sort((a, b) => a[0] - b[0])) {
    if (ids.length < 2) continue;
    ids.sort((a, b) => a - b);
    const paths = ids.flatMap((id) => [...(pathsByNodeId.get(id) ?? [])]).sort();
    aliasGroups.push({ ino: i, nodeids: ids, paths });
  }

  return {
    events: { total: store.length, byFamily },
    requests: { byOpcode },
    aliasGroups,
    locks: [...locks.values()].filter((l) => l.contended + l.unfinished > 0).sort((a, b) => b.waitNsTotal - a.waitNsTotal),
    cache,
    diagnostics: { count: diagCount, first: diagFirst },
    accounting: accountRun(store),
  };
}
