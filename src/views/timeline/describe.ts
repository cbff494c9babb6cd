// Text for the tooltip and the inspector: turns a span (its begin/end rows and, for an iomap
// step, the mapping rows between them) into labelled, pretty-printed fields. Pure.

import { NO_ROW, SPAN_KIND_NAMES, fsInodeLabel, type SpanIndex } from '../../trace/spans.ts';
import type { TraceStore } from '../../trace/store.ts';
import type { TraceEvent } from '../../trace/schema.ts';
import { formatFlags, ioendFlagStrings, mapFlagStrings, mapTypeName, opFlagStrings, opcodeName } from '../../trace/fuse-proto.ts';
import { formatDurNs } from '../../render/time-scale.ts';
import { methodLabel, type LockEvidence } from '../../trace/derive/lock-evidence.ts';
import { UNTIMED_TASK, asIno } from '../../trace/ids.ts';
import { isUntimedTask } from '../../trace/untimed.ts';

/** An untimed event's tsNs (untimed.ts) is its place in the file, not a time. */
export const UNTIMED_TS_TEXT = 'unknown: a pasted line without time (placed in file order)';
/** The same for an event of a fuse server's log read without a kernel trace to time it. */
export const LOG_UNTIMED_TS_TEXT = 'unknown: a log line without time (placed in file order)';
const untimedTsText = (task: string): string => (task === UNTIMED_TASK ? UNTIMED_TS_TEXT : LOG_UNTIMED_TS_TEXT);

export function formatField(name: string, value: unknown): string {
  if (typeof value === 'bigint') return name === 'lockAddr' && value === 0n ? 'not traced' : `0x${value.toString(16)}`;
  if (typeof value !== 'number') return String(value);
  switch (name) {
    // 0 means unknown (docs/trace-format.md): never print it as a number.
    case 'ino': return value === 0 ? 'unknown' : String(value);
    case 'nodeId': return value === 0 ? 'unknown' : String(value);
    case 'fsDev': return value === 0 ? 'unknown' : devName(value);
    case 'aliasOf': return value === 0 ? 'none known' : `nodeid ${value} (same inode: LINK)`;
    case 'opflags': return `${formatFlags(value, opFlagStrings) || '0'} (0x${(value >>> 0).toString(16)})`;
    case 'mapFlags': return `${formatFlags(value, mapFlagStrings) || '0'} (0x${(value >>> 0).toString(16)})`;
    case 'ioendFlags': return `${formatFlags(value, ioendFlagStrings) || '0'} (0x${(value >>> 0).toString(16)})`;
    case 'opcode': return `${opcodeName(value)} (${value})`;
    case 'mapType': return `${mapTypeName(value)} (${value})`;
    case 'oflags': return `0o${value.toString(8)}`;
    case 'tsNs': case 'fromTsNs': case 'toTsNs': return `${value} ns (${formatDurNs(value)})`;
    default: return String(value);
  }
}

/** A 32-bit dev_t (major << 20 | minor) as `major:minor`. */
function devName(dev: number): string {
  return `${dev >>> 20}:${dev & 0xfffff}`;
}

/** A kernel filesystem's iomap step (nodeId 0, a device): `dev 7:0 ino 0xc`; null for fuse steps. */
function kernelInode(begin: Record<string, unknown>): string | null {
  const dev = begin.fsDev;
  if (begin.nodeId !== 0 || typeof dev !== 'number' || dev === 0) return null;
  return fsInodeLabel(dev, asIno(Number(begin.ino)));
}

/**
 * A hold that starts at a request, not an acquisition: xfs_ilock is traced before the lock is taken
 * (docs/import.md) — kernel-filesystem lock events have nodeId 0 and no traced address.
 */
function isRequestedHold(begin: Record<string, unknown>): boolean {
  return begin.kind === 'lock_acquire' && begin.nodeId === 0 && begin.lockAddr === 0n && Number(begin.ino) !== 0;
}

interface InspectorSection {
  title: string;
  rows: { field: string; value: string }[];
}

/** Mapping events (iomap_map) the kernel recorded for this iomap step, on the same task. */
/**
 * Sections of the inspector. Each field name appears once: the first section's names are plain
 * (`opcode`, `nodeId`), later duplicates get the section's prefix (`end.tsNs`, `map.write.mapType`).
 */
export function inspectorSections(store: TraceStore, spans: SpanIndex, id: number): InspectorSection[] {
  const seen = new Set<string>();
  const add = (section: InspectorSection, prefix: string, field: string, value: string): void => {
    const name = seen.has(field) ? `${prefix}.${field}` : field;
    seen.add(name);
    section.rows.push({ field: name, value });
  };
  const eventSection = (title: string, prefix: string, ev: TraceEvent): InspectorSection => {
    const s: InspectorSection = { title, rows: [] };
    const untimed = isUntimedTask(ev.task);
    for (const [field, value] of Object.entries(ev)) add(s, prefix, field, untimed && field === 'tsNs' ? untimedTsText(ev.task) : formatField(field, value));
    return s;
  };

  const kindName = SPAN_KIND_NAMES[spans.kind.data[id]!]!;
  const unknown = spans.unknownText(id);
  const span: InspectorSection = { title: 'span', rows: [] };
  add(span, 'span', 'span', kindName);
  add(span, 'span', 'spanId', String(id));
  add(span, 'span', 'durNs', durationText(spans, id, true));
  if (unknown) add(span, 'span', 'trace', unknown);
  if (spans.isFailed(id)) add(span, 'span', 'failed', 'an iomap_iter_end with an error ended this step');
  add(span, 'span', 'lane', spans.lanes[spans.lane.data[id]!]?.task ?? '?');
  const beginEv = store.get(spans.beginRow.data[id]!) as unknown as Record<string, unknown>;
  const kin = kindName === 'iomap' ? kernelInode(beginEv) : null;
  if (kin !== null) add(span, 'span', 'inode', `${kin} (kernel filesystem)`);
  if (kindName === 'lock_hold' && isRequestedHold(beginEv)) {
    add(span, 'span', 'from', 'requested at (xfs_ilock is traced before the lock is taken: includes any wait)');
    add(span, 'span', 'to', 'released at');
  }
  const sections = [span];

  // A begun-before span's only event is its end.
  if (!spans.isBegunBefore(id)) sections.push(eventSection(`begin: row ${spans.beginRow.data[id]}`, 'begin', store.get(spans.beginRow.data[id]!)));
  if (kindName === 'iomap') {
    for (const r of spans.mappingRowsOf(store, id)) {
      const ev = store.get(r) as Extract<TraceEvent, { kind: 'iomap_map' }>;
      sections.push(eventSection(`mapping (${ev.slot} slot, ${ev.source}): row ${r}`, `map.${ev.slot}`, ev));
    }
  }
  const endRow = spans.endRow.data[id]!;
  if (endRow !== NO_ROW) sections.push(eventSection(`end: row ${endRow}`, 'end', store.get(endRow)));
  return sections;
}

/**
 * A span's duration — or, when the trace does not show one of its ends, why not (the words of
 * SpanIndex.unknownText); an open span of a live stream is still running.
 */
function durationText(spans: SpanIndex, id: number, exact = false): string {
  if (spans.hasDuration(id)) {
    const durNs = spans.endNs.data[id]! - spans.startNs.data[id]!;
    return exact ? `${durNs} ns (${formatDurNs(durNs)})` : formatDurNs(durNs);
  }
  return spans.unknownText(id) || 'still running';
}

/** Short text for the hover tooltip: a title and up to ~6 key: value lines. */
export function spanTooltip(store: TraceStore, spans: SpanIndex, id: number): { title: string; lines: [string, string][] } {
  const kindName = SPAN_KIND_NAMES[spans.kind.data[id]!]!;
  const begin = store.get(spans.beginRow.data[id]!) as unknown as Record<string, unknown>;
  const lines: [string, string][] = [
    ['task', String(begin.task)],
    ['duration', durationText(spans, id)],
  ];
  if (spans.isFailed(id)) lines.push(['failed', 'iomap_iter_end error']);
  const pick = (field: string, label = field): void => {
    if (begin[field] !== undefined) lines.push([label, formatField(field, begin[field])]);
  };
  let title: string = kindName;
  if (kindName === 'app_op') title = `${String(begin.op)}(2) ${String(begin.path)}`;
  if (kindName === 'fuse_req' || kindName === 'fuse_serve') {
    title = `${opcodeName(begin.opcode as number)} ${kindName === 'fuse_serve' ? '(served)' : ''}`;
    pick('unique');
  }
  if (kindName === 'iomap') {
    const maps = spans.mappingRowsOf(store, id).map((r) => store.get(r) as Extract<TraceEvent, { kind: 'iomap_map' }>);
    title = `iomap ${maps.length ? maps.map((m) => `${m.slot}:${mapTypeName(m.mapType)}`).join(' ') : '(no mapping yet)'}`;
    const kin = kernelInode(begin);
    if (kin !== null) lines.push(['inode', kin]);
    pick('opflags');
  }
  if (kindName === 'lock_wait' || kindName === 'lock_hold') {
    const requested = kindName === 'lock_hold' && isRequestedHold(begin);
    title = `${kindName === 'lock_wait' ? 'wait for' : requested ? 'requested → released' : 'hold'} ${String(begin.lock)} ${String(begin.mode)}`;
    pick('lockAddr', 'address');
    pick('ino');
  }
  pick('nodeId');
  pick('posBytes', 'pos');
  pick('lenBytes', 'len');
  return { title, lines };
}

/** Sections for a single event that is not a span (cache, inode events…). */
export function rowSections(store: TraceStore, row: number): InspectorSection[] {
  const s: InspectorSection = { title: `event: row ${row}`, rows: [] };
  const ev = store.get(row);
  for (const [field, value] of Object.entries(ev)) {
    // An inode_lookup with nlookup 0 is identity evidence (a reply probe, an INODE prefix), not a counted lookup.
    const text = ev.kind === 'inode_lookup' && field === 'nlookup' && value === 0 ? 'not counted (identity evidence)'
      : field === 'tsNs' && isUntimedTask(ev.task) ? untimedTsText(ev.task) : formatField(field, value);
    s.rows.push({ field, value: text });
  }
  return [s];
}

/**
 * The lock's identity for a lock event row: its address and what the import's attribution used to
 * name it (lock_attribution, trace/derive/lock-evidence.ts); null for other rows.
 */
export function lockIdentitySection(store: TraceStore, row: number, evidence: LockEvidence): InspectorSection | null {
  const kind = store.kindOf(row);
  if (kind !== 'lock_wait' && kind !== 'lock_acquire' && kind !== 'lock_release' && kind !== 'lock_contention') return null;
  const addr = store.readField('lockAddr', row) as bigint;
  const rows = [{ field: 'lock.address', value: formatField('lockAddr', addr) }];
  const att = evidence.get(addr);
  if (att) {
    rows.push({ field: 'lock.attributed', value: `${att.lock}, nodeid ${att.nodeId ?? 'unknown'}, ino ${att.ino ?? 'unknown'}${att.path ? `, ${att.path}` : ''}` });
    rows.push({ field: 'lock.evidence', value: att.methods.length ? att.methods.map(methodLabel).join(', ') : 'none' });
    if (att.unknownReason) rows.push({ field: 'lock.unknownReason', value: att.unknownReason });
  } else {
    rows.push({ field: 'lock.evidence', value: 'none recorded (the source did not attribute it)' });
  }
  return { title: 'lock identity', rows };
}
