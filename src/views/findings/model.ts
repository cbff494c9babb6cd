// Pure model of the findings panel: findings grouped by severity (most severe first) then rule,
// with counts; the one finding a collapsed panel shows; one line per evidence row.

import { SEVERITIES, severityRank, type Finding, type FindingSeverity } from '../../trace/checks/types.ts';
import type { TraceStore } from '../../trace/store.ts';
import { opcodeName } from '../../trace/fuse-proto.ts';
import { formatDurNs } from '../../render/time-scale.ts';

export interface RuleGroup {
  rule: string;
  findings: Finding[];
}
export interface SeverityGroup {
  severity: FindingSeverity;
  count: number;
  rules: RuleGroup[];
}

/** Most severe first; within a severity, rules by name; within a rule, the runner's (time) order. */
export function groupFindings(list: readonly Finding[]): SeverityGroup[] {
  const out: SeverityGroup[] = [];
  for (const severity of [...SEVERITIES].reverse()) {
    const byRule = new Map<string, Finding[]>();
    for (const f of list) {
      if (f.severity !== severity) continue;
      let l = byRule.get(f.rule);
      if (!l) byRule.set(f.rule, (l = []));
      l.push(f);
    }
    if (byRule.size === 0) continue;
    const rules = [...byRule].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([rule, findings]) => ({ rule, findings }));
    out.push({ severity, count: rules.reduce((n, r) => n + r.findings.length, 0), rules });
  }
  return out;
}

/** The finding a collapsed panel shows: the most severe, then the earliest. */
export function topFinding(list: readonly Finding[]): Finding | null {
  let best: Finding | null = null;
  for (const f of list) {
    if (!best || severityRank(f.severity) > severityRank(best.severity) || (f.severity === best.severity && f.tsNs < best.tsNs)) best = f;
  }
  return best;
}

/**
 * A time on the timeline's axis to the µs (`8.080 ms`, `12.500 µs`): evidence rows a few µs apart
 * must read apart, which three significant digits of a duration would not.
 */
export function tsText(tsNs: number): string {
  return tsNs < 1e6 ? `${(tsNs / 1e3).toFixed(3)} µs` : `${(tsNs / 1e6).toFixed(3)} ms`;
}

/** `at 8.080 ms for 15.8 µs`; an instant has no duration. */
export function timeText(f: Finding): string {
  return `at ${tsText(f.tsNs)}${f.durNs > 0 ? ` for ${formatDurNs(f.durNs)}` : ''}`;
}

/** Fields an evidence line names, in this order, when its event has them. */
const LINE_FIELDS = ['task', 'op', 'nodeId', 'ino', 'opcode', 'unique', 'lock', 'mode', 'lockAddr', 'slot', 'source', 'mapType', 'posBytes', 'lenBytes', 'reason', 'message'] as const;
const LABEL: Record<string, string> = { nodeId: 'nodeid', posBytes: 'pos', lenBytes: 'len', mapType: 'type' };

/** One line for an evidence row in the page: `fuse_send · dd/4101 · nodeid 4 · WRITE · unique 12 · 3.21 ms`. */
export function evidenceLine(trace: TraceStore, row: number): string {
  const ev = trace.get(row) as unknown as Record<string, unknown>;
  const parts: string[] = [String(ev.kind)];
  for (const k of LINE_FIELDS) {
    const v = ev[k];
    if (v === undefined || v === null || v === '' || (k !== 'opcode' && (v === 0 || v === 0n))) continue;
    if (k === 'task' || k === 'op' || k === 'lock' || k === 'mode') parts.push(String(v));
    else if (k === 'opcode') parts.push(opcodeName(Number(v)));
    else if (k === 'lockAddr') parts.push(`lock @0x${(v as bigint).toString(16)}`);
    else parts.push(`${LABEL[k] ?? k} ${String(v)}`);
  }
  parts.push(tsText(trace.tsNs[row]!));
  return parts.join(' · ');
}
