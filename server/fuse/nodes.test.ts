import { describe, expect, it } from 'vitest';
import { NodeTable } from './nodes.ts';

/** Counts the inode references the table holds, as ImageFs would. */
function refs() {
  const held = new Map<number, number>();
  return {
    held,
    ref: (ino: number) => held.set(ino, (held.get(ino) ?? 0) + 1),
    unref: (ino: number) => { const n = held.get(ino)! - 1; if (n === 0) held.delete(ino); else held.set(ino, n); },
  };
}

describe('NodeTable', () => {
  it('per-path: two names of inode 7 are two nodeids, each its own lookup count; the second names the first as alias', () => {
    const r = refs();
    const t = new NodeTable('per-path', r);
    const a = t.bind(1, 'file', 7);
    const b = t.bind(1, 'link', 7);
    expect([a.nodeId, b.nodeId]).toEqual([2, 3]);
    expect(t.aliasOf(b)).toBe(2);
    expect(t.bind(1, 'file', 7)).toBe(a); // the same name again: the same node, lookup count 2
    expect(a.nlookup).toBe(2);
    expect(r.held.get(7)).toBe(2); // one reference per live node
    t.forget(2, 2);
    expect(t.node(2)).toBeUndefined();
    expect(t.aliasOf(b)).toBe(0);
    expect(r.held.get(7)).toBe(1);
    // After the forget, the name gets a fresh nodeid (as libfuse's counter gives).
    expect(t.bind(1, 'file', 7).nodeId).toBe(4);
  });

  it('ino: every name of inode 7 is nodeid 7 with one lookup count', () => {
    const r = refs();
    const t = new NodeTable('ino', r);
    const a = t.bind(1, 'file', 7);
    const b = t.bind(5, 'link', 7);
    expect(b).toBe(a);
    expect(a.nodeId).toBe(7);
    expect(a.nlookup).toBe(2);
    expect(t.aliasOf(a)).toBe(0);
    expect(r.held.get(7)).toBe(1);
    t.forget(7, 1);
    expect(t.node(7)?.nlookup).toBe(1);
    t.forget(7, 1);
    expect(r.held.has(7)).toBe(false);
  });

  it('per-path: rename moves the node to the new name; unlink stops the name from reaching it', () => {
    const t = new NodeTable('per-path', refs());
    const a = t.bind(1, 'old', 9);
    t.rename(1, 'old', 1, 'new');
    expect(t.bind(1, 'new', 9)).toBe(a);
    t.unbind(1, 'new');
    expect(t.bind(1, 'new', 9)).not.toBe(a);
    // A name now naming another inode (replaced by a rename) gets a new node.
    const c = t.bind(1, 'x', 10);
    expect(t.bind(1, 'x', 11)).not.toBe(c);
    expect(t.node(1)?.ino).toBe(1); // the root is nodeid 1, inode 1
  });
});
