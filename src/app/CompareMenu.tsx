import { useEffect, useRef, useState } from 'react';
import type { FileSession, RecordingInfo } from './file-session.ts';
import type { CompareSession, CompareSource } from './compare-session.ts';

/** "Compare…": pick A and B (the server's recordings, or local files) and open them side by side. */
export function CompareMenu({ session, compare }: { session: FileSession; compare: CompareSession }) {
  const [open, setOpen] = useState(false);
  const [list, setList] = useState<RecordingInfo[] | null>(null);
  const [listError, setListError] = useState('');
  const [picks, setPicks] = useState<[CompareSource | null, CompareSource | null]>([null, null]);

  useEffect(() => {
    if (!open) return;
    let live = true;
    session.listRecordings().then(
      (r) => {
        if (!live) return;
        setList(r);
        setListError('');
        // Newest first: B defaults to the newest (the "after"), A to the one before it.
        setPicks(([a, b]) => [a ?? (r[1] ? { name: r[1].name } : null), b ?? (r[0] ? { name: r[0].name } : null)]);
      },
      (e: Error) => { if (live) setListError(e.message); },
    );
    const close = (e: MouseEvent): void => {
      if (!(e.target as Element).closest?.('.compare-menu')) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => {
      live = false;
      window.removeEventListener('mousedown', close);
    };
  }, [open, session]);

  const setPick = (i: 0 | 1, src: CompareSource | null): void => setPicks((p) => (i === 0 ? [src, p[1]] : [p[0], src]));
  const [a, b] = picks;
  return (
    <span className="compare-menu">
      <button type="button" data-testid="compare-open" aria-expanded={open} onClick={() => setOpen(!open)}
        title="Compare two recordings side by side: aligned timelines and an A-vs-B table">Compare…</button>
      {open && (
        <div className="recordings-popup compare-popup" data-testid="compare-popup">
          {listError && <div className="error-line">{listError}</div>}
          {([0, 1] as const).map((i) => (
            <SidePick key={i} side={i === 0 ? 'A' : 'B'} list={list} pick={picks[i]} onPick={(src) => setPick(i, src)} />
          ))}
          <div className="compare-go-row">
            <span className="muted">{list === null && !listError ? 'loading recordings…' : 'same figures as fusescope diff A B'}</span>
            <button type="button" data-testid="compare-go" disabled={!a || !b}
              onClick={() => { if (a && b) { setOpen(false); compare.open(a, b); } }}>Compare</button>
          </div>
        </div>
      )}
    </span>
  );
}

const FILE_PREFIX = 'file:';

function SidePick({ side, list, pick, onPick }: { side: 'A' | 'B'; list: RecordingInfo[] | null; pick: CompareSource | null; onPick: (src: CompareSource | null) => void }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const id = side.toLowerCase();
  const value = pick ? (pick.blob ? FILE_PREFIX + pick.name : pick.name) : '';
  return (
    <div className="compare-pick">
      <span className={`side-badge side-badge-${id}`}>{side}</span>
      <select data-testid={`compare-${id}`} value={value}
        onChange={(e) => onPick(e.target.value === '' ? null : e.target.value.startsWith(FILE_PREFIX) ? pick : { name: e.target.value })}>
        <option value="">— pick a recording —</option>
        {pick?.blob && <option value={value}>{pick.name} (local file)</option>}
        {list?.map((r) => (
          <option key={r.name} value={r.name}>{r.name}{r.events === null ? ' (in progress)' : ` · ${r.events.toLocaleString('en-US')} events`}</option>
        ))}
      </select>
      <button type="button" onClick={() => inputRef.current?.click()} title="A .fscope recording or a trace file from this computer">file…</button>
      <input ref={inputRef} type="file" hidden data-testid={`compare-${id}-file`}
        onChange={(e) => {
          const f = e.target.files?.[0];
          e.target.value = '';
          if (f) onPick({ name: f.name, blob: f });
        }} />
    </div>
  );
}
