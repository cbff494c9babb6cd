// One time axis for several files: which clock each file's times are on, and where each file lands.
//
//   file A (first)    A.originNs ─┬─ A's tsNs …
//   file B (A's clock)            │      B.originNs ─┬─ B's tsNs …
//   store             originNs ───┴── tsNs = (file originNs + event tsNs) − store originNs
//
// The store's origin is the first file's origin, or the earliest origin of the files placed by
// their own stamps when one starts before it (so no file gets negative times). A file's offset
// (its originNs − the store's) is a bigint difference made a Number only once it is known to be
// exact (< 2^53 ns ≈ 104 days), and every event time is that offset + its own (exact) tsNs: no
// absolute time ever goes through a float.
//
// Clock identity (a string): ftrace `secs.usecs` (or `trace-cmd -t` ns) stamps are the kernel's
// ns trace clock, raw integer stamps a counter clock (docs/domain.md §4.1: non-ns clocks
// print `%12llu`); NDJSON names its clock in the header (`clock`), the simulator's files are on
// their run's virtual clock; a libfuse -d log has none (the join places it). A file on another
// clock than the first is said to be so and kept at its own stamps, unless the caller asks to
// align starts: then its first event is placed at the first file's first event, and the
// diagnostic says by how much it was moved.

import type { ParseDiag } from './diagnostics.ts';

export interface FileClock {
  /** Compared between files; null: the file has no clock of its own. */
  readonly id: string | null;
  /** Said to the user. */
  readonly label: string;
}

export const FTRACE_NS_CLOCK: FileClock = { id: 'ftrace-ns', label: "the kernel's ns trace clock (secs.usecs stamps)" };
export const FTRACE_COUNTER_CLOCK: FileClock = { id: 'ftrace-counter', label: 'a counter clock (raw integer stamps)' };
/** perf record's sample clock (its default is the kernel's local clock, `-k` picks another): not comparable with ftrace's trace_clock unless both used the same. */
export const PERF_CLOCK: FileClock = { id: 'perf', label: "perf's sample clock (secs.usecs stamps of perf script)" };
/** A `perf lock contention` table has totals, no times. */
export const PERF_LOCK_CLOCK: FileClock = { id: null, label: 'no clock (perf lock contention totals: no timeline)' };
export const NO_CLOCK: FileClock = { id: null, label: 'no clock (a libfuse -d log alone: its times are line numbers × 1 µs)' };

/**
 * Pasted ftrace lines without their `comm-pid [cpu] time:` prefix: the text has no times at all. Its
 * events keep the file's order, 1 µs apart — a synthetic time that is no clock (id null, like a log).
 */
export const UNTIMED_CLOCK: FileClock = { id: null, label: 'no clock: pasted lines without times (the file\'s order, 1 µs apart; the times shown are not real)' };

/** The clock of an ftrace file from how its first event's time was printed. */
export function ftraceClock(stampKind: 'secs' | 'integer' | null): FileClock {
  return stampKind === 'integer' ? FTRACE_COUNTER_CLOCK : FTRACE_NS_CLOCK;
}

/** The clock an NDJSON header names; the simulator's run when it names none; else unknown to us. */
export function ndjsonClock(header: { clock?: unknown; source?: unknown } | null, fileName: string): FileClock {
  const named = header?.clock;
  if (typeof named === 'string' && named !== '') return clockFromId(named);
  const source = header?.source;
  if (typeof source === 'string' && source.startsWith('sim:')) return clockFromId(`sim:${source}`);
  // Nothing says which clock: equal to no other file's (not even another unnamed one).
  return { id: `unnamed:${fileName}`, label: 'a clock its header does not name' };
}

/** A clock from the id written in an NDJSON header (what `fusescope import`/`sim` write). */
function clockFromId(id: string): FileClock {
  if (id === FTRACE_NS_CLOCK.id) return FTRACE_NS_CLOCK;
  if (id === FTRACE_COUNTER_CLOCK.id) return FTRACE_COUNTER_CLOCK;
  if (id.startsWith('sim:')) return { id, label: `the simulator's virtual clock of ${id.slice(4)}` };
  return { id, label: `clock "${id}"` };
}

interface ClockInput {
  name: string;
  clock: FileClock;
  /** Absolute ns of the file's tsNs 0. */
  originNs: bigint;
  /** The file's first event's tsNs; null when it has no events. */
  firstTsNs: number | null;
}

interface FilePlacement {
  /** Added to each of the file's tsNs to put it on the store's axis (exact integer ns). */
  offsetNs: number;
  /** On the first file's clock (the first file itself too). */
  sameClock: boolean;
  /** Moved so its first event is at the first file's first event (align starts, or too far). */
  aligned: boolean;
  /** How far an aligned file was moved from its own stamps, in ns (0n if not aligned). */
  shiftNs: bigint;
}

interface Placement {
  /** The store's origin. */
  originNs: bigint;
  /** The clock of the store's axis: the first file's (null if it has none). */
  clock: FileClock | null;
  files: FilePlacement[];
  /** One per file that is not on the first file's clock. */
  diags: ParseDiag[];
}

/** Files further apart than this cannot share an axis exactly (half of 2^53, so any two of them can). */
const MAX_EXACT_APART_NS = BigInt(Math.floor(Number.MAX_SAFE_INTEGER / 2));

/** Places files (in their given order) on one axis; see the file comment for the rule. */
export function placeFiles(files: readonly ClockInput[], alignStarts: boolean): Placement {
  if (files.length === 0) return { originNs: 0n, clock: null, files: [], diags: [] };
  // The first file: the first with events and a clock, else the first with events, else the first.
  let refIdx = files.findIndex((f) => f.firstTsNs !== null && f.clock.id !== null);
  if (refIdx < 0) refIdx = Math.max(0, files.findIndex((f) => f.firstTsNs !== null));
  const ref = files[refIdx]!;
  const startNs = (f: ClockInput): bigint => f.originNs + BigInt(Math.round(f.firstTsNs ?? 0));
  const refStartAbsNs = startNs(ref);
  const sameClock = files.map((f, i) => i === refIdx || (f.clock.id !== null && f.clock.id === ref.clock.id));
  const tooFar = files.map((f) => absBig(f.originNs - ref.originNs) > MAX_EXACT_APART_NS);
  // Files moved to start with the first file, grouped: files of one clock move together.
  const alignKey = files.map((f, i): string | null => {
    if (f.firstTsNs === null) return null;
    if (tooFar[i]) return `far:${i}`;
    if (sameClock[i] || !alignStarts) return null;
    return f.clock.id === null ? `none:${i}` : `clock:${f.clock.id}`;
  });
  let originNs = ref.originNs;
  files.forEach((f, i) => {
    if (alignKey[i] === null && !tooFar[i] && f.firstTsNs !== null && f.originNs < originNs) originNs = f.originNs;
  });
  const groupStartNs = new Map<string, { startNs: bigint; count: number }>();
  files.forEach((f, i) => {
    const key = alignKey[i];
    if (key === null || key === undefined) return;
    const g = groupStartNs.get(key);
    const s = startNs(f);
    if (!g) groupStartNs.set(key, { startNs: s, count: 1 });
    else {
      g.count++;
      if (s < g.startNs) g.startNs = s;
    }
  });
  const diags: ParseDiag[] = [];
  const placed = files.map((f, i): FilePlacement => {
    const key = alignKey[i];
    if (key !== null && key !== undefined) {
      const g = groupStartNs.get(key)!;
      let shiftNs = refStartAbsNs - g.startNs;
      let offset = f.originNs + shiftNs - originNs;
      // A file of the group too far from its earliest file to be placed exactly: moved alone.
      if (absBig(offset) > MAX_EXACT_APART_NS * 2n) {
        shiftNs = refStartAbsNs - startNs(f);
        offset = f.originNs + shiftNs - originNs;
      }
      const why = tooFar[i]
        ? `its stamps are more than ${Math.floor(Number(MAX_EXACT_APART_NS) / 86_400e9)} days from ${ref.name}'s, too far apart for one exact axis`
        : `it is on ${f.clock.label}, not ${ref.clock.label} as ${ref.name} is (align starts)`;
      const what = g.count > 1 ? `the earliest first event of the ${g.count} files on its clock is` : 'its first event is';
      diags.push({
        source: f.name, line: 0, code: 'clock_aligned',
        message: `offset by ${formatShift(shiftNs)} so that ${what} at ${ref.name}'s first event: ${why}`,
      });
      return { offsetNs: Number(offset), sameClock: sameClock[i]!, aligned: true, shiftNs };
    }
    if (!sameClock[i] && f.firstTsNs !== null) {
      diags.push({
        source: f.name, line: 0, code: 'other_clock',
        message: `on ${f.clock.label}, not ${ref.clock.label} as ${ref.name} is: the two cannot be compared; ` +
          `placed by its own stamps, not shifted (align starts would put its first event at ${ref.name}'s first event)`,
      });
    }
    // A file with no events has nothing to place; its offset only has to be a number.
    return { offsetNs: tooFar[i] ? 0 : Number(f.originNs - originNs), sameClock: sameClock[i]!, aligned: false, shiftNs: 0n };
  });
  return { originNs, clock: ref.clock.id === null ? null : ref.clock, files: placed, diags };
}

function absBig(v: bigint): bigint {
  return v < 0n ? -v : v;
}

/** `+1.500000000 s (1500000000 ns)`: exact, from the bigint. */
export function formatShift(ns: bigint): string {
  const sign = ns < 0n ? '-' : '+';
  const abs = absBig(ns);
  return `${sign}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, '0')} s (${ns} ns)`;
}
