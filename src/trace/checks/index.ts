// The rule registry and the runner. `CheckRunner.feed` hands each checker the next rows of the
// stream, from whichever store holds them; `update(store)` feeds the rows appended to a growing
// store since the last call (as derive/* indexes are fed); `runChecks` runs them over a whole trace.
import { UNTIMED_REASON, untimedReason, untimedTaskFlags } from '../untimed.ts';
import type { TraceStore } from '../store.ts';
import { aliasRaceRule } from './alias-race.ts';
import { mappingInvalidRule } from './mapping-invalid.ts';
import { unpairedRule } from './unpaired.ts';
import { unwrittenCostRule } from './unwritten-cost.ts';
import { uncachedRule } from './uncached.ts';
import { staleMappingRule } from './stale-mapping.ts';
import { lockRule } from './lock.ts';
import { cacheRule } from './cache.ts';
import {
  DEFAULT_SETTINGS, severityRank,
  type CheckSettings, type Checker, type Finding, type FindingSeverity, type RuleId, type RuleInfo, type Unknown,
} from './types.ts';

export * from './types.ts';

/** Every rule, in the order reports list them. */
export const RULES: readonly RuleInfo[] = [aliasRaceRule, mappingInvalidRule, unpairedRule, unwrittenCostRule, uncachedRule, staleMappingRule, lockRule, cacheRule];
export const RULE_IDS: readonly RuleId[] = RULES.map((r) => r.id);

export function isRuleId(id: string): id is RuleId {
  return (RULE_IDS as readonly string[]).includes(id);
}

export interface CheckOptions {
  /** Rules to run (default: all). */
  rules?: readonly RuleId[];
  /** Settings; missing ones take their defaults. */
  settings?: { [R in keyof CheckSettings]?: Partial<CheckSettings[R]> };
}

function withDefaults(s: CheckOptions['settings']): CheckSettings {
  return {
    unpaired: { ...DEFAULT_SETTINGS.unpaired, ...s?.unpaired },
    'mapping-invalid': { ...DEFAULT_SETTINGS['mapping-invalid'], ...s?.['mapping-invalid'] },
    'unwritten-cost': { ...DEFAULT_SETTINGS['unwritten-cost'], ...s?.['unwritten-cost'] },
    uncached: { ...DEFAULT_SETTINGS.uncached, ...s?.uncached },
    lock: { ...DEFAULT_SETTINGS.lock, ...s?.lock },
  };
}

/** Time order, then rule, then first evidence row: one order however the rows came. */
function byTime(a: Finding, b: Finding): number {
  return a.tsNs - b.tsNs || RULE_IDS.indexOf(a.rule) - RULE_IDS.indexOf(b.rule) || (a.evidence[0] ?? -1) - (b.evidence[0] ?? -1);
}

export class CheckRunner {
  readonly checkers: Checker[];
  /** Stream rows fed so far. */
  processedRows = 0;
  /** Stream rows of untimed events (untimed.ts); empty for every trace with real times. */
  private readonly untimedRows = new Set<number>();
  /** Why they have no time (untimed.ts). */
  private reason = UNTIMED_REASON;

  constructor(opts: CheckOptions = {}) {
    const settings = withDefaults(opts.settings);
    const wanted = opts.rules ?? RULE_IDS;
    this.checkers = RULES.filter((r) => wanted.includes(r.id)).map((r) => r.create(settings));
  }

  /** Feeds rows [fromRow, toRow) of `store`, which are stream rows rowBase + fromRow … (the next ones: no gap, no repeat). */
  feed(store: TraceStore, fromRow: number, toRow: number, rowBase = 0): void {
    if (toRow <= fromRow) return;
    if (rowBase + fromRow !== this.processedRows) {
      throw new Error(`checks: fed stream rows from ${rowBase + fromRow}, expected ${this.processedRows} (rows must come in order, each once)`);
    }
    for (const c of this.checkers) c.onRows(store, fromRow, toRow, rowBase);
    const untimed = untimedTaskFlags(store);
    if (untimed !== null) {
      this.reason = untimedReason(store);
      const task = store.col('task');
      for (let r = fromRow; r < toRow; r++) if (untimed[task[r]!] === 1) this.untimedRows.add(rowBase + r);
    }
    this.processedRows = rowBase + toRow;
  }

  /** Feeds the rows of `store` not fed yet; store row 0 is stream row `rowBase` (a live page's evicted rows). */
  update(store: TraceStore, rowBase = 0): void {
    this.feed(store, this.processedRows - rowBase, store.length, rowBase);
  }

  findings(): Finding[] {
    const out = this.checkers.flatMap((c) => c.findings()).sort(byTime);
    return this.untimedRows.size === 0 ? out : out.map((f) => this.withUntimed(f));
  }

  /**
   * A finding whose evidence has untimed events keeps its verdict (the rules that need a time
   * skip them: lock, unpaired) but no length: durNs 0, `timesUnknown` the count, and the text says
   * that any time or duration it names is the file's order.
   */
  private withUntimed(f: Finding): Finding {
    const n = f.evidence.filter((r) => this.untimedRows.has(r)).length;
    if (n === 0) return f;
    return {
      ...f, durNs: 0, figures: { ...f.figures, timesUnknown: n },
      explanation: `${f.explanation} (Times unknown: ${n} of its evidence events ${n === 1 ? 'is' : 'are'} ${this.reason}; ` +
        'any time or duration above that involves them is the file\'s order, not a measurement.)',
    };
  }

  unknowns(): Unknown[] {
    return this.checkers.flatMap((c) => c.unknowns?.() ?? []);
  }
}

export interface CheckResult {
  findings: Finding[];
  unknowns: Unknown[];
}

/** Every rule (or `opts.rules`) over a whole trace. */
export function runChecks(store: TraceStore, opts: CheckOptions = {}): CheckResult {
  const runner = new CheckRunner(opts);
  runner.update(store);
  return { findings: runner.findings(), unknowns: runner.unknowns() };
}

/** Findings at or above `level`. */
export function atLeast(findings: readonly Finding[], level: FindingSeverity): Finding[] {
  const min = severityRank(level);
  return findings.filter((f) => severityRank(f.severity) >= min);
}

/** Counts by rule and severity, for summaries: { 'alias-race': { error: 1 } }. */
export function countFindings(findings: readonly Finding[]): Partial<Record<RuleId, Partial<Record<FindingSeverity, number>>>> {
  const out: Partial<Record<RuleId, Partial<Record<FindingSeverity, number>>>> = {};
  for (const f of findings) {
    const by = (out[f.rule] ??= {});
    by[f.severity] = (by[f.severity] ?? 0) + 1;
  }
  return out;
}
