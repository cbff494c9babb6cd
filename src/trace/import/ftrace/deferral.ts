// Emission in input order, with events held while a later line may still change one of them:
//   - a `<stack trace>` block: one `instant` named `stack_trace`, its text the `=>` frames that
//     follow (innermost first, one per line), open until the next non-frame line;
//   - per-task deferral (defer): an event settled by the same task's next event (or, if its
//     resolver says so, a later one; the resolver may also replace it), e.g.
//     `fuse_iomap_ioend` `sent` (is the next event a fuse_send of FUSE_IOMAP_IOEND?) and a
//     `fuse_iomap_cache_lookup` that its `_result` completes into a hit;
//   - wait queues: events completed by a later line found by key, in order, e.g. 6.12–6.17
//     `fuse_request_send … req 0` waiting for its connection's next unmatched `fuse_request_end`.
// While any is open, every emitted event is held; held events go out in order once none is.
// Past MAX_HELD_EVENTS the open decisions are dropped (events keep what they were emitted with).
import type { TraceEvent } from '../../schema.ts';
import type { Resolve, WaitQueue } from './context.ts';

/** Events held for deferred decisions before they are forced out. */
const MAX_HELD_EVENTS = 4096;

interface Deferred { ev: TraceEvent; resolve: Resolve<TraceEvent> | null }

export class EventOutput {
  private held: TraceEvent[] = [];
  /** An empty list that becomes `held` when it is flushed (no new array per flush). */
  private spare: TraceEvent[] | null = [];
  private stack: { ev: TraceEvent & { kind: 'instant' }; frames: string[] } | null = null;
  /**
   * The open deferral per task; a closed one stays as undefined (deleting the only entry of a Map
   * shrinks its table, and a task's deferrals open and close on most lines of an iomap trace).
   */
  private readonly deferredByTask = new Map<string, Deferred | undefined>();
  /** Tasks with an open deferral (defined entries of deferredByTask). */
  private open = 0;
  /** Events in wait queues (all queues). */
  waiting = 0;
  private readonly queues: Array<KeyedWaitQueue<TraceEvent>> = [];

  constructor(private readonly onEvent: (ev: TraceEvent) => void) {}

  /** tsNs of the oldest event not yet handed out (held ones go out in input order), or Infinity. */
  oldestHeldNs(): number {
    return this.held.length > 0 ? this.held[0]!.tsNs : Infinity;
  }

  /** Emits in input order, holding events while a deferred decision is open. */
  emit(ev: TraceEvent): void {
    if (this.open > 0) {
      const d = this.deferredByTask.get(ev.task);
      if (d !== undefined && d.ev !== ev) {
        this.close(ev.task);
        if (d.resolve !== null) {
          const r = d.resolve(d.ev, ev);
          if (r === true) this.setDeferred(ev.task, d);
          else if (r !== undefined) this.replaceHeld(d.ev, r);
        }
      }
    }
    if (this.stack === null && this.open === 0 && this.waiting === 0 && this.held.length === 0) {
      this.onEvent(ev);
      return;
    }
    this.held.push(ev);
    if (this.held.length >= MAX_HELD_EVENTS) {
      this.dropOpen();
      this.flush();
    } else if (this.stack === null && this.open === 0 && this.waiting === 0) this.flush();
  }

  private setDeferred(task: string, d: Deferred): void {
    if (this.deferredByTask.get(task) === undefined) this.open++;
    this.deferredByTask.set(task, d);
  }

  /** Closes `task`'s deferral, if open. */
  private close(task: string): void {
    if (this.deferredByTask.get(task) === undefined) return;
    this.deferredByTask.set(task, undefined);
    this.open--;
  }

  defer<E extends TraceEvent>(ev: E, resolve: Resolve<E> | null): void {
    // A still open deferral of this task is settled by this event (its next one).
    const prev = this.deferredByTask.get(ev.task);
    if (prev !== undefined && prev.resolve !== null) {
      const r = prev.resolve(prev.ev, ev);
      if (r !== undefined && r !== true) this.replaceHeld(prev.ev, r);
    }
    this.setDeferred(ev.task, { ev, resolve: resolve as Resolve<TraceEvent> | null });
    this.emit(ev);
  }

  deferredOf(task: string): TraceEvent | undefined {
    return this.open === 0 ? undefined : this.deferredByTask.get(task)?.ev;
  }

  closeDeferred(task: string): void {
    this.close(task);
  }

  /** Closes `task`'s deferred event and puts `ev` in its place. */
  replaceDeferred(task: string, ev: TraceEvent): void {
    const d = this.deferredByTask.get(task);
    if (d === undefined) return;
    this.close(task);
    this.replaceHeld(d.ev, ev);
  }

  /** A deferred event is held until it is settled (or forced out with the open decisions dropped). */
  private replaceHeld(old: TraceEvent, ev: TraceEvent): void {
    const i = this.held.lastIndexOf(old);
    if (i >= 0) this.held[i] = ev;
  }

  waitQueue<E extends TraceEvent>(): WaitQueue<E> {
    const q = new KeyedWaitQueue<TraceEvent>(this);
    this.queues.push(q);
    return q as unknown as WaitQueue<E>;
  }

  /** Opens a `<stack trace>` block: `ev` (an instant) gets the frames added until closeStack. */
  openStack(ev: TraceEvent & { kind: 'instant' }): void {
    this.stack = { ev, frames: [] };
    this.emit(ev);
  }

  /** The open stack block's instant name (`stack_trace`, `user_stack`), or null. */
  stackName(): string | null {
    return this.stack === null ? null : this.stack.ev.name;
  }

  /** Adds a frame to the open stack block; false if none is open. */
  addFrame(frame: string): boolean {
    if (this.stack === null) return false;
    this.stack.frames.push(frame);
    return true;
  }

  closeStack(): void {
    const s = this.stack;
    if (s === null) return;
    this.stack = null;
    s.ev.text = s.frames.join('\n');
    if (this.open === 0 && this.waiting === 0) this.flush();
  }

  /** The input ended: every open decision is closed as it stands, everything held goes out. */
  end(): void {
    this.closeStack();
    this.dropOpen();
    this.flush();
  }

  private dropOpen(): void {
    this.deferredByTask.clear();
    this.open = 0;
    for (const q of this.queues) q.clear();
    this.waiting = 0;
  }

  private flush(): void {
    if (this.stack !== null) return;
    const held = this.held;
    if (held.length === 0) return;
    // (null while a flush runs: a flush inside onEvent takes a new list, never the one being read.)
    this.held = this.spare ?? [];
    this.spare = null;
    for (const ev of held) this.onEvent(ev);
    held.length = 0;
    this.spare = held;
  }
}

class KeyedWaitQueue<E extends TraceEvent> implements WaitQueue<E> {
  private readonly byKey = new Map<number, E[]>();
  constructor(private readonly out: EventOutput) {}
  push(key: number, ev: E): void {
    let q = this.byKey.get(key);
    if (!q) this.byKey.set(key, (q = []));
    q.push(ev);
    this.out.waiting++;
    this.out.emit(ev);
  }
  take(key: number): E | undefined {
    const q = this.byKey.get(key);
    const ev = q?.shift();
    if (ev === undefined) return undefined;
    this.out.waiting--;
    if (q!.length === 0) this.byKey.delete(key);
    return ev;
  }
  clear(): void {
    this.byKey.clear();
  }
}
