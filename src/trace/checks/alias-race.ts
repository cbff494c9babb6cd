// alias-race (docs/checks.md): one on-disk inode reached through several nodeids — several
// fuse_inodes, several i_rwsems (docs/domain.md §5.1, §5.3) — with exclusive i_rwsem holds or
// FUSE_WRITE requests through different nodeids overlapping in time; and iomap or the mapping
// cache enabled on such an inode, which the series forbids from v6 on (§5.4).
//
// Identity comes from derive/aliases.ts only (evidence: the same real ino, or a LINK), fed up to
// the row being judged, so an overlap is judged with what the trace said before it — the same
// however the rows were batched. A nodeid is never used as an inode number.
import { KIND_CODE, ENUMS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { AliasIndex, type AliasGroup } from '../derive/aliases.ts';
import { InodeState, Opcode } from '../fuse-proto.ts';
import { inoText } from '../derive/inode-groups.ts';
import type { NodeId } from '../ids.ts';
import type { Checker, Finding, RuleInfo } from './types.ts';
import { fmtNs, listText, rowSet } from './text.ts';

const K = KIND_CODE;
const I_RWSEM = ENUMS.lock.indexOf('i_rwsem');
const MODE_W = ENUMS.mode.indexOf('W');

/**
 * An exclusive i_rwsem hold or a FUSE_WRITE in flight through one nodeid. `later`: activities
 * through another nodeid of the same inode that started while this one was open — overlaps once
 * the trace shows this one ending (a real capture may show no lock releases at all: a hold whose
 * end is not in the trace overlaps nothing we can name).
 */
interface Activity { nodeId: NodeId; what: 'hold' | 'write'; startRow: number; startNs: number; endRow: number; endNs: number; later: Activity[] | null }
/** The first overlap seen between two nodeids, and how many there were. */
interface Overlap { a: Activity; b: Activity; count: number }

class AliasRaceChecker implements Checker {
  readonly rule = 'alias-race' as const;
  private readonly aliases = new AliasIndex();
  /** Open exclusive holds by nodeid (an exclusive lock has one holder). */
  private readonly holds = new Map<NodeId, Activity>();
  /** FUSE_WRITE requests in flight by unique. */
  private readonly writes = new Map<number, Activity>();
  /** By `min:max` nodeid pair. */
  private readonly overlaps = new Map<string, Overlap>();
  private readonly iomapRow = new Map<NodeId, number>();
  private readonly cacheRow = new Map<NodeId, number>();
  /** The nodeid a cache row last put or found in cacheRow (which only grows): most cache rows repeat it. */
  private lastCached = 0;

  onRows(store: TraceStore, from: number, to: number, rowBase: number): void {
    const kinds = store.kinds;
    const ts = store.tsNs;
    const nodeIdCol = store.nodeIdCol();
    const lock = store.col('lock');
    const mode = store.col('mode');
    const opcode = store.col('opcode');
    const unique = store.col('unique');
    const inodeFlags = store.col('inodeFlags');
    const rejected = store.col('rejected');
    for (let row = from; row < to; row++) {
      const k = kinds[row]!;
      switch (k) {
        case K.lock_acquire: case K.lock_release: {
          const nodeId = nodeIdCol[row]!;
          if (nodeId === 0 || lock[row] !== I_RWSEM || mode[row] !== MODE_W) break;
          if (k === K.lock_acquire) {
            const act: Activity = { nodeId, what: 'hold', startRow: rowBase + row, startNs: ts[row]!, endRow: -1, endNs: NaN, later: null };
            this.start(store, act, row, rowBase);
            this.holds.set(nodeId, act);
          } else {
            const act = this.holds.get(nodeId);
            if (act) { this.end(act, rowBase + row, ts[row]!); this.holds.delete(nodeId); }
          }
          break;
        }
        case K.fuse_send: {
          const nodeId = nodeIdCol[row]!;
          if (nodeId === 0 || opcode[row] !== Opcode.WRITE) break;
          const act: Activity = { nodeId, what: 'write', startRow: rowBase + row, startNs: ts[row]!, endRow: -1, endNs: NaN, later: null };
          this.start(store, act, row, rowBase);
          this.writes.set(unique[row]!, act);
          break;
        }
        case K.fuse_reply: {
          if (opcode[row] !== Opcode.WRITE) break;
          const act = this.writes.get(unique[row]!);
          if (act) { this.end(act, rowBase + row, ts[row]!); this.writes.delete(unique[row]!); }
          break;
        }
        case K.inode_iomap: {
          const nodeId = nodeIdCol[row]!;
          if ((inodeFlags[row]! & InodeState.IOMAP) !== 0 && !this.iomapRow.has(nodeId)) this.iomapRow.set(nodeId, rowBase + row);
          if ((inodeFlags[row]! & InodeState.IOMAP_CACHE) !== 0 && !this.cacheRow.has(nodeId)) this.cacheRow.set(nodeId, rowBase + row);
          break;
        }
        case K.cache_upsert: case K.cache_lookup: {
          const nodeId = nodeIdCol[row]!;
          if (nodeId === 0 || nodeId === this.lastCached || (k === K.cache_upsert && rejected[row])) break;
          if (!this.cacheRow.has(nodeId)) this.cacheRow.set(nodeId, rowBase + row);
          this.lastCached = nodeId;
          break;
        }
        default: break;
      }
    }
    this.aliases.feed(store, this.aliases.processedRows - rowBase, to, rowBase);
  }

  /** A new activity at store row `row`: does an activity through another nodeid of the same inode overlap it? */
  private start(store: TraceStore, act: Activity, row: number, rowBase: number): void {
    // Only an activity through another nodeid can overlap: with none open, identity need not be
    // brought up to this row yet (the rows are fed later, from where it stopped).
    let others = false;
    for (const h of this.holds.values()) if (h.nodeId !== act.nodeId) { others = true; break; }
    if (!others) for (const w of this.writes.values()) if (w.nodeId !== act.nodeId) { others = true; break; }
    if (!others) return;
    this.aliases.feed(store, this.aliases.processedRows - rowBase, row + 1, rowBase);
    const groups = this.aliases.inodes;
    if (!groups.has(act.nodeId)) return;
    const root = groups.find(act.nodeId);
    for (const h of this.holds.values()) this.overlapsIf(h, act, root);
    for (const w of this.writes.values()) this.overlapsIf(w, act, root);
  }

  /** `other`, open when `act` starts, overlaps it if it is through another nodeid of the inode whose root is `root`. */
  private overlapsIf(other: Activity, act: Activity, root: NodeId): void {
    const groups = this.aliases.inodes;
    if (other.nodeId === act.nodeId || !groups.has(other.nodeId) || groups.find(other.nodeId) !== root) return;
    (other.later ??= []).push(act);
  }

  /** `act` ended: the activities that started while it was open overlapped it. */
  private end(act: Activity, row: number, tsNs: number): void {
    act.endRow = row;
    act.endNs = tsNs;
    if (act.later === null) return;
    for (const b of act.later) {
      const key = act.nodeId < b.nodeId ? `${act.nodeId}:${b.nodeId}` : `${b.nodeId}:${act.nodeId}`;
      const o = this.overlaps.get(key);
      if (!o) this.overlaps.set(key, { a: act, b, count: 1 });
      else {
        o.count++;
        if (b.startRow < o.b.startRow) { o.a = act; o.b = b; }
      }
    }
    act.later = null;
  }

  findings(): Finding[] {
    const out: Finding[] = [];
    for (const g of this.aliases.groups()) out.push(this.finding(g));
    return out;
  }

  private finding(g: AliasGroup): Finding {
    const groups = this.aliases.inodes;
    const members = new Set(g.nodeIds);
    const nodeIds = [...g.nodeIds].sort((a, b) => a - b);
    let first: Overlap | undefined;
    let count = 0;
    for (const o of this.overlaps.values()) {
      if (!members.has(o.a.nodeId) || groups.find(o.a.nodeId) !== groups.find(g.id)) continue;
      count += o.count;
      if (!first || o.b.startNs < first.b.startNs || (o.b.startNs === first.b.startNs && o.b.startRow < first.b.startRow)) first = o;
    }
    const iomapIds = nodeIds.filter((n) => this.iomapRow.has(n));
    const cacheIds = nodeIds.filter((n) => this.cacheRow.has(n));
    const stateRows = [...iomapIds.map((n) => this.iomapRow.get(n)!), ...cacheIds.map((n) => this.cacheRow.get(n)!)];
    const who = `${inoText(g.inos)}${g.paths.length > 0 ? ` (${listText(g.paths)})` : ''} is reached through nodeids ${listText(nodeIds)}`;
    const model = 'The kernel keys its inodes by nodeid, so each nodeid is its own fuse_inode with its own i_rwsem, page cache, ' +
      'size and mapping cache (docs/domain.md §5.1, §5.2); the exclusive lock a writer takes through one name does not stop ' +
      'a writer coming through the other, and neither alias\'s caches see what the other changed (§5.3).';
    const plural = (ids: number[]) => `nodeid${ids.length > 1 ? 's' : ''} ${listText(ids)}`;
    const used = [
      ...(iomapIds.length > 0 ? [`iomap was enabled on ${plural(iomapIds)}`] : []),
      ...(cacheIds.length > 0 ? [`the mapping cache was used on ${plural(cacheIds)}`] : []),
    ].join(' and ');
    const enabled = used !== ''
      ? ` ${used.replace(/^the /, 'The ')}; from v6 on the series allows iomap only on files with fewer than two links and has fuse4fs give one nodeid per inode (§5.4), so a server of those revisions must not do this.`
      : ' From v6 on the series allows iomap only on files with fewer than two links (§5.4).';
    const figures = {
      ino: g.ino === 0 ? null : g.ino, inoEvidence: g.inos, nodeIds, paths: g.paths, overlaps: count,
      iomapNodeIds: iomapIds, cacheNodeIds: cacheIds,
    };
    if (first) {
      const { a, b } = first;
      // a (the earlier) ended in the trace; the overlap runs to the first of the two ends.
      const known = b.endRow >= 0;
      const durNs = known ? Math.min(a.endNs, b.endNs) - b.startNs : 0;
      const kinds = a.what === b.what ? (a.what === 'hold' ? 'exclusive i_rwsem holds' : 'FUSE_WRITE requests') : 'an exclusive i_rwsem hold and a FUSE_WRITE request';
      const explanation = `alias-race: ${who}. ${model} Here ${kinds} through nodeids ${a.nodeId} and ${b.nodeId} overlapped` +
        ` (from ${fmtNs(b.startNs)}, ${known ? `for ${fmtNs(durNs)}` : 'for a time the trace does not show: the later one\'s end is not in it'}); ` +
        `${count} overlap${count === 1 ? '' : 's'} between its nodeids in all.${enabled}`;
      return {
        rule: this.rule, severity: 'error', explanation, tsNs: b.startNs, durNs,
        evidence: rowSet([a.startRow, a.endRow, b.startRow, b.endRow, ...stateRows]),
        figures: { ...figures, overlapEndKnown: known },
      };
    }
    // Only the aliasing: from when the trace first named the group's second nodeid.
    const firsts = nodeIds.map((n) => this.aliases.nodes.get(n)).filter((n) => n !== undefined).sort((x, y) => x.firstRow - y.firstRow);
    const firstRows = firsts.map((n) => n.firstRow);
    const at = firsts[1] ?? firsts[0];
    const explanation = `alias-race: ${who}. ${model} No exclusive i_rwsem holds or FUSE_WRITE requests through different ` +
      `nodeids overlapped in this trace, so no race was seen, but nothing in the kernel prevents one.${enabled}`;
    return {
      rule: this.rule, severity: 'warning', explanation, tsNs: at?.firstTsNs ?? 0, durNs: 0,
      evidence: rowSet([...firstRows, ...stateRows]), figures: { ...figures, overlapEndKnown: null },
    };
  }
}

export const aliasRaceRule: RuleInfo = {
  id: 'alias-race',
  title: 'one inode through several nodeids (several i_rwsems): overlapping exclusive holds or writes; iomap on it',
  create: () => new AliasRaceChecker(),
};
