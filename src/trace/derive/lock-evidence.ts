// What an import's lock attribution (import/lock-attribution.ts) decided for each lock address, and
// from which evidence. The import records each decision in the trace itself as an `instant` named
// `lock_attribution` whose text is the JSON of a LockAttribution, so the decision travels with the
// events (NDJSON, recordings, the page's worker) and the locks view and inspector can name it.

import type { LockName } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import type { NodeId, Ino } from '../ids.ts';

export const LOCK_ATTRIBUTION_INSTANT = 'lock_attribution';

/**
 * Evidence names (`methods`): 'stack' (a stack trace names the lock's role), 'iomap_entry' (the
 * series' file-op entry event names the inode), 'syscall_fd' (the in-flight syscall's fd → path →
 * nodeid), 'holder_next_event' (the waiter's next inode-bearing event once it holds the lock),
 * 'uprobe_reply' (a reply probe's st_ino gives the inode number), 'server_reply' (the server's own
 * inode event gives it: its instrumentation, a -d log's reply), 'inode_tracepoint' (the series'
 * INODE prefix gives it), 'link' (the number comes from another nodeid of the same inode by a LINK).
 */
export interface LockAttribution {
  /** Lock address, hex (hashed unless the trace was taken with hash-ptr off). */
  lockAddr: string;
  lock: LockName;
  /** null: unknown. */
  nodeId: NodeId | null;
  /** On-disk inode number from evidence; null: unknown. */
  ino: Ino | null;
  path: string;
  methods: string[];
  contended: number;
  /** Why the lock or its inode is unknown ('' when attributed). */
  unknownReason: string;
}

const METHOD_LABELS: Record<string, string> = {
  stack: 'stack role',
  iomap_entry: 'iomap entry event',
  syscall_fd: "in-flight syscall's fd → path",
  holder_next_event: "holder's next event",
  uprobe_reply: 'uprobe reply st_ino',
  server_reply: "server's reply st_ino",
  inode_tracepoint: 'tracepoint INODE prefix',
  link: 'LINK alias',
};

export function methodLabel(m: string): string {
  return METHOD_LABELS[m] ?? m;
}

function parseAttribution(text: string): LockAttribution | null {
  try {
    const v = JSON.parse(text) as Partial<LockAttribution>;
    if (typeof v.lockAddr !== 'string' || !Array.isArray(v.methods)) return null;
    return {
      lockAddr: v.lockAddr, lock: v.lock ?? 'unknown', nodeId: v.nodeId ?? null, ino: v.ino ?? null, path: v.path ?? '',
      methods: v.methods.map(String), contended: v.contended ?? 0, unknownReason: v.unknownReason ?? '',
    };
  } catch {
    return null;
  }
}

/**
 * lock_attribution instants of a store, by address (lowercase hex with 0x). An address may have
 * several (a live capture's updates, server/capture/live-passes.ts): the last one is its decision.
 */
export class LockEvidence {
  readonly byAddr = new Map<string, LockAttribution>();
  private nameId = -1;

  /** Takes row if it is a lock_attribution instant (the caller checked it is an instant). */
  take(store: TraceStore, row: number): boolean {
    const nameCol = store.col('name');
    if (this.nameId < 0) {
      const id = store.strings.find(LOCK_ATTRIBUTION_INSTANT);
      if (id < 0) return false;
      this.nameId = id;
    }
    if (nameCol[row] !== this.nameId) return false;
    const a = parseAttribution(store.strings.get(store.col('text')[row]!));
    if (a === null) return false;
    this.byAddr.set(a.lockAddr.toLowerCase(), a);
    return true;
  }

  get(addr: bigint): LockAttribution | undefined {
    return addr === 0n ? undefined : this.byAddr.get(`0x${addr.toString(16)}`);
  }
}
