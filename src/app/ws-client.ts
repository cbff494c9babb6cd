// The browser end of the websocket: connects to /ws on the page's own host (with the page's
// ?token=), reconnects with exponential backoff, applies binary batches to the AppStore (no
// React state per message), and sends control messages. On every hello / reset the trace starts
// over, because the server's string table does too.

import { parseServerMessage, type ClientMessage } from '../trace/wire.ts';
import type { AppStore } from './app-store.ts';

/** First retry soon (server restarting), then back off so a dead server is not hammered. */
export const RECONNECT_MIN_MS = 250;
export const RECONNECT_MAX_MS = 8000;

export function wsUrlFor(loc: Pick<Location, 'protocol' | 'host' | 'search'>): string {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(loc.search).get('token');
  return `${scheme}//${loc.host}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

export class WsClient {
  /** Frames received but not yet applied (always 0 between messages: we decode synchronously). */
  pendingFrames = 0;
  private ws: WebSocket | null = null;
  private retryMs = RECONNECT_MIN_MS;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(private readonly store: AppStore, private readonly url: string) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Detaches this page from the stream (a file is open); start() reconnects. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.ws?.close();
    this.ws = null;
    this.store.setConnection('closed');
  }

  send(msg: ClientMessage): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
    else this.store.setError(`not connected: ${msg.type} not sent`);
  }

  setPaused(paused: boolean): void {
    this.send({ type: paused ? 'pause' : 'resume' });
    this.store.setPausedLocally(paused);
  }

  private connect(): void {
    this.store.setConnection('connecting');
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.retryMs = RECONNECT_MIN_MS;
      this.store.setConnection('open');
    };
    ws.onmessage = (ev: MessageEvent) => this.onMessage(ws, ev.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.store.setConnection('closed');
      if (this.stopped) return;
      this.retryTimer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RECONNECT_MAX_MS);
    };
  }

  private onMessage(ws: WebSocket, data: unknown): void {
    if (this.ws !== ws) return;
    if (typeof data === 'string') {
      const parsed = parseServerMessage(data);
      if (!parsed.ok) {
        this.store.setError(`server message: ${parsed.code}: ${parsed.message}`);
        return;
      }
      const msg = parsed.value;
      switch (msg.type) {
        case 'hello':
          this.store.resetTrace(BigInt(msg.originNs));
          this.store.setHello(msg.source, msg.scenarios, msg.state);
          break;
        case 'reset':
          this.store.resetTrace(BigInt(msg.originNs));
          this.store.setServerState(msg.state);
          break;
        case 'state':
          this.store.setServerState(msg.state);
          break;
        case 'error':
          this.store.setError(`server: ${msg.code}: ${msg.message}`);
          break;
      }
      return;
    }
    if (!(data instanceof ArrayBuffer)) {
      this.store.setError('unexpected non-binary frame');
      return;
    }
    this.pendingFrames++;
    try {
      this.store.ingestBatch(new Uint8Array(data));
    } catch (e) {
      // The string table is now out of step with the server's: start over on a new connection.
      this.store.setError(`batch rejected: ${(e as Error).message}; reconnecting`);
      ws.close();
    } finally {
      this.pendingFrames--;
    }
  }
}
