import { useStoreValue } from '../../widgets/use-store.ts';
import type { ViewHost } from '../host.ts';
import { inspectorSections, lockIdentitySection, rowSections } from './describe.ts';
import { relativesOf } from '../../trace/derive/relatives.ts';

/**
 * Every field of the selection — a span (begin, mapping and end events) or a single event — and
 * links to its relatives (request↔reply, begin→end→ioend, wait↔holder, path↔nodeid↔inode, cache
 * entry→the begin that filled it). A link selects the relative and brings it into view.
 */
export function Inspector({ host }: { host: ViewHost }) {
  const spanId = useStoreValue(host, (h) => h.selectedSpanId);
  const row = useStoreValue(host, (h) => h.selectedRow);
  // One primitive key re-renders on a new trace and when the selected span closes (its end
  // event arrives after the click), and when derived links may have changed.
  useStoreValue(host, (h) => {
    const id = h.selectedSpanId;
    return `${h.traceGeneration}:${id}:${id >= 0 && id < h.spans.count && h.spans.isOpen(id)}:${h.spans.complete}:${h.derivedVersion}`;
  });
  const validSpan = spanId >= 0 && spanId < host.spans.count;
  const validRow = !validSpan && row >= 0 && row < host.trace.length;
  const sections = validSpan ? inspectorSections(host.trace, host.spans, spanId) : validRow ? rowSections(host.trace, row) : [];
  const lockRow = validSpan ? host.spans.beginRow.data[spanId]! : validRow ? row : -1;
  const lockSection = lockRow >= 0 ? lockIdentitySection(host.trace, lockRow, host.aliases.lockEvidence) : null;
  if (lockSection) sections.splice(1, 0, lockSection);
  const relatives = validSpan || validRow ? relativesOf(host, validSpan ? spanId : -1, row) : [];
  return (
    <aside className="inspector" data-testid="inspector">
      <h2>Inspector</h2>
      {!validSpan && !validRow ? (
        <p className="muted">Click a span in the timeline, a lock wait, a node of the alias graph or a cache marker to see every field and its relatives.</p>
      ) : (
        <>
          {relatives.length > 0 && (
            <div className="relatives" data-testid="relatives">
              <h3>Related</h3>
              <ul>
                {relatives.map((r, i) => (
                  <li key={`${r.role}:${r.spanId}:${r.row}:${i}`}>
                    <span className="role">{r.role}</span>{' '}
                    <button type="button" className="link" data-role={r.role} onClick={() => host.reveal(r.spanId, r.row)}>{r.label}</button>
                  </li>
                ))}
              </ul>
            </div>
          )}
          <table>
            {sections.map((s) => (
              <tbody key={s.title}>
                <tr className="section"><td colSpan={2}>{s.title}</td></tr>
                {s.rows.map((r) => (
                  <tr key={r.field} data-field={r.field}><th>{r.field}</th><td>{r.value}</td></tr>
                ))}
              </tbody>
            ))}
          </table>
        </>
      )}
    </aside>
  );
}
