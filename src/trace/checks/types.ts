// What a checker is and what it reports. A checker is a state machine over a stream of rows: the
// runner hands it every new row range in order (live batches, a recording's chunks, a whole import),
// and its findings after N rows depend only on those N rows, never on how they were batched. The
// ranges may come from different stores (the server hands out one small store per live batch; a
// live page evicts its oldest rows), so a checker copies what it needs while it sees a row and
// names rows by their stream number: store row r of a range fed with `rowBase` is stream row rowBase + r.
import type { TraceStore } from '../store.ts';

export type FindingSeverity = 'info' | 'warning' | 'error';
export const SEVERITIES: readonly FindingSeverity[] = ['info', 'warning', 'error'];
export function severityRank(s: FindingSeverity): number { return SEVERITIES.indexOf(s); }

export type RuleId = 'alias-race' | 'mapping-invalid' | 'unpaired' | 'unwritten-cost' | 'uncached' | 'stale-mapping';

/** A figure a finding carries besides its time and evidence; null = unknown. */
export type FigureValue = number | string | boolean | null | readonly number[] | readonly string[];

export interface Finding {
  rule: RuleId;
  severity: FindingSeverity;
  /** One paragraph: the rule, the kernel or protocol fact behind it (docs/domain.md §n), what was seen. */
  explanation: string;
  /** Start of what the finding is about, ns on the store's axis. */
  tsNs: number;
  /** 0 when the finding is about an instant, or when its end is not in the trace (then a figure says so). */
  durNs: number;
  /** Stream row numbers of the events that show it, ascending (for a whole trace: its store rows). */
  evidence: number[];
  /** Rule-specific figures (docs/checks.md lists them per rule). */
  figures: Record<string, FigureValue>;
}

/** Something a rule cannot judge from the trace: counted and said, never a finding. */
export interface Unknown {
  rule: RuleId;
  count: number;
  what: string;
}

export interface Checker {
  readonly rule: RuleId;
  /**
   * Rows [fromRow, toRow) of `store`, the next rows of the stream; store row r is stream row
   * rowBase + r. The checker reads no other row of `store`, now or later, and does not keep it.
   */
  onRows(store: TraceStore, fromRow: number, toRow: number, rowBase: number): void;
  /** The findings of the rows seen so far (a fresh array; the checker may still revise them as rows come). */
  findings(): Finding[];
  /** What the rows seen so far leave undecided (e.g. requests still open at the end of the trace). */
  unknowns?(): Unknown[];
}

/** Thresholds, each with a documented default (docs/checks.md). */
export interface CheckSettings {
  unpaired: {
    /** A request unanswered this long while the trace goes on is reported; one answered later than this is reported as late. */
    replyTimeoutNs: number;
  };
  'mapping-invalid': {
    /**
     * Offsets and lengths must be multiples of the filesystem block size (§1.4). The trace does not
     * carry it, so by default only 512-byte alignment (the smallest block size Linux has) is checked;
     * give the real block size to check it exactly. The kernel's own iomap_bad_data is reported either way.
     */
    blockBytes: number;
  };
  'unwritten-cost': {
    /** A file or workload whose conversion upcalls took more than this share of its write time is a warning (0..1). */
    warnShare: number;
  };
  uncached: {
    /** A file whose IOMAP_BEGIN upcalls per iomap step reach this share is reported (0..1). */
    everyShare: number;
    /** Files with fewer iomap steps than this are not judged (a handful of steps says nothing about a cache). */
    minSteps: number;
  };
}

export const DEFAULT_SETTINGS: CheckSettings = {
  unpaired: { replyTimeoutNs: 30e9 },
  'mapping-invalid': { blockBytes: 512 },
  'unwritten-cost': { warnShare: 0.5 },
  uncached: { everyShare: 0.9, minSteps: 16 },
};

export interface RuleInfo {
  id: RuleId;
  /** One line for lists and --help. */
  title: string;
  create(settings: CheckSettings): Checker;
}
