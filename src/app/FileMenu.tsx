import { useEffect, useRef, useState } from 'react';
import type { FileSession, RecordingInfo } from './file-session.ts';

/** "Open file…" (a hidden multi-file input) and "Recordings ▾" (the server's sessions folder). */
export function FileMenu({ session }: { session: FileSession }) {
  const inputRef = useRef<HTMLInputElement>(null);
  const [list, setList] = useState<RecordingInfo[] | null>(null);
  const [listError, setListError] = useState('');
  const [open, setOpen] = useState(false);

  useEffect(() => {
    if (!open) return;
    let live = true;
    session.listRecordings().then(
      (r) => { if (live) { setList(r); setListError(''); } },
      (e: Error) => { if (live) setListError(e.message); },
    );
    const close = (e: MouseEvent): void => {
      if (!(e.target as Element).closest?.('.file-menu')) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => {
      live = false;
      window.removeEventListener('mousedown', close);
    };
  }, [open, session]);

  return (
    <span className="file-menu">
      <button type="button" data-testid="open-file" onClick={() => inputRef.current?.click()}
        title="Open ftrace text, libfuse -d logs, fusescope NDJSON (several files = one trace) or a .fscope recording; or drop them on the page">Open…</button>
      <input ref={inputRef} type="file" multiple hidden data-testid="file-input"
        onChange={(e) => {
          const files = [...(e.target.files ?? [])];
          e.target.value = '';
          session.openFiles(files.map((f) => ({ name: f.name, blob: f })));
        }} />
      <button type="button" data-testid="recordings" aria-expanded={open} onClick={() => setOpen(!open)}
        title="Recordings of live sessions the server saved">Recordings ▾</button>
      {open && (
        <div className="recordings-popup" data-testid="recordings-list">
          {listError && <div className="error-line">{listError}</div>}
          {!listError && list === null && <div className="muted">loading…</div>}
          {list?.length === 0 && <div className="muted">no recordings on the server</div>}
          {list?.map((r) => (
            <button type="button" key={r.name} className="recording-item" data-testid="recording-item" data-name={r.name}
              onClick={() => { setOpen(false); void session.openRecording(r.name); }}>
              <span className="recording-name">{r.name}</span>
              <span className="muted">{r.events === null ? 'in progress' : `${r.events.toLocaleString('en-US')} events`} · {formatBytes(r.bytes)}</span>
            </button>
          ))}
        </div>
      )}
    </span>
  );
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
