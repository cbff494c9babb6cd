// The browser end of the websocket: connects to /ws on the page's own host (with the page's
// ?token=), reconnects with exponential backoff, applies binary batches to the AppStore (no
// React state per message), and sends control messages. On every hello / reset the trace starts
// over, because the server's string table does too; after a hello the server sends the run's kept
// history, then the live batches (server/hub/live-session.ts).
//
// Controls are per viewer unless the page drives the shared session (status.driving): pause and
// resume then go out marked `shared` and hold the source for everyone, as speed, scenario and
// restart always do; otherwise pause holds only this page's stream (the server buffers it in the
// session's history) and the page sends no speed or scenario change at all.
//
// The socket itself lives in a Web Worker (ws-worker.ts) where one can be started: Chromium's
// websocket receive path is drained one task at a time by the thread that owns the socket, and on
// the main thread those tasks wait behind frames, which capped the live stream at ~50–60 k events/s
// (docs/performance.md, P7). Frames are transferred to this thread and applied with
// AppStore.ingestBatch exactly as before. Without Worker support it falls back to a socket here.

import { parseServerMessage, type ClientMessage } from '../trace/wire.ts';
import type { AppStore } from './app-store.ts';
import type { FromWsWorker, ToWsWorker } from './ws-worker.ts';

/** The part of a socket this client uses: a real WebSocket, or the worker-backed proxy below. */
interface SocketLike {
  readonly open: boolean;
  send(text: string): void;
  close(): void;
}

/** First retry soon (server restarting), then back off so a dead server is not hammered. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 8000;

export function wsUrlFor(loc: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(loc.search).get('token');
  return `${scheme}//${loc.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export class WsClient {
  /** Frames received but not yet applied (always 0 between messages: we decode synchronously). */
  pendingFrames = 0;
  private ws: SocketLike | null = null;
  private worker: Worker | null | undefined;
  private connId = 0;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** start() was called and stop() was not since: this page takes the live stream. */
  started = false;

  constructor(private readonly store: AppStore, private readonly url: string) {}

  start(): void {
    this.stopped = false;
    this.started = true;
    this.connect();
  }

  /** Detaches this page from the stream (a file is open); start() reconnects. */
  stop(): void {
    this.stopped = true;
    this.started = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ws?.close();
    this.ws = null;
    this.store.status.setConnection('closed');
  }

  send(msg: ClientMessage): void {
    if (this.ws?.open) this.ws.send(JSON.stringify(msg));
    else this.store.status.setError(`not connected: ${msg.type} not sent`);
  }

  /** Pauses or resumes this page's stream, or — driving — the shared session. */
  setPaused(paused: boolean): void {
    const status = this.store.status;
    if (status.driving) {
      this.send({ type: paused ? 'pause' : 'resume', shared: true });
      status.setPausedLocally(paused);
    } else {
      this.send({ type: paused ? 'pause' : 'resume' });
      status.setViewerPaused(paused);
    }
  }

  togglePause(): void {
    this.setPaused(!this.store.status.pausedHere);
  }

  /** Changes the shared session (speed, scenario, restart): sent only while driving it. */
  sendShared(msg: Extract<ClientMessage, { type: 'speed' } | { type: 'scenario' }>): void {
    if (!this.store.status.driving) {
      this.store.status.setError(`${msg.type} changes the shared session for every viewer: tick "drive" first`);
      return;
    }
    this.send({ ...msg, shared: true });
    if (msg.type === 'scenario') this.store.status.setLinkedScenario(''); // this page chose the scenario now
  }

  /** The socket worker, started on first use; null where workers cannot be used. */
  private socketWorker(): Worker | null {
    if (this.worker !== undefined) return this.worker;
    this.worker = null;
    if (typeof Worker === 'undefined') return null;
    try {
      const w = new Worker(new URL('./ws-worker.ts', import.meta.url), { type: 'module' });
      w.onmessage = (ev: MessageEvent<FromWsWorker>) => this.onWorkerMessage(ev.data);
      this.worker = w;
    } catch {
      this.worker = null;
    }
    return this.worker;
  }

  private connect(): void {
    this.store.status.setConnection('connecting');
    const worker = this.socketWorker();
    const sock = worker ? this.workerSocket(worker) : this.pageSocket();
    this.ws = sock;
  }

  /** A socket owned by the worker; events come back through onWorkerMessage. */
  private workerSocket(worker: Worker): SocketLike {
    const id = ++this.connId;
    const post = (m: ToWsWorker): void => worker.postMessage(m);
    post({ type: 'connect', id, url: this.url });
    const sock = {
      id,
      open: false,
      send: (text: string) => post({ type: 'send', text }),
      close: () => post({ type: 'close' }),
    };
    return sock;
  }

  private onWorkerMessage(msg: FromWsWorker): void {
    const sock = this.ws as (SocketLike & { id?: number; open: boolean }) | null;
    if (!sock || sock.id !== msg.id) return;
    switch (msg.type) {
      case 'open':
        sock.open = true;
        this.onOpen();
        break;
      case 'close':
        sock.open = false;
        if (msg.reason) this.store.status.setError(`${msg.reason}; reconnecting`);
        this.onClose(sock);
        break;
      case 'text':
        this.onMessage(sock, msg.data);
        break;
      case 'batch':
        this.onMessage(sock, msg.data);
        this.worker?.postMessage({ type: 'ack', bytes: msg.data.byteLength } satisfies ToWsWorker);
        break;
    }
  }

  /** The fallback: a socket on this thread. */
  private pageSocket(): SocketLike {
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    const sock: SocketLike = {
      get open() { return ws.readyState === WebSocket.OPEN; },
      send: (text: string) => ws.send(text),
      close: () => ws.close(),
    };
    ws.onopen = () => { if (this.ws === sock) this.onOpen(); };
    ws.onmessage = (ev: MessageEvent) => this.onMessage(sock, ev.data);
    ws.onclose = () => this.onClose(sock);
    return sock;
  }

  private onOpen(): void {
    this.retryMs = RECONNECT_MIN_MS;
    this.store.status.setConnection('open');
  }

  private onClose(sock: SocketLike): void {
    if (this.ws !== sock) return;
    this.ws = null;
    this.store.status.setConnection('closed');
    if (this.stopped) return;
    this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
  }

  private onMessage(ws: SocketLike, data: unknown): void {
    if (this.ws !== ws) return;
    if (typeof data === 'string') {
      const parsed = parseServerMessage(data);
      if (!parsed.ok) {
        this.store.status.setError(`server message: ${parsed.code}: ${parsed.message}`);
        return;
      }
      const msg = parsed.value;
      switch (msg.type) {
        case 'hello':
          this.store.resetTrace(BigInt(msg.originNs));
          this.store.setHello(msg.source, msg.scenarios, msg.state, msg.capture ?? null, msg.viewer?.paused ?? false, msg.history ?? null);
          this.store.status.setRecording(msg.recording ?? null);
          break;
        case 'recording':
          this.store.status.setRecording(msg.recording);
          break;
        case 'reset':
          this.store.resetTrace(BigInt(msg.originNs));
          this.store.status.setHistory(null); // a new run: its whole history follows
          this.store.setServerState(msg.state);
          break;
        case 'viewer':
          this.store.status.setViewerPaused(msg.viewer.paused);
          break;
        case 'state':
          this.store.setServerState(msg.state);
          break;
        case 'capture':
          this.store.status.setCapture(msg.capture);
          break;
        case 'error':
          this.store.status.setError(`server: ${msg.code}: ${msg.message}`);
          break;
      }
      return;
    }
    if (!(data instanceof ArrayBuffer)) {
      this.store.status.setError('unexpected non-binary frame');
      return;
    }
    this.pendingFrames++;
    try {
      this.store.ingestBatch(new Uint8Array(data));
    } catch (e) {
      // The string table is now out of step with the server's: start over on a new connection.
      this.store.status.setError(`batch rejected: ${(e as Error).message}; reconnecting`);
      ws.close();
    } finally {
      this.pendingFrames--;
    }
  }
}
