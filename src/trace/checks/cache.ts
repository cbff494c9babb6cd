// cache (docs/checks.md): what the kernel did with the server's mapping-cache notifications.
//  - uncached-nodeid: an upsert or invalidation the kernel refused with ESTALE: it has no inode for
//    that nodeid (it looks the nodeid up, it never instantiates one, docs/domain.md §1.5).
//  - ino-mismatch: one refused with EINVAL: attr_ino is not the inode's number (or, for an upsert, a
//    RETRY_CACHE fork; a payload of the wrong size; a connection without iomap, §1.5).
//  - overflow-drops: whole forks the kernel threw away for passing the size cap (§3.1), per nodeid.
// Evidence is the kernel's own answer (the notify's error) and its cache_drop rows; the inode rows
// of the trace only add context ("the trace shows it evicted", "the trace never shows it").
// Streaming: everything is copied out of the store during onRows; rows are stream rows.
import { KIND_CODE, ENUMS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { Errno, MapType } from '../fuse-proto.ts';
import type { Checker, Finding, RuleInfo } from './types.ts';
import { fmtNs } from './text.ts';

const K = KIND_CODE;
const DROP_OVERFLOW = ENUMS.reason.indexOf('overflow');
const REASON_SERVER = ENUMS.reason.indexOf('server');
const FORK_WRITE = ENUMS.fork.indexOf('write');

/** By kind code: 1 for the kinds this rule reads (while no refused notify is open, the other rows are skipped). */
const READS = new Uint8Array(256);
for (const k of [K.fuse_notify, K.inode_new, K.inode_lookup, K.inode_iomap, K.inode_forget, K.inode_evict, K.cache_upsert, K.cache_inval, K.cache_drop]) READS[k] = 1;

type Op = 'upsert' | 'inval' | null;
/**
 * The series' mapping notify codes (§1.3): v6/v7 100 upsert, 101 inval; v4/v5 10 upsert, 11 inval;
 * RFC v3 9 upsert, 10 inval. The trace does not carry the revision, so 9 and 10 are read from the
 * rows the kernel emitted for the notify when there are any (a refused notify in the simulator has none).
 */
const OP_BY_CODE = new Map<number, Op>([[100, 'upsert'], [101, 'inval'], [11, 'inval'], [9, null], [10, null]]);

interface Notify {
  row: number; tsNs: number; taskId: number; code: number; nodeId: number; error: number; op: Op;
  /** Rows of the cache events the kernel emitted for this notify (same task, same time). */
  followRows: number[];
  retryCache: boolean;
  /** The inode's number from those rows (0 = none). */
  ino: number;
  /** What the trace showed of the nodeid before: 'seen' (instantiated or looked up), 'gone' (forgotten or evicted after), 'never'. */
  before: 'seen' | 'gone' | 'never';
  beforeRow: number;
}

interface Drops { nodeId: number; count: number; read: number; write: number; rows: number[]; firstNs: number; lastNs: number }

class CacheChecker implements Checker {
  readonly rule = 'cache' as const;
  private readonly refused: Notify[] = [];
  /** The last refused notify per task, still collecting the rows that follow it at its time. */
  private readonly openByTask = new Map<number, Notify>();
  /** Per nodeid: the last row that showed it alive (+row) or gone (-row-1). */
  private readonly lastSeen = new Map<number, number>();
  private readonly drops = new Map<number, Drops>();
  /** Accepted upserts per nodeid (a box: one lookup an upsert). */
  private readonly upserts = new Map<number, { count: number }>();

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const task = store.col('task');
    const nodeId = store.col('nodeId');
    const ino = store.col('ino');
    const code = store.col('notifyCode');
    const error = store.col('error');
    const reason = store.col('reason');
    const fork = store.col('fork');
    const mapType = store.col('mapType');
    const rejected = store.col('rejected');
    for (let r = from; r < to; r++) {
      const k = kinds[r]!;
      // Refused notifies are rare: while none is open, only the kinds read here matter.
      if (this.openByTask.size === 0 && READS[k] === 0) continue;
      const row = rowBase + r;
      const t = task[r]!;
      const open = this.openByTask.size === 0 ? undefined : this.openByTask.get(t);
      if (open !== undefined && (ts[r] !== open.tsNs || !this.follows(k, reason[r]!))) this.openByTask.delete(t);
      if (k === K.fuse_notify) {
        const c = code[r]!;
        const e = error[r]!;
        if (!OP_BY_CODE.has(c) || (e !== -Errno.ESTALE && e !== -Errno.EINVAL)) continue;
        const n = nodeId[r]!;
        const seen = this.lastSeen.get(n);
        const n0: Notify = {
          row, tsNs: ts[r]!, taskId: t, code: c, nodeId: n, error: e, op: OP_BY_CODE.get(c)!, followRows: [], retryCache: false, ino: 0,
          before: seen === undefined ? 'never' : seen >= 0 ? 'seen' : 'gone', beforeRow: seen === undefined ? -1 : seen >= 0 ? seen : -seen - 1,
        };
        this.refused.push(n0);
        this.openByTask.set(t, n0);
      } else if (k === K.inode_new || k === K.inode_lookup || k === K.inode_iomap) {
        this.lastSeen.set(nodeId[r]!, row);
      } else if (k === K.inode_forget || k === K.inode_evict) {
        // inode_forget with lookups left does not free the inode; nlookup is not kept here, so only eviction says "gone".
        if (k === K.inode_evict) this.lastSeen.set(nodeId[r]!, -row - 1);
      } else if (k === K.cache_upsert || k === K.cache_inval || k === K.cache_drop) {
        if (open !== undefined && this.openByTask.get(t) === open && nodeId[r] === open.nodeId) {
          open.followRows.push(row);
          open.op ??= k === K.cache_upsert ? 'upsert' : 'inval';
          if (open.ino === 0) open.ino = ino[r]!;
          if (k === K.cache_upsert && mapType[r] === MapType.RETRY_CACHE) open.retryCache = true;
        }
        if (k === K.cache_upsert && rejected[r] === 0) {
          const u = this.upserts.get(nodeId[r]!);
          if (u) u.count++; else this.upserts.set(nodeId[r]!, { count: 1 });
        }
        if (k === K.cache_drop && reason[r] === DROP_OVERFLOW) {
          const n = nodeId[r]!;
          let d = this.drops.get(n);
          if (!d) { d = { nodeId: n, count: 0, read: 0, write: 0, rows: [], firstNs: ts[r]!, lastNs: 0 }; this.drops.set(n, d); }
          d.count++;
          if (fork[r] === FORK_WRITE) d.write++; else d.read++;
          if (d.rows.length < 3) d.rows.push(row);
          d.lastNs = ts[r]!;
        }
      }
    }
  }

  /** A row the kernel emits for a notify right after it: its cache changes (or, on import, its refused upserts). */
  private follows(k: number, reason: number): boolean {
    return k === K.cache_upsert || k === K.cache_drop || (k === K.cache_inval && reason === REASON_SERVER);
  }

  findings(): Finding[] {
    const out: Finding[] = this.refused.map((n) => this.refusedFinding(n));
    for (const n of [...this.drops.keys()].sort((a, b) => a - b)) out.push(this.dropFinding(this.drops.get(n)!));
    return out;
  }

  private refusedFinding(n: Notify): Finding {
    const what = n.op === 'upsert' ? 'an upsert notification' : n.op === 'inval' ? 'an invalidation notification'
      : `a mapping notification (code ${n.code}: an upsert or an invalidation depending on the revision, §1.3)`;
    const evidence = [n.row, ...n.followRows];
    if (n.error === -Errno.ESTALE) {
      // An inval for an inode the kernel does not have drops nothing that exists: no cache can be stale.
      const severity = n.op === 'inval' ? 'info' as const : 'warning' as const;
      const context = n.before === 'gone'
        ? ` The trace shows nodeid ${n.nodeId} evicted before (row ${n.beforeRow}): the server still used a nodeid the kernel had let go.`
        : n.before === 'seen'
          ? ` The trace showed nodeid ${n.nodeId} (row ${n.beforeRow}) but not its eviction; the kernel's answer is the evidence here.`
          : ` The trace never shows nodeid ${n.nodeId} instantiated or looked up (that absence alone would prove nothing: it may have been before the trace began); the kernel's answer is the evidence here.`;
      return {
        rule: this.rule, severity,
        explanation: `cache: the kernel refused ${what} for nodeid ${n.nodeId} with ESTALE: it has no inode for that nodeid. ` +
          'The kernel looks the nodeid up in its inode cache and never instantiates one for a notification (docs/domain.md §1.5), ' +
          (n.op === 'inval'
            ? 'so there was no cached mapping to drop: harmless for the data, but the server keeps notifying a nodeid the kernel does not hold.'
            : 'so the server\'s cache fill silently did nothing: the IO it meant to serve from the cache will ask the server again.') + context,
        tsNs: n.tsNs, durNs: 0, evidence,
        figures: { kind: 'uncached-nodeid', nodeId: n.nodeId, notifyCode: n.code, op: n.op, error: n.error, nodeIdInTrace: n.before },
      };
    }
    const cause = n.retryCache ? 'retry-cache' : n.followRows.length > 0 && n.op === 'upsert' ? 'attr_ino' : n.op === 'inval' ? 'attr_ino' : 'attr_ino-or-retry-cache';
    const causeText = cause === 'retry-cache'
      ? 'a fork of the upsert is RETRY_CACHE, which an upsert may not carry'
      : cause === 'attr_ino'
        ? `attr_ino is not the inode's number${n.ino !== 0 ? ` (the inode is ino ${n.ino})` : ''}: the server's idea of which file nodeid ${n.nodeId} is differs from the kernel's` +
          (n.op === 'inval' ? '' : ' (the trace shows no RETRY_CACHE fork)')
        : 'attr_ino is not the inode\'s number, or a fork is RETRY_CACHE (the trace does not show the forks of a refused upsert)';
    // A refused inval leaves mappings the server declared invalid in the kernel's cache: IO may use them.
    const severity = n.op === 'inval' ? 'error' as const : 'warning' as const;
    return {
      rule: this.rule, severity,
      explanation: `cache: the kernel refused ${what} for nodeid ${n.nodeId} with EINVAL. It answers EINVAL when attr_ino is not the ` +
        'inode\'s own number, when an upsert carries RETRY_CACHE, for a payload of the wrong size and on a connection without iomap ' +
        `(docs/domain.md §1.5); here most likely ${causeText}. ` +
        (n.op === 'inval'
          ? 'The mappings the server meant to invalidate stay in the kernel\'s cache, so later IO may use mappings the server no longer stands by.'
          : n.op === 'upsert'
            ? 'The server\'s cache fill silently did nothing; a server that then answers RETRY_CACHE sends the kernel back to a cache that still misses (§3.2).'
            : 'Either the cache fill did nothing or the invalidation did not happen.'),
      tsNs: n.tsNs, durNs: 0, evidence,
      figures: { kind: 'ino-mismatch', nodeId: n.nodeId, notifyCode: n.code, op: n.op, error: n.error, cause, ino: n.ino === 0 ? null : n.ino },
    };
  }

  private dropFinding(d: Drops): Finding {
    const upserts = this.upserts.get(d.nodeId)?.count ?? 0;
    const forks = [d.read > 0 ? `read fork ${d.read}` : '', d.write > 0 ? `write fork ${d.write}` : ''].filter(Boolean).join(', ');
    return {
      rule: this.rule, severity: 'info',
      explanation: `cache: nodeid ${d.nodeId}: the kernel threw its whole mapping cache fork away ${d.count} time${d.count === 1 ? '' : 's'} ` +
        `(${forks}) for being over the size cap, over ${fmtNs(d.lastNs - d.firstNs)}, against ${upserts} upserted mapping${upserts === 1 ? '' : 's'}. ` +
        'The cap (cache_maxbytes, 256 KiB by default, counted as records × 32 bytes) is tested on an upsert: a fork already over it is ' +
        'discarded whole and the new mapping becomes its only record (docs/domain.md §3.1); a discarded write fork stays present but empty, ' +
        'so write lookups then miss. These are the drops themselves; what refetching cost is the uncached rule\'s (kind thrashing).',
      tsNs: d.firstNs, durNs: d.lastNs - d.firstNs, evidence: d.rows,
      figures: { kind: 'overflow-drops', nodeId: d.nodeId, overflowDrops: d.count, readForkDrops: d.read, writeForkDrops: d.write, upserts },
    };
  }
}

export const cacheRule: RuleInfo = {
  id: 'cache',
  title: 'mapping-cache notifications the kernel refused (ESTALE: nodeid not instantiated; EINVAL: attr_ino mismatch) and size-cap fork drops',
  create: () => new CacheChecker(),
};
