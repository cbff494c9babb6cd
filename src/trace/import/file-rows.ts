// Where one file's parsed events go. By default they are held in a list, for the cross-file passes
// (pipeline.ts: merge on one clock, joins by unique, identity evidence, lock attribution), which
// read and change earlier events. A file that is the whole trace may stream instead: each event is
// appended to a store at once and dropped, until one arrives that a pass would act on, or one the
// store would not take as it is (earlier than the last row: the store would clamp it; refused by
// the schema): then the rows so far become events again (exactly: nothing was clamped or lost)
// and the file goes on held. So a streamed file ends as the store the held path would have built.
// Lock contentions do not stop the stream: lock attribution only adds events next to them (it
// changes none). From a kernel trace's first contention on (the rows before it read back once),
// each streamed event also goes through the attribution pass; the pipeline puts what it adds
// into the store at the end (`lockPlan`).
//
//   stream:  event ──► store.append          (while needsPass(ev) is false and time does not go back)
//                 └──► lock attribution, step by step ──► its events inserted between the rows
//   held:    event ──► list ──► passes ──► store

import type { TraceEvent } from '../schema.ts';
import { TraceStore } from '../store.ts';
import { mayBeIdentityEvidence } from './identity.ts';
import { lockPlanner, type LockPlan, type LockPlanner } from './lock-attribution.ts';

/** Whether a pass of the pipeline may change or add events because of `ev` (a format's own test). */
type NeedsPass = (ev: TraceEvent) => boolean;

export class FileRows {
  /** The rows streamed so far; null once the file's events are held. */
  private streamed: TraceStore | null;
  private held: TraceEvent[] = [];
  private lastTsNs = -Infinity;
  /** Events added (streamed or held). */
  count = 0;
  /** tsNs of the first event added, null before it. */
  firstTsNs: number | null = null;
  /** Lock attribution over the streamed rows, from the first contention on; null before (or held). */
  private locks: LockPlanner | null = null;
  private plan: LockPlan | null = null;

  /**
   * `needsPass` null: every event is held (the file is one of several, or its format has passes).
   * `lockPass`: its lock contentions are attributed (a kernel trace's; the held path runs the same pass).
   */
  constructor(private readonly needsPass: NeedsPass | null = null, private readonly lockPass = false) {
    this.streamed = needsPass === null ? null : new TraceStore();
  }

  add(ev: TraceEvent): void {
    if (this.count++ === 0) this.firstTsNs = ev.tsNs;
    const store = this.streamed;
    if (store !== null) {
      if (ev.tsNs >= this.lastTsNs && !this.needsPass!(ev)) {
        try {
          const row = store.append(ev);
          this.lastTsNs = ev.tsNs;
          if (this.locks === null && this.lockPass && ev.kind === 'lock_contention') {
            // The pass needs what came before (syscalls in flight, iomap entries): those rows once.
            this.locks = lockPlanner();
            for (let r = 0; r < row; r++) this.locks.step(store.get(r), r);
          }
          this.locks?.step(ev, row);
          return;
        } catch {
          // Refused by the schema (a parser bug): held, so the pipeline reports it as it always has.
        }
      }
      this.hold();
    }
    this.held.push(ev);
  }

  /** About `rows` rows in all are coming: a streaming store makes room for them once (a hint; more still fit). */
  expect(rows: number): void {
    const store = this.streamed;
    if (store !== null && rows > store.capacityRows) store.reserve(rows - store.length, true);
  }

  /** Stops streaming: the rows so far become the held list (a second file was opened, or a pass is needed). */
  hold(): void {
    const store = this.streamed;
    if (store === null) return;
    this.streamed = null;
    this.locks = null;
    const events = new Array<TraceEvent>(store.length);
    for (let row = 0; row < store.length; row++) events[row] = store.get(row);
    this.held = events.concat(this.held);
  }

  /** The file's events as a list (streamed rows are turned back into events first). */
  events(): TraceEvent[] {
    this.hold();
    return this.held;
  }

  /** What lock attribution adds to the streamed rows (null: no contention streamed, or held). */
  lockPlan(): LockPlan | null {
    if (this.streamed === null || this.locks === null) return null;
    // finish() decides the waits still open: once.
    this.plan ??= this.locks.finish();
    return this.plan;
  }

  /** Every event streamed into one store (none held), else null. */
  get store(): TraceStore | null {
    return this.streamed;
  }
}

/** ftrace: the events a pass changes or adds events for, earlier ones included — a uprobe's fuse_recv
 * (nodeids by unique), an instant that is identity evidence (identity.ts). A lock contention is not
 * one: lock attribution runs on the streamed rows (file comment). */
export const ftraceNeedsPass: NeedsPass = (ev) =>
  ev.kind === 'fuse_recv' || (ev.kind === 'instant' && mayBeIdentityEvidence(ev));

/** NDJSON: no pass acts on an NDJSON file's events. */
export const ndjsonNeedsPass: NeedsPass = () => false;
