// The nodeid → inode state machine (fuse-iomap-domain.md §5): which fuse_inode (nodeId) the
// kernel built for which on-disk inode (ino), and which path names resolved to it.
//
//   path ──lookup──▶ nodeId ──attr ino──▶ ino
//   /d1/file ─────▶ 4 ───────┐
//   /d2/link ─────▶ 5 ───────┴─▶ 12      ← an alias group: one ino, two nodeIds (two i_rwsems)
//
// Fed incrementally from the store. inode_new / inode_lookup carry paths; iomap and lock events
// also carry (nodeId, ino), so a trace without inode events still shows its nodes. nodeId 0 and
// ino 0 mean "unknown" and are ignored.

import { KIND_CODE } from '../schema.ts';
import type { TraceStore } from '../store.ts';

export interface NodeInfo {
  nodeId: number;
  ino: number;
  /** Path names that resolved to this nodeId, in first-seen order. */
  paths: string[];
  /** Row of the event that first named this nodeId (inode_new when present). */
  firstRow: number;
  firstTsNs: number;
  nlookup: number;
  forgotten: boolean;
}

export interface PathInfo {
  path: string;
  nodeIds: number[];
  /** Row of the first lookup of this path. */
  firstRow: number;
}

export interface AliasGroup {
  ino: number;
  nodeIds: number[];
  /** All paths of all nodeIds of the group, sorted. */
  paths: string[];
}

const K = KIND_CODE;
const NODE_KINDS = new Set<number>([
  K.inode_new, K.inode_lookup, K.inode_forget, K.iomap_begin, K.lock_wait, K.lock_acquire,
  K.cache_upsert, K.cache_lookup,
]);

export class AliasIndex {
  readonly nodes = new Map<number, NodeInfo>();
  readonly paths = new Map<string, PathInfo>();
  /** ino → its nodeIds in first-seen order. */
  readonly nodeIdsByIno = new Map<number, number[]>();
  processedRows = 0;
  /** Bumped only when nodes, paths or links change (not per row): views memoize on it. */
  version = 0;

  update(store: TraceStore): void {
    if (this.processedRows >= store.length) return;
    const kinds = store.kinds;
    const ts = store.tsNs;
    const nodeIdCol = store.f64('nodeId');
    const inoCol = store.f64('ino');
    const pathCol = store.col('path');
    const nlookupCol = store.f64('nlookup');
    for (let row = this.processedRows; row < store.length; row++) {
      const k = kinds[row]!;
      if (!NODE_KINDS.has(k)) continue;
      const nodeId = nodeIdCol[row]!;
      const ino = inoCol[row]!;
      if (nodeId === 0) continue;
      const node = this.node(nodeId, ino, row, ts[row]!);
      if (k === K.inode_new || k === K.inode_lookup) {
        const path = store.strings.get(pathCol[row]!);
        if (path && !node.paths.includes(path)) {
          node.paths.push(path);
          this.version++;
        }
        if (path) this.linkPath(path, nodeId, row);
        if (k === K.inode_lookup) node.nlookup = nlookupCol[row]!;
        node.forgotten = false;
      } else if (k === K.inode_forget) {
        node.nlookup = nlookupCol[row]!;
        if (node.nlookup <= 0) node.forgotten = true;
        this.version++;
      }
    }
    this.processedRows = store.length;
  }

  private node(nodeId: number, ino: number, row: number, tsNs: number): NodeInfo {
    let n = this.nodes.get(nodeId);
    if (!n) {
      n = { nodeId, ino, paths: [], firstRow: row, firstTsNs: tsNs, nlookup: 0, forgotten: false };
      this.nodes.set(nodeId, n);
      if (ino !== 0) this.linkIno(ino, nodeId);
      this.version++;
    } else if (n.ino === 0 && ino !== 0) {
      n.ino = ino;
      this.linkIno(ino, nodeId);
      this.version++;
    }
    return n;
  }

  private linkIno(ino: number, nodeId: number): void {
    const list = this.nodeIdsByIno.get(ino);
    if (!list) this.nodeIdsByIno.set(ino, [nodeId]);
    else if (!list.includes(nodeId)) list.push(nodeId);
  }

  private linkPath(path: string, nodeId: number, row: number): void {
    const p = this.paths.get(path);
    if (!p) {
      this.paths.set(path, { path, nodeIds: [nodeId], firstRow: row });
      this.version++;
    } else if (!p.nodeIds.includes(nodeId)) {
      p.nodeIds.push(nodeId);
      this.version++;
    }
  }

  inoOf(nodeId: number): number {
    return this.nodes.get(nodeId)?.ino ?? 0;
  }

  /** Inodes reachable through more than one nodeId, by ino. */
  groups(): AliasGroup[] {
    const out: AliasGroup[] = [];
    for (const [ino, nodeIds] of this.nodeIdsByIno) {
      if (nodeIds.length < 2) continue;
      const paths = new Set<string>();
      for (const id of nodeIds) for (const p of this.nodes.get(id)!.paths) paths.add(p);
      out.push({ ino, nodeIds: [...nodeIds], paths: [...paths].sort() });
    }
    return out.sort((a, b) => a.ino - b.ino);
  }
}
