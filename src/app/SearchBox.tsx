// The search field (`/` focuses it): filter terms (opcode:, nodeid:, ino:, path:, task:, off:,
// type:, kind:, addr:), a lock address or its prefix (0xffff8881…) plus free text over every field
// (src/trace/derive/search.ts). The results list is a popover in document.body, placed under the
// field with fixed positioning, so no ancestor's overflow clips it and it sits above the views.
// ↑/↓ move through it, Enter (or a click, or f with the list focused) goes to a result: selects
// it, zooms the timeline to it and scrolls its lane into view; Esc closes it. The keys are the
// `search` scope of render/shortcuts.ts. The same query filters the locks and aliasing views.

import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { createPortal } from 'react-dom';
import { describeRow, parseQuery, searchRows } from '../trace/derive/search.ts';
import { spanOfRow } from '../trace/derive/relatives.ts';
import { formatDurNs } from '../render/time-scale.ts';
import { shortcutAction } from '../render/shortcuts.ts';
import { useStoreValue } from '../widgets/use-store.ts';
import type { AppStore } from './app-store.ts';

/** Results listed; the list says how many more matched. */
const MAX_RESULTS = 40;
/** The popover's width, narrowed to the window when it is smaller. */
const POPOVER_WIDTH_PX = 560;
const POPOVER_MARGIN_PX = 8;

export function SearchBox({ store, inputRef }: { store: AppStore; inputRef: React.RefObject<HTMLInputElement | null> }) {
  const query = useStoreValue(store, (s) => s.view.query);
  const version = useStoreValue(store, (s) => `${s.traceGeneration}:${s.status.eventCount}`);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const [place, setPlace] = useState<{ leftPx: number; topPx: number; widthPx: number; maxHeightPx: number } | null>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const parsed = useMemo(() => parseQuery(query), [query]);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- `version` stands for the growing store
  const results = useMemo(() => (open ? searchRows(store.trace, parsed, MAX_RESULTS) : { rows: [], total: 0 }), [store, parsed, open, version]);
  const shown = open && query.trim() !== '';

  // A new query, or the list opening again, starts at the first result.
  useEffect(() => setActive(0), [query, shown]);
  // Under the field, inside the window; again when the window changes size.
  useLayoutEffect(() => {
    if (!shown) return;
    const placeIt = (): void => {
      const r = inputRef.current?.getBoundingClientRect();
      if (!r) return;
      const widthPx = Math.min(POPOVER_WIDTH_PX, window.innerWidth - 2 * POPOVER_MARGIN_PX);
      const leftPx = Math.max(POPOVER_MARGIN_PX, Math.min(r.left, window.innerWidth - widthPx - POPOVER_MARGIN_PX));
      const topPx = r.bottom + 4;
      setPlace({ leftPx, topPx, widthPx, maxHeightPx: Math.max(120, window.innerHeight - topPx - POPOVER_MARGIN_PX) });
    };
    placeIt();
    window.addEventListener('resize', placeIt);
    return () => window.removeEventListener('resize', placeIt);
  }, [shown, inputRef]);
  useEffect(() => {
    listRef.current?.querySelector(`[data-index="${active}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [active]);

  const close = (): void => {
    setOpen(false);
    // Back to the page, so W A S D, f and space act on what was found.
    inputRef.current?.blur();
    listRef.current?.blur();
  };
  const choose = (row: number | undefined): void => {
    if (row === undefined) return;
    const spanId = spanOfRow(store.spans, row);
    if (spanId >= 0) store.select(spanId);
    else store.selectRow(row);
    // Zoom to it (f's zoom) and, through revealSeq, scroll the timeline to its lane.
    store.scheduler.scheduleAction(() => store.focusSelection());
    close();
  };
  /** The `search` keys; `fromList`: the list has the focus, so f chooses (in the field f is typed). */
  const onKey = (e: React.KeyboardEvent, fromList: boolean): void => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    // The list sits at the end of document.body, far from the field in tab order: Tab moves between the two.
    if (e.key === 'Tab' && shown && results.rows.length && e.shiftKey === fromList) {
      e.preventDefault();
      (fromList ? inputRef.current : listRef.current)?.focus();
      return;
    }
    if (!fromList && e.key.length === 1) return;
    const n = results.rows.length;
    switch (shortcutAction('search', e.key)) {
      case 'result-next': if (n) setActive((a) => (a + 1) % n); break;
      case 'result-previous': if (n) setActive((a) => (a - 1 + n) % n); break;
      case 'result-choose': choose(results.rows[Math.min(active, n - 1)]); break;
      case 'result-close': close(); break;
      default: return;
    }
    e.preventDefault();
    // The page's own handler must not also act (Escape would clear the selection just made).
    e.stopPropagation();
  };
  // Closed when the focus leaves both the field and the list (a click on a result keeps it: preventDefault on mousedown).
  const onBlur = (e: React.FocusEvent): void => {
    const next = e.relatedTarget as Node | null;
    if (next && (next === inputRef.current || listRef.current?.contains(next))) return;
    setOpen(false);
  };
  const more = results.total - results.rows.length;

  return (
    <div className="search">
      <input ref={inputRef} data-testid="search" type="search" role="combobox" aria-expanded={shown} aria-controls="search-results"
        aria-activedescendant={shown && results.rows.length ? `search-hit-${active}` : undefined}
        placeholder="/ search: text, ino:12 opcode:IOMAP_BEGIN task:writer off:0-64k type:unwritten"
        value={query} onChange={(e) => { store.view.setQuery(e.target.value); setOpen(true); }}
        onFocus={() => setOpen(true)} onBlur={onBlur} onKeyDown={(e) => onKey(e, false)} />
      {shown && place && createPortal(
        <div className="search-results" id="search-results" data-testid="search-results" role="listbox" tabIndex={0} ref={listRef}
          aria-label="search results" onBlur={onBlur} onKeyDown={(e) => onKey(e, true)} onMouseDown={(e) => e.preventDefault()}
          style={{ left: place.leftPx, top: place.topPx, width: place.widthPx, maxHeight: Math.min(420, place.maxHeightPx) }}>
          {parsed.errors.map((m) => <div key={m} className="search-error">{m}</div>)}
          <div className="muted search-count">
            {results.total.toLocaleString('en-US')} match{results.total === 1 ? '' : 'es'}{more > 0 ? `, the first ${results.rows.length} listed` : ''}
            {results.rows.length ? ' · ↑↓ choose · Enter go · Esc close' : ''}
          </div>
          {results.rows.map((row, i) => (
            <button type="button" key={row} id={`search-hit-${i}`} data-index={i} data-row={row} role="option" aria-selected={i === active} tabIndex={-1}
              className={`search-hit${i === active ? ' active' : ''}`}
              onMouseEnter={() => setActive(i)} onClick={() => choose(row)}>
              <span className="num">{formatDurNs(store.trace.tsNs[row]!)}</span> {describeRow(store.trace, row)}
            </button>
          ))}
          {more > 0 && <div className="muted search-more" data-testid="search-more">{more.toLocaleString('en-US')} more — add terms to narrow the search</div>}
        </div>,
        document.body,
      )}
    </div>
  );
}
