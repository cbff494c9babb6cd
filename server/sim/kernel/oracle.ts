// What the sim observes about the mappings the kernel uses — outside the model, for tests:
//  - the mapping oracle: does a mapping agree with the server's extent map at the moment it is
//    used? A server-side change of an ino is "in flight" from the request's send until the kernel
//    has processed its reply (and invalidated what it must); checks meanwhile count as exempt.
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

/** Mapping-changing requests of one ino, for the mapping oracle's "in flight" exemption. */
interface ChangeState { inflight: number; count: number }

export class MappingOracle {
  private readonly changes = new Map<number, ChangeState>();
  readonly mappingCheck: MappingCheckStats = { checked: 0, exempt: 0, disagreements: [] };
  /** Stale mappings used because validation was off (the §2.6 race), for tests. */
  staleUsedCount = 0;

  /** `check` null: no oracle (the bookkeeping below is skipped too). */
  constructor(private readonly core: SimCore, private readonly check: CheckMapping | null) {}

  /** A request that may change ino's mappings on the server is sent. */
  changeBegin(ino: number): void {
    if (this.check === null) return;
    let st = this.changes.get(ino);
    if (!st) this.changes.set(ino, (st = { inflight: 0, count: 0 }));
    st.inflight++;
    st.count++;
  }
  /** …and its reply has been processed. */
  changeEnd(ino: number): void {
    if (this.check === null) return;
    this.changes.get(ino)!.inflight--;
  }
  /** Changes of ino begun so far: a mapping fetched across one is exempt from the check. */
  changeCount(ino: number): number {
    return this.changes.get(ino)?.count ?? 0;
  }
  checkAgainstServer(proc: Proc, inode: FuseInode, io: IomapIo, source: 'reply' | 'cache', countAtSend: number): void {
    const check = this.check;
    if (check === null) return;
    const st = this.changes.get(inode.ino);
    if (st !== undefined && (st.inflight > 0 || st.count !== countAtSend)) { this.mappingCheck.exempt++; return; }
    this.mappingCheck.checked++;
    const why = check(inode.ino, io);
    if (why !== null && this.mappingCheck.disagreements.length < 100) {
      this.mappingCheck.disagreements.push({ tsNs: this.core.sched.nowNs, task: proc.task, ino: inode.ino, nodeId: inode.nodeId, source, why });
    }
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
