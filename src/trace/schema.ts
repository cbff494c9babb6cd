// The fusescope event schema: one versioned discriminated union, flat fields with units in their
// names. docs/trace-format.md documents each field; this file is the spec the codec, the store and
// every source share. Objects of these types exist only at the edges (sources, inspector, export);
// inside the store each field is a typed-array column (see FIELD_TYPES).
//
// Times: `tsNs` is integer nanoseconds relative to the recording's `originNs` (a bigint kept by the
// store), so Float64 holds it exactly for ~104 days. Offsets and lengths are bytes. 64-bit disk
// addresses are bigint (all-ones = FUSE_IOMAP_NULL_ADDR). Ids are branded (ids.ts): a NodeId is
// not an Ino is not a number, at compile time only.
import { NO_NODE_ID, type NodeId, type Ino, type TaskId } from './ids.ts';


/** Bump on any change to kinds, fields or their column types; see docs/format-changelog.md. */
export const SCHEMA_VERSION = 4;
/** The oldest schema whose rows read as this one's (kinds, fields and enum values are append-only). */
export const SCHEMA_VERSION_MIN = 1;

export type AppOp =
  | 'read' | 'write' | 'pread' | 'pwrite' | 'fsync' | 'truncate' | 'fallocate'
  | 'open' | 'close' | 'link' | 'unlink' | 'copy_file_range' | 'fault';
export type Slot = 'read' | 'write';
export type MapSource = 'reply' | 'cache';
export type Fork = 'read' | 'write';
export type InvalReason =
  | 'server' | 'ioend' | 'truncate' | 'o_trunc' | 'fallocate' | 'copy_file_range' | 'inline_write' | 'evict'
  | 'upsert' | 'unknown';
export type DropReason = 'overflow' | 'whole_fork' | 'evict';
export type LockName = 'i_rwsem' | 'invalidate_lock' | 'unknown' | 'xfs_ilock';
export type LockMode = 'R' | 'W';
export type ContentionPhase = 'begin' | 'end';
export type Severity = 'info' | 'warn' | 'error';
/** What a `perf lock contention` table's rows are keyed by (its mode: default, -l/-a, -t, -o). */
export type SummaryBy = 'caller' | 'addr' | 'task' | 'owner';

/** Enum value tables: the stored code of a value is its index here. Append only. */
export const ENUMS = {
  op: ['read', 'write', 'pread', 'pwrite', 'fsync', 'truncate', 'fallocate', 'open', 'close', 'link',
    'unlink', 'copy_file_range', 'fault'] as const satisfies readonly AppOp[],
  slot: ['read', 'write'] as const satisfies readonly Slot[],
  source: ['reply', 'cache'] as const satisfies readonly MapSource[],
  fork: ['read', 'write'] as const satisfies readonly Fork[],
  reason: ['server', 'ioend', 'truncate', 'o_trunc', 'fallocate', 'copy_file_range', 'inline_write', 'evict',
    'overflow', 'whole_fork', 'upsert', 'unknown'] as const satisfies readonly (InvalReason | DropReason)[],
  lock: ['i_rwsem', 'invalidate_lock', 'unknown', 'xfs_ilock'] as const satisfies readonly LockName[],
  mode: ['R', 'W'] as const satisfies readonly LockMode[],
  phase: ['begin', 'end'] as const satisfies readonly ContentionPhase[],
  severity: ['info', 'warn', 'error'] as const satisfies readonly Severity[],
  summaryBy: ['caller', 'addr', 'task', 'owner'] as const satisfies readonly SummaryBy[],
} as const;
export type EnumName = keyof typeof ENUMS;

interface Base {
  /** ns since the recording's originNs. */
  tsNs: number;
  /** `comm/tid` of the task the event happened in (app thread, server thread, kworker). */
  task: TaskId;
}

/** A mapping (struct fuse_iomap_io), flattened. */
export interface MapFields {
  mapType: number;
  mapFlags: number;
  mapOffsetBytes: number;
  mapLenBytes: number;
  /** Disk address in bytes; 0xffff…ff = null. */
  mapAddr: bigint;
  mapDev: number;
  /** The type as the trace printed it when it is not one fusescope knows (mapType is then MAP_TYPE_UNKNOWN, 128); '' otherwise. */
  rawType: string;
}

export interface AppOpBegin extends Base {
  kind: 'app_op_begin';
  op: AppOp;
  path: string;
  fd: number;
  posBytes: number;
  lenBytes: number;
  /** open(2) flags of the fd, e.g. O_DIRECT = 0o40000. */
  oflags: number;
}
export interface AppOpEnd extends Base {
  kind: 'app_op_end';
  op: AppOp;
  fd: number;
  /** Bytes done, or -errno. */
  ret: number;
}
/** Kernel queues a request (fuse:fuse_request_send). */
export interface FuseSend extends Base {
  kind: 'fuse_send';
  unique: number;
  opcode: number;
  nodeId: NodeId;
  /** fuse_in_header.len: header + body. */
  lenBytes: number;
}
/** A server thread reads the request from /dev/fuse. */
export interface FuseRecv extends Base {
  kind: 'fuse_recv';
  unique: number;
  opcode: number;
  nodeId: NodeId;
}
/** The server writes the reply; the kernel ends the request (fuse:fuse_request_end). */
export interface FuseReply extends Base {
  kind: 'fuse_reply';
  unique: number;
  opcode: number;
  /** 0 or -errno. */
  error: number;
  /** fuse_out_header.len. */
  lenBytes: number;
}
/** Server → kernel notification (unique 0, code in the error field). */
export interface FuseNotify extends Base {
  kind: 'fuse_notify';
  notifyCode: number;
  nodeId: NodeId;
  /** What the kernel answered: 0 or -errno. */
  error: number;
}
/** iomap_begin entered for a fuse inode (fuse_iomap_begin). */
export interface IomapBegin extends Base {
  kind: 'iomap_begin';
  nodeId: NodeId;
  ino: Ino;
  /** Filesystem device as a 32-bit dev_t (major << 20 | minor); for fuse the connection; 0 = unknown. */
  fsDev: number;
  opflags: number;
  posBytes: number;
  lenBytes: number;
}
/** One slot of the mapping the iteration got, from a BEGIN reply or the cache. */
export interface IomapMap extends Base, MapFields {
  kind: 'iomap_map';
  nodeId: NodeId;
  ino: Ino;
  slot: Slot;
  source: MapSource;
  /** Validity cookie stamped on the mapping (0 = always valid). */
  cookie: number;
}
/** The iteration finished with the mapping (iomap_iter advanced). */
export interface IomapIterEnd extends Base {
  kind: 'iomap_iter_end';
  nodeId: NodeId;
  ino: Ino;
  posBytes: number;
  lenBytes: number;
  processedBytes: number;
  /** 0 or -errno (e.g. -EFSCORRUPTED after a bad mapping). */
  error: number;
}
/** FUSE_IOMAP_END is about to be sent (fuse_iomap_end). */
export interface IomapEnd extends Base, MapFields {
  kind: 'iomap_end';
  nodeId: NodeId;
  ino: Ino;
  opflags: number;
  posBytes: number;
  lenBytes: number;
  writtenBytes: number;
}
/** An ioend was processed (fuse_iomap_ioend); `sent` says whether FUSE_IOMAP_IOEND went out. */
export interface IomapIoend extends Base {
  kind: 'iomap_ioend';
  nodeId: NodeId;
  ino: Ino;
  posBytes: number;
  writtenBytes: number;
  ioendFlags: number;
  error: number;
  /** `new_addr` as the kernel sends it: 512-byte sectors for writeback (v7 code), all-ones for direct writes. */
  newAddr: bigint;
  /** On-disk size after the ioend (v7 reply, or the kernel's own estimate). */
  newSizeBytes: number;
  sent: boolean;
}
/** A mapping failed kernel validation (fuse_iomap_bad_data). */
export interface IomapBadData extends Base {
  kind: 'iomap_bad_data';
  nodeId: NodeId;
  ino: Ino;
  message: string;
  error: number;
}
export interface CacheLookup extends Base, MapFields {
  kind: 'cache_lookup';
  nodeId: NodeId;
  ino: Ino;
  fork: Fork;
  posBytes: number;
  lenBytes: number;
  hit: boolean;
  /** Sequence number stamped on a hit. */
  cookie: number;
  /**
   * The fork does not exist (an in-place server never creates a write fork): the lookup fell
   * through to the read fork. Neither a hit nor a miss.
   */
  forkAbsent: boolean;
}
export interface CacheUpsert extends Base, MapFields {
  kind: 'cache_upsert';
  nodeId: NodeId;
  ino: Ino;
  fork: Fork;
  /** ic_seq after the upsert. */
  seq: number;
  /** The kernel refused the mapping (attr_ino mismatch, failed validation): nothing was cached. */
  rejected: boolean;
}
export interface CacheInval extends Base {
  kind: 'cache_inval';
  nodeId: NodeId;
  ino: Ino;
  fork: Fork;
  posBytes: number;
  /** Range length; Infinity-free: to-EOF ranges are given as (maxbytes - pos). */
  lenBytes: number;
  reason: InvalReason;
  seq: number;
}
/** A revalidation found the cookie stale (fuse_iomap_invalid). */
export interface CacheStale extends Base, MapFields {
  kind: 'cache_stale';
  nodeId: NodeId;
  ino: Ino;
  posBytes: number;
  oldCookie: number;
  newCookie: number;
}
/** A whole fork was dropped (size cap overflow, whole-file invalidation, eviction). */
export interface CacheDrop extends Base {
  kind: 'cache_drop';
  nodeId: NodeId;
  ino: Ino;
  fork: Fork;
  reason: DropReason;
}
/** The kernel instantiated a fuse_inode for a nodeid (iget). */
export interface InodeNew extends Base {
  kind: 'inode_new';
  nodeId: NodeId;
  /** On-disk inode number from evidence (a reply's st_ino, an inode-bearing event); 0 = unknown. */
  ino: Ino;
  path: string;
  /** A nodeid known to name the same on-disk inode (a LINK's source), 0 = none known. */
  aliasOf: NodeId;
}
/** An entry reply bound `path` to `nodeId` (lookup count +1). */
export interface InodeLookup extends Base {
  kind: 'inode_lookup';
  nodeId: NodeId;
  /** As in InodeNew: 0 = unknown. */
  ino: Ino;
  path: string;
  nlookup: number;
  /** As in InodeNew. */
  aliasOf: NodeId;
}
export interface InodeForget extends Base {
  kind: 'inode_forget';
  nodeId: NodeId;
  ino: Ino;
  nlookup: number;
}
interface LockFields extends Base {
  lock: LockName;
  mode: LockMode;
  /** The fuse_inode owning the lock (0 = unknown). */
  nodeId: NodeId;
  /** 0 = unknown. */
  ino: Ino;
  /** The lock's kernel address when the trace showed it (lock:contention_*), 0 = not traced. */
  lockAddr: bigint;
}
export interface LockWait extends LockFields { kind: 'lock_wait' }
export interface LockAcquire extends LockFields { kind: 'lock_acquire' }
export interface LockRelease extends LockFields { kind: 'lock_release' }
/** Raw lock:contention_begin/end from a real kernel. */
export interface LockContention extends Base {
  kind: 'lock_contention';
  phase: ContentionPhase;
  lockAddr: bigint;
  /** SPIN 1, READ 2, WRITE 4, RT 8, PERCPU 16, MUTEX 32. */
  lockFlags: number;
  ret: number;
}
/**
 * One row of a `perf lock contention` table: perf's own totals for the waits it grouped under one
 * key. No timeline: tsNs is 0 and no span is drawn; the figures are perf's, as it printed them
 * (rounded to two decimals of their unit). A column the table did not print is -1.
 */
export interface LockSummary extends Base {
  kind: 'lock_summary';
  /** The table's mode: what `name` (and `task`, `lockAddr`) are. */
  summaryBy: SummaryBy;
  /** The key as perf printed it: the caller (`vfs_write+0x29c`), the lock's symbol (addr mode; may be ''), the comm (task/owner mode). */
  name: string;
  /** -v: the call stack perf printed under the row, bare symbols innermost first, one per line; '' none. */
  text: string;
  /** The lock: from the call stack when it names the lock's role (as lock attribution reads stacks), else unknown. */
  lock: LockName;
  /** Addr mode: the lock's address; 0 = not printed. */
  lockAddr: bigint;
  /** The `type` column as contention_begin flags (SPIN 1, READ 2, WRITE 4, RT 8, PERCPU 16, MUTEX 32); 0 = not printed or unknown. */
  lockFlags: number;
  contended: number;
  waitTotalNs: number;
  waitMaxNs: number;
  waitMinNs: number;
  waitAvgNs: number;
}
/**
 * The process a task belongs to, once per task (schema 4): written by a source that knows the
 * task's thread-group id — an ftrace `(tgid)` column (record-tgid), a raw capture's saved_tgids,
 * an instrumentation hello's pid. A task with no such row has an unknown process (its pid is a
 * thread id, not evidence of the process). No span is drawn for it.
 */
export interface TaskProcess extends Base {
  kind: 'task_process';
  /** The task's thread-group id (the process's pid); never 0. */
  tgid: number;
}
/**
 * A kernel file operation or writeback step a filesystem traced (the series' fuse_iomap_buffered_write
 * and its `_end`, writeback_submit, fallocate, truncate_*, …; upstream iomap_dio_rw_begin/_complete).
 * `name` is the tracepoint's name without its system and `fuse_` prefix; `…_end` names an exit.
 */
export interface FsOp extends Base {
  kind: 'fs_op';
  name: string;
  nodeId: NodeId;
  ino: Ino;
  fsDev: number;
  posBytes: number;
  lenBytes: number;
  /** Bytes done (an exit's ret), else 0. */
  processedBytes: number;
  /** 0 or -errno. */
  error: number;
  /** A disk address in bytes the event names (writeback_submit), else all-ones. */
  mapAddr: bigint;
}
/** The kernel set a nodeid up as an iomap file (fuse_iomap_init_inode); its state flags (InodeState). */
export interface InodeIomap extends Base {
  kind: 'inode_iomap';
  nodeId: NodeId;
  ino: Ino;
  inodeFlags: number;
}
/** The kernel evicted the inode of a nodeid (fuse_iomap_evict_inode). */
export interface InodeEvict extends Base {
  kind: 'inode_evict';
  nodeId: NodeId;
  ino: Ino;
}
/** Any event a source does not understand field by field (kept, never dropped). */
export interface Instant extends Base {
  kind: 'instant';
  name: string;
  text: string;
}
export interface Diag extends Base {
  kind: 'diag';
  severity: Severity;
  code: string;
  message: string;
  /** File (or source name) the diagnostic is about. */
  file: string;
  /** 1-based line in `source`, 0 if not line-oriented. */
  line: number;
}
/** Events lost between source and viewer (e.g. a slow client); views draw it. */
export interface Gap extends Base {
  kind: 'gap';
  /** How many events are missing; -1 when the source says some were but not how many (trace-cmd's `[EVENTS DROPPED]`). */
  missedEvents: number;
  fromTsNs: number;
  toTsNs: number;
}

export type TraceEvent =
  | AppOpBegin | AppOpEnd
  | FuseSend | FuseRecv | FuseReply | FuseNotify
  | IomapBegin | IomapMap | IomapIterEnd | IomapEnd | IomapIoend | IomapBadData
  | CacheLookup | CacheUpsert | CacheInval | CacheStale | CacheDrop
  | InodeNew | InodeLookup | InodeForget
  | LockWait | LockAcquire | LockRelease | LockContention
  | Instant | Diag | Gap
  | FsOp | InodeIomap | InodeEvict
  | LockSummary
  | TaskProcess;
export type EventKind = TraceEvent['kind'];
export type EventOf<K extends EventKind> = Extract<TraceEvent, { kind: K }>;

/** Families group kinds for summaries, filters and colours. */
export type Family = 'app' | 'fuse' | 'iomap' | 'cache' | 'inode' | 'lock' | 'other' | 'diag';

// ---------------------------------------------------------------------------------------------
// Storage: field → column type, kind → fields. Field names are global: a name means the same
// thing, in the same unit and column, in every kind that has it.

export type ColumnType = 'f64' | 'i32' | 'u32' | 'u16' | 'u8' | 'bool' | 'str' | 'u64' | EnumName;

export const FIELD_TYPES = {
  task: 'str',
  op: 'op', path: 'str', fd: 'i32', posBytes: 'f64', lenBytes: 'f64', oflags: 'u32', ret: 'f64',
  unique: 'f64', opcode: 'u16', nodeId: 'f64', ino: 'f64', error: 'i32', notifyCode: 'u16',
  opflags: 'u32', slot: 'slot', source: 'source', cookie: 'f64',
  mapType: 'u8', mapFlags: 'u16', mapOffsetBytes: 'f64', mapLenBytes: 'f64', mapAddr: 'u64', mapDev: 'u32',
  processedBytes: 'f64', writtenBytes: 'f64', ioendFlags: 'u32', newAddr: 'u64', newSizeBytes: 'f64',
  sent: 'bool', message: 'str', fork: 'fork', hit: 'bool', seq: 'f64', reason: 'reason',
  oldCookie: 'f64', newCookie: 'f64', nlookup: 'f64', lock: 'lock', mode: 'mode', phase: 'phase',
  lockAddr: 'u64', lockFlags: 'u32', name: 'str', text: 'str', severity: 'severity', code: 'str',
  file: 'str', line: 'f64', missedEvents: 'f64', fromTsNs: 'f64', toTsNs: 'f64',
  // Schema 2.
  fsDev: 'u32', inodeFlags: 'u32', rawType: 'str', rejected: 'bool', forkAbsent: 'bool', aliasOf: 'f64',
  // Schema 3.
  summaryBy: 'summaryBy', contended: 'f64', waitTotalNs: 'f64', waitMaxNs: 'f64', waitMinNs: 'f64', waitAvgNs: 'f64',
  // Schema 4.
  tgid: 'u32',
} as const satisfies Record<string, ColumnType>;
export type FieldName = keyof typeof FIELD_TYPES;

const MAP: readonly FieldName[] = ['mapType', 'mapFlags', 'mapOffsetBytes', 'mapLenBytes', 'mapAddr', 'mapDev'];
const LOCK: readonly FieldName[] = ['lock', 'mode', 'nodeId', 'ino', 'lockAddr'];

/** The fields each kind stores besides `kind` and `tsNs`, in canonical order. */
export const KIND_FIELDS: { readonly [K in EventKind]: readonly (keyof EventOf<K> & FieldName)[] } = {
  app_op_begin: ['task', 'op', 'path', 'fd', 'posBytes', 'lenBytes', 'oflags'],
  app_op_end: ['task', 'op', 'fd', 'ret'],
  fuse_send: ['task', 'unique', 'opcode', 'nodeId', 'lenBytes'],
  fuse_recv: ['task', 'unique', 'opcode', 'nodeId'],
  fuse_reply: ['task', 'unique', 'opcode', 'error', 'lenBytes'],
  fuse_notify: ['task', 'notifyCode', 'nodeId', 'error'],
  iomap_begin: ['task', 'nodeId', 'ino', 'opflags', 'posBytes', 'lenBytes', 'fsDev'],
  iomap_map: ['task', 'nodeId', 'ino', 'slot', 'source', ...MAP, 'cookie', 'rawType'] as (keyof IomapMap & FieldName)[],
  iomap_iter_end: ['task', 'nodeId', 'ino', 'posBytes', 'lenBytes', 'processedBytes', 'error'],
  iomap_end: ['task', 'nodeId', 'ino', 'opflags', 'posBytes', 'lenBytes', 'writtenBytes', ...MAP, 'rawType'] as (keyof IomapEnd & FieldName)[],
  iomap_ioend: ['task', 'nodeId', 'ino', 'posBytes', 'writtenBytes', 'ioendFlags', 'error', 'newAddr', 'newSizeBytes', 'sent'],
  iomap_bad_data: ['task', 'nodeId', 'ino', 'message', 'error'],
  cache_lookup: ['task', 'nodeId', 'ino', 'fork', 'posBytes', 'lenBytes', 'hit', ...MAP, 'cookie', 'rawType', 'forkAbsent'] as (keyof CacheLookup & FieldName)[],
  cache_upsert: ['task', 'nodeId', 'ino', 'fork', ...MAP, 'seq', 'rawType', 'rejected'] as (keyof CacheUpsert & FieldName)[],
  cache_inval: ['task', 'nodeId', 'ino', 'fork', 'posBytes', 'lenBytes', 'reason', 'seq'],
  cache_stale: ['task', 'nodeId', 'ino', 'posBytes', 'oldCookie', 'newCookie', ...MAP, 'rawType'] as (keyof CacheStale & FieldName)[],
  cache_drop: ['task', 'nodeId', 'ino', 'fork', 'reason'],
  inode_new: ['task', 'nodeId', 'ino', 'path', 'aliasOf'],
  inode_lookup: ['task', 'nodeId', 'ino', 'path', 'nlookup', 'aliasOf'],
  inode_forget: ['task', 'nodeId', 'ino', 'nlookup'],
  lock_wait: ['task', ...LOCK] as (keyof LockWait & FieldName)[],
  lock_acquire: ['task', ...LOCK] as (keyof LockAcquire & FieldName)[],
  lock_release: ['task', ...LOCK] as (keyof LockRelease & FieldName)[],
  lock_contention: ['task', 'phase', 'lockAddr', 'lockFlags', 'ret'],
  instant: ['task', 'name', 'text'],
  diag: ['task', 'severity', 'code', 'message', 'file', 'line'],
  gap: ['task', 'missedEvents', 'fromTsNs', 'toTsNs'],
  // Schema 2.
  fs_op: ['task', 'name', 'nodeId', 'ino', 'fsDev', 'posBytes', 'lenBytes', 'processedBytes', 'error', 'mapAddr'],
  inode_iomap: ['task', 'nodeId', 'ino', 'inodeFlags'],
  inode_evict: ['task', 'nodeId', 'ino'],
  // Schema 3.
  lock_summary: ['task', 'summaryBy', 'name', 'text', 'lock', 'lockAddr', 'lockFlags', 'contended', 'waitTotalNs', 'waitMaxNs', 'waitMinNs', 'waitAvgNs'],
  // Schema 4.
  task_process: ['task', 'tgid'],
};

/**
 * Fields a later schema added to an older kind, with the value that means "not traced": a reader
 * of an older source (NDJSON, the instrumentation socket) fills them in, and a test comparing
 * with what an older reader read leaves them out.
 */
export const ADDED_FIELDS: { readonly [K in EventKind]?: Readonly<Partial<Omit<EventOf<K>, 'kind'>>> } = {
  iomap_begin: { fsDev: 0 },
  iomap_map: { rawType: '' },
  iomap_end: { rawType: '' },
  cache_lookup: { rawType: '', forkAbsent: false },
  cache_upsert: { rawType: '', rejected: false },
  cache_stale: { rawType: '' },
  inode_new: { aliasOf: NO_NODE_ID },
  inode_lookup: { aliasOf: NO_NODE_ID },
  lock_wait: { lockAddr: 0n },
  lock_acquire: { lockAddr: 0n },
  lock_release: { lockAddr: 0n },
};

/** Kind codes: index in this list. Append only (a stored code must keep its meaning). */
export const KINDS = Object.keys(KIND_FIELDS) as EventKind[];
export const KIND_CODE: Record<EventKind, number> = Object.fromEntries(KINDS.map((k, i) => [k, i])) as Record<EventKind, number>;

export const KIND_FAMILY: Record<EventKind, Family> = {
  app_op_begin: 'app', app_op_end: 'app',
  fuse_send: 'fuse', fuse_recv: 'fuse', fuse_reply: 'fuse', fuse_notify: 'fuse',
  iomap_begin: 'iomap', iomap_map: 'iomap', iomap_iter_end: 'iomap', iomap_end: 'iomap',
  iomap_ioend: 'iomap', iomap_bad_data: 'iomap',
  cache_lookup: 'cache', cache_upsert: 'cache', cache_inval: 'cache', cache_stale: 'cache', cache_drop: 'cache',
  inode_new: 'inode', inode_lookup: 'inode', inode_forget: 'inode',
  lock_wait: 'lock', lock_acquire: 'lock', lock_release: 'lock', lock_contention: 'lock',
  instant: 'other', diag: 'diag', gap: 'diag',
  fs_op: 'iomap', inode_iomap: 'inode', inode_evict: 'inode',
  lock_summary: 'lock',
  task_process: 'other',
};

/** Canonical column order (wire and recording use these indexes). */
export const FIELDS = Object.keys(FIELD_TYPES) as FieldName[];
export const FIELD_CODE: Record<FieldName, number> = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<FieldName, number>;

export function isEventKind(kind: unknown): kind is EventKind {
  return typeof kind === 'string' && Object.hasOwn(KIND_FIELDS, kind);
}
