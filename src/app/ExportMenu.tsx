import { useEffect, useRef, useState } from 'react';
import type { AppStore } from './app-store.ts';
import { EXPORT_CHOICES, exportFileName, exportStore, snapshotStore, type PageExportFormat } from './export-run.ts';

type ExportState =
  | { phase: 'idle' }
  | { phase: 'writing'; format: PageExportFormat; bytes: number }
  | { phase: 'done'; name: string; bytes: number }
  | { phase: 'failed'; message: string };

/**
 * "Export ▾": what the page shows — the live rows in the page or the opened file — as a .fscope
 * recording, Chrome JSON, Perfetto or Arrow, written in the page (export-run.ts) and downloaded.
 * While it writes: the bytes so far and Cancel; then the file's name and size, or the error.
 */
export function ExportMenu({ store }: { store: AppStore }) {
  const [open, setOpen] = useState(false);
  const [state, setState] = useState<ExportState>({ phase: 'idle' });
  const cancelled = useRef(false);

  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent): void => {
      if (!(e.target as Element).closest?.('.export-menu')) setOpen(false);
    };
    window.addEventListener('mousedown', close);
    return () => window.removeEventListener('mousedown', close);
  }, [open]);

  const run = async (format: PageExportFormat): Promise<void> => {
    setOpen(false);
    const isFile = store.status.sourceKind === 'file';
    const shown = isFile
      ? { kind: 'file' as const, name: store.status.file?.label ?? '' }
      : { kind: 'live' as const, name: store.status.serverState?.scenario ?? '' };
    const source = isFile ? shown.name : `live ${shown.name || store.status.source}`.trim();
    // The live store grows and is swapped while this runs: write the rows there are now.
    const rows = isFile ? store.trace : snapshotStore(store.trace);
    cancelled.current = false;
    setState({ phase: 'writing', format, bytes: 0 });
    try {
      const blob = await exportStore(rows, format, {
        source, isCancelled: () => cancelled.current, onProgress: (p) => setState({ phase: 'writing', format, bytes: p.bytes }),
      });
      if (!blob) {
        setState({ phase: 'idle' });
        return;
      }
      const name = exportFileName(shown, format);
      download(blob, name);
      setState({ phase: 'done', name, bytes: blob.size });
    } catch (err) {
      setState({ phase: 'failed', message: `export failed: ${(err as Error).message}` });
    }
  };

  const busy = state.phase === 'writing';
  return (
    <span className="export-menu">
      <button type="button" data-testid="export" aria-expanded={open} disabled={busy} onClick={() => setOpen(!open)}
        title="Save what the page shows (the live rows in the page, or the opened file) as a file">Export ▾</button>
      {open && (
        <div className="export-popup" data-testid="export-list">
          <div className="muted">{store.status.sourceKind === 'file' ? 'the opened file' : `the ${store.trace.length.toLocaleString('en-US')} live events in this page`}</div>
          {EXPORT_CHOICES.map((c) => (
            <button type="button" key={c.format} className="export-item" data-testid={`export-${c.format}`} title={c.title}
              onClick={() => void run(c.format)}>{c.label}</button>
          ))}
        </div>
      )}
      {state.phase !== 'idle' && (
        <span className={`export-status${state.phase === 'failed' ? ' failed' : ''}`} data-testid="export-status" data-phase={state.phase}>
          {state.phase === 'writing' && <>writing {formatBytes(state.bytes)}… <button type="button" data-testid="export-cancel" onClick={() => { cancelled.current = true; }}>Cancel</button></>}
          {state.phase === 'done' && <>saved {state.name} ({formatBytes(state.bytes)})</>}
          {state.phase === 'failed' && state.message}
          {state.phase !== 'writing' && <button type="button" className="link" aria-label="close" onClick={() => setState({ phase: 'idle' })}>×</button>}
        </span>
      )}
    </span>
  );
}

/** Hands the Blob to the browser as a download named `name`. */
function download(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The browser has taken the URL once the click ran; revoke after it had the chance to start.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1 << 20) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}
