// What a tracepoint handler sees. A handler is one entry in its system's table (systems/*.ts):
//
//   my_tracepoint(ctx, c, state) {            // c: the body cursor; state: the system's, per parser
//     const { nodeId, ino } = inode(c);       // shared field readers (fields.ts)
//     const posBytes = c.num('pos');          // a bad field throws BodyError: the parser reports it
//     ctx.emit({ kind: …, tsNs: ctx.tsNs, task: ctx.task, nodeId, ino, posBytes, … });
//   },
//
// A handler reads its body in order and says what the line was — emits an event, completes a
// deferred one, or keepAsInstant() if it only noted something (no line is dropped) — and may keep
// memory per task (TaskState), per system (its state) or hold an event open for a later line
// (defer, WaitQueue).
// Events are emitted in input order; a held event holds everything emitted after it.
import type { AppOp, InvalReason, TraceEvent } from '../../schema.ts';
import type { Cursor } from './cursor.ts';
import { asTaskId, NO_NODE_ID, UNKNOWN_INO, type NodeId, type Ino, type TaskId } from '../../ids.ts';

interface InFlight { op: AppOp; fd: number; path: string; oflags: number }

/**
 * What is remembered per task (`comm/pid`): a field, not a Map keyed by the task string, as it is
 * read on every syscall. A tracepoint that needs memory per task adds a field here (and to
 * newTaskState) — keep them monomorphic: initialise every field.
 */
export interface TaskState {
  readonly name: TaskId;
  /** The syscall entered and not yet exited. */
  inFlight: InFlight | undefined;
  /** The tgid a task_process row was emitted for (0: none yet). */
  tgid: number;
  /** A uprobe's string argument, the path of this task's next open. */
  uprobePath: string | undefined;
  /** Whether the last iomap_iter had WRITE. */
  iterWrite: boolean | undefined;
  /** An iomap_iter whose step opens if this task's dstmap follows (systems/iomap.ts). */
  iomapIter: IomapIterPending | undefined;
  /** The task's open kernel iomap step (opened by a dstmap, closed at its next iomap_iter). */
  iomapStep: IomapStepOpen | undefined;
  /** The task's direct IO in flight (iomap_dio_rw_begin, until iomap_dio_complete or the syscall's exit). */
  iomapDio: IomapDioOpen | undefined;
  /** The fd a dup is copying. */
  dupFrom: number | undefined;
  // fuse-iomap series (systems/fuse.ts):
  /** nodeid/ino of this task's open fuse_iomap_begin (0: none), for a bad_data line. */
  beginNodeId: NodeId;
  beginIno: Ino;
  /**
   * The task's open fuse_iomap_begin step, until its end shows: the loop's next iomap_iter
   * (systems/iomap.ts), begin_error, end, end_error or the file op's `_end`.
   */
  fuseStep: (IomapStepOpen & { nodeId: NodeId }) | undefined;
  /** Why the kernel would invalidate now: set by the task's last series file operation. */
  invalReason: InvalReason;
  /** Reason for the fuse_iomap_cache_remove lines that follow (null: none pending). */
  removeReason: InvalReason | null;
  /** Forks (1 read, 2 write) a server inval already counted from its notify: their removes are not counted again. */
  notifiedForks: number;
  /** An upsert's events, open until the task's next non-cache event (a bad_data rejects it). */
  pendingUpsert: PendingUpsert | null;
}

/** An upsert notify and the per-fork cache_upsert events it emitted (held until settled). */
export interface PendingUpsert {
  readonly key: number;
  readonly notify: TraceEvent & { kind: 'fuse_notify' };
  readonly upserts: Array<TraceEvent & { kind: 'cache_upsert' }>;
}

export function newTaskState(name: string): TaskState {
  return {
    name: asTaskId(name), tgid: 0, inFlight: undefined, uprobePath: undefined, iterWrite: undefined, iomapIter: undefined, iomapStep: undefined,
    iomapDio: undefined, dupFrom: undefined,
    beginNodeId: NO_NODE_ID, beginIno: UNKNOWN_INO, fuseStep: undefined, invalReason: 'unknown', removeReason: null, notifiedForks: 0, pendingUpsert: null,
  };
}

/** A kernel iomap step's identity and range (systems/iomap.ts). */
interface IomapStepOpen { fsDev: number; ino: Ino; posBytes: number; lenBytes: number }
interface IomapIterPending extends IomapStepOpen {
  opflags: number;
  /** The deferred instant the line was kept as; replaced by the iomap_begin if the dstmap follows. */
  held: TraceEvent;
}
interface IomapDioOpen { fsDev: number; ino: Ino; endBytes: number }

/**
 * Settles a deferred event `held` once its task's next event `next` is known (before `next` is
 * emitted). It may return `true`: not settled by `next`, keep waiting for the task's following event
 * (a later defer of the task still settles it); or an event: it takes `held`'s place in the output.
 */
export type Resolve<E extends TraceEvent> = (held: E, next: TraceEvent) => void | true | TraceEvent;

/** Events waiting, FIFO per numeric key, for a later line to complete them (output is held meanwhile). */
export interface WaitQueue<E extends TraceEvent> {
  /** Emits `ev` and keeps it open (holding output) until take(key) hands it out. */
  push(key: number, ev: E): void;
  /** The oldest event waiting under `key`, now closed (complete it before the next emit), or undefined. */
  take(key: number): E | undefined;
}

/** One event line, as a handler sees it. One object per parser, refilled per line: keep no reference to it. */
export interface TracepointContext {
  /** The tracepoint's name without its system (interned). */
  readonly name: string;
  /** ns since the first event of the trace. */
  readonly tsNs: number;
  /** `comm/pid`. */
  readonly task: TaskId;
  readonly taskState: TaskState;
  /** The tgid when the trace has it, else the pid (fd tables are per process). */
  readonly proc: number;
  emit(ev: TraceEvent): void;
  /** Emits the line as an `instant` named by the tracepoint with its body as text (what an unknown tracepoint becomes). */
  keepAsInstant(): void;
  /**
   * Emits `ev` and holds it (and all output after it) until this task's next event: then
   * resolve(ev, next) runs before `next` is emitted (null: nothing to settle, the event is just
   * released). If the task has no next event before the input ends (or the hold limit forces
   * output out), resolve never runs: `ev` stays as emitted, so emit it with its no-evidence values.
   */
  defer<E extends TraceEvent>(ev: E, resolve: Resolve<E> | null): void;
  /** This task's deferred event, if one is open (a handler may complete it instead of emitting). */
  deferred(): TraceEvent | undefined;
  /** Closes this task's deferred event without resolving it (after completing it in place). */
  closeDeferred(): void;
  /** Closes this task's deferred event and puts `ev` in its place in the output (its time must be the held one's). */
  replaceDeferred(ev: TraceEvent): void;
  /** `a|b` through a flag table; unknown names are reported (`unknown_flag`, naming `what`). */
  flags(text: string, table: ReadonlyArray<readonly [number, string]>, what: string): number;
  /** A diagnostic at this line (column 0: the line as a whole). */
  diag(code: string, message: string): void;
}

/** A tracepoint's handler: reads the body from `c` (positioned at its start), emits through ctx. */
export type TracepointHandler<S> = (ctx: TracepointContext, c: Cursor, state: S) => void;

/** One tracing system's tracepoints (name → handler) and the state its handlers share, made fresh per parser. */
export interface TracepointSystem<S> {
  readonly name: string;
  /** Called once per parser; may make wait queues. */
  newState(setup: SystemSetup): S;
  readonly handlers: Readonly<Record<string, TracepointHandler<S>>>;
}

/** Any system (each has its own state type; the parser hands each handler its own system's state). */
export type AnyTracepointSystem = TracepointSystem<any>;

/**
 * What several systems know together, one per parser. Keys of inodes are `${fsDev}:${ino}` (fsDev
 * as a 32-bit dev_t: a fuse connection is the N of `dev 0:N`).
 */
export interface SharedState {
  /**
   * Inodes of a fuse device that use the series' iomap data path (fuse_iomap_init_inode with
   * `iomap`, or a fuse_iomap_begin), filled by the `fuse` system: upstream `iomap_iter*` lines of a
   * fuse device are fuse mappings only for these (classic FUSE has its own fake-MAPPED iomap ops).
   */
  readonly fuseIomapInodes: Set<string>;
}

export function inodeKey(fsDev: number, ino: number): string {
  return `${fsDev}:${ino}`;
}

/** What newState may ask of the parser. */
export interface SystemSetup {
  waitQueue<E extends TraceEvent>(): WaitQueue<E>;
  /** State shared between systems (one object per parser). */
  readonly shared: SharedState;
}
