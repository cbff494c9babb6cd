// The live websocket, in a dedicated Web Worker (ws-client.ts drives it). Measured at ~100 k
// events/s (docs/performance.md, P7): with the socket on the page's main thread the server's
// unsent bytes sat at its per-client budget and most of the stream became gaps while that thread
// was ~60 % idle; with the socket here, the page received what the server emitted. Our reading
// (not confirmed inside Chromium): socket data moves when the owning thread gets a task turn, and
// on the main thread those turns queue behind frames and React. Each binary frame is transferred
// (not copied) to the page, which applies it with AppStore.ingestBatch as before.
//
// Protocol (page → worker): {type:'connect', id, url} | {type:'close'} | {type:'send', text} |
// {type:'ack', bytes}. Worker → page: {type:'open'|'close', id} | {type:'text', id, data} |
// {type:'batch', id, data: ArrayBuffer}. `id` is the connection, so stale messages are ignored.
// Bound: bytes posted but not yet acknowledged by the page are capped (MAX_UNACKED_BYTES); past
// that the page has fallen far behind and the connection is closed (the client reconnects and
// starts over), so a stalled page cannot grow this worker's queue without limit.

export const MAX_UNACKED_BYTES = 64 * 1024 * 1024;

export type ToWsWorker =
  | { type: 'connect'; id: number; url: string }
  | { type: 'close' }
  | { type: 'send'; text: string }
  | { type: 'ack'; bytes: number };
export type FromWsWorker =
  | { type: 'open'; id: number }
  | { type: 'close'; id: number; reason?: string }
  | { type: 'text'; id: number; data: string }
  | { type: 'batch'; id: number; data: ArrayBuffer };

interface WorkerScope {
  postMessage(msg: FromWsWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWsWorker>) => void) | null;
}

export function runWsWorker(scope: WorkerScope): void {
  let ws: WebSocket | null = null;
  let unacked = 0;
  scope.onmessage = (ev) => {
    const msg = ev.data;
    switch (msg.type) {
      case 'connect': {
        ws?.close();
        unacked = 0;
        const mine = msg.id;
        const sock = new WebSocket(msg.url);
        sock.binaryType = 'arraybuffer';
        ws = sock;
        sock.onopen = () => { if (ws === sock) scope.postMessage({ type: 'open', id: mine }); };
        sock.onclose = (ce: CloseEvent) => {
          if (ws !== sock) return;
          ws = null;
          // The server cut this page off (it flooded, or stopped reading: server/hub/live-session.ts): say why.
          const cutOff = (ce.code === 1008 || ce.code === 4008) && ce.reason !== '';
          scope.postMessage(cutOff ? { type: 'close', id: mine, reason: `the server closed the connection (${ce.code}: ${ce.reason})` } : { type: 'close', id: mine });
        };
        sock.onmessage = (m: MessageEvent) => {
          if (ws !== sock) return;
          if (typeof m.data === 'string') {
            scope.postMessage({ type: 'text', id: mine, data: m.data });
            return;
          }
          const data = m.data as ArrayBuffer;
          unacked += data.byteLength;
          if (unacked > MAX_UNACKED_BYTES) {
            ws = null;
            sock.close();
            scope.postMessage({ type: 'close', id: mine, reason: `the page fell ${unacked >> 20} MB behind the stream` });
            return;
          }
          scope.postMessage({ type: 'batch', id: mine, data }, [data]);
        };
        break;
      }
      case 'close':
        ws?.close(); // its onclose reports back, so the page's reconnect logic runs as before
        break;
      case 'send':
        if (ws?.readyState === WebSocket.OPEN) ws.send(msg.text);
        break;
      case 'ack':
        unacked = Math.max(0, unacked - msg.bytes);
        break;
    }
  };
}

// In a dedicated worker `self` has no `document`; imported elsewhere (tests, types) this does nothing.
declare const self: unknown;
if (typeof self !== 'undefined' && typeof (self as { document?: unknown }).document === 'undefined' && typeof (self as { postMessage?: unknown }).postMessage === 'function' && typeof WebSocket !== 'undefined') {
  runWsWorker(self as unknown as WorkerScope);
}
