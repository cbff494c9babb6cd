// The brands are compile-time only: this file is type-checked by `npx tsc -p tsconfig.json` (part
// of `npm test`), and each `@ts-expect-error` line fails that check if the mix-up it shows ever
// compiles again (an unused @ts-expect-error is itself an error). The vitest cases show the
// brands cost nothing at runtime.
import { describe, expect, it } from 'vitest';
import { NO_NODE_ID, UNKNOWN_INO, asIno, asNodeId, asTaskId, type Ino, type NodeId, type TaskId } from './ids.ts';
import { inoLabel, nodeIdLabel } from './derive/inode-groups.ts';
import { AliasIndex } from './derive/aliases.ts';
import { TraceStore } from './store.ts';
import type { InodeNew } from './schema.ts';
import { ev } from './testing/events.ts';

describe('branded ids', () => {
  it('refuse a nodeid where an inode number is expected, and the reverse (checked by tsc)', () => {
    const nodeId: NodeId = asNodeId(5);
    const ino: Ino = asIno(12);
    const task: TaskId = asTaskId('dd/412');
    // @ts-expect-error a NodeId is not an Ino: the label of an inode number must not print a nodeid
    inoLabel(nodeId);
    // @ts-expect-error an Ino is not a NodeId
    nodeIdLabel(ino);
    // @ts-expect-error a plain number is neither: it enters through asIno / asNodeId
    inoLabel(12);
    // @ts-expect-error a task is a TaskId, not any string
    const named: TaskId = 'dd/412';
    // @ts-expect-error an event's ino field takes an Ino, not the nodeid of the same event
    const wrong: InodeNew = { kind: 'inode_new', tsNs: 0, task, nodeId, ino: nodeId, path: '/f', aliasOf: NO_NODE_ID };
    const store = new TraceStore();
    store.append(ev('inode_new', 0, 'dd/412', { nodeId: 5, ino: 12 }));
    const aliases = new AliasIndex();
    aliases.update(store);
    // @ts-expect-error a row's inode number (store.inoAt) is not a nodeid to look an alias group up by
    aliases.groupOf(store.inoAt(0));
    // Ids still read as numbers (a branded value is a number): arithmetic and comparisons work.
    const sum: number = nodeId + ino;
    expect([inoLabel(ino), nodeIdLabel(nodeId), inoLabel(UNKNOWN_INO), sum, named, wrong.kind]).toEqual(['ino 12', 'nodeid 5', 'ino unknown', 17, 'dd/412', 'inode_new']);
    expect(aliases.groupOf(store.nodeIdAt(0))?.ino).toBe(12);
  });
  it('cost nothing at runtime: the constructors return their argument', () => {
    expect(asNodeId(7)).toBe(7);
    expect(asIno(0)).toBe(0);
    expect(asTaskId('a/1')).toBe('a/1');
    const store = new TraceStore();
    store.append(ev('iomap_begin', 0, 'a/1', { nodeId: 7, ino: 12 }));
    // The branded column is the store's own typed array, not a copy.
    expect(store.nodeIdCol()).toBe(store.fieldCol('nodeId'));
    expect([store.nodeIdAt(0), store.inoAt(0), store.taskAt(0)]).toEqual([7, 12, 'a/1']);
  });
});
