// Builders for tests: complete events with defaults, so a test states only what it is about.
import { MapType, NULL_ADDR } from '../fuse-proto.ts';
import type { EventKind, EventOf, TraceEvent } from '../schema.ts';
import type { Ino, NodeId, TaskId } from '../ids.ts';

/** A branded id's plain type (tests write ids as literals). */
type Unbrand<V> = V extends NodeId | Ino ? number : V extends TaskId ? string : V;
/** An event (or its fields) with plain numbers and strings where the schema has branded ids. */
export type Loose<E> = { [F in keyof E]: Unbrand<E[F]> };
/** Any event, ids as plain numbers and strings. */
export type LooseEvent = TraceEvent extends infer E ? (E extends TraceEvent ? Loose<E> : never) : never;

/** Literal events in tests: branded ids are plain numbers and strings at runtime, so this is a cast. */
export function typed(events: readonly LooseEvent[]): TraceEvent[];
export function typed(event: LooseEvent): TraceEvent;
export function typed(x: LooseEvent | readonly LooseEvent[]): TraceEvent | TraceEvent[] {
  return x as unknown as TraceEvent | TraceEvent[];
}

const MAP_DEFAULTS = {
  mapType: MapType.HOLE, mapFlags: 0, mapOffsetBytes: 0, mapLenBytes: 4096, mapAddr: NULL_ADDR, mapDev: 0,
};

const DEFAULTS: { [K in EventKind]: Loose<Omit<EventOf<K>, 'kind' | 'tsNs' | 'task'>> } = {
  app_op_begin: { op: 'write', path: '/f', fd: 3, posBytes: 0, lenBytes: 4096, oflags: 0 },
  app_op_end: { op: 'write', fd: 3, ret: 4096 },
  fuse_send: { unique: 2, opcode: 4094, nodeId: 2, lenBytes: 72 },
  fuse_recv: { unique: 2, opcode: 4094, nodeId: 2 },
  fuse_reply: { unique: 2, opcode: 4094, error: 0, lenBytes: 80 },
  fuse_notify: { notifyCode: 100, nodeId: 2, error: 0 },
  iomap_begin: { fsDev: 0, nodeId: 2, ino: 12, opflags: 1, posBytes: 0, lenBytes: 4096 },
  iomap_map: { rawType: '', nodeId: 2, ino: 12, slot: 'read', source: 'reply', cookie: 0, ...MAP_DEFAULTS },
  iomap_iter_end: { nodeId: 2, ino: 12, posBytes: 0, lenBytes: 4096, processedBytes: 4096, error: 0 },
  iomap_end: { rawType: '', nodeId: 2, ino: 12, opflags: 1, posBytes: 0, lenBytes: 4096, writtenBytes: 4096, ...MAP_DEFAULTS },
  iomap_ioend: { nodeId: 2, ino: 12, posBytes: 0, writtenBytes: 4096, ioendFlags: 0, error: 0, newAddr: NULL_ADDR, newSizeBytes: 4096, sent: false },
  iomap_bad_data: { nodeId: 2, ino: 12, message: 'bad', error: -117 },
  cache_lookup: { forkAbsent: false, rawType: '', nodeId: 2, ino: 12, fork: 'read', posBytes: 0, lenBytes: 4096, hit: false, cookie: 0, ...MAP_DEFAULTS },
  cache_upsert: { rejected: false, rawType: '', nodeId: 2, ino: 12, fork: 'read', seq: 1, ...MAP_DEFAULTS },
  cache_inval: { nodeId: 2, ino: 12, fork: 'read', posBytes: 0, lenBytes: 4096, reason: 'server', seq: 2 },
  cache_stale: { rawType: '', nodeId: 2, ino: 12, posBytes: 0, oldCookie: 1, newCookie: 2, ...MAP_DEFAULTS },
  cache_drop: { nodeId: 2, ino: 12, fork: 'read', reason: 'overflow' },
  inode_new: { aliasOf: 0, nodeId: 2, ino: 12, path: '/f' },
  inode_lookup: { aliasOf: 0, nodeId: 2, ino: 12, path: '/f', nlookup: 1 },
  inode_forget: { nodeId: 2, ino: 12, nlookup: 1 },
  lock_wait: { lockAddr: 0n, lock: 'i_rwsem', mode: 'W', nodeId: 2, ino: 12 },
  lock_acquire: { lockAddr: 0n, lock: 'i_rwsem', mode: 'W', nodeId: 2, ino: 12 },
  lock_release: { lockAddr: 0n, lock: 'i_rwsem', mode: 'W', nodeId: 2, ino: 12 },
  lock_contention: { phase: 'begin', lockAddr: 0xffff888112a4c3d8n, lockFlags: 4, ret: 0 },
  instant: { name: 'x', text: '' },
  diag: { severity: 'warn', code: 'c', message: 'm', file: 's', line: 1 },
  gap: { missedEvents: 1, fromTsNs: 0, toTsNs: 0 },
  fs_op: { name: 'iomap_buffered_write', nodeId: 2, ino: 12, fsDev: 45, posBytes: 0, lenBytes: 4096, processedBytes: 0, error: 0, mapAddr: NULL_ADDR },
  inode_iomap: { nodeId: 2, ino: 12, inodeFlags: 3 },
  inode_evict: { nodeId: 2, ino: 12 },
  lock_summary: {
    summaryBy: 'caller', name: 'vfs_write+0x29c', text: 'down_write\nvfs_write', lock: 'i_rwsem', lockAddr: 0n, lockFlags: 4,
    contended: 2, waitTotalNs: 8_630_000, waitMaxNs: 6_620_000, waitMinNs: -1, waitAvgNs: 4_320_000,
  },
  task_process: { tgid: 18104 },
};

/** `ev('fuse_send', 100, 'dd/412', { unique: 4 })` → a complete FuseSend. */
export function ev<K extends EventKind>(
  kind: K,
  tsNs: number,
  task: string,
  fields: Partial<Loose<Omit<EventOf<K>, 'kind' | 'tsNs' | 'task'>>> = {},
): EventOf<K> {
  return { kind, tsNs, task, ...DEFAULTS[kind], ...fields } as unknown as EventOf<K>;
}

/** One event of every kind, with distinctive values, for round-trip tests. */
export function oneOfEach(): TraceEvent[] {
  return (Object.keys(DEFAULTS) as EventKind[]).map((k, i) => ev(k, i * 10, `task-${i % 3}/${100 + i}`));
}
