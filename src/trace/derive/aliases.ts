// The nodeid → inode state machine (docs/domain.md §5): which fuse_inode (nodeId) the
// kernel built for which on-disk inode, and which path names resolved to it.
//
//   path ──lookup──▶ nodeId ──evidence──▶ on-disk inode
//   /d1/file ─────▶ 4 ───────┐
//   /d2/link ─────▶ 5 ───────┴─▶ ino 14 (or "unknown")   ← an alias group: one inode, two nodeIds
//
// Groups come from evidence only (inode-groups.ts): the same real `ino` (a reply's st_ino, the
// series' INODE prefix, any event's ino field) or a LINK (`aliasOf` on inode_new/inode_lookup). A
// group without an inode number is still a group ("ino unknown"); a group whose evidence names two
// numbers keeps both and is flagged. nodeId 0 and ino 0 mean "unknown" and are never evidence.
//
// Fed incrementally from the store: every kind with a nodeId names its node (so a trace without
// inode events still shows its nodes); lock_attribution instants feed `lockEvidence`.

import { KIND_CODE, KINDS, KIND_FIELDS } from '../schema.ts';
import type { TraceStore } from '../store.ts';
import { InodeGroups } from './inode-groups.ts';
import { LockEvidence } from './lock-evidence.ts';
import { NO_NODE_ID, UNKNOWN_INO, type NodeId, type Ino } from '../ids.ts';

interface NodeInfo {
  nodeId: NodeId;
  /** The inode number evidence gives this nodeId itself (first one), 0 = none. See AliasIndex.inoOf for its group's. */
  ino: Ino;
  /** Path names that resolved to this nodeId, in first-seen order. */
  paths: string[];
  /** Row of the event that first named this nodeId (inode_new when present). */
  firstRow: number;
  firstTsNs: number;
  /** The kernel's lookup count after the last counted reply (0: none counted). */
  nlookup: number;
  forgotten: boolean;
  /** nodeIds a LINK names as the same inode (aliasOf, either direction). */
  linkedTo: NodeId[];
  /** The state fuse_iomap_init_inode printed for it (InodeState bits: iomap, excl, …); 0 = not traced. */
  iomapState: number;
}

interface PathInfo {
  path: string;
  nodeIds: NodeId[];
  /** Row of the first lookup of this path. */
  firstRow: number;
}

export interface AliasGroup {
  /** Stable key: the smallest nodeId of the group. */
  id: NodeId;
  /** The inode number, 0 when no evidence names one or the evidence disagrees (then see `inos`). */
  ino: Ino;
  /** Every inode number the evidence names for the group, ascending: [] unknown, two or more = conflict. */
  inos: Ino[];
  conflict: boolean;
  /** Members in first-seen order. */
  nodeIds: NodeId[];
  /** All paths of all nodeIds of the group, sorted. */
  paths: string[];
}

const K = KIND_CODE;
/** Kinds with a nodeId (and an ino): each names its node and is evidence for its ino. */
const NODE_KIND = new Uint8Array(KINDS.length);
for (const k of KINDS) {
  const f = KIND_FIELDS[k] as readonly string[];
  if (f.includes('nodeId') && f.includes('ino')) NODE_KIND[K[k]] = 1;
}
const INODE_PATH_KIND = new Uint8Array(KINDS.length);
INODE_PATH_KIND[K.inode_new] = 1;
INODE_PATH_KIND[K.inode_lookup] = 1;
INODE_PATH_KIND[K.inode_forget] = 1;

/** (nodeId, ino) pairs AliasIndex remembers having handled, by nodeId mod this. */
const SEEN_PAIRS = 64;

export class AliasIndex {
  readonly nodes = new Map<NodeId, NodeInfo>();
  readonly paths = new Map<string, PathInfo>();
  readonly inodes = new InodeGroups();
  /** Lock attributions the import recorded (lock_attribution instants), by lock address. */
  readonly lockEvidence = new LockEvidence();
  processedRows = 0;
  /** Bumped only when nodes, paths or links change (not per row): views memoize on it. */
  version = 0;
  private cacheVersion = -1;
  private groupCache = new Map<NodeId, AliasGroup>();
  // A trace's rows mostly repeat a recent (nodeId, ino): skip them without a Map lookup. A pair
  // once handled is known (its node, its ino evidence), so handling it again changes nothing;
  // kept by nodeId in a small direct-mapped table (several files' IO interleaves).
  private readonly seenNodeId = new Float64Array(SEEN_PAIRS).fill(NO_NODE_ID);
  private readonly seenIno = new Float64Array(SEEN_PAIRS).fill(UNKNOWN_INO);

  /** Handles rows up to `toRow` (default: all); a checker passes the row it is at, so identity is what rows before it say. */
  update(store: TraceStore, toRow = store.length): void {
    this.feed(store, this.processedRows, toRow, 0);
  }

  /**
   * Handles rows [fromRow, toRow) of `store`, the next rows of a stream whose row rowBase + r is
   * store row r (checkers are fed one store per live batch): rows kept here are stream rows.
   */
  feed(store: TraceStore, fromRow: number, toRow: number, rowBase: number): void {
    if (toRow <= fromRow) return;
    const kinds = store.kinds;
    const ts = store.tsNs;
    const nodeIdCol = store.nodeIdCol();
    const inoCol = store.inoCol();
    const pathCol = store.col('path');
    const nlookupCol = store.fieldCol('nlookup');
    const aliasOfCol = store.aliasOfCol();
    const inodeFlagsCol = store.fieldCol('inodeFlags');
    const before = this.inodes.version;
    for (let row = fromRow; row < toRow; row++) {
      const k = kinds[row]!;
      if (k === K.instant) {
        if (this.lockEvidence.take(store, row)) this.version++;
        continue;
      }
      if (NODE_KIND[k] === 0) continue;
      const nodeId = nodeIdCol[row]!;
      const ino = inoCol[row]!;
      if (nodeId === 0) continue;
      const pathKind = INODE_PATH_KIND[k] === 1;
      const seen = nodeId & (SEEN_PAIRS - 1);
      if (!pathKind && k !== K.inode_iomap && nodeId === this.seenNodeId[seen] && ino === this.seenIno[seen]) continue;
      this.seenNodeId[seen] = nodeId;
      this.seenIno[seen] = ino;
      const node = this.node(nodeId, ino, rowBase + row, ts[row]!);
      if (k === K.inode_iomap) {
        node.iomapState |= inodeFlagsCol[row]!;
        this.version++;
        continue;
      }
      if (!pathKind) continue;
      if (k === K.inode_new || k === K.inode_lookup) {
        const path = store.strings.get(pathCol[row]!);
        if (path && !node.paths.includes(path)) {
          node.paths.push(path);
          this.version++;
        }
        if (path) this.linkPath(path, nodeId, rowBase + row);
        // nlookup 0 on a lookup: identity evidence from a probe, not a counted lookup.
        if (k === K.inode_lookup && nlookupCol[row]! > 0) node.nlookup = nlookupCol[row]!;
        node.forgotten = false;
        const aliasOf = aliasOfCol[row]!;
        if (aliasOf !== 0 && aliasOf !== nodeId) this.link(nodeId, aliasOf, rowBase + row, ts[row]!);
      } else {
        node.nlookup = nlookupCol[row]!;
        if (node.nlookup <= 0) node.forgotten = true;
        this.version++;
      }
    }
    if (this.inodes.version !== before) this.version++;
    this.processedRows = rowBase + toRow;
  }

  private node(nodeId: NodeId, ino: Ino, row: number, tsNs: number): NodeInfo {
    let n = this.nodes.get(nodeId);
    if (!n) {
      n = { nodeId, ino, paths: [], firstRow: row, firstTsNs: tsNs, nlookup: 0, forgotten: false, linkedTo: [], iomapState: 0 };
      this.nodes.set(nodeId, n);
      this.version++;
    } else if (n.ino === 0 && ino !== 0) {
      n.ino = ino;
    }
    this.inodes.addIno(nodeId, ino);
    return n;
  }

  private link(nodeId: NodeId, aliasOf: NodeId, row: number, tsNs: number): void {
    const a = this.nodes.get(nodeId)!;
    const b = this.node(aliasOf, UNKNOWN_INO, row, tsNs);
    if (!a.linkedTo.includes(aliasOf)) a.linkedTo.push(aliasOf);
    if (!b.linkedTo.includes(nodeId)) b.linkedTo.push(nodeId);
    this.inodes.union(nodeId, aliasOf);
  }

  private linkPath(path: string, nodeId: NodeId, row: number): void {
    const p = this.paths.get(path);
    if (!p) {
      this.paths.set(path, { path, nodeIds: [nodeId], firstRow: row });
      this.version++;
    } else if (!p.nodeIds.includes(nodeId)) {
      p.nodeIds.push(nodeId);
      this.version++;
    }
  }

  /** Groups of every node (singletons too) by root, rebuilt when the evidence changed. */
  private allGroups(): Map<NodeId, AliasGroup> {
    if (this.cacheVersion === this.inodes.version + this.version) return this.groupCache;
    const out = new Map<NodeId, AliasGroup>();
    for (const [root, nodeIds] of this.inodes.members()) {
      const inos = this.inodes.inosOfMembers(nodeIds);
      const paths = new Set<string>();
      for (const id of nodeIds) for (const p of this.nodes.get(id)?.paths ?? []) paths.add(p);
      out.set(root, { id: root, ino: inos.length === 1 ? inos[0]! : UNKNOWN_INO, inos, conflict: inos.length > 1, nodeIds, paths: [...paths].sort() });
    }
    this.groupCache = out;
    this.cacheVersion = this.inodes.version + this.version;
    return out;
  }

  /** The group of a known nodeId (a group of one when nothing aliases it), else undefined. */
  groupOf(nodeId: NodeId): AliasGroup | undefined {
    if (!this.inodes.has(nodeId)) return undefined;
    return this.allGroups().get(this.inodes.find(nodeId));
  }

  /** The on-disk inode number of nodeId's group; 0 when unknown or when the evidence disagrees. */
  inoOf(nodeId: NodeId): Ino {
    return this.groupOf(nodeId)?.ino ?? UNKNOWN_INO;
  }

  /** Inodes reachable through more than one nodeId: by inode number, unknown ones last (by id). */
  groups(): AliasGroup[] {
    const out: AliasGroup[] = [];
    for (const g of this.allGroups().values()) if (g.nodeIds.length >= 2) out.push(g);
    const key = (g: AliasGroup): number => g.inos[0] ?? Infinity;
    return out.sort((a, b) => key(a) - key(b) || a.id - b.id);
  }
}
