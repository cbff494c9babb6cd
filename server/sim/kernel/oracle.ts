// What the sim observes about the mappings the kernel uses — outside the model, for tests:
//  - the mapping oracle: does a mapping agree with the server's extent map at the moment it is
//    used? A server-side change of an ino is "in flight" from the request's send until the kernel
//    has processed its reply (and invalidated what it must); a mapping that overlaps the range of
//    a change in flight, or of one begun since the mapping was fetched, is exempt. Ranges matter
//    because ioends complete on their own worker, which keeps some IOEND in flight most of the
//    time: an IOEND converts or remaps only its own range (§1.5), so mappings elsewhere stay
//    checkable.
//  - stale mappings used with cookie validation off (the §2.6 race), which the sim also reports
//    in the stream as an instant event, as a debugging kernel would.

import { MapType, NULL_ADDR, type IomapIo } from '../../../src/trace/fuse-proto.ts';
import type { Proc } from '../clock.ts';
import type { SimCore } from '../core.ts';
import type { FuseInode } from './inode.ts';
import type { CacheRec } from './mapping-cache.ts';

/** Test oracle: does a mapping agree with the server's extent map now? (null = yes). */
export type CheckMapping = (ino: number, io: IomapIo) => string | null;

export interface MappingCheckStats {
  checked: number;
  /** Checks skipped because a server-side change of that ino was in flight (reply not yet processed). */
  exempt: number;
  disagreements: { tsNs: number; task: string; ino: number; nodeId: number; source: 'reply' | 'cache'; why: string }[];
}

/** One mapping-changing request: the byte range of the file it may change on the server. */
interface Change { seq: number; startBytes: number; endBytes: number; open: boolean }
/** Mapping-changing requests of one ino, for the mapping oracle's exemption. */
interface ChangeState {
  /** Changes begun so far (the last one's seq). */
  count: number;
  /** Open changes and the most recent closed ones, in seq order. */
  log: Change[];
  /** Closed changes with seq <= this were dropped from the log: a mapping fetched before it is exempt. */
  prunedUpTo: number;
}
/** Closed changes kept per ino: far more than can begin during one request's round trip. */
const KEEP_CLOSED = 32;

export class MappingOracle {
  private readonly changes = new Map<number, ChangeState>();
  readonly mappingCheck: MappingCheckStats = { checked: 0, exempt: 0, disagreements: [] };
  /** Stale mappings used because validation was off (the §2.6 race), for tests. */
  staleUsedCount = 0;

  /** `check` null: no oracle (the bookkeeping below is skipped too). */
  constructor(private readonly core: SimCore, private readonly check: CheckMapping | null) {}

  /**
   * A request that may change ino's mappings in file bytes [startBytes, endBytes) on the server is
   * sent (default: the whole file). Returns the token `changeEnd` takes.
   */
  changeBegin(ino: number, startBytes = 0, endBytes = Infinity): number {
    if (this.check === null) return 0;
    let st = this.changes.get(ino);
    if (!st) this.changes.set(ino, (st = { count: 0, log: [], prunedUpTo: 0 }));
    const seq = ++st.count;
    st.log.push({ seq, startBytes, endBytes, open: true });
    return seq;
  }
  /** …and its reply has been processed. */
  changeEnd(ino: number, token: number): void {
    if (this.check === null) return;
    const st = this.changes.get(ino)!;
    const log = st.log;
    for (let i = log.length - 1; i >= 0; i--) if (log[i]!.seq === token) { log[i]!.open = false; break; }
    if (log.length <= 2 * KEEP_CLOSED) return;
    // Keep the open ones and the newest KEEP_CLOSED closed ones.
    let closedToKeep = KEEP_CLOSED;
    const kept: Change[] = [];
    for (let i = log.length - 1; i >= 0; i--) {
      const c = log[i]!;
      if (c.open || closedToKeep-- > 0) kept.push(c);
      else if (c.seq > st.prunedUpTo) st.prunedUpTo = c.seq;
    }
    st.log = kept.reverse();
  }
  /** Changes of ino begun so far: a mapping fetched across one that overlaps it is exempt from the check. */
  changeCount(ino: number): number {
    return this.changes.get(ino)?.count ?? 0;
  }
  checkAgainstServer(proc: Proc, inode: FuseInode, io: IomapIo, source: 'reply' | 'cache', countAtSend: number): void {
    const check = this.check;
    if (check === null) return;
    const st = this.changes.get(inode.ino);
    if (st !== undefined && this.overlapsChange(st, io, countAtSend)) { this.mappingCheck.exempt++; return; }
    this.mappingCheck.checked++;
    const why = check(inode.ino, io);
    if (why !== null && this.mappingCheck.disagreements.length < 100) {
      this.mappingCheck.disagreements.push({ tsNs: this.core.sched.nowNs, task: proc.task, ino: inode.ino, nodeId: inode.nodeId, source, why });
    }
  }

  /** A change in flight, or begun after `countAtSend`, overlaps the mapping's file range. */
  private overlapsChange(st: ChangeState, io: IomapIo, countAtSend: number): boolean {
    if (countAtSend < st.prunedUpTo) return true; // a change since then may have been pruned
    const start = Number(io.offsetBytes), end = start + Number(io.lenBytes);
    for (const c of st.log) if ((c.open || c.seq > countAtSend) && c.startBytes < end && start < c.endBytes) return true;
    return false;
  }

  /**
   * Validation off and the cookie is stale: is the mapping really wrong for this folio (the
   * cache no longer holds the same record here)? Then this is the §2.6 race: an UNWRITTEN mapping
   * over blocks writeback has converted makes the writer zero real data around its copy.
   */
  noteStaleUse(proc: Proc, inode: FuseInode, pos: number, dest: IomapIo, cookie: number): boolean {
    const now: CacheRec | null = inode.cache!.lookup('read', pos);
    const same = now !== null && now.type === dest.type &&
      (dest.addr === NULL_ADDR ? now.addr < 0 : now.addr >= 0 && BigInt(now.addr - now.offBytes) === dest.addr - dest.offsetBytes);
    if (same) return false;
    this.staleUsedCount++;
    const what = dest.type === MapType.UNWRITTEN ? 'unwritten mapping over converted blocks: partial folios are zeroed instead of read'
      : 'mapping changed under the writer';
    this.core.emit({
      kind: 'instant', tsNs: this.core.sched.nowNs, task: proc.task, name: 'stale_mapping_used',
      text: `nodeid ${inode.nodeId} ino ${inode.ino} pos 0x${pos.toString(16)} cookie ${cookie} ic_seq ${inode.cache!.seq}: ${what} (cookie validation off)`,
    });
    return true;
  }
}
