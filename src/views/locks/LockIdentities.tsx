// Which lock each row of the locks view is, and how the import knew: per lock its kernel address
// (when traced), name, nodeid and on-disk inode ("unknown" when no evidence names them), and the
// evidence the lock attribution used (lock_attribution instants, trace/derive/lock-evidence.ts).
// Sources without attribution (simulator, instrumentation) list their locks with "—" as evidence.

import { useStoreValue } from '../../widgets/use-store.ts';
import { lockAddrText } from '../../trace/derive/locks.ts';
import { methodLabel } from '../../trace/derive/lock-evidence.ts';
import type { ViewHost } from '../host.ts';
import { lockIdentityRows } from './model.ts';
import { UNKNOWN_INO } from '../../trace/ids.ts';

export function LockIdentities({ host }: { host: ViewHost }) {
  useStoreValue(host, (h) => `${h.traceGeneration}:${h.derivedVersion}`);
  const rows = lockIdentityRows(host.locks, host.aliases);
  if (rows.length === 0) return null;
  return (
    <div className="lock-identities">
      <h3>Locks <span className="muted">(address, inode and the evidence that named them)</span></h3>
      <table data-testid="lock-identities">
        <thead><tr><th>address</th><th>lock</th><th>nodeid</th><th>ino</th><th>evidence</th></tr></thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.lockIdx} data-lock={r.lockIdx} data-addr={lockAddrText(r.lockAddr) || undefined}
              onMouseEnter={() => host.setHoverLink(r.lockIdx, UNKNOWN_INO)} onMouseLeave={() => host.setHoverLink(-1, UNKNOWN_INO)}>
              <td className="mono" data-col="addr">{lockAddrText(r.lockAddr) || <span className="muted">not traced</span>}</td>
              <td>{r.lock}</td>
              <td data-col="nodeid">{r.nodeId || <span className="muted">unknown</span>}</td>
              <td data-col="ino">{r.ino || <span className="muted">unknown</span>}{r.inoEvidence.length > 1 && <span className="bad" title="the evidence names more than one inode number"> ({r.inoEvidence.join(' or ')} ⚠)</span>}</td>
              <td data-col="evidence">
                {r.methods.length > 0 ? r.methods.map(methodLabel).join(', ') : <span className="muted">—</span>}
                {r.unknownReason && <div className="muted">{r.unknownReason}</div>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
