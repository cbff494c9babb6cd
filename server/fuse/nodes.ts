// Which nodeid `fusescope mount` hands the kernel for a name — the two policies (docs/fuse-server.md):
//
//   per-path  like libfuse's high-level path API (lib/fuse.c): a node per (parent nodeid, name), its
//             nodeid from a counter. A file's two hardlink names are two nodeids, so the kernel builds
//             two inodes (two i_rwsems, two page caches) for one inode on disk.
//   ino       the nodeid is the inode number (libfuse's low-level API as fuse4fs uses it): one
//             kernel inode per file, whatever name reached it.
//
// Either way a node lives while the kernel's lookup count on it is above zero: every entry reply
// adds one, FORGET subtracts what the kernel says. A live node holds one reference on its inode (an
// unlinked file is freed only when no node and no open handle refers to it).

import { FUSE_ROOT_ID } from './proto.ts';
import { ROOT_INO } from './image.ts';

export type NodePolicy = 'per-path' | 'ino';
export const NODE_POLICIES: readonly NodePolicy[] = ['per-path', 'ino'];

export interface Node {
  readonly nodeId: number;
  readonly ino: number;
  nlookup: number;
}

export interface InodeRefs {
  ref(ino: number): void;
  unref(ino: number): void;
}

const key = (parentNodeId: number, name: string): string => `${parentNodeId}/${name}`;

export class NodeTable {
  private readonly byId = new Map<number, Node>();
  /** per-path: (parent nodeid, name) → nodeid. */
  private readonly byName = new Map<string, number>();
  /** per-path: nodeid → its (parent, name) key, to move or drop it. */
  private readonly nameOf = new Map<number, string>();
  /** inode number → its live nodeids (more than one only under per-path). */
  private readonly byIno = new Map<number, Set<number>>();
  private nextNodeId = FUSE_ROOT_ID + 1;

  constructor(readonly policy: NodePolicy, private readonly refs: InodeRefs) {
    // The root is never forgotten (the kernel holds it for the mount's life).
    this.byId.set(FUSE_ROOT_ID, { nodeId: FUSE_ROOT_ID, ino: ROOT_INO, nlookup: 1 });
  }

  /** Another live nodeid naming the same inode (the lowest), or 0: the aliasing evidence. */
  aliasOf(node: Node): number {
    let best = 0;
    for (const id of this.byIno.get(node.ino) ?? []) if (id !== node.nodeId && (best === 0 || id < best)) best = id;
    return best;
  }

  private added(node: Node): void {
    this.byId.set(node.nodeId, node);
    let set = this.byIno.get(node.ino);
    if (!set) this.byIno.set(node.ino, (set = new Set()));
    set.add(node.nodeId);
    this.refs.ref(node.ino);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The node the kernel named, or undefined for a nodeid this server never gave out (or forgot). */
  node(nodeId: number): Node | undefined {
    return this.byId.get(nodeId);
  }

  /** An entry reply binds `name` in `parentNodeId` to inode `ino`: the node to answer with, its lookup count already +1. */
  bind(parentNodeId: number, name: string, ino: number): Node {
    let node: Node | undefined;
    if (this.policy === 'ino') {
      node = this.byId.get(ino);
      if (!node) {
        node = { nodeId: ino, ino, nlookup: 0 };
        this.added(node);
      }
    } else {
      const k = key(parentNodeId, name);
      const id = this.byName.get(k);
      node = id !== undefined ? this.byId.get(id) : undefined;
      if (!node || node.ino !== ino) {
        if (node) this.unbindKey(k);
        node = { nodeId: this.nextNodeId++, ino, nlookup: 0 };
        this.added(node);
        this.byName.set(k, node.nodeId);
        this.nameOf.set(node.nodeId, k);
      }
    }
    node.nlookup++;
    return node;
  }

  /** FORGET: the kernel dropped `n` lookups; the node goes at zero. Returns the node as it was, if known. */
  forget(nodeId: number, n: number): Node | undefined {
    const node = this.byId.get(nodeId);
    if (!node || nodeId === FUSE_ROOT_ID) return node;
    node.nlookup = Math.max(0, node.nlookup - n);
    if (node.nlookup === 0) {
      this.byId.delete(nodeId);
      const set = this.byIno.get(node.ino);
      set?.delete(nodeId);
      if (set?.size === 0) this.byIno.delete(node.ino);
      const k = this.nameOf.get(nodeId);
      if (k !== undefined) {
        this.nameOf.delete(nodeId);
        if (this.byName.get(k) === nodeId) this.byName.delete(k);
      }
      this.refs.unref(node.ino);
    }
    return node;
  }

  /** The name is gone (unlink, rmdir, replaced by a rename): per-path stops reusing its node for it. */
  unbind(parentNodeId: number, name: string): void {
    if (this.policy === 'per-path') this.unbindKey(key(parentNodeId, name));
  }

  private unbindKey(k: string): void {
    const id = this.byName.get(k);
    if (id === undefined) return;
    this.byName.delete(k);
    this.nameOf.delete(id);
  }

  /** A rename moves the name's node (as libfuse moves the node in its name table). */
  rename(oldParent: number, oldName: string, newParent: number, newName: string): void {
    if (this.policy !== 'per-path') return;
    const from = key(oldParent, oldName), to = key(newParent, newName);
    const id = this.byName.get(from);
    this.unbindKey(to);
    if (id === undefined) return;
    this.byName.delete(from);
    this.byName.set(to, id);
    this.nameOf.set(id, to);
  }
}
