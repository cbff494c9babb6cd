// A horizontal splitter bar between two stacked panels: drag it, or focus it and press ↑ / ↓
// (Shift: bigger steps); a double-click (or Home) resets. It only reports the size the panel
// above should have; the owner applies and keeps it.

import { useRef } from 'react';

interface SplitterProps {
  /** The height of the panel above, in px, now (null: its default, CSS-decided size). */
  heightPx: number | null;
  /** The measured height of the panel above (when heightPx is null), so a drag starts where it is. */
  measure: () => number;
  minPx: number;
  maxPx: () => number;
  onChange: (heightPx: number | null) => void;
  label: string;
  testId?: string;
}

/** Key steps: 24 px, Shift 120 px. */
const STEP_PX = 24;
const BIG_STEP_PX = 120;

export function Splitter({ heightPx, measure, minPx, maxPx, onChange, label, testId }: SplitterProps) {
  const drag = useRef<{ startY: number; startPx: number } | null>(null);
  const clamp = (px: number): number => Math.round(Math.min(Math.max(px, minPx), Math.max(minPx, maxPx())));
  const current = (): number => heightPx ?? measure();

  return (
    <div className="splitter" role="separator" aria-orientation="horizontal" aria-label={label} tabIndex={0} data-testid={testId}
      aria-valuenow={Math.round(current())} aria-valuemin={minPx} title={`${label}: drag, or ↑ ↓ when focused; double-click resets`}
      onPointerDown={(e) => {
        if (e.button !== 0) return;
        e.preventDefault();
        (e.target as Element).setPointerCapture?.(e.pointerId);
        drag.current = { startY: e.clientY, startPx: current() };
      }}
      onPointerMove={(e) => {
        const d = drag.current;
        if (d) onChange(clamp(d.startPx + e.clientY - d.startY));
      }}
      onPointerUp={() => { drag.current = null; }}
      onPointerCancel={() => { drag.current = null; }}
      onDoubleClick={() => onChange(null)}
      onKeyDown={(e) => {
        const step = e.shiftKey ? BIG_STEP_PX : STEP_PX;
        if (e.key === 'ArrowUp') onChange(clamp(current() - step));
        else if (e.key === 'ArrowDown') onChange(clamp(current() + step));
        else if (e.key === 'Home') onChange(null);
        else return;
        e.preventDefault();
        e.stopPropagation();
      }}>
      <span className="splitter-grip" aria-hidden="true" />
    </div>
  );
}
