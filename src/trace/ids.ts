// Branded ids: a nodeid, an on-disk inode number and a task are all plain numbers or strings at
// runtime, but mixing them up is the mistake this debugger exists to expose (a nodeid is never an
// inode number: fuse-iomap's kernel keeps both, and hardlinks give one inode several nodeids). The
// brand makes `f(ino: Ino)` refuse a NodeId at compile time and costs nothing at runtime: the
// constructors are casts, and typed-array columns stay numeric (a branded value is read at the
// accessor, e.g. `asNodeId(col[row])`).

declare const brand: unique symbol;
type Branded<T, B extends string> = T & { readonly [brand]: B };

/** A FUSE nodeid (fuse_in_header.nodeid; the kernel's handle for a fuse_inode). 0 = unknown / none. */
export type NodeId = Branded<number, 'NodeId'>;
/** An on-disk inode number (st_ino, from evidence only; never a nodeid). 0 = unknown. */
export type Ino = Branded<number, 'Ino'>;
/** The task an event happened in, as `comm/tid` (app thread, server thread, kworker). */
export type TaskId = Branded<string, 'TaskId'>;

/** A number that is a nodeid (where raw numbers enter: parsers, the simulator, store reads). */
export function asNodeId(n: number): NodeId { return n as NodeId; }
/** A number that is an inode number. */
export function asIno(n: number): Ino { return n as Ino; }
/** A string that names a task (`comm/tid`). */
export function asTaskId(s: string): TaskId { return s as TaskId; }

/** "No nodeid known" (fuse's nodeid 0 is never a real inode's). */
export const NO_NODE_ID = 0 as NodeId;
/** The task of events that belong to no task (gaps, diagnostics of a whole file). */
export const NO_TASK = '' as TaskId;
/**
 * The task of an event read from a pasted line without its `comm-pid [cpu] time:` prefix: its task
 * and its time are unknown (its tsNs is only the file's order). Being on this task is what marks an
 * event untimed everywhere (untimed.ts): it survives NDJSON, recordings and the wire. A real task
 * id is `comm/tid` and never this.
 */
export const UNTIMED_TASK = 'task unknown' as TaskId;
/** "No inode number known". */
export const UNKNOWN_INO = 0 as Ino;
