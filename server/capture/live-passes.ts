// The import's passes over a live stream: what `fusescope import` does to a whole trace after the fact
// (src/trace/import/pipeline.ts: join by unique, inode identity, lock attribution), done as the
// events come, with the same steppers — no second copy of their rules.
//
//   --workload:  kernel + server (MergedSource) → unique join (libfuse-join.ts: the server's
//                fuse_recv gives the kernel's fuse_send its nodeid) → identity → lock attribution
//   --tracefs:   kernel → identity → lock attribution
//   --fuse2fs:   kernel + probes (the capture's own LibfuseJoin: join, identity) → lock attribution
//
// Lock attribution live (LiveLockAttribution). The import's planner (lock-attribution.ts) is stepped
// with every event. Its derived lock_wait / lock_acquire go where the import puts them — right after
// the contention_begin / contention_end — so the stream stays in time order: from a contention_begin
// on, the stream is held until that wait's evidence is in (its end, the holder's next inode event,
// the end of a truncate/fallocate that takes two locks: planner.awaiting), at most LOCK_HOLD_NS of
// capture time after the wait began and LOCK_MAX_HELD events; past either bound the wait goes out
// with what is known then (counted `early`; a lock not decided yet is `unknown`), never at another
// time. Each derived event carries its address's attribution from the evidence so far.
//
// The evidence of later waits can change an address's attribution (another nodeid → unknown; an
// inode number learned later). Holding every event until the end would make every field final, but
// a live view would then show nothing; so a change is a later, explicit update instead: a new
// `lock_attribution` instant for the address at the time the change is let out, which the views
// already read as the address's decision (the last one wins: derive/lock-evidence.ts). At the end
// every address whose last instant differs from the import's decision (its final `contended` at
// least) gets one more, so the last instant of each address is the import's. Derived events already
// out keep the fields they had (true of the evidence then); changes of lock/nodeid/ino after a
// derived event carried the old ones are counted (`revised`) and said in a diag at the end.
import type { TraceEvent } from '../../src/trace/schema.ts';
import { asTaskId } from '../../src/trace/ids.ts';
import { identityStepper } from '../../src/trace/import/identity.ts';
import { attributionInstant, derivedOf, lockPlanner, type LockAttribution, type LockWait } from '../../src/trace/import/lock-attribution.ts';
import type { LiveSink, LiveSource } from '../sources/live-source.ts';
import type { EventTransform } from './tracefs-capture.ts';
import { LibfuseJoin } from './libfuse-join.ts';

/** How often a run's passes are given the time when its source is quiet (a held wait's bound is in capture time). */
const IDLE_TICK_MS = 250;
/** A wait's evidence is waited for up to this long (capture time since its contention_begin). */
export const LOCK_HOLD_NS = 1e9;
/** Held events beyond this let every held wait go with what is known (a flood cannot grow memory). */
export const LOCK_MAX_HELD = 100_000;
const PASS_TASK = asTaskId('fusescope/lock-attribution');

export interface LiveLockCounts {
  /** Contentions (contention_begin) seen. */
  waits: number;
  /** Waits let out before their evidence was in (over a bound). */
  early: number;
  /** Changes of an address's lock/nodeid/ino after derived events carried the old values. */
  revised: number;
  /** lock_attribution instants written (first decisions, updates, the final ones). */
  instants: number;
}

/** An address's decision as written: `key` without `contended` (an update is written when it changes). */
interface Sent { key: string; full: string; att: LockAttribution; carried: boolean }

const decisionKey = (att: LockAttribution): string => JSON.stringify({ ...att, contended: 0 });

export class LiveLockAttribution implements EventTransform {
  readonly counts: LiveLockCounts = { waits: 0, early: 0, revised: 0, instants: 0 };
  private readonly planner = lockPlanner();
  private index = 0;
  private held: TraceEvent[] = [];
  private heldFrom = 0;
  private seenWaits = 0;
  /** Waits by their contention_begin / contention_end event, until those are let out. */
  private readonly byBegin = new Map<TraceEvent, LockWait>();
  private readonly byEnd = new Map<TraceEvent, LockWait>();
  private readonly lastWaitOfTask = new Map<string, LockWait>();
  private readonly lastTaskOfAddr = new Map<bigint, TraceEvent['task']>();
  private readonly sent = new Map<bigint, Sent>();
  private resolved = new Map<bigint, LockAttribution>();
  private resolvedVersion = -1;
  private lastTsNs = 0;
  private ended = false;

  /** `nowNs`: the capture's clock (tsNs axis), so a quiet stream still lets a held wait go. */
  constructor(private readonly nowNs: () => number = () => 0, private readonly holdNs = LOCK_HOLD_NS, private readonly maxHeld = LOCK_MAX_HELD) {}

  push(ev: TraceEvent, out: TraceEvent[]): void {
    this.planner.step(ev, this.index++);
    if (ev.tsNs > this.lastTsNs) this.lastTsNs = ev.tsNs;
    if (ev.kind === 'lock_contention') {
      const waits = this.planner.waits;
      for (; this.seenWaits < waits.length; this.seenWaits++) {
        const w = waits[this.seenWaits]!;
        this.byBegin.set(w.begin, w);
        this.lastWaitOfTask.set(w.begin.task, w);
        this.lastTaskOfAddr.set(w.begin.lockAddr, w.begin.task);
        this.counts.waits++;
      }
      // Each wait is tracked here from now on: the planner need not keep a list of every wait.
      this.planner.forgetWaits();
      this.seenWaits = 0;
      if (ev.phase === 'end') {
        const w = this.lastWaitOfTask.get(ev.task);
        if (w !== undefined && w.end === ev) this.byEnd.set(ev, w);
      }
    } else if (this.held.length === this.heldFrom) {
      out.push(ev);
      return;
    }
    this.held.push(ev);
    this.release(out, false);
  }

  tick(out: TraceEvent[]): void {
    if (this.held.length > this.heldFrom) this.release(out, false);
  }

  end(out: TraceEvent[]): void {
    if (this.ended) return;
    this.ended = true;
    // The waits still open are decided as the import decides them at the end of its input.
    this.planner.finish();
    this.release(out, true);
    const final = this.current();
    for (const [addr, att] of final) {
      const s = this.sent.get(addr);
      if (s !== undefined && s.full === JSON.stringify(att)) continue;
      this.write(addr, att, { tsNs: this.lastTsNs, task: this.lastTaskOfAddr.get(addr) ?? PASS_TASK }, out, true);
    }
    if (this.counts.early + this.counts.revised > 0) {
      out.push({
        kind: 'diag', tsNs: this.lastTsNs, task: PASS_TASK, severity: 'warn', code: 'lock_attribution_live', file: 'lock-attribution', line: 0,
        message: `live lock attribution: ${this.counts.early} of ${this.counts.waits} wait(s) went out before their evidence was in ` +
          `(held over ${this.holdNs / 1e6} ms or ${this.maxHeld} events), ${this.counts.revised} later change(s) of a lock's attribution ` +
          `after waits carried the earlier one; each address's last lock_attribution is the import's decision`,
      });
    }
  }

  /** The planner's decisions from the evidence so far (recomputed only when it changed). */
  private current(): Map<bigint, LockAttribution> {
    const v = this.planner.version;
    if (v !== this.resolvedVersion) {
      this.resolved = this.planner.current();
      this.resolvedVersion = v;
    }
    return this.resolved;
  }

  /** Lets out held events up to the first wait whose evidence may still come (all of them at the end). */
  private release(out: TraceEvent[], atEnd: boolean): void {
    const h = this.held;
    const force = atEnd || h.length - this.heldFrom > this.maxHeld;
    const limitNs = Math.max(this.lastTsNs, this.nowNs()) - this.holdNs;
    let i = this.heldFrom;
    for (; i < h.length; i++) {
      const ev = h[i]!;
      const begun = this.byBegin.get(ev);
      if (begun !== undefined) {
        if (!atEnd && this.planner.awaiting(begun.begin.task)) {
          if (!force && begun.begin.tsNs > limitNs) break;
          this.counts.early++;
        }
        this.byBegin.delete(ev);
        this.derived(begun, ev, 'wait', out);
        continue;
      }
      const ended = this.byEnd.get(ev);
      if (ended !== undefined) {
        this.byEnd.delete(ev);
        this.derived(ended, ev, 'acquire', out);
        continue;
      }
      out.push(ev);
    }
    this.heldFrom = i;
    if (i === h.length) {
      this.held = [];
      this.heldFrom = 0;
    }
  }

  /** `ev` with its derived event after it (and before it the address's decision, if new or changed). */
  private derived(w: LockWait, ev: TraceEvent, which: 'wait' | 'acquire', out: TraceEvent[]): void {
    const addr = w.begin.lockAddr;
    const att = this.current().get(addr);
    // No wait on this address decided yet (one let out early): unknown, said as such.
    const fields = att ?? { lock: 'unknown' as const, nodeId: null, ino: null };
    const d = derivedOf(w, fields)[which];
    if (d !== null && att !== undefined) this.write(addr, att, ev, out);
    out.push(ev);
    if (d === null) return;
    out.push(d);
    const s = this.sent.get(addr);
    if (s !== undefined) s.carried = true;
  }

  /**
   * A lock_attribution instant at `at` (before the event being let out), unless the address's
   * decision written last is this one (`final`: this one with its count too).
   */
  private write(addr: bigint, att: LockAttribution, at: Pick<TraceEvent, 'tsNs' | 'task'>, out: TraceEvent[], final = false): void {
    const key = decisionKey(att);
    const full = JSON.stringify(att);
    const s = this.sent.get(addr);
    if (s !== undefined && (final ? s.full === full : s.key === key)) return;
    if (s !== undefined && s.carried && (s.att.lock !== att.lock || s.att.nodeId !== att.nodeId || s.att.ino !== att.ino)) this.counts.revised++;
    out.push(attributionInstant(at, att));
    this.counts.instants++;
    this.sent.set(addr, { key, full, att, carried: false });
  }
}

/** The identity pass (src/trace/import/identity.ts) on a stream: an inode_lookup right after the instant that shows it. */
export class LiveIdentity implements EventTransform {
  private readonly stepper = identityStepper();
  get unresolved(): number { return this.stepper.unresolved; }
  push(ev: TraceEvent, out: TraceEvent[]): void {
    out.push(ev);
    const added = this.stepper.step(ev);
    if (added !== null) out.push(added);
  }
  tick(): void {}
  end(): void {}
}

/** Transforms one after another: each one's output is the next one's input. */
export function chain(...ts: EventTransform[]): EventTransform {
  if (ts.length === 1) return ts[0]!;
  const through = (from: number, evs: TraceEvent[], out: TraceEvent[], last: (t: EventTransform, o: TraceEvent[]) => void): void => {
    let cur = evs;
    for (let k = from; k < ts.length; k++) {
      const next: TraceEvent[] = [];
      for (const ev of cur) ts[k]!.push(ev, next);
      last(ts[k]!, next);
      cur = next;
    }
    out.push(...cur);
  };
  return {
    push: (ev, out) => {
      const first: TraceEvent[] = [];
      ts[0]!.push(ev, first);
      through(1, first, out, () => {});
    },
    tick: (out) => {
      // Each transform's tick output goes through the ones after it, which then tick too.
      const first: TraceEvent[] = [];
      ts[0]!.tick(first);
      through(1, first, out, (t, o) => t.tick(o));
    },
    end: (out) => {
      const first: TraceEvent[] = [];
      ts[0]!.end(first);
      through(1, first, out, (t, o) => t.end(o));
    },
  };
}

/**
 * A sink that runs `t` on what reaches it: flush() lets out what `t` released (tick), end() and
 * finish() what it still holds. finish() is for an owner that ends a run by aborting its source
 * (no end() comes): it lets out the rest without ending the outer sink.
 */
export class TransformedSink implements LiveSink {
  private readonly buf: TraceEvent[] = [];
  private finished = false;
  constructor(private readonly sink: LiveSink, private readonly t: EventTransform) {}
  event(ev: TraceEvent): void {
    if (this.finished) return this.sink.event(ev);
    this.t.push(ev, this.buf);
  }
  flush(): void {
    if (!this.finished) this.t.tick(this.buf);
    this.emit();
    this.sink.flush();
  }
  /** A tick with no batch from the source: a batch only if the passes let something out. */
  idle(): void {
    if (this.finished) return;
    this.t.tick(this.buf);
    if (this.buf.length === 0) return;
    this.emit();
    this.sink.flush();
  }
  end(error?: string): void {
    this.finish();
    this.sink.end(error);
  }
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.t.end(this.buf);
    this.emit();
    this.sink.flush();
  }
  private emit(): void {
    for (const ev of this.buf) this.sink.event(ev);
    this.buf.length = 0;
  }
}

/** `source` with the passes `make()` builds (fresh for each run: a Restart starts a new trace). */
export function withPasses(source: LiveSource, make: () => EventTransform): LiveSource {
  return {
    info: source.info,
    ...(source.controls ? { controls: source.controls } : {}),
    start: async (sink, signal) => {
      const passes = new TransformedSink(sink, make());
      const timer = setInterval(() => passes.idle(), IDLE_TICK_MS);
      timer.unref();
      try {
        await source.start(passes, signal);
      } finally {
        clearInterval(timer);
      }
    },
  };
}

/**
 * The passes of each kind of capture (file comment): `kernel` (--tracefs), `fuse2fs` (its
 * LibfuseJoin already ran in the capture), `workload` (the server's recv joined here; `serverPid`
 * the mount's, whose probe hits would count — it sends typed events, none come). `nowNs`: the
 * capture's clock.
 */
export class CapturePasses {
  private last: { join: LibfuseJoin | null; locks: LiveLockAttribution } | null = null;
  constructor(private readonly kind: 'kernel' | 'fuse2fs' | 'workload', private readonly nowNs: () => number, private readonly serverPid = 0) {}

  /** `streamNs`: how far the stream is complete (its source's deliveredNs), else the capture's clock. */
  make(streamNs: () => number = this.nowNs): EventTransform {
    const locks = new LiveLockAttribution(streamNs);
    const join = this.kind === 'workload' ? new LibfuseJoin(this.serverPid) : null;
    this.last = { join, locks };
    if (this.kind === 'fuse2fs') return locks;
    return join ? chain(join, new LiveIdentity(), locks) : chain(new LiveIdentity(), locks);
  }

  source(src: LiveSource): LiveSource {
    // A held wait's bound counts in stream time where the source says how far it has delivered.
    const streamNs = src.deliveredNs ? () => src.deliveredNs!() : this.nowNs;
    return withPasses(src, () => this.make(streamNs));
  }

  /** What the last run's passes did, for the CLI's end report. */
  report(): string | null {
    if (this.last === null) return null;
    const l = this.last.locks.counts;
    const parts = [`live lock attribution: ${l.waits} contention(s), ${l.early} let out before their evidence was in, ${l.revised} attribution(s) revised later`];
    const j = this.last.join?.counts;
    if (j) parts.push(`unique join: ${j.joined} request(s) given their nodeid by the server's fuse_recv, ${j.unjoined} without, ${j.mismatched} opcode mismatch(es)`);
    return parts.join('; ');
  }
}
