// P2's websocket client, run in a worker_thread (bench/p2-stream.ts) so that its decode does not
// share the server's core — the real client is a browser, another process. Connects to
// workerData.url, decodes every binary frame into a TraceStore, and posts {events, gaps} to the
// parent after each frame that moved the count by ≥ 50 k events, and when asked ('report').
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { TraceStore } from '../src/trace/store.ts';
import { applyFrame } from './ws-frame.ts';

const port = parentPort!;
const client = new TraceStore();
let gaps = 0;
let posted = 0;
const report = (): void => {
  posted = client.length;
  port.postMessage({ type: 'count', events: client.length, gaps });
};
const ws = new WebSocket((workerData as { url: string }).url);
ws.on('message', (data, isBinary) => {
  if (!isBinary) return;
  gaps += applyFrame(client, data as Buffer);
  if (client.length - posted >= 50_000) report();
});
ws.on('open', () => port.postMessage({ type: 'open' }));
port.on('message', (m: string) => {
  if (m === 'report') report();
  if (m === 'close') { ws.close(); port.close(); }
});
