// Which lock each row of the locks view is, and how the import knew: per lock its kernel address
// (when traced), name, nodeid and on-disk inode ("unknown" when no evidence names them), and the
// evidence the lock attribution used (lock_attribution instants, trace/derive/lock-evidence.ts).
// Sources without attribution (simulator, instrumentation) list their locks with "—" as evidence.

import { useStoreValue } from '../../widgets/use-store.ts';
import { lockAddrText } from '../../trace/derive/locks.ts';
import { methodLabel } from '../../trace/derive/lock-evidence.ts';
import { sameFinding, type ViewHost } from '../host.ts';
import { useMemo } from 'react';
import type { Finding } from '../../trace/checks/types.ts';
import { severityRank } from '../../trace/checks/types.ts';
import { spanOfRow } from '../../trace/derive/relatives.ts';
import { lockIdentityRows } from './model.ts';
import { UNKNOWN_INO } from '../../trace/ids.ts';

/**
 * The lock (LockIndex idx) of each finding's evidence rows that open a lock span (an acquire or a
 * wait in the page), with the most severe finding naming it.
 */
function findingsByLock(host: ViewHost, list: readonly Finding[]): Map<number, Finding> {
  const out = new Map<number, Finding>();
  const f = host.findings;
  if (!f) return out;
  for (const finding of list) {
    for (const streamRow of finding.evidence) {
      const row = streamRow - f.rowBase;
      if (row < 0 || row >= host.trace.length) continue;
      const span = spanOfRow(host.spans, row);
      const lockIdx = span >= 0 ? host.locks.lockOfSpan(span) : -1;
      if (lockIdx < 0) continue;
      const had = out.get(lockIdx);
      if (!had || severityRank(finding.severity) > severityRank(had.severity)) out.set(lockIdx, finding);
    }
  }
  return out;
}

export function LockIdentities({ host }: { host: ViewHost }) {
  const version = useStoreValue(host, (h) => `${h.traceGeneration}:${h.derivedVersion}:${h.findings?.version ?? 0}`);
  const shown = useStoreValue(host, (h) => h.findings?.selected ?? null);
  const rows = lockIdentityRows(host.locks, host.aliases);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` stands for the mutable indexes and list
  const byLock = useMemo(() => findingsByLock(host, host.findings?.list ?? []), [host, version]);
  // The shown finding's own locks are outlined (it may not be the most severe on them).
  // eslint-disable-next-line react-hooks/exhaustive-deps
  const shownLocks = useMemo(() => new Set(shown ? findingsByLock(host, [shown]).keys() : []), [host, version, shown]);
  if (rows.length === 0) return null;
  return (
    <div className="lock-identities">
      <h3>Locks <span className="muted">(address, inode and the evidence that named them)</span></h3>
      <table data-testid="lock-identities">
        <thead><tr><th>address</th><th>lock</th><th>nodeid</th><th>ino</th><th>evidence</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.lockIdx} data-lock={r.lockIdx} data-addr={lockAddrText(r.lockAddr) || undefined}
              className={shownLocks.has(r.lockIdx) ? 'finding-lock selected' : byLock.has(r.lockIdx) ? 'finding-lock' : undefined}
              onMouseEnter={() => host.setHoverLink(r.lockIdx, UNKNOWN_INO)} onMouseLeave={() => host.setHoverLink(-1, UNKNOWN_INO)}>
              <td className="mono" data-col="addr">{lockAddrText(r.lockAddr) || <span className="muted">not traced</span>}</td>
              <td>{r.lock}</td>
              <td data-col="nodeid">{r.nodeId || <span className="muted">unknown</span>}</td>
              <td data-col="ino">{r.ino || <span className="muted">unknown</span>}{r.inoEvidence.length > 1 && <span className="bad" title="the evidence names more than one inode number"> ({r.inoEvidence.join(' or ')} ⚠)</span>}</td>
              <td data-col="evidence">
                {r.methods.length > 0 ? r.methods.map(methodLabel).join(', ') : <span className="muted">—</span>}
                {r.unknownReason && <div className="muted">{r.unknownReason}</div>}
                {byLock.has(r.lockIdx) && <FindingBadge host={host} f={byLock.get(r.lockIdx)!} shown={sameFinding(byLock.get(r.lockIdx)!, shown)} />}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function FindingBadge({ host, f, shown }: { host: ViewHost; f: Finding; shown: boolean }) {
  return (
    <button type="button" className={`sev-badge sev-${f.severity} finding-badge${shown ? ' selected' : ''}`} data-testid="lock-finding-badge"
      title={f.explanation} onClick={() => host.findings?.select(f)}>{f.rule} {f.severity}</button>
  );
}
