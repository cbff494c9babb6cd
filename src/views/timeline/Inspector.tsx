import { useStoreValue } from '../../widgets/use-store.ts';
import type { ViewHost } from '../host.ts';
import { inspectorSections } from './describe.ts';

/** Every field of the selected span's begin event, mapping events (iomap) and end event. */
export function Inspector({ host }: { host: ViewHost }) {
  const spanId = useStoreValue(host, (h) => h.selectedSpanId);
  // One primitive key re-renders on a new trace and when the selected span closes (its end
  // event arrives after the click).
  useStoreValue(host, (h) => {
    const id = h.selectedSpanId;
    return `${h.traceGeneration}:${id}:${id >= 0 && id < h.spans.count && h.spans.isOpen(id)}`;
  });
  const valid = spanId >= 0 && spanId < host.spans.count;
  return (
    <aside className="inspector" data-testid="inspector">
      <h2>Inspector</h2>
      {!valid ? (
        <p className="muted">Click a span in the timeline to see every field of its events.</p>
      ) : (
        <table>
          {inspectorSections(host.trace, host.spans, spanId).map((s) => (
            <tbody key={s.title}>
              <tr className="section"><td colSpan={2}>{s.title}</td></tr>
              {s.rows.map((r) => (
                <tr key={r.field} data-field={r.field}><th>{r.field}</th><td>{r.value}</td></tr>
              ))}
            </tbody>
          ))}
        </table>
      )}
    </aside>
  );
}
