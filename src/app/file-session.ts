// Opening files in the page: dropped / picked files and the server's recordings go to the import
// worker; its batches go into a FileTarget as live batches do (no React state per batch). The
// page's AppStore loads a file apart (a StagedFile, staged-file.ts) and shows it only once it has
// loaded whole: until then the previous trace (live or a file) stays on screen with the load's
// progress, and a file that fails leaves it as it was (AppStore.settleFile says why; one that
// read some rows before it stopped is held for the user to view). A compare side fills its own
// trace as the rows come. While a file is shown the websocket is detached (this page stops
// receiving the live stream; the server and other pages carry on); "Back to live" reconnects,
// and the server's hello refills the trace.

import { RESERVE_AFTER_ROWS } from './live-window.ts';
import { COUNTER_PERIOD_MS } from './trace-view-host.ts';
import type { FileTarget } from './trace-view-host.ts';
import type { AppStore } from './app-store.ts';
import type { StagedFile } from './staged-file.ts';
import type { OpenedFile } from './source-status.ts';
import type { WsClient } from './ws-client.ts';
import { decodeWorkerMessage, type FramesReturn, type OpenRequest, type WorkerFindings, type WorkerMessage } from './import-protocol.ts';

export interface RecordingInfo {
  name: string;
  bytes: number;
  mtimeMs: number;
  /** From the trailer; null when the file has none (still being written, or killed). */
  events: number | null;
}

export interface WorkerLike {
  onmessage: ((ev: MessageEvent) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  postMessage(msg: OpenRequest | FramesReturn, transfer?: Transferable[]): void;
  terminate(): void;
}

/** `/api/recordings…` with the page's ?token= (the server applies the page's token rules). */
function apiUrl(path: string, search: string): string {
  const token = new URLSearchParams(search).get('token');
  return `${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

/** What loads a file apart and shows it once whole (the page's AppStore; a compare side does not). */
interface Stager {
  stageFile(file: OpenedFile): StagedFile;
  settleFile(staged: StagedFile, damage?: string): 'show' | 'held' | 'failed';
  adoptFile(staged: StagedFile): void;
  takeHeld(): StagedFile | null;
  dismissImportProblem(): void;
  findingsArrived(found: WorkerFindings | null, phasesMs?: Record<string, number>): void;
  loading: StagedFile | null;
}
const isStager = (t: object): t is Stager => 'stageFile' in t && 'adoptFile' in t;

const pageFetch: typeof fetch = (...a) => fetch(...a);

/** Fills the page's AppStore, or (compare-session.ts) a compare side. */
export class FileSession<T extends FileTarget = AppStore> {
  /** What the current request fills: a StagedFile for the page, the store itself for a compare side. */
  private target: FileTarget;
  private worker: WorkerLike | null = null;
  private requestId = 0;
  /** True from open until done / error: the idle hook waits for it. */
  busy = false;
  /** Rows the opened file says it holds (0: unknown), and whether the span columns were sized for it. */
  private expectedEvents = 0;
  private spansReserved = false;
  /** The worker's start said the recording's stored findings will come with done. */
  private storedFindings = false;
  /** The file was shown on the worker's `sent`; its findings (done) are still to come. */
  private shownEarly = false;
  /** performance.now() of the last progress shown. */
  private lastProgressMs = -Infinity;
  /** What openFiles opened last (the blobs stay valid while the page holds them), for reopen. */
  private lastOpened: { files: ReadonlyArray<{ name: string; blob: Blob }>; recordingName: string } | null = null;

  constructor(
    private readonly store: T,
    private readonly client: WsClient,
    private readonly makeWorker: () => WorkerLike,
    private readonly search: string = '',
    private readonly fetchFn: typeof fetch = pageFetch,
    /** Whether this page can read SharedArrayBuffers (tests choose). */
    private readonly sharedRows: () => boolean = () => typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true,
  ) {
    this.target = store;
    // With the browser's own fetch the worker downloads a server recording itself; a session given
    // another fetch (tests without a server) downloads it here and hands the worker a Blob.
    this.workerDownloads = fetchFn === pageFetch;
  }

  private readonly workerDownloads: boolean;

  /** Starts a request's target: the page stages the file; a compare side shows it as it loads. */
  private begin(file: OpenedFile): void {
    // A shown file still waiting for its findings will not get them from this worker now: the page checks it.
    if (this.shownEarly) this.endEarly(null);
    if (isStager(this.store)) {
      this.target = this.store.stageFile(file);
      return;
    }
    this.client.stop();
    this.target = this.store;
    this.store.beginFile(file);
  }

  /** The request ended (done or error): a staged file is shown, held or dropped (the store says which). */
  private settle(damage = ''): void {
    this.busy = false;
    const t = this.target;
    if (!isStager(this.store) || t === this.store) return;
    const verdict = this.store.settleFile(t as StagedFile, damage);
    if (verdict === 'show') this.show(t as StagedFile);
    // A page that started on a linked recording never attached to the stream: it shows live now.
    else if (this.store.status.sourceKind === 'live' && !this.client.started) this.client.start();
  }

  /** Detaches the live stream (its next batch must not land in the file's trace), then shows the file. */
  private show(staged: StagedFile): void {
    this.client.stop();
    (this.store as unknown as Stager).adoptFile(staged);
  }

  /** Shows what a file that stopped part way had read (the user chose to). */
  viewHeld(): void {
    if (!isStager(this.store)) return;
    const held = this.store.takeHeld();
    if (held) this.show(held);
  }

  /**
   * Once RESERVE_AFTER_ROWS rows are in, sizes the span, lock and cache indexes for the whole file
   * from what the rows so far made (TraceSession.reserveIndexes), so they are not grown by
   * doubling — every doubling copies them all (~6 % of the page's time opening 3 M events).
   */
  private reserveSpans(): void {
    const data = this.target.data;
    if (this.spansReserved || this.expectedEvents === 0 || data.trace.length < RESERVE_AFTER_ROWS) return;
    this.spansReserved = true;
    data.reserveIndexes(this.expectedEvents);
  }

  /**
   * Opens dropped / picked files as one trace (a .fscope recording opens alone). `alignStarts`:
   * files on another clock than the first start with the first file (docs/import.md).
   */
  openFiles(files: ReadonlyArray<{ name: string; blob: Blob }>, recordingName = '', alignStarts = false): void {
    if (files.length === 0) return;
    this.lastOpened = { files, recordingName };
    const label = files.map((f) => f.name).join(' + ');
    this.begin({ label, kind: 'import', recordingName });
    const worker = this.ensureWorker();
    const id = ++this.requestId;
    this.busy = true;
    worker.postMessage({ type: 'open', id, files: files.map((f) => ({ name: f.name, blob: f.blob })), ...(alignStarts ? { alignStarts } : {}), ...this.checksWanted(), ...this.sharedWanted() });
  }

  /** Opens the last dropped / picked files again, their starts aligned or at their own stamps. */
  reopen(alignStarts: boolean): void {
    if (this.lastOpened) this.openFiles(this.lastOpened.files, this.lastOpened.recordingName, alignStarts);
  }

  /** Lists the server's recordings (newest first). */
  async listRecordings(): Promise<RecordingInfo[]> {
    const res = await this.fetchFn(apiUrl('/api/recordings', this.search));
    if (!res.ok) throw new Error(`recordings: HTTP ${res.status}`);
    const body = (await res.json()) as { recordings?: RecordingInfo[] };
    return Array.isArray(body.recordings) ? body.recordings : [];
  }

  /** Fetches one of the server's recordings and opens it (the URL then names it: rec=). */
  async openRecording(name: string): Promise<void> {
    this.begin({ label: name, kind: 'recording', recordingName: name });
    const id = ++this.requestId;
    this.busy = true;
    try {
      const url = apiUrl(`/api/recordings/${encodeURIComponent(name)}`, this.search);
      if (this.workerDownloads) {
        // The worker downloads it and reads it as it arrives (http-source.ts): no page-side copy, and
        // the download overlaps the worker's inflate instead of coming first.
        this.ensureWorker().postMessage({ type: 'open', id, files: [{ name, url: new URL(url, location.href).href }], ...this.checksWanted(), ...this.sharedWanted() });
        return;
      }
      const t0 = performance.now();
      const res = await this.fetchFn(url);
      if (!res.ok) throw new Error(`${name}: HTTP ${res.status} ${(await res.text()).trim()}`);
      const blob = await this.download(res, id);
      if (id !== this.requestId) return;
      this.target.status.loadPhasesMs.fetch = performance.now() - t0;
      this.ensureWorker().postMessage({ type: 'open', id, files: [{ name, blob }], ...this.checksWanted(), ...this.sharedWanted() });
    } catch (err) {
      if (id !== this.requestId) return;
      this.target.failFile(`could not open recording: ${(err as Error).message}`);
      this.settle();
    }
  }

  /** The response's bytes, its progress shown as they come (throttled as the worker's is). */
  private async download(res: Response, id: number): Promise<Blob> {
    const totalBytes = Number(res.headers.get('content-length') ?? 0);
    if (!res.body || !(totalBytes > 0)) return res.blob();
    let doneBytes = 0;
    let lastMs = -Infinity;
    const target = this.target;
    const counted = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
      transform: (piece, ctl) => {
        doneBytes += piece.byteLength;
        const now = performance.now();
        if (id === this.requestId && now - lastMs >= COUNTER_PERIOD_MS) {
          lastMs = now;
          target.status.setImportStatus({ phase: 'fetching', doneBytes, totalBytes });
        }
        ctl.enqueue(piece);
      },
    }));
    return new Response(counted).blob();
  }

  /** Leaves the file for the live stream (the page's store only: a compare side has no stream). */
  backToLive(this: FileSession<T & { setLive(): void }>): void {
    this.requestId++;
    this.busy = false;
    this.shownEarly = false;
    // Terminate: a long import must not keep a core busy for a file nobody looks at.
    this.worker?.terminate();
    this.worker = null;
    if (isStager(this.store)) this.store.loading = null;
    this.store.setLive();
    this.client.start();
  }

  /** Stops the file being opened (the page keeps what it shows). */
  cancel(): void {
    if (!this.busy) return;
    if (this.shownEarly) {
      // The file is shown; only its checkers were still going: the page checks the rows itself.
      this.requestId++;
      this.dropWorker();
      this.endEarly(null);
      return;
    }
    this.requestId++;
    this.busy = false;
    this.worker?.terminate();
    this.worker = null;
    if (isStager(this.store)) this.store.loading = null;
    this.target.failFile('cancelled');
    if (isStager(this.store)) this.store.dismissImportProblem();
  }

  dispose(): void {
    // A fetch still in flight must not start a worker for a session nobody looks at.
    this.requestId++;
    this.busy = false;
    this.worker?.terminate();
    this.worker = null;
  }

  /**
   * A pooled batch buffer back to the worker, once ingested (the store copied its rows: decodeBatch's
   * views into the frame live only through applyBatch) or dropped: it inflates the next chunks into it.
   */
  private giveBack(msg: WorkerMessage): void {
    if (msg.type === 'batch' && msg.frameBytes !== undefined && msg.frame.byteLength > 0) {
      this.worker?.postMessage({ type: 'frames', id: msg.id, frames: [msg.frame] }, [msg.frame]);
    }
  }

  /**
   * Rows in columns the worker fills and this page reads where they are (SharedArrayBuffer), when
   * the page may have them: it is cross-origin isolated (the server's COOP / COEP headers, on a
   * loopback address or https). Elsewhere the rows come as batches the page copies.
   */
  private sharedWanted(): { shared?: true } {
    return this.sharedRows() ? { shared: true } : {};
  }

  /** The worker runs the checkers when the target shows findings (a compare side has none). */
  private checksWanted(): { checks?: true } {
    return this.target.data.findings ? { checks: true } : {};
  }

  /** The findings of a file shown on `sent` came (or will not: null, the page checks its rows). */
  private endEarly(found: WorkerFindings | null, phasesMs?: Record<string, number>): void {
    this.shownEarly = false;
    this.busy = false;
    (this.store as unknown as Stager).findingsArrived(found, phasesMs);
  }

  private dropWorker(): void {
    this.worker?.terminate();
    this.worker = null;
  }

  private ensureWorker(): WorkerLike {
    if (this.worker) return this.worker;
    const w = this.makeWorker();
    w.onmessage = (ev) => this.onMessage(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault();
      this.worker?.terminate();
      this.worker = null;
      if (this.shownEarly) {
        this.requestId++;
        this.endEarly(null);
        return;
      }
      this.target.failFile(`import worker failed: ${ev.message || 'unknown error'}`);
      this.settle();
    };
    this.worker = w;
    return w;
  }

  private onMessage(data: unknown): void {
    const msg: WorkerMessage | null = decodeWorkerMessage(data);
    if (!msg) {
      this.store.status.setError('import worker sent a malformed message');
      return;
    }
    const t = this.target;
    if (msg.id !== this.requestId || t.status.sourceKind !== 'file') {
      this.giveBack(msg);
      return;
    }
    // A load's end: a worker that filled shared columns still references them (its store, now
    // garbage); it is let go so the memory leaves with the page's file, not with the worker's next GC.
    if ((msg.type === 'done' || msg.type === 'error') && this.sharedRows()) this.dropWorker();
    switch (msg.type) {
      case 'progress': {
        // The chrome's rate (a phase change at once): each notify has React check every subscriber.
        const now = performance.now();
        if (msg.phase === t.status.importStatus.phase && now - this.lastProgressMs < COUNTER_PERIOD_MS) break;
        this.lastProgressMs = now;
        t.status.setImportStatus({ phase: msg.phase, doneBytes: msg.doneBytes, totalBytes: msg.totalBytes, doneRows: msg.doneRows, totalRows: msg.totalRows });
        break;
      }
      case 'start':
        t.status.setFileKind(msg.kind, Array.isArray(msg.meta.formats) ? msg.meta.formats.filter((f): f is string => typeof f === 'string') : []);
        t.resetTrace(BigInt(msg.originNs));
        // Capped: a damaged index must not make the page allocate absurd columns up front.
        this.expectedEvents = msg.expectedEvents === undefined ? 0 : Math.min(msg.expectedEvents, 50_000_000);
        this.spansReserved = false;
        // Rows that come in shared columns need no room here.
        if (this.expectedEvents > 0 && !this.sharedRows()) t.data.trace.reserve(this.expectedEvents);
        // The findings will come with done (the recording's stored ones, or the worker's checkers'):
        // the page's main thread does not feed the checkers while the file loads.
        if ((msg.storedFindings === true || msg.workerChecks === true) && t.data.findings) t.data.feedChecks = false;
        this.storedFindings = msg.storedFindings === true;
        break;
      case 'batch':
        try {
          t.ingestBatch(new Uint8Array(msg.frame, 0, msg.frameBytes ?? msg.frame.byteLength), msg.strings);
          this.reserveSpans();
        } catch (err) {
          this.requestId++;
          t.failFile(`import: batch rejected: ${(err as Error).message}`);
          this.settle();
        }
        this.giveBack(msg);
        break;
      case 'rows':
        try {
          const { strings, ...rows } = msg;
          t.ingestBatch(rows, strings);
          this.reserveSpans();
        } catch (err) {
          this.requestId++;
          t.failFile(`import: rows rejected: ${(err as Error).message}`);
          this.settle();
        }
        break;
      case 'sent':
        // The rows are all in; the findings are still being computed: complete the indexes meanwhile,
        // and show a whole, undamaged file now — its findings panel says the rows are being checked.
        t.status.recordingBodies = msg.bodies ?? null;
        t.data.finish();
        if (isStager(this.store) && t !== this.store && msg.damage === '' && t.data.trace.length > 0 && t.data.findings && !t.data.feedChecks) {
          if (msg.otherClockFiles !== undefined) t.status.setFileClocks({ otherClockFiles: msg.otherClockFiles, aligned: msg.aligned === true }, false);
          t.data.findingsPending = true;
          t.finishFile(msg.diags, msg.diagCount);
          t.status.importStatus = { ...t.status.importStatus, phase: 'checking' };
          this.shownEarly = true;
          this.settle();
          this.busy = true; // not idle until the findings are in
        }
        break;
      case 'done':
        if (msg.bodies) t.status.recordingBodies = msg.bodies;
        if (this.shownEarly) {
          this.endEarly(msg.findings ?? null, msg.phasesMs);
          break;
        }
        Object.assign(t.status.loadPhasesMs, msg.phasesMs);
        if (t.data.findings && !t.data.feedChecks) t.status.findingsFrom = !msg.findings ? 'page' : this.storedFindings ? 'stored' : 'worker';
        t.data.settleChecks(msg.findings ?? null);
        if (msg.otherClockFiles !== undefined) t.status.setFileClocks({ otherClockFiles: msg.otherClockFiles, aligned: msg.aligned === true }, false);
        t.finishFile(msg.diags, msg.diagCount);
        this.settle(msg.damage);
        break;
      case 'error':
        // Shown already: only its findings are lost; the page checks the rows itself.
        if (this.shownEarly) {
          this.endEarly(null);
          break;
        }
        if (msg.diags) t.status.finishFile(msg.diags, msg.diagCount ?? msg.diags.length);
        t.failFile(msg.message);
        this.settle();
        break;
    }
  }
}
