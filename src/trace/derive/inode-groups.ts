// Which nodeids name one on-disk inode, from evidence only (docs/domain.md §1.12, §5.2):
//
//   (a) the same real inode number: a reply's st_ino (uprobe on fuse_reply_entry/attr), the
//       series' INODE prefix `ino N nodeid M` (the kernel's orig_ino = the fuse_attr.ino the server
//       last reported), an event's `ino` field from any other source;
//   (b) a LINK: the new name's nodeid and the source path's nodeid (`aliasOf`).
//
// Union-find over nodeids with both kinds of edge. A group's inode number is what its evidence
// says: none → unknown (0), one → that number, several → the evidence disagrees and all of them are
// kept (never one picked). A nodeid is never used as an inode number.
//
// Root = the smallest nodeid of the group (union by minimum), so `find` is also a stable group id.

import type { Ino, NodeId } from '../ids.ts';

export class InodeGroups {
  private readonly parent = new Map<NodeId, NodeId>();
  /** Distinct evidenced inode numbers per nodeid, in first-seen order. */
  private readonly inosByNode = new Map<NodeId, Ino[]>();
  /** First nodeid seen with each inode number (the others are unioned with it). */
  private readonly nodeByIno = new Map<Ino, NodeId>();
  /** Bumped when a group or a group's evidence changes. */
  version = 0;

  /** Makes nodeId known (a group of one); false if it already was. */
  add(nodeId: NodeId): boolean {
    if (this.parent.has(nodeId)) return false;
    this.parent.set(nodeId, nodeId);
    this.version++;
    return true;
  }

  has(nodeId: NodeId): boolean {
    return this.parent.has(nodeId);
  }

  find(nodeId: NodeId): NodeId {
    let r = nodeId;
    for (let p = this.parent.get(r); p !== undefined && p !== r; p = this.parent.get(r)) r = p;
    // Path compression.
    for (let n = nodeId; n !== r;) {
      const next = this.parent.get(n)!;
      this.parent.set(n, r);
      n = next;
    }
    return r;
  }

  /** Evidence (b): two nodeids name one inode. */
  union(a: NodeId, b: NodeId): void {
    this.add(a);
    this.add(b);
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra === rb) return;
    if (ra < rb) this.parent.set(rb, ra);
    else this.parent.set(ra, rb);
    this.version++;
  }

  /** Evidence (a): nodeId's inode number is ino (0 = no evidence, ignored). */
  addIno(nodeId: NodeId, ino: Ino): void {
    this.add(nodeId);
    if (ino === 0) return;
    const list = this.inosByNode.get(nodeId);
    if (list === undefined) this.inosByNode.set(nodeId, [ino]);
    else if (list.includes(ino)) return;
    else list.push(ino);
    this.version++;
    const other = this.nodeByIno.get(ino);
    if (other === undefined) this.nodeByIno.set(ino, nodeId);
    else this.union(other, nodeId);
  }

  /** The inode numbers evidence gives nodeId itself (not its group), in first-seen order. */
  ownInos(nodeId: NodeId): readonly Ino[] {
    return this.inosByNode.get(nodeId) ?? [];
  }

  /** Every nodeid, grouped: root → members in insertion order. */
  members(): Map<NodeId, NodeId[]> {
    const out = new Map<NodeId, NodeId[]>();
    for (const id of this.parent.keys()) {
      const r = this.find(id);
      const list = out.get(r);
      if (list === undefined) out.set(r, [id]);
      else list.push(id);
    }
    return out;
  }

  /** Distinct inode numbers of a group's members, ascending. */
  inosOfMembers(members: readonly NodeId[]): Ino[] {
    const s = new Set<Ino>();
    for (const id of members) for (const i of this.ownInos(id)) s.add(i);
    return [...s].sort((a, b) => a - b);
  }
}

/** An inode as evidence names it: 'ino 14', 'ino unknown', or 'ino 14 or 15 (evidence disagrees)'. */
export function inoText(inos: readonly Ino[]): string {
  if (inos.length === 0) return 'ino unknown';
  if (inos.length === 1) return `ino ${inos[0]}`;
  return `ino ${inos.join(' or ')} (evidence disagrees)`;
}

/** One inode number for a label: the number, or 'unknown' for 0 (never a nodeid in its place). */
export function inoLabel(ino: Ino): string {
  return ino === 0 ? 'ino unknown' : `ino ${ino}`;
}

/** A nodeid for a label: the number, or 'unknown' for 0 (a kernel filesystem's or an unattributed lock). */
export function nodeIdLabel(nodeId: NodeId): string {
  return nodeId === 0 ? 'nodeid unknown' : `nodeid ${nodeId}`;
}
