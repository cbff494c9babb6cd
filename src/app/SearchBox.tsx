// The search field (`/` focuses it): filter terms (opcode:, nodeid:, ino:, path:, task:, off:,
// type:, kind:, addr:), a lock address or its prefix (0xffff8881…) plus free text. Results list the first matches; a click or Enter jumps to one
// (selects it and brings it into view). The same query filters the locks and aliasing views.

import { useMemo, useState } from 'react';
import { describeRow, parseQuery, searchRows } from '../trace/derive/search.ts';
import { spanOfRow } from '../trace/derive/relatives.ts';
import { formatDurNs } from '../render/time-scale.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import type { AppStore } from './app-store.ts';

/** Results shown; the count says how many more matched. */
const MAX_RESULTS = 40;

export function SearchBox({ store, inputRef }: { store: AppStore; inputRef: React.RefObject<HTMLInputElement | null> }) {
  const query = useStoreValue(store, (s) => s.view.query);
  const version = useStoreValue(store, (s) => `${s.traceGeneration}:${s.status.eventCount}`);
  const [open, setOpen] = useState(false);
  const parsed = useMemo(() => parseQuery(query), [query]);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` stands for the growing store
  const results = useMemo(() => (open ? searchRows(store.trace, parsed, MAX_RESULTS) : { rows: [], total: 0 }), [store, parsed, open, version]);
  const jump = (row: number): void => {
    store.reveal(spanOfRow(store.spans, row), row);
    setOpen(false);
    // Back to the page, so W A S D, f and space act on what was found.
    inputRef.current?.blur();
  };
  return (
    <div className="search">
      <input ref={inputRef} data-testid="search" type="search" placeholder="/ search: ino:12 opcode:IOMAP_BEGIN task:writer off:0-64k type:unwritten"
        value={query} onChange={(e) => { store.view.setQuery(e.target.value); setOpen(true); }}
        onFocus={() => setOpen(true)} onBlur={() => setTimeout(() => setOpen(false), 150)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && results.rows.length) jump(results.rows[0]!);
          if (e.key === 'Escape') (e.target as HTMLInputElement).blur();
        }} />
      {open && query.trim() !== '' && (
        <div className="search-results" data-testid="search-results">
          {parsed.errors.map((m) => <div key={m} className="search-error">{m}</div>)}
          <div className="muted">{results.total.toLocaleString('en-US')} match{results.total === 1 ? '' : 'es'}{results.total > results.rows.length ? `, first ${results.rows.length}` : ''}</div>
          {results.rows.map((row) => (
            <button type="button" key={row} className="search-hit" onMouseDown={(e) => e.preventDefault()} onClick={() => jump(row)}>
              <span className="num">{formatDurNs(store.trace.tsNs[row]!)}</span> {describeRow(store.trace, row)}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
