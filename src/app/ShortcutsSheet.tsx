// The keyboard shortcuts sheet (`?`, or the header's ? button): render/shortcuts.ts's table, the
// one the key handlers dispatch through, so it lists exactly the keys the page has. Esc, the
// close button or a click outside closes it.

import { useEffect, useRef } from 'react';
import { createPortal } from 'react-dom';
import { GESTURES, SCOPE_TITLES, SHORTCUTS, type ShortcutScope } from '../render/shortcuts.ts';

const SCOPES: ShortcutScope[] = ['page', 'timeline', 'search'];

export function ShortcutsSheet({ onClose }: { onClose: () => void }) {
  const closeRef = useRef<HTMLButtonElement>(null);
  // Focus inside the sheet, so Esc reaches it and the page's keys (space, W A S D) stay quiet.
  useEffect(() => { closeRef.current?.focus(); }, []);
  // In document.body, like the search results: above every panel whatever their stacking.
  return createPortal(
    <div className="sheet-backdrop" data-testid="shortcuts-backdrop" onMouseDown={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="shortcuts-sheet" role="dialog" aria-modal="true" aria-labelledby="shortcuts-title" data-testid="shortcuts-sheet"
        onKeyDown={(e) => {
          if (e.key === 'Escape' || e.key === '?') {
            e.preventDefault();
            e.stopPropagation();
            onClose();
          }
        }}>
        <div className="sheet-head">
          <h2 id="shortcuts-title">Keyboard shortcuts</h2>
          <button type="button" ref={closeRef} data-testid="shortcuts-close" onClick={onClose} aria-label="close">✕</button>
        </div>
        {SCOPES.map((scope) => (
          <section key={scope}>
            <h3>{SCOPE_TITLES[scope]}</h3>
            <table>
              <tbody>
                {SHORTCUTS.filter((s) => s.scope === scope).map((s) => (
                  <tr key={s.action} data-action={s.action}><td><kbd>{s.shown}</kbd></td><td>{s.what}</td></tr>
                ))}
              </tbody>
            </table>
          </section>
        ))}
        <section>
          <h3>Mouse</h3>
          <table>
            <tbody>
              {GESTURES.map((g) => <tr key={g.shown}><td><kbd>{g.shown}</kbd></td><td>{g.what}</td></tr>)}
            </tbody>
          </table>
        </section>
      </div>
    </div>,
    document.body,
  );
}
